"""``core enlarge``: a large test capture from a small one, its added relief shaded as Lambert's law says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.capture import enlarge, images, lp, splits
from core.capture import mlic as mlic_io
from core.capture.images import srgb_to_linear
from core.cli import main

from .conftest import write_mlic
from .test_cli import fails

LIGHTS = np.array([[0.0, 0.0, 1.0], [0.5, 0.0, 0.866], [0.0, -0.5, 0.866], [0.985, 0.0, 0.1736], [-0.7, 0.7, 0.1418]])
LIGHTS /= np.linalg.norm(LIGHTS, axis=1)[:, None]


@pytest.fixture(scope="module")
def grey(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A flat mid-grey capture of 12×10 pixels under five lights, split into train and test."""
    root = tmp_path_factory.mktemp("enlarge") / "grey"
    stack = np.full((5, 10, 12, 3), 128, np.uint8)
    write_mlic(root / "train", stack[:3], LIGHTS[:3])
    write_mlic(root / "test", stack[3:], LIGHTS[3:])
    mask = np.ones((10, 12), np.uint8) * 255
    mask[:, :3] = 0
    images.write_image(root / "train" / "mask.png", mask)
    return root


def test_both_parts_are_enlarged_with_their_lights_and_mask(grey: Path, tmp_path: Path) -> None:
    out = tmp_path / "big"
    assert main(["enlarge", str(grey), "-o", str(out), "--size", "96x80", "--format", "png", "-q"]) == 0
    train, test = splits.load_part(out, "train"), splits.load_part(out, "test")
    assert (train.count, test.count, train.width, train.height) == (3, 2, 96, 80)
    np.testing.assert_allclose(np.concatenate([train.lights, test.lights]), LIGHTS, atol=1e-6)
    assert train.names == ["image_000.png", "image_001.png", "image_002.png"] and test.mask is None
    assert train.mask is not None and not train.mask[:, :24].any() and train.mask[:, 24:].all()


def test_the_relief_is_shaded_by_lamberts_law_and_strongest_under_grazing_light(grey: Path, tmp_path: Path) -> None:
    size = (96, 80)
    assert main(["enlarge", str(grey), "-o", str(tmp_path / "big"), "--size", "96x80", "--relief", "0.1",
                 "--format", "png", "--seed", "4", "-q"]) == 0
    normals, texture = enlarge.relief(*size, 0.1, 4)
    slopes = np.hypot(normals[..., 0], normals[..., 1]) / normals[..., 2]
    assert np.sqrt(np.mean(slopes**2)) == pytest.approx(0.1, rel=0.05)
    assert texture.mean() == pytest.approx(1.0, abs=0.02) and texture.std() == pytest.approx(enlarge.TEXTURE, rel=0.15)
    spread = []
    for part, lights in (("train", LIGHTS[:3]), ("test", LIGHTS[3:])):
        mlic = mlic_io.load(tmp_path / "big" / part)
        for image, light in zip(mlic.images, lights):
            # flat grey ground: linear value = grey · texture · max(n·l, 0) / l_z, then sRGB-encoded to 8 bits
            expected = srgb_to_linear(128 / 255) * texture * np.minimum(
                np.clip(normals @ light, 0, None) / max(light[2], enlarge.MIN_COSINE), enlarge.MAX_GAIN)
            linear = srgb_to_linear(image[..., 1] / 255.0)
            assert np.abs(linear - expected).max() < 0.006  # an 8-bit step near mid-grey
            spread.append((linear / (srgb_to_linear(128 / 255) * texture)).std())
    assert spread[0] < 0.02 and spread[0] < spread[1] < spread[3] and spread[0] < spread[2] < spread[4]


def test_without_relief_every_light_shows_the_same_texture(grey: Path, tmp_path: Path) -> None:
    assert main(["enlarge", str(grey / "train"), "-o", str(tmp_path / "flat"), "--size", "40", "--relief", "0",
                 "--format", "png", "-q"]) == 0
    mlic = mlic_io.load(tmp_path / "flat")
    assert (mlic.width, mlic.height) == (40, 40)
    assert np.abs(mlic.images.astype(int) - mlic.images[0].astype(int)).max() <= 1
    # over the image, the texture averages out to the grey it multiplies
    assert srgb_to_linear(mlic.images[0] / 255.0).mean() == pytest.approx(srgb_to_linear(128 / 255), rel=0.03)


@pytest.mark.parametrize("size", ["12x9", "abc", "100x", "10x20x30"])
def test_bad_sizes_are_one_error_and_nothing_is_written(grey: Path, tmp_path: Path, capsys, size: str) -> None:
    fails(["enlarge", str(grey), "-o", str(tmp_path / "out"), "--size", size], capsys, "--size")
    assert not (tmp_path / "out").exists()
    fails(["enlarge", str(grey), "-o", str(tmp_path / "out"), "--size", "64", "--relief", "-1"], capsys, "--relief")
    assert lp.read_lp(grey / "train" / "dirs.lp")[0] == ["image_000.png", "image_001.png", "image_002.png"]
