"""What a training step sees: the MLIC on the device, the batches drawn from it, and the held-out part.

- ``Data`` keeps the training images as one tensor in their stored dtype (8 or 16 bits) and turns the pixels a batch
  asks for into floats as it is drawn.
- ``Validation`` holds out whole *lights*: their images are neither an encoder input nor a target, as a test
  light is at test time, and networks are scored by decoding a sample of pixels at them, beside an HSH3 fit of the
  same pixels under the training lights (``held_out_lights`` picks them).
- The **fast recipe** (``PixelBatches``) draws random pixels, each decoded under one shared random subset of the
  training lights (one encoder pass serves many targets), plus random light directions where a distilled student
  matches its teacher; it is validated at the held-out lights.
- The **reference recipe** (``SampleBatches``) draws epochs of shuffled (pixel, light) samples and holds out 10% of
  the samples for its early stopping, as the released NeuralRTI/DisK code does (``SampleValidation``).

``split`` makes both parts of a run from its settings.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..capture.mlic import MLIC
from ..classic import hsh
from ..errors import RTIError
from . import distill
from .config import TrainConfig
from .nn import Autoencoder

AHEAD = 100
"""Fast-recipe batches drawn at a time (see ``PixelBatches``)."""
MIN_STD = 0.01
"""Floor of an encoder input's standard deviation when inputs are standardised: an input that barely varies (a
light that leaves the scene dark) must not have its quantisation noise blown up."""
VAL_PIXELS = 16384
"""Pixels, sampled inside the mask, that score a network at the held-out lights."""


def held_out_lights(count: int, every: int) -> np.ndarray:
    """Indices of the lights held out for validation: every ``every``-th, from the middle of the first ``every``
    (``.lp`` files list domes ring by ring, so these spread over elevations), and at least one."""
    if count < 2:
        raise RTIError(f"training needs at least 2 lights (one is held out to validate), the MLIC has {count}")
    return np.arange(min(every // 2, count - 1), count, every)


SCALE_FROM = 1 << 20
"""Pixels (inside the mask) up to which the fast recipe's batch stays at the device's default."""
MAX_SCALE = 8
"""The most the fast recipe's default batch grows on a large capture."""


GPU_BATCH = (1024, 64)
CPU_BATCH = (128, 16)
"""The fast recipe's (pixels, lights) a step on a GPU and on a CPU, tuned on 320² captures."""


def batch_defaults(config: TrainConfig, device: torch.device, pixels: int = 0) -> tuple[int, int]:
    """(batch, lights per step): the fast recipe's defaults were tuned per device on 320² captures; above a
    megapixel (``pixels`` inside the mask) the default batch grows as the square root of the pixels, up to
    ``MAX_SCALE`` times, so that a camera-sized capture is not left mostly unseen by a step budget made for 0.1 MP
    (what that buys: docs/large-captures.md). An explicit ``--batch`` is kept as given."""
    if config.recipe == "reference":
        return config.batch or 64, 1
    default_batch, default_lights = GPU_BATCH if device.type == "cuda" else CPU_BATCH
    scale = min(MAX_SCALE, max(1.0, (pixels / SCALE_FROM) ** 0.5))
    return config.batch or round(default_batch * scale), config.lights_per_step or default_lights


