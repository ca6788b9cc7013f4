#!/bin/sh
# Instructions per event of the payments pipeline under callgrind: raw, off
# and record, each run at two sizes so that start-up and the trace's
# finishing cancel out: per event = (Ir(big) - Ir(small)) / (events(big) -
# events(small)), the events being those a recording of the same runs holds.
# Repeatable whatever else the machine runs (wall-clock ratios are not).
#
# Usage: benches/callgrind.sh [small big workers]   (default 2000 6000 4)
set -eu
small=${1:-2000}
big=${2:-6000}
workers=${3:-4}
cd "$(dirname "$0")/.."
cargo build --release --example pipeline_once >&2
bin=target/release/examples/pipeline_once
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Ir of one run: callgrind's total instruction count.
ir() {
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.out" "$bin" "$@" >"$tmp/stdout" 2>"$tmp/stderr"
    grep '^summary:' "$tmp/cg.out" | awk '{print $2}'
}
events() {
    "$bin" record "$1" "$workers" "$tmp/t.trace" | awk '/^events/ {print $2}'
}

ev_small=$(events "$small")
ev_big=$(events "$big")
ev=$((ev_big - ev_small))
echo "callgrind: payments pipeline, $workers workers, runs of $small and $big payments ($ev events apart)"
for mode in raw off record; do
    a=$(ir "$mode" "$small" "$workers" "$tmp/t.trace")
    b=$(ir "$mode" "$big" "$workers" "$tmp/t.trace")
    per=$(awk -v a="$a" -v b="$b" -v e="$ev" 'BEGIN { printf "%.1f", (b - a) / e }')
    eval "per_$mode=$per"
    echo "  $mode: $per instructions/event ($a, $b)"
done
awk -v r="$per_raw" -v o="$per_off" -v c="$per_record" 'BEGIN {
    printf "  overhead per event: off %+.1f, record %+.1f instructions (off %.2fx, record %.2fx of raw)\n", o - r, c - r, o / r, c / r
}'

# Record mode split by thread: what the program's own threads pay per event
# (the hot path) and what reprise's writer, flusher and monitor threads do
# for them (encoding the raw blocks, writing).
split() {
    rm -f "$tmp"/cgt.out*
    valgrind --tool=callgrind --separate-threads=yes --callgrind-out-file="$tmp/cgt.out" \
        "$bin" record "$1" "$workers" "$tmp/t.trace" >/dev/null 2>&1
    own=0
    ours=0
    for f in "$tmp"/cgt.out*; do
        n=$(grep -E '^(summary|totals):' "$f" | head -1 | awk '{print $2}')
        [ -n "$n" ] || continue
        if grep -qE 'rt::writer::run|rt::flush::run|rt::monitor::run' "$f"; then
            ours=$((ours + n))
        else
            own=$((own + n))
        fi
    done
    echo "$own $ours"
}
set -- $(split "$small") $(split "$big")
awk -v a="$1" -v b="$3" -v c="$2" -v d="$4" -v e="$ev" -v r="$per_raw" 'BEGIN {
    own = (b - a) / e; ours = (d - c) / e
    printf "  record by thread: %.1f instructions/event on the program'"'"'s threads (%.2fx of raw), %.1f on reprise'"'"'s writer, flusher and monitor\n", own, own / r, ours
}'
