"""Composites with a known alpha, made from pymatting's lemur (tests/data/matting).

I = alpha F + (1 - alpha) B, rounded to 8 bits, with alpha = the FBA
network's alpha (lemur_alpha_fba.png, which pymatting's own tests treat as the
good one), F = lemur_foreground.png and three backgrounds B: the lemur's own
background mirrored, a colour gradient and a fine texture. No public matting
benchmark ships with the repository; these are what tools/eval_matting.py and
tools/model_quality.py score against.
"""

import os

import numpy as np
from PIL import Image


def backgrounds(lemur_bg, h, w):
    mirrored = lemur_bg[:, ::-1]
    y, x = np.mgrid[0:h, 0:w] / np.array([h, w]).reshape(2, 1, 1)
    gradient = np.stack([0.9 * x, 0.3 + 0.5 * y, 0.8 - 0.6 * x * y], axis=-1)
    rng = np.random.default_rng(0)
    texture = np.clip(0.5 + 0.35 * np.sin(x[..., None] * 157 + np.array([0, 2, 4]))
                      * np.cos(y[..., None] * 211) + 0.1 * rng.standard_normal((h, w, 3)), 0, 1)
    return {"mirrored": mirrored, "gradient": gradient, "texture": texture}


def make_composites(data, work):
    """The true alpha (H x W in [0, 1]) and {name: path of the composite PNG written to work}."""
    lemur = os.path.join(data, "lemur")

    def load(name, mode):
        return np.asarray(Image.open(os.path.join(lemur, name)).convert(mode), dtype=np.float64) / 255.0

    truth = load("lemur_alpha_fba.png", "L")
    fg = load("lemur_foreground.png", "RGB")
    h, w = truth.shape
    composites = {}
    for name, bg in backgrounds(load("lemur_background.png", "RGB"), h, w).items():
        img = truth[..., None] * fg + (1 - truth[..., None]) * bg
        path = os.path.join(work, name + ".png")
        Image.fromarray(np.round(img * 255).astype(np.uint8)).save(path)
        composites[name] = path
    return truth, composites
