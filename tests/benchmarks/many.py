"""``neural_many``: a whole suite trained by one ``train`` command, its scenes several at once (issue 45), against
single runs one after another and against single runs as separate processes at once.

``BENCH_MANY_SUITE`` is a suite made beforehand (``python -m synth --suite synthrti``: 51 scenes, 320², 49 + 20
lights); without it, 51 scenes of ``python -m core analytic --size 320 --seed K`` (the same size and lights) are made
now (``BENCH_MANY_SCENES`` of them), which needs no Blender: the GPU machines have none, and a rendered suite is too
large to carry there. ``BENCH_MANY_SAMPLE`` scenes (default 8, the first of the suite) are trained in all three ways;
then the whole suite in one run. ``BENCH_WORKDIR`` keeps each finished way's wall time and scores (``way<K>.json``),
so a rerun continues where a stopped one ended, also on another machine given those files. ``BENCH_TRAIN_ARGS`` adds
``train`` options (quick trials).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from core import memory
from core.capture import splits
from core.formats import models
from core.quality.evaluate import evaluate

from .neural import DEVICE, TRAIN_ARGS, _device_name
from .report import ROOT, table, write_section

SUITE = os.environ.get("BENCH_MANY_SUITE", "")
SAMPLE = int(os.environ.get("BENCH_MANY_SAMPLE", 8))
ANALYTIC_SCENES = int(os.environ.get("BENCH_MANY_SCENES", 51))
ROLES = ("teacher", "student")


def neural_many() -> None:
    work = Path(os.environ.get("BENCH_WORKDIR") or tempfile.mkdtemp()) / "many"
    work.mkdir(parents=True, exist_ok=True)
    root = Path(SUITE) if SUITE else _analytic_suite(work / "suite")
    names = [entry["path"] for entry in json.loads((root / "index.json").read_text())["scenes"]]
    sample = names[:SAMPLE]
    sample_index = _sub_suite(root, sample, work / "sample")
    base = ["--device", DEVICE, "-q", *TRAIN_ARGS]
    ways = {
        "one after another": lambda out: _one_by_one([["train", str(root / n), "-o", str(out / n), *base]
                                                      for n in sample]),
        f"{len(sample)} processes at once": lambda out: _at_once([["train", str(root / n), "-o", str(out / n), *base]
                                                                 for n in sample]),
        f"one run, --together {len(sample)}": lambda out: _run(["train", str(sample_index), "-o", str(out), *base,
                                                                "--together", str(len(sample))]),
        "one run, whole suite (default --together)": lambda out: _run(["train", str(root / "index.json"), "-o",
                                                                       str(out), *base]),
    }
    walls, psnr = {}, {}
    for k, (way, go) in enumerate(ways.items()):
        out, record = work / f"way{k}", work / f"way{k}.json"
        if not record.is_file():  # each finished way is kept with its scores: a run split over calls adds up
            print(f"  {way}", flush=True)
            shutil.rmtree(out, ignore_errors=True)  # a stopped attempt's scenes would be skipped, not timed
            start = time.perf_counter()
            go(out)
            wall = time.perf_counter() - start
            scored = _scores(out, root, names if k == 3 else sample)
            record.write_text(json.dumps({"wall": wall, "psnr": [[*key, value] for key, value in scored.items()]}))
        kept = json.loads(record.read_text())
        walls[way] = kept["wall"]
        psnr[way] = {(name, role): value for name, role, value in kept["psnr"]}
    single = psnr["one after another"]
    rows = []
    for k, way in enumerate(ways):
        scenes = len(names) if k == 3 else len(sample)
        gaps = [psnr[way][key] - single[key] for key in single if key[1] == "student"]
        mean_student = np.mean([v for key, v in psnr[way].items() if key[1] == "student"])
        rows.append([way, scenes, f"{walls[way]:.0f}", f"{walls[way] / scenes:.1f}",
                     f"{walls['one after another'] / len(sample) / (walls[way] / scenes):.2f}×", f"{mean_student:.2f}",
                     f"{np.mean(gaps):+.2f} ({min(gaps):+.2f} to {max(gaps):+.2f})" if k else ""])
    header = ["way", "scenes", "wall (s)", "s per scene", "speed-up per scene vs one after another",
              "student test PSNR, mean (dB)", f"student − single run, the {len(sample)} sampled scenes: mean (range)"]
    whole = walls["one run, whole suite (default --together)"]
    made = f"`{SUITE}`" if SUITE else "`python -m core analytic --size 320 --seed K`, K = 0…50 (49 + 20 lights)"
    intro = (f"Data: {made}: {len(names)} scenes, the first {len(sample)} sampled. "
             "Each way trains teacher + student of every scene with the defaults through `python -m core train`; "
             "wall time from the first command's start to the last one's end (start-up, loading, refit, encoding and "
             "writing included). Test PSNR from the 8-bit planes at each scene's test lights (`eval`). A scene's "
             "models in a run of several are those of its single run (same seeds; on a GPU the kernels' order "
             "differs, so they are not bit-identical).\n\n")
    if _device_name() == "cuda":
        verdict_steps = "\n\n" + _throughput(root / names[0])
    else:
        verdict_steps = ""
    verdict = (f"\n\nThe whole suite: {len(names)} scenes in {whole:.0f} s ({whole / 60:.1f} min; target ≤ 5 min "
               "for 51 scenes of 320²×49 on one GPU).")
    write_section(f"neural_many_{_device_name()}", f"Many scenes in one run, training on {_device_name()}",
                  intro + table(header, rows) + verdict + verdict_steps,
                  f"BENCH_DEVICE={_device_name()}{f' BENCH_MANY_SUITE={SUITE}' if SUITE else ''}"
                  f"{f' BENCH_TRAIN_ARGS={chr(39)}{chr(32).join(TRAIN_ARGS)}{chr(39)}' if TRAIN_ARGS else ''} "
                  f"BENCH_MANY_SAMPLE={SAMPLE} python3 build.py bench neural_many")


def _analytic_suite(out: Path) -> Path:
    """``ANALYTIC_SCENES`` analytic scenes of 320² with SynthRTI's 49 dome and 20 test lights, and their index."""
    names = [f"analytic_{k:02d}" for k in range(ANALYTIC_SCENES)]
    missing = [(k, name) for k, name in enumerate(names) if not (out / name / "test").is_dir()]
    with ThreadPoolExecutor(os.cpu_count() or 1) as pool:  # each scene in its own process
        list(pool.map(lambda job: _run(["analytic", "-o", str(out / job[1]), "--size", "320", "--seed", str(job[0]),
                                        "-q", "--force"]), missing))
    (out / "index.json").write_text(json.dumps({"suite": "analytic", "scenes": [{"path": n} for n in names]}))
    return out


