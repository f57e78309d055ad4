"""@jit against CPython: every construct and semantic rule, same value or same exception.

``assert_same(f, *args)`` runs the original function in CPython and the
compiled one, and requires the same value (same type; floats bit for bit,
any nan matching any nan) or the same exception type.  Where CPython makes
an int outside int64, compiled code must raise OverflowError; where it makes a
complex (a negative float to a fractional power), ValueError.
"""

from __future__ import annotations

import math
import struct

import pytest

from minijit import jit

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
INTS = [0, 1, -1, 2, -2, 3, -3, 7, -7, 10, 63, 64, -64, 1 << 31, -(1 << 31), 1 << 32,
        (1 << 53) + 1, INT64_MAX, INT64_MIN, INT64_MAX - 1, INT64_MIN + 1, 3037000499,
        -3037000500]
FLOATS = [0.0, -0.0, 1.0, -1.0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.0, 1e-310, 1e300, -1e300,
          1e308, 9007199254740993.0, 2.0**63, -(2.0**63), 2.0**64, math.inf, -math.inf,
          math.nan, 0.1, 7.0, -7.0]


def outcome(fn, args: tuple) -> tuple[str, object]:
    try:
        return "value", fn(*args)
    except Exception as exc:  # the type is what we compare
        return "raise", type(exc)


def _same_value(want: object, got: object) -> bool:
    if type(want) is not type(got):
        return False
    if isinstance(want, float):
        if math.isnan(want):
            return math.isnan(got)
        return struct.pack("<d", want) == struct.pack("<d", got)
    return want == got


def assert_same(f, *args) -> None:
    """f(*args) compiled behaves as f.py_func(*args) in CPython."""
    want = outcome(f.py_func, args)
    got = outcome(f, args)
    if (want[0] == "value" and type(want[1]) is int
            and not INT64_MIN <= want[1] <= INT64_MAX):
        assert got == ("raise", OverflowError), f"{f.__name__}{args}: CPython {want}, got {got}"
        return
    if want[0] == "value" and type(want[1]) is complex:  # negative ** fractional: loud
        assert got == ("raise", ValueError), f"{f.__name__}{args}: CPython {want}, got {got}"
        return
    if want[0] == "raise":
        assert got == want, f"{f.__name__}{args}: CPython raised {want[1]}, got {got}"
        return
    assert got[0] == "value" and _same_value(want[1], got[1]), \
        f"{f.__name__}{args}: CPython {want[1]!r}, compiled {got}"


def kernel(params: str, expression: str):
    """A jitted ``lambda params: expression`` with real source (for inspect)."""
    import linecache

    kernel.count = getattr(kernel, "count", 0) + 1
    name = f"k{kernel.count}"
    source = f"def {name}({params}):\n    return {expression}\n"
    path = f"<jit test kernel {kernel.count}>"
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)
    namespace = {"math": math}
    exec(compile(source, path, "exec"), namespace)
    return jit(namespace[name])


def pairs(values):
    return [(a, b) for a in values for b in values]


# -- arithmetic on ints ---------------------------------------------------------------------
@jit
def add(a, b):
    return a + b


@jit
def sub(a, b):
    return a - b


@jit
def mul(a, b):
    return a * b


@jit
def floordiv(a, b):
    return a // b


@jit
def mod(a, b):
    return a % b


@jit
def truediv(a, b):
    return a / b


@jit
def power(a, b):
    return a**b


@jit
def lshift(a, b):
    return a << b


@jit
def rshift(a, b):
    return a >> b


@jit
def bits(a, b):
    return (a & b) ^ (a | ~b)


@jit
def neg(a):
    return -a


@jit
def absolute(a):
    return abs(a)


INT_BINARY = [add, sub, mul, floordiv, mod, truediv, bits]


@pytest.mark.parametrize("f", INT_BINARY, ids=lambda f: f.__name__)
def test_int_binary_ops_every_sign_and_limit(f):
    for a, b in pairs(INTS):
        assert_same(f, a, b)


@pytest.mark.parametrize("f", [power, lshift, rshift], ids=lambda f: f.__name__)
def test_int_power_and_shifts(f):
    small = [0, 1, 2, 3, 10, 31, 62, 63, 64, 65, 100] + ([] if f is power else [-1, -64])
    for a in INTS:
        for b in small:
            assert_same(f, a, b)
    assert_same(f, 0, -1)


