"""Training progress for people (a tqdm bar; or "lines", its messages and warnings without the bar, for several
scenes training at once) or for programs (one JSON object per line on stdout)."""

from __future__ import annotations

import json
import sys

from tqdm import tqdm

MODES = ("bar", "lines", "jsonl", "none")


def emit(record: dict) -> None:
    """Print one JSON line in a single write: the ranks of a ``torchrun`` launch share stdout, and a line written in
    two pieces (as ``print`` does unbuffered) can be cut by another rank's."""
    sys.stdout.write(json.dumps(record) + "\n")
    sys.stdout.flush()


class Progress:
    """Reports phases and steps; "jsonl" lines carry phase, step, steps, loss, elapsed and eta (seconds), and the
    ``scene`` when several train at once."""

    def __init__(self, mode: str = "bar", scene: str = ""):
        if mode not in MODES:
            raise ValueError(f"progress mode must be one of {MODES}, got {mode!r}")
        self.mode, self.scene = mode, scene
        self._bar: tqdm | None = None

    def start(self, phase: str, steps: int, step: int = 0) -> None:
        """A new phase of ``steps`` optimiser steps, ``step`` of them already done (a resumed run)."""
        self.close()
        if self.mode == "bar":
            desc = f"{self.scene} {phase}" if self.scene else phase
            self._bar = tqdm(total=steps, initial=step, desc=desc, unit="step", dynamic_ncols=True)
        self._emit({"phase": phase, "event": "start", "step": step, "steps": steps})

    def update(self, phase: str, step: int, steps: int, loss: float, elapsed: float, eta: float,
               val_psnr: float | None = None) -> None:
        if self._bar is not None:
            self._bar.update(step - self._bar.n)
            postfix = {"loss": f"{loss:.2e}"}
            if val_psnr is not None:
                postfix["val"] = f"{val_psnr:.2f}dB"
            self._bar.set_postfix(postfix, refresh=False)
        record = {"phase": phase, "step": step, "steps": steps, "loss": loss, "elapsed": round(elapsed, 2),
                  "eta": round(eta, 1)}
        if val_psnr is not None:
            record["val_psnr"] = round(val_psnr, 3)
        self._emit(record)

    def message(self, phase: str, text: str) -> None:
        """A line for people: printed above the bar, or as a "message" record in JSON mode."""
        if self.mode in ("bar", "lines"):
            tqdm.write(self._prefix + text, file=sys.stderr)
        self._emit({"phase": phase, "event": "message", "message": text})

    def warning(self, phase: str, text: str) -> None:
        """A line a user must not miss: ``warning: text`` above the bar, or a "warning" record in JSON mode."""
        if self.mode in ("bar", "lines"):
            tqdm.write(f"warning: {self._prefix}{text}", file=sys.stderr)
        self._emit({"phase": phase, "event": "warning", "message": text})

    @property
    def _prefix(self) -> str:
        return f"{self.scene}: " if self.scene else ""

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _emit(self, record: dict) -> None:
        if self.mode == "jsonl":
            emit({"scene": self.scene, **record} if self.scene else record)
