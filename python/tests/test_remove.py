"""u2cut.remove and Remover against what `u2cut remove` writes."""

from __future__ import annotations

import threading
import time

import numpy as np
from PIL import Image

import u2cut
from conftest import PHOTOS, pixels


def test_remove_bytes_writes_what_the_cli_writes(photos, cli_cutouts):
    for src in PHOTOS:
        name = f"remove_{src.name}"
        png = u2cut.remove((photos / name).read_bytes())
        want = (cli_cutouts / name).with_suffix(".png").read_bytes()
        assert png == want, f"{name}: u2cut.remove's PNG differs from the CLI's"


def test_remover_on_arrays_and_pil_images_equals_the_cli(photos, cli_cutouts, remover):
    # PNGs, decoded by Pillow the way u2cut decodes them (no EXIF, 8 bits).
    names = ["remove_photo.png", "remove_logo.png", "remove_palette.png", "remove_tiny.png"]
    arrays = [np.asarray(Image.open(photos / n).convert("RGBA")) for n in names]
    got = remover.remove(arrays)
    assert isinstance(got, list) and len(got) == len(names)
    for name, out in zip(names, got):
        assert out.dtype == np.uint8 and out.flags.writeable
        np.testing.assert_array_equal(out, pixels(cli_cutouts / name), err_msg=name)
    # PIL in, PIL out; one image in, one out.
    img = Image.open(photos / "remove_photo.png")
    cut = remover.remove(img)
    assert isinstance(cut, Image.Image) and cut.mode == "RGBA" and cut.size == img.size
    np.testing.assert_array_equal(np.asarray(cut), pixels(cli_cutouts / "remove_photo.png"))


def test_masks_are_the_cutouts_alpha_and_options_apply(photos, cli_cutouts, remover):
    data = (photos / "remove_photo.png").read_bytes()
    cli = pixels(cli_cutouts / "remove_photo.png")
    mask = pixels(u2cut.remove(data, only_mask=True))
    assert mask.ndim == 2
    # photo.png is opaque: the cutout's alpha is the mask.
    np.testing.assert_array_equal(mask, cli[:, :, 3])
    np.testing.assert_array_equal(remover.masks(pixels(photos / "remove_photo.png")), mask)
    white = pixels(u2cut.remove(data, bgcolor=(255, 255, 255, 255)))
    assert (white[:, :, 3] == 255).all()
    background = cli[:, :, 3] == 0
    assert background.any() and (white[background][:, :3] == 255).all()
    cropped = u2cut.Remover(crop=4).remove(pixels(photos / "remove_photo.png"))
    assert cropped.shape[0] < cli.shape[0] or cropped.shape[1] < cli.shape[1]


def test_remove_files_reports_each_input_and_a_bad_one_does_not_stop_the_rest(
        photos, cli_cutouts, remover, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes((photos / "remove_photo.png").read_bytes()[:300])
    good = [photos / "remove_logo.png", photos / "jpeg_s420.jpg"]
    inputs = [good[0], broken, tmp_path / "missing.png", good[1]]
    results = remover.remove_files(inputs, tmp_path / "out")
    by_input = {r.input: r for r in results}
    assert len(results) == 4
    for src in good:
        r = by_input[str(src)]
        assert r.ok and r.warning is None, r
        assert r.size == Image.open(src).size
        np.testing.assert_array_equal(pixels(r.output), pixels((cli_cutouts / src.name).with_suffix(".png")))
    bad = by_input[str(broken)]
    assert not bad.ok and isinstance(bad.error, u2cut.InputError) and bad.output is None
    assert not (tmp_path / "out" / "broken.png").exists()
    missing = by_input[str(tmp_path / "missing.png")]
    assert isinstance(missing.error, u2cut.InputError)
    assert "no such file" in str(missing.error)


def test_a_bad_array_in_a_list_is_named(remover):
    good = np.zeros((8, 8, 3), np.uint8)
    try:
        remover.remove([good, np.zeros((8, 8), np.float32)])
    except u2cut.InputError as e:
        assert "image 1" in str(e) and "float32" in str(e)
    else:
        raise AssertionError("a float32 array was accepted")


def test_python_threads_run_while_the_gpu_works(photos, remover):
    img = pixels(photos / "remove_photo.png")
    done = threading.Event()
    worker = threading.Thread(target=lambda: (remover.remove([img] * 2), done.set()))
    ticks = 0
    start = time.perf_counter()
    worker.start()
    while not done.is_set():
        ticks += 1
    worker.join()
    elapsed = time.perf_counter() - start
    # Held GIL: the loop would barely run while the call lasts (about a
    # second or more on a software GPU). Released: millions of ticks.
    assert elapsed > 0.2 and ticks > 100_000, f"{ticks} ticks in {elapsed:.2f} s"


def test_remove_takes_rembgs_arguments_in_rembgs_order(photos, cli_cutouts):
    img = pixels(photos / "remove_photo.png")
    # rembg.remove(data, alpha_matting, fg, bg, erode, session, only_mask, ...)
    mask = u2cut.remove(img, False, 240, 10, 10, None, True)
    np.testing.assert_array_equal(mask, pixels(cli_cutouts / "remove_photo.png")[:, :, 3])
    png = u2cut.remove(img, force_return_bytes=True, some_rembg_option=1)
    np.testing.assert_array_equal(pixels(png), pixels(cli_cutouts / "remove_photo.png"))
