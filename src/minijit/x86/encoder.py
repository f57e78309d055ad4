"""The encoder: operands in, the table's form out, then its bytes.

Selecting a form is one dict lookup: ``kinds_table(mnemonic)[kinds]``, where ``kinds``
is the tuple of operand kinds (``("r64", "imm")``).  The entry is the short list of
candidate forms in table order (``add r/m64, imm8`` before ``add RAX, imm32`` before
``add r/m64, imm32``); the first one whose fixed registers and immediate range
accept the operands wins.  Nothing is searched beyond that list.
``minijit.x86.fastpath`` holds the same decision precomputed for the builder's fast
path (``_accepts`` states the same checks with reasons, for error messages).
GNU as's own choices (``rewrite``, the two-byte VEX swap) are applied by ``choose``.
The table (``KindsTable``) is made per mnemonic on its first use and fills in the
entry for a tuple of operand kinds on its first use, parsing only the table
entries that match: importing the encoder parses nothing, and a program pays
only for the operand combinations it uses.

Encoding a form follows the manual's byte order::

    [legacy prefixes] [REX | VEX] opcode [ModRM [SIB] [disp]] [imm]

``encode_fields`` gives the same bytes split into named fields with their meaning,
for ``minijit explain``; ``encode`` (the hot path) only concatenates them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from struct import Struct

from minijit.x86.errors import AsmError
from minijit.x86.registers import REGISTERS, Label, Masked, Mem, Reg
from minijit.x86.table import (
    ALL_ENTRIES,
    CONDITION_ALIASES,
    MEM_SIZED,
    Form,
    entries_of,
    form_at,
    forms_of,
    operand_specs,
)

__all__ = [
    "KindsTable",
    "address_bytes",
    "byte_register_rex",
    "canonical",
    "choose",
    "describe_kinds",
    "encode",
    "encode_fields",
    "forget_addresses",
    "form_fields",
    "kinds_table",
    "operand_address",
    "rewrite",
    "scaled_address",
    "select",
]

AMBIGUOUS = "ambiguous"
# Mnemonics with operand combinations GNU as encodes as another instruction (rewrite()).
REWRITTEN = {"mov", "xchg", "imul", "movq", "movd", "int"}
# Unsized memory operands these take default to this size (as in GNU as): the stack
# and indirect branches work on 64-bit words.
DEFAULT_MEMORY_SIZE = {"push": 64, "pop": 64, "call": 64, "jmp": 64}
SCALE_BITS = {1: 0, 2: 1, 4: 2, 8: 3}
_BYTE = [bytes((value,)) for value in range(256)]
MNEMONIC_ALIASES: dict[str, str] = {}
for _alias, _cond in CONDITION_ALIASES.items():
    for _stem in ("j", "set", "cmov"):
        MNEMONIC_ALIASES[_stem + _alias] = _stem + _cond


def canonical(mnemonic: str) -> str:
    """The table's name for ``mnemonic`` (``jz`` -> ``je``, ``cmovnae`` -> ``cmovb``)."""
    return MNEMONIC_ALIASES.get(mnemonic, mnemonic)


def _needs_check(form: Form) -> bool:
    """Whether :func:`_accepts` must look at the operands (else kinds decide alone)."""
    return form.imm_i >= 0 or form.moffs_i >= 0 or any(f is not None for f in form.fixed)


def _lookup_kinds(kinds: tuple[str, ...], evex: bool, marks: tuple[str, ...]) -> list[str]:
    """The selection kinds (``Reg.sel``...) an operand of concrete ``kinds`` accepts.

    Unsized memory ``m`` matches sized specs; EVEX forms also take registers 16-31
    (``xmm16+``) and, on a maskable destination (``marks``), ``{k}`` and ``{k}{z}``
    variants.
    """
    expanded = []
    for kind in kinds:
        if kind == "m":
            expanded += [*MEM_SIZED, "m"]
        elif kind in MEM_SIZED:
            expanded += [kind, "m"]
        else:
            expanded.append(kind)
        if evex and kind in ("xmm", "ymm", "zmm"):
            expanded.append(kind + "16+")
    expanded += [k + mark for k in expanded if k != "m" for mark in marks]
    return expanded