def _shift_by(k: int):
    """a << k, k a constant of the function (read from its closure)."""
    def shift(a):
        return a << k
    return jit(shift)


SHIFTS_BY_CONSTANTS = [_shift_by(k) for k in (1, 13, 32, 62, 63)]


@jit
def low_half(a):
    return a & 0xFFFFFFFF


@jit
def low_half_tested(a):
    if a & 0xFFFFFFFF:
        return 1
    return 2


@jit
def masked_xorshift(n):
    x = 2463534242
    for _ in range(n):
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
    return x


def test_shifts_by_constants_and_32_bit_masks():
    """``a << k`` for a constant k is compiled as a multiply by 2**k (overflowing
    exactly where the shift does), and ``a & 0xFFFFFFFF`` as a 32-bit move: both
    agree with CPython at every limit.  A masked xorshift from a 32-bit seed keeps
    x below 2**32 (an xor of values below 2**32 is), so its shifts cannot overflow:
    no overflow check, multiply or 64-bit mask constant is left."""
    for a in INTS + [1 << 49, 1 << 50, -(1 << 49), 1 << 30, -(1 << 30), 3 << 60]:
        for shift in SHIFTS_BY_CONSTANTS:
            assert_same(shift, a)
        assert_same(low_half, a)
        assert_same(low_half_tested, a)
    for n in (0, 1, 1000):
        assert_same(masked_xorshift, n)
    loop = masked_xorshift.asm().split("; line ")[2:]  # from the loop's first line
    code = "".join(loop).split("; epilogue")[0]
    for absent in ("jo ", "imul", ", cl", "0xffffffff"):  # checks, multiplies, a
        assert absent not in code, absent  # shift by a count in cl, a 64-bit mask


def test_negative_shift_count_is_value_error():
    with pytest.raises(ValueError, match="negative shift count"):
        lshift(1, -1)
    with pytest.raises(ValueError, match="negative shift count"):
        rshift(1, -5)


def test_int_unary():
    for a in INTS:
        assert_same(neg, a)
        assert_same(absolute, a)
    with pytest.raises(OverflowError, match="64-bit"):
        neg(INT64_MIN)


def test_zero_division_messages_match_cpython():
    for f, message in ((floordiv, "integer division or modulo by zero"),
                       (mod, "integer modulo by zero"), (truediv, "division by zero")):
        with pytest.raises(ZeroDivisionError) as caught:
            f(1, 0)
        with pytest.raises(ZeroDivisionError) as expected:
            f.py_func(1, 0)
        assert str(caught.value) == str(expected.value) == message


def test_negative_exponent_is_loud():
    with pytest.raises(ValueError, match="CPython would return a float"):
        power(2, -1)


# -- floats ---------------------------------------------------------------------------------
@pytest.mark.parametrize("f", INT_BINARY[:6] + [power], ids=lambda f: f.__name__)
def test_float_binary_ops(f):
    for a, b in pairs(FLOATS):
        if f is power and -math.inf < a < 0 and math.isfinite(b) and b != int(b):
            with pytest.raises(ValueError, match="complex"):  # loud where CPython is complex
                f(a, b)
            continue
        assert_same(f, a, b)


def test_float_unary():
    for x in FLOATS:
        assert_same(neg, x)
        assert_same(absolute, x)


@pytest.mark.parametrize("f", [add, sub, mul, truediv, floordiv, mod, power],
                         ids=lambda f: f.__name__)
def test_mixed_int_float(f):
    ints = [0, 1, -1, 3, -7, 1 << 53, (1 << 53) + 1, INT64_MAX, INT64_MIN]
    floats = [0.0, -0.0, 0.5, -2.5, 3.0, 1e300, math.inf, math.nan]
    for a in ints:
        for b in floats:
            assert_same(f, a, b)
            assert_same(f, b, a)


def test_float_zero_division_messages():
    cases = ((truediv, "float division by zero"), (floordiv, "float floor division by zero"),
             (mod, "float modulo"), (power, "0.0 cannot be raised to a negative power"))
    for f, message in cases:
        with pytest.raises(ZeroDivisionError) as caught:
            f(0.0 if f is power else 1.0, -1.0 if f is power else 0.0)
        assert str(caught.value) == message


# -- comparisons, bools, and/or -------------------------------------------------------------
@jit
def lt(a, b):
    return a < b


@jit
def le(a, b):
    return a <= b


