"""build.py's own helpers (standard library only)."""

import argparse
import os

import pytest

import build
from synth import suites
from synth.cli import build_parser, spec_from


def test_demo_summary_tabulates_what_the_demo_measured():
    results = [{"label": "student", "kind": "student (distilled), 20-20", "psnr": 35.244, "ssim": 0.96761,
                "coefficients": 9, "decoder_parameters": 723, "seconds": 139.04,
                "held_out_lights": "33.16 (HSH3 29.36)"},
               {"label": "hsh3", "kind": "HSH order 3", "psnr": 30.2, "ssim": 0.9298, "coefficients": 27,
                "decoder_parameters": 0, "seconds": 0.02, "held_out_lights": ""}]
    summary = build.demo_summary(results, [("render", 21.2), ("teacher + student", 192.4)], 256)
    lines = summary.splitlines()
    assert f"{os.cpu_count()} cores" in lines[0] and "256×256" in lines[0]
    assert "214 s in all: render 21 s, teacher + student 192 s." in lines[0]
    assert lines[-2] == ("| student: student (distilled), 20-20 | 35.24 | 0.9676 | 9 | 723 | 139.0 s | "
                         "33.16 (HSH3 29.36) |")
    assert lines[-1] == "| hsh3: HSH order 3 | 30.20 | 0.9298 | 27 | – | < 0.1 s |  |"


@pytest.mark.parametrize("codes, runs, exit_code", [([0, 0, 0, 0], 4, None), ([0, 0, 0, -11, 0], 5, None),
                                                     ([0, 0, 0, -11, -11], 5, -11), ([0, 0, 0, 1], 4, 1),
                                                     ([0, 0, 1], 3, 1)])
def test_the_blender_42_tests_run_again_after_a_crash_only(monkeypatch, codes, runs, exit_code):
    """mypy, pytest, core's tests on numpy 2, then the 4.2 pass: one more 4.2 pass when a signal killed it, none
    after a failure."""
    calls = []
    monkeypatch.setattr(build, "ensure_venv", lambda *args, **kwargs: None)
    monkeypatch.setattr(build, "call", lambda *cmd: calls.append(cmd) or codes[len(calls) - 1])
    if exit_code is None:
        build.cmd_test(argparse.Namespace(pytest_args=[]))
    else:
        with pytest.raises(SystemExit) as stopped:
            build.cmd_test(argparse.Namespace(pytest_args=[]))
        assert stopped.value.code == exit_code
    assert len(calls) == runs and all("tests/test_addon_views.py" in map(str, c) for c in calls[3:])
    assert ".venv-numpy2" in str(calls[2][0])


def test_the_demo_renders_a_scene_of_the_synthrti_suite() -> None:
    demo = spec_from(build_parser().parse_args(["--out", "x", *build.DEMO_SCENE]))
    scene = next(s for s in suites.scenes("synthrti", demo) if s.path == "Multi/Object2/material1")
    assert scene.spec == demo


def test_pin_names_are_the_pinned_projects_normalised():
    text = "# numpy==0 is a comment\nJinja2==3.1.6\ntyping_extensions==4.16.0\nnumpy==2.4.6; python_version >= '3.13'\n" \
           "-r other.txt\nzope.interface==7.0\n"
    assert build.pin_names(text) == ["jinja2", "typing-extensions", "numpy", "zope-interface"]
