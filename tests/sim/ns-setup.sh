#!/bin/bash
# Runs as the first process of a simulated node's private mount + UTS namespace (started with
# `unshare --mount --uts --propagation private`), then execs the given command (sshd, or a
# one-off command for SimCluster.exec).
#   usage: ns-setup.sh <cluster dir> <node name> <command> [args…]
# Inside the namespace:
#   /etc, /root, /home      bind mounts of <cluster dir>/nodes/<node>/{etc,root,home}
#   /usr/local              overlay (host's /usr/local read-only below, node's own upper dir)
#   /usr/share/keyrings     overlay (host's keyrings read-only below, node's own upper dir), for
#                           the apt keys a node installs (the Proxmox release key)
#   /usr/local/sbin         bind mount of <cluster dir>/sbin (the fake tools' shims), or of
#                           <cluster dir>/sbin.<node> for a plain Linux host
#   /proc/cmdline           bind mount of <cluster dir>/nodes/<node>/cmdline
#   /run                    fresh tmpfs (/run/sshd, /run/lock = /var/lock)
#   /tmp                    <cluster dir>/nodes/<node>/tmp, with <cluster dir> itself still
#                           reachable at its usual path (the fakes keep their state there)
set -eu
C=$1
N=$2
shift 2
R=$C/nodes/$N

mount --bind "$R/etc" /etc
mount --bind "$R/root" /root
mount --bind "$R/home" /home
mount -t overlay overlay -o "lowerdir=/usr/local,upperdir=$R/usrlocal.upper,workdir=$R/usrlocal.work" /usr/local
mkdir -p "$R/keyrings.upper" "$R/keyrings.work"
mount -t overlay overlay -o "lowerdir=/usr/share/keyrings,upperdir=$R/keyrings.upper,workdir=$R/keyrings.work" /usr/share/keyrings
mkdir -p /usr/local/sbin
# a plain Linux host has its own set of fake tools (no PVE tools)
if [ -d "$C/sbin.$N" ]; then mount --bind "$C/sbin.$N" /usr/local/sbin; else mount --bind "$C/sbin" /usr/local/sbin; fi
# the kernel command line the node booted with (fakes/boot-lib.cjs)
if [ -f "$R/cmdline" ]; then mount --bind "$R/cmdline" /proc/cmdline; fi
mount -t tmpfs -o mode=755,size=64m tmpfs /run
mkdir -p /run/sshd /run/lock
chmod 1777 /run/lock
case "$C" in
  /tmp/?*)
    rel=${C#/tmp/}
    mkdir -p "$R/tmp/$rel"
    mount --bind "$C" "$R/tmp/$rel"
    mount --rbind "$R/tmp" /tmp
    ;;
esac
hostname "$N"
cd /
exec "$@"
