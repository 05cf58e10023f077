"""``python -m tests.benchmarks [NAME ...]``: run benchmarks (default: all) and rewrite their BENCHMARKS.md sections."""

from __future__ import annotations

import sys

from . import addon, classic, ddp, fuzz, hard, large, lights, many, neural, normals, population, relief, shader, synth

BENCHMARKS = {
    "classic_fit": classic.classic_fit,
    "classic_memory": classic.classic_memory,
    "icon_classic": classic.icon_classic,
    "relight_folders": classic.relight_folders,
    "neural_scene": neural.neural_scene,
    "neural_icon": neural.neural_icon,
    "neural_suite": neural.neural_suite,
    "neural_hard": hard.neural_hard,
    "neural_many": many.neural_many,
    "neural_population": population.neural_population,
    "neural_ddp": ddp.neural_ddp,
    "neural_stability": neural.neural_stability,
    "neural_reference_curve": neural.neural_reference_curve,
    "neural_decode": neural.neural_decode,
    "neural_memory": neural.neural_memory,
    "large_decode": large.large_decode,
    "large_capture": large.large_capture,
    "large_budget": large.large_budget,
    "large_addon": large.large_addon,
    "synth_render": synth.synth_render,
    "synth_suite": synth.synth_suite,
    "addon_nodes": addon.addon_nodes,
    "node_frame": shader.node_frame,
    "fuzz": fuzz.fuzz,
    "normals": normals.normals,
    "relief": relief.relief,
    "lights": lights.lights,
}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"error: unknown benchmark {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})", file=sys.stderr)
        return 2
    for name in names or list(BENCHMARKS):
        print(f"benchmark {name} ...", flush=True)
        BENCHMARKS[name]()
    print("BENCHMARKS.md updated")
    return 0


raise SystemExit(main(sys.argv[1:]))
