"""What to train and how: the trainer's settings and their defaults.

Free of torch, so that the command line can show and use these defaults without loading it (``core.neural.train`` loads
torch; the CLI imports it only for the commands that train).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ..errors import RTIError

MODES = ("distill", "teacher", "direct")
RECIPES = ("fast", "reference")
TEACHERS = ("disk", "neuralrti")
DEVICES = ("auto", "cpu", "cuda")
PRECISIONS = ("float32", "bfloat16")

GPU_CANDIDATES = 2
"""Default students trained at once on a GPU (``TrainConfig.candidates``): students of one teacher spread widely by
their seed alone and the best validated one is among the best on test lights; two keep a GPU run within its 30 s,
more do not (docs/experiments.md, "Candidates")."""
GPU_STUDENT_LR = 1.3e-2
"""Default peak learning rate of fast-recipe students on a GPU (``TrainConfig.student_lr``): the best of the rates
tried; lower ones run short of steps, higher ones collapse (docs/experiments.md, "Student learning rate")."""
GPU_SCENES = 8
"""Default scenes trained at once on a GPU by ``train A B C ...`` (``core.neural.scheduler``; BENCHMARKS.md,
``neural_many``)."""


@dataclass
class TrainConfig:
    """What to train and how; zero for ``batch`` or ``lights_per_step`` means the recipe's default for the device."""

    mode: str = "distill"
    teacher: str = "disk"
    student_width: int = 20
    recipe: str = "fast"
    steps: int = 9_600
    student_steps: int = 19_200
    """Fast-recipe steps of students (``steps`` are the teacher's) before the refit on every light (``refit``); with
    it, both fill the 30 s a GPU run may take. A longer teacher with the students cut to fit scores better as a
    teacher but not as a student (docs/experiments.md, "Teacher steps against student steps")."""
    batch: int = 0
    lights_per_step: int = 0
    lr: float = 1e-2
    student_lr: float = 0.0
    """Peak learning rate of fast-recipe students (distilled or direct); 0: ``GPU_STUDENT_LR`` on a GPU, ``lr`` on
    a CPU (whose batches are an eighth of the pixels and a quarter of the lights). See ``core.neural.train.peak_lr``."""
    beta2: float = 0.99
    """Adam's β₂ in the fast recipe. PyTorch's default 0.999 keeps a stale, small second moment when rare large
    gradients arrive (specular highlights), and training becomes erratic from seed to seed; 0.99 is stable
    (docs/experiments.md, "Fast recipe stability")."""
    eval_every: int = 500
    patience: int = 8
    epochs: int = 100
    alpha: float = 0.6
    temperature: float = 1.0
    candidates: int = 0
    """Students trained at once, from different initialisations, as members of one network (``core.neural.nn.Linear``); the
    one with the best validation is kept. 0: the device's default (``core.neural.train.candidate_count``)."""
    teacher_candidates: int = 1
    """Teachers trained at once in the same way (fast recipe), the best validated one distilled and kept."""
    teacher_mean: bool = False
    """With several teacher candidates, distil the student from their mean prediction (the best one is still the
    teacher that is kept; the student's refit distils from it)."""
    distill_lights: int = 32
    """Random light directions a step at which a fast-recipe student matches its teacher (the soft term); 0 takes
    that term at the training lights, as the reference recipe always does (see ``core.neural.distill``;
    docs/experiments.md, "Distilling at random lights")."""
    val_every: int = 8
    """Every ``val_every``-th light is held out of training (``core.neural.batches.held_out_lights``) to validate at
    lights the networks never saw (docs/experiments.md, "Validation at held-out lights")."""
    refit: float = 0.25
    """Fast recipe, without a time budget: after validation, grow each network's encoder by the held-out lights and
    train it this fraction of its steps more on every light (0: the models keep the held-out lights out), which wins
    back most of what leaving lights out costs (docs/experiments.md, "Validation at held-out lights")."""
    restart_below_hsh3: bool = True
    """Restart a fast-recipe network that ends ``core.neural.train.BELOW_HSH3_DB`` below HSH3 on its validation pixels."""
    population: bool = False
    """Fast recipe: train each network also with the other device's recipe (batch, lights per step, students and
    their learning rate) side by side, and keep the one that validates best (``core.neural.train.population``)."""
    precision: str = "float32"
    """Number format of the activations in a training step (``bfloat16``: autocast, weights and
    optimiser stay float32); validation, codes and exported models are always float32."""
    seed: int = 0
    device: str = "auto"
    time_budget: float | None = None
    checkpoint_every: float = 60.0

    def check(self) -> None:
        """Refuse settings that cannot train, with the reason."""
        if self.mode not in MODES or self.recipe not in RECIPES or self.teacher not in TEACHERS:
            raise RTIError(f"unknown mode {self.mode!r}, recipe {self.recipe!r} or teacher {self.teacher!r}")
        if min(self.student_width, self.steps, self.student_steps) < 1 or min(
                self.batch, self.lights_per_step, self.distill_lights, self.candidates, self.student_lr) < 0 or (
                self.teacher_candidates < 1):
            raise RTIError("student width, steps and teacher candidates must be positive; batch, lights per step, "
                           "distill lights, candidates and student lr not negative")
        if not (self.lr > 0 and 0.0 <= self.beta2 < 1.0 and 0.0 <= self.alpha <= 1.0 and self.temperature > 0):
            raise RTIError("need lr > 0, 0 <= beta2 < 1, 0 <= alpha <= 1 and temperature > 0")
        if self.refit < 0:
            raise RTIError(f"--refit must not be negative, got {self.refit}")
        if self.val_every < 2:
            raise RTIError(f"--val-every must be at least 2, got {self.val_every}")
        if max(self.candidates, self.teacher_candidates) > 1 and self.recipe == "reference":
            raise RTIError("--candidates and --teacher-candidates go with the fast recipe (the reference recipe "
                           "trains one network)")
        if self.teacher_mean and self.teacher_candidates < 2:
            raise RTIError("--teacher-mean needs --teacher-candidates 2 or more")
        if self.precision not in PRECISIONS:
            raise RTIError(f"--precision must be float32 or bfloat16, got {self.precision!r}")
        if self.device not in DEVICES:
            raise RTIError(f"--device must be auto, cpu or cuda, got {self.device!r}")
        if self.time_budget is not None and self.time_budget <= 0:
            raise RTIError(f"--time-budget must be positive, got {self.time_budget}")

    def result_keys(self) -> dict:
        """The settings that decide the result (a checkpoint resumes only under the same ones)."""
        keys = asdict(self)
        for volatile in ("device", "time_budget", "checkpoint_every"):
            keys.pop(volatile)
        return keys

    def phase_steps(self, role: str) -> int:
        """Fast-recipe steps of the teacher or of a student (distilled or direct)."""
        return self.student_steps if role == "student" else self.steps
