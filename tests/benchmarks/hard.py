"""``neural_hard``: the captures neural RTI finds hard, against PTM and HSH3 (issue 29).

Cases: the real capture with sparse training lights (24, 36 and 48 of its 72, the rest to test) and with every 8th
light held out at four offsets; matte, deeply carved synth reliefs under a 40-light dome, tested at 20 grazing lights
(5-15° elevation), where cast shadows dominate; and the default synth scene, to see that the easy case holds.
``BENCH_HARD`` is a folder for the suite: made there when missing, and kept (the GPU machines have no Blender, so
make it on a CPU machine and carry it); without it the suite is made in a temporary folder. ``BENCH_HARD_SIZE`` is
the synth cases' size (default 320).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from core.capture import lights, lp, mlic, splits

from .classic import SHARED_CAPTURE
from .neural import JOBS, TRAIN_ARGS, _device_name, cli, scores, train_timed
from .report import ROOT, table, write_section

HARD = os.environ.get("BENCH_HARD", "")
HARD_SIZE = int(os.environ.get("BENCH_HARD_SIZE", 320))
MODELS = ("ptm", "hsh3", "teacher", "student", "direct")
GRAZING = (5.0, 10.0, 15.0)
"""Elevations (degrees) of the grazing test lights of the synth cases."""


def make_suite(out: Path) -> None:
    """Write the hard cases as split folders under ``out`` with ``out/index.json`` in a suite's form (each scene's
    ``path`` and ``kind``), so ``python -m core train/eval/report`` take the whole suite too."""
    out.mkdir(parents=True)
    kinds: dict[str, str] = {}
    if SHARED_CAPTURE.is_dir():
        capture = mlic.load(SHARED_CAPTURE)
        for count in (24, 36, 48):
            train = np.round(np.linspace(0, capture.count - 1, count)).astype(int)
            test = np.setdiff1d(np.arange(capture.count), train)
            splits.write_split(capture.subset(train), capture.subset(test), out / f"capture_{count}_lights")
            kinds[f"capture_{count}_lights"] = "real"
        for offset in range(4):
            splits.write_split(*splits.leave_k_out(capture, 8, offset), out / f"capture_every8_offset{offset}")
            kinds[f"capture_every8_offset{offset}"] = "real"
    else:
        print(f"  {SHARED_CAPTURE} is not available: synth cases only", flush=True)
    elevations = np.resize(np.repeat(GRAZING, 7), 20)
    lp.write_lp(out / "grazing.lp", [f"grazing_{k:02d}.png" for k in range(20)],
                lights.from_angles(elevations, np.arange(20) * 18.0 + 9.0))
    for relief in ("tablet", "basrelief"):
        name = f"synth_{relief}_matte_grazing"
        _synth(out / name, "--relief", relief, "--depth", "0.2", "--material", "matte", "--train-lights",
               "fibonacci:40", "--test-lights", str(out / "grazing.lp"))
        kinds[name] = "synthetic"
    _synth(out / "synth_default")
    kinds["synth_default"] = "synthetic"
    scenes = [{"path": name, "kind": kind} for name, kind in kinds.items()]
    (out / "index.json").write_text(json.dumps({"suite": "neural_hard", "scenes": scenes}, indent=1))


def _synth(out: Path, *args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "synth", "--out", str(out), "--size", str(HARD_SIZE), "-q", *args],
                          cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"rendering {out.name} failed:\n{done.stderr}")


def run_case(split: Path, work: Path) -> dict:
    """Test PSNR of every model (from 8-bit planes), the student's held-out-light validation and HSH3's there, and
    the wall time of teacher + student."""
    print(f"  case {split.name}", flush=True)
    result: dict = {}
    for method in ("ptm", "hsh3"):
        cli("fit", str(split), "-m", method, "-o", str(work / method), "-q")
        result[method] = scores(work / method, split)["psnr"]
    result["seconds"] = train_timed(split, work / "disk")
    train_timed(split, work / "direct", "--student-only", "--direct")
    for name, folder in (("teacher", "disk/teacher"), ("student", "disk/student"), ("direct", "direct/student")):
        result[name] = scores(work / folder, split)["psnr"]
    student = json.loads((work / "disk" / "train.json").read_text())["models"]["student"]
    result["val"], result["hsh3_val"] = student["val_psnr"], student["hsh3_val_psnr"]
    return result


def neural_hard() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(HARD) if HARD else Path(tmp) / "hard"
        if not root.is_dir():
            make_suite(root)
        kinds = {scene["path"]: scene["kind"] for scene in json.loads((root / "index.json").read_text())["scenes"]}
        with ThreadPoolExecutor(JOBS) as pool:  # each case runs in subprocesses
            results = list(pool.map(lambda name: run_case(root / name, Path(tmp) / "work" / name), kinds))
    rows = []
    for (name, kind), r in zip(kinds.items(), results):
        rows.append([name, kind, *(f"{r[k]:.2f}" for k in MODELS), f"{r['student'] - r['hsh3']:+.2f}",
                     f"{r['student'] - r['teacher']:+.2f}", f"{r['student'] - r['direct']:+.2f}",
                     f"{r['val']:.2f} / {r['hsh3_val']:.2f}", f"{r['val'] - r['student']:+.2f}", f"{r['seconds']:.0f}"])
    lead = {kind: [r["student"] - r["hsh3"] for k, r in zip(kinds.values(), results) if k == kind]
            for kind in ("real", "synthetic")}
    gaps = [abs(r["val"] - r["student"]) for r in results]
    verdict = (f"\n\nStudent at most 0.5 dB below HSH3 on {sum(r['student'] >= r['hsh3'] - 0.5 for r in results)} of "
               f"{len(results)} cases; within 0.5 dB of its teacher on "
               f"{sum(r['student'] >= r['teacher'] - 0.5 for r in results)}; mean lead over HSH3 "
               + ", ".join(f"{kind} {np.mean(v):+.2f} dB" for kind, v in lead.items() if v)
               + f"; mean student − direct student {np.mean([r['student'] - r['direct'] for r in results]):+.2f} "
               f"dB; |held-out-light validation − test| {np.mean(gaps):.2f} dB on average (largest {max(gaps):.2f}).")
    header = ["case", "kind", "PTM", "HSH3", "teacher", "student (723)", "direct student", "student − HSH3",
              "student − teacher", "student − direct", "student / HSH3 at held-out lights", "validation − test",
              "teacher + student wall (s)"]
    intro = ("The hard cases of issue 29 (see `tests/benchmarks/hard.py`), every model with the defaults, test PSNR "
             "(dB) from the 8-bit planes; the validation is what `train` recorded at its held-out training lights. "
             f"{JOBS} case(s) at a time (`BENCH_JOBS`): wall times compare only within this table.\n\n")
    extra = f" BENCH_TRAIN_ARGS='{' '.join(TRAIN_ARGS)}'" if TRAIN_ARGS else ""
    extra += f" BENCH_JOBS={JOBS}" + (f" BENCH_HARD={HARD}" if HARD else f" BENCH_HARD_SIZE={HARD_SIZE}")
    write_section(f"neural_hard_{_device_name()}", f"Neural RTI on hard cases, training on {_device_name()}",
                  intro + table(header, rows) + verdict,
                  f"BENCH_DEVICE={_device_name()}{extra} python3 build.py bench neural_hard")
