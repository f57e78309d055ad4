"""NativeFunction: machine code plus a C signature, callable from Python.

The call goes through ctypes, so it is the general, debuggable path: any C
signature works, and arguments are checked in Python before they reach the
machine (ctypes itself would silently truncate an out-of-range int or raise its
own ArgumentError).  Compiled ``@jit`` functions enter through a faster,
machine-code entry instead; see DESIGN.md.
"""

from __future__ import annotations

import ctypes

from minijit.memory import CodeBlock, CodeBuffer, allocate
from minijit.native.signature import CType, Signature, parse_signature

__all__ = ["NativeFunction"]


def _check_arg(index: int, ctype: CType, value: object) -> object:
    """Return ``value`` as ctypes should see it, or raise TypeError/OverflowError."""
    kind = ctype.kind
    if kind in ("int", "bool"):
        if not isinstance(value, int):
            raise TypeError(
                f"argument {index + 1} must be int for {ctype}, not {type(value).__name__}"
            )
        lo, hi = ctype.bounds() or (0, 1)
        if kind == "int" and not lo <= value <= hi:
            raise OverflowError(f"argument {index + 1} = {value} is out of range for {ctype}")
        return value
    if kind == "float":
        if not isinstance(value, (int, float)):
            raise TypeError(
                f"argument {index + 1} must be float for {ctype}, not {type(value).__name__}"
            )
        return float(value)
    # pointer: an address, None, a ctypes object, or a writable buffer (e.g. a NumPy array)
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    if isinstance(value, ctypes.c_void_p):
        return value.value
    if isinstance(value, (ctypes._Pointer, ctypes.Array)):
        return ctypes.cast(value, ctypes.c_void_p).value
    if isinstance(value, (ctypes._SimpleCData, ctypes.Structure)):
        return ctypes.addressof(value)
    try:
        return ctypes.addressof(ctypes.c_char.from_buffer(value))
    except TypeError:
        pass
    raise TypeError(
        f"argument {index + 1} must be an address (int), None, a ctypes object or a writable "
        f"buffer for {ctype}, not {type(value).__name__}"
    )


class NativeFunction:
    """Machine code made callable: ``NativeFunction(code, "int64(int64, int64)")``.

    ``code`` is bytes (copied into executable memory), or a ``CodeBlock`` or
    sealed ``CodeBuffer`` already there.  The object keeps its memory alive; ``close()`` releases it early.
    """

    __slots__ = ("signature", "_block", "_cfunc", "__weakref__")

    def __init__(self, code: bytes | CodeBlock | CodeBuffer, signature: str | Signature) -> None:
        self.signature = (
            signature if isinstance(signature, Signature) else parse_signature(signature)
        )
        if isinstance(code, CodeBuffer) and not code.sealed:
            raise ValueError("code buffer is still writable: seal() it before calling into it")
        if isinstance(code, (CodeBlock, CodeBuffer)):
            self._block = code
        elif isinstance(code, (bytes, bytearray, memoryview)):
            if len(code) == 0:
                raise ValueError("code is empty: a native function needs at least one instruction")
            self._block = allocate(bytes(code))
        else:
            raise TypeError(
                f"code must be bytes, a CodeBlock or a CodeBuffer, not {type(code).__name__}"
            )
        self._cfunc = self.signature.prototype()(self._block.address)

    @property
    def address(self) -> int:
        return self._block.address

    @property
    def code(self) -> bytes:
        return self._block.code

    @property
    def closed(self) -> bool:
        return self._block.closed

    def __call__(self, *args: object) -> object:
        if self._block.closed:
            raise ValueError("native function is closed")
        argtypes = self.signature.argtypes
        if len(args) != len(argtypes):
            raise TypeError(
                f"{self.signature} takes {len(argtypes)} argument"
                f"{'' if len(argtypes) == 1 else 's'} ({len(args)} given)"
            )
        return self._cfunc(*[_check_arg(i, t, v) for i, (t, v) in enumerate(zip(argtypes, args))])

    def close(self) -> None:
        """Release the code memory now. Harmless to call twice."""
        self._cfunc = None
        self._block.close()

    def __enter__(self) -> NativeFunction:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = "closed" if self.closed else f"at {self.address:#x}"
        return f"<NativeFunction {self.signature} {where}>"
