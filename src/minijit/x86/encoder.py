"""The encoder: operands in, the table's form out, then its bytes.

Selecting a form is one dict lookup: ``INDEX[mnemonic][kinds]``, where ``kinds`` is
the tuple of operand kinds (``("r64", "imm")``).  The entry is the short list of
candidate forms in table order (``add r/m64, imm8`` before ``add RAX, imm32`` before
``add r/m64, imm32``); the first one whose fixed registers and immediate range
accept the operands wins.  Nothing is searched beyond that list.

Encoding a form follows the manual's byte order::

    [legacy prefixes] [REX | VEX] opcode [ModRM [SIB] [disp]] [imm]

``encode_fields`` gives the same bytes split into named fields with their meaning,
for ``minijit explain``; ``encode`` (the hot path) only concatenates them.
"""

from __future__ import annotations

from itertools import product
from typing import Sequence

from minijit.x86.errors import AsmError
from minijit.x86.registers import MEM_KINDS, REGISTERS, Label, Mem, Reg
from minijit.x86.table import CONDITION_ALIASES, CONDITIONS, MEM_SIZED, Form, forms

__all__ = ["INDEX", "select", "encode", "encode_fields", "describe_kinds", "canonical"]

AMBIGUOUS = "ambiguous"
# Unsized memory operands these take default to this size (as in GNU as): the stack
# and indirect branches work on 64-bit words.
DEFAULT_MEMORY_SIZE = {"push": 64, "pop": 64, "call": 64, "jmp": 64}
SCALE_BITS = {1: 0, 2: 1, 4: 2, 8: 3}
MNEMONIC_ALIASES: dict[str, str] = {}
for _alias, _cond in CONDITION_ALIASES.items():
    for _stem in ("j", "set", "cmov"):
        MNEMONIC_ALIASES[_stem + _alias] = _stem + _cond


def canonical(mnemonic: str) -> str:
    """The table's name for ``mnemonic`` (``jz`` -> ``je``, ``cmovnae`` -> ``cmovb``)."""
    return MNEMONIC_ALIASES.get(mnemonic, mnemonic)


def _needs_check(form: Form) -> bool:
    return form.imm_i >= 0 or any(f is not None for f in form.fixed) or (
        form.plus_r and form.fixed != (None,) and form.fixed != ())


def _build_index() -> dict[str, dict[tuple, object]]:
    index: dict[str, dict[tuple, list]] = {}
    for form in forms():
        choices = []
        for kinds in form.kinds:
            expanded = []
            for kind in kinds:
                if kind == "m":
                    expanded += list(MEM_SIZED) + ["m"]
                elif kind in MEM_SIZED:
                    expanded += [kind, "m"]
                else:
                    expanded.append(kind)
            choices.append(expanded)
        table = index.setdefault(form.mnemonic, {})
        for key in product(*choices):
            table.setdefault(key, []).append((form, _needs_check(form)))
    frozen: dict[str, dict[tuple, object]] = {}
    for mnemonic, table in index.items():
        out: dict[tuple, object] = {}
        for key, cands in table.items():
            if "m" in key and len({f.mem_size for f, _ in cands}) > 1:
                size = DEFAULT_MEMORY_SIZE.get(mnemonic)
                cands = [c for c in cands if c[0].mem_size == size]
                out[key] = tuple(cands) if cands else AMBIGUOUS
            else:
                out[key] = tuple(cands)
        frozen[mnemonic] = out
    return frozen


INDEX: dict[str, dict[tuple, object]] = _build_index()


def kind_of(op: object) -> str:
    """The operand kind of a builder operand (``rax`` -> ``"r64"``, ``5`` -> ``"imm"``)."""
    if type(op) is int:
        return "imm"
    if isinstance(op, (Reg, Mem)):
        return op.kind
    if isinstance(op, Label):
        return "rel"
    raise AsmError(f"{op!r} is not a register, memory operand, immediate or label")


def describe_kinds(kinds: Sequence[str]) -> str:
    return "(" + ", ".join(kinds) + ")"


