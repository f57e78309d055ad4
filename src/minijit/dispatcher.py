"""The ``@jit`` decorator: type specialisation, caches, calls, inspection.

``@jit`` wraps a function in a ``Dispatcher``.  The first call with new
argument types compiles the function for them (one machine-code kernel per
signature); from then on a call with exactly those types enters the kernel
from machine code: the instance's own vectorcall entry
(``minijit.native.callable``) unboxes, calls and boxes, and is reinstalled
with every kernel compiled.  ``@jit("float64(float64, int64)")`` or fully
annotated parameters (``a: int, x: float``) compile eagerly, and then only
those signatures are accepted.

Every other call comes to ``__call__``: it checks the arguments (TypeError
naming the accepted types, OverflowError for ints beyond 64 bits), compiles
when needed, and calls the kernel through ``make_entry``, which gets the
kernel address and the argument and result kinds and returns a Python
callable going through ctypes (the general, debuggable path; the same
kernel convention).

Calls between jitted functions never come back here: the compiler inlines
small non-recursive callees (``_inline_source``), and for the others asks
``_resolve`` for a callee's ``CallTarget`` (compiling it first when needed)
and emits a direct call through the callee's *cell*, a word holding its body
address, so mutual recursion works before either side is finished.  A
``CallTarget`` holds its callee, so a compiled caller keeps it alive.
"""

from __future__ import annotations

import array
import ctypes
import functools
import threading

from minijit.compiler.arrays import (
    ARRAY, BUFFER, DTYPE_BY_FORMAT, DTYPES, NDARRAY, array_parts, array_type, is_array,
)
from minijit.compiler.typecodes import BOOL, FLOAT, INT, VOID
from minijit.compiler.typecodes import TYPE_NAMES as IR_TYPE_NAMES
from minijit.memory import allocate
from minijit.native.buffer import Export
from minijit.native.callable import callable_class, install_entry
from minijit.native.entry import ArrayArg, Specialisation
from minijit.native.status import exception_for

__all__ = ["jit", "Dispatcher", "make_entry", "TYPE_NAMES"]

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1
#: IR type -> signature name
TYPE_NAMES = {INT: "int64", FLOAT: "float64", BOOL: "bool", VOID: "void"}
TYPE_NAMES.update((t, name) for t, name in IR_TYPE_NAMES.items() if is_array(t))
_BY_NAME = {name: t for t, name in TYPE_NAMES.items()}
_PY_TYPES = {int: INT, float: FLOAT, bool: BOOL}
#: compilations of all functions are serialised: a compile may compile its callees, and
#: one lock for all cannot deadlock the way per-function locks taken in two orders could
_COMPILE_LOCK = threading.RLock()
_VARIADIC = 0x04 | 0x08  # CO_VARARGS | CO_VARKEYWORDS
_MISSING = object()
_CTYPES = {INT: ctypes.c_int64, FLOAT: ctypes.c_double, BOOL: ctypes.c_bool}


def make_entry(kernel_address: int, arg_kinds: tuple[int, ...], result_kind: int):
    """A Python callable for the kernel at ``kernel_address``.

    Convention (``minijit.native.status``): ``int32 status = kernel(void *result,
    args...)``; ints and bools in integer registers after the result pointer,
    floats in xmm0-7, arrays as the address of their descriptor
    (``minijit.native.buffer``); on status 0 the result (int64, float64, or one byte for
    bool) is stored through ``result``; otherwise ``exception_for(status)`` is
    raised.  ``arg_kinds`` and ``result_kind`` are IR types (INT, FLOAT, BOOL,
    VOID); arguments arrive already checked and converted.
    """
    proto = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p,
                             *(_CTYPES.get(k, ctypes.c_void_p) for k in arg_kinds))
    cfunc = proto(kernel_address)
    result_type = _CTYPES.get(result_kind)
    if result_type is None:
        def call_void(*args):
            status = cfunc(None, *args)
            if status:
                raise exception_for(status)
            return None
        return call_void

    def call(*args):
        result = result_type()
        status = cfunc(ctypes.byref(result), *args)
        if status:
            raise exception_for(status)
        return result.value

    return call


class _Pending:
    """A signature being compiled: its return type is known before its code is."""

    __slots__ = ("ret_type", "declared")

    def __init__(self, ret_type: int | None = None) -> None:
        self.ret_type = ret_type
        self.declared = ret_type is not None


class _Kernel:
    """One compiled signature: code, cell, entry, and what inspection shows."""

    __slots__ = ("types", "block", "cell", "entry", "compiled", "pending", "entry_kinds")

    def signature(self) -> str:
        args = ", ".join(TYPE_NAMES[t] for t in self.types)
        return f"{TYPE_NAMES[self.compiled.ret_type]}({args})"


