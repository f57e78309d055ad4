"""Machine-code entry points: results, every error path, fallback, metadata, lifetime.

Kernels are written with minijit's Assembler in the status convention
(``int32 status = kernel(void *result, args...)``) and run for real through the
entry; CPython computing the same expression is the oracle.
"""

from __future__ import annotations

import ctypes
import gc
import inspect
import math
import os
import struct
import sys
import threading
import tracemalloc
import weakref

import pytest
from entry_kernels import SAMPLES, add_int, kernel, kind_tuples, lone_chunk_arena, ok, result_is
from hypothesis import given, settings
from hypothesis import strategies as st

from minijit.memory import CodeBlock
from minijit.native import capi, entry
from minijit.native.entry import Entry, Specialisation, make_entry, update_entry
from minijit.native.status import STATUS, exception_for
from minijit.x86 import (
    Assembler,
    al,
    byte,
    eax,
    qword,
    r8,
    r9,
    r10,
    r12,
    r13,
    r14,
    r15,
    rax,
    rbp,
    rbx,
    rcx,
    rdi,
    rdx,
    rsi,
    rsp,
    xmm0,
    xmm1,
    xmm2,
)

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
int64s = st.integers(INT64_MIN, INT64_MAX)


def spec(arg_kinds: tuple, result_kind: str, build) -> Specialisation:
    block = kernel(build)
    return Specialisation(arg_kinds, result_kind, block.address, block)


def div_float(a: Assembler) -> None:
    """*result = xmm0 / xmm1, or status 4 (float division by zero) for a zero divisor."""
    zero, divide = a.label(), a.label()
    a.xorpd(xmm2, xmm2)
    a.ucomisd(xmm1, xmm2)
    a.jp(divide)  # NaN divisor: unordered, divide
    a.je(zero)
    a.bind(divide)
    a.divsd(xmm0, xmm1)
    a.movsd(qword[rdi], xmm0)
    ok(a)
    a.bind(zero)
    a.mov(eax, 4)
    a.ret()


def less_int(a: Assembler) -> None:
    """*(bool *)result = rsi < rdx."""
    a.cmp(rsi, rdx)
    a.setl(al)
    a.mov(byte[rdi], al)
    ok(a)


def store_rsi(a: Assembler) -> None:
    """*result = rsi, all 64 bits (shows how a bool argument arrives)."""
    a.mov(qword[rdi], rsi)
    ok(a)


def returns(code: int):
    def build(a: Assembler) -> None:
        a.mov(eax, code)
        a.ret()

    return build