@cache
def _accepts_kinds(operands: str, evex: bool) -> tuple[frozenset, ...]:
    """Per operand, the selection kinds a table entry with this operand string accepts
    (read from the strings alone, so that matching parses no form; cached, since many
    entries share one)."""
    _, kinds, _, masked, zeroing, _ = operand_specs(operands)
    marks = ("{k}", "{k}{z}") if zeroing else ("{k}",) if masked else ()
    return tuple(frozenset(_lookup_kinds(k, evex, marks if i == 0 else ()))
                 for i, k in enumerate(kinds))


class KindsTable:
    """One mnemonic's selection table: operand kinds -> the candidate forms
    ``(form, needs_check)`` in table order, or AMBIGUOUS where unsized memory would
    fit forms of different sizes.

    An entry is made the first time its kinds are asked for (``get``), by matching
    the mnemonic's table entries on their operand specs (sets made once), and only
    the matching entries are parsed into forms; later lookups are one dict lookup.
    So a mnemonic costs only the operand combinations a program uses.  The table
    entries to match are found by the first operand's kind (``by_first``, in table
    order): a vector instruction's many xmm, ymm, zmm and masked entries are not all
    tried for each new combination.
    """

    __slots__ = ("by_first", "entries", "mnemonic", "nullary")

    def __init__(self, mnemonic: str, indexes: list[int]) -> None:
        self.mnemonic = mnemonic
        self.by_first: dict[str, list[tuple[int, tuple[frozenset, ...]]]] = {}
        self.nullary = []  # entries without operands
        for i in indexes:
            sets = _accepts_kinds(ALL_ENTRIES[i][1], ALL_ENTRIES[i][2][:5] == "EVEX.")
            if not sets:
                self.nullary.append((i, sets))
            for kind in sets[0] if sets else ():
                self.by_first.setdefault(kind, []).append((i, sets))
        self.entries: dict[tuple, object] = {}

    def get(self, kinds: tuple) -> object:
        """The candidates for ``kinds`` (a tuple of ``Reg.sel``...), None if no form
        takes them."""
        try:
            return self.entries[kinds]
        except KeyError:
            pass
        tried = self.by_first.get(kinds[0], ()) if kinds else self.nullary
        cands = [(form, _needs_check(form)) for form in (
            form_at(i) for i, sets in tried
            if len(sets) == len(kinds) and all(k in s for k, s in zip(kinds, sets)))]
        entry: object = None
        if cands and "m" in kinds and len({f.mem_size for f, _ in cands}) > 1:
            size = DEFAULT_MEMORY_SIZE.get(self.mnemonic)
            cands = [c for c in cands if c[0].mem_size == size]
            entry = tuple(cands) if cands else AMBIGUOUS
        elif cands:
            entry = tuple(cands)
        if len(self.entries) < KINDS_LIMIT:
            self.entries[kinds] = entry
        return entry

    def __getitem__(self, kinds: tuple) -> object:
        entry = self.get(kinds)
        if entry is None:
            raise KeyError(kinds)
        return entry


#: entries kept per mnemonic (operand kinds are a small set; this bounds odd callers)
KINDS_LIMIT = 1 << 12
_KINDS_TABLES: dict[str, KindsTable] = {}


def kinds_table(mnemonic: str) -> KindsTable | None:
    """The selection table of a canonical ``mnemonic`` (made on its first use), None if
    the instruction table has no such mnemonic."""
    found = _KINDS_TABLES.get(mnemonic)
    if found is None:
        indexes = entries_of(mnemonic)
        if indexes:
            found = _KINDS_TABLES[mnemonic] = KindsTable(mnemonic, indexes)
    return found


