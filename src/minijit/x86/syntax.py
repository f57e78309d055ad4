"""The text front end: GNU as's ``.intel_syntax noprefix`` dialect onto the builder.

``assemble(source)`` reads one statement per line and calls the same
``Assembler`` methods a program would, so text and builder give the same bytes.
Grammar (``;`` and ``#`` start comments)::

    line      := {name ':'} [directive | instruction]
    instruction := [prefix] mnemonic [operand {',' operand}]
    prefix    := lock | rep | repe | repz | repne | repnz
    operand   := (register | number | name | [size ['ptr']] memory) {decoration}
    memory    := [segment ':'] '[' address ']' | segment ':' number
               | '[' segment ':' number ']'                 (GNU as takes all three)
    segment   := fs | gs
    decoration := '{' (k1-k7 | 'z' | '1to' N) '}'    (AVX-512 mask, zeroing, broadcast)
    address   := term {('+' | '-') term}
    term      := register ['*' scale] | scale '*' register | number | name
    size      := byte | word | dword | qword | tbyte | xmmword | ymmword | zmmword
    number    := ['-'] (decimal | 0x hex | 0b binary | 0o octal)
    directive := .byte/.word/.short/.long/.int/.quad/.float/.single/.double values
               | .quad name                (the label's absolute address)
               | .p2align n | .balign n | .align n
               | .intel_syntax noprefix | .text | .globl/.global name (accepted, no effect)

A ``name`` operand is a label: a branch target, or with ``rip`` a rip-relative
address.  A ``number`` as the target of a jump or call is an address
(``call 0x401000``), reached from where the code is loaded (``address``) with the
rel32 form, as GNU as and ld do.  Operand texts without labels are parsed once and
cached.
"""

from __future__ import annotations

import re

from minijit.x86.assembler import METHODS, PREFIXES, Assembler
from minijit.x86.errors import AsmError
from minijit.x86.registers import (
    REGISTERS,
    SEGMENTS,
    SIZES,
    Address,
    Label,
    Masked,
    Mem,
    Reg,
    Segment,
)

__all__ = ["assemble", "parse_operand"]

_NAME = re.compile(r"[A-Za-z_.$][\w.$]*\Z")
_SIGNS = re.compile(r"[+-](?:\s*[+-])+")
_TERM = re.compile(r"\s*([+-]?)\s*([^+\-\s][^+\-]*?)\s*(?=[+-]|\Z)")
_OPERAND_CACHE: dict[str, object] = {}
MAX_P2ALIGN = 16
_IGNORED = {".text", ".globl", ".global", ".intel_syntax", ".section", ".type", ".size"}
_DATA = {".byte": "db", ".word": "dw", ".short": "dw", ".value": "dw", ".long": "dd",
         ".int": "dd", ".quad": "dq", ".float": "dd", ".single": "dd", ".double": "dq"}


def _number(text: str) -> int | None:
    try:
        return int(text, 0)
    except ValueError:
        return None


class _Names:
    """The labels of one source text, created on first mention."""

    __slots__ = ("asm", "labels", "uses")

    def __init__(self, asm: Assembler) -> None:
        self.asm = asm
        self.labels: dict[str, Label] = {}
        self.uses = 0  # label mentions so far: a line that mentions one is not cached

    def get(self, name: str) -> Label:
        self.uses += 1
        label = self.labels.get(name)
        if label is None:
            label = self.labels[name] = self.asm.label(name)
        return label


#: the common address, ``base [+ index[*scale]] [+|- number]``, in one match
_SIMPLE_ADDRESS = re.compile(r"\s*([A-Za-z]\w*)\s*(?:\+\s*([A-Za-z]\w*)\s*(?:\*\s*([1248])\s*)?)?"
                             r"(?:([+-])\s*(0[xX][0-9a-fA-F]+|[1-9][0-9]*|0)\s*)?\Z")


