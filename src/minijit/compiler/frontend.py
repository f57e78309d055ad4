"""Front end: a Python function's ``ast`` to typed SSA IR, for one argument-type signature.

SSA is built on the fly while walking the tree (Braun et al., "Simple and
Efficient Construction of SSA Form"): each block maps variable names to their
current value; reading a name a block does not define asks its predecessors,
placing a phi where several join.  A loop header stays *unsealed* while its
body is compiled (its back edges are not known yet): reads there create phis
with operands from the known predecessors and are completed when the header is
sealed.  Types are inferred in the same walk; a phi whose operands disagree is
a CompileError, since promoting would change what CPython returns.

Grammar accepted (everything else raises CompileError at the construct)::

    stmt := NAME [, NAME]* = expr [, expr]* | NAME op= expr | NAME: ann = expr
          | if expr: ... [elif/else] | while expr: ... | for NAME in range(...): ...
          | ARRAY[index] = expr | ARRAY[index] op= expr      (subscripts.py)
          | break | continue | pass | return [expr] | call-expression
    expr := literal | NAME | ARRAY[index] | expr binop expr | unop expr | compare chain
          | expr and/or expr | expr if expr else expr | call
    call := abs|min|max|int|float|bool|round|len(...) | math.NAME(...) | jitted(...)

Loops are rotated (the condition is tested before the first iteration and at
the latch), so each iteration runs one compare-and-branch.
"""

from __future__ import annotations

import ast
import builtins
import math
from collections import ChainMap
from collections.abc import Callable, Mapping

from minijit.compiler import subscripts
from minijit.compiler.arrays import is_array
from minijit.compiler.errors import CompileError, SourceInfo
from minijit.compiler.intrinsics import BUILTINS, MATH_CONSTS, MATH_FUNCS, math_call
from minijit.compiler.ir import BOOL, FLOAT, INT, RANGE_STEP, TYPE_NAMES, VOID, Function, Op
from minijit.compiler.source import parse_function

__all__ = ["CallTarget", "build"]

INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

# (int op, float op) per arithmetic operator; int / int is its own op
_ARITH = {
    ast.Add: (Op.IADD, Op.FADD), ast.Sub: (Op.ISUB, Op.FSUB), ast.Mult: (Op.IMUL, Op.FMUL),
    ast.FloorDiv: (Op.IFLOORDIV, Op.FFLOORDIV), ast.Mod: (Op.IMOD, Op.FMOD),
    ast.Pow: (Op.IPOW, Op.FPOW), ast.Div: (Op.ITRUEDIV, Op.FDIV),
}
_BITS = {ast.BitAnd: Op.IAND, ast.BitOr: Op.IOR, ast.BitXor: Op.IXOR,
         ast.LShift: Op.ISHL, ast.RShift: Op.ISHR}
_BOOL_BITS = (ast.BitAnd, ast.BitOr, ast.BitXor)
_SYMBOL = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**",
    ast.Div: "/", ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
    ast.RShift: ">>", ast.MatMult: "@",
}
_CMP = {ast.Eq: "eq", ast.NotEq: "ne", ast.Lt: "lt", ast.LtE: "le", ast.Gt: "gt", ast.GtE: "ge"}
MIRROR = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
_TYPE_OF_VALUE = {bool: BOOL, int: INT, float: FLOAT}
ANNOTATION_TYPES = {"int": INT, "float": FLOAT, "bool": BOOL, "None": VOID}

_MATH_BY_ID = {id(getattr(math, n)): n for n in MATH_FUNCS}
_BUILTIN_NAMES = ("abs", "min", "max", "int", "float", "bool", "round", "range", "len")
_BUILTIN_BY_ID = {id(getattr(builtins, n)): n for n in _BUILTIN_NAMES}


class CallTarget:
    """A callee another layer resolved: its name, return type (None while unknown), and
    what code generation needs to reach it (``key`` equal to the caller's own key for
    a self call, else ``cell``: the address of a word holding the callee's entry)."""

    __slots__ = ("name", "key", "cell", "pending")

    def __init__(self, name: str, key: object, cell: int, pending: object) -> None:
        self.name, self.key, self.cell, self.pending = name, key, cell, pending

    @property
    def ret_type(self) -> int | None:
        return self.pending.ret_type


class _Undefined(Exception):
    pass


def _facts(fdef: ast.FunctionDef) -> tuple[frozenset[str], int, int]:
    """(names it assigns, its size in nodes, how many times it calls itself by name),
    walked once per tree (the trees are cached per file, so these are too)."""
    facts = getattr(fdef, "_minijit_facts", None)
    if facts is None:
        names, count, self_calls = set(), 0, 0
        for node in ast.walk(fdef):
            count += 1
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.add(node.id)
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                  and node.func.id == fdef.name):
                self_calls += 1
        count -= sum(1 for d in fdef.decorator_list for _ in ast.walk(d))  # not compiled
        facts = fdef._minijit_facts = (frozenset(names), count, self_calls)
    return facts


def _assigned_names(fdef: ast.FunctionDef) -> frozenset[str]:
    return _facts(fdef)[0]


