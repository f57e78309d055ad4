"""Machine-code entry points: compiled kernels called like builtins.

``make_entry`` writes one function in machine code that CPython calls with
the ``METH_FASTCALL | METH_KEYWORDS`` convention::

    PyObject *entry(PyObject *self, PyObject *const *args, Py_ssize_t nargs,
                    PyObject *kwnames)

and wraps it in a real builtin function object (a ``PyMethodDef`` given to
``PyCFunction_NewEx``), so calling a compiled function costs what calling a
builtin costs: no ctypes conversions, no Python frame.

The same generator writes code for the *vectorcall* convention, which
``minijit.native.callable`` installs as an object's per-instance call
pointer::

    PyObject *entry(PyObject *callable, PyObject *const *args, size_t nargsf,
                    PyObject *kwnames)

The only difference is ``nargsf``: its top bit (``PY_VECTORCALL_ARGUMENTS_OFFSET``)
may be set, so the code compares argument counts with a copy that has it
cleared (r11), and the fallback gets ``nargsf`` itself, flag included.

How the code works, top to bottom:

1. **Dispatch.** Keywords (``kwnames != NULL``) go to the fallback.  For each
   argument count that some specialisation takes, one ``cmp nargs`` (rdx, or
   r11 for vectorcall); then for
   each specialisation of that count, one load and one compare per argument:
   ``Py_TYPE(args[j]) == &PyLong_Type`` (``&PyFloat_Type``, ``&PyBool_Type``).
   The type addresses sit in r8-r10 during dispatch.  Exact types only: a bool
   is not taken as an int, nor an int as a float, so the entry never changes
   what CPython would compute; the fallback decides about such calls.
2. **Fallback.** Nothing matched: a tail call (``jmp``) to
   ``PyObject_Vectorcall(fallback, args, nargs, kwnames)``, so the fallback
   sees exactly the call the entry saw and the entry's code is off the stack.
   (Python 3.10 does not export ``PyObject_Vectorcall``; there the entry
   jumps to ``_PyFunction_Vectorcall`` with the fallback itself when it is a
   Python function, else with a Python function forwarding to it.)
3. **Unbox.** Each ``int64`` argument through ``PyLong_AsLongLong``; a result
   of -1 is checked with ``PyErr_Occurred`` (cold path), and an int outside
   the signed 64-bit range raises OverflowError naming the argument.
   ``float64`` arguments are read from ``PyFloatObject.ob_fval`` and ``bool``
   arguments by comparing with ``Py_True``; neither can fail.
   An array argument (``ArrayArg``: an exact type such as ``numpy.ndarray``,
   a one-character buffer format, item size, dimensions, readonly flag) is
   exported with ``PyObject_GetBuffer`` into a ``Py_buffer`` in the frame,
   after the ints (whose errors return at once); format, item size, readonly
   and ndim are compared, ``PyBuffer_IsContiguous`` asked, and a four-word
   descriptor filled for the kernel.  A buffer that does not fit releases what
   this call exported, restores the dispatch registers and goes on to the
   next specialisation or the fallback, which decides in Python.
4. **Call the kernel** with the convention of ``minijit.native.status``:
   ``int32 status = kernel(&result, args...)``, integer-class arguments in
   rsi, rdx, rcx, r8, r9, floats in xmm0-xmm7, the rest on the stack in
   argument order, as the System V ABI places them.
   Every export is released (``PyBuffer_Release``) as soon as the kernel
   returns, before its status is looked at.
5. **Box** the result: ``PyLong_FromLongLong``, ``PyFloat_FromDouble``,
   ``PyBool_FromLong``, or a new reference to ``None``.  A non-zero status
   instead looks up (exception type, message) in a table built from
   ``STATUS`` and raises it with ``PyErr_SetString``; a code the table lacks
   raises SystemError, as ``status.exception_for`` does.

The frame: ``push rbx`` (which keeps ``args`` across calls) then one
``sub rsp, FRAME``, which leaves rsp 16-byte aligned at every call.  From rsp
up: the kernel's stack arguments, one slot per unboxed int, the result slot.
All specialisations share one frame size, so the error paths are shared too.

Lifetime: the builtin function's ``__self__`` is an :class:`Entry` (a module
object, so the function still prints as ``<built-in function NAME>``).  It
holds the ``PyMethodDef``, the name and message bytes, the code, the fallback
and the kernels' keep-alive objects; CPython drops it when the function dies,
and with it the code memory.  ``update_entry`` swaps in new code by rewriting
``ml_meth``; earlier code stays alive with the entry, since a call that began
in it may still be returning through it.
"""

