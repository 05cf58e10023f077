"""The comparison report: its scores agree with ``eval``, its pictures are what they claim, the page stands alone."""

from __future__ import annotations

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from core.capture import splits
from core.cli import main
from core.formats import models
from core.quality import report

from .test_cli import fails
from .conftest import random_model


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An analytic scene, PTM and HSH3 fits, a random neural model of its size, and their report."""
    root = tmp_path_factory.mktemp("report")
    assert main(["analytic", "-o", str(root / "scene"), "--size", "32", "-q"]) == 0
    for method in ("ptm", "hsh3"):
        assert main(["fit", str(root / "scene"), "-m", method, "-o", str(root / method), "-q"]) == 0
    neural = random_model(20, size=(32, 32))
    neural.training.update(role="student", val_psnr=20.5, hsh3_val_psnr=25.25, val_lights=["a.png", "b.png"],
                           recommended="hsh3")
    models.save(neural, root / "neural")
    assert main(["report", f"hsh={root / 'hsh3'}", str(root / "ptm"), str(root / "neural"), "--test",
                 str(root / "scene"), "-o", str(root / "report.html"), "--json-out", str(root / "scores.json"),
                 "-q"]) == 0
    return root


def test_lossless_scores_are_for_neural_folders(compared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", str(compared / "hsh3"), "--test", str(compared / "scene"), "--lossless", "-q"]) == 2
    assert "--lossless is for neural model folders" in capsys.readouterr().err


def test_scores_are_evals_scores(compared: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scores = {s["label"]: s for s in json.loads((compared / "scores.json").read_text())}
    assert list(scores) == ["hsh", "ptm", "neural"]
    for label, folder in (("hsh", "hsh3"), ("ptm", "ptm"), ("neural", "neural")):
        lossless = ["--lossless"] if label == "neural" else []
        assert main(["eval", str(compared / folder), "--test", str(compared / "scene"), "--json", "-q", *lossless]) == 0
        evaluated = json.loads(capsys.readouterr().out)
        assert scores[label]["psnr"] == pytest.approx(evaluated["psnr"], abs=1e-9)
        assert scores[label]["ssim"] == pytest.approx(evaluated["ssim"], abs=1e-9)
        assert len(scores[label]["per_light"]) == 20
    assert scores["neural"]["lossless_psnr"] == pytest.approx(evaluated["lossless"]["psnr"], abs=1e-9)
    assert [scores[k]["coefficients"] for k in scores] == [27, 18, 9]
    assert [scores[k]["decoder_parameters"] for k in scores] == [0, 0, 11 * 20 + 20 + 20 * 20 + 20 + 20 * 3 + 3]
    fitted = models.load(compared / "hsh3").training  # the fit's time and device, kept by its folder
    assert (scores["hsh"]["seconds"], scores["hsh"]["device"]) == (fitted["seconds"], "cpu")


def test_the_page_shows_the_scores_and_stands_alone(compared: Path) -> None:
    page = (compared / "report.html").read_text()
    scores = json.loads((compared / "scores.json").read_text())
    rows = re.findall(r"<tr><td>([^<]+)</td><td>[^<]*</td><td>(?:<b>)?([\d.]+)", page)
    assert rows == [(s["label"], f"{s['psnr']:.2f}") for s in scores]
    assert page.count("<svg") == 1 and "light elevation" in page
    sources = re.findall(r"""(?:src|href)=['"]?([^'" >]+)""", page)
    assert [s for s in sources if not s.startswith(("data:image/png;base64,", "#"))] == []  # nothing to fetch
    # 4 grid lights × (photo + 3 models + 3 error maps) + the neural model's 9 latent planes
    assert sum(s.startswith("data:") for s in sources) == 4 * 7 + 9


def test_grid_lights_run_from_lowest_to_highest(compared: Path) -> None:
    test = splits.load_part(compared / "scene", "test")
    z = test.lights[:, 2].round(3)
    assert len(np.unique(z)) == 4  # SynthRTI's test lights: four rings
    picks = report.grid_lights(test, 4)
    assert list(z[picks]) == sorted(np.unique(z))  # one light per ring, lowest first
    picks = report.grid_lights(test, 6)  # more than there are rings: spread over all lights
    assert len(picks) == 6 and z[picks[0]] == z.min() and z[picks[-1]] == z.max() and list(z[picks]) == sorted(z[picks])
    assert report.grid_lights(test, 50) == list(np.argsort(z, kind="stable"))  # more than there are: each once


def test_error_map_colours() -> None:
    truth = np.zeros((2, 3, 3), np.uint8)
    guess = truth.copy()
    guess[0, 0] = 255  # error 1: past the scale
    guess[0, 1] = round(255 * report.ERROR_SCALE / 2)  # half the scale
    heat = report.error_map(truth, guess)
    cmap = matplotlib.colormaps[report.CMAP_ERROR]
    expected = [np.rint(np.array(cmap(v)[:3]) * 255) for v in (1.0, 0.5, 0.0)]
    for pixel, colour in zip((heat[0, 0], heat[0, 1], heat[1, 2]), expected):
        np.testing.assert_allclose(pixel, colour, atol=3)


