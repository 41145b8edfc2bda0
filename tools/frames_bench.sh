#!/usr/bin/env bash
# Frames/s of a raw frame stream (`u2cut frames`) and of a video file
# (`u2cut remove CLIP -o OUT.webm`: ffmpeg decoding and VP9 encoding
# included) against the same frames as PNG files through `u2cut remove`
# on a folder, in one run, at 320x240 and 1280x720 (built-in u2netp,
# ffmpeg's testsrc2 pattern). Each u2cut line ends with its stages' busy
# times: the GPU stage's share of the wall time says whether decoding and
# encoding hide behind it; and the peak RSS (GNU time). BENCHMARKS.md has
# the numbers.
#
#   bash tools/frames_bench.sh [FRAMES, default 60] [BATCH, default 4] [U2CUT_BINARY]
#   SIZES="1280x720" ROUNDS=3 bash tools/frames_bench.sh ...   # one size, three rounds
#
# (The binary `cargo test --release` built will do: a `cargo build` after
# it builds again, the dev-dependencies changing features.)
set -euo pipefail
cd "$(dirname "$0")/.."
frames=${1:-60}
batch=${2:-4}
if [ -n "${3:-}" ]; then
    u2cut=$(realpath "$3")
else
    cargo build --release --bin u2cut
    u2cut=$PWD/target/release/u2cut
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$u2cut" -q warmup --batch "$batch"

# One round of the three modes on the frames in $dir.
one_round() {
    echo "-- u2cut frames (raw rgb24 in, raw RGBA out)"
    /usr/bin/time -f "peak RSS %M KB" "$u2cut" frames "$w" "$h" -b "$batch" < "$dir/frames.rgb" > /dev/null
    echo "-- u2cut remove CLIP -o OUT.webm (ffmpeg decoding and VP9 encoding included)"
    /usr/bin/time -f "peak RSS %M KB" "$u2cut" remove "$dir/clip.mp4" -o "$dir/out.webm" -b "$batch"
    echo "-- u2cut remove on a folder of the same frames as PNG"
    rm -rf "$dir/out" "$dir/out.webm"
    start=$(date +%s.%N)
    "$u2cut" remove "$dir/pngs" -o "$dir/out" -b "$batch" 2>&1 | grep -v '^u2cut: \[' || true
    end=$(date +%s.%N)
    awk -v n="$frames" -v s="$start" -v e="$end" \
        'BEGIN { printf "u2cut remove on a folder: %d frames in %.1f s, %.2f frames/s\n", n, e - s, n / (e - s) }'
    rm -rf "$dir/out"
}

for size in ${SIZES:-320x240 1280x720}; do
    w=${size%x*}
    h=${size#*x}
    dir=$work/$size
    mkdir -p "$dir/pngs"
    ffmpeg -nostdin -v error -f lavfi -i "testsrc2=size=$size:rate=30" -frames:v "$frames" \
        -c:v libx264 -pix_fmt yuv420p "$dir/clip.mp4"
    ffmpeg -nostdin -v error -i "$dir/clip.mp4" -f rawvideo -pix_fmt rgb24 "$dir/frames.rgb"
    ffmpeg -nostdin -v error -i "$dir/clip.mp4" "$dir/pngs/%06d.png"
    for round in $(seq "${ROUNDS:-1}"); do
        echo "== $size, $frames frames, batch $batch, round $round"
        one_round
    done
done
