"""Train neural RTI models: the DisK teacher and its distilled student, or one network alone.

Read top to bottom: the loop shared by every network (learning rate, validation, early stopping, time budget,
checkpoints, divergence); ``train``, which runs the phases and returns plain-numpy models. Both are generators that
yield every few steps (``training`` is ``train`` as one), so several captures can train at once in one process
(``core.neural.scheduler``); under ``torchrun`` one capture trains data parallel over the ranks
(``core.neural.ranks``). The settings,
``TrainConfig``, are in ``core.neural.config``; the MLIC on the device, the batches and the held-out part in
``core.neural.batches``.

- The **fast recipe** (default) decodes a batch of pixels under a random subset of their training lights, so one
  encoder pass serves many targets; the encoder's inputs are centred and evened out (``INPUT_SPREAD``); Adam
  (β₂ = 0.99) with a warm-up and cosine learning rate over a fixed number of steps; validation at held-out lights
  (images that are never an input nor a target); the best validated weights are kept; a network that learned
  nothing, or ended well below an HSH3 fit at the same held-out lights, restarts; one that collapses goes back to its
  best weights.
  Students get more steps than the teacher: their steps are as cheap and a small decoder needs longer to converge;
  on a GPU they also get a higher peak learning rate (``GPU_STUDENT_LR``).
  On a GPU several students (candidates) train at once as members of one network and the best validated one is
  kept: students of one teacher differ widely by their seed alone, and a GPU step of two costs little more than one.
  A distilled student matches the teacher at random light directions, not only at the training lights.
- The **reference recipe** re-implements the released NeuralRTI/DisK training as described in the papers' code:
  one (pixel, light) sample per row, random 90/10 split of the samples, batch 64, Adam lr 1e-2 with AMSGrad,
  up to 100 epochs, early stopping on the validation loss with patience 5.

Every model records its PSNR at the held-out lights and that of HSH3 there (``val_psnr``, ``hsh3_val_psnr``), and a
model below HSH3 is reported with a warning: the one test a user without test photos has.
"""

from __future__ import annotations

import copy
import hashlib
import io
import math
import os
import time
from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..capture.mlic import MLIC
from ..errors import RTIError
from ..progress import Progress
from ..relighting import pick_device
from . import distill
from .adam import Adam
from .batches import (CPU_BATCH, GPU_BATCH, Batch, Data, PixelBatches, SampleBatches, Validation, batch_defaults,
                      held_out_lights, split)
from .config import GPU_CANDIDATES, GPU_STUDENT_LR, TrainConfig
from .model import NeuralRTI, below_hsh3
from .nn import NEURALRTI, TEACHER, Architecture, Autoencoder, decoder_parameters, student
from .ranks import SOLO, Ranks
from .scheduler import finish, side_by_side

TICK = 25
"""Steps between loss checks, progress lines, time-budget and checkpoint checks."""
DEAD = 0.9
"""A fast-recipe network whose best validation error, after its warm-up and a tenth of its run, is still above this
fraction of the best constant colour's learned nothing: at the peak learning rate one burst of steps can push the
codes so far that every unit of a small decoder saturates, and it never recovers. It restarts from a new
initialisation, at most ``RESTARTS`` times."""
RESTARTS = 2
REFIT_LR = 0.3
"""Peak learning rate of ``_refit`` as a fraction of the run's."""
BELOW_HSH3_DB = 2.0
"""A fast-recipe network whose best validation PSNR at the end of its run is more than this many dB below an HSH3
fit at the same held-out lights (the classic baseline, fitted by least squares) ended in a poor basin, typically
with the shadows of grazing lights unlearned, and a distilled student would follow such a teacher down. It restarts
from a new initialisation, at most ``RESTARTS`` times, and the best validated start is kept. Not under a time
budget, which leaves no time for another start."""
COLLAPSE = 2.0
"""A fast-recipe network whose validation error stays above this multiple of its best (3 dB worse) for
``COLLAPSE_EVALS`` evaluations in a row collapsed: healthy runs spike at the peak learning rate and come back,
collapsed ones never do. It returns to its best weights with fresh Adam moments and a new warm-up, at most
``RECOVERIES`` times."""
COLLAPSE_EVALS = 3
RECOVERIES = 2
INPUT_SPREAD = 0.3
"""Standard deviation of every encoder input in the fast recipe, after centring (``Encoder.standardise``). The raw
inputs are brightnesses in [0, 1] with a large common offset, which slows learning; scaled to 1 instead, the first
layer moves too fast at the peak learning rate and networks collapse (docs/experiments.md, "Standardised encoder
inputs")."""
CHECKPOINT_VERSION = 4
"""Increased whenever the networks' saved state changes meaning, so that ``--resume`` refuses a checkpoint of an
older trainer instead of failing halfway through loading it."""


