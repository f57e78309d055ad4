"""The disassembler: machine code back to instructions, from the encoder's own table.

Every form of the instruction table (``minijit.x86.table``) becomes one
``Pattern``: which opcode map and byte it lives at, which mandatory
prefix, REX.W/VEX.W, operand-size prefix, ModRM.reg digit, ModRM.mod class
(register, memory or either) and VEX.L it requires, and where each operand
comes from (ModRM.reg, ModRM.rm, the opcode's low three bits, VEX.vvvv, an
immediate, a branch displacement).  Patterns are filed in one dict keyed by
map, opcode byte and prefixes (packed in one int, which hashes faster than a
tuple): the 256-entry opcode maps of LuaJIT's ``dis_x86`` in dict form, built
on first use.  Decoding one instruction is:

1. legacy prefixes (66, F2, F3, 67, segment overrides), each at most once;
2. REX (40-4F), or a VEX prefix (C5: two bytes, C4: three) that carries the
   inverted R/X/B/vvvv bits, W, L, the implied mandatory prefix and map, or an
   EVEX prefix (62 and three bytes) that adds R'/V' (registers 16-31), L'L, the
   write mask, zeroing and broadcast;
3. the opcode bytes (0F, 0F 38, 0F 3A select the map), then one dict lookup; a
   slot of ``/digit`` forms is indexed by ModRM.reg;
4. the first pattern whose requirements hold, ModRM/SIB/displacement (an EVEX
   disp8 scaled by the access size), the immediates, and the operand texts.

Anything that does not decode, including an instruction running past the end
of the code, becomes ``(bad)`` covering one byte, as in objdump, and decoding
resumes at the next byte.  No byte string raises.

Text is Intel syntax as GNU as reads it with ``.intel_syntax noprefix``:
``mov QWORD PTR [rsp+0x8], rax``.  A branch target is an absolute address
(``jmp 0x40``), and a rip-relative operand gets the address it means as a
comment (``# 0x1040``), both followed by ``<name>`` when a symbols mapping
names it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import NamedTuple

from minijit.x86.registers import REGISTERS
from minijit.x86.table import STRING_OPCODES, forms

__all__ = ["Instruction", "Layout", "disassemble", "decode"]


class Instruction:
    """One decoded instruction.

    ``operands`` are the operand texts in Intel order; ``target`` is the
    absolute address a branch goes to or a rip-relative operand points at (else
    None; ``rip`` tells which); ``label`` its name from the symbols mapping;
    ``pattern`` what matched (``form`` is the table's entry; both None for
    ``(bad)``); ``parts`` where each part of the encoding sits, for ``explain``
    (``layout`` holds the positions in the decoded buffer it is computed from).
    """

    __slots__ = ("address", "bytes", "mnemonic", "operands", "target", "rip", "label",
                 "pattern", "layout")

    def __init__(self, address: int, code: bytes, mnemonic: str, operands: tuple[str, ...],
                 target: int | None = None, rip: bool = False, label: str | None = None,
                 pattern: Pattern | None = None, layout: tuple | None = None) -> None:
        self.address = address
        self.bytes = code
        self.mnemonic = mnemonic
        self.operands = operands
        self.target = target
        self.rip = rip
        self.label = label
        self.pattern = pattern
        self.layout = layout

    @property
    def form(self) -> object:
        """The instruction table's ``Form`` that matched (None for ``(bad)``)."""
        return self.pattern.form if self.pattern else None

    @property
    def parts(self) -> Layout | None:
        """Where each part of the encoding sits, as offsets into ``bytes``."""
        if not self.layout:
            return None
        start, *where, disp_size, imm = self.layout
        offsets = [p - start if p >= 0 else -1 for p in (*where, imm)]
        return Layout(*offsets[:-1], disp_size, offsets[-1])

    @property
    def text(self) -> str:
        """The instruction without the comment: what GNU as reads back."""
        if not self.operands:
            return self.mnemonic
        return f"{self.mnemonic} {', '.join(self.operands)}"

    def __str__(self) -> str:
        text = self.text
        if self.rip:
            text = f"{text}  # {self.target:#x}"
            if self.label:
                text += f" <{self.label}>"
        elif self.label:
            text = f"{text}  # <{self.label}>"
        return text

    def __repr__(self) -> str:
        return f"<Instruction {self.address:#x}: {self.bytes.hex(' ')}: {self}>"

    def __len__(self) -> int:
        return len(self.bytes)


