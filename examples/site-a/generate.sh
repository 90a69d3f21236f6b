#!/usr/bin/env bash
# generate.sh remakes every file examples/site-a.csv references: a demo
# plant CA and one RSA-2048 / SHA-256 certificate per sensor (openssl), and
# a LAB/DEMO activation authority with one activation file per sensor
# (tapline activation lab-init / issue). Run from the repository root:
#   examples/site-a/generate.sh
# Activation files must be uploaded within 14 days of issue: check the
# example with --at set inside that window (docs/inventory.md).
set -euo pipefail
cd "$(dirname "$0")"
tapline() { (cd ../.. && go run -tags nogui . "$@"); }
here=examples/site-a

rm -rf ca certs activation demo-authority
mkdir -p ca certs activation
openssl req -x509 -newkey rsa:2048 -sha256 -nodes -days 3650 \
  -subj "/C=DE/O=Example Plant/OU=OT/CN=Example Plant Root CA" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -keyout ca/root.key -out ca/root.crt 2>/dev/null
for n in 1 2 3; do
  s=sensor-0$n
  ip=192.0.2.11$n
  openssl req -newkey rsa:2048 -sha256 -nodes -subj "/C=DE/O=Example Plant/OU=OT/CN=$s.plant.example" \
    -keyout certs/$s.key -out certs/$s.csr 2>/dev/null
  openssl x509 -req -in certs/$s.csr -CA ca/root.crt -CAkey ca/root.key -CAcreateserial -days 825 -sha256 \
    -extfile <(printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:%s.plant.example,IP:%s\n' "$s" "$ip") \
    -out certs/$s.crt 2>/dev/null
  rm certs/$s.csr
done
cp ca/root.crt certs/chain.pem
rm -f ca/root.srl
chmod 600 ca/root.key certs/*.key

tapline activation lab-init --out $here/demo-authority >/dev/null
for n in 1 2 3; do
  tapline activation issue --signing-key $here/demo-authority/demo-signer.key \
    --signer-cert $here/demo-authority/demo-signer.cert --sensor-id SN-A-000$n --sensor-name sensor-0$n \
    --site site-a --zone ot-1 --plan lab --devices 500 --mode local --expires 2027-12-31 \
    --out $here/activation/sensor-0$n.tapact >/dev/null
done
# Only what the example needs stays: no CA or authority private keys.
rm -f ca/root.key demo-authority/demo-root.key demo-authority/demo-signer.key
echo "regenerated examples/site-a (activation files issued $(date -u +%F))"
