"""Differential test: random well-typed programs, compiled and run by CPython, must agree.

Hypothesis builds a function over int parameters ``a, b``, float parameters
``x, y`` and a bool ``p`` from the subset: int, float and bool expressions (arithmetic,
bitwise, shifts, comparisons and chains, ``and``/``or``/``not``, conditional
expressions, builtins, math), assignments, augmented assignments, ``if``,
``for`` over ``range``, counted ``while``, ``break`` and ``continue``, tuple
assignments, ``and``/``or`` on ints (an operand is the value), and
calls to small jitted helpers (which the compiler inlines).  It is
called with edge-case arguments (zeros, signs, int64 limits, -0.0, huge
floats, inf, nan).

The oracle is CPython running a twin of the program in which every int
result that could leave int64 passes through ``_chk``, which raises
``_Big`` when it does.  CPython evaluates left to right as the compiled code
does, so the twin raising ``_Big`` means the compiled function must raise
OverflowError at that same point; otherwise both must give the same value
(floats bit for bit) or the same exception type.
"""

from __future__ import annotations

import linecache
import math
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minijit import jit
from minijit.compiler import driver, frontend

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
INT_CONSTS = [0, 1, -1, 2, 3, 7, -5, 100, 1 << 31, 1 << 62, INT64_MAX, INT64_MIN]
FLOAT_CONSTS = [0.0, -0.0, 0.5, -1.5, 3.0, 1e300, 1e-300, 2.0**63]
INT_ARGS = [0, 1, -1, 2, -3, 17, 1 << 32, -(1 << 40), INT64_MAX, INT64_MIN, INT64_MAX - 1]
FLOAT_ARGS = [0.0, -0.0, 1.0, -2.5, 0.1, 1e300, -1e300, 1e-310, math.inf, -math.inf,
              math.nan, 9007199254740993.0]
INT_OPS = ["+", "-", "*", "//", "%", "&", "|", "^"]
FLOAT_OPS = ["+", "-", "*", "/", "//", "%"]
CMPS = ["<", "<=", ">", ">=", "==", "!="]
MATH_FLOAT = ["sqrt", "sin", "exp", "log", "fabs", "atan2", "hypot"]
CHECKED = {"+", "-", "*", "//", "<<"}


class _Big(Exception):
    pass


def _chk(value):
    if type(value) is int and not INT64_MIN <= value <= INT64_MAX:
        raise _Big
    return value


def int_helper(p, q):
    if p > q:
        return p - q
    return q // 3 + p % 7


def int_helper_checked(p, q):
    if p > q:
        return _chk(p - q)
    return q // 3 + p % 7


def float_helper(u, v):
    w = u * 0.5
    if w < v:
        return w + v
    return w - v


JITTED_HELPERS = {"int_helper": jit(int_helper), "float_helper": jit(float_helper)}


