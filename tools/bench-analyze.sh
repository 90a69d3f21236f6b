#!/usr/bin/env bash
# bench-analyze.sh compares `sensorcore analyze` with `tshark -q -z io,phs`
# on the shared captures (../shared/pcaps) merged 10 times with mergecap,
# and reports packets per second for each and their ratio.
#
# Caveat printed with the result: the ten copies repeat the same TCP
# sequence numbers, so sensorcore trims copies 2-10 of each stream as
# retransmissions (they are decoded to TCP but not dissected again);
# tshark dissects all ten. BenchmarkPipeline in sensorcore/monitor avoids
# this by advancing sequence numbers between replays.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared="$root/../shared/pcaps"
copies=${COPIES:-10}
for tool in mergecap tshark capinfos; do
  command -v "$tool" >/dev/null || { echo "bench-analyze: needs $tool (Debian packages wireshark-common and tshark; run make deps-bench)" >&2; exit 1; }
done
mapfile -t files < <(find "$shared" -name '*.pcap*' | sort)
[[ ${#files[@]} -gt 0 ]] || { echo "bench-analyze: no captures in $shared" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
list=()
for ((i = 0; i < copies; i++)); do list+=("${files[@]}"); done
mergecap -a -F pcap -w "$tmp/merged.pcap" "${list[@]}"
packets=$(capinfos -M -c "$tmp/merged.pcap" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
CGO_ENABLED=0 go build -o "$tmp/sensorcore" "$root/sensorcore/cmd/sensorcore"

# Wall time and CPU time (user+sys) of each run: on a shared machine the CPU
# time is the steadier figure, so the ratio is given for both.
TIMEFORMAT='%R %U %S'
{ time "$tmp/sensorcore" analyze "$tmp/merged.pcap" --json >"$tmp/sc.json"; } 2>"$tmp/sc.time"
{ time tshark -n -q -z io,phs -r "$tmp/merged.pcap" >"$tmp/phs.txt" 2>/dev/null; } 2>"$tmp/ts.time"
read -r sw su ss <"$tmp/sc.time"
read -r tw tu tss <"$tmp/ts.time"

awk -v n="$packets" -v sw="$sw" -v su="$su" -v ss="$ss" -v tw="$tw" -v tu="$tu" -v tss="$tss" \
    -v k="$copies" -v f="${#files[@]}" 'BEGIN {
  sc = su + ss; tc = tu + tss
  printf "bench-analyze: %d files x %d copies = %d packets\n", f, k, n
  printf "sensorcore analyze: wall %.3f s (%.0f packets/s), cpu %.3f s (%.0f packets/s per core)\n", sw, n / sw, sc, n / sc
  printf "tshark -z io,phs:   wall %.3f s (%.0f packets/s), cpu %.3f s (%.0f packets/s per core)\n", tw, n / tw, tc, n / tc
  printf "ratio: sensorcore/tshark %.1fx by wall time, %.1fx by cpu time (target 50x)\n", tw / sw, tc / sc
  printf "note: copies 2-%d repeat TCP sequence numbers, which sensorcore trims as retransmissions\n", k
}'
