"""The add-on's own training Python: a virtual environment with ``core``'s pinned packages (requirements-core.txt),
made by Set up Training in the extension's user folder, so that Train works without a hand-made PyTorch install.

The environment is created from the Python running the add-on (in Blender, Blender's own interpreter, which every
Blender user has and which carries ``venv`` and ``ensurepip``), then ``pip`` installs the pins: PyTorch's CPU build
unless the CUDA one is asked for (torch alone from PyTorch's own index where PyPI's torch is the other build, then
everything else, which finds that torch in place). Computers PyTorch has no build for are refused before anything is
downloaded. Everything happens in a hidden sibling folder that replaces the environment only when complete and
checked, so a failed or cancelled setup leaves the previous environment as it was; the output of every command goes
to a log file beside it.
"""

from __future__ import annotations

import os
import platform
import queue
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

from .core.errors import RTIError

ADDON = Path(__file__).resolve().parent
NAME = "training-python"
"""The environment's folder in the extension's user folder."""
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"
"""PyTorch's CPU wheels (PyPI's Linux torch is the CUDA build, gigabytes larger)."""
TORCH_CUDA_INDEX = "https://download.pytorch.org/whl/cu130"
"""PyTorch's CUDA 13.0 wheels, the CUDA that PyPI's Linux torch is built for (PyPI's Windows torch is the CPU build)."""
PLATFORMS = {"linux": ("x86_64", "aarch64"), "win32": ("AMD64",), "darwin": ("arm64",)}
"""The systems and processors PyTorch publishes builds for (:func:`platform.machine`'s names)."""
MACOS = (14, 0)
"""The oldest macOS the pinned PyTorch has builds for."""
NEEDS = ("torch", "numpy", "cv2", "tqdm")
"""What training imports: a Python without them cannot train."""
CHECK = (*NEEDS, "skimage")
"""What a setup imports before it puts the new environment in place (scikit-image too: scores need it)."""
FREE_GB = {"cpu": 2.5, "cuda": 11.0}
"""Disk space a setup needs, in GB: the packages installed, plus pip's downloads of them in its temporary folder and
in its cache (CUDA on Linux: 5.2 GB installed from 2.9 GB of wheels)."""


def requirements_file() -> Path:
    """requirements-core.txt: in the extension's folder, or at the repository root when run from a checkout."""
    for candidate in (ADDON / "requirements-core.txt", ADDON.parent / "requirements-core.txt"):
        if candidate.is_file():
            return candidate
    raise RTIError("requirements-core.txt is missing from the add-on: reinstall it")


def interpreter(folder: Path) -> Path:
    """The Python of the environment in ``folder``."""
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def installed(folder: Path) -> Path | None:
    """The environment's Python when a setup completed in ``folder``, else None."""
    python = interpreter(folder)
    return python if python.is_file() and (folder / "rti-setup.txt").is_file() else None


