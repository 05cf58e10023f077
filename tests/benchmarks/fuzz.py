"""``fuzz``: the readers' property tests (``tests/test_fuzz.py``) at ``FUZZ_EXAMPLES`` examples per reader (default
10,000), tabulated as loaded / rejected / crashed. A crash fails its test; hypothesis then prints the smallest input
that crashes."""

from __future__ import annotations

import os

import pytest

from .report import ROOT, table, write_section

EXAMPLES = int(os.environ.setdefault("FUZZ_EXAMPLES", "10000"))


def fuzz() -> None:
    from tests import test_fuzz  # imported once FUZZ_EXAMPLES is set, the same module pytest runs

    status = pytest.main(["-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "test_fuzz.py")])
    rows = [[label, sum(c.values()), c["loaded"], c["rejected"], c["crashed"]]
            for label, c in sorted(test_fuzz.OUTCOMES.items())]
    verdict = "no crash" if status == 0 and not any(row[4] for row in rows) else "**crashes: see the test output**"
    write_section("fuzz", "Readers under fuzzing",
                  f"Each reader's property test at {EXAMPLES} examples (hypothesis, derandomised: the same inputs every "
                  "run; the runs include hypothesis's own shrinking and replays). Loaded: read without error; "
                  "rejected: one `RTIError` line; crashed: anything else. Verdict: "
                  f"{verdict}.\n\n" + table(["reader and inputs", "examples run", "loaded", "rejected", "crashed"], rows),
                  f"python3 build.py fuzz {EXAMPLES}")
    if status:
        raise SystemExit(f"fuzzing found crashes (pytest status {status})")
