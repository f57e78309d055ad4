"""Check elimination: integer ranges prove some overflow checks can never fire.

Requires: SSA.  Invalidates: nothing (ops change to their unchecked forms).

Forward walks in reverse postorder give each int value an interval [lo, hi],
from constants and from ops whose result range is known whatever their input
(``x & 0xFFFF`` is in [0, 65535], ``x % 10`` in [0, 9], a bool in [0, 1],
``x >> 40`` shrinks, ``x ^ y`` of non-negative values has no higher bit than
theirs).  A phi starts as the union of the operands known so far (optimistic,
so a masked loop-carried hash keeps its range) and is widened to
the full range the first time it grows; the walks stop at a fixpoint, where
every interval is sound.  Without one within a few walks, nothing is proven.
One more walk then narrows: a phi takes each operand as the branch ending its
predecessor left it (``while k < 100`` tested at the loop's end says k + 1 <
100 on the way back), which gives a widened loop counter its bound again.
Branches refine what an operand is known to be where it is used: below
``if n < 2: return n``, ``n - 1`` cannot overflow.  A checked ``+``, ``-`` or ``*`` whose result
interval, computed exactly with Python ints, lies inside int64 cannot
overflow and becomes its wrapping form (no ``jo``).  Masked hash arithmetic is
the typical winner.  The variable of a ``for`` loop over ``range`` stepping by 1
is at least its start and below int64's maximum (it is below the stop), which
the front end records (``f.induction``), so ``i + 1`` and ``i - 1`` of a loop from
1 do not overflow.  An array index proved non-negative needs no correction from
the end: its ``AINDEX`` becomes ``BOUND``, the bounds check alone, and that goes
too when the loop's stop proves it (``a[i + 1]`` for ``i`` in ``range(len(a) - 1)``).
"""

from __future__ import annotations

from minijit.compiler.ir import BOOL, INT, VOID, Function, Op, remove_refs, substitute

__all__ = ["run"]

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
FULL = (INT64_MIN, INT64_MAX)


def _mul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    products = [x * y for x in a for y in b]
    return min(products), max(products)


