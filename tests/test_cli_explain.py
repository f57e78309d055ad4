"""``minijit explain``: every field of an instruction's encoding, and the notes."""

from __future__ import annotations

import pytest

from minijit.cli.main import main
from minijit.x86.explain import explain


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_r13_base_explained(capsys):
    status, out, err = run(capsys, "explain", "add qword ptr [r13], 8")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[:4] == ["add QWORD PTR [r13+0x0], 0x8", "49 83 45 00 08", "",
                         "form: add r/m64, imm8  (REX.W 83 /0 ib)"]
    assert "  49  REX      0100 W=1 R=0 X=0 B=1" in lines
    assert "                 W=1: 64-bit operand size" in lines
    assert "  45  ModRM    mod=01 reg=000 rm=101" in lines
    assert "                 reg=000: opcode extension /0" in lines
    assert "                 rm=101: base r13" in lines
    assert "  00  disp8    0x0" in lines
    assert "  08  imm8     0x8" in lines
    assert any(line.startswith("note: [rbp] and [r13] need a zero disp8") for line in lines)


def field_names(text: str) -> list[str]:
    return [field.name for field in explain(text).fields]


@pytest.mark.parametrize(
    "text, names, note",
    [
        ("mov rax, [rsp]", ["REX", "opcode", "ModRM", "SIB"], "[rsp] and [r12] need a SIB"),
        ("mov al, sil", ["REX", "opcode", "ModRM"], "REX 40 carries no bits"),
        ("mov eax, [rip + 0x10]", ["opcode", "ModRM", "disp32"], "rip-relative"),
        ("movabs rax, 0x1122334455667788", ["REX", "opcode", "imm64"], "movabs"),
        ("add rsp, -8", ["REX", "opcode", "ModRM", "imm8"], "short imm8 form"),
        ("xor eax, eax", ["opcode", "ModRM"], "zeroes bits 63:32"),
        ("mov ax, 5", ["prefix", "opcode", "imm16"], "leaves the other bits"),
        ("mov ah, bl", ["opcode", "ModRM"], "exist only without a REX prefix"),
        ("lea rax, [rdi + rsi*4]", ["REX", "opcode", "ModRM", "SIB"], "reads no memory"),
        ("xchg qword ptr [rax], rcx", ["REX", "opcode", "ModRM"], "atomic without a lock"),
        ("nop", ["opcode"], "written 87 c0"),
        ("vfmadd231pd ymm0, ymm1, [rbp + rcx*4 + 16]",
         ["VEX", "opcode", "ModRM", "SIB", "disp8"], None),
        ("vblendvpd ymm0, ymm1, ymm2, ymm3", ["VEX", "opcode", "ModRM", "is4"], None),
        ("popcnt ax, cx", ["prefix", "prefix", "opcode", "ModRM"], None),
        ("push r12", ["REX", "opcode"], None),
        ("mfence", ["opcode", "opcode"], None),
        ("mov rax, [r12d + r15d*8 - 4]", ["addr32", "REX", "opcode", "ModRM", "SIB", "disp8"],
         "67 makes the address 32-bit"),
        ("mov rax, [esp]", ["addr32", "REX", "opcode", "ModRM", "SIB"],
         "[rsp] and [r12] need a SIB"),
        ("add dword ptr fs:[r13d], 1", ["segment", "addr32", "REX", "opcode", "ModRM", "disp8",
                                        "imm8"], "[rbp] and [r13] need a zero disp8"),
    ],
)
def test_fields_and_notes(text, names, note):
    explanation = explain(text)
    assert [f.name for f in explanation.fields] == names
    assert b"".join(f.bytes for f in explanation.fields) == explanation.instruction.bytes
    if note:
        assert any(note in n for n in explanation.notes), explanation.notes


def test_32_bit_address_explained(capsys):
    status, out, err = run(capsys, "explain", "mov rax, [eax + ecx*4 + 8]")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[:4] == ["mov rax, QWORD PTR [eax+ecx*4+0x8]", "67 48 8b 44 88 08", "",
                         "form: mov r64, r/m64  (REX.W 8B /r)"]
    assert "  67  addr32   67" in lines
    assert "                 address-size override: a 32-bit address, from 32-bit registers" \
        in lines
    assert "                 index=001: ecx" in lines
    assert "                 base=000: eax" in lines
    assert any(line.startswith("note: 67 makes the address 32-bit") for line in lines)


def test_32_bit_base_and_index_above_7():
    [sib] = [f for f in explain("mov rax, [r12d + r15d*8 - 4]").fields if f.name == "SIB"]
    assert sib.meaning == ["scale=11: index * 8", "index=111: r15d", "base=100: r12d"]
    [modrm] = [f for f in explain("mov rax, [r9d]").fields if f.name == "ModRM"]
    assert "rm=001: base r9d" in modrm.meaning


def test_movsxd_from_a_32_bit_address_is_not_read_back(capsys):
    """The one form the assembler writes with 67 that the decoder leaves (bad):
    decoder.NO_ADDRESS_SIZE (capstone does not decode it)."""
    status, out, err = run(capsys, "explain", "movsxd eax, dword ptr [eax]")
    assert status == 1 and out == ""
    assert err == ("minijit explain: error: cannot assemble 'movsxd eax, dword ptr [eax]': "
                   "'movsxd eax, dword ptr [eax]' assembles to 67 63 00, which the "
                   "disassembler does not read back: 67 63 00 does not start with an "
                   "instruction minijit's table knows\n")


