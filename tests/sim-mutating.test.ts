/** The shared classification of simulator commands: reads stay reads, writes are caught wherever they sit in a script. */
import { describe, expect, it } from "vitest";
import { mutationKind } from "./sim/mutating";

describe("mutationKind", () => {
  it.each([
    "pvecm status",
    "LC_ALL=C ceph --conf /etc/pve/ceph.conf osd crush rule dump -f json",
    "pveceph pool ls --output-format json",
    "pveum user token list automation@pve --output-format json",
    "wipefs -n /dev/nvme0n1",
    "cat /etc/hosts 2>/dev/null; ls /etc/apt 2>&1",
    `u=kellen; pw=$(getent passwd "$u") || exit 3; printf 'passwd:%s\\n' "$pw"`,
    "echo 'rm -f is only text here'",
  ])("read: %s", (command) => {
    expect(mutationKind(command)).toBeUndefined();
  });

  it.each([
    ["pvecm add 10.0.0.1 --link0 10.0.0.2", "cluster membership"],
    ["pveceph osd create /dev/nvme0n1 --osds-per-device 2", "Ceph setup"],
    ["ceph osd crush rule create-replicated r default host nvme", "Ceph settings"],
    ["pveum user token add automation@pve pulumi --privsep 0", "users and tokens"],
    ["apt-get install -y chrony", "packages"],
    ["systemctl restart chrony", "services"],
    ["LC_ALL=C ifreload -a", "networking"],
    ["umask 022 && cat > /etc/hosts.new && mv -f -- /etc/hosts.new /etc/hosts", "files"],
    ["if [ -e /x ]; then rm -f /x; fi", "files"],
    ["printf '%s' \"$h\" | chpasswd -e", "accounts"],
    ["echo 1 > /proc/sys/net/ipv4/ip_forward", "file writes"],
  ])("mutating: %s", (command, kind) => {
    expect(mutationKind(command)).toBe(kind);
  });
});
