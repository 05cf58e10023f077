"""The decoder rearranged for shader nodes computes what the model computes (no Blender needed)."""

from __future__ import annotations

import numpy as np
import pytest

from core.neural import nodeplan
from core.neural.model import decode, dequantize_codes, quantize_codes

from .conftest import random_model

LIGHTS = [np.array([0.3, -0.5, 0.81]), np.array([-0.9, 0.1, 0.42])]


@pytest.mark.parametrize("width", [20, 10, 50, 7])
def test_plan_decodes_float_codes_like_the_model(width: int) -> None:
    model = random_model(width)
    codes = model.codes.reshape(-1, 9)
    for light in LIGHTS:
        expected = decode(codes, model.layers, light)
        got = nodeplan.evaluate(nodeplan.plan(model.layers), codes, light)
        np.testing.assert_allclose(got, expected, atol=2e-5)


def test_plan_folds_the_planes_dequantisation() -> None:
    model = random_model(20)
    texels, lo, hi = quantize_codes(model.codes)
    expected = decode(dequantize_codes(texels, lo, hi).reshape(-1, 9), model.layers, LIGHTS[0])
    # the nodes read an 8-bit Non-Color texture as texel / 255
    dense = nodeplan.plan(model.layers, scale=hi - lo, offset=lo)
    got = nodeplan.evaluate(dense, texels.reshape(-1, 9) / 255.0, LIGHTS[0])
    np.testing.assert_allclose(got, expected, atol=2e-5)


def test_triples_pad_the_last_group_with_zeros() -> None:
    dense = nodeplan.plan(random_model(7).layers)[0]
    triples = dense.triples
    assert len(triples) == 3 and all(w.shape == (11, 3) and b.shape == (3,) for w, b in triples)
    np.testing.assert_array_equal(np.concatenate([w for w, _ in triples], axis=1)[:, :7], dense.weights)
    assert not triples[-1][0][:, 1:].any() and not triples[-1][1][1:].any()


@pytest.mark.parametrize("seed", range(20))
def test_mapping_rebuilds_any_matrix(seed: int) -> None:
    """Rotation · scale · rotation reproduces random, singular and reflecting matrices."""
    rng = np.random.default_rng(seed)
    matrix = rng.normal(0, 1, (3, 3))
    if seed % 4 == 1:
        matrix[2] = 0.0  # a padded unit: a zero row
    if seed % 4 == 2:
        matrix[:, 1] = 0.0  # an unused input
    if seed % 4 == 3:
        matrix = np.diag([1.0, -1.0, 1.0])  # a reflection
    np.testing.assert_allclose(nodeplan.mapping(matrix).matrix, matrix, atol=1e-12)


def test_euler_angles_invert_euler_matrix_also_at_gimbal_lock() -> None:
    for angles in ([0.3, -1.1, 2.0], [0.4, np.pi / 2, -0.7], [0.0, -np.pi / 2, 1.2]):
        rotation = nodeplan.euler_matrix(np.array(angles))
        np.testing.assert_allclose(nodeplan.euler_matrix(nodeplan.euler_angles(rotation)), rotation, atol=1e-12)
