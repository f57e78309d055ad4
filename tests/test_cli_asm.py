"""``minijit asm``: a listing of source lines with their bytes, --hex, -o, and errors."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from minijit.cli.main import main

SOURCE = """\
.intel_syntax noprefix
# multiply by 11
mul:
    mov rax, rdi        # x
    imul rax, rax, 11
loop: dec rcx
    jnz loop
    .p2align 4
    .quad 1, 2
    ret
"""


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "mul.s"
    path.write_text(SOURCE)
    return path


def test_listing_pairs_each_line_with_its_bytes(capsys, source):
    status, out, err = run(capsys, "asm", str(source))
    assert status == 0 and err == ""
    assert out.splitlines() == [
        "                             .intel_syntax noprefix",
        "                             # multiply by 11",
        "                             mul:",
        "   0:  48 89 f8              mov rax, rdi        # x",
        "   3:  48 6b c0 0b           imul rax, rax, 11",
        "   7:  48 ff c9              loop: dec rcx",
        "   a:  75 fb                 jnz loop",
        "   c:  0f 1f 40 00           .p2align 4",
        "  10:  01 00 00 00 00 00 00  .quad 1, 2",
        "  17:  00 02 00 00 00 00 00",
        "  1e:  00 00",
        "  20:  c3                    ret",
    ]


def test_hex_output_matches_gnu_as(capsys, source, tmp_path):
    status, out, _ = run(capsys, "asm", "--hex", str(source))
    assert status == 0
    assert out == "4889f8486bc00b48ffc975fb0f1f4000" + "01" + "00" * 7 + "02" + "00" * 7 \
        + "c3\n"
    if shutil.which("as") and shutil.which("objcopy"):
        obj, binary = tmp_path / "m.o", tmp_path / "m.bin"
        subprocess.run(["as", "--64", str(source), "-o", str(obj)], check=True)
        subprocess.run(["objcopy", "-O", "binary", "-j", ".text", str(obj), str(binary)],
                       check=True)
        assert binary.read_bytes().hex() == out.strip()


def test_output_file_gets_raw_bytes(capsys, source, tmp_path):
    target = tmp_path / "mul.bin"
    status, out, _ = run(capsys, "asm", str(source), "-o", str(target))
    assert status == 0 and out == ""
    assert target.read_bytes()[:3] == bytes.fromhex("4889f8")


def test_address_relocates_the_listing(capsys, tmp_path):
    path = tmp_path / "a.s"
    path.write_text("top: jmp top\nlea rax, [rip + top]\n")
    status, out, _ = run(capsys, "asm", "--address", "0x1000", str(path))
    assert status == 0
    assert out.splitlines() == [
        "1000:  eb fe                 top: jmp top",
        "1002:  48 8d 05 f7 ff ff ff  lea rax, [rip + top]",
    ]


def test_standard_input(capsys, monkeypatch):
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.StringIO("ret\n"))
    status, out, _ = run(capsys, "asm", "--hex", "-")
    assert (status, out) == (0, "c3\n")


def test_assembler_error_names_file_and_line(capsys, tmp_path):
    path = tmp_path / "bad.s"
    path.write_text("nop\nfrob rax, 1\n")
    status, out, err = run(capsys, "asm", str(path))
    assert status == 1 and out == ""
    assert err.startswith(f"minijit asm: error: {path}: line 2: frob rax, 1: ")
    assert "unknown mnemonic 'frob'" in err


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.s"
    status, out, err = run(capsys, "asm", str(missing))
    assert status == 1 and out == ""
    assert err == f"minijit asm: error: no such file: {missing}\n"


def test_hex_and_output_together_is_a_usage_error(capsys, source):
    with pytest.raises(SystemExit) as exit_info:
        main(["asm", "--hex", "-o", "x.bin", str(source)])
    assert exit_info.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_listing_of_the_whole_corpus_pairs_every_line():
    """Each corpus line gets exactly the bytes it assembles to on its own."""
    from minijit.cli.asm import owned_size, statement
    from minijit.x86 import assemble
    from minijit.x86.corpus import corpus

    lines = corpus(avx512=True)
    code = assemble("\n".join(lines))
    offset = 0
    for line in lines:
        size = owned_size(statement(line), code, offset, 0)
        assert code[offset:offset + size] == assemble(line), line
        offset += size
    assert offset == len(code)