class DeadStart(Exception):
    """Raised by :func:`run_phase` for a network that learned nothing (see ``DEAD``) after ``seconds``."""

    def __init__(self, seconds: float):
        super().__init__(seconds)
        self.seconds = seconds


def fast_student(config: TrainConfig, role: str) -> bool:
    """Whether ``role`` is a student of the fast recipe, the only network with its own learning rate."""
    return role == "student" and config.recipe == "fast"


def candidate_count(config: TrainConfig, role: str, device: torch.device) -> int:
    """Networks trained at once for ``role`` (fast recipe): ``teacher_candidates`` teachers; students by default
    ``GPU_CANDIDATES`` on a GPU, where a step is bound by the number of kernels and a few cost little more than one,
    and one on a CPU, where each costs a whole network's arithmetic."""
    if config.recipe != "fast":
        return 1
    if role == "teacher":
        return config.teacher_candidates
    return config.candidates or (GPU_CANDIDATES if device.type == "cuda" else 1)


def peak_lr(config: TrainConfig, role: str, device: torch.device) -> float:
    """Peak learning rate of ``role``: the reference recipe and teachers use ``lr``; fast-recipe students
    ``student_lr``, by default ``GPU_STUDENT_LR`` on a GPU and ``lr`` on a CPU."""
    if not fast_student(config, role):
        return config.lr
    return config.student_lr or (GPU_STUDENT_LR if device.type == "cuda" else config.lr)


def population(config: TrainConfig, device: torch.device) -> list[TrainConfig]:
    """The settings each network trains with side by side, the best validated one kept: ``config``, and with
    ``config.population`` (fast recipe) also the other device's recipe, which differs in batch, lights per step,
    students and their learning rate: on some captures the CPU's small batches beat the GPU's by dB
    (docs/experiments.md, "Populations")."""
    if not config.population or config.recipe != "fast":
        return [config]
    if device.type == "cuda":
        return [config, replace(config, batch=CPU_BATCH[0], lights_per_step=CPU_BATCH[1], candidates=1,
                                student_lr=config.lr)]
    return [config, replace(config, batch=GPU_BATCH[0], lights_per_step=GPU_BATCH[1], candidates=GPU_CANDIDATES,
                            student_lr=GPU_STUDENT_LR)]


def lr_option(config: TrainConfig, role: str) -> str:
    """The option that sets ``role``'s learning rate, for error messages."""
    return "--student-lr" if fast_student(config, role) else "--lr"


@dataclass
class PhaseState:
    """Where one network's training stands; a checkpoint saves it mid-phase."""

    step: int = 0
    elapsed: float = 0.0
    best_mse: float = math.inf
    best_step: int = 0
    best_member: int = 0
    best: dict | None = None
    bad_evals: int = 0
    worse_evals: int = 0
    recoveries: int = 0
    recovered_at: int = 0
    stopped: str = ""
    below_hsh3: bool = False
    history: list[tuple[int, float, float]] = field(default_factory=list)


LossFn = Callable[[Autoencoder, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]
"""(network, encoder inputs, targets, their lights, pixel indices, free lights) → the loss to minimise."""
SaveFn = Callable[[Autoencoder, Adam, "PixelBatches | SampleBatches", PhaseState], None]


def learning_rate(config: TrainConfig, peak: float, progress: float, step: int, total: int) -> float:
    """Fast: linear warm-up to ``peak`` over 2% of the ``total`` steps (``step`` counts from the start or the last
    recovery), then cosine to zero; reference: constant."""
    if config.recipe == "reference":
        return peak
    warmup = min(1.0, (step + 1) / warmup_steps(total))
    return peak * warmup * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))


