"""NativeFunction: signatures, argument checking, results, and lifetime."""

from __future__ import annotations

import ctypes
import gc
import re

import pytest

from minijit import NativeFunction
from minijit.memory import CodeArena
from minijit.native import parse_signature

ADD = b"\x48\x8d\x04\x37\xc3"  # lea rax, [rdi + rsi]; ret
ADDSD = b"\xf2\x0f\x58\xc1\xc3"  # addsd xmm0, xmm1; ret
LOAD = b"\x48\x8b\x07\xc3"  # mov rax, [rdi]; ret
RET = b"\xc3"


def test_int64_add():
    add = NativeFunction(ADD, "int64(int64, int64)")
    assert add(2, 3) == 5
    assert add(-(1 << 63), 0) == -(1 << 63)
    assert add.code == ADD
    assert str(add.signature) == "int64(int64, int64)"
    assert isinstance(add.address, int) and add.address > 0


def test_float64_add():
    f = NativeFunction(ADDSD, "float64(float64, float64)")
    assert f(1.5, 2.25) == 3.75
    assert f(1, 2) == 3.0  # ints are accepted for float parameters, as in C


def test_pointer_argument_accepts_ctypes_buffers_and_addresses():
    f = NativeFunction(LOAD, "int64(int64*)")
    value = ctypes.c_int64(-77)
    assert f(value) == -77
    assert f(ctypes.addressof(value)) == -77
    array = (ctypes.c_int64 * 2)(5, 6)
    assert f(array) == 5
    assert f(ctypes.pointer(value)) == -77
    assert f(bytearray((9).to_bytes(8, "little"))) == 9


def test_narrow_types_truncate_like_c():
    f = NativeFunction(b"\x89\xf8\xc3", "int8(int32)")  # mov eax, edi; ret
    assert f(0x17F) == 127  # low byte 0x7f
    assert NativeFunction(b"\x89\xf8\xc3", "uint8(uint32)")(0x1FF) == 255


def test_void_and_bool():
    assert NativeFunction(RET, "void()")() is None
    assert NativeFunction(b"\xb0\x01\xc3", "bool()")() is True  # mov al, 1; ret


def test_wrong_number_of_arguments():
    add = NativeFunction(ADD, "int64(int64, int64)")
    with pytest.raises(TypeError, match=r"takes 2 arguments \(1 given\)"):
        add(1)


@pytest.mark.parametrize("sig, args, error, text", [
    ("int64(int64)", ("3",), TypeError, "argument 1 must be int for int64, not str"),
    ("int64(int64)", (1.5,), TypeError, "must be int"),
    ("int64(int64)", (1 << 63,), OverflowError, "out of range for int64"),
    ("int64(uint8)", (-1,), OverflowError, "out of range for uint8"),
    ("float64(float64)", ("x",), TypeError, "must be float"),
    ("int64(int64*)", ("abc",), TypeError, "must be an address"),
])
def test_bad_argument_types(sig, args, error, text):
    f = NativeFunction(RET, sig)
    with pytest.raises(error, match=text):
        f(*args)


@pytest.mark.parametrize("text, bad", [
    ("int65(int64)", "'int65'"),
    ("int64(int64, flot)", "'flot'"),
    ("int64 int64", "'int64'"),
    ("int64(int64", "end of text"),
    ("int64(int64,)", "unknown type ')'"),
    ("int64(int64) x", "'x'"),
    ("int64(void)", "void"),
    ("", "end of text"),
    ("int64(int64 ; )", "';'"),
])
def test_bad_signatures_name_the_token(text, bad):
    with pytest.raises(ValueError, match=f"bad signature.*{re.escape(bad)}"):
        parse_signature(text)


def test_signature_must_be_text():
    with pytest.raises(TypeError, match="signature must be a string"):
        parse_signature(42)


def test_pointer_types_parse():
    sig = parse_signature(" void ( float64 * , void** ) ")
    assert str(sig) == "void(float64*, void**)"


def test_bad_code():
    with pytest.raises(TypeError, match="code must be bytes"):
        NativeFunction("c3", "void()")
    with pytest.raises(ValueError, match="empty"):
        NativeFunction(b"", "void()")


def test_calling_a_closed_function_raises():
    f = NativeFunction(ADD, "int64(int64, int64)")
    f.close()
    f.close()
    with pytest.raises(ValueError, match="closed"):
        f(1, 2)
    with NativeFunction(ADD, "int64(int64, int64)") as g:
        assert g(1, 1) == 2
    assert g.closed


def test_function_keeps_its_memory_alive_and_releases_it():
    arena = CodeArena()
    f = NativeFunction(arena.allocate(ADD), "int64(int64, int64)")
    gc.collect()
    assert arena.blocks == 1 and f(1, 2) == 3
    del f
    gc.collect()
    assert arena.blocks == 0
