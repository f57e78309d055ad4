"""The `mj` command: the seed's listing, line for line, and its bad input."""

from __future__ import annotations

import mmap
import subprocess
import sys

import pytest

from minijit.cli import mj

SEED_LISTING_11 = """\
pagesize {page}
compiling code w/multiplier 11
marking as executable
calling JIT
OK result 132
OK call(0) = 0
OK call(1) = 11
OK call(2) = 22
OK call(3) = 33
OK call(4) = 44
OK call(5) = 55
OK call(6) = 66
OK call(7) = 77
OK call(8) = 88
OK call(9) = 99
done
"""


def run_mj(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "minijit.cli.mj", *args], capture_output=True, text=True
    )


def test_mj_11_prints_the_seed_listing():
    result = run_mj("11")
    assert result.returncode == 0
    assert result.stdout == SEED_LISTING_11.format(page=mmap.PAGESIZE)


def test_mj_defaults_to_2(capsys):
    assert mj.main([]) == 0
    out = capsys.readouterr().out.splitlines()
    assert "OK result 24" in out
    assert out[-2] == "OK call(9) = 18"


@pytest.mark.parametrize("n", [-(1 << 63), (1 << 63) - 1, -7, 1 << 40])
def test_products_wrap_like_imul(n, capsys):
    assert mj.main([str(n)]) == 0
    out = capsys.readouterr().out
    assert f"OK result {mj.wrap64(n * 12)}\n" in out
    assert "FAIL" not in out


def test_a_wrong_result_prints_fail_and_exits_1(monkeypatch, capsys):
    # Generate code for 3 while the checks expect 11: every nonzero call must FAIL.
    real = mj.multiply_code
    monkeypatch.setattr(mj, "multiply_code", lambda n: real(3))
    assert mj.main(["11"]) == 1
    out = capsys.readouterr().out
    assert "FAIL result 36" in out
    assert "OK call(0) = 0" in out and "FAIL call(1) = 3" in out


@pytest.mark.parametrize("arg, text", [
    ("abc", "N must be an integer, got 'abc'"),
    ("1.5", "must be an integer"),
    (str(1 << 63), "must fit in a signed 64-bit integer"),
    (str(-(1 << 63) - 1), "must fit in a signed 64-bit integer"),
])
def test_bad_n_prints_usage_and_exits_2(arg, text):
    result = run_mj(arg)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: mj")
    assert text in result.stderr
    assert result.stdout == ""


def test_wrap64():
    assert mj.wrap64(1 << 63) == -(1 << 63)
    assert mj.wrap64(-1) == -1
    assert mj.wrap64((1 << 64) + 5) == 5
