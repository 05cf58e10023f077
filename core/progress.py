"""Training progress for people (a tqdm bar) or for programs (one JSON object per line on stdout)."""

from __future__ import annotations

import json
import sys

from tqdm import tqdm

MODES = ("bar", "jsonl", "none")


class Progress:
    """Reports phases and steps; "jsonl" lines carry phase, step, steps, loss, elapsed and eta (seconds)."""

    def __init__(self, mode: str = "bar"):
        if mode not in MODES:
            raise ValueError(f"progress mode must be one of {MODES}, got {mode!r}")
        self.mode = mode
        self._bar: tqdm | None = None

    def start(self, phase: str, steps: int, step: int = 0) -> None:
        """A new phase of ``steps`` optimiser steps, ``step`` of them already done (a resumed run)."""
        self.close()
        if self.mode == "bar":
            self._bar = tqdm(total=steps, initial=step, desc=phase, unit="step", dynamic_ncols=True)
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
        if self.mode == "bar":
            tqdm.write(text, file=sys.stderr)
        self._emit({"phase": phase, "event": "message", "message": text})

    def warning(self, phase: str, text: str) -> None:
        """A line a user must not miss: ``warning: text`` above the bar, or a "warning" record in JSON mode."""
        if self.mode == "bar":
            tqdm.write(f"warning: {text}", file=sys.stderr)
        self._emit({"phase": phase, "event": "warning", "message": text})

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _emit(self, record: dict) -> None:
        if self.mode == "jsonl":
            print(json.dumps(record), flush=True)
