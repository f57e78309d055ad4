"""The benchmark suite: which kernels, at which sizes, and how each peer gets them.

``KERNELS`` is the table: each kernel's C signature, how to make its arguments
for a size, and three sizes: the benchmark size (gcc -O2 runs 20-200 ms), the
size CPython runs at (smaller where the benchmark size would take too long),
and a small size for the correctness tests.  Array arguments are made fresh
for every call, since the array kernels write to them.

Peers: CPython runs ``kernels.py`` as it is.  A compiler (minijit's ``jit``,
Numba's ``njit``) gets the kernel the way a user would write it: the file is
executed into a fresh namespace and the kernel, and every function of the file
it calls, is replaced there by ``decorator(f)``; calls between them then go
through the namespace to the compiled versions.  A peer that is not installed
is a ``Missing`` with the reason, for the table's notes.
"""

from __future__ import annotations

import importlib
import itertools
import math
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FunctionType, ModuleType

import kernels

KERNELS_SOURCE = Path(kernels.__file__).read_text()
_MODULE_NUMBERS = itertools.count()


@dataclass(frozen=True)
class Kernel:
    name: str
    signature: str  # the C function's signature, in minijit's notation
    make_args: Callable[[int], tuple]
    size: int  # benchmark size: gcc -O2 runs 20-200 ms
    cpython_size: int  # CPython's size, smaller where `size` would take too long
    small_size: int  # correctness-test size
    size_label: str = "n"

    @property
    def array(self) -> bool:
        return "*" in self.signature


class Missing(Exception):
    """A peer (compiler, library) that is not available here; str() says why."""


# --- arguments ------------------------------------------------------------------------


def _np():
    try:
        return importlib.import_module("numpy")
    except ImportError as error:
        raise Missing(f"numpy is not installed ({error})") from None


def _ramp(n: int, period: int):
    """Deterministic float64 data: (i mod period) / period."""
    np = _np()
    return (np.arange(n) % period / period).astype(np.float64)


def _scalar(size: int) -> tuple:
    return (size,)


def _sieve_args(n: int) -> tuple:
    np = _np()
    return (np.ones(n, dtype=np.uint8), n)


DOT_LENGTH = 100_000
STENCIL_LENGTH = 10_000


def _dot_args(reps: int) -> tuple:
    return (_ramp(DOT_LENGTH, 13), _ramp(DOT_LENGTH, 7), DOT_LENGTH, reps)


def _matmul_args(n: int) -> tuple:
    return (_ramp(n * n, 11), _ramp(n * n, 5), _np().zeros(n * n), n)


def _spectral_args(n: int) -> tuple:
    np = _np()
    return (np.ones(n), np.zeros(n), np.zeros(n), n)


def _stencil_args(steps: int) -> tuple:
    a = _ramp(STENCIL_LENGTH, 17)
    return (a, a.copy(), STENCIL_LENGTH, steps)


# The Benchmarks Game's five bodies: position (AU), velocity (AU/day), mass (in
# units of the sun's, which is 4 pi^2 in these units).
SOLAR_MASS = 4 * math.pi * math.pi
DAYS_PER_YEAR = 365.24
BODIES = [
    ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0), 1.0),
    ((4.84143144246472090e+00, -1.16032004402742839e+00, -1.03622044471123109e-01),
     (1.66007664274403694e-03, 7.69901118419740425e-03, -6.90460016972063023e-05),
     9.54791938424326609e-04),
    ((8.34336671824457987e+00, 4.12479856412430479e+00, -4.03523417114321381e-01),
     (-2.76742510726862411e-03, 4.99852801234917238e-03, 2.30417297573763929e-05),
     2.85885980666130812e-04),
    ((1.28943695621391310e+01, -1.51111514016986312e+01, -2.23307578892655734e-01),
     (2.96460137564761618e-03, 2.37847173959480950e-03, -2.96589568540237556e-05),
     4.36624404335156298e-05),
    ((1.53796971148509165e+01, -2.59193146099879641e+01, 1.79258772950371181e-01),
     (2.68067772490389322e-03, 1.62824170038242295e-03, -9.51592254519715870e-05),
     5.15138902046611451e-05),
]


def _nbody_args(steps: int) -> tuple:
    np = _np()
    pos = np.array([c for p, _, _ in BODIES for c in p])
    vel = np.array([c * DAYS_PER_YEAR for _, v, _ in BODIES for c in v])
    mass = np.array([m * SOLAR_MASS for _, _, m in BODIES])
    # Offset the sun's momentum so that the system's total momentum is zero.
    for axis in range(3):
        momentum = sum(vel[3 * i + axis] * mass[i] for i in range(len(BODIES)))
        vel[axis] = -momentum / SOLAR_MASS
    return (pos, vel, mass, len(BODIES), steps)


