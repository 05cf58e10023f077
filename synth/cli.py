"""``python -m synth --out DIR [options]`` and ``blender -b -P synth/render.py -- --out DIR [options]``.

One scene, or with ``--suite`` a whole benchmark (reliefs × material sets) with an ``index.json``. Errors print one
line and exit with status 2; nothing partial is left in ``--out``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import bpy

from core.atomic import Staged
from core.errors import RTIError, exit_status

from . import materials, relief
from .renderer import render
from .spec import FORMATS, LIGHT_PATTERNS, OWN, SPHERE_CHOICES, SceneSpec

SUITE_RELIEFS = ("bumps", "basrelief", "tablet")
SUITE_MATERIALS = ("matte", "glossy", "stripes", "split")


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
    p.add_argument("--suite", action="store_true", help=f"render reliefs {', '.join(SUITE_RELIEFS)} × materials "
                   f"{', '.join(SUITE_MATERIALS)} into OUT/<relief>/<material>/ with OUT/index.json")
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


def run_suite(spec: SceneSpec, out: Path, force: bool, quiet: bool) -> None:
    """Every relief × material set, each a scene folder, and ``index.json`` listing them; all or nothing."""
    if spec.blend or spec.heightmap:
        raise RTIError("--suite renders the built-in reliefs; it takes no --blend or --heightmap")
    scenes = [replace(spec, relief=r, material=m) for r in SUITE_RELIEFS for m in SUITE_MATERIALS]
    for scene in scenes:
        scene.check()
    staged = Staged(out, force)
    try:
        index: list[dict] = []
        for scene in scenes:
            folder = Path(scene.relief) / scene.material
            if not quiet:
                print(f"scene {len(index) + 1}/{len(scenes)}: {folder}", file=sys.stderr, flush=True)
            run_one(scene, staged.tmp / folder, False, quiet)
            index.append({"path": folder.as_posix(), "relief": scene.relief, "material": scene.material})
        (staged.tmp / "index.json").write_text(json.dumps({"blender": bpy.app.version_string, "scenes": index},
                                                          indent=1))
        staged.commit()
    finally:
        staged.discard()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    spec = spec_from(args)

    def command() -> None:
        spec.check()
        (run_suite if args.suite else run_one)(spec, Path(args.out), args.force, args.quiet)

    return exit_status(command)
