"""Image quality on 8-bit RGB: PSNR (whole image or masked) and SSIM (Gaussian window, Wang et al. 2004).

SSIM is scikit-image's implementation with the standard settings: Gaussian weights σ = 1.5, population covariance,
K1 = 0.01, K2 = 0.03, data range 255, computed per channel and averaged.
"""

from __future__ import annotations

import numpy as np

PSNR_CAP = 100.0
"""PSNR reported for identical images (instead of infinity, so results stay valid JSON)."""

SSIM_BORDER = 5
"""Half the 11×11 Gaussian window (σ = 1.5, truncated at 3.5σ)."""


def to_uint8(image: np.ndarray) -> np.ndarray:
    """8-bit version of an image: floats are read as [0, 1] and clipped; 16-bit values are rescaled."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return np.rint(image / 257.0).astype(np.uint8)
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def psnr(reference: np.ndarray, test: np.ndarray, mask: np.ndarray | None = None) -> float:
    """PSNR in dB between two 8-bit RGB images (H, W, 3), over the pixels where ``mask`` is true."""
    diff = reference.astype(np.float64) - test.astype(np.float64)
    if mask is not None:
        diff = diff[mask]
    mse = float(np.mean(diff * diff))
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10.0 * np.log10(255.0**2 / mse))


def ssim(reference: np.ndarray, test: np.ndarray, mask: np.ndarray | None = None) -> float:
    """Mean SSIM between two 8-bit RGB images (H, W, 3), averaged over the pixels where ``mask`` is true.

    As in the standard definition, the 5-pixel border where the 11×11 window does not fit is left out.
    """
    from skimage.metrics import structural_similarity  # with SciPy 0.7 s to load: not on the training path
    _, ssim_map = structural_similarity(
        reference, test, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
        data_range=255, channel_axis=2, full=True,
    )
    region = np.zeros(ssim_map.shape[:2], dtype=bool)
    region[SSIM_BORDER:-SSIM_BORDER, SSIM_BORDER:-SSIM_BORDER] = True
    if mask is not None:
        region &= mask
    return float(ssim_map.mean(axis=2)[region].mean())
