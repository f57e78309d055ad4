"""Callable classes: instances called through their own machine-code entry (vectorcall).

CPython is the oracle: attribute access, methods, repr, isinstance and garbage
collection are checked with CPython's own tools (weak references, gc,
sys.getrefcount), and every call the entry does not take must reach the
fallback exactly as CPython would have passed it to a plain ``__call__``.
"""

from __future__ import annotations

import array
import collections
import ctypes
import functools
import gc
import re
import sys
import threading
import weakref
from types import FunctionType

import pytest
from entry_kernels import SAMPLES, add_int, kernel, kind_tuples, lone_chunk_arena, result_is
from hypothesis import given, settings
from hypothesis import strategies as st

from minijit.memory import CodeBlock, allocate
from minijit.native import callable as native_callable
from minijit.native import entry
from minijit.native.callable import (
    VECTORCALL_OFFSET,
    CallableBase,
    callable_class,
    callable_type,
    entry_of,
    install_entry,
)
from minijit.native.entry import Entry, Specialisation
from minijit.x86 import Assembler, r11, rdi, rdx

ARGUMENTS_OFFSET = 1 << 63
INT64_MAX = (1 << 63) - 1


def add_spec() -> Specialisation:
    block = kernel(add_int)
    return Specialisation(("int64", "int64"), "int64", block.address, block)


class Adder:
    """Adds two ints in machine code; everything else is recorded by __call__."""

    label = "class attribute"

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.calls: list = []

    def __call__(self, *args: object, **kwargs: object) -> object:
        self.calls.append((args, kwargs))
        return ("fallback", args, kwargs)

    def __repr__(self) -> str:
        return f"<Adder {self.tag}>"

    def shout(self, suffix: str = "!") -> str:
        return self.tag.upper() + suffix

    @property
    def size(self) -> int:
        return len(self.tag)

    @staticmethod
    def twice(x: int) -> int:
        return 2 * x

    @classmethod
    def make(cls, tag: str) -> Adder:
        return cls(tag)


JitAdder = callable_class(Adder)


def adder(tag: str = "a") -> object:
    f = JitAdder(tag)
    install_entry(f, [add_spec()])
    return f


# -- the class ------------------------------------------------------------------------------


def test_the_class_has_the_namespace_name_module_and_doc():
    assert JitAdder.__name__ == JitAdder.__qualname__ == "Adder"
    assert JitAdder.__module__ == __name__
    assert JitAdder.__doc__ == Adder.__doc__
    assert repr(JitAdder) == f"<class '{__name__}.Adder'>"
    assert JitAdder.__mro__ == (JitAdder, CallableBase, object)
    assert JitAdder.__fallback__ is Adder.__dict__["__call__"]


def test_attributes_methods_properties_and_repr_work_as_in_a_python_class():
    f, plain = JitAdder("abc"), Adder("abc")
    for obj in (f, plain):
        obj.extra = [1]
        assert (obj.tag, obj.extra, obj.label, obj.size) == ("abc", [1], "class attribute", 3)
        assert obj.shout() == "ABC!" and obj.shout("?") == "ABC?"
        assert obj.twice(4) == 8 and type(obj).make("z").tag == "z"
        del obj.extra
        with pytest.raises(AttributeError, match="extra"):
            obj.extra  # noqa: B018
    assert repr(f) == "<Adder abc>"
    assert vars(f) == {"tag": "abc", "calls": []}
    assert isinstance(f, JitAdder) and isinstance(f, CallableBase)
    assert not isinstance(plain, JitAdder) and callable(f)
    assert isinstance(JitAdder.make("q"), JitAdder)


def test_functools_update_wrapper_and_cached_property_work():
    class Wrapper:
        def __init__(self, func):
            functools.update_wrapper(self, func)

        def __call__(self, *args):
            return self.__wrapped__(*args)

        @functools.cached_property
        def computed(self):  # needs __set_name__ and an instance dict
            return [self.__name__]

    def original(x):
        """The original."""
        return x + 1

    w = callable_type("Wrapper", dict(vars(Wrapper)), "somewhere")(original)
    assert (w.__name__, w.__doc__, w.__wrapped__) == ("original", "The original.", original)
    assert w(1) == 2
    assert w.computed is w.computed == ["original"]
    assert entry_of(w).listing()  # the entry took the instance's __name__ ...
    install_entry(w, [add_spec()])
    with pytest.raises(OverflowError, match=r"^original\(\) argument 1: int does not fit"):
        w(1 << 64, 1)  # ... and says it in its messages


