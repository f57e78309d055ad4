"""Assembler throughput on the whole instruction corpus (``corpus(avx512=True)``).

``python bench/asm_speed.py [--repeat N]`` prints one row per measurement;
``run(repeat)`` returns the rows for ``bench/run.py``.  Each number is the median
of ``repeat`` runs over the whole corpus:

- builder: the ``Assembler`` methods called with operands made beforehand, then
  ``assemble()``; instructions per second.  Every instruction is encoded (the
  builder keeps no bytes), through the closure its operand kinds select.  *cold*:
  ``clear_caches()`` before each run, so each memory operand makes its address
  bytes again on its first use in the run (``Mem.mode``; the registers keep their
  fields, which they are made with); *warm*: the memory operands keep them from a
  previous run, as a compiler's stack slots do.
  *first use*: one run in a fresh interpreter, right after ``import minijit.x86``:
  each mnemonic's forms are parsed and its tables built on its first use, so this
  row also pays for building the tables of every mnemonic in the corpus.
- text: ``minijit.x86.assemble`` on the corpus as one source; lines per second,
  cold (all caches cleared: every line parsed and encoded) and warm.
- keystone-engine on the same text, for the lines it accepts (it rejects a few GNU
  as spellings), and iced-x86 if installed; a missing peer is a row with a note.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from throughput import median_rate, print_rows

from minijit.x86 import assemble, syntax
from minijit.x86.assembler import METHODS, PREFIXES, Assembler, clear_caches
from minijit.x86.corpus import corpus
from minijit.x86.syntax import parse_operand

TARGETS = {"builder": 1_000_000, "text": 300_000}


def _clear_all() -> None:
    clear_caches()
    syntax._LINE_CACHE.clear()
    syntax._OPERAND_CACHE.clear()


def _builder_work(lines: list[str]) -> Callable[[], None]:
    calls = []
    for line in lines:
        mnemonic, _, rest = line.partition(" ")
        prefix = None
        if mnemonic in PREFIXES:
            prefix, (mnemonic, _, rest) = mnemonic, rest.partition(" ")
        ops = tuple(parse_operand(p) for p in rest.split(",")) if rest else ()
        if prefix is None:
            calls.append((METHODS[mnemonic], ops))
        else:
            calls.append((lambda a, *o, p=prefix, m=mnemonic: a.prefixed(p, m, o), ops))

    def work() -> None:
        a = Assembler()
        for method, ops in calls:
            method(a, *ops)
        a.assemble()

    return work


def _first_use(lines: list[str]) -> float:
    """Instructions per second of one builder run over ``lines`` (tables not yet built)."""
    build = _builder_work(lines)
    start = time.perf_counter()
    build()
    return len(lines) / (time.perf_counter() - start)


def _first_use_fresh() -> float:
    """``_first_use`` over the corpus in a fresh interpreter (``--first-use``)."""
    out = subprocess.run([sys.executable, __file__, "--first-use"], capture_output=True,
                         text=True, check=True)
    return float(out.stdout)


def _keystone(lines: list[str], repeat: int) -> dict:
    try:
        import keystone
    except ImportError:
        return {"tool": "keystone-engine", "note": "not installed (pip install keystone-engine)"}
    ks = keystone.Ks(keystone.KS_ARCH_X86, keystone.KS_MODE_64)
    accepted = []
    for line in lines:
        try:
            ks.asm(line)
        except keystone.KsError:
            continue
        accepted.append(line)
    source = "\n".join(accepted)
    rate = median_rate(lambda: ks.asm(source), len(accepted), repeat)
    return {"tool": "keystone-engine (text)", "lines": len(accepted), "per second": rate,
            "note": f"{len(lines) - len(accepted)} corpus lines it rejects are left out"}


def _iced() -> dict:
    try:
        import iced_x86  # noqa: F401
    except ImportError:
        return {"tool": "iced-x86", "note": "not installed"}
    return {"tool": "iced-x86", "note": "installed, but it has no Intel-syntax parser and its "
                                        "encoder takes per-form Instruction objects: not measured"}


def run(repeat: int = 5) -> list[dict]:
    """One row per measurement: tool, count, per second, ratio to keystone, target."""
    lines = corpus(avx512=True)
    source = "\n".join(lines)
    build = _builder_work(lines)
    rows = [
        {"tool": "minijit builder, cold caches", "lines": len(lines),
         "per second": median_rate(build, len(lines), repeat, _clear_all),
         "target": TARGETS["builder"]},
        {"tool": "minijit builder, first use in a fresh process", "lines": len(lines),
         "per second": statistics.median(_first_use_fresh() for _ in range(repeat)),
         "target": TARGETS["builder"]},
        {"tool": "minijit builder, warm caches", "lines": len(lines),
         "per second": median_rate(build, len(lines), repeat, build),
         "target": TARGETS["builder"]},
        {"tool": "minijit text, cold caches", "lines": len(lines),
         "per second": median_rate(lambda: assemble(source), len(lines), repeat, _clear_all),
         "target": TARGETS["text"]},
        {"tool": "minijit text, warm caches", "lines": len(lines),
         "per second": median_rate(lambda: assemble(source), len(lines), repeat),
         "target": TARGETS["text"]},
    ]
    peer = _keystone(lines, repeat)
    rows += [peer, _iced()]
    if "per second" in peer:
        for row in rows[:5]:
            row["vs keystone"] = row["per second"] / peer["per second"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    parser.add_argument("--first-use", action="store_true",
                        help="print the builder's rate on its first run in this process")
    args = parser.parse_args()
    if args.first_use:
        print(_first_use(corpus(avx512=True)))
        return
    print_rows(run(args.repeat))


if __name__ == "__main__":
    main()
