"""Arrays in @jit code, each construct and rule compared with CPython running the same
function on the same arrays (a copy for each side): results, exceptions, final contents."""

from __future__ import annotations

import array
import re
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from kernels import sieve  # bench/kernels.py, importable through conftest

from minijit import CompileError, jit

np = pytest.importorskip("numpy")


def _copy(value):
    if isinstance(value, np.ndarray):
        out = value.copy()
        out.flags.writeable = value.flags.writeable
        return out
    if isinstance(value, array.array):
        return array.array(value.typecode, value)
    if isinstance(value, bytearray):
        return bytearray(value)
    return value


def _outcome(func, args):
    try:
        return ("value", func(*args)), args
    except Exception as error:  # the exception's type is what must agree
        return ("raised", type(error)), args


def _contents(value):
    if isinstance(value, (np.ndarray, array.array, bytearray, bytes)):
        return list(np.asarray(memoryview(value)).ravel())
    return value


def same(func, *args, callees=()):
    """Run ``func`` in CPython and compiled, each on its own copies; both must give the
    same value (or raise the same exception type) and leave the arrays the same.
    The compiled function runs twice: the first call compiles (the Python-level
    path), the second enters from machine code.  ``callees`` name globals of this
    module that the compiled side sees jitted."""
    want, want_args = _outcome(func, [_copy(a) for a in args])
    plain = {name: globals()[name] for name in callees}
    globals().update({name: jit(f) for name, f in plain.items()})
    compiled = jit(func)
    try:
        runs = [_outcome(compiled, [_copy(a) for a in args]) for _ in range(2)]
    finally:
        globals().update(plain)
    for got, got_args in runs:
        assert got == want, (got, want)
        for g, w in zip(got_args, want_args):
            if not isinstance(g, (int, float)):
                assert _contents(g) == _contents(w)
    return got


# --- loads and stores, each element type ------------------------------------------------


def total(a, n):
    s = 0
    for i in range(n):
        s += a[i]
    return s


def ftotal(a, n):
    s = 0.0
    for i in range(n):
        s += a[i]
    return s


def count_true(a):
    c = 0
    for i in range(len(a)):
        if a[i]:
            c += 1
    return c


@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_int_loads_are_ints(dtype):
    a = np.array([1, 2, 3, 25, 7], dtype=dtype)
    assert same(total, a, 5) == ("value", 38)


def test_elements_follow_python_int_rules_not_numpy_scalar_wrapping():
    a = np.array([200, 100], dtype=np.uint8)  # NumPy's uint8 scalars would wrap to 44
    assert jit(total)(a, 2) == total(a.tolist(), 2) == 300


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_float_loads_are_floats_float32_widened_exactly(dtype):
    a = np.array([0.1, 2.5, -3.75, 1e30, 1 / 3], dtype=dtype)
    assert same(ftotal, a, 5)[0] == "value"
    assert jit(get)(a, 4) == float(a[4])  # float32 1/3 widened, not rounded again


def test_bool_loads_are_bools():
    a = np.array([True, False, True, True])
    assert same(count_true, a) == ("value", 3)
    assert jit(get)(a, 1) is False


def fill(a, v):
    for i in range(len(a)):
        a[i] = v


@pytest.mark.parametrize(("dtype", "value"), [
    ("float64", 2.5), ("float64", 7), ("float64", True), ("int64", -9), ("int64", 2.7),
    ("int64", -2.7), ("int64", True), ("int32", -(1 << 31)), ("int32", 3.9),
    ("uint8", 255), ("uint8", 0), ("bool", 5), ("bool", 0.0), ("bool", True),
])
def test_store_converts_as_numpy_does(dtype, value):
    same(fill, np.zeros(4, dtype=dtype), value)


@pytest.mark.parametrize(("dtype", "value", "exc"), [
    ("uint8", 256, OverflowError), ("uint8", -1, OverflowError),
    ("int32", 1 << 31, OverflowError), ("int32", -(1 << 31) - 1, OverflowError),
    ("uint8", 300.0, OverflowError), ("int64", float("nan"), ValueError),
    ("int64", float("inf"), OverflowError), ("int64", 1e20, OverflowError),
])
def test_store_out_of_range_raises_as_numpy_does(dtype, value, exc):
    assert same(fill, np.zeros(4, dtype=dtype), value) == ("raised", exc)


