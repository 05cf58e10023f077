"""Light directions from reflective spheres in the photos (highlight RTI), as RTIBuilder and relight read them.

Assumed: an orthographic camera looking down −z (the lights' frame: x right, y up, z toward the camera), so the view
direction is +z everywhere, and a distant light. The brightest spot of a glossy sphere is where its normal n is
halfway between the light and the view, so the light is the view ray reflected about n: l = 2(n·v)n − v. Pixel
coordinates are continuous, x right and y down, pixel (i, j) covering [i, i+1) × [j, j+1).

A highlight is the connected region around a sphere's brightest pixel whose brightness is within the top
``PEAK_SHARE`` of the range between the sphere's median and its peak, near that pixel (``WINDOW``); its centre is the
brightness-weighted centroid of that region (sub-pixel), or the middle of the saturated blob when there is one of
``SATURATED_BLOB`` pixels or more. Its confidence, in [0, 1], is the peak's contrast over
the sphere times how much stronger it is than any other such region there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import RTIError
from . import images, mlic

try:
    import cv2
except ImportError:  # Blender's Python
    cv2 = None  # type: ignore[assignment]

PEAK_SHARE = 0.75
WINDOW = 0.1
"""The centroid counts only pixels within this fraction of the radius of the brightest spot (beyond the radius of a
saturated blob): a chrome sphere mirrors bright surroundings that can touch the highlight."""
MIN_CONTRAST = 0.15
"""A peak less than this (in [0, 1] brightness) above the sphere's median is no highlight."""
AMBIGUOUS = 0.9
"""A second region at least this strong, relative to the brightest, makes the highlight ambiguous."""
SATURATED_BLOB = 5
"""A spot with at least this many saturated pixels is placed by its saturated blob alone (a chrome sphere mirrors
bright surroundings next to it that a brightness-weighted centroid would take in)."""
OVEREXPOSED = 0.3
"""A sphere with more than this share of its disk saturated is over-exposed: its highlight cannot be placed."""
RIM = 0.97
"""Only the disk within this fraction of the radius is searched: the rim blends with the background."""
OUTLINE_SHARE = 0.5
"""Along a ray, the outermost change of brightness at least this share of the strongest is the outline: inside it,
a chrome sphere mirrors the edges of its surroundings."""
OUTLIER_DEGREES = 5.0
"""A sphere whose direction is this far from the median of the others' in an image is reported and left out."""


@dataclass(frozen=True)
class Sphere:
    """A sphere's outline in the image: centre (x right, y down) and radius, in pixels."""

    x: float
    y: float
    r: float

    @classmethod
    def parse(cls, text: str) -> Sphere:
        """``X,Y,R`` as given on the command line."""
        try:
            x, y, r = (float(v) for v in text.split(","))
        except ValueError:
            raise RTIError(f"--sphere {text!r}: expected X,Y,R (centre and radius in pixels)") from None
        if not (np.isfinite([x, y, r]).all() and r > 2):
            raise RTIError(f"--sphere {text!r}: the radius must be more than 2 pixels and every value finite")
        return cls(x, y, r)

    def check_inside(self, width: int, height: int) -> None:
        if self.x - self.r < 0 or self.y - self.r < 0 or self.x + self.r > width or self.y + self.r > height:
            raise RTIError(f"sphere at ({self.x:g}, {self.y:g}) of radius {self.r:g} does not fit in the "
                           f"{width}×{height} image")


@dataclass
class Highlight:
    """Where the light shows on a sphere (pixels, x right, y down) and how sure that is (0-1)."""

    x: float
    y: float
    confidence: float


def brightness(photos: np.ndarray) -> np.ndarray:
    """Luminance in [0, 1] of 8- or 16-bit RGB images (..., H, W, 3); given luminance (float) comes back as it is,
    so that callers working on many spheres or steps compute it once."""
    if photos.dtype.kind == "f":
        return photos
    return (photos.astype(np.float32) / np.iinfo(photos.dtype).max) @ images.LUMA


