"""Readers never crash: every file a user can hand us either loads or gives one ``RTIError``.

Property-based (hypothesis): byte mutations of real files of each format (flips, truncation, insertions of
troublesome numbers), ours and relight's (from ../shared, skipped without it), and generated ``.lp`` text, ``info.json``
values and image stacks. ``FUZZ_EXAMPLES`` sets the examples per reader (default 200 in the
suite; ``python3 build.py fuzz N`` runs N)."""

import json
import os
import shutil
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.capture import analytic, lights, lp, mlic
from core.classic import fitting
from core.errors import RTIError
from core.formats import models, neuralweb, ptmfile, rtifile, webrti
from core.neural.train import Checkpoint, train

from .conftest import random_model, shared_dataset
from .test_train import TINY, StopAt

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 200))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
TROUBLE = [b"nan", b"1e309", b"-1", b"0", b"4294967296", b"-0.0", b"inf", b"\x00", b"\xff\xfe", b"[", b"}", b'"',
           b"99999999999"]


OUTCOMES: defaultdict[str, Counter] = defaultdict(Counter)
"""Examples run per reader: loaded, rejected, crashed (``python3 build.py fuzz`` tabulates them)."""


def loads_or_refuses(label: str, read, *args):
    """What ``read`` returned, or None when it refused with one ``RTIError`` line; anything else fails the test with
    the exception."""
    outcome = "crashed"
    try:
        result = read(*args)
        outcome = "loaded"
        return result
    except RTIError as error:
        if "\n" in str(error).strip():
            raise AssertionError(f"an RTIError of several lines: {error}") from None
        outcome = "rejected"
        return None
    finally:
        OUTCOMES[label][outcome] += 1


@pytest.fixture(scope="module", autouse=True)
def record_outcomes():
    """Write the tally to the file ``FUZZ_OUTCOMES`` names, if set (``build.py fuzz`` runs each test apart)."""
    yield
    if target := os.environ.get("FUZZ_OUTCOMES"):
        Path(target).write_text(json.dumps(OUTCOMES))


