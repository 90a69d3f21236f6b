#!/usr/bin/env bash
# generate.sh makes every interop fixture in this directory with real OpenSSL
# (3.0 on Debian 12). Run it from anywhere; it rewrites the files it owns.
# Certificates and CRLs are valid 2026-01-01 .. 2036-01-01 so tests pin a time inside.
set -euo pipefail
cd "$(dirname "$0")"
PASS=Sensor.Pass-1
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

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
