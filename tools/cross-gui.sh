#!/usr/bin/env bash
# cross-gui.sh: build and vet the Windows desktop app (windows/amd64, cgo
# through Debian's mingw-w64, as make dist builds it), so a break of the
# Windows GUI fails make test. make test runs it in the background beside
# its other stages: on a cold Go cache the C sources of GLFW and go-gl
# take minutes (638 s wall, 473 s CPU on a loaded 2-core machine; README);
# warm, seconds. The binary is thrown away; make dist packages the real one.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
command -v x86_64-w64-mingw32-gcc >/dev/null ||
  { echo "cross-gui: x86_64-w64-mingw32-gcc missing; install gcc-mingw-w64-x86-64-win32 (tools/ensure-deps.sh test)" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
export GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc
start=$SECONDS
$GO build -o "$out/Tapline.exe" .
$GO vet . ./app/gui/...
echo "cross-gui: windows/amd64 desktop app (cgo, mingw-w64): built and vetted in $((SECONDS - start))s"
