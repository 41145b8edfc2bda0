#!/usr/bin/env bash
# A/B two u2cut builds on the same machine: runs `u2cut bench` with each,
# alternating, and prints each build's milliseconds for the kernel rows
# whose name matches PATTERN, one column per round. Alternating in one run
# is what makes the comparison fair on a shared, noisy machine.
#
#   tools/ab_bench.sh OLD_BINARY NEW_BINARY [ROUNDS] [BENCH ARGS...]
#
# e.g. tools/ab_bench.sh /tmp/u2cut-old target/release/u2cut 3 --size 160
# Env: PATTERN (default ^conv3x3_d1), a regex over the kernel column.
set -euo pipefail
a=$1 b=$2
rounds=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
pattern=${PATTERN:-^conv3x3_d1}
declare -A ms
for _ in $(seq "$rounds"); do
    for bin in "$a" "$b"; do
        # Rows: name calls total_ms ...; summed over the matching rows.
        t=$("$bin" bench --iters 3 "$@" 2>/dev/null |
            awk -v p="$pattern" '$1 ~ p { s += $3 } END { printf "%.1f", s }')
        ms[$bin]+=" $t"
    done
done
for bin in "$a" "$b"; do
    echo "$bin:${ms[$bin]}"
done
