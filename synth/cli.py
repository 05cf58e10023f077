"""``python -m synth --out DIR [options]`` and ``blender -b -P synth/render.py -- --out DIR [options]``.

One scene, or with ``--suite NAME`` a whole benchmark (see :mod:`synth.suites`) with an ``index.json``. Errors print
one line and exit with status 2; nothing partial is left in ``--out``. A suite appears scene by scene (each whole or
not at all), so running the same command again after it was stopped continues with the first missing scene.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import bpy

from core.atomic import check_target
from core.errors import RTIError, exit_status

from . import materials, relief, suites
from .renderer import render
from .spec import FORMATS, LIGHT_PATTERNS, OWN, SPHERE_CHOICES, SceneSpec


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m synth", description="Render a SynthRTI-style synthetic MLIC "
                                "with Blender (Cycles on the CPU).")
    p.add_argument("--out", required=True, help="output folder (train/, test/, normals.png, mask.png, ...)")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--size", type=int, default=320, help="image width and height in pixels (default 320)")
    p.add_argument("--relief", default="bumps", help=f"built-in relief: {', '.join(relief.KINDS)} (default bumps)")
    p.add_argument("--heightmap", help="a grey image to use as the relief (white is high)")
    p.add_argument("--depth", type=float, default=0.1, help="relief depth in half-widths of the surface (0.1)")
    p.add_argument("--blend", help="photograph an object of this .blend file instead of a relief")
    p.add_argument("--object", help="the object of --blend (default: its active object)")
    p.add_argument("--material", help=f"material preset: {', '.join(materials.PRESETS)} (default stripes), or "
                   "own (the --blend object's materials, the default with --blend)")
    p.add_argument("--colors", nargs="+", default=[], metavar="#RRGGBB", help="colours of the preset or stripes")
    p.add_argument("--seed", type=int, default=0, help="relief and render seed (default 0)")
    p.add_argument("--train-lights", default="synthrti", help=f"one of {', '.join(LIGHT_PATTERNS)}")
    p.add_argument("--test-lights", default="synthrti", help="as --train-lights, or none")
    p.add_argument("--near-field", type=float, metavar="D", help="point light at D half-widths instead of a sun")
    p.add_argument("--exposure", type=float, default=0.8, help="white matte lit head-on renders as this (0.8)")
    p.add_argument("--samples", type=int, default=4, help="Cycles samples per pixel (default 4: every light uses the "
                   "same sub-pixel samples, so the images agree with each other; more for smoother edges)")
    p.add_argument("--denoise", action="store_true", help="denoise the light images (OpenImageDenoise)")
    p.add_argument("--format", default="png", choices=list(FORMATS), help="light images: png (8-bit, default), "
                   "png16, jpg or exr (32-bit float, linear)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality (default 95)")
    p.add_argument("--spheres", default="none", choices=list(SPHERE_CHOICES),
                   help="calibration spheres in the frame's top corners, lit like the rest (default none); "
                        "scene.json says where, in pixels")
    p.add_argument("--suite", nargs="?", const="quick", choices=suites.NAMES, help="render a benchmark into OUT "
                   "with OUT/index.json: synthrti (SynthRTI's 51 scenes and layout, {Single,Multi}/Object{1,2,3}/"
                   "material{k}/{Dome,Test}) or quick (the default: reliefs "
                   f"{', '.join(suites.QUICK_RELIEFS)} × materials {', '.join(suites.QUICK_MATERIALS)} in "
                   "OUT/<relief>/<material>/); run again to continue a stopped suite")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    return p


def spec_from(args: argparse.Namespace) -> SceneSpec:
    return SceneSpec(
        size=args.size, relief=args.relief, heightmap=args.heightmap, depth=args.depth, blend=args.blend,
        object=args.object, material=args.material or (OWN if args.blend else "stripes"), colors=args.colors,
        seed=args.seed, train_lights=args.train_lights, test_lights=args.test_lights, near_field=args.near_field,
        exposure=args.exposure, samples=args.samples, denoise=args.denoise, format=args.format, quality=args.quality,
        spheres=args.spheres,
    )


def source_object(spec: SceneSpec) -> bpy.types.Object | None:
    """Open ``spec.blend`` and return the object to photograph (by name, or the active one)."""
    if spec.blend is None:
        return None
    try:
        bpy.ops.wm.open_mainfile(filepath=str(Path(spec.blend).resolve()))
    except RuntimeError:
        raise RTIError(f"{spec.blend}: Blender cannot open this file") from None
    if spec.object is not None:
        if spec.object not in bpy.data.objects:
            raise RTIError(f"{spec.blend}: no object named {spec.object!r}")
        return bpy.data.objects[spec.object]
    active = bpy.context.view_layer.objects.active if bpy.context.view_layer else None
    if active is None:
        raise RTIError(f"{spec.blend}: no active object; name one with --object")
    return active


def run_one(spec: SceneSpec, out: Path, force: bool, quiet: bool) -> None:
    started = time.monotonic()

    def report(done: int, total: int, label: str) -> None:
        if not quiet:
            print(f"[{done}/{total}] {label} ({time.monotonic() - started:.2f} s)", file=sys.stderr, flush=True)

    render(spec, out, force, source_object(spec), report)
    if not quiet:
        print(f"wrote {out} in {time.monotonic() - started:.0f} s", file=sys.stderr)


def run_suite(name: str, spec: SceneSpec, out: Path, force: bool, quiet: bool) -> None:
    """Every scene of suite ``name`` that ``out`` does not hold yet, then ``index.json`` listing them all."""
    if spec.blend or spec.heightmap:
        raise RTIError("--suite renders the built-in reliefs; it takes no --blend or --heightmap")
    scenes = suites.scenes(name, spec)
    for scene in scenes:
        scene.spec.check()
    _prepare(out, scenes, force)
    todo = [(number, scene) for number, scene in enumerate(scenes, 1) if not _finished(out / scene.path, scene.spec)]
    total = sum(1 + sum(len(d) for d in scene.spec.lights().values()) for _, scene in todo)
    bar = _progress_bar(total, quiet)
    for number, scene in todo:
        where = f"scene {number}/{len(scenes)} {scene.path}"
        if bar is not None:
            bar.set_description(where)
        elif not quiet:
            print(where, file=sys.stderr, flush=True)
        render(scene.spec, out / scene.path, report=lambda *_: bar.update() if bar is not None else None,
               layout=scene.layout)
    if bar is not None:
        bar.close()
    (out / "index.json").write_text(json.dumps({"suite": name, "blender": bpy.app.version_string,
                                                "scenes": [scene.to_json() for scene in scenes]}, indent=1))


def _prepare(out: Path, scenes: list[suites.Scene], force: bool) -> None:
    """Make ``out`` ready: emptied with ``force``; else new, or a suite of the same scenes to continue, whose
    half-written scene folders (left by a stopped render) are removed."""
    tops = {scene.path.split("/")[0] for scene in scenes} | {"index.json"}
    if out.is_dir() and not force:
        foreign = [p.name for p in out.iterdir() if p.name not in tops and not p.name.startswith(".")]
        if foreign:
            raise RTIError(f"{out}: already exists and holds {foreign[0]}, which is not part of this suite "
                           "(use --force to replace it)")
    else:
        check_target(out, force)
        if out.is_dir():
            shutil.rmtree(out)
        elif out.exists():
            out.unlink()
    for scene in scenes:
        folder = out / scene.path
        for stale in folder.parent.glob(f".{folder.name}.*.tmp") if folder.parent.is_dir() else []:
            shutil.rmtree(stale)
    out.mkdir(parents=True, exist_ok=True)


def _finished(folder: Path, spec: SceneSpec) -> bool:
    """Whether ``folder`` already holds this scene; a scene rendered with other settings is an error."""
    record = folder / "scene.json"
    if not record.is_file():
        return False
    if json.loads(record.read_text()).get("spec") != json.loads(json.dumps(spec.to_json())):
        raise RTIError(f"{folder}: rendered with other settings; use --force to render the suite again")
    return True


def _progress_bar(total: int, quiet: bool) -> Any:
    """A tqdm bar over the suite's images on a terminal; None (a line per scene) in a log, or where tqdm is missing
    (Blender's own Python)."""
    if quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="img", smoothing=0.05)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    spec = spec_from(args)

    def command() -> None:
        spec.check()
        if args.suite:
            run_suite(args.suite, spec, Path(args.out), args.force, args.quiet)
        else:
            run_one(spec, Path(args.out), args.force, args.quiet)

    kept = "the scenes finished so far are kept: run the same command again to continue"
    return exit_status(command, kept if args.suite else "nothing was written")
