"""The plane's analysis views in Cycles against ``core.surface.views`` (numpy), for neural, PTM and HSH models."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from core.classic.fitting import ClassicRTI
from core.classic.interpolated import InterpolatedRTI
from core.surface import views

from .conftest import assert_emits, random_model

bpy = pytest.importorskip("bpy")

from synth.pixels import read as read_exr  # noqa: E402  (needs bpy)

from .test_addon_nodes import LIGHTS, render  # noqa: E402  (needs bpy)

pytestmark = pytest.mark.usefixtures("registered_addon")

SLIDERS = {"rti_specular_exponent": 12.0, "rti_specular_strength": 0.7, "rti_diffuse_gain": 3.0}


def models() -> dict[str, object]:
    rng = np.random.default_rng(7)
    neural = random_model(20, size=(12, 16))
    ptm = ClassicRTI("ptm", rng.uniform(-0.05, 0.1, (6, 12, 16, 3)).astype(np.float32))
    ptm.coeffs[5] += 0.4
    hsh = ClassicRTI("hsh3", rng.normal(0, 0.05, (9, 12, 16, 3)).astype(np.float32))
    hsh.coeffs[0] += 0.5
    basis = rng.normal(0, 0.1, (5, 9, 3)).astype(np.float32)
    basis[0] += 0.5
    bilinear = InterpolatedRTI("bilinear", rng.normal(0, 0.3, (4, 12, 16)).astype(np.float32), basis, resolution=3,
                               colorprofile="RGB")
    return {"neural": neural, "ptm": ptm, "hsh3": hsh, "bilinear": bilinear}


@pytest.mark.parametrize("kind", ["neural", "ptm", "hsh3", "bilinear"])
@pytest.mark.parametrize("view", ["NORMALS", "SPECULAR", "DIFFUSE_GAIN"])
def test_cycles_renders_each_view_as_numpy_does(tmp_path: Path, kind: str, view: str) -> None:
    model = models()[kind]
    prepared = views.prepare(model)
    images = render(model, LIGHTS, tmp_path, {"rti_view": view, **SLIDERS})
    for light, image in zip(LIGHTS, images):
        expected = views.render(model, prepared, view.lower(), light, exponent=12.0, strength=0.7, gain=3.0)
        assert_emits(image, expected, tolerance=1e-3)


def test_switching_views_relinks_every_material_of_the_plane(tmp_path: Path) -> None:
    from blender_addon import importer

    scene = bpy.data.scenes.new("RTI views")
    plane, _ = importer.add_model(scene, random_model(20, size=(6, 8)), "first")
    importer.add_to_plane(plane, models()["ptm"], "second")
    plane.rti_view = "NORMALS"
    plane.rti_diffuse_gain = 5.0
    for material in plane.data.materials:
        tree = material.node_tree
        assert tree.nodes["RTI to linear"].inputs["Color"].links[0].from_node.name == "RTI view NORMALS"
        assert tree.nodes["RTI gain"].outputs[0].default_value == 5.0
    plane.rti_view = "RELIT"
    assert all(m.node_tree.nodes["RTI to linear"].inputs["Color"].links[0].from_node.name == "RTI decoder"
               for m in plane.data.materials)


def test_a_sun_lamp_handle_relights_the_model_as_core_relight_does(tmp_path: Path) -> None:
    from blender_addon import lighting

    model = models()["ptm"]
    suns = []
    images = render(model, LIGHTS, tmp_path, before=lambda scene, plane: suns.append(lighting.add_sun(plane, scene)))
    for light, image in zip(LIGHTS, images):  # importer.aim moved the Sun, the handle followed
        assert_emits(image, model.relight(light))
    sun = suns[0]
    scene = sun.users_scene[0]
    depsgraph = scene.view_layers[0].depsgraph
    depsgraph.update()
    facing = np.array(sun.evaluated_get(depsgraph).matrix_world.col[2][:3])
    assert np.allclose(facing, LIGHTS[-1], atol=1e-6)  # the Sun shines along the light the model is relit with
    sun.location = tuple(2.0 * np.array([0.5, 0.1, 0.86]) / np.linalg.norm([0.5, 0.1, 0.86]))  # moved by hand
    scene.render.filepath = str(tmp_path / "moved.exr")
    bpy.ops.render.render(write_still=True, scene=scene.name)
    moved = read_exr(tmp_path / "moved.exr")[..., :3]
    assert_emits(moved, model.relight(np.array([0.5, 0.1, 0.86]) / np.linalg.norm([0.5, 0.1, 0.86])))


def test_the_pbr_material_shades_albedo_and_normals_as_lambert_does_under_the_sun(tmp_path: Path) -> None:
    from blender_addon import importer, lighting

    model = models()["hsh3"]
    prepared = views.prepare(model)

    def pbr_under_a_sun(scene, plane) -> None:
        lighting.add_sun(plane, scene)
        lighting.add_pbr(plane, plane.data.materials[0])
        importer.show(plane, 1)
        world = bpy.data.worlds.new("RTI black")
        world.color = (0.0, 0.0, 0.0)
        for node in world.node_tree.nodes if world.node_tree else ():
            if node.type == "BACKGROUND":
                node.inputs["Strength"].default_value = 0.0
        scene.world = world  # no light but the Sun

    images = render(model, LIGHTS, tmp_path, before=pbr_under_a_sun)
    for light, image in zip(LIGHTS, images):
        expected = np.clip(prepared.albedo, 0, 1) * np.clip(prepared.normals @ light, 0, None)[..., None]
        assert np.abs(image - expected).max() < 0.05 * expected.max()  # Principled is not exactly Lambert (4.2: 4 %)


def test_a_pbr_material_needs_a_model_with_maps_and_changes_nothing_otherwise() -> None:
    from blender_addon import importer

    scene = bpy.context.scene
    plane, _ = importer.add_model(scene, models()["ptm"], "no maps")
    bpy.context.view_layer.objects.active = plane
    del plane.data.materials[0]["rti_albedo"]
    before = (set(bpy.data.materials), len(plane.data.materials))
    with pytest.raises(RuntimeError, match="'no maps' has no albedo and normals"):
        bpy.ops.rti.add_pbr()
    assert (set(bpy.data.materials), len(plane.data.materials)) == before


def test_a_model_imported_from_a_file_builds_its_views_when_first_shown(tmp_path: Path) -> None:
    from core.formats import models as model_files

    model_files.save(models()["ptm"], tmp_path / "capture.ptm")
    assert bpy.ops.rti.import_model(filepath=str(tmp_path / "capture.ptm")) == {"FINISHED"}
    plane = bpy.context.view_layer.objects.active
    tree = plane.active_material.node_tree
    assert "RTI view NORMALS" not in tree.nodes  # import stays as fast as before
    plane.rti_view = "NORMALS"
    assert tree.nodes["RTI to linear"].inputs["Color"].links[0].from_node.name == "RTI view NORMALS"
    relit = plane.data.materials[0]
    assert bpy.ops.rti.add_pbr() == {"FINISHED"}
    from blender_addon import importer

    assert plane.data.materials[importer.shown(plane)].name == f"{relit.name} PBR"


def test_eevee_renders_the_views_as_numpy_does(tmp_path: Path) -> None:
    """EEVEE (Mesa's software OpenGL here) in a process of its own, as the decoder's EEVEE test: a PTM's normals,
    specular and diffuse-gain views within 2e-2 (EEVEE keeps float textures and its film in half floats, which the
    highlight's exponent of 40 amplifies to 1-1.5e-2; it clamps negative values to 0). Cycles is held to 1e-3 above."""
    import json
    import subprocess
    import sys

    from core.capture.lights import from_angles
    from core.formats import models as model_files

    from .test_addon_nodes import EEVEE_SCRIPT

    model = models()["ptm"]
    model_files.save(model, tmp_path / "capture.ptm")
    prepared = views.prepare(model)
    angles = [(40.0, 30.0)]
    light = from_angles([40.0], [30.0])[0]
    for view in ("NORMALS", "SPECULAR", "DIFFUSE_GAIN"):
        out = tmp_path / view
        out.mkdir()
        done = subprocess.run([sys.executable, "-c", EEVEE_SCRIPT, str(tmp_path / "capture.ptm"), str(out),
                               json.dumps(angles), view], cwd=Path(__file__).resolve().parents[1],
                              capture_output=True, text=True, timeout=600)
        assert "Traceback" not in done.stderr, done.stderr[-3000:]
        if not (out / "eevee_0.exr").is_file():
            pytest.skip(f"EEVEE does not render here (exit status {done.returncode})")
        image = read_exr(out / "eevee_0.exr")[..., :3]
        expected = views.render(model, prepared, view.lower(), light)
        assert_emits(np.maximum(image, 0.0), np.maximum(expected, 0.0), tolerance=2e-2)


def test_the_normals_of_a_model_folder_are_the_views_normals(tmp_path: Path) -> None:
    from core.formats import models as model_files
    from core.surface import maps

    model_files.save(models()["hsh3"], tmp_path / "hsh3")
    tilted = np.zeros((12, 16, 3))
    tilted[:] = [0.6, 0.0, 0.8]
    maps.write_normals(tmp_path / "hsh3" / "normals.png", tilted)
    assert bpy.ops.rti.import_model(filepath=str(tmp_path / "hsh3")) == {"FINISHED"}
    plane = bpy.context.view_layer.objects.active
    plane.rti_view = "NORMALS"
    image = bpy.data.images[plane.active_material["rti_normals"]]
    stored = np.empty(12 * 16 * 4, np.float32)
    image.pixels.foreach_get(stored)
    assert np.allclose(stored.reshape(12, 16, 4)[..., :3], [0.6, 0.0, 0.8], atol=1e-4)


def _imported_from_files(tmp_path: Path) -> bpy.types.Object:
    """A plane holding a PTM and an HSH model of one capture, both imported from files, their views not built."""
    from core.formats import models as model_files

    model_files.save(models()["ptm"], tmp_path / "capture.ptm")
    model_files.save(models()["hsh3"], tmp_path / "hsh3")
    assert bpy.ops.rti.import_model(filepath=str(tmp_path / "capture.ptm")) == {"FINISHED"}
    assert bpy.ops.rti.import_model(filepath=str(tmp_path / "hsh3"), add_to_active=True) == {"FINISHED"}
    return bpy.context.view_layer.objects.active


@pytest.mark.parametrize("where", ["here", "training python"])
def test_views_are_built_as_a_job_with_progress(tmp_path: Path, where: str) -> None:
    """Without a training Python the maps are made in Blender a tile per step; with one, by ``python -m core
    views`` there. Either way each material gets the views ``core.surface.views`` gives."""
    import sys
    import time

    from blender_addon import view_maps

    from .test_addon_jobs import ModalProbe

    plane = _imported_from_files(tmp_path)
    materials = view_maps.needing_views(plane)
    assert len(materials) == 2
    job = view_maps.ViewsJob(plane, materials, None if where == "here" else Path(sys.executable))
    job.start()
    probe = ModalProbe(job)
    for _ in range(2400):  # a bound, not a clock: each turn waits 0.05 s for the subprocess
        status = probe.send("TIMER")
        if status != {"RUNNING_MODAL"}:
            break
        time.sleep(0.05 if where != "here" else 0.0)
    assert status == {"FINISHED"} and probe.reports == [("INFO", f"views built for 2 models of '{plane.name}'")]
    assert view_maps.needing_views(plane) == [] and not job.scratch.exists()
    from core.formats import models as model_files

    for material, source in zip(plane.data.materials, ("capture.ptm", "hsh3")):
        image = bpy.data.images[material["rti_normals"]]
        stored = np.empty(12 * 16 * 4, np.float32)
        image.pixels.foreach_get(stored)
        expected = views.prepare(model_files.load(tmp_path / source)).normals[::-1]  # Blender's rows go up
        assert np.abs(stored.reshape(12, 16, 4)[..., :3] - expected).max() < 1e-5


@pytest.mark.parametrize("where", ["here", "training python"])
def test_esc_stops_building_views_and_leaves_the_materials_as_they_were(tmp_path: Path, where: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from blender_addon import view_maps

    from .test_addon_jobs import ModalProbe

    monkeypatch.setattr(view_maps, "STEP_SECONDS", 0.0)  # one tile a step: the job is still running after one
    monkeypatch.setattr("core.surface.photometric.TILE", 16)
    plane = _imported_from_files(tmp_path)
    nodes = [len(m.node_tree.nodes) for m in plane.data.materials]
    job = view_maps.ViewsJob(plane, view_maps.needing_views(plane), None if where == "here" else Path(sys.executable))
    job.start()
    probe = ModalProbe(job)
    assert probe.send("TIMER") == {"RUNNING_MODAL"}
    assert probe.send("ESC") == {"CANCELLED"} and probe.reports == [("WARNING", "cancelled")]
    assert [len(m.node_tree.nodes) for m in plane.data.materials] == nodes and not job.scratch.exists()
    assert job.process is None or job.process.returncode is not None


def test_a_failing_views_job_reports_the_training_pythons_error(tmp_path: Path) -> None:
    import shutil
    import sys
    import time

    from blender_addon import view_maps

    from .test_addon_jobs import ModalProbe

    plane = _imported_from_files(tmp_path)
    shutil.rmtree(tmp_path / "hsh3")  # the second model's folder is gone by the time its views are wanted
    job = view_maps.ViewsJob(plane, view_maps.needing_views(plane), Path(sys.executable))
    job.start()
    probe = ModalProbe(job)
    for _ in range(2400):  # a bound, not a clock
        status = probe.send("TIMER")
        if status != {"RUNNING_MODAL"}:
            break
        time.sleep(0.05)
    assert status == {"CANCELLED"} and probe.reports[0][0] == "ERROR" and "no such model" in probe.reports[0][1]
    assert len(view_maps.needing_views(plane)) == 1 and not job.scratch.exists()  # the first got its views


def test_views_and_pbr_of_a_model_a_few_pixels_larger_show_the_planes_capture(tmp_path: Path) -> None:
    """A model two pixels wider than the plane's capture: its normals view and its PBR material read its maps through
    the same crop as its relit image, so every view shows the same top-left pixels."""
    from blender_addon import importer, lighting
    from blender_addon.nodetree import CROP

    student = random_model(20, size=(12, 14))
    wide = models()["hsh3"]  # 16 wide
    prepared = views.prepare(wide)

    planes = []

    def wide_normals(scene, plane) -> None:
        importer.add_to_plane(plane, wide, "wide")
        plane.rti_view = "NORMALS"
        planes.append(plane)

    images = render(student, LIGHTS[:1], tmp_path, before=wide_normals)
    assert_emits(images[0], views.render(wide, prepared, "normals", LIGHTS[0])[:, :14], tolerance=1e-3)
    pbr = lighting.add_pbr(planes[0], planes[0].data.materials[1])
    scale = pbr.node_tree.nodes[CROP].inputs["Scale"].default_value
    assert tuple(scale) == pytest.approx((14 / 16, 1.0, 1.0))


def test_add_relief_displaces_a_grid_by_the_integrated_normals_and_changes_nothing_on_bad_input() -> None:
    """Add Relief: a grid with a vertex at every pixel centre of the plane, displaced (Displace modifier, the
    Strength slider) by the heights of the model's normals as ``core.surface.relief`` integrates them (a pixel's
    height in the plane's units: 2 / its pixel rows), wearing the PBR material; the plane is hidden. Without normals
    it is one error and nothing changes."""
    from blender_addon import importer
    from core.surface import relief

    scene = bpy.context.scene
    model = models()["ptm"]
    plane, _ = importer.add_model(scene, model, "relief source")
    bpy.context.view_layer.objects.active = plane
    assert bpy.ops.rti.add_pbr() == {"FINISHED"}  # a PBR material shown: the relief is of the model it was made of
    assert bpy.ops.rti.add_relief() == {"FINISHED"}
    made = bpy.context.view_layer.objects.active
    assert made.name == "relief source relief" and made["rti_relief"] == plane.name
    assert plane.hide_get() and plane.hide_render and not made.hide_get()
    assert made.active_material.name.startswith(f"{plane.data.materials[0].name} PBR")
    assert len(made.data.vertices) == 12 * 16 and made.modifiers["RTI relief"].strength == 1.0
    heights = relief.integrate(views.prepare(model).normals, method="robust").heights
    expected = (heights - heights.min()) * 2 / 12
    made.modifiers["RTI relief"].strength = 3.0
    evaluated = made.evaluated_get(bpy.context.evaluated_depsgraph_get()).data
    z = np.array([v.co.z for v in evaluated.vertices]).reshape(12, 16)  # the grid runs row by row from the top
    np.testing.assert_allclose(z, 3.0 * expected, atol=1e-4)
    xy = np.array([v.co[:2] for v in made.data.vertices])
    np.testing.assert_allclose([xy[:, 0].min(), xy[:, 1].max()], [-16 / 12 + 1 / 12, 1 - 1 / 12], atol=1e-6)

    other, _ = importer.add_model(scene, models()["hsh3"], "no normals")
    bpy.context.view_layer.objects.active = other
    del other.data.materials[0]["rti_normals"]
    before = (set(bpy.data.objects), set(bpy.data.meshes), set(bpy.data.images), set(bpy.data.textures),
              set(bpy.data.materials))
    with pytest.raises(RuntimeError, match="has no normals"):
        bpy.ops.rti.add_relief()
    assert (set(bpy.data.objects), set(bpy.data.meshes), set(bpy.data.images), set(bpy.data.textures),
            set(bpy.data.materials)) == before and not other.hide_get()
