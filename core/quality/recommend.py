"""Which model of a training relights the capture best: student, teacher or an HSH3 fit of the same lights, judged
at the lights held out of the training (each neural model records its score there and HSH3's).

What the product shows by default is the recommended model, so it is never below HSH3 at the held-out lights. Ties
go to the lighter model (student, then teacher, then HSH3: the student is the one that relights in real time).
"""

from __future__ import annotations

ORDER = ("student", "teacher", "hsh3")
"""Candidates, lightest first."""


def recommend(trainings: dict[str, dict]) -> dict:
    """``{"model": role, "val_psnr": {role: dB}, "val_lights": count, "why": sentence}`` from the ``training`` of
    each trained neural model ({"teacher": ..., "student": ...}); empty when they record no held-out score."""
    scored = {role: t for role, t in trainings.items() if "val_psnr" in t and "hsh3_val_psnr" in t}
    if not scored:
        return {}
    scores = {role: float(t["val_psnr"]) for role, t in scored.items()}
    scores["hsh3"] = float(next(iter(scored.values()))["hsh3_val_psnr"])
    lights = len(next(iter(scored.values())).get("val_lights", []))
    best = max((r for r in ORDER if r in scores), key=lambda r: (scores[r], -ORDER.index(r)))
    others = ", ".join(f"{_name(r)} {scores[r]:.2f}" for r in ORDER if r in scores and r != best)
    why = (f"{_name(best)} scores {scores[best]:.2f} dB at the {lights} held-out lights ({others}): it relights this "
           "capture best")
    return {"model": best, "val_psnr": scores, "val_lights": lights, "why": why}


def _name(role: str) -> str:
    return "HSH3" if role == "hsh3" else f"the {role}"
