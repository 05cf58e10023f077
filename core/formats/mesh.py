"""A height map as a triangle mesh: binary PLY (with vertex colours when there is an image) or OBJ, in millimetres.

Vertices sit at pixel centres every ``step`` pixels: x to the right, y up (row 0 at the top), z the height; two
triangles per grid cell whose four corners are inside the mask, counter-clockwise seen from the camera (+z).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import RTIError

SUFFIXES = (".ply", ".obj")
MAX_VERTICES = 4_000_000
"""The default step keeps a mesh under this many vertices (a 50 MP capture: one vertex every 4 pixels)."""


def default_step(height: int, width: int) -> int:
    """The smallest step that keeps a ``height`` × ``width`` grid under ``MAX_VERTICES`` vertices."""
    step = 1
    while -(-height // step) * -(-width // step) > MAX_VERTICES:
        step += 1
    return step


def grid(heights: np.ndarray, inside: np.ndarray, mm_per_pixel: float, step: int,
         colours: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Vertices (V, 3) float32 in mm, triangles (T, 3) int32 and vertex colours (V, 3) uint8 or None, of the pixels
    every ``step`` (the last row and column included) where ``inside``."""
    rows = np.unique(np.append(np.arange(0, heights.shape[0], step), heights.shape[0] - 1))
    cols = np.unique(np.append(np.arange(0, heights.shape[1], step), heights.shape[1] - 1))
    keep = inside[np.ix_(rows, cols)]
    index = np.full(keep.shape, -1, dtype=np.int64)
    index[keep] = np.arange(int(keep.sum()))
    r, c = np.nonzero(keep)
    vertices = np.stack([cols[c] * mm_per_pixel, -rows[r] * mm_per_pixel,
                         heights[rows[r], cols[c]] * mm_per_pixel], axis=1).astype(np.float32)
    top_left, top_right = index[:-1, :-1], index[:-1, 1:]
    bottom_left, bottom_right = index[1:, :-1], index[1:, 1:]
    whole = (top_left >= 0) & (top_right >= 0) & (bottom_left >= 0) & (bottom_right >= 0)
    a, b, c2, d = (corner[whole] for corner in (top_left, top_right, bottom_left, bottom_right))
    triangles = np.concatenate([np.stack([a, c2, b], 1), np.stack([b, c2, d], 1)]).astype(np.int32)
    shades = None if colours is None else colours[rows[r], cols[c]].astype(np.uint8)
    return vertices, triangles, shades


def write(path: Path | str, vertices: np.ndarray, triangles: np.ndarray, colours: np.ndarray | None = None) -> None:
    """Write a mesh as binary little-endian PLY or as OBJ, by the suffix of ``path``."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".ply":
        _write_ply(path, vertices, triangles, colours)
    elif suffix == ".obj":
        _write_obj(path, vertices, triangles)
    else:
        raise RTIError(f"{path}: a mesh is written as .ply or .obj")


def _write_ply(path: Path, vertices: np.ndarray, triangles: np.ndarray, colours: np.ndarray | None) -> None:
    fields = [("x", "<f4"), ("y", "<f4"), ("z", "<f4")]
    if colours is not None:
        fields += [("red", "u1"), ("green", "u1"), ("blue", "u1")]
    table = np.empty(len(vertices), dtype=fields)
    for k, axis in enumerate("xyz"):
        table[axis] = vertices[:, k]
    if colours is not None:
        for k, channel in enumerate(("red", "green", "blue")):
            table[channel] = colours[:, k]
    faces = np.empty(len(triangles), dtype=[("n", "u1"), ("v", "<i4", (3,))])
    faces["n"], faces["v"] = 3, triangles
    properties = "".join(f"property {'float' if kind == '<f4' else 'uchar'} {name}\n" for name, kind in fields)
    header = (f"ply\nformat binary_little_endian 1.0\ncomment neural-rti relief, millimetres\n"
              f"element vertex {len(vertices)}\n{properties}element face {len(triangles)}\n"
              "property list uchar int vertex_indices\nend_header\n")
    with open(path, "wb") as out:
        out.write(header.encode("ascii"))
        out.write(table.tobytes())
        out.write(faces.tobytes())


def _write_obj(path: Path, vertices: np.ndarray, triangles: np.ndarray, chunk: int = 1 << 20) -> None:
    with open(path, "w", encoding="ascii") as out:
        out.write("# neural-rti relief, millimetres\n")
        for start in range(0, len(vertices), chunk):
            block = vertices[start : start + chunk]
            out.write("".join(f"v {x:.5g} {y:.5g} {z:.5g}\n" for x, y, z in block.tolist()))
        for start in range(0, len(triangles), chunk):
            block = triangles[start : start + chunk] + 1
            out.write("".join(f"f {a} {b} {c}\n" for a, b, c in block.tolist()))
