"""Constant folding: fold rules as data, with CPython itself as the arithmetic.

Requires: SSA.  Invalidates: uses of folded instructions (rewritten here),
dead branches (a ``BR`` on a constant becomes a ``JMP``; the dropped edge's
phi operands go with it; ``dce`` then removes unreachable blocks).

``FOLD`` maps an op to a Python function over constant operands.  The result is
CPython's own answer, so folding can never disagree with the interpreter: when
CPython raises (division by zero, a math domain error) or the result leaves
int64, the instruction is left alone and raises at run time, where CPython
would.  ``IDENTITY`` lists the operand that makes an op a no-op (``x + 0``);
floor division and modulo by a power of two become a shift and a mask.
"""

from __future__ import annotations

import math
import operator

from minijit.compiler.ir import BOOL, FLOAT, INT, Function, Op, remove_refs, substitute

__all__ = ["FOLD", "IDENTITY", "run", "drop_edge"]

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
_MASK = (1 << 64) - 1


def _wrap(v: int) -> int:
    v &= _MASK
    return v - (1 << 64) if v >> 63 else v


def _shift(a: int, b: int) -> int:
    if b > 64 and a:
        raise OverflowError
    return a << b


def _ipow(a: int, b: int) -> int:
    if b < 0 or (abs(a) > 1 and b > 64):
        raise OverflowError
    return a**b


def _fpow(a: float, b: float) -> float:
    r = a**b
    if not isinstance(r, float):
        raise ValueError
    return r


_COND = {"eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
         "gt": operator.gt, "ge": operator.ge}
#: unsigned compares: the same on the operands' 64-bit patterns
_COND.update({"u" + name: (lambda test: lambda a, b: test(a & _MASK, b & _MASK))(_COND[name])
              for name in ("lt", "le", "gt", "ge")})

