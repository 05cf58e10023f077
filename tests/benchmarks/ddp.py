"""``neural_ddp``: ``torchrun`` launches of ``python -m core train`` with 1 and 2 ranks on this machine: one capture
trained data parallel, and a collection shared out over the ranks.

``BENCH_DEVICE`` (cpu, cuda: the ranks then share the one GPU), ``BENCH_DDP_SIZE`` the analytic scenes' size (default
128), ``BENCH_DDP_SCENES`` the collection's (default 4), ``BENCH_TRAIN_ARGS`` extra ``train`` options. On a CPU each
rank gets ``cores / ranks`` threads, so both launches use every core.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .neural import DEVICE, TRAIN_ARGS, _device_name
from .report import ROOT, table, write_section

SIZE = int(os.environ.get("BENCH_DDP_SIZE", 128))
SCENES = int(os.environ.get("BENCH_DDP_SCENES", 4))
RANKS = (1, 2)


def neural_ddp() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for k in range(SCENES):
            _run([sys.executable, "-m", "core", "analytic", "-o", str(root / f"scene{k}"), "--size", str(SIZE),
                  "--seed", str(k), "-q"], 1)
        rows: list[list[str | int]] = []
        for ranks in RANKS:
            out = root / f"one_{ranks}"
            seconds = _run(_launch(ranks, str(root / "scene0"), "-o", str(out)), ranks)
            record = json.loads((out / "train.json").read_text())["models"]
            rows.append(["one capture, data parallel", ranks, f"{seconds:.0f}",
                         f"{record['teacher']['val_psnr']:.2f}", f"{record['student']['val_psnr']:.2f}"])
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
    intro = (f"Data: `python -m core analytic --size {SIZE}` (49 + 20 lights), seeds 0…{SCENES - 1}. Each launch: "
             "`torchrun --standalone --nproc-per-node R -m core train ... --device "
             f"{_device_name()}`{' ' + ' '.join(TRAIN_ARGS) if TRAIN_ARGS else ''}; wall time of the launch, start-up "
             "included; held-out-light PSNR from train.json (the student's mean over the collection).\n\n")
    header = ["launch", "ranks", "wall (s)", "speed-up", "teacher val PSNR (dB)", "student val PSNR (dB)"]
    write_section(f"neural_ddp_{_device_name()}", f"torchrun with 1 and 2 ranks, training on {_device_name()}",
                  intro + table(header, rows),
                  f"BENCH_DEVICE={_device_name()}"
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
