import numpy as np
import pytest

from core.capture import lights


def test_synthrti_dome_matches_the_published_pattern():
    dome = lights.synthrti_dome()
    assert dome.shape == (49, 3)
    el = np.round(lights.elevation(dome), 6)
    assert {e: int((el == e).sum()) for e in np.unique(el)} == {10: 18, 30: 12, 50: 10, 70: 8, 90: 1}
    az = lights.azimuth(dome[el == 10])
    np.testing.assert_allclose(np.sort(az), np.arange(10, 360, 20), atol=1e-9)
    np.testing.assert_allclose(np.sort(lights.azimuth(dome[el == 50])), np.arange(18, 360, 36), atol=1e-9)


def test_synthrti_test_lights_are_disjoint_from_the_dome():
    test = lights.synthrti_test()
    el = np.round(lights.elevation(test), 6)
    assert {e: int((el == e).sum()) for e in np.unique(el)} == {20: 8, 40: 4, 60: 4, 80: 4}
    np.testing.assert_allclose(np.sort(lights.azimuth(test[el == 40])), [22.5, 112.5, 202.5, 292.5], atol=1e-9)
    np.testing.assert_allclose(np.sort(lights.azimuth(test[el == 60])), [67.5, 157.5, 247.5, 337.5], atol=1e-9)
    assert not set(el) & set(np.round(lights.elevation(lights.synthrti_dome()), 6))


def test_directions_are_unit_and_in_the_image_frame():
    d = lights.from_angles([0, 45, 90], [0, 90, 0])
    np.testing.assert_allclose(d, [[1, 0, 0], [0, np.sqrt(0.5), np.sqrt(0.5)], [0, 0, 1]], atol=1e-12)


def test_rings_counts_and_offsets():
    r = lights.rings([15, 45], [6, 3], [0, 60])
    assert r.shape == (9, 3)
    np.testing.assert_allclose(lights.azimuth(r[6:]), [60, 180, 300], atol=1e-9)


def test_fibonacci_is_near_uniform_above_the_minimum_elevation():
    d = lights.fibonacci(200, min_elevation_deg=15)
    np.testing.assert_allclose(np.linalg.norm(d, axis=1), 1, atol=1e-12)
    assert lights.elevation(d).min() >= 15 - 1e-9
    cos = d @ d.T
    np.fill_diagonal(cos, -1)
    nearest = np.degrees(np.arccos(cos.max(axis=1)))
    # a uniform lattice: every point has a neighbour, none are bunched (spread of nearest distances is small)
    assert nearest.min() > 0.5 * nearest.mean() and nearest.max() < 1.6 * nearest.mean()


def test_random_is_seeded_and_respects_the_minimum_elevation():
    a, b = lights.random(50, seed=3, min_elevation_deg=20), lights.random(50, seed=3, min_elevation_deg=20)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, lights.random(50, seed=4))
    assert lights.elevation(a).min() >= 20 - 1e-9


def test_bad_arguments():
    with pytest.raises(ValueError):
        lights.rings([10], [3, 4])
    with pytest.raises(ValueError):
        lights.fibonacci(0)
