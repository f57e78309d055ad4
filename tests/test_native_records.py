"""``Specialisation`` and ``ArrayArg`` behave as the frozen dataclasses they replace (so that
importing the entry does not import ``dataclasses``): the same repr, equality and hash,
with ``keepalive`` outside all three, and no assignment.  The oracle is a frozen dataclass
declared with the same fields."""

from __future__ import annotations

import array
from dataclasses import dataclass, field

import pytest

from minijit.native.entry import ArrayArg, Specialisation


@dataclass(frozen=True)
class OracleSpecialisation:
    arg_kinds: tuple
    result_kind: str
    kernel_address: int
    keepalive: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class OracleArrayArg:
    pytype: type
    format: str
    itemsize: int
    ndim: int
    readonly: bool


def named(text: str) -> str:
    return text.replace("Oracle", "")


KINDS = [("int64",), ("float64", "bool"), ()]


@pytest.mark.parametrize("kinds", KINDS)
def test_specialisation_repr_eq_hash_as_the_dataclass(kinds):
    block = object()
    spec = Specialisation(list(kinds), "float64", 4096, block)
    oracle = OracleSpecialisation(kinds, "float64", 4096, block)
    assert repr(spec) == named(repr(oracle))
    assert spec.arg_kinds == kinds and spec.keepalive is block
    same = Specialisation(kinds, "float64", 4096)  # keepalive takes no part
    assert spec == same and hash(spec) == hash(same) == hash(oracle)
    assert {spec: 1}[same] == 1
    assert spec != Specialisation(kinds, "float64", 8192)
    assert spec != Specialisation(kinds, "int64", 4096)
    assert spec != (kinds, "float64", 4096)


def test_array_arg_repr_eq_hash_as_the_dataclass():
    kind = ArrayArg(array.array, "d", 8, 2, True)
    oracle = OracleArrayArg(array.array, "d", 8, 2, True)
    assert repr(kind) == named(repr(oracle))
    assert kind == ArrayArg(pytype=array.array, format="d", itemsize=8, ndim=2, readonly=True)
    assert hash(kind) == hash(oracle)
    assert kind != ArrayArg(array.array, "d", 8, 1, True)
    assert Specialisation((kind,), "none", 4096) == Specialisation((kind,), "none", 4096)


@pytest.mark.parametrize("record", [Specialisation(("int64",), "int64", 4096),
                                    ArrayArg(array.array, "q", 8, 1, False)])
def test_records_cannot_change(record):
    name = type(record)._compared[0]
    with pytest.raises(AttributeError, match=f"cannot assign to field '{name}'"):
        setattr(record, name, None)
    with pytest.raises(AttributeError, match=f"cannot delete field '{name}'"):
        delattr(record, name)
    with pytest.raises(AttributeError, match="cannot assign to field 'other'"):
        record.other = 1
