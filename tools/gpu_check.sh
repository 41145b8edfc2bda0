#!/usr/bin/env bash
# The GPU check, for a bare NVIDIA machine with no network and no Rust
# toolchain (PyTorch present). Needs .gpu/bundle.tar.xz from
# tools/gpu_bundle.sh, built from the same commit. From the repository root:
#
#     bash tools/gpu_check.sh [RESULTS_DIR]     # default: gpu-results
#
# Steps, each under its own time limit so the whole run stays under 6 minutes:
#   1. unpack the bundle; install the Vulkan loader if the machine lacks one
#   2. the GPU test suite (U2CUT_REQUIRE_GPU=1: no adapter is a failure)
#   3. `u2cut bench --tune --layers` (per-layer rows: GFLOP/s, % of peak)
#      of u2netp and u2net at 320x320, batch 1, 8 and
#      32, in f32 and f16 (the tuning cache is RESULTS_DIR/tune.json, so
#      the reference runs below use the tuned kernels too), and where the
#      adapter has cooperative matrices, f16 with the coop kernel too
#      (U2CUT_COOP_MATRIX=1; its kernel and model tests run in step 2)
#   4. tools/torch_u2net.py --check (the PyTorch model against the ORT
#      goldens), then tools/bench_reference.py: u2cut against PyTorch eager
#      (cuDNN; fp32, and fp16 channels_last), alternately in the same run
# RESULTS_DIR gets the logs, each bench's table, one JSON per reference run
# (with u2cut's full bench report), and summary.md. Exits non-zero if a
# test failed or a step did not finish.
# Environment: MODULES (every module of tests/it) picks the test modules,
# SIZES ("320"), BATCHES ("1 8 32"), MODELS ("u2netp u2net"),
# ROUNDS (3), ITERS (10) shape the run; TORCH (cuda) is the torch device;
# BUDGET (330 s) caps it: a step that would start past it is skipped and
# counted as a failure.
set -uo pipefail

repo=$(pwd)
results=$(realpath -m "${1:-gpu-results}")
bundle=/tmp/u2cut-gpu
mkdir -p "$results" "$bundle"
log() { echo "== $*" | tee -a "$results/summary.md"; }
status=0
deadline=$((SECONDS + ${BUDGET:-330}))
# step LIMIT CMD...: CMD under `timeout`, cut to what is left of the budget.
step() {
    local limit=$1 left=$((deadline - SECONDS))
    shift
    if [ "$left" -lt 5 ]; then
        echo "skipped: out of time" >&2
        return 124
    fi
    timeout $((limit < left ? limit : left)) "$@"
}
: >"$results/summary.md"

# 1. The bundle and the Vulkan loader.
[ -f .gpu/bundle.tar.xz ] || { echo "no .gpu/bundle.tar.xz: run tools/gpu_bundle.sh first" >&2; exit 2; }
tar -C "$bundle" -xJf .gpu/bundle.tar.xz || exit 2
u2cut=$bundle/bin/u2cut
if ! ldconfig -p | grep -q libvulkan.so.1; then
    for f in "$bundle"/debs/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -f "$nvidia_icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
    export VK_DRIVER_FILES=$nvidia_icd
    export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
fi

# The test binaries read data under the path they were built at and run
# target/release/u2cut there: recreate it as links to this checkout.
built_at=$(cat "$bundle/manifest_dir")
if [ "$built_at" != "$repo" ] && [ ! -e "$built_at" ]; then
    mkdir -p "$(dirname "$built_at")" && ln -s "$repo" "$built_at"
fi
mkdir -p "$repo/target/release" && cp "$u2cut" "$repo/target/release/u2cut"
if [ "$(git rev-parse HEAD 2>/dev/null)" != "$(cat "$bundle/commit")" ]; then
    log "warning: the bundle was built from $(cat "$bundle/commit"), this checkout is $(git rev-parse HEAD 2>/dev/null)"
fi

log "device"
{ nvidia-smi -L; nvidia-smi --query-gpu=driver_version,clocks.max.sm,clocks.max.mem --format=csv; } 2>&1 | tee -a "$results/summary.md"
"$u2cut" info --adapters --json >"$results/adapters.json" 2>"$results/adapters.log" || status=1
"$u2cut" info --adapters 2>&1 | sed -n '/^adapters/,$p' | tee -a "$results/summary.md"

