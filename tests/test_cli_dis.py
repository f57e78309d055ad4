"""``minijit dis``: hex or a file in, objdump's layout out; bad input says what is wrong."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from minijit.cli.main import main


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def test_hex_words_are_listed(capsys):
    status, out, err = run(capsys, "dis", "48 89 f8", "c3")
    assert status == 0 and err == ""
    assert out.splitlines() == [
        "   0:  48 89 f8              mov rax, rdi",
        "   3:  c3                    ret",
    ]


@pytest.mark.parametrize("words", [["4889f8c3"], ["0x48,0x89,0xf8,0xc3"], ["\\x48\\x89\\xf8\\xc3"],
                                   ["48", "89", "F8", "C3"]])
def test_hex_spellings(capsys, words):
    status, out, _ = run(capsys, "dis", *words)
    assert status == 0
    assert [line.split("  ")[-1] for line in out.splitlines()] == ["mov rax, rdi", "ret"]


def test_address_moves_the_listing_and_branch_targets(capsys):
    status, out, _ = run(capsys, "dis", "--address", "0x401000", "ebfe", "e8f5ffffff")
    assert status == 0
    assert out.splitlines() == [
        "  401000:  eb fe                 jmp 0x401000",
        "  401002:  e8 f5 ff ff ff        call 0x400ffc",
    ]


def test_long_instruction_wraps_bytes_like_objdump(capsys):
    _, out, _ = run(capsys, "dis", "48b8efcdab8967452301")
    assert out.splitlines() == [
        "   0:  48 b8 ef cd ab 89 67  movabs rax, 0x123456789abcdef",
        "   7:  45 23 01",
    ]


def test_bytes_columns_match_objdump(tmp_path, capsys):
    objdump = shutil.which("objdump")
    if objdump is None:
        pytest.skip("objdump is the oracle")
    code = bytes.fromhex("554889e5897dfc8b45fcba0b0000000fafc25dc3")
    path = tmp_path / "code.bin"
    path.write_bytes(code)
    status, out, _ = run(capsys, "dis", "--file", str(path))
    theirs = subprocess.run([objdump, "-D", "-b", "binary", "-m", "i386:x86-64", "-M", "intel",
                             str(path)], capture_output=True, text=True, check=True).stdout
    their_rows = [line.split("\t")[:2] for line in theirs.splitlines() if line[:4].strip()
                  and ":\t" in line]
    our_rows = [[line[:line.index(":") + 1], line[line.index(":") + 3:][:20].rstrip()]
                for line in out.splitlines()]
    assert status == 0
    assert our_rows == [[a, b.rstrip()] for a, b in their_rows]


def test_file_from_standard_input(monkeypatch, capsys):
    import io

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"\x90\xc3")))
    status, out, _ = run(capsys, "dis", "--file", "-")
    assert status == 0 and [line.split()[-1] for line in out.splitlines()] == ["nop", "ret"]


def test_undecodable_bytes_are_bad_not_an_error(capsys):
    status, out, _ = run(capsys, "dis", "0f0f", "c3")
    assert status == 0
    assert [line.split("  ")[-1] for line in out.splitlines()] == ["(bad)", "(bad)", "ret"]


@pytest.mark.parametrize(
    "argv, message",
    [
        (["zz"], "invalid hex: 'z' is not a hexadecimal digit (in 'zz')"),
        (["48 8"], "invalid hex: odd number of digits (3) in '48 8'; each byte is two digits"),
        ([], "nothing to disassemble: give HEX bytes or --file FILE"),
        (["c3", "--file", "x.bin"], "give either HEX bytes or --file, not both"),
    ],
)
def test_bad_input_is_a_usage_error(capsys, argv, message):
    status, out, err = run(capsys, "dis", *argv)
    assert status == 2 and out == ""
    assert err == f"minijit dis: error: {message}\n"


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.bin"
    status, out, err = run(capsys, "dis", "--file", str(missing))
    assert status == 1 and out == ""
    assert err == f"minijit dis: error: no such file: {missing}\n"


def test_bad_address_is_rejected_by_argparse(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["dis", "--address", "ten", "c3"])
    assert exit_info.value.code == 2
    assert "address must be an integer such as 4096 or 0x1000, got 'ten'" in \
        capsys.readouterr().err


def test_command_line_entry_point():
    result = subprocess.run([sys.executable, "-m", "minijit", "dis", "c3"], capture_output=True,
                            text=True)
    assert result.returncode == 0
    assert result.stdout == "   0:  c3                    ret\n"
