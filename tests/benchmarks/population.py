"""``neural_population``: what a GPU's idle capacity should train besides one teacher (issue 45, item 2).

The hard suite (``BENCH_HARD``, made by ``neural_hard``) trained by one ``train`` command, all its scenes at once,
once per variant: K teacher candidates from different seeds (K = 1, 2, 4, 8), their mean as the teacher, the CPU
recipe's small batches, both recipes side by side (``--population``), more held-out lights, bfloat16 steps. Then
whether the trainer's own held-out-light validation picks, scene by scene, the variant that scores best on the test
lights. ``BENCH_POP_VARIANTS`` (names, comma-separated) runs some
of them; each finished variant is kept as JSON in ``BENCH_WORKDIR``, so runs split over several calls add up.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np

from core.quality import runs

from .hard import HARD
from .neural import DEVICE, _device_name, cli
from .report import environment, table, write_section

VARIANTS = {
    "k1": ("K = 1 (defaults)", []),
    "k2": ("K = 2", ["--teacher-candidates", "2"]),
    "k4": ("K = 4", ["--teacher-candidates", "4"]),
    "k8": ("K = 8", ["--teacher-candidates", "8"]),
    "k4mean": ("K = 4, their mean as the teacher", ["--teacher-candidates", "4", "--teacher-mean"]),
    "cpu": ("CPU recipe (128 pixels × 16 lights, one student, lr 0.01)",
            ["--batch", "128", "--lights-per-step", "16", "--candidates", "1", "--student-lr", "0.01"]),
    "pop": ("population: the GPU and CPU recipes side by side (`--population`)", ["--population"]),
    "k4val4": ("K = 4, every 4th light held out", ["--teacher-candidates", "4", "--val-every", "4"]),
    "bf16": ("K = 1, bfloat16 steps", ["--precision", "bfloat16"]),
}
CHOOSABLE = ("k1", "k2", "k4", "k8", "k4mean", "cpu", "bf16")
"""Variants validated at the same held-out lights, so their validation scores compare."""


def neural_population() -> None:
    if not HARD:
        raise SystemExit("neural_population needs BENCH_HARD (the hard suite, made by neural_hard)")
    work = Path(os.environ.get("BENCH_WORKDIR") or tempfile.mkdtemp()) / "population"
    work.mkdir(parents=True, exist_ok=True)
    index = Path(HARD) / "index.json"
    kinds = {scene["path"]: scene["kind"] for scene in json.loads(index.read_text())["scenes"]}
    wanted = os.environ.get("BENCH_POP_VARIANTS", ",".join(VARIANTS)).split(",")
    for name in wanted:
        if not (work / f"{name}.json").is_file():
            print(f"  {VARIANTS[name][0]}", flush=True)
            (work / f"{name}.json").write_text(json.dumps(_variant(index, work / name, VARIANTS[name][1])))
    found = {name: json.loads((work / f"{name}.json").read_text()) for name in VARIANTS
             if (work / f"{name}.json").is_file()}
    if "k1" not in found:
        raise SystemExit("neural_population: the defaults (k1) are not measured yet")
    if not (work / "hsh3.json").is_file():
        (work / "hsh3.json").write_text(json.dumps(_hsh3(index, work / "hsh3")))
    hsh3 = json.loads((work / "hsh3.json").read_text())
    write_section(f"neural_population_{_device_name()}",
                  f"Teacher candidates and recipes on the hard suite, training on {_device_name()}",
                  _report(found, hsh3, kinds),
                  f"BENCH_DEVICE={_device_name()} BENCH_HARD=… BENCH_WORKDIR=… "
                  "python3 build.py bench neural_population")


def _variant(index: Path, out: Path, args: list[str]) -> dict:
    """Train every scene at once with ``args``; each scene's test PSNR per model and its validation scores."""
    start = time.perf_counter()
    cli("train", str(index), "-o", str(out), "--device", DEVICE, "-q", "--together", "16", *args)
    wall = time.perf_counter() - start
    scored = runs.score(out, [(scene["path"], index.parent / scene["path"])
                              for scene in json.loads(index.read_text())["scenes"]], device=DEVICE)
    scenes: dict[str, dict] = {}
    for row in scored["scenes"]:
        scene = scenes.setdefault(row["scene"], {})
        scene[row["model"]] = row["psnr"]
        if row["recommended"]:
            scene["shown"] = row["psnr"]
    for name, scene in scenes.items():
        trained = json.loads((out / name / "train.json").read_text())["models"]
        scene.update(val_teacher=trained["teacher"]["val_psnr"], val_student=trained["student"]["val_psnr"],
                     val_hsh3=trained["student"]["hsh3_val_psnr"])
    return {"wall": wall, "scenes": scenes, "machine": environment()}


