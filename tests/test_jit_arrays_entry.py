"""The machine-code entry's array arguments (``ArrayArg``), on a real compiled kernel:
what fits runs the kernel, everything else reaches the fallback, no export outlives a
call."""

from __future__ import annotations

import sys

import pytest

from minijit import jit
from minijit.compiler.arrays import DTYPES, NDARRAY, array_type
from minijit.compiler.ir import INT
from minijit.native.entry import ArrayArg, Specialisation, make_entry

np = pytest.importorskip("numpy")


def total(a, n):
    s = 0.0
    for i in range(n):
        s += a[i]
    return s


@pytest.fixture(scope="module")
def entry():
    f = jit(total)
    f(np.arange(3.0), 3)
    kernel = f._kernels[(array_type(DTYPES[0], 1, NDARRAY, False), INT)]
    kind = ArrayArg(np.ndarray, "d", 8, 1, False)
    seen = []

    def fallback(*args):
        seen.append(args)
        return "fallback"

    spec = Specialisation((kind, "int64"), "float64", kernel.block.address, kernel.block)
    return make_entry([spec], fallback, "total"), seen


def test_array_kind_describes_itself():
    assert str(ArrayArg(np.ndarray, "d", 8, 2, True)) == "readonly ndarray(d)[:, :]"


def test_a_fitting_array_runs_the_kernel(entry):
    g, seen = entry
    a = np.arange(5.0)
    before = sys.getrefcount(a)
    assert g(a, 5) == 10.0 and g(a, 0) == 0.0
    assert seen == [] and sys.getrefcount(a) == before
    a.resize(8)  # no export left behind
    with pytest.raises(IndexError, match="index out of range"):
        g(a, 9)
    a.resize(9)


@pytest.mark.parametrize("value", [
    np.arange(3),  # format 'l'
    np.arange(3.0).reshape(3, 1),  # two dimensions
    np.arange(6.0)[::2],  # not contiguous
    np.zeros(3, np.float32),  # item size 4
    [1.0, 2.0, 3.0],  # another type
])
def test_what_does_not_fit_reaches_the_fallback(entry, value):
    g, seen = entry
    seen.clear()
    assert g(value, 3) == "fallback" and len(seen) == 1 and seen[0][0] is value
    seen.clear()  # the fallback's own record of the call held a reference
    before = sys.getrefcount(value)
    g(value, 3)
    seen.clear()
    assert sys.getrefcount(value) == before  # the released export holds none


def test_readonly_is_part_of_the_kind(entry):
    g, seen = entry
    seen.clear()
    a = np.arange(3.0)
    a.flags.writeable = False
    assert g(a, 3) == "fallback"
    a.flags.writeable = True  # no export may be alive, or NumPy would refuse
    assert g(a, 3) == 3.0


def test_the_listing_names_the_buffer_calls(entry):
    g, _ = entry
    listing = g.__self__.listing()
    for name in ("ndarray", "PyObject_GetBuffer", "PyBuffer_IsContiguous",
                 "PyBuffer_Release"):
        assert name in listing


def test_unknown_kind_names_array_arg():
    with pytest.raises(ValueError, match="argument kinds are int64, float64, bool or an "
                                         "ArrayArg"):
        Specialisation(("buffer",), "none", 4096)