class FrontEnd:
    def __init__(self, pyfunc, fdef: ast.FunctionDef, source: SourceInfo, arg_types, pending,
                 resolve) -> None:
        self.pyfunc = pyfunc
        self.fdef = fdef
        self.source = source
        self.pending = pending
        self.resolve = resolve
        params = [a.arg for a in fdef.args.args]
        self.f = Function(pyfunc.__name__, params, list(arg_types))
        self.locals = _assigned_names(fdef) | set(params)
        self.globals = _namespace(pyfunc)
        self.defs: list[dict[str, int]] = []
        self.sealed: list[bool] = []
        self.incomplete: list[dict[str, int]] = []
        self.loops: list[tuple[int, int]] = []  # (continue target, break target)
        self.depth = 0
        self.prefix = ""  # variable-name prefix of the inlined frame being compiled
        self.inline: tuple | None = None  # (exit block, result variable, return types)
        self.inline_stack: list = []
        self.inlined = 0
        self.line = fdef.lineno
        self.temp = 0
        self.cur: int | None = self.new_block()
        for i, (name, type_) in enumerate(zip(params, arg_types)):
            self.write(name, self.emit(Op.PARAM, type_, (), i))

    # -- errors and blocks -------------------------------------------------------------------
    def error(self, node: ast.AST, message: str) -> CompileError:
        return CompileError.at(node, self.source, message)

    def new_block(self, sealed: bool = True) -> int:
        b = self.f.new_block(self.depth)
        self.defs.append({})
        self.sealed.append(sealed)
        self.incomplete.append({})
        return b

    def emit(self, op: Op, type_: int, args: tuple, aux: object = None) -> int:
        return self.f.emit(self.cur, op, type_, args, aux, self.line)

    def jump(self, target: int) -> None:
        self.emit(Op.JMP, VOID, (), target)
        self.f.blocks[target].preds.append(self.cur)
        self.cur = None

    def branch(self, cond: int, then: int, else_: int) -> None:
        if cond < 0:  # a constant condition: no branch at all
            self.jump(then if self.f.const_value(cond) else else_)
            return
        self.emit(Op.BR, VOID, (cond,), (then, else_))
        self.f.blocks[then].preds.append(self.cur)
        self.f.blocks[else_].preds.append(self.cur)
        self.cur = None

    # -- SSA variables -----------------------------------------------------------------------
    def write(self, name: str, value: int, block: int | None = None) -> None:
        self.defs[self.cur if block is None else block][name] = value

    def read(self, name: str, node: ast.AST) -> int:
        try:
            return self._read(name, self.cur)
        except _Undefined:
            raise self.error(node, f"local variable '{_plain(name)}' may be used before it is "
                             "assigned on some path") from None

    def _read(self, name: str, block: int) -> int:
        value = self.defs[block].get(name)
        if value is not None:
            return value
        preds = self.f.blocks[block].preds
        if not self.sealed[block]:
            value = self._new_phi(block, self.f.type_of(self._read(name, preds[0])))
            self.incomplete[block][name] = value
            self.defs[block][name] = value
            self._fill_phi(name, value, block)
        elif not preds:
            raise _Undefined
        elif len(preds) == 1:
            value = self._read(name, preds[0])
        else:
            value = self._new_phi(block, self.f.type_of(self._read(name, preds[0])))
            self.defs[block][name] = value
            self._fill_phi(name, value, block)
        self.defs[block][name] = value
        return value

    def _new_phi(self, block: int, type_: int) -> int:
        f = self.f
        ref = len(f.ins)
        f.emit(block, Op.PHI, type_, (), None, self.line)
        b = f.blocks[block]
        b.ins.pop()
        nphi = 0
        while nphi < len(b.ins) and f.ins[b.ins[nphi]].op == Op.PHI:
            nphi += 1
        b.ins.insert(nphi, ref)
        return ref

    def _fill_phi(self, name: str, phi: int, block: int) -> None:
        ins = self.f.ins[phi]
        args = list(ins.args)
        for pred in self.f.blocks[block].preds[len(args):]:
            value = self._read(name, pred)
            if self.f.type_of(value) != ins.type:
                raise _TypeConflict(name, ins.type, self.f.type_of(value))
            args.append(value)
        ins.args = tuple(args)

    def seal(self, block: int, node: ast.AST) -> None:
        try:
            for name, phi in self.incomplete[block].items():
                self._fill_phi(name, phi, block)
        except _TypeConflict as conflict:
            raise self.error(node, conflict.message()) from None
        self.incomplete[block] = {}
        self.sealed[block] = True

    def read_checked(self, name: str, node: ast.AST) -> int:
        """The current value of the user's variable ``name`` (in the current frame)."""
        try:
            return self.read(self.prefix + name, node)
        except _TypeConflict as conflict:
            raise self.error(node, conflict.message()) from None

    def fresh(self) -> str:
        self.temp += 1
        return f"${self.temp}"

    # -- conversions -------------------------------------------------------------------------
    def to_float(self, ref: int) -> int:
        t = self.f.type_of(ref)
        return ref if t == FLOAT else self.emit(Op.I2F, FLOAT, (ref,))

    def to_int(self, ref: int) -> int:
        return self.emit(Op.B2I, INT, (ref,)) if self.f.type_of(ref) == BOOL else ref

    def truth(self, ref: int) -> int:
        t = self.f.type_of(ref)
        if t == BOOL:
            return ref
        if t == INT:
            return self.emit(Op.ICMP, BOOL, (ref, self.f.const(INT, 0)), "ne")
        return self.emit(Op.FCMP, BOOL, (ref, self.f.const(FLOAT, 0.0)), "ne")

    def value_type(self, ref: int, node: ast.AST) -> int:
        t = self.f.type_of(ref)
        if t == VOID:
            raise self.error(node, "this call returns None, which compiled code cannot use "
                             "as a value")
        return t

    # -- statements --------------------------------------------------------------------------
    def reachable(self) -> bool:
        """Whether code placed now can run: False after return, break or continue, and
        in a block that only a constant condition would have led to.  CPython never
        runs such code, so it is not compiled."""
        if self.cur is not None and self.cur != 0 and not self.f.blocks[self.cur].preds:
            self.cur = None
        return self.cur is not None

    def body(self, stmts: list[ast.stmt]) -> None:
        for stmt in stmts:
            if not self.reachable():
                return
            if not self.inline_stack:  # inlined code keeps its call site's line
                self.line = stmt.lineno
            handler = getattr(self, "stmt_" + type(stmt).__name__, None)
            if handler is None:
                raise self.error(stmt, f"{_describe(stmt)} is not supported in @jit functions")
            handler(stmt)

    def stmt_Pass(self, node: ast.Pass) -> None:
        pass

    def stmt_Expr(self, node: ast.Expr) -> None:
        if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            return  # a docstring or a comment-like string
        self.expr(node.value, allow_void=True)  # evaluated for its effects and errors

    def assign_to(self, target: ast.expr, value: int) -> None:
        if isinstance(target, ast.Subscript):
            subscripts.store(self, target, value)
            return
        if not isinstance(target, ast.Name):
            raise self.error(target, f"assignment to {_describe(target)} is not supported; "
                             "assign to a local variable name")
        self.write(self.prefix + target.id, value)

    def stmt_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Tuple):
            values = [self.expr(e, allow_array=True) for e in node.value.elts]
            for target in node.targets:
                if not isinstance(target, ast.Tuple) or len(target.elts) != len(values):
                    raise self.error(target, "a tuple can only be unpacked into as many "
                                     "names as it has elements")
                for t, v in zip(target.elts, values):
                    self.assign_to(t, v)
            return
        value = self.expr(node.value, allow_array=True)
        for target in node.targets:
            self.assign_to(target, value)

    def stmt_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            return
        self.assign_to(node.target, self.expr(node.value, allow_array=True))

    def stmt_AugAssign(self, node: ast.AugAssign) -> None:
        if isinstance(node.target, ast.Subscript):
            subscripts.aug_store(self, node)
            return
        if not isinstance(node.target, ast.Name):
            raise self.error(node.target, f"augmented assignment to {_describe(node.target)} "
                             "is not supported")
        left = self.read_checked(node.target.id, node.target)
        self.write(self.prefix + node.target.id,
                   self.binop(node, node.op, left, self.expr(node.value)))

    def stmt_Return(self, node: ast.Return) -> None:
        self.return_value(
            node, None if node.value is None else self.expr(node.value, allow_void=True))

    def return_value(self, node: ast.AST, value: int | None) -> None:
        """Return ``value`` (None: return None) from the function or the inlined frame."""
        t = VOID if value is None else self.f.type_of(value)
        pending = self.pending if self.inline is None else self.inline[2]
        want = pending.ret_type
        if want is None:
            pending.ret_type = want = t
        if t != want:
            where = "the signature declares" if pending.declared else "another return gives"
            raise self.error(node, f"this return gives {TYPE_NAMES[t]} but {where} "
                             f"{TYPE_NAMES[want]}; all returns must have one type")
        if self.inline is not None:  # an inlined return: to the call site's join
            exit_, result, _ = self.inline
            if t != VOID:
                self.write(result, value)
            self.jump(exit_)
            return
        self.emit(Op.RET, VOID, () if value is None or t == VOID else (value,))
        self.cur = None

    def stmt_If(self, node: ast.If) -> None:
        then, join = self.new_block(), self.new_block(sealed=False)
        else_ = self.new_block() if node.orelse else join
        self.cond(node.test, then, else_)
        for block, stmts in ((then, node.body), (else_, node.orelse)):
            if not stmts:
                continue
            self.cur = block
            self.body(stmts)
            if self.cur is not None:
                self.jump(join)
        self.seal(join, node)
        self.cur = join if self.f.blocks[join].preds else None

    def _loop(self, node: ast.stmt, enter, latch_exit, bind=None) -> None:
        """A rotated loop: ``enter(header, exit)`` tests before the first iteration,
        ``bind()`` runs at the top of the body, ``latch_exit(header, exit)`` at the end."""
        if node.orelse:
            raise self.error(node.orelse[0], "an else clause on a loop is not supported")
        pre = self.new_block()
        self.depth += 1
        header, latch = self.new_block(sealed=False), self.new_block(sealed=False)
        self.depth -= 1
        exit_ = self.new_block(sealed=False)
        enter(pre, exit_)
        if not self.f.blocks[pre].preds:  # the loop never runs
            self.seal(exit_, node)
            self.cur = exit_ if self.f.blocks[exit_].preds else None
            return
        self.cur = pre
        self.jump(header)
        first = len(self.f.blocks)
        self.cur = header
        self.depth += 1
        if bind is not None:
            bind()
        self.loops.append((latch, exit_))
        self.body(node.body)
        self.loops.pop()
        if self.cur is not None:
            self.jump(latch)
        self.seal(latch, node)
        if self.f.blocks[latch].preds:
            self.cur = latch
            latch_exit(header, exit_)
        self.depth -= 1
        self.f.loops.append((header, pre, range(first, len(self.f.blocks)), latch))
        self.seal(header, node)
        self.seal(exit_, node)
        self.cur = exit_ if self.f.blocks[exit_].preds else None

    def stmt_While(self, node: ast.While) -> None:
        def test(header: int, exit_: int) -> None:
            self.line = node.lineno
            self.cond(node.test, header, exit_)

        self._loop(node, test, test)

    def stmt_For(self, node: ast.For) -> None:
        call = node.iter
        if not (isinstance(call, ast.Call) and self.builtin_name(call.func) == "range"):
            raise self.error(node.iter, "a for loop must iterate over range(...)")
        if not isinstance(node.target, ast.Name):
            raise self.error(node.target, "a for loop target must be a variable name")
        if call.keywords or not 1 <= len(call.args) <= 3:
            raise self.error(call, "range() takes 1 to 3 positional int arguments")
        args = []
        for a in call.args:
            ref = self.expr(a)
            if self.f.type_of(ref) == FLOAT:
                raise self.error(a, "range() arguments must be int, not float")
            args.append(self.to_int(ref))
        f = self.f
        start, stop, step = (
            (f.const(INT, 0), args[0], f.const(INT, 1)) if len(args) == 1
            else (args[0], args[1], args[2] if len(args) == 3 else f.const(INT, 1))
        )
        ivar = self.fresh()
        step_value = f.const_value(step) if step < 0 else None
        if step_value in (1, -1):
            cmp = "lt" if step_value == 1 else "gt"

            def enter(header: int, exit_: int) -> None:
                self.write(ivar, start)
                self.branch(self.emit(Op.ICMP, BOOL, (start, stop), cmp), header, exit_)

            def latch_exit(header: int, exit_: int) -> None:
                nxt = self.emit(Op.WADD, INT, (self.read(ivar, node), step))
                self.write(ivar, nxt)
                self.branch(self.emit(Op.ICMP, BOOL, (nxt, stop), cmp), header, exit_)
        else:
            count = self.fresh()

            def enter(header: int, exit_: int) -> None:
                self.write(ivar, start)
                nonempty, trips = self.trip_count(start, stop, step)
                self.write(count, trips)
                self.branch(nonempty, header, exit_)

            def latch_exit(header: int, exit_: int) -> None:
                self.write(ivar, self.emit(Op.WADD, INT, (self.read(ivar, node), step)))
                left = self.emit(Op.WSUB, INT, (self.read(count, node), f.const(INT, 1)))
                self.write(count, left)
                self.branch(self.emit(Op.ICMP, BOOL, (left, f.const(INT, 0)), "ne"),
                            header, exit_)

        def bind() -> None:
            value = self.read(ivar, node)
            if step_value in (1, -1):
                f.induction[value] = (start, step_value, stop)
            self.write(self.prefix + node.target.id, value)

        self._loop(node, enter, latch_exit, bind)

    def trip_count(self, start: int, stop: int, step: int) -> tuple[int, int]:
        """(loop runs at all, iteration count) of range(start, stop, step), computed
        without overflow: distances and counts are unsigned 64-bit."""
        f, e = self.f, self.emit
        zero, one = f.const(INT, 0), f.const(INT, 1)
        self.emit(Op.CHECK, VOID, (e(Op.ICMP, BOOL, (step, zero), "eq"),), RANGE_STEP)
        up = e(Op.ICMP, BOOL, (step, zero), "gt")
        dist = e(Op.SELECT, INT, (up, e(Op.WSUB, INT, (stop, start)),
                                  e(Op.WSUB, INT, (start, stop))))
        size = e(Op.SELECT, INT, (up, step, e(Op.WSUB, INT, (zero, step))))
        nonempty = e(Op.SELECT, BOOL, (up, e(Op.ICMP, BOOL, (start, stop), "lt"),
                                       e(Op.ICMP, BOOL, (start, stop), "gt")))
        trips = e(Op.WADD, INT, (e(Op.UDIV, INT, (e(Op.WSUB, INT, (dist, one)), size)), one))
        return nonempty, trips

    def stmt_Break(self, node: ast.Break) -> None:
        self.jump(self.loops[-1][1])

    def stmt_Continue(self, node: ast.Continue) -> None:
        self.jump(self.loops[-1][0])

    # -- conditions: branch on truth, short-circuiting, without materialising bools -----------
    def cond(self, node: ast.expr, then: int, else_: int) -> None:
        if isinstance(node, ast.BoolOp):
            last = len(node.values) - 1
            for i, value in enumerate(node.values):
                if i == last:
                    self.cond(value, then, else_)
                    return
                mid = self.new_block()
                if isinstance(node.op, ast.And):
                    self.cond(value, mid, else_)
                else:
                    self.cond(value, then, mid)
                self.cur = mid
                if not self.reachable():  # a constant operand decided it
                    return
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            self.cond(node.operand, else_, then)
        elif isinstance(node, ast.Compare):
            left = self.expr(node.left)
            for i, (op, right_node) in enumerate(zip(node.ops, node.comparators)):
                right = self.expr(right_node)
                c = self.compare(node, op, left, right)
                if i == len(node.ops) - 1:
                    self.branch(c, then, else_)
                    return
                mid = self.new_block()
                self.branch(c, mid, else_)
                self.cur = mid
                left = right
        else:
            ref = self.expr(node)
            self.value_type(ref, node)
            self.branch(self.truth(ref), then, else_)

    # -- expressions -------------------------------------------------------------------------
    def expr(self, node: ast.expr, allow_void: bool = False, allow_array: bool = False) -> int:
        handler = getattr(self, "expr_" + type(node).__name__, None)
        if handler is None:
            raise self.error(node, f"{_describe(node)} is not supported in @jit functions; "
                             "they compute with int, float and bool scalars")
        ref = handler(node)
        if not allow_void:
            self.value_type(ref, node)
        if not allow_array and is_array(self.f.type_of(ref)):
            raise self.error(node, "an array can only be indexed, passed to len() or to a "
                             "@jit function, or assigned to a name")
        return ref

    def expr_Subscript(self, node: ast.Subscript) -> int:
        if subscripts.is_shape(self, node):
            return subscripts.shape(self, node)
        return subscripts.load(self, node)

    def constant(self, node: ast.AST, value: object) -> int:
        t = _TYPE_OF_VALUE.get(type(value))
        if t is None:
            raise self.error(node, f"a constant of type {type(value).__name__} is not "
                             "supported; only int, float and bool")
        if t == INT and not INT64_MIN <= value <= INT64_MAX:
            raise self.error(node, f"the int constant {value} does not fit in 64 bits")
        return self.f.const(t, value)

    def expr_Constant(self, node: ast.Constant) -> int:
        return self.constant(node, node.value)

    def lookup_global(self, node: ast.Name) -> object:
        if node.id in self.globals:
            return self.globals[node.id]
        if hasattr(builtins, node.id):
            return getattr(builtins, node.id)
        raise self.error(node, f"name '{node.id}' is not defined")

    def expr_Name(self, node: ast.Name) -> int:
        if node.id in self.locals:
            return self.read_checked(node.id, node)
        value = self.lookup_global(node)
        if type(value) in _TYPE_OF_VALUE:
            return self.constant(node, value)
        raise self.error(node, f"global '{node.id}' is a {type(value).__name__}; compiled "
                         "code can read int, float and bool globals (frozen at compile time)")

    def expr_Attribute(self, node: ast.Attribute) -> int:
        if self.is_math(node.value) and node.attr in MATH_CONSTS:
            return self.f.const(FLOAT, getattr(math, node.attr))
        value = node.value
        if (isinstance(value, ast.Name) and value.id in self.locals
                and is_array(self.f.type_of(self.read_checked(value.id, value)))):
            return subscripts.attribute(self, node)
        raise self.error(node, "attribute access is not supported, except math.pi, math.e, "
                         "math.tau, math.inf and math.nan")

    def is_math(self, node: ast.expr) -> bool:
        return (isinstance(node, ast.Name) and node.id not in self.locals
                and self.globals.get(node.id) is math)

    def expr_BinOp(self, node: ast.BinOp) -> int:
        return self.binop(node, node.op, self.expr(node.left), self.expr(node.right))

    def binop(self, node: ast.AST, op: ast.operator, left: int, right: int) -> int:
        f = self.f
        lt, rt = f.type_of(left), f.type_of(right)
        kind = type(op)
        if kind in _ARITH:
            int_op, float_op = _ARITH[kind]
            if FLOAT in (lt, rt):
                return self.emit(float_op, FLOAT, (self.to_float(left), self.to_float(right)))
            result = FLOAT if kind is ast.Div else INT
            return self.emit(int_op, result, (self.to_int(left), self.to_int(right)))
        if kind in _BITS and FLOAT not in (lt, rt):
            if lt == rt == BOOL and kind in _BOOL_BITS:
                return self.emit(_BITS[kind], BOOL, (left, right))
            return self.emit(_BITS[kind], INT, (self.to_int(left), self.to_int(right)))
        raise self.error(node, f"unsupported operand types for {_SYMBOL.get(kind, '?')}: "
                         f"'{TYPE_NAMES[lt]}' and '{TYPE_NAMES[rt]}'")

    def expr_UnaryOp(self, node: ast.UnaryOp) -> int:
        operand = node.operand
        if (isinstance(node.op, ast.USub) and isinstance(operand, ast.Constant)
                and type(operand.value) in (int, float)):
            return self.constant(node, -operand.value)  # -9223372036854775808 is a literal
        value = self.expr(operand)
        t = self.f.type_of(value)
        if isinstance(node.op, ast.Not):
            return self.emit(Op.BNOT, BOOL, (self.truth(value),))
        if isinstance(node.op, ast.UAdd):
            return self.to_int(value)
        if isinstance(node.op, ast.USub):
            if t == FLOAT:
                return self.emit(Op.FNEG, FLOAT, (value,))
            return self.emit(Op.INEG, INT, (self.to_int(value),))
        if t == FLOAT:
            raise self.error(node, "bad operand type for unary ~: 'float'")
        return self.emit(Op.IINV, INT, (self.to_int(value),))

    def compare(self, node: ast.AST, op: ast.cmpop, left: int, right: int) -> int:
        cond = _CMP.get(type(op))
        if cond is None:
            raise self.error(node, "only the comparisons == != < <= > >= are supported")
        lt, rt = self.f.type_of(left), self.f.type_of(right)
        if lt == FLOAT and rt == FLOAT:
            return self.emit(Op.FCMP, BOOL, (left, right), cond)
        if lt == FLOAT:
            return self.emit(Op.MCMP, BOOL, (right, left), MIRROR[cond])
        if rt == FLOAT:
            return self.emit(Op.MCMP, BOOL, (left, right), cond)
        return self.emit(Op.ICMP, BOOL, (left, right), cond)

    def expr_Compare(self, node: ast.Compare) -> int:
        if len(node.ops) == 1:
            return self.compare(node, node.ops[0], self.expr(node.left),
                                self.expr(node.comparators[0]))
        return self.branches_to_value(node, lambda t, e: self.cond(node, t, e))

    def branches_to_value(self, node: ast.AST, emit_cond) -> int:
        """A bool value from a conditional branch: True on one edge, False on the other."""
        name = self.fresh()
        then, else_, join = self.new_block(), self.new_block(), self.new_block(sealed=False)
        emit_cond(then, else_)
        for block, value in ((then, True), (else_, False)):
            if self.f.blocks[block].preds:
                self.cur = block
                self.write(name, self.f.const(BOOL, value))
                self.jump(join)
        self.seal(join, node)
        self.cur = join
        return self.read(name, node)

    def one_type(self, type_: int | None, value: int, node: ast.AST) -> int:
        """The type all operands of an and/or or a conditional expression share."""
        t = self.f.type_of(value)
        if type_ is not None and t != type_:
            raise self.error(node, f"this operand is {TYPE_NAMES[t]} but another is "
                             f"{TYPE_NAMES[type_]}; the result's type would depend on the "
                             "values")
        return t

    def expr_IfExp(self, node: ast.IfExp) -> int:
        then, else_ = self.new_block(), self.new_block()
        self.cond(node.test, then, else_)
        name, join = self.fresh(), self.new_block(sealed=False)
        type_ = None
        for block, value_node in ((then, node.body), (else_, node.orelse)):
            if not self.f.blocks[block].preds:  # a constant test: CPython skips this arm
                continue
            self.cur = block
            value = self.expr(value_node)
            type_ = self.one_type(type_, value, value_node)
            self.write(name, value)
            self.jump(join)
        self.seal(join, node)
        self.cur = join
        return self.read(name, node)

    def expr_BoolOp(self, node: ast.BoolOp) -> int:
        # a and b: a if not a else b; each operand is tested once, the last is not tested
        name, join = self.fresh(), self.new_block(sealed=False)
        type_ = None
        for i, value_node in enumerate(node.values):
            value = self.expr(value_node)
            type_ = self.one_type(type_, value, value_node)
            self.write(name, value)
            if i == len(node.values) - 1:
                self.jump(join)
                break
            nxt = self.new_block()
            truth = self.truth(value)
            if isinstance(node.op, ast.And):
                self.branch(truth, nxt, join)
            else:
                self.branch(truth, join, nxt)
            if not self.f.blocks[nxt].preds:  # decided by a constant: the rest never runs
                break
            self.cur = nxt
        self.seal(join, node)
        self.cur = join
        return self.read(name, node)

    # -- calls -------------------------------------------------------------------------------
    def builtin_name(self, func: ast.expr) -> str | None:
        if isinstance(func, ast.Name) and func.id not in self.locals:
            try:
                return _BUILTIN_BY_ID.get(id(self.lookup_global(func)))
            except CompileError:
                return None
        return None

    def math_name(self, func: ast.expr) -> str | None:
        if isinstance(func, ast.Attribute) and self.is_math(func.value):
            return func.attr if func.attr in MATH_FUNCS else None
        if isinstance(func, ast.Name) and func.id not in self.locals:
            value = self.globals.get(func.id)
            return _MATH_BY_ID.get(id(value)) if value is not None else None
        return None

    def expr_Call(self, node: ast.Call) -> int:
        if node.keywords:
            raise self.error(node.keywords[0], "keyword arguments are not supported")
        if any(isinstance(a, ast.Starred) for a in node.args):
            raise self.error(node, "*args in calls is not supported")
        name = self.builtin_name(node.func)
        if name == "len":
            return subscripts.length(self, node)
        if name is not None and name != "range":
            return BUILTINS[name](self, node, [self.expr(a) for a in node.args])
        name = self.math_name(node.func)
        if name is not None:
            return math_call(self, node, name, [self.expr(a) for a in node.args])
        if isinstance(node.func, ast.Name) and node.func.id not in self.locals:
            target = self.lookup_global(node.func)
            args = [self.expr(a, allow_array=True) for a in node.args]
            inlined = self.try_inline(target, args, node)
            if inlined is not None:
                return inlined
            try:
                resolved = self.resolve(target, tuple(self.f.type_of(a) for a in args), node)
            except CompileError as error:
                if error.line:  # an error inside the callee: it says where
                    raise
                raise self.error(node, error.message) from None
            if resolved is not None:
                if resolved.ret_type is None:
                    raise self.error(node, f"the return type of recursive call "
                                     f"'{resolved.name}' is not known yet: put a "
                                     "non-recursive return first or annotate the return type")
                return self.inline_guard(target, args, node, lambda: self.emit(
                    Op.CALL, resolved.ret_type, tuple(args), resolved))
        raise self.error(node.func, "only calls to @jit functions, math functions and the "
                         "builtins abs, min, max, int, float, bool and round are supported")

    def source_function(self, target: object):
        """The Python function behind a called @jit object, whose source the front end
        may compile in place, or None (the resolver decides; tests may give none)."""
        source_of = getattr(self.resolve, "inline_source", None)
        return source_of(target) if source_of is not None else None

    def try_inline(self, target: object, args: list[int], node: ast.Call) -> int | None:
        """Compile a small, non-recursive @jit callee into this function, in place of a
        call: its variables get a prefix, its returns jump to a join after the call.
        Evaluation order, results and errors are those of the call."""
        py_func = self.source_function(target)
        # a recursive function is inlined into itself: each machine call then does the
        # work of several levels (fib makes a seventh of its calls; inline_guard saves more)
        unrolled = (py_func is self.pyfunc and all(p is py_func for p in self.inline_stack)
                    and len(self.inline_stack) < _self_inline_depth(self.fdef))
        if py_func is None or not unrolled and (
                py_func is self.pyfunc or py_func in self.inline_stack
                or len(self.inline_stack) >= MAX_INLINE_DEPTH):
            return None
        fdef, source = parse_function(py_func)
        params = [a.arg for a in fdef.args.args]
        if len(params) != len(args) or not _inlinable(fdef, unrolled):
            return None
        return self._inline_frame(py_func, fdef, source, args, node, fdef.body)

    def inline_guard(self, target: object, args: list[int], node: ast.Call,
                     call: Callable[[], int]) -> int:
        """A call, behind the callee's leading ``if <test>: return <value>`` compiled in
        place: when the test holds, the call is not made (fib's leaves cost a compare).
        The guard reads only parameters and constants and calls nothing, so evaluating
        it here rather than first thing in the callee changes no result or error."""
        py_func = self.source_function(target)
        if py_func is None:
            return call()
        fdef, source = parse_function(py_func)
        guard = _leading_guard(fdef)
        if guard is None or len(fdef.args.args) != len(args):
            return call()
        return self._inline_frame(py_func, fdef, source, args, node, [guard], call)

    def _inline_frame(self, py_func, fdef: ast.FunctionDef, source: SourceInfo,
                      args: list[int], node: ast.Call, body: list[ast.stmt],
                      fallthrough: Callable[[], int] | None = None) -> int:
        """Compile ``body`` of ``py_func`` as an inlined frame: its variables get a prefix,
        its returns jump to a join after the call.  Where ``body`` ends without
        returning, the frame returns ``fallthrough()`` (or None)."""
        params = [a.arg for a in fdef.args.args]
        saved = (self.source, self.globals, self.locals, self.prefix, self.inline, self.loops)
        self.inlined += 1
        self.source, self.globals = source, _namespace(py_func)
        self.locals = _assigned_names(fdef) | set(params)
        self.prefix = f"{py_func.__name__}.{self.inlined}."
        exit_, result = self.new_block(sealed=False), self.fresh()
        self.inline = (exit_, result, _Returns())
        self.loops = []
        self.inline_stack.append(py_func)
        for name, value in zip(params, args):
            self.write(self.prefix + name, value)
        self.body(body)
        if self.cur is not None:
            self.return_value(node, None if fallthrough is None else fallthrough())
        ret_type = self.inline[2].ret_type
        self.inline_stack.pop()
        self.source, self.globals, self.locals, self.prefix, self.inline, self.loops = saved
        self.seal(exit_, node)
        if not self.f.blocks[exit_].preds:  # the callee never returns
            self.cur = self.new_block()
            return self.f.const(VOID, None)
        self.cur = exit_
        if ret_type in (None, VOID):
            return self.f.const(VOID, None)
        return self.read(result, node)


