#!/usr/bin/env bash
# ensure-deps.sh PROFILE... installs the Debian packages a make target needs
# when they are missing. As root it runs apt-get; otherwise it prints the
# exact command to run and fails, so nothing half-works.
set -euo pipefail

declare -A profile=(
  [gui]="gcc pkg-config libx11-dev libxcursor-dev libxrandr-dev libxinerama-dev libxi-dev libgl1-mesa-dev libxxf86vm-dev"
  [test]="gcc openssl tshark wireshark-common libwireshark-data openssh-server openssh-client iproute2 procps systemd python3-cryptography-vectors chromium putty-tools libreoffice-calc wine64 gcc-mingw-w64-x86-64-win32"
  [bench]="openssh-client openssh-server tshark wireshark-common"
  [screen]="xvfb imagemagick x11-utils openssh-client"
  [dist]="gcc-mingw-w64-x86-64-win32 zip"
)

want=()
for p in "$@"; do
  [[ -n "${profile[$p]+x}" ]] || { echo "ensure-deps: unknown profile '$p'" >&2; exit 2; }
  for pkg in ${profile[$p]}; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      want+=("$pkg")
    fi
  done
done
[[ ${#want[@]} -eq 0 ]] && exit 0

# de-duplicate, keep order
mapfile -t want < <(printf '%s\n' "${want[@]}" | awk '!seen[$0]++')
cmd="apt-get install -y --no-install-recommends ${want[*]}"
if [[ $(id -u) -ne 0 ]]; then
  echo "Tapline needs these Debian packages: ${want[*]}" >&2
  echo "Install them as root, then run make again:" >&2
  echo "  sudo apt-get update && sudo $cmd" >&2
  exit 1
fi
echo "ensure-deps: installing ${want[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
$cmd -qq >&2
