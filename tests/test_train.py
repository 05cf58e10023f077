"""Training on tiny analytic MLICs: learning, distillation, recipes, reproducibility, resume, budgets, bad input."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Generator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from core import cli
from core.capture import analytic, splits
from core.capture import lights as light_patterns
from core.capture.mlic import MLIC
from core.classic import hsh
from core.errors import RTIError
from core.formats import models
from core.neural import distill
from core.neural.batches import AHEAD, MIN_STD, Data, Validation, held_out_lights, split
from core.neural.config import GPU_STUDENT_LR, TrainConfig
from core.neural.model import NeuralRTI
from core.neural.nn import Architecture, Autoencoder
from core.neural.scheduler import finish, run_all, side_by_side
from core.neural.train import (
    INPUT_SPREAD,
    Checkpoint,
    DeadStart,
    _loss_fn,
    _network,
    encode,
    grow,
    peak_lr,
    population,
    run_phase,
    train,
    training_data,
)
from core.progress import Progress
from core.quality import evaluate

ROOT = Path(__file__).resolve().parents[1]
TINY = TrainConfig(steps=300, student_steps=300, batch=64, lights_per_step=16, eval_every=100, device="cpu",
                   restart_below_hsh3=False)
"""Short runs end far below HSH3 (about 22 dB against 40 on the scene below): without the HSH3 restart."""


class ReadingClock:
    """``core.neural.train``'s clock in tests: it moves on ``tick`` seconds each time it is read (once every 25 steps),
    so a time budget ends after the same steps on any machine, under any load."""

    def __init__(self, tick: float):
        self.now, self.tick = 0.0, tick

    def monotonic(self) -> float:
        self.now += self.tick
        return self.now


@pytest.fixture
def reading_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("core.neural.train.time", ReadingClock(1 / 16))  # exact in binary


@pytest.fixture(scope="module")
def scene() -> tuple[MLIC, MLIC]:
    return analytic.scene(24, seed=3)


@pytest.fixture(scope="module")
def distilled(scene: tuple[MLIC, MLIC]) -> dict[str, NeuralRTI]:
    return train(scene[0], TINY)


def lights_of(model: NeuralRTI) -> int:
    """How many lights the model was trained on."""
    assert model.lights is not None
    return len(model.lights)


def same_model(a: NeuralRTI, b: NeuralRTI) -> bool:
    return np.array_equal(a.codes, b.codes) and all(
        np.array_equal(w, w0) and np.array_equal(v, v0) for (w, v), (w0, v0) in zip(a.layers, b.layers)
    )


def test_distillation_learns_the_scene(scene: tuple[MLIC, MLIC], distilled: dict[str, NeuralRTI]) -> None:
    teacher, student = distilled["teacher"], distilled["student"]
    assert teacher.parameters == 3303 and student.parameters == 723
    assert teacher.codes.shape == student.codes.shape == (24, 24, 9)
    assert student.training["trained"] == "distilled" and student.training["alpha"] == 0.6
    # a constant image at the mean colour is the no-learning baseline on the held-out lights
    test = scene[1]
    mean = test.images.reshape(test.count, -1, 3).mean(axis=(0, 1)) / 255.0

    class Flat:
        width = height = 24

        def relight(self, light: np.ndarray) -> np.ndarray:
            return np.broadcast_to(mean, (24, 24, 3))

    baseline = evaluate.evaluate(Flat(), test).psnr
    for model in (teacher, student):
        assert evaluate.evaluate(model, test).psnr > baseline + 6.0


def test_distillation_loss_terms() -> None:
    student, truth, teacher = torch.tensor([1.0, 2.0]), torch.tensor([0.0, 0.0]), torch.tensor([3.0, 2.0])
    assert distill.loss(student, truth, student, teacher, 1.0, 1.0) == pytest.approx(2.5)
    assert distill.loss(student, truth, student, teacher, 0.0, 2.0) == pytest.approx(2.0 / 4)
    assert distill.loss(student, truth, student, teacher, 0.6, 1.0) == pytest.approx(0.6 * 2.5 + 0.4 * 2.0)
    # the soft pair at other lights than the hard one
    assert distill.loss(student, truth, teacher, teacher, 0.6, 1.0) == pytest.approx(0.6 * 2.5)


def test_random_lights_cover_the_disk_of_the_training_lights_evenly() -> None:
    lights = distill.random_lights(20000, 0.8, torch.Generator().manual_seed(3))
    radius = torch.linalg.vector_norm(lights, dim=1)
    assert lights.shape == (20000, 2) and float(radius.max()) <= 0.8
    # uniform by area: half of them inside radius 0.8/√2, and no direction preferred
    assert float((radius < 0.8 / np.sqrt(2)).float().mean()) == pytest.approx(0.5, abs=0.02)
    assert torch.allclose(lights.mean(dim=0), torch.zeros(2), atol=0.01)


def test_distilled_loss_takes_the_teacher_at_the_free_lights() -> None:
    torch.manual_seed(0)
    student, teacher_net = Autoencoder(4, Architecture((8,), 5)), Autoencoder(4, Architecture((8,), 6))
    codes = torch.randn(6, 9)
    x, target, pixels = torch.rand(3, 12), torch.rand(3, 4, 1, 3), torch.tensor([0, 5, 2])
    light, free = torch.rand(4, 2), torch.rand(7, 2)
    loss_fn = _loss_fn(replace(TINY, alpha=0.6), distill.Teacher(teacher_net, codes))

    def mse(a: torch.Tensor, b: torch.Tensor) -> float:
        return float(((a - b) ** 2).mean().detach())

    hard = mse(student(x, light), target)
    with torch.no_grad():
        at_free = mse(student(x, free), teacher_net.decoder(codes[pixels], free))
        at_light = mse(student(x, light), teacher_net.decoder(codes[pixels], light))
    assert float(loss_fn(student, x, target, light, pixels, free).detach()) == pytest.approx(0.6 * hard + 0.4 * at_free)
    no_free = torch.empty((0, 2))
    assert float(loss_fn(student, x, target, light, pixels, no_free).detach()) == pytest.approx(0.6 * hard + 0.4 * at_light)


def parts(mlic: MLIC, config: TrainConfig = TINY) -> tuple[Data, Validation]:
    """What ``train`` trains on (the MLIC less its held-out lights) and validates with, on the CPU."""
    return training_data(mlic, held_out_lights(mlic.count, config.val_every), config, torch.device("cpu"))


def test_the_best_validated_candidate_is_kept(scene: tuple[MLIC, MLIC]) -> None:
    config = replace(TINY, mode="direct", candidates=3)
    data, unseen = parts(scene[0], config)
    net = _network(config, "student", data, 0, 3)
    state = finish(run_phase("student", net, data, unseen, config, _loss_fn(config, None), None, Progress("none"),
                           lambda *args: None, None))
    _, val = split(data, config, unseen)
    assert val is unseen
    errors = val.mse(net, data)
    assert len(set(errors)) == 3 and state.best_member == int(np.argmin(errors))
    assert state.best_mse == pytest.approx(min(errors), rel=1e-5)
    assert val.mse(net.member(state.best_member), data) == pytest.approx([min(errors)], rel=1e-5)
    student = train(scene[0], config)["student"]
    assert student.parameters == 723 and student.training["candidates"] == 3
    assert student.training["candidate"] == state.best_member
    assert student.training["val_psnr"] == pytest.approx(-10 * np.log10(min(errors)), abs=1e-3)
    one = train(scene[0], replace(config, candidates=0))["student"].training
    assert one["candidates"] == 1 and one["candidate"] == 0  # a CPU trains one unless told otherwise
    with pytest.raises(RTIError, match="fast recipe"):
        train(scene[0], replace(config, recipe="reference"))


def test_teacher_candidates_train_at_once_and_the_best_validated_one_is_kept(scene: tuple[MLIC, MLIC]) -> None:
    """K teachers as members of one network, as students are: the best at the held-out lights is kept (the one a
    student is then distilled from)."""
    config = replace(TINY, mode="teacher", teacher_candidates=3)
    data, unseen = parts(scene[0], config)
    net = _network(config, "teacher", data, 0, 3)
    state = finish(run_phase("teacher", net, data, unseen, config, _loss_fn(config, None), None, Progress("none"),
                           lambda *args: None, None))
    errors = unseen.mse(net, data)
    assert len(set(errors)) == 3 and state.best_member == int(np.argmin(errors))
    teacher = train(scene[0], replace(config, refit=0.0))["teacher"].training
    assert teacher["candidates"] == 3 and teacher["candidate"] in (0, 1, 2)
    assert teacher["decoder_parameters"] == 3303
    for bad in (replace(config, teacher_candidates=0), replace(config, recipe="reference", teacher_candidates=2)):
        with pytest.raises(RTIError, match="teacher candidates|fast recipe"):
            train(scene[0], bad)


def test_only_a_fresh_network_that_learned_nothing_is_restarted(scene: tuple[MLIC, MLIC]) -> None:
    """A network that learns nothing (here: a vanishing learning rate) raises ``DeadStart`` for a restart; the refit
    continues a trained network and keeps its best weights instead (it used to end a run with a traceback)."""
    config = replace(TINY, mode="teacher", lr=1e-12, steps=200, eval_every=50)
    data, unseen = parts(scene[0], config)

    def phase(fresh: bool) -> object:
        net = _network(config, "teacher", data, 0, 1)
        return finish(run_phase("teacher", net, data, unseen, config, _loss_fn(config, None), None, Progress("none"),
                                lambda *args: None, None, fresh=fresh))

    with pytest.raises(DeadStart):
        phase(True)
    assert phase(False).stopped == "steps done"


def test_a_teacher_of_several_candidates_predicts_their_mean(scene: tuple[MLIC, MLIC]) -> None:
    """``--teacher-mean``: the student is distilled from the candidates' mean prediction; each member's prediction
    computed on its own (``member(k)``) and averaged gives the same values; the option needs several candidates."""
    config = replace(TINY, mode="teacher", teacher_candidates=3)
    data, _ = parts(scene[0], config)
    net = _network(config, "teacher", data, 0, 3)
    pixels, light = torch.arange(0, data.pixels, 7), data.light_xy[:5]
    mean = distill.Teacher(net, encode(net, data)).predict(pixels, light)
    alone = [distill.Teacher(net.member(k), encode(net.member(k), data)).predict(pixels, light) for k in range(3)]
    assert mean.shape == (len(pixels), 5, 1, 3)
    torch.testing.assert_close(mean, sum(alone) / 3, rtol=1e-5, atol=1e-6)
    assert not torch.allclose(alone[0], alone[1])
    student = train(scene[0], replace(TINY, teacher_candidates=3, teacher_mean=True, refit=0.0))["student"]
    assert student.training["trained"] == "distilled"
    with pytest.raises(RTIError, match="--teacher-mean needs"):
        train(scene[0], replace(TINY, teacher_mean=True))


def test_the_scheduler_runs_jobs_side_by_side_and_a_failed_one_does_not_stop_the_others() -> None:
    """``run_all`` keeps ``width`` jobs going, resuming them in turn, starts the next as one ends, and reports an
    ``RTIError`` as that job's outcome."""
    trace: list[str] = []

    def job(name: str, bursts: int, fail: bool = False) -> Generator[None, None, str]:
        for k in range(bursts):
            trace.append(f"{name}{k}")
            yield
        if fail:
            raise RTIError(f"{name} failed")
        return name.upper()

    jobs = [("a", lambda: job("a", 3)), ("b", lambda: job("b", 1, fail=True)), ("c", lambda: job("c", 2))]
    ended = list(run_all(jobs, torch.device("cpu"), 2))
    assert [(key, str(outcome)) for key, outcome in ended] == [("b", "b failed"), ("a", "A"), ("c", "C")]
    assert isinstance(ended[0][1], RTIError)
    assert trace == ["a0", "b0", "a1", "a2", "c0", "c1"]  # c starts once b has ended
    assert [key for key, _ in run_all(jobs[:1] + jobs[2:], torch.device("cpu"), 1)] == ["a", "c"]
    assert finish(job("d", 4)) == "D"


