#!/usr/bin/env python3
"""The project's one entry point: ``python3 build.py {setup,test,demo,bench,fuzz,package,pins}``.

Every command first makes sure ``.venv`` holds exactly the pinned ``requirements.txt`` (it is re-created when that
file, or one it includes, changes), then runs its job with the virtual environment's Python; ``test`` does the same
with ``.venv-numpy2`` (core's tests on numpy 2) and ``.venv-blender42`` (the add-on tests on Blender 4.2 LTS).
Standard library only, so it runs on a fresh machine with nothing but Python 3.11.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
REQUIREMENTS = ROOT / "requirements.txt"
CORE_REQUIREMENTS = ROOT / "requirements-core.txt"
"""core's own pins, included by requirements.txt; the extension carries them for its Set up Training."""
PYTHON = VENV / "bin" / "python"
PIN_TARGETS = ("x86_64-manylinux_2_28", "aarch64-manylinux_2_28", "x86_64-pc-windows-msvc", "aarch64-apple-darwin")
"""The systems Set up Training installs requirements-core.txt on (``PLATFORMS`` in blender_addon/training_env.py)."""
PIN_PYTHONS = ("3.11", "3.13")
"""The Pythons Blender bundles, which Set up Training's environments are made from: 3.11 in 4.2-5.0, 3.13 from 5.1."""
CUDA_ONLY = re.compile(r"(nvidia|cuda)-|triton")
"""Packages only PyPI's Linux CUDA torch needs: the CPU build never installs them, the CUDA build takes its own."""
CORE_TEST_REQUIREMENTS = ROOT / "requirements-core-tests.txt"
NUMPY2_VENV = ROOT / ".venv-numpy2"
"""core's tests once more with numpy 2: Set up Training installs it where Blender's Python is 3.13 (Blender 5.1+)."""
BLENDER_42_VENV = ROOT / ".venv-blender42"
BLENDER_42_REQUIREMENTS = ROOT / "requirements-blender42.txt"
ADDON_TESTS = ("tests/test_addon_nodes.py", "tests/test_addon_operators.py", "tests/test_addon_imageio.py",
               "tests/test_addon_jobs.py", "tests/test_addon_display.py", "tests/test_addon_package.py",
               "tests/test_addon_views.py")
"""The add-on and node-group tests, run a second time on Blender 4.2 LTS, the oldest Blender the extension supports."""
CORE_TESTS = ("tests", "--ignore=tests/test_build.py")
"""What the numpy 2 environment runs: every test that needs no Blender (the add-on's skip themselves; build.py's
tests import synth's command line, which needs bpy)."""
OPENSEADRAGON = "openseadragon@6.1.1"
"""The deep-zoom viewer (npm registry) that tests/test_browser.py opens our tiles in, with Debian's Chromium."""
OPENSEADRAGON_JS = ROOT / ".cache" / "openseadragon" / "openseadragon.min.js"
DEMO_OUT = ROOT / "demo_out"
DEMO_SIZE = 256
DEMO_SCENE = ("--relief", "frieze", "--depth", "0.045", "--material", "stripes")
"""The demo's scene: Multi/Object2/material1 of ``python -m synth --suite synthrti`` (synth/suites.py)."""
DIST = ROOT / "dist"
BLENDER_EXT = "lib/python3.11/site-packages/bpy/5.0/scripts/addons_core/bl_pkg/cli/blender_ext.py"
CLASSIC = ("ptm", "lptm", "hsh2", "hsh3")
DEMO_BLEND = """
import sys
import bpy
import blender_addon

*models, blend = sys.argv[1:]
bpy.ops.wm.read_factory_settings(use_empty=True)
blender_addon.register()
bpy.ops.rti.import_model(filepath=models[0])
for model in models[1:]:
    bpy.ops.rti.import_model(filepath=model, add_to_active=True)
bpy.ops.rti.show_model(index=0)
scene = bpy.context.scene
scene.render.engine = "CYCLES"  # emission only: one sample renders the models exactly, in a second
scene.cycles.samples, scene.cycles.use_denoising = 1, False
for area in (a for screen in bpy.data.screens for a in screen.areas if a.type == "VIEW_3D"):
    area.spaces.active.shading.type = "MATERIAL"
    view = area.spaces.active.region_3d
    view.view_perspective, view.view_rotation, view.view_distance = "ORTHO", (1, 0, 0, 0), 3.0
bpy.ops.wm.save_as_mainfile(filepath=blend)
print(f"wrote {blend}")
"""
"""What a user types in Blender's Python console to put models on one plane, as a script for the bpy module."""
VENDORED = {"core": (), "synth": ("__main__.py", "cli.py", "render.py")}
"""The repository's packages the extension carries, less synth's command line. All of core goes in: the add-on's
training operator runs its ``python -m core train`` in an external Python."""


