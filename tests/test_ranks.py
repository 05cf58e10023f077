"""``torchrun`` launches of ``python -m core train`` on the CPU (gloo): a collection shared out over two ranks, one
capture trained data parallel, and a rank that dies. Each test starts real processes; budgets are generous timeouts, never assertions on speed."""

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


def test_one_capture_trains_data_parallel_on_two_ranks(tmp_path: Path, scenes: list[Path]) -> None:
    """Each rank draws its own batches and the gradients are averaged: twice the pixels a step, so the held-out
    scores are at least those of one process (here within 1 dB, over two seeds); the first rank alone reports and
    writes."""
    steps = ["--steps", "300", "--student-steps", "300", "--batch", "64", "--device", "cpu", "--no-hsh3-restart"]
    for seed in ("0", "1"):
        two = subprocess.run(torchrun("train", str(scenes[0]), "-o", str(tmp_path / f"two{seed}"), *steps, "--seed",
                                      seed, "--progress", "jsonl"), cwd=ROOT, capture_output=True, text=True,
                             env=environment(), timeout=600)
        assert two.returncode == 0, two.stderr
        records = [json.loads(line) for line in two.stdout.splitlines() if line.startswith("{")]
        assert sum(r.get("event") == "done" and r["phase"] == "teacher" for r in records) == 1  # rank 0 reports
        one = subprocess.run([sys.executable, "-m", "core", "train", str(scenes[0]), "-o", str(tmp_path / f"one{seed}"),
                              *steps, "--seed", seed, "-q"], cwd=ROOT, capture_output=True, text=True,
                             env=environment(), timeout=600)
        assert one.returncode == 0, one.stderr
        for role in ("teacher", "student"):
            ours, theirs = (json.loads((tmp_path / f"{run}{seed}" / "train.json").read_text())["models"][role]
                            for run in ("two", "one"))
            assert ours["val_psnr"] > theirs["val_psnr"] - 1.0, (role, ours["val_psnr"], theirs["val_psnr"])


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
def test_a_rank_that_dies_ends_the_run_and_resume_continues_it(tmp_path: Path, scenes: list[Path]) -> None:
    """Killing rank 1 mid-run ends the whole launch with a failure that names it (torchrun stops the other rank:
    nothing hangs, nothing is written but rank 0's checkpoint), rank 0 says in one line why it stopped; the same
    command with --resume continues from that checkpoint on both ranks."""
    command = torchrun("train", str(scenes[0]), "-o", str(tmp_path / "run"), "--steps", "3000",
                       *SHORT[2:], "--checkpoint-every", "0", "--progress", "jsonl")
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env=environment())
    try:
        victim, deadline = None, time.monotonic() + 300
        assert process.stdout is not None
        for line in process.stdout:  # wait until the teacher is well under way
            record = json.loads(line) if line.startswith("{") else {}
            if record.get("phase") == "teacher" and record.get("step", 0) >= 500:
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
    said = [line for line in errors.splitlines() if line.startswith("error: rank 0: ")]
    assert len(said) == 1 and said[0].endswith("--resume continues from the last checkpoint"), errors[-2000:]
    assert not (tmp_path / "run").exists() and (tmp_path / "run.checkpoint.pt").is_file()
    again = subprocess.run([*command, "--resume"], cwd=ROOT, capture_output=True, text=True, env=environment(),
                           timeout=600)
    assert again.returncode == 0, again.stderr
    starts = [json.loads(line) for line in again.stdout.splitlines() if '"start"' in line]
    assert starts[0]["phase"] == "teacher" and starts[0]["step"] >= 500  # continued, not started over
    assert (tmp_path / "run" / "student" / "info.json").is_file() and not (tmp_path / "run.checkpoint.pt").exists()
