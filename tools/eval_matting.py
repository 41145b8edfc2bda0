#!/usr/bin/env python3
"""Alpha quality on composites with a known alpha: u2cut vs pymatting / rembg -a.

    cargo build --release
    .venv-tools/bin/python tools/eval_matting.py --data tests/data/matting \\
        --rembg-python /path/to/venv-with-rembg/bin/python

No public matting benchmark ships with the repository, so the composites are
made from the lemur (tools/composites.py): I = alpha F + (1 - alpha) B with
the FBA network's alpha and three backgrounds, rounded to 8 bits.
SAD = sum |alpha - truth| / 1000 (the matting literature's unit).

  trimap   `u2cut matte --trimap` vs pymatting's estimate_alpha_cf with the
           same trimap: the one rembg -a would make from the true alpha
           (> 240 / < 10, eroded by a 10x10 square).
  mask     the U2-Netp mask of the composite from rembg itself
           (tools/rembg_masks.py, run with --rembg-python), then rembg -a's
           alpha_matting_cutout (its code, with pymatting) vs the cutout of
           `u2cut matte --mask` (the same trimap rule, solver and cutout
           that `u2cut remove -a` runs on its own mask); and the mask itself.
Prints a Markdown table.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image
from pymatting import estimate_alpha_cf

from bench_matting import rembg_trimap
from composites import make_composites

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")


def sad(a, b):
    return np.abs(a - b).sum() / 1000.0


def u2cut_matte(u2cut, image, flag, known, out):
    """The alpha of `u2cut matte`: with --mask, the cutout's (8 bits truncated,
    as rembg's cutout and `remove -a`), else the rounded alpha image."""
    cutout = out + ".cutout.png"
    cmd = [u2cut, "matte", image, flag, known, "-o", out, "-q"]
    if flag == "--mask":
        cmd += ["--cutout", cutout]
    res = subprocess.run(cmd, capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit("u2cut matte failed:\n" + res.stderr)
    if flag == "--mask":
        return np.asarray(Image.open(cutout), dtype=np.float64)[..., 3] / 255.0
    return np.asarray(Image.open(out).convert("L"), dtype=np.float64) / 255.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "tests", "data", "matting"))
    ap.add_argument("--u2cut", default=os.path.join(ROOT, "target", "release", "u2cut"))
    ap.add_argument("--rembg-python", help="a Python with rembg installed (for the mask rows)")
    ap.add_argument("--work", help="folder for the composites (default: a temporary one)")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="eval_matting_")
    os.makedirs(work, exist_ok=True)
    truth, composites = make_composites(args.data, work)

    masks = {}
    if args.rembg_python:
        mask_dir = os.path.join(work, "masks")
        subprocess.run([args.rembg_python, os.path.join(HERE, "rembg_masks.py"), work, "--out-dir", mask_dir],
                       check=True, capture_output=True)
        masks = {n: os.path.join(mask_dir, n + ".png") for n in composites}

    trimap = rembg_trimap(np.round(truth * 255).astype(np.uint8))
    trimap_path = os.path.join(work, "trimap.png")
    Image.fromarray(trimap).save(trimap_path)

    print("| composite | trimap: pymatting | trimap: u2cut | mask itself | mask: rembg -a | mask: u2cut |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, path in composites.items():
        image = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64) / 255.0
        ref = np.clip(estimate_alpha_cf(image, trimap / 255.0), 0, 1)
        ours = u2cut_matte(args.u2cut, path, "--trimap", trimap_path, os.path.join(work, name + "_t.png"))
        row = [sad(ref, truth), sad(ours, truth)]
        if name in masks:
            mask = np.asarray(Image.open(masks[name]).convert("L"))
            rembg_alpha = np.clip(estimate_alpha_cf(image, rembg_trimap(mask) / 255.0), 0, 1)
            # rembg's cutout stores alpha as uint8 (clip(alpha * 255).astype(uint8)).
            rembg_alpha = np.clip(rembg_alpha * 255, 0, 255).astype(np.uint8) / 255.0
            ours_m = u2cut_matte(args.u2cut, path, "--mask", masks[name], os.path.join(work, name + "_m.png"))
            row += [sad(mask / 255.0, truth), sad(rembg_alpha, truth), sad(ours_m, truth)]
        print("| %s | %s |" % (name, " | ".join("%.2f" % v for v in row) + (" | - | - | -" if len(row) == 2 else "")))


if __name__ == "__main__":
    main()