def test_zero_argument_super_refers_to_the_new_class():
    class Counter:
        def __init__(self):
            self.n = 0

        def __call__(self):
            return self.n

        def __repr__(self):
            return "Counter:" + super().__repr__()

    text = repr(callable_class(Counter)())  # super(old Counter, obj) would be a TypeError
    assert text.startswith(f"Counter:<{__name__}.Counter object at 0x")
    quiet = callable_type("Quiet", {"__call__": lambda self: 1, "speak": lambda self: "hi"}, "m")
    assert quiet().speak() == "hi" and quiet()() == 1


def test_an_instance_made_by_object_new_refuses_calls_until_it_has_an_entry():
    f = object.__new__(JitAdder)  # skips the class's __new__, which installs the first entry
    with pytest.raises(TypeError, match="object does not support vectorcall"):
        f(1, 2)
    install_entry(f, [add_spec()])
    assert f(1, 2) == 3


def test_callable_type_leaves_the_super_of_other_classes_alone():
    class Other:
        def __call__(self):
            return "other:" + super().__repr__()[:1]

    callable_type("Made", {"__call__": Other.__call__}, "m")
    assert Other()() == "other:<"


def test_the_class_cannot_be_subclassed():
    with pytest.raises(TypeError, match="is not an acceptable base type"):

        class Sub(JitAdder):
            pass


# -- calls ----------------------------------------------------------------------------------


def test_before_any_entry_every_call_goes_to_the_fallback():
    f = JitAdder("x")
    assert entry_of(f).specialisations == ()
    calls = [((1, 2), {}), ((), {}), ((1,), {"k": 2}), ((1.5, "s", None), {})]
    for args, kwargs in calls:
        assert f(*args, **kwargs) == ("fallback", args, kwargs)
    assert f.calls == calls


def test_compiled_calls_run_the_kernel():
    f = adder()
    assert f(2, 3) == 5 and f(-(2**62), -(2**62)) == -(2**63)
    assert f(*[2, 3]) == 5 and f(*(x for x in (4, 5))) == 9  # a tuple call: tp_call
    assert type(f).__call__(f, 6, 7) == 13 and f.__call__(1, 1) == 2
    assert list(map(f, [1, 2], [10, 20])) == [11, 22]  # a C caller: no offset flag
    assert functools.reduce(f, [1, 2, 3, 4]) == 10
    assert f.calls == []


@pytest.mark.parametrize(
    "args, kwargs",
    [
        ((1.0, 2), {}),
        ((True, 2), {}),
        ((1,), {}),
        ((1, 2, 3), {}),
        ((1,), {"y": 2}),
        ((), {"x": 1, "y": 2}),
        ((1, 2), {"z": 0}),
    ],
)
def test_other_calls_go_to_the_fallback_with_the_same_arguments(args, kwargs):
    f = adder()
    assert f(*args, **kwargs) == ("fallback", args, kwargs)
    assert f.calls == [(args, kwargs)]


def test_errors_of_compiled_code_are_raised():
    f = adder("add")
    with pytest.raises(OverflowError, match="^int result does not fit in a signed 64-bit"):
        f(INT64_MAX, 1)
    with pytest.raises(OverflowError, match=r"^Adder\(\) argument 2: int does not fit"):
        f(1, 1 << 63)
    f.__name__ = "add"
    install_entry(f, [add_spec()])
    with pytest.raises(OverflowError, match=r"^add\(\) argument 1: int does not fit"):
        f(-(1 << 63) - 1, 1)