class Layout(NamedTuple):
    """Offsets of an instruction's parts in its bytes (-1 when absent)."""

    prefixes_end: int   # legacy prefixes are bytes [0, prefixes_end)
    rex: int
    vex: int            # a VEX or EVEX prefix starts here and runs up to ``opcode``
    opcode: int         # opcode bytes, map escapes (0F, 0F 38, 0F 3A) included
    modrm: int
    sib: int
    disp: int
    disp_size: int
    imm: int            # immediates (and is4, rel) run from here to the end


# --- patterns: the table's forms as the decoder reads them -----------------------------

#: where an operand comes from (``Form.roles``, as small ints for the decode loop)
REG, RM, OPREG, VVVV, IMM, REL, FIXED, IS4, MOFFS = range(9)
_ROLES = {"reg": REG, "rm": RM, "opreg": OPREG, "vvvv": VVVV, "imm": IMM, "rel": REL,
          "fixed": FIXED, "is4": IS4, "moffs": MOFFS}
#: bytes of movabs's absolute address (moffs) in 64-bit mode
MOFFS_BYTES = 8

#: opcode maps: legacy one-byte, 0F, 0F 38, 0F 3A; a VEX map is VEX_SPACE | mmmmm,
#: an EVEX map EVEX_SPACE | mm
LEGACY, MAP_0F, MAP_0F38, MAP_0F3A = range(4)
VEX_SPACE = 0x10
EVEX_SPACE = 0x20
_ESCAPES = ((b"\x0f\x38", MAP_0F38), (b"\x0f\x3a", MAP_0F3A), (b"\x0f", MAP_0F))

#: prefixes as part of a map key: 0x66 for 66, F2/F3 shifted up, so "66 F3" is 0xF366
_PREFIX_KEYS = {0x66: 0x66, 0xF2: 0xF200, 0xF3: 0xF300}
#: VEX.pp -> the mandatory prefix it stands for, as a key
_VEX_PP = (0, 0x66, 0xF300, 0xF200)

#: table forms the decoder never prints, because another form spells the same bytes
#: the way GNU as reads back to them
SPELLED_OTHERWISE = {
    "mov r64, imm64": "movabs: as would shorten 'mov r64, imm' to C7 /0 when it fits",
    "vmovd xmm, r64": "vmovq, as objdump writes it",
    "vmovd r64, xmm": "vmovq, as objdump writes it",
}

#: table forms the decoder leaves (bad) after 67, though objdump reads them: capstone does
#: not decode movsxd to a 32- or 16-bit register from a 32-bit address (67 63 without
#: REX.W), and the random-bytes test compares every decoded instruction with capstone
NO_ADDRESS_SIZE = frozenset(("movsxd r32, r/m32", "movsx r32, r/m32", "movsxd r16, r/m32"))

_SIZE_PTR = {8: "BYTE PTR ", 16: "WORD PTR ", 32: "DWORD PTR ", 64: "QWORD PTR ",
             80: "TBYTE PTR ", 128: "XMMWORD PTR ", 256: "YMMWORD PTR ",
             512: "ZMMWORD PTR "}


_SIZED_MEMORY = re.compile(r"m(\d+)")


def _memory_bits(kind: str) -> int:
    """The access size of a memory kind: 64 for ``m64``, 0 for ``m`` (any size)."""
    sized = _SIZED_MEMORY.match(kind)
    return int(sized.group(1)) if sized else 0


