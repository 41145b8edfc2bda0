#!/usr/bin/env bash
# Builds what tools/gpu_check.sh needs on a GPU machine that has no Rust
# toolchain and no network: the release u2cut binary and every test binary
# (stripped), the Vulkan loader packages, and the shared matting data the
# tests read. Run from the repository root on an x86-64 Linux machine with
# cargo and apt:
#
#     bash tools/gpu_bundle.sh            # writes .gpu/bundle.tar.xz
#
# Then bring the repository (with .gpu/) to the GPU machine and run
# `bash tools/gpu_check.sh`. The bundle is one xz archive with a large
# dictionary: the test binaries share most of their code (wgpu, naga), so
# they compress to a fraction of their size together.
set -euo pipefail

root=$(pwd)
out=.gpu
# The commit the binaries are built from (read first: the tree may change
# while cargo runs); "-dirty" if tracked files differ from it.
commit=$(git rev-parse HEAD)
git diff --quiet HEAD -- || commit="$commit-dirty"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$out" "$stage/bin" "$stage/tests" "$stage/debs"

cargo build --release --locked
cp target/release/u2cut "$stage/bin/"
# Test binaries by name (tests/it -> tests/it; the crate's own unit
# tests -> tests/lib-u2cut, tests/bin-u2cut), from cargo's own list.
cargo test --release --locked --no-run --message-format=json |
    jq -r 'select(.reason == "compiler-artifact" and .profile.test and .executable != null)
           | (if .target.kind[0] == "test" then .target.name else "\(.target.kind[0])-\(.target.name)" end)
             + " " + .executable' |
    while read -r name exe; do cp "$exe" "$stage/tests/$name"; done
strip "$stage"/bin/* "$stage"/tests/*

# The test binaries find their data through the manifest path they were
# built at; gpu_check.sh recreates it on the GPU machine as a link.
echo "$root" >"$stage/manifest_dir"

# The Vulkan loader (libvulkan1) and GL dispatch libraries, for machines
# whose NVIDIA driver ships the ICD but no loader.
lists=$(mktemp -d)
o="-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=$lists"
mkdir -p "$lists/partial"
# shellcheck disable=SC2086
apt-get $o update -qq
# shellcheck disable=SC2086
(cd "$stage/debs" && apt-get $o download -qq libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
rm -rf "$lists"

echo "$commit" >"$stage/commit"
tar -C "$stage" -cf - . | xz -T1 --lzma2=preset=6e,dict=192MiB >"$out/bundle.tar.xz"
echo "wrote $out/bundle.tar.xz ($(du -h "$out/bundle.tar.xz" | cut -f1)) for commit $(cat "$stage/commit")"
