"""Instruction selection and emission: allocated IR to x86-64 through ``Assembler``.

One method per op (``op_iadd`` ...), found through the ``EMIT`` table built
from the method names.  Values live where ``regalloc`` put them; rax, rcx,
rdx, r11, xmm14 and xmm15 are scratch.  Selection uses the machine's forms:
immediates and memory operands in ALU instructions, ``lea`` for wrapping adds
into a third register, a compare fused with the branch that uses it (no
boolean is materialised), SSE2 scalar doubles for floats.

Layout of one compiled function::

    entry:  push r15; push rdi; sub rsp, 8      ; the kernel convention (native.status)
            lea r15, [rsp - STACK_BUDGET]       ; stack limit for the whole call tree
            shift int args down one register; call body
            add rsp, 8; pop rdi; test eax, eax; jnz done; store the result via rdi
    done:   pop r15; ret
    body:   cmp rsp, r15; jb recursion           ; internal convention: int args in
            push callee-saved; sub rsp, frame    ; rdi rsi rdx rcx r8, floats in xmm0-7,
            ... blocks in reverse postorder ...  ; status in eax, value in rdx or xmm0
    epilogue, one stub per status code (mov eax, code; jmp epilogue), slow paths,
    constant pool

A checked operation jumps to its status stub (``jo``, a zero test), and every
call is followed by ``test eax, eax; jnz epilogue``, so an error unwinds through
compiled frames with one branch each.  ``lines`` maps code offsets to source
lines for ``asm()``.
"""

from __future__ import annotations

import struct

import minijit.x86 as x86
from minijit.compiler import libm
from minijit.compiler.ir import (
    BOOL, COMPLEX_POW, DOMAIN, FLOAT, FLOAT_ZERO_DIV, FLOAT_ZERO_FLOORDIV,
    FLOAT_ZERO_MOD, INF_TO_INT, INT, INT_OVERFLOW, INT_ZERO_DIV, INT_ZERO_MOD, NAN_TO_INT,
    NEG_POW, NEG_SHIFT, RANGE, RECURSION, VOID, ZERO_DIV, ZERO_NEG_POW, Function, Op,
)
from minijit.compiler.regalloc import SLOT, Allocation

__all__ = ["CodeGen", "STACK_BUDGET", "INT_ARG_REGS"]

#: bytes of machine stack one call from Python may use before RecursionError
STACK_BUDGET = 1 << 20
_G = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + [f"r{i}" for i in range(8, 16)]
_G8 = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"] + [f"r{i}b" for i in range(8, 16)]
GPR = [getattr(x86, n) for n in _G]
GPR8 = [getattr(x86, n) for n in _G8]
XMM = [getattr(x86, f"xmm{i}") for i in range(16)]
rax, rcx, rdx, rsp, rdi, r11, r15 = GPR[0], GPR[1], GPR[2], GPR[4], GPR[7], GPR[11], GPR[15]
al, cl = GPR8[0], GPR8[1]
eax = x86.eax
xmm0, xmm14, xmm15 = XMM[0], XMM[14], XMM[15]
qword, byte = x86.qword, x86.byte
INT_ARG_REGS = (7, 6, 2, 1, 8)  # rdi rsi rdx rcx r8: the internal convention
PUBLIC_INT_ARGS = (6, 2, 1, 8, 9)  # rsi rdx rcx r8 r9: after the result pointer
CALL_SCRATCH = 16  # bytes at [rsp] kept for inputs a call must not lose
#: ops that keep values in that scratch area
SCRATCH_OPS = frozenset({Op.LIBM, Op.FPOW, Op.FMOD, Op.FFLOORDIV, Op.ITRUEDIV})
INT64_MIN = -(1 << 63)

SIGNED = {"eq": "e", "ne": "ne", "lt": "l", "le": "le", "gt": "g", "ge": "ge",
          "ult": "b", "ule": "be", "ugt": "a", "uge": "ae"}
NEGATE = {"e": "ne", "ne": "e", "l": "ge", "ge": "l", "le": "g", "g": "le", "b": "ae",
          "ae": "b", "be": "a", "a": "be", "p": "np", "np": "p"}
MIRROR = {"eq": "eq", "ne": "ne", "lt": "gt", "le": "ge", "gt": "lt", "ge": "le"}
# float compare: (swap operands of ucomisd, condition) for the ordered conditions
FLOAT_CC = {"lt": (True, "a"), "le": (True, "ae"), "gt": (False, "a"), "ge": (False, "ae")}
ROUND_MODE = {Op.FROUND: 8, Op.FFLOOR: 9, Op.FCEIL: 10}  # imm8: suppress precision + mode
SIGN_BIT = 1 << 63


def _fits32(v: int) -> bool:
    return -(1 << 31) <= v < (1 << 31)


