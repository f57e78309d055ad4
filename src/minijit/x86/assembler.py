"""The ``Assembler`` builder: one method per mnemonic, labels, data, branch relaxation.

Instructions are encoded as they are emitted and appended to one bytearray.  What
cannot be encoded yet is recorded in a side list of *items* with its position in
that bytearray:

- ``Bind``: a label's position;
- ``Branch``: a jump/call to a label, not yet in the bytearray (its size is not
  known until layout), or to a numeric address (``jmp 0x401000``: always the rel32
  form, as GNU as gives, since the target lies outside the code; its displacement
  depends on the load address given to ``assemble()``);
- ``Fixup``: an instruction already in the bytearray whose rip-relative disp32
  points at a label (fixed size, patched after layout);
- ``Align``: padding with multi-byte nops to a power-of-two boundary;
- ``Absolute``: a ``dq`` of a label, patched with the load address (``assemble(address)``)
  plus the label's offset (jump tables, pointers to constants).

``assemble()`` lays the code out as GNU as relaxes branches (see ``_relax``): every
branch that has a rel8 form starts short and grows to rel32 when its target is out
of reach, until nothing changes.  Then the pieces are joined and fixups patched.

Speed: each mnemonic method goes from its operands' kinds straight to a closure
that makes the bytes of the one form those kinds select (``fastpath``), made on
the kinds' first use.  The bytes themselves are not cached: keeping every operand
tuple as a key cost a new instruction about a fifth of its time (the store and
the garbage collector's scans of the kept tuples), more than repeats gained back
in the compiler, whose instructions repeat about three times in four.
"""

from __future__ import annotations

import functools
import keyword
import struct
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from minijit.x86.encoder import (
    MNEMONIC_ALIASES,
    canonical,
    choose,
    forget_addresses,
    kinds_table,
)
from minijit.x86.errors import AsmError
from minijit.x86.fastpath import direct_entry
from minijit.x86.registers import SEL_NUMBERS, Label, Mem, memory_operands, sel_number
from minijit.x86.table import CONDITION_ALIASES, CONDITIONS, MNEMONICS, STRING_MNEMONICS

__all__ = ["METHODS", "NOPS", "PREFIXES", "Assembler", "clear_caches", "nop_padding"]

DIRECT_LIMIT = 1 << 10  # fast-path entries per method: operand kinds are a small set
MAX_ALIGN = 1 << 16

# GNU as's nop patterns for padding (x86-64): 1 to 11 bytes; longer runs are 11-byte
# nops followed by the remainder.
NOPS = [
    b"",
    bytes.fromhex("90"),
    bytes.fromhex("6690"),
    bytes.fromhex("0f1f00"),
    bytes.fromhex("0f1f4000"),
    bytes.fromhex("0f1f440000"),
    bytes.fromhex("660f1f440000"),
    bytes.fromhex("0f1f8000000000"),
    bytes.fromhex("0f1f840000000000"),
    bytes.fromhex("660f1f840000000000"),
    bytes.fromhex("662e0f1f840000000000"),
    bytes.fromhex("66662e0f1f840000000000"),
]


