"""CompileError: what the compiler cannot compile, said where it is.

Every error the front end raises points at one construct of the user's source:
its file, line and column, the source line quoted, and a caret row under the
construct, followed by what is not supported and, where it helps, what is::

    example.py:2:12: a list display is not supported in @jit functions; ...
        return [x]
               ^^^

``CompileError.at(node, source, message)`` builds one from an ``ast`` node.
"""

from __future__ import annotations

import ast

__all__ = ["CompileError", "SourceInfo"]


class SourceInfo:
    """Where a function's source came from: file name, its lines, and the line offset."""

    __slots__ = ("filename", "lines", "first_line")

    def __init__(self, filename: str, lines: list[str], first_line: int) -> None:
        self.filename = filename
        self.lines = lines
        self.first_line = first_line

    def line_text(self, line: int) -> str:
        """The text of absolute line ``line`` (1-based), or '' when unknown."""
        index = line - self.first_line
        return self.lines[index].rstrip("\n") if 0 <= index < len(self.lines) else ""


class CompileError(Exception):
    """A construct outside the compiled subset, with file, line, column and a caret."""

    def __init__(
        self,
        message: str,
        filename: str = "<unknown>",
        line: int = 0,
        column: int = 0,
        source_line: str = "",
        width: int = 1,
    ) -> None:
        self.message = message
        self.filename = filename
        self.line = line
        self.column = column
        self.source_line = source_line
        text = f"{filename}:{line}:{column}: {message}"
        if source_line:
            stripped = source_line.lstrip()
            indent = len(source_line) - len(stripped)
            caret = " " * (column - 1 - indent) + "^" * max(1, width)
            text += f"\n    {stripped}\n    {caret}"
        super().__init__(text)

    @classmethod
    def at(cls, node: ast.AST | None, source: SourceInfo, message: str) -> CompileError:
        """An error at ``node`` (a node of the re-parsed, line-shifted tree)."""
        if node is None or not hasattr(node, "lineno"):
            return cls(message, source.filename, source.first_line, 1, "")
        line = node.lineno
        column = node.col_offset + 1
        text = source.line_text(line)
        end = getattr(node, "end_col_offset", None)
        same_line = getattr(node, "end_lineno", line) == line
        width = end - node.col_offset if end is not None and same_line else len(text) - column + 1
        return cls(message, source.filename, line, column, text, width)