def _accepts(form: Form, ops: Sequence[object]) -> str | None:
    """None if ``form`` can encode ``ops``, else why not."""
    for i, fixed in enumerate(form.fixed):
        if fixed is None:
            continue
        if fixed == "1":
            if ops[i] != 1:
                return f"operand {i + 1} must be 1"
        elif ops[i] is not REGISTERS[fixed]:
            return f"operand {i + 1} must be {fixed}"
    if form.imm_i >= 0 and not form.is4:
        value = ops[form.imm_i]
        if form.sext:
            size = form.size
            if not -(1 << (size - 1)) <= value < (1 << size):
                return f"immediate {value:#x} does not fit in {size} bits"
            if value >= 1 << (size - 1):
                value -= 1 << size
        if not form.imm_lo <= value <= form.imm_hi:
            return (f"immediate {value:#x} out of range {form.imm_lo}..{form.imm_hi}"
                    f" for {form.signature()}")
    if form.plus_r and form.opcode == b"\x90" and form.size == 32 and ops[0] is ops[1]:
        # 90 is nop in 64-bit mode: xchg eax, eax must clear rax's top half.
        return "xchg eax, eax needs the ModRM form"
    return None


def select(mnemonic: str, ops: Sequence[object], table: dict | None = None) -> Form:
    """The table form that encodes ``mnemonic ops``, or AsmError saying why none does.

    ``table`` is ``INDEX[canonical(mnemonic)]`` when the caller has it at hand.
    """
    if table is None:
        table = INDEX.get(canonical(mnemonic))
        if table is None:
            raise AsmError(f"unknown mnemonic {mnemonic!r}")
    try:
        kinds = tuple([op.kind if type(op) is not int else "imm" for op in ops])
    except AttributeError:
        kinds = tuple(kind_of(op) for op in ops)
    cands = table.get(kinds)
    if cands is None:
        raise AsmError(_no_form_message(mnemonic, kinds))
    if cands is AMBIGUOUS:
        raise AsmError(f"ambiguous operand size for {describe_kinds(kinds)};"
                       " give the memory operand a size (byte/word/dword/qword ptr ...)")
    reason = None
    for form, check in cands:
        if not check:
            return form
        why = _accepts(form, ops)
        if why is None:
            return form
        reason = why
    raise AsmError(f"no form for {describe_kinds(kinds)}: {reason}")


def _no_form_message(mnemonic: str, kinds: tuple) -> str:
    name = canonical(mnemonic)
    signatures = list(dict.fromkeys(f.signature() for f in forms() if f.mnemonic == name))
    hint = ""
    mems = sum(k[0] == "m" for k in kinds)
    sizes = {k for k in kinds if k in ("r8", "r16", "r32", "r64")}
    if mems > 1:
        hint = " (at most one operand may be memory)"
    elif kinds and kinds[-1] in ("r16", "r32", "r64", "r8") and any(
            f.mnemonic == name and "CL" in f.operands for f in forms()):
        hint = " (a count in a register must be cl)"
    elif len(sizes) > 1:
        hint = " (operand sizes differ)"
    shown = "; ".join(signatures[:24]) + ("; ..." if len(signatures) > 24 else "")
    return f"no form for {describe_kinds(kinds)}{hint}; forms: {shown}"


# --- the byte fields ---------------------------------------------------------------------