class Data:
    """The training images as a (N, P, 3) tensor in their stored dtype, the lights' (lx, ly) and the pixel pool.

    ``lights`` picks the MLIC's lights to train on (default: all); the images are not copied for that, a batch
    gathers its pixels under every light and keeps those (a camera-sized capture's photos are most of the memory).
    ``stack`` passes the MLIC's images already on the device (another ``Data``'s)."""

    def __init__(self, mlic: MLIC, device: torch.device, lights: np.ndarray | None = None,
                 stack: torch.Tensor | None = None):
        self.device = device
        kept = np.arange(mlic.count) if lights is None else np.asarray(lights)
        self.count, self.height, self.width = len(kept), mlic.height, mlic.width
        self.pixels = mlic.height * mlic.width
        self.wide = mlic.images.dtype == np.uint16
        if stack is None:
            flat = mlic.images.reshape(mlic.count, self.pixels, 3)
            # torch indexes int16 everywhere but uint16 only in recent versions: keep the bits, unwrap after the gather
            stack = torch.from_numpy(flat.view(np.int16) if self.wide else flat).to(device)
        self.stack = stack
        self.kept = None if len(kept) == mlic.count else torch.as_tensor(kept, device=device)
        self.scale = 1.0 / mlic.max_value
        self.lights = mlic.lights[kept]
        self.light_xy = torch.as_tensor(self.lights[:, :2], dtype=torch.float32, device=device)
        self.light_radius = float(torch.linalg.vector_norm(self.light_xy, dim=1).max())
        inside = np.flatnonzero(mlic.mask.ravel()) if mlic.mask is not None else np.arange(self.pixels)
        if len(inside) == 0:
            raise RTIError("the mask has no pixels inside: nothing to train on")
        self.inside = torch.as_tensor(inside, device=device)
        self._moments: tuple[torch.Tensor, torch.Tensor] | None = None

    def moments(self, sample: int = 65536) -> tuple[torch.Tensor, torch.Tensor]:
        """Mean and standard deviation (at least ``MIN_STD``) of each encoder input, over a fixed random sample of
        the pixels inside the mask."""
        if self._moments is None:
            picks = torch.randperm(len(self.inside), generator=torch.Generator().manual_seed(0))[:sample]
            x = self.observations(self.inside[picks.to(self.device)]).reshape(len(picks), -1)
            self._moments = x.mean(dim=0), x.std(dim=0, correction=0).clamp_min(MIN_STD)
        return self._moments

    def observations(self, pixels: torch.Tensor) -> torch.Tensor:
        """Float values in [0, 1] of the given pixels under every light: (B, N, 3)."""
        values = self.stack[:, pixels]
        if self.kept is not None:
            values = values[self.kept]
        values = values.permute(1, 0, 2)
        if self.wide:
            values = values.to(torch.int32) & 0xFFFF
        return values.float() * self.scale

    def batch(self, pixels: torch.Tensor, light_index: torch.Tensor) -> tuple[torch.Tensor, ...]:
        """Encoder inputs (B, 3N), targets (B, L, 1, 3) (one for every member of a network) and decoder lights: all
        pixels share ``light_index`` (L,), or each pixel has its own lights (B, L)."""
        obs = self.observations(pixels)
        rows = torch.arange(len(pixels), device=self.device)[:, None]
        return obs.reshape(len(pixels), -1), obs[rows, light_index][:, :, None], self.light_xy[light_index]


Batch = tuple[torch.Tensor, torch.Tensor, torch.Tensor]
"""Pixel indices, light indices (shared (L,) or per pixel (B, L)) and free light directions (F, 2), where a
distilled student matches its teacher (none: at the batch's lights)."""


def own_stream(generator: torch.Generator, saved: torch.Tensor, rank: int) -> None:
    """Set ``generator`` to a checkpoint's ``saved`` state (rank 0's); another rank continues a stream of its own."""
    generator.set_state(saved)
    if rank:
        generator.manual_seed(int(torch.randint(1 << 62, (1,), generator=generator)) + rank)