def test_store_out_of_range_message_names_dtype():
    with pytest.raises(OverflowError, match="out of bounds for uint8"):
        jit(fill)(np.zeros(2, np.uint8), 256)
    with pytest.raises(OverflowError, match="out of bounds for int32"):
        jit(fill)(np.zeros(2, np.int32), 1 << 40)


def test_float32_store_is_a_compile_error():
    with pytest.raises(CompileError, match="storing into a float32 array is not supported"):
        jit(fill)(np.zeros(2, np.float32), 1.0)


def bump(a, i, v):
    a[i] += v
    a[i] *= 2
    return a[i]


@pytest.mark.parametrize("dtype", ["float64", "int64", "int32", "uint8"])
def test_augmented_store(dtype):
    same(bump, np.arange(5, dtype=dtype), 2, 3)
    same(bump, np.arange(5, dtype=dtype), -1, 1)


# --- Python's index rules -----------------------------------------------------------------


def get(a, i):
    return a[i]


def put(a, i, v):
    a[i] = v


@pytest.mark.parametrize("i", [0, 4, -1, -5, 5, -6, 1 << 40, -(1 << 62), 9223372036854775807,
                               -9223372036854775808])
def test_index_rules(i):
    same(get, np.arange(5.0), i)
    same(put, np.arange(5.0), i, 9.0)
    same(bump, np.arange(5), i, 1)


def test_index_error_message():
    with pytest.raises(IndexError, match="index out of range"):
        jit(get)(np.arange(3.0), 3)


def test_empty_array_has_no_index():
    assert same(get, np.zeros(0), 0) == ("raised", IndexError)
    assert same(get, np.zeros(0), -1) == ("raised", IndexError)


def lengths(a):
    return len(a) * 1000000 + a.shape[0] * 1000 + a.size


def test_len_shape_size():
    assert same(lengths, np.zeros(7)) == ("value", 7007007)


def lengths2(a):
    return len(a) * 1000000 + a.shape[1] * 1000 + a.shape[-1] + a.size


def test_two_dimensional_lengths():
    assert same(lengths2, np.zeros((3, 4))) == ("value", 3004016)


# --- two dimensions ----------------------------------------------------------------------


def transpose_sum(a, b):
    s = 0.0
    for i in range(a.shape[0]):
        for j in range(a.shape[1]):
            b[j, i] = a[i, j] * 2.0
            s += a[i, -j - 1] * (i + 1)
    return s


def test_two_dimensional_indexing():
    a = np.arange(12.0).reshape(3, 4)
    same(transpose_sum, a, np.zeros((4, 3)))


def get2(a, i, j):
    return a[i, j]


@pytest.mark.parametrize(("i", "j"), [(0, 0), (2, 3), (-1, -1), (-3, -4), (3, 0), (0, 4),
                                      (-4, 0), (0, -5), (1, 7)])
def test_two_dimensional_index_rules(i, j):
    same(get2, np.arange(12).reshape(3, 4), i, j)


def test_row_of_a_matrix_is_a_compile_error():
    with pytest.raises(CompileError, match="this array has 2 dimensions: index it with 2 ints"):
        jit(get)(np.zeros((2, 2)), 0)


# --- kernels and calls ----------------------------------------------------------------------


def test_sieve_crosses_out_in_place():
    assert same(sieve, np.ones(200, np.uint8), 200) == ("value", 46)


def scale(a, k):
    for i in range(len(a)):
        a[i] = a[i] * k


def scale_all(a, b, k):
    scale(a, k)
    scale(b, k + 1.0)
    return a[0] + b[0]


def rsum(a, i):
    if i == len(a):
        return 0.0
    return a[i] + rsum(a, i + 1)


def test_array_passed_to_callees():
    same(scale_all, np.arange(1.0, 5.0), np.arange(3.0), 2.0, callees=["scale"])


