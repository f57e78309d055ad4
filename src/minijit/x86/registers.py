"""Registers and memory operands: the values the builder's methods take.

Every register is one interned :class:`Reg` object (compare with ``is``); its
``kind`` is the operand kind of the table's operand specs (``"r64"``,
``"xmm"``, ...), ``num`` its number 0-31 and ``code``/``rex`` the low three bits
and the REX extension bit that go into ModRM, SIB or the opcode.

Memory operands are written as in PeachPy: ``qword[rdi + rcx*8 + 16]``.
Register arithmetic (``rdi + rcx*8 + 16``) builds a :class:`Address`; indexing
a size keyword (``qword[...]``) turns it into a :class:`Mem` whose kind
(``"m64"``) says its size.  ``rip + label`` makes a rip-relative address to a
:class:`Label`.  An address without a size keyword is an unsized ``"m"``
operand, fine where the other operand or the form fixes the size (``lea``).
A segment before the address, as a slice, overrides the segment:
``qword[fs:0x28]`` (fs and gs have a base in 64-bit mode: thread-local storage).
32-bit registers make a 32-bit address (``qword[eax + ecx*4]``: the 67 prefix),
computed modulo 2**32.

Memory operands (and masked operands) are *interned*: making one returns the live
object of the same value if there is one, so equal operands are one object,
compare and hash by identity, in C, and share what the encoder learns about them
(a memory operand's address bytes, ``Mem.mode``: a stack slot used by many
instructions makes them once).  The table holds weak
references, so an operand nobody uses is freed; one with a label is kept in the
label's own table, so the global table never keeps a label (and its assembler)
alive.

Every operand carries ``sel``, the kind the encoder's tables are keyed on
(``"r64"``, ``"m64"``, ``"zmm{k}{z}"``...), and ``sel_no``, that kind's number
(:func:`sel_number`), by which the builder's methods index their lists of entries.
"""

from __future__ import annotations

import weakref
from _thread import allocate_lock

__all__ = ["REGISTERS", "SEGMENTS", "SIZES", "Address", "Label", "Masked", "Mem", "Reg",
           "Segment", "memory_operands"]


class Reg:
    """One machine register.

    ``needs_rex``: spl/bpl/sil/dil are only reachable with a REX prefix (without
    one, the same numbers mean ah/ch/dh/bh); ``high8``: ah/ch/dh/bh, which
    cannot be encoded when any REX prefix is present.

    The encoder's fast path reads the register's fields already shifted into
    place: ``reg3`` (ModRM.reg), ``rm_direct`` (ModRM with mod 11 and the register
    as rm), ``rex_r`` (REX.R), ``vvvv`` (VEX/EVEX vvvv, bits 3-6 of the prefix's
    last byte), ``vex_r`` (R in the two-byte VEX prefix as a 16-bit word), and for
    the 32-bit word of EVEX's prefix (or of the three-byte VEX prefix and the
    opcode, whose fields sit in the same places) ``evex_r`` (R, R'), ``evex_b``
    (B, X: a register in rm) and ``evex_v`` (vvvv, V').  The prefix fields are
    inverted: they are subtracted from a word that has them all set.
    """

    __slots__ = ("code", "evex_b", "evex_r", "evex_v", "high8", "kind", "name", "needs_rex",
                 "num", "reg3", "rex", "rex_r", "rm_direct", "sel", "sel_no", "size", "vex_r",
                 "vvvv")

    def __init__(self, name: str, num: int, size: int, kind: str,
                 needs_rex: bool = False, high8: bool = False) -> None:
        self.name = name
        self.num = num
        self.size = size
        self.kind = kind
        # The kind the encoder's index is keyed on: registers 16-31 only fit EVEX forms.
        self.sel = f"{kind}16+" if num > 15 and kind in ("xmm", "ymm", "zmm") else kind
        self.sel_no = sel_number(self.sel)
        self.code = num & 7
        self.rex = (num >> 3) & 1
        self.reg3 = self.code << 3
        self.rm_direct = 0xC0 | self.code
        self.rex_r = self.rex << 2
        self.vvvv = (num & 15) << 3
        # C5 | R vvvv L pp, as one big-endian word
        self.vex_r = self.rex << 7
        # 62 | R X B R' 0 mmm | W vvvv 1 pp | z L'L b V' aaa, as one big-endian word
        self.evex_r = self.rex << 23 | (num >> 4 & 1) << 20
        self.evex_b = self.rex << 21 | (num >> 4 & 1) << 22
        self.evex_v = (num & 15) << 11 | (num >> 4 & 1) << 3
        self.needs_rex = needs_rex
        self.high8 = high8

    def __repr__(self) -> str:
        return self.name

    def __reduce__(self) -> tuple:
        # One object per register: a copied or unpickled register is that object.
        return _register, (self.name,)

    # Register arithmetic builds addresses: rdi + 8, rdi + rcx*8, rip + label (the
    # common shapes made directly, the others by Address's rules).
    def __add__(self, other: object) -> Address:
        if type(other) is int:
            return Address(self, None, 1, other, None)
        if type(other) is Address and other.base is None:
            return Address(self, other.index, other.scale, other.disp, other.label)
        return Address(self, None, 1, 0, None) + other

    __radd__ = __add__

    def __sub__(self, other: int) -> Address:
        if type(other) is int:
            return Address(self, None, 1, -other, None)
        return Address(self, None, 1, 0, None) - other

    def __mul__(self, scale: int) -> Address:
        return Address(None, self, scale, 0, None)

    __rmul__ = __mul__

    def __call__(self, mask: Reg, z: bool = False) -> Masked:
        """AVX-512 write mask: ``zmm0(k1)`` is ``zmm0 {k1}``, ``zmm0(k1, z=True)`` adds {z}."""
        return Masked(self, mask, z)


