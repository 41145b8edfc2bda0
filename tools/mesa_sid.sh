#!/usr/bin/env bash
# Runs a command against Debian sid's Mesa (lavapipe 26.x, LLVM 22) on a
# machine whose own Mesa is older: the first lavapipe with cooperative
# matrices (VK_KHR_cooperative_matrix, 8x8 f16), so the coop conv kernel's
# tests run without a GPU. Root only (debootstrap, chroot, bind mount).
#
#     bash tools/mesa_sid.sh CHROOT_DIR COMMAND...
#
# e.g., after `cargo test --release --no-run` here:
#     bash tools/mesa_sid.sh /tmp/sid env U2CUT_COOP_MATRIX=1 U2CUT_REQUIRE_GPU=1 \
#         target/release/deps/kernels-HASH conv
#
# The first call builds CHROOT_DIR (~250 MB from deb.debian.org: a minimal
# sid plus mesa-vulkan-drivers); later calls reuse it. The command runs in
# this checkout, bind-mounted at the same path, with the binaries as built
# here (sid's glibc is newer, so they run unchanged).
set -euo pipefail
root=$(realpath -m "$1")
shift
repo=$(git rev-parse --show-toplevel)
if [ ! -x "$root/usr/bin/vulkaninfo" ]; then
    command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
    debootstrap --variant=minbase sid "$root" http://deb.debian.org/debian
    cp /etc/resolv.conf "$root/etc/"
    # Mirrors may serve a sid snapshot whose Release file has expired.
    chroot "$root" apt-get -o Acquire::Check-Valid-Until=false update -qq
    chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get \
        -o Acquire::Check-Valid-Until=false install -y -qq \
        mesa-vulkan-drivers libvulkan1 vulkan-tools >/dev/null
fi
mkdir -p "$root$repo"
# Unmounted again on exit: a later `rm -rf CHROOT_DIR` must not reach the
# checkout through the bind mount.
trap 'umount "$root$repo" "$root/proc" 2>/dev/null' EXIT
mount --bind "$repo" "$root$repo"
mount -t proc proc "$root/proc"
chroot "$root" bash -c 'cd "$1" && shift && exec "$@"' _ "$repo" "$@"
