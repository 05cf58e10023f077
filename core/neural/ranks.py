"""Several processes of one ``torchrun`` launch: which one this is, its device, and what they exchange.

``torchrun --nproc-per-node K -m core train ...`` (or several machines through its c10d rendezvous) starts K
processes with ``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK`` set; ``start`` joins them with ``torch.distributed``
(NCCL between GPUs, gloo on CPUs). Without those variables a run is one process of one rank and nothing is joined.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

import torch
import torch.distributed as dist

from ..errors import Stopped

TIMEOUT = timedelta(minutes=30)
"""How long a collective waits for the other ranks (a rank still training its last scene)."""
RESUME = "the same command with --resume continues from the last checkpoint"


@dataclass(frozen=True)
class Ranks:
    """This process's rank among ``size``, and where its collectives' tensors live (CUDA for NCCL)."""

    rank: int = 0
    size: int = 1
    device: str = "cpu"

    @property
    def leader(self) -> bool:
        """Whether this rank writes what the run writes once (summaries)."""
        return self.rank == 0

    def gather(self, value: object) -> list[object]:
        """Every rank's ``value``, in rank order, on every rank."""
        if self.size == 1:
            return [value]
        found: list[object] = [None] * self.size
        with self.exchange():
            dist.all_gather_object(found, value)
        return found

    def average(self, tensors: list[torch.Tensor]) -> None:
        """Replace each tensor, in place, by its mean over the ranks (one all-reduce of them all)."""
        if self.size == 1:
            return
        flat = torch.cat([t.reshape(-1) for t in tensors])
        with self.exchange():
            dist.all_reduce(flat)
        flat /= self.size
        for tensor, part in zip(tensors, flat.split([t.numel() for t in tensors]), strict=True):
            tensor.copy_(part.view_as(tensor))

    def mean(self, values: list[float]) -> list[float]:
        """The mean of each value over the ranks, the same on every rank (decisions taken from it agree)."""
        if self.size == 1:
            return values
        shared = torch.tensor(values, dtype=torch.float64, device=self.device)
        with self.exchange():
            dist.all_reduce(shared)
        return (shared / self.size).tolist()

    def barrier(self) -> None:
        if self.size > 1:
            with self.exchange():
                dist.barrier()

    @contextmanager
    def exchange(self) -> Iterator[None]:
        """A collective; a peer that died on the way ends this rank with one line instead of a backend traceback."""
        try:
            yield
        except torch.cuda.OutOfMemoryError:
            raise
        except RuntimeError as exc:  # torch.distributed's errors (DistBackendError; gloo's are plain RuntimeErrors)
            reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            reason = reason.split("] ", 1)[-1].split(". ")[0]  # gloo: "[file:line] Connection closed by peer …. …"
            raise Stopped(f"rank {self.rank}: lost the other ranks of this launch ({reason}); {RESUME}") from None

    def stopped(self, signum: int, frame: object) -> None:
        """SIGTERM: torchrun ends the other ranks this way once one fails."""
        raise Stopped(f"rank {self.rank}: stopped, since another rank of this torchrun launch ended (its report "
                      f"follows); {RESUME}")

    def close(self) -> None:
        if self.size > 1 and dist.is_initialized():
            dist.destroy_process_group()


def start(device: str) -> Ranks:
    """Join the ``torchrun`` launch this process belongs to, if any; ``device`` is the ``--device`` asked for (auto,
    cpu, cuda): with CUDA each rank makes the GPU of its ``LOCAL_RANK`` its current one, which "cuda" then means. More
    ranks than GPUs on a machine share them in turn, exchanging through gloo (slower than NCCL: for trials)."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return Ranks()
    cuda = device != "cpu" and torch.cuda.is_available()
    backend = "nccl" if cuda else "gloo"
    if cuda:
        gpus = torch.cuda.device_count()
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")) % gpus)
        if int(os.environ.get("LOCAL_WORLD_SIZE", "1")) > gpus:
            backend = "gloo"  # NCCL refuses two ranks on one GPU; gloo exchanges through the host
    dist.init_process_group(backend, timeout=TIMEOUT)
    ranks = Ranks(dist.get_rank(), dist.get_world_size(), "cuda" if cuda else "cpu")
    signal.signal(signal.SIGTERM, ranks.stopped)
    return ranks


SOLO = Ranks()
"""A run of one process."""
