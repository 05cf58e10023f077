"""Deep-zoom planes: the DZI levels and tiles, read back whole, and model folders written tiled."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pytest

from core.capture import images
from core.classic.fitting import ClassicRTI
from core.cli import main
from core.formats import deepzoom, models
from core.neural.model import NeuralRTI

from .conftest import random_model
from .test_cli import fails


def test_levels_follow_the_dzi_rules() -> None:
    sizes = deepzoom.level_sizes(1000, 600)
    assert len(sizes) == 11 and sizes[-1] == (1000, 600) and sizes[0] == (1, 1)
    assert sizes[9] == (500, 300) and sizes[6] == (63, 38) and sizes[3] == (8, 5)
    assert deepzoom.level_sizes(256, 256)[-2:] == [(128, 128), (256, 256)] and len(deepzoom.level_sizes(256, 1)) == 9
    assert deepzoom.level_sizes(1, 1) == [(1, 1)]


def test_halving_averages_two_by_two_blocks_repeating_an_odd_edge() -> None:
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    expected = np.empty((3, 4, 3))
    for r in range(3):
        for c in range(4):
            rows, cols = [min(2 * r, 4), min(2 * r + 1, 4)], [min(2 * c, 6), min(2 * c + 1, 6)]
            expected[r, c] = image[np.ix_(rows, cols)].reshape(4, 3).mean(axis=0)
    np.testing.assert_array_equal(deepzoom.halved(image), np.rint(expected).astype(np.uint8))


def test_every_tile_is_the_crop_of_its_level_and_the_tiles_make_the_plane(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    plane = rng.integers(0, 256, (401, 600, 3), dtype=np.uint8)
    deepzoom.write_plane(tmp_path, "plane_0", plane, "png", 95, layout="deepzoom")
    text = (tmp_path / "plane_0.dzi").read_text()
    assert re.search(r'TileSize="254" Overlap="1" Format="png"', text) and '<Size Width="600" Height="401"/>' in text
    sizes = deepzoom.level_sizes(600, 401)
    assert sorted(int(p.name) for p in (tmp_path / "plane_0_files").iterdir()) == list(range(len(sizes)))
    level = plane
    for k in range(len(sizes) - 1, -1, -1):
        width, height = sizes[k]
        assert level.shape[:2] == (height, width)
        columns, rows = math.ceil(width / 254), math.ceil(height / 254)
        tiles = sorted((tmp_path / "plane_0_files" / str(k)).iterdir())
        assert len(tiles) == columns * rows
        for row in range(rows):
            for column in range(columns):
                x0, x1 = max(column * 254 - 1, 0), min(column * 254 + 255, width)
                y0, y1 = max(row * 254 - 1, 0), min(row * 254 + 255, height)
                tile = images.read_image(tmp_path / "plane_0_files" / str(k) / f"{column}_{row}.png")
                np.testing.assert_array_equal(tile, level[y0:y1, x0:x1])
        level = deepzoom.halved(level)
    np.testing.assert_array_equal(deepzoom.read_plane(tmp_path, "plane_0", "png"), plane)


def _classic() -> ClassicRTI:
    rng = np.random.default_rng(2)
    return ClassicRTI("hsh3", rng.normal(0.2, 0.3, (9, 300, 270, 3)).astype(np.float32), None,
                      np.array([[0.0, 0.0, 1.0]]))


@pytest.mark.parametrize("make", [_classic, lambda: random_model(20, size=(300, 270))])
def test_a_model_folder_written_tiled_reads_as_the_untiled_one(make, tmp_path: Path) -> None:
    model = make()
    fmt = "png" if isinstance(model, ClassicRTI) else "jpg"
    models.save(model, tmp_path / "single", fmt=fmt)
    models.save(model, tmp_path / "tiled", fmt=fmt, layout="deepzoom")
    names = sorted(p.name for p in (tmp_path / "tiled").iterdir())
    planes = [f"plane_{k}" for k in (range(9) if isinstance(model, ClassicRTI) else range(1, 4))]
    assert [n for n in names if n.endswith(".dzi")] == [f"{p}.dzi" for p in planes]
    assert (tmp_path / "single" / "info.json").read_text() == (tmp_path / "tiled" / "info.json").read_text()
    single, tiled = models.load(tmp_path / "single", codes="planes"), models.load(tmp_path / "tiled", codes="planes")
    light = np.array([0.3, 0.2, 0.93])
    if isinstance(model, ClassicRTI):  # PNG planes: exactly the same
        np.testing.assert_array_equal(single.relight(light), tiled.relight(light))
    else:  # JPEG tiles cut the 8×8 blocks elsewhere: within JPEG's error at quality 100
        assert isinstance(single, NeuralRTI) and isinstance(tiled, NeuralRTI)
        span = model.codes.max(axis=(0, 1)) - model.codes.min(axis=(0, 1))
        assert (np.abs(single.codes - tiled.codes) <= 2.5 / 255 * span).all()
        np.testing.assert_array_equal(models.load(tmp_path / "tiled").codes, model.codes)  # codes.npy, lossless


def test_cli_layouts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models.save(_classic(), tmp_path / "hsh3")
    assert main(["export", str(tmp_path / "hsh3"), "-o", str(tmp_path / "tiled"), "--layout", "deepzoom", "-q"]) == 0
    assert (tmp_path / "tiled" / "plane_8.dzi").is_file() and not (tmp_path / "tiled" / "plane_8.jpg").exists()
    fails(["export", str(tmp_path / "hsh3"), "-o", str(tmp_path / "x.rti"), "--layout", "deepzoom"], capsys,
          "--layout deepzoom is for model folders")
    assert not (tmp_path / "x.rti").exists()
    (tmp_path / "tiled" / "plane_3_files" / "9" / "1_0.jpg").unlink()
    fails(["relight", str(tmp_path / "tiled"), "--light", "0", "0", "1", "-o", str(tmp_path / "lit.png")], capsys,
          "1_0.jpg")