def _address(text: str, names: _Names | None) -> tuple[Address, bool]:
    """Parse the inside of brackets; the flag says whether a label was used.

    The common shape is one regular expression match and dict lookups; anything
    else (labels, a scaled index first, no base, errors) is read term by term."""
    match = _SIMPLE_ADDRESS.match(text)
    if match is not None:
        base = REGISTERS.get(match[1].lower())
        index = REGISTERS.get(match[2].lower()) if match[2] else None
        if base is not None and (index is not None or match[2] is None):
            disp = int(match[5], 0) if match[5] else 0
            return Address(base, index, int(match[3]) if match[3] else 1,
                           -disp if match[4] == "-" else disp, None), False
    return _terms(text, names)


def _terms(text: str, names: _Names | None) -> tuple[Address, bool]:
    """``_address`` term by term."""
    base = index = label = None
    scale, disp = 1, 0
    # a run of signs is one sign, as in GNU as: [rax + -8] is [rax - 8]
    body = _SIGNS.sub(lambda m: "-" if m[0].count("-") % 2 else "+", text.strip())
    if not body:
        raise AsmError("empty brackets")
    pos = 0
    uses_label = False
    for match in _TERM.finditer(body):
        if match.start() != pos:
            break
        pos = match.end()
        sign, term = match.group(1), match.group(2).replace(" ", "")
        if not term:
            raise AsmError(f"malformed address [{text}]")
        if "*" in term:
            left, _, right = term.partition("*")
            left, right = left.lower(), right.lower()
            reg, factor = (left, right) if left in REGISTERS else (right, left)
            if reg not in REGISTERS or sign == "-":
                raise AsmError(f"malformed scaled index {term!r} in [{text}]")
            if index is not None:
                raise AsmError(f"two index registers in [{text}]")
            index, scale = REGISTERS[reg], _number(factor)
            if scale is None:
                raise AsmError(f"scale {factor!r} is not a number in [{text}]")
            continue
        reg = REGISTERS.get(term.lower())
        if reg is not None:
            if sign == "-":
                raise AsmError(f"a register cannot be subtracted in [{text}]")
            if base is None:
                base = reg
            elif index is None:
                index = reg
            else:
                raise AsmError(f"too many registers in [{text}]")
            continue
        value = _number(term)
        if value is not None:
            disp += -value if sign == "-" else value
            continue
        if _NAME.match(term) and names is not None and sign != "-" and label is None:
            label = names.get(term)
            uses_label = True
            continue
        raise AsmError(f"cannot read {term!r} in address [{text}]")
    if pos != len(body):
        raise AsmError(f"malformed address [{text}]")
    return Address(base, index, scale, disp, label), uses_label


def parse_operand(text: str, names: _Names | None = None) -> object:
    """One operand: a register, an integer, a memory operand or (with names) a label."""
    cached = _OPERAND_CACHE.get(text)
    if cached is not None:
        return cached
    t = text.strip()
    if not t:
        raise AsmError("empty operand")
    lower = t.lower()
    result: object
    uses_label = False
    if t.endswith("}"):
        uses = names.uses if names is not None else 0
        result = _decorated(t, names)
        uses_label = names is not None and names.uses != uses
    elif lower in REGISTERS:
        result = REGISTERS[lower]
    elif "[" in t or "]" in t or ":" in t:
        segment = None
        if ":" in t:
            t, segment = _without_segment(t)
        head, bracket, rest = t.partition("[")
        if not bracket or not rest.endswith("]") or "[" in rest or rest.count("]") != 1:
            raise AsmError(f"malformed brackets in {t!r}")
        words = head.lower().split()
        if words[-1:] == ["ptr"]:
            words.pop()
        if len(words) > 1 or (words and words[0] not in SIZES):
            raise AsmError(f"unknown size keyword {head.strip()!r} (use byte/word/dword/"
                           "qword/tbyte/xmmword/ymmword/zmmword ptr)")
        address, uses_label = _address(rest[:-1], names)
        result = Mem(SIZES[words[0]].bits if words else 0, address, segment=segment)
    else:
        value = _number(t)
        if value is not None:
            result = value
        elif _NAME.match(t) and names is not None:
            return names.get(t)
        else:
            raise AsmError(f"cannot read operand {t!r}")
    if not uses_label and len(_OPERAND_CACHE) < LINE_CACHE_LIMIT:
        _OPERAND_CACHE[text] = result
    return result


