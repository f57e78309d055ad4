"""Where the entry puts each argument: System V placement for any mix of kinds.

Two oracles.  Kernels written with the Assembler return one chosen argument
from the register or stack slot the System V ABI assigns it, for random lists
of int64, float64 and bool arguments (enough of each to spill to the stack).
Kernels compiled by gcc fold every argument into a hash, so gcc itself says
where each argument is; Python computes the same hash from the values.
"""

from __future__ import annotations

import ctypes
import shutil
import struct
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minijit.memory import allocate
from minijit.native.entry import Specialisation, make_entry
from minijit.x86 import (
    Assembler,
    eax,
    qword,
    r8,
    r9,
    rax,
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

INTEGER_REGS = [rsi, rdx, rcx, r8, r9]
SSE_REGS = [xmm0, xmm1, xmm2, xmm3, xmm4, xmm5, xmm6, xmm7]
VALUES = {
    "int64": st.integers(-(1 << 63), (1 << 63) - 1),
    "float64": st.floats(),
    "bool": st.booleans(),
}
RESULT = {"int64": "int64", "bool": "int64", "float64": "float64"}


def where(kinds: list[str], j: int) -> object:
    """System V: the j-th argument's register, or its 8-byte stack slot number."""
    free = {"int": list(INTEGER_REGS), "sse": list(SSE_REGS)}
    stack = 0
    for kind in kinds[: j + 1]:
        regs = free["sse" if kind == "float64" else "int"]
        if regs:
            place = regs.pop(0)
        else:
            place, stack = stack, stack + 1
    return place


def select(kinds: list[str], j: int) -> Specialisation:
    """A kernel storing argument j, all 64 bits of it, as its result."""
    a = Assembler()
    place = where(kinds, j)
    if isinstance(place, int):
        a.mov(rax, qword[rsp + 8 + 8 * place])  # above the return address
        a.mov(qword[rdi], rax)
    elif place.kind == "xmm":
        a.movsd(qword[rdi], place)
    else:
        a.mov(qword[rdi], place)
    a.xor(eax, eax)
    a.ret()
    block = allocate(a.assemble())
    return Specialisation(tuple(kinds), RESULT[kinds[j]], block.address, block)


def same(x: object, y: object) -> bool:
    if isinstance(x, float):
        return struct.pack("<d", x) == struct.pack("<d", y)
    return type(x) is type(y) and x == y


@st.composite
def calls(draw: st.DrawFn) -> tuple[list[str], list[object]]:
    kinds = draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=18))
    return kinds, [draw(VALUES[kind]) for kind in kinds]


@settings(max_examples=120, deadline=None)
@given(calls())
def test_every_argument_arrives_where_system_v_puts_it(call):
    kinds, args = call
    for j, arg in enumerate(args):
        f = make_entry([select(kinds, j)], lambda *a: "fallback", "select")
        expected = int(arg) if kinds[j] == "bool" else arg
        assert same(f(*args), expected), (kinds, j)


def test_six_ints_and_eight_floats_interleaved():
    kinds = ["int64", "float64"] * 6 + ["float64", "float64"]
    args = [i if kind == "int64" else i + 0.5 for i, kind in enumerate(kinds)]
    for j, arg in enumerate(args):
        assert make_entry([select(kinds, j)], print, "select")(*args) == arg


# --- gcc as the oracle --------------------------------------------------------------------

C_TYPES = {"int64": "int64_t", "float64": "double", "bool": "_Bool"}
SIGNATURES = [
    (),
    ("int64",) * 6,
    ("float64",) * 8,
    ("int64", "float64") * 6 + ("float64",) * 3,
    ("bool", "int64", "float64") * 4,
    ("float64",) * 10 + ("bool",) * 7,
]
FNV_OFFSET, FNV_PRIME, MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1


def c_source(signatures: list[tuple[str, ...]]) -> str:
    lines = [
        "#include <stdint.h>",
        "#include <string.h>",
        "static uint64_t mix(uint64_t h, uint64_t v) { return (h ^ v) * 0x100000001b3ULL; }",
    ]
    for n, kinds in enumerate(signatures):
        params = "".join(f", {C_TYPES[kind]} a{i}" for i, kind in enumerate(kinds))
        lines.append(f"int32_t k{n}(int64_t *r{params}) {{")
        lines.append("    uint64_t h = 0xcbf29ce484222325ULL, v;")
        for i, kind in enumerate(kinds):
            if kind == "float64":
                lines.append(f"    memcpy(&v, &a{i}, 8); h = mix(h, v);")
            else:
                lines.append(f"    h = mix(h, (uint64_t)a{i});")
        lines.append("    *r = (int64_t)h;")
        lines.append("    return 0;")
        lines.append("}")
    return "\n".join(lines) + "\n"


def fnv(args: list[object]) -> int:
    h = FNV_OFFSET
    for arg in args:
        v = struct.unpack("<Q", struct.pack("<d", arg))[0] if isinstance(arg, float) else arg
        h = ((h ^ (v & MASK)) * FNV_PRIME) & MASK
    return h - (1 << 64) if h >> 63 else h


@pytest.fixture(scope="module")
def gcc_kernels(tmp_path_factory) -> list[object]:
    if shutil.which("gcc") is None:
        pytest.skip("gcc is not installed")
    folder = tmp_path_factory.mktemp("abi")
    source, library = folder / "kernels.c", folder / "kernels.so"
    source.write_text(c_source(SIGNATURES))
    subprocess.run(["gcc", "-O2", "-shared", "-fPIC", "-o", library, source], check=True)
    lib = ctypes.CDLL(str(library))
    return [
        make_entry(
            [
                Specialisation(
                    kinds, "int64", ctypes.cast(getattr(lib, f"k{n}"), ctypes.c_void_p).value, lib
                )
            ],
            lambda *a: "fallback",
            f"k{n}",
        )
        for n, kinds in enumerate(SIGNATURES)
    ]


@st.composite
def gcc_calls(draw: st.DrawFn) -> tuple[int, list[object]]:
    n = draw(st.integers(0, len(SIGNATURES) - 1))
    return n, [draw(VALUES[kind]) for kind in SIGNATURES[n]]


@settings(max_examples=150, deadline=None)
@given(gcc_calls())
def test_gcc_compiled_kernels_see_every_argument(gcc_kernels, call):
    n, args = call
    assert gcc_kernels[n](*args) == fnv(args)
