"""Heights from normals (core.surface.relief), the mesh writer and ``python -m core relief``: analytic surfaces with
exact heights, the mask, the robust variant, a flat surface staying flat, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from core import cli
from core.capture import analytic, images
from core.capture import mlic as mlic_io
from core.errors import RTIError
from core.formats import mesh
from core.surface import maps, photometric, relief

ROOT = Path(__file__).resolve().parents[1]
H, W = 90, 120


def normals_of(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Unit normals of slopes dz/dx = p, dz/drow = q (rows run down, y up)."""
    nz = 1.0 / np.sqrt(1.0 + p**2 + q**2)
    return np.stack([-p * nz, q * nz, nz], axis=-1)


def surfaces() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name → (heights (H, W) in pixel widths, their exact normals)."""
    r, c = np.mgrid[0:H, 0:W].astype(float)
    found = {"ramp": (0.3 * c - 0.2 * r, normals_of(np.full((H, W), 0.3), np.full((H, W), -0.2)))}
    a, period = 4.0, 30.0
    k = 2 * np.pi / period
    found["sinusoid"] = (a * np.sin(k * c) * np.cos(k * r),
                         normals_of(a * k * np.cos(k * c) * np.cos(k * r), -a * k * np.sin(k * c) * np.sin(k * r)))
    radius, cx, cy = 140.0, W / 2, H / 2
    cap = np.sqrt(radius**2 - (c - cx) ** 2 - (r - cy) ** 2)
    found["sphere cap"] = (cap, normals_of(-(c - cx) / cap, -(r - cy) / cap))
    return found


def error(heights: np.ndarray, truth: np.ndarray, where: np.ndarray | None = None) -> float:
    """Largest height error once both have the same mean (heights are known up to a constant)."""
    where = np.ones(truth.shape, bool) if where is None else where
    return float(np.abs((heights - heights[where].mean()) - (truth - truth[where].mean()))[where].max())


@pytest.mark.parametrize("name", ["ramp", "sinusoid", "sphere cap"])
def test_least_squares_heights_of_exact_normals_are_exact(name: str) -> None:
    """The midpoint slope of a smooth surface is exact to second order: errors far below a hundredth of a pixel."""
    truth, normals = surfaces()[name]
    depth = truth.max() - truth.min()
    found = relief.integrate(normals, method="poisson")
    assert found.method == "poisson" and abs(found.heights.mean()) < 1e-9
    assert error(found.heights, truth) < 3e-3 * depth
    robust = relief.integrate(normals, method="robust")
    assert error(robust.heights, truth) < 3e-3 * depth


def test_the_dct_solve_and_numpy_s_mirrored_fft_agree() -> None:
    """SciPy's DCT (the command line) and the FFT of the mirrored field (Blender's Python, no SciPy) solve the same
    Poisson equation; the solution's Laplacian is the right-hand side."""
    pytest.importorskip("scipy")
    rhs = np.random.default_rng(3).standard_normal((37, 52))
    rhs -= rhs.mean()
    fast, mirrored = relief.poisson(rhs), relief.mirrored_poisson(rhs)
    np.testing.assert_allclose(fast, mirrored, atol=1e-10)
    np.testing.assert_allclose(relief.laplacian(fast), rhs, atol=1e-10)


def test_frankot_chellappa_is_exact_on_periodic_surfaces_only() -> None:
    """Its periodic boundary suits a surface that repeats across the frame; a ramp's two edges pull on each other."""
    truth, normals = surfaces()["sinusoid"]
    assert error(relief.integrate(normals, method="fc").heights, truth) < 1e-6
    truth, normals = surfaces()["ramp"]
    assert error(relief.integrate(normals, method="fc").heights, truth) > 0.2 * (truth.max() - truth.min())


def test_a_mask_keeps_the_outside_out() -> None:
    """Inside a disc mask the heights are those of the surface; normals outside (here: nonsense) change nothing."""
    truth, normals = surfaces()["sphere cap"]
    r, c = np.mgrid[0:H, 0:W]
    inside = (r - H / 2) ** 2 + (c - W / 2) ** 2 < 35**2
    scrambled = np.where(inside[..., None], normals, normals_of(np.full((H, W), 5.0), np.full((H, W), -3.0)))
    found = relief.integrate(scrambled, mask=inside)
    assert error(found.heights, truth, inside) < 1e-3 * (truth[inside].max() - truth[inside].min())
    assert abs(found.heights[inside].mean()) < 1e-9 and found.iterations > 0


def test_robust_integration_limits_the_damage_of_wrong_normals() -> None:
    """A short line of wrong normals (as along a cast-shadow edge) bends least squares' whole surface around it;
    the reweighted solve keeps the rest of the surface."""
    truth, normals = surfaces()["sinusoid"]
    wrong = normals.copy()
    wrong[30:60, 60:62] = normals_of(np.full((30, 2), 2.0), np.zeros((30, 2)))
    plain, robust = (relief.integrate(wrong, method=m).heights for m in ("poisson", "robust"))
    away = np.ones((H, W), bool)
    away[25:65, 55:67] = False
    assert error(robust, truth, away) < 0.5 * error(plain, truth, away)


