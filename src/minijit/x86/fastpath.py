"""The builder's fast path: operand kinds straight to a closure that makes the bytes.

``direct_entry(mnemonic, kinds)`` gives, for operand kinds (``("r64", "m64")``),
``(make, memory operand index, picker)``.  Where the kinds decide the form alone,
``make(ops)`` returns the instruction's bytes; where fixed registers or immediate
ranges decide among candidates (``add r/m64, imm8`` before ``add RAX, imm32``
before ``add r/m64, imm32``), ``picker(ops)`` returns the ``make`` of the first
candidate that accepts them (range checks on precomputed bounds), or None.
Nothing is searched at encode time.

``make`` closes over everything about its form that does not depend on the
operands (prefix bytes, REX.W, opcode bytes, the ModRM digit, the VEX
constant bits, the immediate's width), so encoding an instruction is a few
attribute reads, shifts and one bytes concatenation.  Shapes with a closure of
their own:

- no operands: the bytes, made once;
- legacy ``/r`` or ``/digit`` with a register or memory ``rm`` (byte registers
  with their REX rules), ``+r``, and opcode plus immediate (operands fixed by
  the opcode);
- VEX and EVEX with a register or memory ``rm`` (EVEX: write mask, zeroing,
  broadcast, compressed disp8*N);

and anything else (``is4``, byte-register ``+r`` forms) is ``encoder.encode`` on
the form.  Left out of the table altogether, for the
general path (``encoder.choose``): branches, unsized ambiguous memory, GNU as's
rewrites, VEX direction swaps, masked memory.  A memory operand that carries a
label also goes the general path (it needs a fixup).

Each builder method keeps the entries of the operand kinds it has seen, made on
first use, so a mnemonic costs only the combinations a program uses.  The bytes
are the same as ``encoder.encode`` gives; the tests compare the two on the whole
corpus.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from minijit.x86.encoder import (AMBIGUOUS, REWRITTEN, address_bytes, byte_register_rex, encode,
                                 kinds_table)
from minijit.x86.registers import REGISTERS, Masked
from minijit.x86.table import Form

__all__ = ["NOT_DIRECT", "direct_entry", "maker"]

Make = Callable[[Sequence[object]], bytes]

#: REX prefixes by their low four bits (W R X B); 0 means no prefix
_REX = [bytes((0x40 | bits,)) if bits else b"" for bits in range(16)]
_BYTE = [bytes((value,)) for value in range(256)]


def _imm_tail(form: Form) -> tuple[int, int, int]:
    """(operand index, byte count, mask) of a form's immediate; index -1 if none."""
    size = form.imm_size
    return form.imm_i, size, (1 << (8 * size)) - 1


def _byte_rex(form: Form) -> Callable[[Sequence[object], int], bytes]:
    """REX W R X B bits -> the REX prefix under the byte-register rules, which the
    encoder applies: spl..dil force a REX, ah..bh forbid one (AsmError: the builder
    then takes the general path, which says so)."""
    def rex(ops: Sequence[object], bits: int) -> bytes:
        value = byte_register_rex(form, ops, 0x40 | bits if bits else 0)
        return _BYTE[value] if value else b""
    return rex


def _legacy(form: Form, memory: bool) -> Make:
    """[prefix] [REX] opcode ModRM [SIB] [disp] [imm] for a legacy ModRM form."""
    prefix, opcode, w = form.prefix, form.opcode, form.rex_w << 3
    reg_i, rm_i = form.reg_i, form.rm_i
    digit = form.digit or 0
    imm_i, size, mask = _imm_tail(form)
    rex = _byte_rex(form) if form.byte_regs else None
    if memory:
        def make(ops: Sequence[object]) -> bytes:
            if reg_i >= 0:
                reg = ops[reg_i]
                tail, x, b = address_bytes(reg.code, ops[rm_i])
                bits = w | reg.rex << 2 | x << 1 | b
            else:
                tail, x, b = address_bytes(digit, ops[rm_i])
                bits = w | x << 1 | b
            code = prefix + (_REX[bits] if rex is None else rex(ops, bits)) + opcode + tail
            if imm_i >= 0:
                return code + (ops[imm_i] & mask).to_bytes(size, "little")
            return code
        return make
    digit3 = 0xC0 | digit << 3
    if reg_i >= 0 and imm_i < 0 and rex is None:
        # the register-register form, the compiler's most common instruction
        def make(ops: Sequence[object]) -> bytes:
            reg = ops[reg_i]
            rm = ops[rm_i]
            return prefix + _REX[w | reg.rex << 2 | rm.rex] + opcode + \
                _BYTE[0xC0 | reg.code << 3 | rm.code]
        return make

    def make(ops: Sequence[object]) -> bytes:
        rm = ops[rm_i]
        if reg_i >= 0:
            reg = ops[reg_i]
            bits = w | reg.rex << 2 | rm.rex
            modrm = _BYTE[0xC0 | reg.code << 3 | rm.code]
        else:
            bits = w | rm.rex
            modrm = _BYTE[digit3 | rm.code]
        code = prefix + (_REX[bits] if rex is None else rex(ops, bits)) + opcode + modrm
        if imm_i >= 0:
            return code + (ops[imm_i] & mask).to_bytes(size, "little")
        return code
    return make


