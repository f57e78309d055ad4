"""minijit.elf against a real C compiler's object files, with readelf/objdump as the oracle."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess

import pytest

from minijit.elf import ElfError, ElfFile

C_SOURCE = r"""
#include <stdio.h>
int multiply(int a, int b) { return a * b; }
static int helper(int x) { return x * 7 + 1; }
int twice(int x) { return helper(x) * 2; }
long sum(const long *p, long n) { long s = 0; for (long i = 0; i < n; i++) s += p[i]; return s; }
int say(int x) { printf("%d\n", x); return puts("hi"); }
int main(void) { return twice(3); }
"""

needs_gcc = pytest.mark.skipif(
    not (shutil.which("gcc") and shutil.which("readelf") and shutil.which("objdump")),
    reason="gcc, readelf and objdump are needed as the oracle",
)


@pytest.fixture(scope="module")
def object_file(tmp_path_factory):
    if not shutil.which("gcc"):
        pytest.skip("gcc is needed to make an object file")
    directory = tmp_path_factory.mktemp("elf")
    source = directory / "t.c"
    source.write_text(C_SOURCE)
    output = directory / "t.o"
    subprocess.run(["gcc", "-O2", "-c", str(source), "-o", str(output)], check=True)
    return output


def readelf_functions(path) -> dict[str, tuple[int, int, int]]:
    """name -> (section index, value, size) of defined FUNC symbols, as readelf sees them."""
    out = subprocess.run(["readelf", "-sW", str(path)], capture_output=True, text=True,
                         check=True).stdout
    found = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 8 and fields[3] == "FUNC" and fields[6].isdigit():
            found[fields[7]] = (int(fields[6]), int(fields[1], 16), int(fields[2]))
    return found


def objdump_bytes(path) -> dict[str, bytes]:
    """name -> the bytes objdump -d lists under ``<name>:``, up to the next symbol."""
    out = subprocess.run(["objdump", "-d", "-w", str(path)], capture_output=True, text=True,
                         check=True).stdout
    found: dict[str, bytearray] = {}
    current = None
    for line in out.splitlines():
        header = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if header:
            current = found.setdefault(header.group(1), bytearray())
            continue
        row = re.match(r"^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)", line)
        if row and current is not None:
            current.extend(bytes.fromhex(row.group(1)))
    return {name: bytes(code) for name, code in found.items()}


@needs_gcc
def test_functions_match_readelf(object_file):
    elf = ElfFile.read(str(object_file))
    ours = {s.name: (s.section, s.value, s.size) for s in elf.functions()}
    assert ours == readelf_functions(object_file)
    assert {"multiply", "twice", "sum", "say", "main"} <= set(ours)


@needs_gcc
def test_function_bytes_match_objdump(object_file):
    elf = ElfFile.read(str(object_file))
    listed = objdump_bytes(object_file)
    for symbol in elf.functions():
        code = elf.function_bytes(symbol)
        assert len(code) == symbol.size
        # objdump lists the alignment padding after a function under its name too
        assert listed[symbol.name][:symbol.size] == code, symbol.name


@needs_gcc
def test_main_lives_in_its_own_section(object_file):
    elf = ElfFile.read(str(object_file))
    main = elf.function("main")
    assert elf.sections[main.section].name == ".text.startup"
    assert elf.sections[elf.function("multiply").section].name == ".text"


@needs_gcc
def test_relocations_match_objdump(object_file):
    elf = ElfFile.read(str(object_file))
    text = elf.section_named(".text")
    out = subprocess.run(["objdump", "-dr", str(object_file)], capture_output=True,
                         text=True, check=True).stdout
    section_out = out.split("Disassembly of section .text:")[1].split("Disassembly of")[0]
    expected = re.findall(r"^\t+([0-9a-f]+): (R_X86_64_\w+)\t(\S+)$", section_out, re.M)
    ours = [(f"{r.offset:x}", r.type_name, r.target) for r in elf.relocations(text)]
    assert ours == expected
    assert any(r.symbol == "puts" and r.type_name == "R_X86_64_PLT32"
               for r in elf.relocations(text))


def test_unknown_function_names_the_ones_there_are(object_file):
    elf = ElfFile.read(str(object_file))
    with pytest.raises(KeyError, match=r"no function 'nosuch'.*functions: .*multiply"):
        elf.function("nosuch")


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", r"not an ELF file"),
        (b"MZ\x90\x00" + bytes(60), r"not an ELF file \(starts with b'MZ\\x90\\x00'"),
        (b"\x7fELF\x01\x01\x01" + bytes(57), r"not a 64-bit ELF file \(EI_CLASS is 1"),
        (b"\x7fELF\x02\x02\x01" + bytes(57), r"not a little-endian ELF file \(EI_DATA is 2"),
        (b"\x7fELF\x02\x01\x01" + bytes(9), r"truncated ELF file: ELF header at offset 0"),
    ],
    ids=["empty", "pe-file", "elf32", "big-endian", "truncated-header"],
)
def test_bad_files_say_what_is_wrong(data, message):
    with pytest.raises(ElfError, match=message):
        ElfFile(data)


def test_section_table_past_the_end_is_reported():
    header = struct.pack("<16sHHIQQQIHHHHHH", b"\x7fELF\x02\x01\x01" + bytes(9), 1, 62, 1,
                         0, 0, 4096, 0, 64, 0, 0, 64, 3, 0)
    with pytest.raises(ElfError, match=r"truncated ELF file: section header 0 at offset 4096"):
        ElfFile(header)


def test_elf_error_is_a_value_error():
    assert issubclass(ElfError, ValueError)
