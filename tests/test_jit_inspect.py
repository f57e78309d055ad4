"""Inspection and the command line: signatures, py_func, ir() golden text, asm() listings,
explicit and annotated signatures, ``minijit run``."""

from __future__ import annotations

import textwrap

import pytest
import suite

from minijit import jit
from minijit.cli.main import main


@jit
def gcd(a, b):
    while b != 0:
        a, b = b, a % b
    return a


GCD_IR = """\
function gcd(a: int, b: int) -> int
b0:
  %0: int = param a
  %1: int = param b
  %2: bool = icmp ne %1, 0
  br b1 b4 %2
b1:  ; preds b0
  jmp b2
b2:  ; preds b1, b3
  %5: int = phi %1, %7
  %6: int = phi %0, %5
  %7: int = imod %6, %5
  jmp b3
b3:  ; preds b2
  %9: bool = icmp ne %7, 0
  br b2 b4 %9
b4:  ; preds b0, b3
  %11: int = phi %0, %5
  ret %11
"""


def test_ir_golden_text_after_optimisation():
    assert gcd(12, 18) == 6
    assert gcd.ir() == GCD_IR
    assert gcd.ir("int64(int64, int64)") == GCD_IR


@jit
def masked(n):
    h = 0
    for i in range(n):
        k = n ^ 12345  # loop-invariant: computed once, before the loop
        h = ((h * 31 + (i & 0xFFFF)) ^ k) & 0xFFFFFFFF
    return h


def test_passes_visible_in_ir():
    assert masked(10) == masked.py_func(10)
    ir = masked.ir()
    lines = ir.splitlines()
    header = next(i for i, line in enumerate(lines) if "phi" in line)
    invariant = next(i for i, line in enumerate(lines) if "ixor %0, 12345" in line)
    assert invariant < header  # LICM moved n ^ 12345 out of the loop
    assert "wmul" in ir and "wadd" in ir  # the masks prove h * 31 + ... cannot overflow
    assert "imul" not in ir and "iadd" not in ir


def test_signatures_and_py_func():
    f = jit(scale)
    assert f.signatures == []
    f(1, 2)
    f(1.5, 2.5)
    f(True, 3)
    assert f.signatures == ["int64(int64, int64)", "float64(float64, float64)",
                            "int64(bool, int64)"]
    assert f.py_func is scale
    assert f.__name__ == "scale" and f.__doc__ == scale.__doc__


def test_asm_lists_source_lines_and_instructions():
    gcd(1, 1)
    text = gcd.asm()
    assert "; kernel entry" in text
    assert "; line " in text and "a, b = b, a % b" in text
    assert "idiv" in text  # the disassembler names the instructions


def test_explicit_signature_compiles_eagerly():
    f = jit("float64(float64, int64)")(scale)
    assert f.signatures == ["float64(float64, int64)"]
    assert "i2f" in f.ir()
    assert f(1.5, 4) == 6.0


def scale(x, n):
    """x times n."""
    return x * n


def annotated(x: float, n: int) -> float:
    return x * n


def test_annotations_compile_eagerly():
    f = jit(annotated)
    assert f.signatures == ["float64(float64, int64)"]
    assert f(2.0, 3) == 6.0


def test_cli_run_prints_result_ir_and_asm(tmp_path, capsys):
    source = tmp_path / "kernels.py"
    source.write_text(textwrap.dedent("""\
        def gcd(a, b):
            while b != 0:
                a, b = b, a % b
            return a

        def bad(x):
            return [x]
        """))
    assert main(["run", str(source), "gcd", "12", "18"]) == 0
    assert capsys.readouterr().out == "6\n"
    assert main(["run", str(source), "gcd", "12", "18", "--ir", "--asm"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("function gcd(a: int, b: int) -> int\n") and out.endswith("\n6\n")
    assert "; line 3: a, b = b, a % b" in out


def test_cli_run_errors(tmp_path, capsys):
    source = tmp_path / "kernels.py"
    source.write_text("def bad(x):\n    return [x]\n\ndef div(a, b):\n    return a // b\n")
    assert main(["run", str(source), "bad", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"CompileError: {source}:2:12: a list display is not supported")
    assert main(["run", str(source), "div", "1", "0"]) == 1
    assert capsys.readouterr().err == \
        "ZeroDivisionError: integer division or modulo by zero\n"
    assert main(["run", str(source), "div", "1", "'x'"]) == 2
    assert "is not an int, float or bool literal" in capsys.readouterr().err
    assert main(["run", str(source), "nothing"]) == 2
    assert "defines no function 'nothing'" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "missing.py"), "f"]) == 2
    assert "cannot read" in capsys.readouterr().err