def test_fallback_exceptions_and_recursion_pass_through():
    class Deep:
        def __call__(self, n):
            return self(n + 1)

    f = callable_class(Deep)()
    with pytest.raises(RecursionError):
        f(0)
    g = JitAdder("x")
    install_entry(g, [add_spec()], fallback=lambda *a, **k: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        g(1.5, 2)
    assert g(1, 2) == 3


# The vectorcall function itself, called with chosen nargsf values through ctypes.
VECTORCALL = ctypes.PYFUNCTYPE(
    ctypes.py_object, ctypes.py_object, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p
)


def vectorcall(f: object, args: tuple, nargsf: int) -> object:
    """Call f's vectorcall pointer as CPython would, with args[-1] writable."""
    array = (ctypes.py_object * (len(args) + 1))(None, *args)
    pointer = ctypes.c_void_p.from_address(id(f) + VECTORCALL_OFFSET).value
    return VECTORCALL(pointer)(f, ctypes.addressof(array) + 8, nargsf, None)


def nargsf_echo() -> object:
    """A callable object whose vectorcall function returns its nargsf as an int."""
    a = Assembler()
    a.mov(rdi, rdx)
    a.mov(r11, ctypes.cast(ctypes.pythonapi.PyLong_FromSize_t, ctypes.c_void_p).value)
    a.jmp(r11)
    block = allocate(a.assemble())
    echo = JitAdder("echo")
    echo.block = block
    ctypes.c_void_p.from_address(id(echo) + VECTORCALL_OFFSET).value = block.address
    return echo


@pytest.mark.skipif(
    entry.VECTORCALL_NEEDS_FUNCTION, reason="the fallback is reached through a Python function"
)
@pytest.mark.parametrize("flag", [0, ARGUMENTS_OFFSET], ids=["plain", "offset-flag"])
def test_nargsf_flag_is_ignored_for_dispatch_and_passed_on_to_the_fallback(flag):
    f = JitAdder("x")
    install_entry(f, [add_spec()], fallback=nargsf_echo())
    assert vectorcall(f, (2, 3), 2 | flag) == 5
    assert vectorcall(f, (2, 3, 4), 3 | flag) == 3 | flag
    assert vectorcall(f, (2.0, 3), 2 | flag) == 2 | flag
    assert vectorcall(f, (), 0 | flag) == flag


@pytest.mark.parametrize("flag", [0, ARGUMENTS_OFFSET], ids=["plain", "offset-flag"])
def test_nargsf_flag_reaches_a_python_fallback_as_plain_arguments(flag):
    f = adder()
    assert vectorcall(f, (2, 3), 2 | flag) == 5
    assert vectorcall(f, (2.5, 3), 2 | flag) == ("fallback", (2.5, 3), {})


def marker(value: int) -> CodeBlock:
    """A kernel that returns ``value`` whatever its arguments are."""
    return kernel(result_is(value))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(kind_tuples, max_size=8, unique=True),
    st.lists(st.lists(st.sampled_from(sorted(SAMPLES)), max_size=4), min_size=1, max_size=10),
    st.sampled_from([0, ARGUMENTS_OFFSET]),
)
def test_dispatch_picks_the_specialisation_of_the_exact_types_or_falls_back(specs, calls, flag):
    blocks = [marker(i) for i in range(len(specs))]
    f = JitAdder("x")
    install_entry(
        f,
        [Specialisation(kinds, "int64", b.address, b) for kinds, b in zip(specs, blocks)],
        fallback=lambda *args: "fallback",
    )
    for kinds in calls:
        expected = specs.index(tuple(kinds)) if tuple(kinds) in specs else "fallback"
        args = tuple(SAMPLES[kind] for kind in kinds)
        assert vectorcall(f, args, len(args) | flag) == expected
        assert f(*args) == expected


def test_the_entry_code_clears_the_flag_in_a_copy_of_nargsf():
    listing = entry_of(adder()).listing()
    assert "mov r11, rdx" in listing and "btr r11, 0x3f" in listing
    assert "cmp r11, 0x2" in listing and "cmp rdx" not in listing
    assert "btr" not in entry_of(JitAdder("x")).listing()  # no count to compare


def test_threads_share_an_instance_while_entries_are_replaced():
    f = adder()
    errors: list = []

    def work(base: int) -> None:
        try:
            for i in range(3000):
                assert f(base, i) == base + i
        except AssertionError as error:  # reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(k * 10**6,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for _ in range(50):
        install_entry(f, [add_spec()])
    for thread in threads:
        thread.join()
    assert errors == [] and f.calls == []
    assert len(native_callable._entries(f)) == 52  # every entry's code is still alive


# -- reference counts and lifetime ----------------------------------------------------------


def refcounts(watched: list) -> array.array:
    """Kept as C integers: a list of counts would itself hold references to small ints."""
    return array.array("q", [sys.getrefcount(obj) for obj in watched])


def calls_leave_refcounts_unchanged(f, args, watched) -> None:
    before = refcounts(watched)
    for _ in range(5000):
        try:
            f(*args)
        except (OverflowError, ZeroDivisionError):
            pass
    assert refcounts(watched) == before


def test_refcounts_of_arguments_and_results_are_unchanged():
    f = adder()
    big, x = 10**12, 2.5
    f.calls = collections.deque(maxlen=0)  # the fallback keeps nothing
    calls_leave_refcounts_unchanged(f, (2, 3), [f, 2, 3, 5])
    calls_leave_refcounts_unchanged(f, (big, big), [f, big])
    calls_leave_refcounts_unchanged(f, (INT64_MAX, big), [f, INT64_MAX, big])
    calls_leave_refcounts_unchanged(f, (1 << 64, big), [f, 1 << 64, big])
    calls_leave_refcounts_unchanged(f, (x, big), [f, x, big])
    calls_leave_refcounts_unchanged(f, (x,), [f, x])


