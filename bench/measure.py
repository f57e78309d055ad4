"""How things are timed: medians of repeats, in this process or in fresh ones.

Run times are taken in the runner's process, each repeat on freshly made
arguments (the array kernels write to theirs), after one untimed warm-up call
at the small size so that a lazy compiler has compiled.  What must not see a
warm process (a first call that compiles, an import, resident memory) runs in
a fresh interpreter: ``fresh.py`` prints one JSON object as its last line.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
FRESH = BENCH_DIR / "fresh.py"
#: The environment of fresh interpreters: a user's, with bytecode caches.  Some
#: environments set PYTHONDONTWRITEBYTECODE, which makes every start-up compile
#: every module from source and charges that to the import or first call measured.
FRESH_ENV = {key: value for key, value in os.environ.items()
             if key != "PYTHONDONTWRITEBYTECODE"}


def scrub(text: str) -> str:
    """``text`` without the folders of absolute paths (``/a/b/c.py`` -> ``c.py``):
    the results are published, the layout of the machine that made them is not."""
    return _FOLDERS.sub("", text)


_FOLDERS = re.compile(r"(?<![\w.])/(?:[^\s'\"():/]+/)+")


def describe(error: BaseException) -> str:
    """``Type: first line of the message``, for a note in the table."""
    lines = str(error).strip().splitlines()
    return scrub(f"{type(error).__name__}: {lines[0]}" if lines else type(error).__name__)


def median_run(function: Callable, make_args: Callable[[], tuple],
               repeat: int) -> tuple[float, object]:
    """Median seconds of ``repeat`` calls of ``function(*make_args())``, and its result.

    Every call must return the same result; a kernel that does not is broken.
    """
    times, results = [], []
    for _ in range(repeat):
        args = make_args()
        start = time.perf_counter()
        result = function(*args)
        times.append(time.perf_counter() - start)
        results.append(result)
    if any(r != results[0] for r in results):
        raise AssertionError(f"results differ between repeats: {results}")
    return statistics.median(times), results[0]


def fresh(*argv: str, timeout: float = 600) -> dict:
    """Run ``fresh.py argv...`` in a new interpreter; its JSON answer, or {"error": ...}.

    A process killed by a signal (compiled code that crashed) also sets "crashed".
    """
    try:
        result = subprocess.run([sys.executable, str(FRESH), *argv], capture_output=True,
                                text=True, timeout=timeout, check=False, env=FRESH_ENV)
    except subprocess.TimeoutExpired:
        return {"error": f"no answer within {timeout:g} s"}
    if result.returncode < 0:
        return {"error": f"the process was killed by signal {-result.returncode}",
                "crashed": True}
    lines = result.stdout.strip().splitlines()
    if result.returncode != 0 or not lines:
        tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": scrub(f"exit status {result.returncode}: {tail}")}
    return json.loads(lines[-1])


def median_fresh(repeat: int, *argv: str) -> dict:
    """``fresh(*argv)`` ``repeat`` times; the median of its "seconds", or the first error.

    One untimed run first, so that the bytecode caches exist, as they do for a user.
    """
    answers = [fresh(*argv)]
    if "error" in answers[0]:
        return answers[0]
    answers = []
    for _ in range(repeat):
        answers.append(fresh(*argv))
        if "error" in answers[-1]:
            return answers[-1]
    merged = dict(answers[0])
    merged["seconds"] = statistics.median(a["seconds"] for a in answers)
    return merged


def median_wall(repeat: int, argv: list[str]) -> float:
    """Median wall-clock seconds of running ``argv`` to completion."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, env=FRESH_ENV)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def per_call_ns(function: Callable, calls: int, repeat: int) -> float:
    """Median nanoseconds per ``function(1, 2)`` over ``calls`` calls in one loop."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(calls):
            function(1, 2)
        times.append(time.perf_counter() - start)
    return statistics.median(times) / calls * 1e9
