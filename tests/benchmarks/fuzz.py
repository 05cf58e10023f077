"""``fuzz``: the readers' property tests (``tests/test_fuzz.py``) at ``FUZZ_EXAMPLES`` examples per reader (default
10,000), tabulated as loaded / rejected / crashed. Each test runs in its own process, as many at once as there are
cores; a crash fails its test, and hypothesis prints the smallest input that crashes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .report import ROOT, table, write_section

EXAMPLES = int(os.environ.setdefault("FUZZ_EXAMPLES", "10000"))
TESTS = ROOT / "tests" / "test_fuzz.py"


def test_ids() -> list[str]:
    """The fuzz tests' node ids, one per reader and kind of input."""
    listing = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                              str(TESTS)], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if "::" in line]


def run_one(test_id: str, outcomes: Path) -> tuple[int, float, dict[str, Counter]]:
    """Run one fuzz test in its own pytest process; its status, seconds and tally (``FUZZ_OUTCOMES``)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_id], cwd=ROOT,
                          env={**os.environ, "FUZZ_OUTCOMES": str(outcomes)}, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    tally = json.loads(outcomes.read_text()) if outcomes.exists() else {}
    print(f"{test_id}: {'passed' if done.returncode == 0 else 'FAILED'} in {seconds:.0f} s", flush=True)
    if done.returncode:
        print(done.stdout[-6000:], flush=True)
    return done.returncode, seconds, {label: Counter(c) for label, c in tally.items()}


def fuzz() -> None:
    ids = test_ids()
    with tempfile.TemporaryDirectory() as scratch, ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        results = list(pool.map(run_one, ids, [Path(scratch) / f"{i}.json" for i in range(len(ids))]))
    rows = [[label, sum(c.values()), c["loaded"], c["rejected"], c["crashed"], f"{seconds:.0f}"]
            for status, seconds, tally in results for label, c in sorted(tally.items())]
    failed = [test_id for test_id, (status, _, _) in zip(ids, results) if status]
    skipped = len([1 for status, _, tally in results if not status and not tally])
    verdict = "no crash" if not failed else f"**{len(failed)} tests crashed: see their output**"
    write_section("fuzz", "Readers under fuzzing",
                  f"Each reader's property test at {EXAMPLES} examples (hypothesis, derandomised: the same inputs "
                  "every "
                  "run; the runs include hypothesis's own shrinking and replays), each in its own process. Loaded: "
                  "read without error; rejected: one `RTIError` line; crashed: anything else. Verdict: "
                  f"{verdict}; {skipped} tests skipped (../shared missing).\n\n"
                  + table(["reader and inputs", "examples run", "loaded", "rejected", "crashed", "seconds"], rows),
                  f"python3 build.py fuzz {EXAMPLES}")
    if failed:
        raise SystemExit(f"fuzzing found crashes in {', '.join(failed)}")
