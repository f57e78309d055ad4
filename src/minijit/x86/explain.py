"""``explain``: one instruction's bytes, field by field, in the Intel manual's terms.

The instruction is assembled (``minijit.x86.assemble``) and its bytes decoded
again by ``minijit.x86.decoder``, whose ``Layout`` says where the legacy
prefixes, REX or VEX, opcode, ModRM, SIB, displacement and immediate sit and
which table form matched.  Each part becomes a ``Field``: its bytes, its name,
the value of its bit fields and what they mean here.  ``NOTES`` is a table of
the special cases a reader of the manual trips over (why ``[r13]`` costs a zero
displacement, why ``[rsp]`` costs a SIB byte, why ``sil`` needs a REX prefix
that carries no bits...); each note is a predicate on the decoded instruction
and a sentence.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from typing import NamedTuple

from minijit.x86.decoder import (_GPR32, _GPR64, _HIGH8, ADDRESS_SIZE, FIXED, IMM, IS4, MOFFS,
                                 OPREG, REG, REL, RM, VVVV, Instruction, Layout, decode)
from minijit.x86.registers import REGISTERS

__all__ = ["Field", "Explanation", "explain", "explain_bytes"]


#: where explanation lines wrap
LINE_WIDTH = 88


class Field(NamedTuple):
    offset: int
    bytes: bytes
    name: str       # "REX", "ModRM", "disp8", ...
    value: str      # the bit fields: "mod=01 reg=000 rm=101"
    meaning: list   # one line per bit field worth a word


class Explanation(NamedTuple):
    instruction: Instruction
    fields: list
    notes: list

    def lines(self) -> list[str]:
        """The explanation as text: instruction, bytes, form, then one block per field."""
        ins = self.instruction
        form = ins.form
        out = [ins.text, ins.bytes.hex(" "), "",
               f"form: {form.signature()}  ({form.encoding})", ""]
        width = max(len(f.bytes.hex(" ")) for f in self.fields)
        indent = " " * (width + 15)
        for field in self.fields:
            out.append(f"  {field.bytes.hex(' '):<{width}}  {field.name:<8} {field.value}")
            for line in field.meaning:
                out.extend(textwrap.wrap(line, LINE_WIDTH, initial_indent=indent,
                                         break_on_hyphens=False,
                                         subsequent_indent=indent + "  "))
        for note in self.notes:
            out.extend(textwrap.wrap(f"note: {note}", LINE_WIDTH, subsequent_indent="      ",
                                     break_on_hyphens=False))
        return out


_SIZE_WORD = {8: "8-bit", 16: "16-bit", 32: "32-bit", 64: "64-bit"}
_PP = ("none", "66", "F3", "F2")
_MAPS = {1: "0F", 2: "0F 38", 3: "0F 3A"}
#: legacy prefix -> (field name, meaning) where it is not part of the opcode
_PREFIXES = {
    0xF0: ("lock", "lock: the read-modify-write of the memory operand is atomic"),
    0xF3: ("rep", "rep: repeat the string instruction rcx times (repz for cmps/scas: "
                  "while equal)"),
    0xF2: ("repnz", "repnz: repeat the string instruction rcx times while not equal"),
    0x2E: ("segment", "cs segment override: ignored in 64-bit mode (it pads nops)"),
    0x3E: ("segment", "ds segment override: ignored in 64-bit mode; before an indirect "
                      "jmp/call it is CET's notrack"),
    0x64: ("segment", "segment override fs: the address is relative to the fs base "
                      "(thread-local storage on Linux)"),
    0x65: ("segment", "segment override gs: the address is relative to the gs base"),
    0x67: ("addr32", "address-size override: a 32-bit address, from 32-bit registers"),
}


def _bits(value: int, width: int) -> str:
    return format(value, f"0{width}b")


def _operand_of(ins: Instruction, role: int) -> str | None:
    for op, text in zip(ins.pattern.operands, ins.operands):
        if op.role == role:
            return text
    return None


def _prefix_fields(ins: Instruction, parts: Layout) -> list[Field]:
    form = ins.form
    fields = []
    for offset in range(parts.prefixes_end):
        byte = ins.bytes[offset]
        if byte == 0x66 and form.size == 16:
            name, meaning = "prefix", "operand-size override: 16-bit operands, not 32-bit"
        elif byte in form.prefix:
            name, meaning = "prefix", (f"mandatory prefix: part of the opcode of "
                                       f"{form.mnemonic}, not a modifier (the manual "
                                       "writes it first in the opcode column)")
        else:
            name, meaning = _PREFIXES[byte]
        fields.append(Field(offset, bytes((byte,)), name, f"{byte:02X}", [meaning]))
    return fields


def _rex_meaning(ins: Instruction, w: int, r: int, x: int, b: int) -> list[str]:
    form = ins.form
    meaning = []
    if w:
        meaning.append("W=1: 64-bit operand size" if form.vex is None and form.evex is None
                       else "W=1: selects this form (W1 in the table)")
    elif form.size == 64 and form.vex is None and form.evex is None:
        meaning.append("W=0: this instruction is 64-bit by default (no REX.W needed)")
    if r:
        meaning.append(f"R=1: ModRM.reg + 8 -> {_operand_of(ins, REG)}")
    if x:
        meaning.append("X=1: SIB.index + 8")
    if b:
        role = OPREG if _operand_of(ins, OPREG) else RM
        where = "the opcode's register" if role == OPREG else (
            "ModRM.rm / SIB.base")
        meaning.append(f"B=1: {where} + 8")
    return meaning


def _rex_field(ins: Instruction, parts: Layout) -> list[Field]:
    if parts.rex < 0:
        return []
    rex = ins.bytes[parts.rex]
    w, r, x, b = rex >> 3 & 1, rex >> 2 & 1, rex >> 1 & 1, rex & 1
    meaning = _rex_meaning(ins, w, r, x, b)
    if rex == 0x40:
        meaning.append("no bits set: present only so that byte registers 4-7 mean "
                       "spl, bpl, sil, dil rather than ah, ch, dh, bh")
    return [Field(parts.rex, bytes((rex,)), "REX",
                  f"0100 W={w} R={r} X={x} B={b}", meaning)]


def _vex_field(ins: Instruction, parts: Layout) -> list[Field]:
    if parts.vex < 0:
        return []
    code = ins.bytes[parts.vex:parts.opcode]
    if code[0] == 0x62:
        return [_evex_field(ins, parts, code)]
    if code[0] == 0xC5:
        r, x, b, space, w, last = ~code[1] >> 7 & 1, 0, 0, 1, 0, code[1]
        value = (f"C5 (2-byte VEX): R={r} vvvv={_bits(~last >> 3 & 15, 4)} "
                 f"L={last >> 2 & 1} pp={_bits(last & 3, 2)}")
        meaning = ["2-byte form: possible because X=B=0, W=0 and the map is 0F"]
    else:
        r, x, b = ~code[1] >> 7 & 1, ~code[1] >> 6 & 1, ~code[1] >> 5 & 1
        space, w, last = code[1] & 31, code[2] >> 7, code[2]
        value = (f"C4 (3-byte VEX): R={r} X={x} B={b} map={_bits(space, 5)} W={w} "
                 f"vvvv={_bits(~last >> 3 & 15, 4)} L={last >> 2 & 1} pp={_bits(last & 3, 2)}")
        meaning = [f"map {space}: opcode map {_MAPS.get(space, '?')}"]
    vvvv = ~last >> 3 & 15
    source = _operand_of(ins, VVVV)
    meaning.append("R, X, B and vvvv are stored inverted (ones' complement)")
    meaning.append(f"vvvv={vvvv}: {source}" if source else "vvvv=1111b: unused")
    meaning.append(f"L={last >> 2 & 1}: {'256' if last >> 2 & 1 else '128'}-bit vectors"
                   + (" (ignored by this form)" if ins.pattern.vex_l is None else ""))
    meaning.append(f"pp={_bits(last & 3, 2)}: implied prefix {_PP[last & 3]}")
    meaning.extend(_rex_meaning(ins, w, r, x, b))
    return [Field(parts.vex, bytes(code), "VEX", value, meaning)]


def _evex_field(ins: Instruction, parts: Layout, code: bytes) -> Field:
    p0, p1, p2 = code[1], code[2], code[3]
    r, x, b, r2 = ~p0 >> 7 & 1, ~p0 >> 6 & 1, ~p0 >> 5 & 1, ~p0 >> 4 & 1
    w, vvvv, pp = p1 >> 7, (~p1 >> 3 & 15) | (~p2 >> 3 & 1) << 4, p1 & 3
    z, length, broadcast, mask = p2 >> 7, p2 >> 5 & 3, p2 >> 4 & 1, p2 & 7
    value = (f"62 (EVEX): R={r} X={x} B={b} R'={r2} mm={_bits(p0 & 3, 2)} W={w} "
             f"vvvv={_bits(vvvv & 15, 4)} pp={_bits(pp, 2)} z={z} L'L={_bits(length, 2)} "
             f"b={broadcast} V'={vvvv >> 4} aaa={_bits(mask, 3)}")
    source = _operand_of(ins, VVVV)
    meaning = [f"mm={p0 & 3}: opcode map {_MAPS[p0 & 3]}",
               "R, X, B, R', vvvv and V' are stored inverted; R' and V' (and X for a "
               "register in rm) make register numbers 16-31",
               f"V'vvvv={vvvv}: {source}" if source else "vvvv=1111b, V'=1: unused",
               f"L'L={_bits(length, 2)}: {128 << length}-bit vectors"
               + (" (ignored by this form)" if ins.pattern.vex_l is None else ""),
               f"pp={_bits(pp, 2)}: implied prefix {_PP[pp]}"]
    if mask:
        meaning.append(f"aaa={mask}: write mask k{mask}, lanes whose mask bit is 0 are "
                       + ("zeroed (z=1)" if z else "left unchanged (merging, z=0)"))
    if broadcast:
        meaning.append("b=1: the memory operand is one element broadcast to every lane; "
                       "a disp8 is scaled by the element size")
    elif parts.disp_size == 1:
        meaning.append(f"disp8*N: the disp8 is scaled by {ins.pattern.mem_bytes}, "
                       "the memory operand's size")
    meaning.extend(_rex_meaning(ins, w, r, x, b))
    if r2:
        meaning.append("R'=1: ModRM.reg + 16")
    return Field(parts.vex, bytes(code), "EVEX", value, meaning)


def _opcode_field(ins: Instruction, parts: Layout) -> Field:
    form = ins.form
    end = next(i for i in (parts.modrm, parts.imm, len(ins.bytes)) if i >= 0)
    code = ins.bytes[parts.opcode:end]
    meaning = [f"{form.mnemonic}: the form {form.signature()!r}"]
    if form.plus_r:
        meaning.append(f"+r: register {_operand_of(ins, OPREG)} is in the low three bits "
                       f"({_bits(code[-1] & 7, 3)})")
    if form.digit is not None:
        meaning.append(f"/{form.digit}: ModRM.reg holds {form.digit}, which picks "
                       f"{form.mnemonic} among the instructions sharing this opcode")
    escape = code[:-1] if parts.vex < 0 else b""
    if escape:
        meaning.append(f"{escape.hex(' ').upper()}: escape to the {_MAPS[len(escape)]} "
                       "opcode map")
    return Field(parts.opcode, bytes(code), "opcode", code.hex(" ").upper(), meaning)


def _modrm_field(ins: Instruction, parts: Layout) -> list[Field]:
    if parts.modrm < 0:
        return []
    modrm = ins.bytes[parts.modrm]
    mod, reg, rm = modrm >> 6, modrm >> 3 & 7, modrm & 7
    value = f"mod={_bits(mod, 2)} reg={_bits(reg, 3)} rm={_bits(rm, 3)}"
    if ins.pattern.fixed_modrm >= 0:
        return [Field(parts.modrm, bytes((modrm,)), "opcode", value,
                      ["a fixed third opcode byte, laid out like a ModRM byte"])]
    mod_meaning = {0: "memory operand, no displacement", 1: "memory operand + disp8",
                   2: "memory operand + disp32", 3: "rm is a register"}[mod]
    if mod == 0 and rm == 5:
        mod_meaning = "with rm=101: rip-relative, [rip + disp32]"
    meaning = [f"mod={_bits(mod, 2)}: {mod_meaning}"]
    if ins.form.digit is not None:
        meaning.append(f"reg={_bits(reg, 3)}: opcode extension /{reg}")
    else:
        meaning.append(f"reg={_bits(reg, 3)}: {_operand_of(ins, REG)}")
    if mod != 3 and rm == 4:
        meaning.append("rm=100: a SIB byte follows")
    elif mod == 0 and rm == 5:
        meaning.append("rm=101: no base register, rip-relative")
    elif mod != 3:
        meaning.append(f"rm={_bits(rm, 3)}: base {_base(ins, rm)}")
    else:
        meaning.append(f"rm={_bits(rm, 3)}: {_operand_of(ins, RM)}")
    return [Field(parts.modrm, bytes((modrm,)), "ModRM", value, meaning)]


def _rex_b(ins: Instruction, parts: Layout) -> int:
    if parts.rex >= 0:
        return ins.bytes[parts.rex] & 1
    if parts.vex >= 0 and ins.bytes[parts.vex] == 0xC4:
        return ~ins.bytes[parts.vex + 1] >> 5 & 1
    return 0


def _rex_x(ins: Instruction, parts: Layout) -> int:
    if parts.rex >= 0:
        return ins.bytes[parts.rex] >> 1 & 1
    if parts.vex >= 0 and ins.bytes[parts.vex] == 0xC4:
        return ~ins.bytes[parts.vex + 1] >> 6 & 1
    return 0


def _addr32(ins: Instruction) -> bool:
    """Whether the address-size prefix 67 makes the memory operand's address 32-bit."""
    return ADDRESS_SIZE in ins.bytes[:ins.parts.prefixes_end]


