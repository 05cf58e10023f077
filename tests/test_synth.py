"""synth: the pure parts (reliefs, materials, specs) and tiny Cycles renders through the bpy module."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from core.capture import images, splits
from core.errors import RTIError
from synth import materials, relief, suites
from synth.spec import SceneSpec, light_directions, sun_rotation

bpy = pytest.importorskip("bpy")
from synth import cli, renderer  # noqa: E402  (needs bpy)

ROOT = Path(__file__).resolve().parents[1]
TINY = dict(size=24, samples=4, train_lights="fibonacci:5", test_lights="fibonacci:2")


def srgb_to_linear(v: np.ndarray) -> np.ndarray:
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


def lit(folder: Path, part: str = "train") -> tuple[np.ndarray, np.ndarray]:
    """Linear pixel values (N, H, W, 3) of a rendered part and its .lp directions."""
    mlic = splits.load_part(folder, part)
    return srgb_to_linear(mlic.images / mlic.max_value), mlic.lights


def normals_of(folder: Path) -> np.ndarray:
    return images.read_image(folder / "normals.png") / 65535.0 * 2.0 - 1.0


def run(*args: str, script: bool = False) -> subprocess.CompletedProcess:
    command = [sys.executable, "synth/render.py", "--", *args] if script else [sys.executable, "-m", "synth", *args]
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


# pure parts -------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", relief.KINDS)
def test_reliefs_come_from_their_seed(kind: str) -> None:
    a, b = relief.make(kind, 40, seed=1), relief.make(kind, 40, seed=1)
    assert a.shape == (41 + 2 * relief.MARGIN,) * 2 and np.array_equal(a, b)
    if kind == "flat":
        assert not a.any()
    else:
        assert np.ptp(a) > 0.01 and not np.array_equal(a, relief.make(kind, 40, seed=2))


def test_frieze_figures_are_undercut_and_rise_above_the_ground() -> None:
    parts = relief.solids("frieze", seed=3)
    assert parts.shape == (30, 7) and np.array_equal(parts, relief.solids("frieze", seed=3))
    centre_z, radius_z = parts[:, 2], parts[:, 5]
    assert (centre_z > 0).all()  # each widest section floats above the ground: the figure is undercut below it
    assert (centre_z + radius_z > relief.make("frieze", 40, 3).max() * 0.9).any()  # and stands as high as the frame
    assert (np.abs(parts[:, :2]) < 1.05).all()  # inside the frame
    assert all(len(relief.solids(kind, 0)) == 0 for kind in relief.KINDS if kind != "frieze")


def test_tablet_signs_are_cut_with_steep_walls() -> None:
    h = relief.make("tablet", 320, seed=0)
    slope = np.hypot(*np.gradient(h, 2 / 320))
    assert (h < h.max() - 0.02).mean() > 0.03  # signs cover part of the slab, pressed deeper than 0.02
    assert (slope > 1.0).mean() > 0.01  # walls steeper than 45°: they shade themselves at low lights


def test_coin_is_a_raised_disc_on_flat_ground() -> None:
    h = relief.make("coin", 100, seed=0)
    x, y = relief.grid(100)
    r = np.hypot(x, y)
    assert (h[r > 0.95] == 0).all() and (h[r < 0.9] >= 0.04).all()
    assert h[(r > 0.82) & (r < 0.9)].min() > h[(r > 0.4) & (r < 0.55)].min()  # the rim stands above the field


def test_height_map_resamples_corners_exactly() -> None:
    gray = np.array([[0.0, 1.0], [0.5, 0.25]])
    m = relief.MARGIN
    h = relief.from_image(gray, 4, depth=2.0)[m:-m, m:-m]  # the frame's vertices; the margin repeats the edges
    assert h.shape == (5, 5) and h[0, 0] == 0 and h[0, -1] == 2.0 and h[-1, 0] == 1.0 and h[-1, -1] == 0.5
    assert h[0, 2] == pytest.approx(1.0)


def test_layouts() -> None:
    x, y = np.array([-0.5, 0.5, -0.5, 0.5]), np.array([0.9, 0.9, -0.9, -0.9])
    assert list(materials.layout_index("split", x, y, 2)) == [0, 1, 0, 1]
    assert list(materials.layout_index("stripes", x, y, 6)) == [0, 0, 5, 5]  # first stripe at the top
    assert list(materials.layout_index("single", x, y, 1)) == [0, 0, 0, 0]
    assert set(materials.layout_index("tiles", *np.random.default_rng(0).uniform(-1, 1, (2, 500)), 4)) == {0, 1, 2, 3}


def test_presets_are_those_of_synthrti() -> None:
    assert len(materials.SINGLE) == 8 and len(materials.MULTI) == 9
    for name in materials.PRESETS:
        chosen = materials.material_set(name)
        assert chosen.layout in materials.LAYOUTS and chosen.materials
    metal = [n for n in materials.MULTI if any(m.metallic == 1 for m in materials.material_set(n).materials)]
    assert len(metal) >= 4 and materials.material_set("split").materials[1].metallic == 1
    assert materials.SINGLE["translucent"].subsurface > 0 and max(materials.DARK) < 0.05


def test_synthrti_suite_layout() -> None:
    scenes = suites.scenes("synthrti", SceneSpec(seed=4))
    assert len(scenes) == 51 and len({s.path for s in scenes}) == 51
    assert scenes[0].path == "Single/Object1/material1" and scenes[-1].path == "Multi/Object3/material9"
    assert [s.spec.material for s in scenes[:8]] == list(materials.SINGLE)
    assert {(s.spec.relief, s.spec.depth) for s in scenes} == set(suites.OBJECTS)
    assert all(s.spec.seed == 4 and s.layout == "synthrti" for s in scenes)
    assert len(suites.scenes("quick", SceneSpec())) == 12
    with pytest.raises(RTIError, match="unknown suite"):
        suites.scenes("hard", SceneSpec())


def test_colours_are_srgb_hex() -> None:
    assert materials.parse_color("#ffffff") == (1.0, 1.0, 1.0)
    assert materials.parse_color("#bc8080")[0] == pytest.approx(0.5, abs=0.003)  # sRGB 188 is linear 0.5
    with pytest.raises(ValueError):
        materials.parse_color("red")


def test_sun_rotation_points_the_lamp_from_the_direction() -> None:
    for direction in light_directions("random:20", "train", 3):
        ax, _, az = sun_rotation(direction)
        rx = np.array([[1, 0, 0], [0, math.cos(ax), -math.sin(ax)], [0, math.sin(ax), math.cos(ax)]])
        rz = np.array([[math.cos(az), -math.sin(az), 0], [math.sin(az), math.cos(az), 0], [0, 0, 1]])
        towards_lamp = rz @ rx @ np.array([0.0, 0.0, 1.0])  # a sun shines along its local -z
        assert np.allclose(towards_lamp, direction, atol=1e-12)


@pytest.mark.parametrize("change, message", [
    (dict(size=0), "--size"),
    (dict(material="velvet"), "unknown material"),
    (dict(relief="hills"), "unknown relief"),
    (dict(train_lights="fibonacci:0"), "positive count"),
    (dict(test_lights="dome"), "use one of"),
    (dict(format="tiff"), "unknown format"),
    (dict(near_field=1.0), "must exceed 1.5"),
    (dict(colors=["#12"]), "#rrggbb"),
    (dict(heightmap="/nonexistent.png"), "no such file"),
    (dict(spheres="glass"), "unknown spheres"),
])
def test_spec_refuses_bad_settings(change: dict, message: str) -> None:
    with pytest.raises(RTIError, match=message):
        SceneSpec(**change).check()


# renders -----------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def white_plane(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth") / "plane"
    spec = SceneSpec(**{**TINY, "train_lights": "fibonacci:8"}, relief="flat", material="matte", colors=["#ffffff"])
    renderer.render(spec, out)
    return out


def test_white_lambertian_plane_follows_lz(white_plane: Path) -> None:
    """The rendered brightness is exposure·lz for every light of the .lp file: the directions are the rendered ones."""
    values, lights = lit(white_plane)
    measured = values.mean(axis=(1, 2, 3))
    assert np.allclose(measured, 0.8 * lights[:, 2], rtol=0.01, atol=0.004), (measured, 0.8 * lights[:, 2])
    assert values.std(axis=(1, 2)).max() < 0.01  # uniform: no vignetting, no noise to speak of


def test_flat_plane_ground_truth(white_plane: Path) -> None:
    n = normals_of(white_plane)
    assert np.abs(n - [0, 0, 1]).max() < 1e-4
    assert images.read_mask(white_plane / "mask.png").all()
    assert np.abs(images.read_float(white_plane / "height.exr")).max() < 1e-4  # the frame's centre plane
    assert (images.read_image(white_plane / "albedo.png") == 255).all()
    assert not (white_plane / "train" / "mask.png").exists()  # a full mask is not copied into the parts
    record = json.loads((white_plane / "scene.json").read_text())
    assert record["blender"] == bpy.app.version_string and record["spec"]["seed"] == 0
    assert np.allclose(record["lights"]["train"], splits.load_part(white_plane, "train").lights, atol=1e-8)


def test_slope_faces_the_right_way(tmp_path: Path) -> None:
    """A ramp rising to the right (a height map) has normals toward -x, and is brighter lit from -x than from +x."""
    ramp = np.tile(np.linspace(0, 255, 32).astype(np.uint8), (32, 1))
    images.write_image(tmp_path / "ramp.png", ramp)
    lp = tmp_path / "lights.lp"
    lp.write_text("2\na.png 0.6 0 0.8\nb.png -0.6 0 0.8\n")
    out = tmp_path / "ramp"
    renderer.render(SceneSpec(**{**TINY, "train_lights": str(lp), "test_lights": "none"}, heightmap=str(
        tmp_path / "ramp.png"), depth=0.5, material="matte", colors=["#ffffff"]), out)
    n = normals_of(out)[4:-4, 4:-4]
    slope = 0.5 / 2  # rises by the depth, 0.5, over the width, 2
    heights = images.read_float(out / "height.exr")  # in pixel widths: 0 at the left edge, 0.5 · 12 at the right
    expected_heights = np.tile((np.arange(24) + 0.5) * slope, (24, 1))[4:-4, 4:-4]
    np.testing.assert_allclose(heights[4:-4, 4:-4], expected_heights, atol=0.1)  # the ramp image's 8-bit steps
    assert np.polyfit(np.arange(4, 20), heights[4:-4, 4:-4].mean(axis=0), 1)[0] == pytest.approx(slope, rel=0.01)
    expected = np.array([-slope, 0.0, 1.0]) / math.hypot(slope, 1.0)
    assert np.abs(n - expected).max() < 0.01
    values, lights = lit(out)
    for value, light in zip(values, lights):
        assert value[4:-4, 4:-4].mean() == pytest.approx(0.8 * float(expected @ light), rel=0.02)


def test_near_field_light_at_the_centre(tmp_path: Path) -> None:
    out = tmp_path / "near"
    spec = SceneSpec(**TINY, relief="flat", material="matte", colors=["#ffffff"], near_field=4.0)
    renderer.render(spec, out)
    values, lights = lit(out)
    centre = values[:, 11:13, 11:13].mean(axis=(1, 2, 3))
    assert np.allclose(centre, 0.8 * lights[:, 2], rtol=0.02)
    record = json.loads((out / "scene.json").read_text())
    assert np.allclose(record["light_positions"]["train"], 4.0 * lights, atol=1e-6)


def test_stripes_albedo_and_determinism(tmp_path: Path) -> None:
    spec = SceneSpec(**TINY, relief="bumps", material="stripes", seed=5)
    first, second = tmp_path / "a", tmp_path / "b"
    renderer.render(spec, first)
    renderer.render(spec, second)
    for name in ["normals.png", "albedo.png", "mask.png", "train/image_000.png", "test/image_001.png"]:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    albedo = images.read_image(first / "albedo.png")
    centres = (np.arange(24) + 0.5) / 24 * 2 - 1
    x, y = np.meshgrid(centres, -centres)
    index = materials.layout_index("stripes", x, y, len(materials.PALETTE))
    colours = np.array(materials.PALETTE)
    expected = np.rint(255 * np.where(colours <= 0.0031308, colours * 12.92,
                                      1.055 * colours ** (1 / 2.4) - 0.055))[index]
    inside_bands = np.abs(((1 - y) / 2 * 6) % 1 - 0.5) < 0.35  # away from the stripe boundaries
    assert np.abs(albedo[inside_bands].astype(int) - expected[inside_bands]).max() <= 1


@pytest.fixture
def empty_file() -> Iterator[None]:
    """An empty Blender file for the test, and Blender's default scene again after it, as other tests expect."""
    bpy.ops.wm.read_factory_settings(use_empty=True)
    yield
    bpy.ops.wm.read_factory_settings()


