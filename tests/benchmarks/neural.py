"""Neural RTI benchmarks: quality against PTM/HSH on held-out lights, training time against the reference recipe,
decode throughput, and training memory on a 12-megapixel stack.

Everything goes through the CLI a user would run. ``BENCH_DEVICE`` (auto, cpu, cuda) picks the training device;
``BENCH_REFERENCE_SECONDS`` the reference recipe's time budget (default: as long as the fast teacher + student took);
``BENCH_SCENE`` the scene (synth: rendered by ``python -m synth``, the default; analytic; or the path of a split
folder, e.g. a synth scene rendered elsewhere for a GPU machine without bpy), ``BENCH_SCENE_SIZE`` its size and
``BENCH_TRAIN_ARGS`` extra ``train`` options (for quick trials). ``BENCH_SUITE`` is a suite already rendered by
``python -m synth --suite`` (default: render one now at ``BENCH_SUITE_SIZE``, 128 pixels).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import torch

from core.capture import splits
from core.classic import fitting
from core.neural.batches import Data
from core.neural.config import TrainConfig
from core.neural.model import NeuralRTI
from core.neural.nn import Autoencoder, Decoder, decoder_parameters
from core.neural.train import architecture, encode, to_model
from core.quality import evaluate

from .classic import SHARED_CAPTURE, best_time
from .report import ROOT, table, write_section

DEVICE = os.environ.get("BENCH_DEVICE", "auto")
SCENE = os.environ.get("BENCH_SCENE", "synth")
SCENE_SIZE = int(os.environ.get("BENCH_SCENE_SIZE", 320))
TRAIN_ARGS = os.environ.get("BENCH_TRAIN_ARGS", "").split()
SUITE = os.environ.get("BENCH_SUITE", "")
SUITE_SIZE = int(os.environ.get("BENCH_SUITE_SIZE", 128))
SUITE_MODELS = ("ptm", "hsh3", "teacher", "student", "direct")
JOBS = int(os.environ.get("BENCH_JOBS", 1))


def cli(*args: str) -> str:
    """Run ``python -m core ARGS`` and return its stdout (a failure stops the benchmark with its message)."""
    done = subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"python -m core {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout


def scores(model: Path, split: Path) -> dict:
    return json.loads(cli("eval", str(model), "--test", str(split), "--json", "-q", "--lossless"))


def scene(tmp: Path) -> Path:
    """The scene with separate test lights: ``BENCH_SCENE`` = synth (rendered now), analytic, or a split folder."""
    if SCENE not in ("synth", "analytic"):
        return Path(SCENE)
    out = tmp / "scene"
    if out.is_dir():
        return out  # rendered by an earlier sitting (BENCH_WORKDIR)
    command = ["-m", "synth", "--out", str(out)] if SCENE == "synth" else ["-m", "core", "analytic", "-o", str(out)]
    done = subprocess.run([sys.executable, *command, "--size", str(SCENE_SIZE), "-q"], cwd=ROOT, capture_output=True,
                          text=True)
    if done.returncode:
        raise RuntimeError(f"making the scene failed:\n{done.stderr}")
    return out


def _scene_kind() -> str:
    """synth, analytic or custom; a folder rendered by synth (it has a scene.json) counts as synth."""
    if SCENE in ("synth", "analytic"):
        return SCENE
    return "synth" if (Path(SCENE) / "scene.json").is_file() else "custom"


def train_timed(split: Path, out: Path, *args: str) -> float:
    """Train through the CLI; returns the wall time of the command (start-up and export included)."""
    start = time.perf_counter()
    cli("train", str(split), "-o", str(out), "--device", DEVICE, "-q", *TRAIN_ARGS, *args)
    return time.perf_counter() - start


def quality_table(split: Path, tmp: Path) -> tuple[str, dict]:
    """Every method on one split: PSNR/SSIM from 8-bit planes, storage, decoder size, train time."""
    rows, results = [], {}
    for method in ("ptm", "hsh2", "hsh3"):
        start = time.perf_counter()
        cli("fit", str(split), "-m", method, "-o", str(tmp / method), "-q")
        seconds = time.perf_counter() - start
        s = scores(tmp / method, split)
        rows.append([method.upper(), f"{s['psnr']:.2f}", f"{s['ssim']:.4f}", "", fitting.coefficients_per_pixel(method),
                     "", f"{seconds:.1f}", "cpu"])
        results[method] = s["psnr"]
    runs = {
        "disk": ([], "DisK teacher", "DisK student (723)"),
        "neuralrti": (["--teacher-only", "--teacher", "neuralrti"], "NeuralRTI", None),
        "direct": (["--student-only", "--direct"], None, "direct student (723)"),
    }
    fast_seconds = 0.0
    for name, (args, teacher_label, student_label) in runs.items():
        wall = train_timed(split, tmp / name, *args)
        if name == "disk":
            fast_seconds = wall
        for role, label in (("teacher", teacher_label), ("student", student_label)):
            if label is None:
                continue
            folder = tmp / name / role
            info = json.loads((folder / "info.json").read_text())["training"]
            s = scores(folder, split)
            results[label] = s["psnr"]
            rows.append([label, f"{s['psnr']:.2f}", f"{s['ssim']:.4f}", f"{s['lossless']['psnr']:.2f}", 9,
                         info["decoder_parameters"], f"{info['seconds']:.1f}", info["device"]])
    reference_seconds = float(os.environ.get("BENCH_REFERENCE_SECONDS", 0) or fast_seconds)
    train_timed(split, tmp / "reference", "--recipe", "reference", "--teacher-only",
                "--time-budget", f"{reference_seconds:.0f}")
    folder = tmp / "reference" / "teacher"
    info = json.loads((folder / "info.json").read_text())["training"]
    s = scores(folder, split)
    results["reference"] = s["psnr"]
    rows.append([f"reference recipe, DisK teacher ({info['stopped']})", f"{s['psnr']:.2f}", f"{s['ssim']:.4f}",
                 f"{s['lossless']['psnr']:.2f}", 9, info["decoder_parameters"], f"{info['seconds']:.1f}",
                 info["device"]])
    results["fast_seconds"] = fast_seconds
    header = ["method", "test PSNR (dB)", "test SSIM", "lossless-code PSNR", "coefficients/pixel",
              "decoder parameters", "train time (s)", "device"]
    return table(header, rows), results


def _targets(results: dict) -> str:
    student, teacher = results["DisK student (723)"], results["DisK teacher"]
    lines = [
        f"- student − teacher: {student - teacher:+.2f} dB (target ≥ −0.5)",
        f"- student − direct student: {student - results['direct student (723)']:+.2f} dB (target > 0)",
        f"- student − HSH3: {student - results['hsh3']:+.2f} dB (target ≥ 0)",
        f"- fast teacher + student, wall time of `train`: {results['fast_seconds']:.0f} s; student − reference "
        f"recipe (same or longer budget): {student - results['reference']:+.2f} dB",
    ]
    return "\n".join(lines)


def neural_scene() -> None:
    """The quality table on the SynthRTI-style scene (analytic stand-in for now): 49 train, 20 test lights."""
    with tempfile.TemporaryDirectory() as tmp:
        split = scene(Path(tmp))
        body, results = quality_table(split, Path(tmp))
    write_section(f"neural_scene_{_scene_kind()}_{_device_name()}", f"Neural RTI on the {_scene_kind()} scene, "
                  f"training on {_device_name()}", _scene_intro() + body + "\n\nTargets:\n\n" + _targets(results),
                  _command("neural_scene"))


def neural_icon() -> None:
    """The quality table on the real capture, every 8th light held out."""
    if not SHARED_CAPTURE.is_dir():
        print(f"skipping neural_icon: {SHARED_CAPTURE} is not available")
        return
    with tempfile.TemporaryDirectory() as tmp:
        split = Path(tmp) / "split"
        cli("split", str(SHARED_CAPTURE), "--every", "8", "-o", str(split), "-q")
        body, results = quality_table(split, Path(tmp))
    intro = ("Data: `../shared/datasets/neuralrti_icon_sanmichele` (402×395, 72 lights), every 8th light held out "
             "(`python -m core split ... --every 8`), models trained on the other 63. " + _common_intro())
    write_section(f"neural_icon_{_device_name()}", f"Neural RTI on the real capture, training on {_device_name()}",
                  intro + body + "\n\nTargets:\n\n" + _targets(results), _command("neural_icon"))


def neural_suite() -> None:
    """Quality over synth's suite (3 reliefs × 4 material sets): PTM, HSH3, teacher, student and direct student on
    every scene's 20 test lights, and how often the student meets its targets. ``BENCH_JOBS`` scenes at a time."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(SUITE) if SUITE else _render_suite(Path(tmp) / "suite")
        index = json.loads((root / "index.json").read_text())["scenes"]
        with ThreadPoolExecutor(JOBS) as pool:  # each scene runs in subprocesses
            results = list(pool.map(lambda entry: _suite_scene(root / entry["path"], Path(tmp) / entry["path"]),
                                    index))
    rows, gaps = [], []
    for entry, (psnr, seconds) in zip(index, results):
        gaps.append(tuple(psnr["student"] - psnr[k] for k in ("teacher", "direct", "hsh3")))
        rows.append([entry["relief"], entry["material"], *(f"{psnr[k]:.2f}" for k in SUITE_MODELS),
                     *(f"{g:+.2f}" for g in gaps[-1]), f"{seconds:.0f}"])
    mean = np.mean(gaps, axis=0)
    rows.append(["**mean**", "", "", "", "", "", "", *(f"**{g:+.2f}**" for g in mean), ""])
    met = [sum(g[0] >= -0.5 for g in gaps), sum(g[1] > 0 for g in gaps), sum(g[2] >= 0 for g in gaps)]
    header = ["relief", "material", "PTM", "HSH3", "teacher", "student (723)", "direct student", "student − teacher",
              "student − direct", "student − HSH3", "teacher + student wall (s)"]
    size = json.loads((root / index[0]["path"] / "scene.json").read_text())["spec"]["size"] if SUITE else SUITE_SIZE
    made = f"`python -m synth --suite --size {size}`" + (f", rendered elsewhere (`{SUITE}`)" if SUITE else "")
    intro = (f"Data: {made}: reliefs bumps, basrelief, tablet × material sets matte, glossy, stripes, split, each "
             "with 49 dome lights to train and 20 test lights. Test PSNR (dB) from the 8-bit planes of every model "
             "(`python -m core eval`); PTM and HSH3 by `fit`, teacher + distilled student by `train`, the direct "
             f"student by `train --student-only --direct`, all with the defaults; {JOBS} scene(s) at a time "
             "(`BENCH_JOBS`), so the wall times are only comparable within this table.\n\n")
    verdict = (f"\n\nTargets met on {len(gaps)} scenes: student within 0.5 dB of its teacher on {met[0]}, above the "
               f"direct student on {met[1]}, at or above HSH3 on {met[2]}.")
    write_section(f"neural_suite_{_device_name()}", f"Neural RTI over the synth suite, training on {_device_name()}",
                  intro + table(header, rows) + verdict,
                  _command("neural_suite"))