def _hsh3(index: Path, out: Path) -> dict[str, float]:
    """Each scene's HSH3 fit, scored at its test lights: the baseline every variant is held against (``train`` keeps
    its HSH3 only where it recommends it)."""
    found = {}
    for scene in json.loads(index.read_text())["scenes"]:
        split = index.parent / scene["path"]
        model = out / scene["path"]
        cli("fit", str(split), "-m", "hsh3", "-o", str(model), "-q", "--force")
        found[scene["path"]] = json.loads(cli("eval", str(model), "--test", str(split), "--json", "-q"))["psnr"]
    return found


def _report(found: dict[str, dict], hsh3: dict[str, float], kinds: dict[str, str]) -> str:
    base = found["k1"]["scenes"]
    names = [n for n in kinds if n in base]
    worst = min(names, key=lambda n: base[n]["student"] - hsh3[n])
    rows = []
    for key, result in found.items():
        scenes = result["scenes"]
        gain = [scenes[n]["student"] - base[n]["student"] for n in names]
        real = [scenes[n]["shown"] - hsh3[n] for n in names if kinds[n] == "real"]
        rows.append([VARIANTS[key][0], f"{result['wall']:.0f}",
                     *(f"{np.mean([scenes[n][m] for n in names]):.2f}" for m in ("teacher", "student", "shown")),
                     f"{scenes[worst]['student'] - hsh3[worst]:+.2f}", f"{min(gain):+.2f}",
                     f"{max(scenes[n]['teacher'] - scenes[n]['student'] for n in names):.2f}",
                     f"{np.mean(real):+.2f}" if real else ""])
    header = ["variant", "wall (s)", "teacher", "student", "shown (recommended)", f"{worst}: student − HSH3",
              "student − defaults, worst scene", "teacher − student, largest", "real splits: shown − HSH3, mean"]
    choice = _choice(found, names)
    intro = (f"Data: the hard suite ({len(names)} scenes: real captures with sparse or every-8th held-out lights, "
             "matte reliefs under grazing test lights, the default synth scene). Each variant is one `python -m "
             "core train SUITE/index.json --together 16` (every scene at once) with the options named; test PSNR "
             "(dB) from the 8-bit planes, means over the scenes; *shown* is the model `train` recommends by its "
             "held-out-light score (student, teacher or HSH3). Wall time: the whole command. Variants trained on: "
             + "; ".join(sorted({result.get("machine", "(not recorded)") for result in found.values()}))
             + " HSH3, fitted once for every variant: the machine named above.\n\n")
    return intro + table(header, rows) + "\n\n" + choice


def _choice(found: dict[str, dict], names: list[str]) -> str:
    """Per scene, the variant whose student validates best, against the one that tests best."""
    pool = [key for key in CHOOSABLE if key in found]
    if len(pool) < 2:
        return ""
    picked, best, base = [], [], []
    agree = 0
    for n in names:
        by_val = max(pool, key=lambda k: found[k]["scenes"][n]["val_student"])
        by_test = max(pool, key=lambda k: found[k]["scenes"][n]["student"])
        picked.append(found[by_val]["scenes"][n]["student"])
        best.append(found[by_test]["scenes"][n]["student"])
        base.append(found["k1"]["scenes"][n]["student"])
        agree += by_val == by_test
    return (f"Choosing per scene among {', '.join(VARIANTS[k][0] for k in pool)} (same held-out lights) by the "
            f"student's validation: mean test PSNR {np.mean(picked):.2f} dB, against {np.mean(best):.2f} for the "
            f"best at the test lights and {np.mean(base):.2f} for the defaults; the validation picked the best "
            f"variant on {agree} of {len(names)} scenes.")