def _address_registers(ins: Instruction) -> tuple[str, ...]:
    """Register names by number for the base and index: 32-bit ones after 67."""
    return _GPR32 if _addr32(ins) else _GPR64


def _base_num(ins: Instruction, low: int) -> int:
    return low | _rex_b(ins, ins.parts) << 3


def _base(ins: Instruction, low: int) -> str:
    return _address_registers(ins)[_base_num(ins, low)]


def _sib_field(ins: Instruction, parts: Layout) -> list[Field]:
    if parts.sib < 0:
        return []
    sib = ins.bytes[parts.sib]
    scale, index, base = sib >> 6, sib >> 3 & 7, sib & 7
    mod = ins.bytes[parts.modrm] >> 6
    index_num = index | _rex_x(ins, parts) << 3
    meaning = [f"scale={_bits(scale, 2)}: index * {1 << scale}"]
    meaning.append("index=100: no index register" if index_num == 4
                   else f"index={_bits(index, 3)}: {_address_registers(ins)[index_num]}")
    meaning.append("base=101 with mod=00: no base register, disp32" if base == 5 and mod == 0
                   else f"base={_bits(base, 3)}: {_base(ins, base)}")
    return [Field(parts.sib, bytes((sib,)), "SIB",
                  f"scale={_bits(scale, 2)} index={_bits(index, 3)} base={_bits(base, 3)}",
                  meaning)]


