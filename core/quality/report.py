"""A comparison of models of one capture on its held-out lights, as one self-contained HTML page.

The page holds a results table (PSNR, SSIM, coefficients per pixel, decoder parameters, training time, and for
neural models the check their training made at held-out training lights beside HSH3, with its warning), each
model's PSNR per test light against the light's elevation, relit images beside the photos with error heat maps for a
few test lights, and a neural model's latent planes. Neural models are scored from their 8-bit planes, as viewers
show them (the lossless score is in the table too). Images and the plot are embedded, so the file can be mailed.
"""

from __future__ import annotations

import base64
import datetime
import html
import io
from dataclasses import dataclass
from pathlib import Path

import cv2
import matplotlib
import numpy as np
from matplotlib.figure import Figure

from .. import relighting
from ..atomic import output_file
from ..capture import images
from ..capture.mlic import MLIC
from ..classic.fitting import coefficients_per_pixel
from ..classic.interpolated import InterpolatedRTI
from ..errors import RTIError
from ..formats import models
from ..formats.models import Model
from ..neural.model import CODE_SIZE, NeuralRTI
from . import metrics
from .evaluate import Evaluation, evaluate

ERROR_SCALE = 0.1
"""Mean absolute error (in [0, 1] units) shown as the hottest colour of the heat maps."""

GRID_LIGHTS = 4
"""Test lights shown in the image grid, spread from the lowest to the highest."""
FIGURE_SIDE = 1024
"""Pictures in the page have at most this many pixels on their longer side (a 50 MP capture's are averaged down),
so that a report stays a few megabytes whatever the capture's size."""

CMAP_ERROR, CMAP_LATENT = "inferno", "gray"


@dataclass
class Entry:
    """One model of the comparison: its scores, what the page says of it and its pictures, all made when it is
    scored, so that the models are never held together (a camera-sized capture's four would not fit in memory)."""

    label: str
    path: Path
    scores: Evaluation
    kind: str
    coefficients: int
    """Numbers stored per pixel."""
    decoder_parameters: int
    training: dict
    warning: str | None
    relit: list[str]
    """The page's figures of the model's image at each ``grid_lights`` test light."""
    errors: list[str]
    """The page's figures of their error heat maps."""
    latents: list[np.ndarray] | None = None
    """A neural model's ``latent_maps``."""
    lossless: Evaluation | None = None
    """Neural models: the scores of the float codes (``scores`` are from the 8-bit planes)."""

    @property
    def seconds(self) -> float | None:
        value = self.training.get("seconds")
        return None if value is None else float(value)

    @property
    def device(self) -> str:
        return str(self.training.get("device", ""))

    @property
    def held_out(self) -> str:
        """A neural model's PSNR at the lights held out of its training, and HSH3's there."""
        t = self.training
        if "val_lights" not in t:
            return ""
        return f"{t['val_psnr']:.2f} (HSH3 {t['hsh3_val_psnr']:.2f})"


def kind(model: Model) -> str:
    """What the model is, in the table's words; "recommended" when its training chose it (``quality.recommend``)."""
    role = model.training.get("role")
    chosen = role is not None and model.training.get("recommended") == role
    return _kind(model) + (" · recommended by its training" if chosen else "")


def _kind(model: Model) -> str:
    if isinstance(model, InterpolatedRTI):
        return f"{'RBF' if model.method == 'rbf' else 'bilinear'} (relight), {len(model.planes)} planes"
    if isinstance(model, NeuralRTI):
        role = model.training.get("role", "neural")
        trained = model.training.get("trained")
        decoder = f"decoder {model.hidden}-{model.hidden}"
        return f"{role} ({trained}), {decoder}" if trained else f"neural, {decoder}"
    names = {"ptm": "PTM (RGB)", "lptm": "PTM (LRGB)", "hsh2": "HSH order 2", "hsh3": "HSH order 3"}
    return names.get(model.method, model.method.upper())


