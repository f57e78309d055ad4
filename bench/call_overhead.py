"""Call overhead of minijit's machine-code entry: ``python bench/call_overhead.py [--repeat N]``.

One two-int add, called 1,000,000 times in one loop, through:

- a minijit entry (``minijit.native.entry.make_entry``): METH_FASTCALL machine
  code that checks types, unboxes, calls the kernel, boxes;
- ``operator.add``, the builtin every other row is compared with;
- a jit-style object: an instance of a class made by
  ``minijit.native.callable.callable_type``, with attributes and methods, whose
  own vectorcall pointer is the same machine code (vectorcall convention);
- a Python ``def``;
- ctypes ``CFUNCTYPE`` around the same add in machine code (the plain C
  convention, ``int64 add(int64, int64)``, so ctypes converts the result);
- Numba's ``njit`` with an eager ``int64(int64, int64)`` signature, when Numba
  is installed (otherwise a note).

The kernel behind the entry checks overflow (``jo`` to status 8), as compiled
code does.  Each number is the median over ``repeat`` loops, in nanoseconds per
call including the loop's own cost; ratios are to ``operator.add`` in the same
run, whose loops interleave with the others'.  ``run(repeat)`` returns the rows
for the benchmark runner.
"""

from __future__ import annotations

import argparse
import ctypes
import operator
import platform
import statistics
import sys
import time
from collections.abc import Callable

from minijit.memory import allocate
from minijit.native.callable import callable_class, install_entry
from minijit.native.entry import Specialisation, make_entry
from minijit.x86 import Assembler, eax, qword, rax, rdi, rdx, rsi

CALLS = 1_000_000
BASELINE = "operator.add"


def _kernel() -> Specialisation:
    """``int32 add(int64 *result, int64 a, int64 b)``: status 8 on overflow."""
    a = Assembler()
    overflow = a.label()
    a.mov(rax, rsi)
    a.add(rax, rdx)
    a.jo(overflow)
    a.mov(qword[rdi], rax)
    a.xor(eax, eax)
    a.ret()
    a.bind(overflow)
    a.mov(eax, 8)
    a.ret()
    block = allocate(a.assemble())
    return Specialisation(("int64", "int64"), "int64", block.address, block)


def _unsupported(*args: object, **kwargs: object) -> object:
    raise TypeError("add() accepts (int, int)")


def _entry() -> Callable:
    return make_entry([_kernel()], _unsupported, "add")


@callable_class
class JitStyle:
    """What ``@jit`` hands out: attributes, methods, and calls that enter machine code."""

    def __init__(self) -> None:
        self.signatures = ["int64(int64, int64)"]

    def __call__(self, *args: object, **kwargs: object) -> object:
        return _unsupported(*args, **kwargs)

    def asm(self) -> str:
        return "..."


def _jit_style() -> Callable:
    add = JitStyle()
    install_entry(add, [_kernel()])
    return add


def _python_def() -> Callable:
    def add(a: int, b: int) -> int:
        return a + b

    return add


def _ctypes() -> Callable:
    a = Assembler()
    a.mov(rax, rdi)
    a.add(rax, rsi)
    a.ret()
    block = allocate(a.assemble())
    add = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)(block.address)
    add.block = block  # the code lives as long as the callable
    return add


def _numba() -> Callable:
    try:
        import numba
    except ImportError:
        raise LookupError("Numba is not installed (pip install numba)") from None
    return numba.njit("int64(int64, int64)")(lambda a, b: a + b)


CALLABLES: list[tuple[str, Callable[[], Callable]]] = [
    ("minijit entry (METH_FASTCALL machine code)", _entry),
    (BASELINE, lambda: operator.add),
    ("jit-style object (vectorcall machine code)", _jit_style),
    ("Python def", _python_def),
    ("ctypes CFUNCTYPE (same add, machine code)", _ctypes),
    ("Numba njit", _numba),
]


def _make(label: str, make: Callable[[], Callable]) -> Callable | str:
    """The callable, checked, or a note saying why this row cannot run."""
    try:
        add = make()
    except LookupError as error:
        return str(error)
    if add(1, 2) != 3:
        raise AssertionError(f"{label}: add(1, 2) returned {add(1, 2)!r}")
    return add


def _loop_ns(add: Callable) -> float:
    start = time.perf_counter()
    for _ in range(CALLS):
        add(1, 2)
    return (time.perf_counter() - start) / CALLS * 1e9


def run(repeat: int) -> list[dict]:
    """One row per callable: ns per call (median of ``repeat``) and the ratio to operator.add.

    The loops are interleaved (every callable once per round) so that a noisy
    machine slows all rows alike rather than whichever happened to run then.
    """
    adders = {label: _make(label, make) for label, make in CALLABLES}
    times: dict[str, list[float]] = {label: [] for label, add in adders.items() if callable(add)}
    for _ in range(repeat):
        for label, samples in times.items():
            samples.append(_loop_ns(adders[label]))
    base = statistics.median(times[BASELINE])
    rows = []
    for label, add in adders.items():
        if label in times:
            ns = statistics.median(times[label])
            rows.append({"callable": label, "ns per call": ns, "ratio to operator.add": ns / base})
        else:
            rows.append({"callable": label, "note": add})
    return rows


def format_rows(rows: list[dict]) -> str:
    lines = ["| callable | ns per call | ratio to operator.add |", "|---|---:|---:|"]
    for row in rows:
        if "note" in row:
            lines.append(f"| {row['callable']} | n/a | {row['note']} |")
        else:
            lines.append(
                f"| {row['callable']} | {row['ns per call']:.1f} "
                f"| {row['ratio to operator.add']:.2f} |"
            )
    return "\n".join(lines)


def cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="loops per callable (median)")
    args = parser.parse_args(argv)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{cpu_name()}; {CALLS:,} calls per loop, "
        f"median of {args.repeat}"
    )
    print(format_rows(run(args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