def test_side_by_side_runs_jobs_in_rounds_and_hands_back_expected_failures() -> None:
    trace: list[str] = []

    def job(name: str, bursts: int, error: Exception | None = None) -> Generator[None, None, str]:
        for k in range(bursts):
            trace.append(f"{name}{k}")
            yield
        if error is not None:
            raise error
        return name

    both = side_by_side([job("a", 2), job("b", 1, DeadStart(1.0)), job("c", 1)], torch.device("cpu"), (DeadStart,))
    ended = finish(both)
    assert ended[0] == "a" and isinstance(ended[1], DeadStart) and ended[2] == "c"
    assert trace == ["a0", "b0", "c0", "a1"]
    with pytest.raises(RTIError, match="diverged"):  # failures not expected end everything
        finish(side_by_side([job("d", 1), job("e", 1, RTIError("diverged"))], torch.device("cpu"), (DeadStart,)))


def test_a_population_trains_both_recipes_side_by_side_and_keeps_the_best_validated(
        scene: tuple[MLIC, MLIC], distilled: dict[str, NeuralRTI]) -> None:
    teacher = train(scene[0], replace(TINY, mode="teacher", population=True))["teacher"].training
    found = teacher["population"]
    assert found["settings"] == ["64 pixels × 16 lights, lr 0.01/0.01", "1024 pixels × 64 lights, lr 0.01/0.013"]
    assert found["chosen"] == int(np.argmax(found["val_psnr"])) and teacher["val_psnr"] == max(found["val_psnr"])
    assert teacher["batch"] == (64, 1024)[found["chosen"]]
    # the first is the run without a population: its neighbour changes nothing of it
    assert found["val_psnr"][0] == distilled["teacher"].training["val_psnr"]
    assert population(TINY, torch.device("cpu")) == [TINY]