@pytest.mark.usefixtures("empty_file")
def test_active_object_mask_albedo_and_the_users_scene(tmp_path: Path) -> None:
    """A sphere seen from above: the mask is a disc, albedo is zero exactly outside it, and the user's data is
    untouched."""
    bpy.ops.mesh.primitive_uv_sphere_add(radius=3.0, location=(5.0, 2.0, 1.0), segments=48, ring_count=24)
    sphere = bpy.context.active_object
    sphere.data.materials.append(None)
    before = {kind: len(getattr(bpy.data, kind)) for kind in ("scenes", "objects", "meshes", "materials", "lights")}
    location = tuple(sphere.location)
    out = tmp_path / "sphere"
    renderer.render(SceneSpec(**{**TINY, "size": 32}, material="own"), out, source=sphere)
    assert {kind: len(getattr(bpy.data, kind)) for kind in before} == before
    assert tuple(sphere.location) == location and sphere.data.attributes.get("rti_albedo") is None
    mask = images.read_mask(out / "mask.png")
    assert mask.mean() == pytest.approx(math.pi / 4, abs=0.04) and mask[16, 16] and not mask[0, 0]
    albedo = images.read_image(out / "albedo.png")
    assert (albedo[~mask] == 0).all() and (albedo[mask].min(axis=-1) > 150).all()  # the default light grey
    assert images.read_mask(out / "train" / "mask.png").sum() == mask.sum()  # training will use the mask
    n = normals_of(out)
    assert n[16, 16] @ [0, 0, 1] > 0.99 and n[16, 2] @ [-1, 0, 0] > 0.5  # the sphere's left edge faces -x


