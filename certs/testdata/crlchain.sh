#!/usr/bin/env bash
# crlchain.sh DIR [LEAF_CRL_URL [INTER_CRL_URL]] makes, with real OpenSSL
# (openssl ca), a plant PKI with two CA levels and the CRLs of both, in DIR,
# for the tests of revocation across the whole path (the sensor with
# certificate validation on, `openssl verify -crl_check_all`):
#
#   root.crt               the root CA (self-signed)
#   inter.crt              an issuing CA, good; inter-revoked.crt, one the root revoked
#   leaf.crt, leaf.key     sensor-01.plant.example, issued by inter.crt
#   leaf-rv.crt, leaf-rv.key  the same name, issued by inter-revoked.crt
#   inter.crl              inter.crt's CRL (lists nothing)
#   inter-rv.crl           inter-revoked.crt's CRL (lists nothing)
#   root.crl               the root's CRL listing inter-revoked.crt (keyCompromise)
#   root-old.crl           the root's CRL from before (lists nothing, expired 2025-06-01)
#   root-forged.crl        a CRL under the root's name signed by another key
#   other-root.crl         another CA's CRL (a wrong issuer)
#   chain.pem, chain-rv.pem  the issuing CA and the root, for each leaf
#
# The sensor certificates name LEAF_CRL_URL (default
# http://crl.plant.example/issuing.crl) as CRL distribution point; the
# issuing CAs name INTER_CRL_URL when given, none otherwise. Certificates
# and current CRLs are valid 2026-01-01 .. 2036-01-01.
set -euo pipefail
dir=$1
leafurl=${2:-http://crl.plant.example/issuing.crl}
interurl=${3:-}
mkdir -p "$dir"; cd "$dir"
S="-startdate 20260101000000Z -enddate 20360101000000Z"
CUR="-crl_lastupdate 20260101000000Z -crl_nextupdate 20360101000000Z"

# conf NAME: an openssl ca configuration with its own database.
conf() {
mkdir -p "db-$1"; touch "db-$1/index.txt"; echo 1000 > "db-$1/serial"; echo 01 > "db-$1/crlnumber"
cat > "$1.cnf" <<CNF
[ ca ]
default_ca = ca_default
[ ca_default ]
dir = db-$1
database = db-$1/index.txt
new_certs_dir = db-$1
serial = db-$1/serial
crlnumber = db-$1/crlnumber
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
[ v3_root ]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
[ v3_inter ]
basicConstraints = critical, CA:TRUE, pathlen:0
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
${interurl:+crlDistributionPoints = URI:$interurl}
[ v3_leaf ]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = DNS:sensor-01.plant.example, IP:192.0.2.10
crlDistributionPoints = URI:$leafurl
CNF
}
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }

# root selfsigned NAME KEY SUBJECT
root() {
conf "$1"; key "$1.key"
openssl req -new -key "$1.key" -subj "$2" -out "$1.csr"
openssl ca -batch -selfsign -config "$1.cnf" -keyfile "$1.key" -in "$1.csr" -extensions v3_root $S -notext -out "$1.crt" 2>/dev/null
}
# issue CA NAME SUBJECT EXT
issue() {
key "$2.key"
openssl req -new -key "$2.key" -subj "$3" -out "$2.csr"
openssl ca -batch -config "$1.cnf" -cert "$1.crt" -keyfile "$1.key" -in "$2.csr" -extensions "$4" $S -notext -out "$2.crt" 2>/dev/null
}
gencrl() { openssl ca -config "$1.cnf" -cert "$1.crt" -keyfile "$1.key" -gencrl $3 -out "$2" 2>/dev/null; }

root root "/C=DE/O=Plant Example GmbH/CN=Plant Example Root CA"
issue root inter "/C=DE/O=Plant Example GmbH/CN=Plant Example Issuing CA" v3_inter
issue root inter-revoked "/C=DE/O=Plant Example GmbH/CN=Plant Example Issuing CA 2" v3_inter
conf inter; conf inter-revoked
issue inter leaf "/C=DE/O=Plant Example GmbH/OU=OT Sensors/CN=sensor-01.plant.example" v3_leaf
issue inter-revoked leaf-rv "/C=DE/O=Plant Example GmbH/OU=OT Sensors/CN=sensor-01.plant.example" v3_leaf
gencrl inter inter.crl "$CUR"
gencrl inter-revoked inter-rv.crl "$CUR"
gencrl root root-old.crl "-crl_lastupdate 20250101000000Z -crl_nextupdate 20250601000000Z"
openssl ca -config root.cnf -cert root.crt -keyfile root.key -revoke inter-revoked.crt -crl_reason keyCompromise 2>/dev/null
gencrl root root.crl "$CUR"
# A look-alike root: the very name, another key.
mkdir -p forged; (cd forged; root root "/C=DE/O=Plant Example GmbH/CN=Plant Example Root CA"; gencrl root ../root-forged.crl "$CUR")
mkdir -p other; (cd other; root root "/C=DE/O=Other Plant/CN=Other Plant Root CA"; gencrl root ../other-root.crl "$CUR")
cat inter.crt root.crt > chain.pem
cat inter-revoked.crt root.crt > chain-rv.pem
rm -rf ./*.csr
