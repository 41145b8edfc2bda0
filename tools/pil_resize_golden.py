"""Write Pillow Lanczos resizes of random 8-bit images for the Rust tests.

    python tools/pil_resize_golden.py --out-dir tests/data/resample

Each case is a random image (seeded NumPy noise: the hardest input for the
fixed-point passes, every value clips somewhere) and Pillow's
``resize(size, Image.LANCZOS, box)`` of it, both as PNG, listed in
``cases.json``. Modes "L" and "RGB" only: Pillow resizes "RGBA" premultiplied,
which rembg never asks for (it converts to RGB first).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import PIL
from PIL import Image

REPO = Path(__file__).resolve().parents[1]

# name, mode, (w, h), (out_w, out_h), box or None
CASES = [
    ("up_rgb", "RGB", (37, 23), (120, 90), None),
    ("down_up_rgb", "RGB", (101, 67), (31, 145), None),
    ("down_rgb", "RGB", (163, 101), (97, 60), None),
    ("vertical_only_l", "L", (64, 48), (64, 17), None),
    ("horizontal_only_l", "L", (64, 48), (13, 48), None),
    ("tiny_l", "L", (5, 1), (3, 7), None),
    ("one_pixel_rgb", "RGB", (1, 1), (4, 4), None),
    ("mask_up_l", "L", (32, 32), (173, 111), None),
    ("same_size_l", "L", (17, 9), (17, 9), None),
    ("box_rgb", "RGB", (50, 40), (20, 17), (3.5, 2.25, 41.0, 30.5)),
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out-dir", default=str(REPO / "tests" / "data" / "resample"))
    args = ap.parse_args(argv)
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240611)
    listing = []
    for name, mode, (w, h), (ow, oh), box in CASES:
        shape = (h, w) if mode == "L" else (h, w, 3)
        src = Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode)
        dst = src.resize((ow, oh), Image.LANCZOS, box=box)
        src.save(out / f"{name}_src.png")
        dst.save(out / f"{name}_pil.png")
        listing.append({"name": name, "mode": mode, "size": [w, h], "out": [ow, oh], "box": box})
    meta = {"pillow": PIL.__version__, "command": "python tools/pil_resize_golden.py", "cases": listing}
    (out / "cases.json").write_text(json.dumps(meta, indent=1) + "\n")


if __name__ == "__main__":
    main()
