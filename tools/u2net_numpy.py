"""Float64 NumPy reference forward pass of U²-Net / U²-Netp.

A small, readable reference used by the converters and golden scripts to check
weights and ONNX Runtime outputs. It is not fast (u2netp at 320x320 takes a few
seconds per image on two cores) and it is not meant to be.

Weights come as a dict of PyTorch state_dict names -> arrays, e.g.
``stage1.rebnconvin.conv_s1.weight``. If ``<prefix>.bn_s1.*`` tensors are
present, BatchNorm is applied in eval mode (eps 1e-5); a BN-folded dict simply
has none.

Semantics (match PyTorch / the exported ONNX graph):
- REBNCONV: conv 3x3, padding = dilation, stride 1, bias; [BN]; ReLU.
- MaxPool 2x2 stride 2 ceil_mode=True (border windows clipped).
- Upsample "like": bilinear, align_corners=False (ONNX pytorch_half_pixel).
- Outputs d0..d6, all after sigmoid; d0 = outconv(cat(d1..d6)).
"""

from __future__ import annotations

import numpy as np

# stage -> (block, in, mid, out); block is RSU4..RSU7 or RSU4F.
CONFIGS = {
    "u2net": {
        "stage1": ("RSU7", 3, 32, 64),
        "stage2": ("RSU6", 64, 32, 128),
        "stage3": ("RSU5", 128, 64, 256),
        "stage4": ("RSU4", 256, 128, 512),
        "stage5": ("RSU4F", 512, 256, 512),
        "stage6": ("RSU4F", 512, 256, 512),
        "stage5d": ("RSU4F", 1024, 256, 512),
        "stage4d": ("RSU4", 1024, 128, 256),
        "stage3d": ("RSU5", 512, 64, 128),
        "stage2d": ("RSU6", 256, 32, 64),
        "stage1d": ("RSU7", 128, 16, 64),
    },
    "u2netp": {
        "stage1": ("RSU7", 3, 16, 64),
        "stage2": ("RSU6", 64, 16, 64),
        "stage3": ("RSU5", 64, 16, 64),
        "stage4": ("RSU4", 64, 16, 64),
        "stage5": ("RSU4F", 64, 16, 64),
        "stage6": ("RSU4F", 64, 16, 64),
        "stage5d": ("RSU4F", 128, 16, 64),
        "stage4d": ("RSU4", 128, 16, 64),
        "stage3d": ("RSU5", 128, 16, 64),
        "stage2d": ("RSU6", 128, 16, 64),
        "stage1d": ("RSU7", 128, 16, 64),
    },
}

# Forward order of the stages (also the order of their convs in the ONNX graph).
STAGE_ORDER = ["stage1", "stage2", "stage3", "stage4", "stage5", "stage6",
               "stage5d", "stage4d", "stage3d", "stage2d", "stage1d"]
# side_i reads the output of this stage.
SIDE_SOURCES = ["stage1d", "stage2d", "stage3d", "stage4d", "stage5d", "stage6"]


def rsu_convs(block: str, cin: int, mid: int, cout: int):
    """REBNCONVs of one RSU block in forward order: (name, cin, cout, dilation)."""
    if block == "RSU4F":
        return [("rebnconvin", cin, cout, 1), ("rebnconv1", cout, mid, 1),
                ("rebnconv2", mid, mid, 2), ("rebnconv3", mid, mid, 4),
                ("rebnconv4", mid, mid, 8), ("rebnconv3d", 2 * mid, mid, 4),
                ("rebnconv2d", 2 * mid, mid, 2), ("rebnconv1d", 2 * mid, cout, 1)]
    L = int(block[3:])
    convs = [("rebnconvin", cin, cout, 1), ("rebnconv1", cout, mid, 1)]
    convs += [(f"rebnconv{i}", mid, mid, 1) for i in range(2, L)]
    convs += [(f"rebnconv{L}", mid, mid, 2)]
    convs += [(f"rebnconv{i}d", 2 * mid, mid, 1) for i in range(L - 1, 1, -1)]
    convs += [("rebnconv1d", 2 * mid, cout, 1)]
    return convs