def _register_names() -> dict[str, tuple[str, ...]]:
    """kind -> register names by number (byte registers 4-7 as spl..dil: REX present)."""
    by_kind: dict[str, dict[int, str]] = {}
    for reg in REGISTERS.values():
        if not reg.high8 and reg.kind != "rip":
            by_kind.setdefault(reg.kind, {})[reg.num] = reg.name
    return {kind: tuple(names[i] for i in range(len(names))) for kind, names in by_kind.items()}


_NAMES = _register_names()
_GPR64 = _NAMES["r64"]
_GPR32 = _NAMES["r32"]
_GPR8 = _NAMES["r8"]
_HIGH8 = ("al", "cl", "dl", "bl", "ah", "ch", "dh", "bh")


class Operand:
    """How to find and print one operand of a pattern."""

    __slots__ = ("role", "names", "ptr", "size", "text", "signed")

    def __init__(self, role: int, names: tuple[str, ...], ptr: str, size: int, text: str,
                 signed: bool) -> None:
        self.role = role
        self.names = names      # register names by number
        self.ptr = ptr          # "QWORD PTR " for a sized memory operand
        self.size = size        # immediate or displacement bytes
        self.text = text        # an implicit operand's text (al, cl, 1)
        self.signed = signed    # immediate printed sign-extended