def _plus_r(form: Form) -> Make:
    """[prefix] [REX] opcode+reg [imm] (``B8+r``, ``50+r``, ``0F C8+r``)."""
    prefix, head, last, w = form.prefix, form.opcode[:-1], form.opcode[-1], form.rex_w << 3
    reg_i = form.rm_i
    imm_i, size, mask = _imm_tail(form)

    def make(ops: Sequence[object]) -> bytes:
        reg = ops[reg_i]
        code = prefix + _REX[w | reg.rex] + head + _BYTE[last + reg.code]
        if imm_i >= 0:
            return code + (ops[imm_i] & mask).to_bytes(size, "little")
        return code
    return make


def _vex(form: Form, memory: bool) -> Make:
    """VEX (C5 two bytes when map 0F and no X, B, W; else C4 three) opcode ModRM [imm]."""
    length, pp, opmap, w = form.vex
    opcode = form.opcode
    reg_i, rm_i, v_i = form.reg_i, form.rm_i, form.v_i
    digit = form.digit or 0
    imm_i, size, mask = _imm_tail(form)
    short_ok = opmap == 1 and not w
    low_bits = length << 2 | pp
    w7 = w << 7

    def make(ops: Sequence[object]) -> bytes:
        r = 0
        reg3 = digit
        if reg_i >= 0:
            reg = ops[reg_i]
            reg3, r = reg.code, reg.rex
        rm = ops[rm_i]
        if memory:
            tail, x, b = address_bytes(reg3, rm)
        else:
            tail, x, b = _BYTE[0xC0 | reg3 << 3 | rm.code], 0, rm.rex
        low = (~ops[v_i].num & 15) << 3 | low_bits if v_i >= 0 else 0x78 | low_bits
        if short_ok and not (x or b):
            # C5 | R' vvvv' L pp           (R and vvvv stored inverted)
            code = bytes((0xC5, (r ^ 1) << 7 | low)) + opcode + tail
        else:
            # C4 | R' X' B' mmmmm | W vvvv' L pp
            code = bytes((0xC4, (r ^ 1) << 7 | (x ^ 1) << 6 | (b ^ 1) << 5 | opmap,
                          w7 | low)) + opcode + tail
        if imm_i >= 0:
            return code + (ops[imm_i] & mask).to_bytes(size, "little")
        return code
    return make


def _immediate_only(form: Form) -> Make:
    """[prefix] [REX.W] opcode [imm]: operands implicit in the opcode or immediate
    (``add RAX, imm32``, ``push imm8``, ``ret imm16``)."""
    head = form.prefix + _REX[form.rex_w << 3] + form.opcode
    imm_i, size, mask = _imm_tail(form)
    if imm_i < 0:
        return lambda ops: head
    return lambda ops: head + (ops[imm_i] & mask).to_bytes(size, "little")


