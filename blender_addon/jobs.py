"""Long jobs (rendering an MLIC, training) as operators: modal with a progress bar and Esc to cancel in the UI, run
to the end by ``execute`` in scripts and ``blender -b`` (where no timer ever fires).

A job does its work in small :meth:`Job.step` calls; the operator calls them from a timer, shows their progress in
the sidebar (``WindowManager.rti_job``) and the status bar, and cancels the job on Esc, an error or a closed file.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Literal, Protocol

import bpy

from .core.errors import RTIError
from .operators import Status

TICK = 0.05
"""Seconds between timer events while a job runs."""


class Job(Protocol):
    progress: float
    """Fraction done, 0 to 1."""
    status: str
    """What it is doing, for the progress bar."""
    warnings: list[str]
    """Lines the user must not miss: reported as warnings when the job ends, and kept in the sidebar."""

    def start(self) -> None: ...

    def step(self) -> bool:
        """Do a little work; True once all of it is done."""
        ...

    def finish(self, context: bpy.types.Context) -> str:
        """Complete the job (write, import…); returns the message for the user."""
        ...

    def cancel(self) -> None:
        """Stop and leave nothing behind (safe to call more than once)."""
        ...


class JobOperator(bpy.types.Operator):
    """An operator that runs a :class:`Job`: subclasses define :meth:`make_job` (and Blender's ``bl_*``)."""

    _job: Job | None = None
    _timer: Any = None
    _wait: float = 0.0
    """Seconds to sleep between steps when run to the end (a job that polls a subprocess needs it)."""

    def make_job(self, context: bpy.types.Context) -> Job:
        raise NotImplementedError

    def execute(self, context: bpy.types.Context) -> Status:
        """Run the whole job now (scripts, ``blender -b``)."""
        job = self._begin(context)
        if job is None:
            return {"CANCELLED"}
        try:
            while not job.step():
                _show(context, job)
                time.sleep(self._wait)
            return self._end(context, job)
        except RTIError as exc:
            return self._fail(context, job, str(exc))
        except BaseException:
            self._fail(context, job, "")
            raise

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> Status:
        """Start the job and return to the user; timer events move it on."""
        if getattr(context.window_manager, "rti_job").running:
            self.report({"ERROR"}, "another RTI job is running; wait for it or press Esc")
            return {"CANCELLED"}
        if context.window is None:
            return self.execute(context)
        job = self._begin(context)
        if job is None:
            return {"CANCELLED"}
        wm = context.window_manager
        assert wm is not None
        self._job = job
        self._timer = wm.event_timer_add(TICK, window=context.window)
        wm.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> Status:
        job = self._job
        assert job is not None
        if event.type == "ESC":
            self._stop_timer(context)
            self._fail(context, job, "cancelled", level="WARNING")
            return {"CANCELLED"}
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        try:
            if job.step():
                self._stop_timer(context)
                return self._end(context, job)
        except RTIError as exc:
            self._stop_timer(context)
            return self._fail(context, job, str(exc))
        except Exception as exc:  # a bug must not leave a timer running and a half-made scene: report it
            self._stop_timer(context)
            return self._fail(context, job, f"{type(exc).__name__}: {exc}")
        _show(context, job)
        return {"RUNNING_MODAL"}

    def _begin(self, context: bpy.types.Context) -> Job | None:
        job: Job | None = None
        try:
            job = self.make_job(context)
            job.start()
        except RTIError as exc:
            if job is not None:
                job.cancel()
            self.report({"ERROR"}, str(exc))
            return None
        state = getattr(context.window_manager, "rti_job")
        state.running, state.progress, state.status, state.warning = True, 0.0, job.status, ""
        return job

    def _end(self, context: bpy.types.Context, job: Job) -> Status:
        try:
            message = job.finish(context)
        except RTIError as exc:
            return self._fail(context, job, str(exc))
        _done(context, message)
        self.report({"INFO"}, message)
        for warning in job.warnings:
            self.report({"WARNING"}, warning)
        getattr(context.window_manager, "rti_job").warning = "\n".join(job.warnings)
        return {"FINISHED"}

    def _fail(self, context: bpy.types.Context, job: Job, message: str,
              level: Literal["ERROR", "WARNING"] = "ERROR") -> Status:
        job.cancel()
        _done(context, message)
        if message:
            self.report({level}, message)
        return {"CANCELLED"}

    def _stop_timer(self, context: bpy.types.Context) -> None:
        wm = context.window_manager
        if wm is not None and self._timer is not None:
            wm.event_timer_remove(self._timer)
        self._timer = None


def absolute_folder(text: str) -> Path:
    """An absolute folder from a path property (``//`` is the .blend's folder, so the file must be saved)."""
    if not text.strip():
        raise RTIError("choose a folder")
    if text.startswith("//") and not bpy.data.filepath:
        raise RTIError(f"'{text}' is relative to the .blend file: save the file first or choose an absolute folder")
    return Path(bpy.path.abspath(text)).resolve()


def _show(context: bpy.types.Context, job: Job) -> None:
    state = getattr(context.window_manager, "rti_job")
    state.progress, state.status = job.progress, job.status
    _status_bar(context, f"RTI: {job.status} ({job.progress:.0%}); Esc cancels")
    _redraw(context)


def _done(context: bpy.types.Context, message: str) -> None:
    state = getattr(context.window_manager, "rti_job")
    state.running, state.progress, state.status = False, 0.0, message
    _status_bar(context, None)
    _redraw(context)


def _status_bar(context: bpy.types.Context, text: str | None) -> None:
    """Show a running job in Blender's status bar too (seen from any editor and from the preferences window)."""
    workspace = getattr(context, "workspace", None)
    if workspace is not None:
        workspace.status_text_set(text)


def _redraw(context: bpy.types.Context) -> None:
    screen = context.screen
    if screen is None:
        return
    for area in screen.areas:
        if area.type == "VIEW_3D":
            area.tag_redraw()
