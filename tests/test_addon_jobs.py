"""The add-on's long jobs run headless (as in scripts and ``blender -b``): rendering an MLIC, training in an external
Python, and the light orbit."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from core.formats import models
from core.neural.model import decode

from .conftest import assert_emits, random_model

bpy = pytest.importorskip("bpy")
from blender_addon import importer, preferences, training  # noqa: E402
from blender_addon.core.errors import RTIError  # noqa: E402
from blender_addon.jobs import JobOperator  # noqa: E402
from blender_addon.render_mlic import RenderJob, spec_from  # noqa: E402
from blender_addon.synth.renderer import MLICRender  # noqa: E402
from synth.pixels import read as read_exr  # noqa: E402

pytestmark = pytest.mark.usefixtures("registered_addon")


def tiny_mlic_settings(out: Path) -> None:
    settings = bpy.context.scene.rti_synth
    settings.output, settings.size, settings.samples = str(out), 16, 1
    settings.train_lights, settings.test_lights = "fibonacci:8", "fibonacci:3"


def test_render_mlic_writes_a_split_folder_and_leaves_the_scene(tmp_path: Path) -> None:
    tiny_mlic_settings(tmp_path / "mlic")
    before = (set(bpy.data.scenes), set(bpy.data.objects), set(bpy.data.materials))
    assert bpy.ops.rti.render_mlic() == {"FINISHED"}
    assert before == (set(bpy.data.scenes), set(bpy.data.objects), set(bpy.data.materials))
    assert len(list((tmp_path / "mlic" / "train").glob("image_*.png"))) == 8
    assert len(list((tmp_path / "mlic" / "test").glob("image_*.png"))) == 3
    assert bpy.context.scene.rti_train.mlic == str(tmp_path / "mlic")  # ready to train on


def test_render_mlic_refuses_bad_settings_and_writes_nothing(tmp_path: Path) -> None:
    tiny_mlic_settings(tmp_path / "mlic")
    settings = bpy.context.scene.rti_synth
    settings.material = "own"  # keeps an object's materials, but no object is photographed
    try:
        with pytest.raises(RuntimeError, match="give an object") as refused:
            bpy.ops.rti.render_mlic()
    finally:
        settings.material = "stripes"
    assert str(refused.value).count("\n") == 1 and "Traceback" not in str(refused.value)  # a report, not a crash
    settings.train_lights = "fibonacci:x"
    with pytest.raises(RuntimeError, match="positive count"):
        bpy.ops.rti.render_mlic()
    assert not any(tmp_path.iterdir())


class Steps:
    """A job of ``count`` steps that records what the operator did to it; ``fail`` is raised by its second step."""

    def __init__(self, count: int, fail: Exception | None = None, warnings: tuple[str, ...] = ()):
        self.count, self.fail, self.warnings = count, fail, list(warnings)
        self.progress, self.status, self.done, self.cancelled, self.finished = 0.0, "", 0, False, False

    def start(self) -> None: ...

    def step(self) -> bool:
        self.done += 1
        if self.fail is not None and self.done == 2:
            raise self.fail
        self.progress, self.status = self.done / self.count, f"step {self.done}"
        return self.done == self.count

    def finish(self, context: object) -> str:
        self.finished = True
        return "all steps done"

    def cancel(self) -> None:
        self.cancelled = True


class ModalProbe:
    """The operator's modal event handling on a plain object: headless Blender sends no timer or key events, so the
    test sends them."""

    modal = JobOperator.modal
    _end, _fail, _stop_timer = JobOperator._end, JobOperator._fail, JobOperator._stop_timer
    _timer = None

    def __init__(self, job: object):
        self._job, self.reports = job, []
        bpy.context.window_manager.rti_job.running = True

    def report(self, level: set[str], message: str) -> None:
        self.reports.append((*level, message))

    def send(self, kind: str) -> set[str]:
        return self.modal(bpy.context, SimpleNamespace(type=kind))


def test_timer_events_step_the_job_and_other_events_pass_through() -> None:
    job = Steps(3)
    probe = ModalProbe(job)
    state = bpy.context.window_manager.rti_job
    assert probe.send("MOUSEMOVE") == {"PASS_THROUGH"} and job.done == 0
    assert probe.send("TIMER") == {"RUNNING_MODAL"}
    assert (state.running, state.progress, state.status) == (True, pytest.approx(1 / 3), "step 1")
    assert probe.send("TIMER") == {"RUNNING_MODAL"}
    assert probe.send("TIMER") == {"FINISHED"}
    assert job.finished and not job.cancelled and probe.reports == [("INFO", "all steps done")]
    assert (state.running, state.status, state.warning) == (False, "all steps done", "")


def test_a_jobs_warnings_are_reported_and_kept_for_the_panel() -> None:
    probe = ModalProbe(Steps(1, warnings=("student: below HSH3", "teacher: below HSH3")))
    assert probe.send("TIMER") == {"FINISHED"}
    assert probe.reports == [("INFO", "all steps done"), ("WARNING", "student: below HSH3"),
                             ("WARNING", "teacher: below HSH3")]
    assert bpy.context.window_manager.rti_job.warning == "student: below HSH3\nteacher: below HSH3"
    assert ModalProbe(Steps(1)).send("TIMER") == {"FINISHED"}  # the next job starts without them
    assert bpy.context.window_manager.rti_job.warning == ""


def test_esc_cancels_a_running_render_and_leaves_nothing(tmp_path: Path) -> None:
    tiny_mlic_settings(tmp_path / "mlic")
    scenes = set(bpy.data.scenes)
    job = RenderJob(MLICRender(spec_from(bpy.context.scene.rti_synth), tmp_path / "mlic", False, None))
    job.start()
    probe = ModalProbe(job)
    assert probe.send("TIMER") == probe.send("TIMER") == {"RUNNING_MODAL"}
    assert probe.send("ESC") == {"CANCELLED"}
    assert probe.reports == [("WARNING", "cancelled")] and not bpy.context.window_manager.rti_job.running
    assert set(bpy.data.scenes) == scenes and not any(tmp_path.iterdir())


@pytest.mark.parametrize("error, message", [(RTIError("disk full"), "disk full"),
                                            (ValueError("a bug"), "ValueError: a bug")])
def test_an_error_in_a_step_is_reported_and_cancels_the_job(error: Exception, message: str) -> None:
    job = Steps(3, fail=error)
    probe = ModalProbe(job)
    assert probe.send("TIMER") == {"RUNNING_MODAL"}
    assert probe.send("TIMER") == {"CANCELLED"}
    assert job.cancelled and probe.reports == [("ERROR", message)]
    assert not bpy.context.window_manager.rti_job.running


def test_train_runs_the_external_python_and_imports_the_student(tmp_path: Path) -> None:
    tiny_mlic_settings(tmp_path / "mlic")
    bpy.ops.rti.render_mlic()
    settings = bpy.context.scene.rti_train
    settings.output, settings.time_budget = str(tmp_path / "model"), 6.0
    assert bpy.ops.rti.train() == {"FINISHED"}
    plane = bpy.context.view_layer.objects.active
    summary = json.loads((tmp_path / "model" / "train.json").read_text())
    assert summary["models"]["student"]["decoder_parameters"] == 723
    # every model on one plane, the recommended one shown (best at the held-out lights; HSH3 written when it wins)
    best = summary["recommended"]["model"]
    roles = ["student", "teacher"] + (["hsh3"] if best == "hsh3" else [])
    assert [s.material.name for s in plane.material_slots] == [f"model {role}" for role in roles]
    assert {p.material_index for p in plane.data.polygons} == {roles.index(best)}
    status = bpy.context.window_manager.rti_job.status
    assert "trained" in status and f"showing the {best} ({summary['recommended']['why']})" in status
    # the panel keeps the trainer's warning for each model below HSH3 at the held-out lights
    below = [role for role, t in summary["models"].items() if t["val_psnr"] < t["hsh3_val_psnr"]]
    warnings = bpy.context.window_manager.rti_job.warning.splitlines()
    assert [line.split(":")[0] for line in warnings] == below
    assert all("below HSH3's" in line for line in warnings)
    job = training.TrainJob(Path(sys.executable), tmp_path / "mlic", tmp_path / "other", False, 0.0)
    job._read(json.dumps({"phase": "student", "event": "warning", "message": "the student scores 20.00 dB ..."}))
    assert job.warnings == ["student: the student scores 20.00 dB ..."]


def test_train_cancel_stops_the_process_and_writes_no_model(tmp_path: Path) -> None:
    tiny_mlic_settings(tmp_path / "mlic")
    bpy.ops.rti.render_mlic()
    job = training.TrainJob(preferences.find_python(""), tmp_path / "mlic", tmp_path / "model", False, 0.0)
    job.start()
    while job.progress == 0.0:  # until its first progress line
        assert not job.step()
    assert job.status.startswith("teacher: step")
    job.cancel()
    assert job.process is not None and job.process.returncode is not None
    assert not (tmp_path / "model").exists()


def test_a_python_without_torch_is_refused_with_the_reason(tmp_path: Path) -> None:
    fake = tmp_path / "python"
    fake.write_text("#!/bin/sh\necho \"ModuleNotFoundError: No module named 'torch'\" >&2\nexit 1\n")
    fake.chmod(0o755)
    with pytest.raises(Exception, match=r"cannot train \(ModuleNotFoundError: No module named 'torch'\)"):
        training.check_python(fake)
    with pytest.raises(Exception, match="does not exist"):
        preferences.find_python(str(tmp_path / "missing"))


def test_light_orbit_renders_one_turn(tmp_path: Path) -> None:
    model = random_model(20, size=(6, 8))
    models.save(model, tmp_path / "student")
    scene = bpy.data.scenes.new("RTI orbit test")
    plane, _ = importer.add_model(scene, models.load(tmp_path / "student"), "student")
    scene.render.engine = "CYCLES"
    scene.cycles.samples, scene.cycles.use_denoising = 1, False
    scene.cycles.pixel_filter_type, scene.cycles.filter_width = "BOX", 0.01
    scene.view_settings.view_transform = "Standard"
    scene.render.image_settings.file_format, scene.render.image_settings.color_depth = "OPEN_EXR", "32"
    scene.render.resolution_x, scene.render.resolution_percentage = 8, 100
    scene.render.filepath = str(tmp_path / "orbit" / "frame_")
    with bpy.context.temp_override(scene=scene, view_layer=scene.view_layers[0], active_object=plane):
        assert bpy.ops.rti.render_light_orbit(elevation=40.0, frames=3) == {"FINISHED"}
    frames = sorted((tmp_path / "orbit").glob("frame_*.exr"))
    assert [f.name for f in frames] == ["frame_0001.exr", "frame_0002.exr", "frame_0003.exr"]
    assert scene.camera is not None and scene.render.resolution_y == 6
    for frame, azimuth in zip(frames, (0.0, 120.0, 240.0)):
        e, a = np.radians(40.0), np.radians(azimuth)
        light = np.array([np.cos(e) * np.cos(a), np.cos(e) * np.sin(a), np.sin(e)])
        image = read_exr(frame)[..., :3]
        assert_emits(image, decode(model.codes.reshape(-1, 9), model.layers, light).reshape(image.shape))



def test_lights_from_spheres_writes_the_lp_loads_the_preview_and_sets_the_training_folder(tmp_path: Path) -> None:
    from core.capture import lights as light_patterns
    from core.capture import lp

    from .test_spheres import errors_deg, render, write_photos

    dome = light_patterns.synthrti_dome()[::3]
    write_photos(tmp_path / "photos", render(dome))
    assert bpy.ops.rti.lights_from_spheres(directory=str(tmp_path / "photos"), spheres="60,70,40") == {"FINISHED"}
    _, found = lp.read_lp(tmp_path / "photos" / "dirs.lp")
    assert np.median(errors_deg(found, dome)) < 0.5
    assert "spheres_preview.png" in bpy.data.images
    assert Path(bpy.context.scene.rti_train.mlic) == (tmp_path / "photos").resolve()
    before = (tmp_path / "photos" / "dirs.lp").read_bytes()
    with pytest.raises(RuntimeError, match="already exists"):  # one line, the old file kept
        bpy.ops.rti.lights_from_spheres(directory=str(tmp_path / "photos"), spheres="60,70,40")
    assert (tmp_path / "photos" / "dirs.lp").read_bytes() == before