def _disp_field(ins: Instruction, parts: Layout) -> list[Field]:
    if parts.disp < 0:
        return []
    code = ins.bytes[parts.disp:parts.disp + parts.disp_size]
    value = int.from_bytes(code, "little", signed=True)
    meaning = ["signed, added to the address" if parts.disp_size == 4
               else "signed byte, sign-extended and added to the address"]
    if parts.disp_size == 1 and ins.pattern.evex:
        scale = ins.pattern.bcst_bytes if "{1to" in ins.text else ins.pattern.mem_bytes
        meaning = [f"compressed disp8*N: {value} * {scale} = {value * scale:#x}"]
    if ins.rip:
        meaning = [f"relative to the next instruction: {ins.address + len(ins.bytes):#x} "
                   f"{'+' if value >= 0 else '-'} {abs(value):#x} = {ins.target:#x}"]
    return [Field(parts.disp, bytes(code), f"disp{8 * parts.disp_size}",
                  f"{value:#x}" if value >= 0 else f"-{-value:#x}", meaning)]


def _immediate_fields(ins: Instruction, parts: Layout) -> list[Field]:
    if parts.imm < 0:
        return []
    fields = []
    offset = parts.imm
    form = ins.form
    for op, text in zip(ins.pattern.operands, ins.operands):
        if op.role not in (IMM, REL, IS4, MOFFS):
            continue
        size = op.size or 1
        code = ins.bytes[offset:offset + size]
        if op.role == REL:
            value = int.from_bytes(code, "little", signed=True)
            name = f"rel{8 * size}"
            meaning = [f"branch displacement from the next instruction "
                       f"({ins.address + len(ins.bytes):#x}) to {text}"]
        elif op.role == IS4:
            name = "is4"
            value = code[0]
            meaning = [f"register {text} in bits 7:4 (the fourth operand)"]
        elif op.role == MOFFS:
            name = "moffs64"
            value = int.from_bytes(code, "little")
            meaning = ["the absolute address of the memory operand (no ModRM)"]
        else:
            value = int.from_bytes(code, "little", signed=op.signed)
            name = f"imm{8 * size}"
            meaning = [f"sign-extended to {_SIZE_WORD.get(form.size, '')} before use"
                       if op.signed else "taken as is"]
        fields.append(Field(offset, bytes(code), name,
                            f"{value:#x}" if value >= 0 else f"-{-value:#x}", meaning))
        offset += size
    return fields