def nop_padding(count: int) -> bytes:
    """``count`` bytes of nops, as GNU as pads code for ``.p2align``."""
    return NOPS[11] * (count // 11) + NOPS[count % 11]


def operand_text(op: object) -> str:
    """An operand as GNU as's Intel syntax writes it (for messages)."""
    if isinstance(op, Label):
        return op.name
    if type(op) is int:
        return hex(op) if abs(op) > 9 else str(op)
    return repr(op)


def instruction_text(mnemonic: str, ops: Sequence[object]) -> str:
    return f"{mnemonic} {', '.join(operand_text(o) for o in ops)}".strip()


SEGMENT_PREFIXES = (0x64, 0x65)  # fs, gs
PREFIXES = {"lock": 0xF0, "rep": 0xF3, "repe": 0xF3, "repz": 0xF3, "repne": 0xF2,
            "repnz": 0xF2}
LOCKABLE = frozenset(("add", "adc", "and", "btc", "btr", "bts", "cmpxchg", "dec", "inc",
                      "neg", "not", "or", "sbb", "sub", "xor", "xadd", "xchg"))
#: rep/repe/repz may also precede a bare ret (F3 C3, "rep ret": AMD's branch
#: predictors once mispredicted a ret that was a branch target)
REPEATED_RET = frozenset(("rep", "repe", "repz"))


class Prefixed:
    """``a.lock`` / ``a.rep``...: its attributes emit an instruction with that prefix."""

    __slots__ = ("asm", "prefix")

    def __init__(self, asm: Assembler, prefix: str) -> None:
        self.asm = asm
        self.prefix = prefix

    def __getattr__(self, mnemonic: str):
        def emit(*ops: object) -> None:
            self.asm.prefixed(self.prefix, mnemonic, ops)

        return emit


class Branch:
    """A jump or call to a label, or to the numeric ``address`` (then ``label`` is
    None): rel8 form ``short`` (may be None), rel32 form ``near``."""

    __slots__ = ("address", "label", "long", "mnemonic", "near", "pos", "short")

    def __init__(self, pos: int, label: Label | None, short: bytes | None,
                 near: bytes | None, mnemonic: str, address: int = 0) -> None:
        self.pos = pos
        self.label = label
        self.address = address
        self.short = short
        self.near = near
        self.long = short is None
        self.mnemonic = mnemonic

    @property
    def text(self) -> str:
        """The instruction as GNU as writes it, for messages (made only for one)."""
        return instruction_text(self.mnemonic,
                                (self.address if self.label is None else self.label,))


class Fixup:
    """A rip-relative disp32 at ``disp_pos`` in an instruction ending at ``end``."""

    __slots__ = ("addend", "disp_pos", "label", "pos", "text")

    def __init__(self, end: int, disp_pos: int, label: Label, addend: int, text: str) -> None:
        self.pos = end
        self.disp_pos = disp_pos
        self.label = label
        self.addend = addend
        self.text = text


class Absolute:
    """A 64-bit data word at ``pos`` (already in the bytearray) that holds a label's
    absolute address: the load address given to ``assemble()`` plus its offset."""

    __slots__ = ("label", "pos", "text")

    def __init__(self, pos: int, label: Label, text: str) -> None:
        self.pos = pos
        self.label = label
        self.text = text


class Bind:
    __slots__ = ("label", "pos")

    def __init__(self, pos: int, label: Label) -> None:
        self.pos = pos
        self.label = label


class Align:
    __slots__ = ("boundary", "pos")

    def __init__(self, pos: int, boundary: int) -> None:
        self.pos = pos
        self.boundary = boundary


class Assembler:
    """Build x86-64 code: ``a.mov(rax, 11); a.ret(); code = a.assemble()``.

    Methods are the table's lowercase mnemonics (``and_``, ``or_``, ``not_`` for
    Python keywords; condition aliases like ``jz``, ``setnae``, ``cmovnle`` too).
    """

    __slots__ = ("_buf", "_items", "_labels", "_offsets")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._items: list = []
        self._labels: list[Label] = []
        self._offsets: dict[Label, int] | None = None

    # --- labels, data, alignment --------------------------------------------------------

    def label(self, name: str | None = None) -> Label:
        """A new unbound label (``name`` is for messages and listings)."""
        label = Label(name or f".L{len(self._labels)}", self, len(self._labels))
        self._labels.append(label)
        return label

    def bind(self, label: Label) -> None:
        """Place ``label`` at the current position."""
        if label.owner is not self:
            raise AsmError(f"label {label.name!r} belongs to another assembler")
        if label.bound:
            raise AsmError(f"label {label.name!r} is already bound (duplicate label)")
        label.bound = True
        self._items.append(Bind(len(self._buf), label))

    def align(self, boundary: int) -> None:
        """Pad with nops to a multiple of ``boundary`` (a power of two)."""
        if type(boundary) is not int or boundary <= 0 or boundary & (boundary - 1) \
                or boundary > MAX_ALIGN:
            raise AsmError(f"alignment must be a power of two up to {MAX_ALIGN}, not {boundary}")
        self._items.append(Align(len(self._buf), boundary))

    def _data(self, values: tuple, size: int, float_format: str | None) -> None:
        for value in values:
            if isinstance(value, Label) and size == 8:
                self._check_label(value)
                self._items.append(Absolute(len(self._buf), value, f"dq {value.name}"))
                self._buf += bytes(8)
            elif isinstance(value, (bytes, bytearray)) and size == 1:
                self._buf += value
            elif type(value) is float and float_format:
                self._buf += struct.pack(float_format, value)
            elif type(value) is int and -(1 << (8 * size - 1)) <= value < (1 << (8 * size)):
                self._buf += (value & ((1 << (8 * size)) - 1)).to_bytes(size, "little")
            else:
                raise AsmError(f"data value {value!r} does not fit in {size} byte(s)")

    def db(self, *values: int | bytes) -> None:
        self._data(values, 1, None)

    def dw(self, *values: int) -> None:
        self._data(values, 2, None)

    def dd(self, *values: float) -> None:
        self._data(values, 4, "<f")

    def dq(self, *values: float | Label) -> None:
        """64-bit words: integers, floats (as doubles) or labels (their absolute address)."""
        self._data(values, 8, "<d")

    # --- instructions -------------------------------------------------------------------

    def emit(self, mnemonic: str, *ops: object) -> None:
        """Emit ``mnemonic ops`` (the same as calling the mnemonic's method)."""
        method = METHODS.get(mnemonic)
        if method is None:
            raise AsmError(f"unknown mnemonic {mnemonic!r}")
        method(self, *ops)

    @property
    def lock(self) -> Prefixed:
        """``a.lock.add(qword[rax], 1)``: F0, atomic read-modify-write of memory."""
        return Prefixed(self, "lock")

    @property
    def rep(self) -> Prefixed:
        """``a.rep.movsb()``: F3, repeat a string instruction rcx times."""
        return Prefixed(self, "rep")

    @property
    def repe(self) -> Prefixed:
        return Prefixed(self, "repe")

    @property
    def repne(self) -> Prefixed:
        return Prefixed(self, "repne")

    repz = repe
    repnz = repne

    def prefixed(self, prefix: str, mnemonic: str, ops: tuple) -> None:
        """Emit ``prefix mnemonic ops`` (prefix: lock, rep, repe, repz, repne, repnz)."""
        name = canonical(mnemonic.rstrip("_"))
        if prefix == "lock":
            memory = [i for i, op in enumerate(ops) if type(op) is Mem]
            if name not in LOCKABLE or not memory or (memory[0] != 0 and name != "xchg"):
                raise AsmError(f"{prefix} {instruction_text(name, ops)}: lock needs one of "
                               f"{' '.join(sorted(LOCKABLE))} with a memory destination")
        elif ops or name not in STRING_MNEMONICS and not (name == "ret" and
                                                          prefix in REPEATED_RET):
            raise AsmError(f"{prefix} {instruction_text(name, ops)}: {prefix} needs a string "
                           f"instruction ({' '.join(sorted(STRING_MNEMONICS))}) or, for "
                           "rep/repe/repz, ret without operands")
        start = len(self._buf)
        self._buf.append(PREFIXES[prefix])
        try:
            METHODS[name](self, *ops)
        except AsmError:
            del self._buf[-1]
            raise
        # GNU as writes a segment override, the address-size and the operand-size
        # prefixes before lock or rep: 66 F3 AB is rep stosw, 64 67 66 F0 83 /0 lock add
        # word ptr fs:[eax] (same length, so no recorded position moves)
        end = start + 1
        if self._buf[end] in SEGMENT_PREFIXES:
            end += 1
        if self._buf[end] == 0x67:
            end += 1
        if self._buf[end] == 0x66:
            end += 1
        self._buf[start:end] = self._buf[start + 1:end] + bytes((PREFIXES[prefix],))

    def jcc(self, cond: str, target: Label) -> None:
        self.emit("j" + _condition(cond), target)

    def setcc(self, cond: str, dest: object) -> None:
        self.emit("set" + _condition(cond), dest)

    def cmovcc(self, cond: str, dest: object, src: object) -> None:
        self.emit("cmov" + _condition(cond), dest, src)

    def _encode(self, mnemonic: str, ops: tuple) -> bytes | None:
        """Slow path: select and encode; record branches and fixups as items."""
        if len(ops) == 1 and type(ops[0]) in (Label, int) and \
                _branch_forms(mnemonic) is not None:
            self._branch(mnemonic, ops)  # jmp label, or a numeric target: jmp 0x401000
            return None
        try:
            form, ops, code = choose(mnemonic, ops)
        except AsmError as error:
            raise AsmError(f"{instruction_text(mnemonic, ops)}: {error}") from None
        for op in ops:
            if type(op) is Mem and op.label is not None:
                self._fixup(mnemonic, ops, op, form, code)
                return code
        return code

    def _fixup(self, mnemonic: str, ops: tuple, mem: Mem, form, code: bytes) -> None:
        text = instruction_text(mnemonic, ops)
        if mem.base is None or mem.base.kind != "rip":
            raise AsmError(f"{text}: a label in a memory operand needs rip as base "
                           "([rip + label])")
        self._check_label(mem.label)
        end = len(self._buf) + len(code)
        self._items.append(Fixup(end, end - 4 - form.imm_size, mem.label, mem.disp, text))

    def _branch(self, mnemonic: str, ops: tuple) -> None:
        """Record a jump or call to a label or a number (``ops``: the target alone)."""
        target = ops[0]
        short, near = _branch_forms(mnemonic)
        if type(target) is int:
            text = instruction_text(mnemonic, ops)
            if near is None:
                raise AsmError(f"{text}: {mnemonic} has only a rel8 form, which cannot "
                               "reach a numeric address (GNU as refuses it too); use a label")
            if not -(1 << 63) <= target < (1 << 64):
                raise AsmError(f"{text}: address {target:#x} does not fit in 64 bits")
            self._items.append(Branch(len(self._buf), None, None, near, mnemonic, target))
            return
        self._check_label(target)
        self._items.append(Branch(len(self._buf), target, short, near, mnemonic))

    def _check_label(self, label: Label) -> None:
        if label.owner is not self:
            raise AsmError(f"label {label.name!r} belongs to another assembler")

    # --- layout -------------------------------------------------------------------------

    def assemble(self, address: int = 0) -> bytes:
        """The machine code, labels resolved, branches relaxed (``address``: load address)."""
        items = self._items
        buf = self._buf
        if not items:
            self._offsets = {}
            return bytes(buf)
        for item in items:
            if type(item) in (Branch, Fixup, Absolute) and item.label is not None and \
                    not item.label.bound:
                raise _item_error(item, f"label {item.label.name!r} is used but never bound "
                                        "(undefined label)")
        offsets, places = _relax(items)
        out = bytearray()
        start = 0
        fixups = []
        for item, place in zip(items, places):
            out += buf[start:item.pos]
            start = item.pos
            kind = type(item)
            if kind is Branch:
                if item.label is None:
                    # a numeric target, relative to where this code is loaded; addresses
                    # wrap at 64 bits, as GNU as and ld compute them
                    target = (item.address - address + (1 << 63)) % (1 << 64) - (1 << 63)
                else:
                    target = offsets[item.label]
                if item.long:
                    disp = target - (place + len(item.near) + 4)
                    disp = (disp + (1 << 63)) % (1 << 64) - (1 << 63)
                    if not -(1 << 31) <= disp < (1 << 31):
                        where = "" if item.label else f" of code loaded at {address:#x}"
                        raise _item_error(item, f"{item.text}: target out of rel32 range{where}")
                    out += item.near + (disp & 0xFFFFFFFF).to_bytes(4, "little")
                else:
                    disp = target - (place + len(item.short) + 1)
                    out += item.short + (disp & 0xFF).to_bytes(1, "little")
            elif kind is Align:
                out += nop_padding(-place % item.boundary)
            elif kind is Fixup or kind is Absolute:
                fixups.append((item, place))
        out += buf[start:]
        for item, place in fixups:
            if type(item) is Absolute:
                value = (address + offsets[item.label]) & 0xFFFFFFFFFFFFFFFF
                out[place:place + 8] = value.to_bytes(8, "little")
                continue
            disp = offsets[item.label] - place + item.addend
            if not -(1 << 31) <= disp < (1 << 31):
                raise _item_error(item, f"{item.text}: label out of rip-relative range")
            shift = place - item.pos
            out[item.disp_pos + shift:item.disp_pos + shift + 4] = \
                (disp & 0xFFFFFFFF).to_bytes(4, "little")
        self._offsets = offsets
        return bytes(out)

    def offset(self, label: Label) -> int:
        """Byte offset of a bound ``label`` in the code of the last ``assemble()``."""
        if self._offsets is None:
            raise AsmError("offset() needs assemble() first")
        try:
            return self._offsets[label]
        except KeyError:
            raise AsmError(f"label {label.name!r} is not bound") from None


def _item_error(item: object, message: str) -> AsmError:
    """An AsmError about a layout item; ``error.item`` lets the text front end name its line."""
    error = AsmError(message)
    error.item = item
    return error


def _layout(items: list) -> tuple[dict, list]:
    """Label offsets and each item's final position, for the current branch sizes."""
    offsets: dict[Label, int] = {}
    places = []
    shift = 0
    for item in items:
        place = item.pos + shift
        places.append(place)
        kind = type(item)
        if kind is Bind:
            offsets[item.label] = place
        elif kind is Branch:
            shift += len(item.near) + 4 if item.long else len(item.short) + 1
        elif kind is Align:
            shift += -place % item.boundary
    return offsets, places


def _relax(items: list) -> tuple[dict, list]:
    """Grow short branches to rel32 until all reach, as GNU as's relax_segment does.

    Each pass walks the code in order: a branch sees the new positions of what is
    before it, and for a target ahead the previous pass's position plus the growth so
    far (the *stretch*) when no alignment lies in between (see ``_estimate``).  Sizes
    only grow, so this ends; a last check on the final layout catches a branch that an
    estimate let stay short.
    """
    binds = {item.label: i for i, item in enumerate(items) if type(item) is Bind}
    aligns = [i for i, item in enumerate(items) if type(item) is Align]
    prev_offsets, prev_places = _layout(items)
    while True:
        grew = False
        offsets: dict[Label, int] = {}
        places = []
        shift = 0
        for i, item in enumerate(items):
            place = item.pos + shift
            places.append(place)
            kind = type(item)
            if kind is Bind:
                offsets[item.label] = place
            elif kind is Branch:
                if not item.long:
                    j = binds[item.label]
                    if j < i:
                        target = offsets[item.label]
                    else:
                        target = _estimate(place - prev_places[i], prev_offsets[item.label],
                                           place, aligns, i, j)
                    if target is not None and \
                            not -128 <= target - (place + len(item.short) + 1) <= 127:
                        _grow(item, target - (place + len(item.short) + 1))
                        grew = True
                shift += len(item.near) + 4 if item.long else len(item.short) + 1
            elif kind is Align:
                shift += -place % item.boundary
        if not grew:
            for item, place in zip(items, places):
                if type(item) is Branch and not item.long:
                    disp = offsets[item.label] - (place + len(item.short) + 1)
                    if not -128 <= disp <= 127:
                        _grow(item, disp)
                        grew = True
            if not grew:
                return offsets, places
        prev_offsets, prev_places = offsets, places


def _estimate(stretch: int, old_target: int, place: int, aligns: list[int], start: int,
              end: int) -> int | None:
    """GNU as's estimate of a forward target: its previous position moved by the
    growth so far (``stretch``), unless an alignment in between may absorb a positive
    stretch; None when that leaves the target behind the branch (no growth now)."""
    if stretch < 0 or bisect_right(aligns, start) == bisect_left(aligns, end):
        return old_target + stretch
    return None if old_target < place else old_target


def _grow(item: Branch, disp: int) -> None:
    if item.near is None:
        raise _item_error(item, f"{item.text}: label out of rel8 range ({disp} bytes) and "
                                f"{item.text.split()[0]} has no rel32 form")
    item.long = True


@functools.cache
def _branch_forms(mnemonic: str) -> tuple[bytes | None, bytes | None] | None:
    """The opcodes of the rel8 and rel32 forms of a canonical ``mnemonic`` (either may be
    None), or None if it is not a branch."""
    cands = kinds_table(mnemonic).get(("rel",))
    if cands is None:
        return None
    short = near = None
    for form, _ in cands:
        if form.rel_size == 1:
            short = form.opcode
        else:
            near = form.opcode
    return short, near


def _condition(cond: str) -> str:
    cond = cond.lower()
    cond = CONDITION_ALIASES.get(cond, cond)
    if cond not in CONDITIONS:
        raise AsmError(f"unknown condition {cond!r}; conditions: {' '.join(CONDITIONS)} "
                       f"and aliases {' '.join(CONDITION_ALIASES)}")
    return cond


def _method_name(mnemonic: str) -> str:
    return mnemonic + "_" if keyword.iskeyword(mnemonic) else mnemonic


def _make_method(mnemonic: str):
    """The builder method for ``mnemonic``.

    1. ``fastpath.direct_entry`` for the operand kinds gives the closure that makes
       the bytes (checking fixed registers and immediate ranges where the kinds do not
       decide the form alone).  The method files the entry of each kinds tuple it has
       seen in ``_Entries``: for one to three operands, nested lists indexed by the
       kinds' numbers (no kinds tuple to build and hash per instruction).
    2. Anything else takes ``Assembler._encode``: kinds not seen yet, GNU as's rarer
       rewrites, branches, labels, and every error message.
    """
    name = canonical(mnemonic)
    entries = _Entries()
    one, two, three, other = entries.by_arity

    def method(self: Assembler, *ops: object) -> None:
        try:
            # The operand kinds, written out for the common arities (a loop or
            # comprehension costs a frame of its own).  Only the last operand can be an
            # immediate (``table.Form``): an int before it has no ``sel_no``.  That
            # AttributeError, a kind not filed yet (None, or past a list's end) and an
            # operand that is not one send the instruction to the general path, which
            # files its kinds or says what is wrong.
            count = len(ops)
            if count == 2:
                a, b = ops
                code = two[a.sel_no][b.sel_no if type(b) is not int else 0](ops)
            elif count == 3:
                a, b, c = ops
                code = three[a.sel_no][b.sel_no][c.sel_no if type(c) is not int else 0](ops)
            elif count == 1:
                a = ops[0]
                code = one[a.sel_no if type(a) is not int else 0](ops)
            else:
                code = other[tuple([op.sel if type(op) is not int else "imm"
                                    for op in ops])](ops)
            if code is None:
                raise KeyError
        except (KeyError, AttributeError, IndexError, TypeError, AsmError):
            code = self._encode(name, ops)
            if code is None:
                return  # a branch, recorded as an item: nothing to learn
            entries.learn(name, ops)  # known now: the kinds encode
        self._buf += code

    method.__name__ = method.__qualname__ = _method_name(mnemonic)
    method.__doc__ = f"Emit ``{mnemonic}`` (see minijit.x86.table for its forms)."
    return method


class _Entries:
    """One method's fast-path entries by operand kinds.  For one, two and three
    operands, nested lists indexed by the kinds' numbers (``Reg.sel_no``; 0 for an
    immediate), one level per operand (``two[r64][m64]``); a kind not seen yet is None
    or past the list's end (the method then takes the general path, which files it
    here).  Other counts: a dict by the kinds tuple.  At most DIRECT_LIMIT entries."""

    __slots__ = ("by_arity", "count")

    def __init__(self) -> None:
        self.by_arity: tuple[list, list, list, dict] = ([], [], [], {})
        self.count = 0

    def learn(self, mnemonic: str, ops: tuple) -> None:
        """File the entry of ``ops``'s kinds, unless filed already or not kinds at all."""
        try:
            key = tuple([op.sel if type(op) is not int else "imm" for op in ops])
        except AttributeError:
            return  # not an operand: the general path said why
        if self.count >= DIRECT_LIMIT:
            return
        if 1 <= len(key) <= 3:
            numbers = [sel_number(kind) for kind in key]
            size = len(SEL_NUMBERS)  # a list holds every kind numbered so far
            table = self.by_arity[len(key) - 1]
            for depth, number in enumerate(numbers, 1):
                if number >= len(table):
                    table.extend([None] * (size - len(table)))
                if depth == len(key):
                    break
                if table[number] is None:
                    table[number] = [None] * size
                table = table[number]
            if table[number] is None:
                table[number] = direct_entry(mnemonic, key)
                self.count += 1
        elif key not in self.by_arity[3]:
            self.by_arity[3][key] = direct_entry(mnemonic, key)
            self.count += 1


def clear_caches() -> None:
    """Make every memory operand forget its address bytes (``Mem.mode``), so that its
    next encoding makes them again (the benchmark's cold runs)."""
    forget_addresses(memory_operands())


# Mnemonic (as written in assembly text) -> its builder method.
METHODS: dict[str, object] = {}


def _install() -> None:
    for mnemonic in [*MNEMONICS, *MNEMONIC_ALIASES]:
        method = _make_method(mnemonic)
        METHODS[mnemonic] = method
        setattr(Assembler, _method_name(mnemonic), method)


_install()