def test_latent_maps_stretch_each_code() -> None:
    model = random_model(7, size=(5, 6))
    maps = report.latent_maps(model)
    assert len(maps) == 9
    for k, image in enumerate(maps):
        channel = model.codes[..., k]
        assert image[np.unravel_index(channel.argmin(), channel.shape)].tolist() == [0, 0, 0]
        assert image[np.unravel_index(channel.argmax(), channel.shape)].tolist() == [255, 255, 255]


def test_bad_reports_exit_2_and_write_nothing(compared: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = str(tmp_path / "r.html")
    ptm, test = str(compared / "ptm"), str(compared / "scene")
    fails(["report", ptm, f"ptm={compared / 'hsh3'}", "--test", test, "-o", out], capsys,
          "two models are labelled 'ptm'")
    fails(["report", "=x", "--test", test, "-o", out], capsys, "give a model as PATH or LABEL=PATH")
    fails(["report", ptm, "--test", str(tmp_path / "nothing"), "-o", out], capsys, "nothing")
    small = tmp_path / "small"
    assert main(["analytic", "-o", str(small), "--size", "16", "-q"]) == 0
    fails(["report", ptm, "--test", str(small), "-o", out], capsys, "model is 32x32 but the test images are 16x16")
    fails(["report", ptm, "--test", test, "-o", str(compared / "report.html")], capsys, "exists")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small"]


def test_a_neural_model_below_hsh3_at_its_held_out_lights_is_flagged(compared: Path, tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """What training recorded (20.50 dB at 2 held-out lights against HSH3's 25.25) is shown with its warning."""
    scores = {s["label"]: s for s in json.loads((compared / "scores.json").read_text())}
    assert scores["neural"]["held_out_lights"] == "20.50 (HSH3 25.25)" and scores["hsh"]["held_out_lights"] == ""
    warning = ("the student scores 20.50 dB at the 2 held-out lights, below HSH3's 25.25 dB there: an HSH3 fit "
               "(python -m core fit -m hsh3) relights this capture better")
    assert scores["neural"]["warning"] == warning and scores["hsh"]["warning"] is None
    page = (compared / "report.html").read_text()
    assert f"<p class=warning>Warning: neural: {warning}.</p>" in page.replace("&#x27;", "'")
    assert main(["report", str(compared / "neural"), "--test", str(compared / "scene"), "-o",
                 str(tmp_path / "r.html")]) == 0
    assert f"warning: neural: {warning}" in capsys.readouterr().out


def test_pictures_of_a_large_capture_are_averaged_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """A page of a camera-sized capture holds pictures of at most FIGURE_SIDE pixels a side, their means kept."""
    monkeypatch.setattr(report, "FIGURE_SIDE", 16)
    rng = np.random.default_rng(4)
    truth = rng.integers(0, 256, (40, 64, 3)).astype(np.uint8)
    guess = np.clip(truth.astype(int) + 30, 0, 255).astype(np.uint8)
    small = report.shrunk(truth)
    assert small.shape == (10, 16, 3) and abs(float(small.mean()) - float(truth.mean())) < 1.0
    assert report.error_map(truth, guess).shape == (10, 16, 3)
    assert [m.shape for m in report.latent_maps(random_model(20, size=(40, 64)))] == [(10, 16, 3)] * 9
    np.testing.assert_array_equal(report.shrunk(truth[:8, :16]), truth[:8, :16])  # small enough: as it is


def test_the_recommended_model_is_the_best_at_the_held_out_lights_ties_to_the_lighter() -> None:
    from core.quality.recommend import recommend

    held = {"val_lights": ["a.png", "b.png", "c.png"], "hsh3_val_psnr": 30.0}
    best = recommend({"teacher": {**held, "val_psnr": 31.0}, "student": {**held, "val_psnr": 32.5}})
    assert best["model"] == "student" and best["val_psnr"] == {"teacher": 31.0, "student": 32.5, "hsh3": 30.0}
    assert best["why"] == ("the student scores 32.50 dB at the 3 held-out lights (the teacher 31.00, HSH3 30.00): it "
                           "relights this capture best")
    assert recommend({"teacher": {**held, "val_psnr": 31.0}, "student": {**held, "val_psnr": 31.0}})["model"] == (
        "student")
    assert recommend({"teacher": {**held, "val_psnr": 30.0}, "student": {**held, "val_psnr": 29.0}})["model"] == (
        "teacher")
    assert recommend({"student": {**held, "val_psnr": 29.9}})["model"] == "hsh3"
    assert recommend({"student": {"seconds": 3.0}}) == {}


def test_the_report_marks_the_model_its_training_recommended(compared: Path) -> None:
    from core.quality.report import kind

    scores = {s["label"]: s for s in json.loads((compared / "scores.json").read_text())}
    assert "recommended" not in scores["neural"]["kind"]  # its training recommended HSH3
    hsh3 = models.load(compared / "hsh3")
    hsh3.training.update(role="hsh3", recommended="hsh3")
    assert kind(hsh3) == "HSH order 3 · recommended by its training"
