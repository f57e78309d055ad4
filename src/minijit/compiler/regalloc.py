"""Register allocation: block order, liveness, live intervals, linear scan.

1. ``split_critical_edges``: an edge from a block with two successors to a
   block with phis gets a block of its own, where the phi moves can go (phi
   moves are emitted only before a ``JMP``).
2. Blocks are laid out in reverse postorder (a block after its forward
   predecessors; loop bodies between header and exit) and instructions get
   even positions in that order.
3. Liveness by the usual backward dataflow; a phi's operand is live out of the
   matching predecessor only.  Each value gets one interval [first, last]
   position where it is live (holes are not tracked: simple and linear).
4. Linear scan (Poletto and Sarkar) over intervals sorted by start.  A value
   whose interval crosses a call may only take a callee-saved register (ints)
   or is spilled (floats: System V saves no xmm register).  When no register
   is free, the cheapest interval goes to a stack slot: its uses, counted 8x
   per loop level around each, per position it spans.  Phis and
   their operands prefer one register (hints), so most phi moves vanish.

Locations are ints: 0-15 general registers by hardware number, 16-31 xmm0-15,
``SLOT + k`` the k-th stack slot.
"""

from __future__ import annotations

from minijit.compiler.ir import FLOAT, OPS, VOID, Block, Function, Op

__all__ = ["Allocation", "allocate", "split_critical_edges", "CALL_OPS", "SLOT",
           "INT_CALLEE_SAVED"]

SLOT = 32
RBX, RBP, R12, R13, R14 = 3, 5, 12, 13, 14
#: allocatable: caller-saved first (cheap), then callee-saved; rax rcx rdx r11 are scratch,
#: r15 holds the stack limit and rsp is the stack pointer (no frame pointer is kept)
INT_CALLER_SAVED = (6, 7, 8, 9, 10)  # rsi rdi r8 r9 r10
#: where the internal convention passes int arguments that the pool can hold: rdi rsi
#: (rdx and rcx, the third and fourth, are scratch; r8, the fifth, is allocatable)
ARG_REGS = (7, 6, None, None, 8)
INT_CALLEE_SAVED = (RBX, R12, R13, R14, RBP)
FLOAT_REGS = tuple(range(16, 30))  # xmm0-13; xmm14 and xmm15 are scratch
#: ops that call out (to libm or another kernel): caller-saved registers die there
CALL_OPS = frozenset({Op.CALL, Op.LIBM, Op.FMOD, Op.FFLOORDIV, Op.FPOW})


def split_critical_edges(f: Function) -> None:
    for block in list(f.blocks):
        if not block.ins:
            continue
        last = f.ins[block.ins[-1]]
        if last.op != Op.BR:
            continue
        targets = list(last.aux)
        for i, succ in enumerate(targets):
            sb = f.blocks[succ]
            if sb.ins and f.ins[sb.ins[0]].op == Op.PHI:
                mid = f.new_block(sb.loop_depth)
                f.emit(mid, Op.JMP, VOID, (), succ, last.line)
                f.blocks[mid].preds.append(block.id)
                sb.preds[sb.preds.index(block.id)] = mid
                targets[i] = mid
        last.aux = tuple(targets)


class Allocation:
    """Where each value lives, and what the frame must hold."""

    def __init__(self) -> None:
        self.order: list[Block] = []
        self.loc: dict[int, int] = {}
        self.slots = 0
        self.used_callee_saved: list[int] = []
        self.has_calls = False
        #: block id -> the values live on entry to it
        self.live_in: dict[int, set[int]] = {}


def _liveness(f: Function, order: list[Block]) -> tuple[dict, dict]:
    live_in: dict[int, set[int]] = {b.id: set() for b in order}
    live_out: dict[int, set[int]] = {b.id: set() for b in order}
    phi_uses: dict[int, set[int]] = {b.id: set() for b in order}  # operands used at pred end
    for b in order:
        for ref in b.ins:
            ins = f.ins[ref]
            if ins.op != Op.PHI:
                break
            for pred, a in zip(b.preds, ins.args):
                if a >= 0:
                    phi_uses[pred].add(a)
    # each block's upward-exposed uses and definitions, so that the fixed point below
    # costs set operations per block rather than a walk of every instruction
    uses: dict[int, set[int]] = {}
    defs: dict[int, set[int]] = {}
    for b in order:
        used, defined = uses[b.id], defs[b.id] = set(), set(b.ins)
        for ref in b.ins:
            ins = f.ins[ref]
            if ins.op != Op.PHI:
                used.update(a for a in ins.args if a >= 0)
        used -= defined  # SSA: a value used in its own block is defined before the use
    changed = True
    while changed:
        changed = False
        for b in reversed(order):
            out = set(phi_uses[b.id])
            for s in b.succs(f):
                out |= live_in[s]
            live = uses[b.id] | (out - defs[b.id])
            if out != live_out[b.id] or live != live_in[b.id]:
                live_out[b.id], live_in[b.id] = out, live
                changed = True
    return live_in, live_out


