"""``minijit run FILE.py FUNC ARG... [--asm] [--ir]``: compile one function and call it.

The file runs as a module (``runpy``); every plain function it defines is
jitted in place (so functions of the file call each other compiled), and
``FUNC`` is looked up among them; each ``ARG`` is a Python literal
(``3``, ``-2.5``, ``True``).  The result is printed; ``--ir`` and ``--asm``
print the optimised IR and the annotated machine code first.  A CompileError
or an exception raised by the call is printed as Python prints it, with exit
status 1; a bad command line exits 2.
"""

from __future__ import annotations

import argparse
import ast
import sys
from types import FunctionType

HELP = "compile a function from a Python file with @jit, call it, print the result"
RUN_NAME = "__minijit_run__"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE.py", help="the Python file defining FUNC")
    parser.add_argument("func", metavar="FUNC", help="the function to compile and call")
    parser.add_argument("args", metavar="ARG", nargs="*",
                        help="arguments: int, float or bool literals")
    parser.add_argument("--ir", action="store_true", help="print the optimised IR")
    parser.add_argument("--asm", action="store_true",
                        help="print the machine code, annotated with source lines")


def _literal(text: str) -> object:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        value = None
    if type(value) not in (int, float, bool):
        raise ValueError(f"argument {text!r} is not an int, float or bool literal")
    return value


def run(args: argparse.Namespace) -> int:
    import runpy

    from minijit import CompileError, jit
    from minijit.dispatcher import Dispatcher

    try:
        values = [_literal(a) for a in args.args]
    except ValueError as error:
        print(f"minijit run: {error}", file=sys.stderr)
        return 2
    try:
        namespace = runpy.run_path(args.file, run_name=RUN_NAME)
    except OSError as error:
        print(f"minijit run: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    func = namespace.get(args.func)
    if func is None or not callable(func):
        print(f"minijit run: {args.file} defines no function {args.func!r}", file=sys.stderr)
        return 2
    for name, value in namespace.items():  # the file's functions call each other jitted
        if isinstance(value, FunctionType) and value.__module__ == RUN_NAME:
            value.__globals__[name] = jit(value)
    if isinstance(func, FunctionType) and func.__module__ == RUN_NAME:
        func = func.__globals__[args.func]  # its jitted self, made just above
    jitted = func if isinstance(func, Dispatcher) else jit(func)
    try:
        result = jitted(*values)
    except CompileError as error:
        print(f"CompileError: {error}", file=sys.stderr)
        return 1
    except (ArithmeticError, ValueError, TypeError, RecursionError) as error:
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if args.ir:
        print(jitted.ir(), end="")
    if args.asm:
        print(jitted.asm(), end="")
    print(result)
    return 0