def _arg_type(value: object) -> int | None:
    return _PY_TYPES.get(type(value))


@callable_class
class Dispatcher:
    """A jitted function: call it like the original; inspect with ``signatures``,
    ``ir()``, ``asm()``; the original is ``py_func``.

    Calls whose argument types are exactly those of a compiled signature run its
    kernel from machine code (the instance's own vectorcall entry, see
    ``minijit.native.callable``); only the others come to ``__call__``."""

    def __init__(self, py_func, signatures: list[str] | None = None) -> None:
        if not callable(py_func) or not hasattr(py_func, "__code__"):
            raise TypeError(f"@jit decorates a Python function, not {type(py_func).__name__}")
        self.py_func = py_func
        functools.update_wrapper(self, py_func)
        self._kernels: dict[tuple[int, ...], _Kernel] = {}
        self._by_pytypes: dict[tuple[type, ...], object] = {}
        self._pending: dict[tuple[int, ...], tuple[_Pending, ctypes.c_uint64]] = {}
        self._explicit: list[tuple[tuple[int, ...], int | None]] | None = None
        declared = signatures if signatures else self._annotated()
        if declared:
            self._explicit = [self._parse(s) if isinstance(s, str) else s for s in declared]
            for types, ret in self._explicit:
                self._compile(types, ret)

    # -- signatures ------------------------------------------------------------------------
    def _parse(self, text: str) -> tuple[tuple[int, ...], int | None]:
        from minijit.native.signature import parse_signature

        sig = parse_signature(text)
        names = [str(sig.restype)] + [str(a) for a in sig.argtypes]
        bad = [n for n in names[1:] if n not in _BY_NAME or n == "void"]
        if bad or names[0] not in _BY_NAME:
            raise TypeError(f"@jit signature {text!r}: types must be int64, float64 or bool "
                            f"(and void for the result), not {(bad or names[:1])[0]}")
        nparams = self.py_func.__code__.co_argcount
        if len(sig.argtypes) != nparams:
            raise TypeError(f"@jit signature {text!r} has {len(sig.argtypes)} argument types "
                            f"but {self.py_func.__name__}() takes {nparams}")
        return tuple(_BY_NAME[n] for n in names[1:]), _BY_NAME[names[0]]

    def _annotated(self) -> list | None:
        code = self.py_func.__code__
        params = code.co_varnames[:code.co_argcount]
        notes = getattr(self.py_func, "__annotations__", {})
        if not params or not all(p in notes for p in params):
            return None
        from minijit.compiler.frontend import ANNOTATION_TYPES

        types = []
        for p in params:
            note = notes[p]
            name = note if isinstance(note, str) else getattr(note, "__name__", "")
            if name not in ANNOTATION_TYPES or name == "None":
                raise TypeError(f"parameter '{p}' of {self.py_func.__name__}() is annotated "
                                f"{name or note!r}; @jit understands int, float and bool")
            types.append(ANNOTATION_TYPES[name])
        ret = notes.get("return")
        ret_name = ret if isinstance(ret, str) else getattr(ret, "__name__", "None")
        return [(tuple(types), ANNOTATION_TYPES.get(ret_name) if "return" in notes else None)]

    def _return_hint(self) -> int | None:
        """The return type a ``-> int`` annotation declares (recursive calls need it when
        they come before any other return), or None."""
        from minijit.compiler.frontend import ANNOTATION_TYPES

        note = getattr(self.py_func, "__annotations__", {}).get("return")
        name = note if isinstance(note, str) else getattr(note, "__name__", None)
        return ANNOTATION_TYPES.get(name) if note is not None else None

    @property
    def signatures(self) -> list[str]:
        return [k.signature() for k in self._kernels.values()]

    # -- compiling -------------------------------------------------------------------------
    def _compile(self, types: tuple[int, ...], declared_ret: int | None = None) -> _Kernel:
        with _COMPILE_LOCK:  # one compilation at a time, whichever thread asks
            kernel = self._kernels.get(types)
            if kernel is not None:
                return kernel
            return self._compile_new(types, declared_ret)

    def _compile_new(self, types: tuple[int, ...], declared_ret: int | None) -> _Kernel:
        from minijit.compiler.driver import compile_function

        pending = _Pending(declared_ret if declared_ret is not None else self._return_hint())
        cell = ctypes.c_uint64(0)
        self._pending[types] = (pending, cell)
        try:
            compiled = compile_function(self.py_func, types, (self, types), pending,
                                        _resolve)
        finally:
            del self._pending[types]
        kernel = _Kernel()
        kernel.types = types
        kernel.compiled = compiled
        kernel.pending = pending
        kernel.entry_kinds = None if any(map(is_array, types)) else tuple(
            TYPE_NAMES[t] for t in types)
        kernel.block = allocate(compiled.code)
        kernel.cell = cell
        cell.value = kernel.block.address + compiled.body_offset
        kernel.entry = make_entry(kernel.block.address, types, compiled.ret_type)
        self._kernels[types] = kernel
        if kernel.entry_kinds:  # array kernels join the entry once an argument shows how
            self._install_entry()
        return kernel

    def _install_entry(self) -> None:
        """Point this object's machine-code entry at every compiled kernel."""
        install_entry(self, [
            Specialisation(k.entry_kinds,
                           "none" if k.compiled.ret_type == VOID
                           else TYPE_NAMES[k.compiled.ret_type],
                           k.block.address, k.block)
            for k in self._kernels.values() if k.entry_kinds])

    def _target(self, types: tuple[int, ...], node):
        """The ``CallTarget`` for a compiled call to this function with ``types``."""
        from minijit.compiler.errors import CompileError
        from minijit.compiler.frontend import CallTarget

        name = self.py_func.__name__
        if types in self._pending:
            pending, cell = self._pending[types]
            return CallTarget(name, (self, types), ctypes.addressof(cell), pending)
        if self._explicit is not None and types not in self._kernels:
            raise CompileError(f"{name}() has no compiled signature for arguments "
                               f"({', '.join(TYPE_NAMES[t] for t in types)}); it accepts "
                               f"{', '.join(self.signatures)}")
        kernel = self._compile(types)
        return CallTarget(name, (self, types), ctypes.addressof(kernel.cell), kernel.pending)

    # -- calling ---------------------------------------------------------------------------
    def __call__(self, *args, **kwargs):
        if kwargs:
            args = self._bind(args, kwargs)
        entry = self._by_pytypes.get(tuple(map(type, args)))
        if entry is not None:
            for v in args:
                if type(v) is int and not INT64_MIN <= v <= INT64_MAX:
                    raise _int_overflow(v)
            return entry(*args)
        return self._slow_call(args)

    def _bind(self, args: tuple, kwargs: dict) -> tuple:
        """Keyword arguments put in their positions, with CPython's TypeErrors."""
        code = self.py_func.__code__
        names = code.co_varnames[:code.co_argcount]
        name = self.py_func.__name__
        values = list(args) + [_MISSING] * (len(names) - len(args))
        for key, value in kwargs.items():
            if key not in names:
                raise TypeError(f"{name}() got an unexpected keyword argument '{key}'")
            index = names.index(key)
            if index < len(args):
                raise TypeError(f"{name}() got multiple values for argument '{key}'")
            values[index] = value
        missing = [f"'{n}'" for n, v in zip(names, values) if v is _MISSING]
        if missing:
            listed = (" and ".join(missing) if len(missing) < 3
                      else ", ".join(missing[:-1]) + ", and " + missing[-1])
            plural = "s" if len(missing) > 1 else ""
            raise TypeError(f"{name}() missing {len(missing)} required positional "
                            f"argument{plural}: {listed}")
        return tuple(values)

    def _slow_call(self, args: tuple):
        code = self.py_func.__code__
        nparams = code.co_argcount
        if code.co_flags & _VARIADIC or code.co_kwonlyargcount:
            self._compile(tuple(_arg_type(v) or INT for v in args))  # raises CompileError
        if len(args) != nparams:
            raise TypeError(f"{self.py_func.__name__}() takes {nparams} positional "
                            f"argument{'s' if nparams != 1 else ''} but {len(args)} "
                            f"{'were' if len(args) != 1 else 'was'} given")
        types: list[int] = []
        exports: list[Export] = []
        try:  # every buffer exported here is released, whatever happens
            values = []
            for i, v in enumerate(args):
                t = _arg_type(v)
                if t is None:
                    export = self._export(i, v)
                    exports.append(export)
                    t = _buffer_type(self.py_func.__name__, i, v, export)
                    v = export.address
                elif t == INT and not INT64_MIN <= v <= INT64_MAX:
                    raise _int_overflow(v)
                values.append(v)
                types.append(t)
            kernel = self._kernel(tuple(types))
            if not exports:  # scalars only: later calls with these types come straight
                self._by_pytypes[tuple(map(type, args))] = kernel.entry
            elif kernel.entry_kinds is None:  # the machine-code entry takes such calls next
                kernel.entry_kinds = _entry_kinds(args, types, exports)
                self._install_entry()
            return kernel.entry(*values)
        finally:
            for export in exports:
                export.release()

    def _kernel(self, types: tuple[int, ...]) -> _Kernel:
        kernel = self._kernels.get(types)
        if kernel is None:
            if self._explicit is not None:
                raise TypeError(f"{self.py_func.__name__}() has no compiled signature for "
                                f"({', '.join(TYPE_NAMES[t] for t in types)}); it accepts "
                                f"{', '.join(self.signatures)}")
            kernel = self._compile(types)
        return kernel

    def _export(self, index: int, value: object) -> Export:
        """The buffer of an argument that is no scalar, or TypeError naming what works."""
        try:
            return Export(value)
        except TypeError:
            raise TypeError(f"{self.py_func.__name__}() argument {index + 1} is "
                            f"{type(value).__name__}; compiled code accepts "
                            f"{self._accepted(index)}") from None

    def _accepted(self, index: int) -> str:
        if self._explicit is None:
            return f"int, float and bool, and arrays ({ACCEPTED_ARRAYS})"
        names = sorted({TYPE_NAMES[types[index]] for types, _ in self._explicit})
        return " or ".join(names)

    # -- inspection ------------------------------------------------------------------------
    def _kernel_for(self, signature: str | None) -> _Kernel:
        if not self._kernels:
            raise ValueError(f"{self.py_func.__name__}() has not been compiled yet: call it "
                             "or give @jit a signature")
        if signature is None:
            return next(iter(self._kernels.values()))
        for kernel in self._kernels.values():
            if kernel.signature() == signature:
                return kernel
        raise KeyError(f"no compiled signature {signature!r}; have {self.signatures}")

    def ir(self, signature: str | None = None) -> str:
        """The optimised IR of one compiled signature (the first by default)."""
        return self._kernel_for(signature).compiled.ir

    def asm(self, signature: str | None = None) -> str:
        """The machine code of one compiled signature, annotated with source lines."""
        from minijit.compiler.listing import annotated_listing

        kernel = self._kernel_for(signature)
        return annotated_listing(kernel.compiled, kernel.block.address, self.py_func)

    def __repr__(self) -> str:
        return f"<jit {self.py_func.__qualname__} {self.signatures}>"


