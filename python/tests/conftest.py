"""Shared fixtures: the repository's test images gathered into one folder,
and the u2cut command line's outputs for them, which the package's results
are held to. The CLI is target/release/u2cut (build it first), or
$U2CUT_BIN."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import u2cut

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data"
# The photos of tests/data/remove and the JPEG cases of tests/data/jpeg
# (their README.md files say where each comes from).
PHOTOS = sorted(p for p in (DATA / "remove").iterdir() if p.is_file() and p.suffix in (".png", ".jpg"))
JPEGS = sorted((DATA / "jpeg").glob("*.jpg"))


def cli_path() -> Path:
    path = Path(os.environ.get("U2CUT_BIN", REPO / "target" / "release" / "u2cut"))
    if not path.is_file():
        pytest.fail(f"{path} is missing: run `cargo build --release` first, or set U2CUT_BIN")
    return path


def run_cli(*args: str | os.PathLike) -> subprocess.CompletedProcess:
    out = subprocess.run([cli_path(), *map(str, args)], capture_output=True, text=True)
    assert out.returncode == 0, f"u2cut {' '.join(map(str, args))}: {out.stderr}"
    return out


def pixels(path_or_bytes) -> np.ndarray:
    """An image file's (or PNG bytes') pixels as an array."""
    if isinstance(path_or_bytes, (bytes, bytearray)):
        import io
        path_or_bytes = io.BytesIO(path_or_bytes)
    with Image.open(path_or_bytes) as img:
        return np.asarray(img)


@pytest.fixture(scope="session")
def photos(tmp_path_factory) -> Path:
    """One folder with every test image (19), named by where it came from."""
    folder = tmp_path_factory.mktemp("photos")
    for src in PHOTOS:
        shutil.copy(src, folder / f"remove_{src.name}")
    for src in JPEGS:
        shutil.copy(src, folder / f"jpeg_{src.name}")
    return folder


@pytest.fixture(scope="session")
def cli_cutouts(photos, tmp_path_factory) -> Path:
    """`u2cut remove PHOTOS -o OUT`: one PNG cutout per photo."""
    out = tmp_path_factory.mktemp("cli_cutouts")
    run_cli("-q", "remove", photos, "-o", out)
    return out


@pytest.fixture(scope="session")
def remover() -> u2cut.Remover:
    return u2cut.Remover(batch_size=8)
