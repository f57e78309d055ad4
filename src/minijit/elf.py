"""A small ELF64 reader: the sections and function symbols of an object file.

``minijit cc`` compiles C with the system's compiler (``cc -O2 -c``) and needs
the machine code of one function out of the object file.  That takes four
steps, each a fixed-layout record read with ``struct``:

1. the ELF header (64 bytes) says where the section header table is
   (``e_shoff``), how many entries it has and which section holds the
   section names (``e_shstrndx``);
2. each section header (64 bytes) gives a name offset, a type, the offset and
   size of the section's bytes, and for a symbol table the index of its
   string table (``sh_link``);
3. the symbol table (``SHT_SYMTAB``) is an array of 24-byte records: name
   offset into the string table, type and binding packed into ``st_info``,
   the index of the section the symbol lives in, and its value (the offset
   inside that section, for a relocatable object) and size;
4. a function's bytes are ``section[value : value + size]``.

Only little-endian ELF64 is read; anything else raises ``ElfError`` naming what
was found.  Relocations are read too (``SHT_RELA``), so that a disassembly can
name the symbol a ``call`` goes to although its displacement is still zero.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

ELF_MAGIC = b"\x7fELF"
ELFCLASS64 = 2
ELFDATA2LSB = 1
EM_X86_64 = 62

SHT_SYMTAB = 2
SHT_RELA = 4
SHT_NOBITS = 8
SHN_UNDEF = 0
SHN_LORESERVE = 0xFF00
STT_FUNC = 2

#: x86-64 relocation types an object from ``cc -c`` commonly holds, by number
RELOCATION_NAMES = {
    1: "R_X86_64_64", 2: "R_X86_64_PC32", 4: "R_X86_64_PLT32", 9: "R_X86_64_GOTPCREL",
    10: "R_X86_64_32", 11: "R_X86_64_32S", 41: "R_X86_64_GOTPCRELX",
    42: "R_X86_64_REX_GOTPCRELX",
}

#: e_ident (16 bytes), then type, machine, version, entry, phoff, shoff, flags,
#: ehsize, phentsize, phnum, shentsize, shnum, shstrndx
_HEADER = struct.Struct("<16sHHIQQQIHHHHHH")
#: name, type, flags, addr, offset, size, link, info, addralign, entsize
_SECTION = struct.Struct("<IIQQQQIIQQ")
#: name, info, other, shndx, value, size
_SYMBOL = struct.Struct("<IBBHQQ")
#: offset, info (symbol index << 32 | type), addend
_RELA = struct.Struct("<QQq")


class ElfError(ValueError):
    """The bytes are not an ELF64 object this reader understands."""


@dataclass(frozen=True)
class Section:
    index: int
    name: str
    type: int
    offset: int
    size: int
    link: int
    info: int
    entsize: int
    address: int


@dataclass(frozen=True)
class Symbol:
    name: str
    type: int
    section: int
    value: int
    size: int

    @property
    def is_function(self) -> bool:
        return self.type == STT_FUNC


@dataclass(frozen=True)
class Relocation:
    offset: int
    symbol: str
    type: int
    addend: int

    @property
    def type_name(self) -> str:
        return RELOCATION_NAMES.get(self.type, f"R_X86_64_{self.type}")

    @property
    def target(self) -> str:
        """What is patched in, as objdump writes it: ``puts-0x4``."""
        return f"{self.symbol}{self.addend:+#x}" if self.addend else self.symbol

    def __str__(self) -> str:
        return f"{self.type_name} {self.target}"


class ElfFile:
    """An ELF64 little-endian file's sections, symbols and relocations."""

    def __init__(self, data: bytes) -> None:
        self.data = bytes(data)
        self._check_ident()
        fields = self._unpack(_HEADER, 0, "ELF header")
        machine, shoff, shentsize, shnum, shstrndx = (
            fields[2], fields[6], fields[11], fields[12], fields[13]
        )
        self.machine = machine
        if shnum and shentsize != _SECTION.size:
            raise ElfError(f"section header entries are {shentsize} bytes, expected 64")
        raw = [self._unpack(_SECTION, shoff + i * _SECTION.size, f"section header {i}")
               for i in range(shnum)]
        names = self._bytes_of(raw[shstrndx]) if shstrndx < shnum else b""
        self.sections = [
            Section(i, _string(names, r[0]), r[1], r[4], r[5], r[6], r[7], r[9], r[3])
            for i, r in enumerate(raw)
        ]
        self.symbols = self._read_symbols()

    @classmethod
    def read(cls, path: str) -> "ElfFile":
        with open(path, "rb") as f:
            return cls(f.read())

    def _check_ident(self) -> None:
        ident = self.data[:16]
        if ident[:4] != ELF_MAGIC:
            raise ElfError(f"not an ELF file (starts with {ident[:4]!r}, expected {ELF_MAGIC!r})")
        if ident[4] != ELFCLASS64:
            raise ElfError(f"not a 64-bit ELF file (EI_CLASS is {ident[4]}, expected 2)")
        if ident[5] != ELFDATA2LSB:
            raise ElfError(f"not a little-endian ELF file (EI_DATA is {ident[5]}, expected 1)")

    def _unpack(self, layout: struct.Struct, offset: int, what: str) -> tuple:
        if offset < 0 or offset + layout.size > len(self.data):
            raise ElfError(f"truncated ELF file: {what} at offset {offset} runs past "
                           f"the end ({len(self.data)} bytes)")
        return layout.unpack_from(self.data, offset)

    def _bytes_of(self, raw_or_section: tuple | Section) -> bytes:
        if isinstance(raw_or_section, Section):
            kind, offset, size = raw_or_section.type, raw_or_section.offset, raw_or_section.size
        else:
            kind, offset, size = raw_or_section[1], raw_or_section[4], raw_or_section[5]
        if kind == SHT_NOBITS:
            return bytes(size)
        if offset + size > len(self.data):
            raise ElfError(f"truncated ELF file: a section at offset {offset} of {size} bytes "
                           f"runs past the end ({len(self.data)} bytes)")
        return self.data[offset:offset + size]

    def section_bytes(self, section: Section) -> bytes:
        return self._bytes_of(section)

    def section_named(self, name: str) -> Section | None:
        return next((s for s in self.sections if s.name == name), None)

    def _symbol_records(self, table: Section) -> list[tuple[str, int, int, int, int]]:
        """(name, st_info, section index, value, size) of each entry of a symbol table."""
        if table.link >= len(self.sections):
            raise ElfError(f"symbol table {table.name!r} links to missing section {table.link}")
        strings = self.section_bytes(self.sections[table.link])
        data = self.section_bytes(table)
        records = []
        for offset in range(0, len(data) - _SYMBOL.size + 1, _SYMBOL.size):
            name, info, _other, shndx, value, size = _SYMBOL.unpack_from(data, offset)
            records.append((_string(strings, name), info, shndx, value, size))
        return records

    def _read_symbols(self) -> list[Symbol]:
        return [Symbol(name, info & 0xF, shndx, value, size)
                for table in self.sections if table.type == SHT_SYMTAB
                for name, info, shndx, value, size in self._symbol_records(table)]

    def functions(self) -> list[Symbol]:
        """Defined function symbols, in section then address order."""
        defined = [s for s in self.symbols
                   if s.is_function and SHN_UNDEF < s.section < SHN_LORESERVE]
        return sorted(defined, key=lambda s: (s.section, s.value))

    def function(self, name: str) -> Symbol:
        """The defined function ``name``; ``KeyError`` listing the ones there are."""
        for symbol in self.functions():
            if symbol.name == name:
                return symbol
        known = ", ".join(s.name for s in self.functions()) or "none"
        raise KeyError(f"no function {name!r} in the object file; functions: {known}")

    def function_bytes(self, symbol: Symbol) -> bytes:
        """The machine code of ``symbol``: its section's bytes from value to value + size."""
        section = self.sections[symbol.section]
        data = self.section_bytes(section)
        if symbol.value + symbol.size > len(data):
            raise ElfError(f"function {symbol.name!r} ({symbol.size} bytes at {symbol.value}) "
                           f"runs past the end of section {section.name!r}")
        return data[symbol.value:symbol.value + symbol.size]

    def relocations(self, section: Section) -> list[Relocation]:
        """The relocations that apply to ``section`` (from its ``.rela`` section)."""
        found: list[Relocation] = []
        for rela in self.sections:
            if rela.type != SHT_RELA or rela.info != section.index:
                continue
            symtab = self.sections[rela.link] if rela.link < len(self.sections) else None
            names = self._symbols_of(symtab)
            data = self.section_bytes(rela)
            for offset in range(0, len(data) - _RELA.size + 1, _RELA.size):
                where, info, addend = _RELA.unpack_from(data, offset)
                index = info >> 32
                name = names[index] if index < len(names) else f"symbol#{index}"
                found.append(Relocation(where, name, info & 0xFFFFFFFF, addend))
        return found

    def _symbols_of(self, table: Section | None) -> list[str]:
        """Symbol names of ``table`` in index order; a section symbol is named by its section."""
        if table is None or table.type != SHT_SYMTAB:
            return []
        return [name or (self.sections[shndx].name
                         if SHN_UNDEF < shndx < len(self.sections) else "")
                for name, _info, shndx, _value, _size in self._symbol_records(table)]

def _string(table: bytes, offset: int) -> str:
    """The NUL-terminated string at ``offset`` of a string table."""
    if offset >= len(table):
        return ""
    end = table.find(b"\0", offset)
    return table[offset:end if end >= 0 else len(table)].decode("utf-8", "replace")
