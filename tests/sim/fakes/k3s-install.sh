#!/bin/sh
# k3s install.sh (simulated): the steps and texts of k3s-io/k3s install.sh for an installation
# with INSTALL_K3S_SKIP_DOWNLOAD=true (the binary is already at /usr/local/bin/k3s).
set -e
info() { echo '[INFO] ' "$@"; }
warn() { echo '[WARN] ' "$@" >&2; }
fatal() { echo '[ERROR] ' "$@" >&2; exit 1; }

BIN_DIR=/usr/local/bin
SYSTEMD_DIR=/etc/systemd/system
if [ -z "${INSTALL_K3S_EXEC}" ]; then
  if [ -n "${K3S_URL}" ]; then CMD_K3S=agent; else CMD_K3S=server; fi
else
  CMD_K3S=${INSTALL_K3S_EXEC}
fi
if [ -n "${K3S_URL}" ] && [ -z "${K3S_TOKEN}" ] && [ -z "${K3S_TOKEN_FILE}" ]; then
  fatal "Defaulted k3s exec command to 'agent' because K3S_URL is defined, but K3S_TOKEN or K3S_TOKEN_FILE is not defined."
fi
case "${CMD_K3S}" in
  server*) SYSTEM_NAME=k3s; UNINSTALL_K3S_SH=k3s-uninstall.sh ;;
  agent*) SYSTEM_NAME=k3s-agent; UNINSTALL_K3S_SH=k3s-agent-uninstall.sh ;;
  *) fatal "Unknown command ${CMD_K3S}" ;;
esac
command -v systemctl >/dev/null 2>&1 || fatal 'Can not find systemd or openrc to use as a process supervisor for k3s'

hashes() { cat ${BIN_DIR}/k3s ${SYSTEMD_DIR}/${SYSTEM_NAME}.service ${SYSTEMD_DIR}/${SYSTEM_NAME}.service.env 2>/dev/null | sha256sum; }
PRE_INSTALL_HASHES=$(hashes)

if [ "${INSTALL_K3S_SKIP_DOWNLOAD}" = true ]; then
  info 'Skipping k3s download and verify'
  [ -x ${BIN_DIR}/k3s ] || fatal "Executable k3s binary not found at ${BIN_DIR}/k3s"
else
  fatal 'Download failed (the simulated installer only installs with INSTALL_K3S_SKIP_DOWNLOAD=true)'
fi

for cmd in kubectl crictl ctr; do
  if [ -e ${BIN_DIR}/${cmd} ]; then
    info "Skipping ${BIN_DIR}/${cmd} symlink to k3s, already exists"
  else
    info "Creating ${BIN_DIR}/${cmd} symlink to k3s"
    ln -sf k3s ${BIN_DIR}/${cmd}
  fi
done

info "Creating killall script ${BIN_DIR}/k3s-killall.sh"
cat > ${BIN_DIR}/k3s-killall.sh <<'EOF'
#!/bin/sh
for service in /etc/systemd/system/k3s*.service; do
  [ -s "$service" ] && systemctl stop "$(basename "$service")"
done
exit 0
EOF
chmod 755 ${BIN_DIR}/k3s-killall.sh

info "Creating uninstall script ${BIN_DIR}/${UNINSTALL_K3S_SH}"
cat > ${BIN_DIR}/${UNINSTALL_K3S_SH} <<EOF
#!/bin/sh
set -x
${BIN_DIR}/k3s-killall.sh
systemctl disable ${SYSTEM_NAME}
systemctl reset-failed ${SYSTEM_NAME}
systemctl daemon-reload
rm -f ${SYSTEMD_DIR}/${SYSTEM_NAME}.service
rm -f ${SYSTEMD_DIR}/${SYSTEM_NAME}.service.env
if (ls ${SYSTEMD_DIR}/k3s*.service || ls /etc/init.d/k3s*) >/dev/null 2>&1; then
    set +x; echo 'Additional k3s services installed, skipping uninstall of k3s'; set -x
    exit
fi
for cmd in kubectl crictl ctr; do
    if [ -L ${BIN_DIR}/\$cmd ]; then rm -f ${BIN_DIR}/\$cmd; fi
done
rm -rf /etc/rancher/k3s /run/k3s /run/flannel
rm -f ${BIN_DIR}/k3s ${BIN_DIR}/k3s-killall.sh
rm -f ${BIN_DIR}/${UNINSTALL_K3S_SH}
EOF
chmod 755 ${BIN_DIR}/${UNINSTALL_K3S_SH}

info "env: Creating environment file ${SYSTEMD_DIR}/${SYSTEM_NAME}.service.env"
(umask 077; env | grep -E '^K3S_|^CONTAINERD_' | sort > ${SYSTEMD_DIR}/${SYSTEM_NAME}.service.env || true)

info "systemd: Creating service file ${SYSTEMD_DIR}/${SYSTEM_NAME}.service"
cat > ${SYSTEMD_DIR}/${SYSTEM_NAME}.service <<EOF
[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-${SYSTEMD_DIR}/${SYSTEM_NAME}.service.env
KillMode=process
Delegate=yes
LimitNOFILE=1048576
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStart=${BIN_DIR}/k3s \\
    ${CMD_K3S} \\

EOF

[ "${INSTALL_K3S_SKIP_ENABLE}" = true ] && exit 0
info "systemd: Enabling ${SYSTEM_NAME} unit"
systemctl enable ${SYSTEM_NAME} >/dev/null
systemctl daemon-reload >/dev/null
[ "${INSTALL_K3S_SKIP_START}" = true ] && exit 0
if [ "${PRE_INSTALL_HASHES}" = "$(hashes)" ] && [ "${INSTALL_K3S_FORCE_RESTART}" != true ]; then
  info 'No change detected so skipping service start'
  exit 0
fi
info "systemd: Starting ${SYSTEM_NAME}"
systemctl restart ${SYSTEM_NAME}