def _and(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    highs = [r[1] for r in (a, b) if r[0] >= 0]
    return (0, min(highs)) if highs else FULL


def _bits(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """x | y and x ^ y of non-negative x and y have no bit above the higher one's."""
    if a[0] < 0 or b[0] < 0:
        return FULL
    return 0, (1 << max(a[1], b[1]).bit_length()) - 1


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
    Op.IOR: (_bits, None),
    Op.IXOR: (_bits, None),
    Op.ISHR: (lambda a, b: _by_const(a, b, _shr), None),
    Op.IMOD: (lambda a, b: _by_const(a, b, _mod), None),
    Op.IFLOORDIV: (lambda a, b: _by_const(a, b, _floordiv), None),
    Op.B2I: (lambda a: (0, 1), None),
    Op.SELECT: (lambda c, a, b: (min(a[0], b[0]), max(a[1], b[1])), None),
    Op.AINDEX: (lambda i, n: (0, INT64_MAX - 1), None),  # in [0, length)
    Op.ALEN: (lambda a: (0, INT64_MAX), None),
}


#: what an int compared with a constant is known to be on the edge where the test held
_HOLDS = {"lt": lambda k: (INT64_MIN, k - 1), "le": lambda k: (INT64_MIN, k),
          "gt": lambda k: (k + 1, INT64_MAX), "ge": lambda k: (k, INT64_MAX),
          "eq": lambda k: (k, k), "ne": lambda k: FULL}
_NEGATE = {"lt": "ge", "le": "gt", "gt": "le", "ge": "lt", "eq": "ne", "ne": "eq"}
_MIRROR = {"lt": "gt", "le": "ge", "gt": "lt", "ge": "le", "eq": "eq", "ne": "ne"}


def _edge_fact(f: Function, pred, succ: int) -> tuple[int, tuple[int, int]] | None:
    """(x, range) that the branch ending block ``pred`` proves on its edge to block
    ``succ``: ``br (x < 5)`` says x < 5 on its then edge, x >= 5 on the other."""
    last = f.ins[pred.ins[-1]] if pred.ins else None
    if last is None or last.op != Op.BR or last.aux[0] == last.aux[1] or last.args[0] < 0:
        return None
    test = f.ins[last.args[0]]
    if test.op != Op.ICMP or test.aux not in _HOLDS:
        return None
    x, k = test.args
    cond = test.aux
    if x < 0:
        x, k, cond = k, x, _MIRROR[cond]
    if x < 0 or k >= 0 or f.consts[~k][0] != INT:
        return None
    if succ != last.aux[0]:
        cond = _NEGATE[cond]
    return x, _HOLDS[cond](int(f.consts[~k][1]))


def _guards(f: Function) -> dict[int, dict[int, tuple[int, int]]]:
    """For each block, ranges its dominating branches prove: up a chain of single
    predecessors, what each branch proves on the edge taken (``_edge_fact``)."""
    out: dict[int, dict[int, tuple[int, int]]] = {}
    for block in f.blocks:
        facts: dict[int, tuple[int, int]] = {}
        b = block
        for _ in range(8):
            if len(b.preds) != 1:
                break
            p = f.blocks[b.preds[0]]
            fact = _edge_fact(f, p, b.id)
            if fact is not None:
                x, (lo, hi) = fact
                old = facts.get(x, FULL)
                facts[x] = (max(lo, old[0]), min(hi, old[1]))
            b = p
        out[block.id] = facts
    return out


def _walk(f: Function, order, ranges: dict, widened: set, complete: set,
          guards: dict, narrow: bool = False) -> bool:
    """One forward pass; True when some range changed.  A phi takes the union of its
    operands' ranges known so far (optimistic); once all are known, a phi that still
    grows is widened to the full range, so the passes reach a fixpoint quickly.

    ``narrow``: one more pass from a fixpoint, where a phi takes the union of its
    operands as known where each comes from (what its predecessor's branches prove:
    ``while k < 100`` tested at the loop's end gives k + 1 < 100 on the way back),
    without widening.  Each range is then computed from sound ones, so it is sound
    too, and a widened loop counter gets its bound back."""
    changed = False

    def range_of(ref: int):
        if ref < 0:
            t, v = f.consts[~ref]
            return (int(v), int(v)) if t in (INT, BOOL) else FULL
        return ranges.get(ref)

    for block in order:
        for ref in block.ins:
            ins = f.ins[ref]
            if ins.type == BOOL:
                new = (0, 1)
            elif ins.type != INT:
                continue
            elif ref in f.induction:
                start, step, _ = f.induction[ref]
                lo, hi = range_of(start) or FULL
                new = (lo, INT64_MAX - 1) if step == 1 else (INT64_MIN + 1, hi)
            elif ins.op == Op.PHI and narrow:
                new = _hull([_at_edge(f, ranges, guards, pred, block.id, a)
                             for pred, a in zip(block.preds, ins.args)])
            elif ins.op == Op.PHI:
                known = [r for r in map(range_of, ins.args) if r is not None]
                if not known:
                    continue
                new = FULL if ref in widened else (min(r[0] for r in known),
                                                   max(r[1] for r in known))
                if len(known) == len(ins.args):
                    if ref in complete and ranges.get(ref) != new:
                        widened.add(ref)
                        new = FULL
                    complete.add(ref)
            elif ins.op in RULES:
                facts = guards[block.id]
                lo, hi = RULES[ins.op][0](*(_meet(range_of(a) or FULL, facts.get(a))
                                            for a in ins.args))
                new = (lo, hi) if INT64_MIN <= lo and hi <= INT64_MAX else FULL
            else:
                new = FULL
            if ranges.get(ref) != new:
                ranges[ref] = new
                changed = True
    return changed


def _hull(rs: list[tuple[int, int]]) -> tuple[int, int]:
    return min(r[0] for r in rs), max(r[1] for r in rs)


def _at_edge(f: Function, ranges: dict, guards: dict, pred: int, succ: int,
             ref: int) -> tuple[int, int]:
    """What ``ref`` is known to be on the edge from block ``pred`` to block ``succ``:
    what it is in ``pred`` (``_at``) and what ``pred``'s branch proves on that edge."""
    r = _at(f, ranges, guards, f.blocks[pred], ref)
    fact = _edge_fact(f, f.blocks[pred], succ)
    return _meet(r, fact[1]) if fact is not None and fact[0] == ref else r


def _meet(r: tuple[int, int], fact: tuple[int, int] | None) -> tuple[int, int]:
    if fact is None:
        return r
    lo, hi = max(r[0], fact[0]), min(r[1], fact[1])
    return (lo, hi) if lo <= hi else r  # an empty meet: the block cannot run; stay sound


def run(f: Function) -> None:
    order = f.rpo()
    guards = _guards(f)
    ranges: dict[int, tuple[int, int]] = {}
    widened: set[int] = set()
    complete: set[int] = set()
    for _ in range(8):
        if not _walk(f, order, ranges, widened, complete, guards):
            break
    else:
        return  # no fixpoint: prove nothing
    _walk(f, order, ranges, widened, complete, guards, narrow=True)
    proved: dict[int, int] = {}
    for block in order:
        for ref in block.ins:
            ins = f.ins[ref]
            if ins.op == Op.AINDEX and _at(f, ranges, guards, block, ins.args[0])[0] >= 0:
                ins.op, ins.type = Op.BOUND, VOID  # no negative index to count from the end
                proved[ref] = ins.args[0]
                continue
            rule = RULES.get(ins.op)
            if rule is None or rule[1] is None or ins.type != INT:
                continue
            args = [_at(f, ranges, guards, block, a) for a in ins.args]
            lo, hi = rule[0](*args)
            if INT64_MIN <= lo and hi <= INT64_MAX:
                ins.op = rule[1]
    substitute(f, proved)
    remove_refs(f, {ref for ref in proved if _below_stop(f, *f.ins[ref].args)})


def _below_stop(f: Function, index: int, length: int) -> bool:
    """Whether ``index`` is ``i + c`` for a loop variable ``i`` counting up to
    ``length - d`` with ``c <= d`` (``a[i]`` under ``for i in range(len(a))``, ``a[i + 1]``
    under ``range(len(a) - 1)``): ``i`` is below its stop wherever it is defined, so
    ``i + c`` is below ``length`` and ``BOUND`` holds."""
    var, c = _plus_constant(f, index)
    loop = f.induction.get(var)
    if loop is None or loop[1] != 1:
        return False
    stop, e = _plus_constant(f, loop[2])
    return stop == length and e <= 0 and c <= -e


#: the ops that add or subtract a constant, with its sign
_OFFSETS = {Op.IADD: 1, Op.WADD: 1, Op.ISUB: -1, Op.WSUB: -1}


def _plus_constant(f: Function, ref: int) -> tuple[int, int]:
    """(x, c) with ``ref`` computing ``x + c`` for an int constant ``c``; (ref, 0) else."""
    ins = f.ins[ref] if ref >= 0 else None
    if ins is None or ins.op not in _OFFSETS:
        return ref, 0
    x, k = ins.args
    if x < 0 and _OFFSETS[ins.op] == 1:
        x, k = k, x
    if k >= 0 or f.consts[~k][0] != INT:
        return ref, 0
    return x, _OFFSETS[ins.op] * f.consts[~k][1]


def _at(f: Function, ranges: dict, guards: dict, block, ref: int) -> tuple[int, int]:
    """What ``ref`` is known to be where ``block`` uses it."""
    if ref < 0:
        return (int(f.consts[~ref][1]),) * 2
    return _meet(ranges.get(ref, FULL), guards[block.id].get(ref))
