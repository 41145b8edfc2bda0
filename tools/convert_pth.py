"""Convert an official U²-Net PyTorch checkpoint to safetensors (BN kept).

    pip install -r tools/requirements-torch.txt      # only for torch-format .pth files
    python tools/convert_pth.py u2net.pth --out weights/u2net.safetensors
    python tools/convert_pth.py u2net_human_seg.pth --model u2net --out weights/u2net_human_seg.safetensors
    python tools/convert_pth.py u2netp.pth --out weights/u2netp_bn.safetensors

Accepts the official checkpoints (u2net.pth, u2netp.pth, u2net_human_seg.pth:
a plain state_dict saved with torch.save, possibly with ``module.`` prefixes
from DataParallel) and plain pickled dicts of NumPy arrays (no torch needed).
Names stay the PyTorch ones (``stage1.rebnconvin.conv_s1.weight``,
``...bn_s1.running_var``, ``side1.weight``, ``outconv.bias``); BatchNorm
``num_batches_tracked`` counters are dropped. Every expected tensor and shape is
checked for the model (u2net or u2netp, guessed from stage1's mid width or given
with --model). Metadata: u2cut.model, u2cut.bn_folded ("false" when bn_s1
tensors are present), u2cut.source (file name and sha256).
"""

from __future__ import annotations

import argparse
import hashlib
import pickle
import sys
import zipfile
from pathlib import Path

import numpy as np

from stio import save_file
from u2net_numpy import CONFIGS, U2Net, guess_model, model_convs

BN_FIELDS = ("weight", "bias", "running_mean", "running_var")


class _NeedsTorch(Exception):
    pass


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts of NumPy arrays only; anything torch-specific raises _NeedsTorch."""

    ALLOWED = {("collections", "OrderedDict"), ("numpy", "ndarray"), ("numpy", "dtype"),
               ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar")}

    def find_class(self, module, name):
        if (module, name) in self.ALLOWED or (module.startswith("numpy") and name.endswith("DType")):
            return super().find_class(module, name)
        raise _NeedsTorch(f"{module}.{name}")

    def persistent_load(self, pid):
        raise _NeedsTorch("persistent id (torch storage)")


def _import_torch():
    try:
        import torch
    except ImportError:
        sys.exit("error: this checkpoint is in PyTorch's format and torch is not installed.\n"
                 "  pip install -r tools/requirements-torch.txt   (CPU-only torch is enough)")
    return torch


def load_checkpoint(path: Path) -> dict[str, np.ndarray]:
    """State dict as float32 NumPy arrays, from a torch .pth or a plain pickle."""
    obj = None
    if not zipfile.is_zipfile(path):            # torch >= 1.6 writes zip archives
        try:
            with open(path, "rb") as f:
                obj = _NumpyOnlyUnpickler(f).load()
            if not isinstance(obj, dict):       # e.g. the legacy torch format's magic number
                obj = None
        except _NeedsTorch:
            obj = None
    if obj is None:
        torch = _import_torch()
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except TypeError:                       # torch < 1.13 has no weights_only
            obj = torch.load(path, map_location="cpu")
    for key in ("state_dict", "model"):
        if isinstance(obj.get(key), dict):
            obj = obj[key]
    sd = {}
    for name, value in obj.items():
        name = name[len("module."):] if name.startswith("module.") else name
        if name.endswith("num_batches_tracked"):
            continue
        if hasattr(value, "detach"):            # torch.Tensor
            value = value.detach().cpu().float().numpy()
        sd[name] = np.ascontiguousarray(value, dtype=np.float32)
    return sd


def expected_shapes(model: str, with_bn: bool) -> dict[str, tuple]:
    shapes = {}
    for prefix, cout, cin, k, _ in model_convs(CONFIGS[model]):
        shapes[f"{prefix}.weight"] = (cout, cin, k, k)
        shapes[f"{prefix}.bias"] = (cout,)
        if with_bn and prefix.endswith(".conv_s1"):
            for field in BN_FIELDS:
                shapes[f"{prefix[:-len('conv_s1')]}bn_s1.{field}"] = (cout,)
    return shapes


def check(sd: dict, model: str, with_bn: bool) -> None:
    want = expected_shapes(model, with_bn)
    problems = [f"missing {n} {s}" for n, s in want.items() if n not in sd]
    problems += [f"unexpected {n} {sd[n].shape}" for n in sd if n not in want]
    problems += [f"{n}: shape {sd[n].shape}, expected {s}" for n, s in want.items()
                 if n in sd and sd[n].shape != s]
    if problems:
        sys.exit(f"error: checkpoint does not match {model} ({len(problems)} problems):\n  "
                 + "\n  ".join(problems[:20]))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint", help="u2net.pth, u2netp.pth, u2net_human_seg.pth, ...")
    ap.add_argument("--out", required=True, help="output .safetensors")
    ap.add_argument("--model", choices=sorted(CONFIGS), help="default: guessed from the shapes")
    ap.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                    help="run the float64 NumPy forward pass on a 64x64 input as a smoke test")
    args = ap.parse_args(argv)

    path = Path(args.checkpoint)
    sd = load_checkpoint(path)
    model = args.model or guess_model(sd)
    with_bn = any(".bn_s1." in n for n in sd)
    check(sd, model, with_bn)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    meta = {"format": "pt", "u2cut.model": model, "u2cut.bn_folded": str(not with_bn).lower(),
            "u2cut.source": f"{path.name} sha256 {digest}"}
    save_file(sd, args.out, metadata=meta)
    print(f"wrote {args.out}: {model}, {len(sd)} tensors, "
          f"{sum(v.size for n, v in sd.items() if '.running_' not in n)} parameters, "
          f"bn_folded={str(not with_bn).lower()}")
    if args.verify:
        x = np.random.default_rng(0).standard_normal((1, 3, 64, 64))
        d = U2Net(sd, model)(x)
        print(f"smoke test: d0 in [{d[0].min():.4f}, {d[0].max():.4f}], finite={all(np.isfinite(t).all() for t in d)}")


if __name__ == "__main__":
    main()