class Pattern:
    """One table form, arranged for matching: where it is filed and what it requires."""

    __slots__ = ("form", "mnemonic", "key", "w", "digit", "modrm", "fixed_modrm", "mod",
                 "vex_l", "operands", "imm_size", "uses", "evex", "masked", "zeroing",
                 "mem_bytes", "bcst_bytes", "addr32")

    def __init__(self, form: object) -> None:
        self.form = form
        self.mnemonic = form.mnemonic
        tokens = form.encoding.split()
        opcode = form.opcode
        self.evex = form.evex is not None
        if form.vex is not None or self.evex:
            length, pp, space, w = form.evex if self.evex else form.vex
            space |= EVEX_SPACE if self.evex else VEX_SPACE
            prefix = _VEX_PP[pp]
            self.vex_l = None if any(".LIG." in t for t in tokens) else length
            self.w = None if any(t.endswith(".WIG") for t in tokens) else w
        else:
            space = LEGACY
            for escape, escaped in _ESCAPES:
                if opcode.startswith(escape):
                    space, opcode = escaped, opcode[len(escape):]
                    break
            prefix = sum(_PREFIX_KEYS[b] for b in form.prefix)
            self.vex_l = None
            self.w = form.rex_w
        self.key = (space, opcode[0], prefix)
        # a fixed byte after the opcode (0F AE F0 mfence) is a ModRM with one value
        self.fixed_modrm = opcode[1] if len(opcode) > 1 else -1
        self.modrm = form.modrm or self.fixed_modrm >= 0
        self.digit = form.digit
        self.operands = tuple(self._operand(form, i) for i in range(len(form.operands)))
        self.imm_size = form.imm_size + form.rel_size + (MOFFS_BYTES if form.moffs_i >= 0 else 0)
        rm_kinds = next((form.kinds[i] for i, r in enumerate(form.roles) if r == "rm"), ())
        has_mem = any(k[0] in "mb" for k in rm_kinds)
        has_reg = any(k[0] not in "mb" for k in rm_kinds)
        # AVX-512: write mask and zeroing on the destination; a compressed disp8 is
        # scaled by the memory operand's size, or by the element size when broadcasting
        self.masked = self.evex and form.masked
        self.zeroing = self.evex and form.zeroing
        self.mem_bytes = max((_memory_bits(k) // 8 for k in rm_kinds if k[0] == "m"),
                             default=0) or 1
        self.bcst_bytes = form.bcst // 8 if self.evex else 0
        #: whether 67 may precede: the form has a ModRM memory operand (NO_ADDRESS_SIZE aside)
        self.addr32 = has_mem and form.signature() not in NO_ADDRESS_SIZE
        #: indexed by "ModRM.mod is 11b": whether a memory / a register rm is accepted
        self.mod = (has_mem or not rm_kinds, has_reg or not rm_kinds)
        #: the REX/VEX bits its operands read: R (4), X and B (3); the others must be clear
        roles = set(form.roles)
        self.uses = (4 if "reg" in roles else 0) | (3 if "rm" in roles else 0) | (
            1 if "opreg" in roles else 0)

    @staticmethod
    def _operand(form: object, i: int) -> Operand:
        role = _ROLES[form.roles[i]]
        kinds = form.kinds[i]
        register = next((k for k in kinds if k[0] not in "mb" and k not in ("imm", "rel")), "")
        memory = next((k for k in kinds if k[0] == "m"), "")
        ptr = _SIZE_PTR.get(_memory_bits(memory), "")
        size = {REL: form.rel_size, IMM: form.imm_size, MOFFS: MOFFS_BYTES}.get(role, 0)
        return Operand(role, _NAMES.get(register, ()), ptr, size, form.fixed[i] or "",
                       role == IMM and form.sext)


@lru_cache(maxsize=None)
def opcode_maps() -> dict[int, list[Pattern] | tuple[list[Pattern], ...]]:
    """``prefixes << 16 | map << 8 | opcode byte`` -> the patterns filed there, most
    specific first (per ModRM.reg digit for a slot of /digit forms).

    A ``+r`` form is filed under all eight opcode bytes.  REX.W matters only where
    some pattern of the same slot (opcode and ModRM digit) asks for it; elsewhere
    (push, byte forms) it is ignored, as the CPU ignores it, except on a 32-bit
    form: there REX.W makes it a 64-bit form the table does not have (48 0F 1F C0
    is nop rax, 48 0F 50 C0 movmskps rax, xmm0), so those bytes are (bad).
    """
    maps: dict[int, list[Pattern]] = {}
    for form in forms(avx512=True):
        if form.signature() in SPELLED_OTHERWISE:
            continue
        pattern = Pattern(form)
        space, opcode, prefix = pattern.key
        for byte in range(opcode, opcode + (8 if form.plus_r else 1)):
            maps.setdefault(prefix << 16 | space << 8 | byte, []).append(pattern)
    for patterns in maps.values():
        for pattern in patterns:
            if pattern.form.vex is None and not pattern.evex and not any(
                    p.w and p.digit == pattern.digit for p in patterns):
                pattern.w = 0 if pattern.form.size == 32 else None
        # exact requirements first: "cqo" (W1) before a W-free form, "nop" (90) before
        # "xchg eax, r32" (90+r), which 90 means only with REX.B (41 90: xchg eax, r8d)
        patterns.sort(key=lambda p: (p.w is None, p.fixed_modrm < 0, p.form.plus_r))
    # a slot of /digit forms only (83: add, or, ... cmp) becomes eight lists, one per
    # ModRM.reg value, so that decoding indexes instead of trying each form
    for key, patterns in maps.items():
        if all(p.digit is not None for p in patterns):
            maps[key] = tuple([p for p in patterns if p.digit == d] for d in range(8))
    return maps


@lru_cache(maxsize=None)
def _wide_with_66() -> frozenset[int]:
    """Map keys with a 66 prefix that REX.W turns into the 64-bit form without it
    (66 REX.W 01: add r/m64, the 66 ignored): the key without 66 has a REX.W form, or
    a form 64-bit without one (66 REX.W 58: pop r64, as push/pop default to 64 bits),
    and the key with 66 has none (66 REX.W 0F 3A 16 is pextrq; 66 REX.W 0F 10 is movupd,
    where 66 is a mandatory prefix and W is ignored)."""
    maps = opcode_maps()

    def patterns(key: int) -> list:
        slot = maps.get(key, ())
        return [p for group in slot for p in group] if type(slot) is tuple else slot

    def has_w(key: int) -> bool:
        return any(p.w == 1 for p in patterns(key))

    def wide(key: int) -> bool:
        return any(p.w == 1 or p.form.size == 64 for p in patterns(key))

    return frozenset(key for key in maps if key >> 16 & 0xFF == 0x66
                     and key >> 8 & 0xFF < VEX_SPACE and not has_w(key)
                     and wide(key & ~0xFF0000))


# --- decoding ---------------------------------------------------------------------------

#: legacy prefix -> its group (an instruction has at most one of each)
_PREFIX_GROUP = {0x66: 0, 0xF0: 1, 0xF2: 1, 0xF3: 1, 0x2E: 2, 0x3E: 2, 0x64: 2, 0x65: 2,
                 0x67: 3}
#: the address-size prefix: a ModRM memory operand's address is computed from 32-bit
#: registers ([eax+ecx*4+0x8]).  Only that is decoded, the 32-bit addresses the assembler
#: writes; where 67 means anything else, objdump writes a word minijit's assembler does not
#: take, and the bytes are (bad): 67 without a memory operand ("addr32 add eax,eax"), with
#: movabs (a 4-byte moffs), string instructions (esi, edi), jrcxz (jecxz) or loop (ecx);
#: [eip+disp32] and the absolute [eiz*1+disp32] (no base, no index), which the assembler
#: does not write either; and the NO_ADDRESS_SIZE forms
ADDRESS_SIZE = 0x67
#: fs and gs bases are real (thread-local storage): written on the memory operand
_SEGMENTS = {0x64: "fs:", 0x65: "gs:"}
#: cs and ds overrides are ignored in 64-bit mode but kept by objdump and as as a word
#: before the mnemonic (3E before an indirect branch is CET's "notrack"); GNU as will
#: not write ss or es in 64-bit mode, so those bytes are (bad)
_NULL_SEGMENTS = {0x2E: "cs ", 0x3E: "ds "}
_NULL_SEGMENT_WORDS = frozenset(_NULL_SEGMENTS.values())
_NOTRACK = frozenset(("jmp", "call"))
#: string instructions (movs, cmps, stos, lods, scas), which F3/F2 repeat: the table
#: lists them bare, and the repeat prefix is a word before the mnemonic as in GNU as
_STRING_OPCODES = frozenset(code + wide for code in STRING_OPCODES.values() for wide in (0, 1))
#: the word for F3 and F2 (F3 before cmps/scas repeats while equal: repz)
_REPEATS = {0xF300: "rep ", 0xF200: "repnz "}
_REPEAT_WHILE = {0xF300: "repz ", 0xF200: "repnz "}
#: F3 C3 is "repz ret" to objdump and GNU as (F2 C3 is MPX's bnd ret: not decoded)
_RET = 0xC3
#: what F0 (lock) may precede: these, with a memory destination
_LOCKABLE = frozenset("add adc and btc btr bts cmpxchg dec inc neg not or sbb sub xor xadd "
                      "xchg".split())
_SCALES = ("*1", "*2", "*4", "*8")
_MASK64 = (1 << 64) - 1


class _Bad(Exception):
    """The bytes at this position are not an instruction of the table."""


def _hex(value: int) -> str:
    return f"-{-value:#x}" if value < 0 else f"{value:#x}"


def decode(code: bytes, pos: int = 0, address: int = 0,
           symbols: Mapping[int, str] | None = None) -> Instruction:
    """The instruction at ``code[pos:]``, taken to be at ``address``; ``(bad)`` if none."""
    try:
        return _decode(code, pos, address, symbols, opcode_maps())
    except (_Bad, IndexError):
        return Instruction(address, bytes(code[pos:pos + 1]), "(bad)", ())


def disassemble(code: bytes, address: int = 0,
                symbols: Mapping[int, str] | None = None) -> list[Instruction]:
    """Every instruction of ``code`` loaded at ``address``, ``(bad)`` for undecodable bytes.

    ``symbols`` maps addresses to names: a branch or rip-relative operand aimed
    at a named address shows ``<name>`` after the instruction.
    """
    code = bytes(code)
    maps = opcode_maps()
    end = len(code)
    pos = 0
    out = []
    append = out.append
    while pos < end:
        try:
            ins = _decode(code, pos, (address + pos) & _MASK64, symbols, maps)
        except (_Bad, IndexError):
            ins = Instruction((address + pos) & _MASK64, code[pos:pos + 1], "(bad)", ())
        append(ins)
        pos += len(ins.bytes)
    return out


def _decode(code: bytes, pos: int, address: int, symbols: Mapping[int, str] | None,
            maps: dict) -> Instruction:
    start = pos
    # 1. legacy prefixes, each group at most once
    groups = 0
    prefix = 0
    lock = False
    segment = word = ""
    gpr = _GPR64   # address registers: _GPR32 under the address-size prefix
    byte = code[pos]
    while byte in _PREFIX_GROUP:
        bit = 1 << _PREFIX_GROUP[byte]
        if groups & bit:
            raise _Bad
        groups |= bit
        if byte in _SEGMENTS:
            segment = _SEGMENTS[byte]
        elif byte == 0xF0:
            lock = True
        elif byte in _NULL_SEGMENTS:
            word = _NULL_SEGMENTS[byte]
        elif byte == ADDRESS_SIZE:
            gpr = _GPR32
        else:
            prefix |= _PREFIX_KEYS[byte]
        pos += 1
        byte = code[pos]
    prefixes_end = pos
    # 2. REX, or VEX/EVEX (whose R X B vvvv are stored inverted)
    rex = 0
    rex_at = vex_at = -1
    vvvv = 0
    vex_l = 0
    evex = high_reg = high_rm = mask = zeroing = broadcast = 0
    if 0x40 <= byte <= 0x4F:
        rex = byte
        rex_at = pos
        pos += 1
        byte = code[pos]
    if byte == 0xC5 or byte == 0xC4:
        if rex or prefix:
            raise _Bad  # a VEX prefix after REX, 66, F2 or F3 is #UD
        vex_at = pos
        b1 = code[pos + 1]
        if byte == 0xC5:
            # C5 [R vvvv L pp]: map 0F, W0
            b2 = b1
            rex = 0x40 | (~b1 >> 5) & 4
            space = VEX_SPACE | MAP_0F
            pos += 2
        else:
            # C4 [R X B m-mmmm] [W vvvv L pp]
            if not 1 <= b1 & 0x1F <= 3:
                raise _Bad  # maps 0F, 0F 38, 0F 3A only; the rest are reserved (#UD)
            b2 = code[pos + 2]
            rex = 0x40 | (~b1 >> 5) & 7 | (b2 >> 4) & 8
            space = VEX_SPACE | (b1 & 0x1F)
            pos += 3
        vvvv = (~b2 >> 3) & 15
        vex_l = (b2 >> 2) & 1
        prefix = _VEX_PP[b2 & 3]
        opcode_at = pos
    elif byte == 0x62:
        if rex or prefix:
            raise _Bad
        vex_at = pos
        # 62 [R X B R' 0 0 m m] [W vvvv 1 pp] [z L'L b V' aaa]
        p0, p1, p2 = code[pos + 1], code[pos + 2], code[pos + 3]
        if p0 & 0x0C or not p1 & 4 or not p0 & 3:
            raise _Bad
        evex = 1
        rex = 0x40 | (~p0 >> 5) & 7 | (p1 >> 4) & 8
        high_reg = (~p0 & 0x10)             # R': ModRM.reg + 16
        high_rm = (~p0 >> 2) & 0x10         # X: ModRM.rm + 16 when it is a register
        vvvv = (~p1 >> 3) & 15 | (~p2 << 1) & 0x10
        vex_l = (p2 >> 5) & 3
        zeroing = p2 >> 7
        broadcast = (p2 >> 4) & 1
        mask = p2 & 7
        space = EVEX_SPACE | (p0 & 3)
        prefix = _VEX_PP[p1 & 3]
        pos += 4
        opcode_at = pos
    else:
        # 3. opcode map escapes
        opcode_at = pos
        space = LEGACY
        if byte == 0x0F:
            byte = code[pos + 1]
            if byte == 0x38:
                space = MAP_0F38
                pos += 2
            elif byte == 0x3A:
                space = MAP_0F3A
                pos += 2
            else:
                space = MAP_0F
                pos += 1
    opcode = code[pos]
    pos += 1
    if rex & 8 and prefix & 0xFF == 0x66 and space < VEX_SPACE \
            and prefix << 16 | space << 8 | opcode in _wide_with_66():
        prefix &= ~0xFF   # REX.W wins over the operand-size prefix: 64-bit operands
    candidates = maps.get(prefix << 16 | space << 8 | opcode)
    if candidates is None:
        repeat = prefix & 0xFF00
        if not (repeat and space == LEGACY and not word and (
                opcode in _STRING_OPCODES or opcode == _RET and prefix == 0xF300)):
            raise _Bad
        compares = opcode in (0xA6, 0xA7, 0xAE, 0xAF, _RET)
        word = (_REPEAT_WHILE if compares else _REPEATS)[repeat]
        candidates = maps.get((prefix & 0xFF) << 16 | space << 8 | opcode)
        if candidates is None:
            raise _Bad
    # 4. the first pattern whose requirements hold
    if type(candidates) is tuple:
        modrm = code[pos]
        digit = (modrm >> 3) & 7
        candidates = candidates[digit]
    elif candidates[0].modrm:
        modrm = code[pos]
        digit = (modrm >> 3) & 7
    else:
        modrm = 0xC0
        digit = -1
    w = (rex >> 3) & 1
    rex_bits = rex & 7
    is_register = modrm >= 0xC0
    for pattern in candidates:
        if ((pattern.w is None or pattern.w == w)
                and not rex_bits & ~pattern.uses   # R X B only where an operand reads them
                and (pattern.digit is None or pattern.digit == digit)
                and (pattern.fixed_modrm < 0 or pattern.fixed_modrm == modrm)
                and pattern.mod[is_register]
                and (pattern.vex_l is None or pattern.vex_l == vex_l)):
            break
    else:
        raise _Bad
    if evex and ((mask and not pattern.masked) or (zeroing and not (mask and pattern.zeroing))
                 or (broadcast and (modrm >= 0xC0 or not pattern.bcst_bytes))):
        raise _Bad  # a mask, zeroing or broadcast the form does not take
    operands_spec = pattern.operands
    modrm_at = sib_at = disp_at = -1
    disp_size = 0
    memory = ""
    rip = False
    disp = 0
    if pattern.modrm:
        modrm_at = pos
        pos += 1
        mod = modrm >> 6
        rm = modrm & 7
        if mod != 3:
            base = index = ""
            if rm == 4:
                sib_at = pos
                sib = code[pos]
                pos += 1
                index_num = (sib >> 3) & 7 | (rex & 2) << 2
                if index_num != 4:
                    index = gpr[index_num] + _SCALES[sib >> 6]
                elif sib >> 6:
                    raise _Bad  # a scaled "no index" (riz) is not an operand as writes
                if sib & 7 == 5 and mod == 0:
                    disp_size = 4  # no base: [index*scale + disp32], or absolute [disp32]
                    if not index and gpr is _GPR32:
                        raise _Bad  # [eiz*1+disp32]
                else:
                    base = gpr[sib & 7 | (rex & 1) << 3]
            elif rm == 5 and mod == 0:
                if gpr is _GPR32:
                    raise _Bad  # [eip+disp32]
                base = "rip"
                rip = True
                disp_size = 4
            else:
                base = gpr[rm | (rex & 1) << 3]
            if mod == 1:
                disp_size = 1
            elif mod == 2:
                disp_size = 4
            if disp_size:
                disp_at = pos
                if pos + disp_size > len(code):
                    raise _Bad
                disp = int.from_bytes(code[pos:pos + disp_size], "little", signed=True)
                pos += disp_size
                if evex and disp_size == 1:   # disp8*N: compressed by the access size
                    disp *= pattern.bcst_bytes if broadcast else pattern.mem_bytes
            inner = base + "+" + index if base and index else base or index
            if not inner:
                inner = _hex(disp)
            elif disp_size:
                inner += _hex(disp) if disp < 0 else "+" + _hex(disp)
            memory = segment + "[" + inner + "]"
            segment = ""
    if segment and pattern.form.moffs_i < 0:
        raise _Bad  # fs/gs only mean something before a memory operand
    if gpr is _GPR32 and not (memory and pattern.addr32):
        raise _Bad  # 67 only makes a ModRM memory operand's address 32-bit
    imm_at = pos
    end = pos + pattern.imm_size
    if end > len(code):
        raise _Bad
    target = None
    operands = []
    for op in operands_spec:
        role = op.role
        if role == RM:
            if broadcast:   # one element, repeated in every lane: {1toN}
                lanes = (16 << vex_l) // pattern.bcst_bytes
                operands.append(f"{_SIZE_PTR[8 * pattern.bcst_bytes]}{memory}{{1to{lanes}}}")
                continue
            if memory:
                operands.append(op.ptr + memory)
                continue
            if not op.names:
                raise _Bad
            num = modrm & 7 | (rex & 1) << 3 | high_rm
        elif role == REG:
            num = digit | (rex & 4) << 1 | high_reg
        elif role == IMM:
            operands.append(_hex(int.from_bytes(code[pos:pos + op.size], "little",
                                                signed=op.signed)))
            pos += op.size
            continue
        elif role == FIXED:
            operands.append(op.text)
            continue
        elif role == VVVV:
            num = vvvv
        elif role == OPREG:
            num = opcode & 7 | (rex & 1) << 3
        elif role == REL:
            displacement = int.from_bytes(code[pos:pos + op.size], "little", signed=True)
            pos += op.size
            target = (address + end - start + displacement) & _MASK64
            operands.append(_hex(target))
            continue
        elif role == MOFFS:   # movabs: a 64-bit absolute address after the opcode
            value = int.from_bytes(code[pos:pos + MOFFS_BYTES], "little")
            pos += MOFFS_BYTES
            operands.append(f"{op.ptr}{segment}[{_hex(value)}]")
            continue
        else:  # IS4: a register in the high four bits of an immediate byte
            num = code[pos] >> 4
            pos += 1
        names = op.names
        if num >= len(names):
            raise _Bad
        if names is _GPR8 and 4 <= num < 8 and not rex:
            operands.append(_HIGH8[num])  # without REX, byte registers 4-7 are ah..bh
        else:
            operands.append(names[num])
    if rip:
        target = (address + end - start + disp) & _MASK64
    if vex_at >= 0 and vvvv and not any(op.role == VVVV for op in operands_spec):
        raise _Bad  # VEX.vvvv is 1111b when no operand lives there
    if mask:
        operands[0] += f"{{k{mask}}}{{z}}" if zeroing else f"{{k{mask}}}"
    layout = (start, prefixes_end, rex_at, vex_at, opcode_at, modrm_at, sib_at, disp_at,
              disp_size, imm_at if pattern.imm_size else -1)
    mnemonic = pattern.mnemonic
    if word:
        if word == "ds " and mnemonic in _NOTRACK and target is None:
            word = "notrack "
        elif not memory and word in _NULL_SEGMENT_WORDS:
            raise _Bad  # as drops a cs/ds word that has no memory operand to apply to
        mnemonic = word + mnemonic
    if lock:
        if pattern.mnemonic not in _LOCKABLE or not memory or operands_spec[0].role != RM:
            raise _Bad  # lock only makes a read-modify-write of memory atomic
        mnemonic = "lock " + mnemonic
    return Instruction(address, code[start:end], mnemonic, tuple(operands), target,
                       rip, symbols.get(target) if symbols and target is not None else None,
                       pattern, layout)