@jit
def eq(a, b):
    return a == b


@jit
def ne(a, b):
    return a != b


@jit
def ge(a, b):
    return a >= b


@jit
def gt(a, b):
    return a > b


@pytest.mark.parametrize("f", [lt, le, eq, ne, ge, gt], ids=lambda f: f.__name__)
def test_comparisons_int_float_mixed_exactly(f):
    values = [0, 1, -1, (1 << 53) + 1, 1 << 53, INT64_MAX, INT64_MIN, 0.0, -0.0, 1.0,
              9007199254740992.0, 2.0**63, -(2.0**63), math.inf, -math.inf, math.nan, 0.5]
    for a, b in pairs(values):
        assert_same(f, a, b)


@jit
def chained(a, b, c):
    return a < b < c


@jit
def chained_branch(a, b, c):
    if a <= b < c != a:
        return 1
    return 2


def test_chained_comparisons():
    for a in (0, 1, 2):
        for b in (0, 1, 2):
            for c in (0, 1, 2):
                assert_same(chained, a, b, c)
                assert_same(chained_branch, a, b, c)


@jit
def and_value(a, b):
    return a and b


@jit
def or_value(a, b):
    return a or b


@jit
def not_value(a):
    return not a


def test_and_or_return_operands():
    for a, b in pairs([0, 3, -2]):
        assert_same(and_value, a, b)
        assert_same(or_value, a, b)
    for a, b in pairs([0.0, -0.0, 2.5, math.nan]):
        assert_same(and_value, a, b)
        assert_same(or_value, a, b)
    for a in (0, 5, 0.0, -0.0, math.nan, True, False):
        assert_same(not_value, a)


@jit
def reciprocal_of_int(n, m):
    return 1.0 / n + 1.0 / ((n + m) * 2 + n)


@jit
def reciprocal_after_other_work(n, m):
    x = float(n)
    y = m * 3 - 1  # may reuse n's register: the divisor's own test must still run
    z = m // (n + 1) if n != -1 else 0
    return y / x + z


def test_dividing_by_an_int_converted_to_float_checks_for_zero():
    """``1.0 / n`` tests the int n for zero (its conversion is 0.0 exactly when n is
    0): the same ZeroDivisionError as CPython, raised in the same order as the other
    errors of the expression."""
    for n in (0, 1, -1, 2, -3, 7, 1 << 40, -(1 << 53)):
        for m in (0, 1, -2, 5):
            assert_same(reciprocal_of_int, n, m)
            assert_same(reciprocal_after_other_work, n, m)
    with pytest.raises(ZeroDivisionError, match="float division by zero"):
        reciprocal_of_int(0, 1)
    assert "ucomisd" not in reciprocal_of_int.asm()  # the ints are tested, not floats


@jit
def xor_tested_after_a_branch(a, p):
    i = a ^ 1
    b = a if p else a  # a branch between the xor and the test of i
    return b + (i and a)


@jit
def and_tested_after_a_branch(a, p):
    i = a & 6
    if p:
        a = -a
    if i != 0:
        return a
    return 2


def test_a_test_after_a_branch_does_not_reuse_older_flags():
    """``i and a`` tests i; an xor (and, or) sets the zero flag for i, which saves the
    test when the branch follows at once, but not across another branch, whose
    own test has set the flags since."""
    for a in (0, 1, 2, 4, 7, -1):
        for p in (False, True):
            assert_same(xor_tested_after_a_branch, a, p)
            assert_same(and_tested_after_a_branch, a, p)


@pytest.mark.parametrize("expression", ["a + b", "a & b", "a | b", "a ^ b", "-a", "~a",
                                        "a * 3", "+a", "a << b", "a // True", "a / True"])
def test_bools_behave_as_ints_where_python_does(expression):
    f = kernel("a, b", expression)
    for a, b in pairs([True, False]):
        assert_same(f, a, b)


# -- builtins and math -----------------------------------------------------------------------
BUILTINS = ["min(a, b)", "max(a, b, c)", "min(c, b, a)", "abs(a)", "int(a)", "float(a)",
            "bool(a)", "round(a)"]


@jit
def float_conversions(x):
    return int(x)


@jit
def rounding(x):
    return round(x)


@jit
def floor(x):
    return math.floor(x)


@jit
def ceil(x):
    return math.ceil(x)


