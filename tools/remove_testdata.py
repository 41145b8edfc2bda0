"""Make the small test images of `u2cut remove` (tests/data/remove/).

    python tools/remove_testdata.py --data tests/data/matting --out-dir tests/data/remove

From the shared matting data (pymatting's lemur photo, CC0, and its 32x32
synthetic test image) plus a drawn logo: one image per decoding path the
remover must handle (RGB and palette PNG, 16-bit PNG, RGBA with
transparency, gray and EXIF-rotated JPEG), all at most 400x300 so the
parity test stays fast. Deterministic: rerunning gives the same files.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw

REPO = Path(__file__).resolve().parents[1]


def logo(w: int = 256, h: int = 192) -> Image.Image:
    """A flat-colored logo on transparency, antialiased by drawing at 4x."""
    s = 4
    im = Image.new("RGBA", (w * s, h * s), (0, 0, 0, 0))
    d = ImageDraw.Draw(im)
    d.ellipse((20 * s, 26 * s, 150 * s, 156 * s), fill=(230, 57, 70, 255))
    d.ellipse((52 * s, 58 * s, 118 * s, 124 * s), fill=(0, 0, 0, 0))
    d.rounded_rectangle((132 * s, 60 * s, 236 * s, 124 * s), radius=18 * s, fill=(29, 53, 87, 255))
    d.polygon([(150 * s, 140 * s), (220 * s, 140 * s), (185 * s, 180 * s)], fill=(69, 123, 157, 200))
    return im.resize((w, h), Image.LANCZOS)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(REPO.parent / "shared" / "data" / "matting"))
    ap.add_argument("--out-dir", default=str(REPO / "tests" / "data" / "remove"))
    args = ap.parse_args(argv)
    data, out = Path(args.data), Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)

    lemur = Image.open(data / "lemur" / "lemur.png").convert("RGB")  # 680x440
    crop = lemur.crop((150, 60, 550, 360))  # 400x300, the lemur's face and body
    crop.save(out / "photo.png")

    small = lemur.resize((300, 194), Image.LANCZOS)
    # Stored turned 90 degrees counter-clockwise; EXIF orientation 6 says to
    # turn it back clockwise, so the upright image is `small`.
    exif = Image.Exif()
    exif[0x0112] = 6
    small.transpose(Image.Transpose.ROTATE_90).save(out / "rotated.jpg", quality=92, exif=exif)

    lemur.resize((240, 155), Image.LANCZOS).convert("L").save(out / "gray.jpg", quality=92)

    pal = crop.resize((200, 150), Image.LANCZOS).quantize(colors=64, method=Image.Quantize.MEDIANCUT)
    pal.save(out / "palette.png")

    # 16-bit RGB: v * 257, so Pillow (high byte) and 16 -> 8 bit rounding agree.
    rgb16 = np.asarray(lemur.resize((256, 166), Image.LANCZOS), dtype=np.uint16) * 257
    cv2.imwrite(str(out / "rgb16.png"), rgb16[:, :, ::-1])

    logo().save(out / "logo.png")

    shutil.copyfile(data / "test" / "test.png", out / "tiny.png")  # 32x32 RGBA

    # The lemur cut out with its FBA alpha, over a colored gradient.
    fg = np.asarray(Image.open(data / "lemur" / "lemur_foreground.png").convert("RGB"), np.float64)
    alpha = np.asarray(Image.open(data / "lemur" / "lemur_alpha_fba.png").convert("L"), np.float64)[..., None] / 255
    yy, xx = np.mgrid[0:440, 0:680]
    bg = np.stack([60 + 120 * xx / 680, 150 + 60 * yy / 440, 200 - 100 * xx / 680], -1)
    comp = Image.fromarray(np.round(fg * alpha + bg * (1 - alpha)).astype(np.uint8))
    comp.resize((340, 220), Image.LANCZOS).save(out / "composite.png")


if __name__ == "__main__":
    main()
