"""RTI models as shader node groups (neural, PTM, HSH), rendered by Cycles, against the same models in numpy.

Renders are read as float EXR, which holds the emission: the models' sRGB values decoded to linear."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from core.capture.lights import azimuth, elevation
from core.classic.fitting import ClassicRTI
from core.formats import models
from core.neural import nodeplan
from core.neural.model import NeuralRTI, decode

from .conftest import assert_emits, random_model

bpy = pytest.importorskip("bpy")
from blender_addon import classic_nodes, importer, neural_nodes  # noqa: E402
from synth.pixels import read as read_exr  # noqa: E402

LIGHTS = [v / np.linalg.norm(v) for v in (np.array([0.3, -0.5, 0.81]), np.array([-0.62, 0.35, 0.7]))]


pytestmark = pytest.mark.usefixtures("registered_addon")


def render(model: ClassicRTI | NeuralRTI, lights: list[np.ndarray], out: Path,
           plane_settings: dict[str, object] | None = None,
           before: Callable[[bpy.types.Scene, bpy.types.Object], None] | None = None) -> list[np.ndarray]:
    """Cycles renders of ``model`` imported on a plane filling an orthographic camera, one per light direction (its
    handle aimed there); one texel per pixel, one sample, no pixel filter or denoiser. ``plane_settings`` are set on
    the plane first (its view and sliders), then ``before`` runs on the scene and plane."""
    h, w = model.height, model.width
    aspect = w / h
    scene = bpy.data.scenes.new("RTI node test")
    scene.render.engine = "CYCLES"
    scene.cycles.samples = 1
    scene.cycles.use_denoising = False
    scene.cycles.device = "CPU"
    scene.cycles.pixel_filter_type = "BOX"
    scene.cycles.filter_width = 0.01
    scene.render.resolution_x, scene.render.resolution_y, scene.render.resolution_percentage = w, h, 100
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format = "OPEN_EXR"
    scene.render.image_settings.color_depth = "32"
    camera = bpy.data.objects.new("RTI camera", bpy.data.cameras.new("RTI camera"))
    camera.data.type = "ORTHO"
    camera.data.ortho_scale = 2 * max(aspect, 1.0)
    camera.location = (0, 0, 5)
    scene.collection.objects.link(camera)
    scene.camera = camera
    plane, _ = importer.add_model(scene, model, "RTI test")
    for name, value in (plane_settings or {}).items():
        setattr(plane, name, value)
    if before is not None:
        before(scene, plane)
    results = []
    for k, light in enumerate(lights):
        importer.aim(plane, float(elevation(light[None])[0]), float(azimuth(light[None])[0]))
        scene.render.filepath = str(out / f"render_{k}.exr")
        bpy.ops.render.render(write_still=True, scene=scene.name)
        results.append(read_exr(out / f"render_{k}.exr")[..., :3])
    return results


@pytest.mark.parametrize("width, chained", [(20, neural_nodes.CHAINED), (7, neural_nodes.CHAINED),
                                            (50, neural_nodes.CHAINED)] + [(50, True)] * (not neural_nodes.CHAINED))
def test_cycles_matches_the_numpy_decoder(tmp_path: Path, width: int, chained: bool,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Students (20, 7) and the 50-unit teacher, whose size overflows the stack of Cycles' SVM compiler unless its
    layout suits the compiler (chained before Blender 5.0); on 5.0 the chained layout must decode exactly too."""
    monkeypatch.setattr(neural_nodes, "CHAINED", chained)
    model = random_model(width, size=(12, 16))
    for light, image in zip(LIGHTS, render(model, LIGHTS, tmp_path)):
        expected = decode(model.codes.reshape(-1, 9), model.layers, light).reshape(image.shape)
        assert_emits(image, expected)


def test_8bit_planes_render_as_their_dequantised_codes(tmp_path: Path) -> None:
    """A folder with only OpenLIME's JPEG planes: byte textures, the dequantisation folded into the first layer."""
    models.save(random_model(20, size=(12, 16)), tmp_path / "web")
    (tmp_path / "web" / "codes.npy").unlink()
    model = models.load(tmp_path / "web")
    assert isinstance(model, NeuralRTI) and model.planes is not None
    for light, image in zip(LIGHTS, render(model, LIGHTS, tmp_path)):
        expected = decode(model.codes.reshape(-1, 9), model.layers, light).reshape(image.shape)
        assert_emits(image, expected)