def find_highlight(luma: np.ndarray, sphere: Sphere, name: str) -> Highlight:
    """The highlight on ``sphere`` in one image's brightness (H, W); an ``RTIError`` naming ``name`` when there is
    none, several of equal strength, or the sphere is over-exposed."""
    if cv2 is None:
        raise RTIError("finding highlights needs OpenCV (opencv-python-headless), which this Python lacks")
    x0, y0 = max(int(sphere.x - sphere.r), 0), max(int(sphere.y - sphere.r), 0)
    x1 = min(int(np.ceil(sphere.x + sphere.r)), luma.shape[1])
    y1 = min(int(np.ceil(sphere.y + sphere.r)), luma.shape[0])
    patch = luma[y0:y1, x0:x1].astype(np.float64)
    ys, xs = np.mgrid[y0:y1, x0:x1] + 0.5
    disk = (xs - sphere.x) ** 2 + (ys - sphere.y) ** 2 <= (RIM * sphere.r) ** 2
    if disk.sum() < 8:
        raise RTIError(f"{name}: the sphere is too small to find a highlight on")
    values = patch[disk]
    if (values >= 1.0).mean() > OVEREXPOSED:
        raise RTIError(f"{name}: the sphere is over-exposed ({(values >= 1.0).mean():.0%} of it saturated)")
    base, peak = float(np.median(values)), float(values.max())
    if peak - base < MIN_CONTRAST:
        raise RTIError(f"{name}: no highlight on the sphere at ({sphere.x:g}, {sphere.y:g})")
    saturated = disk & (patch >= 1.0)
    blob = int(saturated.sum()) >= SATURATED_BLOB
    threshold = 1.0 - 1e-6 if blob else peak - PEAK_SHARE * (peak - base)
    count, labels = cv2.connectedComponents((disk & (patch >= threshold)).astype(np.uint8), connectivity=8)
    strengths = [float(patch[labels == k].max()) - base for k in range(1, count)]
    best = int(np.argmax(strengths))
    others = sorted(strengths[:best] + strengths[best + 1:], reverse=True)
    second = others[0] / strengths[best] if others else 0.0
    if second >= AMBIGUOUS:
        raise RTIError(f"{name}: several highlights of equal strength on the sphere at ({sphere.x:g}, {sphere.y:g})")
    region = labels == best + 1
    top = region & (patch >= float(patch[region].max()) - 1e-3)  # the brightest pixel, or the saturated blob
    cx, cy = xs[top].mean(), ys[top].mean()
    reach = WINDOW * sphere.r + np.sqrt(top.sum() / np.pi)
    region &= (xs - cx) ** 2 + (ys - cy) ** 2 <= reach**2
    weights = np.ones(region.sum()) if blob else patch[region] - threshold + 1e-6
    return Highlight(float((xs[region] * weights).sum() / weights.sum()),
                     float((ys[region] * weights).sum() / weights.sum()),
                     float(np.clip(peak - base, 0.0, 1.0) * (1.0 - second)))


def direction(highlight: Highlight, sphere: Sphere) -> np.ndarray:
    """The light direction (x right, y up, z to the camera) that puts a highlight there: the view ray reflected
    about the sphere's normal."""
    nx, ny = (highlight.x - sphere.x) / sphere.r, -(highlight.y - sphere.y) / sphere.r
    nz = np.sqrt(max(0.0, 1.0 - nx * nx - ny * ny))
    n = np.array([nx, ny, nz]) / max(np.sqrt(nx * nx + ny * ny + nz * nz), 1e-12)
    light = 2.0 * n[2] * n - np.array([0.0, 0.0, 1.0])
    return light / np.linalg.norm(light)


