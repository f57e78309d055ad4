"""``minijit cc``: a C compiler's code through minijit's disassembler, and its errors."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from minijit.cli.main import main

C_SOURCE = """
long multiply(long a, long b) { return a * b; }
long sum(const long *p, long n) { long s = 0; for (long i = 0; i < n; i++) s += p[i]; return s; }
int shout(const char *s) { extern int puts(const char *); return puts(s) + 1; }
"""

needs_cc = pytest.mark.skipif(not any(shutil.which(c) for c in ("cc", "gcc", "clang")),
                              reason="a C compiler is needed")


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "kernels.c"
    path.write_text(C_SOURCE)
    return path


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


@needs_cc
def test_one_function(capsys, source):
    status, out, err = run(capsys, "cc", str(source), "multiply")
    assert status == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == "0000000000000000 <multiply>:"
    assert any("imul" in line for line in lines[1:])
    assert lines[-1].endswith("ret")


@needs_cc
def test_every_function_with_relocations_and_local_labels(capsys, source):
    status, out, _ = run(capsys, "cc", str(source))
    assert status == 0
    headers = re.findall(r"^[0-9a-f]{16} <(\w+)>:$", out, re.M)
    assert headers == ["multiply", "sum", "shout"]
    # the call to puts is still unresolved: objdump -dr's relocation line names it
    assert re.search(r"^\s+[0-9a-f]+: R_X86_64_PLT32 puts-0x4$", out, re.M)
    # a branch inside sum is named relative to sum
    assert re.search(r"j\w+ 0x[0-9a-f]+  # <sum\+0x[0-9a-f]+>", out)


@needs_cc
def test_listing_agrees_with_objdump(capsys, source, tmp_path):
    """Same addresses and bytes as objdump -d for every instruction of every function."""
    if shutil.which("objdump") is None or shutil.which("cc") is None:
        pytest.skip("cc and objdump are the oracle")
    obj = tmp_path / "k.o"
    subprocess.run(["cc", "-O2", "-c", str(source), "-o", str(obj)], check=True)
    dump = subprocess.run(["objdump", "-d", str(obj)], capture_output=True, text=True,
                          check=True).stdout
    status, out, _ = run(capsys, "cc", str(source))
    row = re.compile(r"^\s*([0-9a-f]+):\s+((?:[0-9a-f]{2} )*[0-9a-f]{2})", re.M)
    ours = row.findall(out)
    theirs = [(a, b.strip()) for a, b in row.findall(dump)]
    # objdump also lists the padding between functions; ours stops at each symbol's size
    assert ours and set(ours) <= set(theirs)
    assert status == 0


@needs_cc
def test_function_not_in_the_file(capsys, source):
    status, out, err = run(capsys, "cc", str(source), "divide")
    assert status == 1 and out == ""
    assert err == (f"minijit cc: error: no function 'divide' in the object file; functions: "
                   f"multiply, sum, shout (compiled from {source})\n")


def test_missing_file(capsys, tmp_path):
    missing = tmp_path / "nope.c"
    status, out, err = run(capsys, "cc", str(missing))
    assert status == 1 and out == ""
    assert err == f"minijit cc: error: no such file: {missing}\n"


@needs_cc
def test_compiler_error_is_shown(capsys, tmp_path):
    broken = tmp_path / "broken.c"
    broken.write_text("int f(void) { return }\n")
    status, out, err = run(capsys, "cc", str(broken))
    assert status == 1 and out == ""
    assert err.startswith("minijit cc: error: ")
    assert "-O2 -c" in err and "failed (exit status 1)" in err and "broken.c" in err


def test_no_compiler_on_path(source, tmp_path):
    """PATH holds no compiler and CC is unset: the message says what was looked for."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "CC"}
    env["PATH"] = str(empty)
    result = subprocess.run([sys.executable, "-m", "minijit", "cc", str(source)], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr == ("minijit cc: error: no C compiler found: looked for cc, gcc, "
                             "clang on PATH; install one or set CC\n")


def test_cc_names_a_missing_compiler(capsys, source, monkeypatch):
    monkeypatch.setenv("CC", "no-such-compiler-9 -m64")
    status, _, err = run(capsys, "cc", str(source))
    assert status == 1
    assert err == ("minijit cc: error: no C compiler found: looked for "
                   "'no-such-compiler-9 -m64' (from $CC); install one or set CC\n")


def test_cc_environment_variable_chooses_the_compiler(capsys, source, monkeypatch):
    compiler = shutil.which("gcc") or shutil.which("clang")
    if compiler is None:
        pytest.skip("gcc or clang is needed")
    monkeypatch.setenv("CC", f"{compiler} -fno-pic")
    status, out, _ = run(capsys, "cc", str(source), "sum")
    assert status == 0 and "<sum>:" in out


@needs_cc
def test_cflags_reach_the_compiler(capsys, source):
    status, out, _ = run(capsys, "cc", str(source), "multiply",
                         "--cflags=-O0 -fno-omit-frame-pointer")
    assert status == 0
    assert out.splitlines()[1].endswith("push rbp")   # -O0 keeps the frame pointer
