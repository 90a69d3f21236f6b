#!/usr/bin/env bash
# fuzz-all.sh runs every Fuzz target in the module with the budget $FUZZTIME.
#
# FUZZTIME is either a duration (30s) or an execution count (20000x), as
# go test -fuzztime takes it. make test uses a count: a count has no wall-clock
# deadline, so a slow, shared machine only makes the run longer.
#
# Each package's instrumented test binary is built once (go test -c -fuzz)
# and run once per target in the package's folder, as go test -fuzz runs it
# (the same corpus in testdata/fuzz and the same generated corpus in the Go
# build cache): building and linking it again for every target cost more
# than fuzzing a target.
#
# A duration budget races the fuzzing engine's own coordinator deadline: on a
# loaded machine a target can end with a bare "context deadline exceeded" and
# no input at all (golang/go#75804, golang/go#51484). Such a run found nothing,
# so it is retried once with an execution count instead. Anything else that
# fails (a failing input written to testdata/fuzz, a panic, a t.Error, a
# build error) fails the run at once.
set -euo pipefail
: "${FUZZTIME:=30s}"
: "${FUZZ_RETRY_COUNT:=20000x}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
log=$work/log
fuzzcache=$(go env GOCACHE)/fuzz

# bare_deadline succeeds when the log shows only the fuzztime deadline:
# no failing input, no panic, no test error.
bare_deadline() {
  grep -q 'context deadline exceeded' "$1" || return 1
  if grep -Eq 'Failing input written to|panic:|_test\.go:[0-9]+:|testdata/fuzz/.+/[0-9a-f]{16}' "$1"; then
    return 1
  fi
  return 0
}

# fuzz PKG DIR BIN FN BUDGET runs one target from the package's binary.
fuzz() {
  (cd "$2" && "$3" -test.run='^$' -test.fuzz="^${4}\$" -test.fuzztime="$5" \
     -test.fuzzcachedir="$fuzzcache/$1" -test.paniconexit0) >"$log" 2>&1
}

found=0 retried=0
while read -r pkg dir; do
  fns=$(grep -ho "^func Fuzz[A-Za-z0-9_]*" "$dir"/*_test.go 2>/dev/null | sed "s/^func //" | sort -u || true)
  [[ -n "$fns" ]] || continue
  bin=$work/$(echo "$pkg" | tr '/' '_').test
  if ! go test -c -fuzz=. -o "$bin" "$pkg" >"$log" 2>&1; then
    cat "$log"
    exit 1
  fi
  for fn in $fns; do
    found=$((found + 1))
    echo "fuzz $pkg $fn ($FUZZTIME)"
    if fuzz "$pkg" "$dir" "$bin" "$fn" "$FUZZTIME"; then
      continue
    fi
    if bare_deadline "$log"; then
      retried=$((retried + 1))
      echo "fuzz $pkg $fn: stopped at the fuzztime deadline with no failing input; running again for $FUZZ_RETRY_COUNT"
      if fuzz "$pkg" "$dir" "$bin" "$fn" "$FUZZ_RETRY_COUNT"; then
        continue
      fi
    fi
    cat "$log"
    exit 1
  done
done < <(go list -f '{{.ImportPath}} {{.Dir}}' ./...)
echo "fuzz: $found targets ($retried run again after a bare fuzztime deadline)"