def coefficients(model: Model) -> int:
    """Numbers stored per pixel."""
    if isinstance(model, NeuralRTI):
        return CODE_SIZE
    return len(model.planes) if isinstance(model, InterpolatedRTI) else coefficients_per_pixel(model.method)


def score(label: str, path: Path | str, test: MLIC, device: str = "auto") -> Entry:
    """Load the model at ``path``, score it on ``test`` (a neural one from its 8-bit planes and losslessly) and make
    its pictures."""
    path = Path(path)
    model = models.load(path)
    lossless = None
    if isinstance(model, NeuralRTI) and (path / "codes.npy").is_file():
        lossless = evaluate(model, test, device=device, with_ssim=False)  # its PSNR is all the page shows
        model = models.load(path, codes="planes")
    scores = evaluate(model, test, device=device)
    relighter = relighting.relighter(model, device)
    relit, errors = [], []
    height, width = min(model.height, test.height), min(model.width, test.width)  # as scored (evaluate checks)
    for index in grid_lights(test):
        truth = metrics.to_uint8(test.images[index][:height, :width])
        guess = relighter.array(test.lights[index], uint8=True)[:height, :width]
        relit.append(_figure(guess, f"{label} · {metrics.psnr(truth, guess):.2f} dB"))
        errors.append(_figure(error_map(truth, guess), f"{label} error"))
    return Entry(label, path, scores, kind(model),
                 coefficients(model),
                 model.parameters if isinstance(model, NeuralRTI) else 0, model.training,
                 model.below_hsh3() if isinstance(model, NeuralRTI) else None, relit, errors,
                 latent_maps(model) if isinstance(model, NeuralRTI) else None, lossless)


def to_json(entries: list[Entry]) -> list[dict]:
    """The scores of every model, with its per-light scores."""
    return [{"label": e.label, "model": str(e.path), "kind": e.kind, "psnr": e.scores.psnr, "ssim": e.scores.ssim,
             "lossless_psnr": None if e.lossless is None else e.lossless.psnr, "coefficients": e.coefficients,
             "decoder_parameters": e.decoder_parameters, "seconds": e.seconds, "device": e.device,
             "held_out_lights": e.held_out, "warning": e.warning,
             "per_light": e.scores.to_json()["per_light"]} for e in entries]


def table(entries: list[Entry]) -> str:
    """The results as plain text, for the terminal."""
    lines = [f"{'model':<10} {'PSNR dB':>8} {'SSIM':>7} {'coef/px':>8} {'decoder':>8} {'time s':>8}  kind"]
    for e in entries:
        seconds = _seconds(e)
        lines.append(f"{e.label:<10} {e.scores.psnr:>8.2f} {e.scores.ssim:>7.4f} {e.coefficients:>8} "
                     f"{e.decoder_parameters:>8} {seconds:>8}  {e.kind}")
    lines += [f"warning: {e.label}: {e.warning}" for e in entries if e.warning]
    return "\n".join(lines)


def grid_lights(test: MLIC, count: int = GRID_LIGHTS) -> list[int]:
    """Indices of ``count`` test lights from the lowest elevation to the highest: one per elevation, evenly spread
    over the distinct elevations (test lights often come in rings), or evenly over all lights when there are fewer
    elevations than ``count``."""
    z = test.lights[:, 2].round(3)
    levels = np.unique(z)
    if len(levels) >= count:
        chosen = levels[np.linspace(0, len(levels) - 1, count).round().astype(int)]
        return [int(np.flatnonzero(z == level)[0]) for level in chosen]
    order = np.argsort(z, kind="stable")
    picks = np.linspace(0, len(order) - 1, min(count, len(order))).round().astype(int)
    return [int(order[p]) for p in dict.fromkeys(picks)]