class Program:
    """Draws source text twice: plain (compiled and run) and checked (the oracle)."""

    def __init__(self, draw) -> None:
        self.draw = draw
        self.ints = ["a", "b", "i0", "i1"]
        self.floats = ["x", "y", "f0", "f1"]
        self.loops = 0
        self.names = 0

    def pick(self, items):
        return self.draw(st.sampled_from(items))

    def int_expr(self, depth: int) -> tuple[str, str]:
        kind = self.draw(st.integers(0, 11 if depth > 0 else 1))
        if kind == 11:  # and/or give an operand, not a bool
            op = self.pick(["and", "or"])
            (lhs, lc), (r, rc) = self.int_expr(depth - 1), self.int_expr(depth - 1)
            return f"({lhs} {op} {r})", f"({lc} {op} {rc})"
        if kind == 10:  # a call to a jitted helper (inlined), or its checked twin
            (lhs, lc), (r, rc) = self.int_expr(depth - 1), self.int_expr(depth - 1)
            return f"int_helper({lhs}, {r})", f"int_helper_checked({lc}, {rc})"
        if kind == 0:
            v = self.pick(self.ints)
            return v, v
        if kind == 1:
            c = repr(self.pick(INT_CONSTS))
            return f"({c})", f"({c})"
        if kind in (2, 3):
            op = self.pick(INT_OPS)
            (lhs, lc), (r, rc) = self.int_expr(depth - 1), self.int_expr(depth - 1)
            text, checked = f"({lhs} {op} {r})", f"({lc} {op} {rc})"
            return text, f"_chk{checked}" if op in CHECKED else checked
        if kind == 4:
            op = self.pick(["<<", ">>"])
            (lhs, lc) = self.int_expr(depth - 1)
            n = self.draw(st.integers(0, 70))
            return f"({lhs} {op} {n})", f"_chk({lc} {op} {n})"
        if kind == 5:
            fn = self.pick(["-", "~", "abs"])
            (e, ec) = self.int_expr(depth - 1)
            return f"({fn}({e}))", f"_chk({fn}({ec}))"
        if kind == 6:
            fn = self.pick(["min", "max"])
            (lhs, lc), (r, rc) = self.int_expr(depth - 1), self.int_expr(depth - 1)
            return f"{fn}({lhs}, {r})", f"{fn}({lc}, {rc})"
        if kind == 7:
            fn = self.pick(["int", "round", "math.floor", "math.ceil"])
            (e, ec) = self.float_expr(depth - 1)
            return f"{fn}({e})", f"_chk({fn}({ec}))"
        if kind == 8:
            (c, cc), (lhs, lc), (r, rc) = (self.bool_expr(depth - 1), self.int_expr(depth - 1),
                                         self.int_expr(depth - 1))
            return f"({lhs} if {c} else {r})", f"({lc} if {cc} else {rc})"
        (e, ec) = self.int_expr(depth - 1)
        n = self.draw(st.integers(0, 5))
        return f"({e} ** {n})", f"_chk({ec} ** {n})"

    def float_expr(self, depth: int) -> tuple[str, str]:
        kind = self.draw(st.integers(0, 8 if depth > 0 else 1))
        if kind == 8:
            (lhs, lc), (r, rc) = self.float_expr(depth - 1), self.float_expr(depth - 1)
            return f"float_helper({lhs}, {r})", f"float_helper({lc}, {rc})"
        if kind == 0:
            v = self.pick(self.floats)
            return v, v
        if kind == 1:
            c = repr(self.pick(FLOAT_CONSTS))
            return c, c
        if kind in (2, 3):
            op = self.pick(FLOAT_OPS)
            (lhs, lc) = self.float_expr(depth - 1)
            (r, rc) = self.float_expr(depth - 1) if kind == 2 else self.int_expr(depth - 1)
            if self.draw(st.booleans()):
                (lhs, lc), (r, rc) = (r, rc), (lhs, lc)
            return f"({lhs} {op} {r})", f"({lc} {op} {rc})"
        if kind == 4:
            fn = self.pick(["-", "abs", "float"])
            (e, ec) = self.float_expr(depth - 1)
            return f"({fn}({e}))", f"({fn}({ec}))"
        if kind == 5:
            fn = self.pick(MATH_FLOAT)
            args = [self.float_expr(depth - 1) for _ in range(2 if fn in ("atan2", "hypot")
                                                              else 1)]
            return (f"math.{fn}({', '.join(a for a, _ in args)})",
                    f"math.{fn}({', '.join(c for _, c in args)})")
        if kind == 6:
            (e, ec) = self.int_expr(depth - 1)
            return f"float({e})", f"float({ec})"
        (c, cc), (lhs, lc), (r, rc) = (self.bool_expr(depth - 1), self.float_expr(depth - 1),
                                     self.float_expr(depth - 1))
        return f"({lhs} if {c} else {r})", f"({lc} if {cc} else {rc})"

    def any_expr(self, depth: int) -> tuple[str, str]:
        return (self.int_expr if self.draw(st.booleans()) else self.float_expr)(depth)

    def bool_expr(self, depth: int) -> tuple[str, str]:
        kind = self.draw(st.integers(-2, 3 if depth > 0 else 0))
        if kind == -1:  # the bool parameter
            return "p", "p"
        if kind == -2:  # a constant: code it decides against is never run
            c = self.pick(["True", "False"])
            return c, c
        if kind in (0, 1):
            parts = [self.any_expr(max(depth - 1, 0))
                     for _ in range(self.draw(st.integers(2, 3)))]
            ops = [self.pick(CMPS) for _ in parts[1:]]
            text = parts[0][0] + "".join(f" {o} {p[0]}" for o, p in zip(ops, parts[1:]))
            checked = parts[0][1] + "".join(f" {o} {p[1]}" for o, p in zip(ops, parts[1:]))
            return f"({text})", f"({checked})"
        if kind == 2:
            (e, ec) = self.bool_expr(depth - 1)
            return f"(not {e})", f"(not {ec})"
        op = self.pick(["and", "or"])
        (lhs, lc), (r, rc) = self.bool_expr(depth - 1), self.bool_expr(depth - 1)
        return f"({lhs} {op} {r})", f"({lc} {op} {rc})"

    def block(self, indent: int, depth: int, in_loop: bool) -> list[tuple[str, str]]:
        lines = []
        for _ in range(self.draw(st.integers(1, 3))):
            lines.extend(self.statement(indent, depth, in_loop))
        return lines

    def statement(self, indent: int, depth: int, in_loop: bool) -> list[tuple[str, str]]:
        pad = "    " * indent
        kind = self.draw(st.integers(0, 7 if depth > 0 else 1))
        if kind == 7:  # tuple assignment: every right side first, then the names
            (e, ec), (g, gc) = self.int_expr(1), self.float_expr(1)
            return [(f"{pad}i0, f1, i1 = i1, {g}, {e}", f"{pad}i0, f1, i1 = i1, {gc}, {ec}")]
        if kind == 0:
            target = self.pick(["i0", "i1", "f0", "f1"])
            (e, ec) = (self.int_expr if target[0] == "i" else self.float_expr)(2)
            return [(f"{pad}{target} = {e}", f"{pad}{target} = {ec}")]
        if kind == 1:
            target = self.pick(["i0", "i1"])
            op = self.pick(["+", "-", "*", "^"])
            (e, ec) = self.int_expr(1)
            return [(f"{pad}{target} {op}= {e}",
                     f"{pad}{target} = " + (f"_chk({target} {op} {ec})" if op in CHECKED
                                            else f"{target} {op} {ec}"))]
        if kind in (2, 3):
            (c, cc) = self.bool_expr(2)
            out = [(f"{pad}if {c}:", f"{pad}if {cc}:")]
            out += self.block(indent + 1, depth - 1, in_loop)
            if kind == 3:
                out += [(f"{pad}else:", f"{pad}else:")] + self.block(indent + 1, depth - 1,
                                                                    in_loop)
            return out
        if kind == 4:
            self.loops += 1
            var = f"k{self.loops}"
            start, stop, step = (self.draw(st.integers(-4, 4)) for _ in range(3))
            step = step or 1
            header = f"{pad}for {var} in range({start}, {stop}, {step}):"
            self.ints.append(var)
            body = self.block(indent + 1, depth - 1, True)
            self.ints.remove(var)
            return [(header, header)] + body
        if kind == 5:
            self.loops += 1
            var = f"w{self.loops}"
            (c, cc) = self.bool_expr(1)
            body = self.block(indent + 1, depth - 1, True)
            step = f"{pad}    {var} += 1"
            return ([(f"{pad}{var} = 0", f"{pad}{var} = 0"),
                     (f"{pad}while {var} < 4 and {c}:", f"{pad}while {var} < 4 and {cc}:"),
                     (step, step)] + body)
        if not in_loop:
            return [(f"{pad}pass", f"{pad}pass")]
        (c, cc) = self.bool_expr(1)
        word = self.pick(["break", "continue"])
        return [(f"{pad}if {c}:", f"{pad}if {cc}:"), (f"{pad}    {word}", f"{pad}    {word}")]

    def function(self) -> tuple[str, str]:
        lines = [("    i0 = a", "    i0 = a"), ("    i1 = b", "    i1 = b"),
                 ("    f0 = x", "    f0 = x"), ("    f1 = y", "    f1 = y")]
        lines += self.block(1, 2, False)
        (e, ec) = self.any_expr(2) if self.draw(st.integers(0, 3)) else self.bool_expr(1)
        lines.append((f"    return {e}", f"    return {ec}"))
        plain = "def prog(a, b, x, y, p):\n" + "\n".join(t for t, _ in lines) + "\n"
        checked = "def prog(a, b, x, y, p):\n" + "\n".join(c for _, c in lines) + "\n"
        return plain, checked


