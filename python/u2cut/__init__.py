"""u2cut: U²-Net background removal on the GPU (hand-written WGSL kernels on
wgpu), from Python.

    import u2cut
    png = u2cut.remove(open("photo.jpg", "rb").read())     # as rembg.remove

    remover = u2cut.Remover(batch_size=8)                     # one GPU session
    cutouts = remover.remove([array1, array2])                # RGBA uint8 arrays
    masks = remover.masks(array1)                             # HxW uint8
    results = remover.remove_files(["in/"], "out/")           # the batch pipeline

    d0, *sides = u2cut.Network("u2netp").infer(x)             # float32 NCHW, any size

Without a GPU adapter everything runs on u2cut's CPU references (slowly),
with a warning; ``U2CUT_REQUIRE_GPU=1`` makes that an error. The GIL is
released while the GPU works.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from . import _native
from ._images import from_pixels, is_pil, to_rgba
from .errors import (Error, FileError, GpuError, InputError, LimitError, NoAdapterError,
                     NoMatchError, NoWeightsError, TrimapError, UnsupportedError)

__version__ = _native.__version__

__all__ = [
    "remove", "Remover", "Network", "bench", "FileResult",
    "Error", "InputError", "LimitError", "NoMatchError", "NoWeightsError", "TrimapError",
    "UnsupportedError", "GpuError", "NoAdapterError", "FileError",
]


def _color(bgcolor) -> tuple[int, int, int, int] | None:
    """rembg's bgcolor: (R, G, B, A) in 0..255, or None."""
    if bgcolor is None:
        return None
    try:
        rgba = tuple(int(c) for c in bgcolor)
    except (TypeError, ValueError):
        raise InputError(f"bgcolor={bgcolor!r}: expected (R, G, B, A) in 0..255") from None
    if len(rgba) == 3:
        rgba += (255,)
    if len(rgba) != 4 or not all(0 <= c <= 255 for c in rgba):
        raise InputError(f"bgcolor={bgcolor!r}: expected (R, G, B, A) in 0..255")
    return rgba


@dataclass(frozen=True)
class FileResult:
    """One input of :meth:`Remover.remove_files`: ``ok`` with the output
    written, or the ``error`` (a :class:`u2cut.Error`) it failed with."""
    input: str
    output: str | None
    error: Error | None
    warning: str | None
    size: tuple[int, int] | None

    @property
    def ok(self) -> bool:
        return self.error is None


class Remover:
    """A background remover on one device: the model loaded and its GPU
    pipelines compiled once, then any number of images in batches.

    Options take rembg's names: ``only_mask`` (masks instead of cutouts),
    ``alpha_matting`` with ``alpha_matting_foreground_threshold`` (240),
    ``alpha_matting_background_threshold`` (10) and
    ``alpha_matting_erode_size`` (10), ``post_process_mask``, ``bgcolor``
    (R, G, B, A) to compose over; and ``crop`` (pixels of margin around
    the subject). ``model`` is "u2netp" (built in), "u2net" (see
    tools/fetch_model.sh) or a .safetensors path; ``adapter`` an index or a
    name substring (``u2cut info --adapters``); ``cpu=True`` runs the CPU
    references.
    """

    def __init__(self, model: str = "u2netp", batch_size: int = 8, adapter: str | int | None = None,
                 precision: str = "f32", *, cpu: bool = False, only_mask: bool = False,
                 alpha_matting: bool = False, alpha_matting_foreground_threshold: int = 240,
                 alpha_matting_background_threshold: int = 10, alpha_matting_erode_size: int = 10,
                 post_process_mask: bool = False, bgcolor=None, crop: int | None = None):
        matting = None
        if alpha_matting:
            matting = (alpha_matting_foreground_threshold, alpha_matting_background_threshold,
                       alpha_matting_erode_size)
        try:
            self._native = _native.Remover(
                str(model), batch_size, None if adapter is None else str(adapter), precision, cpu,
                post_process_mask, _color(bgcolor), crop, matting)
        except OverflowError as e:
            raise InputError(f"an option is out of range: {e}") from None
        self.only_mask = only_mask

    @property
    def device(self) -> str:
        """The adapter in use, or "cpu"."""
        return self._native.device

    def remove(self, images):
        """Cutouts (HxWx4 uint8: the image's colours, alpha = the mask, or
        composed over ``bgcolor``), or masks with ``only_mask``. One image
        (numpy array or PIL image) gives one result, a list a list; PIL in
        gives PIL out."""
        return self._run(images, self.only_mask)

    def masks(self, images):
        """The 8-bit masks (HxW uint8), rembg's for the same model."""
        return self._run(images, True)

    def remove_bytes(self, data: bytes | Sequence[bytes]):
        """Encoded images (PNG, JPEG, WebP, ...; EXIF orientation applied)
        to PNG bytes, as ``u2cut remove`` writes them."""
        one = isinstance(data, (bytes, bytearray, memoryview))
        items = [bytes(data)] if one else [bytes(d) for d in data]
        out = self._native.process_encoded(items, self.only_mask)
        return out[0] if one else out

    def remove_files(self, inputs: str | os.PathLike | Iterable[str | os.PathLike],
                     out_dir: str | os.PathLike, format: str = "png",
                     threads: int | None = None) -> list[FileResult]:
        """Files and folders (searched recursively) through the batch
        pipeline, decoding and encoding on ``threads`` threads around the
        GPU; outputs in ``out_dir`` named as ``u2cut remove -o OUT_DIR``
        names them. Returns one result per input, in input order (inputs
        refused before reading first); a bad file is a result with its
        error, not an exception."""
        if isinstance(inputs, (str, os.PathLike)):
            inputs = [inputs]
        rows = self._native.remove_files([os.fspath(p) for p in inputs], os.fspath(out_dir),
                                         format, self.only_mask, threads)
        rows.sort(key=lambda r: -1 if r[0] is None else r[0])
        return [FileResult(name, None if out is None else os.fspath(out), err, warn, size)
                for _, name, out, err, warn, size in rows]

    def _run(self, images, mask: bool):
        one = not isinstance(images, (list, tuple))
        items = [images] if one else list(images)
        raw = [to_rgba(img, "image" if one else f"image {i}") for i, img in enumerate(items)]
        results = [from_pixels(w, h, data, mask) for w, h, data in self._native.process(raw, mask)]
        results = [_like(src, out) for src, out in zip(items, results)]
        return results[0] if one else results