def run(*cmd: object) -> None:
    """Run a command from the repository root, echoing it; stop the build when it fails."""
    code = call(*cmd)
    if code != 0:
        sys.exit(code)


def call(*cmd: object) -> int:
    """Run a command from the repository root, echoing it; its exit status (negative: killed by that signal)."""
    args = [str(c) for c in cmd]
    print("$ " + " ".join("'<script>'" if "\n" in a else shlex.quote(a) for a in args), flush=True)
    return subprocess.call(args, cwd=ROOT)


def requirements_digest(requirements: Path) -> str:
    """Identify an environment: its pinned requirements (with the files they include by ``-r``) and the interpreter
    that built it."""
    digest = hashlib.sha256()
    for path in requirement_files(requirements):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def requirement_files(requirements: Path) -> list[Path]:
    """A requirements file and those it includes with ``-r FILE``, recursively."""
    included = [requirements.parent / line.split(maxsplit=1)[1] for line in requirements.read_text().splitlines()
                if line.startswith("-r ")]
    return [requirements, *(f for path in included for f in requirement_files(path))]


def ensure_venv(folder: Path = VENV, requirements: Path = REQUIREMENTS, download: str = "about 500 MB",
                then: tuple[str, ...] = ()) -> None:
    """Create or re-create the virtual environment ``folder`` unless it already matches ``requirements`` (and the
    pins ``then`` installed over them)."""
    if sys.version_info[:2] != (3, 11):
        sys.exit(f"error: Python 3.11 is required (bpy 5.0.1 supports only 3.11); this is {sys.version.split()[0]}")
    digest = requirements_digest(requirements) + "".join(f" {pin}" for pin in then)
    stamp, python = folder / ".requirements.sha256", folder / "bin" / "python"
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return
    if folder.exists():
        print(f"{requirements.name} changed: re-creating {folder.name}", flush=True)
        shutil.rmtree(folder)
    print(f"creating {folder.name} with {requirements.name} (first run downloads {download})", flush=True)
    venv.EnvBuilder(with_pip=True).create(folder)
    run(python, "-m", "pip", "install", "--disable-pip-version-check", "-q", "-r", requirements)
    if then:
        run(python, "-m", "pip", "install", "--disable-pip-version-check", "-q", *then)
    stamp.write_text(digest)


def cmd_setup(_: argparse.Namespace) -> None:
    """Only prepare the environment."""


def cmd_test(args: argparse.Namespace) -> None:
    """Static type check of the bpy-facing code, the whole pytest suite, then (unless pytest arguments pick tests)
    core's tests again with numpy 2 and the add-on tests again on Blender 4.2 LTS, each in an environment of its
    own."""
    ensure_browser()
    run(PYTHON, "-m", "mypy")
    run(PYTHON, "-m", "pytest", *args.pytest_args)
    if not args.pytest_args:
        numpy2 = re.search(r"^(numpy==2\S*);", CORE_REQUIREMENTS.read_text(), flags=re.M)
        assert numpy2 is not None, "requirements-core.txt pins no numpy 2"
        ensure_venv(NUMPY2_VENV, CORE_TEST_REQUIREMENTS, download="numpy 2 beyond .venv's packages", then=(numpy2[1],))
        run(NUMPY2_VENV / "bin" / "python", "-m", "pytest", "-p", "no:cacheprovider", *CORE_TESTS)
        ensure_venv(BLENDER_42_VENV, BLENDER_42_REQUIREMENTS, download="about 520 MB")
        command = [BLENDER_42_VENV / "bin" / "python", "-m", "pytest", "-p", "no:cacheprovider", *ADDON_TESTS]
        code = call(*command)
        if code < 0:  # killed by a signal: the 4.2 module crashes now and then (seen once in seven runs here)
            print(f"bpy 4.2 crashed (signal {-code}); running its tests once more", flush=True)
            run(*command)
        elif code:
            sys.exit(code)