from __future__ import annotations

import ctypes
from collections.abc import Callable, Sequence
from itertools import groupby
from types import BuiltinFunctionType, FunctionType, ModuleType

from minijit.memory import CodeBlock, allocate
from minijit.native import capi
from minijit.native.status import STATUS
from minijit.x86 import (
    Assembler,
    al,
    byte,
    eax,
    ecx,
    edi,
    edx,
    esi,
    qword,
    r8,
    r9,
    r10,
    r11,
    rax,
    rbx,
    rcx,
    rdi,
    rdx,
    rsi,
    rsp,
    xmm0,
    xmm1,
    xmm2,
    xmm3,
    xmm4,
    xmm5,
    xmm6,
    xmm7,
)

__all__ = ["ARG_KINDS", "RESULT_KINDS", "Entry", "Specialisation", "make_entry", "update_entry"]

#: argument kind -> the exact Python type an argument must have to be unboxed as it
ARG_KINDS: dict[str, type] = {"int64": int, "float64": float, "bool": bool}
RESULT_KINDS: tuple[str, ...] = ("int64", "float64", "bool", "none")

#: where the kernel's arguments go (rdi carries the result pointer)
INT_ARG_REGS = (rsi, rdx, rcx, r8, r9)
FLOAT_ARG_REGS = (xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7)
#: during dispatch: argument kind -> register holding its type object's address
TYPE_REGS = {"int64": r8, "float64": r9, "bool": r10}
#: argument kind -> the C name of its type object, for listings
TYPE_NAMES = {"int64": "&PyLong_Type", "float64": "&PyFloat_Type", "bool": "&PyBool_Type"}
#: caller-saved register holding Py_True while bool arguments are unboxed
TRUE_REG = r10
#: vectorcall: the bit of ``nargsf`` that is not part of the count
ARGUMENTS_OFFSET_BIT = 63
#: the OverflowError message for an int argument outside int64
OVERFLOW = "{name}() argument {position}: int does not fit in a signed 64-bit integer"

#: the C function that runs the fallback, and whether it takes only Python functions
VECTORCALL, VECTORCALL_NEEDS_FUNCTION = capi.vectorcall()

_API = {
    name: capi.function_address(name)
    for name in (
        VECTORCALL,
        "PyLong_AsLongLong",
        "PyErr_Occurred",
        "PyErr_SetString",
        "PyErr_Format",
        "PyLong_FromLongLong",
        "PyFloat_FromDouble",
        "PyBool_FromLong",
        "Py_IncRef",
        "PyObject_GetBuffer",
        "PyBuffer_Release",
        "PyBuffer_IsContiguous",
        "PyErr_Clear",
    )
}
#: PyBUF_FORMAT | PyBUF_STRIDES: any buffer with its format and shape, readonly or not
PYBUF_RECORDS_RO = 0x1C
#: ``Py_buffer`` field offsets (the struct is stable since Python 3.3), and its size
VIEW_BUF, VIEW_ITEMSIZE, VIEW_READONLY, VIEW_NDIM, VIEW_FORMAT, VIEW_SHAPE = 0, 24, 32, 36, 40, 48
VIEW_SIZE = 80
#: words an array argument takes in the frame: its Py_buffer, then its descriptor
ARRAY_WORDS = VIEW_SIZE // 8 + 4


def _status_table() -> tuple[ctypes.Array, list[ctypes.Array]]:
    """``STATUS`` as machine code reads it: (type, message) address pairs indexed by code."""
    size = max(STATUS) + 1
    table = (ctypes.c_void_p * (2 * size))()
    messages = []
    for code, (exc, message) in STATUS.items():
        text = ctypes.create_string_buffer(message.encode())
        messages.append(text)
        table[2 * code] = id(exc)
        table[2 * code + 1] = ctypes.addressof(text)
    return table, messages