def error_map(truth: np.ndarray, guess: np.ndarray) -> np.ndarray:
    """8-bit RGB heat map of the mean absolute error over the channels: 0 black, ``ERROR_SCALE`` and more pale
    yellow (averaged down to the page's picture size)."""
    error = np.abs(truth.astype(np.float32) - guess.astype(np.float32)).mean(axis=2) / 255.0
    return _colour(np.clip(shrunk(error) / ERROR_SCALE, 0.0, 1.0), CMAP_ERROR)


def shrunk(image: np.ndarray) -> np.ndarray:
    """An image averaged down to at most ``FIGURE_SIDE`` pixels on its longer side (smaller ones as they are)."""
    h, w = image.shape[:2]
    factor = FIGURE_SIDE / max(h, w)
    if factor >= 1:
        return image
    return cv2.resize(image, (max(1, round(w * factor)), max(1, round(h * factor))), interpolation=cv2.INTER_AREA)


def latent_maps(model: NeuralRTI) -> list[np.ndarray]:
    """The codes' nine channels as 8-bit grey images, each stretched over its own range."""
    maps = []
    for k in range(model.codes.shape[2]):
        channel = shrunk(model.codes[..., k])
        lo, hi = float(channel.min()), float(channel.max())
        maps.append(_colour((channel - lo) / max(hi - lo, 1e-12), CMAP_LATENT))
    return maps


def write(entries: list[Entry], test: MLIC, out: Path | str, title: str = "RTI model comparison",
          command: str = "", force: bool = False) -> None:
    """Write the report page to ``out``."""
    if not entries:
        raise RTIError("give at least one model to report on")
    page = _page(entries, test, title, command)
    with output_file(out, force=force) as tmp:
        tmp.write_text(page, encoding="utf-8")


def _page(entries: list[Entry], test: MLIC, title: str, command: str) -> str:
    neural = next((e for e in entries if e.latents is not None), None)
    sections = [
        f"<h1>{_text(title)}</h1>",
        f"<p class=note>{test.width}×{test.height} pixels, {test.count} held-out test lights from "
        f"<code>{_text(str(test.source))}</code>; written {datetime.datetime.now():%Y-%m-%d %H:%M}. Neural models "
        "are scored from their 8-bit planes, as viewers show them; PSNR and SSIM on 8-bit images.</p>",
        "<h2>Results</h2>", _results(entries),
        "<h2>PSNR against light elevation</h2>", _plot(entries),
        "<h2>Relit images and errors</h2>", _grid(entries, test),
    ]
    if neural is not None:
        sections += [f"<h2>Latent planes of {_text(neural.label)}</h2>", _latents(neural)]
    if command:
        sections += ["<h2>How this was made</h2>", f"<pre>{_text(command)}</pre>"]
    return (f"<!doctype html>\n<html lang=en><head><meta charset=utf-8><title>{_text(title)}</title>"
            f"<style>{STYLE}</style></head><body>\n" + "\n".join(sections) + "\n</body></html>\n")


def _results(entries: list[Entry]) -> str:
    best = max(e.scores.psnr for e in entries)
    rows = []
    for e in entries:
        lossless = "" if e.lossless is None else f"{e.lossless.psnr:.2f}"
        seconds = _seconds(e)
        psnr = f"<b>{e.scores.psnr:.2f}</b>" if e.scores.psnr == best else f"{e.scores.psnr:.2f}"
        rows.append(f"<tr><td>{_text(e.label)}</td><td>{_text(e.kind)}</td><td>{psnr}</td>"
                    f"<td>{e.scores.ssim:.4f}</td><td>{lossless}</td><td>{e.coefficients}</td>"
                    f"<td>{e.decoder_parameters or ''}</td><td>{seconds}</td><td>{_text(e.device)}</td>"
                    f"<td>{e.held_out}</td></tr>")
    head = ("<tr><th>model</th><th>kind</th><th>PSNR (dB)</th><th>SSIM</th><th>PSNR, float codes</th>"
            "<th>coefficients per pixel</th><th>decoder parameters</th><th>training (s)</th><th>device</th>"
            "<th>PSNR at held-out training lights (dB)</th></tr>")
    warnings = "".join(f"<p class=warning>Warning: {_text(e.label)}: {_text(e.warning)}.</p>"
                       for e in entries if e.warning)
    return f"<table>{head}{''.join(rows)}</table>{warnings}"


