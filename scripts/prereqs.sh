#!/usr/bin/env bash
# The operating-system packages the tests need: the simulated cluster runs one
# sshd per node in its own mount namespace (unshare, nsenter, mount), and the
# fakes use sudo and ip; openssl makes the cluster CA. One list, used by `npm test` (pretest), .ci/run and
# the simulator itself.
#
#   scripts/prereqs.sh           install what is missing (root + apt-get), or
#                                print the one command to run and exit 1
#   scripts/prereqs.sh --check   install nothing: print that command and exit 1
#                                when something is missing
#
# PREREQS_PATH overrides where commands are looked for (default: PATH plus the
# sbin directories, where sshd and visudo live).
set -u

search="${PREREQS_PATH:-$PATH:/usr/local/sbin:/usr/sbin:/sbin}"
have() { PATH="$search" command -v "$1" >/dev/null 2>&1; }

# command -> Debian package that provides it
missing=()
add() { case " ${missing[*]-} " in *" $1 "*) ;; *) missing+=("$1") ;; esac; }
have sshd || add openssh-server
have ssh || add openssh-client
have ssh-keygen || add openssh-client
have sudo || add sudo
have visudo || add sudo
have unshare || add util-linux
have nsenter || add util-linux
have ip || add iproute2
have openssl || add openssl

if [ "$(id -u)" -ne 0 ]; then
  echo "npm test needs root: the simulated cluster starts sshd in private mount namespaces. Run it as root (sudo npm test)." >&2
  [ ${#missing[@]} -gt 0 ] && echo "It also needs: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
[ ${#missing[@]} -eq 0 ] && exit 0

command_line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
if [ "${1-}" = "--check" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "The tests need ${missing[*]}. Install with: $command_line" >&2
  exit 1
fi

echo "prereqs: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  echo "prereqs: installing failed. Run: $command_line" >&2
  exit 1
fi
