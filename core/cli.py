"""``python -m core``: inspect MLICs, fit and export classic RTI models, relight, evaluate on held-out lights.

Bad input prints one ``error: ...`` line and exits with status 2; outputs appear whole or not at all.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Callable, Generator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np
from tqdm import tqdm

from . import memory, relighting
from .atomic import check_target, output_dir, output_file
from .capture import analytic, collection, images, lp, splits
from .capture import lights as light_utils
from .capture import mlic as mlic_io
from .classic import fitting
from .errors import RTIError, exit_status
from .formats import deepzoom, models, neuralweb
from .neural.config import (DEVICES, GPU_CANDIDATES, GPU_SCENES, GPU_STUDENT_LR, PRECISIONS, RECIPES, TEACHERS,
                           TrainConfig)
from .neural.model import NeuralRTI
from .progress import Progress, emit
from .quality import evaluate, recommend, runs

if TYPE_CHECKING:
    from .neural.ranks import Ranks  # torch loads only for the commands that train


def cmd_info(args: argparse.Namespace) -> None:
    data = mlic_io.load(args.mlic, quiet=args.quiet)
    el = light_utils.elevation(data.lights)
    octants = len(set((light_utils.azimuth(data.lights) // 45).astype(int).tolist()))
    summary = {
        "lp": str(data.source),
        "count": data.count,
        "width": data.width,
        "height": data.height,
        "bit_depth": data.bit_depth,
        "mask_pixels": None if data.mask is None else int(data.mask.sum()),
        "elevation_min": round(float(el.min()), 2),
        "elevation_max": round(float(el.max()), 2),
        "elevation_mean": round(float(el.mean()), 2),
        "azimuth_octants": octants,
    }
    if args.json:
        print(json.dumps(summary))
        return
    mask = "none" if data.mask is None else f"{summary['mask_pixels']} of {data.width * data.height} pixels inside"
    print(f"MLIC       {data.source}")
    print(f"images     {data.count} x {data.width}x{data.height} (WxH), {data.bit_depth}-bit RGB")
    print(f"mask       {mask}")
    print(f"elevation  {el.min():.1f} to {el.max():.1f} degrees (mean {el.mean():.1f})")
    print(f"azimuth    lights in {octants} of 8 octants")


def cmd_split(args: argparse.Namespace) -> None:
    train, test = splits.leave_k_out(mlic_io.load(args.mlic, quiet=args.quiet), args.every, args.offset)
    splits.write_split(train, test, args.out, force=args.force)
    print(f"wrote {args.out}/train ({train.count} lights) and {args.out}/test ({test.count} lights)")


def cmd_fit(args: argparse.Namespace) -> None:
    # the coefficients as float32, beside the photos
    need = memory.Need(f"fitting {args.method}", 4 * fitting.coefficients_per_pixel(args.method))
    data = splits.load_part(args.mlic, "train", quiet=args.quiet, need=need)
    model = fitting.fit(data, args.method, quiet=args.quiet)
    count, source = data.count, data.source
    del data  # the photos: the writing needs their memory on a camera-sized capture
    models.save(model, args.out, force=args.force, fmt=args.format, quality=args.quality, layout=args.layout,
                quiet=args.quiet)
    print(f"fitted {args.method} on {count} lights of {source}; wrote {args.out}")


def cmd_export(args: argparse.Namespace) -> None:
    models.save(models.load(args.model), args.out, force=args.force, fmt=args.format, quality=args.quality,
                layout=args.layout, quiet=args.quiet)
    print(f"wrote {args.out}")


def cmd_relight(args: argparse.Namespace) -> None:
    model = models.load(args.model)
    relit = relighting.relighter(model, args.device)
    out = Path(args.out)
    if args.lp:
        names, dirs = lp.read_lp(args.lp)
        names = [str(Path(n).with_suffix(".png")) for n in names]
    else:
        dirs = np.array([_light_argument(v) for v in args.light])
        names = [f"light_{i:03d}.png" for i in range(len(dirs))]
    if out.suffix.lower() == ".png":
        if len(dirs) != 1:
            raise RTIError(f"{out}: a single .png output needs exactly one light; give a folder for {len(dirs)}")
        with output_file(out, force=args.force) as tmp:
            images.write_image(tmp, relit.array(dirs[0], uint8=True))
        print(f"wrote {out}")
        return
    with output_dir(out, force=args.force) as tmp:
        for name, light in zip(tqdm(names, desc="relighting", unit="img", disable=args.quiet or None), dirs):
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            images.write_image(tmp / name, relit.array(light, uint8=True))
        lp.write_lp(tmp / mlic_io.LP_NAME, names, dirs)
    print(f"wrote {len(names)} images and {mlic_io.LP_NAME} to {out}")


def cmd_normals(args: argparse.Namespace) -> None:
    from .surface import maps, photometric

    source = Path(args.input)
    is_model = source.suffix.lower() in (".ptm", ".rti") or (source / "info.json").is_file()
    if args.out is None and not (is_model and source.is_dir()):
        raise RTIError("-o OUT is required unless the input is a model folder (its maps are then written into it)")
    if is_model:
        surface = photometric.from_model(models.load(source), args.method, device=args.device, quiet=args.quiet)
        made = f"{args.method} from the model under {len(photometric.VIRTUAL_LIGHTS)} virtual lights"
    else:
        need = memory.Need("normals", memory.NORMALS_PER_PIXEL)
        data = splits.load_part(source, "train", quiet=args.quiet, need=need)
        surface = photometric.from_mlic(data, args.method, quiet=args.quiet)
        made = f"{args.method} from {data.count} lights of {data.source}"
    writers = {maps.NORMALS_NAME: lambda path: maps.write_normals(path, surface.normals)}
    if args.albedo:
        writers[maps.ALBEDO_NAME] = lambda path: maps.write_albedo(path, surface.albedo)
    if args.out is None:
        for name in writers:
            check_target(source / name, args.force)
        for name, write in writers.items():
            with output_file(source / name, force=args.force) as tmp:
                write(tmp)
        folder = source
    else:
        with output_dir(args.out, force=args.force) as tmp:
            for name, write in writers.items():
                write(tmp / name)
        folder = Path(args.out)
    print(f"wrote {' and '.join(str(folder / name) for name in writers)} ({made})")


def cmd_relief(args: argparse.Namespace) -> None:
    from .formats import mesh
    from .surface import maps, photometric, relief

    source = Path(args.input)
    mesh_path = Path(args.mesh) if args.mesh else None
    if mesh_path is not None and mesh_path.suffix.lower() not in mesh.SUFFIXES:
        raise RTIError(f"--mesh {mesh_path}: a mesh is written as .ply or .obj")
    if args.mesh_step < 0 or (args.mm_per_pixel is not None and not args.mm_per_pixel > 0) or (
            args.width_mm is not None and not args.width_mm > 0):
        raise RTIError("--mesh-step must not be negative; --mm-per-pixel and --width-mm must be positive")
    check_target(Path(args.out), args.force)
    if mesh_path is not None:
        check_target(mesh_path, args.force)
    albedo, mask = None, None
    if source.suffix.lower() == ".png" and source.is_file():
        normals, made = maps.read_normals(source), f"the normal map {source}"
    elif source.suffix.lower() in (".ptm", ".rti") or (source / "info.json").is_file():
        own = maps.folder_normals(source) if source.is_dir() else None
        if own is not None:
            normals, made = own, f"{source / maps.NORMALS_NAME}"
        else:
            surface = photometric.from_model(models.load(source), args.normals, device=args.device, quiet=args.quiet)
            normals, albedo = surface.normals, surface.albedo
            made = f"{args.normals} normals of the model under {len(photometric.VIRTUAL_LIGHTS)} virtual lights"
    else:
        data = splits.load_part(source, "train", quiet=args.quiet, need=memory.Need("relief", RELIEF_PER_PIXEL))
        surface = photometric.from_mlic(data, args.normals, quiet=args.quiet)
        normals, albedo, mask = surface.normals, surface.albedo, data.mask
        made = f"{args.normals} normals from {data.count} lights of {data.source}"
    if args.mask:
        mask = images.read_mask(args.mask)
    height, width = normals.shape[:2]
    mm = args.mm_per_pixel or (args.width_mm / width if args.width_mm else None)
    with tqdm(total=100, desc="relief", unit="%", disable=args.quiet, leave=False) as bar:
        found = relief.integrate(normals, mask, args.method, lambda done: bar.update(round(100 * done) - bar.n))
    usable = found.usable
    heights = (found.heights * (mm or 1.0)).astype(np.float32)
    heights[~usable] = np.nan
    low, high = float(np.nanmin(heights)), float(np.nanmax(heights))
    unit = "mm" if mm else "px"
    record = {"method": args.method, "normals": made, "width": width, "height": height,
              "units": "mm" if mm else "pixel widths", "mm_per_pixel": mm, "min": low, "max": high,
              "depth": high - low, "iterations": found.iterations, "pixels_used": int(usable.sum())}
    with output_dir(args.out, force=args.force) as tmp:
        images.write_float(tmp / relief.HEIGHT_NAME, heights)
        preview = np.where(usable, (heights - low) / max(high - low, 1e-12), 0.0)
        images.write_image(tmp / relief.PREVIEW_NAME, np.rint(preview * 65535).astype(np.uint16))
        (tmp / "relief.json").write_text(json.dumps(record, indent=1))
    print(f"wrote {Path(args.out) / relief.HEIGHT_NAME}: {width}×{height}, depth {high - low:.4g} {unit} "
          f"({args.method} integration of {made})")
    if mesh_path is not None:
        step = args.mesh_step or mesh.default_step(height, width)
        colours = None if albedo is None else np.rint(images.linear_to_srgb(np.clip(albedo, 0, 1)) * 255)
        vertices, triangles, shades = mesh.grid(np.nan_to_num(heights) / (mm or 1.0), usable, mm or 1.0, step,
                                                colours)
        with output_file(mesh_path, force=args.force) as tmp:
            mesh.write(tmp, vertices, triangles, shades)
        print(f"wrote {mesh_path}: {len(vertices)} vertices, {len(triangles)} triangles, one every {step} pixel(s), "
              f"{'millimetres' if mm else 'pixel widths (no --mm-per-pixel)'}")


RELIEF_PER_PIXEL = 160
"""The relief command beyond the photos: normals, albedo, slopes, weights and the mirrored FFT of the solve."""


def cmd_views(args: argparse.Namespace) -> None:
    from .surface import maps, views

    source = Path(args.model)
    normals = maps.folder_normals(source)
    check_target(Path(args.out), args.force)
    made = views.ViewMaps(models.load(source), normals=normals, device=args.device)
    mode = args.progress or ("none" if args.quiet or not sys.stderr.isatty() else "bar")
    with tqdm(total=100, desc="view maps", unit="%", disable=mode != "bar", leave=False) as bar:
        while not made.step():
            bar.update(round(100 * made.progress) - bar.n)
            if mode == "jsonl":
                print(json.dumps({"phase": "views", "progress": round(made.progress, 4)}), flush=True)
    with output_file(args.out, force=args.force) as tmp:
        views.save(made.views(), tmp)
    print(f"wrote {args.out}" + (f" (normals from {source / maps.NORMALS_NAME})" if normals is not None else ""))


def cmd_lights(args: argparse.Namespace) -> None:
    from .capture import spheres as sphere_io

    folder = Path(args.folder)
    names, photos = sphere_io.read_folder(folder)
    stack = sphere_io.brightness(photos)  # once, for finding the spheres, their highlights and the preview
    if args.sphere:
        found = [sphere_io.Sphere.parse(text) for text in args.sphere]
    else:
        found = sphere_io.detect_in(stack, sphere_io.parse_crop(args.crop) if args.crop else None)
    result = sphere_io.calibrate(names, stack, found, drop_bad=args.drop_bad)
    for note in result.notes:
        print(f"warning: {note}", file=sys.stderr)
    spheres_text = ", ".join(f"({s.x:.1f}, {s.y:.1f}) r {s.r:.1f}" for s in found)
    if args.preview:
        with output_file(args.preview, force=args.force) as tmp:
            images.write_image(tmp, sphere_io.preview(names, stack, found, result))
    if args.out is None:
        existing = mlic_io.find_lp(folder)
        listed = dict(zip(*lp.read_lp(existing)))
        print(f"{'image':<28} {'degrees off':>11} {'confidence':>10}")
        offsets = []
        for name, light, confidence in zip(result.names, result.lights, result.confidence):
            if name in listed:
                offsets.append(float(np.degrees(np.arccos(np.clip(light @ listed[name], -1.0, 1.0)))))
                print(f"{name:<28} {offsets[-1]:>11.2f} {confidence:>10.2f}")
        if not offsets:
            raise RTIError(f"{existing}: names none of the images whose light the spheres give")
        print(f"{existing.name} against the spheres {spheres_text}: median {np.median(offsets):.2f}°, "
              f"largest {max(offsets):.2f}° over {len(offsets)} images")
        return
    with output_file(args.out, force=args.force) as tmp:
        lp.write_lp(tmp, result.names, result.lights)
    if not args.quiet:
        print(f"{'image':<28} {'confidence':>10}")
        for name, confidence in zip(result.names, result.confidence):
            print(f"{name:<28} {confidence:>10.2f}")
    print(f"wrote {args.out}: {len(result.names)} lights from the spheres {spheres_text} (confidence "
          f"{result.confidence.min():.2f}-{result.confidence.max():.2f})")


def _light_argument(values: Sequence[float]) -> np.ndarray:
    """A --light X Y Z argument as a unit direction."""
    direction = np.array(lp.check_direction([float(v) for v in values], "--light"))
    return direction / np.linalg.norm(direction)


def cmd_eval(args: argparse.Namespace) -> None:
    if collection.is_collection(args.test):
        _eval_scenes(args)
        return
    model = models.load(args.model, codes="planes")  # a neural folder's 8-bit planes: what viewers show
    test = splits.load_part(args.test[0], "test", quiet=args.quiet,
                            need=memory.Need("scoring", memory.SCORING_PER_PIXEL))
    mask = images.read_mask(args.mask) if args.mask else None
    neural = isinstance(model, NeuralRTI)
    if args.lossless and not neural:
        raise RTIError("--lossless is for neural model folders (their float codes, codes.npy)")
    result = evaluate.evaluate(model, test, mask, quiet=args.quiet, device=args.device)
    report = {"model": str(args.model), "test": str(test.source), **({"codes": "8-bit planes"} if neural else {}),
              **result.to_json()}
    if args.lossless:
        del model  # one model's codes at a time
        lossless = evaluate.evaluate(models.load(args.model), test, mask, quiet=args.quiet, device=args.device,
                                     with_ssim=False)
        report["lossless"] = {k: v for k, v in lossless.to_json().items() if k in ("psnr", "psnr_masked")}
    if args.json_out:
        with output_file(args.json_out, force=True) as tmp:
            tmp.write_text(json.dumps(report, indent=1))
    if args.json:
        print(json.dumps(report))
        return
    print(evaluate.table(result))
    if "lossless" in report:
        print(f"codes: 8-bit planes above; lossless (float) codes: PSNR {report['lossless']['psnr']:.2f} dB")


def _eval_scenes(args: argparse.Namespace) -> None:
    """``eval RUN --test A B …`` (or a suite's index.json): every model of each scene of a run of several scenes,
    scored on that scene's test photos, in one table."""
    if args.mask or args.lossless:
        raise RTIError("--mask and --lossless are for one model and one test MLIC")
    scores = runs.score(Path(args.model), collection.scenes(args.test), args.device, args.quiet)
    if args.json_out:
        with output_file(args.json_out, force=True) as tmp:
            tmp.write_text(json.dumps(scores, indent=1))
    print(json.dumps(scores) if args.json else runs.table(scores))


def train_config(args: argparse.Namespace) -> TrainConfig:
    """The trainer's settings from ``train``'s options (whose defaults are ``TrainConfig``'s)."""
    return TrainConfig(
        mode="teacher" if args.teacher_only else "direct" if args.student_only else "distill",
        teacher=args.teacher, student_width=args.student_width, recipe=args.recipe, steps=args.steps,
        student_steps=args.student_steps, batch=args.batch, lights_per_step=args.lights_per_step, lr=args.lr,
        student_lr=args.student_lr, beta2=args.beta2, alpha=args.alpha, temperature=args.temperature,
        distill_lights=args.distill_lights, candidates=args.candidates, teacher_candidates=args.teacher_candidates,
        teacher_mean=args.teacher_mean, precision=args.precision, population=args.population,
        val_every=args.val_every, refit=args.refit,
        restart_below_hsh3=not args.no_hsh3_restart, seed=args.seed, device=args.device,
        time_budget=args.time_budget, checkpoint_every=args.checkpoint_every,
    )


def cmd_train(args: argparse.Namespace) -> None:
    if args.direct and not args.student_only:
        raise RTIError("--direct goes with --student-only (a student trained without a teacher)")
    if args.student_only and not args.direct:
        raise RTIError("--student-only needs --direct: there is no teacher to distil from")
    if args.together < 0:
        raise RTIError(f"--together must not be negative, got {args.together}")
    out = Path(args.out)
    config = train_config(args)
    mode = args.progress or ("none" if args.quiet or not sys.stderr.isatty() else "bar")
    from .neural import ranks as launch  # torch loads only for the commands that train
    from .neural import scheduler

    ranks = launch.start(config.device)
    try:
        if not collection.is_collection(args.mlic):  # one capture: data parallel over the ranks, if several
            check_target(out, args.force)
            resume = args.resume and (ranks.size == 1 or out.with_name(out.name + ".checkpoint.pt").is_file())
            scheduler.finish(_train_scene(args, config, Path(args.mlic[0]), out,
                                          Progress(mode if ranks.leader else "none"), resume, ranks))
            return
        _train_scenes(args, config, out, mode, ranks)
    finally:
        ranks.close()


def _train_scenes(args: argparse.Namespace, config: TrainConfig, out: Path, mode: str, ranks: Ranks) -> None:
    """``train A B C -o OUT``: the scenes not trained yet, ``--together`` at a time, shared out over the ranks of a
    ``torchrun`` launch (rank r takes every r-th); the first rank writes ``OUT/runs.json`` of them all."""
    from .neural import scheduler

    scenes = collection.scenes(args.mlic)
    if out.exists() and not out.is_dir():
        raise RTIError(f"{out}: exists and is not a folder")
    device = relighting.pick_device(config.device)
    together = args.together or (GPU_SCENES if device.type == "cuda" else 1)
    done: dict[str, dict] = {}
    todo: list[tuple[int, str, Path]] = []
    for number, (name, source) in enumerate(scenes, 1):
        if (out / name / "train.json").is_file() and not args.force:
            done[name] = json.loads((out / name / "train.json").read_text())
            if ranks.leader:
                _say(args, mode, {"phase": "scene", "event": "skipped", "scene": name, "number": number,
                                  "count": len(scenes)},
                     f"scene {number}/{len(scenes)} {name}: trained before, skipped")
        else:
            todo.append((number, name, source))
    ranks.barrier()  # every rank has listed what is left before any writes a scene
    mine = todo[ranks.rank :: ranks.size]
    tag = {"rank": ranks.rank} if ranks.size > 1 else {}
    clock = time.monotonic()

    def job(number: int, name: str, source: Path) -> Callable[[], Generator[None, None, dict]]:
        def start() -> Generator[None, None, dict]:
            _say(args, mode, {"phase": "scene", "event": "start", "scene": name, "number": number,
                              "count": len(scenes), **tag}, f"scene {number}/{len(scenes)} {name}")
            target = out / name
            target.parent.mkdir(parents=True, exist_ok=True)  # a suite's scenes are nested: the checkpoint goes there
            resume = args.resume and target.with_name(target.name + ".checkpoint.pt").is_file()  # a stopped scene
            shown = "lines" if together > 1 and mode == "bar" else mode  # one bar at a time
            return _train_scene(args, config, source, target, Progress(shown, scene=name), resume)
        return start

    trained: dict[str, dict] = {}
    failed: dict[str, str] = {}
    for finished, (name, outcome) in enumerate(scheduler.run_all(
            ((name, job(number, name, source)) for number, name, source in mine), device, together), 1):
        elapsed = time.monotonic() - clock
        eta = elapsed / finished * (len(mine) - finished)
        if isinstance(outcome, RTIError):  # one bad capture does not stop the others
            failed[name] = str(outcome)
            _say(args, mode, {"phase": "scene", "event": "failed", "scene": name, "message": str(outcome), **tag},
                 f"scene {name} failed: {outcome}")
            continue
        trained[name] = outcome
        _say(args, mode, {"phase": "scene", "event": "done", "scene": name, "done": finished, "count": len(mine),
                          "elapsed": round(elapsed, 1), "eta": round(eta, 1), **tag},
             f"scenes done {finished}/{len(mine)} ({name}), {elapsed:.0f} s, about {eta:.0f} s left")
    for theirs in ranks.gather((trained, failed)):
        their_trained, their_failed = cast(tuple[dict[str, dict], dict[str, str]], theirs)
        done.update(their_trained)
        failed.update(their_failed)
    order = [name for name, _ in scenes]
    rows = [{"scene": name, "mlic": done[name]["mlic"], "recommended": done[name].get("recommended", {}).get("model"),
             "val_psnr": done[name].get("recommended", {}).get("val_psnr")} for name in order if name in done]
    rows += [{"scene": name, "error": failed[name]} for name in order if name in failed]
    if ranks.leader:
        with output_file(out / "runs.json", force=True) as tmp:
            tmp.write_text(json.dumps({"scenes": rows, "together": together, "device": device.type,
                                       "ranks": ranks.size, "seconds": round(time.monotonic() - clock, 1)},
                                      indent=1))
    if failed:
        first = next(name for name in order if name in failed)
        raise RTIError(f"{len(failed)} of {len(scenes)} scenes failed (the others are in {out}): {first}: "
                       f"{failed[first]}")
    if not ranks.leader:
        return
    if mode == "jsonl":
        emit({"phase": "all", "event": "done", "out": str(out), "scenes": len(rows)})
    else:
        print(f"wrote {len(rows)} scenes under {out} (summary: {out / 'runs.json'})")


def _say(args: argparse.Namespace, mode: str, record: dict, line: str) -> None:
    """Where a run of several scenes stands: a JSON record with ``--progress jsonl``, else a line on stderr."""
    if mode == "jsonl":
        emit(record)
    elif not args.quiet:
        print(line, file=sys.stderr, flush=True)


def _train_scene(args: argparse.Namespace, config: TrainConfig, source: Path, out: Path, progress: Progress,
                 resume: bool, ranks: Ranks | None = None) -> Generator[None, None, dict]:
    """Train one capture into ``out`` (teacher, student, train.json, hsh3 when recommended), from its checkpoint
    with ``resume``; its summary. A yielding job (``core.neural.scheduler``). Under several ``ranks`` the capture
    trains data parallel and the first rank alone writes (the others return an empty summary)."""
    from .neural import train
    from .neural.ranks import SOLO

    checkpoint = out.with_name(out.name + ".checkpoint.pt")
    need = memory.Need("training", memory.TRAINING_PER_PIXEL)
    data = splits.load_part(source, "train", quiet=args.quiet, need=need)
    try:
        trained = yield from train.training(data, config, progress, checkpoint, resume=resume, ranks=ranks or SOLO)
    except KeyboardInterrupt:
        if checkpoint.is_file():
            print(f"interrupted; continue from {checkpoint} with --resume", file=sys.stderr)
        raise
    if ranks is not None and not ranks.leader:
        return {}
    best = recommend.recommend({role: model.training for role, model in trained.items()})
    for model in trained.values():
        model.training["recommended"] = best.get("model")
    with output_dir(out, force=args.force) as tmp:
        for role, model in trained.items():
            neuralweb.write(model, tmp / role, quality=args.quality, layout=args.layout, quiet=args.quiet)
        if best.get("model") == "hsh3":  # HSH3 relights this capture best: its fit of every light, beside
            hsh3 = fitting.fit(data, "hsh3", quiet=args.quiet)
            hsh3.training.update(role="hsh3", recommended="hsh3", val_psnr=best["val_psnr"]["hsh3"],
                                 val_lights=next(iter(trained.values())).training["val_lights"])
            models.save(hsh3, tmp / "hsh3", layout=args.layout, quiet=args.quiet)
        summary = {"mlic": str(data.source), "config": config.result_keys(),
                   "models": {role: model.training for role, model in trained.items()}, "recommended": best}
        (tmp / "train.json").write_text(json.dumps(summary, indent=1))
    checkpoint.unlink(missing_ok=True)
    scene = {"scene": progress.scene} if progress.scene else {}  # several scenes at once: say which
    prefix = f"{progress.scene}: " if progress.scene else ""
    for role, model in trained.items():
        t = model.training
        batch = f" of {t['batch']} pixels" if "batch" in t else ""  # a checkpoint of an older version has none
        line = (f"{prefix}{role}: {t['decoder_parameters']} decoder parameters, {t['steps']} steps{batch} in "
                f"{t['seconds']:.1f} s on {t['device']} ({t['stopped']}), {t['val_psnr']:.2f} dB at "
                f"{len(t['val_lights'])} held-out lights (HSH3 {t['hsh3_val_psnr']:.2f} dB)")
        if progress.mode == "jsonl":
            emit({**scene, "phase": role, "event": "done", **t})
        else:
            print(line)
    written = [*trained, *(["hsh3"] if best.get("model") == "hsh3" else [])]
    if progress.mode == "jsonl":
        if best:
            emit({**scene, "phase": "all", "event": "recommended", **best})
        emit({**scene, "phase": "all", "event": "done", "out": str(out)})
    else:
        if best:
            print(f"{prefix}recommended: {best['model']} ({best['why']})")
        print(f"wrote {', '.join(f'{out}/{role}' for role in written)}")
    return summary


def cmd_analytic(args: argparse.Namespace) -> None:
    if args.size < 16:
        raise RTIError(f"--size must be at least 16 pixels, got {args.size}")
    train, test = analytic.scene(args.size, args.seed)
    splits.write_split(train, test, args.out, force=args.force)
    print(f"wrote {args.out}/train ({train.count} lights) and {args.out}/test ({test.count} lights)")


def cmd_enlarge(args: argparse.Namespace) -> None:
    from .capture import enlarge

    size = enlarge.parse_size(args.size)
    if args.relief < 0:
        raise RTIError(f"--relief must be zero or more, got {args.relief}")
    written = enlarge.enlarge(args.mlic, args.out, size, args.relief, args.seed, f".{args.format}", args.quality,
                              force=args.force, quiet=args.quiet)
    print(f"wrote {', '.join(str(p) for p in written)}: {size[0]}x{size[1]} pixels "
          f"({size[0] * size[1] / 1e6:.1f} MP)")


def cmd_report(args: argparse.Namespace) -> None:
    from .quality import report  # matplotlib loads only for the report

    if collection.is_collection(args.test):
        _report_scenes(args)
        return
    need = memory.Need("the report", 4 * fitting.coefficients_per_pixel("hsh3") + memory.SCORING_PER_PIXEL)
    test = splits.load_part(args.test[0], "test", quiet=args.quiet, need=need)
    labelled = [_labelled(text) for text in args.models]
    labels = [label for label, _ in labelled]
    twice = sorted({label for label in labels if labels.count(label) > 1})
    if twice:
        raise RTIError(f"two models are labelled {twice[0]!r}: name them as LABEL=MODEL")
    check_target(Path(args.out), args.force)
    entries = []
    for label, path in tqdm(labelled, desc="scoring", unit="model", disable=args.quiet or None, leave=False):
        entries.append(report.score(label, path, test, args.device))
    command = "python -m core " + " ".join(sys.argv[1:]) if args.command_line is None else args.command_line
    report.write(entries, test, args.out, title=args.title, command=command, force=args.force)
    if args.json_out:
        with output_file(args.json_out, force=True) as tmp:
            tmp.write_text(json.dumps(report.to_json(entries), indent=1))
    print(report.table(entries))
    print(f"wrote {args.out}")


def _report_scenes(args: argparse.Namespace) -> None:
    """``report RUN --test A B …``: a run of several scenes as one HTML table (and the text table)."""
    if len(args.models) != 1:
        raise RTIError("several test scenes go with one model argument: the run's folder (train A B … -o RUN)")
    check_target(Path(args.out), args.force)
    scores = runs.score(_labelled(args.models[0])[1], collection.scenes(args.test), args.device, args.quiet)
    command = "python -m core " + " ".join(sys.argv[1:]) if args.command_line is None else args.command_line
    with output_file(args.out, force=args.force) as tmp:
        tmp.write_text(runs.page(scores, args.title, command))
    if args.json_out:
        with output_file(args.json_out, force=True) as tmp:
            tmp.write_text(json.dumps(scores, indent=1))
    print(runs.table(scores))
    print(f"wrote {args.out}")


def _labelled(text: str) -> tuple[str, Path]:
    """``LABEL=PATH`` or ``PATH`` (labelled by its file or folder name)."""
    label, sep, path = text.partition("=")
    if not sep:
        label, path = Path(text).stem, text
    if not label or not path:
        raise RTIError(f"{text!r}: give a model as PATH or LABEL=PATH")
    return label, Path(path)


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("-q", "--quiet", action="store_true", help="no progress bars")
    writes = argparse.ArgumentParser(add_help=False)
    writes.add_argument("--force", action="store_true", help="replace an existing output")
    relights = argparse.ArgumentParser(add_help=False)
    relights.add_argument("--device", choices=DEVICES, default="auto",
                          help="where models are relit: a CUDA GPU when PyTorch sees one (auto, default), or the CPU")
    tiles = argparse.ArgumentParser(add_help=False)
    tiles.add_argument("--layout", choices=deepzoom.LAYOUTS, default="image",
                       help="model folders' planes: one image each (default), or deepzoom: tiled for the web "
                            "(plane_K.dzi and plane_K_files/, OpenLIME's deepzoom layout)")
    planes = argparse.ArgumentParser(add_help=False, parents=[tiles])
    planes.add_argument("--format", choices=("jpg", "png"), default="jpg", help="plane images of web folders")
    planes.add_argument("--quality", type=int, help="JPEG quality of the planes (default 95; neural codes 100)")

    parser = argparse.ArgumentParser(prog="python -m core", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", parents=[common], help="describe an MLIC")
    p.add_argument("mlic", help="MLIC folder or its .lp file")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=cmd_info)

    p = sub.add_parser("split", parents=[common, writes], help="hold out every k-th light: OUT/train, OUT/test")
    p.add_argument("mlic", help="MLIC folder or its .lp file")
    p.add_argument("--every", type=int, default=8, help="hold out one light in this many (default 8)")
    p.add_argument("--offset", type=int, default=0, help="index of the first held-out light (default 0)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("fit", parents=[common, writes, planes], help="fit a PTM or HSH model")
    p.add_argument("mlic", help="MLIC folder, its .lp file, or a split folder (its train part is used)")
    p.add_argument("-m", "--method", choices=fitting.METHODS, required=True)
    p.add_argument("-o", "--out", required=True, help="model folder (web format), or a .ptm / .rti file")
    p.set_defaults(func=cmd_fit)

    p = sub.add_parser("export", parents=[common, writes, planes], help="convert a model to another format")
    p.add_argument("model", help="model folder, .ptm or .rti file")
    p.add_argument("-o", "--out", required=True, help="model folder (web format), or a .ptm / .rti file")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("relight", parents=[common, writes, relights], help="render PNG images under new lights")
    p.add_argument("model", help="model folder, .ptm or .rti file")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--light", nargs=3, type=float, action="append", metavar=("X", "Y", "Z"),
                       help="a light direction (repeatable)")
    which.add_argument("--lp", help="an .lp file of light directions (its names are used for the images)")
    p.add_argument("-o", "--out", required=True, help="output folder (images + dirs.lp), or one .png file")
    p.set_defaults(func=cmd_relight)

    p = sub.add_parser("lights", parents=[common, writes], help="light directions from reflective spheres")
    p.add_argument("folder", help="a folder of photos, each with the sphere(s) in frame")
    p.add_argument("-o", "--out", help="the .lp file to write; without it, compare with the folder's own .lp")
    p.add_argument("--sphere", action="append", metavar="X,Y,R",
                   help="a sphere's centre and radius in pixels (repeatable; default: found in the photos)")
    p.add_argument("--crop", metavar="X,Y,W,H", help="look for spheres only inside this rectangle")
    p.add_argument("--drop-bad", action="store_true", help="leave out images without a usable highlight")
    p.add_argument("--preview", help="a PNG showing each sphere, its circle and every highlight with its index")
    p.set_defaults(func=cmd_lights)

    p = sub.add_parser("normals", parents=[common, writes, relights],
                       help="surface normals and albedo (photometric stereo)")
    p.add_argument("input", help="MLIC (or a split folder: its train part), or a model folder, .ptm or .rti file")
    p.add_argument("-o", "--out", help="output folder for normals.png (and albedo.png); default for a model folder: "
                                       "the folder itself")
    p.add_argument("--method", choices=("l2", "robust"), default="l2",
                   help="l2: least squares over every sample (default); robust: leave out each pixel's saturated, "
                        "shadowed and highlight samples")
    p.add_argument("--albedo", action="store_true", help="also write albedo.png (linear albedo, sRGB-encoded)")
    p.set_defaults(func=cmd_normals)

    p = sub.add_parser("relief", parents=[common, writes, relights],
                       help="a height map (and a mesh) integrated from the surface normals")
    p.add_argument("input", help="MLIC (or a split folder: its train part), a model folder (its normals.png when it "
                                 "has one), .ptm or .rti file, or a normal map PNG")
    p.add_argument("-o", "--out", required=True, help="output folder: height.tif (32-bit float; pixel widths, or mm "
                                                      "with a scale), height.png (16-bit preview), relief.json")
    p.add_argument("--method", choices=("robust", "poisson", "fc"), default="robust",
                   help="robust: least squares reweighted against wrong normals at shadow edges (default); poisson: "
                        "plain least squares (fastest); fc: Frankot-Chellappa (periodic)")
    p.add_argument("--normals", choices=("l2", "robust"), default="robust",
                   help="how normals are estimated from an MLIC or a model (default robust; see normals)")
    p.add_argument("--mask", help="mask PNG (non-zero = inside); default: the MLIC's mask.png")
    scale = p.add_mutually_exclusive_group()
    scale.add_argument("--mm-per-pixel", type=float, help="heights and the mesh in millimetres at this scale")
    scale.add_argument("--width-mm", type=float, help="the frame's width in millimetres (sets the scale)")
    p.add_argument("--mesh", help="also write the surface as a mesh: .ply (binary, coloured by the albedo when it is "
                                  "known) or .obj")
    p.add_argument("--mesh-step", type=int, default=0, metavar="K",
                   help="one mesh vertex every K pixels (default: 1, or more to stay under 4 million vertices)")
    p.set_defaults(func=cmd_relief)

    p = sub.add_parser("views", parents=[common, writes, relights],
                       help="the maps behind the add-on's analysis views of a model, as an .npz file")
    p.add_argument("model", help="model folder (its normals.png is used when it has one), .ptm or .rti file")
    p.add_argument("-o", "--out", required=True, help="the .npz file to write")
    p.add_argument("--progress", choices=("bar", "jsonl", "none"),
                   help="a bar (default on a terminal) or JSON lines on stdout for programs")
    p.set_defaults(func=cmd_views)

    p = sub.add_parser("eval", parents=[common, relights], help="PSNR/SSIM on held-out lights")
    p.add_argument("model", help="model folder, .ptm or .rti file")
    p.add_argument("--test", required=True, nargs="+", help="test MLIC, or a split folder (its test part is used); "
                   "several, or a suite's index.json, with MODEL a run of several scenes: one table of all")
    p.add_argument("--mask", help="mask PNG (non-zero = inside) for masked scores")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    p.add_argument("--json-out", help="also write the JSON report to this file")
    p.add_argument("--lossless", action="store_true",
                   help="neural folders: also score the float codes (codes.npy), to show what the 8-bit planes cost "
                        "(relights every test light twice)")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("enlarge", parents=[common, writes],
                       help="a large test capture: an MLIC upscaled, with fine relief and texture added")
    p.add_argument("mlic", help="MLIC folder, its .lp file, or a split folder (both parts, with the same relief)")
    p.add_argument("-o", "--out", required=True, help="output folder")
    p.add_argument("--size", required=True, metavar="WxH", help="the new size in pixels, e.g. 8192x6144 (50 MP)")
    p.add_argument("--relief", type=float, default=0.05, metavar="SLOPE",
                   help="RMS slope of the added relief (default 0.05; 0: texture only)")
    p.add_argument("--seed", type=int, default=0, help="the relief and texture (default 0)")
    p.add_argument("--format", choices=("jpg", "png"), default="jpg", help="image files (default jpg, 8-bit)")
    p.add_argument("--quality", type=int, default=95, help="JPEG quality (default 95)")
    p.set_defaults(func=cmd_enlarge)

    p = sub.add_parser("train", parents=[common, writes, tiles], help="train neural models: DisK teacher + student")
    p.add_argument("mlic", nargs="+", help="MLIC folder, its .lp file, or a split folder (its train part is used); "
                   "several, or a synth suite's index.json, train each into OUT/<scene>")
    p.add_argument("-o", "--out", required=True, help="output folder: OUT/teacher, OUT/student, OUT/train.json "
                   "(several scenes: OUT/<scene>/..., finished scenes skipped, OUT/runs.json)")
    only = p.add_mutually_exclusive_group()
    only.add_argument("--teacher-only", action="store_true", help="train the teacher alone")
    only.add_argument("--student-only", action="store_true", help="train the student alone (with --direct)")
    p.add_argument("--direct", action="store_true", help="train the student on the photos only, no teacher")
    defaults = TrainConfig()
    p.add_argument("--teacher", choices=TEACHERS, default=defaults.teacher,
                   help="teacher network: DisK's (4 encoder layers, default) or the original NeuralRTI (3)")
    p.add_argument("--student-width", type=int, default=defaults.student_width,
                   help=f"student decoder width (default {defaults.student_width}: 723 params)")
    p.add_argument("--recipe", choices=RECIPES, default=defaults.recipe,
                   help="fast (default) or the released reference recipe (batch 64, epochs, patience 5)")
    p.add_argument("--steps", type=int, default=defaults.steps,
                   help=f"fast recipe: optimiser steps of the teacher (default {defaults.steps})")
    p.add_argument("--student-steps", type=int, default=defaults.student_steps,
                   help="fast recipe: optimiser steps of the student, distilled or direct "
                        f"(default {defaults.student_steps})")
    p.add_argument("--batch", type=int, default=defaults.batch, help="pixels (fast) or samples (reference) per step")
    p.add_argument("--lights-per-step", type=int, default=defaults.lights_per_step,
                   help="fast recipe: lights decoded per pixel")
    p.add_argument("--lr", type=float, default=defaults.lr,
                   help=f"peak learning rate (default {defaults.lr}; fast-recipe students: see --student-lr)")
    p.add_argument("--student-lr", type=float, default=defaults.student_lr,
                   help=f"fast recipe: students' peak learning rate (default {GPU_STUDENT_LR} on a GPU, --lr on a CPU)")
    p.add_argument("--beta2", type=float, default=defaults.beta2,
                   help=f"fast recipe: Adam's beta2 (default {defaults.beta2})")
    p.add_argument("--alpha", type=float, default=defaults.alpha,
                   help=f"weight of the ground truth in distillation (default {defaults.alpha})")
    p.add_argument("--temperature", type=float, default=defaults.temperature,
                   help=f"distillation temperature T (default {defaults.temperature})")
    p.add_argument("--distill-lights", type=int, default=defaults.distill_lights, metavar="N",
                   help="random light directions a step where the student matches its teacher (fast recipe; "
                        f"default {defaults.distill_lights}; 0: at the training lights only)")
    p.add_argument("--candidates", type=int, default=defaults.candidates, metavar="K",
                   help="fast recipe: students trained at once from different starts, the best validated one kept "
                        f"(default: {GPU_CANDIDATES} on a GPU, 1 on a CPU)")
    p.add_argument("--teacher-candidates", type=int, default=defaults.teacher_candidates, metavar="K",
                   help="fast recipe: teachers trained at once from different starts, the best validated one "
                        f"distilled and kept (default {defaults.teacher_candidates})")
    p.add_argument("--teacher-mean", action="store_true",
                   help="with --teacher-candidates: distil the student from the candidates' mean prediction")
    p.add_argument("--population", action="store_true",
                   help="fast recipe: also train every network with the other device's batches (on a GPU the CPU's "
                        "128 pixels × 16 lights), side by side, and keep the best validated one")
    p.add_argument("--precision", choices=PRECISIONS, default=defaults.precision,
                   help="number format of a training step's activations (weights, codes and models stay float32; "
                        f"default {defaults.precision})")
    p.add_argument("--together", type=int, default=0, metavar="N",
                   help=f"several scenes: train N at once (default {GPU_SCENES} on a GPU, where one training leaves "
                        "it mostly idle, 1 on a CPU; each scene's models are those of a run on its own)")
    p.add_argument("--val-every", type=int, default=defaults.val_every, metavar="K",
                   help="hold every K-th light out of training to validate at unseen lights "
                        f"(default {defaults.val_every})")
    p.add_argument("--refit", type=float, default=defaults.refit, metavar="F",
                   help="fast recipe: then train F of the steps more on every light, held-out ones included "
                        f"(default {defaults.refit}; 0 keeps them out of the models)")
    p.add_argument("--no-hsh3-restart", action="store_true",
                   help="fast recipe: keep a network that ends over 2 dB below an HSH3 fit at the held-out lights "
                        "instead of restarting it (short trial runs)")
    p.add_argument("--device", choices=DEVICES, default=defaults.device)
    p.add_argument("--seed", type=int, default=defaults.seed,
                   help=f"makes CPU runs reproducible (default {defaults.seed})")
    p.add_argument("--time-budget", type=float, default=defaults.time_budget, metavar="SECONDS",
                   help="stop then, keeping the best model")
    p.add_argument("--checkpoint-every", type=float, default=defaults.checkpoint_every, metavar="SECONDS",
                   help=f"write OUT.checkpoint.pt this often (default {defaults.checkpoint_every:g})")
    p.add_argument("--resume", action="store_true", help="continue from OUT.checkpoint.pt")
    p.add_argument("--progress", choices=("bar", "jsonl", "none"),
                   help="a bar (default on a terminal) or JSON lines on stdout for programs")
    p.add_argument("--quality", type=int, default=neuralweb.QUALITY, help="JPEG quality of the code planes")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("report", parents=[common, writes, relights],
                       help="compare models on held-out lights: a table and a self-contained HTML page")
    p.add_argument("models", nargs="+", metavar="[LABEL=]MODEL",
                   help="model folders or files; LABEL names one in the report (default: its file or folder name)")
    p.add_argument("--test", required=True, nargs="+", help="test MLIC, or a split folder (its test part is used); "
                   "several, or a suite's index.json, with MODEL a run of several scenes: one table of all")
    p.add_argument("-o", "--out", required=True, help="the report's .html file")
    p.add_argument("--title", default="RTI model comparison", help="the page's title")
    p.add_argument("--json-out", help="also write every model's scores (and per-light scores) to this JSON file")
    p.add_argument("--command-line", help="how the models were made, shown at the end of the page")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("analytic", parents=[common, writes], help="write an analytic test MLIC (no Blender)")
    p.add_argument("-o", "--out", required=True, help="output split folder (train/ and test/)")
    p.add_argument("--size", type=int, default=192, help="image size in pixels (default 192)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=cmd_analytic)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(format="warning: %(message)s", level=logging.WARNING, stream=sys.stderr)
    return exit_status(lambda: args.func(args))
