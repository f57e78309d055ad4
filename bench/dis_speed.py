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

from throughput import median_rate, print_rows

from minijit.x86 import assemble, disassemble
from minijit.x86.corpus import corpus

TARGET = 200_000


def corpus_code() -> bytes:
    """The whole corpus as one piece of machine code."""
    return b"".join(assemble(line) for line in corpus(avx512=True))


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
         "per second": median_rate(
             lambda: [f"{i.mnemonic} {i.op_str}" for i in md.disasm(code, 0)], count,
             repeat, warm_up=True)},
        {"tool": f"capstone {capstone.__version__} disasm_lite (tuples)",
         "instructions": count,
         "per second": median_rate(lambda: list(md.disasm_lite(code, 0)), count, repeat,
                                   warm_up=True)},
    ]


def run(repeat: int = 5) -> list[dict]:
    """One row per measurement: tool, instructions, per second, ratio, target."""
    code = corpus_code()
    count = len(disassemble(code))
    rows = [
        {"tool": "minijit disassemble", "instructions": count,
         "per second": median_rate(lambda: disassemble(code), count, repeat, warm_up=True),
         "target": TARGET},
        {"tool": "minijit disassemble + str()", "instructions": count,
         "per second": median_rate(lambda: [str(i) for i in disassemble(code)], count,
                                   repeat, warm_up=True),
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
    print_rows(run(args.repeat))


if __name__ == "__main__":
    main()