def _throughput(scene: Path, steps: int = 1000) -> str:
    """Graphed teacher steps a second: of S trainings at once on S CUDA streams (what ``--together`` does), against
    K members of one block-diagonal network (what candidates do), on one scene's data."""
    import torch

    from core.neural import train as trainer
    from core.neural.adam import Adam
    from core.neural.batches import split
    from core.neural.config import TrainConfig

    torch.backends.cuda.matmul.allow_tf32 = True
    device, config = torch.device("cuda"), TrainConfig()
    mlic = splits.load_part(scene, "train")
    held = trainer.held_out_lights(mlic.count, config.val_every)

    def graphed(seed: int, members: int) -> trainer.GraphedStep:
        data, unseen = trainer.training_data(mlic, held, config, device)
        net = trainer._network(config, "teacher", data, seed, members)
        optimizer = Adam(net.parameters(), betas=(0.9, config.beta2))
        optimizer.schedule(1e-3)
        batches = split(data, config, unseen)[0]
        assert isinstance(batches, trainer.PixelBatches)
        return trainer.GraphedStep(net, optimizer, data, trainer._loss_fn(config, None), batches)

    def rate(streams: list, step_fns: list) -> float:
        for _ in range(2):  # the first pass warms up
            torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                for stream, step in zip(streams, step_fns):
                    with torch.cuda.stream(stream):
                        step()
            torch.cuda.synchronize()
        return len(step_fns) * steps / (time.perf_counter() - start)

    counts = (1, 2, 4, 8, 16)
    together, members = [], []
    for count in counts:
        streams = [torch.cuda.Stream() for _ in range(count)]
        made = []
        for k, stream in enumerate(streams):
            with torch.cuda.stream(stream):
                made.append(graphed(k, 1))
        together.append(f"{rate(streams, made):,.0f}")
        members.append(f"{rate([torch.cuda.current_stream()], [graphed(0, count)]):,.0f}" if count <= 8 else "")
    return ("Steps a second of the teacher's graphed step (batch and lights per step of the defaults) on the first "
            "scene: S trainings on S CUDA streams, and K members of one block-diagonal network (counted per "
            "member):\n\n" + table(["S or K", *map(str, counts)], [["S streams", *together], ["K members", *members]]))


def _sub_suite(root: Path, names: list[str], out: Path) -> Path:
    """An index.json over some of a suite's scenes (linked, not copied)."""
    for name in names:
        link = out / name
        if not link.exists():
            link.parent.mkdir(parents=True, exist_ok=True)
            link.symlink_to((root / name).resolve(), target_is_directory=True)
    (out / "index.json").write_text(json.dumps({"suite": "sample", "scenes": [{"path": n} for n in names]}))
    return out / "index.json"


def _run(args: list[str]) -> None:
    done = subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"python -m core {' '.join(args)} failed:\n{done.stderr}")


def _one_by_one(commands: list[list[str]]) -> None:
    for args in commands:
        _run(args)


def _at_once(commands: list[list[str]]) -> None:
    running = [subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True) for args in commands]
    for process, args in zip(running, commands):
        _, err = process.communicate()
        if process.returncode:
            raise RuntimeError(f"python -m core {' '.join(args)} failed:\n{err}")


def _scores(run: Path, root: Path, names: list[str]) -> dict[tuple[str, str], float]:
    """Test PSNR of every scene's teacher and student under ``run``."""
    found = {}
    for name in names:
        test = splits.load_part(root / name, "test", need=memory.Need("scoring", memory.SCORING_PER_PIXEL))
        for role in ROLES:
            model = models.load(run / name / role, codes="planes")
            found[name, role] = evaluate(model, test, device=DEVICE).psnr
    return found
