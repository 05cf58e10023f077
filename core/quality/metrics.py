"""Image quality on 8-bit RGB: PSNR (whole image or masked) and SSIM (Gaussian window, Wang et al. 2004).

SSIM has scikit-image's standard settings (the tests hold the two equal): Gaussian weights σ = 1.5 over an 11×11
window, population covariance, K1 = 0.01, K2 = 0.03, data range 255, computed per channel and averaged. SSIM runs in
PyTorch on the images' device (numpy arrays: the CPU, every core), PSNR in numpy (it needs no PyTorch) or on the GPU
that holds the images, both a band of rows at a time, so a 50-megapixel image needs a few hundred megabytes (a GPU's
band a few gigabytes) beyond itself.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import torch

PSNR_CAP = 100.0
"""PSNR reported for identical images (instead of infinity, so results stay valid JSON)."""

SSIM_BORDER = 5
"""Half the 11×11 Gaussian window (σ = 1.5, truncated at 3.5σ)."""
SIGMA = 1.5
K1, K2 = 0.01, 0.03
BAND = 1 << 18
"""Pixels of an image measured at once on a CPU (their float maps stay within the CPU's caches)."""
GPU_BAND = 1 << 22
"""Pixels of an image measured at once on a GPU: few bands an image, since each costs kernel launches."""


def to_uint8(image: np.ndarray) -> np.ndarray:
    """8-bit version of an image: floats are read as [0, 1] and clipped; 16-bit values are rescaled."""
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return np.rint(image / 257.0).astype(np.uint8)
    return np.rint(np.clip(image, 0.0, 1.0) * 255.0).astype(np.uint8)


def _tensors(reference: np.ndarray | torch.Tensor, test: np.ndarray | torch.Tensor,
             mask: np.ndarray | torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
    """The images (and mask) as tensors on the device of whichever is a tensor already (else the CPU)."""
    import torch

    device = next((a.device for a in (test, reference) if isinstance(a, torch.Tensor)), torch.device("cpu"))
    x, y, m = (None if a is None else torch.as_tensor(a).to(device) for a in (reference, test, mask))
    assert x is not None and y is not None
    return x, y, m


def psnr(reference: np.ndarray | torch.Tensor, test: np.ndarray | torch.Tensor,
         mask: np.ndarray | torch.Tensor | None = None) -> float:
    """PSNR in dB between two 8-bit RGB images (H, W, 3), over the pixels where ``mask`` is true: exact integer sums,
    in numpy (it needs no PyTorch), or in PyTorch on the GPU that holds one of the images already (in larger bands:
    each band costs kernel launches there)."""
    on_gpu = any(a is not None and not isinstance(a, np.ndarray) and a.device.type != "cpu"
                 for a in (reference, test, mask))
    if on_gpu:
        import torch

        total, count = _squared_errors(*_tensors(reference, test, mask), GPU_BAND, lambda a: a.to(torch.int32),
                                       torch.int64)
    else:
        x, y, m = (None if a is None else a if isinstance(a, np.ndarray) else a.numpy()
                   for a in (reference, test, mask))
        total, count = _squared_errors(x, y, m, BAND, lambda a: a.astype(np.int32), np.int64)
    if count == 0:
        return float("nan")  # an empty mask
    mse = total / count
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, 10.0 * np.log10(255.0**2 / mse))


def _squared_errors(x: Any, y: Any, m: Any, band: int, as_int: Callable[[Any], Any], wide: Any) -> tuple[int, int]:
    """The sum of squared differences of two images (numpy arrays or tensors alike) where ``m`` is true, and their
    count, ``band`` pixels at a time: ``as_int`` makes a band 32-bit integers, ``wide`` is the sum's 64-bit type."""
    rows = max(1, band // x.shape[1])
    total, count = 0, 0
    for top in range(0, x.shape[0], rows):
        diff = as_int(x[top : top + rows]) - as_int(y[top : top + rows])
        if m is not None:
            diff = diff[m[top : top + rows]]
        total += int((diff * diff).sum(dtype=wide))
        count += math.prod(diff.shape)
    return total, count


def gaussian_window() -> np.ndarray:
    """The 11 weights of scikit-image's SSIM filter (SciPy's Gaussian, σ = 1.5, truncated at 3.5σ), summing to 1."""
    offsets = np.arange(-SSIM_BORDER, SSIM_BORDER + 1)
    weights = np.exp(-0.5 * (offsets / SIGMA) ** 2)
    return weights / weights.sum()


def ssim(reference: np.ndarray | torch.Tensor, test: np.ndarray | torch.Tensor,
         mask: np.ndarray | torch.Tensor | None = None) -> float:
    """Mean SSIM between two 8-bit RGB images (H, W, 3), averaged over the pixels where ``mask`` is true.

    As in the standard definition, the 5-pixel border where the 11×11 window does not fit is left out. Local means
    and (co)variances are Gaussian-weighted (a separable filter); values are centred on mid-grey first, which leaves
    the (co)variances unchanged and keeps their float32 sums exact enough.
    """
    import torch

    x, y, m = _tensors(reference, test, mask)
    h, w = x.shape[:2]
    c1, c2 = (K1 * 255) ** 2, (K2 * 255) ** 2
    edge = 2 * SSIM_BORDER
    rows = max(1, (BAND if x.device.type == "cpu" else GPU_BAND) // w)
    total, count = 0.0, 0
    for top in range(0, h - edge, rows):
        bottom = min(top + rows, h - edge)
        a = x[top : bottom + edge].permute(2, 0, 1).to(torch.float32).sub_(128.0)
        b = y[top : bottom + edge].permute(2, 0, 1).to(torch.float32).sub_(128.0)
        maps = torch.empty((15, *a.shape[1:]), dtype=torch.float32, device=a.device)
        maps[0:3], maps[3:6] = a, b
        torch.mul(a, a, out=maps[6:9])
        torch.mul(b, b, out=maps[9:12])
        torch.mul(a, b, out=maps[12:15])
        ma, mb, aa, bb, ab = _blurred(maps).split(3)  # local means of the centred values and of their products
        ma2, mb2, mab = ma * ma, mb * mb, ma * mb
        spread = aa.add_(bb).sub_(ma2).sub_(mb2).add_(c2)  # σa² + σb² + C2
        together = ab.sub_(mab).mul_(2.0).add_(c2)  # 2σab + C2
        shift = ma.add_(mb).mul_(128.0)  # back to uncentred means μ = m + 128
        top_term = mab.add_(shift).add_(128.0 * 128.0).mul_(2.0).add_(c1)  # 2μaμb + C1
        bottom_term = ma2.add_(mb2).add_(shift.mul_(2.0)).add_(2 * 128.0 * 128.0 + c1)  # μa² + μb² + C1
        score = top_term.mul_(together).div_(bottom_term.mul_(spread)).mean(dim=0)
        if m is not None:
            score = score[m[top + SSIM_BORDER : bottom + SSIM_BORDER, SSIM_BORDER : w - SSIM_BORDER]]
        total += float(score.sum(dtype=torch.float64))
        count += score.numel()
    return total / count if count else float("nan")


def _blurred(maps: torch.Tensor) -> torch.Tensor:
    """Each of the maps (M, r, w) filtered by the Gaussian window where it fits whole: (M, r - 10, w - 10). On the CPU
    OpenCV's separable filter, ten times faster there than PyTorch's convolution; on a GPU PyTorch's."""
    import torch

    window = gaussian_window().astype(np.float32)
    if maps.device.type == "cpu":
        import cv2

        full = torch.empty_like(maps)
        for source, target in zip(maps.numpy(), full.numpy()):
            cv2.sepFilter2D(source, cv2.CV_32F, window, window, dst=target)
        return full[:, SSIM_BORDER:-SSIM_BORDER, SSIM_BORDER:-SSIM_BORDER]
    kernel = torch.as_tensor(window, device=maps.device)
    down = kernel.reshape(1, 1, -1, 1).expand(len(maps), 1, -1, 1)
    across = kernel.reshape(1, 1, 1, -1).expand(len(maps), 1, 1, -1)
    conv = torch.nn.functional.conv2d
    return conv(conv(maps[None], down, groups=len(maps)), across, groups=len(maps))[0]
