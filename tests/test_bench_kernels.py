"""The benchmark kernels as correctness tests, and the runner's bookkeeping.

- Each CPython kernel is checked against an independent answer (the standard
  library, NumPy, the Benchmarks Game's published outputs), so the benchmark
  measures the algorithm it claims to.
- Each C kernel (gcc -O2, and -fno-tree-vectorize for the array kernels) must
  return CPython's result at the small size.
- Each kernel through ``minijit.jit``, the array kernels included, must return
  CPython's result (and leave its arrays as CPython does); an exception, a
  CompileError included, or a different result fails.
- The runner: a missing peer is an "n/a" cell with a note, a wrong result is a
  "WRONG" cell, and bad command-line arguments exit 2 naming the problem.
"""

from __future__ import annotations

import math
import shutil

import cbuild
import kernels
import measure
import pytest
import report
import run
import suite

np = pytest.importorskip("numpy")

IDS = [k.name for k in suite.KERNELS]


def small_run(kernel: suite.Kernel, function) -> object:
    return function(*kernel.make_args(kernel.small_size))


def small_run_arrays(kernel: suite.Kernel, function) -> tuple[object, list]:
    """The result, and the final contents of the array arguments."""
    args = kernel.make_args(kernel.small_size)
    return function(*args), [a.tolist() for a in args if isinstance(a, np.ndarray)]


# --- the kernels against independent answers ------------------------------------------


def _stencil_numpy(a, b, n, steps):
    for _ in range(steps):
        b[1:-1] = 0.25 * a[:-2] + 0.5 * a[1:-1] + 0.25 * a[2:]
        a[1:-1] = 0.25 * b[:-2] + 0.5 * b[1:-1] + 0.25 * b[2:]
    return float(a.sum())


def _matmul_numpy(a, b, c, n):
    return float((a.reshape(n, n) @ b.reshape(n, n)).sum())


ORACLES = [
    # (kernel, size, independent answer for that kernel's arguments at that size)
    ("fib", 20, lambda n: 6765),
    ("gcd_sum", 30, lambda n: sum(math.gcd(i, j) for i in range(1, 31) for j in range(1, 31))),
    ("collatz_steps", 27, lambda n: kernels.collatz_steps(26) + 111),  # 27 takes 111 steps
    ("popcount_sum", 5000, lambda n: sum(i.bit_count() for i in range(5000))),
    ("integrate_pi", 100_000, lambda n: math.pi),  # midpoint rule: error <= 1 / (3 n^2)
    ("newton_sum", 1000, lambda n: math.fsum(math.sqrt(i) for i in range(1, 1001))),
    ("sieve", 1000, lambda flags, n: 168),
    ("dot", 1, lambda a, b, n, reps: float(np.dot(a, b))),
    ("matmul", 12, _matmul_numpy),
    ("stencil", 3, _stencil_numpy),
    # The Benchmarks Game's published outputs: n-body 1000 steps, spectral norm 100.
    ("nbody", 1000, lambda *args: -0.169087605),
    ("spectral_norm", 100, lambda *args: 1.274219991),
]


@pytest.mark.parametrize(("name", "size", "oracle"), ORACLES, ids=[o[0] for o in ORACLES])
def test_kernel_computes_what_it_claims(name, size, oracle):
    kernel = suite.BY_NAME[name]
    got = suite.cpython(name)(*kernel.make_args(size))
    want = oracle(*kernel.make_args(size))
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (got, want)


def test_xorshift32_is_marsaglias():
    # Marsaglia, "Xorshift RNGs" (2003): from 2463534242 the first output is 723471715.
    assert kernels.xorshift32(2463534242) == 723471715


def test_mandelbrot_escape_counts_by_hand():
    # c = 0 never escapes; from c = 1, z runs 0, 1, 2, 5: three steps to |z|^2 > 4.
    assert kernels.escape_count(0.0, 0.0, 100) == 100
    assert kernels.escape_count(1.0, 0.0, 100) == 3
    assert kernels.escape_count(1.0, 0.0, 2) == 2  # gave up at max_iter


# --- C against CPython ----------------------------------------------------------------


