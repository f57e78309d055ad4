"""Finding a function's source: ``linecache`` for the text, ``ast`` for the tree.

The whole file a function's code object names is parsed once (and cached while
its text is unchanged), and its ``def`` and ``lambda`` nodes indexed by first
line (the first decorator's, or their own), so that finding a function costs
one dict lookup however many functions the file holds: the function is the
``def`` named ``co_name`` that starts on the code object's ``co_firstlineno``.  Parsing
the file rather than a cut-out piece keeps every node's line and column the
ones a user sees in the editor, for methods and nested functions too, and
avoids importing ``inspect``.
"""

from __future__ import annotations

import ast
import linecache

from minijit.compiler.errors import CompileError, SourceInfo

__all__ = ["parse_function"]

#: filename -> (the lines parsed, {(first line, name): def or lambda node})
_files: dict[str, tuple[list[str], dict[tuple[int, str], ast.AST]]] = {}


def _index(filename: str) -> tuple[list[str], dict[tuple[int, str], ast.AST]] | None:
    lines = linecache.getlines(filename)
    if not lines:
        return None
    cached = _files.get(filename)
    if cached is not None and cached[0] is lines:  # linecache hands out the same list
        return cached
    try:
        tree = ast.parse("".join(lines), filename)
    except SyntaxError:
        return None
    nodes: dict[tuple[int, str], ast.AST] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef):
            nodes.setdefault((_first_line(node), node.name), node)
        elif isinstance(node, ast.Lambda):
            nodes.setdefault((node.lineno, "<lambda>"), node)
    _files[filename] = (lines, nodes)
    return lines, nodes


def _first_line(node: ast.FunctionDef) -> int:
    return min([node.lineno] + [d.lineno for d in node.decorator_list])


def parse_function(pyfunc) -> tuple[ast.FunctionDef, SourceInfo]:
    """The ``def`` node of ``pyfunc`` and where it came from; CompileError if unavailable."""
    code = getattr(pyfunc, "__code__", None)
    name = getattr(pyfunc, "__name__", repr(pyfunc))
    if code is None:
        raise CompileError(f"{name!r} has no Python code to compile")
    found = _index(code.co_filename)
    if found is not None:
        lines, nodes = found
        source = SourceInfo(code.co_filename, lines, 1)
        node = nodes.get((code.co_firstlineno, code.co_name))
        if isinstance(node, ast.FunctionDef):
            _check_signature(node, source)
            return node, source
        if isinstance(node, ast.Lambda):
            raise CompileError.at(node, source, "@jit compiles 'def' functions, "
                                  "not lambdas")
    raise CompileError(f"cannot find the source of {name!r}; @jit compiles functions "
                       "defined in files", code.co_filename, code.co_firstlineno)


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
