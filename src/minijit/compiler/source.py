"""Finding a function's source: ``inspect`` for the text, ``ast`` for the tree.

The text is dedented before parsing (methods and nested functions are indented)
and the tree's line numbers are shifted to the file's, so every node's position
is the one a user sees in their editor; ``SourceInfo.indent`` puts the removed
columns back when an error is shown.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from minijit.compiler.errors import CompileError, SourceInfo

__all__ = ["parse_function"]


def parse_function(pyfunc) -> tuple[ast.FunctionDef, SourceInfo]:
    """The ``def`` node of ``pyfunc`` and where it came from; CompileError if unavailable."""
    code = getattr(pyfunc, "__code__", None)
    filename = code.co_filename if code is not None else "<unknown>"
    try:
        lines, first = inspect.getsourcelines(pyfunc)
    except (OSError, TypeError) as exc:
        raise CompileError(f"cannot read the source of {getattr(pyfunc, '__name__', pyfunc)!r}"
                           f" ({exc}); @jit compiles functions defined in files",
                           filename, code.co_firstlineno if code else 0) from None
    text = "".join(lines)
    dedented = textwrap.dedent(text)
    indent = len(lines[0]) - len(lines[0].lstrip()) if dedented != text else 0
    tree = ast.parse(dedented)
    ast.increment_lineno(tree, max(first, 1) - 1)
    source = SourceInfo(filename, lines, max(first, 1), indent)
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == pyfunc.__name__:
            _check_signature(node, source)
            return node, source
    node = tree.body[0] if tree.body else None
    raise CompileError.at(node, source, "@jit compiles plain 'def' functions only")


def _check_signature(fdef: ast.FunctionDef, source: SourceInfo) -> None:
    args = fdef.args
    extra = args.vararg or args.kwarg or (args.kwonlyargs[0] if args.kwonlyargs else None)
    if args.posonlyargs:
        extra = args.posonlyargs[0]
    if extra is not None:
        raise CompileError.at(extra, source, "only plain positional parameters are "
                              "supported (no *args, **kwargs, keyword-only or '/')")
    if args.defaults:
        raise CompileError.at(args.defaults[0], source,
                              "parameter default values are not supported")
