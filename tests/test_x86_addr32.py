"""32-bit addresses (``mov rax, qword ptr [eax + ecx*4]``): the address-size prefix 67.

GNU as is the oracle.  Its quirks pinned here: the prefix order (segment, 67, 66,
lock), and a displacement read modulo 2**32 (``[eax + 0xffffffff]`` is ``[eax - 1]``,
a disp8).  Mixed register sizes, 16-bit registers and displacements beyond 32 bits
are refused, as GNU as refuses (or only warns and truncates) them.
"""

from __future__ import annotations

import re
import shutil

import pytest
from test_x86_oracle import builder, gnu_as

from minijit.x86 import AsmError, Assembler, assemble, eax, ecx, esp, qword, r12d, r15d, rax
from minijit.x86.explain import explain

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
needs_as = pytest.mark.skipif(any(shutil.which(t) is None for t in ("as", "nm", "objcopy")),
                              reason="GNU binutils (as, nm, objcopy) not installed")


@needs_as
def test_32_bit_addresses_match_gnu_as_through_text_and_builder():
    expected, errors = gnu_as(LINES)
    assert not errors
    for line, want in zip(LINES, expected):
        assert assemble(line).hex() == want.hex(), line
        assert builder(line).hex() == want.hex(), line


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


def test_explain_says_it_cannot_read_the_prefix_back():
    with pytest.raises(AsmError, match=r"assembles to 67 48 8b 00, which the disassembler "
                                       "does not read back"):
        explain("mov rax, qword ptr [eax]")
    assert esp.kind == eax.kind == "r32"
