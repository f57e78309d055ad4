"""What importing minijit.x86 does and does not do: no form parsed, no table built, no
disassembler or text front end loaded until first used (each check in a fresh
interpreter, since this test process has long used them all)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def fresh(code: str) -> object:
    """The JSON printed by ``code`` run in a new interpreter."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


def test_import_parses_no_form_and_loads_neither_decoder_nor_text_front_end():
    state = fresh(
        "import json, sys, minijit.x86\n"
        "from minijit.x86 import encoder, table\n"
        "print(json.dumps([sorted(m for m in sys.modules if m.startswith('minijit.x86.')),"
        " sum(f is not None for f in table._FORMS), len(encoder._KINDS_TABLES)]))")
    modules, parsed, kinds_tables = state
    assert "minijit.x86.decoder" not in modules and "minijit.x86.syntax" not in modules
    assert (parsed, kinds_tables) == (0, 0)


def test_first_use_builds_only_that_mnemonics_tables():
    """Using add and jz parses only the forms that take their operand kinds, and makes
    table entries only for the kinds used."""
    state = fresh(
        "import json\n"
        "from minijit.x86 import Assembler, rax, rcx, encoder, table\n"
        "a = Assembler()\n"
        "a.add(rax, rcx)\n"
        "a.add(rcx, rax)\n"
        "a.jz(a.label())\n"
        "print(json.dumps([{m: sorted(map(list, t.entries))"
        " for m, t in encoder._KINDS_TABLES.items()},"
        " sorted(str(f) for f in table._FORMS if f), a._buf.hex()]))")
    assert state == [{"add": [["r64", "r64"]], "je": [["rel"]]},
                     ["add r/m64, r64  (REX.W 01 /r)", "add r64, r/m64  (REX.W 03 /r)",
                      "je rel32  (0F 84 cd)", "je rel8  (74 cb)"],
                     "4801c84801c1"]


def test_lazy_names_resolve_to_the_modules_objects():
    import minijit.x86 as x86
    from minijit.x86 import decoder, syntax

    assert x86.assemble is syntax.assemble
    assert x86.disassemble is decoder.disassemble and x86.Instruction is decoder.Instruction
    assert {"assemble", "disassemble", "Instruction", "rax", "qword"} <= set(dir(x86))
    namespace: dict = {}
    exec("from minijit.x86 import *", namespace)
    assert namespace["disassemble"] is decoder.disassemble


def test_unknown_attribute_is_an_attribute_error():
    import minijit.x86 as x86

    with pytest.raises(AttributeError, match="module 'minijit.x86' has no attribute 'frob'"):
        x86.frob  # noqa: B018


def test_forms_of_shares_forms_with_forms():
    from minijit.x86.encoder import kinds_table
    from minijit.x86.table import forms, forms_of

    everything = forms(avx512=True)
    assert forms_of("add") == tuple(f for f in everything if f.mnemonic == "add")
    assert all(any(f is g for g in everything) for f in forms_of("vaddpd"))
    assert forms_of("frob") == () and kinds_table("frob") is None