class SetupJob:
    """Create the environment in ``folder`` as a :class:`jobs.Job`: venv, pip install, import check, swap."""

    def __init__(self, folder: Path, build: str = "cpu", requirements: Path | None = None,
                 base: Path = Path(sys.executable), check: tuple[str, ...] = CHECK):
        if build not in FREE_GB:
            raise RTIError(f"unknown PyTorch build {build!r} (choose from {', '.join(FREE_GB)})")
        self.folder, self.build = folder, build
        self.requirements = requirements or requirements_file()
        pins = self.requirements.read_text()
        torch = re.search(r"^torch==\S+", pins, flags=re.M)
        if torch is not None:
            refuse_unsupported(torch[0])
        self.new = folder.with_name(f".{folder.name}.new")
        self.log = folder.with_name(f"{folder.name}-setup.log")
        pip = [str(interpreter(self.new)), "-m", "pip", "install", "--disable-pip-version-check", "--progress-bar",
               "off"]
        index = torch_index(build)
        check_script = f"import {', '.join(check)}"
        if build == "cuda":
            check_script += "; import torch; print('RTI-CUDA', torch.cuda.is_available())"
        self.commands = [
            [str(base), "-m", "venv", str(self.new)],
            *([[*pip, "--no-deps", "--index-url", index, torch[0]]] if index and torch else []),
            [*pip, "-r", str(self.requirements)],
            [str(interpreter(self.new)), "-c", check_script],
        ]
        self.pins = sum(1 for line in pins.splitlines() if "==" in line)
        self.collected = 0
        self.progress = 0.0
        self.status = "creating the environment"
        self.warnings: list[str] = []
        self.process: subprocess.Popen[str] | None = None
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.tail: list[str] = []

    def start(self) -> None:
        self.folder.parent.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(self.folder.parent).free / 1e9
        if free < FREE_GB[self.build]:
            raise RTIError(f"not enough disk space: {free:.1f} GB free in {self.folder.parent}, setting up "
                           f"training needs about {FREE_GB[self.build]:g} GB")
        shutil.rmtree(self.new, ignore_errors=True)
        self.log.write_text("")
        self._next()

    def step(self) -> bool:
        assert self.process is not None
        while not self.lines.empty():
            line = self.lines.get()
            if line is None:
                return self._ended()
            self._read(line)
        return False

    def finish(self, context: object) -> str:
        """Put the new environment in place of the old one (which is removed only once the new one is there)."""
        (self.new / "rti-setup.txt").write_text(f"{self.build}\n{self.requirements.read_text()}")
        old = self.folder.with_name(f".{self.folder.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        if self.folder.exists():
            self.folder.rename(old)
        self.new.rename(self.folder)
        shutil.rmtree(old, ignore_errors=True)
        return f"training Python ready: {interpreter(self.folder)} (PyTorch {self.build.upper()} build)"

    def cancel(self) -> None:
        """Stop the running command and remove the half-made environment; an older one is untouched."""
        process = self.process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(self.new, ignore_errors=True)

    def _next(self) -> None:
        command = self.commands.pop(0)
        with self.log.open("a") as log:
            log.write("$ " + " ".join(command) + "\n")
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        bufsize=1)
        threading.Thread(target=self._pump, args=(self.process,), daemon=True).start()

    def _pump(self, process: subprocess.Popen[str]) -> None:
        """Copy a command's output into the log and hand each line to :meth:`step` (a reader thread)."""
        assert process.stdout is not None
        with self.log.open("a") as log:
            for line in process.stdout:
                log.write(line)
                self.lines.put(line)
        self.lines.put(None)

    def _ended(self) -> bool:
        """The running command ended: fail with one line, start the next, or report that all are done."""
        assert self.process is not None
        code = self.process.wait()
        if code != 0:
            raise RTIError(f"{_reason(self.tail)}; see {self.log}")
        if not self.commands:
            self.progress, self.status = 1.0, "done"
            return True
        self.progress = max(self.progress, 1.0 - 0.05 * len(self.commands))
        self.status = "checking the packages" if len(self.commands) == 1 else "installing packages"
        self._next()
        return False

    def _read(self, line: str) -> None:
        self.tail = [*self.tail[-30:], line.rstrip()]
        if line.startswith("RTI-CUDA False"):
            self.warnings.append("PyTorch's CUDA build is installed but sees no usable GPU (CUDA 13.0 needs a recent "
                                 "NVIDIA driver): training will run on the CPU until the driver is updated")
        found = re.match(r"(Collecting|Downloading|Installing collected packages|Successfully installed)\s*(\S*)",
                         line.strip())
        if found is None:
            return
        if found[1] == "Collecting":
            self.collected += 1
            self.progress = max(self.progress, 0.1 + 0.6 * min(self.collected / max(self.pins, 1), 1.0))
            self.status = f"fetching {found[2]} ({self.collected} of about {self.pins})"
        elif found[1] == "Downloading":
            self.status = f"downloading {found[2].split('/')[-1]}"
        elif found[1].startswith("Installing"):
            self.progress, self.status = max(self.progress, 0.75), "installing packages (a few minutes)"


def torch_index(build: str) -> str | None:
    """PyTorch's index to take torch from for ``build`` on this system; None where PyPI's torch is that build."""
    if sys.platform == "darwin":  # one build on macOS (CPU and Apple GPU), on PyPI
        return None
    if build == "cpu":
        return TORCH_CPU_INDEX
    return TORCH_CUDA_INDEX if sys.platform == "win32" else None  # PyPI's Linux torch is the CUDA build


def refuse_unsupported(torch: str) -> None:
    """Refuse, before any download, a computer that PyTorch (``torch==VERSION``) publishes no build for."""
    machine, system = platform.machine(), {"linux": "Linux", "win32": "Windows", "darwin": "macOS"}
    if machine not in PLATFORMS.get(sys.platform, ()):
        name = "Intel Macs" if sys.platform == "darwin" else f"{system.get(sys.platform, sys.platform)} on {machine}"
        raise RTIError(f"PyTorch ({torch}) has no build for {name}: train on another computer and import its model "
                       f"folder here, or name a Python with PyTorch 2.4 or later in the add-on preferences")
    if sys.platform == "darwin":
        version = platform.mac_ver()[0]
        if tuple(int(part) for part in (version or "0").split(".")[:2]) < MACOS:
            raise RTIError(f"PyTorch ({torch}) needs macOS {MACOS[0]} or later (this is macOS {version}): update "
                           f"macOS, or name a Python with PyTorch 2.4 or later in the add-on preferences")


def _reason(tail: list[str]) -> str:
    """One line saying why a command failed, from the end of its output."""
    text = "\n".join(tail)
    if "No space left on device" in text or "Errno 28" in text:
        return "not enough disk space to install the training packages"
    if re.search(r"NewConnectionError|Failed to establish|Name or service not known|Temporary failure in name "
                 r"resolution|Could not fetch URL|ConnectionError|timed out", text):
        return "could not download the training packages (no network, or the package index cannot be reached)"
    missing = re.search(r"No matching distribution found for (\S+)", text)
    if missing:
        here = f"Python {sys.version_info[0]}.{sys.version_info[1]}, {platform.system()} on {platform.machine()}"
        if "(from versions: none)" in text:  # nothing listed at all: the index may not have answered
            return (f"found no {missing[1]} to download: no network, the package index cannot be reached, or it "
                    f"has none for this computer ({here})")
        return f"the package index has no {missing[1]} for this computer ({here})"
    errors = [line for line in tail if line.startswith("ERROR")]
    return f"setting up training failed: {(errors or tail or ['no output'])[-1]}"