@pytest.mark.parametrize("method, profile", [("ptm", "sRGB"), ("lptm", "sRGB"), ("hsh2", "sRGB"), ("hsh3", "sRGB"),
                                             ("hsh3", "RGB"), ("lptm", "RGB")])
def test_cycles_matches_classic_relighting(tmp_path: Path, method: str, profile: str) -> None:
    """Every classic type, and linear-light models (relight's colorprofile "RGB"), whose group encodes to sRGB."""
    rng = np.random.default_rng(5)
    terms = len(classic_nodes.texture_names(method)) if method != "lptm" else 6
    coeffs = rng.normal(0, 0.4, (terms, 12, 16, 1 if method == "lptm" else 3)).astype(np.float32)
    chroma = rng.uniform(0.2, 1.0, (12, 16, 3)).astype(np.float32) if method == "lptm" else None
    model = ClassicRTI(method, coeffs, chroma, colorprofile=profile)
    for light, image in zip(LIGHTS, render(model, LIGHTS, tmp_path)):
        assert_emits(image, model.relight(light))


def test_group_sizes() -> None:
    group = neural_nodes.neural_group("RTI size check", nodeplan.plan(random_model(20).layers))
    inner = [n.node_tree for n in group.nodes if n.type == "GROUP"]
    assert len(inner) == math.ceil(20 / 3) * 2 + 1
    # per triple: two Mapping nodes per input vector (3 planes, light) and, chained, a wait on each but the first;
    # ELU + 1 in eight nodes (min, max, split, 3 exp, join, add), two ends
    assert [len(t.nodes) for t in inner[:7]] == [4 * 2 + 3 * neural_nodes.CHAINED + 8 + 2] * 7


def test_nodeplan_euler_angles_are_blenders() -> None:
    """The rotations the Mapping nodes are given compose as Blender's own XYZ Euler matrices."""
    from mathutils import Euler

    for angles in ([0.3, -1.1, 2.0], [2.5, 0.2, -0.4]):
        np.testing.assert_allclose(np.array(Euler(angles, "XYZ").to_matrix()), nodeplan.euler_matrix(np.array(angles)),
                                   atol=1e-6)


EEVEE_SCRIPT = """
import json, sys
import bpy
import blender_addon
from blender_addon import importer
from core.formats import models
model_path, out, angles = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
view = sys.argv[4] if len(sys.argv) > 4 else "RELIT"
blender_addon.register()
model = models.load(model_path)
scene = bpy.data.scenes.new("RTI EEVEE test")
engines = scene.render.bl_rna.properties["engine"].enum_items.keys()
scene.render.engine = "BLENDER_EEVEE_NEXT" if "BLENDER_EEVEE_NEXT" in engines else "BLENDER_EEVEE"  # 4.2 / 5.0
scene.eevee.taa_render_samples = 1
scene.render.filter_size = 0.0
scene.render.resolution_x, scene.render.resolution_y = model.width, model.height
scene.view_settings.view_transform = "Standard"
scene.render.image_settings.file_format, scene.render.image_settings.color_depth = "OPEN_EXR", "32"
camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
camera.data.type, camera.data.ortho_scale = "ORTHO", 2 * model.width / model.height
camera.location = (0, 0, 5)
scene.collection.objects.link(camera)
scene.camera = camera
plane, _ = importer.add_model(scene, model, "RTI EEVEE test")
plane.rti_view = view
for k, (elevation, azimuth) in enumerate(angles):
    importer.aim(plane, elevation, azimuth)
    scene.render.filepath = f"{out}/eevee_{k}.exr"
    bpy.ops.render.render(write_still=True, scene=scene.name)
"""