class Recorder:
    """A fallback that records each call and returns a marker."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple, dict]] = []

    def __call__(self, *args: object, **kwargs: object) -> str:
        self.calls.append((args, kwargs))
        return "fallback"


@pytest.fixture(scope="module")
def add() -> object:
    return make_entry([spec(("int64", "int64"), "int64", add_int)], Recorder(), "add")


@pytest.fixture(scope="module")
def div() -> object:
    return make_entry([spec(("float64", "float64"), "float64", div_float)], Recorder(), "div")


# --- results ---------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(int64s, int64s)
def test_int_add_matches_cpython_or_raises_overflow(add, x, y):
    if INT64_MIN <= x + y <= INT64_MAX:
        assert add(x, y) == x + y
    else:
        with pytest.raises(OverflowError, match="^int result does not fit in a signed 64-bit"):
            add(x, y)


def test_minus_one_is_a_value_not_an_error(add):
    # PyLong_AsLongLong returns -1 both for -1 and on error; PyErr_Occurred tells them apart.
    assert add(-1, -1) == -2
    assert add(-1, 0) == -1
    assert add(0, -1) == -1


def test_int64_limits_are_accepted(add):
    assert add(INT64_MAX, 0) == INT64_MAX
    assert add(INT64_MIN, 0) == INT64_MIN
    assert add(INT64_MIN, INT64_MAX) == -1


@pytest.mark.parametrize("big", [1 << 63, INT64_MIN - 1, 10**30, -(10**40)])
@pytest.mark.parametrize("position", [0, 1])
def test_int_outside_int64_raises_overflow_naming_the_argument(add, big, position):
    args = [1, 1]
    args[position] = big
    with pytest.raises(OverflowError) as info:
        add(*args)
    assert str(info.value) == (
        f"add() argument {position + 1}: int does not fit in a signed 64-bit integer"
    )
    assert add.__self__.fallback.calls == []


def bits(x: float) -> bytes:
    return struct.pack("<d", x)


@settings(max_examples=300, deadline=None)
@given(st.floats(), st.floats())
def test_float_division_is_bit_identical_to_cpython(div, x, y):
    try:
        expected = x / y
    except ZeroDivisionError as error:
        with pytest.raises(ZeroDivisionError, match=f"^{error}$"):
            div(x, y)
    else:
        assert bits(div(x, y)) == bits(expected)


def test_float_division_by_signed_zero(div):
    for zero in (0.0, -0.0):
        with pytest.raises(ZeroDivisionError, match="^float division by zero$"):
            div(1.0, zero)
    assert math.isnan(div(math.nan, math.nan))


@given(int64s, int64s)
@settings(max_examples=100, deadline=None)
def test_bool_result_is_the_bool_singleton(x, y):
    less = make_entry([spec(("int64", "int64"), "bool", less_int)], Recorder(), "less")
    assert less(x, y) is (x < y)


def test_none_result():
    nothing = make_entry(
        [spec((), "none", ok), spec(("int64",), "none", ok)], Recorder(), "nothing"
    )
    assert nothing() is None
    assert nothing(5) is None


def test_bool_arguments_arrive_as_0_and_1_in_all_64_bits():
    f = make_entry([spec(("bool",), "int64", store_rsi)], Recorder(), "f")
    assert f(True) == 1
    assert f(False) == 0


# --- status codes ------------------------------------------------------------------------


@pytest.mark.parametrize("code", sorted(STATUS))
def test_every_status_code_raises_its_exception_and_message(code):
    exc, message = STATUS[code]
    fails = make_entry([spec((), "int64", returns(code))], Recorder(), "fails")
    with pytest.raises(exc) as info:
        fails()
    assert type(info.value) is exc
    assert str(info.value) == message


@pytest.mark.parametrize("code", [max(STATUS) + 1, 1000, 2**31 - 1, -1, -(2**31)])
def test_unknown_status_raises_system_error_with_the_code(code):
    fails = make_entry([spec((), "float64", returns(code))], Recorder(), "fails")
    with pytest.raises(SystemError) as info:
        fails()
    assert str(info.value) == str(exception_for(code))
    assert str(info.value) == f"compiled code returned unknown status {code}"


# --- fallback ----------------------------------------------------------------------------


@pytest.mark.parametrize("args", [(), (1,), (1, 2, 3), (1, 2, 3, 4, 5, 6, 7, 8, 9)])
def test_wrong_argument_count_goes_to_the_fallback(args):
    fallback = Recorder()
    f = make_entry([spec(("int64", "int64"), "int64", add_int)], fallback, "f")
    assert f(*args) == "fallback"
    assert fallback.calls == [(args, {})]


class Int(int):
    pass


class Float(float):
    pass


@pytest.mark.parametrize(
    "args",
    [(True, 1), (1, False), (1, 1.0), (1.0, 1), ("1", 1), (None, 1), (Int(1), 1), (1, Float(2))],
    ids=repr,
)
def test_inexact_types_go_to_the_fallback_with_the_same_objects(args):
    fallback = Recorder()
    f = make_entry(
        [spec(("int64", "int64"), "int64", add_int), spec(("float64",) * 2, "int64", ok)],
        fallback,
        "f",
    )
    assert f(*args) == "fallback"
    [(seen, kwargs)] = fallback.calls
    assert kwargs == {} and all(a is b for a, b in zip(seen, args, strict=True))


def test_keywords_go_to_the_fallback():
    fallback = Recorder()
    f = make_entry([spec(("int64", "int64"), "int64", add_int)], fallback, "f")
    assert f(1, b=2) == "fallback"
    assert f(a=1, b=2) == "fallback"
    assert fallback.calls == [((1,), {"b": 2}), ((), {"a": 1, "b": 2})]
    no_keywords: dict[str, object] = {}
    assert f(1, 2, **no_keywords) == 3  # an empty ** is no keywords at all
    assert len(fallback.calls) == 2


def test_fallback_result_and_exception_pass_through():
    def fallback(*args: object) -> object:
        if args == (0,):
            raise KeyError("from the fallback")
        return args

    f = make_entry([], fallback, "f")
    assert f(1, "x") == (1, "x")
    with pytest.raises(KeyError, match="from the fallback"):
        f(0)


def test_fallback_may_be_a_builtin():
    biggest = make_entry([spec(("float64", "float64"), "float64", div_float)], max, "biggest")
    assert biggest(3, 7, 5) == 7
    assert biggest([1, 9], key=lambda x: -x) == 1
    assert biggest(1.0, 4.0) == 0.25


def test_specialisation_is_chosen_by_exact_argument_types():
    kinds = [
        (),
        ("int64",),
        ("float64",),
        ("bool",),
        ("int64", "float64"),
        ("float64", "int64"),
        ("int64", "int64", "int64"),
    ]
    f = make_entry([spec(k, "int64", result_is(i)) for i, k in enumerate(kinds)], Recorder(), "f")
    assert [f(), f(1), f(1.0), f(True), f(1, 1.0), f(1.0, 1), f(1, 2, 3)] == list(range(7))
    assert f(1, 1) == "fallback"


def test_endless_recursion_through_the_fallback_raises_recursion_error():
    def fallback(*args: object) -> object:
        return f(*args)  # the same unmatched call again, forever

    f = make_entry([spec(("int64",), "int64", store_rsi)], fallback, "f")
    with pytest.raises(RecursionError):
        f(1.5)
    assert f(7) == 7


def test_threads_share_an_entry():
    f = make_entry([spec(("int64", "int64"), "int64", add_int)], lambda *a: a, "f")
    failures: list[object] = []

    def work(base: int) -> None:
        for i in range(20_000):
            if f(base, i) != base + i or f(float(i), base) != (float(i), base):
                failures.append((base, i))
                return

    threads = [threading.Thread(target=work, args=(n << 40,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@settings(max_examples=60, deadline=None)
@given(
    st.lists(kind_tuples, max_size=8, unique=True),
    st.lists(st.lists(st.sampled_from(sorted(SAMPLES)), max_size=4), min_size=1, max_size=10),
)
def test_dispatch_picks_the_specialisation_of_the_exact_types_or_falls_back(specs, calls):
    f = make_entry(
        [spec(kinds, "int64", result_is(i)) for i, kinds in enumerate(specs)],
        lambda *args: "fallback",
        "f",
    )
    for kinds in calls:
        expected = specs.index(tuple(kinds)) if tuple(kinds) in specs else "fallback"
        assert f(*(SAMPLES[kind] for kind in kinds)) == expected


# --- interface errors --------------------------------------------------------------------


def test_bad_specialisations_are_rejected_with_what_is_wrong():
    with pytest.raises(ValueError, match="unknown argument kind 'int'; argument kinds are int64"):
        Specialisation(("int",), "int64", 4096)
    with pytest.raises(ValueError, match="unknown result kind 'void'; result kinds are int64"):
        Specialisation((), "void", 4096)
    for address in (0, -8, True, "4096", None):
        with pytest.raises(ValueError, match="kernel_address must be a positive int address"):
            Specialisation((), "none", address)
    twice = [Specialisation(("int64",), "int64", 4096), Specialisation(("int64",), "bool", 8192)]
    with pytest.raises(ValueError, match=r"two specialisations for arguments \(int64\)"):
        make_entry(twice, Recorder(), "f")
    with pytest.raises(TypeError, match="must be Specialisation objects, not"):
        make_entry([(("int64",), "int64", 4096)], Recorder(), "f")


def test_bad_entry_arguments_are_rejected_with_what_is_wrong():
    with pytest.raises(TypeError, match="fallback must be callable, not int"):
        make_entry([], 5, "f")
    for name in ("", "a\0b", None, 5):
        with pytest.raises(ValueError, match="entry name must be a non-empty str without NUL"):
            make_entry([], Recorder(), name)
    with pytest.raises(ValueError, match="entry doc must be a str without NUL"):
        make_entry([], Recorder(), "f", doc="a\0b")
    with pytest.raises(TypeError, match="is not a function made by make_entry"):
        update_entry(len, [])


# --- metadata ----------------------------------------------------------------------------


def test_the_entry_is_a_real_builtin_function():
    doc = "scale(x, y)\n--\n\nMultiply."
    f = make_entry([spec(("int64",), "int64", store_rsi)], Recorder(), "scale", doc, "geometry")
    assert type(f) is type(len)
    assert f.__name__ == "scale" and f.__qualname__ == "scale"
    assert repr(f) == "<built-in function scale>"
    assert f.__doc__ == "Multiply."
    assert str(inspect.signature(f)) == "(x, y)"
    assert f.__module__ == "geometry"
    assert isinstance(f.__self__, Entry)
    assert f.__self__.specialisations[0].arg_kinds == ("int64",)
    assert f.__self__.code == f.__self__.block.code
    assert f.__self__.address == f.__self__.block.address
    with pytest.raises(AttributeError):
        f.__self__.fallback = print  # the code holds the fallback's address
    bare = make_entry([], Recorder(), "bare")
    assert bare.__doc__ is None and bare.__module__ is None


def test_listing_disassembles_the_code_and_names_every_address(add):
    text = add.__self__.listing()
    lines = text.splitlines()
    names = [
        "&PyLong_Type",
        "PyLong_AsLongLong",
        "PyErr_Occurred",
        "kernel int64(int64, int64)",
        "PyLong_FromLongLong",
        "fallback Recorder",
        entry.VECTORCALL,
        "STATUS table",
        "PyExc_OverflowError",
        "PyExc_SystemError",
        "'compiled code returned unknown status",
        "'add() argument 2: int does not fit in a signed 64-bit integer'",
    ]
    for name in names:
        assert f"# {name}" in text
    assert "(bad)" not in text
    assert lines[0].startswith(f"{add.__self__.address:#x}:")
    assert all("  # " in line for line in lines if "movabs" in line)
    assert sum(len(bytes.fromhex(line.split(":", 1)[1][:34])) for line in lines) == len(
        add.__self__.code
    )


# --- update ------------------------------------------------------------------------------


def test_fallback_can_install_a_new_specialisation():
    def fallback(*args: object) -> object:
        update_entry(f, [spec(("int64", "int64"), "int64", add_int)])
        calls.append(args)
        return f(*args)

    calls: list[tuple] = []
    f = make_entry([], fallback, "f")
    first = f.__self__.block
    assert f(2, 3) == 5
    assert f(4, 5) == 9
    assert calls == [(2, 3)]
    assert not first.closed  # code a call may still be returning through stays alive


# --- reference counts, leaks and release -------------------------------------------------


def calls_leave_refcounts_unchanged(f, args: tuple, watched: list, n: int = 5000) -> None:
    before = [sys.getrefcount(obj) for obj in watched]
    for _ in range(n):
        try:
            f(*args)
        except (OverflowError, ZeroDivisionError):
            pass
    after = [sys.getrefcount(obj) for obj in watched]
    assert after == before


INLINE_ONLY_WITHOUT_IMMORTALS = pytest.mark.skipif(
    not capi.INLINE_INCREF, reason="objects can be immortal here: entries always call Py_IncRef"
)


@pytest.mark.parametrize(
    "inline",
    [pytest.param(True, marks=INLINE_ONLY_WITHOUT_IMMORTALS), False],
    ids=["inline-incref", "Py_IncRef"],
)
def test_refcounts_of_results_and_arguments(monkeypatch, inline):
    monkeypatch.setattr(capi, "INLINE_INCREF", inline)
    nothing = make_entry([spec(("int64",), "none", ok)], Recorder(), "nothing")
    api = capi.function_address("Py_IncRef").to_bytes(8, "little")
    assert (api in nothing.__self__.code) is not inline
    less = make_entry([spec(("int64", "int64"), "bool", less_int)], Recorder(), "less")
    add = make_entry([spec(("int64", "int64"), "int64", add_int)], lambda *args: None, "add")
    div = make_entry([spec(("float64", "float64"), "float64", div_float)], Recorder(), "div")
    big, x, y = 10**12, 2.5, 0.0
    calls_leave_refcounts_unchanged(nothing, (big,), [None, big])
    calls_leave_refcounts_unchanged(less, (1, 2), [True, 1, 2])
    calls_leave_refcounts_unchanged(less, (2, 1), [False])
    calls_leave_refcounts_unchanged(add, (2, 3), [2, 3, 5])
    calls_leave_refcounts_unchanged(add, (INT64_MAX, 1), [INT64_MAX])  # status error
    calls_leave_refcounts_unchanged(add, (1 << 64, 1), [1 << 64])  # argument overflow
    calls_leave_refcounts_unchanged(add, (x, big), [x, big])  # fallback
    calls_leave_refcounts_unchanged(div, (x, y), [x, y])  # status error


class Keep:
    """A kernel's keep-alive object that a test can watch with a weak reference."""

    def __init__(self, block: CodeBlock) -> None:
        self.block = block


