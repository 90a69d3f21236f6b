#!/usr/bin/env bash
# bench-certs.sh: 'tapline certs verify' against 'openssl verify -crl_check'
# on the same files, side by side: the RSA-2048 root, intermediate and sensor
# certificate OpenSSL made for certs/testdata, and a CRL of the intermediate
# with N revoked serials (default 100,000) signed by 'openssl ca -gencrl'.
# Both validate at 2026-11-30, inside the fixtures' validity. Each tool runs
# RUNS times (default 20), alternating, as a
# whole process per check (read the files, parse, index, verify), which is
# what a user runs; the medians and their ratio are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
RUNS=${RUNS:-20}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# TAPLINE=path runs that binary instead of building this tree (to compare builds).
if [[ -n "${TAPLINE:-}" ]]; then cp "$TAPLINE" "$work/tapline"; else CGO_ENABLED=0 go build -tags nogui -o "$work/tapline" .; fi

# The OpenSSL-made CA and sensor certificate of certs/testdata (generate.sh),
# and a CRL of its intermediate listing N serials, signed by 'openssl ca
# -gencrl' from a database written here.
td=certs/testdata
cat > "$work/ca.cnf" <<CNF
[ ca ]
default_ca = ca_default
[ ca_default ]
database = $work/index.txt
crlnumber = $work/crlnumber
default_md = sha256
default_crl_days = 30
CNF
echo 01 > "$work/crlnumber"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "R\t351231000000Z\t260101000000Z,keyCompromise\t%X\tunknown\t/CN=revoked-%d\n", 1048576 + 7 * i, i }' > "$work/index.txt"
openssl ca -config "$work/ca.cnf" -cert $td/inter.crt -keyfile $td/inter.key -gencrl -crl_lastupdate 20260101000000Z -crl_nextupdate 20360101000000Z \
  -out "$work/crl.pem" 2>/dev/null
cp $td/root.crt $td/inter.crt $td/leaf.crt "$work/"
echo "CRL: $(openssl crl -in "$work/crl.pem" -noout -text | grep -c 'Serial Number') entries, $(wc -c < "$work/crl.pem") bytes (PEM)"

openssl_verify() { openssl verify -attime 1795996800 -crl_check -CAfile "$work/root.crt" -untrusted "$work/inter.crt" -CRLfile "$work/crl.pem" "$work/leaf.crt" >/dev/null; }
tapline_verify() { "$work/tapline" certs verify --anchors "$work/root.crt" --chain "$work/leaf.crt" --chain "$work/inter.crt" --crl "$work/crl.pem" --at 2026-11-30T00:00:00Z >/dev/null; }
openssl_verify || { echo "openssl verify failed" >&2; exit 1; }
tapline_verify || { echo "tapline certs verify failed" >&2; exit 1; }

ms() { local s e; s=$(date +%s%N); "$@"; e=$(date +%s%N); echo $(( (e - s) / 1000 )); }
: > "$work/o"; : > "$work/t"
for _ in $(seq "$RUNS"); do
  ms openssl_verify >> "$work/o"
  ms tapline_verify >> "$work/t"
done
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
o=$(median "$work/o"); t=$(median "$work/t")
printf 'openssl verify -crl_check: median %d.%03d ms over %d runs\n' $((o / 1000)) $((o % 1000)) "$RUNS"
printf 'tapline certs verify:      median %d.%03d ms over %d runs\n' $((t / 1000)) $((t % 1000)) "$RUNS"
awk -v o="$o" -v t="$t" 'BEGIN { printf "tapline is %.2fx as fast as openssl\n", o / t }'
