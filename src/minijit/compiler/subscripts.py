"""Front end for arrays: ``a[i]``, ``a[i, j]``, stores, ``len(a)``, ``a.shape[k]``, ``a.size``.

Grammar accepted (the front end hands these nodes here)::

    load   := ARRAY[int] | ARRAY[int, int]          (as many indices as dimensions)
    store  := ARRAY[...] = expr | ARRAY[...] op= expr
    length := len(ARRAY) | ARRAY.shape[CONST] | ARRAY.size   (the last two: NumPy arrays)

Each index is made Python's by ``AINDEX`` (negative counts from the end,
IndexError outside); a 2-D element sits at ``i * shape[1] + j``, which cannot
overflow once both are in range.  Evaluation order is CPython's: a store
evaluates its value first, then the array and indices; ``a[i] op= v`` loads
``a[i]`` (raising IndexError there) before evaluating ``v``.

A stored value is converted as NumPy converts a Python value in ``a[i] = v``:
an int into a float array exactly as ``float(v)``, a float into an int array
truncated as ``int(v)`` (NaN ValueError, infinity and too large OverflowError),
anything into a bool array by its truth, and an int outside a narrow type
(uint8, int32) raises the error its object raises.  Other exporters
(``array.array``, ``memoryview``) convert less, so there a store needs the
element's own type (an int may go into an ``array.array`` of floats).  Storing
into a float32 array is a CompileError: NumPy's float64 to float32 cast warns
and stores inf for values out of range, which compiled code cannot reproduce.
"""

from __future__ import annotations

import ast

from minijit.compiler.arrays import (
    ARRAY, BUFFER, DESC_SHAPE, DESC_SIZE, NDARRAY, RANGE_STATUS, READONLY_STATUS, array_parts,
    is_array,
)
from minijit.compiler.ir import BOOL, FLOAT, INT, TYPE_NAMES, VOID, Op

TYPE_CHECKING = False  # typing takes milliseconds to import; type checkers read True
if TYPE_CHECKING:
    from minijit.compiler.frontend import FrontEnd

__all__ = ["load", "store", "aug_store", "length", "attribute", "is_shape"]


def _array(fe: FrontEnd, node: ast.expr, what: str = "indexing") -> int:
    ref = fe.expr(node, allow_array=True)
    if not is_array(fe.f.type_of(ref)):
        raise fe.error(node, f"{what} is supported on arrays only, not on "
                       f"{TYPE_NAMES[fe.f.type_of(ref)]}")
    return ref


def _element(fe: FrontEnd, node: ast.Subscript, store: bool = False) -> tuple[int, int, int]:
    """(array, data address, flat element index) of ``a[i]`` or ``a[i, j]``.  The indices
    are evaluated first, then (for a store into a readonly array) the readonly error,
    then the bounds: the order in which CPython and NumPy raise."""
    array = _array(fe, node.value)
    _, ndim, kind, readonly = array_parts(fe.f.type_of(array))
    parts = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    if len(parts) != ndim:
        raise fe.error(node, f"this array has {ndim} dimension{'s' if ndim > 1 else ''}: "
                       f"index it with {ndim} int{'s' if ndim > 1 else ''}, not {len(parts)}")
    refs = []
    for part in parts:
        if isinstance(part, ast.Slice):
            raise fe.error(part, "slices are not supported; index with ints")
        refs.append(fe.expr(part))
        if fe.f.type_of(refs[-1]) != INT:
            raise fe.error(part, "array indices must be int, not "
                           f"{TYPE_NAMES[fe.f.type_of(refs[-1])]}")
    if store and readonly:
        _readonly(fe, kind)
    flat = None
    for axis, ref in enumerate(refs):
        size = fe.emit(Op.ALEN, INT, (array,), DESC_SHAPE + 8 * axis)
        index = fe.emit(Op.AINDEX, INT, (ref, size))
        flat = index if flat is None else fe.emit(
            Op.WADD, INT, (fe.emit(Op.WMUL, INT, (flat, size)), index))
    return array, fe.emit(Op.ADATA, INT, (array,)), flat


def load(fe: FrontEnd, node: ast.Subscript) -> int:
    array, data, index = _element(fe, node)
    dtype = array_parts(fe.f.type_of(array))[0]
    return fe.emit(Op.ALOAD, dtype.type, (data, index), dtype.name)


