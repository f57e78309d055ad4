"""The builder API, and golden hex (from GNU as) for each encoding quirk, named after it."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minijit.x86 import (
    AsmError,
    Assembler,
    Label,
    ah,
    al,
    bl,
    byte,
    dil,
    dword,
    eax,
    ecx,
    qword,
    r8,
    r12,
    r13,
    rax,
    rbp,
    rcx,
    rdi,
    registers,
    rip,
    rsp,
    sil,
    xmm0,
    xmm1,
    xmm8,
    ymm0,
    ymm1,
    ymm2,
)
from minijit.x86.assembler import METHODS, PREFIXES


def hexof(build) -> str:
    a = Assembler()
    build(a)
    return a.assemble().hex()


GOLDEN = {
    # name: (builder call, GNU as bytes)
    "rsp_base_needs_sib": (lambda a: a.mov(rax, qword[rsp]), "488b0424"),
    "r12_base_needs_sib": (lambda a: a.mov(rax, qword[r12]), "498b0424"),
    "rbp_base_no_disp_uses_disp8_zero": (lambda a: a.mov(rax, qword[rbp]), "488b4500"),
    "r13_base_no_disp_uses_disp8_zero": (lambda a: a.mov(rax, qword[r13]), "498b4500"),
    "no_base_is_sib_disp32": (lambda a: a.mov(rax, qword[0x1000]), "488b042500100000"),
    "index_without_base_has_disp32": (lambda a: a.mov(rax, qword[rcx * 8]),
                                      "488b04cd00000000"),
    "disp8_upper_bound_127": (lambda a: a.mov(rax, qword[rax + 127]), "488b407f"),
    "disp32_from_128": (lambda a: a.mov(rax, qword[rax + 128]), "488b8080000000"),
    "disp8_lower_bound_minus_128": (lambda a: a.mov(rax, qword[rax - 128]), "488b4080"),
    "disp32_from_minus_129": (lambda a: a.mov(rax, qword[rax - 129]), "488b807fffffff"),
    "r12_base_r13_index_rex_xb": (lambda a: a.mov(rax, qword[r12 + r13 * 2 + 8]),
                                  "4b8b446c08"),
    "rbp_base_with_index_disp8_zero": (lambda a: a.mov(rax, qword[rbp + r12]), "4a8b442500"),
    "sil_needs_empty_rex": (lambda a: a.mov(al, sil), "4088f0"),
    "dil_needs_empty_rex": (lambda a: a.mov(dil, bl), "4088df"),
    "ah_without_rex": (lambda a: a.mov(ah, bl), "88dc"),
    "imm32_all_ones_is_imm8_for_32_bit": (lambda a: a.add(eax, 0xFFFFFFFF), "83c0ff"),
    "mov_r64_negative_is_sign_extended_imm32": (lambda a: a.mov(rax, -1), "48c7c0ffffffff"),
    "mov_r64_small_is_mov_r32": (lambda a: a.mov(rax, 11), "b80b000000"),
    "mov_r64_big_is_movabs": (lambda a: a.mov(rax, 1 << 40), "48b80000000000010000"),
    "vex_reg_move_swaps_for_two_byte_vex": (lambda a: a.vmovaps(xmm0, xmm8), "c57829c0"),
    "rip_relative_number": (lambda a: a.movsd(xmm0, qword[rip + 0x10]), "f20f100510000000"),
    "xchg_with_accumulator_is_one_byte": (lambda a: a.xchg(rax, rcx), "4891"),
    "xchg_eax_eax_is_not_nop": (lambda a: a.xchg(eax, eax), "87c0"),
    "shift_by_one_has_its_own_opcode": (lambda a: a.shl(rax, 1), "48d1e0"),
    "shift_by_cl": (lambda a: a.shl(rax, registers.cl), "48d3e0"),
    "push_r12_rex_b": (lambda a: a.push(r12), "4154"),
    "imul_two_operands": (lambda a: a.imul(rax, rdi), "480fafc7"),
    "accumulator_short_form_for_imm32": (lambda a: a.add(eax, 500), "05f4010000"),
    "avx_three_operands_ymm": (lambda a: a.vaddpd(ymm0, ymm1, ymm2), "c5f558c2"),
    "setcc_byte": (lambda a: a.setcc("l", al), "0f9cc0"),
    "evex_zmm": (lambda a: a.vaddpd(registers.zmm0, registers.zmm1, registers.zmm2),
                 "62f1f54858c2"),
    "evex_disp8_times_n_compresses_64": (
        lambda a: a.vaddpd(registers.zmm0, registers.zmm1, registers.zmmword[rax + 64]),
        "62f1f548584001"),
    "evex_disp8_times_n_falls_back_to_disp32": (
        lambda a: a.vaddpd(registers.zmm0, registers.zmm1, registers.zmmword[rax + 8]),
        "62f1f548588008000000"),
    "evex_broadcast_scales_by_element": (
        lambda a: a.vaddpd(registers.zmm0, registers.zmm1, qword[rax + 16].broadcast),
        "62f1f558584002"),
    "evex_mask_and_zeroing": (
        lambda a: a.vaddpd(registers.zmm0(registers.k1).z, registers.zmm1, registers.zmm2),
        "62f1f5c958c2"),
    "evex_register_31_in_every_field": (
        lambda a: a.vaddpd(registers.zmm31, registers.zmm31, registers.zmm31),
        "6201854058ff"),
    "vex_when_no_evex_feature_is_needed": (lambda a: a.vaddpd(xmm0, xmm1, xmm8),
                                           "c4c17158c0"),
    "cmovcc_alias": (lambda a: a.cmovcc("nl", rax, rcx), "480f4dc1"),
}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_golden(name):
    build, expected = GOLDEN[name]
    assert hexof(build) == expected


def test_registers_are_interned():
    from minijit import x86

    assert x86.rax is registers.REGISTERS["rax"]
    assert x86.r8 is r8
    assert {x86.xmm31.num, x86.zmm31.kind, x86.k7.kind} == {31, "zmm", "k"}


def test_mul_by_n_program():
    a = Assembler()
    a.mov(rax, 11)
    a.imul(rax, rdi)
    a.ret()
    assert a.assemble() == bytes.fromhex("b80b000000480fafc7c3")


def test_short_branch_backward_and_forward():
    a = Assembler()
    top = a.label("top")
    end = a.label("end")
    a.bind(top)
    a.dec(ecx)
    a.je(end)
    a.jmp(top)
    a.bind(end)
    a.ret()
    # dec ecx; je +2; jmp -8; ret
    assert a.assemble().hex() == "ffc97402ebfac3"
    assert (a.offset(top), a.offset(end)) == (0, 6)


def test_branch_relaxes_to_rel32_when_out_of_reach():
    a = Assembler()
    end = a.label()
    a.jz(end)
    a.db(*([0x90] * 128))
    a.bind(end)
    code = a.assemble()
    assert code[:6] == bytes.fromhex("0f8480000000")


def test_branch_at_the_rel8_boundary_stays_short():
    a = Assembler()
    end = a.label()
    a.jmp(end)
    a.db(*([0x90] * 127))
    a.bind(end)
    assert a.assemble()[:2] == bytes.fromhex("eb7f")


def test_call_label_is_rel32():
    a = Assembler()
    f = a.label()
    a.call(f)
    a.bind(f)
    a.ret()
    assert a.assemble().hex() == "e800000000c3"


def test_rip_relative_constant_and_align():
    a = Assembler()
    c = a.label("c")
    a.movsd(xmm0, qword[rip + c])
    a.ret()
    a.align(16)
    a.bind(c)
    a.dq(1.5)
    code = a.assemble()
    assert a.offset(c) == 16
    assert code[:9].hex() == "f20f100508000000c3"
    assert code[9:16] == bytes.fromhex("0f1f8000000000")
    assert code[16:] == struct.pack("<d", 1.5)


def test_data_directives():
    a = Assembler()
    a.db(1, 0xFF, -1)
    a.dw(0x1234)
    a.dd(-2, 1.0)
    a.dq(1 << 63)
    assert a.assemble().hex() == "01ffff" "3412" "feffffff" "0000803f" "0000000000000080"


@pytest.mark.parametrize("build, message", [
    (lambda a: a.add(eax, rcx), "no form for (r32, r64) (operand sizes differ)"),
    (lambda a: a.mov(qword[rax], qword[rcx]), "at most one operand may be memory"),
    (lambda a: a.mov(ah, sil), "ah cannot be encoded"),
    (lambda a: a.mov(ah, registers.r8b), "ah cannot be encoded"),
    (lambda a: a.lea(rax, rcx), "no form for (r64, r64)"),
    (lambda a: a.add(rax, 1 << 31), "out of range"),
    (lambda a: a.shl(rax, bl), "operand 2 must be cl"),
    (lambda a: a.mov(rax, qword[rax + rcx * 3]), "scale must be 1, 2, 4 or 8"),
    (lambda a: a.mov(rax, qword[rax + rsp * 2]), "rsp cannot be an index"),
    (lambda a: a.push(eax), "no form for (r32)"),
    (lambda a: a.emit("frobnicate", rax), "unknown mnemonic 'frobnicate'"),
    (lambda a: a.jcc("xx", a.label()), "unknown condition 'xx'"),
    (lambda a: a.add(qword[rax], byte[rcx]), "at most one operand may be memory"),
    (lambda a: a.movsd(xmm0, dword[rax]), "no form for (xmm, m32)"),
    (lambda a: a.addsd(xmm0, registers.xmm16), "registers 16-31 need an AVX-512 (EVEX) form"),
    (lambda a: a.vaddpd(xmm0, xmm1, registers.xmm2(registers.k1)), "a write mask goes on the destination only"),
    (lambda a: a.vmovapd(registers.zmmword[rax](registers.k1).z, registers.zmm0),
     "zeroing {z} needs a register destination"),
    (lambda a: a.vaddpd(registers.zmm0(registers.k0), registers.zmm1, registers.zmm2),
     "a write mask must be k1-k7"),
    (lambda a: a.vaddpd(registers.zmm0, registers.zmm1, byte[rax].broadcast),
     "only dword and qword memory operands can be broadcast"),
    (lambda a: a.addpd(xmm0(registers.k1), xmm1), "a write mask needs an AVX-512 (EVEX) form"),
    (lambda a: a.mov(rax, 1.5), "not a register, memory operand, immediate or label"),
    (lambda a: a.add(5, rax), "no form for (imm, r64)"),
    (lambda a: a.add(rax, [1]), "[1] is not a register, memory operand, immediate or label"),
    (lambda a: a.vpshufd(xmm0, 3, xmm1), "no form for (xmm, imm, xmm)"),
])
def test_bad_input_raises_asmerror(build, message):
    a = Assembler()
    with pytest.raises(AsmError, match=None) as info:
        build(a)
    assert isinstance(info.value, ValueError)
    assert message in str(info.value)


def test_only_the_last_operand_of_a_form_is_an_immediate():
    """The builder's methods read an immediate's kind only in the last operand: an int
    anywhere else goes to the general path, which refuses it.  That is right only
    while no form has an immediate (or the fixed 1) before its last operand."""
    from minijit.x86.table import MNEMONICS, forms_of

    early = [(mnemonic, form.operands) for mnemonic in MNEMONICS for form in forms_of(mnemonic)
             for i, role in enumerate(form.roles[:-1])
             if role == "imm" or (role == "fixed" and form.operands[i] == "1")]
    assert early == []


def test_an_early_immediate_is_refused_after_the_kinds_are_known():
    """Once ``add rax, rcx`` and ``add rax, 5`` are known, ``add 5, rax`` and
    ``add rcx, 5, 5`` still raise (the fast path's dispatch does not read them as kinds)."""
    a = Assembler()
    a.add(rax, rcx)
    a.add(rax, 5)
    a.vpshufd(xmm0, xmm1, 3)
    for build in (lambda: a.add(5, rax), lambda: a.vpshufd(xmm0, 3, xmm1),
                  lambda: a.vpshufd(3, xmm0, xmm1)):
        with pytest.raises(AsmError, match="no form for"):
            build()


@pytest.mark.parametrize("value", [1.0, True])
def test_a_float_or_bool_immediate_is_refused_after_the_equal_int(value):
    """An int encodes; an equal float or bool does not, before or after it (bytes are
    not looked up by operands that compare equal)."""
    a = Assembler()
    a.add(rax, 1)
    with pytest.raises(AsmError, match="not a register, memory operand, immediate or label"):
        a.add(rax, value)
    assert a.assemble().hex() == "4883c001"


def test_a_kind_numbered_after_a_methods_lists_still_encodes():
    """A method's dispatch lists hold the operand kinds numbered when they were made;
    a kind numbered later (here m8, by the first byte operand of a fresh process) is
    past their end: the method takes the general path, files the kind and encodes it
    the next time through the fast path.  Bytes from GNU as."""
    program = (
        "from minijit.x86 import Assembler, byte, rax, rcx, cl\n"
        "from minijit.x86.registers import SEL_NUMBERS\n"
        "assert 'm8' not in SEL_NUMBERS\n"
        "a = Assembler()\n"
        "a.add(rax, rcx)\n"
        "a.add(byte[rax], cl)\n"
        "a.add(byte[rax], cl)\n"
        "print(a.assemble().hex())\n")
    out = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "4801c8" + "0008" * 2


def test_undefined_label():
    a = Assembler()
    a.jmp(a.label("nowhere"))
    with pytest.raises(AsmError, match="'nowhere' is used but never bound"):
        a.assemble()


def test_duplicate_label():
    a = Assembler()
    here = a.label("here")
    a.bind(here)
    with pytest.raises(AsmError, match="'here' is already bound"):
        a.bind(here)


def test_label_out_of_range_for_rel8_only_form():
    a = Assembler()
    end = a.label("end")
    a.loop(end)
    a.db(*([0] * 200))
    a.bind(end)
    with pytest.raises(AsmError, match=r"^loop end: label out of rel8 range \(\d+ bytes\) "
                                       "and loop has no rel32 form"):
        a.assemble()


@pytest.mark.parametrize("use", [
    lambda a, label: a.jmp(label),
    lambda a, label: a.jcc("ne", label),
    lambda a, label: a.call(label),
    lambda a, label: a.lea(rax, qword[rip + label]),
    lambda a, label: a.dq(label),
    lambda a, label: a.bind(label),
])
def test_a_label_of_another_assembler_is_refused(use):
    """A label belongs to the assembler that made it: a branch to it, a rip-relative
    reference, a dq of its address or binding it elsewhere is an error naming it."""
    other = Assembler().label("elsewhere")
    with pytest.raises(AsmError, match="label 'elsewhere' belongs to another assembler"):
        use(Assembler(), other)


def test_size_keyword_memory_kinds():
    assert qword[rax].kind == "m64"
    assert dword[rax + 4].kind == "m32"
    assert isinstance(Label("x"), Label)
    assert byte[rdi].size == 8 and ymm0.size == 256 and xmm1.kind == "xmm" and rip.kind == "rip"


def test_encode_fields_join_to_the_assembled_bytes():
    from minijit.x86.corpus import corpus
    from minijit.x86.encoder import encode_fields
    from minijit.x86.syntax import assemble, parse_operand

    lines = [line for line in corpus(avx512=True)[::5] if line.split()[0] not in PREFIXES]
    for line in lines:
        mnemonic, _, rest = line.partition(" ")
        ops = [parse_operand(p) for p in rest.split(",")] if rest else []
        form, fields = encode_fields(mnemonic, ops)
        assert b"".join(f[1] for f in fields) == assemble(line), line
        assert form.opcode[:-1] in b"".join(f[1] for f in fields), (line, form)
        assert [f[0] for f in fields if f[0] == "opcode"] == ["opcode"]


def test_fast_path_makes_the_general_encoders_bytes():
    """Every corpus instruction the fast path takes gives encoder.choose's bytes, and
    the fast path takes nearly all of them (it must not silently fall back)."""
    from minijit.x86.corpus import corpus
    from minijit.x86.encoder import canonical, choose
    from minijit.x86.fastpath import NOT_DIRECT, direct_entry
    from minijit.x86.syntax import parse_operand

    taken = 0
    lines = [line for line in corpus(avx512=True) if line.split()[0] not in PREFIXES]
    for line in lines:
        mnemonic, _, rest = line.partition(" ")
        ops = tuple(parse_operand(p) for p in rest.split(",")) if rest else ()
        name = canonical(mnemonic)
        key = tuple("imm" if type(op) is int else op.sel for op in ops)
        entry = direct_entry(name, key)
        if entry is NOT_DIRECT:
            continue
        code = entry(ops)
        if code is None:
            # the one kinds tuple the fast path declines by operand: the same register
            # twice in xchg (nop, or the ModRM form for eax)
            assert name == "xchg" and ops[0] is ops[1], line
            continue
        assert code == choose(name, ops)[2], line
        taken += 1
    assert taken > 0.9 * len(lines)


@pytest.mark.parametrize("ops, hexcode", [
    ((rax, rcx), "4801c8"),            # legacy register-register
    ((qword[r12 + 8], registers.r9), "4d014c2408"),  # a SIB forced by r12
    ((rax, qword[rbp]), "48034500"),   # rbp base without displacement: disp8 0
    ((sil, al), "4000c6"),             # sil needs a REX (40) though no bit is set
    ((byte[rax], ah), "0020"),         # ah without a REX
])
def test_fast_path_golden(ops, hexcode):
    a = Assembler()
    a.add(*ops)
    assert a.assemble().hex() == hexcode


def test_fast_path_refuses_ah_with_a_rex_and_says_why():
    """The fast path's byte-register rule sends the instruction to the general path,
    whose error names the problem (a REX forced by r8 here)."""
    with pytest.raises(AsmError, match="ah cannot be encoded in an instruction that needs a REX"):
        Assembler().add(byte[r8], ah)


def test_encode_fields_names_each_field():
    from minijit.x86.encoder import encode_fields

    form, fields = encode_fields("add", [rax, qword[rsp + 8]])
    assert form.encoding == "REX.W 03 /r"
    assert [(name, data.hex()) for name, data, _ in fields] == [
        ("rex", "48"), ("opcode", "03"), ("modrm", "44"), ("sib", "24"), ("disp", "08")]
    assert "W=1" in fields[0][2] and "scale=1 index=4 base=4" in fields[3][2]


@pytest.mark.parametrize("build, text", [
    (lambda: qword[rdi + rcx * 8 + 16], "qword ptr [rdi + rcx*8 + 16]"),
    (lambda: qword[16 + rdi + 8 * rcx], "qword ptr [rdi + rcx*8 + 16]"),
    (lambda: qword[rcx * 8 + rdi - 16], "qword ptr [rdi + rcx*8 - 16]"),
    (lambda: qword[rdi + rcx], "qword ptr [rdi + rcx*1]"),
    (lambda: dword[0x1000], "dword ptr [4096]"),
    (lambda: byte[rip + 8], "byte ptr [rip + 8]"),
])
def test_address_arithmetic(build, text):
    mem = build()
    assert repr(mem) == text
    assert mem == build() and hash(mem) == hash(build())


@pytest.mark.parametrize("build, message", [
    (lambda: rax + rcx + rdi, "cannot add"),
    (lambda: rax * 2 + rcx * 4, "two index registers"),
    (lambda: (rax + 8) * 2, "cannot scale"),
    (lambda: rax - rcx, "cannot subtract"),
    (lambda: qword["rax"], "not an address"),
])
def test_bad_address_arithmetic(build, message):
    with pytest.raises(AsmError, match=message):
        build()


def test_dq_of_a_label_uses_the_load_address():
    a = Assembler()
    here = a.label()
    a.bind(here)
    a.ret()
    a.align(8)
    a.dq(here)
    assert a.assemble(address=0x7F0000001000)[8:] == (0x7F0000001000).to_bytes(8, "little")


POOL = [rax, eax, ah, sil, r12, xmm0, registers.xmm17, registers.zmm30, registers.k1, rip, 0, -1,
        255, 1 << 40, 1 << 70, 1.5, "rax", None, (rax,), [rax], True, qword[rax], byte[rsp + 8],
        registers.zmmword[r13 + rcx * 8 - 64], qword[rax].broadcast,
        registers.zmm0(registers.k1).z, qword[rip + 8], dword[0x1000]]


@settings(max_examples=400, deadline=None)
@given(st.sampled_from(sorted(METHODS)), st.lists(st.sampled_from(POOL), max_size=4),
       st.booleans())
def test_any_builder_call_encodes_or_raises_asmerror(mnemonic, ops, bind):
    """Whatever a program passes, the builder answers with bytes or an AsmError."""
    a = Assembler()
    target = a.label("target")
    ops = [target if op is None else op for op in ops]
    try:
        METHODS[mnemonic](a, *ops)
        if bind:
            a.bind(target)
        a.assemble()
    except AsmError as error:
        assert str(error)


def test_prefixes():
    a = Assembler()
    a.rep.movsb()
    a.lock.add(qword[rax], 1)
    a.lock.cmpxchg(qword[rdi], rcx)
    a.repne.stosq()
    assert a.assemble().hex() == "f3a4" "f048830001" "f0480fb10f" "f248ab"


def test_operand_size_prefix_comes_before_rep_and_lock():
    """GNU as writes 66 first (66 F3 AB is rep stosw; 66 F0 ... lock add word)."""
    a = Assembler()
    a.rep.stosw()
    a.lock.add(registers.word[rax], 1)
    a.repe.cmpsw()
    assert a.assemble().hex() == "66f3ab" "66f0830001" "66f3a7"


def test_movabs_with_a_64_bit_absolute_address():
    """A0-A3: the accumulator and a full 64-bit address (GNU as's bytes)."""
    a = Assembler()
    a.movabs(al, registers.byte[0xFFFFFFFFFFFFFFF0])
    a.movabs(qword[0x1122334455667788], rax)
    a.movabs(rax, 5)
    assert a.assemble().hex() == "a0f0ffffffffffffff" "48a38877665544332211" \
        "48b80500000000000000"


@pytest.mark.parametrize("ops, message", [
    ((al, byte[rax]), r"movabs takes an absolute address \(\[number\]\), not \[rax\]"),
    ((rax, qword[1 << 64]), "address 0x10000000000000000 does not fit in 64 bits"),
    ((rcx, qword[0x1000]), "no form for"),
])
def test_movabs_address_errors(ops, message):
    with pytest.raises(AsmError, match=message):
        Assembler().movabs(*ops)


def test_rep_ret():
    """rep ret (F3 C3), as gcc once emitted for AMD's branch predictors."""
    a = Assembler()
    a.rep.ret()
    a.repz.ret()
    assert a.assemble().hex() == "f3c3" "f3c3"


@pytest.mark.parametrize("build, message", [
    (lambda a: a.lock.add(rax, 1), "lock needs one of"),
    (lambda a: a.lock.mov(qword[rax], 1), "lock needs one of"),
    (lambda a: a.rep.add(rax, 1), "rep needs a string instruction"),
    (lambda a: a.repne.ret(), "repne needs a string instruction .* rep/repe/repz, ret"),
    (lambda a: a.rep.ret(8), "rep needs a string instruction .* ret without operands"),
])
def test_bad_prefix(build, message):
    a = Assembler()
    with pytest.raises(AsmError, match=message):
        build(a)
    assert a.assemble() == b""