class Label:
    """A position in the code, bound with ``Assembler.bind``; ``name`` is for messages."""

    __slots__ = ("bound", "index", "name", "operands", "owner")
    kind = sel = "rel"

    def __init__(self, name: str, owner: object = None, index: int = -1) -> None:
        self.name = name
        self.owner = owner
        self.index = index
        self.bound = False
        self.operands = _Interned()  # the memory operands that name this label

    def __repr__(self) -> str:
        return f"Label({self.name!r})"


class Address:
    """``[base + index*scale + disp]`` (``base`` may be rip; ``label`` adds a label's address)."""

    __slots__ = ("base", "disp", "index", "label", "scale")

    def __init__(self, base: Reg | None, index: Reg | None, scale: int, disp: int,
                 label: Label | None) -> None:
        self.base = base
        self.index = index
        self.scale = scale
        self.disp = disp
        self.label = label

    def __add__(self, other: object) -> Address:
        base, index, scale, disp, label = self.base, self.index, self.scale, self.disp, self.label
        if type(other) is int:
            return Address(base, index, scale, disp + other, label)
        if isinstance(other, Label) and label is None:
            return Address(base, index, scale, disp, other)
        if isinstance(other, Reg):
            if base is None:
                return Address(other, index, scale, disp, label)
            if index is None:
                return Address(base, other, 1, disp, label)
        elif isinstance(other, Address):
            result = self
            for part in (other.base, other.label, other.disp or None):
                if part is not None:
                    result = result + part
            if other.index is not None:
                if result.index is not None:
                    raise _error(f"two index registers in [{self} + {other}]")
                result = Address(result.base, other.index, other.scale, result.disp,
                                 result.label)
            return result
        raise _error(f"cannot add {other!r} to address [{self}]")

    __radd__ = __add__

    def __sub__(self, other: int) -> Address:
        if type(other) is not int:
            raise _error(f"cannot subtract {other!r} from address [{self}]")
        return Address(self.base, self.index, self.scale, self.disp - other, self.label)

    def __mul__(self, scale: int) -> Address:
        if self.base is None and self.index is None and type(scale) is int:
            return Address(None, None, 1, self.disp * scale, self.label)
        if self.base is not None and self.index is None and self.disp == 0:
            return Address(None, self.base, scale, 0, self.label)
        raise _error(f"cannot scale address [{self}]")

    def __str__(self) -> str:
        parts = []
        if self.base is not None:
            parts.append(self.base.name)
        if self.index is not None:
            parts.append(f"{self.index.name}*{self.scale}")
        if self.label is not None:
            parts.append(self.label.name)
        if self.disp or not parts:
            parts.append(str(self.disp) if not parts or self.disp < 0 else f"+{self.disp}")
        return " + ".join(parts).replace("+ -", "- ").replace("+ +", "+ ")


