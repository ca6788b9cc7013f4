#!/usr/bin/env bash
# Re-records the sample traces: one per seeded bug, each a run in which the bug
# struck (and one clean run). Run it after changing the payments pipeline's
# source: traces name call sites by file:line:column, so an edited pipeline
# replays an old trace as a divergence.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --quiet --bin reprise
bin=target/debug/reprise
for bug in none lost-update double-apply reorder deadlock; do
  for seed in $(seq 1 50); do
    out=$("$bin" record --pipeline payments --bug "$bug" --payments 60 --workers 2 --seed "$seed" --out "traces/$bug.trace")
    last=$(printf '%s\n' "$out" | tail -n 1)
    if [ "$bug" = none ] || [ "$last" != "invariants: ok" ]; then
      echo "$bug: seed $seed: $last"
      break
    fi
  done
done