def ensure_browser() -> None:
    """Chromium (Debian's package, through apt-get as root) and OpenSeadragon (``npm pack``) for the browser test of
    deep-zoom folders; where either cannot be had, say so: that test then skips."""
    if shutil.which("chromium") is None:
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            print("no Chromium and no apt-get as root to install it: the browser test will skip", flush=True)
        elif call("apt-get", "update", "-qq") or call("apt-get", "install", "-y", "-qq", "--no-install-recommends",
                                                      "chromium"):
            print("installing Chromium failed: the browser test will skip", flush=True)
    if OPENSEADRAGON_JS.is_file():
        return
    if shutil.which("npm") is None:
        print(f"no npm to fetch {OPENSEADRAGON}: the browser test will skip", flush=True)
        return
    folder = OPENSEADRAGON_JS.parent
    folder.mkdir(parents=True, exist_ok=True)
    if call("npm", "pack", "--silent", OPENSEADRAGON, "--pack-destination", folder):
        print(f"fetching {OPENSEADRAGON} failed: the browser test will skip", flush=True)
        return
    with tarfile.open(next(folder.glob("openseadragon-*.tgz"))) as tar:
        script = tar.extractfile("package/build/openseadragon/openseadragon.min.js")
        assert script is not None
        OPENSEADRAGON_JS.write_bytes(script.read())


def cmd_demo(args: argparse.Namespace) -> None:
    """The main job, through the same commands a user types: render a synthetic MLIC, fit PTM and HSH, train the
    teacher and distil the student, train the direct student, export, score everything on the test lights in
    report.html, and save demo.blend with the models on a plane."""
    started = time.monotonic()
    out = Path(args.out).resolve()
    mlic, models, exports = out / "mlic", out / "models", out / "exports"
    cli = (PYTHON, "-m", "core")
    size = 320 if args.full else args.size
    steps = [
        ("render", "render a scene of the synthrti suite (Multi/Object2/material1: dancing figures under coloured "
                   "stripes): 49 training and 20 test lights",
         [(PYTHON, "-m", "synth", "--out", mlic, *DEMO_SCENE, "--size", size, "--force")]),
        ("fits", "fit PTM (RGB, LRGB) and HSH (orders 2, 3)",
         [(*cli, "fit", mlic, "-m", m, "-o", models / m, "--force", "-q") for m in CLASSIC]),
        ("teacher + student", "train the DisK teacher, then distil the 723-parameter student",
         [(*cli, "train", mlic, "-o", models / "neural", "--force", "--progress", "bar")]),
        ("direct student", "train the same student directly on the photos (the baseline distillation must beat)",
         [(*cli, "train", mlic, "--student-only", "--direct", "-o", models / "direct", "--force",
           "--progress", "bar")]),
        ("exports", "export .ptm and .rti files (the model folders are OpenLIME's format already)",
         [(*cli, "export", models / "ptm", "-o", exports / "ptm_rgb.ptm", "--force"),
          (*cli, "export", models / "lptm", "-o", exports / "ptm_lrgb.ptm", "--force"),
          (*cli, "export", models / "hsh3", "-o", exports / "hsh3.rti", "--force")]),
    ]
    labelled = {"student": models / "neural" / "student", "teacher": models / "neural" / "teacher",
                "direct": models / "direct" / "student", **{m: models / m for m in ("hsh3", "hsh2", "ptm", "lptm")}}
    made = "\n".join(" ".join(_shown(a) for a in command) for _, _, commands in steps for command in commands)
    steps.append(("report", "score every model on the test lights; write report.html",
                  [(*cli, "report", *(f"{label}={path}" for label, path in labelled.items()), "--test", mlic,
                    "-o", out / "report.html", "--json-out", out / "results.json", "--title",
                    f"Neural RTI demo: a {size}×{size} synthetic scene", "--command-line", made, "--force")]))
    steps.append((".blend", "save demo.blend: the student, teacher, HSH3 and PTM on one plane with a light handle",
                  [(PYTHON, "-c", DEMO_BLEND, *(labelled[k] for k in ("student", "teacher", "hsh3", "ptm")),
                    out / "demo.blend")]))
    timings = []
    for number, (short, title, commands) in enumerate(steps, 1):
        print(f"\n[{number}/{len(steps)}] {title} ({time.monotonic() - started:.0f} s so far)", flush=True)
        step_started = time.monotonic()
        for command in commands:
            run(*command)
        timings.append((short, time.monotonic() - step_started))
    summary = demo_summary(json.loads((out / "results.json").read_text()), timings, size)
    (out / "summary.md").write_text(summary)
    print(f"\n{summary}\ndemo finished in {time.monotonic() - started:.0f} s")
    print(f"report: {out / 'report.html'}")
    print(f"Blender file: {out / 'demo.blend'} (drag the light handle to relight; for the RTI tab, install the "
          "add-on that `python3 build.py package` builds)")