def _suite_scene(split: Path, work: Path) -> tuple[dict, float]:
    """Test PSNR of every model of ``SUITE_MODELS`` on one scene, and the wall time of teacher + student."""
    print(f"  scene {split}", flush=True)
    psnr = {}
    for method in ("ptm", "hsh3"):
        cli("fit", str(split), "-m", method, "-o", str(work / method), "-q")
        psnr[method] = scores(work / method, split)["psnr"]
    seconds = train_timed(split, work / "disk")
    train_timed(split, work / "direct", "--student-only", "--direct")
    for name, folder in (("teacher", "disk/teacher"), ("student", "disk/student"), ("direct", "direct/student")):
        psnr[name] = scores(work / folder, split)["psnr"]
    return psnr, seconds


def _render_suite(out: Path) -> Path:
    done = subprocess.run([sys.executable, "-m", "synth", "--suite", "--out", str(out), "--size", str(SUITE_SIZE),
                           "-q"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"rendering the suite failed:\n{done.stderr}")
    return out


def _command(bench: str) -> str:
    """The command that reproduces a section, with the ``BENCH_*`` settings it ran under."""
    extra = f" BENCH_TRAIN_ARGS='{' '.join(TRAIN_ARGS)}'" if TRAIN_ARGS else ""
    if bench == "neural_suite":
        extra += f" BENCH_JOBS={JOBS}" + (f" BENCH_SUITE={SUITE}" if SUITE else f" BENCH_SUITE_SIZE={SUITE_SIZE}")
    else:
        extra += f" BENCH_SCENE={SCENE}" if SCENE != "synth" else ""
    return f"BENCH_DEVICE={_device_name()}{extra} python3 build.py bench {bench}"


def _device_name() -> str:
    return "cuda" if DEVICE == "cuda" or (DEVICE == "auto" and torch.cuda.is_available()) else "cpu"


def _common_intro() -> str:
    return ("PSNR/SSIM are on 8-bit relit images of the held-out lights, decoded from the 8-bit JPEG planes a viewer "
            "loads (`python -m core eval`); the lossless column decodes the float codes (`codes.npy`). Train time is "
            "the trainer's own clock per network; the reference recipe (`--recipe reference --teacher-only`) gets "
            "the wall time of the whole fast teacher + student run unless `BENCH_REFERENCE_SECONDS` says otherwise. "
            "Commands: `python -m core train SPLIT -o OUT` (DisK), `--teacher-only --teacher neuralrti`, "
            "`--student-only --direct`, `--recipe reference --teacher-only --time-budget S`; "
            "`python -m core eval OUT/student --test SPLIT`.\n\n")


def _scene_intro() -> str:
    if SCENE == "synth":
        what = (f"`python -m synth --out SCENE --size {SCENE_SIZE}` (the default SynthRTI-style scene: bumps relief, "
                "six coloured plastic stripes, Cycles at 4 samples; 49 dome lights to train, 20 test lights)")
    elif SCENE == "analytic":
        what = (f"`python -m core analytic --size {SCENE_SIZE}` (a bumpy striped surface, Lambert + Blinn-Phong, half "
                "matte half glossy; SynthRTI's 49 dome lights to train and its 20 test lights)")
    elif _scene_kind() == "synth":
        spec = json.loads((Path(SCENE) / "scene.json").read_text())["spec"]
        what = (f"a scene rendered by `python -m synth` elsewhere (`{SCENE}`; size {spec['size']}, relief "
                f"{spec['relief']}, material {spec['material']}, {spec['samples']} samples, seed {spec['seed']})")
    else:
        what = f"the split folder `{SCENE}`"
    return f"Data: {what}. " + _common_intro()


def neural_reference_curve() -> None:
    """GPU: the reference recipe's test PSNR over time (checkpoint snapshots), against the fast run's PSNR and time.

    Ten minutes of reference training outlast some machines' command limits, so the run can go in sittings: with
    ``BENCH_WORKDIR`` the scene, the fast run and the reference's checkpoints and snapshots stay in that folder, and
    ``BENCH_CHUNK_SECONDS`` stops the reference after that long (exit status 3); the same command continues it.
    """
    seconds = float(os.environ.get("BENCH_REFERENCE_SECONDS", 600))
    chunk = float(os.environ.get("BENCH_CHUNK_SECONDS", 0)) or None
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(os.environ.get("BENCH_WORKDIR") or tmp)
        work.mkdir(parents=True, exist_ok=True)
        split = scene(work)
        fast = _fast_run(split, work)
        out = work / "reference"
        if not (out / "teacher").is_dir():
            _reference_sitting(split, out, seconds, chunk)
        curve = _curve(work / "snapshots", split)
        final = scores(out / "teacher", split)
    rows = [[f"{t:.0f}", f"{p:.2f}"] for t, p in curve] + [[f"{seconds:.0f} (end, best validated)",
                                                              f"{final['lossless']['psnr']:.2f}"]]
    student, teacher = fast["student"]["psnr"], fast["teacher"]["psnr"]
    reached = next((t for t, p in curve if p >= fast["student"]["lossless"]["psnr"]), None)
    body = (
        _scene_intro()
        + f"Fast recipe (defaults): teacher + student in {fast['wall']:.1f} s wall time for `train` "
        f"(teacher {fast['seconds']['teacher']:.1f} s, student {fast['seconds']['student']:.1f} s of "
        f"training); teacher {teacher:.2f} dB, student {student:.2f} dB (8-bit planes).\n\n"
        f"Reference recipe (`--recipe reference --teacher-only`, DisK teacher), test PSNR of the current weights over "
        f"its training time (snapshots of its checkpoints; lossless codes):\n\n"
        + table(["reference training time (s)", "test PSNR (dB)"], rows)
        + (f"\n\nThe reference reaches the fast student's lossless PSNR after {reached:.0f} s of training" if reached
           else "\n\nThe reference does not reach the fast student's lossless PSNR in this window")
    )
    body += (f"; at the end the reference scores {final['psnr']:.2f} dB from its 8-bit planes, "
             f"{final['psnr'] - student:+.2f} dB against the fast student's; time ratio reference/fast: "
             f"{seconds / fast['wall']:.1f}×.")
    write_section(f"neural_reference_{_scene_kind()}_{_device_name()}", f"Fast recipe against the reference recipe "
                  f"over time ({_scene_kind()} scene, {_device_name()})", body, _command("neural_reference_curve"))


def _fast_run(split: Path, work: Path) -> dict:
    """The fast teacher + student with the defaults: wall time, training seconds and scores (kept in ``work``)."""
    record = work / "fast.json"
    if record.is_file():
        return json.loads(record.read_text())
    wall = train_timed(split, work / "fast")
    info = json.loads((work / "fast" / "train.json").read_text())["models"]
    fast = {"wall": wall, "seconds": {role: info[role]["seconds"] for role in ("teacher", "student")},
            **{role: scores(work / "fast" / role, split) for role in ("teacher", "student")}}
    record.write_text(json.dumps(fast))
    return fast


def _reference_sitting(split: Path, out: Path, seconds: float, chunk: float | None) -> None:
    """Train (or go on training) the reference recipe, copying each new checkpoint into ``snapshots``; after
    ``chunk`` seconds stop it and exit with status 3."""
    snapshots = out.with_name("snapshots")
    snapshots.mkdir(exist_ok=True)
    checkpoint = out.with_name(out.name + ".checkpoint.pt")
    resume = ["--resume"] if checkpoint.is_file() else []
    stop = threading.Event()

    def collect() -> None:
        seen = 0.0
        while not stop.is_set():
            if checkpoint.is_file() and checkpoint.stat().st_mtime > seen:
                seen = checkpoint.stat().st_mtime
                shutil.copy(checkpoint, snapshots / f"{time.time():.3f}.pt")
            time.sleep(0.2)

    watcher = threading.Thread(target=collect, daemon=True)
    watcher.start()
    command = [sys.executable, "-m", "core", "train", str(split), "-o", str(out), "--device", DEVICE, "-q",
               "--recipe", "reference", "--teacher-only", "--time-budget", f"{seconds:.0f}", "--checkpoint-every",
               "15", *resume]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=chunk)
    except subprocess.TimeoutExpired:
        print(f"stopped the reference recipe after this sitting's {chunk:.0f} s; run the same command again to "
              "continue it", file=sys.stderr)
        raise SystemExit(3) from None
    finally:
        stop.set()
        watcher.join()
    if done.returncode:
        raise RuntimeError(f"the reference recipe failed:\n{done.stderr}")