def test_eevee_matches_the_numpy_decoder(tmp_path: Path) -> None:
    """EEVEE (Mesa's software OpenGL here), in a process of its own since a machine without OpenGL may crash it: the
    student within 2e-3 of numpy for outputs in [0, 1] as a trained model's are (EEVEE's film is half float and
    clamps negative values to 0)."""
    model = random_model(20, size=(12, 16))
    (w3, b3) = model.layers[2]
    flat = decode(model.codes.reshape(-1, 9), model.layers, np.array([0.0, 0.0, 1.0]))
    gain = 0.9 / (flat.max() - flat.min())
    model.layers[2] = (w3 * gain, (b3 - flat.min()) * gain + 0.05)
    models.save(model, tmp_path / "student")
    angles = [(40.0, 30.0), (60.0, -100.0)]
    done = subprocess.run([sys.executable, "-c", EEVEE_SCRIPT, str(tmp_path / "student"), str(tmp_path),
                           json.dumps(angles)], cwd=Path(__file__).resolve().parents[1], capture_output=True,
                          text=True, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr[-3000:]  # a Python error is ours; a crash is the machine's
    if not (tmp_path / "eevee_1.exr").is_file():  # the 4.2 module may crash on exit, after the renders: that is fine
        pytest.skip(f"EEVEE does not render here (exit status {done.returncode})")
    for k, (elevation, azimuth) in enumerate(angles):
        e, a = np.radians(elevation), np.radians(azimuth)
        light = np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])
        image = read_exr(tmp_path / f"eevee_{k}.exr")[..., :3]
        expected = decode(model.codes.reshape(-1, 9), model.layers, light).reshape(image.shape)
        assert_emits(np.maximum(image, 0.0), np.maximum(expected, 0.0), tolerance=2e-3)


@pytest.mark.parametrize("method, space, profile", [("rbf", "mrgb", None), ("rbf", "mycc", "RGB"),
                                                    ("bilinear", "mrgb", "RGB"), ("bilinear", "mycc", None)])
def test_cycles_matches_relights_rbf_and_bilinear_models(tmp_path: Path, method: str, space: str,
                                                         profile: str | None) -> None:
    """relight's PCA models: the group reads the per-light table from textures tabulated at import (bilinear
    models' own grid: exact; RBF ones on a 128² grid: within 1e-3)."""
    from .test_relight_folders import synthetic

    folder, _ = synthetic(tmp_path, space, method, profile)
    model = models.load(folder)
    for light, image in zip(LIGHTS, render(model, LIGHTS, tmp_path)):
        assert_emits(image, model.relight(light), tolerance=1e-3 if method == "rbf" else 1e-4)


def test_a_model_a_few_pixels_wider_shows_the_planes_capture_from_the_top_left(tmp_path: Path) -> None:
    """An LRGB .ptm padded from 14 to 16 pixels for RTIViewer, added to the plane of the 14-pixel capture's student:
    the plane shows its top-left 14 × 12 pixels, pixel for pixel, as core scores it."""
    student = random_model(20, size=(12, 14))
    rng = np.random.default_rng(9)
    padded = ClassicRTI("hsh2", rng.normal(0.3, 0.2, (4, 13, 16, 3)).astype(np.float32))  # a row more too

    def add_padded(scene, plane) -> None:
        importer.add_to_plane(plane, padded, "padded")

    for light, image in zip(LIGHTS, render(student, LIGHTS, tmp_path, before=add_padded)):
        assert_emits(image, padded.relight(light)[:12, :14], tolerance=1e-3)


@pytest.mark.parametrize("name", ["rbf", "yrbf", "bilinear", "hsh_linear", "ptm_linear", "rbf12_srgb"])
def test_relights_2026_folders_render_in_blender_as_core_relights_them(tmp_path: Path, name: str) -> None:
    """Each of relight's default outputs of the real capture, imported as a user would (402×395), renders as core
    relights it (RBF within its table's 1e-3; the rest exactly)."""
    from .conftest import shared_dataset

    model = models.load(shared_dataset("relight_2026_sanmichele") / name)
    light = LIGHTS[0]
    image = render(model, [light], tmp_path)[0]
    assert_emits(image, model.relight(light), tolerance=2e-3 if "rbf" in name else 1e-4)
