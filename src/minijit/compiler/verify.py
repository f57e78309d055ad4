"""The IR verifier: run between passes in check mode, it states what every pass keeps.

Checked: each block ends in exactly one terminator and has none elsewhere;
phis come first and have one operand per predecessor; predecessor lists match
the successors the terminators name; every operand is a constant or an
instruction placed in some block; operand types fit the op (phi operands have
the phi's type, branch conditions are bool).  A failure is an internal error
(AssertionError naming the instruction), never a user's CompileError.
"""

from __future__ import annotations

from minijit.compiler.ir import BOOL, OPS, Function, Op, format_function

__all__ = ["verify"]


def verify(f: Function, after: str = "") -> None:
    placed = {ref for block in f.blocks for ref in block.ins}
    preds_seen: dict[int, list[int]] = {b.id: [] for b in f.blocks}
    for block in f.blocks:
        if not block.ins:
            assert not block.preds or not any(f.blocks[p].ins for p in block.preds), \
                _fail(f, after, f"empty block b{block.id} has predecessors")
            continue
        for pos, ref in enumerate(block.ins):
            ins = f.ins[ref]
            where = f"%{ref} ({ins.op.name}) in b{block.id}"
            assert ins.block == block.id, _fail(f, after, f"{where} records block b{ins.block}")
            assert OPS[ins.op].term == (pos == len(block.ins) - 1), \
                _fail(f, after, f"{where}: terminator misplaced")
            if ins.op == Op.PHI:
                assert pos == 0 or f.ins[block.ins[pos - 1]].op == Op.PHI, \
                    _fail(f, after, f"{where}: phi after a non-phi")
                assert len(ins.args) == len(block.preds), \
                    _fail(f, after, f"{where}: {len(ins.args)} operands, "
                          f"{len(block.preds)} predecessors")
                for a in ins.args:
                    assert f.type_of(a) == ins.type, _fail(f, after, f"{where}: operand type")
            for a in ins.args:
                assert a < 0 or a in placed, _fail(f, after, f"{where}: uses unplaced %{a}")
            if ins.op == Op.BR:
                assert f.type_of(ins.args[0]) == BOOL, _fail(f, after, f"{where}: non-bool")
        for succ in block.succs(f):
            preds_seen[succ].append(block.id)
    for block in f.blocks:
        if block.ins:
            assert sorted(preds_seen[block.id]) == sorted(block.preds), \
                _fail(f, after, f"b{block.id}: preds {block.preds} but edges from "
                      f"{preds_seen[block.id]}")


def _fail(f: Function, after: str, message: str) -> str:
    return f"IR invalid after {after or 'construction'}: {message}\n{format_function(f)}"