# --- notes: special cases worth a sentence ---------------------------------------------

def _memory_base(ins: Instruction) -> int | None:
    """The number of the memory operand's base register (None: no base, or no memory)."""
    parts = ins.parts
    if parts.modrm < 0 or ins.bytes[parts.modrm] >> 6 == 3 or ins.pattern.fixed_modrm >= 0:
        return None
    modrm = ins.bytes[parts.modrm]
    if parts.sib >= 0:
        base = ins.bytes[parts.sib] & 7
        return None if base == 5 and modrm >> 6 == 0 else _base_num(ins, base)
    return None if modrm & 0xC7 == 5 else _base_num(ins, modrm & 7)


#: base register numbers: rbp/r13 (ebp/r13d), whose low three bits 101 mean "no base" or
#: rip with mod=00, and rsp/r12 (esp/r12d), whose 100 means "a SIB byte follows"
_RBP_R13 = frozenset((5, 13))
_RSP_R12 = frozenset((4, 12))


def _zero_disp_base(ins: Instruction) -> bool:
    parts = ins.parts
    return (_memory_base(ins) in _RBP_R13 and parts.disp_size == 1
            and ins.bytes[parts.disp] == 0)


def _sib_for_base(ins: Instruction) -> bool:
    return _memory_base(ins) in _RSP_R12 and ins.bytes[ins.parts.sib] >> 3 & 7 == 4 \
        and not _rex_x(ins, ins.parts)


