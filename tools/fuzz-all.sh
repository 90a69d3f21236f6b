#!/usr/bin/env bash
# fuzz-all.sh runs every Fuzz target in the module for $FUZZTIME each.
set -euo pipefail
: "${FUZZTIME:=30s}"
found=0
while IFS= read -r pkg; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  while IFS= read -r fn; do
    [[ -n "$fn" ]] || continue
    found=$((found + 1))
    echo "fuzz $pkg $fn ($FUZZTIME)"
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZTIME" "$pkg" >/tmp/fuzz.$$.log 2>&1 || { cat /tmp/fuzz.$$.log; rm -f /tmp/fuzz.$$.log; exit 1; }
  done < <(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u)
done < <(go list ./...)
rm -f /tmp/fuzz.$$.log
echo "fuzz: $found targets"