def test_vex_fields_are_decoded():
    [vex] = [f for f in explain("vaddpd ymm8, ymm9, ymm10").fields if f.name == "VEX"]
    assert vex.bytes == bytes.fromhex("c44135")
    assert vex.value.startswith("C4 (3-byte VEX): R=1 X=0 B=1 map=00001 W=0 vvvv=1001")
    assert "vvvv=9: ymm9" in vex.meaning
    assert "L=1: 256-bit vectors" in vex.meaning


def test_compare_writes_nothing():
    assert not any("register" in note for note in explain("cmp eax, ebx").notes)


def test_prefix_meanings():
    prefix_66, prefix_f3 = explain("popcnt ax, cx").fields[:2]
    assert "operand-size override" in prefix_66.meaning[0]
    assert "mandatory prefix" in prefix_f3.meaning[0]


def test_bytes_option(capsys):
    status, out, _ = run(capsys, "explain", "--bytes", "64 48 8b 04 25 28 00 00 00")
    assert status == 0
    assert out.splitlines()[0] == "mov rax, QWORD PTR fs:[0x28]"
    assert "  64           segment  64" in out.splitlines()
    assert "thread-local storage" in out


def test_unknown_instruction(capsys):
    status, out, err = run(capsys, "explain", "frob rax")
    assert status == 1 and out == ""
    assert err == ("minijit explain: error: cannot assemble 'frob rax': line 1: frob rax: "
                   "unknown mnemonic 'frob'\n")


def test_no_form_for_operands(capsys):
    status, _, err = run(capsys, "explain", "add rax, xmm0")
    assert status == 1
    assert err.startswith("minijit explain: error: cannot assemble 'add rax, xmm0': ")
    assert "no form" in err


def test_more_than_one_instruction(capsys):
    status, _, err = run(capsys, "explain", "nop\nret")
    assert status == 1
    assert err == ("minijit explain: error: cannot assemble 'nop\\nret': 'nop\\nret' is more "
                   "than one instruction; explain takes one\n")


def test_nothing_to_explain(capsys):
    status, _, err = run(capsys, "explain", "# only a comment")
    assert status == 1
    assert "nothing to explain in '# only a comment': no instruction" in err


def test_bytes_that_are_not_an_instruction(capsys):
    status, _, err = run(capsys, "explain", "--bytes", "0f0f")
    assert status == 1
    assert err == ("minijit explain: error: 0f 0f does not start with an instruction "
                   "minijit's table knows\n")


def test_invalid_hex_for_bytes(capsys):
    status, _, err = run(capsys, "explain", "--bytes", "4g")
    assert status == 2
    assert err == ("minijit explain: error: invalid hex: 'g' is not a hexadecimal digit "
                   "(in '4g')\n")


def test_instruction_and_bytes_together_is_a_usage_error(capsys):
    status, _, err = run(capsys, "explain", "ret", "--bytes", "c3")
    assert status == 2
    assert err == "minijit explain: error: give one INSTRUCTION or --bytes HEX\n"


def test_evex_fields_mask_and_compressed_displacement():
    explanation = explain("vaddpd zmm30{k5}{z}, zmm1, zmmword ptr [rbp + 0x80]")
    evex, _opcode, _modrm, disp = explanation.fields
    assert evex.bytes == bytes.fromhex("6261f5cd")
    assert evex.value == ("62 (EVEX): R=1 X=0 B=0 R'=1 mm=01 W=1 vvvv=0001 pp=01 z=1 "
                          "L'L=10 b=0 V'=0 aaa=101")
    assert "aaa=5: write mask k5, lanes whose mask bit is 0 are zeroed (z=1)" in evex.meaning
    assert "L'L=10: 512-bit vectors" in evex.meaning
    assert (disp.name, disp.value) == ("disp8", "0x2")
    assert disp.meaning == ["compressed disp8*N: 2 * 64 = 0x80"]


def test_evex_broadcast_scales_by_the_element():
    explanation = explain("vpandq xmm1{k6}, xmm17, qword ptr [rax + rbx*4 + 0x40]{1to2}")
    evex = explanation.fields[0]
    assert "V'vvvv=17: xmm17" in evex.meaning
    assert any(line.startswith("b=1: the memory operand is one element broadcast")
               for line in evex.meaning)
    assert explanation.fields[-1].meaning == ["compressed disp8*N: 8 * 8 = 0x40"]


@pytest.mark.parametrize(
    "code, name, meaning",
    [
        ("f348ab", "rep", "rep: repeat the string instruction rcx times"),
        ("f0480fc108", "lock", "lock: the read-modify-write of the memory operand is atomic"),
        ("3effe0", "segment", "ds segment override: ignored in 64-bit mode; before an "
                              "indirect jmp/call it is CET's notrack"),
        ("f30f1011", "prefix", "mandatory prefix: part of the opcode of movss"),
        ("67488b00", "addr32", "address-size override: a 32-bit address"),
    ],
)
def test_prefix_kinds(code, name, meaning):
    from minijit.x86.explain import explain_bytes

    first = explain_bytes(bytes.fromhex(code)).fields[0]
    assert first.name == name
    assert first.meaning[0].startswith(meaning)
