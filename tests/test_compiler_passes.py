"""The compiler's middle: IR construction, each pass, the verifier, and the pipeline.

Functions are built straight from source with the front end, so each pass can be
watched alone; results are checked by running the compiled function against CPython.
"""

from __future__ import annotations

import pytest

from minijit import jit
from minijit.compiler import driver
from minijit.compiler.frontend import build
from minijit.compiler.ir import FLOAT, INT, VOID, Op
from minijit.compiler.passes import PIPELINE, copyprop, dce, optimize
from minijit.compiler.source import parse_function
from minijit.compiler.verify import verify


@pytest.fixture(autouse=True)
def check_ir(monkeypatch):
    monkeypatch.setattr(driver, "CHECK", True)


class Pending:
    def __init__(self) -> None:
        self.ret_type = None
        self.declared = False


def ir_of(func, *types):
    fdef, source = parse_function(func)
    f = build(func, fdef, source, types, Pending(), lambda *a: None)
    verify(f)
    return f


def ops(f) -> list[str]:
    return [f.ins[r].op.name for b in f.blocks for r in b.ins]


def constants(x):
    a = 2 + 3 * 4
    b = a // 5 - (7 % -3) + 2**10
    c = 1.5 * 2.0 + a
    return x + a + b if c > 0 else x


