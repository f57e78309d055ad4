"""Every way @jit says no: CompileError (file, line, column, source, caret, what) and
TypeError/OverflowError for arguments, each checked for type and message."""

from __future__ import annotations

import math
import re

import pytest

from minijit import CompileError, jit

FILE = __file__


def compile_error(f, *args) -> CompileError:
    with pytest.raises(CompileError) as caught:
        f(*args)
    return caught.value


def line_of(text: str) -> int:
    """The line number in this file of the first line containing ``text``."""
    with open(FILE) as source:
        for number, line in enumerate(source, 1):
            if text in line and "line_of(" not in line:
                return number
    raise AssertionError(text)


@jit
def uses_list(x):
    return [x]


def test_compile_error_names_file_line_column_and_shows_a_caret():
    err = compile_error(uses_list, 1)
    line = line_of("return [x]")
    assert err.filename == FILE and err.line == line and err.column == 12
    lines = str(err).splitlines()
    assert lines[0] == f"{FILE}:{line}:12: a list display is not supported in @jit " \
                       "functions; they compute with int, float and bool scalars"
    assert lines[1] == "    return [x]"
    assert lines[2] == "           ^^^"


def type_conflict(flag):
    if flag:
        y = 1
    else:
        y = 2.0
    return y


def loop_conflict(n):
    total = 0
    for i in range(n):
        total = total + 0.5
    return total


def maybe_unbound(flag):
    if flag:
        z = 1
    return z


def mixed_and(a, b):
    return a > 0 and b


def mixed_min(a, b):
    return min(a, b)


def bad_global(x):
    return x + math


def string_constant(x):
    return "no"


def tuple_target(x):
    x.attr = 1


def while_else(x):
    while x:
        x -= 1
    else:
        pass


def not_range(x):
    for i in x:
        pass


def keyword_call(x):
    return round(x, ndigits=2)


def unknown_call(x):
    return print(x)


def mixed_returns(x):
    if x:
        return 1
    return 1.5


def float_bitand(x):
    return x & 1


def big_constant(x):
    return x + 1180591620717411303424


def try_statement(x):
    try:
        return x
    finally:
        pass


def star_args(*x):
    return 1


def default_arg(x=1):
    return x


def undefined_name(x):
    return x + nowhere  # noqa: F821


def float_range(x):
    for i in range(x):
        pass


def attribute_target(x):
    for x.y in range(3):
        pass


def range_arity(x):
    for i in range(1, 2, 3, 4):
        pass


def abs_arity(x):
    return abs(x, x)


def uses_none(x):
    return returns_nothing(x) + 1


@jit
def returns_nothing(x):
    pass


@jit
def recursive_first(n):
    return recursive_first(n - 1) if n > 0 else 0


def other_attribute(x):
    return math.sqrt.__name__


def invert_float(x):
    return ~x


def is_compare(x):
    return x is x


def unpack_mismatch(x):
    a, b = x, x, x  # noqa: F841, F821 (compiled, never run)
    return a


def starred_call(x):
    return abs(*x)


def loop_unbound(n):
    total = 0
    while n > 0:
        if n == 3:
            total = later  # noqa: F841, F821 (compiled, never run)
        later = n  # noqa: F841, F821 (compiled, never run)
        n -= 1
    return total


def six_ints(a, b, c, d, e, f):
    return a


@jit("float64(float64)")
def declared_only(x):
    return x


def calls_declared(n):
    return declared_only(n)


