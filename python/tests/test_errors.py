"""One exception class per kind of u2cut error, raised where it happens,
with the command line's message."""

from __future__ import annotations

import io
import os
import struct
import subprocess
import sys
import zlib

import pytest
from PIL import Image

import u2cut
from u2cut import _native

KINDS = {
    "Input": (u2cut.InputError, ValueError),
    "Limit": (u2cut.LimitError, u2cut.InputError),
    "Unsupported": (u2cut.UnsupportedError, u2cut.Error),
    "NoAdapter": (u2cut.NoAdapterError, u2cut.GpuError),
    "NoMatch": (u2cut.NoMatchError, u2cut.InputError),
    "NoWeights": (u2cut.NoWeightsError, u2cut.InputError),
    "Trimap": (u2cut.TrimapError, u2cut.InputError),
    "Io": (u2cut.FileError, OSError),
    "Gpu": (u2cut.GpuError, RuntimeError),
}


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_its_class(kind):
    # Some kinds (a lost device) cannot be brought about on purpose: the
    # mapping itself, for every variant of u2cut::Error.
    cls, base = KINDS[kind]
    e = _native.exception_for(kind, "what went wrong")
    assert type(e) is cls and isinstance(e, base) and isinstance(e, u2cut.Error)
    assert str(e).startswith("what went wrong")


def huge_png() -> bytes:
    """A valid 1x1 PNG whose header says 20000x20000 (400 megapixels)."""
    buf = io.BytesIO()
    Image.new("RGB", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = 8 + 4  # signature, chunk length
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", 20000, 20000)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 4 + 13]))
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def test_input_and_limit_errors(remover):
    with pytest.raises(u2cut.InputError, match="not a readable image|unrecognized"):
        remover.remove_bytes(b"not an image at all")
    with pytest.raises(u2cut.LimitError, match="20000x20000 is 400.0 megapixels"):
        remover.remove_bytes(huge_png())
    with pytest.raises(u2cut.InputError, match="precision"):
        u2cut.Remover(precision="f64")
    with pytest.raises(u2cut.InputError, match="batch_size"):
        u2cut.Remover(batch_size=0)
    with pytest.raises(u2cut.InputError, match="bgcolor"):
        u2cut.Remover(bgcolor=(1, 2))


def test_no_match_and_no_weights(tmp_path, monkeypatch):
    with pytest.raises(u2cut.NoMatchError, match="no-such-adapter"):
        u2cut.Remover(adapter="no-such-adapter")
    monkeypatch.setenv("U2CUT_MODEL_DIR", str(tmp_path))
    with pytest.raises(u2cut.NoWeightsError, match="fetch_model.sh u2net"):
        u2cut.Network("u2net")


def test_file_errors_and_jpeg_without_a_background(photos, remover, tmp_path):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    with pytest.raises(u2cut.FileError) as e:
        remover.remove_files([photos / "remove_tiny.png"], not_a_folder)
    assert str(not_a_folder) in str(e.value)
    # JPEG has no alpha: a transparent cutout cannot be one.
    with pytest.raises(u2cut.InputError, match="JPEG has no alpha channel"):
        remover.remove_files([photos / "remove_tiny.png"], tmp_path / "out", format="jpg")
    [r] = u2cut.Remover(bgcolor=(0, 0, 0)).remove_files([photos / "remove_tiny.png"],
                                                        tmp_path / "out", format="jpg")
    assert r.ok and r.output.endswith("remove_tiny.jpg")


def run_python(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, **env})


def test_no_adapter_falls_back_to_the_cpu_unless_a_gpu_is_required_and_bench_refuses_it():
    hide = {"VK_ICD_FILENAMES": "/nonexistent/icd.json", "VK_DRIVER_FILES": "/nonexistent/icd.json"}
    code = "import u2cut; print(u2cut.Remover().device)"
    out = run_python(code, U2CUT_REQUIRE_GPU="0", **hide)
    assert out.returncode == 0 and out.stdout.strip() == "cpu", out.stderr
    assert "running on the CPU reference" in out.stderr
    out = run_python(code, U2CUT_REQUIRE_GPU="1", **hide)
    assert out.returncode != 0
    assert "u2cut.errors.NoAdapterError" in out.stderr and "U2CUT_REQUIRE_GPU=1" in out.stderr
    # bench times GPU kernels: on the CPU it is refused.
    out = run_python("import u2cut; u2cut.bench(size=32, iters=1)", U2CUT_REQUIRE_GPU="0", **hide)
    assert out.returncode != 0
    assert "u2cut.errors.UnsupportedError: bench needs a GPU adapter" in out.stderr
