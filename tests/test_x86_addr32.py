"""32-bit addresses (``mov rax, qword ptr [eax + ecx*4]``: the address-size prefix 67),
and displacements that wrap.

GNU as is the oracle.  Its quirks pinned here: the prefix order (segment, 67, 66,
lock), and a displacement read modulo 2**32 (``[eax + 0xffffffff]`` is ``[eax - 1]``,
a disp8).  Mixed register sizes, 16-bit registers and displacements beyond 32 bits
are refused, as GNU as refuses (or only warns and truncates) them.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_x86_oracle import (
    assert_gnu_as_agrees,
    assert_text_and_builder_match_gnu_as,
    needs_binutils,
)

from minijit.x86 import AsmError, Assembler, assemble, eax, ecx, esp, qword, r12d, r15d, rax

LINES = [
    "mov rax, qword ptr [eax]",
    "mov rax, qword ptr [eax + ecx*4 + 8]",
    "mov rax, qword ptr [r8d]",
    "mov rax, qword ptr [esp]",
    "mov rax, qword ptr [ebp]",
    "mov rax, qword ptr [r13d]",
    "mov rax, qword ptr [r12d + r15d*8 - 4]",
    "mov rax, qword ptr [ecx*2]",
    "mov rax, qword ptr [eax + 0xffffffff]",
    "mov rax, qword ptr [eax + 0x80000000]",
    "mov rax, qword ptr [eax - 0x80000000]",
    "mov rax, qword ptr [ecx*8 + 0xffffffff]",
    "mov rax, qword ptr [ebp + 0x80]",
    "mov rax, qword ptr [r13d + r12d]",
    "mov rax, qword ptr fs:[eax + 4]",
    "lock add word ptr fs:[eax], 1",
    "lock add dword ptr [eax], 1",
    "mov ax, word ptr [eax]",
    "vaddpd zmm0, zmm1, zmmword ptr [eax + 64]",
    "vaddpd xmm0, xmm1, xmmword ptr [r9d]",
    "lea rax, [eax + ecx]",
    "lea eax, [eax + ecx]",
    "jmp qword ptr [eax]",
    "movsd xmm0, qword ptr [eax]",
    "mov byte ptr [eax], ah",
    "add dword ptr [edi + 0x10], 0x12345",
    "vbroadcastsd ymm0, qword ptr [edx]",
]


@needs_binutils
def test_32_bit_addresses_match_gnu_as_through_text_and_builder():
    assert_text_and_builder_match_gnu_as(LINES)


#: 64-bit addresses wrap too, and mov reaches a far absolute address through the
#: accumulator's moffs form (A0-A3), as GNU as picks
WRAPPED = [
    "mov rcx, qword ptr [rax + 0xffffffffffffffff]",
    "mov rcx, qword ptr [0xffffffff80000000]",
    "mov rax, qword ptr [0x80000000]",
    "mov eax, dword ptr [0xffffffff]",
    "mov qword ptr [0x80000000], rax",
    "mov al, byte ptr [0x123456789]",
    "mov ax, word ptr [0x80000000]",
    "mov rax, qword ptr fs:[0x80000000]",
    "mov rax, qword ptr [-0x80000001]",
    "mov rax, qword ptr [0xffffffff7fffffff]",
]


@needs_binutils
def test_wrapped_and_far_absolute_addresses_match_gnu_as():
    assert_text_and_builder_match_gnu_as(WRAPPED)


def test_a_far_absolute_address_needs_the_accumulator():
    with pytest.raises(AsmError, match="displacement -0x80000001 does not fit in 32 bits"):
        assemble("mov rcx, qword ptr [0xffffffff7fffffff]")
    with pytest.raises(AsmError, match="displacement 0x80000000 does not fit in 32 bits"):
        assemble("add rax, qword ptr [0x80000000]")


def test_builder_spelling_and_golden_bytes():
    a = Assembler()
    a.mov(rax, qword[eax + ecx * 4 + 8])
    a.mov(rax, qword[r12d + r15d * 8 - 4])
    a.mov(rax, qword[esp])
    a.mov(rax, qword[esp])  # the second time from the builder's cache: the same bytes
    assert a.assemble().hex() == "67488b448808" "674b8b44fcfc" "67488b0424" "67488b0424"


def test_the_displacement_is_read_modulo_2_to_the_32():
    assert qword[eax + 0xFFFFFFFF] is qword[eax - 1]
    assert qword[eax + 0x80000000].disp == -0x80000000
    assert assemble("mov rax, qword ptr [eax + 0xffffffff]").hex() == "67488b40ff"
    assert qword[rax + 0xFFFFFFFF].disp == 0xFFFFFFFF  # 64-bit addresses are not wrapped


@pytest.mark.parametrize("line, message", [
    ("mov rax, qword ptr [eax + rcx]", "base eax and index rcx differ in size"),
    ("mov rax, qword ptr [rcx + eax]", "base rcx and index eax differ in size"),
    ("mov rax, qword ptr [ax]", "base register ax must be a 64-bit register (or 32-bit)"),
    ("mov rax, qword ptr [rax + cx*2]", "index register cx must be a 64-bit (or 32-bit)"),
    ("mov rax, qword ptr [esp*2]", "esp cannot be an index register"),
    ("mov rax, qword ptr [eax + 0x100000000]", "displacement 0x100000000 does not fit"),
    ("movabs rax, qword ptr [eax]", "movabs takes an absolute address"),
])
def test_bad_32_bit_addresses_are_refused(line, message):
    with pytest.raises(AsmError, match=f"line 1: .*{re.escape(message)}"):
        assemble(line)


# --- random addresses: match GNU as, or both reject ------------------------------------------

ADDRESS_REGS = ["eax", "ecx", "esp", "ebp", "r8d", "r12d", "r13d", "r15d", "rax", "rsp",
                "rbp", "r13", "ax", "esi"]
#: segment overrides that GNU as takes and minijit refuses on purpose (base 0 in 64-bit mode)
NULL_SEGMENTS = ("ds:", "es:", "cs:", "ss:")
address = st.builds(
    lambda base, index, scale, disp: "[" + " + ".join(
        p for p in (base, index and f"{index}*{scale}", disp) if p).replace("+ -", "- ") + "]",
    st.sampled_from(["", *ADDRESS_REGS]), st.sampled_from(["", *ADDRESS_REGS]),
    st.sampled_from([1, 2, 4, 8]),
    st.sampled_from(["", "8", "127", "128", "0x7fffffff", "0x80000000", "0xffffffff",
                     "0x100000000", "-8", "0xffffffffffffffff", "-0x80000001"]))
memory = st.builds(lambda size, segment, addr: f"{size}{segment}{addr}".replace("[]", "[0]"),
                   st.sampled_from(["qword ptr ", "dword ptr ", ""]),
                   st.sampled_from(["", "", "fs:", "gs:", *NULL_SEGMENTS]), address)
line = st.one_of(
    st.builds(lambda m: f"mov rax, {m}", memory),
    st.builds(lambda m: f"mov {m}, eax", memory),
    st.builds(lambda m: f"add {m}, 1", memory),
    st.builds(lambda m: f"lea rcx, {m}", memory),
    st.builds(lambda m: f"vaddpd xmm1, xmm2, {m}", memory),
    st.builds(lambda m: f"lock add {m}, ecx", memory),
)


@needs_binutils
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, min_size=20, max_size=20))
def test_random_addresses_match_gnu_as_or_both_reject(lines):
    """32- and 64-bit registers, segments, scales and displacements at their edges."""
    assert_gnu_as_agrees(lines, lambda text, error: any(s in text for s in NULL_SEGMENTS))