def test_cancel_leaves_nothing(tmp_path: Path) -> None:
    scenes = len(bpy.data.scenes)
    job = renderer.MLICRender(SceneSpec(**TINY), tmp_path / "job")
    job.start()
    assert job.total == 1 + 5 + 2
    assert job.step() == "normals, mask and albedo" and job.step() == "train/image_000.png"
    job.cancel()
    assert list(tmp_path.iterdir()) == [] and len(bpy.data.scenes) == scenes


def test_suite(tmp_path: Path) -> None:
    out = tmp_path / "suite"
    assert cli.main(["--out", str(out), "--suite", "--size", "16", "--samples", "1", "--train-lights",
                     "fibonacci:2", "--test-lights", "none", "-q"]) == 0
    index = json.loads((out / "index.json").read_text())["scenes"]
    assert len(index) == len(suites.QUICK_RELIEFS) * len(suites.QUICK_MATERIALS)
    for scene in index:
        assert (out / scene["path"] / "train" / "dirs.lp").is_file()


def test_synthrti_suite_continues_where_it_stopped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    """A render stopped in its fourth scene leaves three whole scenes; the same command renders only the rest."""
    out = tmp_path / "synthrti"
    args = ["--out", str(out), "--suite", "synthrti", "--size", "8", "--samples", "1", "--train-lights",
            "fibonacci:2", "--test-lights", "fibonacci:1", "-q"]
    rendered: list[str] = []
    stop_at = [4]
    real = cli.render

    def stopping(spec: SceneSpec, folder: Path, **kwargs: object) -> Path:
        rendered.append(Path(folder).relative_to(out).as_posix())
        if len(rendered) in stop_at:
            stop_at.clear()
            job = renderer.MLICRender(spec, folder, layout="synthrti")
            job.start()
            job.step()
            assert job.stage is not None
            job.stage.remove()
            raise KeyboardInterrupt  # as Ctrl-C in the middle of a scene: its hidden folder is left behind
        return real(spec, folder, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(cli, "render", stopping)
    assert cli.main(args) == 130
    assert "run the same command again to continue" in capsys.readouterr().err
    assert not (out / "index.json").exists() and len(list(out.rglob("scene.json"))) == 3
    first = (out / "Single/Object1/material1/scene.json").read_bytes()
    rendered.clear()
    assert cli.main(args) == 0
    assert len(rendered) == 48 and rendered[0] == "Single/Object1/material4"
    assert (out / "Single/Object1/material1/scene.json").read_bytes() == first
    assert not [p for p in out.rglob(".*")]  # no half-written scene left
    index = json.loads((out / "index.json").read_text())
    assert index["suite"] == "synthrti" and len(index["scenes"]) == 51
    frieze = out / "Multi/Object2/material3"
    assert sorted(p.name for p in (frieze / "Dome").iterdir()) == ["dirs.lp", "image01.png", "image02.png"]
    assert splits.load_part(frieze, "test").count == 1
    record = json.loads((frieze / "scene.json").read_text())
    assert record["spec"]["relief"] == "frieze" and record["materials"]["materials"][1]["metallic"] == 1
    monkeypatch.setattr(cli, "render", real)
    assert cli.main([*args[:5], "12", *args[6:]]) == 2  # other settings over a started suite: refused
    (out / "notes.txt").write_text("mine")
    assert cli.main(args) == 2 and (out / "notes.txt").read_text() == "mine"  # not a suite's folder any more


@pytest.mark.parametrize("args, message", [
    (["--material", "velvet"], "unknown material"),
    (["--size", "0"], "--size"),
    (["--train-lights", "EMPTY"], "no lights"),
    (["--heightmap", "NOTIMAGE"], "not an image"),
])
def test_cli_bad_arguments_leave_nothing(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "empty.lp").write_text("0\n")
    (tmp_path / "notimage.png").write_text("this is text")
    args = [{"EMPTY": str(tmp_path / "empty.lp"), "NOTIMAGE": str(tmp_path / "notimage.png")}.get(a, a) for a in args]
    done = run("--out", str(tmp_path / "out"), "--size", "16", "--samples", "1", *args)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.lp", "notimage.png"]


def test_unwritable_output_and_the_blender_script(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    done = run("--out", str(tmp_path / "file" / "out"), "--size", "16", script=True)
    assert done.returncode == 2 and "cannot" in done.stderr, done.stderr
    out = tmp_path / "ok"
    done = run("--out", str(out), "--size", "16", "--samples", "1", "--train-lights", "fibonacci:2",
               "--test-lights", "none", "-q", script=True)
    assert done.returncode == 0, done.stderr
    assert len(splits.load_part(out, "train").lights) == 2 and done.stdout == ""


@pytest.mark.usefixtures("empty_file")
def test_cli_photographs_an_object_of_a_blend_file(tmp_path: Path) -> None:
    bpy.ops.mesh.primitive_cylinder_add(radius=1.0, depth=0.5)
    bpy.context.active_object.name = "Coin"
    bpy.ops.mesh.primitive_cube_add(location=(9, 9, 0))  # the active object now; --object picks the coin
    blend = tmp_path / "coin.blend"
    bpy.ops.wm.save_as_mainfile(filepath=str(blend))
    out = tmp_path / "coin"
    done = run("--out", str(out), "--blend", str(blend), "--object", "Coin", "--size", "24", "--samples", "1",
               "--train-lights", "fibonacci:2", "--test-lights", "none", "-q")
    assert done.returncode == 0, done.stderr
    mask = images.read_mask(out / "mask.png")
    assert mask.mean() == pytest.approx(math.pi / 4, abs=0.05)  # the coin's disc, not the cube
    assert json.loads((out / "scene.json").read_text())["materials"] is None
    missing = run("--out", str(tmp_path / "x"), "--blend", str(blend), "--object", "Nope", "--size", "16")
    assert missing.returncode == 2 and "no object named 'Nope'" in missing.stderr


def test_calibration_spheres_give_the_lights_within_the_targets(tmp_path: Path) -> None:
    """SynthRTI's 49 dome lights at 320²: the spheres where scene.json says, and ``python -m core lights`` on them
    within 1° (median) and 3° (largest) of the lights they were rendered with."""
    out = tmp_path / "scene"
    done = run("--out", str(out), "--spheres", "both", "--test-lights", "none", "-q")
    assert done.returncode == 0, done.stderr
    placed = json.loads((out / "scene.json").read_text())["spheres"]
    assert [p["kind"] for p in placed] == ["chrome", "black"]
    assert placed[1]["pixels"] == pytest.approx([35.2, 35.2, 25.6])
    given = [a for p in placed for a in ("--sphere", ",".join(f"{v:g}" for v in p["pixels"]))]
    check = subprocess.run([sys.executable, "-m", "core", "lights", str(out / "train"), *given, "--drop-bad"],
                           cwd=ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    summary = check.stdout.strip().splitlines()[-1]
    median, largest = (float(summary.split(word)[1].split("°")[0]) for word in ("median ", "largest "))
    assert median <= 1.0 and largest <= 3.0, summary
