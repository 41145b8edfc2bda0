"""Every image form Remover takes, and a clear error for the rest."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import u2cut
from conftest import pixels


@pytest.fixture(scope="module")
def rgb(photos) -> np.ndarray:
    # A small crop keeps the resizes cheap; the network runs at 320 anyway.
    return np.ascontiguousarray(pixels(photos / "remove_photo.png")[40:140, 100:220])


def test_every_accepted_form_gives_the_mask_of_the_same_pixels(rgb, remover):
    gray = rgb[:, :, 1]
    rgba = np.concatenate([rgb, np.full(rgb.shape[:2] + (1,), 255, np.uint8)], axis=2)
    forms = {
        "HxWx3": rgb,
        "HxWx4": rgba,
        "HxWx3 strided": np.asfortranarray(rgb),
        "HxWx3 view": np.pad(rgb, ((0, 0), (0, 0), (0, 1)))[:, :, :3],
        "PIL RGB": Image.fromarray(rgb),
        "PIL RGBA": Image.fromarray(rgba),
        "HxW": gray,
        "HxWx1": gray[:, :, None],
        "PIL L": Image.fromarray(gray),
        "gray as HxWx3": np.stack([gray] * 3, axis=2),
    }
    masks = dict(zip(forms, remover.masks(list(forms.values()))))
    for name, mask in masks.items():
        got = np.asarray(mask)
        assert got.shape == rgb.shape[:2] and got.dtype == np.uint8, name
    color = ["HxWx3", "HxWx4", "HxWx3 strided", "HxWx3 view", "PIL RGB", "PIL RGBA"]
    for name in color[1:]:
        np.testing.assert_array_equal(np.asarray(masks[name]), masks["HxWx3"], err_msg=name)
    for name in ["HxWx1", "PIL L", "gray as HxWx3"]:
        np.testing.assert_array_equal(np.asarray(masks[name]), masks["HxW"], err_msg=name)
    assert isinstance(masks["PIL L"], Image.Image) and masks["PIL L"].mode == "L"
    # The input's alpha carries into the cutout's.
    half = rgba.copy()
    half[:, :, 3] = 0
    assert (remover.remove(half)[:, :, 3] == 0).all()


@pytest.mark.parametrize("bad, words", [
    (np.zeros((10, 10, 3), np.float32), "dtype uint8, got float32"),
    (np.zeros((10, 10, 3), np.uint16), "dtype uint8, got uint16"),
    (np.zeros((10, 10, 3), bool), "dtype uint8, got bool"),
    (np.zeros((10, 10, 2), np.uint8), "got 10x10x2"),
    (np.zeros((10, 10, 5), np.uint8), "got 10x10x5"),
    (np.zeros(10, np.uint8), "got 10"),
    (np.zeros((2, 10, 10, 3), np.uint8), "got 2x10x10x3"),
    (np.zeros((0, 10, 3), np.uint8), "empty"),
    ([[1, 2], [3, 4]], "got list"),
    ("photo.png", "got str"),
    (None, "got NoneType"),
])
def test_other_inputs_are_refused_with_what_was_wrong(remover, bad, words):
    with pytest.raises(u2cut.InputError) as e:
        remover.remove(bad)
    assert words in str(e.value)
