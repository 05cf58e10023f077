"""The networks of NeuralRTI and DisK-NeuralRTI, in PyTorch.

A per-pixel autoencoder: the encoder maps a pixel's RGB under all N training lights (3N values in [0, 1]) to a
9-value code; the decoder maps the code and a light's (lx, ly) to an RGB value. ELU between layers, linear outputs.
The decoder always has two hidden layers of one width, which is what OpenLIME's neural viewer runs.

A network can hold several independent *members* of one architecture, trained at once: every layer is one matrix
whose blocks are the members' layers (block-diagonal, or stacked where all members read the same input), so K
members run in the kernels of one and a GPU step costs far less than K steps. ``member(k)`` takes one out as a
network of its own.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from .model import CODE_SIZE


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


class Linear(nn.Module):
    """The same dense layer of every member as one: weight (K·out, K·in), block-diagonal, or (K·out, in) when the
    members share their input (``shared``). Off-block weights are masked to zero, so members never mix. One member
    is a plain linear layer, initialised as ``nn.Linear`` is."""

    mask: torch.Tensor | None

    def __init__(self, weights: list[torch.Tensor], biases: list[torch.Tensor] | None, shared: bool):
        super().__init__()
        self.shared = shared or len(weights) == 1
        self.outputs, self.inputs = weights[0].shape
        joined = torch.cat(weights) if self.shared else torch.block_diag(*weights)
        self.weight = nn.Parameter(joined.detach().clone())
        self.bias = None if biases is None else nn.Parameter(torch.cat(biases).detach().clone())
        mask = None if self.shared else torch.block_diag(*(torch.ones_like(w) for w in weights))
        self.register_buffer("mask", mask)

    @classmethod
    def new(cls, inputs: int, outputs: int, members: int, shared: bool = False) -> Linear:
        layers = [nn.Linear(inputs, outputs) for _ in range(members)]
        return cls([layer.weight.detach() for layer in layers], [layer.bias.detach() for layer in layers], shared)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight if self.mask is None else self.weight * self.mask, self.bias)

    def keep(self, k: int) -> None:
        """Become member ``k``'s layer alone."""
        rows = slice(k * self.outputs, (k + 1) * self.outputs)
        columns = slice(None) if self.shared else slice(k * self.inputs, (k + 1) * self.inputs)
        self.weight = nn.Parameter(self.weight.detach()[rows, columns].clone())
        if self.bias is not None:
            self.bias = nn.Parameter(self.bias.detach()[rows].clone())
        self.mask, self.shared = None, True


class Encoder(nn.Module):
    """Pixel observations (B, 3N) → codes (B, K·9), through a fixed per-input affine map (identity until
    ``standardise``) that all K members share."""

    input_scale: torch.Tensor
    input_shift: torch.Tensor

    def __init__(self, lights: int, hidden: tuple[int, ...], members: int = 1):
        super().__init__()
        widths = (3 * lights, *hidden)
        self.hidden = nn.ModuleList(Linear.new(a, b, members, shared=i == 0)
                                    for i, (a, b) in enumerate(zip(widths[:-1], widths[1:])))
        self.output = Linear.new(widths[-1], CODE_SIZE, members)
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
    """Codes (B, K·9) and light directions (L, 2) or (B, L, 2) → RGB (B, L, K, 3): each member's code under each of
    its pixel's lights.

    The first layer's weights split into a code part and a light part, so each part is computed once per pixel or
    once per light and the two are broadcast-added, instead of building a (B, L, 11) input.
    """

    def __init__(self, width: int, members: int = 1):
        super().__init__()
        first = [nn.Linear(CODE_SIZE + 2, width) for _ in range(members)]
        self.code_input = Linear([layer.weight.detach()[:, :CODE_SIZE] for layer in first], None, shared=False)
        self.light_input = Linear([layer.weight.detach()[:, CODE_SIZE:] for layer in first],
                                  [layer.bias.detach() for layer in first], shared=True)
        self.hidden = Linear.new(width, width, members)
        self.output = Linear.new(width, 3, members)
        self.members = members

    def forward(self, code: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
        per_pixel = self.code_input(code)
        per_light = self.light_input(light)  # (L, K·n) shared, or (B, L, K·n) per pixel
        h = nn.functional.elu(per_pixel[:, None, :] + per_light)
        h = nn.functional.elu(self.hidden(h))
        return self.output(h).unflatten(-1, (self.members, 3))

    def layers(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """A one-member decoder's three layers as (weight (out, in), bias (out,)), the first over (code, lx, ly)."""
        assert self.members == 1
        layers: list[tuple[torch.Tensor, torch.Tensor]] = []
        for weight, layer in ((torch.cat([self.code_input.weight, self.light_input.weight], dim=1), self.light_input),
                              (self.hidden.weight, self.hidden), (self.output.weight, self.output)):
            assert layer.bias is not None
            layers.append((weight, layer.bias))
        return layers


class Autoencoder(nn.Module):
    """Encoder and decoder of one model, or of ``members`` independent ones; ``forward`` decodes each pixel under the
    given lights: (B, L, K, 3)."""

    def __init__(self, lights: int, architecture: Architecture, members: int = 1):
        super().__init__()
        self.architecture, self.members = architecture, members
        self.encoder = Encoder(lights, architecture.encoder, members)
        self.decoder = Decoder(architecture.decoder, members)

    def forward(self, x: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x), light)

    def member(self, k: int) -> Autoencoder:
        """Member ``k`` alone, as a network of one member (its own copy of the weights)."""
        one = copy.deepcopy(self)
        for layer in one.modules():
            if isinstance(layer, Linear):
                layer.keep(k)
        one.members = one.decoder.members = 1
        return one
