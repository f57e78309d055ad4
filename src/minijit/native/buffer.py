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


_get = _api("PyObject_GetBuffer", ctypes.c_int, ctypes.py_object,
            ctypes.POINTER(_PyBuffer), ctypes.c_int)
_release = _api("PyBuffer_Release", None, ctypes.POINTER(_PyBuffer))
_contiguous = _api("PyBuffer_IsContiguous", ctypes.c_int, ctypes.POINTER(_PyBuffer),
                   ctypes.c_char)


class Export:
    """One buffer export of ``obj``: its format, item size, shape, readonly flag, and
    the descriptor compiled code reads.  ``release()`` ends it (idempotent)."""

    __slots__ = ("view", "format", "itemsize", "shape", "readonly", "descriptor", "_held")

    def __init__(self, obj: object) -> None:
        self.view = _PyBuffer()
        self._held = False
        _get(obj, ctypes.byref(self.view), PYBUF_RECORDS_RO)  # TypeError if no buffer
        self._held = True
        view = self.view
        fmt = (view.format or b"B").decode("ascii")
        self.format = fmt[1:] if fmt[:1] in "@=" and len(fmt) > 1 else fmt
        self.itemsize = view.itemsize
        self.shape = tuple(view.shape[i] for i in range(view.ndim)) if view.shape else (
            (view.len // max(view.itemsize, 1),) if view.ndim else ())
        self.readonly = bool(view.readonly)
        size = 1
        for n in self.shape:
            size *= n
        axes = list(self.shape[:2]) + [0] * (2 - min(len(self.shape), 2))
        self.descriptor = (ctypes.c_int64 * 4)(view.buf or 0, size, *axes)

    @property
    def c_contiguous(self) -> bool:
        return bool(_contiguous(ctypes.byref(self.view), b"C"))

    @property
    def address(self) -> int:
        """Where the descriptor is (the value a kernel's array argument takes)."""
        return ctypes.addressof(self.descriptor)

    def release(self) -> None:
        if self._held:
            self._held = False
            _release(ctypes.byref(self.view))

    def __enter__(self) -> Export:
        return self

    def __exit__(self, *exc) -> None:
        self.release()
