"""Classes whose instances CPython calls straight into machine code (vectorcall).

A builtin function is cheap to call because CPython reaches its C code through
one pointer, with no argument tuple and no frame (*vectorcall*).  A Python
object that should look like a function (``f.asm()``, ``f.signatures``) loses
that: an instance of a Python class goes through ``type(f).__call__``.  This
module makes classes whose *instances* carry their own vectorcall pointer, so a
call costs what a builtin call costs while the object keeps its attributes and
methods.

How a class is made (``callable_type``), all through ``ctypes.pythonapi``:

* ``PyType_FromSpecWithBases`` creates a heap type whose base is
  :class:`CallableBase`, a plain Python class.  From it the new type inherits
  CPython's own ``subtype_traverse``, ``subtype_clear`` and ``subtype_dealloc``
  (so instances take part in garbage collection, cycles included), an instance
  ``__dict__`` and weak references, on every version from 3.10 (where the dict
  has an offset) to 3.12+ (where it is managed by the interpreter).
* The new type adds one word after the base's fields: the vectorcall pointer.
  ``Py_TPFLAGS_HAVE_VECTORCALL`` and a ``__vectorcalloffset__`` member tell
  CPython where it is; ``tp_call = PyVectorcall_Call`` serves calls that come
  with a tuple (``f(*args)`` from C code, ``type(f).__call__(f, ...)``).
* The namespace's attributes are then set on the type one by one, which
  updates its slots (``__init__``, ``__repr__``) as a class statement would.
  The namespace's ``__call__`` is *not* set as ``__call__`` (that would replace
  the vectorcall slot): it becomes ``__fallback__``, the Python code that runs
  every call the machine code does not take.

Each instance holds a list of :class:`~minijit.native.entry.Entry` objects (the
code and everything it points at) in a slot that CallableBase declares and
then hides: CPython still traverses, clears and releases it, but Python code
cannot delete it while the vectorcall pointer points into its code.
``install_entry`` writes a new entry, appends it, and repoints the instance's
vectorcall pointer; earlier entries stay alive with the instance, since a call
that began in their code may still be returning through it.  A new instance
starts with an entry without specialisations, so every call goes to
``__fallback__``.

The default fallback holds its instance through a weak reference, so an
instance is not in a reference cycle with its own code and is released as soon
as its last reference goes (a call always holds one while it runs).
"""

from __future__ import annotations

import ctypes
import weakref
from collections.abc import Callable, Sequence
from types import FunctionType

from minijit.native.entry import Entry, Specialisation

__all__ = ["CallableBase", "callable_class", "callable_type", "entry_of", "install_entry"]

# <object.h>, <typeslots.h>, <structmember.h>: the same values on 3.10 to 3.13
TPFLAGS_DEFAULT = 1 << 18  # Py_TPFLAGS_HAVE_VERSION_TAG
TPFLAGS_HAVE_VECTORCALL = 1 << 11
TP_CALL = 50
TP_MEMBERS = 72
T_PYSSIZET = 19
READONLY = 1

#: namespace entries that describe the class a namespace came from, not attributes
NOT_COPIED = frozenset({"__dict__", "__weakref__", "__module__", "__call__"})
#: namespace entries that cannot work in a callable class, and why
REFUSED = {
    "__slots__": "the instance layout is fixed (an instance dict and the call pointer)",
    "__new__": "instances are created by the class itself, which installs their first entry",
}


class _TypeSlot(ctypes.Structure):
    _fields_ = [("slot", ctypes.c_int), ("pfunc", ctypes.c_void_p)]


class _TypeSpec(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("basicsize", ctypes.c_int),
        ("itemsize", ctypes.c_int),
        ("flags", ctypes.c_uint),
        ("slots", ctypes.POINTER(_TypeSlot)),
    ]


class _MemberDef(ctypes.Structure):
    _fields_ = [
        ("name", ctypes.c_char_p),
        ("type", ctypes.c_int),
        ("offset", ctypes.c_ssize_t),
        ("flags", ctypes.c_int),
        ("doc", ctypes.c_char_p),
    ]


_from_spec = ctypes.pythonapi.PyType_FromSpecWithBases
_from_spec.argtypes = [ctypes.POINTER(_TypeSpec), ctypes.py_object]
_from_spec.restype = ctypes.py_object
_VECTORCALL_CALL = ctypes.cast(ctypes.pythonapi.PyVectorcall_Call, ctypes.c_void_p).value


class CallableBase:
    """The base of every callable class: instance dict, weak references, garbage collection,
    and one hidden slot holding the instance's entries."""

    __slots__ = ("__dict__", "__weakref__", "_entries")


#: get and set the hidden slot; the class no longer shows it, so ``del f._entries`` fails
_ENTRIES = CallableBase._entries
del CallableBase._entries
#: where each instance keeps its vectorcall pointer: right after CallableBase's fields
VECTORCALL_OFFSET: int = CallableBase.__basicsize__

#: every class made by callable_type
_TYPES: weakref.WeakSet[type] = weakref.WeakSet()
#: full names given to PyType_FromSpec; Python 3.10 keeps pointing at them (tp_name)
_NAMES: dict[str, bytes] = {}


