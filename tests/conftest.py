"""Shared fixtures: tiny MLIC folders written on the fly, and the optional ../shared data sets."""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from core.capture import images
from core.neural.model import NeuralRTI
from synth.materials import srgb_to_linear


class VendoredAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Import ``blender_addon.core.X`` as ``core.X`` and ``blender_addon.synth.X`` as ``synth.X``.

    The built zip holds one copy of each package; in the repository the add-on reaches them through symlinks, which
    would load every module twice, so an error raised by synth (``core.errors.RTIError``) would not be the class the
    add-on catches (``blender_addon.core.errors.RTIError``). One module per file, as in the zip."""

    PACKAGES = ("blender_addon.core", "blender_addon.synth")

    def find_spec(self, fullname: str, path: object, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if any(fullname == p or fullname.startswith(p + ".") for p in self.PACKAGES):
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(spec.name.removeprefix("blender_addon."))

    def exec_module(self, module: ModuleType) -> None:
        """The module ran when it was imported under its own name."""


sys.meta_path.insert(0, VendoredAlias())

SHARED = Path(__file__).resolve().parents[2] / "shared" / "datasets"
EXIT_STATUS = pytest.StashKey[int]()


def old_bpy() -> bool:
    """Whether the bpy module in use is older than 5.0: those crash while Python shuts down, after all their work."""
    bpy = sys.modules.get("bpy")
    return bpy is not None and tuple(bpy.app.version) < (5, 0, 0)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    session.config.stash[EXIT_STATUS] = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """With bpy 4.2 (CI's second Blender), leave before Python's shutdown crashes, with pytest's own status."""
    if old_bpy():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(config.stash.get(EXIT_STATUS, 1))


def bpy_script_finished(done: subprocess.CompletedProcess, last_line: str) -> bool:
    """A bpy script's process did all its work: status 0, or with bpy before 5.0 a crash after it printed
    ``last_line`` (its shutdown crash)."""
    printed = any(line.startswith(last_line) for line in done.stdout.splitlines())
    return done.returncode == 0 or (old_bpy() and printed and "Traceback" not in done.stderr)


def shared_dataset(name: str) -> Path:
    """A data set from ../shared/datasets, or a skip when this checkout has none."""
    path = SHARED / name
    if not path.is_dir():
        pytest.skip(f"{path} is not available")
    return path


def assert_emits(image: np.ndarray, display: np.ndarray, tolerance: float = 1e-4) -> None:
    """A float render holds the model's display values decoded to linear light: within ``tolerance``, relative to
    values above 1 (random test decoders reach far beyond [0, 1])."""
    linear = srgb_to_linear(display)
    assert (np.abs(image - linear) <= tolerance * np.maximum(np.abs(linear), 1.0)).all()


def write_mlic(folder: Path, stack: np.ndarray, lights: np.ndarray, ext: str = ".png", lp_text: str | None = None) -> Path:
    """Write images image_000.ext... and dirs.lp (or ``lp_text`` verbatim) into ``folder``; returns the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"image_{i:03d}{ext}" for i in range(len(stack))]
    for name, image in zip(names, stack):
        images.write_image(folder / name, image, quality=100)
    if lp_text is None:
        lp_text = f"{len(names)}\n" + "".join(f"{n} {x} {y} {z}\n" for n, (x, y, z) in zip(names, lights))
    (folder / "dirs.lp").write_text(lp_text)
    return folder


@pytest.fixture(scope="session")
def extension() -> Path:
    """The extension zip, built by ``build.py package`` as a user would build it."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "build.py", "package"], cwd=root, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "dist" / "neural_rti-0.1.0.zip"


@pytest.fixture(scope="module")
def registered_addon() -> Iterator[None]:
    """The Blender add-on registered (its operators, properties and panels) for one test module."""
    import blender_addon  # needs bpy: only the modules that skip without it ask for this

    blender_addon.register()
    yield
    blender_addon.unregister()


@pytest.fixture
def tiny_stack() -> tuple[np.ndarray, np.ndarray]:
    """Six random 8-bit 12x10 RGB images and six unit light directions."""
    rng = np.random.default_rng(1)
    lights = np.array([[0, 0, 1], [0.5, 0, 0.866], [0, 0.5, 0.866], [-0.5, 0, 0.866], [0, -0.6, 0.8], [0.6, 0.6, 0.52]])
    lights = lights / np.linalg.norm(lights, axis=1, keepdims=True)
    return rng.integers(0, 256, (6, 10, 12, 3), dtype=np.uint8), lights


def random_model(width: int, size: tuple[int, int] = (20, 24), seed: int = 0) -> NeuralRTI:
    """A model with smooth random codes and random decoder weights of the given hidden width."""
    rng = np.random.default_rng(seed)
    h, w = size
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    codes = np.stack([np.sin(3 * x * (k + 1) + k) * (k + 1) * 0.3 + y * k for k in range(9)], axis=-1)
    layers = [
        (rng.normal(0, 0.5, (width, 11)).astype(np.float32), rng.normal(0, 0.1, width).astype(np.float32)),
        (rng.normal(0, 0.3, (width, width)).astype(np.float32), rng.normal(0, 0.1, width).astype(np.float32)),
        (rng.normal(0, 0.2, (3, width)).astype(np.float32), np.full(3, 0.5, dtype=np.float32)),
    ]
    return NeuralRTI(codes.astype(np.float32), layers, np.array([[0.0, 0.0, 1.0]]), {"role": "test"})
