"""Classic fits against analytic ground truth: basis values, HSH orthonormality, exact recovery, a Lambertian sphere."""

import numpy as np
import pytest

from core.capture import lights
from core.capture.mlic import MLIC
from core.classic import fitting, hsh, ptm
from core.errors import RTIError
from core.quality import evaluate, metrics

PI = np.pi


def test_ptm_basis_values():
    np.testing.assert_allclose(ptm.basis(np.array([[0.3, 0.4, np.sqrt(0.75)]])), [[0.09, 0.16, 0.12, 0.3, 0.4, 1]])


def test_hsh_basis_values_at_the_zenith_and_at_60_degrees():
    zenith = hsh.basis(np.array([[0.0, 0.0, 1.0]]), 3)[0]
    np.testing.assert_allclose(zenith, [1 / np.sqrt(2 * PI), 0, np.sqrt(3 / (2 * PI)), 0, 0, 0, np.sqrt(5 / (2 * PI)), 0, 0],
                               atol=1e-12)
    # theta = 60 deg, phi = 0: c = 1/2, s = 1/2
    tilted = hsh.basis(lights.from_angles([30.0], [0.0]), 3)[0]
    expect = [1 / np.sqrt(2 * PI), np.sqrt(6 / PI) / 2, 0, 0, -np.sqrt(30 / PI) / 4, 0, -np.sqrt(5 / (2 * PI)) / 2, 0, 0]
    np.testing.assert_allclose(tilted, expect, atol=1e-12)


def test_hsh_theta_is_clamped_near_the_horizon():
    grazing = hsh.basis(np.array([[1.0, 0.0, 0.0]]), 2)
    clamped = hsh.basis(lights.from_angles([np.degrees(hsh.MIN_ELEVATION)], [0.0]), 2)
    np.testing.assert_allclose(grazing, clamped, atol=1e-12)


@pytest.mark.parametrize("order", [2, 3, 4])
def test_hsh_is_orthonormal_on_the_hemisphere(order):
    """∫ h_i h_j dω = δ_ij: checks every formula independently of how it was typed."""
    theta = (np.arange(600) + 0.5) * (PI / 2) / 600
    phi = (np.arange(1200) + 0.5) * (2 * PI) / 1200
    t, p = np.meshgrid(theta, phi, indexing="ij")
    dirs = np.stack([np.sin(t) * np.cos(p), np.sin(t) * np.sin(p), np.cos(t)], -1).reshape(-1, 3)
    weights = (np.sin(t) * (PI / 2 / 600) * (2 * PI / 1200)).ravel()
    b = hsh.basis(dirs, order, min_elevation=0.0)
    np.testing.assert_allclose((b * weights[:, None]).T @ b, np.eye(order * order), atol=2e-3)


def mlic_from_float(values: np.ndarray, dirs: np.ndarray) -> MLIC:
    """An 8-bit MLIC from float images (N, H, W, 3) in [0, 1]."""
    return MLIC(np.rint(np.clip(values, 0, 1) * 255).astype(np.uint8), dirs, [f"{i}.png" for i in range(len(dirs))])


@pytest.mark.parametrize("method", fitting.METHODS)
def test_data_in_the_span_of_the_basis_is_reproduced_on_held_out_lights(method):
    """Per-pixel functions drawn from the basis itself: only 8-bit rounding stands between fit and truth."""
    rng = np.random.default_rng(0)
    train, test = lights.synthrti_dome(), lights.synthrti_test()
    h = w = 16
    k = fitting.method_terms(method)
    if method == "lptm":
        coeffs = np.concatenate([rng.uniform(-0.04, 0.04, (k - 1, h, w, 1)), rng.uniform(0.4, 0.6, (1, h, w, 1))])
        chroma = rng.uniform(0.6, 1.3, (h, w, 3))
        truth = fitting.ClassicRTI(method, coeffs.astype(np.float32), chroma.astype(np.float32))
    else:
        coeffs = rng.uniform(-0.03, 0.03, (k, h, w, 3))
        constant = 0 if method.startswith("hsh") else 5
        coeffs[constant] = rng.uniform(0.4, 0.6, (h, w, 3)) / truth_constant(method)
        truth = fitting.ClassicRTI(method, coeffs.astype(np.float32))
    render = lambda dirs: np.stack([truth.relight(d) for d in dirs])  # noqa: E731
    assert 0 < render(train).min() and render(train).max() < 1, "the test data must not clip"
    model = fitting.fit(mlic_from_float(render(train), train), method)
    result = evaluate.evaluate(model, mlic_from_float(render(test), test))
    # rounding the truth and the prediction to 8 bits: MSE ≤ 2/12 → PSNR ≥ 55.9 dB; the fit adds a little noise
    assert result.psnr > 52.0
    assert result.ssim > 0.999


