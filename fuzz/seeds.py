"""Write the fuzz targets' seed corpora (fuzz/corpus/<target>/seed-*).

    .venv-tools/bin/python fuzz/seeds.py

Small valid inputs of every kind each target parses, for libFuzzer to
mutate: images in each format the decoders read (JPEGs from
tests/data/jpeg, with an EXIF orientation in PNG and WebP too), .npy
tensors in each dtype and order, a tiny U²-Net in safetensors (the real
topology with widths 1-2), and a tuning cache. Deterministic.
"""

from __future__ import annotations

import io
import json
import shutil
import struct
from pathlib import Path

import numpy as np
from PIL import Image

FUZZ = Path(__file__).resolve().parent
# Stage -> block, as tools/u2net_numpy.py's CONFIGS has them.
CONFIG = {
    "stage1": ("RSU7",), "stage2": ("RSU6",), "stage3": ("RSU5",), "stage4": ("RSU4",),
    "stage5": ("RSU4F",), "stage6": ("RSU4F",), "stage5d": ("RSU4F",), "stage4d": ("RSU4",),
    "stage3d": ("RSU5",), "stage2d": ("RSU6",), "stage1d": ("RSU7",),
}
REPO = FUZZ.parent


def images(out: Path):
    lemur = Image.open(REPO / "tests/data/matting/lemur/lemur.png").convert("RGB")
    small = lemur.crop((200, 80, 224, 96))  # 24x16
    exif = Image.Exif()
    exif[0x0112] = 8
    for name, img, fmt, opts in [
        ("png", small, "PNG", {}),
        ("png_exif", small, "PNG", {"exif": exif.tobytes()}),
        ("png_rgba16", small.convert("RGBA"), "PNG", {}),
        ("png_palette", small.quantize(16), "PNG", {}),
        ("webp_lossy", small, "WEBP", {"quality": 60}),
        ("webp_lossless", small.convert("RGBA"), "WEBP", {"lossless": True, "exif": exif.tobytes()}),
        ("gif", small.quantize(16), "GIF", {}),
        ("bmp", small, "BMP", {}),
        ("tiff", small, "TIFF", {}),
        ("tga", small, "TGA", {}),
        ("ppm", small, "PPM", {}),
        ("ico", small, "ICO", {}),
        ("qoi", small, "QOI", {}),
        ("jpeg_exif", small, "JPEG", {"exif": exif.tobytes()}),
    ]:
        buf = io.BytesIO()
        img.save(buf, fmt, **opts)
        (out / f"seed-{name}").write_bytes(buf.getvalue())
    for jpeg in ["s420", "progressive", "restart", "gray", "cmyk", "odd_size"]:
        shutil.copy(REPO / f"tests/data/jpeg/{jpeg}.jpg", out / f"seed-jpeg_{jpeg}")


def npys(out: Path):
    x = np.arange(1 * 3 * 4 * 5, dtype=np.float32).reshape(1, 3, 4, 5) / 7
    for name, arr in [
        ("f4", x),
        ("f4_be", x.astype(">f4")),
        ("f8", x.astype(np.float64)),
        ("fortran", np.asfortranarray(x)),
        ("rank3", x[0]),
        ("batch2", np.concatenate([x, x])),
    ]:
        buf = io.BytesIO()
        np.save(buf, arr)
        (out / f"seed-{name}").write_bytes(buf.getvalue())


def weights(out: Path):
    # The smallest U²-Net of the real topology: every conv that
    # tools/u2net_numpy.py names, with 1-2 channels.
    import sys

    sys.path.insert(0, str(REPO / "tools"))
    from stio import save_file
    from u2net_numpy import model_convs

    cfg = {stage: (block, 3 if stage == "stage1" else 1, 1, 1) for stage, (block, *_) in CONFIG.items()}
    for stage in ["stage5d", "stage4d", "stage3d", "stage2d", "stage1d"]:
        cfg[stage] = (cfg[stage][0], 2, 1, 1)
    rng = np.random.default_rng(0)
    tensors = {}
    for prefix, cout, cin, k, _ in model_convs(cfg):
        tensors[f"{prefix}.weight"] = rng.standard_normal((cout, cin, k, k)).astype(np.float32)
        tensors[f"{prefix}.bias"] = rng.standard_normal(cout).astype(np.float32)
    save_file(tensors, out / "seed-tiny.safetensors", {"format": "pt"})


def tune_cache(out: Path):
    cache = {
        "fuzz": {
            "convs": {"16>16 k3 d1 40x40 b1 f32": "subgroup", "3>16 k3 d1 320x320 b1 f32": "direct"},
            "upsample_fusion": {"320x320 b1 f32": "all"},
        }
    }
    (out / "seed-tune.json").write_text(json.dumps(cache, indent=1))


def main():
    for target, make in [("image", images), ("npy", npys), ("weights", weights), ("tune_cache", tune_cache)]:
        out = FUZZ / "corpus" / target
        out.mkdir(parents=True, exist_ok=True)
        make(out)


if __name__ == "__main__":
    main()