def _evex(form: Form, memory: bool) -> Make:
    """EVEX (62 and three bytes) opcode ModRM [SIB] [disp8*N | disp32] [imm]."""
    length, pp, opmap, w = form.evex
    opcode = form.opcode
    reg_i, rm_i, v_i = form.reg_i, form.rm_i, form.v_i
    digit = form.digit or 0
    imm_i, size, mask = _imm_tail(form)
    mem_bytes = form.mem_size // 8
    p1_bits = w << 7 | 4 | pp
    p2_bits = length << 5

    def make(ops: Sequence[object]) -> bytes:
        aaa = z = 0
        if type(ops[0]) is Masked:
            aaa, z = ops[0].mask.num, ops[0].zero
            ops = (ops[0].op, *ops[1:])
        reg3 = digit
        r = r4 = 0
        if reg_i >= 0:
            reg = ops[reg_i]
            reg3, r, r4 = reg.code, reg.rex, reg.num >> 4
        rm = ops[rm_i]
        bcst = 0
        if memory:
            bcst = rm.bcst
            tail, x, b = address_bytes(reg3, rm, rm.size // 8 if bcst else mem_bytes)
        else:
            # EVEX: bit 4 of a register in rm travels in X
            tail, x, b = _BYTE[0xC0 | reg3 << 3 | rm.code], rm.num >> 4, rm.rex
        v = ops[v_i].num if v_i >= 0 else 0
        # 62 | R' X' B' R4' 0 mmm | W vvvv' 1 pp | z L'L b V4' aaa   (' = inverted)
        code = bytes((0x62, (r ^ 1) << 7 | (x ^ 1) << 6 | (b ^ 1) << 5 | (r4 ^ 1) << 4 | opmap,
                      p1_bits | (~v & 15) << 3,
                      z << 7 | p2_bits | bcst << 4 | (v >> 4 ^ 1) << 3 | aaa)) + opcode + tail
        if imm_i >= 0:
            return code + (ops[imm_i] & mask).to_bytes(size, "little")
        return code
    return make


def _general(form: Form) -> Make:
    def make(ops: Sequence[object]) -> bytes:
        return encode(form, ops)
    return make


def maker(form: Form, memory: bool) -> Make:
    """The byte-making closure of ``form`` for operands whose ``rm`` is memory or not."""
    if not form.operands:
        code = encode(form, ())
        return lambda ops: code
    if form.is4 or form.rel_size:
        return _general(form)
    if form.evex is not None:
        return _evex(form, memory) if form.modrm and form.rm_i >= 0 else _general(form)
    if form.vex is not None:
        return _vex(form, memory) if form.modrm and form.rm_i >= 0 else _general(form)
    if form.plus_r:
        return _general(form) if form.byte_regs else _plus_r(form)
    if form.modrm:
        return _legacy(form, memory)
    return _immediate_only(form)


def _picker(cands: tuple, memory: bool) -> Callable[[Sequence[object]], Make | None]:
    """The ``make`` of the first of ``cands`` whose fixed registers and immediate range
    fit, as a closure over precomputed checks (None if none fits: the general path
    explains why)."""
    checks = []
    for form, _ in cands:
        fixed = tuple((i, REGISTERS[f] if f != "1" else 1) for i, f in enumerate(form.fixed)
                      if f is not None)
        bits = form.size if form.sext else 0
        checks.append((maker(form, memory), fixed, form.imm_i, form.imm_lo, form.imm_hi,
                       bits))

    def pick(ops: Sequence[object]) -> Make | None:
        for make, fixed, imm_i, lo, hi, bits in checks:
            if any(ops[i] is not want and ops[i] != want for i, want in fixed):
                continue
            if imm_i >= 0:
                value = ops[imm_i]
                if bits and (1 << (bits - 1)) <= value < (1 << bits):
                    value -= 1 << bits  # the sign-extended immediate's own value
                if not lo <= value <= hi:
                    continue
            return make
        return None

    return pick


#: the entry of kinds that the fast path does not take (the general path will)
NOT_DIRECT = (None, -1, None)


def direct_entry(mnemonic: str, key: tuple) -> tuple:
    """``(make, memory operand index, picker)`` for a canonical, known ``mnemonic`` and
    operand kinds ``key``, or NOT_DIRECT."""
    cands = kinds_table(mnemonic).get(key)
    if cands is None or cands is AMBIGUOUS or "rel" in key:
        return NOT_DIRECT
    if mnemonic in REWRITTEN and ("imm" in key or mnemonic in ("xchg", "movq", "movd")):
        return NOT_DIRECT
    if any(f.moffs_i >= 0 for f, _ in cands):
        return NOT_DIRECT  # the address must be absolute: encoder._accepts checks it
    form, check = cands[0]
    if form.vex is not None and sum(f.vex is not None for f, _ in cands) > 1:
        return NOT_DIRECT  # encoder.choose may swap to the other direction (two-byte VEX)
    mems = [i for i, k in enumerate(key) if k[0] in "mb"]
    if any("{" in key[i] for i in mems):
        return NOT_DIRECT
    memory = bool(mems)
    return (None if check else maker(form, memory), mems[0] if mems else -1,
            _picker(cands, memory) if check else None)
