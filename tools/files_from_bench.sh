#!/usr/bin/env bash
# `u2cut remove --files-from LIST --dry-run` over lists of 100,000 and
# 1,000,000 paths, whole and as share 3/16: wall time and peak memory
# (GNU time's maximum resident set size). BENCHMARKS.md has the numbers.
#
#   bash tools/files_from_bench.sh [path/to/u2cut]
set -euo pipefail
u2cut=$(realpath "${1:-target/release/u2cut}")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for n in 100000 1000000; do
    awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "set%03d/shot%07d.jpg\n", i % 1000, i }' \
        > "$work/list"
    for shard in 0/1 3/16; do
        /usr/bin/time -f "%e s %M KiB" -o "$work/time" \
            "$u2cut" -q remove --files-from "$work/list" -o "$work/out" --dry-run --shard "$shard" \
            > "$work/listed"
        printf '%8d paths, share %-5s listed %8d: %s\n' "$n" "$shard" \
            "$(wc -l < "$work/listed")" "$(cat "$work/time")"
    done
done
