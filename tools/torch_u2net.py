"""PyTorch U²-Net / U²-Netp that loads u2cut's safetensors, for reference runs.

    python tools/torch_u2net.py --check            # parity with the ORT goldens (CPU, fp32)
    python tools/torch_u2net.py --check --device cuda

    from torch_u2net import build
    net = build("u2netp", "cuda", torch.float16)   # d0, d1, ..., d6 = net(x)

The architecture is the original one (github.com/xuebinqin/U-2-Net, model/u2net.py):
RSU7..RSU4 and the dilated RSU4F, six encoder stages joined by
MaxPool2d(2, 2, ceil_mode=True), five decoder stages, side1..side6 3x3 convs to
one channel upsampled to the input size, a 1x1 ``outconv`` over cat(d1..d6) and
a sigmoid on all seven outputs. Module names match the PyTorch state_dict
(``stage1.rebnconvin.conv_s1.weight``, ``side1.bias``, ``outconv.weight``), so
a file loads by name, strictly. Widths are read from the tensor shapes, as the
Rust loader does, so u2net, u2netp and custom widths all load. u2cut's files
have BatchNorm folded into the convs (no ``bn_s1``); files from convert_pth.py
keep it, and then each REBNCONV gets its BatchNorm2d (eval mode).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from u2net_numpy import CONFIGS, SIDE_SOURCES, STAGE_ORDER

REPO = Path(__file__).resolve().parents[1]
WEIGHTS = {"u2netp": REPO / "weights" / "u2netp.safetensors"}
GOLDENS = [REPO / "tests" / "data" / f"golden_u2netp_{c}.safetensors" for c in ("181x237", "320_b2")]
# The block kind of each stage is fixed by the architecture; only widths vary.
BLOCKS = {stage: CONFIGS["u2netp"][stage][0] for stage in STAGE_ORDER}


def _upsample_like(x, ref):
    # The original's _upsample_like: bilinear, align_corners=False (ONNX pytorch_half_pixel).
    return F.interpolate(x, size=ref.shape[2:], mode="bilinear", align_corners=False)


class REBNCONV(nn.Module):
    """3x3 conv (padding = dilation) [+ BatchNorm] + ReLU."""

    def __init__(self, cin: int, cout: int, dirate: int = 1, bn: bool = False):
        super().__init__()
        self.conv_s1 = nn.Conv2d(cin, cout, 3, padding=dirate, dilation=dirate)
        self.bn_s1 = nn.BatchNorm2d(cout) if bn else None

    def forward(self, x):
        x = self.conv_s1(x)
        if self.bn_s1 is not None:
            x = self.bn_s1(x)
        return F.relu(x, inplace=True)


class RSU(nn.Module):
    """RSU-L (L = 4..7): a small U-Net with pooling; RSU-4F: dilations 1,2,4,8, no pooling.

    Same names as the original RSU7..RSU4F: rebnconvin, rebnconv1..L, rebnconv(L-1)d..1d.
    """

    def __init__(self, block: str, cin: int, mid: int, cout: int, bn: bool = False):
        super().__init__()
        self.dilated = block.endswith("F")
        self.L = L = int(block[3])
        # RSU-L: dilation 1 everywhere but the bottom conv (2); RSU-4F: 2^(i-1) at level i.
        dil = (lambda i: 2 ** (i - 1)) if self.dilated else (lambda i: 2 if i == L else 1)
        self.rebnconvin = REBNCONV(cin, cout, 1, bn)
        self.rebnconv1 = REBNCONV(cout, mid, 1, bn)
        for i in range(2, L + 1):
            setattr(self, f"rebnconv{i}", REBNCONV(mid, mid, dil(i), bn))
        for i in range(L - 1, 0, -1):
            setattr(self, f"rebnconv{i}d", REBNCONV(2 * mid, cout if i == 1 else mid, dil(i), bn))

    def forward(self, x):
        hxin = self.rebnconvin(x)
        enc = [self.rebnconv1(hxin)]                      # enc[i-1] = hx_i
        for i in range(2, self.L + 1):
            h = enc[-1]
            if not self.dilated and i < self.L:           # no pool before the bottom conv
                h = F.max_pool2d(h, 2, 2, ceil_mode=True)
            enc.append(getattr(self, f"rebnconv{i}")(h))
        hx = enc[-1]
        for i in range(self.L - 1, 0, -1):
            hx = getattr(self, f"rebnconv{i}d")(torch.cat((hx, enc[i - 1]), 1))
            if i > 1 and not self.dilated:
                hx = _upsample_like(hx, enc[i - 2])
        return hx + hxin


class U2Net(nn.Module):
    """U²-Net with the given (in, mid, out) width per stage; forward returns (d0, ..., d6)."""

    def __init__(self, widths: dict[str, tuple[int, int, int]], bn: bool = False):
        super().__init__()
        for stage in STAGE_ORDER:
            setattr(self, stage, RSU(BLOCKS[stage], *widths[stage], bn=bn))
        for i, src in enumerate(SIDE_SOURCES, 1):
            setattr(self, f"side{i}", nn.Conv2d(widths[src][2], 1, 3, padding=1))
        self.outconv = nn.Conv2d(6, 1, 1)

    def forward(self, x):
        enc = []                                          # hx1..hx6
        for s in range(1, 7):
            x = getattr(self, f"stage{s}")(x)
            enc.append(x)
            if s < 6:
                x = F.max_pool2d(x, 2, 2, ceil_mode=True)
        dec = {6: enc[5]}                                 # hx6, hx5d, ..., hx1d
        hx = enc[5]
        for s in range(5, 0, -1):
            hx = getattr(self, f"stage{s}d")(torch.cat((_upsample_like(hx, enc[s - 1]), enc[s - 1]), 1))
            dec[s] = hx
        d1 = self.side1(dec[1])
        sides = [d1] + [_upsample_like(getattr(self, f"side{i}")(dec[i]), d1) for i in range(2, 7)]
        d0 = self.outconv(torch.cat(sides, 1))
        return tuple(torch.sigmoid(d) for d in [d0] + sides)


def widths_from(sd: dict, origin) -> dict[str, tuple[int, int, int]]:
    """(in, mid, out) per stage from rebnconvin / rebnconv1 shapes, checked for consistency."""
    w = {}
    for stage in STAGE_ORDER:
        try:
            cout, cin = sd[f"{stage}.rebnconvin.conv_s1.weight"].shape[:2]
            mid = sd[f"{stage}.rebnconv1.conv_s1.weight"].shape[0]
        except KeyError as e:
            raise ValueError(f"{origin}: missing tensor {e.args[0]}") from None
        w[stage] = (int(cin), int(mid), int(cout))
    # What each stage reads: the image, the previous stage, or cat(deeper decoder, skip).
    want = {"stage1": 3, "stage5d": w["stage6"][2] + w["stage5"][2]}
    want |= {f"stage{s}": w[f"stage{s - 1}"][2] for s in range(2, 7)}
    want |= {f"stage{s}d": w[f"stage{s + 1}d"][2] + w[f"stage{s}"][2] for s in range(1, 5)}
    for stage, cin in want.items():
        if w[stage][0] != cin:
            raise ValueError(f"{origin}: {stage}.rebnconvin.conv_s1.weight has {w[stage][0]} "
                             f"input channels; the architecture gives it {cin}")
    return w


_DTYPES = {"F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16, "F64": torch.float64}


def read_safetensors(path) -> dict[str, torch.Tensor]:
    """All tensors of a safetensors file (float types), without the safetensors
    package: the GPU machine has torch but maybe not that."""
    data = bytearray(Path(path).read_bytes())   # writable, as torch.frombuffer wants
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8:8 + n])
    header.pop("__metadata__", None)
    out = {}
    for name, t in header.items():
        if t["dtype"] not in _DTYPES:
            raise ValueError(f"{path}: tensor {name} has dtype {t['dtype']}; expected a float type")
        dt = _DTYPES[t["dtype"]]
        a, b = t["data_offsets"]
        flat = torch.frombuffer(data, dtype=dt, count=(b - a) // dt.itemsize, offset=8 + n + a)
        out[name] = flat.reshape(t["shape"]).clone()
    return out


def load(path, device="cpu", dtype=torch.float32) -> U2Net:
    """U2Net from a safetensors file; every tensor must exist in the model and vice versa."""
    sd = read_safetensors(path)
    net = U2Net(widths_from(sd, path), bn=any(".bn_s1." in k for k in sd))
    # convert_pth.py drops num_batches_tracked (unused in eval mode).
    want = {k: v.shape for k, v in net.state_dict().items() if not k.endswith("num_batches_tracked")}
    errors = [f"missing tensor {k}" for k in sorted(want.keys() - sd.keys())]
    errors += [f"unexpected tensor {k}" for k in sorted(sd.keys() - want.keys())]
    errors += [f"tensor {k} has shape {tuple(sd[k].shape)}, the model wants {tuple(want[k])}"
               for k in sorted(want.keys() & sd.keys()) if sd[k].shape != want[k]]
    if errors:
        raise ValueError(f"{path}: " + "; ".join(errors))
    net.load_state_dict(sd, strict=False)  # strictness checked above
    return net.eval().requires_grad_(False).to(device, dtype)


def random_init(net: U2Net, seed: int = 0) -> U2Net:
    """He-uniform weights, U(-0.1, 0.1) biases: the same scheme as u2cut's random model.
    Activations stay moderate (u2net: |x| < 400 everywhere), far from fp16 overflow."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                bound = (6.0 / m.weight[0].numel()) ** 0.5   # fan_in = cin * k * k
                m.weight.copy_((torch.rand(m.weight.shape, generator=g) * 2 - 1) * bound)
                m.bias.copy_((torch.rand(m.bias.shape, generator=g) * 2 - 1) * 0.1)
    return net


