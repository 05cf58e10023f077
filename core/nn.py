"""The networks of NeuralRTI and DisK-NeuralRTI, in PyTorch.

A per-pixel autoencoder: the encoder maps a pixel's RGB under all N training lights (3N values in [0, 1]) to a
9-value code; the decoder maps the code and a light's (lx, ly) to an RGB value. ELU between layers, linear outputs.
The decoder always has two hidden layers of one width, which is what OpenLIME's neural viewer runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .neural import CODE_SIZE


@dataclass(frozen=True)
class Architecture:
    """Hidden widths of the encoder layers and the width of the decoder's two hidden layers."""

    encoder: tuple[int, ...]
    decoder: int

    def to_json(self) -> dict:
        return {"encoder": list(self.encoder), "decoder": self.decoder}


NEURALRTI = Architecture((150, 150, 150), 50)
"""The released NeuralRTI network: encoder 3N→150→150→150→9, decoder 11→50→50→3 (3,303 parameters)."""

TEACHER = Architecture((150, 150, 150, 150), 50)
"""The DisK teacher: one more encoder layer than NeuralRTI, the same decoder."""


def student(width: int = 20) -> Architecture:
    """A DisK student: an encoder of the teacher's size and a ``width``-``width`` decoder (20 → 723 parameters)."""
    return Architecture(TEACHER.encoder, width)


def decoder_parameters(width: int) -> int:
    """Parameters of a decoder with two hidden layers of ``width``: (11+1)·w + (w+1)·w + (w+1)·3."""
    return (CODE_SIZE + 3) * width + (width + 1) * width + (width + 1) * 3


class Encoder(nn.Module):
    """Pixel observations (B, 3N) → codes (B, 9), through a fixed per-input affine map (identity until
    ``standardise``)."""

    input_scale: torch.Tensor
    input_shift: torch.Tensor

    def __init__(self, lights: int, hidden: tuple[int, ...]):
        super().__init__()
        widths = (3 * lights, *hidden)
        self.hidden = nn.ModuleList(nn.Linear(a, b) for a, b in zip(widths[:-1], widths[1:]))
        self.output = nn.Linear(widths[-1], CODE_SIZE)
        self.register_buffer("input_scale", torch.ones(widths[0]))
        self.register_buffer("input_shift", torch.zeros(widths[0]))

    def standardise(self, mean: torch.Tensor, std: torch.Tensor, spread: float) -> None:
        """Map every input to zero mean and standard deviation ``spread`` (statistics of the MLIC's pixels, not
        trained). Only the codes and the decoder are exported, so this map never leaves training."""
        self.input_scale.copy_(spread / std)
        self.input_shift.copy_(-spread * mean / std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.addcmul(self.input_shift, x, self.input_scale)
        for layer in self.hidden:
            x = nn.functional.elu(layer(x))
        return self.output(x)


class Decoder(nn.Module):
    """Codes (B, 9) and light directions (L, 2) or (B, L, 2) → RGB (B, L, 3): each code under each of its lights.

    The first layer's weights split into a code part and a light part, so each part is computed once per pixel or
    once per light and the two are broadcast-added, instead of building a (B, L, 11) input.
    """

    def __init__(self, width: int):
        super().__init__()
        self.input = nn.Linear(CODE_SIZE + 2, width)
        self.hidden = nn.Linear(width, width)
        self.output = nn.Linear(width, 3)

    def forward(self, code: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
        weight = self.input.weight
        per_pixel = code @ weight[:, :CODE_SIZE].T
        per_light = light @ weight[:, CODE_SIZE:].T + self.input.bias  # (L, n) shared, or (B, L, n) per pixel
        h = nn.functional.elu(per_pixel[:, None, :] + per_light)
        h = nn.functional.elu(self.hidden(h))
        return self.output(h)


class Autoencoder(nn.Module):
    """Encoder and decoder of one model; ``forward`` decodes each pixel under the given lights."""

    def __init__(self, lights: int, architecture: Architecture):
        super().__init__()
        self.architecture = architecture
        self.encoder = Encoder(lights, architecture.encoder)
        self.decoder = Decoder(architecture.decoder)

    def forward(self, x: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x), light)
