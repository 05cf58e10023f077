"""``python -m tests.benchmarks [NAME ...]``: run benchmarks (default: all) and rewrite their BENCHMARKS.md sections."""

from __future__ import annotations

import sys

from . import classic

BENCHMARKS = {
    "classic_fit": classic.classic_fit,
    "classic_memory": classic.classic_memory,
    "icon_classic": classic.icon_classic,
}


def main(names: list[str]) -> int:
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"error: unknown benchmark {', '.join(unknown)} (choose from {', '.join(BENCHMARKS)})", file=sys.stderr)
        return 2
    for name in names or list(BENCHMARKS):
        print(f"benchmark {name} ...", flush=True)
        BENCHMARKS[name]()
    print("BENCHMARKS.md updated")
    return 0


raise SystemExit(main(sys.argv[1:]))