CURVE_SECONDS = (15, 30, 60, 120, 240, 420, 600)


def _curve(snapshots: Path, split: Path) -> list[tuple[float, float]]:
    """(training seconds, test PSNR) of the checkpoint snapshots nearest to CURVE_SECONDS, lossless codes."""
    train_part = splits.load_part(split, "train")
    test = splits.load_part(split, "test")
    device = torch.device("cuda" if torch.cuda.is_available() and DEVICE != "cpu" else "cpu")
    data = Data(train_part, device)
    config = TrainConfig(mode="teacher")
    payloads = [torch.load(file, map_location=device, weights_only=False) for file in sorted(snapshots.glob("*.pt"))]
    payloads = [p for p in payloads if p.get("current")]
    if not payloads:
        return []
    elapsed = np.array([p["current"]["state"]["elapsed"] for p in payloads])
    wanted = sorted({int(np.argmin(np.abs(elapsed - t))) for t in CURVE_SECONDS if t <= elapsed.max() + 30})
    points = []
    for index in wanted:
        current = payloads[index]["current"]
        net = Autoencoder(data.count, architecture(config, "teacher")).to(device)
        net.load_state_dict(current["net"])
        model: NeuralRTI = to_model(net, encode(net, data), data, train_part.lights, {})
        points.append((current["state"]["elapsed"], evaluate.evaluate(model, test).psnr))
    return points