CASES = [
    (type_conflict, (True,), "y = 2.0", "return y",
     "variable 'y' is int on one path and float on another where they join"),
    (loop_conflict, (3,), "for i in range(n):", None,
     "variable 'total' is int on one path and float on another"),
    (maybe_unbound, (True,), "return z", None,
     "local variable 'z' may be used before it is assigned"),
    (mixed_and, (1, 2.0), "return a > 0 and b", None,
     "this operand is float but another is bool"),
    (mixed_min, (1, 2.0), "return min(a, b)", None, "min() of float and int values"),
    (bad_global, (1,), "return x + math", None, "global 'math' is a module"),
    (string_constant, (1,), 'return "no"', None, "a constant of type str is not supported"),
    (tuple_target, (1,), "x.attr = 1", None, "assignment to attribute access is not supported"),
    (while_else, (1,), "    else:", "pass", "an else clause on a loop is not supported"),
    (not_range, (1,), "for i in x:", None, "a for loop must iterate over range(...)"),
    (keyword_call, (1.5,), "ndigits=2", None, "keyword arguments are not supported"),
    (unknown_call, (1,), "return print(x)", None, "only calls to @jit functions"),
    (mixed_returns, (1,), "return 1.5", None, "this return gives float but another return "
     "gives int; all returns must have one type"),
    (float_bitand, (1.5,), "return x & 1", None, "unsupported operand types for &: "
     "'float' and 'int'"),
    (big_constant, (1,), "return x + 1180591620717411303424", None, "does not fit in 64 bits"),
    (try_statement, (1,), "try:", None, "a try statement is not supported"),
    (star_args, (1,), "def star_args(*x):", None, "only plain positional parameters"),
    (default_arg, (1,), "def default_arg(x=1):", None, "parameter default values"),
    (undefined_name, (1,), "return x + nowhere", None, "name 'nowhere' is not defined"),
    (float_range, (1.5,), "for i in range(x):", None, "range() arguments must be int"),
    (attribute_target, (1,), "for x.y in range(3):", None,
     "a for loop target must be a variable name"),
    (range_arity, (1,), "for i in range(1, 2, 3, 4):", None,
     "range() takes 1 to 3 positional int arguments"),
    (abs_arity, (1,), "return abs(x, x)", None, "abs() takes 1 arguments here (2 given)"),
    (uses_none, (1,), "return returns_nothing(x) + 1", None,
     "this call returns None, which compiled code cannot use as a value"),
    (recursive_first, (3,), "return recursive_first(n - 1)", None,
     "the return type of recursive call 'recursive_first' is not known yet"),
    (other_attribute, (1,), "return math.sqrt.__name__", None,
     "attribute access is not supported, except math.pi"),
    (invert_float, (1.5,), "return ~x", None, "bad operand type for unary ~: 'float'"),
    (is_compare, (1,), "return x is x", None,
     "only the comparisons == != < <= > >= are supported"),
    (unpack_mismatch, (1,), "a, b = x, x, x", None,
     "a tuple can only be unpacked into as many names as it has elements"),
    (starred_call, (1,), "return abs(*x)", None, "*args in calls is not supported"),
    (loop_unbound, (5,), "total = later", None,
     "local variable 'later' may be used before it is assigned on some path"),
    (six_ints, (1, 2, 3, 4, 5, 6), "def six_ints(a, b, c, d, e, f):", None,
     "at most 5 int or bool and 8 float parameters are supported"),
    (calls_declared, (1,), "return declared_only(n)", None,
     "declared_only() has no compiled signature for arguments (int64); it accepts "
     "float64(float64)"),
]


@pytest.mark.parametrize("func, args, where, where2, message", CASES,
                         ids=[c[0].__name__ for c in CASES])
def test_unsupported_constructs_raise_compile_error(func, args, where, where2, message):
    err = compile_error(func if hasattr(func, "py_func") else jit(func), *args)
    assert message in err.message
    assert err.filename == FILE
    lines = [line_of(where)] + ([line_of(where2)] if where2 else [])
    assert err.line in lines or (where2 is None and err.line == line_of(where))
    text = str(err)
    assert text.startswith(f"{FILE}:{err.line}:{err.column}: ")
    source_line, caret = text.splitlines()[1:3]
    assert source_line.strip() and set(caret.strip()) == {"^"}


def test_compile_error_is_raised_again_on_the_next_call():
    f = jit(type_conflict)
    for _ in range(2):
        with pytest.raises(CompileError):
            f(True)