def model_convs(cfg: dict):
    """All convs of the model in ONNX graph order.

    Returns (prefix, cout, cin, k, dilation); the tensors are
    ``<prefix>.weight`` / ``<prefix>.bias`` (REBNCONV prefixes end in ``.conv_s1``).
    """
    out = []
    for stage in STAGE_ORDER:
        for name, ci, co, d in rsu_convs(*cfg[stage]):
            out.append((f"{stage}.{name}.conv_s1", co, ci, 3, d))
    for i, src in enumerate(SIDE_SOURCES, 1):
        out.append((f"side{i}", 1, cfg[src][3], 3, 1))
    out.append(("outconv", 1, 6, 1, 1))
    return out


def guess_model(sd: dict) -> str:
    """'u2net' or 'u2netp' from stage1's mid width (rebnconvin is 64x3 in both)."""
    mid = np.shape(sd["stage1.rebnconv1.conv_s1.weight"])[0]
    for name, cfg in CONFIGS.items():
        if cfg["stage1"][2] == mid:
            return name
    raise ValueError(f"stage1.rebnconv1.conv_s1.weight has {mid} output channels; "
                     "expected 32 (u2net) or 16 (u2netp)")


# ---------------------------------------------------------------- primitives

def conv2d(x, w, b, dilation=1):
    """NCHW conv, stride 1, 'same' padding (= dilation * (k // 2)).

    Shift-and-accumulate: one (Cout x Cin) @ (Cin x N*H*W) matmul per tap,
    i.e. im2col one tap at a time, to keep memory low.
    """
    n, c, h, wd = x.shape
    cout, cin, k, _ = w.shape
    assert cin == c, (w.shape, x.shape)
    p = dilation * (k // 2)
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    out = np.zeros((n, cout, h, wd), dtype=np.float64)
    for ky in range(k):
        for kx in range(k):
            xs = xp[:, :, ky * dilation:ky * dilation + h, kx * dilation:kx * dilation + wd]
            out += np.einsum("oc,nchw->nohw", w[:, :, ky, kx], xs, optimize=True)
    return out + b[None, :, None, None]


def batchnorm(x, gamma, beta, mean, var, eps=1e-5):
    s = gamma / np.sqrt(var + eps)
    return (x - mean[None, :, None, None]) * s[None, :, None, None] + beta[None, :, None, None]


def maxpool2_ceil(x):
    """MaxPool2d(2, 2, ceil_mode=True): pad odd edges with -inf, then 2x2 max."""
    n, c, h, w = x.shape
    ho, wo = -(-h // 2), -(-w // 2)
    xp = np.full((n, c, 2 * ho, 2 * wo), -np.inf)
    xp[:, :, :h, :w] = x
    return xp.reshape(n, c, ho, 2, wo, 2).max(axis=(3, 5))


def _linear_taps(out_size, in_size):
    """Indices and weights of pytorch_half_pixel linear resize along one axis."""
    if out_size == 1:
        src = np.zeros(1)
    else:
        src = (np.arange(out_size) + 0.5) * in_size / out_size - 0.5
    src = np.clip(src, 0.0, in_size - 1)
    i0 = np.floor(src).astype(np.int64)
    i1 = np.minimum(i0 + 1, in_size - 1)
    f = src - i0
    return i0, i1, f


def upsample_bilinear(x, size):
    """Bilinear resize to (H, W), align_corners=False (ONNX pytorch_half_pixel)."""
    h, w = size
    i0, i1, f = _linear_taps(h, x.shape[2])
    x = x[:, :, i0, :] * (1 - f)[None, None, :, None] + x[:, :, i1, :] * f[None, None, :, None]
    j0, j1, g = _linear_taps(w, x.shape[3])
    return x[:, :, :, j0] * (1 - g) + x[:, :, :, j1] * g


def upsample_like(x, ref):
    return upsample_bilinear(x, ref.shape[2:])


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


# ---------------------------------------------------------------- the network

class U2Net:
    """U²-Net forward pass from a state_dict-like mapping (arrays, any float dtype)."""

    def __init__(self, state_dict: dict, model: str | None = None, config: dict | None = None):
        self.sd = {k: np.asarray(v, dtype=np.float64) for k, v in state_dict.items()}
        self.model = model or guess_model(self.sd)
        self.cfg = config or CONFIGS[self.model]

    def rebnconv(self, prefix, x, dilation):
        y = conv2d(x, self.sd[f"{prefix}.conv_s1.weight"], self.sd[f"{prefix}.conv_s1.bias"], dilation)
        if f"{prefix}.bn_s1.weight" in self.sd:
            bn = f"{prefix}.bn_s1"
            y = batchnorm(y, self.sd[f"{bn}.weight"], self.sd[f"{bn}.bias"],
                          self.sd[f"{bn}.running_mean"], self.sd[f"{bn}.running_var"])
        return np.maximum(y, 0.0)

    def rsu(self, stage, x):
        block = self.cfg[stage][0]
        r = lambda name, t, d=1: self.rebnconv(f"{stage}.{name}", t, d)  # noqa: E731
        hxin = r("rebnconvin", x)
        if block == "RSU4F":
            hx1 = r("rebnconv1", hxin)
            hx2 = r("rebnconv2", hx1, 2)
            hx3 = r("rebnconv3", hx2, 4)
            hx4 = r("rebnconv4", hx3, 8)
            hx3d = r("rebnconv3d", np.concatenate([hx4, hx3], 1), 4)
            hx2d = r("rebnconv2d", np.concatenate([hx3d, hx2], 1), 2)
            hx1d = r("rebnconv1d", np.concatenate([hx2d, hx1], 1))
            return hx1d + hxin
        L = int(block[3:])
        enc = [r("rebnconv1", hxin)]                      # enc[i-1] = hx_i
        for i in range(2, L):
            enc.append(r(f"rebnconv{i}", maxpool2_ceil(enc[-1])))
        hx = r(f"rebnconv{L}", enc[-1], 2)
        for i in range(L - 1, 0, -1):
            hx = r(f"rebnconv{i}d", np.concatenate([hx, enc[i - 1]], 1))
            if i > 1:
                hx = upsample_like(hx, enc[i - 2])
        return hx + hxin

    def side(self, i, x):
        return conv2d(x, self.sd[f"side{i}.weight"], self.sd[f"side{i}.bias"])

    def __call__(self, x):
        """x: (N, 3, H, W) normalized image. Returns [d0, d1, ..., d6], each (N, 1, H, W)."""
        x = np.asarray(x, dtype=np.float64)
        enc = []                                          # hx1..hx6
        for s in range(1, 7):
            x = self.rsu(f"stage{s}", x)
            enc.append(x)
            if s < 6:
                x = maxpool2_ceil(x)
        dec = {6: enc[5]}                                 # hx6, hx5d, ..., hx1d
        hx = enc[5]
        for s in range(5, 0, -1):
            hx = self.rsu(f"stage{s}d", np.concatenate([upsample_like(hx, enc[s - 1]), enc[s - 1]], 1))
            dec[s] = hx
        d1 = self.side(1, dec[1])
        sides = [d1] + [upsample_like(self.side(i, dec[i]), d1) for i in range(2, 7)]
        d0 = conv2d(np.concatenate(sides, 1), self.sd["outconv.weight"], self.sd["outconv.bias"])
        return [sigmoid(d) for d in [d0] + sides]


def forward(state_dict: dict, x, model: str | None = None):
    """Convenience: U2Net(state_dict, model)(x)."""
    return U2Net(state_dict, model)(x)
