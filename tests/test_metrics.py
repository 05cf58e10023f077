import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skimage.metrics import structural_similarity

from core.quality import metrics


def test_psnr_of_a_known_error():
    a = np.full((8, 8, 3), 100, np.uint8)
    b = a.copy()
    b[..., 0] += 3  # MSE = 9/3 = 3
    assert metrics.psnr(a, b) == pytest.approx(10 * np.log10(255**2 / 3))
    assert metrics.psnr(a, a) == metrics.PSNR_CAP


def test_masked_psnr_counts_only_the_masked_pixels():
    a = np.zeros((4, 4, 3), np.uint8)
    b = a.copy()
    b[0, 0] = 255
    mask = np.zeros((4, 4), bool)
    mask[2:, 2:] = True
    assert metrics.psnr(a, b, mask) == metrics.PSNR_CAP
    mask[0, 0] = True  # 1 bad pixel of 5: MSE = 255²/5
    assert metrics.psnr(a, b, mask) == pytest.approx(10 * np.log10(5))


def test_ssim_agrees_with_a_direct_computation_of_the_gaussian_window_formula():
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (32, 40, 3)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-30, 31, a.shape), 0, 255).astype(np.uint8)
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    assert metrics.ssim(a, b) == pytest.approx(direct_ssim(a, b), abs=1e-6)
    mask = np.zeros((32, 40), bool)
    mask[8:24, 8:30] = True
    assert metrics.ssim(a, b, mask) == pytest.approx(direct_ssim(a, b, mask), abs=1e-6)


def direct_ssim(a: np.ndarray, b: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Wang et al. (2004) with an 11x11 Gaussian window (σ = 1.5), valid region only, written out with numpy."""
    g = np.exp(-((np.arange(11) - 5) ** 2) / (2 * 1.5**2))
    window = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    views = lambda x: np.lib.stride_tricks.sliding_window_view(x, (11, 11))  # noqa: E731
    maps = []
    for ch in range(3):
        x, y = a[..., ch].astype(np.float64), b[..., ch].astype(np.float64)
        mx, my = (views(x) * window).sum((-1, -2)), (views(y) * window).sum((-1, -2))
        vx = (views(x * x) * window).sum((-1, -2)) - mx * mx
        vy = (views(y * y) * window).sum((-1, -2)) - my * my
        cxy = (views(x * y) * window).sum((-1, -2)) - mx * my
        maps.append((2 * mx * my + c1) * (2 * cxy + c2) / ((mx * mx + my * my + c1) * (vx + vy + c2)))
    per_pixel = np.mean(maps, axis=0)  # valid region: 5-pixel border dropped, as scikit-image averages
    if mask is None:
        return float(per_pixel.mean())
    return float(per_pixel[mask[5:-5, 5:-5]].mean())


def test_to_uint8_of_floats_and_16_bit():
    np.testing.assert_array_equal(metrics.to_uint8(np.array([-0.2, 0.0, 0.5, 1.0, 1.7])), [0, 0, 128, 255, 255])
    np.testing.assert_array_equal(metrics.to_uint8(np.array([0, 257, 65535], np.uint16)), [0, 1, 255])


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(11, 70), st.integers(11, 70), st.integers(0, 2**32 - 1), st.integers(0, 128))
def test_ssim_equals_scikit_images(h: int, w: int, seed: int, noise: int) -> None:
    """The same numbers as scikit-image's SSIM (float64) to 1e-4, masked or not, whatever the images' size."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (h, w, 3)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-noise, noise + 1, a.shape), 0, 255).astype(np.uint8)
    mask = rng.random((h, w)) < 0.7
    mask[h // 2, w // 2] = True  # at least one pixel inside the 5-pixel border
    _, ssim_map = structural_similarity(a, b, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                        data_range=255, channel_axis=2, full=True)
    inner = ssim_map.mean(axis=2)[5:-5, 5:-5]
    assert metrics.ssim(a, b) == pytest.approx(inner.mean(), abs=1e-4)
    assert metrics.ssim(a, b, mask) == pytest.approx(inner[mask[5:-5, 5:-5]].mean(), abs=1e-4)


def test_ssim_and_psnr_of_large_images_go_band_by_band(monkeypatch: pytest.MonkeyPatch) -> None:
    """Bands of a few rows give the scores of the whole image at once."""
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, (61, 47, 3)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-20, 21, a.shape), 0, 255).astype(np.uint8)
    mask = rng.random((61, 47)) < 0.5
    whole = metrics.ssim(a, b), metrics.ssim(a, b, mask), metrics.psnr(a, b), metrics.psnr(a, b, mask)
    monkeypatch.setattr(metrics, "BAND", 47 * 3)
    assert metrics.ssim(a, b) == pytest.approx(whole[0], abs=1e-6)
    assert metrics.ssim(a, b, mask) == pytest.approx(whole[1], abs=1e-6)
    assert (metrics.psnr(a, b), metrics.psnr(a, b, mask)) == whole[2:]


def test_psnr_sums_on_a_gpu_equal_numpys() -> None:
    """The sums PSNR takes in PyTorch where the images are on a GPU (run here on CPU tensors, in bands of a few rows)
    equal numpy's exactly, masked or not."""
    import torch

    rng = np.random.default_rng(5)
    a = rng.integers(0, 256, (61, 47, 3)).astype(np.uint8)
    b = rng.integers(0, 256, (61, 47, 3)).astype(np.uint8)
    mask = rng.random((61, 47)) < 0.3
    for m in (None, mask):
        expected = metrics._squared_errors(a, b, m, metrics.BAND, lambda v: v.astype(np.int32), np.int64)
        tensors = (torch.from_numpy(a), torch.from_numpy(b), None if m is None else torch.from_numpy(m))
        banded = metrics._squared_errors(*tensors, 47 * 4, lambda v: v.to(torch.int32), torch.int64)
        assert banded == expected and expected[1] == (a.size if m is None else 3 * int(m.sum()))
