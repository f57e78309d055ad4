"""GNU as is the oracle: the whole corpus, through the builder and the text front end,
must give GNU as's bytes, with zero differences.

The corpus is assembled by one ``as`` run: each line follows its own label, and the
label addresses (from ``nm``) cut ``.text`` (from ``objcopy``) into per-line bytes.
One deliberate difference is allowed and checked: ``mov r64, imm`` with
0 <= imm < 2**32 is encoded as ``mov r32, imm32``, which is what GNU as emits with
``-O1``; those lines are compared with an ``as -O1`` run instead.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minijit.x86 import AsmError, assemble, disassemble
from minijit.x86.assembler import PREFIXES, Assembler, clear_caches
from minijit.x86.corpus import MEMORY, SAMPLES, branch_program, corpus
from minijit.x86.registers import Mem
from minijit.x86.syntax import parse_operand

TOOLS = ("as", "nm", "objcopy")
#: for the oracle tests here and in the modules that import gnu_as
needs_binutils = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                    reason="GNU binutils (as, nm, objcopy) not installed")
pytestmark = needs_binutils


def gnu_as(lines: list[str], *flags: str) -> tuple[list[bytes | None], dict[int, str]]:
    """Per-line bytes from one GNU as run, and its error message per failed line index."""
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "c.s")
        obj = os.path.join(tmp, "c.o")
        binary = os.path.join(tmp, "c.bin")
        with open(src, "w") as f:
            f.write(".intel_syntax noprefix\n")
            f.writelines(f"L{i}:\n{line}\n" for i, line in enumerate(lines))
            f.write(f"L{len(lines)}:\n")
        run = subprocess.run(["as", "--64", *flags, "-o", obj, src], capture_output=True,
                             text=True, check=False)
        errors = {}
        # A warning (an immediate truncated to fit) counts as a rejection: we refuse
        # what GNU as would silently change.
        for m in re.finditer(r":(\d+): (?:Error|Warning): (.*)", run.stderr):
            errors[(int(m.group(1)) - 3) // 2] = m.group(2)
        if run.returncode != 0:
            return [None] * len(lines), errors
        subprocess.run(["objcopy", "-O", "binary", "-j", ".text", obj, binary], check=True)
        with open(binary, "rb") as f:
            text = f.read()
        symbols = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
    at = {}
    for entry in symbols.split("\n"):
        parts = entry.split()
        if len(parts) == 3 and parts[2].startswith("L"):
            at[int(parts[2][1:])] = int(parts[0], 16)
    return [text[at[i]:at[i + 1]] for i in range(len(lines))], errors


def assert_text_and_builder_match_gnu_as(lines: list[str]) -> None:
    """Every line, through the text front end and through the builder, gives GNU as's
    bytes (and GNU as takes every line)."""
    expected, errors = gnu_as(lines)
    assert not errors
    for line, want in zip(lines, expected):
        assert assemble(line).hex() == want.hex(), line
        assert builder(line).hex() == want.hex(), line


def ours(line: str) -> bytes:
    return assemble(line)


def builder(line: str) -> bytes:
    """The same instruction through the builder API, operands parsed one by one."""
    mnemonic, _, rest = line.partition(" ")
    a = Assembler()
    if mnemonic in PREFIXES:
        prefix, (mnemonic, _, rest) = mnemonic, rest.partition(" ")
        getattr(getattr(a, prefix), mnemonic)(*[parse_operand(p) for p in rest.split(",") if rest])
        return a.assemble()
    ops = [parse_operand(p) for p in rest.split(",")] if rest else []
    a.emit(mnemonic, *ops)
    return a.assemble()


def _shortened_mov(line: str) -> bool:
    m = re.fullmatch(r"movq? (r\w+), (\S+)", line)
    if not m or parse_operand(m.group(1)).kind != "r64":
        return False
    value = parse_operand(m.group(2))
    return type(value) is int and 0 <= value < 1 << 32


def _movd_spelled_movq(line: str, got: bytes, want: bytes) -> bool:
    """movd between xmm and 64-bit memory: GNU as keeps movd's opcode with REX.W (66
    REX.W 0F 6E/7E), minijit writes movq (F3 0F 7E, 66 0F D6), the same instruction
    and no longer, which the issue allows.  True when GNU as itself gives our bytes for
    the line spelled movq, and they are no longer."""
    if not re.fullmatch(r"movd \S+, qword ptr \S.*|movd qword ptr .*, xmm\d+", line):
        return False
    again, errors = gnu_as([line.replace("movd", "movq", 1)])
    return not errors and again[0] == got and len(got) <= len(want)


def test_movd_with_64_bit_memory_is_gnu_as_movq_no_longer():
    """The one spelling where minijit's bytes are not GNU as's: movd between xmm and
    64-bit memory is GNU as's own movq encoding, no longer (a byte shorter unless a
    REX prefix is needed anyway), and both decode to the same instruction.  With a
    64-bit register movd is byte for byte GNU as's."""
    for line in ("movd xmm0, qword ptr [rax]", "movd qword ptr [rsp + 8], xmm9"):
        (gnu_movd, gnu_movq), errors = gnu_as([line, line.replace("movd", "movq")])
        assert not errors and assemble(line) == gnu_movq
        assert len(gnu_movq) <= len(gnu_movd)
        assert disassemble(gnu_movq)[0].text == disassemble(gnu_movd)[0].text
    assert_text_and_builder_match_gnu_as(["movd xmm0, rax", "movd r9, xmm12",
                                          "vmovd xmm3, r10", "vmovd rax, xmm15"])


