"""Coefficient planes as files: one image each (``plane_K.jpg``), or tiled for the web as deep zoom (DZI) pyramids.

A deep-zoom plane is ``plane_K.dzi`` (XML: tile size, overlap, format, full size) and the tiles
``plane_K_files/<level>/<col>_<row>.<fmt>``, what OpenLIME's ``deepzoom`` layout and OpenSeadragon load. Levels go
from 0 (one pixel) to L = ceil(log2(max(W, H))), the full plane; level k is ceil(W / 2^(L-k)) × ceil(H / 2^(L-k)).
Each level is the one above averaged over 2×2 blocks (an odd last row or column repeated), so a zoomed-out view
averages the texels, as every DZI tiler does. Tile (c, r) covers columns [c·T − O, (c+1)·T + O) and rows alike,
clipped to its level. Levels are written from the full plane down, holding two at a time.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from ..capture import images
from ..errors import RTIError

LAYOUTS = ("image", "deepzoom")
TILE = 254
OVERLAP = 1
"""Tiles of 254 pixels with one pixel of overlap (256 inside the image): the usual choice of DZI tilers."""
DZI = ('<?xml version="1.0" encoding="UTF-8"?>\n<Image xmlns="http://schemas.microsoft.com/deepzoom/2008" '
       'TileSize="{tile}" Overlap="{overlap}" Format="{fmt}"><Size Width="{width}" Height="{height}"/></Image>\n')


def level_sizes(width: int, height: int) -> list[tuple[int, int]]:
    """(width, height) of every level, level 0 (one pixel) first, the full size last."""
    top = math.ceil(math.log2(max(width, height, 1)))
    return [(math.ceil(width / 2 ** (top - k)), math.ceil(height / 2 ** (top - k))) for k in range(top + 1)]


def tile_box(column: int, row: int, size: tuple[int, int], tile: int = TILE, overlap: int = OVERLAP
             ) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) of a tile in a level of ``size`` (width, height)."""
    width, height = size
    return (max(column * tile - overlap, 0), max(row * tile - overlap, 0),
            min((column + 1) * tile + overlap, width), min((row + 1) * tile + overlap, height))


def halved(image: np.ndarray) -> np.ndarray:
    """The next level down: 2×2 blocks averaged and rounded, an odd last row or column repeated."""
    h, w = image.shape[:2]
    padded = np.pad(image, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge").astype(np.float32)
    blocks = padded.reshape(padded.shape[0] // 2, 2, padded.shape[1] // 2, 2, -1)
    return np.rint(blocks.mean(axis=(1, 3))).astype(image.dtype)


def write_plane(folder: Path, stem: str, texels: np.ndarray, fmt: str, quality: int, keep_rgb: bool = False,
                layout: str = "image") -> None:
    """Write a plane (H, W, 3) 8-bit as ``stem.fmt``, or with ``layout="deepzoom"`` as ``stem.dzi`` and its tiles."""
    if layout not in LAYOUTS:
        raise RTIError(f"unknown layout {layout!r} (choose from {', '.join(LAYOUTS)})")
    if layout == "image":
        images.write_image(folder / f"{stem}.{fmt}", texels, quality=quality, keep_rgb=keep_rgb)
        return
    height, width = texels.shape[:2]
    (folder / f"{stem}.dzi").write_text(DZI.format(tile=TILE, overlap=OVERLAP, fmt=fmt, width=width, height=height))
    sizes = level_sizes(width, height)
    level = texels
    for k in range(len(sizes) - 1, -1, -1):
        assert level.shape[1::-1] == sizes[k]
        tiles = folder / f"{stem}_files" / str(k)
        tiles.mkdir(parents=True)
        for row in range(math.ceil(sizes[k][1] / TILE)):
            for column in range(math.ceil(sizes[k][0] / TILE)):
                x0, y0, x1, y1 = tile_box(column, row, sizes[k])
                images.write_image(tiles / f"{column}_{row}.{fmt}", np.ascontiguousarray(level[y0:y1, x0:x1]),
                                   quality=quality, keep_rgb=keep_rgb)
        if k:
            level = halved(level)


def plane_exists(folder: Path, stem: str, fmt: str) -> bool:
    return (folder / f"{stem}.{fmt}").is_file() or (folder / f"{stem}.dzi").is_file()


def read_plane(folder: Path, stem: str, fmt: str) -> np.ndarray:
    """A plane as written by :func:`write_plane`: the image, or a deep-zoom plane's full level put together from its
    tiles (their overlaps cropped)."""
    single = folder / f"{stem}.{fmt}"
    dzi = folder / f"{stem}.dzi"
    if single.is_file() or not dzi.is_file():
        return images.read_image(single)
    text = dzi.read_text(errors="replace")
    found = {key: re.search(rf'\b{key}="(\d+)"', text) for key in ("TileSize", "Overlap", "Width", "Height")}
    suffix = re.search(r'\bFormat="(\w+)"', text)
    if any(v is None for v in found.values()) or suffix is None:
        raise RTIError(f"{dzi}: not a deep zoom descriptor (TileSize, Overlap, Format and Size expected)")
    tile, overlap, width, height = (int(v[1]) for v in found.values() if v is not None)
    if tile < 1 or not 0 <= overlap < tile or width < 1 or height < 1:
        raise RTIError(f"{dzi}: tile size {tile}, overlap {overlap} and size {width}x{height} do not make tiles")
    level = len(level_sizes(width, height)) - 1
    plane: np.ndarray | None = None
    for row in range(math.ceil(height / tile)):
        for column in range(math.ceil(width / tile)):
            file = folder / f"{stem}_files" / str(level) / f"{column}_{row}.{suffix[1]}"
            part = images.read_image(file)
            x0, y0, x1, y1 = tile_box(column, row, (width, height), tile, overlap)
            if part.shape[:2] != (y1 - y0, x1 - x0):
                raise RTIError(f"{file}: tile is {part.shape[1]}x{part.shape[0]}, expected {x1 - x0}x{y1 - y0}")
            if plane is None:
                plane = np.empty((height, width, *part.shape[2:]), part.dtype)
            left, top = column * tile - x0, row * tile - y0  # the overlap before the tile's own pixels
            own = part[top : top + min(tile, height - row * tile), left : left + min(tile, width - column * tile)]
            plane[row * tile : row * tile + own.shape[0], column * tile : column * tile + own.shape[1]] = own
    assert plane is not None
    return plane
