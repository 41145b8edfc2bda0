"""Network.infer against ONNX Runtime's goldens (tests/data, made by
tools/golden.py), within the Rust tests' bounds (tests/it/model.rs)."""

from __future__ import annotations

import numpy as np
import pytest
from safetensors.numpy import load_file

import u2cut
from conftest import DATA

MAX_ABS, MEAN_ABS = 5e-4, 2e-5


@pytest.fixture(scope="module")
def network() -> u2cut.Network:
    return u2cut.Network("u2netp")


def test_side_outputs_match_onnx_runtime(network):
    golden = load_file(DATA / "golden_u2netp_181x237.safetensors")
    outputs = network.infer(golden["input"])
    assert len(outputs) == 7
    for d, got in enumerate(outputs):
        want = golden[f"d{d}"]
        assert got.shape == want.shape == (1, 1, 181, 237) and got.dtype == np.float32
        err = np.abs(got - want)
        assert err.max() <= MAX_ABS and err.mean() <= MEAN_ABS, \
            f"d{d}: max abs {err.max():.2e}, mean abs {err.mean():.2e}"


def test_float64_and_strided_inputs_are_taken(network):
    x = np.random.default_rng(1).standard_normal((2, 3, 24, 40))
    a = network.infer(x)[0]
    b = network.infer(np.asfortranarray(x.astype(np.float32)))[0]
    assert a.shape == (2, 1, 24, 40)
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("bad, words", [
    (np.zeros((3, 24, 24), np.float32), "(N, 3, H, W)"),
    (np.zeros((1, 4, 24, 24), np.float32), "(N, 3, H, W)"),
    (np.zeros((1, 3, 24, 24), np.uint8), "floating-point"),
    (np.zeros((0, 3, 24, 24), np.float32), "empty input"),
    ([0.0], "numpy array"),
])
def test_bad_tensors_are_refused(network, bad, words):
    with pytest.raises(u2cut.InputError) as e:
        network.infer(bad)
    assert words in str(e.value)