@pytest.fixture(scope="module")
def corpus_bytes():
    lines = corpus(avx512=True)
    expected, errors = gnu_as(lines)
    assert not errors, f"GNU as rejects corpus lines: {list(errors.items())[:5]}"
    return lines, expected


def test_corpus_is_large_and_covers_every_form(corpus_bytes):
    from minijit.x86.table import forms

    lines, _ = corpus_bytes
    assert len(lines) > 10000
    mnemonics = {line.split()[0] for line in lines}
    missing = {f.mnemonic for f in forms(avx512=True) if not f.rel_size} - mnemonics
    assert not missing


def test_text_front_end_matches_gnu_as(corpus_bytes):
    lines, expected = corpus_bytes
    got = [ours(line) for line in lines]
    diffs = [(line, g.hex(), e.hex()) for line, g, e in zip(lines, got, expected)
             if g != e and not _shortened_mov(line)]
    assert not diffs, f"{len(diffs)} differences, first: {diffs[:10]}"
    shortened = [i for i, line in enumerate(lines) if _shortened_mov(line)]
    optimised, _ = gnu_as([lines[i] for i in shortened], "-O1")
    for i, want in zip(shortened, optimised):
        assert got[i] == want and len(got[i]) <= len(expected[i]), lines[i]


def test_builder_matches_text_front_end(corpus_bytes):
    lines, _ = corpus_bytes
    diffs = [line for line in lines if builder(line) != ours(line)]
    assert not diffs


def test_one_operand_under_each_displacement_scale_matches_gnu_as():
    """A memory operand keeps its address bytes for legacy and VEX code and, apart, for
    each EVEX disp8 scale it meets (Mem.mode): used in turn by both kinds of code,
    from caches cleared first, each instruction still gets GNU as's bytes.  The
    displacements straddle the limits: 0x3f8 is disp32 unscaled and 127 * 8 scaled,
    0x400 is disp32 both ways, 0x44 is disp8 unscaled and not a multiple of 8."""
    clear_caches()
    lines = []
    for disp in ("0x3f8", "0x400", "0x44", "0x40"):
        memory = f"qword ptr [rax + {disp}]"
        lines += [f"mov rcx, {memory}", f"vaddsd xmm16, xmm1, {memory}", f"add rcx, {memory}",
                  f"vmovsd xmm17, {memory}", f"vmovq xmm0, {memory}",
                  f"vaddpd zmm1, zmm2, {memory}{{1to8}}"]
    operands = {text: parse_operand(text) for line in lines for text in line.split(", ")[1:]}
    assert all(op.mode is None for op in operands.values() if type(op) is Mem)
    assert_text_and_builder_match_gnu_as(lines)


def test_branch_program_matches_gnu_as():
    lines = branch_program()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "b.s")
        with open(src, "w") as f:
            f.write(".intel_syntax noprefix\n" + "\n".join(lines) + "\n")
        subprocess.run(["as", "--64", "-o", src + ".o", src], check=True)
        subprocess.run(["objcopy", "-O", "binary", "-j", ".text", src + ".o", src + ".bin"],
                       check=True)
        with open(src + ".bin", "rb") as f:
            expected = f.read()
    assert assemble("\n".join(lines)).hex() == expected.hex()


# --- random operands: match GNU as, or both reject -----------------------------------------

MNEMONICS = ["add", "sub", "and", "or", "xor", "cmp", "adc", "sbb", "test", "mov", "xchg",
             "imul", "shl", "sar", "rol", "lea", "movzx", "movsx", "movsxd", "inc", "neg",
             "push", "pop", "bt", "bsf", "popcnt", "cmove", "movsd", "addsd", "movq", "movd",
             "cvtsi2sd", "cvttsd2si", "vaddpd", "vmovaps", "vfmadd231sd", "pxor", "roundsd",
             "vmovapd", "vpaddq", "vfmadd231pd", "vbroadcastsd"]
REGS = [r for kind in ("r8", "r16", "r32", "r64", "xmm", "ymm") for r in SAMPLES[kind]] + [
    "ah", "bh", "cl", "xmm20", "ymm31", "zmm0", "zmm17"]
SIZES = ["byte ptr ", "word ptr ", "dword ptr ", "qword ptr ", "xmmword ptr ", "ymmword ptr ",
         "zmmword ptr ", ""]
operand = st.one_of(
    st.sampled_from(REGS),
    st.builds(lambda s, m: s + m, st.sampled_from(SIZES), st.sampled_from(MEMORY)),
    st.sampled_from(["0", "1", "-1", "127", "128", "-129", "255", "256", "0x7fffffff",
                     "0x80000000", "0xffffffff", "-0x80000000", "0x100000000"]),
)
instruction = st.builds(
    lambda m, ops: f"{m} {', '.join(ops)}".strip(),
    st.sampled_from(MNEMONICS), st.lists(operand, min_size=0, max_size=3))


