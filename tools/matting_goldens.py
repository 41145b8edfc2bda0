#!/usr/bin/env python3
"""Goldens for tests/it/matting.rs from pymatting (pinned in tools/requirements.txt).

    .venv-tools/bin/python tools/matting_goldens.py --data tests/data/matting

Writes tests/data/matting/test_cf_alpha.npy: pymatting's estimate_alpha_cf
(defaults: radius 1, epsilon 1e-7, ichol-preconditioned CG to rtol 1e-7) on
the 32x32 test case (test/test.png + test/test_trimap.png), float32, and
test_fg_ml.npy: estimate_foreground_ml (defaults) of test.png with the true
alpha test_alpha.png, float32 (32, 32, 3). The lemur goldens are the PNGs in
the data folder itself (lemur_alpha.png, lemur_foreground.png).
"""

import argparse
import os

import numpy as np
from pymatting import estimate_alpha_cf, estimate_foreground_ml, load_image


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="tests/data/matting", help="the matting data folder")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "matting"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    test = os.path.join(args.data, "test")
    image = load_image(os.path.join(test, "test.png"), "RGB")
    trimap = load_image(os.path.join(test, "test_trimap.png"), "GRAY")
    alpha = estimate_alpha_cf(image, trimap).astype(np.float32)
    np.save(os.path.join(args.out, "test_cf_alpha.npy"), alpha)
    true_alpha = load_image(os.path.join(test, "test_alpha.png"), "GRAY")
    fg = estimate_foreground_ml(image, true_alpha).astype(np.float32)
    np.save(os.path.join(args.out, "test_fg_ml.npy"), fg)
    print("test_cf_alpha.npy: SAD vs the true alpha %.3f" % np.abs(alpha - true_alpha).sum())


if __name__ == "__main__":
    main()