def warmup_steps(total: int) -> int:
    return max(1, total // 50)


class EagerStep:
    """One optimiser step on a freshly drawn batch; returns the loss (a tensor, not synchronised)."""

    def __init__(self, net: Autoencoder, optimizer: Adam, data: Data, loss_fn: LossFn,
                 batches: PixelBatches | SampleBatches, ranks: Ranks = SOLO, precision: str = "float32"):
        self.net, self.optimizer, self.data, self.loss_fn, self.batches = net, optimizer, data, loss_fn, batches
        self.ranks, self.half = ranks, precision == "bfloat16"

    def run(self, pixels: torch.Tensor, light_index: torch.Tensor, free: torch.Tensor) -> torch.Tensor:
        x, target, light = self.data.batch(pixels, light_index)
        # no cast cache: a CUDA graph must not keep casts made during its capture
        with torch.autocast(self.data.device.type, torch.bfloat16, enabled=self.half, cache_enabled=False):
            loss = self.loss_fn(self.net, x, target, light, pixels, free)
        loss.backward()
        self.ranks.average([p.grad for p in self.optimizer.params if p.grad is not None])  # data parallel
        self.optimizer.step()
        return loss.detach()

    def __call__(self) -> torch.Tensor:
        self.optimizer.zero_grad()
        return self.run(*self.batches.next())


class GraphedStep(EagerStep):
    """The same step captured once as a CUDA graph and replayed: a step launches ~100 tiny kernels, and replaying
    them as one graph removes the per-launch cost that otherwise dominates (fixed shapes: the fast recipe only).
    The graph reads its batch from the pre-drawn buffers at a row counter that it advances itself."""

    batches: PixelBatches

    def __init__(self, net: Autoencoder, optimizer: Adam, data: Data, loss_fn: LossFn, batches: PixelBatches,
                 precision: str = "float32"):
        super().__init__(net, optimizer, data, loss_fn, batches, precision=precision)
        self.row = torch.zeros(1, dtype=torch.long, device=data.device)  # a tensor index: no sync, unlike int()
        before = copy.deepcopy(self.optimizer.state_dict())  # the warm-up must leave Adam as it found it
        self.optimizer.schedule(0.0)  # warm-up steps must not move the weights
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self.optimizer.zero_grad()
                self.run(*self.inputs())
        torch.cuda.current_stream().wait_stream(side)
        self.optimizer.load_state_dict(before)
        self.graph = torch.cuda.CUDAGraph()
        self.optimizer.zero_grad()
        # A graph keeps the cuBLAS workspace of the stream it was captured on (pytorch/pytorch#193402); graphs of
        # trainings that run at once (core.neural.scheduler) must not share one, so each is captured on its
        # training's own stream (a capture cannot use the default stream: a training alone uses the side stream).
        own = torch.cuda.current_stream()
        with torch.cuda.graph(self.graph, stream=side if own == torch.cuda.default_stream() else own):
            self.loss = self.run(*self.inputs())
            self.row.add_(1)
        self.row.fill_(batches.position)

    def inputs(self) -> Batch:
        drawn, row = self.batches, self.row
        return (drawn.pixels.index_select(0, row)[0], drawn.light_index.index_select(0, row)[0],
                drawn.free_lights.index_select(0, row)[0])

    def __call__(self) -> torch.Tensor:
        if self.batches.take() == 0:  # new batches were drawn into the buffers
            self.row.zero_()
        self.graph.replay()
        return self.loss


Steps = Generator[None, None, "PhaseState"]
"""A training that yields each time it has queued a burst of steps, before it waits for their result, so that other
trainings can queue theirs meanwhile (``core.neural.scheduler``); ``scheduler.finish`` runs one alone."""


def run_phase(name: str, net: Autoencoder, data: Data, unseen: Validation, config: TrainConfig, loss_fn: LossFn,
              budget: float | None, progress: Progress, save: SaveFn, resume: dict | None,
              fresh: bool = True, ranks: Ranks = SOLO) -> Steps:
    """Optimise ``net`` until its steps, epochs, patience or ``budget`` seconds run out; load its best weights (of all
    members: ``state.best_member`` says which member was best). Yields every ``TICK`` steps (see ``Steps``). A
    ``fresh`` network that learned nothing raises ``DeadStart`` for a restart; a trained one (the refit) is never
    declared dead: its best weights are kept. Under several ``ranks`` (data parallel) each draws its own batches,
    gradients are averaged over them, and the loss, clock and validation they decide by are their means, so every
    rank takes the same decisions with the same weights."""
    batches, val = split(data, config, unseen, ranks.rank)
    fast = config.recipe == "fast"
    optimizer = Adam(net.parameters(), betas=(0.9, config.beta2 if fast else 0.999), amsgrad=not fast)
    state = PhaseState()
    if resume is not None:
        net.load_state_dict(resume["net"])
        optimizer.load_state_dict(resume["optimizer"])
        batches.restore(resume["batches"], ranks.rank)
        state = PhaseState(**resume["state"])
    if fast:
        total, eval_every, patience = config.phase_steps(name), config.eval_every, config.patience
    else:
        total, eval_every, patience = config.epochs * batches.steps_per_epoch, batches.steps_per_epoch, 5
    flat = unseen.flat_mse(data) if fast else 0.0
    peak = peak_lr(config, name, data.device)
    if data.device.type == "cuda" and isinstance(batches, PixelBatches) and ranks.size == 1:
        step: EagerStep = GraphedStep(net, optimizer, data, loss_fn, batches, config.precision)
    else:  # several ranks: the gradients' all-reduce is not captured in a graph
        step = EagerStep(net, optimizer, data, loss_fn, batches, ranks, config.precision)
    progress.start(name, total, state.step)
    clock = time.monotonic() - state.elapsed
    running, counted = torch.zeros((), device=data.device), 0

    def validate(fraction: float) -> float:
        """Score every member; a network of several is as good as its best member."""
        errors = ranks.mean(val.mse(net.eval(), data))
        net.train()
        mse = min(errors)
        state.history.append((state.step, round(state.elapsed, 2), mse))
        if mse < state.best_mse:
            state.best_mse, state.best_step, state.bad_evals = mse, state.step, 0
            state.best_member = errors.index(mse)
            state.best = {k: v.detach().clone() for k, v in net.state_dict().items()}
        elif config.recipe == "reference" or fraction >= 0.5:
            state.bad_evals += 1  # a fast run is noisy at its peak learning rate: stop only once it has decayed
        return mse

    while not state.stopped:
        fraction = state.step / total if budget is None else max(state.step / total, state.elapsed / budget)
        optimizer.schedule(learning_rate(config, peak, fraction, state.step - state.recovered_at, total))
        running += step()
        counted += 1
        state.step += 1
        if state.step % TICK and state.step < total:
            continue
        yield  # the steps are queued: let other trainings queue theirs before this one waits for its loss
        mean_loss, state.elapsed = ranks.mean([float(running) / counted, time.monotonic() - clock])
        running.zero_()
        counted = 0
        if not math.isfinite(mean_loss):
            raise RTIError(f"{name}: the loss became {mean_loss} at step {state.step}; nothing was saved "
                           f"(try a lower {lr_option(config, name)} than {peak})")
        val_psnr = None
        if state.step % eval_every == 0 or state.step >= total:
            mse = validate(fraction)
            val_psnr = -10.0 * math.log10(max(mse, 1e-12))
            state.worse_evals = state.worse_evals + 1 if fast and mse > COLLAPSE * state.best_mse else 0
            if state.worse_evals >= COLLAPSE_EVALS and state.recoveries < RECOVERIES and state.best is not None:
                net.load_state_dict(state.best)
                optimizer.reset()
                state.recoveries += 1
                state.recovered_at, state.worse_evals, state.bad_evals = state.step, 0, 0
            if state.bad_evals >= patience:
                state.stopped = "early stopping"
            warm = fast and state.step > warmup_steps(total) and 0.1 <= fraction < 1.0
            if fresh and warm and (budget is None or state.elapsed < budget) and state.best_mse > DEAD * flat:
                raise DeadStart(state.elapsed)
        if state.step >= total:
            state.stopped = state.stopped or "steps done"
        if budget is not None and state.elapsed >= budget and not state.stopped:
            if val_psnr is None:
                validate(fraction)
            state.stopped = "time budget"
        eta = state.elapsed / max(fraction, 1e-9) - state.elapsed if fraction > 0 else 0.0
        progress.update(name, state.step, total, mean_loss, state.elapsed, max(eta, 0.0), val_psnr)
        save(net, optimizer, batches, state)
    progress.close()
    if state.best is not None:
        net.load_state_dict(state.best)
    if fast and budget is None and config.restart_below_hsh3:
        state.below_hsh3 = state.best_mse > unseen.hsh3_mse(data) * 10 ** (BELOW_HSH3_DB / 10)
    return state


@torch.no_grad()
def encode(net: Autoencoder, data: Data, chunk: int = 16384) -> torch.Tensor:
    """Codes (P, 9) of every pixel; (P, K·9) for a network of K members."""
    net.eval()
    codes = torch.empty((data.pixels, 9 * net.members), device=data.device)
    for start in range(0, data.pixels, chunk):
        pixels = torch.arange(start, min(start + chunk, data.pixels), device=data.device)
        codes[start : start + chunk] = net.encoder(data.observations(pixels).reshape(len(pixels), -1))
    return codes


def to_model(net: Autoencoder, codes: torch.Tensor, data: Data, lights: np.ndarray, training: dict) -> NeuralRTI:
    """The numpy model of a trained network: its codes as an image and its decoder's layers."""
    layers = [(weight.detach().cpu().numpy().copy(), bias.detach().cpu().numpy().copy())
              for weight, bias in net.decoder.layers()]
    return NeuralRTI(codes.cpu().numpy().reshape(data.height, data.width, 9), layers, lights.copy(), training)


class Checkpoint:
    """A resumable snapshot of the run, written atomically every ``every`` seconds.

    The file is a header line, the SHA-256 of the rest, then ``torch.save``'s bytes: a file damaged on disk or edited
    is refused before anything of it is unpickled or applied, and loading allows tensors and plain values only."""

    HEADER = b"neural-rti checkpoint\n"

    def __init__(self, path: Path | None, every: float, writes: bool = True):
        self.path, self.every, self.writes = path, every, writes
        self.last = time.monotonic()

    def due(self) -> bool:
        """Whether to write now (never on a rank other than the first: it reads the checkpoint on --resume)."""
        return self.writes and self.path is not None and time.monotonic() - self.last >= self.every

    def write(self, payload: dict) -> None:
        assert self.path is not None
        buffer = io.BytesIO()
        torch.save(payload, buffer)
        data = buffer.getvalue()
        tmp = self.path.with_name(f".{self.path.name}.tmp")
        tmp.write_bytes(self.HEADER + hashlib.sha256(data).hexdigest().encode() + b"\n" + data)
        os.replace(tmp, self.path)
        self.last = time.monotonic()

    def load(self) -> dict:
        """The payload as written, or an RTIError if the file is missing, damaged or not a checkpoint."""
        if self.path is None or not self.path.is_file():
            raise RTIError(f"--resume: no checkpoint at {self.path}")
        raw = self.path.read_bytes()
        if not raw.startswith(self.HEADER):
            raise RTIError(f"{self.path}: not a training checkpoint of this trainer; rerun without --resume")
        digest, _, data = raw[len(self.HEADER):].partition(b"\n")
        if hashlib.sha256(data).hexdigest().encode() != digest:
            raise RTIError(f"{self.path}: damaged checkpoint (its checksum does not match); rerun without --resume")
        try:
            payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
        except Exception as exc:  # intact bytes that still do not unpickle: another torch, foreign types
            raise RTIError(f"{self.path}: unreadable checkpoint ({exc})") from None
        if not isinstance(payload, dict):
            raise RTIError(f"{self.path}: not a training checkpoint")
        return payload

    def read(self, config: TrainConfig, mlic: MLIC) -> dict:
        """The payload, if it was written for the same settings, MLIC and trainer version."""
        payload = self.load()
        if payload.get("version") != CHECKPOINT_VERSION:
            raise RTIError(f"{self.path}: written by another version of the trainer; rerun without --resume")
        if payload.get("config") != config.result_keys() or payload.get("shape") != _shape(mlic):
            raise RTIError(f"{self.path}: made with other options or another MLIC; rerun with the same ones "
                           "or without --resume")
        return payload


def _shape(mlic: MLIC) -> list[int]:
    return [mlic.count, mlic.height, mlic.width]


def architecture(config: TrainConfig, role: str) -> Architecture:
    if role == "student":
        return student(config.student_width)
    return TEACHER if config.teacher == "disk" else NEURALRTI


def train(mlic: MLIC, config: TrainConfig, progress: Progress | None = None, checkpoint: Path | None = None,
          resume: bool = False) -> dict[str, NeuralRTI]:
    """Train what ``config.mode`` asks for on the MLIC less its held-out lights; returns {"teacher": ...,
    "student": ...} (the ones trained), each model's ``training`` scored at the held-out lights."""
    return finish(training(mlic, config, progress, checkpoint, resume))


def training(mlic: MLIC, config: TrainConfig, progress: Progress | None = None, checkpoint: Path | None = None,
             resume: bool = False, ranks: Ranks = SOLO) -> Generator[None, None, dict[str, NeuralRTI]]:
    """``train`` as a yielding job (see ``Steps``), for several captures trained at once; under several ``ranks``
    of a ``torchrun`` launch, data parallel (each rank computes the same models; the first writes checkpoints)."""
    config.check()
    progress = progress or Progress("none")
    device = pick_device(config.device)
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    saver = Checkpoint(checkpoint, config.checkpoint_every, writes=ranks.leader)
    saved = saver.read(config, mlic) if resume else {"done": {}}
    held = held_out_lights(mlic.count, config.val_every)
    data, unseen = training_data(mlic, held, config, device)
    hsh3_psnr = _psnr(unseen.hsh3_mse(data))
    roles = {"distill": ["teacher", "student"], "teacher": ["teacher"], "direct": ["student"]}[config.mode]
    refit = config.refit > 0 and config.recipe == "fast" and config.time_budget is None
    models: dict[str, NeuralRTI] = {}
    trainings: dict[str, dict] = {}
    teacher: distill.Teacher | None = None
    spent = 0.0
    nets: dict[str, Autoencoder] = {}
    settings_of: dict[str, TrainConfig] = {}
    variants = population(config, device)
    for index, role in enumerate(roles):
        candidates: Autoencoder | None = None
        distilled = role == "student" and teacher is not None
        done = saved["done"].get(role)
        if done is not None:
            net = _network(config, role, data, config.seed * 1000 + index, 1)
            net.load_state_dict(done["net"])
            summary = done["summary"]
            settings = variants[summary.get("population", {}).get("chosen", 0)]
        else:
            budget = None
            if config.time_budget is not None:
                left = max(config.time_budget - spent, 1e-3)
                budget = left * _share(config, roles[index:])
            current = saved.get("current") if len(variants) == 1 else None  # one network's step can resume
            ended: list[tuple[PhaseState, Autoencoder, int]] = []
            for start in range(RESTARTS + 1):
                nets_now = [_network(variant, role, data, config.seed * 1000 + index + 100 * start + 10_000 * k,
                                     candidate_count(variant, role, device)) for k, variant in enumerate(variants)]
                outcomes = yield from side_by_side(
                    [run_phase(role, net, data, unseen, variant, _loss_fn(variant, teacher), budget,
                               progress if k == 0 else Progress("none"),
                               _saver(saver, config, mlic, saved, role, len(variants) == 1) if k == 0 else _no_save,
                               current if current and current["role"] == role and start == 0 else None, ranks=ranks)
                     for k, (net, variant) in enumerate(zip(nets_now, variants))], device, (DeadStart,))
                dead = [outcome.seconds for outcome in outcomes if isinstance(outcome, DeadStart)]
                if isinstance(outcomes[0], DeadStart):
                    progress.close()
                finished = [(outcome, net, k) for k, (outcome, net) in enumerate(zip(outcomes, nets_now))
                            if isinstance(outcome, PhaseState)]
                if not finished:
                    spent += max(dead)
                    budget = None if budget is None else max(budget - max(dead), 1e-3)
                    continue
                ended.extend(finished)
                if any(not state.below_hsh3 for state, _, _ in finished):
                    break
            if not ended:
                raise RTIError(f"{role}: learned nothing in {RESTARTS + 1} starts; nothing was saved (try a lower "
                               f"{lr_option(config, role)} than {peak_lr(config, role, device)})")
            state, net, chosen = min(ended, key=lambda run: run[0].best_mse)
            candidates = net
            net = net.member(state.best_member)
            settings = variants[chosen]
            summary = _summary(settings, role, net, state, device, distilled)
            summary.update(batch=batch_defaults(settings, device, len(data.inside))[0], restarts=start,
                           candidates=candidate_count(settings, role, device), candidate=state.best_member,
                           val_psnr=_psnr(unseen.mse(net, data)[0]), val_lights=[mlic.names[i] for i in held],
                           hsh3_val_psnr=hsh3_psnr)
            if len(variants) > 1:  # each one's best start (None: it learned nothing)
                best = {k: min(run[0].best_mse for run in ended if run[2] == k) for _, _, k in ended}
                summary["population"] = {"settings": [_settings_label(v, device, len(data.inside)) for v in variants],
                                         "chosen": chosen,
                                         "val_psnr": [_psnr(best[k]) if k in best else None
                                                      for k in range(len(variants))]}
            saved["done"][role] = {"net": {k: v.cpu() for k, v in net.state_dict().items()}, "summary": summary}
            saved.pop("current", None)
        spent += summary["seconds"]
        warning = below_hsh3(summary)
        if warning is not None:
            progress.warning(role, warning)
        nets[role], trainings[role], settings_of[role] = net, summary, settings
        if not refit:
            codes = encode(net, data)
            models[role] = to_model(net, codes, data, data.lights, summary)
        if role == "teacher" and "student" in roles:  # the student learns from it; the refit makes the models
            source = candidates if config.teacher_mean and candidates is not None else net
            teacher = distill.Teacher(source, codes if source is net and not refit else encode(source, data))
    if refit:
        teacher = None  # the old codes go before the new ones come: a camera-sized capture's are gigabytes
        models = yield from _refit(mlic, held, data, nets, trainings, settings_of, device, progress, ranks)
    return models


def _refit(mlic: MLIC, held: np.ndarray, data: Data, nets: dict[str, Autoencoder], trainings: dict[str, dict],
           settings: dict[str, TrainConfig], device: torch.device, progress: Progress,
           ranks: Ranks) -> Generator[None, None, dict[str, NeuralRTI]]:
    """Grow each validated network's encoder by the held-out lights (their weights start at zero, so it computes
    the same codes) and train it briefly on every light, with the ``settings`` it was chosen with: the held-out
    images then count in the final codes; the models, each with its ``trainings`` summary."""
    full = Data(mlic, device, stack=data.stack)
    seed = next(iter(settings.values())).seed  # the settings trained side by side share it
    check = Validation(mlic, held, full, seed)  # in-sample now: it only keeps the best weights
    kept = np.setdiff1d(np.arange(mlic.count), held)
    teacher: distill.Teacher | None = None
    models: dict[str, NeuralRTI] = {}
    for role, net in nets.items():
        config = settings[role]
        short = replace(config, steps=max(1, round(config.steps * config.refit)), restart_below_hsh3=False,
                        student_steps=max(1, round(config.student_steps * config.refit)), candidates=1,
                        lr=config.lr * REFIT_LR, student_lr=peak_lr(config, "student", device) * REFIT_LR,
                        time_budget=None)
        grown = grow(net, kept, full, short, role)
        state = yield from run_phase(role, grown, full, check, short, _loss_fn(short, teacher), None, progress,
                                     _no_save, None, fresh=False, ranks=ranks)
        codes = encode(grown, full)
        trained = trainings[role]
        training = {**trained, "refit_steps": state.step, "seconds": trained["seconds"] + state.elapsed}
        models[role] = to_model(grown, codes, full, mlic.lights, training)
        if role == "teacher":
            teacher = distill.Teacher(grown, codes)
    return models


def grow(net: Autoencoder, kept: np.ndarray, full: Data, config: TrainConfig, role: str) -> Autoencoder:
    """A one-member ``net`` trained on the ``kept`` lights as a network of every light of ``full``: the other lights'
    encoder weights are zero, so it computes the same codes."""
    grown = _network(config, role, full, config.seed, 1)
    weights = net.state_dict()
    first = weights["encoder.hidden.0.weight"]
    wide = torch.zeros((first.shape[0], 3 * full.count), device=full.device)
    wide[:, torch.as_tensor((kept[:, None] * 3 + np.arange(3)).ravel(), device=full.device)] = first
    weights.update({"encoder.hidden.0.weight": wide, "encoder.input_scale": grown.encoder.input_scale,
                    "encoder.input_shift": grown.encoder.input_shift})
    grown.load_state_dict(weights)
    return grown


def training_data(mlic: MLIC, held: np.ndarray, config: TrainConfig, device: torch.device) -> tuple[Data, Validation]:
    """The MLIC less its ``held`` lights on the device, and the validation at those lights."""
    data = Data(mlic, device, np.setdiff1d(np.arange(mlic.count), held))
    return data, Validation(mlic, held, data, config.seed)


def _psnr(mse: float) -> float:
    return round(-10.0 * math.log10(max(mse, 1e-12)), 3)


def _network(config: TrainConfig, role: str, data: Data, seed: int, count: int) -> Autoencoder:
    """A freshly initialised network of ``count`` members."""
    torch.manual_seed(seed)
    net = Autoencoder(data.count, architecture(config, role), count).to(data.device)
    if config.recipe == "fast":
        net.encoder.standardise(*data.moments(), INPUT_SPREAD)
    return net


def _settings_label(config: TrainConfig, device: torch.device, pixels: int) -> str:
    batch, lights = batch_defaults(config, device, pixels)
    return f"{batch} pixels × {lights} lights, lr {config.lr:g}/{peak_lr(config, 'student', device):g}"


def _no_save(*args: object) -> None:
    """No checkpoints of this phase (the refit, and the second of networks trained side by side)."""


def _share(config: TrainConfig, roles: list[str]) -> float:
    """The first of ``roles``' share of the time left, by steps (a teacher's and a student's steps cost about the same:
    their encoders are the same size)."""
    steps = [config.phase_steps(role) for role in roles]
    return steps[0] / sum(steps)


def _loss_fn(config: TrainConfig, teacher: distill.Teacher | None) -> LossFn:
    if teacher is None:
        def direct(net: Autoencoder, x: torch.Tensor, target: torch.Tensor, light: torch.Tensor, pixels: torch.Tensor,
                   free: torch.Tensor) -> torch.Tensor:
            pred = net(x, light)
            return nn.functional.mse_loss(pred, target.expand_as(pred))
        return direct

    def distilled(net: Autoencoder, x: torch.Tensor, target: torch.Tensor, light: torch.Tensor, pixels: torch.Tensor,
                  free: torch.Tensor) -> torch.Tensor:
        codes = net.encoder(x)
        if len(free) == 0:
            pred = net.decoder(codes, light)
            return distill.loss(pred, target, pred, teacher.predict(pixels, light), config.alpha, config.temperature)
        # one decoder pass under the batch's lights and the free ones: half the kernels of two passes
        pred = net.decoder(codes, torch.cat([light, free]))
        shown = len(light)
        return distill.loss(pred[:, :shown], target, pred[:, shown:], teacher.predict(pixels, free), config.alpha,
                            config.temperature)
    return distilled


def _saver(saver: Checkpoint, config: TrainConfig, mlic: MLIC, saved: dict, role: str,
           mid_phase: bool = True) -> SaveFn:
    """Checkpoints of the finished phases and, if ``mid_phase``, of where this one stands (networks trained side by
    side are not: a resumed run starts their phase again)."""
    def save(net: Autoencoder, optimizer: Adam, batches: PixelBatches | SampleBatches,
             state: PhaseState) -> None:
        if not saver.due():
            return
        payload = {"version": CHECKPOINT_VERSION, "config": config.result_keys(), "shape": _shape(mlic),
                   "done": saved["done"]}
        if mid_phase:
            payload["current"] = {"role": role, "net": net.state_dict(), "optimizer": optimizer.state_dict(),
                                  "batches": batches.state(), "state": asdict(state)}
        saver.write(payload)
    return save


def _summary(config: TrainConfig, role: str, net: Autoencoder, state: PhaseState, device: torch.device,
             distilled: bool) -> dict:
    """What the exported model folder records about its training."""
    width = net.architecture.decoder
    summary = {
        "role": role,
        "trained": "distilled" if distilled else ("direct" if role == "student" else "autoencoder"),
        "architecture": net.architecture.to_json(),
        "decoder_parameters": decoder_parameters(width),
        "recipe": config.recipe,
        "lr": peak_lr(config, role, device),
        "steps": state.step,
        "best_step": state.best_step,
        "recoveries": state.recoveries,
        "stopped": state.stopped,
        "below_hsh3": state.below_hsh3,
        "seconds": state.elapsed,
        "device": device.type,
        "seed": config.seed,
        "torch": str(torch.__version__),
    }
    if distilled:
        summary.update(alpha=config.alpha, temperature=config.temperature)
    return summary
