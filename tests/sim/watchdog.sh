#!/bin/bash
# Safety net for a test process that dies without running SimCluster.stop() (e.g. SIGKILL):
# waits for <parent pid> to exit, then kills every process left in the simulated nodes' mount
# namespaces and removes <cluster dir>.   usage: watchdog.sh <parent pid> <cluster dir>
P=$1
C=$2
case "$C" in */pve-sim-?*) ;; *) exit 1 ;; esac
tail --pid="$P" -f /dev/null 2>/dev/null
for round in 1 2 3 4 5; do
  found=0
  for f in "$C"/nodes/*/mntns; do
    [ -f "$f" ] || continue
    ns=$(cat "$f" 2>/dev/null) || continue
    [ -n "$ns" ] || continue
    for p in /proc/[0-9]*; do
      # inode numbers of dead namespaces get reused: the mount table must show our directory too
      if [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$ns" ] && grep -qF "$C/nodes/" "$p/mountinfo" 2>/dev/null; then
        kill -9 "${p#/proc/}" 2>/dev/null && found=1
      fi
    done
  done
  [ "$found" = 0 ] && break
  sleep 0.2
done
rm -rf -- "$C"
