#!/usr/bin/env bash
# generate.sh makes every interop fixture in this directory with real OpenSSL
# (3.0 on Debian 12). Run it from anywhere; it rewrites the files it owns.
# Certificates and CRLs are valid 2026-01-01 .. 2036-01-01 so tests pin a time inside.
#
# generate.sh [base|field|root-crl|all] (default all): "base" makes the CA, keys and
# bundles below; "field" makes field/, the files plant PKI teams really send
# (EasyRSA-style CAs, byte-order marks, exotic algorithms, DER requests,
# certificate-only PKCS#12, trailing junk, an expired intermediate), signed
# by the base CA, so it can be run alone without changing the base files.
set -euo pipefail
cd "$(dirname "$0")"
PASS=Sensor.Pass-1
part=${1:-all}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

base() {
cat > "$work/ca.cnf" <<CNF
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = $work
database = $work/index.txt
new_certs_dir = $work
serial = $work/serial
crlnumber = $work/crlnumber
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = copy
default_crl_days = 3650
[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
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
subjectAltName = DNS:sensor-01.plant.example, IP:192.0.2.10
crlDistributionPoints = URI:http://crl.plant.example/issuing.crl
CNF
touch "$work/index.txt"; echo 1000 > "$work/serial"; echo 01 > "$work/crlnumber"
S="-startdate 20260101000000Z -enddate 20360101000000Z"

# Keys: RSA 2048 as PKCS#8 (OpenSSL 3's default output), then every other encoding.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out root.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out inter.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out leaf.key 2>/dev/null
openssl rsa -in leaf.key -traditional -out leaf-pkcs1.pem 2>/dev/null
openssl rsa -in leaf.key -traditional -outform DER -out leaf-pkcs1.der 2>/dev/null
openssl pkcs8 -topk8 -nocrypt -in leaf.key -outform DER -out leaf-pkcs8.der
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:$PASS -in leaf.key -out leaf-enc-aes256.pem
openssl pkcs8 -topk8 -v2 des3 -passout pass:$PASS -in leaf.key -out leaf-enc-des3.pem
openssl pkcs8 -topk8 -v2 aes-128-cbc -v2prf hmacWithSHA1 -passout pass:$PASS -in leaf.key -out leaf-enc-sha1prf.pem
openssl pkcs8 -topk8 -v2 aes-256-cbc -passout pass:$PASS -in leaf.key -outform DER -out leaf-enc.der
openssl rsa -in leaf.key -traditional -aes256 -passout pass:$PASS -out leaf-legacy-aes.pem 2>/dev/null
openssl rsa -in leaf.key -traditional -des3 -passout pass:$PASS -out leaf-legacy-des3.pem 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out ec-sec1.pem
openssl pkey -in ec-sec1.pem -out ec-pkcs8.pem
openssl ec -in ec-sec1.pem -aes128 -passout pass:$PASS -out ec-legacy.pem 2>/dev/null

# Root, intermediate, leaf and a second leaf to revoke, all through 'openssl ca'.
openssl req -new -key root.key -subj "/C=DE/O=Plant Example GmbH/CN=Plant Example Root CA" -out "$work/root.csr"
openssl ca -batch -config "$work/ca.cnf" -selfsign -keyfile root.key -in "$work/root.csr" -extensions v3_root $S -notext -out root.crt 2>/dev/null
openssl req -new -key inter.key -subj "/C=DE/O=Plant Example GmbH/CN=Plant Example Issuing CA" -out "$work/inter.csr"
openssl ca -batch -config "$work/ca.cnf" -cert root.crt -keyfile root.key -in "$work/inter.csr" -extensions v3_inter $S -notext -out inter.crt 2>/dev/null
openssl req -new -key leaf.key -subj "/C=DE/O=Plant Example GmbH/OU=OT Sensors/CN=sensor-01.plant.example" -out "$work/leaf.csr"
openssl ca -batch -config "$work/ca.cnf" -cert inter.crt -keyfile inter.key -in "$work/leaf.csr" -extensions v3_leaf $S -notext -out leaf.crt 2>/dev/null
openssl x509 -in leaf.crt -outform DER -out leaf.der
# The same request signed with SHA-1: OpenSSL still signs it, the sensor refuses it.
openssl ca -batch -config "$work/ca.cnf" -cert inter.crt -keyfile inter.key -in "$work/leaf.csr" -extensions v3_leaf $S -md sha1 -notext -out sha1.crt 2>/dev/null
openssl req -new -key ec-sec1.pem -subj "/C=DE/O=Plant Example GmbH/OU=OT Sensors/CN=sensor-01.plant.example" -out "$work/revoked.csr"
openssl ca -batch -config "$work/ca.cnf" -cert inter.crt -keyfile inter.key -in "$work/revoked.csr" -extensions v3_leaf $S -notext -out revoked.crt 2>/dev/null
cat inter.crt root.crt > chain.pem
openssl x509 -in inter.crt -outform DER > chain.der
openssl x509 -in root.crt -outform DER >> chain.der

# CRL of the issuing CA listing revoked.crt, PEM and DER.
openssl ca -config "$work/ca.cnf" -cert inter.crt -keyfile inter.key -revoke revoked.crt -crl_reason keyCompromise 2>/dev/null
openssl ca -config "$work/ca.cnf" -cert inter.crt -keyfile inter.key -gencrl -crl_lastupdate 20260101000000Z -crl_nextupdate 20360101000000Z -out crl.pem 2>/dev/null
openssl crl -in crl.pem -outform DER -out crl.der
rootcrl

# PKCS#12: modern (AES-256-CBC, SHA-256 MAC: OpenSSL 3's default) and legacy
# (RC2-40 certificates, 3DES key, SHA-1 MAC: needs -legacy with OpenSSL 3).
openssl pkcs12 -export -inkey leaf.key -in leaf.crt -certfile chain.pem -name sensor-01 -passout pass:$PASS -out modern.pfx
openssl pkcs12 -export -legacy -inkey leaf.key -in leaf.crt -certfile chain.pem -name sensor-01 -passout pass:$PASS -out legacy.pfx
# A chain with "Bag Attributes" preambles, as 'openssl pkcs12 -nokeys' prints it.
openssl pkcs12 -in modern.pfx -nokeys -cacerts -passin pass:$PASS -out chain-bag.pem

# Bad input: a JPEG renamed .crt, a truncated certificate, an empty file.
printf '\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00' > jpeg.crt
head -c 600 leaf.crt > truncated.crt
: > empty.crt
chmod 0600 ./*.key ./*.pem ./*.der ./*.pfx 2>/dev/null || true
}

# rootcrl makes root-crl.pem: the root's CRL (it revoked nothing), so a check
# of every certificate of the path (openssl verify -crl_check_all, the sensor
# with certificate validation on) finds a current CRL for the intermediate
# too. It reads root.crt and root.key, so it can be run alone (root-crl).
rootcrl() {
cat > "$work/root.cnf" <<CNF
[ ca ]
default_ca = ca_default
[ ca_default ]
database = $work/root-index.txt
crlnumber = $work/root-crlnumber
default_md = sha256
default_crl_days = 3650
CNF
touch "$work/root-index.txt"; echo 01 > "$work/root-crlnumber"
openssl ca -config "$work/root.cnf" -cert root.crt -keyfile root.key -gencrl -crl_lastupdate 20260101000000Z -crl_nextupdate 20360101000000Z -out root-crl.pem 2>/dev/null
# Both levels in one file, as a bundle's crls.pem carries them.
cat crl.pem root-crl.pem > crls-both.pem
chmod 0600 root-crl.pem crls-both.pem
}

field() {
mkdir -p field
local F=field
cat > "$work/field.cnf" <<CNF
[ ca ]
default_ca = ca_default
[ ca_default ]
database = $work/field-index.txt
new_certs_dir = $work
serial = $work/field-serial
crlnumber = $work/field-crlnumber
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
default_crl_days = 3650
[ policy_any ]
countryName = optional
organizationName = optional
organizationalUnitName = optional
commonName = supplied
# EasyRSA 3's x509-types/ca: basicConstraints not critical, an authority key
# identifier with the issuer's name and serial.
[ easyrsa_ca ]
basicConstraints = CA:true
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always,issuer:always
keyUsage = cRLSign, keyCertSign
[ easyrsa_server ]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid,issuer:always
extendedKeyUsage = serverAuth
keyUsage = digitalSignature, keyEncipherment
subjectAltName = DNS:sensor-01.plant.example, IP:192.0.2.10
crlDistributionPoints = URI:http://crl.plant.example/easyrsa-sub.crl
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
subjectAltName = DNS:sensor-01.plant.example, IP:192.0.2.10
[ v3_self ]
basicConstraints = CA:FALSE
subjectKeyIdentifier = hash
subjectAltName = DNS:sensor-01.plant.example
CNF
touch "$work/field-index.txt"; echo 2000 > "$work/field-serial"; echo 01 > "$work/field-crlnumber"
S="-startdate 20260101000000Z -enddate 20360101000000Z"
CA="openssl ca -batch -config $work/field.cnf -notext"

# An EasyRSA-style root and sub-CA, a sensor certificate and both CRLs:
# OpenSSL and the sensor accept this PKI, so certs check and verify must too.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $F/easyrsa-root.key 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out $F/easyrsa-sub.key 2>/dev/null
openssl req -new -key $F/easyrsa-root.key -subj "/C=DE/O=Plant Example GmbH/CN=Easy-RSA CA" -out "$work/er.csr"
$CA -selfsign -keyfile $F/easyrsa-root.key -in "$work/er.csr" -extensions easyrsa_ca $S -out $F/easyrsa-root.crt 2>/dev/null
openssl req -new -key $F/easyrsa-sub.key -subj "/C=DE/O=Plant Example GmbH/CN=Easy-RSA Sub CA" -out "$work/es.csr"
$CA -cert $F/easyrsa-root.crt -keyfile $F/easyrsa-root.key -in "$work/es.csr" -extensions easyrsa_ca $S -out $F/easyrsa-sub.crt 2>/dev/null
openssl req -new -key leaf.key -subj "/C=DE/O=Plant Example GmbH/OU=OT Sensors/CN=sensor-01.plant.example" -out "$work/el.csr"
$CA -cert $F/easyrsa-sub.crt -keyfile $F/easyrsa-sub.key -in "$work/el.csr" -extensions easyrsa_server $S -out $F/easyrsa-leaf.crt 2>/dev/null
$CA -cert $F/easyrsa-root.crt -keyfile $F/easyrsa-root.key -gencrl -crl_lastupdate 20260101000000Z -crl_nextupdate 20360101000000Z -out $F/easyrsa-root.crl 2>/dev/null
$CA -cert $F/easyrsa-sub.crt -keyfile $F/easyrsa-sub.key -gencrl -crl_lastupdate 20260101000000Z -crl_nextupdate 20360101000000Z -out $F/easyrsa-sub.crl 2>/dev/null
cat $F/easyrsa-sub.crt $F/easyrsa-root.crt > $F/easyrsa-chain.pem

# An intermediate that expired on 2026-06-01, and a sensor certificate under it.
openssl req -new -key inter.key -subj "/C=DE/O=Plant Example GmbH/CN=Plant Example Old Issuing CA" -out "$work/oi.csr"
$CA -cert root.crt -keyfile root.key -in "$work/oi.csr" -extensions v3_inter -startdate 20250101000000Z -enddate 20260601000000Z -out $F/expired-inter.crt 2>/dev/null
$CA -cert $F/expired-inter.crt -keyfile inter.key -in "$work/el.csr" -extensions v3_leaf -startdate 20250101000000Z -enddate 20280101000000Z -out $F/under-expired.crt 2>/dev/null
cat $F/expired-inter.crt root.crt > $F/expired-chain.pem

# Windows Notepad's "UTF-8 with BOM": the same PEM files with EF BB BF in front.
printf '\xef\xbb\xbf' | cat - leaf.crt > $F/leaf-bom.crt
printf '\xef\xbb\xbf' | cat - leaf.key > $F/leaf-bom.key
printf '\xef\xbb\xbf' | cat - chain.pem > $F/chain-bom.pem
printf '\xef\xbb\xbf' | cat - crl.pem > $F/crl-bom.pem

# Keys and self-signed certificates of the algorithms Go does not sign with.
openssl genpkey -algorithm ED448 -out $F/ed448.key
openssl genpkey -algorithm RSA-PSS -pkeyopt rsa_keygen_bits:2048 -out $F/rsa-pss.key 2>/dev/null
openssl genpkey -genparam -algorithm DSA -pkeyopt dsa_paramgen_bits:2048 -out "$work/dsa.param" 2>/dev/null
openssl genpkey -paramfile "$work/dsa.param" -out $F/dsa.key
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:secp256k1 -out $F/secp256k1.key
openssl genpkey -algorithm X25519 -out $F/x25519.key
for k in ed448 rsa-pss dsa secp256k1; do
  openssl req -new -key $F/$k.key -subj "/C=DE/O=Plant Example GmbH/CN=$k.plant.example" -out "$work/$k.csr"
  $CA -selfsign -keyfile $F/$k.key -in "$work/$k.csr" -extensions v3_self $S -out $F/$k.crt 2>/dev/null
done

# A certificate request in DER, as some CA front ends want it, and in PEM.
openssl req -new -key leaf.key -subj "/C=DE/O=Plant Example GmbH/OU=OT Sensors/CN=sensor-01.plant.example" \
  -addext "subjectAltName = DNS:sensor-01.plant.example, IP:192.0.2.10" -outform DER -out $F/leaf-csr.der
openssl req -in $F/leaf-csr.der -inform DER -out $F/leaf-csr.pem

# Certificate-only PKCS#12 trust bundles: with a passphrase (OpenSSL 3's
# default AES-256 and SHA-256 MAC), with an empty one, and the legacy RC2
# encoding older tools write.
openssl pkcs12 -export -nokeys -in chain.pem -passout pass:$PASS -out $F/trust.p12
openssl pkcs12 -export -nokeys -in chain.pem -passout pass: -out $F/trust-nopass.p12
openssl pkcs12 -export -nokeys -legacy -in chain.pem -passout pass:$PASS -out $F/trust-legacy.p12

# A certificate followed by junk: a note pasted after it and a block cut short.
{ cat leaf.crt; echo "sent from the plant's ticket system"; head -c 300 inter.crt; } > $F/leaf-junk.crt
# A private key where the certificate belongs, and the reverse.
cp leaf.key $F/swapped.crt
cp leaf.crt $F/swapped.key
chmod 0600 $F/*.key $F/*.p12
}

case $part in
base) base ;;
field) field ;;
root-crl) rootcrl ;;
all) base; field ;;
*) echo "usage: generate.sh [base|field|root-crl|all]" >&2; exit 2 ;;
esac
