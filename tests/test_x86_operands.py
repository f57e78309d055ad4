"""Memory and masked operands are interned: one live object per value (see registers.py).

The builder's encoding caches rely on it (they hash operands by identity), so these
pin down that equal values are one object, different values are not, nothing is
kept alive by the tables, and copies and pickles come back as the same object.
"""

from __future__ import annotations

import copy
import gc
import pickle
import weakref

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minijit.x86 import (
    AsmError,
    Assembler,
    assemble,
    byte,
    dword,
    eax,
    ecx,
    k1,
    k2,
    qword,
    r12,
    r13,
    r15,
    rax,
    rbp,
    rcx,
    rdx,
    rip,
    rsp,
    xmmword,
    zmm1,
    zmmword,
)
from minijit.x86.assembler import clear_caches
from minijit.x86.registers import _MEMS, Address, Mem, memory_operands
from minijit.x86.syntax import parse_operand


def test_equal_memory_operands_are_one_object():
    made = qword[rsp + 8]
    assert made is qword[rsp + 8]
    assert made is Mem(64, Address(rsp, None, 1, 8, None))
    assert made is parse_operand("qword ptr [rsp + 8]")
    assert made == qword[rsp + 8] and hash(made) == hash(qword[rsp + 8])


def test_memory_operands_of_different_values_differ():
    base = qword[rax + rcx * 8 + 16]
    others = [dword[rax + rcx * 8 + 16], qword[rax + rcx * 4 + 16], qword[rax + rcx * 8 + 17],
              qword[rcx + rax * 8 + 16], qword[rax + rcx * 8 + 16].broadcast, byte[rax]]
    assert all(other is not base and other != base for other in others)
    assert len({id(other) for other in others}) == len(others)


def test_masked_operands_are_interned_too():
    assert zmm1(k1) is zmm1(k1)
    assert zmm1(k1).z is zmm1(k1, z=True)
    assert zmm1(k1) is not zmm1(k2) and zmm1(k1) is not zmm1(k1).z
    assert zmmword[rax](k1) is zmmword[rax](k1)


def test_an_operand_nobody_uses_is_freed():
    ref = weakref.ref(qword[rcx + 0x12345])
    gc.collect()
    assert ref() is None
    assert qword[rcx + 0x12345].disp == 0x12345  # made again, fresh


def test_a_labelled_operand_lives_in_its_label_not_the_global_table():
    """The global table never holds a label (it would keep the label's assembler
    alive); the label's own table holds only weak references."""
    a = Assembler()
    label = a.label("const")
    operand = xmmword[rip + label]
    assert operand is xmmword[rip + label]
    assert [key for key in _MEMS.refs if label in key] == []
    assert list(label.operands.refs.values())[0]() is operand
    ref = weakref.ref(operand)
    del operand
    gc.collect()
    assert ref() is None


def test_the_table_sweeps_freed_operands():
    for disp in range(5000):
        qword[rax + 0x10000 + disp]  # noqa: B018 (made and dropped at once)
    assert len(_MEMS.refs) < 3000


def test_copies_and_pickles_are_the_same_object():
    for operand in (qword[rax + 8], zmm1(k1), qword[rax + rcx * 2].broadcast, rax):
        assert copy.copy(operand) is operand
        assert copy.deepcopy(operand) is operand
        assert pickle.loads(pickle.dumps(operand)) is operand


def test_text_and_builder_share_operands_and_bytes():
    a = Assembler()
    a.add(rax, qword[rsp + 8])
    assert assemble("add rax, qword ptr [rsp + 8]") == a.assemble() == bytes.fromhex("4803442408")


BASES = [rax, rcx, rsp, rbp, r12, r13, eax]
INDEXES = [rcx, rdx, r13, r15, ecx]


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(BASES), st.sampled_from(INDEXES), st.sampled_from([1, 2, 4, 8]),
       st.integers(-(1 << 31), (1 << 31) - 1))
def test_every_spelling_of_an_address_is_the_same_operand(base, index, scale, disp):
    """Register arithmetic takes shortcuts for the common shapes (rax + 8, rax +
    rcx*8); in every order they give the operand Mem makes from the parts."""
    want = Mem(64, Address(base, index, scale, disp, None))
    spellings = [base + index * scale + disp, index * scale + base + disp,
                 disp + base + index * scale, base + disp + scale * index,
                 (base - -disp) + index * scale, base + (index * scale + disp)]
    assert all(qword[s] is want for s in spellings)
    assert qword[base + disp] is Mem(64, Address(base, None, 1, disp, None))
    assert qword[base - disp] is Mem(64, Address(base, None, 1, -disp, None))
    assert qword[base] is Mem(64, Address(base, None, 1, 0, None))


def test_an_operand_remembers_only_a_valid_address_shape():
    """Mem.mode keeps the ModRM/SIB shape after the first encoding; a forbidden one
    (rsp as index) is refused every time, and a valid one gives the same bytes again."""
    bad = qword[rax + rsp * 2]
    for _ in range(2):
        with pytest.raises(AsmError, match="rsp cannot be an index register"):
            Assembler().mov(rax, bad)
    good = qword[r13 + rcx * 4]
    first, second = Assembler(), Assembler()
    first.mov(rax, good)
    second.add(good, rdx)  # another instruction: the shape from the operand
    assert good.mode is not None
    assert first.assemble().hex() == "498b448d00" and second.assemble().hex() == "4901548d00"


def test_clear_caches_makes_memory_operands_forget_their_address_bytes():
    """clear_caches (the benchmark's cold runs) also forgets what each memory operand
    learned of its address bytes; encoding again makes them again, the same.  A
    masked register, interned beside the memory operands, is not one of them."""
    slot, masked = qword[rsp + 0x80], zmm1(k1)
    Assembler().mov(rax, slot)
    assert slot.mode is not None and slot in memory_operands()
    assert masked not in memory_operands()
    clear_caches()
    assert slot.mode is None
    again = Assembler()
    again.mov(rax, slot)
    again.vmovdqu64(masked, zmmword[rsp + 0x80])  # EVEX: disp8*64, from the same shape
    assert again.assemble().hex() == "488b842480000000" + "62f1fe496f4c2402"
