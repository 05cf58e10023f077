"""Any model relit under many lights, fast: PyTorch on every CPU core or on a CUDA GPU, a chunk of pixels at a time.

Every path that relights a whole image (``relight``, ``eval``, ``report``, normals and view maps from a model) goes
through :class:`Relighter`, so memory stays at the model plus one output image whatever the capture's size. The
models' own numpy ``relight`` is the reference the tests compare against, and what runs where PyTorch is missing
(Blender's Python). A neural decoder's first layer is a code part, the same under every light, plus a light part:
the code part is computed once per chunk and shared by all the lights decoded with it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

from .capture.images import display
from .classic.fitting import ClassicRTI
from .classic.interpolated import InterpolatedRTI
from .errors import RTIError
from .formats.models import Relightable
from .neural.config import DEVICES
from .neural.model import CODE_SIZE, NeuralRTI, decode
from .quality import metrics

if TYPE_CHECKING:
    import torch

ROWS = 1 << 15
"""(pixel, light) pairs decoded at once on a CPU: a neural chunk's activations stay within a few megabytes (the
CPU's caches)."""
GPU_ROWS = 1 << 22
"""(pixel, light) pairs decoded at once on a GPU: a few chunks an image, since each chunk costs kernel launches (a
teacher's chunk takes under a gigabyte)."""


def pick_device(name: str) -> torch.device:
    """The torch device for one of ``DEVICES`` (``--device``): auto is a CUDA GPU when PyTorch sees one."""
    import torch

    if name not in DEVICES:
        raise RTIError(f"unknown device {name!r} (choose from {', '.join(DEVICES)})")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RTIError("--device cuda: PyTorch sees no CUDA GPU here (use --device cpu or auto)")
    return torch.device(name)


def relighter(model: Relightable, device: str = "auto") -> Relighter | ReferenceRelighter:
    """The fast relighter of ``model``; where PyTorch is missing (Blender's Python), the numpy reference."""
    try:
        import torch  # noqa: F401
    except ImportError:
        if device == "cuda":
            raise RTIError("--device cuda: PyTorch is not installed in this Python") from None
        return ReferenceRelighter(model)
    return Relighter(model, device)