def _address(reg3: int, m: Mem) -> tuple[int, int, bytes, int, int]:
    """ModRM, SIB (-1 if none), displacement bytes, REX.X and REX.B for memory ``m``.

    ModRM = mod(2) reg(3) rm(3);  SIB = scale(2) index(3) base(3).
    """
    base, index, disp = m.base, m.index, m.disp
    if not -(1 << 31) <= disp < (1 << 31):
        raise AsmError(f"displacement {disp:#x} does not fit in 32 bits")
    if index is not None:
        if index.kind != "r64":
            raise AsmError(f"index register {index.name} must be a 64-bit register")
        if index.num == 4:
            raise AsmError("rsp cannot be an index register (SIB index 100 means none)")
        scale = SCALE_BITS.get(m.scale)
        if scale is None:
            raise AsmError(f"scale must be 1, 2, 4 or 8, not {m.scale}")
    if base is None:
        # No base: mod=00 rm=100 with SIB base=101 means [index*scale + disp32]
        # (mod=00 rm=101 alone would be rip-relative).
        sib = (scale << 6 | index.code << 3 | 5) if index is not None else 0x25
        x = index.rex if index is not None else 0
        return reg3 << 3 | 4, sib, (disp & 0xFFFFFFFF).to_bytes(4, "little"), x, 0
    if base.kind == "rip":
        if index is not None:
            raise AsmError("rip-relative addresses cannot have an index register")
        return reg3 << 3 | 5, -1, (disp & 0xFFFFFFFF).to_bytes(4, "little"), 0, 0
    if base.kind != "r64":
        raise AsmError(f"base register {base.name} must be a 64-bit register or rip")
    code = base.code
    # rbp/r13 as base (low bits 101) with mod=00 would mean rip/no-base: use disp8 0.
    if disp == 0 and code != 5:
        mod, dbytes = 0, b""
    elif -128 <= disp <= 127:
        mod, dbytes = 0x40, (disp & 0xFF).to_bytes(1, "little")
    else:
        mod, dbytes = 0x80, (disp & 0xFFFFFFFF).to_bytes(4, "little")
    if index is not None:
        return mod | reg3 << 3 | 4, scale << 6 | index.code << 3 | code, dbytes, index.rex, \
            base.rex
    if code == 4:
        # rsp/r12 as base (low bits 100) means "SIB follows": SIB with no index.
        return mod | reg3 << 3 | 4, 0x24, dbytes, 0, base.rex
    return mod | reg3 << 3 | code, -1, dbytes, 0, base.rex


def _check_byte_regs(form: Form, ops: Sequence[object], rex: int) -> int:
    """REX after the 8-bit register rules: spl/bpl/sil/dil force REX, ah..bh forbid it."""
    force = high = None
    for i in form.byte_regs:
        op = ops[i]
        if type(op) is Reg:
            if op.needs_rex:
                force = op
            elif op.high8:
                high = op
    if force is not None:
        rex |= 0x40
    if high is not None and rex:
        raise AsmError(f"{high.name} cannot be encoded in an instruction that needs a REX "
                       "prefix (a 64-bit operand, r8-r15 or spl/bpl/sil/dil)")
    return rex


def _vector_reg(op: Reg, form: Form) -> None:
    if op.num > 15 and form.evex is None:
        raise AsmError(f"{op.name} needs an EVEX (AVX-512) form; {form.signature()} is not one")


