#!/usr/bin/env python3
"""Which model and refinement to choose: u2netp and u2net scored against a known alpha.

    cargo build --release && bash tools/fetch_model.sh u2net
    .venv-tools/bin/python tools/model_quality.py [--u2cut target/release/u2cut]

On the composites of tools/composites.py (the lemur's FBA alpha and foreground
over three backgrounds), for each model, `u2cut remove -m MODEL`:
  mask      --mask: the network's mask at the image's size;
  -a        closed-form alpha matting of the mask's edge (rembg -a);
  guided    --refine guided: the fast guided filter of the mask.
The alpha of the last two is the cutout's alpha channel. Scored against the
true alpha in [0, 1]: SAD = sum |alpha - truth| / 1000 (the matting
literature's unit) and MSE x 1000. Prints a Markdown table and the means.
"""

import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

from composites import make_composites

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
MODES = {"mask": ["--mask"], "-a": ["-a"], "guided": ["--refine", "guided"]}


def alpha_of(u2cut, model, image, mode, out):
    res = subprocess.run([u2cut, "-q", "remove", "-m", model, image, "-o", out, *MODES[mode]],
                         capture_output=True, text=True)
    if res.returncode != 0:
        sys.exit(f"u2cut remove -m {model} {mode} failed:\n{res.stderr}")
    img = Image.open(out)
    band = img.convert("L") if mode == "mask" else img.getchannel("A")
    return np.asarray(band, dtype=np.float64) / 255.0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "tests", "data", "matting"))
    ap.add_argument("--u2cut", default=os.path.join(ROOT, "target", "release", "u2cut"))
    ap.add_argument("--models", default="u2netp,u2net")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="model_quality_")
    truth, composites = make_composites(args.data, work)
    models = args.models.split(",")
    scores = {}
    print("| composite | model | " + " | ".join(f"SAD {m} | MSE {m}" for m in MODES) + " |")
    print("| --- | --- |" + " --- |" * (2 * len(MODES)))
    for name, path in composites.items():
        for model in models:
            row = []
            for mode in MODES:
                alpha = alpha_of(args.u2cut, model, path, mode, os.path.join(work, f"{name}_{model}.png"))
                err = alpha - truth
                row += [np.abs(err).sum() / 1000.0, 1000.0 * np.mean(err ** 2)]
            scores.setdefault(model, []).append(row)
            print(f"| {name} | {model} | " + " | ".join(f"{v:.2f}" for v in row) + " |")
    for model, rows in scores.items():
        print(f"| mean | {model} | " + " | ".join(f"{v:.2f}" for v in np.mean(rows, axis=0)) + " |")


if __name__ == "__main__":
    main()