#: what a leading guard may contain: parameters, constants and operators
_GUARD_NODES = (ast.Name, ast.Constant, ast.Compare, ast.BinOp, ast.UnaryOp, ast.BoolOp,
                ast.IfExp, ast.expr_context, ast.operator, ast.unaryop, ast.cmpop, ast.boolop)


def _leading_guard(fdef: ast.FunctionDef) -> ast.If | None:
    """``fdef``'s first statement if it is ``if <test>: return <value>`` over its
    parameters and constants only, else None."""
    first = fdef.body[0]
    if not (isinstance(first, ast.If) and not first.orelse and len(first.body) == 1
            and isinstance(first.body[0], ast.Return) and first.body[0].value is not None):
        return None
    params = {a.arg for a in fdef.args.args}
    for part in (first.test, first.body[0].value):
        for n in ast.walk(part):
            if not isinstance(n, _GUARD_NODES) or isinstance(n, ast.Name) and n.id not in params:
                return None
    return first


#: parameters travel in registers: five integer ones after the result pointer, eight xmm
MAX_INT_PARAMS, MAX_FLOAT_PARAMS = 5, 8
#: inline a callee of at most this many syntax nodes, nested at most this deep
MAX_INLINE_NODES = 160
MAX_INLINE_DEPTH = 3
#: a recursive function inlines one level of itself, and more (up to SELF_INLINE_DEPTH)
#: while the unrolled body stays within SELF_INLINE_NODES syntax nodes
SELF_INLINE_NODES, SELF_INLINE_DEPTH = 512, 2