def detect(stack: np.ndarray) -> list[Sphere]:
    """Spheres found in an image stack (N, H, W, 3), or its :func:`brightness`: circles in the stack's median image
    that hold a moving highlight (the brightest pixel of the circle changes place across the images). Largest
    first."""
    if cv2 is None:
        raise RTIError("finding spheres needs OpenCV (opencv-python-headless), which this Python lacks")
    lumas = brightness(stack)
    median = np.median(lumas, axis=0)
    gray = np.clip(median * 255.0, 0, 255).astype(np.uint8)
    h, w = gray.shape
    circles = cv2.HoughCircles(cv2.GaussianBlur(gray, (5, 5), 1.2), cv2.HOUGH_GRADIENT, dp=1,
                               minDist=max(h, w) / 10, param1=80, param2=20, minRadius=max(6, min(h, w) // 40),
                               maxRadius=min(h, w) // 3)
    found = []
    for x, y, r in ([] if circles is None else circles[0]):
        sphere = refine(lumas, Sphere(float(x) + 0.5, float(y) + 0.5, float(r)))  # OpenCV puts pixel centres at i
        try:
            sphere.check_inside(w, h)
        except RTIError:
            continue
        peaks = []
        for luma in lumas:
            try:
                peaks.append(find_highlight(luma, sphere, ""))
            except RTIError:
                continue
        if len(peaks) >= max(3, len(lumas) // 2) and np.ptp([p.x for p in peaks]) + np.ptp([p.y for p in peaks]) > r:
            found.append(sphere)
    found.sort(key=lambda s: -s.r)
    if not found:
        raise RTIError("no sphere found: give it with --sphere X,Y,R (centre and radius in pixels)")
    return found




@dataclass
class Calibration:
    """The light of every usable image, its confidence, and what was left out or doubted, one line each."""

    names: list[str]
    lights: np.ndarray
    confidence: np.ndarray
    highlights: list[list[Highlight | None]]
    notes: list[str]


def calibrate(names: list[str], stack: np.ndarray, spheres: list[Sphere], drop_bad: bool = False) -> Calibration:
    """Light directions of the images (N, H, W, 3), or their :func:`brightness`, from ``spheres``: averaged over the
    spheres, an outlying sphere reported and left out; an image with no usable highlight on any sphere is an error
    naming it, or left out and reported with ``drop_bad``."""
    h, w = stack.shape[1:3]
    for sphere in spheres:
        sphere.check_inside(w, h)
    kept, lights, confidence, found, notes = [], [], [], [], []
    for name, image in zip(names, stack):
        luma = brightness(image)  # no copy when the stack is brightness already
        per_sphere: list[Highlight | None] = []
        problems = []
        for sphere in spheres:
            try:
                per_sphere.append(find_highlight(luma, sphere, name))
            except RTIError as exc:
                per_sphere.append(None)
                problems.append(str(exc))
        usable = [(h_, s) for h_, s in zip(per_sphere, spheres) if h_ is not None]
        if not usable:
            if not drop_bad:
                raise RTIError(f"{problems[0]} (--drop-bad leaves such images out)")
            notes.append(f"left out {problems[0]}")
            found.append(per_sphere)
            continue
        directions = np.array([direction(h_, s) for h_, s in usable])
        weights = np.array([h_.confidence for h_, _ in usable])
        if len(directions) > 2:
            centre = np.median(directions, axis=0)
            centre /= np.linalg.norm(centre)
            off = np.degrees(np.arccos(np.clip(directions @ centre, -1.0, 1.0)))
            for k in np.flatnonzero(off > OUTLIER_DEGREES):
                notes.append(f"{name}: the sphere at ({usable[k][1].x:g}, {usable[k][1].y:g}) is {off[k]:.1f}° "
                             "from the others: left out")
            directions, weights = directions[off <= OUTLIER_DEGREES], weights[off <= OUTLIER_DEGREES]
        elif len(directions) == 2:
            apart = np.degrees(np.arccos(np.clip(directions[0] @ directions[1], -1.0, 1.0)))
            if apart > OUTLIER_DEGREES:
                notes.append(f"{name}: its two spheres disagree by {apart:.1f}°")
        mean = (directions * np.maximum(weights, 1e-6)[:, None]).sum(axis=0)
        kept.append(name)
        lights.append(mean / np.linalg.norm(mean))
        confidence.append(float(weights.mean()))
        found.append(per_sphere)
    if not kept:
        raise RTIError("no image has a usable highlight")
    return Calibration(kept, np.array(lights), np.array(confidence), found, notes)


def refine(lumas: np.ndarray, sphere: Sphere, rays: int = 180) -> Sphere:
    """The circle of the sphere's outline: along each of ``rays`` rays from the centre, the sub-pixel place between
    0.7 and 1.3 radii of the outermost strong change of brightness (``OUTLINE_SHARE``), averaged over the images
    (N, H, W) (the outline is an edge under every light; a glossy rim's reflections move), then the circle most of
    those points agree with (:func:`_consensus`). Twice, from the given circle (Hough's are whole-pixel and often a
    pixel small)."""
    h, w = lumas.shape[1:]
    for _ in range(2):
        angles = np.linspace(0.0, 2 * np.pi, rays, endpoint=False)
        radii = np.arange(0.7, 1.3, 0.02) * sphere.r
        px = sphere.x + np.cos(angles)[:, None] * radii[None, :] - 0.5  # in index coordinates
        py = sphere.y + np.sin(angles)[:, None] * radii[None, :] - 0.5
        inside = (px >= 0) & (py >= 0) & (px <= w - 1) & (py <= h - 1)
        x0, y0 = np.clip(np.floor(px).astype(int), 0, w - 2), np.clip(np.floor(py).astype(int), 0, h - 2)
        fx, fy = np.clip(px - x0, 0, 1), np.clip(py - y0, 0, 1)
        profile = (lumas[:, y0, x0] * (1 - fx) * (1 - fy) + lumas[:, y0, x0 + 1] * fx * (1 - fy)
                   + lumas[:, y0 + 1, x0] * (1 - fx) * fy + lumas[:, y0 + 1, x0 + 1] * fx * fy)
        slope = np.abs(np.diff(profile, axis=2)).mean(axis=0)
        slope[~(inside[:, 1:] & inside[:, :-1])] = 0.0
        strong = slope >= OUTLINE_SHARE * slope.max(axis=1, keepdims=True)
        k = np.clip(slope.shape[1] - 1 - np.argmax(strong[:, ::-1], axis=1), 1, slope.shape[1] - 2)  # outermost
        rows = np.arange(rays)
        left, mid, right = slope[rows, k - 1], slope[rows, k], slope[rows, k + 1]
        shift = np.where(left - 2 * mid + right < 0, 0.5 * (left - right) / (left - 2 * mid + right), 0.0)
        step = radii[1] - radii[0]
        edge = radii[0] + (k + 0.5 + np.clip(shift, -0.5, 0.5)) * step
        keep = mid > 0.25 * np.median(mid)
        ex, ey = sphere.x + np.cos(angles) * edge, sphere.y + np.sin(angles) * edge
        sphere = _consensus(ex[keep], ey[keep])
    return sphere


def _consensus(x: np.ndarray, y: np.ndarray, tries: int = 300, tolerance: float = 0.5) -> Sphere:
    """The circle most outline points agree with (within ``tolerance`` pixels; RANSAC from a fixed seed), refitted by
    least squares to them: along part of its rim a chrome sphere mirrors the surface it rests on, as bright as the
    surface itself, and the outline points there are wrong."""
    rng = np.random.default_rng(0)
    best = np.ones(len(x), dtype=bool)
    most = 0
    for _ in range(tries):
        pick = rng.choice(len(x), 3, replace=False)
        try:
            circle = _circle(x[pick], y[pick])
        except np.linalg.LinAlgError:
            continue
        agree = np.abs(np.hypot(x - circle.x, y - circle.y) - circle.r) <= tolerance
        if agree.sum() > most:
            best, most = agree, int(agree.sum())
    return _circle(x[best], y[best])


def _circle(x: np.ndarray, y: np.ndarray) -> Sphere:
    """The least-squares circle through points (x² + y² + dx + ey + f = 0)."""
    d, e, f = np.linalg.lstsq(np.stack([x, y, np.ones(len(x))], axis=1), -(x**2 + y**2), rcond=None)[0]
    cx, cy = -d / 2, -e / 2
    return Sphere(float(cx), float(cy), float(np.sqrt(max(cx * cx + cy * cy - f, 1e-6))))


def read_folder(folder: Path) -> tuple[list[str], np.ndarray]:
    """The photos of a folder (JPEG, PNG, TIFF; not mask.png), sorted by name, as one stack (:func:`mlic.read_stack`:
    images of another size or depth than the first are an error naming them)."""
    if not folder.is_dir():
        raise RTIError(f"{folder}: not a folder of photos")
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in images.READABLE and p.name != mlic.MASK_NAME)
    if not files:
        raise RTIError(f"{folder}: no JPEG, PNG or TIFF photos")
    return [f.name for f in files], mlic.read_stack(files)


def parse_crop(text: str) -> tuple[int, int, int, int]:
    try:
        x, y, w, h = (int(v) for v in text.split(","))
    except ValueError:
        raise RTIError(f"--crop {text!r}: expected X,Y,W,H in whole pixels") from None
    if w <= 0 or h <= 0 or x < 0 or y < 0:
        raise RTIError(f"--crop {text!r}: the rectangle must lie in the image and have a size")
    return x, y, w, h


def detect_in(stack: np.ndarray, crop: tuple[int, int, int, int] | None = None) -> list[Sphere]:
    """:func:`detect` over the whole images or inside ``crop`` (x, y, width, height), in image coordinates."""
    if crop is None:
        return detect(stack)
    x, y, w, h = crop
    if x + w > stack.shape[2] or y + h > stack.shape[1]:
        raise RTIError(f"--crop {x},{y},{w},{h} runs past the {stack.shape[2]}×{stack.shape[1]} images")
    return [Sphere(s.x + x, s.y + y, s.r) for s in detect(stack[:, y:y + h, x:x + w])]


def preview(names: list[str], stack: np.ndarray, spheres: list[Sphere], result: Calibration) -> np.ndarray:
    """An 8-bit RGB picture for people: the stack's median image, each sphere's circle, and every image's highlight
    as a dot with its index in ``names``."""
    if cv2 is None:
        raise RTIError("drawing the preview needs OpenCV (opencv-python-headless), which this Python lacks")
    median = np.median(brightness(stack), axis=0)
    picture = np.repeat((np.clip(median, 0, 1) * 255).astype(np.uint8)[..., None], 3, axis=2).copy()
    scale = max(1, 800 // max(picture.shape[:2]))
    picture = cv2.resize(picture, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    for sphere in spheres:
        cv2.circle(picture, (round(sphere.x * scale), round(sphere.y * scale)), round(sphere.r * scale),
                   (0, 200, 255), 1, cv2.LINE_AA)
    for index, per_sphere in enumerate(result.highlights):
        for spot in per_sphere:
            if spot is not None:
                centre = (round(spot.x * scale), round(spot.y * scale))
                cv2.circle(picture, centre, 2, (255, 60, 60), -1, cv2.LINE_AA)
                cv2.putText(picture, str(index), (centre[0] + 3, centre[1] - 3), cv2.FONT_HERSHEY_PLAIN, 0.7,
                            (255, 255, 0), 1, cv2.LINE_AA)
    return picture