def test_a_flat_surface_with_noisy_normals_stays_flat() -> None:
    """No tilt or bowl from noise: normals 2° off at random stay within 1% of the frame's width of a plane."""
    rng = np.random.default_rng(0)
    tilt = np.radians(2.0) * rng.standard_normal((2, 200, 240))
    found = relief.integrate(normals_of(np.tan(tilt[0]), np.tan(tilt[1])))
    assert np.ptp(found.heights) < 0.01 * 240


def test_bad_normals_are_refused_with_one_line() -> None:
    with pytest.raises(RTIError, match="no usable normal"):
        relief.integrate(np.zeros((8, 8, 3)))
    with pytest.raises(RTIError, match="must be"):
        relief.integrate(np.zeros((8, 8)))
    with pytest.raises(RTIError, match="mask is"):
        relief.integrate(surfaces()["ramp"][1], mask=np.ones((4, 4), bool))
    with pytest.raises(RTIError, match="unknown integration"):
        relief.integrate(surfaces()["ramp"][1], method="magic")


def read_ply(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """An independent reader of the binary PLY the writer makes: vertices, triangles, colours."""
    raw = path.read_bytes()
    head, _, body = raw.partition(b"end_header\n")
    lines = head.decode("ascii").splitlines()
    count = int(next(line for line in lines if line.startswith("element vertex")).split()[-1])
    faces = int(next(line for line in lines if line.startswith("element face")).split()[-1])
    coloured = any("red" in line for line in lines)
    vertex = np.dtype([("p", "<f4", (3,))] + ([("c", "u1", (3,))] if coloured else []))
    table = np.frombuffer(body, vertex, count)
    tris = np.frombuffer(body, np.dtype([("n", "u1"), ("v", "<i4", (3,))]), faces, offset=count * vertex.itemsize)
    assert (tris["n"] == 3).all() and len(body) == count * vertex.itemsize + faces * 13
    return table["p"], tris["v"], table["c"] if coloured else None


def test_mesh_grid_and_files(tmp_path: Path) -> None:
    """A 4×5 grid: 20 vertices at pixel centres in mm, y up, 2 triangles per cell facing the camera; a mask drops
    the cells it cuts; PLY and OBJ hold the same mesh; the default step keeps a 50 MP grid under the limit."""
    heights = np.arange(20, dtype=float).reshape(4, 5)
    vertices, triangles, colours = mesh.grid(heights, np.ones((4, 5), bool), 0.5, 1, np.full((4, 5, 3), 7))
    assert vertices.shape == (20, 3) and triangles.shape == (2 * 3 * 4, 3) and colours is not None
    np.testing.assert_allclose(vertices[6], [0.5, -0.5, 3.0])  # row 1, column 1: height 6 × 0.5 mm
    a, b, c = (vertices[triangles[:, k]] for k in range(3))
    assert (np.cross(b - a, c - a)[:, 2] > 0).all()  # counter-clockwise seen from +z
    inside = np.ones((4, 5), bool)
    inside[0, 0] = False
    assert len(mesh.grid(heights, inside, 1.0, 1)[1]) == 2 * 3 * 4 - 2
    assert len(mesh.grid(heights, np.ones((4, 5), bool), 1.0, 2)[0]) == 3 * 3  # rows 0, 2, 3; columns 0, 2, 4
    mesh.write(tmp_path / "m.ply", vertices, triangles, colours)
    read = read_ply(tmp_path / "m.ply")
    np.testing.assert_array_equal(read[0], vertices)
    np.testing.assert_array_equal(read[1], triangles)
    assert read[2] is not None and (read[2] == 7).all()
    mesh.write(tmp_path / "m.obj", vertices, triangles)
    lines = (tmp_path / "m.obj").read_text().splitlines()
    v = np.array([[float(x) for x in line.split()[1:]] for line in lines if line.startswith("v ")])
    f = np.array([[int(x) for x in line.split()[1:]] for line in lines if line.startswith("f ")])
    np.testing.assert_allclose(v, vertices, rtol=1e-4)
    np.testing.assert_array_equal(f - 1, triangles)
    step = mesh.default_step(6144, 8192)
    assert -(-6144 // step) * -(-8192 // step) <= mesh.MAX_VERTICES < -(-6144 // (step - 1)) * -(-8192 // (step - 1))


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args], cwd=ROOT, capture_output=True, text=True)


