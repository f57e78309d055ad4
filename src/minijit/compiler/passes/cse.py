"""Common subexpression elimination over the dominator tree.

Requires: SSA.  Invalidates: uses of the removed duplicates (rewritten here).

An instruction computes the same value as an identical one (same op, operands
and aux) that dominates it, so its uses can take that one instead.  This holds
for checked arithmetic too: when the dominating ``a + b`` overflowed, control
never reached the copy.  Phis, calls (their effect is the callee's business),
terminators, ``CHECK``, array loads and stores, and compares (which branches test in the flags) are
left alone.  Commutative ops are keyed with
sorted operands.  Dominators come from the iterative algorithm of Cooper,
Harvey and Kennedy ("A Simple, Fast Dominance Algorithm") over reverse
postorder; the walk down the dominator tree keeps one table per path, so the
pass is linear in practice.
"""

from __future__ import annotations

from minijit.compiler.ir import BR_FUSABLE, OPS, Function, Op, remove_refs, substitute

__all__ = ["dominators", "run"]

#: compares stay apart too: one per branch keeps each in the flags, where a shared one
#: would be a bool held in a register between the branches
#: an array load is not merged with an earlier one (a store may come between them)
_NEVER = frozenset({Op.PHI, Op.PARAM, Op.CALL, Op.CHECK, Op.JMP, Op.BR, Op.RET, Op.ALOAD,
                    Op.ASTORE}) | BR_FUSABLE


def dominators(f: Function) -> dict[int, int]:
    """Immediate dominator of each reachable block (the entry's is itself)."""
    order = [b.id for b in f.rpo()]
    index = {b: i for i, b in enumerate(order)}
    idom = {order[0]: order[0]}
    changed = True
    while changed:
        changed = False
        for b in order[1:]:
            preds = [p for p in f.blocks[b].preds if p in idom]
            new = preds[0]
            for p in preds[1:]:
                x, y = p, new
                while x != y:
                    while index[x] > index[y]:
                        x = idom[x]
                    while index[y] > index[x]:
                        y = idom[y]
                new = x
            if idom.get(b) != new:
                idom[b] = new
                changed = True
    return idom


def run(f: Function) -> None:
    idom = dominators(f)
    children: dict[int, list[int]] = {}
    for b, d in idom.items():
        if b != d:
            children.setdefault(d, []).append(b)
    mapping: dict[int, int] = {}
    table: dict[tuple, int] = {}
    stack: list[tuple[int, list]] = [(0, [])]
    while stack:
        block, added = stack.pop()
        if block < 0:  # leaving a subtree: forget what it added
            for key in added:
                del table[key]
            continue
        mine: list = []
        for ref in f.blocks[block].ins:
            ins = f.ins[ref]
            if ins.op in _NEVER:
                continue
            args = tuple(mapping.get(a, a) for a in ins.args)
            key = (ins.op, tuple(sorted(args)) if OPS[ins.op].comm else args, ins.aux,
                   ins.type)
            found = table.get(key)
            if found is None:
                table[key] = ref
                mine.append(key)
            else:
                mapping[ref] = found
        stack.append((-1, mine))
        for child in children.get(block, ()):
            stack.append((child, []))
    if mapping:
        substitute(f, mapping)
        remove_refs(f, set(mapping))
