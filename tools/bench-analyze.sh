#!/usr/bin/env bash
# bench-analyze.sh compares `sensorcore analyze` with `tshark -q -z io,phs`
# on the shared captures (../shared/pcaps) merged 10 times with mergecap,
# and reports packets per second for each and their ratio.
#
# The captures are replayed one a day: editcap -t moves file i of copy k
# to day k*FILES+i (from 2020-01-01), and mergecap -a concatenates them. So
# every copy is new traffic later in time on the same 4-tuples, as on a
# real network, and is dissected again, as tshark does: sensorcore expires
# idle TCP streams and restarts a stream on a new SYN or a large jump back
# after idle (decode.Stream.Segment). The script checks that sensorcore's
# PDU, malformed and function counts on the merged file are COPIES times
# those of one copy.
#
# Then it builds a capture of at least RSS_PACKETS packets (default
# 5,000,000; 0 skips it) from copies of the merged file, one after another
# in time, and reports sensorcore analyze's peak resident memory on it: the
# file is read in place from a mapping whose pages are released behind the
# reader, so the peak stays flat whatever the file's size.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared="$root/../shared/pcaps"
copies=${COPIES:-10}
for tool in mergecap editcap tshark capinfos python3; do
  command -v "$tool" >/dev/null || { echo "bench-analyze: needs $tool (Debian packages wireshark-common and tshark; run make deps-bench)" >&2; exit 1; }
done
# Ethernet captures only: one pcap file holds one link type, and the
# benchmark's figures stay comparable from run to run (the few loopback
# captures are covered by the ground-truth tests).
mapfile -t files < <(find "$shared" -name '*.pcap*' | sort | while read -r f; do
  [[ $(capinfos -T -E -r "$f" | cut -f2) == ether ]] && echo "$f"; done)
