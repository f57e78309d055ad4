"""The builder's fast path: operand kinds straight to a closure that makes the bytes.

``direct_entry(mnemonic, kinds)`` gives, for operand kinds (``("r64", "m64")``), the
closure ``encode(ops)`` that returns the instruction's bytes.  Where the kinds decide
the form alone, that is the form's ``make``; where fixed registers or immediate
ranges decide among candidates (``add r/m64, imm8`` before ``add RAX, imm32``
before ``add r/m64, imm32``), it is a chain of pickers, one per candidate, each
calling its ``make`` if its fixed operand and immediate range (precomputed bounds)
fit and the next picker if not.  None means the
general path must encode it (no candidate fits, or a memory operand is not ``plain``:
it carries a label or a segment override).
Nothing is searched at encode time.

``make`` closes over everything about its form that does not depend on the
operands (prefix, REX and opcode bytes for each value of REX.RXB, the ModRM
digit, the VEX/EVEX prefix's constant bits, the immediate's packer), so encoding an
instruction is a few attribute reads of the registers' precomputed fields
(``Reg.reg3``, ``Reg.evex_r``...), added into place (the fields are disjoint bits,
and CPython adds ints quicker than it ors or shifts them), and a bytes
concatenation or two; a
memory operand brings its ModRM (but the reg field), SIB and displacement bytes,
made on its first encoding (``Mem.mode``, ``encoder.operand_address``).  Shapes
with a closure of their own:

- no operands: the bytes, made once;
- legacy ``/r`` or ``/digit`` with a register or memory ``rm`` (byte registers
  with their REX rules), ``+r``, and opcode plus immediate (operands fixed by
  the opcode);
- VEX and EVEX with a register or memory ``rm`` (EVEX: write mask, zeroing,
  broadcast, compressed disp8*N);

and anything else (``is4``, byte-register ``+r`` forms) is ``encoder.encode`` on
the form.  Left out of the table altogether, for the general path
(``encoder.choose``): branches, unsized ambiguous memory, and the rarer of GNU as's
rewrites (``int 3``, ``xchg`` of a register with itself, ``movq``/``movd`` without
a vector register).  A VEX register move whose other direction fits a two-byte
VEX takes that one, as ``encoder.choose`` does.  A memory operand that carries a
label (it needs a fixup) or a segment override also goes the general path.

Each builder method keeps the entries of the operand kinds it has seen, made on
first use, so a mnemonic costs only the combinations a program uses.  The bytes
are the same as ``encoder.encode`` gives; the tests compare the two on the whole
corpus.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from struct import Struct

from minijit.x86.encoder import (
    AMBIGUOUS,
    R32,
    REWRITTEN,
    byte_register_rex,
    encode,
    kinds_table,
    operand_address,
    scaled_address,
)
from minijit.x86.registers import REGISTERS, Masked, Mem, Reg
from minijit.x86.table import Form

__all__ = ["NOT_DIRECT", "direct_entry", "maker"]

#: operands -> bytes, or None for a memory operand that is not plain (a label, which
#: needs a fixup, or a segment override: the general path)
Make = Callable[[Sequence[object]], bytes | None]

#: REX prefixes by their low four bits (W R X B); 0 means no prefix
_REX = [bytes((0x40 | bits,)) if bits else b"" for bits in range(16)]
_BYTE = [bytes((value,)) for value in range(256)]
#: an immediate, already masked to its width, as little-endian bytes, by width
_PACK = {1: _BYTE.__getitem__, 2: Struct("<H").pack, 4: Struct("<I").pack,
         8: Struct("<Q").pack}
#: a VEX/EVEX prefix as an integer, then the opcode and ModRM bytes, big-endian (the
#: three-byte VEX prefix and the opcode make one 32-bit word)
_PREFIX_OP_MODRM = {2: Struct(">HBB").pack, 3: Struct(">IB").pack, 4: Struct(">IBB").pack}


@functools.cache
def _stand_in(number: int) -> Reg:
    """A register object for a role a form leaves empty, read like the others: number
    ``number`` (a /digit form's ModRM.reg digit), no prefix bits."""
    return Reg(f"/{number}", number, 0, "stand-in")


#: the vvvv operand of a VEX/EVEX form that has none: its fields are 0 (all 1s inverted)
_NO_VVVV = _stand_in(0)


def _imm_tail(form: Form) -> tuple[int, Callable[[int], bytes] | None, int]:
    """(operand index, packer, mask) of a form's immediate; index -1 if none."""
    size = form.imm_size
    return form.imm_i, _PACK.get(size), (1 << (8 * size)) - 1


def _heads(form: Form) -> list[bytes]:
    """prefix, REX and opcode bytes for each value of REX's R X B bits (W is the form's)."""
    w = form.rex_w << 3
    return [form.prefix + _REX[w | rxb] + form.opcode for rxb in range(8)]


def _byte_rex(form: Form, memory: bool) -> Make:
    """A legacy ModRM form with byte registers: the REX prefix under the 8-bit register
    rules, which the encoder applies (spl..dil force a REX, ah..bh forbid one: AsmError,
    and the builder then takes the general path, which says so)."""
    w = form.rex_w << 3
    reg_i, rm_i = form.reg_i, form.rm_i
    digit = _stand_in(form.digit or 0)
    imm_i, pack, mask = _imm_tail(form)
    # prefix, REX (0: none, else 40-4F) and opcode, by the REX byte's value
    heads = [form.prefix + (_BYTE[rex] if rex else b"") + form.opcode for rex in range(0x50)]

    def make(ops: Sequence[object]) -> bytes:
        reg = ops[reg_i] if reg_i >= 0 else digit
        rm = ops[rm_i]
        if memory:
            if not rm.plain:
                return None
            modrm, rest, xb, _ = rm.mode or operand_address(rm)
            tail = _BYTE[modrm + reg.reg3] + rest
        else:
            tail, xb = _BYTE[rm.rm_direct + reg.reg3], rm.rex
        bits = w + reg.rex_r + xb
        code = heads[byte_register_rex(form, ops, 0x40 | bits if bits else 0)] + tail
        return code + pack(ops[imm_i] & mask) if imm_i >= 0 else code
    return make


def _legacy(form: Form, memory: bool) -> Make:
    """[prefix] [REX] opcode ModRM [SIB] [disp] [imm] for a legacy ModRM form."""
    if form.byte_regs:
        return _byte_rex(form, memory)
    heads = _heads(form)
    reg_i, rm_i = form.reg_i, form.rm_i
    digit_field = (form.digit or 0) << 3  # ModRM's reg field
    imm_i, pack, mask = _imm_tail(form)
    if memory:
        # the operand's ModRM (reg field 0), SIB and displacement: Mem.mode
        if reg_i >= 0:
            def make(ops: Sequence[object]) -> bytes:
                reg = ops[reg_i]
                rm = ops[rm_i]
                if not rm.plain:
                    return None
                modrm, rest, xb, _ = rm.mode or operand_address(rm)
                code = heads[reg.rex_r + xb] + _BYTE[modrm + reg.reg3] + rest
                return code + pack(ops[imm_i] & mask) if imm_i >= 0 else code
            return make

        def make(ops: Sequence[object]) -> bytes:
            rm = ops[rm_i]
            if not rm.plain:
                return None
            modrm, rest, xb, _ = rm.mode or operand_address(rm)
            code = heads[xb] + _BYTE[modrm + digit_field] + rest
            return code + pack(ops[imm_i] & mask) if imm_i >= 0 else code
        return make
    if reg_i >= 0:
        # the register-register form, the compiler's most common instruction
        def make(ops: Sequence[object]) -> bytes:
            reg = ops[reg_i]
            rm = ops[rm_i]
            code = heads[reg.rex_r + rm.rex] + _BYTE[rm.rm_direct + reg.reg3]
            return code + pack(ops[imm_i] & mask) if imm_i >= 0 else code
        return make

    def make(ops: Sequence[object]) -> bytes:
        rm = ops[rm_i]
        code = heads[rm.rex] + _BYTE[rm.rm_direct + digit_field]
        return code + pack(ops[imm_i] & mask) if imm_i >= 0 else code
    return make


def _plus_r(form: Form) -> Make:
    """[prefix] [REX] opcode+reg [imm] (``B8+r``, ``50+r``, ``0F C8+r``)."""
    last = form.opcode[-1]
    heads = [[form.prefix + _REX[form.rex_w << 3 | b] + form.opcode[:-1] + _BYTE[last + code]
              for code in range(8)] for b in range(2)]
    reg_i = form.rm_i
    imm_i, pack, mask = _imm_tail(form)

    def make(ops: Sequence[object]) -> bytes:
        reg = ops[reg_i]
        code = heads[reg.rex][reg.code]
        return code + pack(ops[imm_i] & mask) if imm_i >= 0 else code
    return make


def _vex(form: Form, memory: bool) -> Make:
    """VEX (C5 two bytes when map 0F and no X, B, W; else C4 three) opcode ModRM [imm].

    The prefix is made as one integer: its constant bits, with the inverted fields
    (R X B, vvvv) all set, less the operands' fields (``Reg.vex_r``...)."""
    length, pp, opmap, w = form.vex
    (op,) = form.opcode  # one byte: the map is in the prefix
    reg_i, rm_i, v_i = form.reg_i, form.rm_i, form.v_i
    digit = _stand_in(form.digit or 0)
    imm_i, pack, mask = _imm_tail(form)
    short_ok = opmap == 1 and not w
    # C5 | R vvvv L pp                    C4 | R X B mmmmm | W vvvv L pp
    short = 0xC5F8 | length << 2 | pp
    long = (0xC4E078 | opmap << 8 | w << 7 | length << 2 | pp) << 8 | op
    # the ModRM byte is packed with the prefix and opcode; a memory operand's SIB and
    # displacement follow (the operand's Mem.mode)
    pack2, pack3 = _PREFIX_OP_MODRM[2], _PREFIX_OP_MODRM[3]

    def make(ops: Sequence[object]) -> bytes:
        reg = ops[reg_i] if reg_i >= 0 else digit
        v = ops[v_i] if v_i >= 0 else _NO_VVVV
        rm = ops[rm_i]
        if memory:
            if not rm.plain:
                return None
            modrm, rest, xb, _ = rm.mode or operand_address(rm)
            modrm += reg.reg3
            if short_ok and not xb:
                code = pack2(short - reg.vex_r - v.vvvv, op, modrm) + rest
            else:
                # the three prefix bytes and the opcode byte as one 32-bit word, whose
                # fields sit where EVEX's do
                code = pack3(long - reg.evex_r - (xb << 21) - v.evex_v, modrm) + rest
        elif short_ok and not rm.rex:
            code = pack2(short - reg.vex_r - v.vvvv, op, rm.rm_direct + reg.reg3)
        else:
            code = pack3(long - reg.evex_r - rm.evex_b - v.evex_v, rm.rm_direct + reg.reg3)
        return code + pack(ops[imm_i] & mask) if imm_i >= 0 else code
    return make


def _absolute(form: Form) -> Make:
    """[prefix] [REX.W] opcode moffs64: movabs between the accumulator and a 64-bit
    absolute address (None for any other address: the general path says why)."""
    head = form.prefix + _REX[form.rex_w << 3] + form.opcode
    moffs_i = form.moffs_i
    pack = _PACK[8]

    def make(ops: Sequence[object]) -> bytes | None:
        m = ops[moffs_i]
        if m.base is not None or m.index is not None or not m.plain or \
                not -(1 << 63) <= m.disp < (1 << 64):
            return None
        return head + pack(m.disp & 0xFFFFFFFFFFFFFFFF)
    return make


def _immediate_only(form: Form) -> Make:
    """[prefix] [REX.W] opcode [imm]: operands implicit in the opcode or immediate
    (``add RAX, imm32``, ``push imm8``, ``ret imm16``)."""
    head = form.prefix + _REX[form.rex_w << 3] + form.opcode
    imm_i, pack, mask = _imm_tail(form)
    if imm_i < 0:
        return lambda ops: head
    return lambda ops: head + pack(ops[imm_i] & mask)


def _evex(form: Form, memory: bool) -> Make:
    """EVEX (62 and three bytes) opcode ModRM [SIB] [disp8*N | disp32] [imm].

    The prefix is one 32-bit integer, as ``_vex`` makes it, from the registers'
    precomputed fields (``Reg.evex_r``...); the write mask's z and aaa bits
    (``Masked.evex_zaaa``) and the broadcast bit are added."""
    length, pp, opmap, w = form.evex
    (op,) = form.opcode  # one byte: the map is in the prefix
    reg_i, rm_i, v_i = form.reg_i, form.rm_i, form.v_i
    digit = _stand_in(form.digit or 0)
    imm_i, pack, mask = _imm_tail(form)
    mem_bytes = form.mem_size // 8
    # 62 | R X B R' 0 mmm | W vvvv 1 pp | z L'L b V' aaa   (R X B R' vvvv V' inverted)
    const = 0x62F07C08 | opmap << 16 | w << 15 | pp << 8 | length << 5
    pack_op_modrm = _PREFIX_OP_MODRM[4]

    dest_is_reg = reg_i == 0  # the destination, which may carry a mask: reg, else rm

    def make(ops: Sequence[object]) -> bytes:
        dest = ops[0]
        low = 0
        if type(dest) is Masked:
            low = dest.evex_zaaa
            dest = dest.op
        v = ops[v_i] if v_i >= 0 else _NO_VVVV
        if dest_is_reg:
            reg, rm = dest, ops[rm_i]
        else:
            reg, rm = ops[reg_i] if reg_i >= 0 else digit, dest
        if not memory:
            # EVEX: bit 4 of a register in rm travels in X; its ModRM packed with the prefix
            code = pack_op_modrm(const - reg.evex_r - v.evex_v - rm.evex_b + low, op,
                                 rm.rm_direct + reg.reg3)
        elif not rm.plain:
            return None
        else:
            n = mem_bytes
            if rm.bcst:
                low += 0x10
                n = rm.size // 8
            modrm, rest, xb, scaled = rm.mode or operand_address(rm)
            if rm.disp and n > 1:  # disp8*N: the displacement scales with the access
                modrm, rest = scaled.get(n) or scaled_address(rm, n)
            code = pack_op_modrm(const - reg.evex_r - v.evex_v - (xb << 21) + low, op,
                                 modrm + reg.reg3) + rest
        return code + pack(ops[imm_i] & mask) if imm_i >= 0 else code
    return make


def _general(form: Form) -> Make:
    def make(ops: Sequence[object]) -> bytes | None:
        for op in ops:
            if type(op) is Mem and op.label is not None:
                return None
        return encode(form, ops)
    return make


def maker(form: Form, memory: bool) -> Make:
    """The byte-making closure of ``form`` for operands whose ``rm`` is memory or not
    (None for a memory operand that is not plain)."""
    if not form.operands:
        code = encode(form, ())
        return lambda ops: code
    if form.is4 or form.rel_size:
        return _general(form)
    if form.moffs_i >= 0:
        return _absolute(form)
    if form.evex is not None:
        return _evex(form, memory) if form.modrm and form.rm_i >= 0 else _general(form)
    if form.vex is not None:
        return _vex(form, memory) if form.modrm and form.rm_i >= 0 else _general(form)
    if form.plus_r:
        return _general(form) if form.byte_regs else _plus_r(form)
    if form.modrm:
        return _legacy(form, memory)
    return _immediate_only(form)


def _accepted(form: Form) -> tuple[int, int, int, int]:
    """The immediates ``form`` takes, as two ranges ``lo..hi`` and ``lo2..hi2`` (the
    second empty unless the immediate is sign-extended: then it holds the unsigned
    spellings of the negative ones, ``0xff..ff80``-``0xff..ffff`` for imm8 in 64 bits,
    which ``encoder._accepts`` reads as their signed values)."""
    if not form.sext:
        return form.imm_lo, form.imm_hi, 1, 0
    full = 1 << form.size
    return form.imm_lo, form.imm_hi, full + form.imm_lo, full - 1


def _picker(cands: tuple, memory: bool) -> Make:
    """The bytes of the first of ``cands`` whose fixed operand (a form has at most one)
    and immediate range fit (None if none fits: the general path explains why): a
    chain of closures, one per candidate, each over its own precomputed checks."""
    pick = _none_fits
    for form, _ in reversed(cands):
        pick = _candidate(form, memory, pick)
    return pick


def _none_fits(ops: Sequence[object]) -> None:
    return None


def _candidate(form: Form, memory: bool, otherwise: Make) -> Make:
    """``form``'s bytes if its fixed operand and immediate range fit, else
    ``otherwise``'s."""
    make = maker(form, memory)
    fixed_i = next((i for i, f in enumerate(form.fixed) if f is not None), -1)
    want = None if fixed_i < 0 else 1 if form.fixed[fixed_i] == "1" else \
        REGISTERS[form.fixed[fixed_i]]
    imm_i = form.imm_i
    lo, hi, lo2, hi2 = _accepted(form)
    if fixed_i < 0 and imm_i < 0:
        return make  # nothing to check: it fits
    if fixed_i < 0:
        # the immediate alone decides (add rcx, imm8 before add rcx, imm32)
        def pick(ops: Sequence[object]) -> bytes | None:
            value = ops[imm_i]
            return make(ops) if lo <= value <= hi or lo2 <= value <= hi2 else otherwise(ops)
    elif imm_i < 0:
        # the fixed operand alone (shl rcx, 1; shl rcx, cl)
        def pick(ops: Sequence[object]) -> bytes | None:
            return make(ops) if ops[fixed_i] == want else otherwise(ops)
    else:
        # both (add rax, imm32)
        def pick(ops: Sequence[object]) -> bytes | None:
            value = ops[imm_i]
            return make(ops) if ops[fixed_i] == want and \
                (lo <= value <= hi or lo2 <= value <= hi2) else otherwise(ops)
    return pick


def NOT_DIRECT(ops: Sequence[object]) -> None:
    """The entry of kinds that the fast path does not take (the general path will)."""
    return None


def direct_entry(mnemonic: str, key: tuple) -> Make:
    """The closure that makes the bytes of a canonical, known ``mnemonic`` on operands
    of kinds ``key`` (None where the general path must: no candidate fits, a label),
    or NOT_DIRECT.

    Of GNU as's rewrites (``encoder.rewrite``) the fast path takes the common ones by
    the same rules: ``mov r64, imm`` below 2**32 as ``mov r32, imm32``, ``imul r,
    imm`` as ``imul r, r, imm``, and ``xchg`` of two different operands (the same
    register twice is nop or needs the ModRM form: the general path)."""
    if mnemonic not in REWRITTEN:
        return _direct(mnemonic, key)
    if mnemonic == "xchg":
        swap = _direct(mnemonic, key)
        return NOT_DIRECT if swap is NOT_DIRECT else \
            lambda ops: None if ops[0] is ops[1] else swap(ops)
    if mnemonic == "mov" and key == ("r64", "imm"):
        wide, short = _direct(mnemonic, key), _direct(mnemonic, ("r32", "imm"))
        return lambda ops: short((R32[ops[0]], ops[1])) if 0 <= ops[1] < 1 << 32 else \
            wide(ops)
    if mnemonic == "imul" and len(key) == 2 and key[1] == "imm" and key[0][0] == "r":
        three = _direct(mnemonic, (key[0], key[0], "imm"))
        return lambda ops: three((ops[0], ops[0], ops[1]))
    if mnemonic in ("movq", "movd") and "xmm" in key:
        # with an xmm operand, neither means mov; movd with a 64-bit operand is movq
        wide = any(k in ("r64", "m64") for k in key)
        return _direct("movq" if wide else mnemonic, key)
    if mnemonic in ("mov", "imul") or "imm" not in key and mnemonic == "int":
        return _direct(mnemonic, key)
    return NOT_DIRECT


def _direct(mnemonic: str, key: tuple) -> Make:
    """``direct_entry`` without GNU as's rewrites."""
    cands = kinds_table(mnemonic).get(key)
    if cands is None or cands is AMBIGUOUS or "rel" in key:
        return NOT_DIRECT
    form, check = cands[0]
    memory = any(k[0] in "mb" for k in key)
    if not memory and form.vex is not None and form.vex[2] == 1 and not form.rex_w:
        others = [maker(f, False) for f, _ in cands if f.vex is not None]
        if len(others) > 1:
            # encoder.choose may swap to the other direction (two-byte VEX)
            return NOT_DIRECT if check else _two_byte_vex(maker(form, False), others)
    return _picker(cands, memory) if check else maker(form, memory)


def _two_byte_vex(first: Make, others: list[Make]) -> Make:
    """``first``'s bytes, or those of the first of ``others`` (the candidate VEX forms,
    in table order) that has a two-byte VEX where ``first`` needs three, as
    ``encoder.choose`` picks (``vmovaps xmm0, xmm8`` is C5 78 29 C0)."""
    def make(ops: Sequence[object]) -> bytes:
        code = first(ops)
        if code[0] == 0xC4:
            for other in others:
                swapped = other(ops)
                if swapped[0] == 0xC5:
                    return swapped
        return code
    return make