_STATUS_TABLE, _STATUS_MESSAGES = _status_table()
_UNKNOWN_STATUS = ctypes.create_string_buffer(b"compiled code returned unknown status %d")


class _Record:
    """An immutable record (what a frozen dataclass makes, without importing
    ``dataclasses``): the fields in ``_compared`` make equality, hash and repr."""

    __slots__ = ()
    _compared: tuple[str, ...] = ()

    def _set(self, **fields: object) -> None:
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def _key(self) -> tuple:
        return tuple(getattr(self, name) for name in self._compared)

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._compared)
        return f"{type(self).__qualname__}({fields})"

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"cannot assign to field {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"cannot delete field {name!r}")


class ArrayArg(_Record):
    """An array argument kind: an object of exactly ``pytype`` whose buffer has the
    one-character ``format``, ``itemsize``, ``ndim`` (1 or 2), the readonly flag, and
    C-contiguous memory.  The kernel gets the address of a four-word descriptor (data,
    item count, length of axis 0, of axis 1), valid until the kernel returns."""

    __slots__ = ("format", "itemsize", "ndim", "pytype", "readonly")
    _compared = ("pytype", "format", "itemsize", "ndim", "readonly")

    def __init__(self, pytype: type, format: str, itemsize: int, ndim: int,  # noqa: A002
                 readonly: bool) -> None:
        self._set(pytype=pytype, format=format, itemsize=itemsize, ndim=ndim,
                  readonly=readonly)

    def __str__(self) -> str:
        shape = ", ".join([":"] * self.ndim)
        ro = "readonly " if self.readonly else ""
        return f"{ro}{self.pytype.__name__}({self.format})[{shape}]"


class Specialisation(_Record):
    """One compiled signature: argument kinds, result kind, and the kernel's address.

    An argument kind is a name from ``ARG_KINDS`` or an ``ArrayArg``.

    ``keepalive`` is anything that must live while the entry may call
    ``kernel_address`` (typically the kernel's ``CodeBlock``); the entry holds it.  It
    takes no part in equality, hash or repr.
    """

    __slots__ = ("arg_kinds", "keepalive", "kernel_address", "result_kind")
    _compared = ("arg_kinds", "result_kind", "kernel_address")

    def __init__(self, arg_kinds: Sequence, result_kind: str, kernel_address: int,
                 keepalive: object = None) -> None:
        self._set(arg_kinds=tuple(arg_kinds), result_kind=result_kind,
                  kernel_address=kernel_address, keepalive=keepalive)
        for kind in self.arg_kinds:
            if not isinstance(kind, ArrayArg) and kind not in ARG_KINDS:
                raise ValueError(
                    f"unknown argument kind {kind!r}; argument kinds are {', '.join(ARG_KINDS)}"
                    " or an ArrayArg"
                )
        if self.result_kind not in RESULT_KINDS:
            raise ValueError(
                f"unknown result kind {self.result_kind!r}; result kinds are "
                f"{', '.join(RESULT_KINDS)}"
            )
        address = self.kernel_address
        if not isinstance(address, int) or isinstance(address, bool) or address <= 0:
            raise ValueError(f"kernel_address must be a positive int address, not {address!r}")


def _forwarder(fallback: Callable) -> Callable:
    def forward(*args: object, **kwargs: object) -> object:
        return fallback(*args, **kwargs)

    return forward


def _signature(spec: Specialisation) -> str:
    return f"{spec.result_kind}({', '.join(map(str, spec.arg_kinds))})"


def _describe(obj: object) -> str:
    return getattr(obj, "__qualname__", None) or type(obj).__name__


def _placements(kinds: Sequence[str]) -> list:
    """Where System V puts each argument after the result pointer: a register or a stack index."""
    ints, floats = iter(INT_ARG_REGS), iter(FLOAT_ARG_REGS)
    places: list = []
    stack = 0
    for kind in kinds:
        reg = next(floats if kind == "float64" else ints, None)
        if reg is None:
            places.append(stack)
            stack += 1
        else:
            places.append(reg)
    return places


