"""Copy propagation: uses of a copy, or of a phi that merges one value, use the value.

Requires: SSA.  Invalidates: nothing beyond the removed instructions.

A phi is trivial when its operands are all one value or the phi itself (the SSA
builder places such phis for variables a loop reads but never changes).
Removing one can make another trivial, so the phis are looked at again until
none changes, reading their operands through the replacements found so far;
then every use is rewritten once.  Only the phis are walked more than once.
"""

from __future__ import annotations

from minijit.compiler.ir import Function, Op, remove_refs, substitute

__all__ = ["run"]


def run(f: Function) -> None:
    mapping: dict[int, int] = {}
    phis: list[int] = []
    for block in f.blocks:
        for ref in block.ins:
            ins = f.ins[ref]
            if ins.op == Op.COPY:
                mapping[ref] = ins.args[0]
            elif ins.op == Op.PHI:
                phis.append(ref)

    def final(ref: int) -> int:
        while ref in mapping:
            ref = mapping[ref]
        return ref

    changed = True
    while changed:
        changed = False
        for ref in phis:
            if ref in mapping:
                continue
            # a cycle of trivial phis keeps one member: it is excluded as "itself"
            others = {final(a) for a in f.ins[ref].args}
            others.discard(ref)
            if len(others) == 1:
                mapping[ref] = others.pop()
                changed = True
    substitute(f, mapping)
    remove_refs(f, set(mapping))