def test_collecting_the_function_releases_code_and_kernels(monkeypatch):
    arena = lone_chunk_arena(monkeypatch)
    block = kernel(add_int)
    keep = Keep(block)
    kernel_alive = weakref.ref(keep)
    f = make_entry(
        [Specialisation(("int64", "int64"), "int64", block.address, keep)], Recorder(), "f"
    )
    owner = weakref.ref(f.__self__)
    filler = arena.allocate(b"\xc3" * (arena.chunk_size - 16))  # the entry's chunk is now full
    del keep, block
    assert f(1, 2) == 3
    assert arena.chunks == 2
    del f
    gc.collect()
    assert owner() is None and kernel_alive() is None
    assert arena.chunks == 1  # the entry's chunk went back to the system
    filler.close()


class Cycle:
    function: object = None

    def fallback(self, *args: object) -> object:
        return self.function


def test_a_cycle_through_the_fallback_is_collected(monkeypatch):
    arena = lone_chunk_arena(monkeypatch)
    cycle = Cycle()  # function -> entry -> bound fallback -> cycle -> function
    cycle.function = make_entry([spec((), "none", ok)], cycle.fallback, "f")
    filler = arena.allocate(b"\xc3" * (arena.chunk_size - 16))
    del cycle
    gc.collect()
    assert arena.chunks == 1
    filler.close()


