"""The IR's scalar types as small ints, and their Python names.

An IR value's type is an int: ``VOID``, ``INT`` (int64), ``FLOAT`` (float64) or
``BOOL``; array types are ints from ``minijit.compiler.arrays.ARRAY_BASE`` up, and
``arrays`` adds their names to ``TYPE_NAMES``.  A module of its own, so that the
``@jit`` dispatcher can name types without importing the IR and its op table.
"""

from __future__ import annotations

__all__ = ["BOOL", "FLOAT", "INT", "TYPE_NAMES", "VOID"]

VOID, INT, FLOAT, BOOL = 0, 1, 2, 3
#: IR type -> Python name, as error messages and IR listings say it
TYPE_NAMES = {VOID: "None", INT: "int", FLOAT: "float", BOOL: "bool"}
