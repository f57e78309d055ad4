"""Error status: how compiled code reports an exception without touching Python.

Compiled kernels follow one convention (the compiler emits it, the entry points
read it)::

    int32 status = kernel(void *result, arg0, arg1, ...)

Integer, bool and pointer arguments go in rdi, rsi, ... after the result
pointer; float arguments in xmm0-xmm7, as the System V ABI places them.  The
kernel stores its result (int64, float64 or bool as one byte) through
``result`` and returns 0, or returns one of the codes below and stores
nothing.  A caller (another kernel, or an entry point) checks ``eax`` after
each call, so an error raised deep in recursion propagates with one test and
one branch per frame.

The table is data: code -> (exception class, message).  Messages match
CPython's where CPython has one for the same failure.
"""

from __future__ import annotations

__all__ = ["OK", "STATUS", "exception_for", "status_code"]

OK = 0

#: status code -> (exception type, message)
STATUS: dict[int, tuple[type[BaseException], str]] = {
    1: (ZeroDivisionError, "division by zero"),
    2: (ZeroDivisionError, "integer division or modulo by zero"),
    3: (ZeroDivisionError, "integer modulo by zero"),
    4: (ZeroDivisionError, "float division by zero"),
    5: (ZeroDivisionError, "float floor division by zero"),
    6: (ZeroDivisionError, "float modulo"),
    7: (ZeroDivisionError, "0.0 cannot be raised to a negative power"),
    8: (OverflowError, "int result does not fit in a signed 64-bit integer"),
    9: (ValueError, "math domain error"),
    10: (OverflowError, "math range error"),
    11: (ValueError, "negative shift count"),
    12: (ValueError, "cannot convert float NaN to integer"),
    13: (OverflowError, "cannot convert float infinity to integer"),
    14: (RecursionError, "maximum recursion depth exceeded in compiled code"),
    15: (IndexError, "index out of range"),
    # failures with no CPython counterpart: loud, never silently different
    16: (ValueError, "negative exponent in int ** int: CPython would return a float"),
    17: (ValueError, "negative number to a fractional power: CPython would return a complex"),
    19: (ValueError, "range() arg 3 must not be zero"),
    # stores into arrays: each as the exporting object raises it (minijit.compiler.arrays)
    20: (ValueError, "assignment destination is read-only"),
    21: (TypeError, "cannot modify read-only memory"),
    22: (OverflowError, "Python integer out of bounds for uint8"),
    23: (OverflowError, "Python integer out of bounds for int32"),
    24: (ValueError, "memoryview: invalid value for the buffer's item format"),
}

_BY_MESSAGE = {(exc, msg): code for code, (exc, msg) in STATUS.items()}


def status_code(exc: type[BaseException], message: str) -> int:
    """The code for an (exception, message) pair; KeyError if the table lacks it."""
    return _BY_MESSAGE[(exc, message)]


def exception_for(code: int) -> BaseException:
    """The exception instance a non-zero status stands for."""
    try:
        exc, msg = STATUS[code]
    except KeyError:
        return SystemError(f"compiled code returned unknown status {code}")
    return exc(msg)
