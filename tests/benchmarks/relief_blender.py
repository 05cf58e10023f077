"""Add Relief on a camera-sized plane, in a process of its own (``relief`` runs it): ``python -m
tests.benchmarks.relief_blender SIZE PTM`` writes a smooth SIZE² PTM, imports it and adds its relief (its views,
which hold the normal map, are built first), printing the seconds of each and the mesh's vertices as JSON."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import bpy
import numpy as np

import blender_addon
from core.classic.fitting import ClassicRTI
from core.formats import models


def main(size: int, path: Path) -> None:
    rows = np.arange(size, dtype=np.float32)[:, None]
    cols = np.arange(size, dtype=np.float32)[None, :]
    coeffs = np.zeros((6, size, size, 3), np.float32)
    coeffs[5] = 0.5
    coeffs[3] = (0.2 * np.cos(cols / 50) * np.cos(rows / 70))[..., None]
    coeffs[4] = (0.15 * np.sin(cols / 60) + 0 * rows)[..., None]
    models.save(ClassicRTI("ptm", coeffs), path)
    del coeffs
    blender_addon.register()
    start = time.perf_counter()
    getattr(bpy.ops, "rti").import_model(filepath=str(path))
    imported = time.perf_counter() - start
    start = time.perf_counter()
    getattr(bpy.ops, "rti").add_relief()
    relieved = time.perf_counter() - start
    made: Any = bpy.context.active_object
    print(json.dumps({"import": imported, "relief": relieved, "vertices": len(made.data.vertices)}))


if __name__ == "__main__":
    main(int(sys.argv[1]), Path(sys.argv[2]))
