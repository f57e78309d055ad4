"""Intrinsics: the builtins and math functions compiled code calls, as IR.

``BUILTINS`` maps a builtin's name to the function that compiles a call to it
(``abs``, ``min``, ``max``, ``int``, ``float``, ``bool``, ``round``), and
``MATH_FUNCS`` says for each supported ``math`` function its arity and how it
compiles: an inline op, or a call into libm.  Each compiler function takes the
front end (``fe``), the call node and the already compiled argument values.
Types follow CPython: ``abs(True)`` is an int, ``round(2.5)`` an int rounded
half to even, ``min`` keeps the first of equal values, ``math.floor`` of a
float is an int.  Mixed ``min``/``max`` types are a CompileError, since the
result's type would depend on the values.
"""

from __future__ import annotations

import ast

from minijit.compiler.ir import BOOL, FLOAT, INT, TYPE_NAMES, Op

TYPE_CHECKING = False  # typing takes milliseconds to import; type checkers read True
if TYPE_CHECKING:
    from minijit.compiler.frontend import FrontEnd

__all__ = ["BUILTINS", "MATH_FUNCS", "MATH_CONSTS", "math_call"]

# math functions: name -> (arity, kind).  kind is an op for inline code, or "libm".
MATH_FUNCS: dict[str, tuple[int, object]] = {
    "sqrt": (1, Op.FSQRT), "fabs": (1, Op.FABS), "floor": (1, Op.FFLOOR),
    "ceil": (1, Op.FCEIL), "isnan": (1, Op.FISNAN), "isinf": (1, Op.FISINF),
    "isfinite": (1, Op.FISFINITE),
    **{name: (1, "libm") for name in ("sin", "cos", "tan", "exp", "log", "log2", "log10")},
    **{name: (2, "libm") for name in ("atan2", "hypot", "pow")},
}
MATH_CONSTS = ("pi", "e", "tau", "inf", "nan")


def check_arity(fe: FrontEnd, node: ast.Call, name: str, args: list[int], lo: int,
                hi: int) -> None:
    if not lo <= len(args) <= hi:
        count = str(lo) if lo == hi else f"{lo} to {hi}" if hi < 99 else f"{lo} or more"
        raise fe.error(node, f"{name}() takes {count} arguments here "
                       f"({len(args)} given)")


def _builtin_abs(fe: FrontEnd, node: ast.Call, args: list[int]) -> int:
    check_arity(fe, node, "abs", args, 1, 1)
    if fe.f.type_of(args[0]) == FLOAT:
        return fe.emit(Op.FABS, FLOAT, (args[0],))
    return fe.emit(Op.IABS, INT, (fe.to_int(args[0]),))


def _min_max(fe: FrontEnd, node: ast.Call, args: list[int], name: str, cond: str) -> int:
    check_arity(fe, node, name, args, 2, 99)
    types = {fe.f.type_of(a) for a in args}
    if len(types) != 1:
        names = " and ".join(sorted(TYPE_NAMES[t] for t in types))
        raise fe.error(node, f"{name}() of {names} values: its result's type would "
                         "depend on the values; convert the arguments to one type")
    t = types.pop()
    cmp = Op.FCMP if t == FLOAT else Op.ICMP
    best = args[0]
    for item in args[1:]:  # keep the first extreme, as CPython does
        better = fe.emit(cmp, BOOL, (item, best), cond)
        best = fe.emit(Op.SELECT, t, (better, item, best))
    return best


def _builtin_min(fe: FrontEnd, node: ast.Call, args: list[int]) -> int:
    return _min_max(fe, node, args, "min", "lt")


def _builtin_max(fe: FrontEnd, node: ast.Call, args: list[int]) -> int:
    return _min_max(fe, node, args, "max", "gt")


def _builtin_int(fe: FrontEnd, node: ast.Call, args: list[int]) -> int:
    check_arity(fe, node, "int", args, 1, 1)
    if fe.f.type_of(args[0]) == FLOAT:
        return fe.emit(Op.F2I, INT, (args[0],))
    return fe.to_int(args[0])


def _builtin_float(fe: FrontEnd, node: ast.Call, args: list[int]) -> int:
    check_arity(fe, node, "float", args, 1, 1)
    return fe.to_float(args[0])


def _builtin_bool(fe: FrontEnd, node: ast.Call, args: list[int]) -> int:
    check_arity(fe, node, "bool", args, 1, 1)
    return fe.truth(args[0])


def _builtin_round(fe: FrontEnd, node: ast.Call, args: list[int]) -> int:
    check_arity(fe, node, "round", args, 1, 1)
    if fe.f.type_of(args[0]) == FLOAT:
        return fe.emit(Op.FROUND, INT, (args[0],))
    return fe.to_int(args[0])


def math_call(fe: FrontEnd, node: ast.Call, name: str, args: list[int]) -> int:
    count, kind = MATH_FUNCS[name]
    check_arity(fe, node, f"math.{name}", args, count, count)
    if kind in (Op.FFLOOR, Op.FCEIL) and fe.f.type_of(args[0]) != FLOAT:
        return fe.to_int(args[0])
    floats = tuple(fe.to_float(a) for a in args)
    if kind == "libm":
        return fe.emit(Op.LIBM, FLOAT, floats, name)
    result = {Op.FFLOOR: INT, Op.FCEIL: INT, Op.FISNAN: BOOL, Op.FISINF: BOOL,
              Op.FISFINITE: BOOL}.get(kind, FLOAT)
    return fe.emit(kind, result, floats)


BUILTINS = {
    "abs": _builtin_abs, "min": _builtin_min, "max": _builtin_max, "int": _builtin_int,
    "float": _builtin_float, "bool": _builtin_bool, "round": _builtin_round,
}
