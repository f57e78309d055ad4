"""Instruction selection and emission: allocated IR to x86-64 through ``Assembler``.

``CodeGen`` holds what every op needs (operands, moves, frame, control flow,
compares, calls); each op is emitted by a function found through the ``EMIT``
table: ``intcode`` has the integer ops, ``floatcode`` the float ops, ``arraycode``
the array ops, all as ``op_name(g, ref, ins)``
with this ``CodeGen`` as ``g``.  Values live where
``regalloc`` put them; rax, rcx, rdx, r11, xmm14 and xmm15 are scratch
(``machine``).  Selection uses the machine's forms:
immediates and memory operands in ALU instructions, ``lea`` for wrapping adds
into a third register, a compare fused with the branch that uses it (no
boolean is materialised), SSE2 scalar doubles for floats.

Layout of one compiled function::

    entry:  push r15; push rdi; sub rsp, 8      ; the kernel convention (native.status)
            lea r15, [rsp - STACK_BUDGET]       ; stack limit for the whole call tree
            shift int args down one register; call body
            add rsp, 8; pop rdi; test eax, eax; jnz done; store the result via rdi
    done:   pop r15; ret                        ; (None: nothing to test and store)
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
from minijit.compiler import arraycode, floatcode, intcode
from minijit.compiler.ir import BOOL, FLOAT, INT, RECURSION, VOID, Function, Op
from minijit.compiler.machine import (
    CALL_SCRATCH, FLOAT_CC, GPR, GPR8, INT_ARG_REGS, MIRROR, NEGATE, PUBLIC_INT_ARGS,
    SCRATCH_OPS, SIGNED, STACK_BUDGET, XMM, al, byte, cl, eax, fits32, qword, r11, r15, rax,
    rdi, rdx, rsp, xmm0, xmm14, xmm15,
)
from minijit.compiler.regalloc import SLOT, Allocation

__all__ = ["CodeGen", "EMIT"]

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
        #: block id -> its index in ``alloc.order``
        self.place = {b.id: i for i, b in enumerate(alloc.order)}
        #: edge blocks whose phi moves run at their predecessor's branch -> (where they
        #: jump, after the compare?) (see ``hoisted_edges``)
        self.hoisted = self.hoisted_edges()
        self.stubs: dict[int, x86.Label] = {}
        self.pool: dict[bytes, x86.Label] = {}
        self.slow: list = []
        self.lines: list[tuple[x86.Label, int]] = []
        self.callees: list[object] = []
        self.body = self.a.label()
        self.epilogue = self.a.label()
        self.pool_start = self.a.label()
        #: the value whose zero flag the last emitted instruction set (and, or, xor)
        self.flags_of: int | None = None
        #: the block being emitted
        self.block = alloc.order[0]
        #: where the entry block's branch goes once ``early_return`` has tested it
        self.entry_goes_to: int | None = None
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
            if fits32(v):
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
    def move(self, dst: int, src: int, is_float: bool, src_is_ref: bool,
             keep_flags: bool = False) -> None:
        """Move a location (or, with ``src_is_ref``, a constant reference) into ``dst``
        (with ``keep_flags``, by instructions that leave the flags alone: no xor)."""
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
            if dst >= SLOT and fits32(v):
                a.mov(self.mem(dst), v)
                return
            target = GPR[dst] if dst < SLOT else r11
            a.xor(target, target) if v == 0 and not keep_flags else a.mov(target, v)
            if dst >= SLOT:
                a.mov(self.mem(dst), target)
        elif dst < SLOT:
            a.mov(GPR[dst], self.mem(src) if src >= SLOT else GPR[src])
        elif src >= SLOT:
            a.mov(r11, self.mem(src))
            a.mov(self.mem(dst), r11)
        else:
            a.mov(self.mem(dst), GPR[src])

    def parallel_move(self, moves: list[tuple[int, int, bool, bool]],
                      keep_flags: bool = False) -> None:
        """(dst, src, is_float, src is a constant ref); no move may read a clobbered dst.
        ``keep_flags``: see ``move``."""
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
            self.move(d, s, fl, True, keep_flags)

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
        order = self.layout()
        for i, block in enumerate(order):
            self.block = block
            self.a.bind(self.labels[block.id])
            # a block may be entered by a jump, and the branch that ends the block
            # before it has set the flags with its own test or compare anyway
            self.flags_of = None
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
                elif ins.op == Op.BR and block.id == 0 and self.entry_goes_to is not None:
                    self.jump_edge(0, self.entry_goes_to, nxt)  # tested before the frame
                elif ins.op == Op.BR:
                    self.branch(ins, nxt)
                elif ins.op == Op.RET:
                    self.ret(ins, nxt is None)
                else:
                    self.flags_of = None
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
        if result_type != VOID:  # the result is stored only when the status is 0
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
        if self.alloc.used_callee_saved or self.frame:
            self.early_return()  # uses no stack: before the limit check, too
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

    def early_return(self) -> None:
        """A base case returns before the frame is built: when the entry block only
        compares an int parameter with a constant and one way out only returns a
        parameter or a constant (``if n < 2: return n``), that test runs first on the
        argument register and the return needs no pushes and no pops; the entry block
        then goes straight to its other way out (``entry_goes_to``)."""
        f, a = self.f, self.a
        entry = [f.ins[r] for r in f.blocks[0].ins if f.ins[r].op != Op.PARAM]
        if len(entry) != 2 or entry[1].op != Op.BR or entry[0].op != Op.ICMP:
            return
        test = f.blocks[0].ins[-2]
        x, k = entry[0].args
        cond = entry[0].aux
        if x < 0:
            x, k, cond = k, x, MIRROR[cond]
        if x < 0 or k >= 0 or f.ins[x].op != Op.PARAM or entry[1].args[0] != test:
            return
        arg = self.arg_location(x)
        if arg is None or not fits32(self.ival(k)):
            return
        for taken, target, other in zip((True, False), entry[1].aux, entry[1].aux[::-1]):
            body = [f.ins[r] for r in f.blocks[target].ins]
            if len(body) != 1 or body[0].op != Op.RET or len(f.blocks[target].preds) != 1:
                continue
            value = body[0].args[0] if body[0].args else None
            place = None if value is None or value < 0 else self.arg_location(value)
            if value is not None and value >= 0 and (place is None or place >= 16):
                continue
            if value is not None and value < 0 and self.is_float(value):
                continue
            done = a.label()
            a.cmp(GPR[arg], self.ival(k))
            a.jcc(NEGATE[SIGNED[cond]] if taken else SIGNED[cond], done)
            if value is not None:
                self.load(rdx, value) if value < 0 else a.mov(rdx, GPR[place])
            a.xor(eax, eax)
            a.ret()
            a.bind(done)
            self.entry_goes_to = other
            return

    def arg_location(self, param: int) -> int | None:
        """The register an int parameter arrives in (internal convention), or None."""
        ins = self.f.ins[param]
        if ins.op != Op.PARAM or ins.type == FLOAT:
            return None
        ints = [p for p in self.f.blocks[0].ins
                if self.f.ins[p].op == Op.PARAM and self.f.ins[p].type != FLOAT]
        return INT_ARG_REGS[ints.index(param)]

    def epilogue_code(self) -> None:
        a = self.a
        a.bind(self.epilogue)
        if self.frame:
            a.add(rsp, self.frame)
        for reg in reversed(self.alloc.used_callee_saved):
            a.pop(GPR[reg])
        a.ret()

    # -- control flow ----------------------------------------------------------------------
    def edge_moves(self, src: int, dst: int) -> list[tuple[int, int, bool, bool]]:
        """The phi moves on the edge from block ``src`` to block ``dst``."""
        block = self.f.blocks[dst]
        index = block.preds.index(src)
        pairs = []
        for ref in block.ins:
            ins = self.f.ins[ref]
            if ins.op != Op.PHI:
                break
            if ref in self.loc:
                pairs.append((self.loc[ref], ins.args[index]))
        return self.value_moves(pairs)

    def jump_edge(self, src: int, dst: int, nxt: int | None) -> None:
        self.parallel_move(self.edge_moves(src, dst))
        dst = self.target[dst]
        if dst != nxt:
            self.a.jmp(self.labels[dst])

    def layout(self) -> list:
        """The blocks in the order their code goes: ``alloc.order``, without the blocks
        nothing jumps to, and with each loop's back-edge block that keeps its phi
        moves right after the branch that goes there.

        A block that only jumps on with nothing to move is never jumped to (jumps go
        to its target), nor is one whose moves run at its predecessor's branch
        (``hoisted_edges``): neither is laid out (but the entry, which the prologue
        runs into), so that a branch falls into the next block that is.  A back
        edge whose moves cannot run at the branch (the loop's exit needs what they
        overwrite: ``while nx < x: x = nx``, then ``return x``) has its block follow
        the branch, so that the loop falls into it and leaves by the jump: one taken
        jump an iteration instead of two."""
        order = [b for b in self.alloc.order if b.id == 0 or
                 b.id not in self.hoisted and self.target[b.id] == b.id]
        for block in [b for b in order if self.loop_head_of(b.id) is not None]:
            pred = self.f.blocks[block.preds[0]]
            if pred in order:
                order.remove(block)
                order.insert(order.index(pred) + 1, block)
        return order

    def loop_head_of(self, edge: int) -> int | None:
        """The loop head that block ``edge`` jumps back to, when it is a back edge's
        block of its one predecessor's branch (``split_critical_edges``): one JMP, to
        a block laid out no later than that predecessor; else None."""
        block = self.f.blocks[edge]
        if len(block.preds) != 1 or len(block.ins) != 1:
            return None
        jump = self.f.ins[block.ins[0]]
        pred = self.f.blocks[block.preds[0]]
        if jump.op != Op.JMP or not pred.ins or self.f.ins[pred.ins[-1]].op != Op.BR:
            return None
        place = self.place
        return jump.aux if place[jump.aux] <= place[pred.id] else None

    def hoisted_edges(self) -> dict[int, tuple[int, bool]]:
        """Back edges' blocks (``split_critical_edges``) whose phi moves run in their
        predecessor, at its branch, -> (the loop head they jump to, whether the moves
        go after the compare rather than before it).

        A loop whose counter and its next value are live at once (``a[i]`` and
        ``a[i + 1]``) ends in ``cmp; jl edge``, where the edge block copies the next
        value into the counter's register and jumps back to the loop's head: two
        taken jumps an iteration.  With the copy before the compare, the branch goes
        straight to the head.  When the compare reads what the moves overwrite
        (``while nx < x: x = nx``), they go between the compare and the jump, made of
        moves that leave the flags alone (and the compare then no longer fuses with
        the jump).  Either way the moves must write no location that the branch's
        other successor needs on entry."""
        hoisted = {}
        for block in self.alloc.order:
            br = self.f.ins[block.ins[-1]] if block.ins else None
            if block.id == 0 or br is None or br.op != Op.BR or br.args[0] < 0:
                continue
            cond = br.args[0]
            reads = {self.loc[r] for r in (self.f.ins[cond].args if cond in self.fused
                                           else (cond,)) if r in self.loc}
            then, else_ = br.aux
            for edge, other in ((then, else_), (else_, then)):
                dst = self.loop_head_of(edge)
                if dst is None:
                    continue  # no back edge's block (on the way out, moves run once)
                written = {move[0] for move in self.edge_moves(edge, dst)}
                needed = {self.loc[v] for v in self.alloc.live_in[other] if v in self.loc}
                if written and not written & needed:
                    hoisted[edge] = dst, bool(written & reads)
                    break
        return hoisted

    def branch(self, ins, nxt: int | None) -> None:
        late = []  # phi moves of a back edge that must wait for the compare
        for edge in ins.aux:
            if edge in self.hoisted:
                dst, after_compare = self.hoisted[edge]
                if after_compare:
                    late = self.edge_moves(edge, dst)
                else:  # here, before the compare
                    self.parallel_move(self.edge_moves(edge, dst))
                    self.flags_of = None
        then, else_ = (self.target[self.hoisted[b][0] if b in self.hoisted else b]
                       for b in ins.aux)
        cond = ins.args[0]
        if cond < 0:  # decided at compile time
            target = then if self.f.const_value(cond) else else_
            if target != nxt:
                self.a.jmp(self.labels[target])
            return
        if cond in self.fused:
            cins = self.f.ins[cond]
            x, zero = cins.args
            if (cins.op == Op.ICMP and cins.aux in ("eq", "ne") and x == self.flags_of
                    and zero < 0 and self.f.const_value(zero) == 0):
                spec = SIGNED[cins.aux]  # and/or/xor just set ZF for x: no compare
            else:
                spec = self.compare(cins)
        else:
            src = self.operand(cond)
            if src in GPR:
                self.a.test(src, src)
            else:
                self.a.cmp(src, 0)
            spec = "ne"
        self.parallel_move(late, keep_flags=True)
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
            if rhs == 0 and isinstance(lhs, x86.Reg):
                a.test(lhs, lhs)  # the same flags as cmp with 0, one byte shorter
            else:
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

    def test_bool(self, ref: int) -> None:
        if ref < 0:
            self.a.mov(r11, self.ival(ref))
            self.a.test(r11, r11)
            return
        src = self.operand(ref)
        self.a.test(src, src) if src in GPR else self.a.cmp(src, 0)

    # -- division, modulo, shifts, powers --------------------------------------------------

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


def _emitters() -> dict:
    """op -> emitter: ``CodeGen.op_x`` for control, compares and calls, else the
    function ``op_x(g, ref, ins)`` of ``intcode``, ``floatcode`` or ``arraycode``."""
    table = {}
    for op in Op:
        name = "op_" + op.name.lower()
        for home in (CodeGen, intcode, floatcode, arraycode):
            if hasattr(home, name):
                table[op] = getattr(home, name)
                break
    return table


EMIT = _emitters()
