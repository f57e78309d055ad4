"""The pass pipeline, in one list, with a verifier between passes in check mode.

Each pass is a module with ``run(f)`` and a docstring saying what it requires
and invalidates.  ``optimize(f, check=True)`` runs the IR verifier after every
pass (tests do); ``dump_after`` names a pass after which the IR is printed,
for anyone studying what a pass did.
"""

from __future__ import annotations

import sys

from minijit.compiler.ir import Function, format_function
from minijit.compiler.passes import checks, copyprop, cse, dce, fold, licm
from minijit.compiler.verify import verify

__all__ = ["PIPELINE", "optimize"]

PIPELINE = (
    ("fold", fold.run),
    ("copyprop", copyprop.run),
    ("dce", dce.run),
    ("cse", cse.run),
    ("checks", checks.run),
    ("licm", licm.run),
    ("cse", cse.run),
    ("fold", fold.run),
    ("copyprop", copyprop.run),
    ("fold", fold.run),
    ("dce", dce.run),
)


def optimize(f: Function, check: bool = False, dump_after: str | None = None) -> Function:
    if check:
        verify(f)
    for name, run in PIPELINE:
        run(f)
        if check:
            verify(f, name)
        if dump_after == name:
            sys.stderr.write(f"; after {name}\n{format_function(f)}")
    return f
