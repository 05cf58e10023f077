"""``rti.train``: train a teacher and its student on an MLIC in a subprocess with an external Python (Blender's has no
PyTorch), following its ``--progress jsonl`` lines; the student, with its teacher on the same plane, is imported when
it is done.

The subprocess runs ``python -m core train`` on the add-on's own copy of ``core`` (vendored whole for this), so the
interpreter needs only the dependencies: torch, numpy, opencv and tqdm. ``rti.setup_training`` installs them into the
add-on's own environment (:mod:`training_env`), which training then uses unless the preferences name another Python.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO

import bpy

from . import importer, training_env
from .core.errors import RTIError
from .jobs import JobOperator, absolute_folder
from .preferences import addon_preferences, configured_python, environment_folder, find_python

ADDON = Path(__file__).resolve().parent
"""The folder holding the ``core`` package the trainer runs."""


def check_python(python: Path) -> None:
    """Refuse an interpreter that cannot train, saying what it lacks."""
    try:
        done = subprocess.run([str(python), "-c", f"import {', '.join(training_env.NEEDS)}"], env=environment(),
                              capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RTIError(f"{python} does not run: {exc}") from None
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines() or [f"exit status {done.returncode}"]
        raise RTIError(f"{python} cannot train ({lines[-1]}); press Set up Training (RTI tab or the add-on "
                       f"preferences), or set a Python with {', '.join(training_env.NEEDS)} there")


class TrainJob:
    """``python -m core train MLIC -o OUT --progress jsonl`` as a :class:`jobs.Job`."""

    def __init__(self, python: Path, mlic: Path, out: Path, overwrite: bool, time_budget: float):
        if not mlic.is_dir():
            raise RTIError(f"{mlic}: no such MLIC folder")
        if out.exists() and not overwrite:
            raise RTIError(f"{out} exists: turn on Overwrite or choose another output folder")
        self.python, self.out = python, out
        self.command = [str(python), "-m", "core", "train", str(mlic), "-o", str(out), "--progress", "jsonl"]
        if overwrite:
            self.command.append("--force")
        if time_budget > 0:
            self.command += ["--time-budget", str(time_budget)]
        self.progress = 0.0
        self.status = f"checking {python}"
        self.process: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str] = queue.Queue()
        self.errors: deque[str] = deque(maxlen=20)
        self.readers: list[threading.Thread] = []
        self.phases = ["teacher", "student"]
        self.warnings: list[str] = []

    def start(self) -> None:
        check_python(self.python)
        self.process = subprocess.Popen(self.command, env=environment(), stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, bufsize=1)
        assert self.process.stdout is not None and self.process.stderr is not None
        self.readers = [threading.Thread(target=_pump, args=(self.process.stdout, self.lines.put), daemon=True),
                        threading.Thread(target=_pump, args=(self.process.stderr, self.errors.append), daemon=True)]
        for reader in self.readers:
            reader.start()
        self.status = "reading the MLIC"

    def step(self) -> bool:
        assert self.process is not None
        code = self.process.poll()
        if code is not None:
            for reader in self.readers:
                reader.join()
        while not self.lines.empty():
            self._read(self.lines.get())
        if code is None:
            return False
        if code != 0:
            lines = [line for line in self.errors if line.strip()]
            raise RTIError(lines[-1].strip() if lines else f"training failed (exit status {code})")
        return True

    def finish(self, context: bpy.types.Context) -> str:
        scene = context.scene
        assert scene is not None
        plane, shown = importer.add_training(scene, self.out)
        replaced = importer.use_standard_view(scene)
        if context.view_layer is not None:
            context.view_layer.objects.active = plane
        message = f"trained {self.out}; imported on '{plane.name}', {shown}"
        if replaced is not None:
            message += f"; colour management set to Standard (was {replaced})"
        return message

    def cancel(self) -> None:
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def _read(self, line: str) -> None:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            return
        phase = record.get("phase")
        if record.get("event") == "message":
            self.status = f"{phase}: {record.get('message', '')}"
        elif record.get("event") == "warning":
            self.warnings.append(f"{phase}: {record.get('message', '')}")
        elif phase in self.phases and "step" in record and record.get("steps"):
            done = (self.phases.index(phase) + record["step"] / record["steps"]) / len(self.phases)
            self.progress = min(max(done, self.progress), 1.0)
            self.status = f"{phase}: step {record['step']}/{record['steps']}"
            if "eta" in record:
                self.status += f", {record['eta']:.0f} s left"


def environment() -> dict[str, str]:
    """The trainer's environment: the add-on's folder first on its path, so ``-m core`` is the add-on's copy."""
    paths = [str(ADDON), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    return {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}


def _pump(stream: IO[str], put: Callable[[str], object]) -> None:
    """Hand each line of ``stream`` to ``put`` until it closes (a reader thread)."""
    for line in stream:
        put(line)


class RTI_OT_train(JobOperator):
    """Train a DisK teacher and its 723-parameter student on an MLIC folder (in an external Python with PyTorch),
    then import the student"""

    bl_idname = "rti.train"
    bl_label = "Train Neural RTI"
    _wait = 0.1

    def make_job(self, context: bpy.types.Context) -> TrainJob:
        settings = getattr(context.scene, "rti_train")
        return TrainJob(find_python(configured_python(context)), absolute_folder(settings.mlic),
                        absolute_folder(settings.output), settings.overwrite, settings.time_budget)


class RTI_OT_setup_training(JobOperator):
    """Install PyTorch and the other packages training needs into the add-on's own Python environment (a few
    minutes; Esc cancels and keeps any earlier environment)"""

    bl_idname = "rti.setup_training"
    bl_label = "Set up Training"
    _wait = 0.1

    def make_job(self, context: bpy.types.Context) -> training_env.SetupJob:
        build = getattr(addon_preferences(context), "build", "cpu")
        if build == "cuda" and shutil.which("nvidia-smi") is None:
            raise RTIError("no NVIDIA GPU found (nvidia-smi is not on the PATH): choose the CPU build")
        return training_env.SetupJob(environment_folder(create=True), build)


classes = (RTI_OT_train, RTI_OT_setup_training)
