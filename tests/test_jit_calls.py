"""Calls between @jit functions: inlining, direct calls, recursion, status propagation,
the stack limit."""

from __future__ import annotations

import sys

import pytest

from minijit import jit
from minijit.compiler import frontend

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from test_jit_semantics import assert_same  # noqa: E402


@jit
def fib(n):
    if n < 2:
        return n
    return fib(n - 1) + fib(n - 2)


@jit
def is_even(n):
    if n == 0:
        return True
    return is_odd(n - 1)


@jit
def is_odd(n):
    if n == 0:
        return False
    return is_even(n - 1)


@jit
def depth(n):
    if n == 0:
        return 0
    return depth(n - 1) + 1


@jit
def divide_deep(n, d):
    if n == 0:
        return 100 // d
    return divide_deep(n - 1, d) + 1


@jit
def hypot2(x, y):
    return x * x + y * y


@jit
def uses_helper(x, n):
    total = 0.0
    for i in range(n):
        total += hypot2(x, float(i))
    return total


@jit
def nothing(x):
    x + 1


@jit
def calls_nothing(x):
    nothing(x)
    return x


def test_fib_30():
    assert fib(30) == 832040


@jit
def tribonacci_sum(n):
    if n < 3:
        return n
    a = tribonacci(n - 1) + tribonacci(n - 2) + tribonacci(n - 3)
    b = tribonacci_sum(n - 1) + tribonacci_sum(n - 2)
    if a > b:
        return a - b
    return b - a + tribonacci_sum(n - 3) + n * n * n - (n // 2) * (n % 7) + (a ^ b) + (a & 3)


@jit
def tribonacci(n):
    return n * 2


def test_small_recursion_inlined_into_itself_twice():
    fib(5)
    assert fib.ir().count("call fib") == 8  # three levels per machine call


@jit
def guarded(x, n):
    if n * 2 < x // 3:
        return x - n
    total = 0
    for i in range(n):
        total += i * x
    return total


@jit
def calls_guarded(x, n):
    return guarded(x, n) + guarded(n, x)


def test_leading_guard_of_a_callee_is_compiled_at_the_call(monkeypatch):
    monkeypatch.setattr(frontend, "MAX_INLINE_NODES", 0)
    f = jit(calls_guarded.py_func)
    for x, n in ((100, 3), (3, 100), (0, 0), (-7, 4), (2**62, 2**61), (5, -2**63)):
        assert_same(f, x, n)
    ir = f.ir()
    assert ir.count("call guarded") == 2 and ir.count("ifloordiv") == 2


def test_overflow_in_a_guard_raises_as_in_the_callee(monkeypatch):
    monkeypatch.setattr(frontend, "MAX_INLINE_NODES", 0)
    f = jit(calls_guarded.py_func)
    with pytest.raises(OverflowError, match="signed 64-bit"):
        f(0, 2**62)  # n * 2 in the first guard
    with pytest.raises(OverflowError, match="signed 64-bit"):
        f(2**62, 0)  # in the second


@jit
def reads_global_in_guard(n):
    if n < LIMIT:
        return n
    return reads_global_in_guard(n - 1) + 1


@jit
def calls_in_guard(n):
    if abs(n) < 2:
        return n
    return calls_in_guard(n - 1) + 1


LIMIT = 3


@pytest.mark.parametrize("f", [reads_global_in_guard, calls_in_guard])
def test_a_guard_that_is_not_plain_stays_in_the_callee(monkeypatch, f):
    monkeypatch.setattr(frontend, "MAX_INLINE_NODES", 0)
    g = jit(f.py_func)
    assert_same(g, 10)
    assert g.ir().count("= call ") == 1 and g.ir().count("= icmp ") == 1  # its own guard


def test_larger_recursion_inlines_itself_within_a_node_budget():
    # 3 self calls and about 100 nodes: one more level would make 13 copies, over 512
    for n in (0, 4, 9):
        assert_same(tribonacci_sum, n)
    assert tribonacci_sum.ir().count("call tribonacci_sum") == 3 * 3


def test_base_case_is_tested_once_per_call():
    fib(5)
    body = fib.asm().split("; body prologue")[1]
    assert body.split("\n")[1].split()[1:] == ["cmp", "rdi,", "0x2"]  # before the frame
    assert "if n < 2:" not in body  # and not again after it


def test_fib_matches_cpython():
    for n in range(0, 25, 3):
        assert_same(fib, n)


def test_mutual_recursion():
    for n in (0, 1, 10, 501):
        assert_same(is_even, n)
        assert_same(is_odd, n)


def test_recursion_deeper_than_python_allows():
    assert depth(10_000) == 10_000


def test_deep_recursion_raises_recursion_error_not_a_crash():
    with pytest.raises(RecursionError, match="compiled code"):
        depth(10**9)
    assert depth(5) == 5  # and the function still works afterwards


def test_error_deep_in_recursion_propagates():
    assert divide_deep(50, 3) == 83
    with pytest.raises(ZeroDivisionError, match="integer division or modulo by zero"):
        divide_deep(50, 0)


def test_calls_with_floats_and_loops():
    for x, n in ((0.5, 10), (-3.0, 0), (1e200, 3)):
        assert_same(uses_helper, x, n)


def test_none_returning_callee_as_a_statement():
    assert calls_nothing(3) == 3
    with pytest.raises(OverflowError):
        calls_nothing(2**63 - 1)


def test_small_callees_are_inlined():
    uses_helper(1.0, 2)
    ir = uses_helper.ir()
    assert "call" not in ir and ir.count("fmul") == 2  # x * x is even hoisted out


def test_calls_that_are_not_inlined(monkeypatch):
    monkeypatch.setattr(frontend, "MAX_INLINE_NODES", 0)
    f = jit(uses_helper.py_func)
    for x, n in ((0.5, 10), (-3.0, 0), (1e200, 3)):
        assert_same(f, x, n)
    assert "call hypot2" in f.ir()
    assert "float64(float64, float64)" in hypot2.signatures  # compiled for the caller
    g = jit(calls_nothing.py_func)
    assert g(3) == 3 and "call nothing" in g.ir()
    with pytest.raises(OverflowError):
        g(2**63 - 1)


def test_first_calls_from_several_threads_compile_once():
    import threading

    f = jit(hypot2.py_func)
    results = []
    threads = [threading.Thread(target=lambda: results.append(f(3.0, 4.0))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [25.0] * 8 and f.signatures == ["float64(float64, float64)"]


def test_a_caller_keeps_its_callee_alive(monkeypatch):
    import gc
    import linecache

    monkeypatch.setattr(frontend, "MAX_INLINE_NODES", 0)
    source = "def callee(x):\n    return x * 3\n\ndef caller(x):\n    return callee(x) + 1\n"
    path = "<jit test keepalive>"
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)
    namespace: dict = {}
    exec(compile(source, path, "exec"), namespace)
    namespace["callee"] = jit(namespace["callee"])
    caller = jit(namespace["caller"])
    assert caller(5) == 16 and "call callee" in caller.ir()
    del namespace["callee"]  # only the compiled caller still refers to it
    gc.collect()
    assert caller(7) == 22


@jit
def early_lt(n, m):
    if n < 2:
        return m
    return early_lt(n - 1, m + 1) + 1


@jit
def early_mirrored(n):
    if 3 >= n:
        return -1
    return early_mirrored(n - 2) * 2


@jit
def early_none(n):
    if n != 0:
        return
    early_none(n + 1)


@jit
def early_const_else(n) -> int:  # the recursive call comes first: the annotation types it
    if n > 5:
        x = early_const_else(n - 1) + n
        return x
    return 7


def test_base_cases_return_before_the_frame_is_built():
    for n in (-5, 0, 1, 2, 3, 4, 10, 40):
        assert_same(early_lt, n, 100)
        assert_same(early_mirrored, n)
        assert_same(early_none, n)
        assert_same(early_const_else, n)
    early_lt(5, 1)
    body = early_lt.asm().split("; body prologue")[1].split("; line")[0]
    assert body.index("ret") < body.index("push")  # the early return comes first