def test_array_passed_to_a_recursive_callee():
    assert same(rsum, np.arange(10.0), 0, callees=["rsum"]) == ("value", 45.0)
    assert same(rsum, np.arange(10.0), 11, callees=["rsum"]) == ("raised", IndexError)
    assert rsum_jit(np.arange(10.0), 0) == 45.0
    assert " call rsum_jit " in rsum_jit.ir()  # a real call, the array passed along


@jit
def rsum_jit(a, i):
    if i == len(a):
        return 0.0
    return a[i] + rsum_jit(a, i + 1)


def swap_through_names(a, b, n):
    s = 0.0
    for _ in range(n):
        a, b = b, a
        s = s * 10.0 + a[0]
    return s


def test_arrays_as_local_variables():
    same(swap_through_names, np.ones(2), np.zeros(2), 5)


# --- other exporters --------------------------------------------------------------------------


def test_array_array_and_memoryview():
    same(total, array.array("q", [1, -2, 3]), 3)
    same(total, array.array("i", [1, -2, 3]), 3)
    same(ftotal, array.array("d", [0.5, 1.5]), 2)
    same(fill, array.array("d", [0.5, 1.5]), 3)
    same(total, bytearray(b"abc"), 3)
    same(fill, bytearray(b"abc"), 66)
    same(get, memoryview(bytearray(b"abc")), -1)
    same(get, b"xyz", 1)


def test_other_exporters_raise_their_own_errors():
    assert same(fill, array.array("B", [1, 2]), 256) == ("raised", OverflowError)
    assert same(fill, bytearray(2), 256) == ("raised", ValueError)
    assert same(fill, memoryview(bytearray(2)), -1) == ("raised", ValueError)


def test_other_exporters_need_the_element_type():
    with pytest.raises(CompileError, match="a float cannot be stored into this array.array "
                                           "of int64 items; convert it to int first"):
        jit(fill)(array.array("q", [1]), 1.5)
    with pytest.raises(CompileError, match=re.escape("'.shape' is supported on NumPy arrays "
                                                     "only; use len()")):
        jit(lengths)(array.array("q", [1]))


# --- readonly buffers ------------------------------------------------------------------------


def maybe_put(a, i, really):
    if really:
        a[i] = 1
    return a[i]


def test_readonly_numpy_array():
    a = np.arange(4)
    a.flags.writeable = False
    assert same(maybe_put, a, 2, False) == ("value", 2)
    assert same(maybe_put, a, 2, True) == ("raised", ValueError)
    with pytest.raises(ValueError, match="assignment destination is read-only"):
        jit(maybe_put)(a, 1, True)


def test_readonly_bytes():
    assert same(maybe_put, b"abc", 0, False) == ("value", 97)
    assert same(maybe_put, memoryview(b"abc"), 0, True) == ("raised", TypeError)
    with pytest.raises(TypeError, match="cannot modify read-only memory"):
        jit(maybe_put)(memoryview(b"abc"), 0, True)


# --- argument types -----------------------------------------------------------------------------


def test_each_dtype_and_shape_is_its_own_specialisation():
    f = jit(get)
    f(np.zeros(3), 0)
    f(np.zeros(3, np.int64), 0)
    f(np.zeros(3, np.uint8), 0)
    f(array.array("d", [1.0]), 0)
    assert f.signatures == ["float64(float64[:], int64)", "int64(int64[:], int64)",
                            "int64(uint8[:], int64)", "float64(array float64[:], int64)"]


@pytest.mark.parametrize(("value", "message"), [
    (np.zeros(3, np.int16), "of format 'h') has items compiled code cannot read; it accepts "
                            "C-contiguous buffers of 1 or 2 dimensions with items float64, "
                            "float32, int64, int32, uint8, bool"),
    (np.zeros((2, 2, 2)), "has 3 dimensions"),
    (np.zeros(()), "has 0 dimensions"),
    (np.arange(6.0)[::2], "is not C-contiguous (it has strides); compiled code needs "
                          "C-contiguous arrays"),
    (np.zeros((3, 3)).T, "is not C-contiguous"),
])
def test_unsupported_arrays_are_type_errors(value, message):
    with pytest.raises(TypeError, match=re.escape("get() argument 1 (ndarray") + ".*"
                       + re.escape(message)):
        jit(get)(value, 0)


