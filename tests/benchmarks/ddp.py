"""``neural_ddp``: ``torchrun`` launches of ``python -m core train`` with 1 and 2 ranks on this machine: one capture
trained data parallel, and a collection shared out over the ranks.

``BENCH_DEVICE`` (cpu, cuda: the ranks then share the one GPU), ``BENCH_DDP_SIZE`` the analytic scenes' size (default
128), ``BENCH_DDP_SCENES`` the collection's (default 4), ``BENCH_DDP_SEEDS`` how many training seeds the one capture
is trained with at each rank count (default 3: how close data parallel comes to one process), ``BENCH_TRAIN_ARGS``
extra ``train`` options. On a CPU each rank gets ``cores / ranks`` threads, so both launches use every core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from .neural import DEVICE, TRAIN_ARGS, _device_name
from .report import ROOT, table, write_section

SIZE = int(os.environ.get("BENCH_DDP_SIZE", 128))
SCENES = int(os.environ.get("BENCH_DDP_SCENES", 4))
SEEDS = int(os.environ.get("BENCH_DDP_SEEDS", 3))
RANKS = (1, 2)


def neural_ddp() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for k in range(SCENES):
            _run([sys.executable, "-m", "core", "analytic", "-o", str(root / f"scene{k}"), "--size", str(SIZE),
                  "--seed", str(k), "-q"], 1)
        rows: list[list[str | int]] = []
        one: dict[int, list[tuple[float, float]]] = {}
        for ranks in RANKS:
            walls = []
            for seed in range(SEEDS):
                out = root / f"one_{ranks}_{seed}"
                walls.append(_run(_launch(ranks, str(root / "scene0"), "-o", str(out), "--seed", str(seed)), ranks))
                record = json.loads((out / "train.json").read_text())["models"]
                one.setdefault(ranks, []).append((record["teacher"]["val_psnr"], record["student"]["val_psnr"]))
            teacher, student = np.mean(one[ranks], axis=0)
            rows.append([f"one capture, data parallel (mean of {SEEDS} seeds)", ranks, f"{np.mean(walls):.0f}",
                         f"{teacher:.2f}", f"{student:.2f}"])
        for ranks in RANKS:
            out = root / f"many_{ranks}"
            seconds = _run(_launch(ranks, *(str(root / f"scene{k}") for k in range(SCENES)), "-o", str(out)), ranks)
            scenes = json.loads((out / "runs.json").read_text())["scenes"]
            mean = sum(s["val_psnr"]["student"] for s in scenes) / len(scenes)
            rows.append([f"{SCENES} captures shared out", ranks, f"{seconds:.0f}", "", f"{mean:.2f} (mean)"])
    for k in range(0, len(rows), len(RANKS)):
        base = float(str(rows[k][2]))
        for row in rows[k : k + len(RANKS)]:
            row.insert(3, f"{base / float(str(row[2])):.2f}×")
    gap = np.array(one[RANKS[1]]) - np.array(one[RANKS[0]])  # per seed: (teacher, student), 2 ranks − 1
    close = (f"Two ranks against one process, seed by seed (training seeds 0…{SEEDS - 1}): teacher "
             f"{gap[:, 0].min():+.2f} to {gap[:, 0].max():+.2f} dB, student {gap[:, 1].min():+.2f} to "
             f"{gap[:, 1].max():+.2f} dB at the held-out lights.")
    intro = (f"Data: `python -m core analytic --size {SIZE}` (49 + 20 lights), seeds 0…{SCENES - 1}. Each launch: "
             "`torchrun --standalone --nproc-per-node R -m core train ... --device "
             f"{_device_name()}`{' ' + ' '.join(TRAIN_ARGS) if TRAIN_ARGS else ''}; wall time of the launch, start-up "
             "included; held-out-light PSNR from train.json (the student's mean over the collection).\n\n")
    header = ["launch", "ranks", "wall (s)", "speed-up", "teacher val PSNR (dB)", "student val PSNR (dB)"]
    write_section(f"neural_ddp_{_device_name()}", f"torchrun with 1 and 2 ranks, training on {_device_name()}",
                  intro + table(header, rows) + "\n\n" + close,
                  f"BENCH_DEVICE={_device_name()} BENCH_DDP_SIZE={SIZE} BENCH_DDP_SEEDS={SEEDS}"
                  f"{f' BENCH_TRAIN_ARGS={chr(39)}{chr(32).join(TRAIN_ARGS)}{chr(39)}' if TRAIN_ARGS else ''} "
                  "python3 build.py bench neural_ddp")


def _launch(ranks: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", str(ranks), "-m",
            "core", "train", *args, "--device", DEVICE, "-q", *TRAIN_ARGS]


def _run(command: list[str], ranks: int) -> float:
    threads = max(1, (os.cpu_count() or 1) // ranks)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": str(threads)})
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stderr}")
    return time.perf_counter() - start