def _arrays(spec: Specialisation) -> list[int]:
    return [j for j, kind in enumerate(spec.arg_kinds) if isinstance(kind, ArrayArg)]


def _frame_words(spec: Specialisation) -> int:
    """8-byte words below the saved rbx: stack arguments, int slots, result slot, and
    with arrays the saved argument count, the status, a view and descriptor each."""
    stack_args = sum(1 for place in _placements(spec.arg_kinds) if isinstance(place, int))
    arrays = len(_arrays(spec))
    extra = 2 + ARRAY_WORDS * arrays if arrays else 0
    return stack_args + spec.arg_kinds.count("int64") + 1 + extra


class _Writer:
    """Emits one entry function; one method per part of the code (see the module header)."""

    def __init__(
        self,
        specs: Sequence[Specialisation],
        callee: object,
        fallback_name: str,
        overflow_messages: Sequence[ctypes.Array],
        inline_incref: bool,
        vectorcall: bool = False,
    ) -> None:
        self.a = Assembler()
        self.vectorcall = vectorcall
        self.specs = specs
        self.callee = callee
        self.fallback_name = fallback_name
        self.overflow_messages = overflow_messages
        self.inline_incref = inline_incref
        words = max((_frame_words(spec) for spec in specs), default=1)
        self.frame = (words * 8 + 15) // 16 * 16
        self.fallback_label = self.a.label()
        self.overflow_label = self.a.label()
        self.status_label = self.a.label()
        self.null_label = self.a.label()
        self.cold: list[Callable[[], None]] = []
        self.names: dict[int, str] = {}

    def write(self) -> bytes:
        a = self.a
        a.test(rcx, rcx)
        a.jne(self.fallback_label)
        nargs = r11 if self.vectorcall and self.specs else rdx  # the count alone
        self.dispatch_registers()
        specs = sorted(self.specs, key=lambda spec: len(spec.arg_kinds))
        for count, group in groupby(specs, key=lambda spec: len(spec.arg_kinds)):
            next_count = a.label()
            a.cmp(nargs, count)
            a.jne(next_count)
            group = list(group)
            for spec in group[:-1]:
                mismatch = a.label()
                self.specialisation(spec, mismatch)
                a.bind(mismatch)
            self.specialisation(group[-1], self.fallback_label)
            a.bind(next_count)
        a.bind(self.fallback_label)
        self.const(rdi, id(self.callee), f"fallback {self.fallback_name}")
        self.const(rax, _API[VECTORCALL], VECTORCALL)
        a.jmp(rax)  # same args, nargs(f) and kwnames
        for emit in self.cold:
            emit()
        if self.specs:  # the error paths run inside a specialisation's frame
            self.errors()
        return a.assemble()

    def dispatch_registers(self) -> None:
        """r11 = nargs for vectorcall, r8-r10 = the type objects compared (again after
        an array argument's buffer did not fit and C calls took the registers)."""
        a = self.a
        if self.vectorcall and self.specs:  # nargs = nargsf without the offset flag
            a.mov(r11, rdx)
            a.btr(r11, ARGUMENTS_OFFSET_BIT)
        used = {kind for spec in self.specs for kind in spec.arg_kinds}
        for kind, reg in TYPE_REGS.items():
            if kind in used:
                self.const(reg, id(ARG_KINDS[kind]), TYPE_NAMES[kind])

    def const(self, reg: object, value: int, name: str) -> None:
        """``mov reg, value`` for an address, remembering its name for ``Entry.listing``."""
        self.names[value] = name
        self.a.mov(reg, value)

    def call(self, name: str) -> None:
        """Call a C API function through r11, which leaves rax (and al) free for arguments."""
        self.const(r11, _API[name], name)
        self.a.call(r11)

    def specialisation(self, spec: Specialisation, mismatch: object) -> None:
        """Type checks (jumping to ``mismatch``), then unbox, call the kernel, box."""
        a = self.a
        for j, kind in enumerate(spec.arg_kinds):
            a.mov(rax, qword[rsi + 8 * j])
            if isinstance(kind, ArrayArg):
                self.const(rdi, id(kind.pytype), kind.pytype.__name__)
                a.cmp(qword[rax + capi.OB_TYPE], rdi)
            else:
                a.cmp(qword[rax + capi.OB_TYPE], TYPE_REGS[kind])
            a.jne(mismatch)
        a.push(rbx)
        a.sub(rsp, self.frame)
        a.mov(rbx, rsi)
        places = _placements(spec.arg_kinds)
        stack_args = sum(1 for place in places if isinstance(place, int))
        result = 8 * (stack_args + spec.arg_kinds.count("int64"))
        if _arrays(spec):
            a.mov(qword[rsp + result + 8], rdx)  # nargs(f), for the way back to dispatch
        slots = {}
        for j, kind in enumerate(spec.arg_kinds):
            if kind == "int64":
                slots[j] = 8 * (stack_args + len(slots))
                self.unbox_int(j, slots[j])
        arrays = {j: result + 24 + 8 * ARRAY_WORDS * k for k, j in enumerate(_arrays(spec))}
        for j in arrays:  # after the ints: their errors return at once
            self.export(spec, j, arrays, result, mismatch)
        where = {**slots, **{j: view + VIEW_SIZE for j, view in arrays.items()}}
        if "bool" in spec.arg_kinds:
            self.const(TRUE_REG, id(True), "Py_True")
        # Stack arguments first: they go through rax, which the register loads need too.
        ordered = sorted(enumerate(places), key=lambda item: not isinstance(item[1], int))
        for j, place in ordered:
            if isinstance(place, int):
                self.load(spec.arg_kinds[j], j, where.get(j), rax)
                a.mov(qword[rsp + 8 * place], rax)
            else:
                self.load(spec.arg_kinds[j], j, where.get(j), place)
        a.lea(rdi, qword[rsp + result])
        self.const(rax, spec.kernel_address, f"kernel {_signature(spec)}")
        a.call(rax)
        if arrays:  # every export ends before anything else happens
            a.mov(qword[rsp + result + 16], rax)
            for j in arrays:
                self.release(arrays[j])
            a.mov(rax, qword[rsp + result + 16])
        a.test(eax, eax)
        a.jne(self.status_label)
        BOX[spec.result_kind](self, result)
        a.add(rsp, self.frame)
        a.pop(rbx)
        a.ret()

    def release(self, view: int) -> None:
        self.a.lea(rdi, qword[rsp + view])
        self.call("PyBuffer_Release")

    def export(self, spec: Specialisation, j: int, arrays: dict[int, int], result: int,
               mismatch: object) -> None:
        """``PyObject_GetBuffer(args[j])`` into its view, checked against the kind, and the
        descriptor filled.  A buffer that does not fit (or no buffer) releases what this
        call exported so far, restores the dispatch registers and goes to ``mismatch``."""
        a = self.a
        kind = spec.arg_kinds[j]
        view = arrays[j]
        desc = view + VIEW_SIZE
        earlier = [arrays[i] for i in arrays if i < j]
        failed, unfit = a.label(), a.label()
        a.mov(rdi, qword[rbx + 8 * j])
        a.lea(rsi, qword[rsp + view])
        a.mov(edx, PYBUF_RECORDS_RO)
        self.call("PyObject_GetBuffer")
        a.test(eax, eax)
        a.jne(failed)
        a.mov(rax, qword[rsp + view + VIEW_FORMAT])
        a.test(rax, rax)
        a.je(unfit)
        a.cmp(byte[rax], ord(kind.format))
        a.jne(unfit)
        a.cmp(byte[rax + 1], 0)
        a.jne(unfit)
        a.cmp(qword[rsp + view + VIEW_ITEMSIZE], kind.itemsize)
        a.jne(unfit)
        a.mov(rax, int(kind.readonly) | kind.ndim << 32)
        a.cmp(qword[rsp + view + VIEW_READONLY], rax)
        a.jne(unfit)  # readonly and ndim, two ints side by side, in one compare
        a.lea(rdi, qword[rsp + view])
        a.mov(esi, ord("C"))
        self.call("PyBuffer_IsContiguous")
        a.test(eax, eax)
        a.je(unfit)
        a.mov(rax, qword[rsp + view + VIEW_BUF])
        a.mov(qword[rsp + desc], rax)
        a.mov(rax, qword[rsp + view + VIEW_SHAPE])
        a.mov(rcx, qword[rax])
        a.mov(qword[rsp + desc + 16], rcx)
        if kind.ndim == 2:
            a.mov(rdx, qword[rax + 8])
            a.mov(qword[rsp + desc + 24], rdx)
            a.imul(rcx, rdx)  # lengths of a real buffer: the product fits
        else:
            a.mov(qword[rsp + desc + 24], 0)
        a.mov(qword[rsp + desc + 8], rcx)

        def cold() -> None:
            a.bind(failed)  # no buffer: the fallback will say why
            self.call("PyErr_Clear")
            for other in earlier:
                self.release(other)
            self.back_to_dispatch(result, mismatch)
            a.bind(unfit)
            for other in earlier + [view]:
                self.release(other)
            self.back_to_dispatch(result, mismatch)

        self.cold.append(cold)

    def back_to_dispatch(self, result: int, mismatch: object) -> None:
        """Registers as dispatch left them (args, nargs, no kwnames, the type objects)."""
        a = self.a
        a.mov(rsi, rbx)
        a.mov(rdx, qword[rsp + result + 8])
        a.xor(ecx, ecx)
        a.add(rsp, self.frame)
        a.pop(rbx)
        self.dispatch_registers()
        a.jmp(mismatch)

    def unbox_int(self, j: int, slot: int) -> None:
        """``PyLong_AsLongLong(args[j])`` into ``[rsp + slot]``; -1 is checked out of line."""
        a = self.a
        check, back = a.label(), a.label()
        a.mov(rdi, qword[rbx + 8 * j])
        self.call("PyLong_AsLongLong")
        a.cmp(rax, -1)
        a.je(check)
        a.bind(back)
        a.mov(qword[rsp + slot], rax)

        def cold() -> None:
            a.bind(check)
            self.call("PyErr_Occurred")
            a.test(rax, rax)
            a.mov(rax, -1)  # the value really was -1 when no error is set
            a.je(back)
            message = self.overflow_messages[j]
            self.const(rsi, ctypes.addressof(message), repr(message.value.decode()))
            a.jmp(self.overflow_label)

        self.cold.append(cold)

    def load(self, kind: str, j: int, slot: int | None, dest: object) -> None:
        """Argument ``j`` as the kernel takes it, into ``dest`` (a general or xmm register)."""
        a = self.a
        if isinstance(kind, ArrayArg):  # slot: where its descriptor is
            a.lea(dest, qword[rsp + slot])
        elif kind == "int64":
            a.mov(dest, qword[rsp + slot])
        elif kind == "float64":
            a.mov(rax, qword[rbx + 8 * j])
            (a.movsd if dest.kind == "xmm" else a.mov)(dest, qword[rax + capi.FLOAT_VALUE])
        else:  # bool: Py_True or Py_False, the only two bool objects
            a.xor(eax, eax)
            a.cmp(qword[rbx + 8 * j], TRUE_REG)
            a.sete(al)
            if dest is not rax:
                a.mov(dest, rax)

    # Boxing: the kernel's result is at [rsp + result]; each leaves a new reference in rax.

    def box_int(self, result: int) -> None:
        self.a.mov(rdi, qword[rsp + result])
        self.call("PyLong_FromLongLong")

    def box_float(self, result: int) -> None:
        self.a.movsd(xmm0, qword[rsp + result])
        self.call("PyFloat_FromDouble")

    def box_bool(self, result: int) -> None:
        self.a.movzx(edi, byte[rsp + result])
        self.call("PyBool_FromLong")

    def box_none(self, result: int) -> None:
        """A new reference to None: inline on 3.10/3.11, else ``Py_IncRef`` (immortal objects)."""
        a = self.a
        if self.inline_incref:
            self.const(rax, id(None), "Py_None")
            a.add(qword[rax + capi.OB_REFCNT], 1)
            return
        self.const(rdi, id(None), "Py_None")
        self.call("Py_IncRef")
        self.const(rax, id(None), "Py_None")

    def errors(self) -> None:
        """Shared cold paths; each runs inside a specialisation's frame and returns NULL."""
        a = self.a
        unknown = a.label()
        # OverflowError with the message in rsi (from an int argument's check).
        a.bind(self.overflow_label)
        self.const(rdi, id(OverflowError), "PyExc_OverflowError")
        self.call("PyErr_SetString")
        a.jmp(self.null_label)
        # A kernel's non-zero status in eax: STATUS[eax], or SystemError for unknown codes.
        a.bind(self.status_label)
        a.cmp(eax, len(_STATUS_TABLE) // 2 - 1)
        a.ja(unknown)
        a.mov(ecx, eax)
        a.shl(ecx, 4)
        self.const(r10, ctypes.addressof(_STATUS_TABLE), "STATUS table")
        a.add(rcx, r10)
        a.mov(rdi, qword[rcx])
        a.test(rdi, rdi)
        a.je(unknown)
        a.mov(rsi, qword[rcx + 8])
        self.call("PyErr_SetString")
        a.jmp(self.null_label)
        a.bind(unknown)
        a.mov(edx, eax)
        self.const(rdi, id(SystemError), "PyExc_SystemError")
        self.const(rsi, ctypes.addressof(_UNKNOWN_STATUS), repr(_UNKNOWN_STATUS.value.decode()))
        a.xor(eax, eax)  # PyErr_Format is variadic: al = number of vector registers used
        self.call("PyErr_Format")
        a.bind(self.null_label)
        a.xor(eax, eax)
        a.add(rsp, self.frame)
        a.pop(rbx)
        a.ret()


#: result kind -> how to box it
BOX: dict[str, Callable[[_Writer, int], None]] = {
    "int64": _Writer.box_int,
    "float64": _Writer.box_float,
    "bool": _Writer.box_bool,
    "none": _Writer.box_none,
}


class _Version:
    """One generation of an entry's code and everything that code points at."""

    __slots__ = ("block", "messages", "names", "specialisations")

    def __init__(self, block: CodeBlock, specialisations: tuple[Specialisation, ...],
                 messages: list[ctypes.Array], names: dict[int, str]) -> None:
        self.block = block
        self.specialisations = specialisations
        self.messages = messages
        self.names = names  # address -> what it is, for listings


class Entry(ModuleType):
    """The ``__self__`` of an entry's builtin function: owns what its machine code uses.

    ``fallback``, ``specialisations`` (the current list), ``code``, ``address``
    and ``block`` (the current machine code), and ``listing()``, its disassembly.  A module
    object, because CPython prints a builtin whose ``__self__`` is a module as
    ``<built-in function NAME>``.

    ``vectorcall=True`` writes code for the vectorcall convention instead; such an
    entry has no ``PyMethodDef`` (``method`` is None) and whoever calls ``install``
    points an object's vectorcall slot at the address it returns.
    """

    def __init__(
        self, name: str, fallback: Callable, doc: str | None, vectorcall: bool = False
    ) -> None:
        super().__init__(f"minijit.entry.{name}")
        self.vectorcall = vectorcall
        self._fallback = fallback
        needs_function = VECTORCALL_NEEDS_FUNCTION and type(fallback) is not FunctionType
        #: what the code calls: the fallback, or a Python function forwarding to it
        self._callee = _forwarder(fallback) if needs_function else fallback
        self._name = ctypes.create_string_buffer(name.encode())
        self._doc = None if doc is None else ctypes.create_string_buffer(doc.encode())
        self.method = (
            None
            if vectorcall
            else capi.PyMethodDef(
                ml_name=ctypes.addressof(self._name),
                ml_meth=None,
                ml_flags=capi.METH_FASTCALL | capi.METH_KEYWORDS,
                ml_doc=None if self._doc is None else ctypes.addressof(self._doc),
            )
        )
        self._versions: list[_Version] = []

    @property
    def specialisations(self) -> tuple[Specialisation, ...]:
        return self._versions[-1].specialisations

    @property
    def fallback(self) -> Callable:
        """Read-only: the machine code holds its address."""
        return self._fallback

    @property
    def block(self) -> CodeBlock:
        return self._versions[-1].block

    @property
    def code(self) -> bytes:
        return self._versions[-1].block.code

    @property
    def address(self) -> int:
        return self._versions[-1].block.address

    def listing(self) -> str:
        """The current machine code, disassembled, each address constant named."""
        from minijit.x86 import disassemble

        version = self._versions[-1]
        lines = []
        for ins in disassemble(version.block.code, version.block.address):
            text = f"{ins.address:#x}:  {ins.bytes.hex(' '):<32} {ins}"
            value = ins.operands[-1] if ins.operands else ""
            if value.startswith("0x") and int(value, 16) in version.names:
                text += f"  # {version.names[int(value, 16)]}"
            lines.append(text)
        return "\n".join(lines)

    def install(self, specialisations: Sequence[Specialisation]) -> int:
        """Generate code for ``specialisations``; return its address.

        A fastcall entry's function runs the new code from now on; earlier code stays
        alive with the entry, since a call that began in it may still return through it.
        """
        specs = _checked(specialisations)
        name = self._name.value.decode()
        nargs = max((len(spec.arg_kinds) for spec in specs), default=0)
        messages = [
            ctypes.create_string_buffer(OVERFLOW.format(name=name, position=j + 1).encode())
            for j in range(nargs)
        ]
        writer = _Writer(
            specs,
            self._callee,
            _describe(self._fallback),
            messages,
            capi.INLINE_INCREF,
            self.vectorcall,
        )
        version = _Version(allocate(writer.write()), specs, messages, writer.names)
        self._versions.append(version)
        if self.method is not None:
            self.method.ml_meth = version.block.address
        return version.block.address


def _checked(specialisations: Sequence[Specialisation]) -> tuple[Specialisation, ...]:
    specs = tuple(specialisations)
    seen: set[tuple[str, ...]] = set()
    for spec in specs:
        if not isinstance(spec, Specialisation):
            raise TypeError(f"specialisations must be Specialisation objects, not {spec!r}")
        if spec.arg_kinds in seen:
            raise ValueError(f"two specialisations for arguments ({', '.join(spec.arg_kinds)})")
        seen.add(spec.arg_kinds)
    return specs


def make_entry(
    specialisations: Sequence[Specialisation],
    fallback: Callable,
    name: str,
    doc: str | None = None,
    module: str | None = None,
) -> BuiltinFunctionType:
    """A builtin function that runs the matching kernel, or calls ``fallback(*args, **kw)``.

    ``doc`` becomes ``__doc__``; starting it with ``"NAME(a, b)\\n--\\n\\n"`` gives
    ``inspect.signature`` the parameters.  ``module`` becomes ``__module__``.
    """
    if not callable(fallback):
        raise TypeError(f"fallback must be callable, not {type(fallback).__name__}")
    if not isinstance(name, str) or not name or "\0" in name:
        raise ValueError(
            f"entry name must be a non-empty str without NUL characters, not {name!r}"
        )
    for what, text in (("doc", doc), ("module", module)):
        if text is not None and (not isinstance(text, str) or "\0" in text):
            raise ValueError(f"entry {what} must be a str without NUL characters, not {text!r}")
    entry = Entry(name, fallback, doc)
    entry.install(specialisations)
    return capi.new_builtin(entry.method, entry, module)


def update_entry(function: BuiltinFunctionType, specialisations: Sequence[Specialisation]) -> None:
    """Replace the specialisations of a function made by ``make_entry``, in place."""
    entry = getattr(function, "__self__", None)
    if not isinstance(entry, Entry):
        raise TypeError(f"{function!r} is not a function made by make_entry")
    entry.install(specialisations)
