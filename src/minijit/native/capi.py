"""The parts of CPython's C API that machine code touches, found from Python.

Machine-code entry points (``minijit.native.entry``) call C API functions and
read object fields directly, so they need three kinds of fact about the
running interpreter:

* where functions are: ``PyLong_AsLongLong`` and friends, read from
  ``ctypes.pythonapi`` (the interpreter's own exported symbols);
* where objects are: ``&PyLong_Type`` is ``id(int)``, ``Py_None`` is
  ``id(None)``; CPython never moves an object, and these live as long as the
  interpreter;
* where fields are: ``ob_type`` and ``PyFloatObject.ob_fval`` offsets.  They
  are derived from ``__basicsize__`` (``PyObject_HEAD`` ends with ``ob_type``,
  a float adds one double after it), so debug and free-threaded builds get
  their own numbers, and each is checked against a live object at import:
  a wrong offset would be a crash later, so a mismatch fails here, loudly.

It also holds the two pieces of CPython's calling machinery an entry needs:
``PyMethodDef`` (the record a builtin function points at) and
``new_builtin``, which wraps one in a real builtin function object with
``PyCFunction_NewEx``.

Reference counts: CPython 3.12 made some objects immortal (their count must
not be changed by a plain 64-bit increment), so ``INLINE_INCREF`` says whether
machine code may increment ``ob_refcnt`` itself (3.10, 3.11) or must call
``Py_IncRef`` (3.12 and later, and any build whose header layout is not the
classic one).
"""

from __future__ import annotations

import ctypes
import sys
from types import BuiltinFunctionType

__all__ = [
    "FLOAT_VALUE",
    "INLINE_INCREF",
    "METH_FASTCALL",
    "METH_KEYWORDS",
    "OB_REFCNT",
    "OB_TYPE",
    "PyMethodDef",
    "function_address",
    "new_builtin",
    "vectorcall",
]

METH_KEYWORDS = 0x0002
METH_FASTCALL = 0x0080

#: offset of ``ob_type`` in every object: the last field of ``PyObject_HEAD``
OB_TYPE: int = object.__basicsize__ - 8
#: offset of ``ob_refcnt`` in the classic (non free-threaded) header
OB_REFCNT: int = OB_TYPE - 8
#: offset of ``ob_fval`` in ``PyFloatObject``: one double after the header
FLOAT_VALUE: int = float.__basicsize__ - 8

#: (free-threaded builds, whose reference counts are not one word, begin with 3.13)
INLINE_INCREF: bool = sys.version_info < (3, 12)


def _check_layout() -> None:
    """Read live objects through the offsets above; raise if any is wrong."""
    sample = 1.5
    for obj in (sample, 7, True, None, "text"):
        seen = ctypes.c_void_p.from_address(id(obj) + OB_TYPE).value
        if seen != id(type(obj)):
            raise ImportError(
                f"minijit: ob_type is not at offset {OB_TYPE} in this Python's objects "
                f"({sys.version.split()[0]}); machine-code entry points cannot run here"
            )
    if ctypes.c_double.from_address(id(sample) + FLOAT_VALUE).value != sample:
        raise ImportError(
            f"minijit: PyFloatObject.ob_fval is not at offset {FLOAT_VALUE} in this Python"
        )


_check_layout()


def function_address(name: str) -> int:
    """The address of a C API function the interpreter exports, e.g. ``"PyErr_Occurred"``."""
    try:
        func = getattr(ctypes.pythonapi, name)
    except AttributeError:
        raise LookupError(
            f"this Python ({sys.version.split()[0]}) does not export the C API function {name}"
        ) from None
    return ctypes.cast(func, ctypes.c_void_p).value


def vectorcall() -> tuple[str, bool]:
    """The C function an entry tail-calls to run ``fallback(*args, **kwargs)``, and whether
    it needs the fallback to be a plain Python function.

    ``PyObject_Vectorcall(callable, args, nargsf, kwnames)`` takes any callable,
    but 3.10 has it only as an inline function in its headers; 3.10 does
    export ``_PyFunction_Vectorcall``, the same call for Python functions.
    """
    if hasattr(ctypes.pythonapi, "PyObject_Vectorcall"):
        return "PyObject_Vectorcall", False
    return "_PyFunction_Vectorcall", True


class PyMethodDef(ctypes.Structure):
    """``struct PyMethodDef``: name, C function, flags, docstring."""

    _fields_ = [
        ("ml_name", ctypes.c_void_p),
        ("ml_meth", ctypes.c_void_p),
        ("ml_flags", ctypes.c_int),
        ("ml_doc", ctypes.c_void_p),
    ]


_new_ex = ctypes.pythonapi.PyCFunction_NewEx
_new_ex.argtypes = [ctypes.POINTER(PyMethodDef), ctypes.py_object, ctypes.py_object]
_new_ex.restype = ctypes.py_object


def new_builtin(method: PyMethodDef, owner: object, module: str) -> BuiltinFunctionType:
    """A builtin function object calling ``method``, with ``owner`` as its ``__self__``.

    The function holds a strong reference to ``owner`` and drops it when it
    dies; CPython documents ``m_self`` as the place that may keep the
    ``PyMethodDef`` alive, so ``owner`` should hold ``method``, the bytes its
    pointers point into, and the code itself.
    """
    return _new_ex(ctypes.byref(method), owner, module)
