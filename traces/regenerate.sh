#!/usr/bin/env bash
# Re-records the sample traces: one per seeded bug of each built-in pipeline,
# each a run in which the bug struck (and one clean run of each). Run it after
# changing a pipeline's source: traces name call sites by file:line:column, so
# an edited pipeline replays an old trace as a divergence. Pass a pipeline's
# name (payments, settlement) to re-record only its traces.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin reprise
bin=target/debug/reprise
only=${1:-}

# record PIPELINE BUG FILE ARGS...: the first seed whose run shows the bug.
record() {
  local pipeline=$1 bug=$2 file=$3
  shift 3
  for seed in $(seq 1 50); do
    out=$("$bin" record --pipeline "$pipeline" --bug "$bug" "$@" --seed "$seed" --out "traces/$file")
    last=$(printf '%s\n' "$out" | tail -n 1)
    if [ "$bug" = none ] || [ "$last" != "invariants: ok" ]; then
      echo "$pipeline $bug: seed $seed: $last"
      return
    fi
  done
  echo "$pipeline $bug: no seed in 1..50 showed the bug; traces/$file shows none" >&2
}

if [ -z "$only" ] || [ "$only" = payments ]; then
  for bug in none lost-update double-apply reorder deadlock; do
    record payments "$bug" "$bug.trace" --payments 60 --workers 2
  done
fi
if [ -z "$only" ] || [ "$only" = settlement ]; then
  for bug in none stale-rate double-settle; do
    record settlement "$bug" "settlement-$bug.trace" --orders 60 --settlers 2
  done
fi
