#!/usr/bin/env bash
# dist.sh: every laptop build Tapline ships, in dist/ (see the README):
#   linux-amd64/    tapline (desktop app + CLI, cgo), tapline-cli (static,
#                   -tags nogui), Tapline.tar.xz (fyne package: binary,
#                   .desktop file, icon)
#   windows-amd64/  Tapline.exe (desktop app + CLI, cgo through Debian's
#                   mingw-w64; icon, version information and the manifest in
#                   assets/windows embedded by fyne package), tapline-cli.exe
#   windows-arm64/  tapline-cli.exe
#   darwin-amd64/, darwin-arm64/  tapline-cli
#   Tapline-windows-amd64.zip  (Tapline.exe and tapline-cli.exe)
#   SHA256SUMS
# The fyne CLI is the one pinned in tools/go.mod. FyneApp.toml is left as it
# was (fyne package counts builds in it).
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
root=$PWD
version=$(sed -n 's/^Version = "\(.*\)"/\1/p' FyneApp.toml)
ldver="-X=github.com/tapline/tapline/app/cli.Version=$version"
rm -rf dist && mkdir -p dist bin

(cd tools && $GO build -o ../bin/fyne fyne.io/tools/cmd/fyne)

# fyne package writes its build files beside main.go; never leave them
# behind (a stray fyne.syso would break every other build of the package).
scratch=(fyne.syso fyne_metadata_init.go tapline tapline.exe Tapline.exe tapline.exe.manifest Tapline.tar.xz)
cp FyneApp.toml bin/FyneApp.toml.keep
cleanup() { cp bin/FyneApp.toml.keep FyneApp.toml; rm -f "${scratch[@]}"; }
trap cleanup EXIT
cleanup

step() { echo "dist: $*"; }

for target in linux/amd64 windows/amd64 windows/arm64 darwin/amd64 darwin/arm64; do
  goos=${target%/*} goarch=${target#*/} ext=
  [[ $goos == windows ]] && ext=.exe
  step "$target CLI"
  mkdir -p "dist/$goos-$goarch"
  GOOS=$goos GOARCH=$goarch CGO_ENABLED=0 $GO build -trimpath -ldflags "-s -w $ldver" -tags nogui \
    -o "dist/$goos-$goarch/tapline-cli$ext" .
done

step "linux/amd64 desktop app and package"
$GO build -trimpath -ldflags "-s -w $ldver" -o dist/linux-amd64/tapline .
bin/fyne package --target linux --executable dist/linux-amd64/tapline --release
mv Tapline.tar.xz dist/linux-amd64/

step "windows/amd64 desktop app (cgo with x86_64-w64-mingw32-gcc) packaged by fyne"
sed "s/@VERSION@/$version.0/" assets/windows/tapline.exe.manifest > tapline.exe.manifest
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=x86_64-w64-mingw32-gcc CXX=x86_64-w64-mingw32-g++ \
  GOFLAGS="-ldflags=$ldver" bin/fyne package --target windows --release
mv Tapline.exe dist/windows-amd64/Tapline.exe
(cd dist/windows-amd64 && zip -q -9 "$root/dist/Tapline-windows-amd64.zip" Tapline.exe tapline-cli.exe)

(cd dist && find . -type f ! -name SHA256SUMS -printf '%P\n' | sort | xargs sha256sum > SHA256SUMS)
ls -l dist dist/*/
