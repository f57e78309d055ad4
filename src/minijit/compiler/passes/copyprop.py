"""Copy propagation: uses of a copy, or of a phi that merges one value, use the value.

Requires: SSA.  Invalidates: nothing beyond the removed instructions.

A phi is trivial when its operands are all one value or the phi itself (the SSA
builder places such phis for variables a loop reads but never changes).
Removing one can make another trivial, so the pass repeats until none is left;
each round is linear.
"""

from __future__ import annotations

from minijit.compiler.ir import Function, Op, remove_refs, substitute

__all__ = ["run"]


def run(f: Function) -> None:
    while True:
        mapping: dict[int, int] = {}
        for block in f.blocks:
            for ref in block.ins:
                ins = f.ins[ref]
                if ins.op == Op.COPY:
                    mapping[ref] = ins.args[0]
                elif ins.op == Op.PHI:
                    others = {a for a in ins.args if a != ref}
                    if len(others) == 1:
                        mapping[ref] = others.pop()
        if not mapping:
            return
        # a phi mapped onto itself through a cycle of trivial phis keeps one member
        substitute(f, mapping)
        remove_refs(f, set(mapping))
