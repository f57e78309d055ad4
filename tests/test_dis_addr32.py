"""32-bit addresses (the address-size prefix 67) and fs/gs overrides through the disassembler.

The lines are the assembler's oracle lines for both features (``test_x86_addr32``,
``test_x86_segments``) and a generated set: every memory line of the corpus with its
address registers made 32-bit, and every memory line (64- and 32-bit) with an fs or gs
override.  minijit assembles them; minijit's disassembler reads the bytes back; GNU as
assembles that text to the same bytes (zero differences), and so does minijit's own text
front end.  The addresses are spelled as objdump spells them, and capstone agrees on
boundaries, mnemonics and registers.  The one exception is ``decoder.NO_ADDRESS_SIZE``
(movsxd to a 32- or 16-bit register from a 32-bit address), left ``(bad)`` on purpose.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from functools import cache

import pytest
from test_dis_roundtrip import capstone_agrees, gnu_as, needs_binutils, same_registers
from test_x86_addr32 import LINES as ADDR32_LINES
from test_x86_addr32 import WRAPPED
from test_x86_segments import LINES as SEGMENT_LINES

from minijit.x86 import assemble, disassemble
from minijit.x86.corpus import corpus
from minijit.x86.decoder import NO_ADDRESS_SIZE
from minijit.x86.registers import REGISTERS

#: a 64-bit register's name -> the 32-bit register of the same number (rax -> eax, r8 -> r8d)
TO_32_BIT = {r64.name: r32.name for r64 in REGISTERS.values() if r64.kind == "r64"
             for r32 in REGISTERS.values() if r32.kind == "r32" and r32.num == r64.num}
_ADDRESS = re.compile(r"\[[^\]]*\]")
_WORD = re.compile(r"\b\w+\b")


def with_32_bit_address(line: str) -> str:
    """``line`` with the registers of its address made 32-bit: [rsp + r8*2] -> [esp + r8d*2]."""
    return _ADDRESS.sub(lambda address: _WORD.sub(
        lambda word: TO_32_BIT.get(word[0], word[0]), address[0]), line)


def with_segment(line: str, segment: str) -> str:
    """``line`` with ``segment`` (fs: or gs:) on its memory operand."""
    return line.replace("[", segment + "[", 1)


@cache
def memory_lines() -> tuple[str, ...]:
    """The corpus lines with one memory operand that has a base or index register (not
    rip: [eip + disp] is not an address minijit's assembler writes)."""
    return tuple(line for line in corpus(avx512=True)
                 if (address := _ADDRESS.search(line)) and "rip" not in address[0]
                 and any(w in TO_32_BIT for w in _WORD.findall(address[0])))


@cache
def lines() -> tuple[str, ...]:
    """The oracle tests' lines, then the generated ones."""
    addr32 = [with_32_bit_address(line) for line in memory_lines()]
    segments = [with_segment(line, ("fs:", "gs:")[i % 2])
                for i, line in enumerate(memory_lines() + tuple(addr32))
                if not line.startswith("lea ")]   # a segment has no effect on lea: refused
    return (*ADDR32_LINES, *WRAPPED, *SEGMENT_LINES, *addr32, *segments)


def without_address_size(code: bytes) -> bytes:
    """``code`` without its 67 prefix (the same instruction with a 64-bit address)."""
    at = code.index(0x67)
    return code[:at] + code[at + 1:]


def left_bad(code: bytes) -> bool:
    """67 before a NO_ADDRESS_SIZE form: the one case decoded as (bad) on purpose."""
    if 0x67 not in code[:4]:
        return False
    form = disassemble(without_address_size(code))[0].form
    return form is not None and form.signature() in NO_ADDRESS_SIZE


@pytest.fixture(scope="module")
def decoded():
    """(line, our bytes, the instruction decoded from them), the (bad) ones apart."""
    rows, bad = [], []
    for line in lines():
        code = assemble(line)
        if left_bad(code):
            bad.append((line, code, disassemble(code)))
        else:
            rows.append((line, code, disassemble(code)))
    return rows, bad


def test_the_generated_set_has_both_features(decoded):
    rows, _ = decoded
    assert sum(0x67 in code[:4] for _, code, _ in rows) > 5000
    assert sum(code[0] in (0x64, 0x65) for _, code, _ in rows) > 10000
    assert with_32_bit_address("add qword ptr [rsp + r8*2 - 4], rax") == \
        "add qword ptr [esp + r8d*2 - 4], rax"
    assert with_segment("mov rax, qword ptr [rax]", "gs:") == "mov rax, qword ptr gs:[rax]"


def test_every_line_decodes_to_one_instruction(decoded):
    rows, _ = decoded
    undecoded = [(line, code.hex()) for line, code, listing in rows
                 if len(listing) != 1 or listing[0].form is None]
    assert undecoded == []


def test_movsxd_to_32_or_16_bits_from_a_32_bit_address_stays_bad(decoded):
    """Capstone does not decode 67 63 without REX.W (objdump does): minijit leaves it
    (bad), so that the comparison with capstone on random bytes holds."""
    _, bad = decoded
    assert {line.split()[0] for line, _, _ in bad} == {"movsxd", "movsx"}
    for line, code, listing in bad:
        assert listing[0].text == "(bad)" and listing[0].bytes == code[:1], line
    [wide] = disassemble(assemble("movsxd rax, dword ptr [eax]"))
    assert wide.text == "movsxd rax, DWORD PTR [eax]"


@needs_binutils
def test_round_trip_through_gnu_as_has_zero_differences(decoded, tmp_path):
    rows, _ = decoded
    texts = [listing[0].text for _, _, listing in rows]
    back = gnu_as(texts, tmp_path)
    differences = [(line, code.hex(), text, again.hex())
                   for (line, code, _), text, again in zip(rows, texts, back) if again != code]
    assert differences == []


def test_round_trip_through_our_text_front_end(decoded):
    rows, _ = decoded
    differences = [(line, code.hex(), listing[0].text)
                   for line, code, listing in rows if assemble(listing[0].text) != code]
    assert differences == []


_OBJDUMP_ROW = re.compile(r"\s*([0-9a-f]+):\t[0-9a-f ]+\t(.*)$")
_MEMORY = re.compile(r"(?:[a-z]s:)?\[[^\]]*\]")


@pytest.mark.skipif(shutil.which("objdump") is None, reason="GNU objdump is the oracle")
def test_addresses_are_spelled_as_objdump_spells_them(decoded, tmp_path):
    """Each memory operand's text (segment, registers, scale, displacement) is objdump's.
    (An absolute address is left out: objdump writes ds:0x1000 and fs:0x28, minijit
    [0x1000] and fs:[0x28], which GNU as reads back the same.)"""
    rows, _ = decoded
    binary = tmp_path / "code.bin"
    binary.write_bytes(b"".join(code for _, code, _ in rows))
    dump = subprocess.run(["objdump", "-D", "-w", "-b", "binary", "-m", "i386:x86-64",
                           "-M", "intel", str(binary)], capture_output=True, text=True,
                          check=True).stdout
    theirs = {int(m[1], 16): m[2] for m in map(_OBJDUMP_ROW.match, dump.splitlines()) if m}
    address = 0
    differences = []
    for line, code, listing in rows:
        ours = _MEMORY.findall(listing[0].text)
        registers = ours and any(w in REGISTERS for w in _WORD.findall(ours[0]))
        if registers and ours != _MEMORY.findall(theirs[address]):
            differences.append((line, listing[0].text, theirs[address]))
        address += len(code)
    assert differences == []


def test_boundaries_mnemonics_and_registers_match_capstone(decoded):
    capstone = pytest.importorskip("capstone")
    rows, _ = decoded
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    code = b"".join(code for _, code, _ in rows)
    theirs = list(md.disasm_lite(code, 0))
    ours = disassemble(code)
    assert [t[:2] for t in theirs] == [(i.address, len(i.bytes)) for i in ours]
    differences = [(str(i), t[2], t[3]) for i, t in zip(ours, theirs)
                   if not capstone_agrees(i.mnemonic, t[2]) or not same_registers(i, t[3])]
    assert differences == []