def demo_summary(results: list[dict], timings: list[tuple[str, float]], size: int) -> str:
    """What the demo measured, as Markdown: the machine, each step's time, and every model's test scores (``core
    report``'s results.json) with what training measured at its own held-out lights."""
    rows = ["| model | PSNR (dB) | SSIM | coefficients per pixel | decoder parameters | training | "
            "at held-out training lights |", "|---|---|---|---|---|---|---|"]
    for r in results:
        seconds = "" if r["seconds"] is None else f"{r['seconds']:.1f} s" if r["seconds"] >= 0.1 else "< 0.1 s"
        rows.append(f"| {r['label']}: {r['kind']} | {r['psnr']:.2f} | {r['ssim']:.4f} | {r['coefficients']} | "
                    f"{r['decoder_parameters'] or '–'} | {seconds} | {r['held_out_lights']} |")
    steps = ", ".join(f"{name} {seconds:.0f} s" for name, seconds in timings)
    return (f"Demo on {machine()}: a {size}×{size} scene, test PSNR / SSIM at its 20 held-out lights (neural models "
            f"from their 8-bit planes). {sum(s for _, s in timings):.0f} s in all: {steps}.\n\n"
            + "\n".join(rows) + "\n")


def machine() -> str:
    """The processor, core count, date and commit, as a benchmark line states them."""
    cpuinfo = Path("/proc/cpuinfo")
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                if line.startswith("model name")), "") if cpuinfo.exists() else ""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout
    return (f"{cpu or platform.processor() or 'an unnamed CPU'}, {os.cpu_count()} cores, {datetime.date.today()}, "
            f"commit {commit.strip() or 'unknown'}")


def _shown(argument: object) -> str:
    """A command-line argument as the report shows it: paths relative to the repository."""
    text = str(argument)
    return text.replace(str(ROOT) + "/", "").replace(str(PYTHON.relative_to(ROOT)), "python")


def cmd_bench(args: argparse.Namespace) -> None:
    """Run the benchmarks and rewrite their sections of BENCHMARKS.md."""
    run(PYTHON, "-m", "tests.benchmarks", *args.names)


def cmd_fuzz(args: argparse.Namespace) -> None:
    """Fuzz every reader with N examples and rewrite the fuzzing section of BENCHMARKS.md."""
    os.environ["FUZZ_EXAMPLES"] = str(args.examples)
    run(PYTHON, "-m", "tests.benchmarks", "fuzz")


def cmd_package(_: argparse.Namespace) -> None:
    """Build dist/neural_rti-<version>.zip with Blender's own extension builder, then validate it."""
    ensure_venv()
    zip_path = package()
    print(f"built {zip_path.relative_to(ROOT)}")


