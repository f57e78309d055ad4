"""libm by address: the math functions compiled code calls, found without a C compiler.

``ctypes`` looks each symbol up in the process (CPython links libm) or in
``libm.so.6``; compiled code calls the address.  ``CAN_OVERFLOW``
mirrors CPython's mathmodule: a function whose infinite result from finite
arguments is a range error (OverflowError) rather than a domain error
(ValueError).
"""

from __future__ import annotations

import ctypes

__all__ = ["address", "CAN_OVERFLOW", "UNCHECKED"]

CAN_OVERFLOW = frozenset({"exp", "pow"})
#: functions CPython lets return inf and nan freely (math.hypot(1.5e308, 1.5e308) is inf)
UNCHECKED = frozenset({"hypot"})
_libraries: list = []
_cache: dict[str, int] = {}


def _libs() -> list:
    if not _libraries:  # CPython links libm; the soname is the fallback (no ctypes.util:
        _libraries.append(ctypes.CDLL(None))  # it starts a subprocess)
        try:
            _libraries.append(ctypes.CDLL("libm.so.6"))
        except OSError:
            pass
    return _libraries


def address(name: str) -> int:
    """The address of libm's ``double name(double[, double])``."""
    found = _cache.get(name)
    if found is None:
        for lib in _libs():
            try:
                found = ctypes.cast(getattr(lib, name), ctypes.c_void_p).value
                break
            except AttributeError:
                continue
        else:
            raise OSError(f"libm function {name!r} not found in this process")
        _cache[name] = found
    return found