class _Returns:
    """The return type of an inlined frame, fixed by its first return."""

    ret_type: int | None = None
    declared = False


def _namespace(pyfunc) -> Mapping[str, object]:
    """The names a function reads besides its locals: its closure's cells, then its
    module's globals, read where they stand (a module may hold thousands of names, and
    every compile and every inlined call would copy them)."""
    if not pyfunc.__closure__:
        return pyfunc.__globals__
    cells = {name: cell.cell_contents
             for name, cell in zip(pyfunc.__code__.co_freevars, pyfunc.__closure__)}
    return ChainMap(cells, pyfunc.__globals__)


def _self_inline_depth(fdef: ast.FunctionDef) -> int:
    """Levels of itself a recursive function inlines: unrolling d levels copies its body
    1 + c + c**2 + ... + c**d times for c self calls, and that must fit the budget."""
    _, count, self_calls = _facts(fdef)
    self_calls = max(self_calls, 1)  # it may call itself by another name
    depth, copies, level = 1, 1 + self_calls, self_calls
    while depth < SELF_INLINE_DEPTH:
        level *= self_calls
        copies += level
        if count * copies > SELF_INLINE_NODES:
            break
        depth += 1
    return depth


def _inlinable(fdef: ast.FunctionDef, recursive_ok: bool) -> bool:
    """Small, and (unless ``recursive_ok``) not calling itself by name."""
    _, count, self_calls = _facts(fdef)
    return count <= MAX_INLINE_NODES and (recursive_ok or not self_calls)


