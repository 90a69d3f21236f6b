#!/usr/bin/env bash
# generate.sh makes the PuTTY key fixtures with Debian's puttygen (putty-tools
# 0.78): for each key type and PPK version, an unencrypted and an encrypted
# file (passphrase in passphrase.txt), and the OpenSSH public key each must
# read as (NAME.pub). The tests also make fresh keys with puttygen when it is
# installed; these files serve where it is not (the Windows test run).
set -euo pipefail
cd "$(dirname "$0")"
exec </dev/null # puttygen never prompts
printf 'Field.Engineer-7\n' > passphrase.txt
pp=$(mktemp); none=$(mktemp); trap 'rm -f "$pp" "$none"' EXIT
printf 'Field.Engineer-7' > "$pp"
gen() { # name type bits
  local name=$1 type=$2 bits=$3 tmp
  tmp=$(mktemp -d)
  puttygen -q -t "$type" ${bits:+-b "$bits"} -C "tapline-$name" --new-passphrase "$none" -o "$tmp/key.ppk"
  puttygen "$tmp/key.ppk" -O public-openssh -o "$name.pub"
  cp "$tmp/key.ppk" "$name-v3.ppk"
  puttygen "$tmp/key.ppk" -O private --reencrypt --ppk-param version=2 -o "$name-v2.ppk"
  for v in 2 3; do
    puttygen "$tmp/key.ppk" -O private -P --ppk-param version=$v --new-passphrase "$pp" -o "$name-v$v-enc.ppk"
  done
  rm -rf "$tmp"
}
gen ed25519 ed25519 ""
gen ecdsa256 ecdsa 256
gen ecdsa384 ecdsa 384
gen ecdsa521 ecdsa 521
gen rsa2048 rsa 2048
