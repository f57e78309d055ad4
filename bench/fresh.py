"""Measurements that need a fresh interpreter; prints one JSON object.

    python bench/fresh.py first-call PEER KERNEL [loaded]
        seconds from handing the kernel to PEER's decorator (minijit's jit,
        Numba's njit) to the end of its first call at the small size, which is
        dominated by compiling; "ok" says whether the result matched CPython.
        With "loaded", PEER first compiles and calls a one-line function, so
        that its compiler is loaded and initialised: what is left is the cost
        of compiling this kernel, as every jitted function after a program's
        first one pays it.
    python bench/fresh.py memory
        resident memory added by 10,000 compiled functions.

A failure is reported as {"error": "..."}, never as a traceback alone.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import mmap
import sys
import tempfile
import time
from pathlib import Path

import measure
import suite

FUNCTIONS = 10_000


def _add_one(x):
    return x + 1


def first_call(peer: str, name: str, loaded: str = "") -> dict:
    decorator = suite.DECORATORS[peer]()
    if loaded and decorator(_add_one)(1) != 2:
        return {"error": f"{peer} got 1 + 1 wrong"}
    kernel = suite.BY_NAME[name]
    args = kernel.make_args(kernel.small_size)
    expected = suite.cpython(name)(*kernel.make_args(kernel.small_size))
    module = suite.fresh_module()
    start = time.perf_counter()
    result = suite.decorate(module, name, decorator)(*args)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "ok": suite.same_result(result, expected)}


def resident_bytes() -> int:
    gc.collect()
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * mmap.PAGESIZE


def _jitted_functions(folder: str) -> list:
    """FUNCTIONS functions ``f<i>(x): return x + i`` in a module file, each jitted.

    minijit reads a function's source, so they live in a real file; the plain
    functions exist before the first measurement, so only compiling is counted.
    """
    path = Path(folder) / "many_functions.py"
    path.write_text("".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(FUNCTIONS)))
    spec = importlib.util.spec_from_file_location("many_functions", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return [getattr(module, f"f{i}") for i in range(FUNCTIONS)]


def memory() -> dict:
    try:
        jit = suite.minijit_jit()
    except suite.Missing as missing:
        jit, why = None, str(missing)
    with tempfile.TemporaryDirectory() as folder:
        plain = _jitted_functions(folder) if jit else []
        from minijit import NativeFunction

        before = resident_bytes()
        start = time.perf_counter()
        if jit:
            method = "minijit.jit, `def f(x): return x + i`, each called once"
            functions = [jit(f) for f in plain]
        else:
            # lea rax, [rdi + i]; ret  --  the same function, assembled by hand.
            method = (f"minijit.NativeFunction of 8 bytes (`lea rax, [rdi + i]; ret`), "
                      f"because {why}")
            functions = [NativeFunction(b"\x48\x8d\x87" + i.to_bytes(4, "little") + b"\xc3",
                                        "int64(int64)") for i in range(FUNCTIONS)]
        wrong = [i for i, f in enumerate(functions) if f(1) != 1 + i]
        seconds = time.perf_counter() - start
        added = resident_bytes() - before
    if wrong:
        return {"error": f"functions {wrong[:5]} returned wrong results"}
    return {"functions": FUNCTIONS, "bytes": added, "seconds": seconds, "method": method}


COMMANDS = {"first-call": first_call, "memory": memory}


def main(argv: list[str]) -> int:
    try:
        answer = COMMANDS[argv[0]](*argv[1:])
    except Exception as error:  # noqa: BLE001 -- every failure becomes a note in the table
        answer = {"error": measure.describe(error)}
    print(json.dumps(answer))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