class PixelBatches:
    """Fast recipe: ``batch`` random pixels of the pool, each decoded under one shared random subset of lights, and
    ``free`` random directions within ``radius`` for distillation.

    Batches are drawn ``AHEAD`` steps at a time into buffers that stay in place (a few kernels per hundred steps
    instead of a dozen per step); ``next`` hands them out in order, and a captured CUDA graph reads them directly
    (``core.neural.train.GraphedStep``)."""

    def __init__(self, pool: torch.Tensor, lights: int, batch: int, per_step: int, free: int, radius: float,
                 seed: int):
        self.pool, self.lights, self.batch, self.per_step = pool, lights, batch, min(per_step, lights)
        self.free, self.radius = free, radius
        self.generator = torch.Generator(device=pool.device).manual_seed(seed)
        self.steps_per_epoch = max(1, len(pool) // batch)
        self.pixels = torch.empty((AHEAD, batch), dtype=pool.dtype, device=pool.device)
        self.light_index = torch.empty((AHEAD, self.per_step), dtype=torch.long, device=pool.device)
        self.free_lights = torch.empty((AHEAD, free, 2), device=pool.device)
        self._draw()

    def _draw(self) -> None:
        """Fill the buffers with the next ``AHEAD`` batches."""
        self.drawn_from = self.generator.get_state()
        device = self.pool.device
        picks = torch.randint(len(self.pool), (AHEAD, self.batch), generator=self.generator, device=device)
        self.pixels.copy_(self.pool[picks])
        order = torch.rand((AHEAD, self.lights), generator=self.generator, device=device).argsort(dim=1)
        self.light_index.copy_(order[:, : self.per_step])
        free = distill.random_lights(AHEAD * self.free, self.radius, self.generator)
        self.free_lights.copy_(free.reshape(AHEAD, self.free, 2))
        self.position = 0

    def take(self) -> int:
        """The buffer row of the next batch, drawing new ones when all were used."""
        if self.position == AHEAD:
            self._draw()
        self.position += 1
        return self.position - 1

    def next(self) -> Batch:
        """The next batch, copied (the buffers are refilled every ``AHEAD`` batches)."""
        row = self.take()
        return self.pixels[row].clone(), self.light_index[row].clone(), self.free_lights[row].clone()

    def state(self) -> dict:
        return {"rng": self.drawn_from, "position": self.position}

    def restore(self, state: dict, rank: int = 0) -> None:
        """Continue from ``state`` (a checkpoint holds rank 0's): another rank continues a stream of its own."""
        own_stream(self.generator, state["rng"], rank)
        self._draw()
        self.position = state["position"]


class SampleBatches:
    """Reference recipe: epochs over shuffled (pixel, light) samples, ``batch`` samples a step."""

    def __init__(self, samples: torch.Tensor, lights: int, batch: int, seed: int):
        self.samples, self.lights, self.batch = samples, lights, batch
        self.no_free = torch.empty((0, 2), device=samples.device)
        self.generator = torch.Generator(device=samples.device).manual_seed(seed)
        self.steps_per_epoch = -(-len(samples) // batch)
        self._new_epoch()

    def _new_epoch(self) -> None:
        self.epoch_rng = self.generator.get_state()
        self.order = torch.randperm(len(self.samples), generator=self.generator, device=self.samples.device)
        self.position = 0

    def next(self) -> Batch:
        if self.position >= len(self.order):
            self._new_epoch()
        ids = self.samples[self.order[self.position : self.position + self.batch]]
        self.position += self.batch
        return ids // self.lights, (ids % self.lights)[:, None], self.no_free

    def state(self) -> dict:
        return {"rng": self.epoch_rng, "position": self.position}

    def restore(self, state: dict, rank: int = 0) -> None:
        own_stream(self.generator, state["rng"], rank)
        self._new_epoch()
        self.position = state["position"]


class Validation:
    """Held-out lights: ``pixels`` (a sample inside the mask), encoded from the training lights and decoded at the
    held-out ``lights``, against their true values. Predictions are clipped to [0, 1], as test images are."""

    def __init__(self, mlic: MLIC, held: np.ndarray, data: Data, seed: int):
        generator = torch.Generator().manual_seed(seed)
        inside = data.inside.cpu()
        picks = inside[torch.randperm(len(inside), generator=generator)[:VAL_PIXELS]].numpy()
        self.pixels = torch.as_tensor(picks, device=data.device)
        flat = mlic.images.reshape(mlic.count, -1, 3)
        values = flat[np.ix_(held, picks)].transpose(1, 0, 2) / mlic.max_value  # no copy of the held-out photos
        self.targets = torch.as_tensor(values[:, :, None], dtype=torch.float32, device=data.device)  # (B, V, 1, 3)
        self.lights = mlic.lights[held]
        self.light_xy = torch.as_tensor(self.lights[:, :2], dtype=torch.float32, device=data.device)
        self._hsh3: tuple[Data, float] | None = None

    @torch.no_grad()
    def mse(self, net: Autoencoder, data: Data, chunk: int = 4096) -> list[float]:
        """The mean squared error of each member."""
        total = torch.zeros(net.members, device=data.device)
        for start in range(0, len(self.pixels), chunk):
            x = data.observations(self.pixels[start : start + chunk]).flatten(1)
            pred = net(x, self.light_xy).clamp(0.0, 1.0)
            total += ((pred - self.targets[start : start + chunk]) ** 2).sum(dim=(0, 1, 3))
        return (total / self.targets.numel()).tolist()

    @torch.no_grad()
    def flat_mse(self, data: Data) -> float:
        """The error of the best constant colour: a network no better than this has learned nothing."""
        return float(((self.targets - self.targets.mean(dim=(0, 1))) ** 2).mean())

    @torch.no_grad()
    def hsh3_mse(self, data: Data) -> float:
        """The error of a least-squares HSH3 fit of each pixel under the training lights, at the held-out lights
        (computed once for ``data``: every phase compares with it)."""
        if self._hsh3 is None or self._hsh3[0] is not data:
            self._hsh3 = data, self._fit_hsh3(data)
        return self._hsh3[1]

    def _fit_hsh3(self, data: Data) -> float:
        fit_basis = hsh.basis(data.lights, 3)  # (N, 9)
        values = data.observations(self.pixels).permute(1, 0, 2).reshape(len(fit_basis), -1)  # (N, B·3)
        coefficients = np.linalg.lstsq(fit_basis, values.double().cpu().numpy(), rcond=None)[0]
        predicted = np.clip(hsh.basis(self.lights, 3) @ coefficients, 0.0, 1.0)  # (V, B·3)
        truth = self.targets[:, :, 0].permute(1, 0, 2).reshape(len(self.lights), -1).double().cpu().numpy()
        return float(((predicted - truth) ** 2).mean())


@dataclass
class SampleValidation:
    """Reference recipe: held-out (pixel, light) samples of the training lights, for its early stopping."""

    pixels: torch.Tensor
    light_index: torch.Tensor

    @torch.no_grad()
    def mse(self, net: Autoencoder, data: Data, chunk: int = 4096) -> list[float]:
        """The mean squared error of each member."""
        total, count = torch.zeros(net.members, device=data.device), 0
        for start in range(0, len(self.pixels), chunk):
            x, target, light = data.batch(self.pixels[start : start + chunk], self.light_index[start : start + chunk])
            total += ((net(x, light) - target) ** 2).sum(dim=(0, 1, 3))
            count += target.numel()
        return (total / count).tolist()


RANK_SEEDS = 7919
"""Distance between the batch seeds of two ranks."""


def split(data: Data, config: TrainConfig, val: Validation,
          rank: int = 0) -> tuple[PixelBatches | SampleBatches, Validation | SampleValidation]:
    """The batches of a run and what validates it: the held-out lights (fast), or a seeded 10% of the training
    samples (reference). Each ``rank`` of a data-parallel run draws batches of its own."""
    batch, per_step = batch_defaults(config, data.device, len(data.inside))
    seed = config.seed + 1 + RANK_SEEDS * rank
    if config.recipe == "fast":
        return PixelBatches(data.inside, data.count, batch, per_step, config.distill_lights, data.light_radius,
                            seed), val
    generator = torch.Generator().manual_seed(config.seed)
    samples = (data.inside.cpu()[:, None] * data.count + torch.arange(data.count)).ravel()
    samples = samples[torch.randperm(len(samples), generator=generator)]
    held = max(len(samples) // 10, 1)
    val_ids = samples[:held].to(data.device)
    return (SampleBatches(samples[held:].to(data.device), data.count, batch, seed),
            SampleValidation(val_ids // data.count, (val_ids % data.count)[:, None]))
