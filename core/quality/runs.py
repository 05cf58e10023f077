"""Scores of a training run of several scenes (``train A B C -o RUN``): every model of each scene on that scene's test
photos, the recommended ones marked, and means; as a text table (``eval``) or one HTML table (``report``)."""

from __future__ import annotations

import html
import json
from pathlib import Path

import numpy as np

from .. import memory
from ..capture import splits
from ..errors import RTIError
from ..formats import models
from .evaluate import evaluate

ROLES = ("student", "teacher", "hsh3")


def score(run: Path, scenes: list[tuple[str, Path]], device: str = "auto", quiet: bool = True) -> dict:
    """``{"run", "scenes": [{scene, model, recommended, psnr, ssim}], "mean": {label: {psnr, ssim, scenes}},
    "missing": [scene]}``: the means of each model and of the recommended ones (what the product shows); scenes the
    run did not train (failed, or not yet) are listed as missing."""
    if not (run / "runs.json").is_file():
        raise RTIError(f"{run}: several test scenes need a training run of several scenes (its runs.json)")
    rows, missing = [], []
    for name, source in scenes:
        folder = run / name
        if not (folder / "train.json").is_file():
            missing.append(name)  # failed or not trained yet: the table has the others
            continue
        recommended = json.loads((folder / "train.json").read_text()).get("recommended", {}).get("model")
        test = splits.load_part(source, "test", quiet=True, need=memory.Need("scoring", memory.SCORING_PER_PIXEL))
        for role in ROLES:
            if (folder / role / "info.json").is_file():
                result = evaluate(models.load(folder / role, codes="planes"), test, quiet=quiet, device=device)
                rows.append({"scene": name, "model": role, "recommended": role == recommended, "psnr": result.psnr,
                             "ssim": result.ssim})
    groups = {"recommended": [r for r in rows if r["recommended"]],
              **{role: [r for r in rows if r["model"] == role] for role in ROLES}}
    means = {label: {"psnr": float(np.mean([r["psnr"] for r in group])),
                     "ssim": float(np.mean([r["ssim"] for r in group])), "scenes": len(group)}
             for label, group in groups.items() if group}
    if not rows:
        raise RTIError(f"{run} holds none of these scenes trained ({', '.join(missing)})")
    return {"run": str(run), "scenes": rows, "mean": means, "missing": missing}


def table(scores: dict) -> str:
    """The scores as plain text: a row per scene and model, then the means."""
    rows, means = scores["scenes"], scores["mean"]
    width = max([len("scene")] + [len(r["scene"]) for r in rows])
    lines = [f"{'scene':<{width}}  {'model':<9} {'PSNR':>7} {'SSIM':>7}", "-" * (width + 27)]
    lines += [f"{r['scene']:<{width}}  {r['model'] + ('*' if r['recommended'] else ''):<9} {r['psnr']:7.2f} "
              f"{r['ssim']:7.4f}" for r in rows]
    lines.append("-" * (width + 27))
    lines += [f"{'mean, ' + label:<{width + 11}} {m['psnr']:7.2f} {m['ssim']:7.4f}  ({m['scenes']} scenes)"
              for label, m in means.items()]
    missing = f"\nnot trained: {', '.join(scores['missing'])}" if scores.get("missing") else ""
    return "\n".join(lines) + "\n* recommended by its training (best at its held-out lights)" + missing


def page(scores: dict, title: str, command: str) -> str:
    """One self-contained HTML page: a row per scene with each model's PSNR and SSIM, the recommended bold."""
    by_scene: dict[str, dict[str, dict]] = {}
    for r in scores["scenes"]:
        by_scene.setdefault(r["scene"], {})[r["model"]] = r
    roles = [role for role in ROLES if any(role in found for found in by_scene.values())]
    head = "<tr><th>scene</th>" + "".join(f"<th>{role} PSNR</th><th>SSIM</th>" for role in roles) + "</tr>"

    def cell(r: dict | None) -> str:
        if r is None:
            return "<td></td><td></td>"
        tag = ("<b>", "</b>") if r["recommended"] else ("", "")
        return f"<td>{tag[0]}{r['psnr']:.2f}{tag[1]}</td><td>{r['ssim']:.4f}</td>"

    body = "".join(f"<tr><td>{html.escape(scene)}</td>" + "".join(cell(found.get(role)) for role in roles) + "</tr>"
                   for scene, found in by_scene.items())
    means = "".join(f"<tr><td>mean, {html.escape(label)} ({m['scenes']} scenes)</td><td>{m['psnr']:.2f}</td>"
                    f"<td>{m['ssim']:.4f}</td></tr>" for label, m in scores["mean"].items())
    return (f"<!DOCTYPE html><html><head><meta charset=utf-8><title>{html.escape(title)}</title><style>"
            "body{font-family:sans-serif;margin:2em}td,th{padding:.2em .6em;text-align:right}"
            "td:first-child{text-align:left}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p>Each scene's models scored on its test photos (8-bit planes, as viewers "
            "show them); bold: the model its training recommends (best at its held-out lights).</p>"
            f"<table>{head}{body}</table><h2>Means</h2><table><tr><th></th><th>PSNR</th><th>SSIM</th></tr>{means}"
            f"</table><p><code>{html.escape(command)}</code></p></body></html>")
