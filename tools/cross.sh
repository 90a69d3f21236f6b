#!/usr/bin/env bash
# cross.sh: vet and build the laptop's pure-Go side for every desktop system
# Tapline ships for, so a platform break fails make test:
#   - the headless CLI (-tags nogui, CGO_ENABLED=0) for Windows and macOS on
#     amd64 and arm64: go vet of every package of this module it links (their
#     tests included), then go build of the binary;
#   - the GUI screens (app/gui, which builds without cgo) for Windows.
# The Windows desktop app itself needs cgo through mingw-w64: even go vet of
# it runs cgo over GLFW's and go-gl's C sources, minutes on a cold cache (9 s
# warm); tools/cross-gui.sh builds and vets it, in the background of make
# test. The macOS screens cannot be vetted without cgo either (Fyne's widgets need a
# driver; its macOS driver needs Apple's SDK, README).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
module=$($GO list -m)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for target in windows/amd64 windows/arm64 darwin/amd64 darwin/arm64; do
  export GOOS=${target%/*} GOARCH=${target#*/} CGO_ENABLED=0
  mapfile -t pkgs < <($GO list -deps -tags nogui . | grep -E "^$module(/|$)")
  if [[ $GOOS == windows ]]; then
    pkgs+=("$module/app/gui")
  fi
  echo "cross: $target: go vet (${#pkgs[@]} packages) and build of the CLI"
  $GO vet -tags nogui "${pkgs[@]}"
  $GO build -tags nogui -o "$out/tapline-$GOOS-$GOARCH" .
done
