"""Call overhead of minijit's machine-code entry: ``python bench/call_overhead.py [--repeat N]``.

One two-int add, called 1,000,000 times in one loop, through:

- a minijit entry (``minijit.native.entry.make_entry``): METH_FASTCALL machine
  code that checks types, unboxes, calls the kernel, boxes;
- ``operator.add``, the builtin every other row is compared with;
- a Python ``def``;
- ctypes ``CFUNCTYPE`` around the same add in machine code (the plain C
  convention, ``int64 add(int64, int64)``, so ctypes converts the result);
- Numba's ``njit`` with an eager ``int64(int64, int64)`` signature, when Numba
  is installed (otherwise a note).

The kernel behind the entry checks overflow (``jo`` to status 8), as compiled
code does.  Each number is the median over ``repeat`` loops, in nanoseconds per
call including the loop's own cost; ratios are to ``operator.add`` in the same
run.  ``run(repeat)`` returns the rows for the benchmark runner.
"""

from __future__ import annotations

import argparse
import ctypes
import operator
import platform
import sys
from collections.abc import Callable

import measure

from minijit.memory import allocate
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
    ("Python def", _python_def),
    ("ctypes CFUNCTYPE (same add, machine code)", _ctypes),
    ("Numba njit", _numba),
]


def _measure(make: Callable[[], Callable], repeat: int) -> dict:
    try:
        add = make()
    except LookupError as error:
        return {"note": str(error)}
    if add(1, 2) != 3:
        raise AssertionError(f"add(1, 2) returned {add(1, 2)!r}")
    return {"ns per call": measure.per_call_ns(add, CALLS, repeat)}


def run(repeat: int) -> list[dict]:
    """One row per callable: ns per call (median of ``repeat``) and the ratio to operator.add."""
    rows = [{"callable": label, **_measure(make, repeat)} for label, make in CALLABLES]
    base = next(row["ns per call"] for row in rows if row["callable"] == BASELINE)
    for row in rows:
        if "ns per call" in row:
            row["ratio to operator.add"] = row["ns per call"] / base
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="loops per callable (median)")
    args = parser.parse_args(argv)
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{platform.processor() or 'unknown CPU'}; {CALLS:,} calls per loop, "
        f"median of {args.repeat}"
    )
    print(format_rows(run(args.repeat)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