def test_non_buffer_argument_names_accepted_types():
    with pytest.raises(TypeError, match=re.escape("get() argument 1 is list; compiled code "
                                                  "accepts int, float and bool, and arrays "
                                                  "(C-contiguous buffers")):
        jit(get)([1.0], 0)


@pytest.mark.parametrize(("source", "message"), [
    ("def f(a):\n    return a + 1\n", "an array can only be indexed, passed to len() or to "
                                      "a @jit function, or assigned to a name"),
    ("def f(a):\n    return a\n", "an array can only be indexed"),
    ("def f(a):\n    return a[1:2]\n", "slices are not supported; index with ints"),
    ("def f(a):\n    return a[1.0]\n", "array indices must be int, not float"),
    ("def f(a):\n    return a[True]\n", "array indices must be int, not bool"),
    ("def f(a):\n    return a[0, 0]\n", "this array has 1 dimension: index it with 1 int, "
                                        "not 2"),
    ("def f(a):\n    x = 1\n    return x[0]\n", "indexing is supported on arrays only, not "
                                                "on int"),
    ("def f(a):\n    return len(a, a)\n", "len() takes exactly one argument (2 given)"),
    ("def f(a):\n    return len(3)\n", "len() is supported on arrays only, not on int"),
    ("def f(a):\n    return a.shape[1]\n", "a.shape[k] needs a constant k in range for 1 "
                                           "dimension"),
    ("def f(a):\n    return a.dtype\n", "array attribute '.dtype' is not supported"),
])
def test_array_misuse_is_a_compile_error(source, message, tmp_path):
    path = tmp_path / "misuse.py"
    path.write_text(source)
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    with pytest.raises(CompileError, match=re.escape(message)):
        jit(namespace["f"])(np.zeros(3))


# --- buffer exports end with the call ---------------------------------------------------------


def test_buffers_are_released_after_calls_and_errors():
    a = np.zeros(8)
    before = sys.getrefcount(a)
    f = jit(put)
    f(a, 0, 1.0)
    with pytest.raises(IndexError):
        f(a, 8, 1.0)
    with pytest.raises(TypeError):
        jit(fill)(a, None)
    assert sys.getrefcount(a) == before
    a.resize(16)  # NumPy refuses while any export is alive
    b = bytearray(4)
    f(b, 0, 1)
    b.extend(b"more")  # so does bytearray


# --- Python int semantics, loudly -----------------------------------------------------------


def test_int64_sum_overflows_loudly_where_python_ints_grow():
    a = np.array([(1 << 62), (1 << 62)], dtype=np.int64)
    assert total(a.tolist(), 2) == 1 << 63  # Python ints: a big int
    with pytest.raises(OverflowError):
        jit(total)(a, 2)


# --- random programs ---------------------------------------------------------------------------


def shuffle(a, i, j, v):
    a[i] = v
    a[j] += a[i] * 2
    return a[-1] - a[j]


@settings(max_examples=60, deadline=None)
@given(st.integers(-12, 12), st.integers(-12, 12),
       st.one_of(st.integers(-1000, 1000), st.floats(-1e6, 1e6)),
       st.sampled_from(["float64", "int64", "int32"]))
def test_random_indices_and_values(i, j, v, dtype):
    if dtype != "float64" and isinstance(v, float):
        v = int(v)
    same(shuffle, np.arange(10, dtype=dtype), i, j, v)


# --- what the range analysis proves, and what it must not ---------------------------------


def window(a, lo, n):
    s = 0.0
    for i in range(lo, n):
        s += a[i] * (i + 1)
    return s


def backwards(a, n):
    s = 0.0
    for i in range(n - 1, -1, -1):
        s = s * 0.5 + a[i]
    return s


@pytest.mark.parametrize(("lo", "n"), [(0, 6), (1, 6), (0, 7), (-6, 6), (-7, 2), (3, 3)])
def test_loop_indices_checked_at_both_ends(lo, n):
    same(window, np.arange(6.0), lo, n)
    same(backwards, np.arange(6.0), n)


def test_non_negative_loop_index_keeps_only_the_bounds_check():
    f = jit(ftotal)
    f(np.arange(6.0), 6)
    assert "bound " in f.ir() and "aindex" not in f.ir()  # i >= 0: no end correction
    assert same(ftotal, np.arange(6.0), 7) == ("raised", IndexError)  # the check stays
    g = jit(window)
    g(np.arange(6.0), 0, 6)  # a start of unknown sign (an argument): both ends checked
    assert "aindex" in g.ir()