class _Interned:
    """Values (tuples) -> the one live operand object of that value, by weak reference.

    Looking up is one dict lookup and one dereference; adding is one
    ``dict.setdefault`` (atomic: it only fills a missing key), so two threads making
    the same operand get one object.  Replacing the entry of a freed operand, and
    sweeping such entries out when the table has doubled since the last sweep, take
    a lock: only its holder removes or replaces entries.
    """

    __slots__ = ("refs", "sweep_at")

    def __init__(self) -> None:
        self.refs: dict[tuple, weakref.ref] = {}
        self.sweep_at = 1024

    def add(self, key: tuple, obj: object) -> object:
        """``obj`` as the live object of ``key``, or the one another thread added first."""
        ref = weakref.ref(obj)
        old = self.refs.setdefault(key, ref)
        if old is ref:
            if len(self.refs) >= self.sweep_at:
                self._sweep()
            return obj
        found = old()
        if found is not None:
            return found
        with _INTERN_LOCK:  # the entry of a freed operand
            old = self.refs.get(key)
            found = old() if old is not None else None
            if found is not None:
                return found
            self.refs[key] = ref
            return obj

    def live(self) -> list:
        """The objects still alive."""
        return [obj for obj in (ref() for ref in list(self.refs.values())) if obj is not None]

    def _sweep(self) -> None:
        with _INTERN_LOCK:
            for key, ref in list(self.refs.items()):
                if ref() is None:
                    del self.refs[key]
            self.sweep_at = max(1024, 2 * len(self.refs))


_INTERN_LOCK = allocate_lock()  # _thread's lock: importing threading costs 0.7 ms

#: Operand kinds (``sel``) by number, for the builder, which dispatches on kinds by
#: indexing lists (quicker than dicts keyed by the names); an immediate is 0.
SEL_NUMBERS: dict[str, int] = {"imm": 0}


def sel_number(sel: str) -> int:
    """The number of operand kind ``sel``, numbered on first use."""
    number = SEL_NUMBERS.get(sel)
    if number is None:
        with _INTERN_LOCK:
            number = SEL_NUMBERS.setdefault(sel, len(SEL_NUMBERS))
    return number


_MEMS = _Interned()


def _address_size(base: Reg | None, index: Reg | None) -> int:
    """32 if the address registers are 32-bit (the encoder checks they agree), else 64."""
    reg = base if base is not None else index
    return 32 if reg is not None and reg.kind == "r32" else 64


def memory_operands() -> list[Mem]:
    """Every live memory operand that names no label (those that do are interned per
    label)."""
    return [op for op in _MEMS.live() if type(op) is Mem]


def _table(label: Label | None) -> _Interned:
    """Where an operand naming ``label`` is interned: the label's own table, or the
    global one."""
    return _MEMS if label is None else label.operands


class Segment:
    """A segment override, ``fs`` or ``gs``: ``qword[fs:0x28]`` reads at the fs base
    plus 0x28.  Its prefix byte (64, 65) comes first in the instruction.  The other
    segments have base 0 in 64-bit mode, so overriding them is refused."""

    __slots__ = ("name", "prefix")

    def __init__(self, name: str, prefix: int) -> None:
        self.name = name
        self.prefix = bytes((prefix,))

    def __reduce__(self) -> tuple:
        return _segment, (self.name,)

    def __repr__(self) -> str:
        return self.name