# 2. Tests, one binary at a time so one failure does not hide the rest.
log "tests"
export U2CUT_REQUIRE_GPU=1
# run_test NAME COMMAND...: one test module, its log test_NAME.log.
run_test() {
    local name=$1
    shift
    if step 120 "$@" >"$results/test_$name.log" 2>&1; then
        log "  $name: $(grep -h '^test result' "$results/test_$name.log" | tail -1)"
    else
        status=1
        log "  $name: FAILED (log: test_$name.log)"
    fi
}
# The integration tests are one binary (tests/it); each module runs on its own.
it="$bundle/tests/it"
for m in ${MODULES:-$(sed -n 's/^mod \([a-z_0-9]*\);$/\1/p' tests/it/main.rs | grep -v '^common$')}; do
    run_test "$m" "$it" "$m::"
done
for t in "$bundle"/tests/*-u2cut; do
    run_test "$(basename "$t")" "$t"
done
# The cooperative-matrix conv kernel, where the adapter has it: the kernel
# and model tests again with it enabled.
coop=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["adapters"][0]["coop_matrix_size"] or "")' <"$results/adapters.json" 2>/dev/null)
if [ -n "$coop" ]; then
    for m in kernels model; do
        run_test "${m}_coop" env U2CUT_COOP_MATRIX=1 "$it" "$m::"
    done
fi

# The PyTorch definition itself, against the ONNX Runtime goldens.
log "torch parity (tools/torch_u2net.py --check)"
step 60 python3 tools/torch_u2net.py --check --device "${TORCH:-cuda}" 2>&1 | tee -a "$results/summary.md"
[ "${PIPESTATUS[0]}" = 0 ] || status=1

# Time to the first output with fresh caches, then again: whether the
# driver keeps its compiled code in wgpu's pipeline cache (u2cut's
# pipelines/*.bin) or its own (NVIDIA's shader disk cache, sent into the
# fresh folder by __GL_SHADER_DISK_CACHE_PATH).
log "startup (u2cut bench --iters 1 -q, fresh caches, then warm)"
startup=$results/startup-cache
rm -rf "$startup" && mkdir -p "$startup"
for run in cold warm; do
    t0=$EPOCHREALTIME
    step 60 env U2CUT_CACHE_DIR="$startup/u2cut" __GL_SHADER_DISK_CACHE_PATH="$startup/nv" \
        XDG_CACHE_HOME="$startup/xdg" "$u2cut" bench --iters 1 -q >/dev/null || status=1
    echo "$run: $(awk "BEGIN { printf \"%.2f\", $EPOCHREALTIME - $t0 }") s" | tee -a "$results/summary.md"
done
ls -l "$startup"/u2cut/pipelines 2>&1 | tee -a "$results/summary.md"

# 3. and 4. Benchmarks, then the alternating reference runs.
log "bench (u2cut bench --tune --size S --batch B, f32 then f16)"
export U2CUT_TUNE_CACHE=$results/tune.json
for model in ${MODELS:-u2netp u2net}; do
    for size in ${SIZES:-320}; do
        for batch in ${BATCHES:-1 8 32}; do
            tag=${model}_${size}_b${batch}
            # f16+coop: with the cooperative-matrix kernel among the tuned
            # ones (its own cache, so the reference runs keep to the others).
            for variant in f32 f16 ${coop:+f16+coop}; do
                out=$results/bench_${tag}_$variant.txt
                precision=${variant%+coop}
                env=()
                [ "$variant" = f16+coop ] && env=(U2CUT_COOP_MATRIX=1 U2CUT_TUNE_CACHE="$results/tune_coop.json")
                if step 90 env "${env[@]}" "$u2cut" -q --precision "$precision" bench --tune --layers --model "$model" \
                    --size "$size" --batch "$batch" --iters "${ITERS:-10}" >"$out" 2>&1; then
                    log "  $tag $variant: $(grep -h '^throughput' "$out"); $(grep -h '^convs' "$out")"
                else
                    status=1
                    log "  $tag $variant: FAILED ($(basename "$out"))"
                fi
            done
            if step 120 python3 tools/bench_reference.py --u2cut "$u2cut" --model "$model" \
                --size "$size" --batch "$batch" --iters "${ITERS:-10}" --rounds "${ROUNDS:-3}" \
                --torch "${TORCH:-cuda}" --json "$results/reference_$tag.json" >"$results/reference_$tag.txt" 2>&1; then
                sed 's/^/    /' "$results/reference_$tag.txt" | grep -v '^    round' >>"$results/summary.md"
            else
                status=1
                log "  reference $tag: FAILED (reference_$tag.txt)"
            fi
        done
    done
done
log "done, status $status; results in $results"
exit $status
