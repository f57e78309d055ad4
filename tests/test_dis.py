"""The disassembler: golden decodings named after their quirk, (bad), labels, robustness.

Golden hex comes from GNU as (each text below assembles to its bytes); the live
tests re-check texts with GNU as and compare instruction boundaries and mnemonics
with capstone.
"""

from __future__ import annotations

import random
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minijit.x86 import Instruction, disassemble
from minijit.x86.decoder import decode
from minijit.x86.registers import REGISTERS

GOLDEN = {
    # quirk: (hex from GNU as, our text)
    "rsp_base_needs_sib": ("488b0424", "mov rax, QWORD PTR [rsp]"),
    "r12_base_needs_sib": ("498b0424", "mov rax, QWORD PTR [r12]"),
    "rbp_base_has_disp8_zero": ("488b4500", "mov rax, QWORD PTR [rbp+0x0]"),
    "r13_base_has_disp8_zero": ("498b4500", "mov rax, QWORD PTR [r13+0x0]"),
    "no_base_is_absolute_disp32": ("488b042500100000", "mov rax, QWORD PTR [0x1000]"),
    "index_without_base_has_disp32": ("488b04cd00000000", "mov rax, QWORD PTR [rcx*8+0x0]"),
    "negative_disp8": ("488b4080", "mov rax, QWORD PTR [rax-0x80]"),
    "rex_x_and_b_extend_index_and_base": ("4b8b446c08", "mov rax, QWORD PTR [r12+r13*2+0x8]"),
    "rex_40_means_sil_not_dh": ("4088f0", "mov al, sil"),
    "no_rex_means_ah": ("88dc", "mov ah, bl"),
    "sign_extended_imm8_is_negative": ("4883c0ff", "add rax, -0x1"),
    "push_imm8_is_sign_extended": ("6a80", "push -0x80"),
    "shift_count_is_not_sign_extended": ("c1e0ff", "shl eax, 0xff"),
    "imm16_under_operand_size_prefix": ("66b8ffff", "mov ax, 0xffff"),
    "byte_immediate_is_unsigned": ("04ff", "add al, 0xff"),
    "mov_r64_imm32_sign_extends": ("48c7c0ffffffff", "mov rax, -0x1"),
    "movabs_keeps_imm64": ("48b80000000000010000", "movabs rax, 0x10000000000"),
    "xchg_rax_short_form": ("4891", "xchg rax, rcx"),
    "nop_is_90_but_41_90_is_xchg": ("4190", "xchg eax, r8d"),
    "rip_relative": ("f20f100510000000", "movsd xmm0, QWORD PTR [rip+0x10]"),
    "vex2_three_operands": ("c5f558c2", "vaddpd ymm0, ymm1, ymm2"),
    "vex2_store_form_for_xmm8": ("c57829c0", "vmovaps xmm0, xmm8"),
    "vex3_for_map_0f38_and_w1": ("c4e2f5b8448d10",
                                 "vfmadd231pd ymm0, ymm1, YMMWORD PTR [rbp+rcx*4+0x10]"),
    "is4_register_in_imm8": ("c4e3754bc230", "vblendvpd ymm0, ymm1, ymm2, ymm3"),
    "mandatory_66_and_f3_with_operand_size": ("66f30fb8c1", "popcnt ax, cx"),
    "rex_w_selects_pextrq": ("66480f3a16c001", "pextrq rax, xmm0, 0x1"),
    "three_byte_opcode": ("0faef0", "mfence"),
    "push_r12_rex_b": ("4154", "push r12"),
    "call_indirect_r11": ("41ffd3", "call r11"),
    "fs_segment_absolute": ("64488b042528000000", "mov rax, QWORD PTR fs:[0x28]"),
    "cs_prefix_is_a_word": ("2e660f1f0400", "cs nop WORD PTR [rax+rax*1]"),
    "ds_before_indirect_jmp_is_notrack": ("3effe0", "notrack jmp rax"),
    "ds_prefix_is_a_word": ("3e0108", "ds add DWORD PTR [rax], ecx"),
    "nop_with_sib_and_disp8": ("0f1f440008", "nop DWORD PTR [rax+rax*1+0x8]"),
    "word_store_imm16": ("66c74020ff00", "mov WORD PTR [rax+0x20], 0xff"),
    "cqo_needs_rex_w": ("4899", "cqo"),
    "pause_is_f3_90": ("f390", "pause"),
    "rep_before_a_string_instruction": ("f348ab", "rep stosq"),
    "f2_before_a_string_instruction_is_repnz": ("f2a4", "repnz movsb"),
    "f3_before_cmps_is_repz": ("f3a6", "repz cmpsb"),
    "operand_size_then_rep": ("66f3ab", "rep stosw"),
    "string_dword_without_rex_w": ("ad", "lodsd"),
    "f3_before_ret_is_repz_ret": ("f3c3", "repz ret"),
    "endbr64_is_f3_0f_1e_fa": ("f30f1efa", "endbr64"),
    "movabs_load_from_a_64_bit_address": ("48a18877665544332211",
                                          "movabs rax, QWORD PTR [0x1122334455667788]"),
    "movabs_store_without_rex_w_is_dword": ("a3f0ffffffffffffff",
                                            "movabs DWORD PTR [0xfffffffffffffff0], eax"),
    "vpsrldq_shifts_bytes": ("c5f173da03", "vpsrldq xmm1, xmm2, 0x3"),
    "vextracti128_is_avx2": ("c4e37d39d101", "vextracti128 xmm1, ymm2, 0x1"),
    "lock_on_a_memory_destination": ("f0480fc108",
                                     "lock xadd QWORD PTR [rax], rcx"),
    "vzeroupper_vvvv_1111": ("c5f877", "vzeroupper"),
    "cdq_without_rex_w": ("99", "cdq"),
    "setcc_byte": ("0f9cc0", "setl al"),
    "lea_has_no_size": ("488d0437", "lea rax, [rdi+rsi*1]"),
    "evex_mask_and_broadcast": ("62f1f516db4c9808",
                                "vpandq xmm1{k6}, xmm17, QWORD PTR [rax+rbx*4+0x40]{1to2}"),
    "evex_zeroing_and_registers_above_15": ("622275 8da8f1".replace(" ", ""),
                                             "vfmadd213ps xmm30{k5}{z}, xmm1, xmm17"),
    "evex_disp8_is_scaled_by_64": ("6261f5cd587502",
                                   "vaddpd zmm30{k5}{z}, zmm1, ZMMWORD PTR [rbp+0x80]"),
    "evex_store_mask_on_memory": ("6251fd4c116500", "vmovupd ZMMWORD PTR [r13+0x0]{k4}, zmm12"),
    "evex_x_extends_register_rm": ("62b17e286fd2", "vmovdqu32 ymm2, ymm18"),
    "opmask_vex": ("c5f898f9", "kortestw k7, k1"),
    "address_size_prefix_makes_32_bit_address_registers": ("67488b00",
                                                           "mov rax, QWORD PTR [eax]"),
    "address_size_with_sib_rex_x_and_rex_b": ("674b8b44fcfc",
                                              "mov rax, QWORD PTR [r12d+r15d*8-0x4]"),
    "address_size_ebp_base_has_disp8_zero": ("67498b4500", "mov rax, QWORD PTR [r13d+0x0]"),
    "address_size_index_without_base_has_disp32": ("67488b04cdffffffff",
                                                   "mov rax, QWORD PTR [ecx*8-0x1]"),
    "address_size_disp32_is_signed": ("67488b8000000080",
                                      "mov rax, QWORD PTR [eax-0x80000000]"),
    "segment_then_address_size_then_66_then_lock": ("646766f0830001",
                                                    "lock add WORD PTR fs:[eax], 0x1"),
    "address_size_under_evex_scales_disp8": ("6762f1f5485840ff",
                                             "vaddpd zmm0, zmm1, ZMMWORD PTR [eax-0x40]"),
    "address_size_on_lea": ("67488d0408", "lea rax, [eax+ecx*1]"),
    "address_size_movsxd_with_rex_w": ("67486300", "movsxd rax, DWORD PTR [eax]"),
}


