"""Full-resolution captures: how fast models relight, score and give their view maps at camera sizes
(``large_decode``), and every command on a camera-sized capture (``large_capture``).

``large_decode``: ``BENCH_LARGE_SIZE`` (default 4096: 16.8 MP) is the side of the square models. Decoders are random
(their speed does not depend on their weights); eval scores against random test photos of the same size (nor does
its speed). ``large_capture``: ``BENCH_LARGE_SIZES`` (default 4096x4096; 8192x6144 is 50 MP), ``BENCH_DEVICE``,
``BENCH_LARGE_BASE`` (a split folder to enlarge instead of rendering one), ``BENCH_TRAIN_ARGS`` (extra ``train``
options, for quick trials) and ``BENCH_WORKDIR`` (keeps the captures).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from core import relighting
from core.capture import images, lp
from core.capture import mlic as mlic_io
from core.capture.mlic import MLIC
from core.neural.model import NeuralRTI
from core.neural.nn import Decoder
from core.quality import metrics
from core.quality.evaluate import evaluate
from core.surface import views

from .classic import best_time
from .report import ROOT, table, write_section

SIZE = int(os.environ.get("BENCH_LARGE_SIZE", 4096))
TEST_LIGHTS = 20
VIEW_SIZE = 2048
"""The side of the model whose view maps are timed (4.2 MP)."""
REFERENCE_SIZE = 1024
"""The side of the crop the numpy reference decodes (it would take minutes at full size)."""


def model(width: int, size: int, seed: int = 0) -> NeuralRTI:
    """A random model of ``size``² pixels with a freshly initialised decoder ``width`` units wide."""
    torch.manual_seed(seed)
    layers = [(w.detach().numpy().copy(), b.detach().numpy().copy()) for w, b in Decoder(width).layers()]
    codes = np.random.default_rng(seed).normal(size=(size, size, 9)).astype(np.float32)
    return NeuralRTI(codes, layers)


def timed(fn: Callable[[], object], device: str) -> float:
    """Seconds of one call, the GPU's queue included."""
    start = time.perf_counter()
    fn()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def large_decode() -> None:
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    pixels = SIZE * SIZE
    light = np.array([0.3, 0.2, 0.93])
    rows = []
    for width, name in ((20, "student"), (50, "teacher")):
        big, crop = model(width, SIZE), model(width, REFERENCE_SIZE)
        numpy_rate = REFERENCE_SIZE**2 / best_time(lambda: crop.relight(light), repeats=2) / 1e6
        row: list[object] = [f"{name} ({width}-{width})", f"{numpy_rate:.1f}"]
        for device in devices:
            relit = relighting.Relighter(big, device)
            relit.image(light)  # warm-up: threads, kernels
            seconds = min(timed(lambda: relit.image(light, uint8=True), device) for _ in range(3))
            row.append(f"{pixels / seconds / 1e6:,.1f}")
        rows.append(row)
    decode = table(["model", "numpy reference, CPU (MP/s)", *(f"fast, {d} (MP/s)" for d in devices)], rows)

    rng = np.random.default_rng(1)
    photos = rng.integers(0, 256, (TEST_LIGHTS, SIZE, SIZE, 3), dtype=np.uint8)
    directions = rng.normal(size=(TEST_LIGHTS, 3)) * [1, 1, 0] + [0, 0, 1.5]
    test = MLIC(photos, directions / np.linalg.norm(directions, axis=1)[:, None],
                [f"test_{i:02d}.png" for i in range(TEST_LIGHTS)])
    student = model(20, SIZE)
    scores = []
    for device in devices:
        ssim_seconds = timed(lambda: metrics.ssim(torch.as_tensor(photos[0]).to(device),
                                                  torch.as_tensor(photos[1]).to(device)), device)
        eval_seconds = timed(lambda: evaluate(student, test, device=device), device)
        scores.append([device, f"{ssim_seconds:.2f}", f"{eval_seconds:.1f}"])
    scoring = table(["device", "SSIM of one image (s)", f"eval at {TEST_LIGHTS} lights (s)"], scores)
    del photos, test, student

    small = model(20, VIEW_SIZE)
    view_seconds = timed(lambda: views.prepare(small, device="cpu"), "cpu")
    body = (f"Models of {SIZE}×{SIZE} pixels ({pixels / 1e6:.1f} MP). Relighting: one light, 8-bit output, best of "
            f"three, through `core.relighting.Relighter`, against the numpy reference on a {REFERENCE_SIZE}² crop.\n\n"
            f"{decode}\n\nScoring: `core.quality.evaluate` of a student (relight, PSNR and SSIM of every test light) "
            f"against {TEST_LIGHTS} random test photos, the photos already in memory.\n\n{scoring}\n\n"
            f"The add-on's view maps (`core.surface.views.prepare`: 27 relightings, normals, the luminance PTM) of a "
            f"{VIEW_SIZE}² student on the CPU: {view_seconds:.1f} s, "
            f"{view_seconds / (VIEW_SIZE**2 / 1e6):.2f} s per megapixel.")
    name = "large_decode_" + devices[-1]
    command = (f"BENCH_LARGE_SIZE={SIZE} " if SIZE != 4096 else "") + "python3 build.py bench large_decode"
    write_section(name, f"Full-resolution relighting and scoring ({', '.join(devices)})", body, command)


