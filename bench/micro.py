"""Micro-benchmarks: call overhead, import time, assembler/disassembler speed, memory.

Each returns a list of rows (dicts) for one table; a row that cannot be
measured here carries a "note" saying why instead of a number.

- calls: nanoseconds per call of a two-int add over 1,000,000 calls in one
  loop (the loop's own cost is included, the same for every row).
- imports: wall time of a fresh ``python -c "<statement>"``, median.
- asm, dis: the rows of ``asm_speed.run(repeat)`` / ``dis_speed.run(repeat)``,
  written alongside the assembler and disassembler, when those files exist.
- memory: resident memory added by 10,000 compiled functions (``fresh.py``).
"""

from __future__ import annotations

import ctypes
import importlib
import operator
import subprocess
import sys
from collections.abc import Callable

import cbuild
import kernels
import measure
import suite

CALLS = 1_000_000


def _c_add() -> Callable:
    library = cbuild.load("gcc -O2")
    address = ctypes.cast(library.add, ctypes.c_void_p).value
    return ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64, ctypes.c_int64)(address)


def _native_add() -> Callable:
    from minijit import NativeFunction

    return NativeFunction(b"\x48\x8d\x04\x37\xc3", "int64(int64, int64)")  # lea rax,[rdi+rsi]


def _compiled_add(peer: str) -> Callable:
    return lambda: suite.compiled("add", suite.DECORATORS[peer]())


ADDERS: list[tuple[str, Callable[[], Callable]]] = [
    ("Python def", lambda: kernels.add),
    ("operator.add", lambda: operator.add),
    ("minijit @jit", _compiled_add("minijit")),
    ("Numba @njit", _compiled_add("Numba")),
    ("ctypes CFUNCTYPE (gcc -O2 add)", _c_add),
    ("minijit.NativeFunction (ctypes)", _native_add),
]


def _row(label_key: str, label: str, measure_row: Callable[[], dict]) -> dict:
    """``measure_row()`` under ``label``, or a note saying why it could not run."""
    try:
        return {label_key: label, **measure_row()}
    except Exception as error:  # noqa: BLE001 -- a missing or broken peer is a note, not a crash
        return {label_key: label, "note": measure.describe(error)}


def calls(repeat: int) -> list[dict]:
    def measure_adder(make: Callable[[], Callable]) -> dict:
        add = make()
        if add(1, 2) != 3:
            raise AssertionError(f"add(1, 2) returned {add(1, 2)}")
        return {"ns per call": measure.per_call_ns(add, CALLS, repeat)}

    return [_row("callable", label, lambda make=make: measure_adder(make))
            for label, make in ADDERS]


IMPORTS = [
    ("python (nothing imported)", "pass"),
    ("import minijit", "import minijit"),
    ("from minijit import jit", "from minijit import jit"),
    ("import numba", "import numba"),
]


def imports(repeat: int) -> list[dict]:
    def measure_import(statement: str) -> dict:
        argv = [sys.executable, "-c", statement]
        # untimed: it fails loudly here, and leaves the bytecode caches a user has
        check = subprocess.run(argv, capture_output=True, text=True, check=False,
                               env=measure.FRESH_ENV)
        if check.returncode != 0:
            raise ImportError(f"it fails: {check.stderr.strip().splitlines()[-1]}")
        return {"seconds": measure.median_wall(max(repeat, 5), argv)}

    rows = [_row("statement", label, lambda s=statement: measure_import(s))
            for label, statement in IMPORTS]
    bare = rows[0].get("seconds")
    for row in rows[1:]:
        if bare is not None and "seconds" in row:
            row["added seconds"] = row["seconds"] - bare
    return rows


def peer_speed(module_name: str, repeat: int) -> list[dict]:
    """The rows of ``bench/<module_name>.py``'s ``run(repeat)``, or one note row."""
    if not (measure.BENCH_DIR / f"{module_name}.py").exists():
        return [{"note": f"bench/{module_name}.py is not written yet"}]
    try:
        return list(importlib.import_module(module_name).run(repeat))
    except Exception as error:  # noqa: BLE001 -- a broken peer is a note, not a crash
        return [{"note": f"bench/{module_name}.py failed: {measure.describe(error)}"}]


def memory(repeat: int) -> list[dict]:
    answer = measure.fresh("memory")
    if "error" in answer:
        return [{"note": answer["error"]}]
    return [{"method": answer["method"], "functions": answer["functions"],
             "resident bytes added": answer["bytes"],
             "bytes per function": answer["bytes"] / answer["functions"],
             "seconds to make and call them": answer["seconds"]}]


MICRO = {
    "calls": calls,
    "imports": imports,
    "asm": lambda repeat: peer_speed("asm_speed", repeat),
    "dis": lambda repeat: peer_speed("dis_speed", repeat),
    "memory": memory,
}