#: what array arguments may be, for TypeError messages
ACCEPTED_ARRAYS = ("C-contiguous buffers of 1 or 2 dimensions with items "
                   + ", ".join(d.name for d in DTYPES))


def _kind(value: object) -> int:
    for cls in type(value).__mro__:
        if cls.__name__ == "ndarray" and cls.__module__ == "numpy":
            return NDARRAY
    return ARRAY if isinstance(value, array.array) else BUFFER


def _buffer_type(name: str, index: int, value: object, export: Export) -> int:
    """The array type of an exported argument, or TypeError saying what it lacks."""
    dtype = DTYPE_BY_FORMAT.get((export.format, export.itemsize))
    ndim = len(export.shape)
    what = f"{name}() argument {index + 1} ({type(value).__name__}"
    if dtype is None:
        raise TypeError(f"{what} of format {export.format!r}) has items compiled code "
                        f"cannot read; it accepts {ACCEPTED_ARRAYS}")
    if ndim not in (1, 2):
        raise TypeError(f"{what}) has {ndim} dimensions; compiled code accepts "
                        f"{ACCEPTED_ARRAYS}")
    if not export.c_contiguous:
        raise TypeError(f"{what}) is not C-contiguous (it has strides); compiled code "
                        "needs C-contiguous arrays: pass a copy (numpy.ascontiguousarray)")
    return array_type(dtype, ndim, _kind(value), export.readonly)