def _without_segment(text: str) -> tuple[str, Segment]:
    """``text`` without its segment override, its address in brackets, and the segment:
    ``qword ptr fs:[rax]``, ``qword ptr fs:0x28`` (as objdump writes it) and ``qword
    ptr [fs:0x28]`` (a number only there, as in GNU as) all give ``qword ptr [...]``."""
    before, _, after = text.partition(":")
    words = before.split()
    name = words.pop() if words else ""
    inside = name.startswith("[")
    segment = _segment(name.lstrip("[").lower(), text)
    after = after.strip()
    if ":" in after:
        raise AsmError(f"two segment overrides in {text!r}")
    if not inside and after.startswith("["):
        return " ".join([*words, after]), segment
    number = after.removesuffix("]") if inside else after
    if inside != after.endswith("]") or _number(number.strip()) is None:
        raise AsmError(f"{segment.name}: takes [address] or a number, not {after!r} "
                       f"(in {text!r})")
    return " ".join([*words, f"[{number}]"]), segment


def _segment(name: str, text: str) -> Segment:
    segment = SEGMENTS.get(name)
    if segment is None:
        if name in ("cs", "ds", "es", "ss"):
            raise AsmError(f"{name}: has base 0 in 64-bit mode, so overriding it does "
                           f"nothing; only fs: and gs: are taken (in {text!r})")
        raise AsmError(f"unknown segment {name!r} in {text!r} (fs or gs)")
    return segment


_DECORATION = re.compile(r"\{\s*([^{}]*?)\s*\}\s*\Z")


def _decorated(text: str, names: _Names | None) -> object:
    """An AVX-512 operand with ``{k1}``, ``{z}`` or ``{1toN}`` decorations."""
    marks = []
    while text.endswith("}"):
        match = _DECORATION.search(text)
        if match is None:
            raise AsmError(f"malformed decoration in {text!r}")
        marks.insert(0, match.group(1).lower())
        text = text[:match.start()].rstrip()
    op = parse_operand(text, names)
    mask, zero = None, False
    for mark in marks:
        if mark in REGISTERS and REGISTERS[mark].kind == "k":
            mask = REGISTERS[mark]
        elif mark == "z":
            zero = True
        elif mark.startswith("1to") and type(op) is Mem and not op.bcst:
            op = op.broadcast
        else:
            raise AsmError(f"unknown decoration {{{mark}}} in {text!r}")
    if zero and mask is None:
        raise AsmError(f"{{z}} needs a write mask {{k1}}-{{k7}} in {text!r}")
    if mask is not None:
        if not isinstance(op, (Reg, Mem)):
            raise AsmError(f"a write mask applies to a register or memory, not {text!r}")
        return Masked(op, mask, zero)
    return op


def _directive(asm: Assembler, names: _Names, word: str, args: str) -> None:
    if word in _IGNORED:
        if word == ".intel_syntax" and args.strip() not in ("noprefix", ""):
            raise AsmError(".intel_syntax: only noprefix is supported")
        return
    if word in _DATA:
        values = []
        for item in args.split(","):
            item = item.strip()
            value: int | float | Label | None = _number(item)
            if word in (".float", ".single", ".double"):
                try:
                    value = float(item)
                except ValueError:
                    raise AsmError(f"{word}: cannot read value {item!r}") from None
            elif value is None and word == ".quad" and _NAME.match(item):
                value = names.get(item)
            elif value is None:
                raise AsmError(f"{word}: cannot read value {item!r}")
            values.append(value)
        getattr(asm, _DATA[word])(*values)
        return
    if word in (".p2align", ".balign", ".align"):
        n = _number(args.split(",")[0].strip())
        if n is None:
            raise AsmError(f"{word}: cannot read {args.strip()!r}")
        if word == ".p2align":
            if not 0 <= n <= MAX_P2ALIGN:
                raise AsmError(f".p2align: {n} is not in 0..{MAX_P2ALIGN}")
            n = 1 << n
        asm.align(n)
        return
    raise AsmError(f"unknown directive {word!r}")


