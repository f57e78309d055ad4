"""Round trip over the assembler's whole oracle corpus: our bytes -> disassemble -> GNU as
-> the same bytes, with zero differences; the same through our own text front end; and
instruction boundaries, mnemonics and registers checked against capstone.

GNU as runs once for the whole corpus (each line after its own label; ``nm`` gives
the label addresses that cut ``.text`` into per-line bytes), so this is fast.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from minijit.x86 import assemble, disassemble
from minijit.x86.assembler import NOPS
from minijit.x86.corpus import branch_program, corpus
from minijit.x86.registers import REGISTERS
from minijit.x86.table import STRING_MNEMONICS, forms

TOOLS = ("as", "nm", "objcopy")
needs_binutils = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                    reason="GNU binutils (as, nm, objcopy) not installed")


@pytest.fixture(scope="module")
def decoded():
    """(corpus line, our bytes, the instruction decoded from them) for the whole corpus."""
    rows = []
    for line in corpus(avx512=True):
        code = assemble(line)
        rows.append((line, code, disassemble(code)))
    return rows


def gnu_as(lines: list[str], workdir) -> list[bytes]:
    source = workdir / "c.s"
    source.write_text(".intel_syntax noprefix\n"
                      + "".join(f"L{i}:\n{line}\n" for i, line in enumerate(lines))
                      + f"L{len(lines)}:\n")
    obj, binary = workdir / "c.o", workdir / "c.bin"
    run = subprocess.run(["as", "--64", "-o", str(obj), str(source)], capture_output=True,
                         text=True)
    assert run.returncode == 0 and "Warning" not in run.stderr, run.stderr[:3000]
    subprocess.run(["objcopy", "-O", "binary", "-j", ".text", str(obj), str(binary)],
                   check=True)
    names = subprocess.run(["nm", str(obj)], capture_output=True, text=True, check=True)
    at = {}
    for row in names.stdout.splitlines():
        value, _kind, name = row.split()
        if name[0] == "L" and name[1:].isdigit():
            at[int(name[1:])] = int(value, 16)
    data = binary.read_bytes()
    return [data[at[i]:at[i + 1]] for i in range(len(lines))]


def test_every_corpus_line_decodes_to_one_instruction(decoded):
    undecoded = [(line, code.hex()) for line, code, listing in decoded
                 if len(listing) != 1 or listing[0].form is None]
    assert undecoded == []
    assert len(decoded) > 5000


def test_every_table_form_is_reached(decoded):
    """What can be assembled can be disassembled: each form the corpus covers decodes
    to a form with the same encoding (forms sharing one encoding, like ``sal``/``shl``,
    decode to the first)."""
    def encoding(form) -> tuple:
        return form.prefix, form.rex_w, form.vex, form.opcode, form.plus_r, form.digit

    reached = {encoding(listing[0].form) for _, _, listing in decoded}
    covered = {encoding(form): form for form in forms(avx512=True) if not form.rel_size}
    assert [form for key, form in covered.items() if key not in reached] == []


@needs_binutils
def test_round_trip_through_gnu_as_has_zero_differences(decoded, tmp_path):
    texts = [listing[0].text for _, _, listing in decoded]
    back = gnu_as(texts, tmp_path)
    differences = [(line, code.hex(), text, again.hex())
                   for (line, code, _), text, again in zip(decoded, texts, back)
                   if again != code]
    assert differences == []


def test_round_trip_through_our_text_front_end(decoded):
    differences = [(line, code.hex(), listing[0].text)
                   for line, code, listing in decoded if assemble(listing[0].text) != code]
    assert differences == []


@needs_binutils
def test_branch_program_round_trip(tmp_path):
    """Relaxed branches (rel8 and rel32), calls, rip-relative loads: the whole program
    decoded, each branch written relative to itself (``.+n``) so GNU as places it the
    same, and reassembled to the same bytes.  Alignment padding is GNU as's multi-byte
    nops, whose zero displacements no text asks for; it goes back as ``.byte``."""
    source = "\n".join(branch_program())
    code = assemble(source)
    listing = disassemble(code)
    data_start = len(code) - 8 - 8 - 4 - 3   # .double, .quad, .long, .byte at the end
    instructions = [i for i in listing if i.address < data_start]
    assert all(i.form is not None for i in instructions)
    texts = []
    for ins in instructions:
        if ins.target is not None and not ins.rip:
            texts.append(f"{ins.mnemonic} .{ins.target - ins.address:+#x}")
        elif ins.mnemonic == "nop" and ins.bytes in NOPS:
            texts.append(".byte " + ", ".join(str(b) for b in ins.bytes))
        else:
            texts.append(ins.text)
    back = gnu_as(texts, tmp_path)
    assert b"".join(back) == code[:sum(len(i.bytes) for i in instructions)]
    branches = [i for i in instructions if i.target is not None and not i.rip]
    assert {len(i.bytes) for i in branches} >= {2, 5, 6}   # rel8, jmp/call rel32, jcc rel32


# capstone spells a few mnemonics differently
CAPSTONE_NAMES = {"sal": ("shl",), "xchg": ("xchg", "nop")}
# and the repeat prefixes (F3 before cmps/scas: GNU as's repz, capstone's repe)
CAPSTONE_PREFIXES = {"repz": "repe", "repnz": "repne"}


def capstone_agrees(ours: str, theirs: str) -> bool:
    """Same mnemonic, a known respelling, or vcmppd/vcmpps with the predicate (the
    immediate) folded into capstone's name: vcmpltpd.  A repeat prefix word must be
    the same prefix, as either spells it."""
    *prefix, ours = ours.split()
    *their_prefix, theirs = theirs.split()
    if [CAPSTONE_PREFIXES.get(p, p) for p in prefix] != \
            [CAPSTONE_PREFIXES.get(p, p) for p in their_prefix]:
        return False
    if ours == theirs or theirs in CAPSTONE_NAMES.get(ours, ()):
        return True
    return ours in ("vcmppd", "vcmpps") and theirs.startswith("vcmp") and \
        theirs.endswith(ours[-2:])


_WORD = re.compile(r"[a-z][a-z0-9]*")
#: capstone lists the implicit operands of string instructions; xchg's order is free
_OPERANDS_DIFFER = STRING_MNEMONICS | {"xchg"}


def same_registers(ins, capstone_operands: str) -> bool:
    """The registers named in minijit's operands and in capstone's, in order."""
    if ins.mnemonic.split()[-1] in _OPERANDS_DIFFER:
        return True
    ours = ", ".join(ins.operands).lower()
    return [w for w in _WORD.findall(ours) if w in REGISTERS] == \
        [w for w in _WORD.findall(capstone_operands.lower()) if w in REGISTERS]


def test_boundaries_mnemonics_and_registers_match_capstone(decoded):
    capstone = pytest.importorskip("capstone")
    md = capstone.Cs(capstone.CS_ARCH_X86, capstone.CS_MODE_64)
    code = b"".join(code for _, code, _ in decoded)
    theirs = list(md.disasm_lite(code, 0))
    ours = disassemble(code)
    assert [t[:2] for t in theirs] == [(i.address, len(i.bytes)) for i in ours]
    differences = {(i.mnemonic, t[2]) for i, t in zip(ours, theirs)
                   if not capstone_agrees(i.mnemonic, t[2])}
    assert differences == set()
    registers = [(str(i), t[3]) for i, t in zip(ours, theirs) if not same_registers(i, t[3])]
    assert registers == []
