"""``torchrun`` launches of ``python -m core train`` on the CPU (gloo): a collection shared out over two ranks, and a
rank that dies. Each test starts real processes; budgets are generous timeouts, never assertions on speed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from core import cli
from core.formats import models

ROOT = Path(__file__).resolve().parents[1]
SHORT = ["--steps", "60", "--student-steps", "60", "--batch", "32", "--device", "cpu", "--no-hsh3-restart"]


def torchrun(*args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2", "-m", "core",
            *args]


def environment() -> dict[str, str]:
    """One thread a process (two ranks share these cores; and sums in one order, for bit-equal models)."""
    return {**os.environ, "OMP_NUM_THREADS": "1"}


@pytest.fixture(scope="module")
def scenes(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("ranks")
    for k in range(3):
        assert cli.main(["analytic", "-o", str(root / f"s{k}"), "--size", "20", "--seed", str(k), "-q"]) == 0
    return [root / f"s{k}" for k in range(3)]


def test_a_collection_is_shared_out_over_two_ranks(tmp_path: Path, scenes: list[Path]) -> None:
    """Rank r trains every r-th scene left; each scene is trained once, into its own folder, with the models of a
    one-process run; the first rank writes runs.json of all; a rerun skips them; one capture is refused."""
    done = subprocess.run(torchrun("train", *map(str, scenes), "-o", str(tmp_path / "run"), *SHORT, "--progress",
                                   "jsonl"), cwd=ROOT, capture_output=True, text=True, env=environment(), timeout=600)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    started = sorted((r["scene"], r["rank"]) for r in records if r.get("phase") == "scene" and r["event"] == "start")
    assert started == [("s0", 0), ("s1", 1), ("s2", 0)]
    summary = json.loads((tmp_path / "run" / "runs.json").read_text())
    assert summary["ranks"] == 2 and [r["scene"] for r in summary["scenes"]] == ["s0", "s1", "s2"]
    alone = subprocess.run([sys.executable, "-m", "core", "train", *map(str, scenes), "-o", str(tmp_path / "one"),
                            *SHORT, "-q"], cwd=ROOT, capture_output=True, text=True, env=environment(), timeout=600)
    assert alone.returncode == 0, alone.stderr
    for name in ("s0", "s1", "s2"):
        for role in ("teacher", "student"):
            ours, theirs = (models.load(run / name / role) for run in (tmp_path / "run", tmp_path / "one"))
            np.testing.assert_array_equal(ours.codes, theirs.codes)
    again = subprocess.run(torchrun("train", *map(str, scenes), "-o", str(tmp_path / "run"), *SHORT, "--progress",
                                    "jsonl"), cwd=ROOT, capture_output=True, text=True, env=environment(), timeout=600)
    assert again.returncode == 0, again.stderr
    events = [json.loads(line).get("event") for line in again.stdout.splitlines() if line.startswith("{")]
    assert events.count("skipped") == 3 and "start" not in events
    one = subprocess.run(torchrun("train", str(scenes[0]), "-o", str(tmp_path / "single"), *SHORT, "-q"), cwd=ROOT,
                         capture_output=True, text=True, env=environment(), timeout=600)
    assert one.returncode != 0 and "torchrun with one capture" in one.stderr
    assert not (tmp_path / "single").exists()


def worker_of_rank(launcher: int, rank: int) -> int | None:
    """The pid of the worker process of ``rank`` under torchrun's process ``launcher`` (Linux /proc)."""
    try:
        children = Path(f"/proc/{launcher}/task/{launcher}/children").read_text().split()
    except OSError:
        return None
    for child in map(int, children):
        try:
            variables = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"RANK={rank}".encode() in variables:
            return child
    return None


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="finds the workers through Linux's /proc")
def test_a_rank_that_dies_ends_the_run_and_a_rerun_completes_it(tmp_path: Path, scenes: list[Path]) -> None:
    """Killing rank 1 mid-run ends the whole launch with a failure that names it (torchrun stops the other rank:
    nothing hangs, no summary is written); the same command run again trains the scenes."""
    long = ["--steps", "100000", *SHORT[2:]]  # rank 1's first scene is still training when it is killed
    process = subprocess.Popen(torchrun("train", *map(str, scenes), "-o", str(tmp_path / "run"), *long,
                                        "--progress", "jsonl"), cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment())
    try:
        victim, deadline = None, time.monotonic() + 300
        assert process.stdout is not None
        for line in process.stdout:  # wait until rank 1 has started training its scene
            if '"rank": 1' in line and '"start"' in line:
                victim = worker_of_rank(process.pid, 1)
                break
            assert time.monotonic() < deadline
        assert victim is not None
        os.kill(victim, signal.SIGKILL)
        _, errors = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode != 0 and "SIGKILL" in errors, errors[-2000:]
    assert not (tmp_path / "run" / "runs.json").exists()
    again = subprocess.run(torchrun("train", *map(str, scenes), "-o", str(tmp_path / "run"), *SHORT, "-q"), cwd=ROOT,
                           capture_output=True, text=True, env=environment(), timeout=600)
    assert again.returncode == 0, again.stderr
    assert len(json.loads((tmp_path / "run" / "runs.json").read_text())["scenes"]) == 3
