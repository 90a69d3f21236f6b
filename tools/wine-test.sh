#!/usr/bin/env bash
# wine-test.sh runs the Windows test binaries of the laptop's pure-Go
# packages under Debian's Wine (wine64): the same tests as on Linux, built
# with GOOS=windows, so Windows paths, named pipes, console-free runs and
# the Windows file APIs are exercised for real. Tests that need something
# only Linux has here (OpenSSH's sshd, openssl, LibreOffice, puttygen, root,
# the Linux appliance) skip with their sentence; the Linux run covers them.
# provision/sshconn's Pageant test runs here: a stand-in Pageant (a window
# of class "Pageant" answering WM_COPYDATA through a named file mapping, as
# PuTTY's pageant does) and sshconn signing in through it.
#
# Two things make Go 1.26 programs run on Wine 8, both confined to this
# run: a stand-in bcryptprimitives.dll (tools/wine/, built with mingw-w64)
# in a private Wine prefix, and a one-line overlay of Go's
# internal/syscall/windows that takes Wine's STATUS_NOT_IMPLEMENTED for
# FileDispositionInformationEx as "not supported" (Go then deletes files
# the Windows 8 way, as on older Windows), without which every t.TempDir
# cleanup fails under Wine.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
WINE=${WINE:-/usr/lib/wine/wine64}
WINESERVER=${WINESERVER:-/usr/lib/wine/wineserver}
PKGS=(certs certs/ca provision provision/sshconn app/cli app/demo
  internal/sheetcsv internal/userpath internal/safefile internal/filemode internal/cputime
  sensorcore/activation sensorcore/bundle sensorcore/netconf sensorcore/version)

[[ -x $WINE ]] || { echo "wine-test: $WINE missing; install wine64 (tools/ensure-deps.sh test)" >&2; exit 1; }
command -v x86_64-w64-mingw32-gcc >/dev/null || { echo "wine-test: x86_64-w64-mingw32-gcc missing; install gcc-mingw-w64-x86-64-win32 (tools/ensure-deps.sh test)" >&2; exit 1; }

work=$(mktemp -d)
export WINEPREFIX=$work/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
cleanup() { "$WINESERVER" -k 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# The Deleteat overlay, made from this Go's own source.
src=$($GO env GOROOT)/src/internal/syscall/windows/at_windows.go
pat='STATUS_NOT_SUPPORTED:     // the file system'
grep -q "$pat" "$src" || { echo "wine-test: $src changed; update the overlay in tools/wine-test.sh" >&2; exit 1; }
sed "s|^\t\t$pat|\t\tNTStatus(0xC0000002), // STATUS_NOT_IMPLEMENTED (Wine)\n\t\t$pat|" "$src" > "$work/at_windows.go"
printf '{"Replace":{"%s":"%s"}}\n' "$src" "$work/at_windows.go" > "$work/overlay.json"

echo "wine-test: building the Windows test binaries (${#PKGS[@]} packages)"
for p in "${PKGS[@]}"; do
  GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $GO test -c -overlay "$work/overlay.json" -o "$work/${p//\//_}.test.exe" "./$p"
done

echo "wine-test: a Wine prefix with the bcryptprimitives stand-in"
x86_64-w64-mingw32-gcc -O2 -shared -o "$work/bcryptprimitives.dll" tools/wine/bcryptprimitives.c tools/wine/bcryptprimitives.def -lbcrypt
"$WINE" cmd /c ver >/dev/null 2>&1 || true # creates the prefix
cp "$work/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
# Wine's null display driver: windows exist and take messages with no X
# server, which the Pageant test needs (its stand-in is a window).
"$WINE" reg add 'HKCU\Software\Wine\Drivers' /v Graphics /d null /f >/dev/null 2>&1
# The desktop process started with the prefix still has the default (X11)
# driver: wait until this Wine session ends, so the tests' session starts
# with the null driver. Without this, whether the Pageant window can be
# made depends on timing (no window station, or a hang on a display).
"$WINESERVER" -w
# One wineserver for the whole run: left to itself it exits a few seconds
# after each test binary, and a binary started while it shuts down fails
# before running a test (seen as "0 passed" in about one run of three).
"$WINESERVER" -p

failed=()
for p in "${PKGS[@]}"; do
  exe=$work/${p//\//_}.test.exe log=$work/${p//\//_}.log
  start=$SECONDS
  # CI=true turns a missing Linux tool into a failure; here those tests
  # are expected to skip, so CI is not passed on.
  if (cd "$p" && env -u CI timeout 360 "$WINE" "$exe" -test.v -test.timeout 5m >"$log" 2>&1); then
    status=ok
  else
    status=FAIL failed+=("$p")
  fi
  printf 'wine-test: %-24s %-4s %3ds  %3d passed, %2d skipped\n' "$p" "$status" $((SECONDS - start)) \
    "$(grep -c -- '^--- PASS' "$log" || true)" "$(grep -c -- '^--- SKIP' "$log" || true)"
  if [[ $status != ok ]]; then
    # The failing tests, or, when none ran, what Wine said instead.
    grep -E -B3 -A12 -- '^(--- FAIL|panic:)' "$log" | grep -v '^=== ' | head -60 ||
      tail -20 "$log"
  fi
done
# The console: the Windows CLI on a terminal, as cmd.exe and PowerShell
# run it, asks a passphrase with echo off (a Linux test drives it).
GOOS=windows GOARCH=amd64 CGO_ENABLED=0 $GO build -tags nogui -o "$work/tapline-cli.exe" .
if env -u CI TAPLINE_WINE_CLI="$work/tapline-cli.exe" TAPLINE_WINE="$WINE" \
  $GO test -count=1 -run '^TestPassphrasePromptWindowsConsole$' -v ./app/cli >"$work/console.log" 2>&1 &&
  grep -q -- '--- PASS' "$work/console.log"; then
  echo "wine-test: passphrase prompt on the Windows console: ok"
else
  cat "$work/console.log"; failed+=("app/cli (console prompt)")
fi
if [[ -n ${WINE_TEST_SKIPS:-} ]]; then
  for f in "$work"/*.log; do grep -h -A1 -- '--- SKIP' "$f" | grep -v -- '^--$' || true; done
fi
if ((${#failed[@]})); then
  echo "wine-test: failed under Wine: ${failed[*]}" >&2
  exit 1
fi
