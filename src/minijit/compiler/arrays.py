"""Array types: buffer-protocol objects typed by element type, dimensions and kind.

An array argument is one IR type, an int ``>= ARRAY_BASE`` that packs four facts
(one specialisation each, so each kernel knows them at compile time)::

    type = ARRAY_BASE + 16 * dtype index + 8 * (ndim - 1) + 2 * kind + readonly

``DTYPES`` is the element table: buffer format characters, item size, the
scalar IR type an element loads as, and the instruction width.  ``kind`` says
which Python object exported the buffer (``ndarray``, ``array.array``, or any
other exporter such as ``memoryview`` and ``bytearray``), because each raises its
own exception for the same bad store; a readonly buffer is its own type, so a
store into it compiles to the error its object would raise.

In compiled code an array is a pointer to a descriptor of four words: data
address, total item count, length of axis 0, length of axis 1.  The buffer is
exported for the whole call, so none of them changes while the kernel runs.
"""

from __future__ import annotations

from minijit.compiler.typecodes import BOOL, FLOAT, INT, TYPE_NAMES

__all__ = [
    "ARRAY_BASE", "DTYPES", "KINDS", "DTYPE_BY_FORMAT", "DESC_DATA", "DESC_SIZE",
    "DESC_SHAPE", "Dtype", "array_type", "is_array", "array_parts", "READONLY_STATUS",
    "RANGE_STATUS",
]

ARRAY_BASE = 16
#: descriptor word offsets
DESC_DATA, DESC_SIZE, DESC_SHAPE = 0, 8, 16
KINDS = ("ndarray", "array", "buffer")
NDARRAY, ARRAY, BUFFER = 0, 1, 2
#: status of a store into a readonly buffer, by kind (array.array is never readonly)
READONLY_STATUS = {NDARRAY: 20, BUFFER: 21}
#: status of an int outside a narrow element type, by (kind, dtype name)
RANGE_STATUS = {
    (NDARRAY, "uint8"): 22, (NDARRAY, "int32"): 23, (ARRAY, "uint8"): 22,
    (ARRAY, "int32"): 23, (BUFFER, "uint8"): 24, (BUFFER, "int32"): 24,
}


class Dtype:
    """One element type: name, format characters, size, loaded IR type, range."""

    __slots__ = ("index", "name", "formats", "size", "type", "lo", "hi")

    def __init__(self, index: int, name: str, formats: str, size: int, type_: int,
                 lo: int | None = None, hi: int | None = None) -> None:
        self.index, self.name, self.formats, self.size = index, name, formats, size
        self.type, self.lo, self.hi = type_, lo, hi


DTYPES = [
    Dtype(0, "float64", "d", 8, FLOAT),
    Dtype(1, "float32", "f", 4, FLOAT),
    Dtype(2, "int64", "qln", 8, INT),
    Dtype(3, "int32", "i", 4, INT, -(1 << 31), (1 << 31) - 1),
    Dtype(4, "uint8", "B", 1, INT, 0, 255),
    Dtype(5, "bool", "?", 1, BOOL),
]
#: (format character, item size) -> dtype; 'l' is int64 only where a C long has 8 bytes
DTYPE_BY_FORMAT = {(c, d.size): d for d in DTYPES for c in d.formats}


def array_type(dtype: Dtype, ndim: int, kind: int, readonly: bool) -> int:
    return ARRAY_BASE + 16 * dtype.index + 8 * (ndim - 1) + 2 * kind + int(readonly)


def is_array(type_: int) -> bool:
    return type_ >= ARRAY_BASE


def array_parts(type_: int) -> tuple[Dtype, int, int, bool]:
    """(dtype, ndim, kind, readonly) of an array type."""
    n = type_ - ARRAY_BASE
    return DTYPES[n // 16], (n // 8) % 2 + 1, (n // 2) % 4, bool(n % 2)


def _name(type_: int) -> str:
    dtype, ndim, kind, readonly = array_parts(type_)
    shape = ", ".join([":"] * ndim)
    prefix = ("readonly " if readonly else "") + ("" if kind == NDARRAY else KINDS[kind] + " ")
    return f"{prefix}{dtype.name}[{shape}]"


for _d in DTYPES:
    for _ndim in (1, 2):
        for _kind in range(len(KINDS)):
            for _ro in (False, True):
                _t = array_type(_d, _ndim, _kind, _ro)
                TYPE_NAMES[_t] = _name(_t)