class _TypeConflict(Exception):
    def __init__(self, name: str, first: int, other: int) -> None:
        self.name, self.first, self.other = name, first, other

    def message(self) -> str:
        return (f"variable '{_plain(self.name)}' is {TYPE_NAMES[self.first]} on one path and "
                f"{TYPE_NAMES[self.other]} on another where they join; convert explicitly "
                "(for example float(...)) so it has one type")


_DESCRIPTIONS = {
    "List": "a list display", "Tuple": "a tuple", "Dict": "a dict display",
    "Set": "a set display", "ListComp": "a list comprehension", "Lambda": "a lambda",
    "Subscript": "indexing", "Attribute": "attribute access", "Starred": "starred unpacking",
    "JoinedStr": "an f-string", "Await": "await", "Yield": "yield",
    "GeneratorExp": "a generator expression", "DictComp": "a dict comprehension",
    "SetComp": "a set comprehension", "NamedExpr": "the walrus operator",
    "Try": "a try statement", "With": "a with statement", "Raise": "a raise statement",
    "FunctionDef": "a nested function", "ClassDef": "a class definition",
    "Import": "an import", "ImportFrom": "an import", "Global": "a global statement",
    "Nonlocal": "a nonlocal statement", "Delete": "a del statement", "Assert": "assert",
    "Match": "a match statement",
}