C_CASES = [(k, flags) for k in suite.KERNELS for flags in cbuild.FLAG_SETS
           if k.array or flags == "gcc -O2"]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
@pytest.mark.parametrize(("kernel", "flags"), C_CASES,
                         ids=[f"{k.name}-{f.replace(' ', '')}" for k, f in C_CASES])
def test_c_kernel_matches_cpython(kernel, flags):
    c_function = cbuild.function(cbuild.load(flags), kernel.name, kernel.signature)
    got = small_run(kernel, c_function)
    want = small_run(kernel, suite.cpython(kernel.name))
    assert suite.same_result(got, want), (got, want)


# --- minijit against CPython ----------------------------------------------------------


@pytest.mark.parametrize("kernel", suite.KERNELS, ids=IDS)
def test_minijit_kernel_matches_cpython(kernel):
    got, got_arrays = small_run_arrays(kernel, suite.compiled(kernel.name, suite.minijit_jit()))
    want, want_arrays = small_run_arrays(kernel, suite.cpython(kernel.name))
    assert suite.same_result(got, want), (got, want)
    assert got_arrays == want_arrays  # the same operations in the same order: bit for bit


# --- the runner -----------------------------------------------------------------------


TINY_FIB = suite.Kernel("fib", "int64(int64)", suite.BY_NAME["fib"].make_args, 12, 10, 5)


@pytest.fixture
def no_fresh_processes(monkeypatch):
    """First calls answered without starting processes: {"error": ...}, as for a failure."""
    monkeypatch.setattr(measure, "median_fresh",
                        lambda repeat, *argv: {"error": "not measured in this test"})


def test_runner_marks_missing_and_wrong_peers(no_fresh_processes):
    loaders = {
        "gcc -O2": lambda k: kernels.fib,  # stands in for a correct peer
        "Numba": lambda k: lambda n: kernels.fib(n) + (n == 12),  # wrong at the benchmark size
    }
    missing = {"minijit": "minijit.jit is not available yet"}
    record = run.measure_kernel(TINY_FIB, loaders, missing, repeat=1)
    assert set(record["seconds"]) == {"CPython", "gcc -O2"}
    assert record["cell"] == {"Numba": "WRONG", "minijit": "n/a"}
    assert record["notes"]["Numba"] == (
        "Numba returned 145, expected 144 (gcc -O2 gives that at n=12)")
    assert record["notes"]["minijit"] == "minijit.jit is not available yet"
    text = report.render({"environment": report.environment("python bench/run.py", 1),
                          "kernels": [record],
                          "micro": {}})
    row = next(line for line in text.splitlines() if line.startswith("| fib "))
    assert "WRONG [1]" in row and "n/a [2]" in row
    assert "1. Numba returned 145" in text and "2. minijit.jit is not available yet" in text


def test_runner_reports_a_crashing_peer_as_error(no_fresh_processes):
    def broken(n):
        raise ZeroDivisionError("boom")

    record = run.measure_kernel(TINY_FIB, {"gcc -O2": lambda k: broken}, {}, repeat=1)
    assert record["cell"] == {"gcc -O2": "error"}
    assert record["notes"]["gcc -O2"] == "gcc -O2: ZeroDivisionError: boom"


