"""The text front end: GNU as's Intel syntax, the same bytes as the builder, and every
bad-input case as an AsmError naming the line, its text and what is wrong."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minijit.x86 import AsmError, Assembler, assemble, qword, rax, rcx, rdi, rip, xmm0

PROGRAM = """
.intel_syntax noprefix        # accepted and ignored
mul:                          ; a label on its own line
    mov rax, 11
    imul rax, rdi
    ret
loop: dec rcx                 ; a label before an instruction
    jnz loop
    movsd xmm0, qword ptr [rip + half]
    .p2align 3
half: .double 0.5
"""


def test_program_equals_builder():
    a = Assembler()
    a.mov(rax, 11)
    a.imul(rax, rdi)
    a.ret()
    loop = a.label("loop")
    a.bind(loop)
    a.dec(rcx)
    a.jnz(loop)
    half = a.label("half")
    a.movsd(xmm0, qword[rip + half])
    a.align(8)
    a.bind(half)
    a.dq(0.5)
    assert assemble(PROGRAM) == a.assemble()


@pytest.mark.parametrize("text, expected", [
    ("mov rax, -1", "48c7c0ffffffff"),
    ("mov rax, 0x10", "b810000000"),
    ("add rax, -0x80", "4883c080"),
    ("MOV RAX, QWORD PTR [RDI]", "488b07"),
    ("lea rax, [rdi + rsi*4 - 8]", "488d44b7f8"),
    ("lea rax, [4*rsi + rdi]", "488d04b7"),
    ("mov eax, dword ptr [0x1000]", "8b042500100000"),
    ("add al, 1 # hash comment", "0401"),
    ("vaddpd ymm0, ymm1, ymmword ptr [rax]", "c5f55800"),
    ("vaddpd zmm0 {k1}{z}, zmm1, qword ptr [rax + 16]{1to8}", "62f1f5d9584002"),
    ("vaddpd zmm0{k1}{z},zmm1,zmm2", "62f1f5c958c2"),
    (".byte 1, 0xff\n.word 2\n.long -1\n.quad 3", "01ff0200ffffffff0300000000000000"),
])
def test_syntax_forms(text, expected):
    assert assemble(text).hex() == expected


@pytest.mark.parametrize("source, line, message", [
    ("nop\nadd eax, rbx", 2, "no form for (r32, r64) (operand sizes differ); forms: add"),
    ("mov qword ptr [rax], qword ptr [rcx]", 1, "at most one operand may be memory"),
    ("mov ah, sil", 1, "ah cannot be encoded in an instruction that needs a REX prefix"),
    ("mov ah, byte ptr [r8]", 1, "ah cannot be encoded"),
    ("lea rax, rcx", 1, "no form for (r64, r64); forms: lea r16, m"),
    ("add eax, 0x100000000", 1, "out of range"),
    ("mov al, 256", 1, "out of range"),
    ("shl rax, bl", 1, "operand 2 must be cl"),
    ("shl rax, rcx", 1, "a count in a register must be cl"),
    ("mov rax, [rax + rcx*3]", 1, "scale must be 1, 2, 4 or 8, not 3"),
    ("mov rax, [rax + rsp*2]", 1, "rsp cannot be an index register"),
    ("mov rax, [rsp + rsp]", 1, "rsp cannot be an index register"),
    ("push eax", 1, "no form for (r32); forms: push r64"),
    ("frob rax", 1, "unknown mnemonic 'frob'"),
    ("mov rax, [rax", 1, "malformed brackets"),
    ("mov rax, rax]", 1, "malformed brackets"),
    ("mov rax, [[rax]]", 1, "malformed brackets"),
    ("mov rax, [rax + ]", 1, "malformed address [rax + ]"),
    ("mov rax, [rax + rcx + rdx]", 1, "too many registers"),
    ("mov rax, [rax - rcx]", 1, "cannot be subtracted"),
    ("mov rax, []", 1, "empty brackets"),
    ("mov rax, foo ptr [rax]", 1, "unknown size keyword 'foo ptr'"),
    ("add rax,", 1, "empty operand"),
    ("add [rax], 1", 1, "ambiguous operand size"),
    ("nop\nnop\njmp nowhere", 3, "label 'nowhere' is used but never bound"),
    ("x:\nnop\nx:", 3, "label 'x' is already bound (duplicate label)"),
    ("loop far\n.byte " + ", ".join(["0"] * 200) + "\nfar:", 1,
     "label out of rel8 range"),
    ("mov rax, [rcx + top]\ntop:", 1, "a label in a memory operand needs rip as base"),
    (".frob 1", 1, "unknown directive '.frob'"),
    (".att_syntax", 1, "unknown directive"),
    (".intel_syntax prefix", 1, "only noprefix"),
    ("rax: nop", 1, "bad label name 'rax'"),
    ("mov rax, 1.5", 1, "cannot read operand '1.5'"),
    ("mov rax, label", 1, "no form for (r64, rel)"),
    ("lock add rax, 1", 1, "lock needs one of"),
    ("rep add rax, 1", 1, "rep needs a string instruction"),
    ("rep frob", 1, "unknown mnemonic 'frob' after rep"),
    ("addsd xmm0, xmm16", 1, "registers 16-31 need an AVX-512 (EVEX) form"),
    ("vaddpd zmm0 {k1}, zmm1, zmm2 {k2}", 1, "a write mask goes on the destination only"),
    ("vaddpd zmm0 {z}, zmm1, zmm2", 1, "{z} needs a write mask"),
    ("vaddpd zmm0 {k9}, zmm1, zmm2", 1, "unknown decoration {k9}"),
    ("vaddpd zmm0 {k1}}, zmm1, zmm2", 1, "malformed decoration"),
    ("mov rax, [rip + rcx*2]", 1, "rip-relative addresses cannot have an index"),
    ("mov rax, [ax]", 1, "base register ax must be a 64-bit register (or 32-bit) or rip"),
    ("mov rax, [eax + rcx]", 1, "base eax and index rcx differ in size"),
    ("mov rax, [rax + 0x100000000]", 1, "displacement 0x100000000 does not fit in 32 bits"),
    (".p2align x", 1, ".p2align x: cannot read 'x'"),
    (".quad 1.5", 1, ".quad 1.5: cannot read value '1.5'"),
    (".double x", 1, ".double x: cannot read value 'x'"),
    ("nop\n.quad nowhere", 2, "label 'nowhere' is used but never bound"),
])
def test_bad_input_names_line_text_and_problem(source, line, message):
    with pytest.raises(AsmError) as info:
        assemble(source)
    text = str(info.value)
    assert isinstance(info.value, ValueError)
    assert text.startswith(f"line {line}: "), text
    assert message in text, text


def test_error_names_the_statement_text():
    with pytest.raises(AsmError, match=r"^line 1: add eax, rbx: no form for"):
        assemble("add eax, rbx   ; mixed sizes")


def test_alignment_must_be_power_of_two():
    with pytest.raises(AsmError, match="power of two up to 65536, not 3"):
        assemble(".balign 3")
    with pytest.raises(AsmError, match=r"^line 1: \.p2align 40: 40 is not in 0\.\.16"):
        assemble(".p2align 40")


def test_quad_of_a_label_is_its_absolute_address():
    source = "start: nop\n.p2align 3\ntable: .quad start, table, 7"
    code = assemble(source, address=0x10000)
    assert code[8:] == (0x10000).to_bytes(8, "little") + (0x10008).to_bytes(8, "little") + \
        (7).to_bytes(8, "little")
    assert assemble(source)[8:16] == bytes(8)


TOKENS = ["mov", "add", "vaddpd", "jmp", "lea", "shl", "push", ".quad", ".p2align", "rax",
          "eax", "ah", "sil", "xmm0", "zmm17", "k1", "rip", "[", "]", "+", "-", "*", ",", ":",
          "{", "}", "{k1}", "{z}", "{1to8}", "qword", "ptr", "byte", "0x10", "-1", "8", "3",
          "99999999999999999999", "1.5", "x", "x:", ";", "#", " ", "\t", "\n", "$", "@", "'"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=12))
def test_any_text_assembles_or_raises_asmerror(tokens):
    """Bad input never escapes as another exception (or a crash)."""
    source = " ".join(tokens)
    try:
        assemble(source)
    except AsmError as error:
        assert str(error)


@pytest.mark.parametrize("line, hexcode", [
    # GNU as's bytes: a run of signs in an address is one sign
    ("mov rax, [rax + -8]", "488b40f8"),
    ("mov rax, [rax - -8]", "488b4008"),
    ("mov rax, [rax + - 8]", "488b40f8"),
    ("mov rax, [rax + +8]", "488b4008"),
    ("mov rax, [rax - +8]", "488b40f8"),
    ("mov rax, [rax+-0x10+rcx*2]", "488b4448f0"),
    ("mov rax, [--8]", "488b042508000000"),
])
def test_a_run_of_signs_is_one_sign(line, hexcode):
    assert assemble(line).hex() == hexcode


def test_a_subtracted_register_is_refused_however_spelled():
    with pytest.raises(AsmError, match="a register cannot be subtracted"):
        assemble("mov rax, [rax + -rcx]")