def _components(form: Form, ops: Sequence[object]) -> tuple:
    """(prefix, rex, vex, opcode, modrm, sib, disp, imm) of ``form`` on ``ops``.

    ``rex`` is the REX byte or 0; ``vex`` the VEX bytes or b""; ``modrm``/``sib`` are
    -1 when absent.
    """
    reg3 = form.digit or 0
    r = x = b = 0
    rm_op = ops[form.rm_i] if form.rm_i >= 0 else None
    if form.reg_i >= 0:
        reg = ops[form.reg_i]
        if reg.num > 15:
            _vector_reg(reg, form)
        reg3, r = reg.code, reg.rex
    modrm = sib = -1
    disp = b""
    opcode = form.opcode
    if form.modrm:
        if type(rm_op) is Reg:
            if rm_op.num > 15:
                _vector_reg(rm_op, form)
            modrm, b = 0xC0 | reg3 << 3 | rm_op.code, rm_op.rex
        else:
            modrm, sib, disp, x, b = _address(reg3, rm_op)
    elif form.plus_r:
        b = rm_op.rex
        opcode = opcode[:-1] + bytes((opcode[-1] + rm_op.code,))
    vex = b""
    rex = 0
    if form.vex is not None:
        length, pp, opmap, w = form.vex
        v = 0
        if form.v_i >= 0:
            v = ops[form.v_i].num
            if v > 15:
                _vector_reg(ops[form.v_i], form)
        tail = (~v & 15) << 3 | length << 2 | pp
        if not (x or b or w) and opmap == 1:
            # C5 | R' vvvv' L pp           (R and vvvv stored inverted)
            vex = bytes((0xC5, (r ^ 1) << 7 | tail))
        else:
            # C4 | R' X' B' mmmmm | W vvvv' L pp
            vex = bytes((0xC4, (r ^ 1) << 7 | (x ^ 1) << 6 | (b ^ 1) << 5 | opmap,
                         w << 7 | tail))
    else:
        # REX = 0100 W R X B
        bits = form.rex_w << 3 | r << 2 | x << 1 | b
        rex = 0x40 | bits if bits else 0
        if form.byte_regs:
            rex = _check_byte_regs(form, ops, rex)
    imm = b""
    if form.imm_size:
        if form.is4:
            is4 = ops[form.is4_i]
            if is4.num > 15:
                _vector_reg(is4, form)
            imm = bytes((is4.num << 4,))
        else:
            size = form.imm_size
            imm = (ops[form.imm_i] & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return form.prefix, rex, vex, opcode, modrm, sib, disp, imm


def encode(form: Form, ops: Sequence[object]) -> bytes:
    """The bytes of ``form`` applied to ``ops`` (as checked by :func:`select`)."""
    prefix, rex, vex, opcode, modrm, sib, disp, imm = _components(form, ops)
    out = bytearray(prefix)
    if rex:
        out.append(rex)
    out += vex
    out += opcode
    if modrm >= 0:
        out.append(modrm)
        if sib >= 0:
            out.append(sib)
        out += disp
    out += imm
    return bytes(out)


def encode_fields(form: Form, ops: Sequence[object]) -> list[tuple[str, bytes, str]]:
    """The bytes of ``form`` on ``ops`` as ``(field, bytes, meaning)`` triples, in order.

    ``b"".join(f[1] for f in encode_fields(...)) == encode(...)``.
    """
    prefix, rex, vex, opcode, modrm, sib, disp, imm = _components(form, ops)
    fields = []
    if prefix:
        fields.append(("prefix", prefix, "operand-size or mandatory prefix"))
    if rex:
        fields.append(("rex", bytes((rex,)), f"REX W={rex >> 3 & 1} R={rex >> 2 & 1} "
                                            f"X={rex >> 1 & 1} B={rex & 1}"))
    if vex:
        if vex[0] == 0xC5:
            r, v, length, pp, opmap, w = vex[1] >> 7 ^ 1, ~vex[1] >> 3 & 15, \
                vex[1] >> 2 & 1, vex[1] & 3, 1, 0
            meaning = f"2-byte VEX R={r}"
        else:
            r, x, b = vex[1] >> 7 ^ 1, vex[1] >> 6 & 1 ^ 1, vex[1] >> 5 & 1 ^ 1
            opmap, w, v = vex[1] & 31, vex[2] >> 7, ~vex[2] >> 3 & 15
            length, pp = vex[2] >> 2 & 1, vex[2] & 3
            meaning = f"3-byte VEX R={r} X={x} B={b} map={opmap} W={w}"
        fields.append(("vex", vex, f"{meaning} vvvv={v} L={length} pp={pp}"))
    if form.plus_r:
        fields.append(("opcode", opcode, f"opcode + register {ops[form.rm_i].name}"))
    else:
        fields.append(("opcode", opcode, "opcode"))
    if modrm >= 0:
        fields.append(("modrm", bytes((modrm,)),
                       f"ModRM mod={modrm >> 6} reg={modrm >> 3 & 7} rm={modrm & 7}"))
    if sib >= 0:
        fields.append(("sib", bytes((sib,)),
                       f"SIB scale={1 << (sib >> 6)} index={sib >> 3 & 7} base={sib & 7}"))
    if disp:
        value = int.from_bytes(disp, "little", signed=True)
        fields.append(("disp", disp, f"displacement {value}"))
    if imm:
        meaning = f"is4 register {ops[form.is4_i].name}" if form.is4 else \
            f"immediate {ops[form.imm_i]}"
        fields.append(("imm", imm, meaning))
    return fields