def kind_of(op: object) -> str:
    """The operand kind of a builder operand (``rax`` -> ``"r64"``, ``5`` -> ``"imm"``)."""
    if type(op) is int:
        return "imm"
    if isinstance(op, (Reg, Mem, Masked)):
        return op.sel
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
    if form.moffs_i >= 0:
        m = ops[form.moffs_i]
        if m.base is not None or m.index is not None or m.label is not None:
            return f"{form.mnemonic} takes an absolute address ([number]), not [{m.address()}]"
        if not -(1 << 63) <= m.disp < (1 << 64):
            return f"address {m.disp:#x} does not fit in 64 bits"
    if form.plus_r and form.opcode == b"\x90" and form.size == 32 and ops[0] is ops[1]:
        # 90 is nop in 64-bit mode: xchg eax, eax must clear rax's top half.
        return "xchg eax, eax needs the ModRM form"
    return None


def select(mnemonic: str, ops: Sequence[object], table: dict | None = None) -> Form:
    """The table form that encodes ``mnemonic ops``, or AsmError saying why none does.

    ``table`` is ``kinds_table(canonical(mnemonic))`` when the caller has it at hand.
    """
    if table is None:
        table = kinds_table(canonical(mnemonic))
        if table is None:
            raise AsmError(f"unknown mnemonic {mnemonic!r}")
    try:
        kinds = tuple([op.sel if type(op) is not int else "imm" for op in ops])
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
    signatures = list(dict.fromkeys(f.signature() for f in forms_of(name)))
    hint = ""
    mems = sum(k[0] == "m" for k in kinds)
    sizes = {k for k in kinds if k in ("r8", "r16", "r32", "r64")}
    if any("16+" in k or "{" in k for k in kinds):
        hint = " (" + "; ".join(_avx512_reasons(kinds)) + ")"
    elif mems > 1:
        hint = " (at most one operand may be memory)"
    elif kinds and kinds[-1] in ("r16", "r32", "r64", "r8") and any(
            "CL" in f.operands for f in forms_of(name)):
        hint = " (a count in a register must be cl)"
    elif len(sizes) > 1:
        hint = " (operand sizes differ)"
    shown = "; ".join(signatures[:24]) + ("; ..." if len(signatures) > 24 else "")
    return f"no form for {describe_kinds(kinds)}{hint}; forms: {shown}"


def _avx512_reasons(kinds: tuple) -> list[str]:
    reasons = []
    if any("16+" in k for k in kinds):
        reasons.append("registers 16-31 need an AVX-512 (EVEX) form")
    if any("{" in k for k in kinds[1:]):
        reasons.append("a write mask goes on the destination only")
    if kinds[0].endswith("{z}"):
        reasons.append("zeroing {z} needs a register destination of an AVX-512 form")
    elif kinds[0].endswith("{k}"):
        reasons.append("a write mask needs an AVX-512 (EVEX) form")
    return reasons


# --- the byte fields ---------------------------------------------------------------------

#: address modes: how the displacement of a (base, index, scale) is stored
ABSOLUTE, BASED, BASED_DISP = 0, 1, 2  # always disp32 / mod by disp / never mod 00
ADDRESS_MODES_LIMIT = 1 << 12
NO_SIB = -1
_DISP8, _DISP32 = Struct("<b").pack, Struct("<i").pack


#: (base, index, scale) -> (ModRM rm bits, SIB byte or NO_SIB, X << 1 | B, mode), each
#: entry made on first use by ``_address_mode`` (a plain dict: one C lookup when known)
_ADDRESS_MODES: dict[tuple, tuple[int, int, int, int]] = {}


