#!/usr/bin/env bash
# u2cut serve under load against u2cut remove on the same images, in one
# run: the server (built-in u2netp) on a free port; 1, 4 and 16 clients
# posting tests/data/remove's photos (examples/serve_load.rs: images/s,
# p50/p99 latency); then the same number of images through `u2cut remove`
# on a folder; the server's peak RSS after it all (at least 1,000
# requests with the defaults). BENCHMARKS.md has the numbers.
#
#   bash tools/serve_bench.sh [REQUESTS per level, default 400]
set -euo pipefail
cd "$(dirname "$0")/.."
requests=${1:-400}
cargo build --release --bin u2cut --example serve_load
u2cut=target/release/u2cut
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
mkdir -p "$work/photos"
cp tests/data/remove/*.png tests/data/remove/*.jpg "$work/photos/"

"$u2cut" serve --port 0 2> "$work/log" &
server=$!
for _ in $(seq 600); do
    grep -q 'listening on' "$work/log" && break
    sleep 0.5
done
base=$(sed -n 's/^u2cut: listening on //p' "$work/log")
# Compile the pipelines first: the load is the steady state.
curl -fsS --data-binary @"$(ls "$work"/photos/* | head -1)" "$base/v1/remove" > /dev/null
target/release/examples/serve_load "$base" "$work/photos" "$requests" 1 4 16
echo "server peak RSS after $((3 * requests + 1)) requests: $(awk '/VmHWM/ {print $2, $3}' /proc/$server/status)"
kill -TERM "$server"
wait "$server"

# The same images as files, as many as one level's requests.
mkdir -p "$work/folder"
n=0
while [ "$n" -lt "$requests" ]; do
    for f in "$work"/photos/*; do
        [ "$n" -lt "$requests" ] || break
        cp "$f" "$work/folder/$n-$(basename "$f")"
        n=$((n + 1))
    done
done
start=$(date +%s.%N)
"$u2cut" -q remove "$work/folder" -o "$work/out"
end=$(date +%s.%N)
awk -v n="$requests" -v s="$start" -v e="$end" \
    'BEGIN { printf "u2cut remove on a folder: %d images in %.1f s, %.2f images/s\n", n, e - s, n / (e - s) }'