def test_students_learning_rate(scene: tuple[MLIC, MLIC], distilled: dict[str, NeuralRTI]) -> None:
    cpu, gpu = torch.device("cpu"), torch.device("cuda")
    assert peak_lr(TINY, "student", gpu) == GPU_STUDENT_LR != TINY.lr
    assert peak_lr(TINY, "student", cpu) == peak_lr(TINY, "teacher", gpu) == TINY.lr
    assert peak_lr(replace(TINY, recipe="reference", student_lr=0.02), "student", gpu) == TINY.lr
    assert peak_lr(replace(TINY, student_lr=0.02), "student", cpu) == 0.02
    assert distilled["teacher"].training["lr"] == distilled["student"].training["lr"] == TINY.lr
    slow = train(scene[0], replace(TINY, mode="direct", student_lr=0.004))["student"].training
    assert slow["lr"] == 0.004
    with pytest.raises(RTIError, match=r"try a lower --student-lr than 1000000000000\.0"):
        train(scene[0], replace(TINY, mode="direct", student_lr=1e12))


def test_bfloat16_steps_learn_as_float32_ones_and_keep_float32_weights(scene: tuple[MLIC, MLIC],
                                                                       distilled: dict[str, NeuralRTI]) -> None:
    half = train(scene[0], replace(TINY, precision="bfloat16"))
    for role in ("teacher", "student"):
        assert not same_model(half[role], distilled[role])  # the steps really ran in bfloat16
        assert half[role].codes.dtype == np.float32 and all(w.dtype == np.float32 for w, _ in half[role].layers)
        scores = [evaluate.evaluate(models[role], scene[1]).psnr for models in (half, distilled)]
        assert abs(scores[0] - scores[1]) < 1.0, scores
    with pytest.raises(RTIError, match="float32 or bfloat16"):
        replace(TINY, precision="float16").check()


def test_cpu_runs_are_reproducible(scene: tuple[MLIC, MLIC], distilled: dict[str, NeuralRTI]) -> None:
    again = train(scene[0], TINY)
    assert all(same_model(again[role], distilled[role]) for role in ("teacher", "student"))
    other = train(scene[0], replace(TINY, seed=1, mode="teacher"))
    assert not same_model(other["teacher"], distilled["teacher"])


class StopAt(Progress):
    """Raises KeyboardInterrupt at a given step of a phase, like a user's Ctrl-C."""

    def __init__(self, phase: str, step: int):
        super().__init__("none")
        self.phase, self.step = phase, step

    def update(self, phase: str, step: int, *args: object, **kwargs: object) -> None:
        if phase == self.phase and step >= self.step:
            raise KeyboardInterrupt


@pytest.mark.parametrize("phase", ["teacher", "student"])
def test_resumed_run_equals_uninterrupted_run(tmp_path: Path, scene: tuple[MLIC, MLIC],
                                              distilled: dict[str, NeuralRTI], phase: str) -> None:
    config = replace(TINY, checkpoint_every=0.0)
    checkpoint = tmp_path / "run.checkpoint.pt"
    with pytest.raises(KeyboardInterrupt):
        train(scene[0], config, StopAt(phase, 150), checkpoint)
    assert checkpoint.is_file()
    resumed = train(scene[0], config, Progress("none"), checkpoint, resume=True)
    assert all(same_model(resumed[role], distilled[role]) for role in ("teacher", "student"))


def test_resumed_candidates_equal_uninterrupted_ones(tmp_path: Path, scene: tuple[MLIC, MLIC]) -> None:
    config = replace(TINY, mode="direct", candidates=2, checkpoint_every=0.0)
    whole = train(scene[0], config)["student"]
    checkpoint = tmp_path / "run.checkpoint.pt"
    with pytest.raises(KeyboardInterrupt):
        train(scene[0], config, StopAt("student", 150), checkpoint)
    resumed = train(scene[0], config, Progress("none"), checkpoint, resume=True)["student"]
    assert same_model(resumed, whole) and resumed.training["candidate"] == whole.training["candidate"]


def test_a_stopped_population_resumes_from_its_last_finished_phase(tmp_path: Path, scene: tuple[MLIC, MLIC]) -> None:
    config = replace(TINY, population=True, steps=100, student_steps=100, eval_every=50, checkpoint_every=0.0)
    whole = train(scene[0], config)
    checkpoint = tmp_path / "run.checkpoint.pt"
    with pytest.raises(KeyboardInterrupt):
        train(scene[0], config, StopAt("student", 75), checkpoint)
    assert "current" not in Checkpoint(checkpoint, 0.0).load()  # networks side by side: no mid-phase state
    resumed = train(scene[0], config, Progress("none"), checkpoint, resume=True)
    assert all(same_model(resumed[role], whole[role]) for role in ("teacher", "student"))