def _new_type(qualified: str) -> type:
    """The bare heap type: CallableBase plus a vectorcall pointer, ``tp_call`` from CPython."""
    name = _NAMES.setdefault(qualified, qualified.encode())
    members = (_MemberDef * 2)(
        _MemberDef(b"__vectorcalloffset__", T_PYSSIZET, VECTORCALL_OFFSET, READONLY, None)
    )
    slots = (_TypeSlot * 3)(
        _TypeSlot(TP_CALL, _VECTORCALL_CALL), _TypeSlot(TP_MEMBERS, ctypes.addressof(members))
    )
    spec = _TypeSpec(
        name, VECTORCALL_OFFSET + 8, 0, TPFLAGS_DEFAULT | TPFLAGS_HAVE_VECTORCALL, slots
    )
    cls = _from_spec(ctypes.byref(spec), (CallableBase,))  # copies members and slots
    del cls.__vectorcalloffset__  # it would read the call pointer as an int
    return cls


def _new(cls: type, *args: object, **kwargs: object) -> object:
    """``__new__`` of every callable class: an instance whose calls all go to the fallback."""
    obj = CallableBase.__new__(cls)
    install_entry(obj, ())
    return obj


def _functions(value: object) -> list:
    """The plain functions behind a class attribute (methods, static/class methods,
    properties)."""
    parts = [value, getattr(value, "__func__", None)]
    parts += [getattr(value, name, None) for name in ("fget", "fset", "fdel")]
    return [part for part in parts if isinstance(part, FunctionType)]


def _rebind_class_cell(old: type, new: type) -> None:
    """Point zero-argument ``super()`` in ``old``'s methods (their ``__class__`` cell)
    at ``new``."""
    for value in vars(old).values():
        for function in _functions(value):
            if "__class__" in function.__code__.co_freevars:
                cell = function.__closure__[function.__code__.co_freevars.index("__class__")]
                if cell.cell_contents is old:
                    cell.cell_contents = new


def callable_type(name: str, namespace: dict, module: str) -> type:
    """A class named ``name`` with the attributes in ``namespace``, whose instances are
    called through their own machine-code entry (see ``install_entry``).

    ``namespace`` is a class body's namespace (``dict(vars(SomeClass))`` will do):
    methods, properties, ``__init__``, ``__repr__``...  Its ``__call__`` is required:
    it becomes ``__fallback__``, which runs every call the machine code does not take.
    """
    if not isinstance(name, str):
        raise TypeError(f"class name must be a str, not {type(name).__name__}")
    if not name.isidentifier():
        raise ValueError(f"class name must be an identifier, not {name!r}")
    if not isinstance(module, str) or not module or "\0" in module:
        raise ValueError(f"module must be a non-empty str without NUL characters, not {module!r}")
    if not isinstance(namespace, dict):
        raise TypeError(f"namespace must be a dict, not {type(namespace).__name__}")
    for key, why in REFUSED.items():
        if key in namespace:
            raise ValueError(f"a callable class cannot define {key}: {why}")
    if not callable(namespace.get("__call__")):
        raise TypeError(
            "a callable class needs a __call__ in its namespace: it runs every call "
            "that compiled code does not take"
        )
    cls = _new_type(f"{module}.{name}")
    for key, value in namespace.items():
        if key not in NOT_COPIED:
            setattr(cls, key, value)
            set_name = getattr(type(value), "__set_name__", None)
            if set_name is not None:
                set_name(value, cls, key)
    cls.__fallback__ = namespace["__call__"]
    cls.__new__ = staticmethod(_new)
    _TYPES.add(cls)
    return cls


def callable_class(cls: type) -> type:
    """Class decorator: the same class, made by ``callable_type`` from its namespace.

    Zero-argument ``super()`` in its methods refers to the new class from then on.
    """
    new = callable_type(cls.__name__, dict(vars(cls)), cls.__module__)
    _rebind_class_cell(cls, new)
    return new


def _entries(obj: object) -> list[Entry]:
    if type(obj) not in _TYPES:
        raise TypeError(
            f"{type(obj).__name__} object is not an instance of a class made by callable_type"
        )
    try:
        return _ENTRIES.__get__(obj, type(obj))
    except AttributeError:  # made by object.__new__, not by the class: no entry yet
        entries: list[Entry] = []
        _ENTRIES.__set__(obj, entries)
        return entries


def _weak_fallback(obj: object) -> Callable:
    """``type(obj).__fallback__`` bound to ``obj`` through a weak reference."""
    ref = weakref.ref(obj)
    method = type(obj).__fallback__

    def fallback(*args: object, **kwargs: object) -> object:
        return method(ref(), *args, **kwargs)

    fallback.__qualname__ = f"{type(obj).__qualname__}.__fallback__"
    return fallback


def install_entry(
    obj: object, specialisations: Sequence[Specialisation], fallback: Callable | None = None
) -> None:
    """Generate an entry for ``specialisations`` and make ``obj``'s calls run it from now on.

    Calls the entry does not take go to ``fallback``, by default the class's
    ``__fallback__`` (its namespace's ``__call__``) bound to ``obj``.  The entry's
    name in error messages is the instance's ``__name__`` when it has one, else the
    class name.
    Code of earlier entries stays alive with ``obj``.
    """
    entries = _entries(obj)
    if fallback is None:
        fallback = _weak_fallback(obj)
    elif not callable(fallback):
        raise TypeError(f"fallback must be callable, not {type(fallback).__name__}")
    name = vars(obj).get("__name__")
    if not isinstance(name, str) or not name or "\0" in name:
        name = type(obj).__name__
    entry = Entry(name, fallback, None, vectorcall=True)
    address = entry.install(specialisations)
    entries.append(entry)
    ctypes.c_void_p.from_address(id(obj) + VECTORCALL_OFFSET).value = address


def entry_of(obj: object) -> Entry:
    """The entry ``obj``'s calls run now: ``specialisations``, ``code``, ``listing()``..."""
    return _entries(obj)[-1]
