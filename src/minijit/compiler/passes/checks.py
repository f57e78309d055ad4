"""Check elimination: integer ranges prove some overflow checks can never fire.

Requires: SSA.  Invalidates: nothing (ops change to their unchecked forms).

A forward walk gives each int value an interval [lo, hi], from constants and
from ops whose result range is known whatever their input (``x & 0xFFFF`` is
in [0, 65535], ``x % 10`` in [0, 9], a bool in [0, 1], ``x >> 40`` shrinks).
Phis and unknown values get the full int64 range, so the walk is one linear
pass and never needs a fixpoint.  A checked ``+``, ``-`` or ``*`` whose result
interval, computed exactly with Python ints, lies inside int64 cannot
overflow and becomes its wrapping form (no ``jo``).  Masked hash arithmetic is
the typical winner.
"""

from __future__ import annotations

from minijit.compiler.ir import BOOL, INT, Function, Op

__all__ = ["run"]

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
FULL = (INT64_MIN, INT64_MAX)


def _mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    products = [x * y for x in a for y in b]
    return min(products), max(products)


def _and(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    highs = [r[1] for r in (a, b) if r[0] >= 0]
    return (0, min(highs)) if highs else FULL


def _by_const(a, b, rule):
    return rule(a, b[0]) if b[0] == b[1] else FULL


def _shr(a, k):
    return (a[0] >> k, a[1] >> k) if 0 <= k < 64 else FULL


def _mod(a, c):
    return (0, c - 1) if c > 0 else (c + 1, 0) if c < 0 else FULL


def _floordiv(a, c):
    return (a[0] // c, a[1] // c) if c > 0 else FULL


#: op -> (range rule over operand ranges, unchecked form when the result fits)
RULES = {
    Op.IADD: (lambda a, b: (a[0] + b[0], a[1] + b[1]), Op.WADD),
    Op.ISUB: (lambda a, b: (a[0] - b[1], a[1] - b[0]), Op.WSUB),
    Op.IMUL: (_mul, Op.WMUL),
    Op.IAND: (_and, None),
    Op.ISHR: (lambda a, b: _by_const(a, b, _shr), None),
    Op.IMOD: (lambda a, b: _by_const(a, b, _mod), None),
    Op.IFLOORDIV: (lambda a, b: _by_const(a, b, _floordiv), None),
    Op.B2I: (lambda a: (0, 1), None),
    Op.SELECT: (lambda c, a, b: (min(a[0], b[0]), max(a[1], b[1])), None),
}


def run(f: Function) -> None:
    ranges: dict[int, tuple[int, int]] = {}

    def range_of(ref: int) -> tuple[int, int]:
        if ref < 0:
            t, v = f.consts[~ref]
            return (int(v), int(v)) if t in (INT, BOOL) else FULL
        return ranges.get(ref, FULL)

    for block in f.blocks:
        for ref in block.ins:
            ins = f.ins[ref]
            if ins.type == BOOL:
                ranges[ref] = (0, 1)
                continue
            rule = RULES.get(ins.op)
            if rule is None or ins.type != INT:
                continue
            lo, hi = rule[0](*(range_of(a) for a in ins.args))
            if INT64_MIN <= lo and hi <= INT64_MAX:
                ranges[ref] = (lo, hi)
                if rule[1] is not None:
                    ins.op = rule[1]
