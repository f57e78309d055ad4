"""libm by address: the math functions compiled code calls, found without a C compiler.

``ctypes`` looks each symbol up in the process (CPython links libm) or in the
math library it names; compiled code calls the address.  ``CAN_OVERFLOW``
mirrors CPython's mathmodule: a function whose infinite result from finite
arguments is a range error (OverflowError) rather than a domain error
(ValueError).
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["address", "CAN_OVERFLOW", "UNCHECKED"]

CAN_OVERFLOW = frozenset({"exp", "pow"})
#: functions CPython lets return inf and nan freely (math.hypot(1.5e308, 1.5e308) is inf)
UNCHECKED = frozenset({"hypot"})
_libraries: list = []
_cache: dict[str, int] = {}


def _libs() -> list:
    if not _libraries:
        _libraries.append(ctypes.CDLL(None))
        name = ctypes.util.find_library("m")
        if name:
            _libraries.append(ctypes.CDLL(name))
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