def test_resume_refuses_other_options(tmp_path: Path, scene: tuple[MLIC, MLIC]) -> None:
    checkpoint = tmp_path / "run.checkpoint.pt"
    with pytest.raises(KeyboardInterrupt):
        train(scene[0], replace(TINY, checkpoint_every=0.0), StopAt("teacher", 50), checkpoint)
    with pytest.raises(RTIError, match="other options"):
        train(scene[0], replace(TINY, lr=0.005), checkpoint=checkpoint, resume=True)
    saved = Checkpoint(checkpoint, 0.0)
    older = saved.load()
    older["version"] = 1
    saved.write(older)
    with pytest.raises(RTIError, match="another version of the trainer"):
        train(scene[0], TINY, checkpoint=checkpoint, resume=True)
    with pytest.raises(RTIError, match="no checkpoint"):
        train(scene[0], TINY, checkpoint=tmp_path / "none.pt", resume=True)
    saved.write([older])  # type: ignore[arg-type]
    with pytest.raises(RTIError, match="not a training checkpoint"):
        train(scene[0], TINY, checkpoint=checkpoint, resume=True)
    torch.save(older, checkpoint)
    with pytest.raises(RTIError, match="not a training checkpoint of this trainer"):
        train(scene[0], TINY, checkpoint=checkpoint, resume=True)