def truth_constant(method: str) -> float:
    """Value of the constant basis function (HSH h0 = 1/√(2π); PTM's is 1)."""
    return 1 / np.sqrt(2 * PI) if method.startswith("hsh") else 1.0


def lambertian_sphere(size: int = 48) -> tuple[np.ndarray, np.ndarray]:
    """Normals (H, W, 3) of a sphere filling most of the frame on a flat floor, and a colour-graded albedo."""
    y, x = np.mgrid[0:size, 0:size]
    u, v = (x + 0.5 - size / 2) / (0.45 * size), (size / 2 - y - 0.5) / (0.45 * size)  # v: image up
    inside = u * u + v * v < 1
    normals = np.zeros((size, size, 3))
    normals[..., 2] = 1
    normals[inside] = np.stack([u[inside], v[inside], np.sqrt(1 - u[inside] ** 2 - v[inside] ** 2)], -1)
    albedo = np.stack([0.3 + 0.6 * x / size, 0.9 - 0.5 * y / size, np.full((size, size), 0.6)], -1)
    return normals, albedo


def shade(normals: np.ndarray, albedo: np.ndarray, dirs: np.ndarray) -> np.ndarray:
    return np.stack([albedo * np.clip(normals @ d, 0, None)[..., None] for d in dirs])


@pytest.mark.parametrize(("method", "expected_db"), [("hsh3", 36.3), ("hsh2", 32.7), ("ptm", 30.0), ("lptm", 30.0)])
def test_lambertian_sphere_reaches_the_psnr_the_basis_allows(method, expected_db):
    """A Lambertian sphere is not in any of these bases (attached shadows, lz is not polynomial), so the best a fit
    can do is the least-squares projection of the exact shading at the training lights. That bound is computed here
    independently (float64, unquantised training data, numpy's SVD lstsq) and our tiled 8-bit fit must reach it."""
    normals, albedo = lambertian_sphere()
    train, test = lights.synthrti_dome(), lights.synthrti_test()
    exact_train, exact_test = shade(normals, albedo, train), shade(normals, albedo, test)
    truth = mlic_from_float(exact_test, test)

    basis_train, basis_test = fitting.method_basis(method, train), fitting.method_basis(method, test)
    if method == "lptm":  # luminance fit times the least-squares chroma, from exact data
        lum = exact_train.mean(-1).reshape(len(train), -1)
        coeffs = np.linalg.lstsq(basis_train, lum, rcond=None)[0]
        flat = exact_train.reshape(len(train), -1, 3)
        chroma = np.einsum("npc,np->pc", flat, lum) / np.maximum(np.einsum("np,np->p", lum, lum), 1e-12)[:, None]
        bound_images = ((basis_test @ coeffs)[..., None] * chroma).reshape(exact_test.shape)
    else:
        coeffs = np.linalg.lstsq(basis_train, exact_train.reshape(len(train), -1), rcond=None)[0]
        bound_images = (basis_test @ coeffs).reshape(exact_test.shape)
    bound = np.mean([metrics.psnr(truth.images[i], metrics.to_uint8(bound_images[i])) for i in range(len(test))])

    ours = evaluate.evaluate(fitting.fit(mlic_from_float(exact_train, train), method), truth).psnr
    assert abs(ours - bound) < 0.3, (ours, bound)
    assert ours == pytest.approx(expected_db, abs=0.5)


def test_coefficients_per_pixel():
    assert [fitting.coefficients_per_pixel(m) for m in fitting.METHODS] == [18, 9, 12, 27]


def test_fit_needs_enough_lights():
    with pytest.raises(RTIError, match="hsh3 needs at least 9 lights"):
        fitting.fit(mlic_from_float(np.zeros((5, 4, 4, 3)), lights.fibonacci(5)), "hsh3")
    with pytest.raises(RTIError, match="unknown method"):
        fitting.method_terms("ptm7")


def test_tiles_do_not_change_the_result(monkeypatch):
    rng = np.random.default_rng(2)
    data = MLIC(rng.integers(0, 256, (20, 9, 13, 3), dtype=np.uint8), lights.fibonacci(20, 10), [str(i) for i in range(20)])
    whole = fitting.fit(data, "hsh3").coeffs
    monkeypatch.setattr(fitting, "TILE_PIXELS", 7)
    # the same sums in float32; BLAS may order them differently for a 7-pixel tile than for the whole image
    np.testing.assert_allclose(fitting.fit(data, "hsh3").coeffs, whole, rtol=0, atol=1e-6)
