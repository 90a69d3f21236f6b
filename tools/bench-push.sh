#!/bin/sh
# bench-push: the push engine's side-by-side benchmarks (issue 4), reported,
# not timed tests:
#   BenchmarkBatch50     50 embedded-listener sensors on loopback: the batch
#                        runner vs a sequential OpenSSH loop (scp the bundle,
#                        ssh the apply); target speedup-x >= 5 on 2 cores.
#   BenchmarkUpload64MB  64 MB to the real sshd on loopback: Upload (pkg/sftp
#                        concurrent writes) vs OpenSSH scp; target
#                        sftp/scp-throughput >= 0.80.
# Usage: tools/bench-push.sh [BENCHTIME]   (default 1x; e.g. 3x)
set -eu
cd "$(dirname "$0")/.."
bt=${1:-1x}
out=$(go test -run '^$' -bench 'BenchmarkBatch50|BenchmarkUpload64MB' -benchtime "$bt" -count 1 ./provision/ 2>&1) || {
	echo "$out" >&2
	exit 1
}
echo "$out" | grep -E '^(Benchmark|goos|goarch|cpu|ok)|step '
echo "$out" | awk '
/^BenchmarkBatch50/ { for (i = 1; i <= NF; i++) if ($i == "speedup-x") s = $(i-1) }
/^BenchmarkUpload64MB/ { for (i = 1; i <= NF; i++) if ($i == "sftp/scp-throughput") r = $(i-1) }
END {
	if (s != "") printf "batch of 50: tapline is %.1fx the OpenSSH scp+ssh loop (target >= 5x): %s\n", s, (s >= 5 ? "OK" : "BELOW TARGET")
	if (r != "") printf "64 MB upload: tapline SFTP at %.0f%% of scp throughput (target >= 80%%): %s\n", r * 100, (r >= 0.8 ? "OK" : "BELOW TARGET")
}'