def _writes(sizes: tuple[str, ...]) -> Callable[[Instruction], bool]:
    """Whether the instruction writes a general register of one of these kinds."""
    names = frozenset(name for kind in sizes for name in _GP_NAMES[kind])

    def writes(ins: Instruction) -> bool:
        first = ins.pattern.operands[:1]
        return bool(first) and ins.operands[0] in names \
            and first[0].role in (REG, RM, OPREG, FIXED) and ins.mnemonic not in _READ_ONLY

    return writes


_GP_NAMES = {kind: {r.name for r in REGISTERS.values() if r.kind == kind}
             for kind in ("r8", "r16", "r32")}
#: instructions whose first operand is only read
_READ_ONLY = frozenset(("cmp", "test", "bt", "push", "ucomiss", "ucomisd", "comiss",
                        "comisd", "ptest"))

#: (predicate, note): every note whose predicate holds is printed
NOTES: list[tuple[Callable[[Instruction], bool], str]] = [
    (_zero_disp_base,
     "[rbp] and [r13] need a zero disp8: with mod=00, rm=101 means rip-relative "
     "(and SIB base=101 means no base), so the base is reached with mod=01 and +0"),
    (_sib_for_base,
     "[rsp] and [r12] need a SIB byte: rm=100 means 'a SIB byte follows', so the base "
     "goes in SIB.base, with index=100 meaning no index"),
    (_addr32,
     "67 makes the address 32-bit: base and index are 32-bit registers, the sum wraps at "
     "2**32 and is zero-extended to 64 bits; ModRM and SIB work as for 64-bit addresses"),
    (lambda ins: ins.rip,
     "rip-relative: the displacement counts from the end of this instruction, so the "
     "code can be loaded at any address"),
    (lambda ins: ins.parts.rex >= 0 and ins.bytes[ins.parts.rex] == 0x40,
     "REX 40 carries no bits: it changes byte registers 4-7 from ah, ch, dh, bh to "
     "spl, bpl, sil, dil"),
    (lambda ins: any(op.signed for op in ins.pattern.operands) and ins.form.imm_size == 1,
     "the short imm8 form was chosen because the value fits in -128..127; the CPU "
     "sign-extends it"),
    (lambda ins: ins.mnemonic == "movabs" and ins.form.moffs_i < 0,
     "movabs: the only form with a full 64-bit immediate (REX.W B8+r io)"),
    (lambda ins: ins.mnemonic == "movabs" and ins.form.moffs_i >= 0,
     "movabs A0-A3: the accumulator loaded from or stored to a full 64-bit address"),
    (_writes(("r32",)),
     "writing a 32-bit register zeroes bits 63:32 of the 64-bit register"),
    (_writes(("r8", "r16")),
     "writing an 8- or 16-bit register leaves the other bits of the 64-bit register "
     "as they were"),
    (lambda ins: ins.parts.rex < 0 and any(op in _HIGH8[4:] for op in ins.operands),
     "ah, ch, dh, bh exist only without a REX prefix: with any REX, byte registers 4-7 "
     "are spl, bpl, sil, dil"),
    (lambda ins: ins.mnemonic == "lea",
     "lea computes the address and stores it: it reads no memory and sets no flags"),
    (lambda ins: ins.mnemonic == "xchg" and any("[" in op for op in ins.operands),
     "xchg with a memory operand is atomic without a lock prefix"),
    (lambda ins: ins.bytes == b"\x90",
     "90 is also the encoding of xchg eax, eax, which is why that instruction is "
     "written 87 c0 (a real xchg zeroes the top of rax, nop does not)"),
    (lambda ins: "MVR" in ins.form.encoding.split(),
     "register-to-register form with the operands in ModRM.rm, vvvv, ModRM.reg order "
     "(opcode 11): it lets the assembler use the 2-byte VEX prefix"),
]