def _plot(entries: list[Entry]) -> str:
    figure = Figure(figsize=(8, 4))
    axes = figure.add_subplot()
    for e in entries:
        elevations = np.array([s.elevation for s in e.scores.per_light])
        psnrs = np.array([s.psnr for s in e.scores.per_light])
        levels = np.unique(elevations.round(1))  # test lights often share elevations: one mean per level
        means = [psnrs[elevations.round(1) == level].mean() for level in levels]
        line, = axes.plot(levels, means, linewidth=1.2, label=e.label)
        axes.scatter(elevations, psnrs, s=9, color=line.get_color(), alpha=0.6)
    axes.set_xlabel("light elevation (degrees)")
    axes.set_ylabel("PSNR (dB): each light, and the mean per elevation")
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small", ncol=2)
    figure.tight_layout()
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return svg[svg.index("<svg"):]


def _grid(entries: list[Entry], test: MLIC) -> str:
    rows = []
    for row, index in enumerate(grid_lights(test)):
        light = test.lights[index]
        truth = metrics.to_uint8(test.images[index])
        cells = [_figure(truth, f"photo · elevation {np.degrees(np.arcsin(np.clip(light[2], -1, 1))):.0f}°")]
        cells += [e.relit[row] for e in entries]
        errors = ["<figure></figure>"] + [e.errors[row] for e in entries]
        rows.append(f"<div class=row>{''.join(cells)}</div><div class=row>{''.join(errors)}</div>")
    legend = (f"<p class=note>Heat maps: mean absolute error over R, G, B, from 0 (black) to {ERROR_SCALE:g} of the "
              f"full range and more (pale yellow), colour map {CMAP_ERROR}.</p>")
    return legend + "".join(rows)


def _latents(entry: Entry) -> str:
    assert entry.latents is not None
    cells = [_figure(image, f"code {k + 1}") for k, image in enumerate(entry.latents)]
    return ("<p class=note>Each of the nine numbers a pixel is compressed to, stretched over its own range.</p>"
            f"<div class='row wrap'>{''.join(cells)}</div>")


def _seconds(entry: Entry) -> str:
    if entry.seconds is None:
        return ""
    return f"{entry.seconds:.1f}" if entry.seconds >= 0.1 else "< 0.1"


def _figure(image: np.ndarray, caption: str) -> str:
    data = base64.b64encode(images.encode_image(shrunk(image), ".png")).decode("ascii")
    return f"<figure><img src='data:image/png;base64,{data}' alt=''><figcaption>{_text(caption)}</figcaption></figure>"


def _colour(values: np.ndarray, cmap: str) -> np.ndarray:
    rgba = matplotlib.colormaps[cmap](values)
    return np.rint(rgba[..., :3] * 255.0).astype(np.uint8)


def _text(value: str) -> str:
    return html.escape(value, quote=True)


STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 1500px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.note { color: #555; }
.warning { color: #a30; font-weight: 600; }
table { border-collapse: collapse; } th, td { padding: 0.3em 0.7em; border-bottom: 1px solid #e3e3e3; }
td:nth-child(n+3) { text-align: right; font-variant-numeric: tabular-nums; }
th { text-align: left; background: #f4f4f4; }
.row { display: flex; gap: 6px; margin-bottom: 4px; flex-wrap: nowrap; overflow-x: auto; }
.row.wrap { flex-wrap: wrap; }
figure { margin: 0; width: 160px; flex: none; }
figure img { width: 160px; image-rendering: pixelated; display: block; }
figcaption { font-size: 12px; color: #444; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; }
"""