[[ ${#files[@]} -gt 0 ]] || { echo "bench-analyze: no captures in $shared" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
base=1577836800 # 2020-01-01T00:00:00Z
day=86400
list=()
for ((i = 0; i < ${#files[@]}; i++)); do
  start=$(capinfos -a -S -T -r "${files[i]}" | awk -F'\t' '{printf "%d", $2}')
  editcap -F pcap -t $((base + i * day - start)) "${files[i]}" "$tmp/f$i.pcap"
  list+=("$tmp/f$i.pcap")
done
mergecap -a -F pcap -w "$tmp/single.pcap" "${list[@]}"
list=()
for ((k = 0; k < copies; k++)); do
  editcap -F pcap -t $((k * ${#files[@]} * day)) "$tmp/single.pcap" "$tmp/copy$k.pcap"
  list+=("$tmp/copy$k.pcap")
done
mergecap -a -F pcap -w "$tmp/merged.pcap" "${list[@]}"
packets=$(capinfos -M -c "$tmp/merged.pcap" | awk -F: '/Number of packets/ {gsub(/ /, "", $2); print $2}')
CGO_ENABLED=0 go build -o "$tmp/sensorcore" "$root/sensorcore/cmd/sensorcore"

# Each copy really dissected: PDU and function counts of the merged file
# are exactly COPIES times those of one copy.
"$tmp/sensorcore" analyze "$tmp/single.pcap" --json >"$tmp/single.json"
runs=${RUNS:-9}
# sensorcore runs REPEAT times back to back in each pair, and its figure
# for the pair is their mean (total time / REPEAT): one run takes about 40
# ms, tshark's about 2 s, and a single 40 ms sample is at the mercy of
# whatever else the machine does in those 40 ms (single runs moved the
# ratio from 44x to 59x from one invocation of this script to the next);
# about 0.8 s of sensorcore runs sees the same machine as the tshark run
# beside it. Every run is a whole `sensorcore analyze` process, start-up
# included, as a user would run it.
repeat=${REPEAT:-20}
# Wall time and CPU time (user+sys) of each run: on a shared machine the CPU
# time is the steadier figure, so the ratio is given for both. The two
# tools run in interleaved pairs (sensorcore REPEAT times, then tshark,
# RUNS times; each pair's tshark run is that pair's), so a change in the
# machine's load between the runs weighs on both alike: the ratio is the
# median of the pairs' ratios, next to the ratio of the medians.
TIMEFORMAT='%R %U %S'
for ((i = 0; i < runs; i++)); do
  { time for ((j = 0; j < repeat; j++)); do "$tmp/sensorcore" analyze "$tmp/merged.pcap" --json >"$tmp/sc.json"; done; } 2>&1 |
    awk -v r="$repeat" '{printf "%.6f %.6f %.6f\n", $1 / r, $2 / r, $3 / r}' >>"$tmp/sc.time"
  { time tshark -n -q -z io,phs -r "$tmp/merged.pcap" >"$tmp/phs.txt" 2>/dev/null; } 2>>"$tmp/ts.time"
done
python3 - "$tmp/single.json" "$tmp/sc.json" "$copies" <<'PY'
import json, sys
one, merged, k = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), int(sys.argv[3])
bad = []
for name, p in one["protocols"].items():
    q = merged["protocols"][name]
    print(f"pdus {name}: single {p['pdus']}, merged {q['pdus']} ({q['pdus'] / max(p['pdus'], 1):.2f}x)")
    if q["pdus"] != k * p["pdus"] or q["malformed"] != k * p["malformed"] or \
       {f: k * n for f, n in p["functions"].items()} != q["functions"]:
        bad.append(name)
if bad:
    sys.exit(f"bench-analyze: merged counts are not {k}x the single copy for {', '.join(bad)}")
print(f"pdus: every protocol's PDU, malformed and function counts are {k}x the single copy")
PY

median() { sort -n | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
sw=$(awk '{print $1}' "$tmp/sc.time" | median)
sc=$(awk '{print $2 + $3}' "$tmp/sc.time" | median)
tw=$(awk '{print $1}' "$tmp/ts.time" | median)
tc=$(awk '{print $2 + $3}' "$tmp/ts.time" | median)
# Each pair's ratio, tshark over sensorcore, by wall and by CPU time.
pw=$(paste -d' ' "$tmp/sc.time" "$tmp/ts.time" | awk '{print $4 / $1}' | median)
pc=$(paste -d' ' "$tmp/sc.time" "$tmp/ts.time" | awk '{print ($5 + $6) / ($2 + $3)}' | median)
awk -v n="$packets" -v sw="$sw" -v sc="$sc" -v tw="$tw" -v tc="$tc" -v runs="$runs" -v pw="$pw" -v pc="$pc" \
    -v k="$copies" -v rep="$repeat" -v f="${#files[@]}" -v load="$(cut -d' ' -f1 /proc/loadavg 2>/dev/null)" 'BEGIN {
  printf "bench-analyze: %d files x %d copies = %d packets (%d interleaved pairs: sensorcore %d runs, tshark 1; load average %s)\n", f, k, n, runs, rep, load
  printf "sensorcore analyze: wall %.3f s (%.0f packets/s), cpu %.3f s (%.0f packets/s per core)\n", sw, n / sw, sc, n / sc
  printf "tshark -z io,phs:   wall %.3f s (%.0f packets/s), cpu %.3f s (%.0f packets/s per core)\n", tw, n / tw, tc, n / tc
  printf "ratio of the medians: sensorcore/tshark %.1fx by wall time, %.1fx by cpu time\n", tw / sw, tc / sc
  printf "ratio, median of the pairs: %.1fx by wall time, %.1fx by cpu time (target 50x)\n", pw, pc
}'

rss_packets=${RSS_PACKETS:-5000000}
if ((rss_packets > 0)); then
  n=$(( (rss_packets + packets - 1) / packets ))
  list=()
  span=$((copies * ${#files[@]} * day))
  for ((k = 0; k < n; k++)); do
    editcap -F pcap -t $((k * span)) "$tmp/merged.pcap" "$tmp/big$k.pcap"
    list+=("$tmp/big$k.pcap")
  done
  mergecap -a -F pcap -w "$tmp/big.pcap" "${list[@]}"
  rm -f "${list[@]}"
  size=$(stat -c %s "$tmp/big.pcap")
  python3 - "$tmp/sensorcore" "$tmp/big.pcap" "$((n * packets))" "$size" <<'PY'
import resource, subprocess, sys, time
sc, path, n, size = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
t = time.time()
subprocess.run([sc, "analyze", path, "--json"], stdout=subprocess.DEVNULL, check=True)
wall = time.time() - t
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(f"rss: sensorcore analyze on {n} packets ({size / 2**20:.0f} MiB): peak RSS {peak:.0f} MiB, wall {wall:.1f} s")
PY
fi