@pytest.mark.parametrize(("argv", "message"), [
    (["--only", "fib,nosuch"], "unknown name(s) nosuch; choose from fib, "),
    (["--repeat", "0"], "--repeat must be at least 1, got 0"),
    (["--repeat", "many"], "invalid int value: 'many'"),
])
def test_runner_rejects_bad_arguments(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        run.parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_peer_speed_file_is_a_note(tmp_path, monkeypatch):
    import micro

    monkeypatch.setattr(measure, "BENCH_DIR", tmp_path)
    assert micro.peer_speed("asm_speed", 1) == [{"note": "bench/asm_speed.py is not written yet"}]


def test_failing_peer_speed_file_is_a_note(tmp_path, monkeypatch):
    import micro

    (tmp_path / "broken_speed.py").write_text("def run(repeat):\n    raise OSError('no')\n")
    monkeypatch.setattr(measure, "BENCH_DIR", tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert micro.peer_speed("broken_speed", 1) == [
        {"note": "bench/broken_speed.py failed: OSError: no"}]


@pytest.mark.parametrize(("seconds", "text"), [
    (2.5e-8, "25 ns"), (3.1e-4, "310 µs"), (0.0249, "24.9 ms"), (1.234, "1.23 s"), (123.4, "123 s"),
    (-7.01e-4, "-701 µs"),  # an import that came out faster than a bare interpreter
])
def test_times_print_with_three_digits_and_a_fitting_unit(seconds, text):
    assert report.fmt_time(seconds) == text


def test_float_results_compare_to_twelve_digits_ints_exactly():
    assert suite.same_result(1.0, 1.0 + 1e-15)
    assert not suite.same_result(1.0, 1.0 + 1e-9)
    assert not suite.same_result(2**62, 2**62 + 1)
    assert not suite.same_result(3, 3.0)
    assert suite.same_result(np.float64(0.5), 0.5)


def test_kernel_whose_arguments_cannot_be_made_is_a_note():
    def no_numpy(size):
        raise suite.Missing("numpy is not installed")

    kernel = suite.Kernel("sieve", "int64(uint8*, int64)", no_numpy, 10, 10, 5)
    record = run.measure_kernel(kernel, {"gcc -O2": lambda k: kernels.sieve}, {}, repeat=1)
    assert record["cell"] == {"CPython": "n/a"}
    assert record["notes"] == {"CPython": "numpy is not installed"}
    text = report.render({"environment": report.environment("python bench/run.py", 1),
                          "kernels": [record], "micro": {}})
    assert "| sieve | n=10 | n/a [1] | n/a [1] |" in text
    assert "1. numpy is not installed" in text


def test_notes_name_files_without_the_folders_of_this_machine():
    error = ImportError("cannot import name 'x' from 'm' (/home/u/src/m/assembler.py)")
    assert measure.describe(error) == (
        "ImportError: cannot import name 'x' from 'm' (assembler.py)")
    assert measure.scrub("see /a/b/c.py and ./d/e.py, 3/4") == "see c.py and ./d/e.py, 3/4"


@pytest.mark.parametrize("loaded", [(), ("loaded",)], ids=["cold", "loaded"])
def test_first_call_is_measured_in_a_fresh_process(loaded):
    answer = measure.fresh("first-call", "minijit", "fib", *loaded)
    try:
        suite.minijit_jit()
    except suite.Missing as missing:
        assert answer == {"error": f"Missing: {missing}"}
    else:
        assert answer["ok"] is True
        assert answer["seconds"] > 0


def test_fresh_process_failure_is_an_error_answer():
    assert measure.fresh("first-call", "NoSuchPeer", "fib") == {"error": "KeyError: 'NoSuchPeer'"}
    assert measure.fresh("no-such-command") == {"error": "KeyError: 'no-such-command'"}


def test_fresh_process_killed_by_a_signal_is_a_crash(tmp_path, monkeypatch):
    script = tmp_path / "crash.py"
    script.write_text("import os\nos.abort()\n")
    monkeypatch.setattr(measure, "FRESH", script)
    assert measure.fresh("first-call", "minijit", "fib") == {
        "error": "the process was killed by signal 6", "crashed": True}


def test_runner_does_not_run_in_process_what_crashed_in_a_fresh_one(monkeypatch):
    crashed = {"error": "the process was killed by signal 11", "crashed": True}
    monkeypatch.setattr(measure, "median_fresh", lambda repeat, *argv: crashed)

    def must_not_run(kernel):
        raise AssertionError("ran in-process after crashing in a fresh process")

    record = run.measure_kernel(TINY_FIB, {"minijit": must_not_run}, {}, repeat=1)
    assert record["cell"] == {"minijit": "crash"}
    assert record["notes"]["minijit"] == (
        "minijit: the process was killed by signal 11 at the small size")


def test_fresh_process_that_hangs_is_an_error_answer(tmp_path, monkeypatch):
    script = tmp_path / "hang.py"
    script.write_text("import time\ntime.sleep(60)\n")
    monkeypatch.setattr(measure, "FRESH", script)
    assert measure.fresh("memory", timeout=0.5) == {"error": "no answer within 0.5 s"}
