"""C signatures as text: ``"int64(int64, float64*)"`` parsed into ctypes types.

Grammar (whitespace is free)::

    signature := type "(" [type ("," type)*] ")"
    type      := NAME "*"*

NAME is one of the keys of ``C_TYPES``.  ``void`` is allowed only as the result
or under a pointer (``void*``).  Parsing is strict: a token that is not a type
raises ValueError naming it, since a misspelled type would otherwise become a
wrong calling convention and a crash.
"""

from __future__ import annotations

import ctypes
import functools
import re
from dataclasses import dataclass

__all__ = ["C_TYPES", "CType", "Signature", "parse_signature"]

#: name -> (ctypes type, kind).  kind drives argument checking in NativeFunction.
C_TYPES: dict[str, tuple[type | None, str]] = {
    "int8": (ctypes.c_int8, "int"),
    "int16": (ctypes.c_int16, "int"),
    "int32": (ctypes.c_int32, "int"),
    "int64": (ctypes.c_int64, "int"),
    "uint8": (ctypes.c_uint8, "int"),
    "uint16": (ctypes.c_uint16, "int"),
    "uint32": (ctypes.c_uint32, "int"),
    "uint64": (ctypes.c_uint64, "int"),
    "float32": (ctypes.c_float, "float"),
    "float64": (ctypes.c_double, "float"),
    "bool": (ctypes.c_bool, "bool"),
    "void": (None, "void"),
}


@dataclass(frozen=True)
class CType:
    """A parsed type: a base name plus pointer depth."""

    name: str
    pointer: int = 0

    @property
    def kind(self) -> str:
        return "pointer" if self.pointer else C_TYPES[self.name][1]

    @property
    def ctype(self) -> type | None:
        if self.pointer:
            return ctypes.c_void_p
        return C_TYPES[self.name][0]

    def bounds(self) -> tuple[int, int] | None:
        """The value range of an integer type, or None for other kinds."""
        if self.kind != "int":
            return None
        bits = ctypes.sizeof(self.ctype) * 8
        if self.name.startswith("u"):
            return 0, (1 << bits) - 1
        return -(1 << (bits - 1)), (1 << (bits - 1)) - 1

    def __str__(self) -> str:
        return self.name + "*" * self.pointer


@dataclass(frozen=True)
class Signature:
    restype: CType
    argtypes: tuple[CType, ...]

    def __str__(self) -> str:
        return f"{self.restype}({', '.join(map(str, self.argtypes))})"

    def prototype(self) -> type:
        """The ctypes CFUNCTYPE class for this signature (cached per signature)."""
        return _prototype(self)


_PROTOTYPES: dict[Signature, type] = {}


def _prototype(sig: Signature) -> type:
    proto = _PROTOTYPES.get(sig)
    if proto is None:
        proto = ctypes.CFUNCTYPE(sig.restype.ctype, *(a.ctype for a in sig.argtypes))
        _PROTOTYPES[sig] = proto
    return proto


_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z_0-9]*)|(\*)|([(),])|(\S))")


def _tokens(text: str) -> list[str]:
    tokens = []
    for match in _TOKEN.finditer(text):
        name, star, punct, other = match.groups()
        tok = name or star or punct or other
        if tok is None:  # trailing whitespace
            continue
        tokens.append(tok)
    return tokens


def parse_signature(text: str) -> Signature:
    """Parse ``"restype(argtype, ...)"``; raise ValueError naming the bad token.

    Results are cached by text: a program makes many functions of few signatures,
    and parsing each anew would litter the heap with small objects that outlive
    the functions (pinning allocator arenas after the functions are gone).
    """
    if not isinstance(text, str):
        raise TypeError(f"signature must be a string like 'int64(int64)', not {type(text).__name__}")
    return _parse(text)


@functools.lru_cache(maxsize=256)
def _parse(text: str) -> Signature:
    tokens = _tokens(text)
    pos = 0

    def fail(msg: str) -> ValueError:
        where = tokens[pos] if pos < len(tokens) else "end of text"
        return ValueError(f"bad signature {text!r}: {msg} at {where!r}")

    def parse_type() -> CType:
        nonlocal pos
        if pos >= len(tokens):
            raise fail("expected a type")
        name = tokens[pos]
        if name not in C_TYPES:
            known = ", ".join(C_TYPES)
            raise ValueError(f"bad signature {text!r}: unknown type {name!r}; known types: {known}")
        pos += 1
        depth = 0
        while pos < len(tokens) and tokens[pos] == "*":
            depth += 1
            pos += 1
        return CType(name, depth)

    restype = parse_type()
    if pos >= len(tokens) or tokens[pos] != "(":
        raise fail("expected '('")
    pos += 1
    args: list[CType] = []
    if pos < len(tokens) and tokens[pos] == ")":
        pos += 1
    else:
        while True:
            arg = parse_type()
            if arg.kind == "void":
                raise ValueError(f"bad signature {text!r}: 'void' is not an argument type")
            args.append(arg)
            if pos < len(tokens) and tokens[pos] == ",":
                pos += 1
                continue
            if pos < len(tokens) and tokens[pos] == ")":
                pos += 1
                break
            raise fail("expected ',' or ')'")
    if pos != len(tokens):
        raise fail("unexpected text after ')'")
    return Signature(restype, tuple(args))