@jit
def add(a, b):
    return a + b


def test_unsupported_argument_type_names_accepted_types():
    with pytest.raises(TypeError, match=re.escape("add() argument 2 is str; compiled code "
                                                  "accepts int, float and bool")):
        add(1, "x")


def test_wrong_argument_count():
    with pytest.raises(TypeError, match=r"add\(\) takes 2 positional arguments but 1 was"):
        add(1)


def test_int_argument_outside_int64_is_overflow_error():
    assert add(1, 2) == 3  # the fast path is warm now
    for value in (2**63, -(2**63) - 1, 10**30):
        with pytest.raises(OverflowError, match="does not fit in a signed 64-bit integer"):
            add(value, 1)


def test_explicit_signature_accepts_only_its_types():
    f = jit("float64(float64, int64)")(lambda_like)
    assert f.signatures == ["float64(float64, int64)"]
    assert f(1.5, 2) == 3.5
    with pytest.raises(TypeError, match=r"has no compiled signature for \(int64, int64\); "
                                        r"it accepts float64\(float64, int64\)"):
        f(1, 2)
    with pytest.raises(TypeError, match="argument 1 is str; compiled code accepts float64"):
        f("a", 2)


def lambda_like(x, n):
    return x + n


def test_bad_signature_text():
    with pytest.raises(TypeError, match="types must be int64, float64 or bool"):
        jit("int32(int32, int32)")(lambda_like)
    with pytest.raises(TypeError, match="has 1 argument types but lambda_like\\(\\) takes 2"):
        jit("int64(int64)")(lambda_like)


def test_signature_result_mismatch_is_compile_error():
    with pytest.raises(CompileError, match="this return gives float but the signature "
                                           "declares int"):
        jit("int64(float64, int64)")(lambda_like)


def test_annotation_outside_the_subset():
    def annotated(x: str, y: int):
        return y

    with pytest.raises(TypeError, match="parameter 'x' of annotated\\(\\) is annotated 'str'"):
        jit(annotated)


def test_not_a_function():
    with pytest.raises(TypeError, match="@jit decorates a Python function, not int"):
        jit(3)


def test_inspection_before_compiling():
    f = jit(lambda_like)
    with pytest.raises(ValueError, match="has not been compiled yet"):
        f.ir()


def test_function_without_source_file():
    namespace: dict = {}
    exec(compile("def nowhere(x):\n    return x\n", "<no file>", "exec"), namespace)
    with pytest.raises(CompileError, match="cannot find the source of 'nowhere'; @jit "
                                           "compiles functions defined in files"):
        jit(namespace["nowhere"])(1)


def test_lambda_is_not_compiled():
    square = lambda x: x * x  # noqa: E731
    with pytest.raises(CompileError, match="@jit compiles 'def' functions, not lambdas"):
        jit(square)(3)


class Holder:
    @staticmethod
    def method_like(x):
        return x + 1


def test_indented_function_positions():
    f = jit(Holder.method_like)
    assert f(2) == 3

    def nested(x):
        return [x]

    err = compile_error(jit(nested), 1)
    assert err.line == line_of("        return [x]") and err.column == 16
    assert str(err).splitlines()[1:] == ["    return [x]", "           ^^^"]


def test_keyword_arguments_bind_like_cpython():
    f = jit(lambda_like)
    assert f(1.5, n=2) == 3.5 and f(n=2, x=0.5) == 2.5 and f(1.5, 2) == 3.5
    for args, kwargs in (((1.5,), {"m": 2}), ((1.5,), {"x": 2.0}), ((), {"n": 2}), ((), {})):
        with pytest.raises(TypeError) as compiled:
            f(*args, **kwargs)
        with pytest.raises(TypeError) as cpython:
            lambda_like(*args, **kwargs)
        if kwargs:  # (no keywords: the count message of the compiled call, tested above)
            assert str(compiled.value) == str(cpython.value)