@pytest.mark.parametrize("expression", BUILTINS)
def test_builtins_on_ints_and_bools(expression):
    f = kernel("a, b, c", expression)
    for a, b in pairs([0, -3, 5, INT64_MAX, INT64_MIN]):
        assert_same(f, a, b, 1)
    assert_same(f, True, False, True)


def test_float_to_int_conversions():
    for x in FLOATS + [2.5, 3.5, -0.5, 0.49999999999999994, 4503599627370497.0,
                       9.2e18, -9.3e18]:
        assert_same(float_conversions, x)
        assert_same(rounding, x)
        assert_same(floor, x)
        assert_same(ceil, x)


@pytest.mark.parametrize("expression", BUILTINS[:3] + ["max(c, b, a)"])
def test_min_max_keep_the_first_of_equals_and_nan_rules(expression):
    f = kernel("a, b, c", expression)
    values = [0.0, -0.0, 1.0, math.nan, -math.inf]
    for a in values:
        for b in values:
            for c in (0.0, math.nan):
                assert_same(f, a, b, c)


MATH_1 = ["sqrt", "sin", "cos", "tan", "exp", "log", "log2", "log10", "fabs", "isnan",
          "isinf", "isfinite"]


@pytest.mark.parametrize("name", MATH_1)
def test_math_functions_and_domain_errors(name):
    f = kernel("x", f"math.{name}(x)")
    for x in FLOATS + [-1.0, 1000.0, -1000.0, 710.0, 2.0]:
        assert_same(f, x)
    assert_same(f, 4)


@pytest.mark.parametrize("name", ["atan2", "hypot", "pow"])
def test_math_two_argument_functions(name):
    f = kernel("x, y", f"math.{name}(x, y)")
    values = [0.0, -0.0, 1.0, -8.0, 0.5, 2.0, 1e308, math.inf, -math.inf, math.nan,
              1.0 / 3, -1.0, 400.0, -400.0]
    for a, b in pairs(values):
        assert_same(f, a, b)
    assert_same(f, 2, 3)


@jit
def math_consts():
    return math.pi + math.e + math.tau


def test_math_constants():
    assert_same(math_consts)


# -- control flow ---------------------------------------------------------------------------
@jit
def loops(n, step):
    total = 0
    for i in range(n, -n, step):
        if i == 3:
            continue
        if total > 1000:
            break
        total += i * i
    return total


def test_for_range_any_step_sign_with_break_continue():
    for n in (0, 1, 5, 17, -4):
        for step in (1, -1, 2, -2, 3, -5, 7):
            assert_same(loops, n, step)
    with pytest.raises(ValueError, match="must not be zero"):
        loops(3, 0)


@jit
def range_count(start, stop, step):
    count = 0
    for _ in range(start, stop, step):
        count += 1
        if count > 5:
            break
    return count


@jit
def range_last(start, stop, step):
    last = 0
    for i in range(start, stop, step):
        last = i
        if i > -3 and i < 3:
            break
    return last


def test_range_near_int64_limits_never_wraps():
    for start, stop, step in ((INT64_MAX - 5, INT64_MAX, 2), (INT64_MIN + 5, INT64_MIN, -2),
                              (INT64_MAX - 2, INT64_MAX, 1), (INT64_MIN, INT64_MAX, INT64_MAX),
                              (INT64_MAX, INT64_MIN, INT64_MIN), (0, 10, INT64_MAX),
                              (INT64_MIN + 2, INT64_MIN, -1)):
        assert_same(range_count, start, stop, step)
        assert_same(range_last, start, stop, step)


@jit
def while_loop(n):
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def test_while_collatz():
    for n in (1, 2, 3, 7, 27, 97, 871):
        assert_same(while_loop, n)


@jit
def several_returns(x):
    if x < 0:
        return -1
    elif x == 0:
        return 0
    return 1


@jit
def returns_none(x):
    if x == 0:
        return
    y = x + 1  # noqa: F841 (checked arithmetic still runs)


def test_returns():
    for x in (-5, 0, 5):
        assert_same(several_returns, x)
    assert returns_none(0) is None and returns_none(1) is None
    with pytest.raises(OverflowError):  # the unused sum still overflows int64
        returns_none(INT64_MAX)


@jit
def swap_fib(n):
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def test_tuple_unpacking_swap():
    for n in (0, 1, 2, 10, 90, 91):
        assert_same(swap_fib, n)
    with pytest.raises(OverflowError):  # the last b is fib(93), beyond int64
        swap_fib(92)