class Mem:
    """A memory operand: an address, an access size in bits (0: unsized) and an
    optional segment override.

    Interned (see the module's header): ``qword[rsp + 8]`` made twice is one object,
    which makes its address bytes once.  ``addr32``: its
    registers are 32-bit (the address-size prefix 67); its displacement is then kept
    as the CPU uses it, modulo 2**32 (``[eax + 0xffffffff]`` is ``[eax - 1]``, as GNU
    as reads it), and modulo 2**64 for a 64-bit address.  ``plain`` says the
    builder's fast path may encode it: no label (that needs a fixup at layout), no
    segment and no address-size prefix.  ``mode`` is filled by the encoder the first
    time the operand is encoded: its address bytes, ModRM (but its reg field), SIB and
    displacement, which depend on the operand alone (a stack slot used by many
    instructions makes them once; see ``encoder.operand_address``).
    """

    __slots__ = (
        "__weakref__",
        "addr32",
        "base",
        "bcst",
        "disp",
        "index",
        "kind",
        "label",
        "mode",
        "plain",
        "scale",
        "segment",
        "sel",
        "sel_no",
        "size",
    )

    def __new__(cls, size: int, address: Address, bcst: bool = False,
                segment: Segment | None = None) -> Mem:
        base, index, disp = address.base, address.index, address.disp
        if not -(1 << 31) <= disp < (1 << 31):
            # addresses wrap, as GNU as computes them: at 2**64 ([rax +
            # 0xffffffffffffffff] is [rax - 1]), and at 2**32 for 32-bit registers
            if (1 << 63) <= disp < (1 << 64):
                disp -= 1 << 64
            if -(1 << 32) < disp < (1 << 32) and _address_size(base, index) == 32:
                disp = (disp + (1 << 31)) % (1 << 32) - (1 << 31)
        key = (size, base, index, address.scale, disp, bcst, segment)
        table = _MEMS if address.label is None else address.label.operands
        ref = table.refs.get(key)
        if ref is not None:
            found = ref()
            if found is not None:
                return found
        self = object.__new__(cls)
        self.size = size
        self.bcst = bcst
        # A broadcast element (AVX-512 ``qword ptr [rax]{1to8}``) is its own kind.
        self.kind = self.sel = f"b{size}" if bcst else MEM_KINDS[size]
        self.sel_no = sel_number(self.sel)
        self.base = base
        self.index = index
        self.scale = address.scale
        self.disp = disp
        self.label = address.label
        self.segment = segment
        self.mode = None
        self.addr32 = _address_size(base, index) == 32
        self.plain = address.label is None and segment is None and not self.addr32
        return table.add(key, self)

    def __reduce__(self) -> tuple:
        return Mem, (self.size, self.address(), self.bcst, self.segment)

    @property
    def broadcast(self) -> Mem:
        """This element broadcast to every lane (AVX-512): ``qword[rax].broadcast``."""
        if self.size not in (32, 64):
            raise _error("only dword and qword memory operands can be broadcast")
        return Mem(self.size, self.address(), True, self.segment)

    def address(self) -> Address:
        return Address(self.base, self.index, self.scale, self.disp, self.label)

    def __call__(self, mask: Reg) -> Masked:
        """AVX-512 write mask on a memory destination: ``zmmword[rax](k1)``."""
        return Masked(self, mask, False)

    def __repr__(self) -> str:
        keyword = SIZE_NAMES.get(self.size, "")
        segment = f"{self.segment.name}:" if self.segment else ""
        text = f"{keyword} ptr " if keyword else ""
        text += f"{segment}[{self.address()}]"
        return text + "{1toN}" if self.bcst else text


class Masked:
    """An AVX-512 operand with a write mask: ``zmm0 {k1}`` or ``zmm0 {k1}{z}``.

    ``kind`` is the operand's own kind and ``sel`` adds ``{k}`` (``{k}{z}``), so only
    forms that take a mask match; the encoder puts ``mask`` in EVEX.aaa and ``zero``
    in EVEX.z (``evex_zaaa``: both, in place).  Interned, as :class:`Mem` is.
    """

    __slots__ = ("__weakref__", "evex_zaaa", "kind", "mask", "op", "sel", "sel_no", "zero")

    def __new__(cls, op: Reg | Mem, mask: Reg, zero: bool) -> Masked:
        if not isinstance(mask, Reg) or mask.kind != "k" or mask.num == 0:
            raise _error(f"a write mask must be k1-k7, not {mask!r}")
        zero = bool(zero)
        key = (op, mask, zero)
        table = _table(op.label if type(op) is Mem else None)
        ref = table.refs.get(key)
        if ref is not None:
            found = ref()
            if found is not None:
                return found
        self = object.__new__(cls)
        self.op = op
        self.mask = mask
        self.zero = zero
        self.kind = op.kind
        self.sel = op.sel + ("{k}{z}" if zero else "{k}")
        self.sel_no = sel_number(self.sel)
        self.evex_zaaa = zero << 7 | mask.num  # EVEX's last byte: z . . . . aaa
        return table.add(key, self)

    def __reduce__(self) -> tuple:
        return Masked, (self.op, self.mask, self.zero)

    @property
    def z(self) -> Masked:
        """Zeroing-masking: ``zmm0(k1).z`` is ``zmm0 {k1}{z}``."""
        return Masked(self.op, self.mask, True)

    def __repr__(self) -> str:
        return f"{self.op!r} {{{self.mask.name}}}" + ("{z}" if self.zero else "")