BASE = os.environ.get("BENCH_LARGE_BASE", "")
"""A split folder to enlarge (default: render ``BASE_SCENE`` with synth; a GPU machine without bpy is given one)."""
BASE_SCENE = ("--size", "512", "--relief", "frieze", "--depth", "0.045", "--material", "stripes-metal",
              "--train-lights", "fibonacci:60", "--format", "jpg")
"""The small capture enlarged: the demo's frieze under coloured stripes between metal bands, 60 training lights and
SynthRTI's 20 test lights, rendered by synth at 512²."""
LARGE_SIZES = os.environ.get("BENCH_LARGE_SIZES", "4096x4096").split()
DEVICE = os.environ.get("BENCH_DEVICE", "auto")
WORK = os.environ.get("BENCH_WORKDIR", "")
TRAIN_ARGS = os.environ.get("BENCH_TRAIN_ARGS", "").split()


def sized() -> str:
    """The sections' name suffix of sizes other than the default (their results are kept side by side)."""
    return "" if LARGE_SIZES == ["4096x4096"] else "_" + "_".join(LARGE_SIZES)


def measured(*args: str) -> tuple[float, float]:
    """Run ``python -m core ARGS``; its wall time (s) and peak resident memory (GB)."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "core", *args], cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise RuntimeError(f"python -m core {' '.join(args)} failed ({process.returncode})")
    return time.perf_counter() - start, usage.ru_maxrss / 1e6


def base_capture(work: Path) -> Path:
    if BASE:
        return Path(BASE)
    out = work / "large_base"
    if not (out / "test" / "dirs.lp").is_file():
        done = subprocess.run([sys.executable, "-m", "synth", "--out", str(out), *BASE_SCENE, "--force", "-q"],
                              cwd=ROOT, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"rendering the base capture failed:\n{done.stderr}")
    return out


CROP = 320
"""The side of the window of the capture trained on its own, for comparing what the fixed step budget gives."""


def cli_quiet(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "core", *args, "-q"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"python -m core {' '.join(args)} failed:\n{done.stderr}")


def crop_of(capture: Path, out: Path) -> Path:
    """The capture's central ``CROP``² window as a split folder at ``out``; the window's mask (its place in the
    capture) is written beside it."""
    for part in ("train", "test"):
        mlic = mlic_io.load(capture / part)
        top, left = (mlic.height - CROP) // 2, (mlic.width - CROP) // 2
        window = MLIC(np.ascontiguousarray(mlic.images[:, top : top + CROP, left : left + CROP]), mlic.lights,
                      mlic.names)
        mlic_io.save(window, out / part, ext=".png", force=True)
        mask = np.zeros((mlic.height, mlic.width), np.uint8)
        mask[top : top + CROP, left : left + CROP] = 255
        del mlic
    images.write_image(out.with_name(out.name + "_window.png"), mask)
    return out.with_name(out.name + "_window.png")


def drawn(trained: dict, capture: Path) -> str:
    """How many times the teacher's and the student's steps drew each pixel of the capture, on average."""
    mlic = mlic_io.find_lp(capture / "train")
    width, height = images.read_image(mlic.parent / lp.read_lp(mlic)[0][0]).shape[1::-1]
    return " / ".join(f"{trained[r]['steps'] * trained[r]['batch'] / (width * height):.2g}"
                      for r in ("teacher", "student"))


def evaluated(model: Path, test: Path, mask: Path | None = None) -> float:
    """The model's test PSNR (within ``mask``, if given), from ``python -m core eval``."""
    done = subprocess.run([sys.executable, "-m", "core", "eval", str(model), "--test", str(test), "--device", DEVICE,
                           "--json", "-q", *(["--mask", str(mask)] if mask else [])], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        raise RuntimeError(f"eval of {model} failed:\n{done.stderr}")
    result = json.loads(done.stdout)
    return float(result["psnr_masked"] if mask else result["psnr"])


def large_capture() -> None:
    """Every step a user runs on a camera-sized capture, through the command line: time and peak memory."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(WORK or scratch)
        base = base_capture(work)
        rows = []
        for size in LARGE_SIZES:
            capture, models = work / f"large_{size}", work / f"large_{size}_models"
            shutil.rmtree(models, ignore_errors=True)
            steps = [
                ("enlarge", ["enlarge", str(base), "-o", str(capture), "--size", size, "--force"]),
                ("fit HSH3", ["fit", str(capture), "-m", "hsh3", "-o", str(models / "hsh3")]),
                ("fit PTM", ["fit", str(capture), "-m", "ptm", "-o", str(models / "ptm")]),
                ("train teacher + student", ["train", str(capture), "-o", str(models / "neural"), "--device", DEVICE,
                                             *TRAIN_ARGS]),
                ("normals (robust, photos)", ["normals", str(capture), "-o", str(models / "normals"), "--method",
                                              "robust", "--albedo"]),
                ("normals (student)", ["normals", str(models / "neural" / "student"), "-o",
                                       str(models / "student_normals"), "--device", DEVICE]),
                ("eval student", ["eval", str(models / "neural" / "student"), "--test", str(capture), "--device",
                                  DEVICE, "--json-out", str(models / "student.json")]),
                ("eval HSH3", ["eval", str(models / "hsh3"), "--test", str(capture), "--device", DEVICE,
                               "--json-out", str(models / "hsh3.json")]),
                ("report: student, teacher, HSH3, PTM", ["report", f"student={models / 'neural' / 'student'}",
                                                          f"teacher={models / 'neural' / 'teacher'}",
                                                          f"hsh3={models / 'hsh3'}", f"ptm={models / 'ptm'}", "--test",
                                                          str(capture), "--device", DEVICE, "-o",
                                                          str(models / "report.html")]),
                ("export student, deep zoom", ["export", str(models / "neural" / "student"), "-o",
                                               str(models / "student_web"), "--layout", "deepzoom"]),
            ]
            for label, args in steps:
                if label == "enlarge" and (capture / "test" / "dirs.lp").is_file():
                    rows.append([size, label, "made by an earlier sitting (BENCH_WORKDIR)", ""])
                    continue
                seconds, gigabytes = measured(*args)
                rows.append([size, label, f"{seconds:.1f}", f"{gigabytes:.2f}"])
                print(" | ".join(rows[-1]), flush=True)
            scores = {m: json.loads((models / f"{m}.json").read_text()) for m in ("student", "hsh3")}
            trained = json.loads((models / "neural" / "train.json").read_text())["models"]
            rows.append([size, "test PSNR: student / HSH3 (dB)",
                         f"{scores['student']['psnr']:.2f} / {scores['hsh3']['psnr']:.2f}", ""])
            rows.append([size, "train steps × pixels a step: teacher / student; times each pixel is drawn",
                         "; ".join(f"{trained[r]['steps']} × {trained[r]['batch']}" for r in ("teacher", "student"))
                         + "; " + drawn(trained, capture), ""])
            crop = work / f"large_{size}_crop"
            window = crop_of(capture, crop)
            cli_quiet("train", str(crop), "-o", str(models / "crop"), "--device", DEVICE, *TRAIN_ARGS)
            small = evaluated(models / "crop" / "student", crop)
            same = evaluated(models / "neural" / "student", capture, window)
            rows.append([size, f"student on a {CROP}² crop: trained on the crop / on the whole capture (dB)",
                         f"{small:.2f} / {same:.2f}", ""])
        made = f"`{BASE}`" if BASE else ("a synth render (`python -m synth " + " ".join(BASE_SCENE)
                                         + "`: 60 training and 20 test lights)")
        body = (f"A camera-sized capture made by `python -m core enlarge` from {made}, then each command as a user "
                "types it, alone on the machine; peak memory is the command's own resident set.\n\n"
                + table(["size", "step", "seconds", "peak memory (GB)"], rows))
        device = "cuda" if DEVICE == "cuda" or (DEVICE == "auto" and torch.cuda.is_available()) else "cpu"
        write_section(f"large_capture_{device}{sized()}", f"Full-resolution captures end to end ({device}, "
                      f"{', '.join(LARGE_SIZES)})", body,
                      f"BENCH_DEVICE={device} BENCH_LARGE_SIZES='{' '.join(LARGE_SIZES)}' "
                      + (f"BENCH_LARGE_BASE={BASE} " if BASE else "") + (f"BENCH_WORKDIR={WORK} " if WORK else "")
                      + (f"BENCH_TRAIN_ARGS='{' '.join(TRAIN_ARGS)}' " if TRAIN_ARGS else "")
                      + "python3 build.py bench large_capture")


BUDGETS = [args.split() for args in os.environ.get(
    "BENCH_BUDGETS", "--batch=1024|--batch=0|--batch=16384|--steps=19200 --student-steps=38400").split("|")]
"""``train`` options tried by ``large_budget``, ``|`` between trials: the GPU's default batch of a 320² capture, the
default (grown with the pixels), larger batches, more steps."""


def large_budget() -> None:
    """What the fast recipe's step budget gives on a camera-sized capture: trials of more pixels or more steps, each
    scored on the whole capture and on its central window, against the window trained on its own."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(WORK or scratch)
        base = base_capture(work)
        rows: list[list[str]] = []
        for size in LARGE_SIZES:
            capture, models = work / f"large_{size}", work / f"large_{size}_budget"
            if not (capture / "test" / "dirs.lp").is_file():
                cli_quiet("enlarge", str(base), "-o", str(capture), "--size", size, "--force")
            window = crop_of(capture, work / f"large_{size}_crop")
            trials = [(" ".join(args), capture, args) for args in BUDGETS] + [
                (f"the {CROP}² window alone, default budget", work / f"large_{size}_crop", [])]
            for label, source, args in trials:
                out = models / str(len(rows))
                shutil.rmtree(out, ignore_errors=True)
                seconds, gigabytes = measured("train", str(source), "-o", str(out), "--device", DEVICE, "-q", *args)
                trained = json.loads((out / "train.json").read_text())["models"]
                start = time.perf_counter()
                whole = evaluated(out / "student", source)
                scoring = time.perf_counter() - start
                inside = evaluated(out / "student", source, window) if source == capture else whole
                rows.append([size, label, f"{seconds:.1f}", f"{gigabytes:.2f}", drawn(trained, source),
                             f"{whole:.2f}" if source == capture else "—", f"{inside:.2f}", f"{scoring:.1f}"])
                print(" | ".join(rows[-1]), flush=True)
        device = "cuda" if DEVICE == "cuda" or (DEVICE == "auto" and torch.cuda.is_available()) else "cpu"
        body = ("`python -m core train` of the enlarged capture (as in `large_capture`) with each trial's options, "
                f"its student scored at the 20 test lights on the whole capture and on the central {CROP}² window, "
                "against a student trained on that window alone; the last column is the wall time of `python -m core "
                "eval` of the whole (the window's own for the last row).\n\n"
                + table(["size", "train options", "train (s)", "peak memory (GB)",
                         "times each pixel is drawn: teacher / student", "student, whole (dB)",
                         f"student, {CROP}² window (dB)", "eval (s)"], rows))
        write_section(f"large_budget_{device}{sized()}", f"The step budget at full resolution ({device}, "
                      f"{', '.join(LARGE_SIZES)})", body,
                      f"BENCH_DEVICE={device} BENCH_LARGE_SIZES='{' '.join(LARGE_SIZES)}' "
                      + (f"BENCH_LARGE_BASE={BASE} " if BASE else "") + (f"BENCH_WORKDIR={WORK} " if WORK else "")
                      + f"BENCH_BUDGETS='{'|'.join(' '.join(a) for a in BUDGETS)}' python3 build.py bench large_budget")


ADDON_SIZE = tuple(int(v) for v in os.environ.get("BENCH_ADDON_SIZE", "6000x4000").split("x"))
"""(width, height) of the model imported in Blender: 24 MP."""
ADDON_SCRIPT = """
import json, sys, time
from pathlib import Path

folder, maps, python = sys.argv[1:4]
if not python:
    sys.modules["torch"] = None  # as in Blender's own Python, which has no PyTorch
import bpy
import blender_addon
from blender_addon import view_maps

bpy.ops.wm.read_factory_settings(use_empty=True)
blender_addon.register()
start = time.perf_counter()
bpy.ops.rti.import_model(filepath=folder)
imported = time.perf_counter() - start
plane = bpy.context.view_layer.objects.active
images = [(i.name, i.size[0], i.size[1], i.channels, i.is_float) for i in bpy.data.images]
start = time.perf_counter()
job = view_maps.ViewsJob(plane, view_maps.needing_views(plane), Path(python) if python else None)
job.start()
while not job.step():
    time.sleep(0.05)
job.finish(bpy.context)
built = time.perf_counter() - start
after = [(i.name, i.size[0], i.size[1], i.channels, i.is_float) for i in bpy.data.images]
print("RESULT", json.dumps({"import": imported, "views": built, "images": images, "after": after}))
"""


def large_addon() -> None:
    """A camera-sized student in Blender: import time, the textures it makes and their memory, and its view maps
    built as the add-on's job (by the training Python, and by Blender's own Python)."""
    width, height = ADDON_SIZE
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch) / "student"
        student = model(20, 1)
        student.codes = np.random.default_rng(2).normal(size=(height, width, 9)).astype(np.float32)
        from core.formats import neuralweb

        neuralweb.write(student, folder)
        results = {}
        for where, python in (("training Python", sys.executable), ("Blender's Python (numpy)", "")):
            done = subprocess.run([sys.executable, "-c", ADDON_SCRIPT, str(folder), str(Path(scratch) / "maps.npz"),
                                   python], cwd=ROOT, capture_output=True, text=True)
            line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
            if line is None:
                raise RuntimeError(f"the Blender script failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")
            results[where] = json.loads(line[len("RESULT "):])
            rows.append([where, f"{results[where]['import']:.1f}", f"{results[where]['views']:.1f}",
                         f"{results[where]['views'] / (width * height / 1e6):.2f}"])
    first = results["training Python"]

    def gigabytes(images: list) -> float:
        return sum(w * h * c * (4 if f else 1) for _, w, h, c, f in images) / 1e9

    added = gigabytes(first["after"]) - gigabytes(first["images"])
    textures = (f"Import makes {len(first['images'])} images ({gigabytes(first['images']):.2f} GB in memory as "
                f"Blender holds them, float at 4 bytes a channel; the GPU memory was not measured); the views add "
                f"{len(first['after']) - len(first['images'])} more ({added:.2f} GB): "
                + ", ".join(f"{n} {w}×{h}×{c} {'float' if f else '8-bit'}" for n, w, h, c, f in first["after"]) + ".")
    body = (f"A random student of {width}×{height} pixels ({width * height / 1e6:.1f} MP) saved as a model folder, "
            "imported with `rti.import_model` by the bpy module, then its views built by the add-on's job "
            "(`view_maps.ViewsJob`): with a training Python the maps come from `python -m core views` there, "
            "without one Blender's Python makes them a tile per step.\n\n"
            + table(["maps made by", "import (s)", "views (s)", "views (s per MP)"], rows) + "\n\n" + textures)
    command = (f"BENCH_ADDON_SIZE={width}x{height} " if ADDON_SIZE != (6000, 4000) else "")
    command += "python3 build.py bench large_addon"
    write_section("large_addon", "A camera-sized model in Blender: import, textures, view maps", body, command)
