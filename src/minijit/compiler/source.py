"""Finding a function's source: ``linecache`` for the text, ``ast`` for the tree.

The whole file a function's code object names is parsed once (and cached while
its text is unchanged); the function is the ``def`` whose first line, its
first decorator's or its own, is the code object's ``co_firstlineno``.  Parsing
the file rather than a cut-out piece keeps every node's line and column the
ones a user sees in the editor, for methods and nested functions too, and
avoids importing ``inspect``.
"""

from __future__ import annotations

import ast
import linecache

from minijit.compiler.errors import CompileError, SourceInfo

__all__ = ["parse_function"]

_trees: dict[str, tuple[list[str], ast.Module]] = {}


def _tree(filename: str) -> tuple[list[str], ast.Module] | None:
    lines = linecache.getlines(filename)
    if not lines:
        return None
    cached = _trees.get(filename)
    if cached is not None and cached[0] is lines:  # linecache hands out the same list
        return cached
    try:
        tree = ast.parse("".join(lines), filename)
    except SyntaxError:
        return None
    _trees[filename] = (lines, tree)
    return lines, tree


def _first_line(node: ast.FunctionDef) -> int:
    return min([node.lineno] + [d.lineno for d in node.decorator_list])


def parse_function(pyfunc) -> tuple[ast.FunctionDef, SourceInfo]:
    """The ``def`` node of ``pyfunc`` and where it came from; CompileError if unavailable."""
    code = getattr(pyfunc, "__code__", None)
    name = getattr(pyfunc, "__name__", repr(pyfunc))
    if code is None:
        raise CompileError(f"{name!r} has no Python code to compile")
    found = _tree(code.co_filename)
    if found is not None:
        lines, tree = found
        source = SourceInfo(code.co_filename, lines, 1)
        for node in ast.walk(tree):
            if (isinstance(node, ast.FunctionDef) and node.name == code.co_name
                    and _first_line(node) == code.co_firstlineno):
                _check_signature(node, source)
                return node, source
            if (isinstance(node, ast.Lambda) and node.lineno == code.co_firstlineno
                    and code.co_name == "<lambda>"):
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