def _statement(asm: Assembler, names: _Names, text: str) -> tuple | None:
    """Assemble one statement; return ``(method, ops)`` if it may be cached by its text."""
    labelled = False
    while True:
        colon = text.find(":")
        if colon < 0 or "[" in text[:colon] or len(text[:colon].split()) > 1:
            break  # no label: the colon is a segment's (mov eax, fs:0x28)
        name = text[:colon].strip()
        if not _NAME.match(name) or name.lower() in REGISTERS:
            raise AsmError(f"bad label name {name!r}")
        label = names.get(name)
        asm.bind(label)
        labelled = True
        text = text[colon + 1:].strip()
    if not text:
        return None
    head, _, rest = text.partition(" ")
    method = METHODS.get(head)  # a lowercase mnemonic, the common case
    if method is None:
        word = head.lower()
        if word[0] == ".":
            _directive(asm, names, word, rest)
            return None
        if word in PREFIXES:
            inner, _, rest = rest.strip().partition(" ")
            ops = _operands(rest, names) if rest else ()
            if inner.lower() not in METHODS:
                raise AsmError(f"unknown mnemonic {inner!r} after {word}")
            asm.prefixed(word, inner.lower(), ops)
            return None
        method = METHODS.get(word)
        if method is None:
            raise AsmError(f"unknown mnemonic {head!r}")
    uses = names.uses
    ops = _operands(rest, names) if rest else ()
    method(asm, *ops)
    if labelled or names.uses != uses:
        return None
    return method, ops


def _operands(rest: str, names: _Names) -> tuple:
    """The operands of ``rest`` (comma-separated), cached texts straight from the dict."""
    ops = []
    cached = _OPERAND_CACHE.get
    for text in rest.split(","):
        op = cached(text)
        if op is None:
            op = parse_operand(text, names)
        ops.append(op)
    return tuple(ops)


_LINE_CACHE: dict[str, tuple] = {}
LINE_CACHE_LIMIT = 1 << 16


def assemble(source: str, address: int = 0) -> bytes:
    """Machine code for ``source`` in GNU as's Intel syntax (``address``: load address).

    Raises AsmError naming the line, its text and what is wrong.  Lines without
    labels are parsed once: the parsed (method, operands) is cached by line text.
    """
    asm = Assembler()
    names = _Names(asm)
    cache = _LINE_CACHE
    item_lines: dict[int, int] = {}
    items = asm._items
    for number, line in enumerate(source.splitlines(), 1):
        entry = cache.get(line)
        if entry is not None:
            entry[0](asm, *entry[1])
            continue
        text = line
        if ";" in line or "#" in line:
            cut = min(at for at in (line.find(";"), line.find("#"), len(line)) if at >= 0)
            text = line[:cut]
        text = text.strip()
        if not text:
            continue
        count = len(items)
        try:
            entry = _statement(asm, names, text)
        except AsmError as error:
            raise AsmError(f"line {number}: {text}: {_strip_text(str(error), text)}") from None
        if len(items) != count:
            # a layout item (a branch to an address...) names its line in errors found at
            # layout, so its line is not cached
            for item in items[count:]:
                item_lines[id(item)] = number
        elif entry is not None and len(cache) < LINE_CACHE_LIMIT:
            cache[line] = entry
    try:
        return asm.assemble(address)
    except AsmError as error:
        line = item_lines.get(id(getattr(error, "item", None)))
        if line is None:
            raise
        raise AsmError(f"line {line}: {error}") from None


def _strip_text(message: str, text: str) -> str:
    """Drop the builder's own ``mnemonic operands:`` prefix (the line already says it)."""
    head = message.split(": ", 1)
    return head[1] if len(head) == 2 and text.lower().startswith(head[0].split(" ")[0]) else \
        message
