"""The enhancement views RTI viewers offer: diffuse gain and specular enhancement.

- **Diffuse gain** (Malzbender, Gelb and Wolters, "Polynomial Texture Maps", 2001, as RTIViewer applies it): a PTM's
  luminance L(u, v) = a0·u² + a1·v² + a2·uv + a3·u + a4·v + a5 keeps its value and slope at the direction of its
  maximum (u0, v0), an estimate of the surface normal, while its curvature is multiplied by the gain g. Gains above 1
  sharpen how fast the brightness falls off around the normal, which brings out fine relief.
- **Specular enhancement**: the model's colour plus a Blinn-Phong highlight from the surface normal, strength ·
  max(n·h, 0)^exponent with h halfway between the light and the viewer (+z), so shape shows as gloss.

Any model gets diffuse gain through a PTM fitted to its luminance (``core.surface.views``).
"""

from __future__ import annotations

import numpy as np

from ..classic import ptm

def ptm_maximum(coeffs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(u0, v0), where the PTM luminance (6, ...) has zero gradient, clipped to the unit disk; (0, 0) where the
    biquadratic has no unique stationary point."""
    a0, a1, a2, a3, a4 = coeffs[:5]
    det = 4 * a0 * a1 - a2 * a2
    safe = np.abs(det) > 1e-12
    u0 = np.where(safe, (a2 * a4 - 2 * a1 * a3) / np.where(safe, det, 1.0), 0.0)
    v0 = np.where(safe, (a2 * a3 - 2 * a0 * a4) / np.where(safe, det, 1.0), 0.0)
    radius = np.hypot(u0, v0)
    scale = np.where(radius > 1.0, 1.0 / np.maximum(radius, 1e-12), 1.0)
    return u0 * scale, v0 * scale


def diffuse_gain(coeffs: np.ndarray, gain: float) -> np.ndarray:
    """PTM luminance coefficients (6, ...) with their curvature scaled by ``gain`` around their maximum."""
    base, slope = diffuse_gain_line(coeffs)
    return base + gain * slope


def diffuse_gain_line(coeffs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(base, slope)``, each (6, ...): the gained coefficients are ``base + gain · slope``, affine in the gain (so
    a shader applies any gain from two coefficient sets)."""
    a0, a1, a2, a3, a4, a5 = coeffs
    u0, v0 = ptm_maximum(coeffs)
    d3, d4 = 2 * a0 * u0 + a2 * v0, 2 * a1 * v0 + a2 * u0  # b3 = a3 + (1 - gain) d3, b4 likewise
    d5 = a0 * u0 * u0 + a1 * v0 * v0 + a2 * u0 * v0  # b5 = a5 + (1 - gain) (d5 - d3 u0 - d4 v0)
    d5 = d5 - d3 * u0 - d4 * v0
    zero = np.zeros_like(a0)
    return np.stack([zero, zero, zero, a3 + d3, a4 + d4, a5 + d5]), np.stack([a0, a1, a2, -d3, -d4, -d5])


def relight_ptm(coeffs: np.ndarray, chroma: np.ndarray, light: np.ndarray) -> np.ndarray:
    """Colour (H, W, 3) of a luminance PTM (6, H, W) with its chroma under one light."""
    luminance = np.tensordot(ptm.basis(np.asarray(light, dtype=np.float64).reshape(1, 3))[0], coeffs, axes=1)
    return luminance[..., None] * chroma


def specular_enhancement(colour: np.ndarray, normals: np.ndarray, light: np.ndarray, exponent: float,
                         strength: float) -> np.ndarray:
    """``colour`` (H, W, 3) plus strength · max(n·h, 0)^exponent, h the half vector of ``light`` and the view +z;
    nothing is added where the normal is unknown (zero) or faces away from the light."""
    light = np.asarray(light, dtype=np.float64)
    half = light + np.array([0.0, 0.0, 1.0])
    half /= np.linalg.norm(half)
    lit = (normals @ light) > 0
    highlight = np.where(lit, np.clip(normals @ half, 0.0, None) ** exponent, 0.0)
    return (colour + strength * highlight[..., None]).astype(np.float32)
