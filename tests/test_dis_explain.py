"""explain on every corpus instruction (and every 32-bit-address and fs/gs line of
test_dis_addr32) and on random bytes: the fields cover the bytes exactly, in order, and
nothing but ValueError (not an instruction) escapes."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from test_dis_addr32 import left_bad, lines

from minijit.x86 import assemble
from minijit.x86.corpus import corpus
from minijit.x86.explain import explain_bytes


def check(explanation) -> None:
    fields = explanation.fields
    assert b"".join(f.bytes for f in fields) == explanation.instruction.bytes
    assert [f.offset for f in fields] == sorted(f.offset for f in fields)
    text = "\n".join(explanation.lines())
    assert text.startswith(explanation.instruction.text + "\n")


def test_every_corpus_instruction():
    for line in corpus(avx512=True):
        check(explain_bytes(assemble(line)))


def test_every_32_bit_address_and_segment_instruction():
    for line in lines():
        code = assemble(line)
        if not left_bad(code):
            check(explain_bytes(code))


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=1, max_size=15))
def test_random_bytes(code):
    try:
        explanation = explain_bytes(code)
    except ValueError as error:
        assert "does not start with an instruction minijit's table knows" in str(error)
        return
    check(explanation)