def test_fold_computes_constants_with_cpython_arithmetic():
    f = ir_of(constants, INT)
    optimize(f, check=True)
    # (x + a) + b: no reassociation, since each checked add may overflow on its own
    assert [op for op in ops(f) if op != "JMP"] == ["PARAM", "IADD", "IADD", "RET"]
    adds = [f.ins[r] for b in f.blocks for r in b.ins if f.ins[r].op == Op.IADD]
    assert [f.const_value(i.args[1]) for i in adds] == [14, 14 // 5 - (7 % -3) + 2**10]


def divides_by_zero(x):
    y = 1 // 0  # noqa: F841, F821 (compiled, never run)
    return x


def test_fold_leaves_what_raises_for_run_time():
    f = ir_of(divides_by_zero, INT)
    optimize(f, check=True)
    assert "IFLOORDIV" in ops(f)  # dead, but it raises: kept
    with pytest.raises(ZeroDivisionError, match="integer division or modulo by zero"):
        jit(divides_by_zero)(1)


def unused(x, y):
    a = x & y  # noqa: F841, F821 (compiled, never run)
    b = x * y  # noqa: F841, F821 (compiled, never run)
    return x


def test_dce_removes_pure_keeps_checked():
    f = ir_of(unused, INT, INT)
    dce.run(f)
    assert "IAND" not in ops(f) and "IMUL" in ops(f)


def loop_reads(n, k):
    total = 0
    for i in range(n):
        total += k
    return total


def test_copyprop_removes_phis_of_unchanged_variables():
    f = ir_of(loop_reads, INT, INT)
    phis_before = ops(f).count("PHI")
    copyprop.run(f)
    verify(f, "copyprop")
    assert ops(f).count("PHI") < phis_before
    assert ops(f).count("PHI") == 3  # i, total in the loop; total after it


def invariant(n, x):
    s = 0.0
    for i in range(n):
        s += x * 2.0 + float(i)
    return s


def test_licm_hoists_pure_invariants_to_the_preheader():
    f = ir_of(invariant, INT, FLOAT)
    optimize(f, check=True)
    header, pre, _, _ = f.loops[0]
    assert any(f.ins[r].op == Op.FMUL for r in f.blocks[pre].ins)
    assert not any(f.ins[r].op == Op.FMUL for r in f.blocks[header].ins)
    g = jit(invariant)
    assert g(5, 1.25) == invariant(5, 1.25)


def test_verifier_rejects_broken_ir():
    f = ir_of(loop_reads, INT, INT)
    phi = next(r for b in f.blocks for r in b.ins if f.ins[r].op == Op.PHI)
    f.ins[phi].args = f.ins[phi].args[:1]
    with pytest.raises(AssertionError, match="operands, 2 predecessors"):
        verify(f, "test")
    g = ir_of(constants, INT)
    g.blocks[0].ins.pop()  # the terminator
    with pytest.raises(AssertionError, match="IR invalid after test: .*terminator misplaced"):
        verify(g, "test")
    h = ir_of(unused, INT, INT)
    h.blocks[0].ins.remove(next(r for r in h.blocks[0].ins if h.ins[r].op == Op.IAND))
    h.ins[-1].args = (h.ins[-1].args[0],)
    with pytest.raises(AssertionError, match="uses unplaced"):
        h.ins.append(h.ins[-1])
        ret = h.blocks[0].ins[-1]
        h.ins[ret].args = (len(h.ins) + 5,)
        verify(h, "test")


def test_pipeline_is_one_list_and_every_pass_verifies():
    names = [name for name, _ in PIPELINE]
    assert {"fold", "copyprop", "dce", "checks", "licm"} <= set(names)
    for func, types in ((constants, (INT,)), (loop_reads, (INT, INT)),
                        (invariant, (INT, FLOAT))):
        f = ir_of(func, *types)
        optimize(f, check=True)
        assert f.ret_type in (INT, FLOAT) and f.ret_type != VOID


def guarded(n):
    if n < 2:
        return n * 1000  # n may be hugely negative: still checked
    if n > 1000:
        return n + 1  # n may be INT64_MAX: still checked
    return n * 1000 - 1  # 2 <= n <= 1000 here: cannot overflow


def test_branches_prove_ranges_soundly():
    f = ir_of(guarded, INT)
    optimize(f, check=True)
    assert ops(f).count("IMUL") == 1 and ops(f).count("IADD") == 1
    assert ops(f).count("WMUL") == 1 and ops(f).count("WSUB") == 1
    g = jit(guarded)
    for n in (-(2**63), -5, 0, 1, 2, 500, 1000, 1001, 2**63 - 1):
        try:
            want = guarded(n)
        except OverflowError:
            want = OverflowError
        if isinstance(want, int) and not -(2**63) <= want < 2**63:
            want = OverflowError
        if want is OverflowError:
            with pytest.raises(OverflowError):
                g(n)
        else:
            assert g(n) == want


def counted(n, step):
    k = 0
    total = 0
    while k < 100:
        total += n
        k += 1  # below 100 where the loop goes on: cannot overflow
    j = 0
    while j < 100:
        j += step  # step may be huge: still checked
    return total + k + j


def test_a_loop_counter_tested_on_the_way_back_keeps_its_bound():
    """k's phi is widened to the full range while the loop's fixpoint is found; the
    narrowing pass takes, on the back edge, what the loop's own test proves
    (k + 1 < 100 there), so k stays below 100 and k += 1 needs no check, while
    j += step, whose step is unknown, keeps its own."""
    f = ir_of(counted, INT, INT)
    optimize(f, check=True)
    assert ops(f).count("WADD") >= 1
    assert ops(f).count("IADD") >= 2  # total += n and j += step stay checked
    g = jit(counted)
    for n, step in ((1, 1), (-3, 7), (2**62, 1), (5, 2**62), (5, 2**63 - 1)):
        want = counted(n, step)
        if not -(2**63) <= want < 2**63:
            want = OverflowError
        if want is OverflowError:
            with pytest.raises(OverflowError):
                g(n, step)
        else:
            assert g(n, step) == want


def repeated(a, b):
    x = (a + b) * 2
    y = (b + a) * 2  # the same value: computed once
    return x - y + (a + b)


def test_cse_merges_checked_and_commutative_duplicates():
    f = ir_of(repeated, INT, INT)
    optimize(f, check=True)
    assert ops(f).count("IADD") == 2 and ops(f).count("IMUL") == 1  # a + b once, then + it
    g = jit(repeated)
    assert g(3, 4) == 7
    with pytest.raises(OverflowError):
        g(2**62, 2**62)


def hoisted(n, a):
    t = 0
    for i in range(n):
        k = a * 3  # checked, invariant, first in the loop: moves before it
        t += k + i
    return t


def kept(n, a):
    t = 0
    for i in range(n):
        t += i  # may fail first: the invariant a * 3 after it must stay in the loop
        t += a * 3
    return t


def test_licm_moves_checked_ops_only_from_the_top_of_the_header():
    f = ir_of(hoisted, INT, INT)
    optimize(f, check=True)
    header, pre, _, _ = f.loops[0]
    assert [f.ins[r].op for r in f.blocks[pre].ins].count(Op.IMUL) == 1
    g = ir_of(kept, INT, INT)
    optimize(g, check=True)
    header, pre, _, _ = g.loops[0]
    assert Op.IMUL not in [g.ins[r].op for r in g.blocks[pre].ins]
    h = jit(hoisted)
    assert h(0, 2**62) == 0  # the loop never runs: nothing raises
    assert h(3, 5) == hoisted(3, 5)
    with pytest.raises(OverflowError):
        h(1, 2**62)