@jit
def halve(x):
    return x * 0.5


def test_asm_lists_constants_as_data_and_names_the_exits():
    halve(3.0)
    text = halve.asm()
    assert "; epilogue, error exits and slow paths" in text
    constants = text.split("; constants\n")[1]
    assert "dq 0x3fe0000000000000  ; 0.5" in constants


@jit
def parity(x):
    if x % 2 == 0:
        return 10
    return 20


def test_branch_on_a_mask_uses_the_flags_of_and():
    assert parity(4) == 10 and parity(-3) == 20
    section = parity.asm().split("; line ")[1]  # the 'if' line
    assert "and " in section and ("je " in section or "jne " in section)
    assert "cmp" not in section and "test" not in section and "idiv" not in section


def test_cli_run_compiles_the_functions_a_function_calls(tmp_path, capsys):
    source = tmp_path / "calls.py"
    source.write_text("def square(x):\n    return x * x\n\n"
                      "def total(n):\n    s = 0\n    for i in range(n):\n"
                      "        s += square(i)\n    return s\n")
    assert main(["run", str(source), "total", "10", "--ir"]) == 0
    out = capsys.readouterr().out
    assert out.endswith("\n285\n") and "imul" in out  # square inlined into total


def _jumps(listing: str) -> list[tuple[str, int, int]]:
    """(mnemonic, address, target) of every jump to an address in an asm() listing."""
    jumps = []
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1].startswith("j") and parts[2].startswith("0x"):
            jumps.append((parts[1], int(parts[0].rstrip(":"), 16), int(parts[2], 16)))
    return jumps


def _smooth(a, b, n):
    for i in range(1, n - 1):
        b[i] = a[i - 1] + a[i] + a[i + 1]
    return b[1]


def _smooth_then_count(a, b, n):
    i = 0
    for i in range(1, n - 1):
        b[i] = a[i - 1] + a[i] + a[i + 1]
    return i


def test_a_loop_whose_counter_and_next_value_live_at_once_branches_straight_back():
    """i and i + 1 are live together at the end of the body, so the loop's phi move
    (i = i + 1) is a register copy; it runs before the loop's compare, and the branch
    goes back to the loop's head itself, not to a block that copies and jumps back.
    When i is read after the loop the copy must wait for the branch: the results
    still equal CPython's."""
    np = pytest.importorskip("numpy")
    for function in (_smooth, _smooth_then_count):
        compiled = jit(function)
        for n in (0, 1, 2, 3, 7):
            a, b = np.arange(7.0), np.zeros(7)
            want = function(a, b.copy(), n)
            assert compiled(a, b, n) == want, (function.__name__, n)
    listing = jit(_smooth)
    listing(np.arange(4.0), np.zeros(4), 4)
    body = listing.asm().split("; body prologue")[1].split("; epilogue")[0]
    jumps = _jumps(body)
    assert any(m != "jmp" and target < at for m, at, target in jumps)  # the loop's jl
    assert not any(m == "jmp" and target < at for m, at, target in jumps)


def _chained(x, p):
    if x < x:
        p = not p
    return x <= x <= x


def test_a_block_two_branches_jump_to_keeps_its_moves():
    """``x <= x <= x`` ends in a block that both compares' false sides jump to, with
    the phi move False: it is no edge block of either branch (and not a loop's back
    edge), so neither branch runs its move before its compare.  A first version of
    the hoisting took it for both, ran both moves, and True became False."""
    compiled = jit(_chained)
    for x in (0.0, 1.5, -2.0, float("nan"), float("inf")):
        assert compiled(x, False) is _chained(x, False), x


