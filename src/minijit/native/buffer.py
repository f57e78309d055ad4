"""Buffer-protocol exports for a call: what a kernel's array argument points at.

``Export(obj)`` asks ``obj`` for its buffer with ``PyObject_GetBuffer`` (through
``ctypes.pythonapi``, asking for format, shape and strides; readonly buffers
are accepted and say so) and holds it until ``release()``, which calls
``PyBuffer_Release`` exactly once.  While held, the exporter cannot move or
resize its memory (NumPy refuses ``resize``, ``bytearray`` refuses to grow), so
the addresses stay valid for the whole call; once released, nothing of the
export remains (``sys.getrefcount`` of the object is back where it was).

The export also fills a *descriptor*, four 64-bit words that compiled code
reads (``minijit.compiler.arrays``): data address, item count, length of axis
0, length of axis 1.  Only C-contiguous buffers of one or two dimensions are
described; others are refused with TypeError naming the requirement.
"""

from __future__ import annotations

import ctypes

__all__ = ["Export"]

#: PyBUF_FORMAT | PyBUF_STRIDES (which includes PyBUF_ND): any buffer, readonly or not
PYBUF_RECORDS_RO = 0x0004 | 0x0018


class _PyBuffer(ctypes.Structure):
    """``Py_buffer`` (stable since Python 3.3)."""

    _fields_ = [
        ("buf", ctypes.c_void_p),
        ("obj", ctypes.c_void_p),
        ("len", ctypes.c_ssize_t),
        ("itemsize", ctypes.c_ssize_t),
        ("readonly", ctypes.c_int),
        ("ndim", ctypes.c_int),
        ("format", ctypes.c_char_p),
        ("shape", ctypes.POINTER(ctypes.c_ssize_t)),
        ("strides", ctypes.POINTER(ctypes.c_ssize_t)),
        ("suboffsets", ctypes.c_void_p),
        ("internal", ctypes.c_void_p),
    ]


def _api(name: str, restype, *argtypes):
    func = ctypes.pythonapi[name]  # a fresh function object: its types are ours alone
    func.restype, func.argtypes = restype, list(argtypes)
    return func


class _Record(ctypes.Structure):
    """One allocation per export: the ``Py_buffer`` and the descriptor."""

    _fields_ = [("view", _PyBuffer), ("descriptor", ctypes.c_int64 * 4)]


_get = _api("PyObject_GetBuffer", ctypes.c_int, ctypes.py_object, ctypes.c_void_p,
            ctypes.c_int)
_release = _api("PyBuffer_Release", None, ctypes.c_void_p)


class Export:
    """One buffer export of ``obj``: its format, item size, shape, readonly flag, and
    the descriptor compiled code reads.  ``release()`` ends it (idempotent)."""

    __slots__ = ("format", "itemsize", "shape", "readonly", "c_contiguous", "address",
                 "_record", "_held")

    def __init__(self, obj: object) -> None:
        self._record = record = _Record()
        self._held = False
        start = ctypes.addressof(record)
        _get(obj, start, PYBUF_RECORDS_RO)  # TypeError if obj has no buffer
        self._held = True
        view = record.view
        fmt = (view.format or b"B").decode("ascii")
        self.format = fmt[1:] if fmt[:1] in "@=" and len(fmt) > 1 else fmt
        self.itemsize = itemsize = view.itemsize
        ndim = view.ndim
        shape = view.shape[:ndim] if view.shape else [view.len // max(itemsize, 1)][:ndim]
        self.shape = tuple(shape)
        self.readonly = bool(view.readonly)
        size = 1
        for n in shape:
            size *= n
        #: C order: each stride is the item size times the lengths after it (an axis of
        #: length 1 may have any stride, and an empty buffer is contiguous)
        expected, contiguous = itemsize, True
        if view.strides and size:
            for n, stride in zip(reversed(shape), reversed(view.strides[:ndim])):
                contiguous = contiguous and (n == 1 or stride == expected)
                expected *= n
        self.c_contiguous = contiguous
        record.descriptor[:] = [view.buf or 0, size, *(shape[:2] + [0, 0])[:2]]
        #: where the descriptor is (the value a kernel's array argument takes)
        self.address = start + _Record.descriptor.offset

    def release(self) -> None:
        if self._held:
            self._held = False
            _release(ctypes.addressof(self._record))
