"""Callable classes under every other CPython 3.10-3.13 on this machine.

The layout that ``minijit.native.callable`` relies on (where the instance dict
lives, which flags a heap type inherits, whether ``tp_name`` is copied) changed
between these versions.  Each interpreter found on PATH runs a script in a
fresh process against this checkout's sources (found on PATH or among
pyenv's installs); versions that are not installed are skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import minijit

SOURCES = str(Path(minijit.__file__).resolve().parent.parent)
OTHERS = [f"3.{minor}" for minor in (10, 11, 12, 13) if minor != sys.version_info.minor]

SCRIPT = r"""
import gc, sys, weakref
from minijit.memory import allocate
from minijit.native.callable import callable_class, entry_of, install_entry
from minijit.native.entry import Specialisation
from minijit.x86 import Assembler, eax, qword, rax, rdi, rdx, rsi

a = Assembler()
a.mov(rax, rsi)
a.add(rax, rdx)
a.mov(qword[rdi], rax)
a.xor(eax, eax)
a.ret()
block = allocate(a.assemble())

@callable_class
class Add:
    def __init__(self, tag):
        self.tag = tag
    def __call__(self, *args, **kwargs):
        return ("fallback", self.tag, args, kwargs)
    def __repr__(self):
        return "<Add %s>" % self.tag

f = Add("x")
assert f(1, 2) == ("fallback", "x", (1, 2), {}), f(1, 2)
install_entry(f, [Specialisation(("int64", "int64"), "int64", block.address, block)])
assert f(1, 2) == 3 and f(*[3, 4]) == 7 and list(map(f, [1], [2])) == [3]
assert f(1.5, 2) == ("fallback", "x", (1.5, 2), {})
assert f(1, y=2) == ("fallback", "x", (1,), {"y": 2})
assert repr(f) == "<Add x>" and isinstance(f, Add) and f.tag == "x"
f.extra = 5
assert vars(f) == {"tag": "x", "extra": 5}
big = 10**12
before = sys.getrefcount(big)
for _ in range(1000):
    f(big, big)
    f(1.5, big)
assert sys.getrefcount(big) == before
code = weakref.ref(entry_of(f))
f.me = f
died = []
watch = weakref.ref(f, died.append)
del f
gc.collect()
assert watch() is None and died and code() is None
print("ok", sys.version_info[:2])
"""


def candidates(version: str) -> list[str]:
    """``python{version}`` on PATH, then pyenv's installs of that version, if pyenv is here."""
    found = [shutil.which(f"python{version}")]
    pyenv = shutil.which("pyenv")
    if pyenv is not None:
        root = subprocess.run(
            [pyenv, "root"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if root:
            found += sorted(map(str, Path(root).glob(f"versions/{version}.*/bin/python{version}")))
    return [path for path in found if path]


def interpreter(version: str) -> str:
    """A ``python{version}`` that runs, or skip when there is none here."""
    probe = "import sys; print('%d.%d' % sys.version_info[:2])"
    for path in candidates(version):
        run = subprocess.run([path, "-c", probe], capture_output=True, text=True, check=False)
        if run.returncode == 0 and run.stdout.strip() == version:
            return path
    pytest.skip(f"no python{version} that runs is installed here")


@pytest.mark.parametrize("version", OTHERS)
def test_callable_classes_work_under(version):
    path = interpreter(version)
    env = {**os.environ, "PYTHONPATH": SOURCES}
    result = subprocess.run(
        [path, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok ({version.replace('.', ', ')})"
