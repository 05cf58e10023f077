"""The command line end to end: outputs, JSON, exit status 2 with one-line errors, and nothing half-written."""

import errno
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core.capture import images, mlic
from core.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def scene(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("cli") / "scene"
    assert main(["analytic", "-o", str(out), "--size", "32", "-q"]) == 0
    return out


def fails(argv: list[str], capsys, message: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: ") and message in err[-1], err
    return err[-1]


def test_info_json(scene, capsys):
    assert main(["info", str(scene / "train"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["count"] == 49 and (info["width"], info["height"]) == (32, 32) and info["bit_depth"] == 8
    assert (info["elevation_min"], info["elevation_max"]) == (10.0, 90.0) and info["azimuth_octants"] == 8


@pytest.mark.parametrize("method", ["ptm", "lptm", "hsh2", "hsh3"])
def test_fit_eval_relight_export(scene, tmp_path, capsys, method):
    model = tmp_path / method
    assert main(["fit", str(scene), "-m", method, "-o", str(model), "-q"]) == 0
    assert (model / "info.json").exists()
    capsys.readouterr()
    assert main(["eval", str(model), "--test", str(scene), "--json", "-q"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["per_light"]) == 20 and {"psnr", "ssim", "per_light"} <= report.keys()
    assert report["psnr"] == pytest.approx(np.mean([s["psnr"] for s in report["per_light"]]))
    assert 20 < report["psnr"] < 60 and 0.5 < report["ssim"] <= 1

    assert main(["relight", str(model), "--light", "0.3", "0.2", "0.9", "-o", str(tmp_path / "one.png")]) == 0
    assert images.read_image(tmp_path / "one.png").shape == (32, 32, 3)
    assert main(["relight", str(model), "--lp", str(scene / "test/dirs.lp"), "-o", str(tmp_path / "relit"), "-q"]) == 0
    relit = mlic.load(tmp_path / "relit")  # the output is itself an MLIC
    assert relit.count == 20
    capsys.readouterr()
    # relit images scored against the originals give the eval numbers: the two paths agree
    assert main(["eval", str(model), "--test", str(tmp_path / "relit"), "--json", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["psnr"] == 100.0

    legacy = tmp_path / ("m.rti" if method.startswith("hsh") else "m.ptm")
    assert main(["export", str(model), "-o", str(legacy)]) == 0
    assert main(["eval", str(legacy), "--test", str(scene), "--json", "-q"]) == 0


def test_eval_table_and_masked_scores(scene, tmp_path, capsys):
    assert main(["fit", str(scene), "-m", "hsh2", "-o", str(tmp_path / "m"), "-q"]) == 0
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    images.write_image(tmp_path / "mask.png", mask)
    capsys.readouterr()
    assert main(["eval", str(tmp_path / "m"), "--test", str(scene), "--mask", str(tmp_path / "mask.png"), "-q",
                 "--json-out", str(tmp_path / "r.json")]) == 0
    table = capsys.readouterr().out
    assert "PSNR(m)" in table and table.strip().splitlines()[-1].startswith("mean")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["psnr_masked"] is not None and report["per_light"][0]["ssim_masked"] is not None


def test_missing_parent_folders_of_an_output_are_created(scene, tmp_path):
    assert main(["fit", str(scene), "-m", "hsh2", "-o", str(tmp_path / "a/b/model"), "-q"]) == 0
    assert (tmp_path / "a/b/model/info.json").exists()


def test_split_every_8(scene, tmp_path, capsys):
    assert main(["split", str(scene / "train"), "--every", "8", "-o", str(tmp_path / "s"), "-q"]) == 0
    assert mlic.load(tmp_path / "s/test").count == 7 and mlic.load(tmp_path / "s/train").count == 42


def test_errors_exit_2_with_one_line(scene, tmp_path, capsys):
    fails(["fit", str(tmp_path / "nothing"), "-m", "ptm", "-o", str(tmp_path / "o")], capsys, "no such file or folder")
    fails(["relight", str(tmp_path / "nothing"), "--light", "0", "0", "1", "-o", str(tmp_path / "x.png")], capsys,
          "no such model")
    fails(["analytic", "-o", str(tmp_path / "a"), "--size", "4"], capsys, "at least 16 pixels")
    assert main(["fit", str(scene), "-m", "ptm", "-o", str(tmp_path / "m"), "-q"]) == 0
    fails(["relight", str(tmp_path / "m"), "--light", "0", "0.5", "-0.5", "-o", str(tmp_path / "x.png")], capsys,
          "below the surface")
    fails(["relight", str(tmp_path / "m"), "--light", "0", "0", "1", "--light", "0", "1", "1",
           "-o", str(tmp_path / "x.png")], capsys, "needs exactly one light")
    small = tmp_path / "small"
    assert main(["analytic", "-o", str(small), "--size", "16", "-q"]) == 0
    fails(["eval", str(tmp_path / "m"), "--test", str(small)], capsys, "model is 32x32 but the test images are 16x16")
    fails(["fit", str(scene), "-m", "ptm", "-o", str(tmp_path / "m")], capsys, "already exists (use --force")
    with pytest.raises(SystemExit) as exit_info:  # argparse's own errors also exit with 2
        main(["fit", str(scene), "-m", "nope", "-o", str(tmp_path / "z")])
    assert exit_info.value.code == 2


def test_python_dash_m_core_exits_2(tmp_path):
    run = subprocess.run([sys.executable, "-m", "core", "info", str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2
    assert run.stderr.strip() == f"error: {tmp_path}: no .lp light file in this folder"


def test_train_options_default_to_the_trainers_settings_without_loading_torch():
    """train's defaults are ``TrainConfig``'s, and every command starts without PyTorch (seconds of import)."""
    code = ("import sys; from core.cli import build_parser, train_config; from core.neural.config import TrainConfig; "
            "args = build_parser().parse_args(['train', 'x', '-o', 'y']); "
            "print(train_config(args) == TrainConfig(), 'torch' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.split() == ["True", "False"], run.stderr


def test_bad_input_leaves_no_output_and_no_temporary_files(scene, tmp_path, capsys):
    broken = tmp_path / "broken"
    assert main(["split", str(scene / "train"), "--every", "7", "-o", str(broken), "-q"]) == 0
    (broken / "train/train_003.png").write_bytes(b"garbage")
    fails(["fit", str(broken), "-m", "hsh3", "-o", str(tmp_path / "out")], capsys, "train_003.png: not a readable")
    assert not (tmp_path / "out").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["broken"]


def test_a_failure_while_writing_keeps_the_previous_output(scene, tmp_path, monkeypatch, capsys):
    out = tmp_path / "model"
    assert main(["fit", str(scene), "-m", "hsh3", "-o", str(out), "-q"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []

    def failing_write(path, image, quality=95, keep_rgb=False):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        images_write(path, image, quality, keep_rgb)

    images_write = images.write_image
    monkeypatch.setattr(images, "write_image", failing_write)
    assert main(["fit", str(scene), "-m", "ptm", "-o", str(out), "--force", "-q"]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("error: ") and error.endswith("No space left on device; nothing was written")
    assert "\n" not in error
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model"]