def build(model: str | Path = "u2netp", device="cpu", dtype=torch.float32, seed: int = 0) -> U2Net:
    """The model in eval mode on `device` in `dtype`.

    "u2netp": the shipped weights/u2netp.safetensors. "u2net": no weights ship
    with u2cut, so the preset's widths get random weights (seeded, see
    random_init); right for timing, as the work does not depend on the values.
    Anything else is a path to a safetensors file.
    """
    if str(model) in WEIGHTS:
        return load(WEIGHTS[str(model)], device, dtype)
    if str(model) in CONFIGS:
        widths = {stage: cfg[1:] for stage, cfg in CONFIGS[str(model)].items()}
        net = random_init(U2Net(widths), seed)
        return net.eval().requires_grad_(False).to(device, dtype)
    return load(model, device, dtype)


def check(device: str, tol: float) -> bool:
    """Max |torch - ORT| per output on the goldens; True when all are within tol."""
    # fp32 means fp32 here: TF32 convs (PyTorch's CUDA default) round inputs to 10-bit
    # mantissas, which can exceed the tolerance; this checks the definition, not TF32.
    torch.backends.cudnn.allow_tf32 = False
    net = build("u2netp", device)
    ok = True
    for path in GOLDENS:
        g = read_safetensors(path)
        with torch.inference_mode():
            outs = net(g["input"].to(device))
        diffs = [float((o.cpu() - g[f"d{i}"]).abs().max()) for i, o in enumerate(outs)]
        ok &= max(diffs) <= tol
        print(f"{path.relative_to(REPO)} {tuple(g['input'].shape)}: max |torch - ORT| "
              + " ".join(f"d{i}={d:.2e}" for i, d in enumerate(diffs)))
    print(f"{'ok' if ok else 'FAIL'}: tolerance {tol:g} (torch {torch.__version__}, {device}, fp32)")
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="compare with the ORT goldens in tests/data")
    ap.add_argument("--device", default="cpu", help="torch device for --check (default: %(default)s)")
    ap.add_argument("--tol", type=float, default=5e-4, help="max abs difference allowed")
    ap.add_argument("--threads", type=int, help="torch CPU threads")
    args = ap.parse_args(argv)
    if not args.check:
        ap.error("nothing to do; pass --check")
    if args.threads:
        torch.set_num_threads(args.threads)
    sys.exit(0 if check(args.device, args.tol) else 1)


if __name__ == "__main__":
    main()