def package() -> Path:
    """Stage blender_addon/ with ``core`` and ``synth`` copied in (their imports of ``core`` made relative) and the
    manifest's wheels fetched; build and validate the zip."""
    stage = DIST / "stage"
    shutil.rmtree(stage, ignore_errors=True)
    shutil.copytree(ROOT / "blender_addon", stage, symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__", *VENDORED))
    for name, left_out in VENDORED.items():
        shutil.copytree(ROOT / name, stage / name, ignore=shutil.ignore_patterns("__pycache__", *left_out))
    shutil.copyfile(CORE_REQUIREMENTS, stage / CORE_REQUIREMENTS.name)
    for module in (stage / "synth").glob("*.py"):
        text = module.read_text()
        module.write_text(re.sub(r"^(\s*)from core(\.| import)", r"\1from ..core\2", text, flags=re.M))
    manifest = (stage / "blender_manifest.toml").read_text()
    for wheel in re.findall(r'"\./wheels/([^"]+)"', manifest):
        project, version = wheel.split("-")[:2]
        run(PYTHON, "-m", "pip", "download", "-q", "--disable-pip-version-check", "--no-deps", "--only-binary=:all:",
            "-d", stage / "wheels", f"{project}=={version}")
    version = re.search(r'^version = "([^"]+)"', manifest, flags=re.M)
    assert version is not None
    zip_path = DIST / f"neural_rti-{version[1]}.zip"
    tool = VENV / BLENDER_EXT
    run(PYTHON, tool, "build", "--source-dir", stage, "--output-filepath", zip_path)
    run(PYTHON, tool, "validate", zip_path)
    shutil.rmtree(stage)
    return zip_path


def cmd_pins(_: argparse.Namespace) -> None:
    """Resolve requirements-core.txt with uv for every system and Blender Python that Set up Training supports (from
    the package registry): each must find a wheel for every pin and need nothing the file leaves unpinned."""
    pinned = set(pin_names(CORE_REQUIREMENTS.read_text()))
    failed = 0
    for target in PIN_TARGETS:
        for python in PIN_PYTHONS:
            done = subprocess.run([VENV / "bin" / "uv", "pip", "compile", "--quiet", "--no-header", "--no-annotate",
                                   "--only-binary", ":all:", "--python-platform", target, "--python-version", python,
                                   CORE_REQUIREMENTS], capture_output=True, text=True,
                                  env={**os.environ, "MACOSX_DEPLOYMENT_TARGET": "14.0"})
            unpinned = sorted(name for name in set(pin_names(done.stdout)) - pinned if not CUDA_ONLY.match(name))
            errors = [line for line in done.stderr.splitlines() if line.strip().startswith(("error", "cause"))]
            verdict = ("; ".join(errors) if done.returncode else
                       f"unpinned: {', '.join(unpinned)}" if unpinned else "ok")
            failed += verdict != "ok"
            print(f"{target:24} Python {python}  {verdict}", flush=True)
    if failed:
        sys.exit(f"{failed} of {len(PIN_TARGETS) * len(PIN_PYTHONS)} systems cannot install {CORE_REQUIREMENTS.name}")


def pin_names(text: str) -> list[str]:
    """The normalised names of a requirements text's ``name==version`` lines."""
    return [re.sub(r"[-_.]+", "-", name).lower() for name in re.findall(r"^([A-Za-z0-9_.-]+)==", text, flags=re.M)]


def main() -> None:
    parser = argparse.ArgumentParser(prog="build.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("setup", help="create .venv with the pinned requirements").set_defaults(func=cmd_setup)
    sub.add_parser("test", help="type-check the bpy-facing code and run the tests",
                   description="Any further arguments go to pytest as they are (e.g. -x -k addon).").set_defaults(
        func=cmd_test)
    demo = sub.add_parser("demo", help="run the main job end to end")
    demo.add_argument("--out", default=str(DEMO_OUT), help="output folder (default: demo_out/)")
    demo.add_argument("--size", type=int, default=DEMO_SIZE, help=f"image size in pixels (default {DEMO_SIZE})")
    demo.add_argument("--full", action="store_true", help="the full 320×320 scene of the benchmarks")
    demo.set_defaults(func=cmd_demo)
    bench = sub.add_parser("bench", help="run benchmarks and update BENCHMARKS.md")
    bench.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    bench.set_defaults(func=cmd_bench)
    fuzz = sub.add_parser("fuzz", help="fuzz every file reader and update BENCHMARKS.md")
    fuzz.add_argument("examples", nargs="?", type=int, default=10_000, help="examples per reader (default 10,000)")
    fuzz.set_defaults(func=cmd_fuzz)
    sub.add_parser("package", help="build and validate the Blender extension zip in dist/").set_defaults(
        func=cmd_package)
    sub.add_parser("pins", help="check that requirements-core.txt installs on every system Set up Training supports "
                   "(needs the package registry)").set_defaults(func=cmd_pins)
    args, unknown = parser.parse_known_args()
    if args.command == "test":
        args.pytest_args = sys.argv[sys.argv.index("test") + 1:]
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    ensure_venv()
    args.func(args)


if __name__ == "__main__":
    main()
