"""Images between Python's forms and the raw RGBA the native module takes:
numpy uint8 arrays (HxW, HxWx1, HxWx3, HxWx4) and PIL images in, numpy
arrays out (or PIL images, for PIL in)."""

from __future__ import annotations

import numpy as np

from .errors import InputError

SHAPES = "HxW, HxWx1, HxWx3 or HxWx4"


def is_pil(image) -> bool:
    return type(image).__module__.startswith("PIL.")


def to_rgba(image, what: str = "image") -> tuple[int, int, bytes]:
    """(width, height, RGBA bytes) of a numpy array or PIL image."""
    if is_pil(image):
        image = np.asarray(image.convert("RGBA"))
    if not isinstance(image, np.ndarray):
        raise InputError(f"{what}: expected a numpy array or a PIL image, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise InputError(f"{what}: expected dtype uint8, got {image.dtype} "
                         "(scale floats in [0, 1] by 255 and cast with .astype(np.uint8))")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 2:
        image = np.stack([image, image, image], axis=2)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise InputError(f"{what}: expected shape {SHAPES}, got {'x'.join(map(str, image.shape))}")
    height, width = image.shape[:2]
    if height == 0 or width == 0:
        raise InputError(f"{what}: the image is empty ({height}x{width})")
    if image.shape[2] == 3:
        alpha = np.full((height, width, 1), 255, np.uint8)
        image = np.concatenate([image, alpha], axis=2)
    return width, height, np.ascontiguousarray(image).tobytes()


def from_pixels(width: int, height: int, data: bytearray, mask: bool) -> np.ndarray:
    """A native result as a writable numpy array: HxW (mask) or HxWx4."""
    shape = (height, width) if mask else (height, width, 4)
    return np.frombuffer(data, np.uint8).reshape(shape)