def test_damaged_checkpoints_are_refused_before_loading(tmp_path: Path, scene: tuple[MLIC, MLIC]) -> None:
    checkpoint = tmp_path / "run.checkpoint.pt"
    with pytest.raises(KeyboardInterrupt):
        train(scene[0], replace(TINY, checkpoint_every=0.0), StopAt("student", 50), checkpoint)
    intact = checkpoint.read_bytes()
    checkpoint.write_bytes(intact[: len(intact) // 2])
    with pytest.raises(RTIError, match="damaged checkpoint"):
        train(scene[0], TINY, checkpoint=checkpoint, resume=True)
    flipped = bytearray(intact)
    flipped[-100] ^= 1  # inside a tensor's bytes: torch itself would load it
    checkpoint.write_bytes(bytes(flipped))
    with pytest.raises(RTIError, match="damaged checkpoint"):
        train(scene[0], TINY, checkpoint=checkpoint, resume=True)
    saved = Checkpoint(checkpoint, 0.0)
    checkpoint.write_bytes(intact)
    payload = saved.load()
    payload["current"]["net"] = {"weights": torch.zeros(3)}
    data = io.BytesIO()
    torch.save(payload, data)
    checkpoint.write_bytes(Checkpoint.HEADER + b"0" * 64 + b"\n" + data.getvalue())
    with pytest.raises(RTIError, match="damaged checkpoint"):
        train(scene[0], TINY, checkpoint=checkpoint, resume=True)


def test_divergence_is_reported(scene: tuple[MLIC, MLIC]) -> None:
    with pytest.raises(RTIError, match="loss became (nan|inf)"):
        train(scene[0], replace(TINY, lr=1e12, mode="teacher"))


def test_a_network_that_learned_nothing_restarts(scene: tuple[MLIC, MLIC], monkeypatch: pytest.MonkeyPatch) -> None:
    clean = train(scene[0], replace(TINY, mode="teacher"))["teacher"].training
    calls = [0]

    def sabotaged(config: TrainConfig, teacher: object) -> Callable[..., torch.Tensor]:
        """The usual loss, which on its first 60 steps (or on all, when ``calls`` starts negative) also drags every
        output towards 5: the network is wrecked before its first validation."""
        def loss(net: Autoencoder, x: torch.Tensor, target: torch.Tensor, light: torch.Tensor,
                 *rest: torch.Tensor) -> torch.Tensor:
            calls[0] += 1
            pred = net(x, light)
            fit = torch.nn.functional.mse_loss(pred, target.expand_as(pred))
            return fit + 100 * ((pred - 5) ** 2).mean() if calls[0] <= 60 else fit
        return loss

    monkeypatch.setattr("core.neural.train._loss_fn", sabotaged)
    restarted = train(scene[0], replace(TINY, mode="teacher"))["teacher"].training
    assert clean["restarts"] == 0 and restarted["restarts"] == 1
    assert restarted["val_psnr"] > clean["val_psnr"] - 1.0
    calls[0] = -10**9
    with pytest.raises(RTIError, match="learned nothing in 3 starts"):
        train(scene[0], replace(TINY, mode="teacher"))


def test_hsh3_baseline_is_its_error_at_the_held_out_lights() -> None:
    lights = light_patterns.synthrti_dome()
    held = held_out_lights(len(lights), TINY.val_every)
    kept = np.setdiff1d(np.arange(len(lights)), held)
    rng = np.random.default_rng(0)
    basis = hsh.basis(lights, 3)
    # every pixel an exact HSH3 function of the light, kept inside [0, 1]: only the 8-bit rounding is left
    coefficients = rng.uniform(-0.04, 0.04, (9, 16 * 16 * 3)) + np.eye(9)[0][:, None] * 1.2
    exact = basis @ coefficients
    stack = np.round(np.clip(exact, 0, 1) * 255).astype(np.uint8).reshape(len(lights), 16, 16, 3)
    assert np.allclose(stack / 255, exact.reshape(stack.shape), atol=0.5 / 255 + 1e-9)
    names = [f"{i}.png" for i in range(len(lights))]
    data, val = parts(MLIC(stack, lights, names))
    assert val.hsh3_mse(data) < (0.5 / 255) ** 2 < val.flat_mse(data) / 100
    # a term HSH3 cannot represent (an HSH4 basis function): fitted at the kept lights, it is mispredicted at the
    # held-out ones by what its least-squares HSH3 part leaves there
    extra = hsh.basis(lights, 4)[:, 12]
    fitted = basis[held] @ np.linalg.lstsq(basis[kept], extra[kept], rcond=None)[0]
    bumped = np.clip(exact + 0.05 * extra[:, None], 0, 1)
    stack = np.round(bumped * 255).astype(np.uint8).reshape(len(lights), 16, 16, 3)
    data, val = parts(MLIC(stack, lights, names))
    assert val.hsh3_mse(data) == pytest.approx(float(np.mean((0.05 * (extra[held] - fitted)) ** 2)), rel=0.05)


def test_a_network_that_ends_below_hsh3_restarts_and_the_best_start_is_kept(scene: tuple[MLIC, MLIC],
                                                                           reading_clock: None) -> None:
    config = replace(TINY, mode="teacher", restart_below_hsh3=True)
    teacher = train(scene[0], config)["teacher"].training
    # 300 steps stay far below HSH3 on this scene: every start ends below it, and the best of the three is kept
    data, unseen = parts(scene[0], config)
    starts = []
    for start in range(3):
        net = _network(config, "teacher", data, 100 * start, 1)
        state = finish(run_phase("teacher", net, data, unseen, config, _loss_fn(config, None), None,
                                 Progress("none"), lambda *args: None, None))
        assert state.below_hsh3
        starts.append(-10 * np.log10(state.best_mse))
    assert teacher["restarts"] == 2 and teacher["below_hsh3"]
    assert teacher["val_psnr"] == pytest.approx(max(starts), abs=1e-3) and len(set(np.round(starts, 3))) == 3
    # long enough, the same network beats HSH3 - 2 dB at its first start; under a time budget (0.5 s: 200 steps on the
    # reading clock) it ends as far below and is never restarted
    long = train(scene[0], replace(config, steps=3000, eval_every=500))["teacher"].training
    assert long["restarts"] == 0 and not long["below_hsh3"]
    budgeted = train(scene[0], replace(config, steps=10**7, time_budget=0.5))["teacher"].training
    assert budgeted["restarts"] == 0 and not budgeted["below_hsh3"] and budgeted["steps"] == 200
    assert budgeted["val_psnr"] < teacher["hsh3_val_psnr"] - 2


def test_a_collapsed_network_goes_back_to_its_best_weights(scene: tuple[MLIC, MLIC],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    config = replace(TINY, mode="teacher", steps=800)
    clean = train(scene[0], config)["teacher"].training
    calls = [0]

    def sabotaged(config: TrainConfig, teacher: object) -> Callable[..., torch.Tensor]:
        """The usual loss, which on steps 160-380 also drags every output towards 5: the network learns, is wrecked
        after its first validation and is still far from its best at the next three."""
        def loss(net: Autoencoder, x: torch.Tensor, target: torch.Tensor, light: torch.Tensor,
                 *rest: torch.Tensor) -> torch.Tensor:
            calls[0] += 1
            pred = net(x, light)
            fit = torch.nn.functional.mse_loss(pred, target.expand_as(pred))
            return fit + 100 * ((pred - 5) ** 2).mean() if 160 < calls[0] <= 380 else fit
        return loss

    monkeypatch.setattr("core.neural.train._loss_fn", sabotaged)
    recovered = train(scene[0], config)["teacher"].training
    calls[0] = 0
    monkeypatch.setattr("core.neural.train.RECOVERIES", 0)
    wrecked = train(scene[0], config)["teacher"].training
    assert clean["recoveries"] == 0 and recovered["recoveries"] == 1 and wrecked["recoveries"] == 0
    # back at its step-100 weights at step 400, it went on learning past them
    assert recovered["best_step"] > 400 and recovered["val_psnr"] > wrecked["val_psnr"] + 1.0


def test_time_budget_stops_with_the_best_model(scene: tuple[MLIC, MLIC], reading_clock: None) -> None:
    result = train(scene[0], replace(TINY, steps=10**7, student_steps=3 * 10**7, time_budget=2.0))
    # the budget is shared by steps: the student, with three times the teacher's steps, gets three quarters
    assert [result[role].training["seconds"] for role in ("teacher", "student")] == [0.5, 1.5]
    assert [result[role].training["steps"] for role in ("teacher", "student")] == [200, 600]
    for model in result.values():
        assert model.training["stopped"] == "time budget" and model.training["steps"] < 10**7
        assert np.isfinite(model.codes).all()


def test_reference_recipe_and_direct_student(scene: tuple[MLIC, MLIC]) -> None:
    small = scene[0].subset(list(range(0, 49, 3)))
    reference = train(small, replace(TINY, recipe="reference", epochs=1, batch=0))
    teacher = reference["teacher"].training
    # one epoch of 90% of the 24·24·15 samples of the 17 lights less the 2 held out, 64 a step
    assert teacher["recipe"] == "reference" and teacher["steps"] == -(-(576 * 15 - 576 * 15 // 10) // 64)
    assert teacher["val_lights"] == [small.names[4], small.names[12]] and lights_of(reference["teacher"]) == 15
    direct = train(small, replace(TINY, mode="direct"))
    assert list(direct) == ["student"] and direct["student"].training["trained"] == "direct"


def test_sixteen_bit_stack_stays_sixteen_bit(scene: tuple[MLIC, MLIC]) -> None:
    eight = scene[0]
    sixteen = replace(eight, images=eight.images.astype(np.uint16) * 257)
    data8, data16 = Data(eight, torch.device("cpu")), Data(sixteen, torch.device("cpu"))
    assert data16.stack.element_size() == 2 and data8.stack.element_size() == 1
    pixels = torch.tensor([0, 5, 300, 575])
    torch.testing.assert_close(data16.observations(pixels), data8.observations(pixels))
    assert float(data16.observations(pixels).max()) <= 1.0


def test_training_lights_are_picked_without_copying_the_photos(scene: tuple[MLIC, MLIC]) -> None:
    """Data of some lights of an MLIC sees what Data of a copy of those lights sees, from the MLIC's own memory."""
    mlic = scene[0]
    kept = np.array([0, 2, 3, 7, 11])
    picked, copied = Data(mlic, torch.device("cpu"), kept), Data(mlic.subset(kept), torch.device("cpu"))
    assert picked.stack.data_ptr() == mlic.images.ctypes.data and picked.count == copied.count == 5
    pixels = torch.tensor([0, 5, 300, 575])
    torch.testing.assert_close(picked.observations(pixels), copied.observations(pixels), rtol=0, atol=0)
    np.testing.assert_array_equal(picked.lights, mlic.lights[kept])
    torch.testing.assert_close(picked.moments(), copied.moments())
    shared = Data(mlic, torch.device("cpu"), stack=picked.stack)
    assert shared.count == mlic.count and shared.stack is picked.stack


def test_fast_recipe_standardises_encoder_inputs_over_the_masked_pixels(scene: tuple[MLIC, MLIC]) -> None:
    mask = np.zeros((24, 24), dtype=bool)
    mask[2:22, 3:15] = True
    mlic = replace(scene[0], mask=mask)
    data = Data(mlic, torch.device("cpu"))
    inside = mlic.images[:, mask].astype(np.float64) / 255.0  # (N, pixels inside, 3)
    x = inside.transpose(1, 0, 2).reshape(int(mask.sum()), -1)
    mean, std = x.mean(axis=0), np.maximum(x.std(axis=0), MIN_STD)
    encoder = _network(TINY, "teacher", data, 0, 1).encoder
    np.testing.assert_allclose(encoder.input_scale.numpy(), INPUT_SPREAD / std, rtol=1e-4)
    np.testing.assert_allclose(encoder.input_shift.numpy(), -INPUT_SPREAD * mean / std, rtol=1e-4, atol=1e-5)
    mapped = x * encoder.input_scale.numpy() + encoder.input_shift.numpy()
    varying = x.std(axis=0) > MIN_STD
    assert varying.sum() > x.shape[1] // 2
    np.testing.assert_allclose(mapped.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(mapped.std(axis=0)[varying], INPUT_SPREAD, rtol=1e-3)
    reference = _network(replace(TINY, recipe="reference"), "teacher", data, 0, 1).encoder
    assert bool((reference.input_scale == 1).all()) and bool((reference.input_shift == 0).all())


def test_masked_pixels_are_never_drawn(scene: tuple[MLIC, MLIC]) -> None:
    mask = np.zeros((24, 24), dtype=bool)
    mask[4:20, 6:18] = True
    data, unseen = parts(replace(scene[0], mask=mask))
    batches, val = split(data, TINY, unseen)
    drawn = torch.cat([batches.next()[0] for _ in range(50)] + [val.pixels])
    assert mask.ravel()[drawn.numpy()].all()


def test_batches_drawn_ahead_resume_mid_block(scene: tuple[MLIC, MLIC]) -> None:
    """Batches come AHEAD at a time; a restored drawer hands out exactly what the original would have next, and
    every batch is a fresh draw (distinct light subsets of the configured size)."""
    data, unseen = parts(scene[0])
    batches, _ = split(data, TINY, unseen)
    first = [batches.next() for _ in range(AHEAD + 30)]
    saved = batches.state()
    expected = [batches.next() for _ in range(AHEAD)]
    again, _ = split(data, TINY, unseen)
    again.restore(saved)
    for want, got in zip(expected, [again.next() for _ in range(AHEAD)], strict=True):
        for a, b in zip(want, got, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=0)
    subsets = {tuple(sorted(light.tolist())) for _, light, _ in first + expected}
    assert len(subsets) == len(first) + len(expected)
    assert all(len(set(light.tolist())) == TINY.lights_per_step for _, light, _ in first)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True)


@pytest.fixture(scope="module")
def split_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mlic") / "scene"
    assert cli.main(["analytic", "-o", str(out), "--size", "24", "--seed", "3", "-q"]) == 0
    return out


FAST = ["--steps", "200", "--student-steps", "200", "--batch", "64", "--device", "cpu", "--no-hsh3-restart"]


def test_cli_train_writes_models_and_jsonl(tmp_path: Path, split_folder: Path) -> None:
    out = tmp_path / "run"
    done = run_cli("train", str(split_folder), "-o", str(out), *FAST, "--progress", "jsonl")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    steps = [r for r in records if "loss" in r]
    assert {r["phase"] for r in steps} == {"teacher", "student"}
    assert all({"step", "steps", "loss", "elapsed", "eta"} <= set(r) for r in steps)
    assert records[-1] == {"phase": "all", "event": "done", "out": str(out)}
    # 200 steps stay below HSH3 here: HSH3 is recommended, and its fit of every light is written beside
    recommended = records[-2]
    assert recommended["event"] == "recommended" and recommended["model"] == "hsh3"
    assert sorted(p.name for p in out.iterdir()) == ["hsh3", "student", "teacher", "train.json"]
    hsh3 = models.load(out / "hsh3")
    assert hsh3.method == "hsh3" and hsh3.training["recommended"] == "hsh3" == hsh3.training["role"]
    assert hsh3.training["lights"] == splits.load_part(split_folder, "train", quiet=True).count  # every light
    assert sorted(p.name for p in (out / "student").iterdir()) == [
        "codes.npy", "info.json", "plane_1.jpg", "plane_2.jpg", "plane_3.jpg"]
    assert not (tmp_path / "run.checkpoint.pt").exists()
    # each model scored at the held-out lights beside HSH3, in train.json and its info.json; a warning when below
    summary = json.loads((out / "train.json").read_text())
    warned = {r["phase"] for r in records if r.get("event") == "warning"}
    for role in ("teacher", "student"):
        training = summary["models"][role]
        assert training == json.loads((out / role / "info.json").read_text())["training"]
        assert training["val_lights"] == ["train_004.png", "train_012.png", "train_020.png", "train_028.png",
                                          "train_036.png", "train_044.png"]
        assert (role in warned) == (training["val_psnr"] < training["hsh3_val_psnr"])
    assert warned  # 200 steps stay below HSH3 on this scene
    assert summary["recommended"]["val_psnr"] == {"teacher": summary["models"]["teacher"]["val_psnr"],
                                                  "student": summary["models"]["student"]["val_psnr"],
                                                  "hsh3": summary["models"]["student"]["hsh3_val_psnr"]}
    assert all(t["recommended"] == "hsh3" for t in summary["models"].values())
    warning = next(r["message"] for r in records if r.get("event") == "warning")
    assert "held-out lights, below HSH3's" in warning and "relights this capture better" in warning
    report = run_cli("eval", str(out / "student"), "--test", str(split_folder), "--json", "-q", "--lossless")
    result = json.loads(report.stdout)
    assert result["codes"] == "8-bit planes" and abs(result["psnr"] - result["lossless"]["psnr"]) < 1.0
    planes_only = json.loads(run_cli("eval", str(out / "student"), "--test", str(split_folder), "--json").stdout)
    assert "lossless" not in planes_only and planes_only["psnr"] == result["psnr"]
    relit = run_cli("relight", str(out / "teacher"), "--light", "0", "0.5", "0.8", "-o", str(tmp_path / "r.png"))
    assert relit.returncode == 0 and (tmp_path / "r.png").is_file()


@pytest.mark.parametrize("args, message", [
    (["--student-only"], "needs --direct"),
    (["--direct"], "goes with --student-only"),
    (["--resume"], "no checkpoint"),
    (["--time-budget", "0"], "must be positive"),
    (["--beta2", "1"], "0 <= beta2 < 1"),
    (["--lr", "1e12", "--teacher-only"], "loss became"),
])
def test_cli_train_bad_input(tmp_path: Path, split_folder: Path, args: list[str], message: str) -> None:
    out = tmp_path / "run"
    done = run_cli("train", str(split_folder), "-o", str(out), *FAST, *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_cli_train_refuses_existing_output_before_training(tmp_path: Path, split_folder: Path) -> None:
    out = tmp_path / "run"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    done = run_cli("train", str(split_folder), "-o", str(out), *FAST, "--steps", "10000000",
                   "--student-steps", "10000000")
    assert done.returncode == 2 and "already exists" in done.stderr
    assert (out / "keep.txt").read_text() == "mine"


def test_killed_run_resumes_to_the_same_model(tmp_path: Path, split_folder: Path) -> None:
    """SIGKILL mid-run, then --resume: the same weights as a run that was never interrupted."""
    args = ["train", str(split_folder), *FAST, "--steps", "400", "--student-steps", "400", "--checkpoint-every", "0",
            "--progress", "jsonl"]
    whole = run_cli(*args, "-o", str(tmp_path / "whole"))
    assert whole.returncode == 0, whole.stderr
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "core", *args, "-o", str(out)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        record = json.loads(line)
        if record["phase"] == "student" and record.get("step", 0) >= 100:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert not out.exists() and (tmp_path / "killed.checkpoint.pt").is_file()
    resumed = run_cli(*args, "-o", str(out), "--resume")
    assert resumed.returncode == 0, resumed.stderr
    for role in ("teacher", "student"):
        a, b = models.load(tmp_path / "whole" / role), models.load(out / role)
        assert isinstance(a, NeuralRTI) and isinstance(b, NeuralRTI)
        assert same_model(a, b), f"{role} differs: codes by {np.abs(a.codes - b.codes).max()}; {a.training} / {b.training}"


def test_the_refit_grows_the_encoder_by_the_held_out_lights_without_changing_the_codes(
        scene: tuple[MLIC, MLIC]) -> None:
    mlic = scene[0]
    held = held_out_lights(mlic.count, TINY.val_every)
    kept = np.setdiff1d(np.arange(mlic.count), held)
    data, _ = parts(mlic)
    full = Data(mlic, torch.device("cpu"))
    net = _network(TINY, "student", data, 0, 1)
    grown = grow(net, kept, full, TINY, "student")
    pixels = torch.arange(0, full.pixels, 7)
    with torch.no_grad():
        before = net.encoder(data.observations(pixels).flatten(1))
        after = grown.encoder(full.observations(pixels).flatten(1))
    torch.testing.assert_close(after, before, rtol=1e-5, atol=1e-6)
    models = train(mlic, replace(TINY, refit=0.25))
    kept_out = train(mlic, replace(TINY, refit=0.0))
    for role in ("teacher", "student"):
        assert lights_of(models[role]) == mlic.count and models[role].training["refit_steps"] == 75
        assert lights_of(kept_out[role]) == len(kept) and "refit_steps" not in kept_out[role].training
        assert models[role].training["val_psnr"] == kept_out[role].training["val_psnr"]  # scored before the refit


def test_default_batch_grows_with_the_capture_beyond_a_megapixel():
    """320² captures keep the tuned batches; the default grows as the square root of the pixels above a megapixel, up
    to MAX_SCALE times; an explicit batch, the lights per step and the reference recipe are left alone."""
    from core.neural.batches import MAX_SCALE, SCALE_FROM, batch_defaults

    cpu, cuda = torch.device("cpu"), torch.device("cuda")
    fast = TrainConfig()
    assert batch_defaults(fast, cpu, 320 * 320) == (128, 16)
    assert batch_defaults(fast, cuda, 320 * 320) == (1024, 64)
    assert batch_defaults(fast, cuda, SCALE_FROM) == (1024, 64)
    assert batch_defaults(fast, cuda, 4 * SCALE_FROM) == (2048, 64)
    assert batch_defaults(fast, cpu, 16 * SCALE_FROM) == (512, 16)
    assert batch_defaults(fast, cuda, 1000 * SCALE_FROM) == (1024 * MAX_SCALE, 64)
    assert batch_defaults(TrainConfig(batch=300, lights_per_step=8), cuda, 16 * SCALE_FROM) == (300, 8)
    assert batch_defaults(TrainConfig(recipe="reference"), cuda, 16 * SCALE_FROM) == (64, 1)


def test_train_records_the_batch_it_used(scene: tuple[MLIC, MLIC], distilled: dict[str, NeuralRTI]):
    """Each model's training record says how many pixels a step drew: the one given, or the device's default."""
    assert {role: model.training["batch"] for role, model in distilled.items()} == {"teacher": 64, "student": 64}
    default = train(scene[0], replace(TINY, batch=0, steps=50, student_steps=50, mode="direct"))["student"]
    assert default.training["batch"] == 128


def test_several_scenes_in_one_run_equal_single_runs_and_are_skipped_when_done(tmp_path: Path) -> None:
    """``train A B -o OUT`` (here a suite's index.json of two nested scenes, trained at once: their steps
    interleave) writes OUT/<scene> as single runs do, with the same models for the same seeds; run again, finished
    scenes are skipped; ``eval OUT --test`` gives one table of every scene's models."""
    suite = tmp_path / "suite"
    for k, name in enumerate(("bumps/matte", "tablet/glossy")):
        assert cli.main(["analytic", "-o", str(suite / name), "--size", "20", "--seed", str(k), "-q"]) == 0
    (suite / "index.json").write_text(json.dumps({"suite": "test", "scenes": [{"path": "bumps/matte"},
                                                                             {"path": "tablet/glossy"}]}))
    short = ["--steps", "60", "--student-steps", "60", "--batch", "32", "--device", "cpu", "--no-hsh3-restart"]
    done = run_cli("train", str(suite / "index.json"), "-o", str(tmp_path / "run"), *short, "--progress", "jsonl",
                   "--resume", "--together", "2")  # several scenes: --resume continues a stopped scene only
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(r["scene"], r["number"]) for r in records if r.get("event") == "start" and r["phase"] == "scene"] == [
        ("bumps/matte", 1), ("tablet/glossy", 2)]
    steps = [r["scene"] for r in records if r.get("phase") == "teacher" and "step" in r and "event" not in r]
    assert steps.index("tablet/glossy") < len(steps) - 1 - steps[::-1].index("bumps/matte")  # they interleaved
    assert sorted(r["done"] for r in records if r.get("event") == "done" and r["phase"] == "scene") == [1, 2]
    for name in ("bumps/matte", "tablet/glossy"):
        alone = run_cli("train", str(suite / name), "-o", str(tmp_path / "alone" / name), *short, "-q")
        assert alone.returncode == 0, alone.stderr
        for role in ("teacher", "student"):
            ours, theirs = (models.load(folder / role) for folder in (tmp_path / "run" / name,
                                                                      tmp_path / "alone" / name))
            np.testing.assert_array_equal(ours.codes, theirs.codes)
            assert ours.layers[0][0].tobytes() == theirs.layers[0][0].tobytes()
    runs = json.loads((tmp_path / "run" / "runs.json").read_text())["scenes"]
    assert [r["scene"] for r in runs] == ["bumps/matte", "tablet/glossy"] and all(r["recommended"] for r in runs)
    again = run_cli("train", str(suite), "-o", str(tmp_path / "run"), *short, "--progress", "jsonl")
    assert again.returncode == 0, again.stderr
    assert [json.loads(line).get("event") for line in again.stdout.splitlines()] == ["skipped", "skipped", "done"]
    scored = run_cli("eval", str(tmp_path / "run"), "--test", str(suite / "index.json"), "--json", "-q")
    table = json.loads(scored.stdout)
    assert {(r["scene"], r["model"]) for r in table["scenes"]} >= {(s, m) for s in ("bumps/matte", "tablet/glossy")
                                                                  for m in ("student", "teacher")}
    assert table["mean"]["recommended"]["scenes"] == 2
    single = json.loads(run_cli("eval", str(tmp_path / "alone" / "tablet" / "glossy" / "student"), "--test",
                                str(suite / "tablet" / "glossy"),
                                "--json", "-q").stdout)
    row = next(r for r in table["scenes"] if r["scene"] == "tablet/glossy" and r["model"] == "student")
    assert row["psnr"] == pytest.approx(single["psnr"], abs=1e-9)
    page = tmp_path / "report.html"
    assert run_cli("report", str(tmp_path / "run"), "--test", str(suite), "-o", str(page), "-q").returncode == 0
    text = page.read_text()
    shown = next(r for r in table["scenes"] if r["scene"] == "tablet/glossy" and r["recommended"])
    assert "bumps/matte" in text and f"<b>{shown['psnr']:.2f}</b>" in text  # the recommended model in bold
    refused = run_cli("eval", str(tmp_path / "alone" / "bumps" / "matte"), "--test", str(suite), "-q")
    assert refused.returncode == 2 and "runs.json" in refused.stderr


def test_scenes_of_different_sizes_and_light_counts_train_together(tmp_path: Path) -> None:
    """Each scene of a run keeps its own size, lights and held-out lights (no padding or grouping): a 20² scene of
    49 training lights and a 26² one of 36 train at once and each gets the models of its single run."""
    assert cli.main(["analytic", "-o", str(tmp_path / "small"), "--size", "20", "-q"]) == 0
    assert cli.main(["analytic", "-o", str(tmp_path / "whole"), "--size", "26", "--seed", "1", "-q"]) == 0
    assert cli.main(["split", str(tmp_path / "whole" / "train"), "--every", "4", "-o", str(tmp_path / "large"),
                     "-q"]) == 0
    short = ["--steps", "60", "--student-steps", "60", "--batch", "32", "--device", "cpu", "--no-hsh3-restart", "-q"]
    done = run_cli("train", str(tmp_path / "small"), str(tmp_path / "large"), "-o", str(tmp_path / "run"), *short,
                   "--together", "2")
    assert done.returncode == 0, done.stderr
    for name, size, lights in (("small", 20, 49), ("large", 26, 36)):
        alone = run_cli("train", str(tmp_path / name), "-o", str(tmp_path / "alone" / name), *short)
        assert alone.returncode == 0, alone.stderr
        ours, theirs = (models.load(folder / "student") for folder in (tmp_path / "run" / name,
                                                                       tmp_path / "alone" / name))
        assert ours.codes.shape[:2] == (size, size) and len(ours.lights) == lights
        np.testing.assert_array_equal(ours.codes, theirs.codes)


def test_a_bad_capture_in_a_run_of_several_does_not_stop_the_others(tmp_path: Path, split_folder: Path) -> None:
    (tmp_path / "broken").mkdir()
    done = run_cli("train", str(tmp_path / "broken"), str(split_folder), "-o", str(tmp_path / "run"), "--steps", "60",
                   "--student-steps", "60", "--batch", "32", "--device", "cpu", "--no-hsh3-restart", "-q")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("error: 1 of 2 scenes failed (the others are in")
    assert (tmp_path / "run" / split_folder.name / "student" / "info.json").is_file()
    rows = json.loads((tmp_path / "run" / "runs.json").read_text())["scenes"]
    assert [r["scene"] for r in rows] == [split_folder.name, "broken"] and "error" in rows[1]
    scored = run_cli("eval", str(tmp_path / "run"), "--test", str(tmp_path / "broken"), str(split_folder), "-q")
    assert scored.returncode == 0 and "not trained: broken" in scored.stdout
