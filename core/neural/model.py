"""A trained neural RTI model for relighting: per-pixel 9-value codes and a small decoder, in plain numpy.

This is what the exports hold and what relighting, evaluation and the Blender add-on use; it never imports PyTorch
(Blender has none).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

CODE_SIZE = 9
"""Values per pixel in the code (three RGB planes of the OpenLIME export)."""

Layer = tuple[np.ndarray, np.ndarray]
"""One dense layer: weights (out, in) and biases (out,)."""

CHUNK_PIXELS = 1 << 16
"""Pixels decoded at once, which bounds the memory of a relight to a few megabytes."""


def elu(x: np.ndarray) -> np.ndarray:
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def decode(codes: np.ndarray, layers: list[Layer], light: np.ndarray) -> np.ndarray:
    """RGB (P, 3) of codes (P, 9) under one light (its lx, ly are used): two ELU layers and a linear one."""
    (w1, b1), (w2, b2), (w3, b3) = layers
    x = np.empty((len(codes), CODE_SIZE + 2), dtype=np.float32)
    x[:, :CODE_SIZE] = codes
    x[:, CODE_SIZE:] = np.asarray(light, dtype=np.float32)[:2]
    h = elu(x @ w1.T + b1)
    h = elu(h @ w2.T + b2)
    return h @ w3.T + b3


@dataclass(frozen=True)
class Planes:
    """8-bit code texels (H, W, 9) and the per-channel min and max (9,) that map them to codes."""

    texels: np.ndarray
    lo: np.ndarray
    hi: np.ndarray


BAND = 1 << 16
"""Pixels dequantised at once (their indices stay within the CPU's caches)."""


def quantize_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """8-bit texels (H, W, 9) and the per-channel min and max (9,) that map them back: t/255·(max − min) + min."""
    lo = codes.min(axis=(0, 1)).astype(np.float64)
    hi = codes.max(axis=(0, 1)).astype(np.float64)
    span = np.where(hi > lo, hi - lo, 1.0)
    texels = np.empty(codes.shape, dtype=np.uint8)
    for k in range(codes.shape[2]):  # a channel at a time: float64 temporaries of one channel, not nine
        texels[..., k] = np.clip(np.rint((codes[..., k] - lo[k]) / span[k] * 255.0), 0, 255)
    return texels, lo, hi


def dequantize_codes(texels: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Float codes (H, W, C) from 8-bit texels, as OpenLIME computes them (float32 arithmetic): each channel's 256
    values are tabled once and looked up a band of pixels at a time, eight times faster than the arithmetic."""
    channels = texels.shape[-1]
    levels = np.arange(256, dtype=np.float32)[None, :] / np.float32(255.0)
    table = (levels * (hi - lo).astype(np.float32)[:, None] + lo.astype(np.float32)[:, None]).ravel()  # (C·256,)
    offsets = (np.arange(channels) * 256).astype(np.uint16)
    flat = texels.reshape(-1, channels)
    codes = np.empty(flat.shape, dtype=np.float32)
    for start in range(0, len(flat), BAND):
        index = flat[start : start + BAND].astype(np.uint16)
        index += offsets
        np.take(table, index, out=codes[start : start + BAND])
    return codes.reshape(texels.shape)


@dataclass
class NeuralRTI:
    """Codes (H, W, 9) float32, the decoder's three layers, the training lights and a description of the training."""

    codes: np.ndarray
    layers: list[Layer]
    lights: np.ndarray | None = None
    training: dict = field(default_factory=dict)
    method: str = "neural"
    planes: Planes | None = field(default=None, repr=False, compare=False)
    """The 8-bit planes ``codes`` were dequantised from, when they were (the Blender importer uses them as is)."""

    @property
    def height(self) -> int:
        return self.codes.shape[0]

    @property
    def width(self) -> int:
        return self.codes.shape[1]

    @property
    def hidden(self) -> int:
        """Width of the decoder's hidden layers."""
        return self.layers[0][0].shape[0]

    @property
    def parameters(self) -> int:
        return sum(w.size + b.size for w, b in self.layers)

    def below_hsh3(self) -> str | None:
        """:func:`below_hsh3` of this model's training."""
        return below_hsh3(self.training)

    def relight(self, light: np.ndarray) -> np.ndarray:
        """RGB float image (H, W, 3) under ``light``, unclipped."""
        flat = self.codes.reshape(-1, CODE_SIZE)
        out = np.empty((len(flat), 3), dtype=np.float32)
        for start in range(0, len(flat), CHUNK_PIXELS):
            out[start : start + CHUNK_PIXELS] = decode(flat[start : start + CHUNK_PIXELS], self.layers, light)
        return out.reshape(self.height, self.width, 3)


def below_hsh3(training: dict) -> str | None:
    """The warning for a model that scored below HSH3 at the lights held out of its ``training`` (None when it did
    not, or its training recorded no such check): HSH3 relights that capture better."""
    t = training
    if "val_lights" not in t or t["val_psnr"] >= t["hsh3_val_psnr"]:
        return None
    return (f"the {t.get('role', 'model')} scores {t['val_psnr']:.2f} dB at the {len(t['val_lights'])} held-out "
            f"lights, below HSH3's {t['hsh3_val_psnr']:.2f} dB there: an HSH3 fit (python -m core fit -m hsh3) "
            "relights this capture better")
