"""Our Adam (PyTorch's fused kernel) against torch.optim.Adam's plain per-tensor loop on the same problem: the same
trajectory, with and without AMSGrad."""

from __future__ import annotations

import pytest
import torch

from core.neural.adam import Adam


def trajectory(make: str, amsgrad: bool, steps: int = 60) -> list[torch.Tensor]:
    """Parameters after ``steps`` steps of fitting a small nonlinear model (rates vary, as under a schedule)."""
    generator = torch.Generator().manual_seed(0)
    x = torch.randn(256, 5, generator=generator)
    y = torch.sin(x @ torch.randn(5, 3, generator=generator))
    weight = torch.randn(5, 3, generator=generator).requires_grad_(True)
    bias = torch.zeros(3, requires_grad=True)
    theirs = torch.optim.Adam([weight, bias], lr=0.0, betas=(0.9, 0.99), eps=1e-8, amsgrad=amsgrad, foreach=False)
    ours = Adam([weight, bias], betas=(0.9, 0.99), eps=1e-8, amsgrad=amsgrad)
    for step in range(steps):
        lr = 0.05 * (1 + step % 3)
        theirs.zero_grad()
        ours.zero_grad()
        loss = ((torch.tanh(x @ weight + bias) - y) ** 2).mean() * (100.0 if step == 20 else 1.0)
        loss.backward()
        if make == "torch":
            theirs.param_groups[0]["lr"] = lr
            theirs.step()
        else:
            ours.schedule(lr)
            ours.step()
    return [weight.detach(), bias.detach()]


@pytest.mark.parametrize("amsgrad", [False, True])
def test_adam_follows_pytorchs(amsgrad: bool) -> None:
    ours, theirs = trajectory("ours", amsgrad), trajectory("torch", amsgrad)
    start = trajectory("ours", amsgrad, steps=0)
    for a, b, s in zip(ours, theirs, start):
        assert (a - s).abs().max() > 0.1  # they moved
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_adam_reset_and_state_round_trip() -> None:
    weight = torch.ones(4, requires_grad=True)
    adam = Adam([weight], amsgrad=True)
    for _ in range(3):
        adam.zero_grad()
        (weight ** 2).sum().backward()
        adam.schedule(0.1)
        adam.step()
    copy = Adam([torch.ones(4, requires_grad=True)], amsgrad=True)
    copy.load_state_dict(adam.state_dict())
    assert int(copy.count) == 3 and all(torch.equal(a, b) for a, b in zip(copy.second_max, adam.second_max))
    adam.reset()
    moments = (*adam.first, *adam.second, *adam.second_max)
    assert int(adam.count) == 0 and all(float(m.abs().sum()) == 0 for m in moments)