def _address_mode(key: tuple) -> tuple[int, int, int, int]:
    """The ``_ADDRESS_MODES`` entry of ``key`` from the encoding rules, kept for next
    time; a combination the encoding forbids raises AsmError saying why (and is not
    kept)."""
    base, index, scale = key
    if index is not None:
        if index.kind not in ("r64", "r32"):
            raise AsmError(f"index register {index.name} must be a 64-bit (or 32-bit) "
                           "register")
        if index.num == 4:
            raise AsmError(f"{index.name} cannot be an index register (SIB index 100 means "
                           "none)")
        if base is not None and base.kind in ("r64", "r32") and base.kind != index.kind:
            raise AsmError(f"base {base.name} and index {index.name} differ in size (both "
                           "64-bit, or both 32-bit for a 32-bit address)")
        bits = SCALE_BITS.get(scale)
        if bits is None:
            raise AsmError(f"scale must be 1, 2, 4 or 8, not {scale}")
    if base is None:
        # No base: mod=00 rm=100 with SIB base=101 means [index*scale + disp32]
        # (mod=00 rm=101 alone would be rip-relative).
        entry = (4, 0x25, 0, ABSOLUTE) if index is None else \
            (4, bits << 6 | index.code << 3 | 5, index.rex << 1, ABSOLUTE)
    elif base.kind == "rip":
        if index is not None:
            raise AsmError("rip-relative addresses cannot have an index register")
        entry = (5, NO_SIB, 0, ABSOLUTE)
    elif base.kind not in ("r64", "r32"):
        raise AsmError(f"base register {base.name} must be a 64-bit register (or 32-bit) "
                       "or rip")
    else:
        # rbp/r13 as base (low bits 101) with mod=00 would mean rip/no-base: disp8 0.
        mode = BASED_DISP if base.code == 5 else BASED
        if index is not None:
            entry = (4, bits << 6 | index.code << 3 | base.code,
                     index.rex << 1 | base.rex, mode)
        elif base.code == 4:
            # rsp/r12 as base (low bits 100) means "SIB follows": SIB with no index.
            entry = (4, 0x24, base.rex, mode)
        else:
            entry = (base.code, NO_SIB, base.rex, mode)
    if len(_ADDRESS_MODES) < ADDRESS_MODES_LIMIT:
        _ADDRESS_MODES[key] = entry
    return entry


def address_bytes(reg3: int, m: Mem, n: int = 1) -> tuple[bytes, int]:
    """ModRM, SIB and displacement bytes, and REX.X and REX.B as ``X << 1 | B``, for
    memory operand ``m``.

    ModRM = mod(2) reg(3) rm(3);  SIB = scale(2) index(3) base(3).  ``n`` is the EVEX
    disp8 scale: a displacement that is a multiple of n is stored as disp/n in 8 bits.
    """
    modrm, rest, xb, scaled = m.mode or operand_address(m)
    if n > 1 and m.disp:
        modrm, rest = scaled.get(n) or scaled_address(m, n)
    return _BYTE[modrm | reg3 << 3] + rest, xb


def operand_address(m: Mem) -> tuple[int, bytes, int, dict[int, tuple[int, bytes]]]:
    """What encodes ``m``: (ModRM with reg 0, the SIB and displacement bytes after it,
    X << 1 | B, and the first two under each EVEX disp8 scale used so far: see
    ``scaled_address``).

    All of it depends on the operand alone, so it is made once per operand and kept on
    it as ``Mem.mode`` (operands are interned: a stack slot used by many instructions
    makes it once).  An address the encoding forbids raises AsmError, each time."""
    shape = _shape(m)
    m.mode = entry = (*_address_tail(m, 1, shape), shape[2], {})
    return entry


def scaled_address(m: Mem, n: int) -> tuple[int, bytes]:
    """ModRM with reg 0 and the bytes after it for ``m`` in an EVEX instruction whose
    displacements scale by ``n`` (kept in ``Mem.mode``)."""
    scaled = (m.mode or operand_address(m))[3]
    scaled[n] = template = _address_tail(m, n, _shape(m))
    return template