def near_the_top(k):
    s = 0
    for i in range(9223372036854775805, 9223372036854775807):
        s = i + k
    return s


def test_loop_variable_range_is_sound_at_int64_max():
    assert same(near_the_top, 1) == ("value", 9223372036854775807)
    assert near_the_top(2) == 1 << 63  # CPython gives a big int here ...
    with pytest.raises(OverflowError):  # ... compiled code is loud
        jit(near_the_top)(2)


# --- loads are never moved past stores -------------------------------------------------------


def aliased(a, b, n):
    s = 0.0
    for i in range(n):
        x = a[0]  # loop-invariant address, but b may be a: not hoisted
        b[0] = x + 1.0
        s += a[0] + x  # not merged with the load above: the store came between
    return s


def test_loads_see_stores_through_another_name():
    same(aliased, np.zeros(3), np.zeros(3), 4)  # two arrays
    py_shared, jit_shared = np.zeros(3), np.zeros(3)  # one array under two names
    want = aliased(py_shared, py_shared, 4)
    assert jit(aliased)(jit_shared, jit_shared, 4) == want == 16.0
    assert list(jit_shared) == list(py_shared)


def test_contiguity_is_judged_as_cpython_does():
    column = np.arange(3.0).reshape(3, 1).T  # strides (8, 8), yet C-contiguous
    assert column.flags.c_contiguous
    assert same(get2, column, 0, 2) == ("value", 2.0)
    assert same(get, np.zeros(0)[::-1], 0) == ("raised", IndexError)  # empty: contiguous


def test_out_of_range_byte_message_for_other_exporters():
    with pytest.raises(ValueError, match="memoryview: invalid value for the buffer's item "
                                         "format"):
        jit(fill)(bytearray(2), 256)


# --- the machine-code entry -----------------------------------------------------------------


def test_later_calls_with_arrays_enter_from_machine_code(monkeypatch):
    f = jit(ftotal)
    a = np.arange(5.0)
    assert f(a, 5) == 10.0  # compiles; the entry learns float64[:] NumPy arrays
    slow = []
    original = type(f)._slow_call
    monkeypatch.setattr(type(f), "_slow_call",
                        lambda self, args: (slow.append(args), original(self, args))[1])
    assert f(a, 5) == 10.0 and f(np.ones(3), 3) == 3.0
    assert f(np.zeros(0), 0) == 0.0  # an empty array: contiguous, taken too
    assert slow == []
    with pytest.raises(IndexError, match="index out of range"):  # a kernel error, from there
        f(a, 6)
    assert slow == []
    before = sys.getrefcount(a)
    f(a, 5)
    assert sys.getrefcount(a) == before
    a.resize(10)  # no export outlives a call
    # what the entry does not take goes to Python, which compiles or explains
    assert f(np.arange(4), 4) == 6 and f(array.array("d", [2.0]), 1) == 2.0
    with pytest.raises(TypeError, match="is not C-contiguous"):
        f(np.arange(6.0)[::2], 3)
    with pytest.raises(TypeError, match="argument 1 is list"):
        f([1.0], 1)
    assert len(slow) == 4
    with pytest.raises(OverflowError, match="does not fit in a signed 64-bit integer"):
        f(a, 1 << 70)  # raised by the entry itself, as for scalar arguments
    ro = np.arange(3.0)
    ro.flags.writeable = False
    assert f(ro, 3) == 3.0 and f(ro, 3) == 3.0  # readonly: its own specialisation


def test_entry_releases_every_buffer_when_one_does_not_fit():
    plain = scale
    f = jit(scale_all)  # calls scale: both arrays must be float64
    globals()["scale"] = jit(scale)
    try:
        a, b = np.ones(3), np.ones(3)
        f(a, b, 2.0)
        c = np.ones(3, np.int64)  # the second does not fit: the first must be released
        assert f(a, c, 2.0) == 4.0 + 3  # ... and Python compiles for int64
        assert list(c) == [3, 3, 3]  # NumPy's truncation of 1 * 3.0
        a.resize(6)
        c.resize(6)
        assert f(np.ones(2), np.ones(2), 3.0) == 7.0
    finally:
        globals()["scale"] = plain


