"""Loop-invariant code motion: pure instructions whose operands come from outside a loop
move to the loop's preheader, so they run once instead of once per iteration.

Requires: SSA, ``f.loops`` as the front end records them (header, preheader, body
blocks, latch), innermost loops first.  Invalidates: block membership of the
moved instructions (updated here).

``pure`` ops move (the op table's column): they cannot fail, so running one
before a loop that might not run, or on a path the loop would not take,
changes nothing anyone can see.  A checked op (``n + 1``) moves too when it
sits at the top of the loop's header with nothing before it that could fail:
loops are rotated, so the header runs whenever the preheader does, and the
op would have failed at that same point of the first iteration.  Phis,
calls, array loads and stores never move.  The pass repeats over a
loop until nothing moves, so chains of invariant operations move together;
inner loops go first, so an outer loop can then lift the same instruction
further out.
"""

from __future__ import annotations

from minijit.compiler.ir import OPS, Function, Op

__all__ = ["run"]

#: never moved, even from the top of a header: calls and stores have effects, phis belong
#: there, and a load may read what the loop stores
_STAYS = frozenset({Op.CALL, Op.PHI, Op.PARAM, Op.ALOAD, Op.ASTORE})


def run(f: Function) -> None:
    for header, pre, inner, latch in f.loops:
        blocks = [f.blocks[b] for b in (header, *inner, latch) if f.blocks[b].ins]
        pre_block = f.blocks[pre]
        if not pre_block.ins or not blocks:
            continue
        inside = {r for b in blocks for r in b.ins}
        moved = True
        while moved:
            moved = False
            for block in blocks:
                keep = []
                clean = block.id == header  # no effect or failure has happened yet
                for ref in block.ins:
                    ins = f.ins[ref]
                    info = OPS[ins.op]
                    movable = (info.pure and ins.op != Op.PHI
                               or clean and ins.op not in _STAYS and not info.term)
                    if movable and not any(a in inside for a in ins.args):
                        pre_block.ins.insert(len(pre_block.ins) - 1, ref)
                        ins.block = pre
                        inside.discard(ref)
                        moved = True
                    else:
                        keep.append(ref)
                        clean = clean and info.pure  # what stays and may fail ends it
                block.ins = keep