def explain_bytes(code: bytes, address: int = 0) -> Explanation:
    """The first instruction of ``code``, explained; ``ValueError`` if it is not one."""
    ins = decode(code, 0, address)
    if ins.pattern is None:
        raise ValueError(f"{bytes(code[:15]).hex(' ')} does not start with an instruction "
                         "minijit's table knows")
    parts = ins.parts
    fields = [*_prefix_fields(ins, parts), *_rex_field(ins, parts), *_vex_field(ins, parts),
              _opcode_field(ins, parts), *_modrm_field(ins, parts), *_sib_field(ins, parts),
              *_disp_field(ins, parts), *_immediate_fields(ins, parts)]
    notes = [note for applies, note in NOTES if applies(ins)]
    return Explanation(ins, fields, notes)


def explain(text: str) -> Explanation:
    """One instruction in Intel syntax, assembled and explained field by field.

    Raises ``AsmError`` when the text is not an instruction the assembler knows
    (or is more than one instruction).
    """
    from minijit.x86.errors import AsmError
    from minijit.x86.syntax import assemble

    code = assemble(text)
    if not code:
        raise AsmError(f"nothing to explain in {text!r}: no instruction")
    try:
        explanation = explain_bytes(code)
    except ValueError as error:  # assembled, not read back (decoder.NO_ADDRESS_SIZE)
        raise AsmError(f"{text!r} assembles to {code.hex(' ')}, which the disassembler "
                       f"does not read back: {error}") from None
    if len(explanation.instruction.bytes) != len(code):
        raise AsmError(f"{text!r} is more than one instruction; explain takes one")
    return explanation