def _converted(fe: FrontEnd, node: ast.AST, array_type: int, value: int) -> int:
    """``value`` as the element type stores it, with NumPy's range errors."""
    dtype, _, kind, _ = array_parts(array_type)
    t = fe.f.type_of(value)
    if dtype.name == "float32":
        raise fe.error(node, "storing into a float32 array is not supported: NumPy's "
                       "cast to float32 warns and stores inf for values out of range")
    if kind != NDARRAY and t != dtype.type and (t, dtype.type, kind) not in _ALSO_STORED:
        raise fe.error(node, f"a {TYPE_NAMES[t]} cannot be stored into this {KIND_NAMES[kind]} "
                       f"of {dtype.name} items; convert it to {TYPE_NAMES[dtype.type]} first")
    if dtype.type == BOOL:
        return fe.truth(value)
    if dtype.type == FLOAT:
        return fe.to_float(fe.to_int(value))
    value = fe.emit(Op.F2I, INT, (value,)) if t == FLOAT else fe.to_int(value)
    if dtype.lo is not None:
        shifted = fe.emit(Op.WSUB, INT, (value, fe.f.const(INT, dtype.lo)))
        outside = fe.emit(Op.ICMP, BOOL, (shifted, fe.f.const(INT, dtype.hi - dtype.lo)),
                          "ugt")
        fe.emit(Op.CHECK, VOID, (outside,), RANGE_STATUS[kind, dtype.name])
    return value


KIND_NAMES = {NDARRAY: "NumPy array", ARRAY: "array.array", BUFFER: "buffer"}
#: (value type, element type, kind) a non-NumPy exporter converts besides its own type
_ALSO_STORED = {(BOOL, INT, ARRAY), (BOOL, INT, BUFFER), (INT, FLOAT, ARRAY),
                (BOOL, FLOAT, ARRAY)}


def _readonly(fe: FrontEnd, kind: int) -> None:
    """What the object raises for a store, when the store runs."""
    fe.emit(Op.CHECK, VOID, (fe.f.const(BOOL, True),), READONLY_STATUS[kind])


def _write(fe: FrontEnd, node: ast.AST, array: int, data: int, index: int,
           value: int) -> None:
    array_type = fe.f.type_of(array)
    dtype = array_parts(array_type)[0]
    value = _converted(fe, node, array_type, value)
    fe.emit(Op.ASTORE, VOID, (data, index, value), dtype.name)


def store(fe: FrontEnd, target: ast.Subscript, value: int) -> None:
    """``target = value``: the value was evaluated first, as CPython does."""
    array, data, index = _element(fe, target, store=True)
    _write(fe, target, array, data, index, value)


def aug_store(fe: FrontEnd, node: ast.AugAssign) -> None:
    """``a[i] op= v``: the element is read (and the index checked) before ``v`` runs."""
    array, data, index = _element(fe, node.target)
    dtype, _, kind, readonly = array_parts(fe.f.type_of(array))
    old = fe.emit(Op.ALOAD, dtype.type, (data, index), dtype.name)
    new = fe.binop(node, node.op, old, fe.expr(node.value))
    if readonly:
        _readonly(fe, kind)
    _write(fe, node, array, data, index, new)


def length(fe: FrontEnd, node: ast.Call) -> int:
    """``len(a)``: the length of axis 0."""
    if len(node.args) != 1:
        raise fe.error(node, f"len() takes exactly one argument ({len(node.args)} given)")
    array = _array(fe, node.args[0], "len()")
    return fe.emit(Op.ALEN, INT, (array,), DESC_SHAPE)


def is_shape(fe: FrontEnd, node: ast.Subscript) -> bool:
    return isinstance(node.value, ast.Attribute) and node.value.attr == "shape"


def _numpy(fe: FrontEnd, node: ast.Attribute) -> int:
    array = _array(fe, node.value, f"'.{node.attr}'")
    if array_parts(fe.f.type_of(array))[2] != NDARRAY:
        raise fe.error(node, f"'.{node.attr}' is supported on NumPy arrays only; use len()")
    return array


def shape(fe: FrontEnd, node: ast.Subscript) -> int:
    """``a.shape[k]`` with a constant k."""
    array = _numpy(fe, node.value)
    ndim = array_parts(fe.f.type_of(array))[1]
    k = node.slice
    try:
        axis = ast.literal_eval(k)
    except ValueError:
        axis = None
    if type(axis) is int and -ndim <= axis < ndim:
        return fe.emit(Op.ALEN, INT, (array,), DESC_SHAPE + 8 * (axis % ndim))
    raise fe.error(k, f"a.shape[k] needs a constant k in range for {ndim} dimension"
                   f"{'s' if ndim > 1 else ''}")


def attribute(fe: FrontEnd, node: ast.Attribute) -> int:
    """``a.size``: the item count."""
    array = _numpy(fe, node)
    if node.attr != "size":
        raise fe.error(node, f"array attribute '.{node.attr}' is not supported; "
                       "use a.shape[k], a.size or len(a)")
    return fe.emit(Op.ALEN, INT, (array,), DESC_SIZE)
