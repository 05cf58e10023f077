"""build.py's own helpers (standard library only)."""

import os

import build


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
