"""Layer 3: turning machine code into something Python can call.

``NativeFunction`` wraps code with a C signature through ctypes; ``status``
defines how compiled kernels report exceptions to whoever called them.  The names
below are imported on first use, so a submodule such as ``buffer`` loads only itself.
"""

from __future__ import annotations

__all__ = ["NativeFunction", "Signature", "parse_signature"]

_LAZY = {
    "NativeFunction": "minijit.native.function",
    "Signature": "minijit.native.signature",
    "parse_signature": "minijit.native.signature",
}


def __getattr__(name: str) -> object:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'minijit.native' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module_name), name)