def resident_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def test_nothing_leaks_over_200000_calls():
    add = make_entry([spec(("int64", "int64"), "int64", add_int)], lambda *a: None, "add")
    div = make_entry([spec(("float64", "float64"), "float64", div_float)], Recorder(), "div")
    rounds = [
        (add, (10**9, 10**9)),
        (div, (1.5, 3.0)),
        (add, (1.5, 2)),
        (add, (1 << 70, 1)),
        (div, (1.0, 0.0)),
    ]
    for f, args in rounds:  # warm up caches and free lists
        for _ in range(1000):
            try:
                f(*args)
            except (OverflowError, ZeroDivisionError):
                pass
    rss = resident_bytes()
    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        for f, args in rounds:
            for _ in range(40_000):
                try:
                    f(*args)
                except (OverflowError, ZeroDivisionError):
                    pass
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert end - start < 64 * 1024
    assert resident_bytes() - rss < 4 * 1024 * 1024


# --- the ABI seen from the entry's caller ---------------------------------------------------

MAGIC = {
    reg: 0x5A5A_0000_0000_0000 + i * 0x1111 for i, reg in enumerate((rbx, rbp, r12, r13, r14, r15))
}


def harness(a: Assembler) -> None:
    """``void harness(entry, self, args, nargs, void *out[2])``: call the entry as CPython
    would, with magic values in every callee-saved register; out = (result, what changed)."""
    for reg in MAGIC:
        a.push(reg)
    a.sub(rsp, 8)
    a.mov(qword[rsp], r8)
    a.mov(rax, rdi)
    a.mov(rdi, rsi)
    a.mov(rsi, rdx)
    a.mov(rdx, rcx)
    a.xor(rcx, rcx)
    for reg, value in MAGIC.items():
        a.mov(reg, value)
    a.call(rax)
    a.mov(r8, qword[rsp])
    a.mov(qword[r8], rax)
    a.xor(r9, r9)
    for reg, value in MAGIC.items():
        a.mov(r10, value)
        a.xor(r10, reg)
        a.or_(r9, r10)
    a.mov(qword[r8 + 8], r9)
    a.add(rsp, 8)
    for reg in reversed(MAGIC):
        a.pop(reg)
    a.ret()