@pytest.mark.parametrize("quirk", sorted(GOLDEN))
def test_golden(quirk):
    code, text = GOLDEN[quirk]
    [ins] = disassemble(bytes.fromhex(code))
    assert ins.text == text
    assert ins.bytes == bytes.fromhex(code)
    assert ins.address == 0


needs_as = pytest.mark.skipif(not shutil.which("as") or not shutil.which("objcopy"),
                              reason="GNU as and objcopy are the oracle")


def gnu_as(lines: list[str], workdir) -> list[bytes]:
    """Assemble ``lines`` with one GNU as run; the bytes of each line."""
    source = workdir / "t.s"
    source.write_text(".intel_syntax noprefix\n"
                      + "".join(f"L{i}:\n{line}\n" for i, line in enumerate(lines))
                      + f"L{len(lines)}:\n")
    obj = workdir / "t.o"
    result = subprocess.run(["as", "--64", str(source), "-o", str(obj)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stderr[:2000]
    binary = workdir / "t.bin"
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", str(obj), str(binary)],
                   check=True)
    symbols = subprocess.run(["nm", str(obj)], capture_output=True, text=True,
                             check=True).stdout
    where = {}
    for row in symbols.splitlines():
        value, _kind, name = row.split()
        if name.startswith("L") and name[1:].isdigit():
            where[int(name[1:])] = int(value, 16)
    data = binary.read_bytes()
    return [data[where[i]:where[i + 1]] for i in range(len(lines))]


def as_text(ins: Instruction) -> str:
    """The text to give GNU as: a branch target written relative to the instruction (``.+n``)
    so the bytes do not depend on where the line lands in the test file."""
    if ins.target is not None and not ins.rip:
        return f"{ins.mnemonic} .{ins.target - ins.address:+#x}"
    return ins.text


@needs_as
def test_golden_texts_assemble_to_their_bytes(tmp_path):
    quirks = sorted(GOLDEN)
    got = gnu_as([GOLDEN[q][1] for q in quirks], tmp_path)
    assert {q: b.hex() for q, b in zip(quirks, got)} == {q: GOLDEN[q][0] for q in quirks}


def test_branch_targets_are_absolute_with_labels():
    code = bytes.fromhex("4885f6" "7e05" "4801f8" "ebf6" "c3" "e8f0ffffff")
    listing = disassemble(code, 0x1000, {0x1000: "top", 0x100a: "done"})
    assert [str(i) for i in listing] == [
        "test rsi, rsi",
        "jle 0x100a  # <done>",
        "add rax, rdi",
        "jmp 0x1000  # <top>",
        "ret",
        "call 0x1000  # <top>",
    ]
    assert [i.address for i in listing] == [0x1000, 0x1003, 0x1005, 0x1008, 0x100a, 0x100b]
    assert listing[1].target == 0x100a and not listing[1].rip
    assert listing[3].label == "top"


def test_rip_relative_shows_the_address_it_means():
    [ins] = disassemble(bytes.fromhex("488d0510000000"), 0x400, {0x417: "table"})
    assert ins.text == "lea rax, [rip+0x10]"
    assert str(ins) == "lea rax, [rip+0x10]  # 0x417 <table>"
    assert ins.rip and ins.target == 0x417


def test_branch_target_wraps_at_64_bits():
    [ins] = disassemble(b"\xeb\xfe", 0xFFFFFFFFFFFFFFFE)
    assert ins.target == 0xFFFFFFFFFFFFFFFE
    [ins] = disassemble(b"\xeb\x10", 0xFFFFFFFFFFFFFFF0)
    assert ins.text == "jmp 0x2"


def test_instruction_fields():
    [ins] = disassemble(bytes.fromhex("4883c408"), 0x10)
    assert (ins.address, ins.bytes, ins.mnemonic, ins.operands) == (
        0x10, b"\x48\x83\xc4\x08", "add", ("rsp", "0x8"))
    assert len(ins) == 4
    assert ins.form.signature() == "add r/m64, imm8"
    assert repr(ins) == "<Instruction 0x10: 48 83 c4 08: add rsp, 0x8>"


@pytest.mark.parametrize(
    "code, why",
    [
        ("48", "REX prefix at the end"),
        ("4883", "ModRM missing"),
        ("4883c4", "imm8 missing"),
        ("488b8010", "disp32 cut short"),
        ("e8000000", "rel32 cut short"),
        ("c4e2", "VEX prefix cut short"),
        ("0f", "escape byte alone"),
        ("6666c3", "two operand-size prefixes"),
        ("0f0f", "no such opcode in the table"),
        ("62f1fd48", "EVEX cut short"),
        ("62f1fd4858", "EVEX without ModRM"),
        ("6251fdcc116500", "EVEX zeroing on a store, which only merges"),
        ("62f1fd1858c0", "EVEX broadcast bit on a register operand (rounding: not supported)"),
        ("62f1fd885800", "EVEX zeroing without a mask"),
        ("66c3", "66 on an instruction without a 16-bit form"),
        ("6401c0", "fs override without a memory operand"),
        ("3601c0", "ss override, which GNU as cannot write in 64-bit mode"),
        ("3e01c8", "ds override without a memory operand"),
        ("3ee800000000", "ds before a direct call"),
        ("c5f077", "vzeroupper with VEX.vvvv not 1111b"),
        ("6701c0", "67 without a memory operand (objdump: addr32 add eax,eax)"),
        ("6767488b00", "two address-size prefixes"),
        ("67488b0510000000", "67 on rip-relative: [eip+0x10], not written by minijit"),
        ("67488b042510000000", "67 on an absolute address: [eiz*1+0x10], not minijit's"),
        ("67a110000000", "67 on movabs: a 4-byte moffs"),
        ("67aa", "67 on a string instruction: stos [edi]"),
        ("67e300", "67 on jrcxz: jecxz"),
        ("676300", "67 on movsxd r32: NO_ADDRESS_SIZE, which capstone does not decode"),
        ("4b0f1fc5", "REX.W on nop r/m32: nop r13, a form the table does not have"),
        ("480f50c0", "REX.W on movmskps r32, xmm: movmskps rax, xmm0 (not in the table)"),
        ("f30108", "rep before an instruction that is not a string instruction"),
        ("f2c3", "F2 before ret (MPX's bnd ret, which GNU as would not read back as repnz)"),
        ("f001c8", "lock without a memory destination"),
        ("f08b00", "lock before an instruction that cannot be locked"),
    ],
)
def test_undecodable_bytes_become_one_byte_bad(code, why):
    data = bytes.fromhex(code)
    listing = disassemble(data)
    assert b"".join(i.bytes for i in listing) == data, why
    assert listing[0].text == "(bad)", why
    assert listing[0].bytes == data[:1]
    assert listing[0].form is None and listing[0].layout is None


def test_decoding_resumes_after_bad():
    listing = disassemble(bytes.fromhex("ff" "ff" "c3"))
    # ff ff: /7 of FF is not an instruction; then ff c3 is "inc ebx"
    assert [i.text for i in listing] == ["(bad)", "inc ebx"]


def test_decode_one_at_an_offset():
    code = bytes.fromhex("90" "4889f8")
    ins = decode(code, 1, 0x101)
    assert (ins.text, ins.address, ins.bytes) == ("mov rax, rdi", 0x101, code[1:])


def test_empty_code_is_no_instructions():
    assert disassemble(b"") == []


def test_accepts_bytearray_and_memoryview():
    assert [i.text for i in disassemble(bytearray(b"\xc3"))] == ["ret"]
    assert [i.text for i in disassemble(memoryview(b"\x90\xc3"))] == ["nop", "ret"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.integers(0, (1 << 64) - 1))
def test_random_bytes_never_raise_and_cover_the_input(code, address):
    listing = disassemble(code, address)
    assert b"".join(i.bytes for i in listing) == code
    position = address
    for ins in listing:
        assert ins.address == position & ((1 << 64) - 1)
        assert 1 <= len(ins.bytes) <= 15
        assert ins.mnemonic == "(bad)" or ins.form is not None
        str(ins)
        position += len(ins.bytes)


def random_instruction_bytes(seed: int, count: int) -> bytes:
    """``count`` random byte strings that look like x86: a prefix or none, a map escape
    or a VEX/EVEX prefix (with its fixed bits right), then random bytes."""
    rng = random.Random(seed)
    chunks = []
    for _ in range(count):
        prefix = rng.choice([b"", b"", b"\x66", b"\xf3", b"\xf2", b"\xf0", b"\x64", b"\x67",
                             bytes([0x40 | rng.randrange(16)])])
        escape = rng.choice([b"", b"\x0f", b"\x0f\x38", b"\x0f\x3a", b"\xc5", b"\xc4",
                             b"\x62"])
        if escape == b"\x62":   # map 0F (P0 bits 3:2 clear), P1 bit 2 set, a vector opcode
            escape += bytes([rng.randrange(256) & 0xF0 | 1, rng.randrange(256) | 4,
                             rng.randrange(256), rng.choice(b"\x10\x11\x28\x51\x58\x59\x5c")])
            prefix = b""
        chunks.append(prefix + escape + rng.randbytes(8))
    return b"".join(chunks)


@needs_as
@settings(max_examples=15, deadline=None)
@given(st.integers(0, 1 << 32))
def test_decoded_random_bytes_reencode_to_the_same_instruction(tmp_path_factory, seed):
    """Decode random bytes; GNU as re-encodes each text; decoding that gives the same text.

    Random bytes may use an encoding GNU as would not pick (a disp32 that fits in
    disp8, a redundant REX), so the texts are compared, not the bytes.
    """
    code = random_instruction_bytes(seed, 60)
    decoded = [i for i in disassemble(code) if i.form is not None]
    assert decoded
    again = gnu_as([as_text(i) for i in decoded], tmp_path_factory.mktemp("re"))
    for ins, code2 in zip(decoded, again):
        [ins2] = disassemble(code2, ins.address)
        assert same_instruction(ins2, ins), (ins.bytes.hex(), code2.hex())


#: texts GNU as encodes as another instruction that does the same
AS_REWRITES = {"int 0x3": "int3", "xchg rax, rax": "nop"}
SHIFTS = frozenset("rol ror rcl rcr shl sal shr sar".split())


PTR_BITS = {"byte": 8, "word": 16, "dword": 32, "qword": 64}


def operand_bits(operand: str) -> int | None:
    """The width of a general register or sized memory operand, else None."""
    reg = REGISTERS.get(operand)
    if reg is not None and reg.kind in ("r8", "r16", "r32", "r64"):
        return int(reg.kind[1:])
    return PTR_BITS.get(operand.split(" ", 1)[0])


def same_instruction(a: Instruction, b: Instruction) -> bool:
    """Equal texts, up to what GNU as is free to choose: it drops a zero displacement
    ([rdi+0x0] is encoded as [rdi]), xchg swaps its operands (87 c3 comes back as 93),
    a shift by an imm8 of 1 becomes the shift-by-one opcode (c0 e8 01 comes back as d0 e8),
    an immediate that fits a sign-extended imm8 is written as one (66 2d 83 ff, sub ax,
    0xff83, comes back as 66 83 e8 83, sub ax, -0x7d: the same value in 16 bits), and
    AS_REWRITES."""
    def normal(ins: Instruction) -> tuple:
        text = AS_REWRITES.get(ins.text, ins.text).replace("+0x0]", "]")
        mnemonic, _, rest = text.partition(" ")
        operands = rest.split(", ") if rest else []
        if mnemonic in SHIFTS and operands[-1] == "0x1":
            operands[-1] = "1"
        bits = operand_bits(operands[0]) if operands else None
        if bits is not None and re.fullmatch(r"-?0x[0-9a-f]+", operands[-1]):
            operands[-1] = hex(int(operands[-1], 16) & ((1 << bits) - 1))
        return mnemonic, sorted(operands) if mnemonic == "xchg" else operands

    return normal(a) == normal(b)


def shortened_mov(again: Instruction, ins: Instruction) -> bool:
    """minijit's one deliberate difference from GNU as (docs/assembler.md): ``mov r64,
    imm`` with 0 <= imm < 2**32 is ``mov r32, imm32`` (B8+r, which zero-extends)."""
    match = re.fullmatch(r"mov (\w+), (0x[0-9a-f]+)", ins.text)
    if match is None or REGISTERS[match[1]].kind != "r64" or int(match[2], 16) >= 1 << 32:
        return False
    num = REGISTERS[match[1]].num
    r32 = next(r for r in REGISTERS.values() if r.kind == "r32" and r.num == num)
    return again.text == f"mov {r32.name}, {match[2]}"


def test_shortened_mov_is_the_same_instruction():
    """The case random bytes found: 4a c7 c6 27 c5 11 0f comes back as be 27 c5 11 0f."""
    from minijit.x86 import assemble

    [ins] = disassemble(bytes.fromhex("4ac7c627c5110f"))
    [again] = disassemble(assemble(ins.text))
    assert shortened_mov(again, ins) and again.bytes.hex() == "be27c5110f"
    [wide] = disassemble(assemble("mov rsi, -1"))
    assert not shortened_mov(wide, ins)


def test_listing_with_symbol_headers():
    from minijit.x86.listing import listing

    code = bytes.fromhex("31c0" "c3" "b801000000" "c3")
    symbols = {0x10: "zero", 0x13: "one"}
    assert listing(disassemble(code, 0x10, symbols), symbols) == [
        "0000000000000010 <zero>:",
        "  10:  31 c0                 xor eax, eax",
        "  12:  c3                    ret",
        "",
        "0000000000000013 <one>:",
        "  13:  b8 01 00 00 00        mov eax, 0x1",
        "  18:  c3                    ret",
    ]


#: what the decoder writes that minijit's own assembler does not take: prefix words
NOT_IN_THE_ASSEMBLER = ("cs ", "ds ", "lock ", "rep ", "repz ", "repnz ", "notrack ")


def refused_by_the_assembler(ins: Instruction) -> bool:
    """A prefix word, or fs/gs on lea (no effect: the assembler refuses it, GNU as warns)."""
    return ins.text.startswith(NOT_IN_THE_ASSEMBLER) or (ins.mnemonic == "lea"
                                                          and ":[" in ins.text)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 1 << 32))