def _accepted_by_both(lines: list[str]) -> tuple[list, list]:
    """Assemble each line alone with GNU as (in one run, errors map to lines)."""
    expected, errors = gnu_as(lines)
    if errors and all(e is None for e in expected):
        good = [line for i, line in enumerate(lines) if i not in errors]
        expected_good, more = gnu_as(good)
        assert not more, more
        it = iter(expected_good)
        expected = [None if i in errors else next(it) for i in range(len(lines))]
    expected = [None if i in errors else e for i, e in enumerate(expected)]
    return expected, [errors.get(i) for i in range(len(lines))]


# Where GNU as is more lenient than the issue allows, we reject on purpose: an
# immediate wider than its field (GNU as truncates some silently) and a shift count
# in a register other than cl (GNU as takes rcx/ecx/cx as cl).
STRICTER = ("out of range", "must be cl")


def assert_gnu_as_agrees(lines: list[str], we_may_refuse=lambda line, error: False,
                         may_differ=lambda line, got, want: False) -> None:
    """Each line gives GNU as's bytes, or both GNU as and minijit refuse it; except
    where ``we_may_refuse(line, error)`` (minijit refuses on purpose what GNU as
    takes) or ``may_differ(line, got, want)`` (other bytes, checked some other way)."""
    expected, errors = _accepted_by_both(lines)
    for line, want, error in zip(lines, expected, errors):
        try:
            got = ours(line)
        except AsmError as e:
            assert want is None or we_may_refuse(line, e), \
                f"{line!r}: we reject ({e}), GNU as gives {want.hex()}"
            continue
        assert want is not None, f"{line!r}: GNU as rejects ({error}), we give {got.hex()}"
        assert got == want or may_differ(line, got, want), \
            f"{line!r}: {got.hex()} != GNU as {want.hex()}"


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(instruction, min_size=20, max_size=20))
def test_random_operands_match_gnu_as_or_both_reject(lines):
    assert_gnu_as_agrees(
        lines, lambda line, error: any(s in str(error) for s in STRICTER),
        lambda line, got, want: _shortened_mov(line) or _movd_spelled_movq(line, got, want))


# --- the golden file: GNU as's bytes for a slice of the corpus, for runs without binutils ---

GOLDEN = os.path.join(os.path.dirname(__file__), "golden", "asm_corpus.txt")
GOLDEN_STEP = 6  # every sixth corpus line


def golden_lines() -> list[str]:
    return corpus(avx512=True)[::GOLDEN_STEP]


def test_golden_file_is_gnu_as_output(corpus_bytes):
    """The committed golden file holds GNU as's bytes (regenerate: write_golden())."""
    lines, expected = corpus_bytes
    want = {line: e.hex() for line, e in zip(lines, expected)}
    with open(GOLDEN) as f:
        rows = [row.rstrip("\n").split("\t") for row in f]
    assert [line for line, _ in rows] == golden_lines()
    assert all(want[line] == data for line, data in rows)


def write_golden() -> None:
    lines = golden_lines()
    expected, errors = gnu_as(lines)
    assert not errors
    with open(GOLDEN, "w") as f:
        f.writelines(f"{line}\t{e.hex()}\n" for line, e in zip(lines, expected))


# --- random programs of branches: relaxation matches GNU as -----------------------------------

def _gnu_as_program(lines: list[str]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "p.s")
        with open(src, "w") as f:
            f.write(".intel_syntax noprefix\n" + "\n".join(lines) + "\n")
        subprocess.run(["as", "--64", "-o", src + ".o", src], check=True, capture_output=True)
        subprocess.run(["objcopy", "-O", "binary", "-j", ".text", src + ".o", src + ".bin"],
                       check=True)
        with open(src + ".bin", "rb") as f:
            return f.read()


BRANCHES = ["jmp", "je", "jne", "jl", "jae", "jg", "js", "call"]
item = st.one_of(
    st.builds(lambda b, t: f"{b} L{t}", st.sampled_from(BRANCHES), st.integers(0, 5)),
    st.builds(lambda n: ".byte " + ", ".join(["0x90"] * n), st.integers(1, 130)),
    st.builds(lambda k: f".p2align {k}", st.integers(1, 6)),
    st.sampled_from(["add rax, rcx", "ret", "movsd xmm0, qword ptr [rip + L3]"]),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(item, min_size=1, max_size=60), st.permutations(range(6)),
       st.lists(st.integers(0, 30), min_size=6, max_size=6))
def test_random_branch_programs_match_gnu_as(items, order, places):
    """Labels L0-L5 scattered among branches, fillers and alignment: same bytes, so the
    relaxation (which branches stay rel8) is GNU as's, alignment included."""
    lines = list(items)
    for label, place in sorted(zip(order, places), key=lambda p: -p[1]):
        lines.insert(min(place, len(lines)), f"L{label}:")
    assert assemble("\n".join(lines)).hex() == _gnu_as_program(lines).hex()