class ReferenceRelighter:
    """Relighting in numpy with the models' own code, a chunk of pixels at a time: the reference, and what runs
    without PyTorch."""

    def __init__(self, model: Relightable):
        self.model = model
        self.pixels = model.height * model.width
        self.shape = (model.height, model.width, 3)
        self.rows = ROWS

    def chunk(self, lights: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Pixels ``start:stop`` (flat, row-major) under ``lights`` (L, 3): float (L, n, 3)."""
        model = self.model
        if isinstance(model, NeuralRTI):
            codes = model.codes.reshape(-1, CODE_SIZE)[start:stop]
            return np.stack([decode(codes, model.layers, light) for light in lights])
        if isinstance(model, ClassicRTI):
            terms = model.coeffs.shape[0]
            part = model.coeffs.reshape(terms, self.pixels, -1)[:, start:stop]
            basis = model.basis(np.asarray(lights, dtype=np.float64)).astype(np.float32)
            out = np.tensordot(basis, part, axes=1)
            out = out * model.chroma.reshape(-1, 3)[start:stop] if model.chroma is not None else out
            return display(out, model.colorprofile)
        if isinstance(model, InterpolatedRTI):
            table = model.light_weights(lights)  # (L, P + 1, 3)
            part = model.planes.reshape(len(model.planes), -1)[:, start:stop]
            out = table[:, None, 0] + np.einsum("pn,lpc->lnc", part, table[:, 1:])
            return display(out, model.colorprofile)
        return np.stack([model.relight(light).reshape(-1, 3)[start:stop] for light in lights])

    def image(self, light: np.ndarray, uint8: bool = False) -> np.ndarray:
        """The image (H, W, 3) under one light: float and unclipped, or 8-bit as ``metrics.to_uint8`` makes it."""
        image = self.model.relight(light)
        return metrics.to_uint8(image) if uint8 else image

    def array(self, light: np.ndarray, uint8: bool = False) -> np.ndarray:
        """:meth:`image` as a numpy array."""
        return self.image(light, uint8)

    def by_pixels(self, lights: np.ndarray, pixels: int) -> Iterator[tuple[int, int, np.ndarray]]:
        """``(start, stop, values)`` for consecutive runs of up to ``pixels`` pixels: their float values (n, L, 3)
        under ``lights``, unclipped; for per-pixel work that needs every light at once."""
        lights = np.asarray(lights, dtype=np.float64)
        step = max(1, self.rows // len(lights))
        for start in range(0, self.pixels, pixels):
            stop = min(start + pixels, self.pixels)
            values = np.empty((stop - start, len(lights), 3), np.float32)
            for first in range(start, stop, step):
                last = min(first + step, stop)
                values[first - start : last - start] = self._numpy(self.chunk(lights, first, last)).transpose(1, 0, 2)
            yield start, stop, values

    def _numpy(self, values: np.ndarray) -> np.ndarray:
        return values

    def beside(self, image: np.ndarray) -> np.ndarray:
        """``image`` where this relighter's images are (scored against them without moving them)."""
        return image


class Relighter(ReferenceRelighter):
    """The fast relighter: PyTorch on ``device``, images kept on the device until asked for as numpy."""

    def __init__(self, model: Relightable, device: str = "auto"):
        import torch

        super().__init__(model)
        self.torch, self.device = torch, pick_device(device)
        self.rows = GPU_ROWS if self.device.type == "cuda" else ROWS
        self._lights: tuple[bytes, torch.Tensor] | None = None
        if isinstance(model, NeuralRTI):
            (w1, b1), (w2, b2), (w3, b3) = [(self._tensor(w), self._tensor(b)) for w, b in model.layers]
            self.codes = self._tensor(model.codes.reshape(-1, CODE_SIZE))
            self.code_weights, self.light_weights, self.first_bias = w1[:, :CODE_SIZE].T, w1[:, CODE_SIZE:], b1
            self.hidden, self.last = (w2.T, b2), (w3.T, b3)
        elif isinstance(model, ClassicRTI):
            self.coeffs = self._tensor(model.coeffs.reshape(model.coeffs.shape[0], self.pixels, -1))
            self.chroma = None if model.chroma is None else self._tensor(model.chroma.reshape(self.pixels, 3))
        elif isinstance(model, InterpolatedRTI):
            self.planes = self._tensor(model.planes.reshape(len(model.planes), self.pixels))

    def _tensor(self, array: np.ndarray) -> torch.Tensor:
        """float32 on the device; on the CPU a float32 array is shared, not copied."""
        return self.torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32)).to(self.device)

    def _numpy(self, values: torch.Tensor) -> np.ndarray:  # type: ignore[override]
        return values.cpu().numpy()

    def beside(self, image: np.ndarray) -> torch.Tensor:  # type: ignore[override]
        return self.torch.from_numpy(np.ascontiguousarray(image)).to(self.device)

    def chunk(self, lights: np.ndarray, start: int, stop: int) -> torch.Tensor:  # type: ignore[override]
        """Pixels ``start:stop`` (flat, row-major) under ``lights`` (L, 3): float (L, n, 3) on the device."""
        torch, model = self.torch, self.model
        if isinstance(model, NeuralRTI):
            elu = torch.nn.functional.elu_
            per_light = self._per_light(lights)
            first = self.codes[start:stop] @ self.code_weights
            h = elu((first[None] + per_light[:, None]).reshape(-1, first.shape[1]))
            h = elu(torch.addmm(self.hidden[1], h, self.hidden[0]))
            return torch.addmm(self.last[1], h, self.last[0]).reshape(len(lights), stop - start, 3)
        if isinstance(model, ClassicRTI):
            basis = self._tensor(model.basis(np.asarray(lights, dtype=np.float64)))
            part = self.coeffs[:, start:stop]
            out = (basis @ part.reshape(len(part), -1)).reshape(len(lights), stop - start, -1)
            return self._display(out * self.chroma[start:stop] if self.chroma is not None else out, model.colorprofile)
        if isinstance(model, InterpolatedRTI):
            table = self._tensor(model.light_weights(lights))  # (L, P + 1, 3)
            out = table[:, None, 0] + torch.einsum("pn,lpc->lnc", self.planes[:, start:stop], table[:, 1:])
            return self._display(out, model.colorprofile)
        return self._tensor(super().chunk(lights, start, stop))

    def _display(self, values: torch.Tensor, colorprofile: str) -> torch.Tensor:
        """:func:`core.capture.images.display` on the device."""
        if colorprofile != "RGB":
            return values
        high = values.clamp(min=0.0031308).pow_(1 / 2.4).mul_(1.055).sub_(0.055)
        return self.torch.where(values <= 0.0031308, values * 12.92, high)

    def _per_light(self, lights: np.ndarray) -> torch.Tensor:
        """The first layer's light part and bias under ``lights``, kept for the next chunks of the same lights (a
        copy to a GPU per chunk would wait for it)."""
        key = np.asarray(lights, dtype=np.float64).tobytes()
        if self._lights is None or self._lights[0] != key:
            self._lights = key, self._tensor(np.asarray(lights)[:, :2]) @ self.light_weights.T + self.first_bias
        return self._lights[1]

    def image(self, light: np.ndarray, uint8: bool = False) -> torch.Tensor:  # type: ignore[override]
        """The image (H, W, 3) under one light, on the device: float and unclipped, or 8-bit (clipped to [0, 1] and
        rounded half to even, as ``metrics.to_uint8``)."""
        torch = self.torch
        out = torch.empty((self.pixels, 3), dtype=torch.uint8 if uint8 else torch.float32, device=self.device)
        lights = np.asarray(light, dtype=np.float64).reshape(1, 3)
        for start in range(0, self.pixels, self.rows):
            stop = min(start + self.rows, self.pixels)
            part = self.chunk(lights, start, stop)[0]
            out[start:stop] = part.clamp_(0.0, 1.0).mul_(255.0).round_() if uint8 else part
        return out.reshape(self.shape)

    def array(self, light: np.ndarray, uint8: bool = False) -> np.ndarray:
        return self.image(light, uint8).cpu().numpy()
