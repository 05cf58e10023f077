"""Adam (optionally AMSGrad) on PyTorch's fused kernel, without ``torch.optim``.

``torch.optim`` imports ``torch._dynamo`` the first time any of its optimisers is built or stepped, which takes
seconds: a large part of the 30 s a GPU run of teacher and student is allowed. This class
calls the kernel that ``torch.optim.Adam(fused=True)`` calls, one launch for every parameter, on the CPU and the GPU.
Its operands (learning rate, step count, moments) are tensors updated in place, so a captured CUDA graph replays
the step as it is: ``schedule`` refills the rate between replays.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch


class Adam:
    """Adam over a fixed list of parameters; ``schedule(lr)`` sets the rate of the steps that follow."""

    def __init__(self, params: Iterable[torch.Tensor], betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, amsgrad: bool = False):
        self.params = list(params)
        self.betas, self.eps, self.amsgrad = betas, eps, amsgrad
        device = self.params[0].device
        self.lr = torch.zeros((), device=device)
        self.count = torch.zeros((), device=device)
        self.first = [torch.zeros_like(p) for p in self.params]
        self.second = [torch.zeros_like(p) for p in self.params]
        self.second_max = [torch.zeros_like(p) for p in self.params] if amsgrad else []

    def schedule(self, lr: float) -> None:
        """Set the learning rate in place, where a captured graph reads it."""
        self.lr.fill_(lr)

    def zero_grad(self) -> None:
        for p in self.params:
            p.grad = None

    @torch.no_grad()
    def step(self) -> None:
        self.count.add_(1)
        grads = [p.grad for p in self.params if p.grad is not None]  # all of them: the kernel checks the lengths
        lr = self.lr if self.lr.is_cuda else self.lr.item()  # PyTorch 2.4's CPU kernel takes only a float rate
        torch._fused_adam_(self.params, grads, self.first, self.second, self.second_max,
                           [self.count] * len(self.params), lr=lr, beta1=self.betas[0], beta2=self.betas[1],
                           weight_decay=0.0, eps=self.eps, amsgrad=self.amsgrad, maximize=False)

    def reset(self) -> None:
        """Forget the moments and the step count, in place (a captured graph keeps reading the same tensors)."""
        for tensor in (self.count, *self.first, *self.second, *self.second_max):
            tensor.zero_()

    def state_dict(self) -> dict:
        """The live tensors (``torch.save`` them, or deep-copy them to keep a snapshot)."""
        return {"count": self.count, "first": self.first, "second": self.second, "second_max": self.second_max}

    def load_state_dict(self, state: dict) -> None:
        for mine, saved in zip((self.count, *self.first, *self.second, *self.second_max),
                               (state["count"], *state["first"], *state["second"], *state["second_max"]), strict=True):
            mine.copy_(saved)
