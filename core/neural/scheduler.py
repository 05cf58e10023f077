"""Several trainings at once in one process, each on its own CUDA stream.

A training is a generator that yields whenever it has queued a burst of steps and is about to wait for their result
(``core.neural.train.Steps``). ``run_all`` resumes the running ones in turn, each under its own stream, so the GPU
holds the queued steps of all of them and runs their small kernels side by side: one training's steps are bound by
kernel launches and use a few percent of the GPU, and separate processes take turns on it instead. Every training
keeps its own data, held-out lights, early stopping, restarts, refit and random generators, so its models are those
of a run on its own. On a CPU the trainings simply take turns. ``side_by_side`` does the same inside one training,
for networks of different settings (``--population``).
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import nullcontext
from typing import TypeVar

import torch

from ..errors import RTIError

K = TypeVar("K")
R = TypeVar("R")
Job = Generator[None, None, R]


def finish(job: Job[R]) -> R:
    """Run one yielding training (or anything built on one) to its end; its result."""
    while True:
        try:
            next(job)
        except StopIteration as end:
            return end.value


def side_by_side(jobs: list[Job[R]], device: torch.device,
                 failures: tuple[type[Exception], ...]) -> Generator[None, None, list[R | Exception]]:
    """Several yielding jobs of one training (networks of different settings) at once, the first on the caller's
    stream and each other on one of its own, as one yielding job: yields after each round, and returns their results
    in order, a job that raised one of ``failures`` with that exception in its place (others end everything)."""
    streams = [None] + [torch.cuda.Stream(device) if device.type == "cuda" else None for _ in jobs[1:]]
    for stream in streams:
        if stream is not None:
            stream.wait_stream(torch.cuda.current_stream(device))  # the data the caller's stream prepared
    results: dict[int, R | Exception] = {}
    while len(results) < len(jobs):
        for k, (job, stream) in enumerate(zip(jobs, streams)):
            if k in results:
                continue
            try:
                with torch.cuda.stream(stream) if stream is not None else nullcontext():
                    next(job)
            except StopIteration as end:
                results[k] = end.value
            except failures as exc:
                results[k] = exc
        yield
    for stream in streams:
        if stream is not None:
            torch.cuda.current_stream(device).wait_stream(stream)
    return [results[k] for k in range(len(jobs))]


def run_all(jobs: Iterable[tuple[K, Callable[[], Job[R]]]], device: torch.device,
            width: int) -> Iterator[tuple[K, R | RTIError]]:
    """Run the jobs ``width`` at a time, each started (``make()``) when a place frees up; yields (key, its result, or
    the ``RTIError`` that ended it) as each one ends. Other exceptions end the whole run."""
    waiting = iter(jobs)
    streams = [torch.cuda.Stream(device) if device.type == "cuda" else None for _ in range(max(1, width))]
    running: list[tuple[K, Job[R], torch.cuda.Stream | None]] = []

    def fill() -> None:
        while streams:
            job = next(waiting, None)
            if job is None:
                return
            key, make = job
            running.append((key, make(), streams.pop()))

    fill()
    while running:
        for entry in list(running):
            key, job, stream = entry
            try:
                with torch.cuda.stream(stream) if stream is not None else nullcontext():
                    next(job)
                continue
            except StopIteration as end:
                outcome: R | RTIError = end.value
            except RTIError as exc:
                outcome = exc
            running.remove(entry)
            streams.append(stream)
            yield key, outcome
            fill()