FOLD = {
    Op.IADD: operator.add, Op.ISUB: operator.sub, Op.IMUL: operator.mul,
    Op.IFLOORDIV: operator.floordiv, Op.IMOD: operator.mod, Op.INEG: operator.neg,
    Op.IINV: operator.invert, Op.IAND: operator.and_, Op.IOR: operator.or_,
    Op.IXOR: operator.xor, Op.ISHL: _shift, Op.ISHR: operator.rshift, Op.IPOW: _ipow,
    Op.IABS: abs, Op.FADD: operator.add, Op.FSUB: operator.sub, Op.FMUL: operator.mul,
    Op.FDIV: operator.truediv, Op.FFLOORDIV: operator.floordiv, Op.FMOD: operator.mod,
    Op.FNEG: operator.neg, Op.FABS: abs, Op.FPOW: _fpow, Op.ITRUEDIV: operator.truediv,
    Op.BNOT: operator.not_, Op.I2F: float, Op.B2I: int, Op.F2I: int, Op.FROUND: round,
    Op.FFLOOR: math.floor, Op.FCEIL: math.ceil, Op.FISNAN: math.isnan, Op.FISINF: math.isinf,
    Op.FISFINITE: math.isfinite, Op.FSQRT: math.sqrt, Op.COPY: lambda a: a,
    Op.WADD: lambda a, b: _wrap(a + b), Op.WSUB: lambda a, b: _wrap(a - b),
    Op.WMUL: lambda a, b: _wrap(a * b),
    Op.UDIV: lambda a, b: _wrap((a & _MASK) // (b & _MASK)),
}
_CMP_OPS = (Op.ICMP, Op.FCMP, Op.MCMP)

#: op -> (identity constant, operand positions where it may stand)
IDENTITY = {
    Op.IADD: (0, (0, 1)), Op.WADD: (0, (0, 1)), Op.ISUB: (0, (1,)), Op.WSUB: (0, (1,)),
    Op.IMUL: (1, (0, 1)), Op.WMUL: (1, (0, 1)), Op.IOR: (0, (0, 1)), Op.IXOR: (0, (0, 1)),
    Op.IAND: (-1, (0, 1)), Op.ISHL: (0, (1,)), Op.ISHR: (0, (1,)), Op.IFLOORDIV: (1, (1,)),
}
#: the ops ``_fold_one`` can fold and ``_strength`` can rewrite: the pass skips the rest
_STRENGTH_OPS = (Op.IFLOORDIV, Op.IMOD, Op.ISHL)
_FOLDABLE = frozenset(FOLD).union(IDENTITY, _CMP_OPS, _STRENGTH_OPS, (Op.LIBM, Op.SELECT))
_CAST = {INT: int, FLOAT: float, BOOL: bool}


def _evaluate(f: Function, ins) -> object:
    values = [f.const_value(a) for a in ins.args]
    if ins.op in _CMP_OPS:
        return _COND[ins.aux](*values)
    if ins.op == Op.LIBM:
        return getattr(math, ins.aux)(*values)
    return FOLD[ins.op](*values)


def _fold_one(f: Function, ref: int) -> int | None:
    """The reference ``ref`` folds to, or None."""
    ins = f.ins[ref]
    args = ins.args
    if ins.op == Op.SELECT and args[0] < 0:
        return args[1] if f.const_value(args[0]) else args[2]
    if ins.op == Op.PHI or not args:
        return None
    if all(a < 0 for a in args) and (ins.op in FOLD or ins.op in _CMP_OPS or ins.op == Op.LIBM):
        try:
            value = _CAST[ins.type](_evaluate(f, ins))
        except (ArithmeticError, ValueError):
            return None
        if ins.type == INT and not INT64_MIN <= value <= INT64_MAX:
            return None
        return f.const(ins.type, value)
    rule = IDENTITY.get(ins.op)
    if rule is not None:
        unit, positions = rule
        for pos in positions:
            if args[pos] < 0 and f.const_value(args[pos]) == unit:
                return args[1 - pos]
    return None


def _strength(f: Function, ins) -> None:
    """Python's floor division and modulo by 2**k are exactly an arithmetic shift and a
    mask, for every sign: x // 8 == x >> 3 and x % 8 == x & 7.  And x << k, for a
    constant k from 1 to 62, is x * 2**k, overflow and all: a multiply, which range
    analysis may prove safe (``checks``) and code generation turns back into a shift."""
    if ins.op == Op.ISHL:
        k = ins.args[1]
        if k < 0 and f.consts[~k][0] == INT and 1 <= f.const_value(k) <= 62:
            ins.op, ins.args = Op.IMUL, (ins.args[0], f.const(INT, 1 << f.const_value(k)))
    elif ins.op in _STRENGTH_OPS:
        k = f.power_of_two(ins.args[1])
        if k is not None:
            x = ins.args[0]
            ins.op, ins.args = ((Op.ISHR, (x, f.const(INT, k))) if ins.op == Op.IFLOORDIV
                                else (Op.IAND, (x, f.const(INT, (1 << k) - 1))))


def drop_edge(f: Function, src: int, dst: int) -> None:
    """Forget the CFG edge src -> dst: its predecessor entry and its phi operands."""
    block = f.blocks[dst]
    index = block.preds.index(src)
    del block.preds[index]
    for ref in block.ins:
        ins = f.ins[ref]
        if ins.op != Op.PHI:
            break
        ins.args = ins.args[:index] + ins.args[index + 1:]


def run(f: Function) -> None:
    changed = True
    while changed:
        changed = False
        mapping: dict[int, int] = {}
        for block in f.blocks:
            for ref in block.ins:
                ins = f.ins[ref]
                if mapping and not mapping.keys().isdisjoint(ins.args):
                    ins.args = tuple(mapping.get(a, a) for a in ins.args)
                if ins.op == Op.BR and ins.args[0] < 0:
                    taken, dropped = ins.aux if f.const_value(ins.args[0]) else ins.aux[::-1]
                    ins.op, ins.args, ins.aux = Op.JMP, (), taken
                    drop_edge(f, block.id, dropped)
                    changed = True
                elif ins.op == Op.CHECK and ins.args[0] < 0 and not f.const_value(ins.args[0]):
                    mapping[ref] = ref  # mark for removal; nothing uses a CHECK
                    continue
                if ins.op not in _FOLDABLE:
                    continue
                _strength(f, ins)
                folded = _fold_one(f, ref)
                if folded is not None:
                    mapping[ref] = folded
        if mapping:
            changed = True
            substitute(f, {k: v for k, v in mapping.items() if k != v})
            remove_refs(f, set(mapping))
