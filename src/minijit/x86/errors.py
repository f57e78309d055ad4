"""``AsmError``: every bad input to the assembler, with what is wrong and where."""

from __future__ import annotations


class AsmError(ValueError):
    """Bad assembler input; the message names the line, the text and what is wrong."""