@st.composite
def mutations(draw, original: bytes) -> bytes:
    """``original`` after one to four edits: flipped bytes, a cut, an inserted token or a deleted span."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "truncate":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.sampled_from(TROUBLE))
        else:
            del data[at:at + draw(st.integers(1, 64))]
    return bytes(data)


@pytest.fixture(scope="module")
def originals(tmp_path_factory) -> dict[str, Path]:
    """One real file or folder of each format, written by our writers from a small analytic scene."""
    root = tmp_path_factory.mktemp("originals")
    scene = analytic.scene(size=24, seed=0)[0]
    hsh2, ptm = fitting.fit(scene, "hsh2"), fitting.fit(scene, "ptm")
    ptmfile.write(ptm, root / "m.ptm")
    rtifile.write(hsh2, root / "m.rti")
    webrti.write(hsh2, root / "web", fmt="png")
    neuralweb.write(random_model(8), root / "neural")
    lp.write_lp(root / "dirs.lp", scene.names, scene.lights)
    small = replace(scene.subset(list(range(0, 49, 6))), mask=np.indices((24, 24)).sum(axis=0) % 5 > 0)
    mlic.save(small, root / "mlic", ext=".jpg")
    with pytest.raises(KeyboardInterrupt):
        train(small, replace(TINY, checkpoint_every=0.0), StopAt("teacher", 150), root / "run.checkpoint.pt")
    return {"ptm": root / "m.ptm", "rti": root / "m.rti", "web": root / "web", "neural": root / "neural",
            "lp": root / "dirs.lp", "mlic": root / "mlic", "checkpoint": root / "run.checkpoint.pt"}


def relight_export(name: str) -> Path:
    """A file or folder that relight wrote (../shared), or a skip."""
    dataset, _, inner = name.partition("/")
    return shared_dataset(dataset) / inner


def _mutated_file(original: Path, data: bytes, tmp_path: Path) -> Path:
    path = tmp_path / original.name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("kind, reader", [("ptm", ptmfile.read), ("rti", rtifile.read), ("lp", lp.read_lp)])
def test_mutated_model_and_light_files_load_or_give_one_error(originals, tmp_path, kind, reader):
    original = originals[kind].read_bytes()

    @FUZZ
    @given(mutations(original))
    def check(data):
        loads_or_refuses(f".{kind} (mutated)", reader, _mutated_file(originals[kind], data, tmp_path))

    check()


@pytest.mark.parametrize("name, reader", [("relight_legacy_sanmichele/rgb.ptm", ptmfile.read),
                                          ("relight_legacy_sanmichele/lrgb.ptm", ptmfile.read),
                                          ("relight_legacy_sanmichele/hsh.rti", rtifile.read)])
def test_mutated_files_of_relight_load_or_give_one_error(tmp_path, name, reader):
    original = relight_export(name)

    @FUZZ
    @given(mutations(original.read_bytes()))
    def check(data):
        loads_or_refuses(f"relight {original.name} (mutated)", reader, _mutated_file(original, data, tmp_path))

    check()


@pytest.mark.parametrize("kind", ["web", "neural", "relight_coin_rti_outputs/lptm",
                                  "relight_coin_rti_outputs/hsh", "relight_2026_sanmichele/yrbf",
                                  "relight_2026_sanmichele/bilinear"])
def test_mutated_info_json_loads_or_gives_one_error(originals, tmp_path, kind):
    source = originals[kind] if kind in originals else relight_export(kind)
    folder = tmp_path / "folder"
    shutil.copytree(source, folder)
    original = (source / "info.json").read_bytes()
    label = f"{kind} info.json (mutated)" if kind in originals else f"relight {source.name} info.json (mutated)"

    @FUZZ
    @given(mutations(original))
    def check(data):
        (folder / "info.json").write_bytes(data)
        loads_or_refuses(label, models.load, folder, "planes")

    check()


@pytest.mark.parametrize("name", ["mask.png", "train_000.jpg"])
def test_mlic_with_a_mutated_mask_or_image_loads_or_gives_one_error(originals, tmp_path, name):
    folder = tmp_path / "mlic"
    shutil.copytree(originals["mlic"], folder)
    original = (folder / name).read_bytes()

    @FUZZ
    @given(mutations(original))
    def check(data):
        (folder / name).write_bytes(data)
        loaded = loads_or_refuses(f"MLIC, {name} (mutated)", mlic.load, folder)
        if loaded is not None:
            assert loaded.mask is None or loaded.mask.shape == loaded.images.shape[1:3]

    check()


IMAGE_SPECS = st.tuples(st.sampled_from([(4, 4), (4, 5), (1, 1)]), st.sampled_from([1, 3, 4]),
                        st.sampled_from([np.uint8, np.uint16]), st.booleans(), st.sampled_from([".png", ".tif"]))


@FUZZ
@given(st.lists(IMAGE_SPECS, min_size=1, max_size=4), st.none() | st.sampled_from([(4, 4), (5, 4)]))
def test_generated_image_stacks_load_or_give_one_error(tmp_path_factory, specs, mask_shape):
    """Stacks whose images differ in size, channels, bit depth, transparency and format, with or without a mask."""
    folder = tmp_path_factory.mktemp("stack")
    names = []
    for i, ((h, w), channels, dtype, opaque, suffix) in enumerate(specs):
        pixels = np.full((h, w, channels), np.iinfo(dtype).max if opaque else 7, dtype=dtype)
        names.append(f"{i}{suffix}")
        cv2.imwrite(str(folder / names[-1]), pixels)
    if mask_shape is not None:
        cv2.imwrite(str(folder / "mask.png"), np.full(mask_shape, 255, dtype=np.uint8))
    lp.write_lp(folder / "dirs.lp", names, np.tile([[0.0, 0.0, 1.0]], (len(names), 1)))
    loaded = loads_or_refuses("MLIC (generated image stacks)", mlic.load, folder)
    if loaded is not None:
        assert loaded.images.shape[0] == len(specs) and loaded.images.dtype in (np.uint8, np.uint16)


def test_mutated_checkpoints_are_refused_before_use(originals, tmp_path):
    original = originals["checkpoint"]
    small = mlic.load(originals["mlic"])
    config = replace(TINY, checkpoint_every=0.0)
    assert Checkpoint(original, 0.0).read(config, small)["current"]["role"] == "teacher"

    @FUZZ
    @given(mutations(original.read_bytes()))
    def check(data):
        path = _mutated_file(original, data, tmp_path)
        loads_or_refuses("training checkpoint (mutated)", Checkpoint(path, 0.0).read, config, small)

    check()


JSON_VALUES = st.recursive(st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats() | st.text(max_size=4),
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                                       max_size=3), max_leaves=8)


@pytest.mark.parametrize("kind", ["web", "neural", "relight_2026_sanmichele/rbf"])
def test_info_json_with_any_value_in_any_key_loads_or_gives_one_error(originals, tmp_path, kind):
    source = originals[kind] if kind in originals else relight_export(kind)
    folder = tmp_path / "folder"
    shutil.copytree(source, folder)
    info = json.loads((source / "info.json").read_text())

    @FUZZ
    @given(st.sampled_from(sorted(info)), JSON_VALUES)
    def check(key, value):
        (folder / "info.json").write_text(json.dumps({**info, key: value}))
        loads_or_refuses(f"{kind} info.json (any value in a key)", models.load, folder, "planes")

    check()


NUMBER = st.sampled_from(["nan", "1e309", "-1", "-0.0012", "0", "0.5", "1", "2", "x", ""]) | st.floats().map(str)


@FUZZ
@given(st.lists(st.tuples(st.text("abc.jpg", min_size=1, max_size=6), NUMBER, NUMBER, NUMBER), max_size=6),
       st.sampled_from(["", "3", "-1", "99999999999", "nan", "2.5"]))
def test_generated_lp_files_load_or_give_one_error(tmp_path_factory, rows, count):
    path = tmp_path_factory.mktemp("lp") / "dirs.lp"
    path.write_text("\n".join([count, *(" ".join(row) for row in rows)]) + "\n")
    read = loads_or_refuses(".lp (generated)", lp.read_lp, path)
    if read is not None:
        names, directions = read
        assert len(names) == len(directions) and np.isfinite(directions).all()
        assert np.allclose(np.linalg.norm(directions, axis=1), 1.0) and (lights.elevation(directions) >= 0).all()
