"""Disassembler throughput on the whole instruction corpus (``minijit.x86.corpus``).

``python bench/dis_speed.py [--repeat N]`` prints one row per measurement;
``run(repeat)`` returns the rows for ``bench/run.py``.  The corpus lines are
assembled once into one byte string (every form of the table, about 14,000
instructions); each number is the median of ``repeat`` runs decoding all of it:

- minijit ``disassemble(code)``: instruction objects with address, bytes,
  mnemonic and operand texts; instructions per second;
- the same and ``str()`` of every instruction (the full Intel-syntax line);
- capstone's Python binding on the same bytes, if installed: ``Cs.disasm`` (an
  object per instruction with mnemonic and operand text, the comparable call)
  and ``Cs.disasm_lite`` (tuples, capstone's fastest path).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable

from minijit.x86 import assemble, disassemble
from minijit.x86.corpus import corpus

TARGET = 200_000


def corpus_code() -> bytes:
    """The whole corpus as one piece of machine code."""
    return b"".join(assemble(line) for line in corpus(avx512=True))


def _median_rate(work: Callable[[], object], count: int, repeat: int) -> float:
    work()   # warm up: opcode maps built, caches filled
    times = []
    for _ in range(repeat):
        gc.collect()   # each run starts without the previous runs' garbage
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return count / statistics.median(times)


def _capstone(code: bytes, repeat: int) -> list[dict]:
    try:
        import capstone
    except ImportError:
        return [{"tool": "capstone", "note": "not installed (pip install capstone)"}]
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    md.syntax = capstone.CS_OPT_SYNTAX_INTEL
    md.skipdata = True   # go on past bytes it does not know, as minijit's (bad) does
    count = sum(1 for _ in md.disasm_lite(code, 0))
    return [
        {"tool": f"capstone {capstone.__version__} disasm (objects)", "instructions": count,
         "per second": _median_rate(
             lambda: [f"{i.mnemonic} {i.op_str}" for i in md.disasm(code, 0)], count,
             repeat)},
        {"tool": f"capstone {capstone.__version__} disasm_lite (tuples)",
         "instructions": count,
         "per second": _median_rate(lambda: list(md.disasm_lite(code, 0)), count, repeat)},
    ]


def run(repeat: int = 5) -> list[dict]:
    """One row per measurement: tool, instructions, per second, ratio, target."""
    code = corpus_code()
    count = len(disassemble(code))
    rows = [
        {"tool": "minijit disassemble", "instructions": count,
         "per second": _median_rate(lambda: disassemble(code), count, repeat),
         "target": TARGET},
        {"tool": "minijit disassemble + str()", "instructions": count,
         "per second": _median_rate(lambda: [str(i) for i in disassemble(code)], count,
                                    repeat),
         "target": TARGET},
    ]
    peers = _capstone(code, repeat)
    rows += peers
    if "per second" in peers[0]:
        for row in rows[:2]:
            row["vs capstone disasm"] = row["per second"] / peers[0]["per second"]
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (median)")
    args = parser.parse_args()
    for row in run(args.repeat):
        parts = [row["tool"]]
        if "per second" in row:
            parts.append(f"{row['per second']:,.0f}/s over {row['instructions']:,} "
                         "instructions")
        if "vs capstone disasm" in row:
            parts.append(f"{row['vs capstone disasm']:.2f}x capstone disasm")
        if "target" in row:
            met = "meets" if row["per second"] >= row["target"] else "below"
            parts.append(f"{met} target {row['target']:,}/s")
        if "note" in row:
            parts.append(row["note"])
        print(" | ".join(parts))


if __name__ == "__main__":
    main()