STABILITY_SEEDS = (0, 1, 2, 3)


def neural_stability() -> None:
    """The fast teacher's test PSNR over seeds, with Adam's β₂ at PyTorch's default 0.999 and at our 0.99."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        split = scene(Path(tmp))
        for beta2 in ("0.999", "0.99"):
            psnrs = []
            for seed in STABILITY_SEEDS:
                out = Path(tmp) / f"b{beta2}_s{seed}"
                train_timed(split, out, "--teacher-only", "--beta2", beta2, "--seed", str(seed))
                psnrs.append(scores(out / "teacher", split)["lossless"]["psnr"])
            rows.append([beta2, " / ".join(f"{p:.2f}" for p in psnrs), f"{min(psnrs):.2f}", f"{max(psnrs):.2f}",
                         f"{np.mean(psnrs):.2f}"])
    body = (_scene_intro() + f"DisK teacher, fast recipe, `--teacher-only --beta2 B --seed S` for seeds "
            f"{', '.join(map(str, STABILITY_SEEDS))}; test PSNR from the lossless codes.\n\n"
            + table(["Adam β₂", "test PSNR by seed (dB)", "min", "max", "mean"], rows))
    write_section(f"neural_stability_{_scene_kind()}_{_device_name()}", f"Fast recipe stability over seeds "
                  f"({_scene_kind()} scene, {_device_name()})", body,
                  _command("neural_stability"))


def neural_decode() -> None:
    """Relight throughput (megapixels per second) of the student and teacher decoders, numpy and torch."""
    pixels = 2048 * 2048
    rng = np.random.default_rng(0)
    rows = []
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    for width in (20, 50):
        decoder = Decoder(width)
        layers = [(w.detach().numpy(), b.detach().numpy()) for w, b in decoder.layers()]
        codes = rng.normal(size=(2048, 2048, 9)).astype(np.float32)
        model = NeuralRTI(codes, layers)
        light = np.array([0.3, 0.2, 0.93])
        numpy_s = best_time(lambda: model.relight(light))
        row = [f"{width}-{width} ({decoder_parameters(width)} parameters)", f"{pixels / numpy_s / 1e6:.1f}"]
        for device in devices:
            net = decoder.to(device)
            flat = torch.from_numpy(codes.reshape(-1, 9)).to(device)
            xy = torch.tensor([[0.3, 0.2]], device=device)

            def run() -> None:
                with torch.no_grad():
                    for start in range(0, pixels, 1 << 20):
                        net(flat[start : start + (1 << 20)], xy)
                if device == "cuda":
                    torch.cuda.synchronize()

            run()
            row.append(f"{pixels / best_time(run, repeats=5) / 1e6:.1f}")
        rows.append(row)
    header = ["decoder", "numpy, CPU (MP/s)"] + [f"torch, {d} (MP/s)" for d in devices]
    ratio = [float(a) / float(b) for a, b in zip(rows[0][1:], rows[1][1:])]
    body = ("One relight of a 2048×2048 code image (4.2 MP) under one light, best of several runs: the numpy "
            "decoder of `python -m core relight` and the torch decoder in 1-MP chunks.\n\n" + table(header, rows)
            + "\n\nStudent/teacher throughput ratio: " + ", ".join(f"{r:.1f}×" for r in ratio) + ".")
    write_section(f"neural_decode_{_device_name()}", f"Decode throughput, student against teacher "
                  f"({', '.join(devices)})", body, _command("neural_decode"))


MEMORY_SCRIPT = """
import resource, sys, time, numpy as np
from pathlib import Path
from core.capture import analytic
from core.formats import neuralweb
from core.neural.config import TrainConfig
from core.neural.train import train
small, _ = analytic.scene(400, 0)
stack = np.tile(small.images, (1, 8, 10, 1))  # 3200 x 4000 = 12.8 MP
data = type(small)(stack, small.lights, small.names)
start = time.perf_counter()
models = train(data, TrainConfig(device="cpu", time_budget=float(sys.argv[1])))
trained = time.perf_counter() - start
for role, model in models.items():
    neuralweb.write(model, Path(sys.argv[2]) / role)
print(trained, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, stack.nbytes)
"""


def neural_memory() -> None:
    """Peak RSS of teacher + student training and export on a 12.8-megapixel × 49-light stack (CPU, time budget)."""
    budget = 120
    with tempfile.TemporaryDirectory() as tmp:
        out = subprocess.run([sys.executable, "-c", MEMORY_SCRIPT, str(budget), tmp], cwd=ROOT, capture_output=True,
                             text=True, check=True)
    trained, total, peak, stack = (float(v) for v in out.stdout.split())
    rows = [["4000×3200 × 49 lights, 8-bit", f"{stack / 1e9:.2f}", f"{peak / 1e9:.2f}", f"{trained:.0f}",
             f"{total:.0f}"]]
    body = (f"Teacher + student with `--time-budget {budget}` on this CPU (the analytic 400×400 scene tiled to "
            "12.8 MP), then both models encoded and exported. The stack stays uint8 on the device; batches become "
            "float as they are drawn.\n\n"
            + table(["stack", "stack (GB)", "peak RSS (GB)", "training (s)", "training + encode + export (s)"], rows))
    write_section("neural_memory", "Neural training memory (12.8 MP × 49 lights)", body)