@jit
def conditional_expression(x, y):
    return x if x > y else y * 2


def test_conditional_expression():
    for a, b in pairs([0, 3, -2]):
        assert_same(conditional_expression, a, b)


@jit
def augmented(x):
    x += 3
    x -= 1
    x *= 7
    x //= 2
    x %= 1000
    x **= 2
    x <<= 1
    x >>= 2
    x &= 0xFFFF
    x |= 1
    x ^= 5
    return x


def test_augmented_assignment():
    for x in (0, 5, -9, 123456):
        assert_same(augmented, x)


SCALE = 3
RATE = 0.5
FLAG = True


@jit
def uses_globals(x):
    return x * SCALE + RATE if FLAG else 0.0


def test_module_constants_are_frozen_at_compile_time():
    assert_same(uses_globals, 4)
    global SCALE
    SCALE = 100
    try:
        assert uses_globals(4) == 4 * 3 + 0.5  # compiled with SCALE = 3
    finally:
        SCALE = 3


def test_closure_variables_shadow_globals_and_are_frozen_too():
    SCALE = 7  # noqa: N806 -- shadows the module's SCALE for the nested function
    offset = 0.25

    @jit
    def uses_closure(x):
        return x * SCALE + offset + RATE

    assert_same(uses_closure, 4)  # 4 * 7 + 0.25 + 0.5
    assert uses_closure(4) == 28.75
    offset = 1.0  # noqa: F841 -- changed after compiling: the code keeps 0.25
    assert uses_closure(4) == 28.75


def test_register_pressure_spills_ints_and_floats_across_calls():
    ints = "\n".join(f"    v{i} = a * {i + 3} - {i}" for i in range(24))
    floats = "\n".join(f"    f{i} = math.sin(x + {i}.5) * {i + 1}.0" for i in range(20))
    int_sum = " + ".join(f"v{i}" for i in range(24))
    float_sum = " + ".join(f"f{i}" for i in range(20))
    source = (f"def pressure(a, x):\n{ints}\n{floats}\n"
              f"    return ({int_sum}) * 1.0 + ({float_sum})\n")
    import linecache

    path = "<jit test pressure>"
    linecache.cache[path] = (len(source), None, source.splitlines(True), path)
    namespace = {"math": math}
    exec(compile(source, path, "exec"), namespace)
    f = jit(namespace["pressure"])
    for a, x in ((0, 0.0), (7, -1.25), (-123456, 3e5), (10**12, math.nan), (10**15, 1.0)):
        assert_same(f, a, x)
    assert "QWORD PTR [rsp+0x" in f.asm()  # values live in stack slots


@pytest.mark.parametrize("d", [3, 7, 10, 12, 641, 65537, 999999937, 2**31 - 1, -3, -10])
def test_division_by_constants_without_idiv(d):
    """Constant divisors use a multiply by a magic number (powers of two: shifts)."""
    import random

    rng = random.Random(d)
    floor, mod = kernel("x", f"x // ({d})"), kernel("x", f"x % ({d})")
    values = INTS + [d, -d, d - 1, 1 - d, 5 * d + 1, -5 * d - 1]
    values += [rng.randint(INT64_MIN, INT64_MAX) for _ in range(300)]
    values += [rng.randint(-10 * abs(d), 10 * abs(d)) for _ in range(300)]
    for x in values:
        assert_same(floor, x)
        assert_same(mod, x)
    if d > 0:
        assert "idiv" not in floor.asm() and "idiv" not in mod.asm()


@pytest.mark.parametrize("expression", ["x if True else x + 1.5", "x if False else x * 2",
                                        "True or x", "False and x", "0 or x", "1 and x",
                                        "x if 0 else -x", "(x or 2) if True else 3"])
def test_constant_conditions_skip_what_cpython_skips(expression):
    f = kernel("x", expression)
    for x in (0, 3, -2):
        assert_same(f, x)


@jit
def dead_branches(x):
    if False:
        return x + 1
    if True or x > 1:
        y = x * 2
    else:
        y = x.attribute  # never compiled: CPython never runs it either
    if False and x < 0:
        return -1
    while False:
        x += 1
    return y


def test_code_behind_constant_conditions_is_not_compiled():
    for x in (0, 5, -3):
        assert_same(dead_branches, x)