class CodeGen:
    def __init__(self, f: Function, alloc: Allocation, fused: set[int], self_key: object):
        self.f = f
        self.alloc = alloc
        self.loc = alloc.loc
        self.fused = fused
        self.self_key = self_key
        self.a = x86.Assembler()
        self.labels = {b.id: self.a.label() for b in alloc.order}
        self.target = {b.id: self.forward(b.id) for b in alloc.order}
        self.stubs: dict[int, x86.Label] = {}
        self.pool: dict[bytes, x86.Label] = {}
        self.slow: list = []
        self.lines: list[tuple[x86.Label, int]] = []
        self.callees: list[object] = []
        self.body = self.a.label()
        self.epilogue = self.a.label()
        self.pool_start = self.a.label()
        saved = len(alloc.used_callee_saved)
        self.scratch = CALL_SCRATCH if any(
            f.ins[r].op in SCRATCH_OPS for b in alloc.order for r in b.ins) else 0
        frame = self.scratch + 8 * alloc.slots
        if alloc.has_calls and (8 + 8 * saved + frame) % 16:
            frame += 8  # System V: rsp is 16-byte aligned at every call
        self.frame = frame

    def forward(self, block: int) -> int:
        """Where a jump to ``block`` may go instead: past blocks that only jump on,
        when the phi moves on the way move nothing (each value is already in place)."""
        seen = set()
        while block not in seen:
            seen.add(block)
            b = self.f.blocks[block]
            last = self.f.ins[b.ins[-1]]
            if len(b.ins) != 1 or last.op != Op.JMP or not self.moves_nothing(block, last.aux):
                break
            block = last.aux
        return block

    def moves_nothing(self, src: int, dst: int) -> bool:
        block = self.f.blocks[dst]
        index = block.preds.index(src)
        for ref in block.ins:
            ins = self.f.ins[ref]
            if ins.op != Op.PHI:
                return True
            arg = ins.args[index]
            if ref in self.loc and (arg < 0 or self.loc[arg] != self.loc[ref]):
                return False
        return True

    # -- operands --------------------------------------------------------------------------
    def mem(self, loc: int) -> x86.Mem:
        return qword[rsp + self.scratch + 8 * (loc - SLOT)]

    def is_float(self, ref: int) -> bool:
        return self.f.type_of(ref) == FLOAT

    def const_label(self, bits: int) -> x86.Label:
        key = struct.pack("<Q", bits & ((1 << 64) - 1))
        label = self.pool.get(key)
        if label is None:
            label = self.pool[key] = self.a.label()
        return label

    def fconst(self, value: float) -> x86.Mem:
        return qword[x86.rip + self.const_label(struct.unpack("<Q", struct.pack("<d", value))[0])]

    def bits_const(self, bits: int) -> x86.Mem:
        return qword[x86.rip + self.const_label(bits)]

    def ival(self, ref: int) -> int:
        return int(self.f.const_value(ref))

    def operand(self, ref: int, scratch=None):
        """ref as a second ALU operand: imm32, register or memory."""
        if ref < 0:
            if self.is_float(ref):
                return self.fconst(self.f.const_value(ref))
            v = self.ival(ref)
            if _fits32(v):
                return v
            self.a.mov(scratch or r11, v)
            return scratch or r11
        loc = self.loc[ref]
        if loc >= SLOT:
            return self.mem(loc)
        return XMM[loc - 16] if loc >= 16 else GPR[loc]

    def reg_of(self, ref: int, scratch):
        """ref in a register (loaded into ``scratch`` unless it already is in one)."""
        if ref >= 0 and self.loc[ref] < SLOT:
            loc = self.loc[ref]
            return XMM[loc - 16] if loc >= 16 else GPR[loc]
        self.load(scratch, ref)
        return scratch

    def load(self, reg, ref: int) -> None:
        a = self.a
        if reg in XMM:
            src = self.operand(ref)
            if src is not reg:
                a.movapd(reg, src) if src in XMM else a.movsd(reg, src)
            return
        if ref < 0:
            v = self.ival(ref)
            a.xor(reg, reg) if v == 0 else a.mov(reg, v)
            return
        src = self.operand(ref)
        if src is not reg:
            a.mov(reg, src)

    def dest(self, ref: int, scratch):
        loc = self.loc.get(ref, SLOT)
        if loc < SLOT:
            return XMM[loc - 16] if loc >= 16 else GPR[loc]
        return scratch

    def store(self, ref: int, reg) -> None:
        loc = self.loc.get(ref)
        if loc is None or loc < SLOT:
            return
        self.a.movsd(self.mem(loc), reg) if reg in XMM else self.a.mov(self.mem(loc), reg)

    def aliases(self, reg, ref: int) -> bool:
        return ref >= 0 and self.loc.get(ref, SLOT) < SLOT and self.operand(ref) is reg

    def cvtsi2sd(self, d, src) -> None:
        """cvtsi2sd writes only the low half of ``d``: clear ``d`` first, or the
        conversion waits for whatever last wrote it (a false loop-carried dependency)."""
        self.a.xorpd(d, d)
        self.a.cvtsi2sd(d, src)

    def stub(self, code: int) -> x86.Label:
        label = self.stubs.get(code)
        if label is None:
            label = self.stubs[code] = self.a.label()
        return label

    # -- moves -----------------------------------------------------------------------------
    def move(self, dst: int, src: int, is_float: bool, src_is_ref: bool) -> None:
        """Move a location (or, with ``src_is_ref``, a constant reference) into ``dst``."""
        a = self.a
        if is_float:
            target = XMM[dst - 16] if 16 <= dst < SLOT else xmm14
            if src_is_ref:
                a.movsd(target, self.fconst(self.f.const_value(src)))
            elif src >= SLOT:
                a.movsd(target, self.mem(src))
            elif target is not XMM[src - 16]:
                a.movapd(target, XMM[src - 16])
            if dst >= SLOT:
                a.movsd(self.mem(dst), target)
            return
        if src_is_ref:
            v = self.ival(src)
            if dst >= SLOT and _fits32(v):
                a.mov(self.mem(dst), v)
                return
            target = GPR[dst] if dst < SLOT else r11
            a.xor(target, target) if v == 0 else a.mov(target, v)
            if dst >= SLOT:
                a.mov(self.mem(dst), target)
        elif dst < SLOT:
            a.mov(GPR[dst], self.mem(src) if src >= SLOT else GPR[src])
        elif src >= SLOT:
            a.mov(r11, self.mem(src))
            a.mov(self.mem(dst), r11)
        else:
            a.mov(self.mem(dst), GPR[src])

    def parallel_move(self, moves: list[tuple[int, int, bool, bool]]) -> None:
        """(dst, src, is_float, src is a constant ref); no move may read a clobbered dst."""
        pending = {d: (s, fl) for d, s, fl, c in moves if c is False and d != s}
        consts = [(d, s, fl) for d, s, fl, c in moves if c]
        while pending:
            sources = {s for s, _ in pending.values()}
            ready = [d for d in pending if d not in sources]
            if ready:
                for d in ready:
                    s, fl = pending.pop(d)
                    self.move(d, s, fl, False)
                continue
            d, (s, fl) = next(iter(pending.items()))  # a cycle: park d's value in scratch
            scratch = 31 if fl else 0
            self.move(scratch, d, fl, False)
            pending = {k: (scratch if v == d else v, f) for k, (v, f) in pending.items()}
        for d, s, fl in consts:
            self.move(d, s, fl, True)

    def value_moves(self, pairs) -> list[tuple[int, int, bool, bool]]:
        out = []
        for dst, ref in pairs:
            fl = self.is_float(ref)
            out.append((dst, ref, fl, True) if ref < 0 else (dst, self.loc[ref], fl, False))
        return out

    # -- the whole function ----------------------------------------------------------------
    def generate(self, result_type: int) -> x86.Assembler:
        self.entry(result_type)
        self.prologue()
        order = self.alloc.order
        for i, block in enumerate(order):
            self.a.bind(self.labels[block.id])
            nxt = self.target[order[i + 1].id] if i + 1 < len(order) else None
            for ref in block.ins:
                ins = self.f.ins[ref]
                if ins.op in (Op.PARAM, Op.PHI) or ref in self.fused:
                    continue
                if not self.lines or self.lines[-1][1] != ins.line:
                    label = self.a.label()
                    self.a.bind(label)
                    self.lines.append((label, ins.line))
                if ins.op == Op.JMP:
                    self.jump_edge(block.id, ins.aux, nxt)
                elif ins.op == Op.BR:
                    self.branch(ins, nxt)
                elif ins.op == Op.RET:
                    self.ret(ins, nxt is None)
                else:
                    EMIT[ins.op](self, ref, ins)
        self.epilogue_code()
        while self.slow:  # slow paths may ask for more status stubs: stubs come last
            self.slow.pop(0)()
        for code, label in self.stubs.items():
            self.a.bind(label)
            self.a.mov(eax, code)
            self.a.jmp(self.epilogue)
        self.a.align(8)
        self.a.bind(self.pool_start)
        for key, label in self.pool.items():
            self.a.bind(label)
            self.a.dq(struct.unpack("<q", key)[0])
        return self.a

    def entry(self, result_type: int) -> None:
        a = self.a
        done = a.label()
        a.push(r15)
        a.push(rdi)
        a.sub(rsp, 8)
        a.lea(r15, qword[rsp - STACK_BUDGET])
        n_int = sum(1 for t in self.f.param_types if t != FLOAT)
        for dst, src in list(zip(INT_ARG_REGS, PUBLIC_INT_ARGS))[:n_int]:
            a.mov(GPR[dst], GPR[src])
        a.call(self.body)
        a.add(rsp, 8)
        a.pop(rdi)
        a.test(eax, eax)
        a.jcc("ne", done)
        if result_type == FLOAT:
            a.movsd(qword[rdi], xmm0)
        elif result_type == BOOL:
            a.mov(byte[rdi], GPR8[2])
        elif result_type == INT:
            a.mov(qword[rdi], rdx)
        a.bind(done)
        a.pop(r15)
        a.ret()
        a.align(16)

    def prologue(self) -> None:
        a = self.a
        a.bind(self.body)
        overflow = a.label()
        a.cmp(rsp, r15)
        a.jcc("b", overflow)
        for reg in self.alloc.used_callee_saved:
            a.push(GPR[reg])
        if self.frame:
            a.sub(rsp, self.frame)

        def too_deep() -> None:
            a.bind(overflow)
            a.mov(eax, RECURSION)
            a.ret()

        self.slow.append(too_deep)
        moves = []
        n_int = n_float = 0
        for block in self.f.blocks[:1]:
            for ref in block.ins:
                ins = self.f.ins[ref]
                if ins.op != Op.PARAM:
                    continue
                if ins.type == FLOAT:
                    src, n_float = 16 + n_float, n_float + 1
                else:
                    src, n_int = INT_ARG_REGS[n_int], n_int + 1
                if ref in self.loc:
                    moves.append((self.loc[ref], src, ins.type == FLOAT, False))
        self.parallel_move(moves)

    def epilogue_code(self) -> None:
        a = self.a
        a.bind(self.epilogue)
        if self.frame:
            a.add(rsp, self.frame)
        for reg in reversed(self.alloc.used_callee_saved):
            a.pop(GPR[reg])
        a.ret()

    # -- control flow ----------------------------------------------------------------------
    def jump_edge(self, src: int, dst: int, nxt: int | None) -> None:
        block = self.f.blocks[dst]
        index = block.preds.index(src)
        pairs = []
        for ref in block.ins:
            ins = self.f.ins[ref]
            if ins.op != Op.PHI:
                break
            if ref in self.loc:
                pairs.append((self.loc[ref], ins.args[index]))
        self.parallel_move(self.value_moves(pairs))
        dst = self.target[dst]
        if dst != nxt:
            self.a.jmp(self.labels[dst])

    def branch(self, ins, nxt: int | None) -> None:
        then, else_ = (self.target[b] for b in ins.aux)
        cond = ins.args[0]
        if cond < 0:  # decided at compile time
            target = then if self.f.const_value(cond) else else_
            if target != nxt:
                self.a.jmp(self.labels[target])
            return
        if cond in self.fused:
            cins = self.f.ins[cond]
            spec = self.compare(cins)
        else:
            src = self.operand(cond)
            if src in GPR:
                self.a.test(src, src)
            else:
                self.a.cmp(src, 0)
            spec = "ne"
        self.jump_on(spec, self.labels[then], self.labels[else_], then, else_, nxt)

    def jump_on(self, spec: str, t, e, then: int, else_: int, nxt: int | None) -> None:
        a = self.a
        if spec == "feq":  # ZF=1 and PF=0
            a.jcc("p", e)
            a.jcc("e", t)
            if else_ != nxt:
                a.jmp(e)
            return
        if spec == "fne":  # ZF=0 or PF=1
            a.jcc("p", t)
            a.jcc("ne", t)
            if else_ != nxt:
                a.jmp(e)
            return
        if then == nxt:
            a.jcc(NEGATE[spec], e)
        else:
            a.jcc(spec, t)
            if else_ != nxt:
                a.jmp(e)

    def ret(self, ins, last: bool) -> None:
        if ins.args:
            value = ins.args[0]
            self.load(xmm0 if self.is_float(value) else rdx, value)
        self.a.xor(eax, eax)
        if not last:
            self.a.jmp(self.epilogue)

    # -- comparisons -----------------------------------------------------------------------
    def compare(self, ins) -> str:
        """Emit the flag-setting part of a comparison; return its condition spec."""
        left, right = ins.args
        cond = ins.aux
        a = self.a
        if ins.op == Op.ICMP:
            if left < 0:
                left, right, cond = right, left, MIRROR[cond]
            lhs = self.reg_of(left, rax) if left < 0 else self.operand(left)
            rhs = self.operand(right, r11)
            if isinstance(lhs, x86.Mem) and isinstance(rhs, x86.Mem):
                a.mov(rax, lhs)
                lhs = rax
            a.cmp(lhs, rhs)
            return SIGNED[cond]
        if ins.op == Op.FCMP:
            if cond in ("eq", "ne"):
                a.ucomisd(self.reg_of(left, xmm15), self.operand(right))
                return "f" + cond
            swap, cc = FLOAT_CC[cond]
            if swap:
                left, right = right, left
            a.ucomisd(self.reg_of(left, xmm15), self.operand(right))
            return cc
        self.mixed_compare(left, right, cond)
        a.test(al, al)
        return "ne"

    def mixed_compare(self, i: int, x: int, cond: str) -> None:
        """al = (int i) cond (float x), exactly as CPython compares int with float."""
        a = self.a
        unordered, less, by_float, done = a.label(), a.label(), a.label(), a.label()
        self.load(rax, i)
        self.cvtsi2sd(xmm15, rax)
        a.ucomisd(xmm15, self.operand(x))
        a.jcc("p", unordered)
        a.jcc("ne", by_float)
        # float(i) == x, so x is integral: compare as ints, unless x is 2**63 (above all)
        a.movsd(xmm14, self.operand(x))
        a.ucomisd(xmm14, self.fconst(2.0**63))
        a.jcc("e", less)
        a.cvttsd2si(r11, xmm14)
        a.cmp(rax, r11)
        a.setcc(SIGNED[cond], al)
        a.jmp(done)
        for label, true_for in ((unordered, ("ne",)), (less, ("lt", "le", "ne"))):
            a.bind(label)
            a.mov(al, int(cond in true_for))
            a.jmp(done)
        a.bind(by_float)  # flags of ucomisd float(i), x: ordered and not equal
        a.setcc({"eq": "e", "ne": "ne", "lt": "b", "le": "be", "gt": "a", "ge": "ae"}[cond],
                al)
        a.bind(done)

    def materialize(self, ref: int, spec: str) -> None:
        a = self.a
        if spec == "feq":
            a.setcc("e", al)
            a.setcc("np", cl)
            a.and_(al, cl)
        elif spec == "fne":
            a.setcc("ne", al)
            a.setcc("p", cl)
            a.or_(al, cl)
        else:
            a.setcc(spec, al)
        d = self.dest(ref, rax)
        a.movzx(d, al)
        self.store(ref, d)

    def op_icmp(self, ref: int, ins) -> None:
        self.materialize(ref, self.compare(ins))

    op_fcmp = op_mcmp = op_icmp

    # -- integer arithmetic ----------------------------------------------------------------
    def binary(self, ref: int, ins, emit, commutative: bool) -> None:
        left, right = ins.args
        if left < 0 and commutative:  # the constant goes where an immediate can be
            left, right = right, left
        d = self.dest(ref, rax)
        if self.aliases(d, right) and not (left >= 0 and self.aliases(d, left)):
            if commutative:
                left, right = right, left
            else:
                d = rax
        self.load(d, left)
        emit(d, self.operand(right))
        self.store(ref, d)
        if d is rax and self.loc.get(ref, SLOT) < SLOT:
            self.a.mov(self.dest(ref, rax), rax)

    def checked(self, code: int):
        def after() -> None:
            self.a.jcc("o", self.stub(code))
        return after

    def op_iadd(self, ref, ins) -> None:
        self.binary(ref, ins, lambda d, s: (self.a.add(d, s), self.checked(INT_OVERFLOW)()),
                    True)

    def op_isub(self, ref, ins) -> None:
        self.binary(ref, ins, lambda d, s: (self.a.sub(d, s), self.checked(INT_OVERFLOW)()),
                    False)

    def op_imul(self, ref, ins) -> None:
        if self.imul_immediate(ref, ins):
            self.a.jcc("o", self.stub(INT_OVERFLOW))
            return
        self.binary(ref, ins, lambda d, s: (self.imul(d, s), self.checked(INT_OVERFLOW)()),
                    True)

    def imul_immediate(self, ref, ins) -> bool:
        """d = x * imm32 in one three-operand imul; False when the form does not apply."""
        x, c = ins.args if ins.args[1] < 0 else ins.args[::-1]
        if x < 0 or c >= 0 or not _fits32(self.ival(c)):
            return False
        d = self.dest(ref, rax)
        self.a.imul(d, self.operand(x), self.ival(c))
        self.store(ref, d)
        return True

    def imul(self, d, s) -> None:
        if isinstance(s, int):
            self.a.imul(d, d, s)
        else:
            self.a.imul(d, s)

    def op_wadd(self, ref, ins) -> None:
        left, right = ins.args
        d = self.dest(ref, rax)
        if left < 0:
            left, right = right, left
        if (left >= 0 and self.loc[left] < SLOT
                and (right < 0 and _fits32(self.ival(right))
                     or right >= 0 and self.loc[right] < SLOT)):
            base = self.operand(left)
            other = self.operand(right)
            self.a.lea(d, qword[base + other])  # a third register, flags untouched
            self.store(ref, d)
            return
        self.binary(ref, ins, lambda d, s: self.a.add(d, s), True)

    def op_wsub(self, ref, ins) -> None:
        self.binary(ref, ins, lambda d, s: self.a.sub(d, s), False)

    def op_wmul(self, ref, ins) -> None:
        if not self.imul_immediate(ref, ins):
            self.binary(ref, ins, self.imul, True)

    def op_iand(self, ref, ins) -> None:
        self.binary(ref, ins, self.logic(self.a.and_), True)

    def op_ior(self, ref, ins) -> None:
        self.binary(ref, ins, self.logic(self.a.or_), True)

    def op_ixor(self, ref, ins) -> None:
        self.binary(ref, ins, self.logic(self.a.xor), True)

    def logic(self, method):
        def emit(d, s) -> None:
            if isinstance(s, int) and not _fits32(s):
                self.a.mov(r11, s)
                s = r11
            method(d, s)
        return emit

    def unary(self, ref, ins, emit) -> None:
        d = self.dest(ref, rax)
        self.load(d, ins.args[0])
        emit(d)
        self.store(ref, d)

    def op_ineg(self, ref, ins) -> None:
        self.unary(ref, ins, lambda d: (self.a.neg(d), self.checked(INT_OVERFLOW)()))

    def op_iinv(self, ref, ins) -> None:
        self.unary(ref, ins, self.a.not_)

    def op_iabs(self, ref, ins) -> None:
        def emit(d) -> None:
            self.a.mov(rax, d)
            self.a.neg(rax)
            self.a.jcc("o", self.stub(INT_OVERFLOW))
            self.a.cmovcc("ns", d, rax)
        d = self.dest(ref, rcx)
        self.load(d, ins.args[0])
        emit(d)
        self.store(ref, d)

    def op_copy(self, ref, ins) -> None:
        d = self.dest(ref, xmm15 if self.is_float(ref) else rax)
        self.load(d, ins.args[0])
        self.store(ref, d)

    op_b2i = op_copy

    def op_bnot(self, ref, ins) -> None:
        self.unary(ref, ins, lambda d: self.a.xor(d, 1))

    def op_select(self, ref, ins) -> None:
        cond, yes, no = ins.args
        a = self.a
        if self.is_float(ref):
            skip = a.label()
            d = self.dest(ref, xmm15)
            self.load(xmm14, yes)
            self.load(d, no)
            self.test_bool(cond)
            a.jcc("e", skip)
            a.movapd(d, xmm14)
            a.bind(skip)
            self.store(ref, d)
            return
        self.load(rax, no)
        self.load(rcx, yes)
        self.test_bool(cond)
        a.cmovcc("ne", rax, rcx)
        d = self.dest(ref, rax)
        if d is not rax:
            a.mov(d, rax)
        self.store(ref, d)

    def test_bool(self, ref: int) -> None:
        if ref < 0:
            self.a.mov(r11, self.ival(ref))
            self.a.test(r11, r11)
            return
        src = self.operand(ref)
        self.a.test(src, src) if src in GPR else self.a.cmp(src, 0)

    # -- division, modulo, shifts, powers --------------------------------------------------
    def divide(self, ref, ins, want_mod: bool, zero_code: int) -> None:
        """Python's floor // and %: idiv truncates, so a non-zero remainder whose sign
        differs from the divisor's moves the quotient down one and the remainder up by
        the divisor.  x // -1 is a negation (idiv would trap on INT64_MIN)."""
        a = self.a
        left, right = ins.args
        divisor = self.ival(right) if right < 0 else None
        if divisor == 0:
            a.jmp(self.stub(zero_code))
            return
        done = a.label()
        self.load(r11, right)
        self.load(rax, left)
        if divisor is None:
            a.test(r11, r11)
            a.jcc("e", self.stub(zero_code))
        if divisor is None or divisor == -1:
            general = a.label()
            a.cmp(r11, -1)
            a.jcc("ne", general)
            if want_mod:
                a.xor(GPR[2], GPR[2])
            else:
                a.neg(rax)
                a.jcc("o", self.stub(INT_OVERFLOW))
            a.jmp(done)
            a.bind(general)
        a.cqo()
        a.idiv(r11)
        a.test(rdx, rdx)
        a.jcc("e", done)
        a.mov(rcx, rdx)
        a.xor(rcx, r11)
        a.jcc("ns", done)
        if want_mod:
            a.add(rdx, r11)
        else:
            a.sub(rax, 1)
        a.bind(done)
        result = rdx if want_mod else rax
        d = self.dest(ref, result)
        if d is not result:
            a.mov(d, result)
        self.store(ref, d)

    def op_ifloordiv(self, ref, ins) -> None:
        if not self.divide_by_constant(ref, ins, False):
            self.divide(ref, ins, False, INT_ZERO_DIV)

    def op_imod(self, ref, ins) -> None:
        if not self.divide_by_constant(ref, ins, True):
            self.divide(ref, ins, True, INT_ZERO_MOD)

    def divide_by_constant(self, ref, ins, want_mod: bool) -> bool:
        """x // d and x % d for a constant d > 1 without idiv (Granlund and Montgomery,
        "Division by invariant integers using multiplication", signed case): the
        truncated quotient is ((x + mulsh(m - 2**64, x)) >> (l - 1)) - (x >> 63) with
        l = bitlen(d - 1) and m = 1 + 2**(63 + l) // d; then Python's floor: a negative
        remainder moves the quotient down one and the remainder up by d."""
        a = self.a
        x, divisor = ins.args
        d = self.ival(divisor) if divisor < 0 else 0
        if d < 2 or not _fits32(d):
            return False
        l = (d - 1).bit_length()
        m = 1 + (1 << (63 + l)) // d
        self.load(rcx, x)
        a.mov(rax, m - (1 << 64))
        a.imul(rcx)  # rdx = high half of x * (m - 2**64)
        a.add(rdx, rcx)
        if l > 1:
            a.sar(rdx, l - 1)
        a.mov(rax, rcx)
        a.sar(rax, 63)
        a.sub(rdx, rax)  # truncated quotient
        a.imul(rax, rdx, d)
        a.sub(rcx, rax)  # truncated remainder, with the sign of x
        a.mov(rax, rcx)
        a.sar(rax, 63)  # -1 where the remainder is negative
        if want_mod:
            a.and_(rax, d)
            a.add(rcx, rax)
            result = rcx
        else:
            a.add(rdx, rax)
            result = rdx
        dest = self.dest(ref, result)
        if dest is not result:
            a.mov(dest, result)
        self.store(ref, dest)
        return True

    def op_udiv(self, ref, ins) -> None:
        self.load(r11, ins.args[1])
        self.load(rax, ins.args[0])
        self.a.xor(GPR[2], GPR[2])
        self.a.div(r11)
        d = self.dest(ref, rax)
        if d is not rax:
            self.a.mov(d, rax)
        self.store(ref, d)

    def shift(self, ref, ins, left_shift: bool) -> None:
        a = self.a
        value, count = ins.args
        done, big = a.label(), a.label()
        if count < 0 and self.ival(count) < 0:
            a.jmp(self.stub(NEG_SHIFT))
            return
        if count < 0 and not left_shift:  # x >> k: one sar (k >= 64 fills with the sign)
            self.unary(ref, ins, lambda d: a.sar(d, min(self.ival(count), 63)))
            return
        self.load(rcx, count)
        self.load(rax, value)
        if count >= 0:  # a variable count may be negative
            a.test(rcx, rcx)
            a.jcc("s", self.stub(NEG_SHIFT))
        a.cmp(rcx, 63)
        a.jcc("a", big)
        if left_shift:  # shift, shift back, and compare: a lost bit is an overflow
            a.mov(rdx, rax)
            a.shl(rdx, cl)
            a.mov(r11, rdx)
            a.sar(r11, cl)
            a.cmp(r11, rax)
            a.jcc("ne", self.stub(INT_OVERFLOW))
            a.mov(rax, rdx)
        else:
            a.sar(rax, cl)
        a.jmp(done)
        a.bind(big)
        if left_shift:  # only 0 survives a shift by 64 or more
            a.test(rax, rax)
            a.jcc("ne", self.stub(INT_OVERFLOW))
        else:
            a.sar(rax, 63)
        a.bind(done)
        d = self.dest(ref, rax)
        if d is not rax:
            a.mov(d, rax)
        self.store(ref, d)

    def op_ishl(self, ref, ins) -> None:
        self.shift(ref, ins, True)

    def op_ishr(self, ref, ins) -> None:
        self.shift(ref, ins, False)

    def op_ipow(self, ref, ins) -> None:
        """Square and multiply; every product is checked.  The base is squared only
        while exponent bits remain, so a base overflow means a result overflow."""
        a = self.a
        base, exponent = ins.args
        loop, skip, done = a.label(), a.label(), a.label()
        self.load(r11, base)
        self.load(rcx, exponent)
        a.test(rcx, rcx)
        negative = a.label()
        a.jcc("s", negative)
        a.mov(rax, 1)
        a.bind(loop)
        a.test(rcx, rcx)
        a.jcc("e", done)
        a.test(rcx, 1)
        a.jcc("e", skip)
        a.imul(rax, r11)
        a.jcc("o", self.stub(INT_OVERFLOW))
        a.bind(skip)
        a.shr(rcx, 1)
        a.jcc("e", done)
        a.imul(r11, r11)
        a.jcc("o", self.stub(INT_OVERFLOW))
        a.jmp(loop)
        a.bind(done)
        d = self.dest(ref, rax)
        if d is not rax:
            a.mov(d, rax)
        self.store(ref, d)

        def negative_exponent() -> None:  # CPython: 0 ** -n divides by zero, else a float
            a.bind(negative)
            a.test(r11, r11)
            a.jcc("e", self.stub(ZERO_NEG_POW))
            a.jmp(self.stub(NEG_POW))

        self.slow.append(negative_exponent)

    # -- floats ----------------------------------------------------------------------------
    def fbinary(self, ref, ins, method) -> None:
        left, right = ins.args
        d = self.dest(ref, xmm15)
        if self.aliases(d, right) and not (left >= 0 and self.aliases(d, left)):
            d = xmm15
        self.load(d, left)
        method(d, self.operand(right))
        self.store(ref, d)
        if d is xmm15 and self.loc.get(ref, SLOT) < SLOT:
            self.a.movapd(self.dest(ref, xmm15), xmm15)

    def op_fadd(self, ref, ins) -> None:
        self.fbinary(ref, ins, self.a.addsd)

    def op_fsub(self, ref, ins) -> None:
        self.fbinary(ref, ins, self.a.subsd)

    def op_fmul(self, ref, ins) -> None:
        self.fbinary(ref, ins, self.a.mulsd)

    def zero_check(self, ref: int, code: int) -> None:
        """Jump to the status stub when float ``ref`` is +-0.0 (nan is not zero)."""
        a = self.a
        if ref < 0:
            if self.f.const_value(ref) == 0.0:
                a.jmp(self.stub(code))
            return
        ok = a.label()
        a.xorpd(xmm14, xmm14)
        a.ucomisd(self.reg_of(ref, xmm15), xmm14)
        a.jcc("p", ok)
        a.jcc("e", self.stub(code))
        a.bind(ok)

    def op_fdiv(self, ref, ins) -> None:
        self.zero_check(ins.args[1], FLOAT_ZERO_DIV)
        self.fbinary(ref, ins, self.a.divsd)

    def op_itruediv(self, ref, ins) -> None:
        """int / int, correctly rounded as CPython's long_true_divide.  When both ints
        convert to float exactly, IEEE division is that rounding; otherwise the slow
        path divides the magnitudes as 128-bit integers, scaled so the quotient has
        60-61 bits, folds the remainder into a sticky bit, rounds once (cvtsi2sd) and
        scales back by an exact power of two."""
        a = self.a
        left, right = ins.args
        slow, back = a.label(), a.label()
        self.load(r11, right)
        a.test(r11, r11)
        a.jcc("e", self.stub(ZERO_DIV))
        self.load(rax, left)
        for reg in (r11, rax):
            self.cvtsi2sd(xmm14, reg)
            a.cvttsd2si(rcx, xmm14)
            a.cmp(rcx, reg)
            a.jcc("ne", slow)
        self.cvtsi2sd(xmm14, r11)
        self.cvtsi2sd(xmm15, rax)
        a.divsd(xmm15, xmm14)
        a.bind(back)
        d = self.dest(ref, xmm15)
        if d is not xmm15:
            a.movapd(d, xmm15)
        self.store(ref, d)
        self.slow.append(lambda: self.exact_int_division(slow, back))

    def exact_int_division(self, slow, back) -> None:
        """rax / r11 (r11 != 0) into xmm15, exactly rounded; uses [rsp] for the sign."""
        a = self.a
        rdx_, rcx_ = rdx, rcx
        small_k, scaled, divided, positive = a.label(), a.label(), a.label(), a.label()
        zero = a.label()
        a.bind(slow)
        a.mov(rcx_, rax)
        a.xor(rcx_, r11)
        a.mov(qword[rsp], rcx_)  # sign of the quotient in bit 63
        for reg in (rax, r11):  # magnitudes (2**63 stays correct as an unsigned value)
            a.mov(rcx_, reg)
            a.neg(rcx_)
            a.cmovcc("ns", reg, rcx_)
        a.test(rax, rax)
        a.jcc("e", zero)
        a.bsr(rcx_, rax)
        a.bsr(rdx_, r11)
        a.sub(rdx_, rcx_)
        a.add(rdx_, 60)  # k = 60 - bitlen(a) + bitlen(b), in [-3, 123]
        a.mov(qword[rsp + 8], rdx_)
        a.jcc("ns", small_k)
        a.mov(rcx_, rdx_)  # k < 0: the divisor is tiny, shift it up instead
        a.neg(rcx_)
        a.shl(r11, cl)
        a.xor(rdx_, rdx_)
        a.jmp(divided)
        a.bind(small_k)
        a.cmp(rdx_, 64)
        a.jcc("l", scaled)
        a.lea(rcx_, qword[rdx_ - 64])  # k >= 64: high word a << (k - 64), low word 0
        a.mov(rdx_, rax)
        a.shl(rdx_, cl)
        a.xor(rax, rax)
        a.jmp(divided)
        a.bind(scaled)  # 0 <= k < 64: high word (a >> 1) >> (63 - k), low word a << k
        a.mov(rcx_, 63)
        a.sub(rcx_, rdx_)
        a.mov(rdx_, rax)
        a.shr(rdx_, 1)
        a.shr(rdx_, cl)
        a.mov(rcx_, qword[rsp + 8])
        a.shl(rax, cl)
        a.bind(divided)
        a.div(r11)
        a.neg(rdx_)  # sticky bit: carry set iff the remainder is non-zero
        a.sbb(rcx_, rcx_)
        a.and_(rcx_, 1)
        a.or_(rax, rcx_)
        self.cvtsi2sd(xmm15, rax)
        a.mov(rax, 1023)
        a.sub(rax, qword[rsp + 8])
        a.shl(rax, 52)
        a.movq(xmm14, rax)  # 2 ** -k
        a.mulsd(xmm15, xmm14)
        a.bind(positive)
        a.mov(rax, qword[rsp])
        a.test(rax, rax)
        a.jcc("ns", back)
        a.movsd(xmm14, self.bits_const(SIGN_BIT))
        a.xorpd(xmm15, xmm14)
        a.jmp(back)
        a.bind(zero)
        a.xorpd(xmm15, xmm15)
        a.jmp(positive)

    def op_fneg(self, ref, ins) -> None:
        self.sign_op(ref, ins, self.a.xorpd, SIGN_BIT)

    def op_fabs(self, ref, ins) -> None:
        self.sign_op(ref, ins, self.a.andpd, SIGN_BIT - 1)

    def sign_op(self, ref, ins, method, mask: int) -> None:
        d = self.dest(ref, xmm15)
        self.load(d, ins.args[0])
        self.a.movsd(xmm14, self.bits_const(mask))
        method(d, xmm14)
        self.store(ref, d)

    def op_fsqrt(self, ref, ins) -> None:
        a = self.a
        x = self.reg_of(ins.args[0], xmm15)
        a.xorpd(xmm14, xmm14)
        a.ucomisd(xmm14, x)  # 0 > x, ordered: a negative argument
        a.jcc("a", self.stub(DOMAIN))
        d = self.dest(ref, xmm15)
        if d is not x:
            a.xorpd(d, d)  # sqrtsd merges into d's upper half: no false dependency
        a.sqrtsd(d, x)
        self.store(ref, d)

    def op_i2f(self, ref, ins) -> None:
        d = self.dest(ref, xmm15)
        src = ins.args[0]
        if src < 0:
            self.a.movsd(d, self.fconst(float(self.ival(src))))
        else:
            self.cvtsi2sd(d, self.operand(src))
        self.store(ref, d)

    def to_int(self, ref, x, mode: int | None) -> None:
        """Float ``x`` (rounded by roundsd ``mode`` first, or truncated) to int64, with
        CPython's errors: nan -> ValueError, inf -> OverflowError, beyond int64 ->
        OverflowError.  cvttsd2si gives INT64_MIN for all three, so only that value
        takes the slow path."""
        a = self.a
        if mode is not None:
            a.roundsd(xmm15, x, mode)
            x = xmm15
        d = self.dest(ref, rax)
        a.cvttsd2si(d, x)
        check, back = a.label(), a.label()
        a.mov(r11, INT64_MIN)
        a.cmp(d, r11)
        a.jcc("e", check)
        a.bind(back)
        self.store(ref, d)
        source = x

        def slow() -> None:
            a.bind(check)
            a.ucomisd(source, source)
            a.jcc("p", self.stub(NAN_TO_INT))
            a.ucomisd(source, self.fconst(-(2.0**63)))
            a.jcc("e", back)
            a.movsd(xmm14, self.bits_const(SIGN_BIT - 1))
            a.andpd(xmm14, source)
            a.ucomisd(xmm14, self.fconst(float("inf")))
            a.jcc("e", self.stub(INF_TO_INT))
            a.jmp(self.stub(INT_OVERFLOW))

        self.slow.append(slow)

    def op_f2i(self, ref, ins) -> None:
        self.to_int(ref, self.reg_of(ins.args[0], xmm15), None)

    def op_fround(self, ref, ins) -> None:
        self.to_int(ref, self.reg_of(ins.args[0], xmm15), ROUND_MODE[ins.op])

    op_ffloor = op_fceil = op_fround

    def fclass(self, ref, ins, kind: str) -> None:
        a = self.a
        x = self.reg_of(ins.args[0], xmm15)
        if kind == "nan":
            a.ucomisd(x, x)
            a.setcc("p", al)
        else:
            a.movsd(xmm14, self.bits_const(SIGN_BIT - 1))
            a.andpd(xmm14, x)
            a.movsd(xmm15, self.fconst(float("inf")))
            a.ucomisd(xmm15, xmm14)
            if kind == "finite":  # inf > |x|, ordered
                a.setcc("a", al)
            else:  # inf == |x|, ordered
                a.setcc("e", al)
                a.setcc("np", cl)
                a.and_(al, cl)
        d = self.dest(ref, rax)
        a.movzx(d, al)
        self.store(ref, d)

    def op_fisnan(self, ref, ins) -> None:
        self.fclass(ref, ins, "nan")

    def op_fisinf(self, ref, ins) -> None:
        self.fclass(ref, ins, "inf")

    def op_fisfinite(self, ref, ins) -> None:
        self.fclass(ref, ins, "finite")

    # -- calls -----------------------------------------------------------------------------
    def call_c(self, name: str, args: tuple[int, ...]) -> None:
        """Save the float arguments at [rsp], pass them in xmm0/xmm1, call libm."""
        a = self.a
        for i, arg in enumerate(args):
            self.load(xmm15, arg)
            a.movsd(qword[rsp + 8 * i], xmm15)
        for i in range(len(args)):
            a.movsd(XMM[i], qword[rsp + 8 * i])
        a.mov(rax, libm.address(name))
        a.call(rax)

    def any_infinite_arg(self, n: int, target) -> None:
        """Jump to ``target`` when one of the n saved call arguments is inf or nan."""
        a = self.a
        for i in range(n):
            a.movsd(xmm14, self.bits_const(SIGN_BIT - 1))
            a.movsd(xmm15, qword[rsp + 8 * i])
            a.andpd(xmm15, xmm14)
            a.ucomisd(xmm15, self.fconst(float("inf")))
            a.jcc("e", target)
            a.jcc("p", target)

    def op_libm(self, ref, ins) -> None:
        """CPython's math_1/math_2 rules: a nan from non-nan arguments is a domain error;
        an infinity from finite arguments is a range error for functions that can
        overflow, a domain error otherwise (math.pow(0.0, -1.0) is a domain error)."""
        a = self.a
        name = ins.aux
        self.call_c(name, ins.args)
        n = len(ins.args)
        if name not in libm.UNCHECKED:
            ok, inf_result = a.label(), a.label()
            a.ucomisd(xmm0, xmm0)
            a.jcc("np", inf_result)
            for i in range(n):  # nan result: fine if an argument was nan
                a.movsd(xmm15, qword[rsp + 8 * i])
                a.ucomisd(xmm15, xmm15)
                a.jcc("p", ok)
            a.jmp(self.stub(DOMAIN))
            a.bind(inf_result)
            a.movsd(xmm14, self.bits_const(SIGN_BIT - 1))
            a.andpd(xmm14, xmm0)
            a.ucomisd(xmm14, self.fconst(float("inf")))
            a.jcc("ne", ok)
            self.any_infinite_arg(n, ok)
            if name == "pow":  # 0.0 ** negative
                a.movsd(xmm15, qword[rsp])
                a.xorpd(xmm14, xmm14)
                a.ucomisd(xmm15, xmm14)
                a.jcc("e", self.stub(DOMAIN))
            a.jmp(self.stub(RANGE if name in libm.CAN_OVERFLOW else DOMAIN))
            a.bind(ok)
        d = self.dest(ref, xmm15)
        a.movapd(d, xmm0)
        self.store(ref, d)

    def op_fpow(self, ref, ins) -> None:
        """float ** float as CPython's float_pow: libm pow, whose C99 special cases match,
        plus the three places CPython differs: 0.0 ** negative raises ZeroDivisionError,
        negative ** fractional is complex (loud here), an overflow raises OverflowError."""
        a = self.a
        base, exponent = ins.args
        ok, checked, negative = a.label(), a.label(), a.label()
        x = self.reg_of(base, xmm15)
        a.xorpd(xmm14, xmm14)
        a.ucomisd(x, xmm14)
        a.jcc("p", checked)
        a.jcc("a", checked)
        a.jcc("ne", negative)
        # x == 0.0: a finite negative exponent fails (0.0 ** -inf is inf)
        a.ucomisd(xmm14, self.operand(exponent))
        a.jcc("be", checked)
        a.movsd(xmm14, self.operand(exponent))
        a.ucomisd(xmm14, self.fconst(float("-inf")))
        a.jcc("ne", self.stub(ZERO_NEG_POW))
        a.jmp(checked)
        a.bind(negative)  # x < 0: -inf, or an integral (or inf or nan) exponent
        a.ucomisd(x, self.fconst(float("-inf")))
        a.jcc("e", checked)
        y = self.reg_of(exponent, xmm15)
        a.roundsd(xmm14, y, 9)
        a.ucomisd(xmm14, y)
        a.jcc("p", checked)
        a.jcc("ne", self.stub(COMPLEX_POW))
        a.bind(checked)
        self.call_c("pow", ins.args)
        a.movsd(xmm14, self.bits_const(SIGN_BIT - 1))
        a.andpd(xmm14, xmm0)
        a.ucomisd(xmm14, self.fconst(float("inf")))
        a.jcc("ne", ok)
        self.any_infinite_arg(2, ok)  # an infinite result from finite arguments overflowed
        a.jmp(self.stub(RANGE))
        a.bind(ok)
        d = self.dest(ref, xmm15)
        a.movapd(d, xmm0)
        self.store(ref, d)

    def fmod_parts(self, ins, zero_code: int) -> None:
        """fmod(x, y) into xmm0, with x at [rsp] and y at [rsp + 8]; y == 0 fails."""
        self.zero_check(ins.args[1], zero_code)
        self.call_c("fmod", ins.args)

    def fix_mod(self, done) -> None:
        """CPython's float_rem on xmm0 = fmod(x, y): a non-zero remainder takes the
        divisor's sign by adding y; a zero one is copysign(0.0, y)."""
        a = self.a
        nonzero, same = a.label(), a.label()
        a.xorpd(xmm14, xmm14)
        a.ucomisd(xmm0, xmm14)
        a.jcc("p", nonzero)
        a.jcc("ne", nonzero)
        a.movsd(xmm0, qword[rsp + 8])  # copysign(0.0, y)
        a.movsd(xmm14, self.bits_const(SIGN_BIT))
        a.andpd(xmm0, xmm14)
        a.jmp(done)
        a.bind(nonzero)
        a.movq(rax, xmm0)
        a.mov(rcx, qword[rsp + 8])
        a.xor(rax, rcx)
        a.jcc("ns", same)
        a.ucomisd(xmm0, xmm0)  # nan remainder: (wx < 0) != (mod < 0) is false
        a.jcc("p", same)
        a.addsd(xmm0, qword[rsp + 8])
        a.bind(same)

    def op_fmod(self, ref, ins) -> None:
        a = self.a
        done = a.label()
        self.fmod_parts(ins, FLOAT_ZERO_MOD)
        self.fix_mod(done)
        a.bind(done)
        d = self.dest(ref, xmm15)
        a.movapd(d, xmm0)
        self.store(ref, d)

    def op_ffloordiv(self, ref, ins) -> None:
        """CPython's float_floor_div (via _float_div_mod), step by step."""
        a = self.a
        self.fmod_parts(ins, FLOAT_ZERO_FLOORDIV)
        # div = (x - mod) / y
        a.movsd(xmm15, qword[rsp])
        a.subsd(xmm15, xmm0)
        a.divsd(xmm15, qword[rsp + 8])
        adjusted, is_nan, zero, done = a.label(), a.label(), a.label(), a.label()
        a.xorpd(xmm14, xmm14)
        a.ucomisd(xmm0, xmm14)
        a.jcc("p", adjusted)
        a.jcc("e", adjusted)
        # mod != 0: when (y < 0) != (mod < 0), div -= 1.0 (the mod itself is unused)
        a.movq(rax, xmm0)
        a.mov(rcx, qword[rsp + 8])
        a.xor(rax, rcx)
        a.jcc("ns", adjusted)
        a.subsd(xmm15, self.fconst(1.0))
        a.bind(adjusted)
        a.xorpd(xmm14, xmm14)
        a.ucomisd(xmm15, xmm14)
        a.jcc("p", is_nan)
        a.jcc("e", zero)
        a.roundsd(xmm0, xmm15, 9)  # floordiv = floor(div), then up one if div - it > 0.5
        a.subsd(xmm15, xmm0)
        a.ucomisd(xmm15, self.fconst(0.5))
        a.jcc("be", done)
        a.addsd(xmm0, self.fconst(1.0))
        a.jmp(done)
        a.bind(is_nan)
        a.movapd(xmm0, xmm15)
        a.jmp(done)
        a.bind(zero)  # copysign(0.0, x / y)
        a.movsd(xmm0, qword[rsp])
        a.divsd(xmm0, qword[rsp + 8])
        a.movsd(xmm14, self.bits_const(SIGN_BIT))
        a.andpd(xmm0, xmm14)
        a.bind(done)
        d = self.dest(ref, xmm15)
        a.movapd(d, xmm0)
        self.store(ref, d)

    def op_call(self, ref, ins) -> None:
        a = self.a
        target = ins.aux
        pairs_int, pairs_float = [], []
        for arg in ins.args:
            if self.is_float(arg):
                pairs_float.append((16 + len(pairs_float), arg))
            else:
                pairs_int.append((INT_ARG_REGS[len(pairs_int)], arg))
        self.parallel_move(self.value_moves(pairs_int + pairs_float))
        if target.key == self.self_key:
            a.call(self.body)
        else:
            a.mov(rax, target.cell)
            a.call(qword[rax])
            self.callees.append(target)
        a.test(eax, eax)
        a.jcc("ne", self.epilogue)
        if ins.type == VOID or ref not in self.loc:
            return
        result = xmm0 if ins.type == FLOAT else rdx
        d = self.dest(ref, result)
        if d is not result:
            a.movapd(d, result) if result is xmm0 else a.mov(d, result)
        self.store(ref, d)

    def op_check(self, ref, ins) -> None:
        self.test_bool(ins.args[0])
        self.a.jcc("ne", self.stub(ins.aux))


EMIT = {op: getattr(CodeGen, "op_" + op.name.lower()) for op in Op
        if hasattr(CodeGen, "op_" + op.name.lower())}
