"""Machine code listed by source line, for ``f.asm()`` and ``minijit run --asm``.

Code generation records the code offset where each source line's instructions
start.  The listing prints each line of Python followed by its code: as Intel
syntax when ``minijit.x86.disassemble`` is available, as raw hex bytes
otherwise (the switch is automatic).  The constant pool at the end is listed
as data, one 8-byte word per row with the double it holds.
"""

from __future__ import annotations

import linecache
import struct

__all__ = ["annotated_listing"]


def _disassembler():
    try:
        from minijit.x86 import disassemble
    except ImportError:
        return None
    return disassemble


def _source_lines(py_func) -> dict[int, str]:
    lines = linecache.getlines(py_func.__code__.co_filename)
    return {i: text.rstrip() for i, text in enumerate(lines, 1)}


def _chunks(compiled) -> list[tuple[int, int, int | None]]:
    """(start, end, source line or None) covering the code up to the constant pool."""
    marks = [(0, None), (compiled.body_offset, None)] + list(compiled.lines)
    marks.sort(key=lambda m: m[0])
    out = []
    for i, (start, line) in enumerate(marks):
        end = marks[i + 1][0] if i + 1 < len(marks) else compiled.data_offset
        if end > start:
            out.append((start, end, line))
    return out


def _constant_rows(code: bytes, start: int, address: int) -> list[str]:
    rows = []
    for pos in range(start, len(code) - 7, 8):
        word = code[pos:pos + 8]
        (value,) = struct.unpack("<d", word)
        rows.append(f"  {address + pos:#014x}:  dq {int.from_bytes(word, 'little'):#018x}"
                    f"  ; {value!r}")
    return rows


def _hex_rows(code: bytes, start: int, end: int, address: int) -> list[str]:
    return [f"  {address + pos:#014x}:  {code[pos:min(pos + 16, end)].hex(' ')}"
            for pos in range(start, end, 16)]


def _asm_rows(disassemble, code: bytes, start: int, end: int, address: int) -> list[str]:
    rows = []
    for ins in disassemble(code[start:end], address + start):
        where = getattr(ins, "address", None)
        prefix = f"  {where:#014x}:  " if isinstance(where, int) else "  "
        rows.append(prefix + str(ins))
    return rows


def annotated_listing(compiled, address: int, py_func) -> str:
    source = _source_lines(py_func)
    disassemble = _disassembler()
    out = []
    for start, end, line in _chunks(compiled):
        if line is None:
            title = {0: "; kernel entry", compiled.body_offset: "; body prologue"}.get(
                start, "; epilogue, error exits and slow paths")
        else:
            title = f"; line {line}: {source.get(line, '').strip()}"
        out.append(title)
        rows = None
        if disassemble is not None:
            try:
                rows = _asm_rows(disassemble, compiled.code, start, end, address)
            except Exception:  # data (the constant pool) need not decode
                rows = None
        out.extend(rows if rows is not None else
                   _hex_rows(compiled.code, start, end, address))
    if compiled.data_offset < len(compiled.code):
        out.append("; constants")
        out.extend(_constant_rows(compiled.code, compiled.data_offset, address))
    return "\n".join(out) + "\n"
