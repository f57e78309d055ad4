"""Kernels in the status convention, written with minijit's Assembler, for the entry tests.

``int32 status = kernel(void *result, args...)`` (minijit.native.status): the
result pointer in rdi, int arguments from rsi on, floats in xmm0-7.
"""

from __future__ import annotations

from hypothesis import strategies as st

from minijit.memory import CodeArena, CodeBlock, allocate
from minijit.native import entry
from minijit.x86 import Assembler, eax, qword, rax, rdi, rdx, rsi

#: an argument of each kind the entries dispatch on, and one they never take
SAMPLES = {"int64": 7, "float64": 0.5, "bool": False, "str": "x"}
#: argument kinds of a specialisation, for hypothesis
kind_tuples = st.lists(st.sampled_from(["int64", "float64", "bool"]), max_size=3).map(tuple)


def kernel(build) -> CodeBlock:
    """Executable memory holding what ``build(assembler)`` emits."""
    a = Assembler()
    build(a)
    return allocate(a.assemble())


def ok(a: Assembler) -> None:
    """Return status 0."""
    a.xor(eax, eax)
    a.ret()


def add_int(a: Assembler) -> None:
    """*result = rsi + rdx, or status 8 (OverflowError) when the sum leaves int64."""
    overflow = a.label()
    a.mov(rax, rsi)
    a.add(rax, rdx)
    a.jo(overflow)
    a.mov(qword[rdi], rax)
    ok(a)
    a.bind(overflow)
    a.mov(eax, 8)
    a.ret()


def result_is(value: int):
    """A kernel builder whose result is ``value`` whatever the arguments: it says which ran."""

    def build(a: Assembler) -> None:
        a.mov(qword[rdi], value)
        ok(a)

    return build


def lone_chunk_arena(monkeypatch) -> CodeArena:
    """An arena for entry code; the test fills the rest of the chunk it gets."""
    arena = CodeArena()
    monkeypatch.setattr(entry, "allocate", arena.allocate)
    return arena