def _plain(name: str) -> str:
    """A variable's name as the user wrote it (inlined frames prefix theirs)."""
    return name.rsplit(".", 1)[-1]


def _describe(node: ast.AST) -> str:
    name = type(node).__name__
    return _DESCRIPTIONS.get(name, f"'{name}'")


def build(pyfunc, fdef: ast.FunctionDef, source: SourceInfo, arg_types, pending,
          resolve) -> Function:
    """Compile ``fdef`` (the parsed def of ``pyfunc``) for ``arg_types`` into IR."""
    ints = sum(1 for t in arg_types if t != FLOAT)
    if ints > MAX_INT_PARAMS or len(arg_types) - ints > MAX_FLOAT_PARAMS:
        raise CompileError.at(fdef.args.args[-1], source,
                              f"at most {MAX_INT_PARAMS} int or bool and {MAX_FLOAT_PARAMS} "
                              "float parameters are supported (they travel in registers)")
    fe = FrontEnd(pyfunc, fdef, source, arg_types, pending, resolve)
    fe.body(fdef.body)
    if fe.cur is not None:
        fe.line = fdef.body[-1].end_lineno or fdef.lineno
        fe.stmt_Return(ast.Return(value=None, lineno=fe.line, col_offset=fdef.col_offset,
                                  end_lineno=fe.line, end_col_offset=fdef.col_offset + 3))
    fe.f.ret_type = pending.ret_type
    return fe.f