def _rows(u, out, n):
    for i in range(n):
        s = 0.0
        for j in range(n):
            s += 1.0 / ((i + j) * (i + j + 1) // 2 + i + 1) * u[j]
        out[i] = s
    return out[0]


def test_a_loop_exit_copy_stays_out_of_the_loop():
    """s leaves the inner loop through a phi in another register (s is 0.0 when the
    loop does not run): that copy is on the exit edge, once per loop, not moved up
    into the loop's last block with the back edge's moves, where it would run every
    iteration.  (The outer loop's body holds it, once per row.)"""
    np = pytest.importorskip("numpy")
    compiled = jit(_rows)
    for n in (0, 1, 3):
        assert compiled(np.ones(3), np.zeros(3), n) == _rows(np.ones(3), np.zeros(3), n)
    body = compiled.asm().split("; body prologue")[1].split("; epilogue")[0]
    lines = [line.split() for line in body.splitlines() if line.startswith("  0x")]
    at = {int(parts[0].rstrip(":"), 16): i for i, parts in enumerate(lines)}
    loops = [(at[int(parts[2], 16)], i) for i, parts in enumerate(lines)
             if parts[1].startswith("j") and len(parts) == 3 and parts[2].startswith("0x")
             and int(parts[2], 16) in at and at[int(parts[2], 16)] < i]
    inner = [(head, latch) for head, latch in loops
             if not any(head <= h and l < latch for h, l in loops)]
    assert inner
    for head, latch in inner:
        assert not any(parts[1] == "movapd" for parts in lines[head:latch + 1])


def _pointless_jumps(listing: str) -> list[str]:
    """Jumps in an asm() listing, up to its error exits and slow paths, that go to the
    next instruction, conditionally over a jmp (``jcc L; jmp M; L:`` is ``jncc M``),
    or conditionally to moves and a jmp back (a loop's back edge laid out of line:
    two taken jumps an iteration where falling into the moves takes one)."""
    code = [line.split() for line in listing.split("; epilogue")[0].splitlines()
            if line.startswith("  0x")]
    at = {parts[0].rstrip(":"): i for i, parts in enumerate(code)}
    found = []
    for i, parts in enumerate(code[:-1]):
        if not parts[1].startswith("j") or len(parts) != 3:
            continue
        to_next = parts[2] == code[i + 1][0].rstrip(":")
        over_a_jmp = parts[1] != "jmp" and code[i + 1][1] == "jmp" and i + 2 < len(code) \
            and parts[2] == code[i + 2][0].rstrip(":")
        j = at.get(parts[2], 0)
        while 0 < j < len(code) - 1 and code[j][1].startswith("mov"):
            j += 1
        out_and_back = parts[1] != "jmp" and at.get(parts[2], 0) > i and \
            code[j][1] == "jmp" and at.get(code[j][2], len(code)) <= i
        if to_next or over_a_jmp or out_and_back:
            found.append(" ".join(parts))
    return found


@pytest.mark.parametrize("name", [k.name for k in suite.KERNELS])
def test_compiled_kernels_make_no_pointless_jumps(name):
    """Blocks that only jump on are not laid out, so a branch falls into the block
    that really comes next (newton_sqrt's while test was ``ja next; jmp out``), a
    loop's back edge that keeps its moves follows the loop's branch (gcd's and
    newton_sqrt's loops jumped out to their moves and back); a
    function returning None does not test its status to skip storing nothing."""
    pytest.importorskip("numpy")  # the array kernels' arguments
    module = suite.fresh_module()
    names = suite._callees(module.__dict__, name)
    kernel = suite.BY_NAME[name]
    suite.decorate(module, name, jit)(*kernel.make_args(kernel.small_size))
    for callee in names:
        function = getattr(module, callee)
        if function.signatures:  # (callees inlined everywhere are never compiled alone)
            assert _pointless_jumps(function.asm()) == [], callee
