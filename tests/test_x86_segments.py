"""fs:/gs: segment overrides on memory operands (``mov rax, qword ptr fs:[0x28]``).

GNU as is the oracle (through ``test_x86_oracle.gnu_as``); the builder spells them as
a slice, ``qword[fs:0x28]``.  Only fs and gs have a base in 64-bit mode: the other
overrides, and one on lea (which reads no memory: GNU as warns), are refused.
"""

from __future__ import annotations


import pytest
from test_x86_oracle import assert_text_and_builder_match_gnu_as, needs_binutils

from minijit.x86 import (
    AsmError,
    Assembler,
    assemble,
    disassemble,
    fs,
    gs,
    qword,
    r12,
    rax,
    rbx,
    rcx,
    rip,
    xmm0,
    zmm0,
    zmm1,
    zmmword,
)
from minijit.x86.encoder import encode_fields
from minijit.x86.registers import k1

LINES = [
    "mov rax, qword ptr fs:[0x28]",
    "mov rax, qword ptr gs:[rax + rcx*8 + 16]",
    "mov rax, qword ptr [fs:0x28]",
    "mov rax, fs:[0x28]",
    "mov rax, qword ptr fs : [0x28]",
    "mov eax, dword ptr fs:0x28",
    "mov rax, fs:-8",
    "mov ax, word ptr fs:[rax]",
    "mov qword ptr fs:[rbp], rax",
    "mov byte ptr fs:[rsp], ah",
    "add byte ptr gs:[r12], 5",
    "movsd xmm0, qword ptr fs:[rax]",
    "vaddpd xmm0, xmm1, xmmword ptr gs:[rax]",
    "vmovaps xmm1, fs:[rax]",
    "vaddpd zmm0 {k1}, zmm1, zmmword ptr fs:[rax + 64]",
    "lock add qword ptr fs:[rax], 1",
    "lock add word ptr fs:[rax], 1",
    "lock xchg qword ptr gs:[rbx], rax",
    "movabs rax, qword ptr fs:[0x1122334455667788]",
    "mov rax, qword ptr fs:[rip + 0x10]",
    "push qword ptr fs:[0x10]",
    "jmp qword ptr gs:[rax]",
    "imul rcx, qword ptr gs:[r13 + 8], 100",
]


@needs_binutils
def test_segment_overrides_match_gnu_as_through_text_and_builder():
    assert_text_and_builder_match_gnu_as(LINES)


def test_builder_spelling_is_a_slice():
    a = Assembler()
    a.mov(rax, qword[fs:0x28])
    a.mov(qword[gs:rax + rcx * 8 + 16], rbx)
    a.vaddpd(zmm0(k1), zmm1, zmmword[fs:rax + 64])
    a.add(qword[fs:r12], 1)
    a.add(qword[fs:r12], 1)  # the second time from the builder's cache: the same bytes
    assert a.assemble().hex() == ("64488b042528000000" "6548895cc810" "6462f1f549584001"
                                  "6449830424016449830424" "01")
    assert repr(qword[fs:0x28]) == "qword ptr fs:[40]"


def test_segment_text_round_trips_through_the_disassembler():
    code = assemble("\n".join(line for line in LINES if "rip" not in line))
    again = assemble("\n".join(str(ins) for ins in disassemble(code)))
    assert again == code


def test_explain_names_the_segment_field():
    form, fields = encode_fields("mov", [rax, qword[fs:0x28]])
    assert fields[0] == ("segment", b"\x64", "fs segment override")
    assert b"".join(f[1] for f in fields) == assemble("mov rax, qword ptr fs:[0x28]")


def test_a_label_with_a_segment_is_fixed_up():
    a = Assembler()
    data = a.label("data")
    a.mov(rax, qword[gs:rip + data])
    a.ret()
    a.bind(data)
    a.dq(0)
    code = assemble("mov rax, qword ptr gs:[rip + data]\nret\ndata:\n.quad 0")
    assert a.assemble() == code == bytes.fromhex("65488b0501000000" "c3" "0000000000000000")


@pytest.mark.parametrize("line, message", [
    ("mov rax, qword ptr ds:[rax]", "ds: has base 0 in 64-bit mode"),
    ("mov rax, qword ptr es:[rax]", "es: has base 0 in 64-bit mode"),
    ("mov rax, qword ptr hs:[rax]", "unknown segment 'hs'"),
    ("mov rax, qword ptr fs:[gs:0]", "two segment overrides"),
    ("mov rax, fs:rax", r"fs: takes \[address\] or a number, not 'rax'"),
    ("mov rax, qword ptr [fs:rax + 8]", r"fs: takes \[address\] or a number"),
    ("lea rax, qword ptr fs:[rax]", "a segment override has no effect on lea"),
])
def test_bad_segment_overrides_are_refused(line, message):
    with pytest.raises(AsmError, match=f"line 1: .*{message}"):
        assemble(line)


def test_builder_refuses_a_slice_without_a_segment():
    with pytest.raises(AsmError, match=r"qword\[segment:address\] takes fs or gs"):
        qword[rax:8]  # noqa: B018
    with pytest.raises(AsmError, match="takes fs or gs, then an address"):
        qword[fs:]  # noqa: B018
    with pytest.raises(AsmError, match="a segment override has no effect on lea"):
        Assembler().lea(rax, qword[gs:rax])
    assert xmm0.kind == "xmm" and gs.name == "gs"