def allocate(f: Function, fused: set[int]) -> Allocation:
    """Allocate every value of ``f``; ``fused`` compares live in flags, not registers."""
    alloc = Allocation()
    order = alloc.order = f.rpo()
    live_in, live_out = _liveness(f, order)
    alloc.live_in = live_in
    start: dict[int, int] = {}
    end: dict[int, int] = {}
    weight: dict[int, float] = {}  # uses and definitions, 8x per loop level around them
    calls: list[int] = []
    pos = 0
    for b in order:
        bstart = pos
        pos += 2
        heat = 8.0 ** min(b.loop_depth, 6)
        for ref in b.ins:
            ins = f.ins[ref]
            weight[ref] = weight.get(ref, 0.0) + heat
            for a in ins.args:
                if a >= 0:
                    weight[a] = weight.get(a, 0.0) + heat
            here = bstart if ins.op == Op.PHI else pos
            if ins.type != VOID and ref not in fused:
                start.setdefault(ref, here)
                end[ref] = max(end.get(ref, here), here)
            if ins.op != Op.PHI:
                for a in ins.args:
                    if a >= 0:
                        end[a] = max(end.get(a, pos), pos)
            if ins.op in CALL_OPS:
                calls.append(pos)
            pos += 2
        bend = pos - 2
        for v in live_in[b.id]:
            start[v] = min(start.get(v, bstart), bstart)
        for v in live_out[b.id]:
            end[v] = max(end.get(v, bend), bend)
    alloc.has_calls = bool(calls)
    hints: dict[int, int] = {}  # value -> a value whose register it would like
    fixed: dict[int, int] = {}  # value -> a register it would like (a call's argument)
    for b in order:
        for ref in b.ins:
            ins = f.ins[ref]
            if ins.op == Op.PHI:
                for a in ins.args:
                    if a >= 0:
                        hints.setdefault(a, ref)
                        hints.setdefault(ref, a)
            elif ins.args and ins.op not in CALL_OPS:
                # two-address: d = a op b, d in a's register (b's for 0.25 * b, which
                # code generation turns round so that the constant is the source)
                first = ins.args[0]
                if first < 0 and OPS[ins.op].comm:
                    first = ins.args[1]
                if first >= 0:
                    hints.setdefault(ref, first)
            if ins.op == Op.CALL:  # an int argument computed right where it is passed
                ints = [a for a in ins.args if a >= 0 and f.ins[a].type != FLOAT]
                for a, reg in zip(ints, ARG_REGS):
                    fixed.setdefault(a, reg)
    _linear_scan(f, alloc, start, end, calls, hints, fixed, weight)
    return alloc


def _crosses(calls: list[int], lo: int, hi: int) -> bool:
    return any(lo < c < hi for c in calls)


def _linear_scan(f, alloc, start, end, calls, hints, fixed, weight) -> None:
    loc = alloc.loc
    free_int = list(INT_CALLER_SAVED + INT_CALLEE_SAVED)
    free_float = list(FLOAT_REGS)
    active: list[tuple[int, int]] = []  # (end, value)
    used_callee: set[int] = set()

    def new_slot() -> int:  # one slot per spilled value: frames stay small anyway
        alloc.slots += 1
        return SLOT + alloc.slots - 1

    for value in sorted(start, key=lambda v: (start[v], v)):
        lo, hi = start[value], end[value]
        for item in [a for a in active if a[0] <= lo]:
            active.remove(item)
            reg = loc[item[1]]
            (free_float if reg >= 16 else free_int).append(reg)
        is_float = f.ins[value].type == FLOAT
        crossing = _crosses(calls, lo, hi)
        pool = free_float if is_float else free_int
        allowed = [] if crossing and is_float else [
            r for r in pool if not crossing or r in INT_CALLEE_SAVED]
        if allowed:
            hint = fixed.get(value, loc.get(hints.get(value, -1)))
            reg = hint if hint in allowed else allowed[0]
            pool.remove(reg)
            loc[value] = reg
            active.append((hi, value))
            if reg in INT_CALLEE_SAVED:
                used_callee.add(reg)
            continue
        # spill what is used least for the stretch of code it holds a register, this
        # value or one that could give it its register
        def cost(v: int) -> float:
            return weight.get(v, 0.0) / (end[v] - start[v] + 2)

        candidates = [a for a in active if (f.ins[a[1]].type == FLOAT) == is_float
                      and (not crossing or loc[a[1]] in INT_CALLEE_SAVED)]
        victim = min(candidates, default=None, key=lambda a: cost(a[1]))
        if victim is not None and cost(victim[1]) < cost(value):
            active.remove(victim)
            loc[value] = loc[victim[1]]
            loc[victim[1]] = new_slot()
            active.append((hi, value))
        else:
            loc[value] = new_slot()
    alloc.used_callee_saved = sorted(used_callee)