def forget_addresses(operands: Iterable[Mem]) -> None:
    """Make ``operands`` forget their address bytes (``Mem.mode``), and forget the
    address shapes made so far: their next encoding makes them again."""
    _ADDRESS_MODES.clear()
    for m in operands:
        m.mode = None


def _shape(m: Mem) -> tuple[int, int, int, int]:
    """The ``_ADDRESS_MODES`` entry of ``m``'s registers."""
    key = (m.base, m.index, m.scale)
    return _ADDRESS_MODES.get(key) or _address_mode(key)


def _address_tail(m: Mem, n: int, shape: tuple[int, int, int, int]) -> tuple[int, bytes]:
    """ModRM with reg 0, and the SIB and displacement bytes after it, from the rules,
    for a disp8 scale ``n`` (1 outside EVEX)."""
    rm, sib, _, mode = shape
    disp = m.disp
    sib_bytes = b"" if sib < 0 else _BYTE[sib]
    if mode != ABSOLUTE:
        if disp == 0 and mode == BASED:
            return rm, sib_bytes
        scaled = disp // n
        if scaled * n == disp and -128 <= scaled <= 127:
            return 0x40 | rm, sib_bytes + _DISP8(scaled)
        rm |= 0x80
    # disp32: ABSOLUTE keeps mod 00 (no base, or rip)
    if not -(1 << 31) <= disp < (1 << 31):
        raise AsmError(f"displacement {disp:#x} does not fit in 32 bits")
    return rm, sib_bytes + _DISP32(disp)


def byte_register_rex(form: Form, ops: Sequence[object], rex: int) -> int:
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


