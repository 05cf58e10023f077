"""Add-on benchmarks: building the decoder's node groups, and EEVEE's shader compile and frame times, student
against teacher (EEVEE runs here on Mesa's llvmpipe, a software rasteriser: the ratio is what carries over)."""

from __future__ import annotations

import importlib
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from core.capture import lights
from core.classic.fitting import ClassicRTI
from core.classic.interpolated import InterpolatedRTI
from core.neural import nodeplan
from core.neural.model import NeuralRTI

from ..conftest import random_model
from .report import table, write_section

WIDTHS = {"student (723)": 20, "teacher (3,303)": 50}
FRAME = 1024


def addon_nodes() -> None:
    """Build time (best of 5) and node counts of the decoder groups; EEVEE's first render (shader compile + frame)
    and a second render (frame only) of a 1024×1024 view, unless ``BENCH_EEVEE=0``."""
    bpy: Any = importlib.import_module("bpy")  # Any: the stubs' types do not help a benchmark script
    neural_nodes: Any = importlib.import_module("blender_addon.neural_nodes")
    rows: list[list[Any]] = []
    builds: dict[str, float] = {}
    eevee = os.environ.get("BENCH_EEVEE", "1") != "0"
    for label, width in WIDTHS.items():
        dense = nodeplan.plan(random_model(width, (4, 4)).layers)
        times = []
        for _ in range(5):
            start = time.perf_counter()
            group = neural_nodes.neural_group("bench", dense)
            times.append(time.perf_counter() - start)
            inner = [n.node_tree for n in group.nodes if n.type == "GROUP"]
            nodes = len(group.nodes) + sum(len(t.nodes) for t in inner)
            for tree in [group, *inner]:
                bpy.data.node_groups.remove(tree)
        builds[label] = min(times)
        row = [label, f"{min(times):.3f}", nodes, len(inner) + 1]
        if eevee:
            compile_s, frame_s = _eevee(random_model(width, (FRAME, FRAME)))
            row += [f"{compile_s:.1f}", f"{frame_s:.1f}"]
        rows.append(row)
    header = ["decoder", "node-group build (s)", "nodes", "groups"]
    if eevee:
        header += ["EEVEE first − second render (s)", f"EEVEE {FRAME}×{FRAME} frame (s)"]
    student, teacher = rows
    ratios = f"teacher/student build time {builds['teacher (3,303)'] / builds['student (723)']:.1f}×"
    classic = ""
    if eevee:
        ratios += f", EEVEE frame {float(teacher[5]) / float(student[5]):.1f}×"
        frames = {label: _eevee(made)[1] for label, made in _other_models().items()}
        classic = (f"\n\nThe same {FRAME}×{FRAME} EEVEE frame of the other models' groups (random coefficients): "
                   + ", ".join(f"{label} {seconds:.1f} s" for label, seconds in frames.items())
                   + f"; relight's RBF {frames['RBF, 9 planes (relight)'] / frames['HSH3'] :.2f}× HSH3's.")
    body = (
        "A random model of each decoder size is built with `blender_addon.neural_nodes.neural_group` (best of five) "
        f"and imported on a {FRAME}×{FRAME}-texel plane filling a {FRAME}×{FRAME} orthographic view, then rendered "
        "twice by EEVEE with one sample per pixel (what a viewport redraw costs). The first render was meant to hold "
        "the shader compile and the second only the frame. Blender caches compiled shaders on disk, so the "
        "difference is a compile time only when this decoder layout was never compiled on the machine before. "
        "Each 3×3 block of weights is two Mapping nodes, whose rotations EEVEE computes per pixel (sines and "
        "cosines): fewer nodes and a faster build than dot products or multiply-adds, at a slower frame. Targets: "
        "build ≤ 0.2 s (student) and ≤ 2 s (teacher) on this CPU.\n\n"
        + table(header, rows) + f"\n\nRatios: {ratios}." + classic
    )
    write_section("addon_nodes", "Add-on node groups: build time, size, EEVEE compile and frame", body)


def _other_models() -> dict[str, Any]:
    """HSH3 and relight's default RBF (9 planes, 63 lights), random, of the benchmark's size."""
    rng = np.random.default_rng(0)
    hsh3 = ClassicRTI("hsh3", rng.normal(0.1, 0.1, (9, FRAME, FRAME, 3)).astype(np.float32))
    basis = rng.normal(0.0, 0.01, (10, 63, 3)).astype(np.float32)
    rbf = InterpolatedRTI("rbf", rng.normal(0.0, 1.0, (9, FRAME, FRAME)).astype(np.float32), basis,
                          lights.fibonacci(63), sigma=0.125)
    return {"HSH3": hsh3, "RBF, 9 planes (relight)": rbf}


def _eevee(model: NeuralRTI | ClassicRTI | InterpolatedRTI) -> tuple[float, float]:
    """(compile seconds, frame seconds) of EEVEE rendering ``model`` imported in a scene of its own."""
    blender: Any = importlib.import_module("bpy")
    importer: Any = importlib.import_module("blender_addon.importer")
    addon: Any = importlib.import_module("blender_addon")
    addon.register()  # the planes' light-handle property
    scene = blender.data.scenes.new("RTI bench")
    engines = scene.render.bl_rna.properties["engine"].enum_items.keys()
    scene.render.engine = "BLENDER_EEVEE_NEXT" if "BLENDER_EEVEE_NEXT" in engines else "BLENDER_EEVEE"
    scene.render.resolution_x = scene.render.resolution_y = FRAME
    scene.render.resolution_percentage = 100
    scene.eevee.taa_render_samples = 1  # one sample: what a viewport redraw costs
    camera = blender.data.objects.new("RTI bench camera", blender.data.cameras.new("RTI bench camera"))
    camera.data.type = "ORTHO"
    camera.data.ortho_scale = 2.0
    camera.location = (0, 0, 5)
    scene.collection.objects.link(camera)
    scene.camera = camera
    importer.add_model(scene, model, "RTI bench")
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        scene.render.filepath = str(Path(tmp) / "frame.png")
        for _ in range(2):
            start = time.perf_counter()
            blender.ops.render.render(write_still=True, scene=scene.name)
            times.append(time.perf_counter() - start)
    blender.data.scenes.remove(scene)
    addon.unregister()
    return times[0] - times[1], times[1]
