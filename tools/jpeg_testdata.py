"""Make the JPEG decoding test data (tests/data/jpeg/).

    python tools/jpeg_testdata.py --data tests/data/matting --out-dir tests/data/jpeg

From pymatting's lemur photo (CC0): one small JPEG per way a JPEG can be
coded (4:2:0, 4:2:2 and 4:4:4 subsampling, progressive, optimized
Huffman tables, restart markers, odd sizes, gray, Adobe CMYK, an EXIF
orientation), each beside the pixels Pillow decodes from it
(`Image.open(...).convert("RGB")`, EXIF orientation applied, as
`pillow/<name>.png`): the pixels rembg works on. Also the damaged files
the decoder must refuse: truncated at a third and at 90%, and with bytes
of entropy data flipped. Deterministic: rerunning gives the same files.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

from PIL import Image, ImageOps

REPO = Path(__file__).resolve().parents[1]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=str(REPO / "tests" / "data" / "matting"))
    ap.add_argument("--out-dir", default=str(REPO / "tests" / "data" / "jpeg"))
    a = ap.parse_args(argv)
    out = Path(a.out_dir)
    (out / "pillow").mkdir(parents=True, exist_ok=True)
    (out / "damaged").mkdir(parents=True, exist_ok=True)

    lemur = Image.open(Path(a.data) / "lemur" / "lemur.png").convert("RGB")
    crop = lemur.crop((180, 60, 340, 180))  # 160x120: the lemur's head
    odd = lemur.crop((200, 80, 297, 151))  # 97x71: partial MCUs both ways
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 clockwise to view
    cases = {
        "s420": (crop, dict(quality=85)),
        "s422": (crop, dict(quality=90, subsampling=1)),
        "s444": (crop, dict(quality=95, subsampling=0)),
        "progressive": (crop, dict(quality=80, progressive=True)),
        "optimized": (crop, dict(quality=70, optimize=True)),
        "restart": (crop, dict(quality=85, restart_marker_blocks=2)),
        "odd_size": (odd, dict(quality=75)),
        "odd_progressive": (odd, dict(quality=75, progressive=True, subsampling=2)),
        "gray": (crop.convert("L"), dict(quality=85)),
        "cmyk": (crop.convert("CMYK"), dict(quality=90)),
        "exif_rotated": (odd, dict(quality=85, exif=exif.tobytes())),
    }
    for name, (img, opts) in cases.items():
        path = out / f"{name}.jpg"
        img.save(path, **opts)
        decoded = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
        decoded.save(out / "pillow" / f"{name}.png")

    whole = (out / "progressive.jpg").read_bytes()
    base = (out / "s420.jpg").read_bytes()
    (out / "damaged" / "third.jpg").write_bytes(base[: len(base) // 3])
    (out / "damaged" / "ninety.jpg").write_bytes(base[: len(base) * 9 // 10])
    (out / "damaged" / "progressive_half.jpg").write_bytes(whole[: len(whole) // 2])
    flipped = bytearray(base)
    r = random.Random(3)
    for _ in range(30):
        flipped[len(base) // 2 + r.randrange(len(base) // 3)] ^= 0x55
    (out / "damaged" / "flipped.jpg").write_bytes(bytes(flipped))
    for p in sorted(out.glob("damaged/*.jpg")):
        try:
            Image.open(p).load()
            print(f"{p.name}: Pillow decodes it")
        except OSError as e:
            print(f"{p.name}: Pillow refuses it: {e}")


if __name__ == "__main__":
    main()