def _entry_kinds(args: tuple, types: list[int], exports: list[Export]) -> tuple:
    """What the machine-code entry checks to take a call like this one: the exact
    types of NumPy arrays and ``array.array``s with their one-character formats; ()
    when it cannot (other exporters, longer formats), and then Python does."""
    kinds = []
    found = iter(exports)
    for value, t in zip(args, types):
        if not is_array(t):
            kinds.append(TYPE_NAMES[t])
            continue
        export = next(found)
        _, ndim, kind, readonly = array_parts(t)
        if kind == BUFFER or len(export.format) != 1:
            return ()
        kinds.append(ArrayArg(type(value), export.format, export.itemsize, ndim, readonly))
    return tuple(kinds)


def _int_overflow(value: int) -> OverflowError:
    return OverflowError(f"int argument {value} does not fit in a signed 64-bit integer")


def _resolve(obj: object, types: tuple[int, ...], node):
    return obj._target(types, node) if isinstance(obj, Dispatcher) else None


def _inline_source(obj: object):
    """The Python function the compiler may inline for a call to ``obj``: a @jit
    function without declared signatures (those must reject other types)."""
    if isinstance(obj, Dispatcher) and obj._explicit is None:
        return obj.py_func
    return None


_resolve.inline_source = _inline_source


def jit(func=None, /, *signatures: str):
    """Compile a function to machine code: ``@jit``, ``@jit("int64(int64)")``."""
    if isinstance(func, str):
        sigs = [func, *signatures]
        return lambda f: Dispatcher(f, sigs)
    if func is None:
        return lambda f: Dispatcher(f, list(signatures) or None)
    return Dispatcher(func)