def _components(form: Form, ops: Sequence[object]) -> tuple[bytes, ...]:
    """(segment and address-size prefixes, prefix, REX/VEX/EVEX, opcode, ModRM+SIB+disp,
    immediate) bytes of ``form`` on ``ops``."""
    aaa = z = 0
    if form.evex is not None and type(ops[0]) is Masked:
        aaa, z = ops[0].mask.num, ops[0].zero
        ops = (ops[0].op,) + tuple(ops[1:])
    reg3 = form.digit or 0
    r = x = b = r4 = 0
    rm_op = ops[form.rm_i] if form.rm_i >= 0 else None
    mem = rm_op if form.moffs_i < 0 else ops[form.moffs_i]
    # GNU as writes a segment override, then the address-size override (67: 32-bit
    # address registers), before the operand-size prefix
    address_prefixes = b""
    if type(mem) is Mem:
        if mem.segment:
            address_prefixes = mem.segment.prefix
        if mem.addr32:
            address_prefixes += b"\x67"
    if form.reg_i >= 0:
        reg = ops[form.reg_i]
        reg3, r, r4 = reg.code, reg.rex, reg.num >> 4
    tail = b""
    opcode = form.opcode
    if form.modrm:
        if type(rm_op) is Reg:
            tail = bytes((0xC0 | reg3 << 3 | rm_op.code,))
            b = rm_op.rex
            x = rm_op.num >> 4  # EVEX: bit 4 of a register in rm travels in X
        elif form.evex is not None:
            n = rm_op.size // 8 if rm_op.bcst else form.mem_size // 8
            tail, xb = address_bytes(reg3, rm_op, n)
            x, b = xb >> 1, xb & 1
        else:
            tail, xb = address_bytes(reg3, rm_op)
            x, b = xb >> 1, xb & 1
    elif form.plus_r:
        b = rm_op.rex
        opcode = opcode[:-1] + bytes((opcode[-1] + rm_op.code,))
    if form.vex is not None:
        length, pp, opmap, w = form.vex
        v = ops[form.v_i].num if form.v_i >= 0 else 0
        low = (~v & 15) << 3 | length << 2 | pp
        if not (x or b or w) and opmap == 1:
            # C5 | R' vvvv' L pp           (R and vvvv stored inverted)
            head = bytes((0xC5, (r ^ 1) << 7 | low))
        else:
            # C4 | R' X' B' mmmmm | W vvvv' L pp
            head = bytes((0xC4, (r ^ 1) << 7 | (x ^ 1) << 6 | (b ^ 1) << 5 | opmap, w << 7 | low))
    elif form.evex is not None:
        length, pp, opmap, w = form.evex
        v = ops[form.v_i].num if form.v_i >= 0 else 0
        bcst = form.rm_i >= 0 and type(rm_op) is Mem and rm_op.bcst
        # 62 | R' X' B' R4' 0 mmm | W vvvv' 1 pp | z L'L b V4' aaa   (' = inverted)
        head = bytes((0x62,
                      (r ^ 1) << 7 | (x ^ 1) << 6 | (b ^ 1) << 5 | (r4 ^ 1) << 4 | opmap,
                      w << 7 | (~v & 15) << 3 | 4 | pp,
                      z << 7 | length << 5 | bcst << 4 | (v >> 4 ^ 1) << 3 | aaa))
    else:
        # REX = 0100 W R X B
        bits = form.rex_w << 3 | r << 2 | x << 1 | b
        rex = 0x40 | bits if bits else 0
        if form.byte_regs:
            rex = byte_register_rex(form, ops, rex)
        head = bytes((rex,)) if rex else b""
    imm = b""
    if form.moffs_i >= 0:
        # movabs: the absolute address, eight bytes, where an immediate would be
        imm = (ops[form.moffs_i].disp & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")
    elif form.imm_size:
        if form.is4:
            imm = bytes((ops[form.is4_i].num << 4,))
        else:
            size = form.imm_size
            imm = (ops[form.imm_i] & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
    return address_prefixes, form.prefix, head, opcode, tail, imm


def encode(form: Form, ops: Sequence[object]) -> bytes:
    """The bytes of ``form`` applied to ``ops`` (as checked by :func:`select`)."""
    return b"".join(_components(form, ops))


def form_fields(form: Form, ops: Sequence[object]) -> list[tuple[str, bytes, str]]:
    """The bytes of ``form`` on ``ops`` as ``(field, bytes, meaning)`` triples, in order.

    ``b"".join(f[1] for f in form_fields(...)) == encode(...)``.
    """
    address_prefixes, prefix, head, opcode, tail, imm = _components(form, ops)
    fields = []
    for byte in address_prefixes:
        fields.append(_ADDRESS_PREFIX_FIELDS[byte])
    if prefix:
        fields.append(("prefix", prefix, "operand-size or mandatory prefix"))
    if head:
        fields.append(_describe_head(head))
    if form.plus_r:
        fields.append(("opcode", opcode, f"opcode + register {ops[form.rm_i]!r}"))
    else:
        fields.append(("opcode", opcode, "opcode"))
    if tail:
        modrm = tail[0]
        mod, rm = modrm >> 6, modrm & 7
        fields.append(("modrm", tail[:1], f"ModRM mod={mod} reg={modrm >> 3 & 7} rm={rm}"))
        rest = tail[1:]
        if mod != 3 and rm == 4:  # rm=100 with a memory mod: a SIB byte follows
            sib = rest[0]
            meaning = f"SIB scale={1 << (sib >> 6)} index={sib >> 3 & 7} base={sib & 7}"
            fields.append(("sib", rest[:1], meaning))
            rest = rest[1:]
        if rest:
            value = int.from_bytes(rest, "little", signed=True)
            scaled = " (EVEX disp8*N: times the operand size)" if head[:1] == b"\x62" and \
                len(rest) == 1 else ""
            fields.append(("disp", rest, f"displacement {value}{scaled}"))
    if form.rel_size:
        fields.append(("rel", bytes(form.rel_size), "branch displacement (set at layout)"))
    if form.moffs_i >= 0:
        fields.append(("moffs", imm, f"absolute address {ops[form.moffs_i].disp:#x}"))
    elif imm:
        meaning = f"is4 register {ops[form.is4_i]!r}" if form.is4 else \
            f"immediate {ops[form.imm_i]}"
        fields.append(("imm", imm, meaning))
    return fields


_ADDRESS_PREFIX_FIELDS = {
    0x64: ("segment", b"\x64", "fs segment override"),
    0x65: ("segment", b"\x65", "gs segment override"),
    0x67: ("addr32", b"\x67", "address-size override: 32-bit address registers"),
}


def _describe_head(head: bytes) -> tuple[str, bytes, str]:
    """The REX, VEX or EVEX prefix with its bits named."""
    first = head[0]
    if first == 0x62:
        p0, p1, p2 = head[1], head[2], head[3]
        v = ~p1 >> 3 & 15 | (p2 >> 3 & 1 ^ 1) << 4
        meaning = (f"EVEX R={p0 >> 7 ^ 1} X={p0 >> 6 & 1 ^ 1} B={p0 >> 5 & 1 ^ 1} "
                   f"R'={p0 >> 4 & 1 ^ 1} map={p0 & 7} W={p1 >> 7} vvvv={v} pp={p1 & 3} "
                   f"z={p2 >> 7} L'L={p2 >> 5 & 3} b={p2 >> 4 & 1} aaa={p2 & 7}")
        return "evex", head, meaning
    if first == 0xC5:
        meaning = (f"2-byte VEX R={head[1] >> 7 ^ 1} vvvv={~head[1] >> 3 & 15} "
                   f"L={head[1] >> 2 & 1} pp={head[1] & 3}")
        return "vex", head, meaning
    if first == 0xC4:
        meaning = (f"3-byte VEX R={head[1] >> 7 ^ 1} X={head[1] >> 6 & 1 ^ 1} "
                   f"B={head[1] >> 5 & 1 ^ 1} map={head[1] & 31} W={head[2] >> 7} "
                   f"vvvv={~head[2] >> 3 & 15} L={head[2] >> 2 & 1} pp={head[2] & 3}")
        return "vex", head, meaning
    meaning = f"REX W={first >> 3 & 1} R={first >> 2 & 1} X={first >> 1 & 1} B={first & 1}"
    return "rex", head, meaning


# --- choices GNU as makes -------------------------------------------------------------

R32 = {r: REGISTERS["e" + r.name[1:]] if r.name[1:] in ("ax", "cx", "dx", "bx", "sp", "bp",
                                                        "si", "di")
        else REGISTERS[r.name + "d"] for r in REGISTERS.values() if r.kind == "r64"}


_MOV_SIZE = {"movq": 64, "movd": 32}


def _sized(op: object, size: int) -> object:
    """An unsized memory operand given ``size``; anything else unchanged."""
    if type(op) is Mem and op.size == 0:
        return Mem(size, op.address(), op.bcst, op.segment)
    return op


def _far_absolute(op: object) -> bool:
    """A memory operand at an absolute address that no sign-extended disp32 reaches."""
    return type(op) is Mem and op.base is None and op.index is None and op.label is None \
        and not -(1 << 31) <= op.disp < (1 << 31)


def rewrite(mnemonic: str, ops: tuple) -> tuple[str, tuple]:
    """Equivalent instructions chosen on purpose, as ``(mnemonic, ops)``.

    ``mov r64, imm`` with 0 <= imm < 2**32 becomes ``mov r32, imm32`` (B8+r id, which
    zero-extends): five bytes instead of seven or ten, what GNU as picks with -O1.
    ``xchg rax, rax`` is ``nop`` (90) and ``int 3`` is ``int3`` (CC), as GNU as
    encodes them.  Like GNU as, ``imul r, imm`` means ``imul r, r, imm``, ``movd``
    between xmm and a 64-bit operand is ``movq``, ``movq``/``movd`` between
    general registers, memory and immediates (no vector register) mean ``mov``, and
    ``mov`` between the accumulator and an absolute address beyond a sign-extended
    disp32 is ``movabs`` (A0-A3: the address in eight bytes).
    """
    if mnemonic == "mov" and len(ops) == 2 and any(
            _far_absolute(mem) and type(reg) is Reg and reg.num == 0 and not reg.high8
            and reg.kind in ("r8", "r16", "r32", "r64") for reg, mem in (ops, ops[::-1])):
        return "movabs", ops
    if len(ops) == 2 and type(ops[0]) is Reg:
        if mnemonic == "mov" and type(ops[1]) is int and 0 <= ops[1] < 1 << 32:
            if ops[0].kind == "r64":
                return mnemonic, (R32[ops[0]], ops[1])
        elif mnemonic == "xchg" and ops[0] is ops[1] and ops[0].name == "rax":
            return "nop", ()
        elif mnemonic == "imul" and type(ops[1]) is int:
            return mnemonic, (ops[0], ops[0], ops[1])
    if mnemonic == "int" and ops == (3,) and type(ops[0]) is int:
        return "int3", ()
    if mnemonic == "movd" and len(ops) == 2 and {getattr(op, "size", 0) for op in ops} == {
            64, 128}:
        return "movq", ops
    if mnemonic in ("movq", "movd") and len(ops) == 2 and all(
            type(op) is int or type(op) in (Reg, Mem) and op.size in (_MOV_SIZE[mnemonic], 0)
            for op in ops):
        size = _MOV_SIZE[mnemonic]
        return rewrite("mov", tuple(_sized(op, size) for op in ops))
    return mnemonic, ops


def _two_byte_vex(mnemonic: str, ops: tuple, form: Form, code: bytes) -> tuple[Form, bytes]:
    """GNU as swaps a reg,reg VEX move to its other-direction form when that avoids
    the 3-byte VEX (only REX.B was needed): ``vmovaps xmm0, xmm8`` is C5 78 29 C0."""
    if not all(type(op) is Reg for op in ops):
        return form, code
    for other, _ in kinds_table(mnemonic)[tuple(op.kind for op in ops)]:
        if other.vex is not None:
            other_code = encode(other, ops)
            if other_code[0] == 0xC5:
                return other, other_code
    return form, code


def choose(mnemonic: str, ops: tuple, table: dict | None = None) -> tuple[Form, tuple, bytes]:
    """The form, operands and bytes GNU as would give ``mnemonic ops``.

    ``mnemonic`` is canonical (see :func:`canonical`); ``table`` is its kinds_table.
    Applies :func:`rewrite`, then :func:`select`; bytes are b"" for branch forms (the
    assembler lays those out).
    """
    if mnemonic in REWRITTEN:
        mnemonic, ops = rewrite(mnemonic, ops)
        table = kinds_table(mnemonic)
    if mnemonic == "lea" and any(type(op) is Mem and op.segment for op in ops):
        # GNU as warns and writes the prefix; we refuse what would silently do nothing
        raise AsmError("a segment override has no effect on lea (it computes an address "
                       "and reads no memory)")
    form = select(mnemonic, ops, table)
    if form.rel_size:
        return form, ops, b""
    code = encode(form, ops)
    if code[0] == 0xC4 and form.vex[2] == 1 and not form.rex_w:
        form, code = _two_byte_vex(mnemonic, ops, form, code)
    return form, ops, code


def encode_fields(mnemonic: str,
                  ops: Sequence[object]) -> tuple[Form, list[tuple[str, bytes, str]]]:
    """The form chosen for ``mnemonic ops`` and its bytes as ``(field, bytes, meaning)``.

    ``b"".join(f[1] for f in fields)`` is what the assembler emits (``minijit explain``
    prints these).  Branch forms show their rel8 form with a zero displacement.
    """
    name = canonical(mnemonic)
    if kinds_table(name) is None:
        raise AsmError(f"unknown mnemonic {mnemonic!r}")
    form, ops, _ = choose(name, tuple(ops))
    return form, form_fields(form, ops)
