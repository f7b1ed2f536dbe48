#!/bin/bash
# sshd ForceCommand of every simulated node: append {node, command, time, connection} to the command
# log, wait the per-command latency (SimCluster.setCommandLatency), apply injected faults (see
# SimCluster.injectFault), then run the requested command with stdin,
# stdout and stderr passed through. Environment from sshd_config SetEnv:
# PVE_SIM_NODE, PVE_SIM_STATE; PVE_SIM_STEP when the client sent it (AcceptEnv).
cmd=${SSH_ORIGINAL_COMMAND-}
S=${PVE_SIM_STATE:?}
N=${PVE_SIM_NODE:?}

# JSON string escaping in pure bash (no extra processes)
jesc() {
  local s=$1 i c
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  if [[ $s == *[$'\x01'-$'\x1f']* ]]; then
    for i in {1..31}; do
      printf -v c "\\x$(printf %02x "$i")"
      s=${s//$c/\\u00$(printf %02x "$i")}
    done
  fi
  REPLY=$s
}

now=${EPOCHREALTIME//[.,]/}
now=$((10#$now / 1000))
jesc "$N"; jn=$REPLY
jesc "$cmd"; jc=$REPLY
# The client's address and port name the SSH connection: every session (command) it opens shares them.
client=${SSH_CLIENT-}
conn=${client% *}
conn=${conn/ /:}
jesc "$conn"; jconn=$REPLY
# The resource step that runs the command, when the engine harness sent it (sshd_config AcceptEnv).
step=
if [[ -n ${PVE_SIM_STEP-} ]]; then
  jesc "$PVE_SIM_STEP"
  step=",\"step\":\"$REPLY\""
fi
{
  flock 9
  printf '{"node":"%s","command":"%s","time":%s,"connection":"%s"%s}\n' "$jn" "$jc" "$now" "$jconn" "$step" >>"$S/commands.jsonl"
} 9>>"$S/commands.lock"

# A network's and a real node's round trip, for benchmarks: milliseconds, from a file (no extra process).
if [[ -f $S/latency_ms ]]; then
  read -r latency <"$S/latency_ms"
  if [[ $latency =~ ^[0-9]+$ ]] && ((latency > 0)); then
    printf -v secs '%d.%03d' $((latency / 1000)) $((latency % 1000))
    sleep "$secs"
  fi
fi

if [[ -f $S/faults.sh ]]; then
  # defines the parallel arrays F_ID F_NODE F_MODE F_CODE F_SEC F_MATCH F_ERR
  . "$S/faults.sh"
  for i in "${!F_ID[@]}"; do
    [[ -n ${F_NODE[i]} && ${F_NODE[i]} != "$N" ]] && continue
    [[ $cmd == *"${F_MATCH[i]}"* ]] || continue
    case ${F_MODE[i]} in
      slow)
        sleep "${F_SEC[i]}"
        ;;
      fail)
        printf '%s' "${F_ERR[i]}" >&2
        exit "${F_CODE[i]}"
        ;;
      fail-once)
        # mkdir is atomic: exactly one matching connection claims the fault
        if mkdir "$S/faults.fired/${F_ID[i]}" 2>/dev/null; then
          printf '%s' "${F_ERR[i]}" >&2
          exit "${F_CODE[i]}"
        fi
        ;;
    esac
  done
fi

cd /root 2>/dev/null || cd /
if [[ -z $cmd ]]; then
  exec bash -l
fi
exec bash -c "$cmd"