def test_decoded_random_bytes_reencode_through_minijit(seed):
    """The same round trip through minijit.x86.assemble: every decoded text it takes
    encodes to an instruction that decodes the same.  (Its branches take labels, not
    the absolute numbers the decoder writes, so branches are left to GNU as above.)"""
    from minijit.x86 import assemble

    checked = 0
    for ins in disassemble(random_instruction_bytes(seed, 60)):
        if (ins.form is None or refused_by_the_assembler(ins)
                or (ins.target is not None and not ins.rip)):
            continue
        code = assemble(ins.text, ins.address)
        [again] = disassemble(code, ins.address)
        assert same_instruction(again, ins) or shortened_mov(again, ins), \
            (ins.bytes.hex(), code.hex())
        checked += 1
    assert checked


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 1 << 32))
def test_random_bytes_agree_with_capstone(seed):
    """Where minijit decodes an instruction in random bytes, capstone decodes one of the
    same length, mnemonic and registers there (catching a misread length, map or
    register extension bit, which a round trip through GNU as cannot: it only re-reads
    minijit's own text)."""
    capstone = pytest.importorskip("capstone")
    from test_dis_roundtrip import capstone_agrees, same_registers

    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    for ins in disassemble(random_instruction_bytes(seed, 60)):
        if ins.form is None:
            continue
        theirs = list(md.disasm_lite(ins.bytes, ins.address, 1))
        assert theirs, f"capstone: no instruction in {ins.bytes.hex()}, minijit: {ins}"
        _, size, mnemonic, operands = theirs[0]
        assert size == len(ins.bytes), (ins.bytes.hex(), str(ins), mnemonic)
        assert capstone_agrees(ins.mnemonic.split()[-1], mnemonic.split()[-1]), (
            ins.bytes.hex(), str(ins), mnemonic)
        assert same_registers(ins, operands), (ins.bytes.hex(), str(ins), operands)


def test_66_is_mandatory_for_movupd_even_beside_rex_w():
    """66 REX.W 0F 10: REX.W does not cancel a mandatory 66 (it did: movups came out).
    GNU as never writes the redundant W, so the bytes are compared with capstone's reading."""
    [ins] = disassemble(bytes.fromhex("664c0f10d7"))
    assert str(ins) == "movupd xmm10, xmm7"
    capstone = pytest.importorskip("capstone")
    [theirs] = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64).disasm(
        bytes.fromhex("664c0f10d7"), 0)
    assert (theirs.mnemonic, theirs.op_str) == ("movupd", "xmm10, xmm7")
