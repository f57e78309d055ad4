"""Dead code elimination: unreachable blocks, and pure instructions nothing uses.

Requires: SSA.  Invalidates: predecessor lists of blocks that lost an
unreachable predecessor (fixed here, with their phi operands).

Roots are the instructions that must run: terminators and every op the op
table does not mark ``pure`` (checked arithmetic that may raise, calls).  A
pure instruction survives only if a live one uses it, found by a backward walk
over operands, so the pass is linear.
"""

from __future__ import annotations

from minijit.compiler.ir import OPS, Function, remove_refs
from minijit.compiler.passes.fold import drop_edge

__all__ = ["run"]


def _remove_unreachable(f: Function) -> None:
    seen = {0}
    stack = [0]
    while stack:
        for succ in f.blocks[stack.pop()].succs(f):
            if succ not in seen:
                seen.add(succ)
                stack.append(succ)
    for block in f.blocks:
        if block.id not in seen and block.ins:
            for succ in block.succs(f):
                if succ in seen:
                    drop_edge(f, block.id, succ)
            block.ins = []
            block.preds = []


def run(f: Function) -> None:
    _remove_unreachable(f)
    live: set[int] = set()
    stack = [r for b in f.blocks for r in b.ins if not OPS[f.ins[r].op].pure]
    while stack:
        ref = stack.pop()
        if ref in live:
            continue
        live.add(ref)
        stack.extend(a for a in f.ins[ref].args if a >= 0 and a not in live)
    remove_refs(f, {r for b in f.blocks for r in b.ins if r not in live})