@pytest.mark.parametrize("i", [1, 10, -10])
def test_readonly_error_comes_before_the_bounds_for_stores_after_for_augmented(i):
    a = np.arange(3.0)
    a.flags.writeable = False
    assert same(put, a, i, 1.0)[1] is ValueError
    assert same(bump, a, i, 1.0)[1] is (ValueError if i == 1 else IndexError)
    assert same(put, memoryview(b"abc"), i, 1)[1] is TypeError


@pytest.mark.parametrize("dtype", [">f8", "uint64", "int16", "float16", "complex128"])
def test_formats_compiled_code_cannot_read_are_type_errors(dtype):
    with pytest.raises(TypeError, match="has items compiled code cannot read"):
        jit(get)(np.zeros(3, dtype), 0)


def over_len(a, b, extra):
    s = 0.0
    for i in range(len(a)):
        a[i] = a[i] * 2.0  # i < len(a) always: no check at all
    for i in range(1, len(a) + extra):
        s += a[i]  # not the same stop: checked
    for i in range(len(b)):
        s += a[i]  # another array's length: checked
    for i in range(len(a)):
        i = i + extra  # the loop variable changed: checked
        s += a[i]
    return s


@pytest.mark.parametrize(("a", "b", "extra"), [(5, 5, 0), (5, 6, 0), (5, 3, 1), (5, 2, -9)])
def test_loop_up_to_the_length_needs_no_check(a, b, extra):
    same(over_len, np.arange(float(a)), np.arange(float(b)), extra)
    f = jit(over_len)
    f(np.arange(5.0), np.arange(5.0), 0)
    ir = f.ir()
    assert ir.count("bound ") == 2 and ir.count("aindex ") == 1  # three of four loops
    assert "alen shape0" in ir


def neighbours(a, b):
    for i in range(1, len(a) - 1):
        b[i] = a[i - 1] + a[i + 1]  # i + 1 < len(a) - 1 + 1: a needs no check
    return b[1]


def past_the_end(a):
    s = 0.0
    for i in range(len(a) - 1):
        s += a[i + 2]  # reaches len(a) on the last pass: checked
    return s


@pytest.mark.parametrize(("a", "b"), [(6, 6), (6, 3), (2, 6), (3, 1), (0, 0)])
def test_offsets_from_a_loop_below_the_length_need_no_check(a, b):
    same(neighbours, np.arange(float(a)), np.zeros(b))
    same(past_the_end, np.arange(float(a)))
    f, g = jit(neighbours), jit(past_the_end)
    f(np.arange(6.0), np.zeros(6))
    g(np.arange(1.0))
    assert f.ir().count("bound ") == 2  # b[i] and b[1] alone: b is another array
    assert g.ir().count("bound ") + g.ir().count("aindex ") == 1


def test_every_offset_and_stop_near_the_length_checks_what_it_must(tmp_path):
    # a[i + c] for i in range(len(a) - d): the check may go only where c <= d
    source = "".join(
        f"def f_{c + 3}_{d + 2}(a):\n    s = 0.0\n    for i in range(len(a) - {d}):\n"
        f"        s += a[i + {c}] * (i + 1)\n    return s\n\n"
        for c in range(-3, 4) for d in range(-2, 4))
    path = tmp_path / "offsets.py"
    path.write_text(source)
    namespace: dict = {}
    exec(compile(source, str(path), "exec"), namespace)
    for name, func in namespace.items():
        if name.startswith("f_"):
            for n in range(6):
                same(func, np.arange(float(n)))


def put2(a, i, j, v):
    a[i, j] += v
    return a[-i - 1, j]


@settings(max_examples=40, deadline=None)
@given(st.integers(-5, 5), st.integers(-6, 6), st.integers(-1000, 1000),
       st.sampled_from(["float64", "int64", "int32"]))
def test_random_two_dimensional_indices(i, j, v, dtype):
    same(put2, np.arange(12, dtype=dtype).reshape(3, 4), i, j, v)
