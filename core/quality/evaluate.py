"""Relight a model at held-out lights and score it against the photos: per light and averaged."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field

import numpy as np
from tqdm import tqdm

from .. import relighting
from ..capture import lights as light_utils
from ..capture.mlic import MLIC
from ..errors import RTIError
from ..formats.models import Relightable, same_capture
from . import metrics


log = logging.getLogger(__name__)


@dataclass
class LightScore:
    """Scores of one test image; the masked ones only when a mask was given."""

    name: str
    light: list[float]
    elevation: float
    psnr: float
    ssim: float
    psnr_masked: float | None = None
    ssim_masked: float | None = None


@dataclass
class Evaluation:
    """Mean PSNR (dB) and SSIM over the test lights, and each light's scores."""

    psnr: float
    ssim: float
    psnr_masked: float | None
    ssim_masked: float | None
    per_light: list[LightScore] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


def evaluate(model: Relightable, test: MLIC, mask: np.ndarray | None = None, quiet: bool = True,
             device: str = "auto", with_ssim: bool = True) -> Evaluation:
    """Scores of ``model`` on every image of ``test`` (8-bit), masked too when ``mask`` or ``test.mask`` exists;
    relit and measured on ``device``. ``with_ssim=False`` measures PSNR alone (SSIM is NaN), in half the time."""
    height, width = common_area(model, test)
    if min(height, width) <= 2 * metrics.SSIM_BORDER:
        raise RTIError(f"test images must be at least {2 * metrics.SSIM_BORDER + 1} pixels wide and high for SSIM")
    mask = test.mask if mask is None else mask
    if mask is not None and mask.shape != (test.height, test.width):
        raise RTIError(f"mask is {mask.shape[1]}x{mask.shape[0]}, the test images are {test.width}x{test.height}")
    mask = None if mask is None else mask[:height, :width]
    elevations = light_utils.elevation(test.lights)
    scores = []
    masked: list[tuple[float, float]] = []
    relit = relighting.relighter(model, device)
    for i in tqdm(range(test.count), desc="evaluating", unit="light", disable=quiet or None, leave=False):
        truth = relit.beside(metrics.to_uint8(test.images[i][:height, :width]))  # moved to a GPU once, for both scores
        guess = relit.image(test.lights[i], uint8=True)[:height, :width]
        score = LightScore(
            test.names[i], [round(float(v), 6) for v in test.lights[i]], round(float(elevations[i]), 3),
            metrics.psnr(truth, guess), metrics.ssim(truth, guess) if with_ssim else float("nan"),
        )
        if mask is not None:
            score.psnr_masked = metrics.psnr(truth, guess, mask)
            score.ssim_masked = metrics.ssim(truth, guess, mask) if with_ssim else float("nan")
            masked.append((score.psnr_masked, score.ssim_masked))
        scores.append(score)
    return Evaluation(
        float(np.mean([s.psnr for s in scores])),
        float(np.mean([s.ssim for s in scores])),
        float(np.mean([m[0] for m in masked])) if masked else None,
        float(np.mean([m[1] for m in masked])) if masked else None,
        scores,
    )


def common_area(model: Relightable, test: MLIC) -> tuple[int, int]:
    """(height, width) of what is scored: the whole image, or, for a model a few pixels (under ``SIZE_SLACK``) wider,
    narrower, taller or shorter than the test images, their common area from the top left (a warning says so)."""
    if (model.height, model.width) == (test.height, test.width):
        return test.height, test.width
    sizes = f"model is {model.width}x{model.height} but the test images are {test.width}x{test.height}"
    if not same_capture(model, test.width, test.height):
        raise RTIError(sizes)
    height, width = min(model.height, test.height), min(model.width, test.width)
    log.warning(f"{sizes}: scoring their common {width}x{height} area, from the top left")
    return height, width


def table(evaluation: Evaluation) -> str:
    """A plain-text table: one row per test light, then the means."""
    masked = evaluation.psnr_masked is not None
    head = f"{'image':<24} {'elev':>6} {'PSNR':>7} {'SSIM':>7}" + (f" {'PSNR(m)':>8} {'SSIM(m)':>8}" if masked else "")
    rows = [head, "-" * len(head)]
    for s in evaluation.per_light:
        row = f"{s.name:<24} {s.elevation:6.1f} {s.psnr:7.2f} {s.ssim:7.4f}"
        rows.append(row + (f" {s.psnr_masked:8.2f} {s.ssim_masked:8.4f}" if masked else ""))
    rows.append("-" * len(head))
    mean = f"{'mean':<24} {'':>6} {evaluation.psnr:7.2f} {evaluation.ssim:7.4f}"
    rows.append(mean + (f" {evaluation.psnr_masked:8.2f} {evaluation.ssim_masked:8.4f}" if masked else ""))
    return "\n".join(rows)
