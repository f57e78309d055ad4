"""The seed's Python demo, ``python mj.py [N]``, run as a learner runs it.

The listing is checked line for line against the seed's README text, with the
page size the OS reports and products wrapped to 64 bits as ``imul`` wraps
them.  The FAIL, W^X and non-x86-64 paths load the file as a module and swap
one piece of it (the code bytes, the libc calls, the machine name), so the
checks in the file itself are what is being tested.
"""

from __future__ import annotations

import ast
import importlib.util
import mmap
import subprocess
import sys
from pathlib import Path

import pytest

MJ_PY = Path(__file__).resolve().parents[1] / "mj.py"
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(MJ_PY), *args],
                          check=False, capture_output=True, text=True, timeout=60)


def wrapped(value: int) -> int:
    return (value + (1 << 63)) % (1 << 64) - (1 << 63)


def listing(n: int) -> list[str]:
    """The seed README's listing for ``python mj.py n``."""
    return [
        f"Pagesize: {mmap.PAGESIZE}",
        "Allocating one page of memory",
        f"JIT-compiling a native mul-function w/arg {n}",
        "Making function block executable",
        "Testing function",
        *(f"mul({i}) = {wrapped(n * i)}" for i in range(10)),
        "Deallocating function",
    ]


@pytest.fixture
def mj():
    """A fresh copy of mj.py loaded as a module."""
    spec = importlib.util.spec_from_file_location("mj_demo", MJ_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_listing_for_10():
    result = run("10")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == listing(10)
    assert result.stderr == ""


def test_seed_listing_text_verbatim():
    # The seed README's own lines for `python mj.py 10` on a 4096-byte page.
    seed = """Pagesize: 4096
Allocating one page of memory
JIT-compiling a native mul-function w/arg 10
Making function block executable
Testing function
mul(0) = 0
mul(1) = 10
mul(2) = 20
mul(3) = 30
mul(4) = 40
mul(5) = 50
mul(6) = 60
mul(7) = 70
mul(8) = 80
mul(9) = 90
Deallocating function
""".replace("4096", str(mmap.PAGESIZE))
    assert run("10").stdout == seed


def test_default_multiplier_is_2_like_mj():
    result = run()
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == listing(2)


@pytest.mark.parametrize("n", [0, -7, INT64_MAX, INT64_MIN, 1 << 40, -(1 << 62) + 3])
def test_products_wrap_like_imul(n):
    result = run(str(n))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines() == listing(n)


def test_hex_argument_is_accepted_like_mj():
    assert run("0x10").stdout.splitlines() == listing(16)


@pytest.mark.parametrize(("args", "message"), [
    (["ten"], "N must be an integer, got 'ten'"),
    (["1.5"], "N must be an integer, got '1.5'"),
    ([""], "N must be an integer, got ''"),
    ([str(INT64_MAX + 1)], f"signed 64-bit integer ({INT64_MIN} to {INT64_MAX}), got"),
    ([str(INT64_MIN - 1)], f"got {INT64_MIN - 1}"),
    (["1", "2"], "too many arguments"),
])
def test_bad_argument_prints_usage_and_exits_2(args, message):
    result = run(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    usage, error = result.stderr.splitlines()
    assert usage.startswith("usage: python mj.py [N]")
    assert error.startswith("mj.py: error: ")
    assert message in error


def test_wrong_code_prints_fail_and_exits_1(mj, monkeypatch, capsys):
    right = mj.mul_code
    monkeypatch.setattr(mj, "mul_code", lambda n: right(n + 1))  # multiplies by 11
    assert mj.main(["10"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert "mul(0) = 0" in out  # 0 * 11 == 0 * 10: no FAIL for it
    assert "FAIL" not in "".join(out[:out.index("mul(1) = 11")])
    for i in range(1, 10):
        assert out[out.index(f"mul({i}) = {11 * i}") + 1] == f"FAIL: mul({i}) should be {10 * i}"
    assert out[-1] == "Deallocating function"


def test_page_is_never_writable_and_executable(mj, monkeypatch, capsys):
    prots = []
    for name in ("mmap", "mprotect"):
        real = getattr(mj.libc, name)

        def spy(*args, real=real, name=name):
            prots.append((name, args[2]))
            return real(*args)

        monkeypatch.setattr(mj.libc, name, spy)
    assert mj.main(["3"]) == 0
    assert prots == [("mmap", mmap.PROT_READ | mmap.PROT_WRITE),
                     ("mprotect", mmap.PROT_READ | mmap.PROT_EXEC)]
    assert capsys.readouterr().out.splitlines() == listing(3)


def test_other_machine_says_so_and_runs_nothing(mj, monkeypatch, capsys):
    monkeypatch.setattr(mj.platform, "machine", lambda: "aarch64")
    assert mj.main(["10"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "aarch64, not x86-64" in captured.err


def test_imports_only_the_standard_library():
    tree = ast.parse(MJ_PY.read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.partition(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "relative import"
            imported.add(node.module.partition(".")[0])
    assert {"ctypes", "mmap"} <= imported
    assert imported <= sys.stdlib_module_names, imported - sys.stdlib_module_names
