#!/usr/bin/env python3
"""Matting time, ours (`u2cut matte`) vs pymatting, on the same machine in one run.

    cargo build --release
    .venv-tools/bin/python tools/bench_matting.py --data tests/data/matting

Cases:
  lemur      680x440, the hand-drawn trimap (lemur_trimap.png)
  lemur over mirrored / gradient / texture
             680x440, tools/composites.py's composites (the lemur's FBA
             alpha and foreground over three backgrounds), with the trimap
             rembg -a makes from their true alpha (as tools/eval_matting.py)
  lemur-12mp the lemur resized (PIL Lanczos) to 4352x2816 (12.3 megapixels),
             with the trimap rembg -a makes (mask > 240 sure foreground,
             < 10 sure background, each eroded by a 10x10 square) from a
             mask: the FBA alpha (lemur_alpha_fba.png) resized bilinearly
             and rounded to 8 bits, as a network mask would be
For each: pymatting's estimate_alpha_cf and estimate_foreground_ml (numba
compiled beforehand on the 32x32 case, so compile time is not counted), and
`u2cut matte IMAGE --trimap T -o ALPHA --foreground FG --solver S` for each S
of --solvers (the times it reports for the alpha and the foreground, which
include uploads and read-backs but not decoding; and the whole process's
wall time, which includes decoding, opening the GPU and compiling the
shaders). Times are medians of --rounds runs, pymatting and u2cut
alternated. Also the mean absolute difference between the two alphas.
Prints a Markdown table.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image
from pymatting import estimate_alpha_cf, estimate_foreground_ml, load_image
from scipy.ndimage import binary_erosion

from composites import make_composites

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")


def rembg_trimap(mask, fg=240, bg=10, erode=10):
    """rembg's alpha_matting_cutout trimap (uint8 0 / 128 / 255)."""
    structure = np.ones((erode, erode), dtype=np.uint8) if erode > 0 else None
    is_fg = binary_erosion(mask > fg, structure=structure)
    is_bg = binary_erosion(mask < bg, structure=structure, border_value=1)
    trimap = np.full(mask.shape, 128, dtype=np.uint8)
    trimap[is_fg] = 255
    trimap[is_bg] = 0
    return trimap


def make_cases(data, work, megapixels):
    lemur = os.path.join(data, "lemur")
    cases = [("lemur", os.path.join(lemur, "lemur.png"), os.path.join(lemur, "lemur_trimap.png"))]
    truth, composites = make_composites(data, work)
    trimap_path = os.path.join(work, "composite_trimap.png")
    Image.fromarray(rembg_trimap(np.round(truth * 255).astype(np.uint8))).save(trimap_path)
    cases += [("lemur over " + name, path, trimap_path) for name, path in composites.items()]
    if megapixels > 0:
        img = Image.open(os.path.join(lemur, "lemur.png")).convert("RGB")
        scale = (megapixels * 1e6 / (img.width * img.height)) ** 0.5
        size = (round(img.width * scale / 32) * 32, round(img.height * scale / 32) * 32)
        big = img.resize(size, Image.LANCZOS)
        mask = Image.open(os.path.join(lemur, "lemur_alpha_fba.png")).convert("L").resize(size, Image.BILINEAR)
        trimap = rembg_trimap(np.asarray(mask))
        name = "lemur-%gmp" % megapixels
        image_path = os.path.join(work, name + ".png")
        trimap_path = os.path.join(work, name + "_trimap.png")
        big.save(image_path)
        Image.fromarray(trimap).save(trimap_path)
        cases.append((name, image_path, trimap_path))
    return cases


def run_pymatting(image_path, trimap_path):
    image = load_image(image_path, "RGB")
    trimap = load_image(trimap_path, "GRAY")
    t = time.perf_counter()
    alpha = estimate_alpha_cf(image, trimap)
    t_alpha = time.perf_counter() - t
    t = time.perf_counter()
    estimate_foreground_ml(image, alpha)
    t_fg = time.perf_counter() - t
    unknown = int(((trimap > 0.1) & (trimap < 0.9)).sum())
    return alpha, t_alpha, t_fg, image.shape[1], image.shape[0], unknown


