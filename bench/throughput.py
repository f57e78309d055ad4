"""Throughput, for the assembler's and the disassembler's benchmarks: items per second.

Both measure a piece of work over the whole instruction corpus: the rate is the
number of items over the median time of several runs, with garbage collected
before each run so that no run pays for another's.  Rows are dicts (``tool``,
``per second``, the item count under ``lines`` or ``instructions``, ``vs PEER``
ratios, ``target``, ``note``); ``print_rows`` shows them one per line.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable

COUNT_KEYS = ("lines", "instructions")


def median_rate(work: Callable[[], object], count: int, repeat: int,
                before: Callable[[], object] | None = None, warm_up: bool = False) -> float:
    """``count`` over the median seconds of ``repeat`` runs of ``work()``.

    ``before()`` runs, untimed, ahead of each run; ``warm_up`` runs ``work()`` once,
    untimed, ahead of them all (tables built, caches filled).
    """
    if warm_up:
        work()
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        gc.collect()
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def print_rows(rows: list[dict]) -> None:
    """One line per row: tool | rate over the count | ratios to peers | target | note."""
    for row in rows:
        parts = [row["tool"]]
        if "per second" in row:
            unit = next(key for key in COUNT_KEYS if key in row)
            parts.append(f"{row['per second']:,.0f}/s over {row[unit]:,} {unit}")
        parts += [f"{value:.2f}x {key[3:]}" for key, value in row.items() if key.startswith("vs ")]
        if "target" in row:
            met = "meets" if row["per second"] >= row["target"] else "below"
            parts.append(f"{met} target {row['target']:,}/s")
        if "note" in row:
            parts.append(row["note"])
        print(" | ".join(parts))
