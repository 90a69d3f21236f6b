#!/usr/bin/env bash
# generate.sh makes the example sensor bundles in this directory with OpenSSL
# (3.0 on Debian 12), exactly as a plant's CA team would:
#   sensor-01.*        a valid bundle for sensor-01.plant.example
#   sensor-02-expired.* a bundle that expired on 2025-01-01, key encrypted (legacy PEM)
#   sensor-03-weak.*   SHA-1 signature, RSA 1024, wildcard name, no OU
# The CA is valid 2026-01-01 .. 2036-01-01. Passphrase of the encrypted keys
# and the PKCS#12 file: see PASS below (example only).
set -euo pipefail
cd "$(dirname "$0")"
PASS=Plant.Example-2026
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

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
copy_extensions = none
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
[ v3_sensor01 ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:sensor-01.plant.example, IP:192.0.2.10
[ v3_sensor02 ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:sensor-02.plant.example, IP:192.0.2.11
[ v3_sensor03 ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:*.plant.example
CNF
touch "$work/index.txt"; echo 2001 > "$work/serial"; echo 01 > "$work/crlnumber"
CA="openssl ca -batch -config $work/ca.cnf -notext"

# The plant's CA: root and issuing intermediate, RSA 2048, SHA-256.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/root.key" 2>/dev/null
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$work/inter.key" 2>/dev/null
openssl req -new -key "$work/root.key" -subj "/C=DE/O=Plant Example GmbH/CN=Plant Example Root CA" -out "$work/root.csr"
$CA -selfsign -keyfile "$work/root.key" -in "$work/root.csr" -extensions v3_root -startdate 20260101000000Z -enddate 20360101000000Z -out root.crt 2>/dev/null
openssl req -new -key "$work/inter.key" -subj "/C=DE/O=Plant Example GmbH/CN=Plant Example Issuing CA" -out "$work/inter.csr"
$CA -cert root.crt -keyfile "$work/root.key" -in "$work/inter.csr" -extensions v3_inter -startdate 20260101000000Z -enddate 20360101000000Z -out "$work/inter.crt" 2>/dev/null
# chain.pem: every CA certificate from the issuer up to the root.
cat "$work/inter.crt" root.crt > chain.pem

# sensor-01: valid 2026-01-01 .. 2031-01-01, RSA 2048 key as PKCS#8 PEM.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sensor-01.key 2>/dev/null
openssl req -new -key sensor-01.key -subj "/C=DE/O=Plant Example GmbH/OU=OT Sensors/CN=sensor-01.plant.example" -out "$work/s1.csr"
$CA -cert "$work/inter.crt" -keyfile "$work/inter.key" -in "$work/s1.csr" -extensions v3_sensor01 -startdate 20260101000000Z -enddate 20310101000000Z -out sensor-01.crt 2>/dev/null
openssl pkcs12 -export -inkey sensor-01.key -in sensor-01.crt -certfile chain.pem -name sensor-01 -passout pass:$PASS -out sensor-01.pfx

# sensor-02: expired on 2025-01-01; key in legacy encrypted PEM (DEK-Info, AES-256).
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 2>/dev/null | openssl rsa -traditional -aes256 -passout pass:$PASS -out sensor-02-expired.key 2>/dev/null
openssl req -new -key sensor-02-expired.key -passin pass:$PASS -subj "/C=DE/O=Plant Example GmbH/OU=OT Sensors/CN=sensor-02.plant.example" -out "$work/s2.csr"
$CA -cert "$work/inter.crt" -keyfile "$work/inter.key" -in "$work/s2.csr" -extensions v3_sensor02 -startdate 20240101000000Z -enddate 20250101000000Z -out sensor-02-expired.crt 2>/dev/null

# sensor-03: what the sensor refuses: SHA-1, RSA 1024, wildcard CN and SAN, no OU.
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:1024 -out sensor-03-weak.key 2>/dev/null
openssl req -new -key sensor-03-weak.key -subj "/C=DE/O=Plant Example GmbH/CN=*.plant.example" -out "$work/s3.csr"
$CA -cert "$work/inter.crt" -keyfile "$work/inter.key" -in "$work/s3.csr" -extensions v3_sensor03 -md sha1 -startdate 20260101000000Z -enddate 20310101000000Z -out sensor-03-weak.crt 2>/dev/null

# The issuing CA's CRL (nothing revoked), valid until 2036.
$CA -cert "$work/inter.crt" -keyfile "$work/inter.key" -gencrl -crl_lastupdate 20260101000000Z -crl_nextupdate 20360101000000Z -out crl.pem 2>/dev/null
chmod 0600 ./*.key sensor-01.pfx
