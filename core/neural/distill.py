"""DisK distillation: the student learns from the ground truth and from a frozen teacher's predictions.

The ground truth exists only at the training lights; the teacher can be asked at any light. The fast recipe takes
the teacher's term at random light directions between the training lights: a small decoder fitted only at the
training lights interpolates poorly between them, far worse than its teacher does, and the teacher's answers
elsewhere close that gap.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from .nn import Autoencoder


def loss(student: torch.Tensor, truth: torch.Tensor, student_soft: torch.Tensor, teacher: torch.Tensor,
         alpha: float, temperature: float) -> torch.Tensor:
    """α·MSE(student, truth) + (1 − α)·MSE(student_soft/T, teacher/T); the soft pair may be at other lights. Truth
    and teacher broadcast to the students' shape (several candidates: (B, L, K, 3) against (B, L, 1, 3))."""
    hard = nn.functional.mse_loss(student, truth.expand_as(student))
    soft = nn.functional.mse_loss(student_soft / temperature, (teacher / temperature).expand_as(student_soft))
    return alpha * hard + (1.0 - alpha) * soft


def random_lights(count: int, radius: float, generator: torch.Generator) -> torch.Tensor:
    """``count`` (lx, ly) uniform over the disk of ``radius`` (the training lights' widest): (count, 2)."""
    u = torch.rand((count, 2), generator=generator, device=generator.device)
    r = radius * torch.sqrt(u[:, 0])
    angle = 2.0 * math.pi * u[:, 1]
    return torch.stack([r * torch.cos(angle), r * torch.sin(angle)], dim=1)


class Teacher:
    """A frozen teacher's predictions (B, L, 1, 3) for any pixels and lights, from its precomputed codes (P, K·9);
    a teacher of K members (candidates) predicts their mean."""

    def __init__(self, net: Autoencoder, codes: torch.Tensor):
        self.decoder = net.decoder.eval().requires_grad_(False)
        self.codes = codes

    @torch.no_grad()
    def predict(self, pixels: torch.Tensor, light: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.codes[pixels], light).mean(dim=2, keepdim=True)
