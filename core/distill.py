"""DisK distillation: the student learns from the ground truth and from a frozen teacher's predictions."""

from __future__ import annotations

import torch
from torch import nn

from .nn import Autoencoder


def loss(student: torch.Tensor, truth: torch.Tensor, teacher: torch.Tensor, alpha: float,
         temperature: float) -> torch.Tensor:
    """α·MSE(student, truth) + (1 − α)·MSE(student/T, teacher/T)."""
    hard = nn.functional.mse_loss(student, truth)
    soft = nn.functional.mse_loss(student / temperature, teacher / temperature)
    return alpha * hard + (1.0 - alpha) * soft


class Teacher:
    """A frozen teacher's predictions for any pixels and lights, from its precomputed codes (P, 9)."""

    def __init__(self, net: Autoencoder, codes: torch.Tensor):
        self.decoder = net.decoder.eval().requires_grad_(False)
        self.codes = codes

    @torch.no_grad()
    def predict(self, pixels: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.codes[pixels], light)