def test_relief_command_from_a_capture_a_normal_map_and_bad_input(tmp_path: Path) -> None:
    """From an analytic capture: height.tif in millimetres (a scale given) as its robust normals integrate, close to
    the surface's own heights, the 16-bit preview, relief.json and a coloured mesh; a normal map gives the same heights; bad input is one line, exit
    status 2 and nothing written."""
    size = 48
    train, _ = analytic.scene(size, seed=2)
    mlic_io.save(train, tmp_path / "scene")
    done = run("relief", str(tmp_path / "scene"), "-o", str(tmp_path / "out"), "--width-mm", "24", "--mesh",
               str(tmp_path / "out.ply"), "-q")
    assert done.returncode == 0, done.stderr
    record = json.loads((tmp_path / "out" / "relief.json").read_text())
    assert record["units"] == "mm" and record["mm_per_pixel"] == 0.5 and record["width"] == size
    heights = images.read_float(tmp_path / "out" / relief.HEIGHT_NAME)
    assert heights.shape == (size, size) and heights.dtype == np.float32
    assert np.nanmax(heights) - np.nanmin(heights) == pytest.approx(record["depth"], rel=1e-6)
    preview = images.read_image(tmp_path / "out" / relief.PREVIEW_NAME)
    assert preview.dtype == np.uint16 and preview.max() == 65535
    surface = photometric.from_mlic(train, "robust")  # the command's default normals, computed here again
    expected = relief.integrate(surface.normals).heights * 0.5
    used = np.isfinite(heights)
    np.testing.assert_allclose(heights[used], expected[used], atol=1e-4)
    normals = analytic.surface(size, seed=2)[0]  # and the surface's own heights, from its exact normals
    assert np.corrcoef(heights[used], relief.integrate(normals).heights[used])[0, 1] > 0.97
    vertices, triangles, colours = read_ply(tmp_path / "out.ply")
    assert len(vertices) == used.sum() and colours is not None and len(triangles) > 0
    maps.write_normals(tmp_path / "normals.png", normals)
    assert cli.main(["relief", str(tmp_path / "normals.png"), "-o", str(tmp_path / "from_map"), "-q"]) == 0
    from_map = images.read_float(tmp_path / "from_map" / relief.HEIGHT_NAME)
    np.testing.assert_allclose(from_map, relief.integrate(maps.read_normals(tmp_path / "normals.png")).heights,
                               atol=1e-4)
    for args, message in (([str(tmp_path / "missing"), "-o", str(tmp_path / "x")], "error:"),
                          ([str(tmp_path / "scene"), "-o", str(tmp_path / "x"), "--mesh", str(tmp_path / "m.stl")],
                           ".ply or .obj"),
                          ([str(tmp_path / "scene"), "-o", str(tmp_path / "x"), "--mm-per-pixel", "0"], "positive")):
        refused = run("relief", *args, "-q")
        assert refused.returncode == 2 and message in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "x").exists()
    maps.write_normals(tmp_path / "empty.png", np.zeros((8, 8, 3)))
    refused = run("relief", str(tmp_path / "empty.png"), "-o", str(tmp_path / "x"), "-q")
    assert refused.returncode == 2 and not (tmp_path / "x").exists()


def test_relief_of_a_model_file_and_of_a_model_folder_with_its_own_normals(tmp_path: Path) -> None:
    """A .ptm is sampled under the virtual lights (its normals, as ``core normals`` finds them); a model folder
    holding a normals.png (what ``core normals MODEL`` writes) is integrated from that map."""
    from core.classic import fitting
    from core.formats import models

    train, _ = analytic.scene(32, seed=4)
    ptm = fitting.fit(train, "ptm")
    models.save(ptm, tmp_path / "m.ptm")
    assert cli.main(["relief", str(tmp_path / "m.ptm"), "-o", str(tmp_path / "from_ptm"), "-q"]) == 0
    normals = photometric.from_model(models.load(tmp_path / "m.ptm"), "robust").normals
    heights = images.read_float(tmp_path / "from_ptm" / relief.HEIGHT_NAME)
    usable = relief.slopes(normals)[2]
    np.testing.assert_array_equal(np.isfinite(heights), usable)  # NaN where no normal could be used
    np.testing.assert_allclose(heights[usable], relief.integrate(normals).heights[usable], atol=1e-4)
    models.save(fitting.fit(train, "hsh3"), tmp_path / "hsh3")
    own = photometric.from_mlic(train, "l2").normals
    maps.write_normals(tmp_path / "hsh3" / maps.NORMALS_NAME, own)
    assert cli.main(["relief", str(tmp_path / "hsh3"), "-o", str(tmp_path / "from_folder"), "-q"]) == 0
    record = json.loads((tmp_path / "from_folder" / "relief.json").read_text())
    assert record["normals"].endswith(maps.NORMALS_NAME)
    heights = images.read_float(tmp_path / "from_folder" / relief.HEIGHT_NAME)
    usable = np.isfinite(heights)
    expected = relief.integrate(maps.read_normals(tmp_path / "hsh3" / maps.NORMALS_NAME)).heights
    np.testing.assert_allclose(heights[usable], expected[usable], atol=1e-4)