def aligned(a: Assembler) -> None:
    """*result = (rsp + 8) % 16 at the kernel's first instruction (0 when the ABI holds)."""
    a.lea(rax, qword[rsp + 8])
    a.and_(rax, 15)
    a.mov(qword[rdi], rax)
    ok(a)


@pytest.mark.parametrize(
    "args, expected",
    [
        ((2, 3), 5),
        ((INT64_MAX, 1), OverflowError),
        ((1 << 64, 1), OverflowError),
        ((1.0, 2), "fallback"),
        ((1, 2, 3, 4, 5, 6, 7), 0),
        ((1.5,) * 9 + (1,) * 6, 0),
    ],
)
def test_callee_saved_registers_and_stack_alignment(args, expected):
    block = kernel(harness)
    call = ctypes.PYFUNCTYPE(
        None, ctypes.c_void_p, ctypes.py_object, ctypes.c_void_p, ctypes.c_ssize_t, ctypes.c_void_p
    )(block.address)
    f = make_entry(
        [
            spec(("int64", "int64"), "int64", add_int),
            spec(("int64",) * 7, "int64", aligned),
            spec(("float64",) * 9 + ("int64",) * 6, "int64", aligned),
        ],
        Recorder(),
        "f",
    )
    items = (ctypes.py_object * len(args))(*args)
    out = (ctypes.c_void_p * 2)()  # the entry's result, the harness's register check
    entry_call = (
        f.__self__.address,
        f.__self__,
        ctypes.addressof(items),
        len(args),
        ctypes.addressof(out),
    )
    if isinstance(expected, type):
        with pytest.raises(expected):  # ctypes raises the error the entry set
            call(*entry_call)
        assert out[0] is None
    else:
        call(*entry_call)
        result = ctypes.cast(out[0], ctypes.py_object).value
        ctypes.pythonapi.Py_DecRef(ctypes.c_void_p(out[0]))  # the entry returned a new reference
        assert result == expected
    assert out[1] is None  # no callee-saved register changed