def _like(source, result: np.ndarray):
    """A PIL image for a PIL input, else the array."""
    if is_pil(source):
        from PIL import Image
        return Image.fromarray(result, "L" if result.ndim == 2 else "RGBA")
    return result


_SESSIONS: dict[tuple, Remover] = {}


def remove(data, alpha_matting: bool = False, alpha_matting_foreground_threshold: int = 240,
           alpha_matting_background_threshold: int = 10, alpha_matting_erode_size: int = 10,
           session: Remover | None = None, only_mask: bool = False,
           post_process_mask: bool = False, bgcolor=None, force_return_bytes: bool = False,
           *args, model: str = "u2netp", **kwargs):
    """A drop-in for ``rembg.remove``, with its parameters in its order:
    encoded image bytes in, PNG bytes out; a numpy array or PIL image in,
    the same out (PNG bytes with ``force_return_bytes``). The remover for
    each set of options is made once per process (pass ``session=`` to
    choose your own, ``model=`` for another model). rembg's other
    arguments are accepted and ignored."""
    if session is None:
        key = (model, only_mask, alpha_matting, alpha_matting_foreground_threshold,
               alpha_matting_background_threshold, alpha_matting_erode_size, post_process_mask,
               _color(bgcolor))
        session = _SESSIONS.get(key)
        if session is None:
            session = _SESSIONS[key] = Remover(
                model, batch_size=1, only_mask=only_mask, alpha_matting=alpha_matting,
                alpha_matting_foreground_threshold=alpha_matting_foreground_threshold,
                alpha_matting_background_threshold=alpha_matting_background_threshold,
                alpha_matting_erode_size=alpha_matting_erode_size,
                post_process_mask=post_process_mask, bgcolor=bgcolor)
    if isinstance(data, (bytes, bytearray, memoryview)):
        return session.remove_bytes(data)
    out = session.remove(data)
    if force_return_bytes:
        import io

        from PIL import Image
        buf = io.BytesIO()
        (out if is_pil(out) else Image.fromarray(out)).save(buf, "PNG")
        return buf.getvalue()
    return out


class Network:
    """The bare network, for research: ``infer(x)`` takes float32 NCHW
    (N, 3, H, W) at any size, normalized as the model expects, and returns
    the seven side outputs d0..d6, each (N, 1, H, W) float32 in [0, 1],
    as ONNX Runtime returns them."""

    def __init__(self, model: str = "u2netp", adapter: str | int | None = None,
                 precision: str = "f32", *, cpu: bool = False):
        self._native = _native.Network(str(model), None if adapter is None else str(adapter),
                                       precision, cpu)

    @property
    def device(self) -> str:
        return self._native.device

    def infer(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        if not isinstance(x, np.ndarray):
            raise InputError(f"expected a numpy array, got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != 3:
            raise InputError(f"expected shape (N, 3, H, W), got {tuple(x.shape)}")
        if x.dtype not in (np.float32, np.float64, np.float16):
            raise InputError(f"expected floating-point values (float32), got {x.dtype}")
        n, _, h, w = x.shape
        data = np.ascontiguousarray(x, dtype=np.float32).tobytes()
        maps = self._native.infer(data, n, h, w)
        return tuple(np.frombuffer(m, np.float32).reshape(n, 1, h, w) for m in maps)


def bench(model: str = "u2netp", size: int = 320, batch: int = 1, iters: int = 10,
          precision: str = "f32", adapter: str | int | None = None, tune: bool = False) -> dict:
    """``u2cut bench --json`` as a dict: images/s, latency, memory and each
    kernel's time on the GPU (tuned first with ``tune=True``)."""
    return json.loads(_native.bench(str(model), size, batch, iters, precision,
                                    None if adapter is None else str(adapter), tune))