# --- the table ------------------------------------------------------------------------

KERNELS = [
    Kernel("fib", "int64(int64)", _scalar, 36, 30, 15),
    Kernel("gcd_sum", "int64(int64)", _scalar, 1000, 600, 30),
    Kernel("collatz_steps", "int64(int64)", _scalar, 300_000, 30_000, 1000),
    Kernel("xorshift_hash", "int64(int64)", _scalar, 30_000_000, 500_000, 1000),
    Kernel("popcount_sum", "int64(int64)", _scalar, 10_000_000, 300_000, 1000),
    Kernel("mandelbrot", "int64(int64)", _scalar, 1000, 300, 20),
    Kernel("integrate_pi", "float64(int64)", _scalar, 30_000_000, 1_000_000, 1000),
    Kernel("newton_sum", "float64(int64)", _scalar, 1_000_000, 200_000, 100),
    Kernel("sieve", "int64(uint8*, int64)", _sieve_args, 30_000_000, 1_000_000, 1000),
    Kernel("dot", "float64(float64*, float64*, int64, int64)", _dot_args, 600, 3, 1,
           "reps"),
    Kernel("matmul", "float64(float64*, float64*, float64*, int64)", _matmul_args,
           400, 60, 8),
    Kernel("nbody", "float64(float64*, float64*, float64*, int64, int64)", _nbody_args,
           1_000_000, 10_000, 100, "steps"),
    Kernel("spectral_norm", "float64(float64*, float64*, float64*, int64)", _spectral_args,
           1000, 100, 10),
    Kernel("stencil", "float64(float64*, float64*, int64, int64)", _stencil_args,
           5000, 10, 1, "steps"),
]

BY_NAME = {kernel.name: kernel for kernel in KERNELS}


def same_result(a: object, b: object) -> bool:
    """Both ints and equal, or both floats and equal to 1e-12 relative.

    Identical operation order gives identical bits, but a compiler may fuse a
    multiply and an add into one rounding; an int where CPython gives a float
    (or the reverse) is a different result.  (NumPy's float64 is a float.)
    """
    if isinstance(a, float) != isinstance(b, float):
        return False
    if isinstance(a, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300)
    return a == b


# --- peers ----------------------------------------------------------------------------


def cpython(name: str) -> Callable:
    return getattr(kernels, name)


def _callees(namespace: dict, entry: str) -> list[str]:
    """``entry`` and every function of the namespace it calls, directly or not."""
    found, todo = [], [entry]
    while todo:
        name = todo.pop()
        if name not in found:
            found.append(name)
            code = namespace[name].__code__
            todo += [n for n in code.co_names if isinstance(namespace.get(n), FunctionType)]
    return found


def fresh_module() -> ModuleType:
    """The kernels, undecorated, in a new module of their own.

    It is a real module in ``sys.modules`` (Numba resolves a recursive call
    through it), new for each use so that compilers never share state.
    """
    module = ModuleType(f"_bench_kernels_{next(_MODULE_NUMBERS)}")
    module.__file__ = kernels.__file__
    sys.modules[module.__name__] = module
    exec(compile(KERNELS_SOURCE, kernels.__file__, "exec"), module.__dict__)  # noqa: S102
    return module


def decorate(module: ModuleType, name: str, decorator: Callable) -> Callable:
    """Kernel ``name`` of ``module`` with it and its callees wrapped by ``decorator``,
    as a user would."""
    for callee in _callees(module.__dict__, name):
        setattr(module, callee, decorator(getattr(module, callee)))
    return getattr(module, name)


def compiled(name: str, decorator: Callable) -> Callable:
    """Kernel ``name`` decorated in a fresh module."""
    return decorate(fresh_module(), name, decorator)


def minijit_jit() -> Callable:
    """minijit's ``jit``, or Missing saying why it is not usable yet."""
    try:
        from minijit import jit
    except (ImportError, AttributeError) as error:
        raise Missing(f"minijit.jit is not available yet ({type(error).__name__}: {error})") \
            from None
    return jit


def numba_njit() -> Callable:
    try:
        from numba import njit
    except ImportError as error:
        raise Missing(f"Numba is not installed ({error})") from None
    return njit


def minijit_unsupported() -> tuple[type[BaseException], ...]:
    """The exceptions by which minijit says "not supported" rather than "wrong"."""
    try:
        from minijit import CompileError
    except (ImportError, AttributeError):
        return (NotImplementedError, TypeError)
    return (CompileError, NotImplementedError, TypeError)


DECORATORS = {"minijit": minijit_jit, "Numba": numba_njit}
