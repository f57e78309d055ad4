"""Finding a function's source: ``linecache`` for the text, ``ast`` for the tree.

A function's code object says where it starts (``co_firstlineno``: its first
decorator or its ``def``) and, through the positions of its instructions and of
the code nested in it, where it ends.  Only those lines are parsed (an indented
method under an ``if 1:``, so that columns stay the editor's), and the tree's
line numbers are then shifted to the file's.
Compiling one function of a large module thus costs a parse of that function,
not of the module, and the tree is cached while the file's text is unchanged.

Where that cut does not parse (a function whose last lines hold no code, such
as the end of a docstring, or Python 3.10, whose line table leaves out a
closing bracket), or is a lambda, the whole file is parsed once and its ``def``
and ``lambda`` nodes indexed by first line.
"""

from __future__ import annotations

import ast
import linecache
from types import CodeType

from minijit.compiler.errors import CompileError, SourceInfo

__all__ = ["parse_function"]

#: filename -> (the lines parsed, {(first line, name): def or lambda node})
_files: dict[str, tuple[list[str], dict[tuple[int, str], ast.AST]]] = {}
#: (filename, first line, name) -> (the lines it was cut from, its def node)
_functions: dict[tuple[str, int, str], tuple[list[str], ast.FunctionDef]] = {}


def _last_line(code: CodeType) -> int:
    """The last line holding code of ``code`` or of a function, class or lambda in it."""
    last, stack = code.co_firstlineno, [code]
    while stack:
        code = stack.pop()
        if hasattr(code, "co_positions"):  # Python 3.11: where each expression ends
            ends = [end for _, end, _, _ in code.co_positions() if end is not None]
        else:
            ends = [line for _, _, line in code.co_lines() if line is not None]
        last = max([last, *ends])
        stack.extend(const for const in code.co_consts if isinstance(const, CodeType))
    return last


def _cut(lines: list[str], code: CodeType) -> ast.FunctionDef | None:
    """The def of ``code`` parsed from its own lines, or None if they do not parse alone."""
    first = code.co_firstlineno
    text = "".join(lines[first - 1:_last_line(code)])
    indented = text[:1] in (" ", "\t")
    if indented and first == 1:
        return None
    try:
        tree = ast.parse("if 1:\n" + text if indented else text, code.co_filename)
    except SyntaxError:
        return None
    node = tree.body[0].body[0] if indented else tree.body[0]
    if not isinstance(node, ast.FunctionDef) or node.name != code.co_name:
        return None
    return ast.increment_lineno(node, first - 1 - indented)


def _find(code: CodeType) -> tuple[list[str], ast.AST | None] | None:
    """The lines of ``code``'s file and its def (or lambda) node, or None without a file."""
    lines = linecache.getlines(code.co_filename)
    if not lines:
        return None
    key = (code.co_filename, code.co_firstlineno, code.co_name)
    cached = _functions.get(key)
    if cached is not None and cached[0] is lines:  # linecache hands out the same list
        return cached
    node = _cut(lines, code) if code.co_name != "<lambda>" else None
    if node is not None:
        _functions[key] = (lines, node)
        return lines, node
    found = _index(code.co_filename)
    return (lines, None) if found is None else (found[0], found[1].get(key[1:]))


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
    found = _find(code)
    if found is not None:
        lines, node = found
        source = SourceInfo(code.co_filename, lines, 1)
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
