#!/usr/bin/env bash
# Run every fuzz target for SECONDS (default 240) one after the other, a single libFuzzer worker each.
# Usage: fuzz/run_all.sh [SECONDS] [SANITIZER] [TARGET...]
#   SANITIZER: none (default, ~25x faster here) or address; TARGETs default to all of them.
# Logs go to fuzz/logs/<target>.log, new corpus entries to fuzz/corpus/<target>/, crashes to
# fuzz/artifacts/<target>/ (all ignored by git).
set -u
cd "$(dirname "$0")"
secs=${1:-240}
san=${2:-none}
shift $(( $# < 2 ? $# : 2 ))
targets=${*:-events csv tsv jsonl trainer_state text auto text_regex parallel}
export RUSTC_BOOTSTRAP=1
cargo fuzz build -a -s "$san" || exit 1
mkdir -p logs
for t in $targets; do
    mkdir -p "corpus/$t"
    echo "== $t ($secs s)"
    cargo fuzz run -a -s "$san" "$t" "corpus/$t" "seeds/$t" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -max_len=4096 -timeout=10 -print_final_stats=1 \
        > "logs/$t.log" 2>&1
    echo "   exit $?: $(grep -E '^#[0-9]+.*DONE|^Done' "logs/$t.log" | tail -2 | tr '\n' ' ')"
done
