"""bench/asm_speed.py runs on the current corpus (a smoke test: no timing is asserted)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parent.parent / "bench" / "asm_speed.py"


def test_asm_speed_runs_over_the_whole_corpus():
    spec = importlib.util.spec_from_file_location("asm_speed", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    rows = module.run(1)
    ours = [row for row in rows if row["tool"].startswith("minijit")]
    assert len(ours) == 5
    assert all(row["per second"] > 0 and row["lines"] > 10000 for row in ours)
    assert all("per second" in row or "note" in row for row in rows)
