#!/usr/bin/env bash
# fuzz-all.sh runs every Fuzz target in the module with the budget $FUZZTIME.
#
# FUZZTIME is either a duration (30s) or an execution count (20000x), as
# go test -fuzztime takes it. make test uses a count: a count has no wall-clock
# deadline, so a slow, shared machine only makes the run longer.
#
# A duration budget races go test's own coordinator deadline: on a loaded
# machine a target can end with a bare "context deadline exceeded" and no
# input at all (golang/go#75804, golang/go#51484). Such a run found nothing,
# so it is retried once with an execution count instead. Anything else that
# fails (a failing input written to testdata/fuzz, a panic, a t.Error, a
# build error) fails the run at once.
set -euo pipefail
: "${FUZZTIME:=30s}"
: "${FUZZ_RETRY_COUNT:=20000x}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# bare_deadline succeeds when the log shows only the fuzztime deadline:
# no failing input, no panic, no test error.
bare_deadline() {
  grep -q 'context deadline exceeded' "$1" || return 1
  if grep -Eq 'Failing input written to|panic:|_test\.go:[0-9]+:|testdata/fuzz/.+/[0-9a-f]{16}' "$1"; then
    return 1
  fi
  return 0
}

found=0 retried=0
while IFS= read -r pkg; do
  dir=$(go list -f '{{.Dir}}' "$pkg")
  while IFS= read -r fn; do
    [[ -n "$fn" ]] || continue
    found=$((found + 1))
    echo "fuzz $pkg $fn ($FUZZTIME)"
    if go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZTIME" "$pkg" >"$log" 2>&1; then
      continue
    fi
    if bare_deadline "$log"; then
      retried=$((retried + 1))
      echo "fuzz $pkg $fn: stopped at the fuzztime deadline with no failing input; running again for $FUZZ_RETRY_COUNT"
      if go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$FUZZ_RETRY_COUNT" "$pkg" >"$log" 2>&1; then
        continue
      fi
    fi
    cat "$log"
    exit 1
  done < <(grep -ho '^func Fuzz[A-Za-z0-9_]*' "$dir"/*_test.go 2>/dev/null | sed 's/^func //' | sort -u)
done < <(go list ./...)
echo "fuzz: $found targets ($retried run again after a bare fuzztime deadline)"