MEM_KINDS = {0: "m", 8: "m8", 16: "m16", 32: "m32", 64: "m64", 80: "m80",
             128: "m128", 256: "m256", 512: "m512"}
SIZE_NAMES = {8: "byte", 16: "word", 32: "dword", 64: "qword", 80: "tbyte",
              128: "xmmword", 256: "ymmword", 512: "zmmword"}

AddressLike = Address | Reg | Label | int


class Size:
    """A size keyword: ``qword[rax + 8]`` is a 64-bit memory operand."""

    __slots__ = ("bits", "name")

    def __init__(self, name: str, bits: int) -> None:
        self.name = name
        self.bits = bits

    def __getitem__(self, address: AddressLike | slice) -> Mem:
        if type(address) is Address:
            return Mem(self.bits, address)
        if type(address) is Reg:
            return Mem(self.bits, Address(address, None, 1, 0, None))
        if type(address) is slice:
            # qword[fs:0x28]: a segment override
            if not isinstance(address.start, Segment) or address.stop is None or \
                    address.step is not None:
                raise _error(f"{self.name}[segment:address] takes fs or gs, then an address;"
                             f" not {address.start!r}:{address.stop!r}")
            return Mem(self.bits, to_address(address.stop), segment=address.start)
        return Mem(self.bits, to_address(address))

    def __repr__(self) -> str:
        return self.name


def to_address(value: AddressLike) -> Address:
    """``value`` (an address, a register, a label or a number) as an :class:`Address`."""
    if isinstance(value, Address):
        return value
    if isinstance(value, Reg):
        return Address(value, None, 1, 0, None)
    if type(value) is int:
        return Address(None, None, 1, value, None)
    if isinstance(value, Label):
        return Address(None, None, 1, 0, value)
    raise _error(f"not an address: {value!r}")


def _error(message: str) -> Exception:
    from minijit.x86.errors import AsmError

    return AsmError(message)


def _register(name: str) -> Reg:
    return REGISTERS[name]


def _segment(name: str) -> Segment:
    return SEGMENTS[name]


def _make_registers() -> dict[str, Reg]:
    regs: dict[str, Reg] = {}
    legacy = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
    for num, stem in enumerate(legacy):
        regs["r" + stem] = Reg("r" + stem, num, 64, "r64")
        regs["e" + stem] = Reg("e" + stem, num, 32, "r32")
        regs[stem] = Reg(stem, num, 16, "r16")
        low = stem[0] + "l" if num < 4 else stem + "l"
        # Numbers 4-7 mean spl/bpl/sil/dil only with a REX prefix.
        regs[low] = Reg(low, num, 8, "r8", needs_rex=num >= 4)
    for num, stem in enumerate(["a", "c", "d", "b"]):
        # Without REX, byte registers 4-7 are the high bytes of rax/rcx/rdx/rbx.
        regs[stem + "h"] = Reg(stem + "h", num + 4, 8, "r8", high8=True)
    for num in range(8, 16):
        name = f"r{num}"
        regs[name] = Reg(name, num, 64, "r64")
        regs[name + "d"] = Reg(name + "d", num, 32, "r32")
        regs[name + "w"] = Reg(name + "w", num, 16, "r16")
        regs[name + "b"] = Reg(name + "b", num, 8, "r8")
    for num in range(32):
        for kind, size in (("xmm", 128), ("ymm", 256), ("zmm", 512)):
            regs[f"{kind}{num}"] = Reg(f"{kind}{num}", num, size, kind)
    for num in range(8):
        regs[f"k{num}"] = Reg(f"k{num}", num, 64, "k")
    regs["rip"] = Reg("rip", 5, 64, "rip")
    return regs


REGISTERS: dict[str, Reg] = _make_registers()
SIZES: dict[str, Size] = {name: Size(name, bits) for bits, name in SIZE_NAMES.items()}
SIZES["ptr"] = Size("ptr", 0)
SEGMENTS: dict[str, Segment] = {"fs": Segment("fs", 0x64), "gs": Segment("gs", 0x65)}
globals().update(REGISTERS)
globals().update(SIZES)
globals().update(SEGMENTS)
__all__ += list(REGISTERS) + list(SIZES) + list(SEGMENTS)