def test_an_instance_without_cycles_is_released_at_once_with_its_code(monkeypatch):
    arena = lone_chunk_arena(monkeypatch)
    f = adder()
    filler = arena.allocate(b"\xc3" * (arena.chunk_size - 16))  # the entries' chunk is full
    assert f(1, 2) == 3 and arena.chunks == 2
    died = []
    watch = weakref.ref(f, died.append)
    gc.disable()
    try:
        del f
        assert watch() is None and len(died) == 1
        assert arena.chunks == 1  # both entries' chunk went back to the system
    finally:
        gc.enable()
    filler.close()


def cycles() -> list:
    """Ways an instance refers back to itself."""

    def through_dict(f):
        f.me = f

    def through_globals(f):  # instance -> function -> globals -> instance
        namespace: dict = {}
        f.py_func = FunctionType((lambda: None).__code__, namespace)
        namespace["f"] = f

    def through_fallback(f):  # instance -> entry -> bound method -> instance
        install_entry(f, [add_spec()], fallback=f.shout)

    return [through_dict, through_globals, through_fallback]


@pytest.mark.parametrize("make_cycle", cycles(), ids=lambda c: c.__name__)
def test_an_instance_in_a_cycle_is_collected_with_its_code(monkeypatch, make_cycle):
    arena = lone_chunk_arena(monkeypatch)
    f = adder()
    make_cycle(f)
    filler = arena.allocate(b"\xc3" * (arena.chunk_size - 16))
    assert arena.chunks == 2
    died = []
    watch = weakref.ref(f, died.append)
    del f
    gc.collect()
    assert watch() is None and len(died) == 1
    assert arena.chunks == 1
    filler.close()


def test_the_entries_slot_is_hidden_from_python_code():
    f = adder()
    with pytest.raises(AttributeError):
        del f._entries
    assert "_entries" not in dir(f) and "_entries" not in vars(CallableBase)
    vars(f).clear()
    assert f(1, 2) == 3
    assert "__vectorcalloffset__" not in vars(JitAdder)


def test_nothing_leaks_over_many_instances(monkeypatch):
    arena = lone_chunk_arena(monkeypatch)
    filler = arena.allocate(b"\xc3" * (arena.chunk_size - 16))
    for _ in range(300):
        f = adder()
        f(1, 2)
        f(1.5, 2)
    del f
    gc.collect()
    assert arena.blocks == 1  # the filler: every entry's code was released
    assert arena.chunks == 2  # the filler's and the one the arena reuses for the next code
    filler.close()


# -- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, namespace, module, error, message",
    [
        ("two words", {"__call__": len}, "m", ValueError, "class name must be an identifier"),
        ("a.b", {"__call__": len}, "m", ValueError, "class name must be an identifier"),
        (7, {"__call__": len}, "m", TypeError, "class name must be a str, not int"),
        ("A", {"__call__": len}, "", ValueError, "module must be a non-empty str"),
        ("A", {"__call__": len}, "m\0", ValueError, "module must be a non-empty str"),
        ("A", [("__call__", len)], "m", TypeError, "namespace must be a dict, not list"),
        ("A", {}, "m", TypeError, "needs a __call__ in its namespace"),
        ("A", {"__call__": 3}, "m", TypeError, "needs a __call__ in its namespace"),
        ("A", {"__call__": len, "__slots__": ()}, "m", ValueError, "cannot define __slots__"),
        ("A", {"__call__": len, "__new__": len}, "m", ValueError, "cannot define __new__"),
    ],
)
def test_bad_class_definitions_are_rejected_with_what_is_wrong(
    name, namespace, module, error, message
):
    with pytest.raises(error, match=re.escape(message)):
        callable_type(name, namespace, module)


def test_install_entry_rejects_other_objects_and_bad_input_and_keeps_the_old_entry():
    for obj in (len, Adder("x"), CallableBase()):
        with pytest.raises(TypeError, match="is not an instance of a class made by callable_type"):
            install_entry(obj, [])
        with pytest.raises(TypeError, match="is not an instance of a class made by callable_type"):
            entry_of(obj)
    f = adder()
    with pytest.raises(TypeError, match="fallback must be callable, not int"):
        install_entry(f, [], fallback=3)
    with pytest.raises(TypeError, match="specialisations must be Specialisation objects"):
        install_entry(f, ["int64(int64)"])
    spec = add_spec()
    with pytest.raises(ValueError, match=r"two specialisations for arguments \(int64, int64\)"):
        install_entry(f, [spec, spec])
    assert f(1, 2) == 3 and len(native_callable._entries(f)) == 2


def test_the_entry_of_an_instance_is_a_vectorcall_entry():
    e = entry_of(adder())
    assert isinstance(e, Entry) and e.vectorcall and e.method is None
    assert e.fallback.__qualname__ == "Adder.__fallback__"
    assert [s.arg_kinds for s in e.specialisations] == [("int64", "int64")]