def _load(source: str, name: str, helpers: dict):
    path = f"<differential {name}>"
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)
    namespace = {"math": math, "_chk": _chk, **helpers}
    exec(compile(source, path, "exec"), namespace)
    return namespace["prog"]


def _outcome(fn, args):
    try:
        return "value", fn(*args)
    except Exception as exc:
        return "raise", type(exc)


def _same(want, got) -> bool:
    if want[0] != got[0] or type(want[1]) is not type(got[1]):
        return False
    if isinstance(want[1], float):
        return (math.isnan(want[1]) and math.isnan(got[1])) or \
            math.copysign(1.0, want[1]) == math.copysign(1.0, got[1]) and want[1] == got[1]
    return want[1] == got[1]


_counter = [0]


@pytest.fixture(autouse=True, scope="module")
def verify_every_pass():
    """The IR verifier runs between passes for every random program."""
    driver.CHECK = True
    yield
    driver.CHECK = False


#: a larger run: MINIJIT_DIFFERENTIAL_EXAMPLES=20000 pytest tests/test_jit_differential.py
EXAMPLES = int(os.environ.get("MINIJIT_DIFFERENTIAL_EXAMPLES", "600"))


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_programs_agree_with_cpython(data):
    plain, checked = Program(data.draw).function()
    _counter[0] += 1
    compiled = jit(_load(plain, f"plain {_counter[0]}", JITTED_HELPERS))
    oracle = _load(checked, f"checked {_counter[0]}",
                   {"int_helper_checked": int_helper_checked, "float_helper": float_helper})
    # helpers inlined, or called: then int_helper's leading guard runs at each call
    inline_nodes = frontend.MAX_INLINE_NODES if data.draw(st.booleans()) else 0
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(frontend, "MAX_INLINE_NODES", inline_nodes)
        _agree(data, plain, compiled, oracle)


def _agree(data, plain: str, compiled, oracle) -> None:
    for _ in range(4):
        args = (data.draw(st.sampled_from(INT_ARGS)), data.draw(st.sampled_from(INT_ARGS)),
                data.draw(st.sampled_from(FLOAT_ARGS)), data.draw(st.sampled_from(FLOAT_ARGS)),
                data.draw(st.booleans()))
        want = _outcome(oracle, args)
        if want == ("raise", _Big):
            want = ("raise", OverflowError)
        got = _outcome(compiled, args)
        assert _same(want, got), f"{plain}\nargs={args}: CPython {want}, compiled {got}"
