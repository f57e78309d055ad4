"""The C peer: build kernels.c with gcc once, load it with ctypes.

Each flag set (``-O2``, and ``-O2 -fno-tree-vectorize`` for the array kernels)
gives one shared library under ``bench/.build/``, named by a hash of the
source, the flags and the compiler's version line, so a changed kernel or
compiler rebuilds and an unchanged one is reused.  The library is written to a
temporary name and renamed into place, so two runs building at once never load
half a file.  Every C function gets explicit ``argtypes`` and ``restype``.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
SOURCE = BENCH_DIR / "kernels.c"
BUILD_DIR = BENCH_DIR / ".build"

FLAG_SETS = {
    "gcc -O2": ["-O2"],
    "gcc -O2 -fno-tree-vectorize": ["-O2", "-fno-tree-vectorize"],
}

#: Type names of the kernel signatures (as in minijit's signatures) -> ctypes types.
#: Arrays are passed as their data pointer.
CTYPES = {
    "int64": ctypes.c_int64,
    "float64": ctypes.c_double,
    "uint8*": ctypes.c_void_p,
    "float64*": ctypes.c_void_p,
}


class BuildError(RuntimeError):
    """gcc is missing or failed; the message says which and why."""


def gcc_version() -> str:
    """gcc's first version line, or raise BuildError if there is no gcc."""
    if shutil.which("gcc") is None:
        raise BuildError("gcc not found on PATH")
    return subprocess.run(["gcc", "--version"], capture_output=True, text=True,
                          check=True).stdout.splitlines()[0]


def build(flags_name: str) -> Path:
    """Path of kernels.c compiled with the flag set ``flags_name``, building it if needed."""
    flags = FLAG_SETS[flags_name]
    key = hashlib.sha256(
        SOURCE.read_bytes() + " ".join(flags).encode() + gcc_version().encode()
    ).hexdigest()[:16]
    library = BUILD_DIR / f"kernels-{key}.so"
    if library.exists():
        return library
    BUILD_DIR.mkdir(exist_ok=True)
    partial = BUILD_DIR / f".{library.name}.{os.getpid()}"
    result = subprocess.run(
        ["gcc", *flags, "-shared", "-fPIC", "-o", str(partial), str(SOURCE), "-lm"],
        capture_output=True, text=True, check=False,
    )
    if result.returncode != 0:
        raise BuildError(f"gcc {' '.join(flags)} failed:\n{result.stderr}")
    os.replace(partial, library)
    return library


def load(flags_name: str) -> ctypes.CDLL:
    return ctypes.CDLL(str(build(flags_name)))


def _c_value(arg):
    """A NumPy array's data pointer; a number as it is."""
    return arg.ctypes.data if hasattr(arg, "ctypes") else arg


def function(library: ctypes.CDLL, name: str, signature: str):
    """The C function ``name`` typed by ``signature`` (``"float64(float64*, int64)"``).

    NumPy arrays among the arguments are passed as their data pointers.
    """
    restype, _, params = signature.rstrip(")").partition("(")
    c_function = getattr(library, name)
    c_function.restype = CTYPES[restype]
    c_function.argtypes = [CTYPES[p.strip()] for p in params.split(",")]

    def call(*args):
        return c_function(*(_c_value(arg) for arg in args))

    call.__name__ = name
    return call
