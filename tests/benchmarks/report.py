"""BENCHMARKS.md sections: each benchmark owns the text between its markers and rewrites only that."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
import re
import subprocess
from collections.abc import Sequence
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "BENCHMARKS.md"
HEADER = """# Benchmarks

Every section below is written by `python3 build.py bench NAME` (all of them: `python3 build.py bench`), with the
machine, date and versions of the run that produced it. Speeds are compared with a baseline timed in the same run,
because the machines are shared and noisy. How the neural trainer's defaults were chosen: docs/experiments.md.
"""


def environment() -> str:
    """One line saying where and when a benchmark ran."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor()) if Path("/proc/cpuinfo").exists() else ""
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in ("numpy", "opencv-python-headless",
                                                                         "scikit-image", "torch"))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    gpu = f"GPU {torch.cuda.get_device_name()}; " if torch.cuda.is_available() else ""
    return (f"Machine: {cpu}, {os.cpu_count()} cores, {_memory_gb():.0f} GB RAM; {gpu}date {datetime.date.today()}; "
            f"Python {platform.python_version()}, {versions}; commit {commit.strip() or 'uncommitted'}.")


def _memory_gb() -> float:
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9


def table(header: list[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(name: str, title: str, body: str, command: str | None = None) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md; ``command`` reproduces it (default: bench NAME)."""
    text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
    command = command or f"python3 build.py bench {name}"
    section = (f"<!-- bench:{name} -->\n## {title}\n\nCommand: `{command}`. {environment()}\n\n"
               f"{body.strip()}\n<!-- /bench:{name} -->")
    pattern = re.compile(rf"<!-- bench:{name} -->.*?<!-- /bench:{name} -->", re.S)
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip() + "\n\n" + section + "\n"
    BENCHMARKS.write_text(text)
