"""Branches to numeric addresses (``jmp 0x401000``), relative to ``assemble(address=...)``.

GNU as leaves such a target to the linker (a PC32 relocation against the absolute
section) and always uses the rel32 form; the oracle here is GNU as followed by
``ld -Ttext=address``.  loop/jrcxz (rel8 only) are refused, as GNU as refuses them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from minijit.x86 import AsmError, Assembler, assemble

TOOLS = ("as", "ld", "objcopy")
needs_binutils = pytest.mark.skipif(any(shutil.which(t) is None for t in TOOLS),
                                    reason="GNU binutils (as, ld, objcopy) not installed")


def gnu_linked(lines: list[str], address: int) -> bytes | None:
    """``.text`` of ``lines`` assembled by GNU as and linked at ``address`` (None if as
    or ld refuses, e.g. a target out of rel32 range)."""
    with tempfile.TemporaryDirectory() as tmp:
        src, obj, exe, binary = (os.path.join(tmp, name) for name in ("p.s", "p.o", "p", "p.bin"))
        with open(src, "w") as f:
            f.write(".intel_syntax noprefix\n" + "\n".join(lines) + "\n")
        for command in (["as", "--64", "-o", obj, src],
                        ["ld", f"-Ttext={address:#x}", "-e", f"{address:#x}", "-o", exe, obj],
                        ["objcopy", "-O", "binary", "-j", ".text", exe, binary]):
            if subprocess.run(command, capture_output=True, check=False).returncode != 0:
                return None
        with open(binary, "rb") as f:
            return f.read()


def ours(lines: list[str], address: int) -> bytes | None:
    try:
        return assemble("\n".join(lines), address=address)
    except AsmError:
        return None


PROGRAM = ["jmp 0x10", "jmp 0x401010", "je 0x401000", "call 0x401000", "here:", "jmp here",
           "nop", "jmp -5", "call 0", "ja 0x0", "jne 0x401020", "jl 0x7fffffff"]


@needs_binutils
@pytest.mark.parametrize("address", [0, 0x1000, 0x401000, 0x7FFF0000])
def test_numeric_targets_match_gnu_as_and_ld(address):
    want = gnu_linked(PROGRAM, address)
    assert want is not None
    assert ours(PROGRAM, address).hex() == want.hex()


@needs_binutils
def test_a_target_out_of_rel32_range_is_refused_by_both():
    lines = ["nop", "jmp 0x10"]
    assert gnu_linked(lines, 0x7FFF00000000) is None
    with pytest.raises(AsmError, match=r"line 2: jmp 0x10: target out of rel32 range of code "
                                       r"loaded at 0x7fff00000000"):
        assemble("\n".join(lines), address=0x7FFF00000000)


BRANCHES = ["jmp", "je", "jne", "jb", "jg", "js", "call"]
ADDRESS = 0x80000000
REACH = (1 << 31) - 0x100000  # rel32's reach, less the code and page offsets below
item = st.one_of(
    st.builds(lambda b, t: f"{b} {t:#x}", st.sampled_from(BRANCHES),
              st.integers(ADDRESS - REACH, ADDRESS + REACH)),
    st.builds(lambda b, t: f"{b} L{t}", st.sampled_from(BRANCHES), st.integers(0, 2)),
    st.builds(lambda n: ".byte " + ", ".join(["0x90"] * n), st.integers(1, 130)),
    st.builds(lambda k: f".p2align {k}", st.integers(1, 4)),
    st.sampled_from(["add rax, rcx", "ret"]),
)


@needs_binutils
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(item, min_size=1, max_size=30), st.integers(0, 20))
def test_random_programs_with_numeric_targets_match_gnu_as(items, page):
    """Numeric targets among label branches (which relax around them), fillers and
    alignment, loaded at a page address."""
    lines = ["L0:", *items, "L1:", "nop", "L2:"]
    address = ADDRESS + page * 0x1000
    want = gnu_linked(lines, address)
    assert want is not None, lines
    assert ours(lines, address).hex() == want.hex()


def test_builder_and_text_give_the_same_bytes():
    a = Assembler()
    a.call(0x401000)
    a.jne(0x401000)
    a.jmp(0x400000)
    assert a.assemble(0x401000) == assemble("call 0x401000\njne 0x401000\njmp 0x400000",
                                            address=0x401000) == bytes.fromhex(
        "e8fbffffff" "0f85f5ffffff" "e9f0efffff")


def test_the_same_code_at_another_address_gets_other_displacements():
    assert assemble("jmp 0x2000", address=0x1000).hex() == "e9fb0f0000"
    assert assemble("jmp 0x2000", address=0x2000).hex() == "e9fbffffff"


@pytest.mark.parametrize("line", ["loop 0x10", "jrcxz 0x401000", "loopne 0"])
def test_rel8_only_branches_refuse_a_numeric_target(line):
    with pytest.raises(AsmError, match=r"line 1: .*has only a rel8 form, which cannot reach a "
                                       "numeric address"):
        assemble(line)


def test_a_target_wider_than_64_bits_is_refused():
    with pytest.raises(AsmError, match="address 0x10000000000000000 does not fit in 64 bits"):
        assemble("jmp 0x10000000000000000")
    with pytest.raises(AsmError, match="does not fit in 64 bits"):
        Assembler().call(-(1 << 63) - 1)
