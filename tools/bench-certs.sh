#!/usr/bin/env bash
# bench-certs.sh: 'tapline certs verify' against 'openssl verify -crl_check'
# on the same files, side by side: an RSA-2048 root, intermediate and sensor
# certificate made by OpenSSL, and a CRL of the intermediate with N revoked
# serials (default 100,000) signed by 'openssl ca -gencrl' from a database
# written here. Each tool runs RUNS times (default 20), alternating, as a
# whole process per check (read the files, parse, index, verify), which is
# what a user runs; the medians and their ratio are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${N:-100000}
RUNS=${RUNS:-20}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

# TAPLINE=path runs that binary instead of building this tree (to compare builds).
if [[ -n "${TAPLINE:-}" ]]; then cp "$TAPLINE" "$work/tapline"; else CGO_ENABLED=0 go build -tags nogui -o "$work/tapline" .; fi

cat > "$work/ca.cnf" <<CNF
[ ca ]
default_ca = ca_default
[ ca_default ]
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
crlnumber = $work/crlnumber
default_md = sha256
policy = policy_any
unique_subject = no
default_crl_days = 30
[ policy_any ]
commonName = supplied
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:sensor-01.plant.example
CNF
touch "$work/index.txt"; echo 1000 > "$work/serial"; echo 01 > "$work/crlnumber"
for k in root inter leaf; do openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/$k.key" 2>/dev/null; done
ca="openssl ca -batch -config $work/ca.cnf -notext -days 365"
openssl req -new -key "$work/root.key" -subj "/CN=Bench Root CA" -out "$work/root.csr"
$ca -selfsign -keyfile "$work/root.key" -in "$work/root.csr" -extensions v3_root -out "$work/root.crt" 2>/dev/null
openssl req -new -key "$work/inter.key" -subj "/CN=Bench Issuing CA" -out "$work/inter.csr"
$ca -cert "$work/root.crt" -keyfile "$work/root.key" -in "$work/inter.csr" -extensions v3_inter -out "$work/inter.crt" 2>/dev/null
openssl req -new -key "$work/leaf.key" -subj "/CN=sensor-01.plant.example" -out "$work/leaf.csr"
# The intermediate's database: the leaf (valid) and N revoked serials.
: > "$work/index.txt"; echo 2000 > "$work/serial"
$ca -cert "$work/inter.crt" -keyfile "$work/inter.key" -in "$work/leaf.csr" -extensions v3_leaf -out "$work/leaf.crt" 2>/dev/null
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "R\t301231000000Z\t260101000000Z,keyCompromise\t%X\tunknown\t/CN=revoked-%d\n", 1048576 + 7 * i, i }' >> "$work/index.txt"
$ca -cert "$work/inter.crt" -keyfile "$work/inter.key" -gencrl -out "$work/crl.pem" 2>/dev/null
echo "CRL: $(openssl crl -in "$work/crl.pem" -noout -text | grep -c 'Serial Number') entries, $(wc -c < "$work/crl.pem") bytes (PEM)"

openssl_verify() { openssl verify -crl_check -CAfile "$work/root.crt" -untrusted "$work/inter.crt" -CRLfile "$work/crl.pem" "$work/leaf.crt" >/dev/null; }
tapline_verify() { "$work/tapline" certs verify --anchors "$work/root.crt" --chain "$work/leaf.crt" --chain "$work/inter.crt" --crl "$work/crl.pem" >/dev/null; }
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