def run_ours(u2cut, image_path, trimap_path, work, name, solver):
    alpha_path = os.path.join(work, "%s_ours_%s_alpha.png" % (name, solver))
    fg_path = os.path.join(work, "%s_ours_%s_fg.png" % (name, solver))
    cmd = [u2cut, "matte", image_path, "--trimap", trimap_path, "-o", alpha_path, "--foreground", fg_path,
           "--solver", solver]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if out.returncode != 0:
        sys.exit("u2cut matte failed:\n" + out.stderr)
    t_alpha = float(re.search(r"alpha of \S+ in ([0-9.]+) s \((\d+) iterations", out.stderr).group(1))
    iterations = int(re.search(r"in [0-9.]+ s \((\d+) iterations", out.stderr).group(1))
    t_fg = float(re.search(r"foreground in ([0-9.]+) s", out.stderr).group(1))
    ran = re.search(r"iterations; (\w+) solver;", out.stderr).group(1)
    device = re.search(r"using (.*)", out.stderr)
    alpha = np.asarray(Image.open(alpha_path).convert("L"), dtype=np.float64) / 255.0
    return alpha, t_alpha, t_fg, wall, iterations, ran, device.group(1) if device else "CPU"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(ROOT, "tests", "data", "matting"))
    ap.add_argument("--u2cut", default=os.path.join(ROOT, "target", "release", "u2cut"))
    ap.add_argument("--megapixels", type=float, default=12.0, help="size of the large case (0 = skip it)")
    ap.add_argument("--work", help="folder for the generated images (default: a temporary one)")
    ap.add_argument("--solvers", default="auto,gpu",
                    help="`u2cut matte --solver` values to run, comma-separated (auto: the CPU solver on llvmpipe)")
    ap.add_argument("--rounds", type=int, default=3, help="runs of each case; times are medians")
    args = ap.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="bench_matting_")
    os.makedirs(work, exist_ok=True)

    # Compile pymatting's numba kernels before timing anything.
    test = os.path.join(args.data, "test")
    run_pymatting(os.path.join(test, "test.png"), os.path.join(test, "test_trimap.png"))

    rows = []
    device = "?"
    solvers = args.solvers.split(",")
    for name, image_path, trimap_path in make_cases(args.data, work, args.megapixels):
        # Rounds alternate pymatting and u2cut; times are medians over the rounds.
        times = {"pymatting": []}
        last = {}
        for _ in range(args.rounds):
            ref, p_alpha, p_fg, w, h, unknown = run_pymatting(image_path, trimap_path)
            times["pymatting"].append((p_alpha, p_fg))
            for solver in solvers:
                ours, o_alpha, o_fg, wall, iterations, ran, device = run_ours(
                    args.u2cut, image_path, trimap_path, work, name, solver)
                times.setdefault(solver, []).append((o_alpha, o_fg, wall))
                last[solver] = (ours, iterations, ran)
                print("%s --solver %s: pymatting %.2f + %.2f s, ours %.2f + %.2f s"
                      % (name, solver, p_alpha, p_fg, o_alpha, o_fg), file=sys.stderr, flush=True)
        p_alpha, p_fg = np.median(times["pymatting"], axis=0)
        for solver in solvers:
            o_alpha, o_fg, wall = np.median(times[solver], axis=0)
            ours, iterations, ran = last[solver]
            mad = np.abs(ours - np.clip(ref, 0, 1)).mean()
            rows.append((name, w, h, unknown, p_alpha, p_fg, "%s (%s)" % (solver, ran), o_alpha, o_fg, wall,
                         iterations, mad))

    print("u2cut on: %s; pymatting on the CPU (%d cores)\n" % (device, os.cpu_count()))
    print("| case | size | unknown px | pymatting alpha | pymatting fg | u2cut --solver | u2cut alpha | u2cut fg "
          "| u2cut process | iterations | alpha / pymatting | mean abs diff |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, w, h, unknown, p_alpha, p_fg, solver, o_alpha, o_fg, wall, iterations, mad in rows:
        print("| %s | %dx%d | %d | %.2f s | %.2f s | %s | %.2f s | %.2f s | %.2f s | %d | %.2fx | %.1e |"
              % (name, w, h, unknown, p_alpha, p_fg, solver, o_alpha, o_fg, wall, iterations, o_alpha / p_alpha,
                 mad))


if __name__ == "__main__":
    main()
