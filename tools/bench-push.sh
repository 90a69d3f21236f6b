#!/bin/sh
# bench-push: the push engine's side-by-side benchmarks, reported, not
# timed tests:
#   BenchmarkBatch50     50 embedded-listener sensors on loopback, a fresh
#                        certificate each run: the batch runner on built
#                        bundles, and the headless binary from the inventory
#                        (tapline-cli batch run: check, in-memory bundles,
#                        push, reports; its peak memory), against OpenSSH
#                        scp+ssh per sensor run one after another and 8 at a
#                        time with xargs -P 8; target: faster than the
#                        parallel loop, which also skips the status, confirm
#                        and TLS verify tapline does.
#   BenchmarkUpload64MB  64 MB to the real sshd on loopback: Upload (pkg/sftp
#                        concurrent writes) vs OpenSSH scp; target
#                        sftp/scp-throughput >= 0.80.
# Usage: tools/bench-push.sh [BENCHTIME]   (default 1x; e.g. 3x)
set -eu
cd "$(dirname "$0")/.."
bt=${1:-1x}
out=$(go test -run '^$' -bench 'BenchmarkBatch50|BenchmarkUpload64MB' -benchtime "$bt" -count 1 -timeout 30m ./provision/ 2>&1) || {
	echo "$out" >&2
	exit 1
}
echo "$out" | grep -E '^(Benchmark|goos|goarch|cpu|ok)|step '
echo "$out" | awk '
function metric(name,   i) { for (i = 1; i <= NF; i++) if ($i == name) return $(i-1); return "" }
/^BenchmarkBatch50/ {
	t = metric("tapline-s/batch"); c = metric("tapline-cli-s/batch"); m = metric("tapline-cli-maxrss-MB")
	s = metric("openssh-seq-s/batch"); p = metric("openssh-par8-s/batch")
}
/^BenchmarkUpload64MB/ { r = metric("sftp/scp-throughput") }
END {
	if (t != "") {
		printf "batch of 50: tapline %.2f s, tapline-cli batch run %.2f s (peak %.0f MB), OpenSSH scp+ssh sequential %.2f s, xargs -P 8 %.2f s\n", t, c, m, s, p
		printf "  tapline is %.1fx the sequential loop and %.1fx the parallel loop (the CLI binary %.1fx): %s\n", s / t, p / t, p / c, (p / t >= 1 ? "OK" : "BELOW TARGET")
	}
	if (r != "") printf "64 MB upload: tapline SFTP at %.0f%% of scp throughput (target >= 80%%): %s\n", r * 100, (r >= 0.8 ? "OK" : "BELOW TARGET")
}'
