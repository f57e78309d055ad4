"""bench/call_overhead.py runs and reports every row (speed itself is not asserted here)."""

from __future__ import annotations

import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH_DIR))

import call_overhead


def test_every_row_has_a_time_and_ratio_or_a_note(monkeypatch):
    monkeypatch.setattr(call_overhead, "CALLS", 1000)
    rows = call_overhead.run(2)
    assert [row["callable"] for row in rows] == [label for label, _ in call_overhead.CALLABLES]
    for row in rows:
        assert ("ns per call" in row and row["ns per call"] > 0) or row.get("note")
    [base] = [row for row in rows if row["callable"] == call_overhead.BASELINE]
    assert base["ratio to operator.add"] == 1.0
    table = call_overhead.format_rows(rows)
    assert table.count("\n") == len(rows) + 1
    assert "minijit entry" in table


def test_a_missing_peer_is_a_note(monkeypatch):
    def missing() -> object:
        raise LookupError("Numba is not installed (pip install numba)")

    monkeypatch.setattr(call_overhead, "CALLS", 10)
    monkeypatch.setattr(
        call_overhead, "CALLABLES", [*call_overhead.CALLABLES[:2], ("Numba njit", missing)]
    )
    rows = call_overhead.run(1)
    assert rows[-1] == {
        "callable": "Numba njit",
        "note": "Numba is not installed (pip install numba)",
    }
    assert "| Numba njit | n/a | Numba is not installed" in call_overhead.format_rows(rows)
