"""Integer instruction selection: checked and wrapping arithmetic, division, shifts, powers.

One function per IR op (``op_iadd(g, ref, ins)``), reached through the code
generator's ``EMIT`` table with the ``CodeGen`` as ``g``.  Checked operations
end in ``jo`` to the overflow stub.  Python's floor division and modulo are
built on idiv (with x // -1 done as a negation, which idiv would trap on), or
on a multiply by a magic number for constant divisors; shifts check the
count's sign and, for <<, that no bit is lost.
"""

from __future__ import annotations

from minijit.compiler.ir import (
    INT_OVERFLOW, INT_ZERO_DIV, INT_ZERO_MOD, NEG_POW, NEG_SHIFT, ZERO_NEG_POW,
)
from minijit.compiler.machine import (
    GPR, GPR32, cl, fits32, qword, r11, rax, rcx, rdx, xmm14, xmm15,
)
from minijit.compiler.regalloc import SLOT

LOW_HALF = 0xFFFFFFFF  # x & LOW_HALF: the low 32 bits, what a 32-bit move keeps

TYPE_CHECKING = False  # typing takes milliseconds to import; type checkers read True
if TYPE_CHECKING:
    from minijit.compiler.codegen import CodeGen


def binary(g: CodeGen, ref: int, ins, emit, commutative: bool) -> None:
    left, right = ins.args
    if left < 0 and commutative:  # the constant goes where an immediate can be
        left, right = right, left
    d = g.dest(ref, rax)
    if g.aliases(d, right) and not (left >= 0 and g.aliases(d, left)):
        if commutative:
            left, right = right, left
        else:
            d = rax
    g.load(d, left)
    emit(d, g.operand(right))
    g.store(ref, d)
    if d is rax and g.loc.get(ref, SLOT) < SLOT:
        g.a.mov(g.dest(ref, rax), rax)


def checked(g: CodeGen, code: int):
    def after() -> None:
        g.a.jcc("o", g.stub(code))
    return after


def op_iadd(g: CodeGen, ref, ins) -> None:
    binary(g, ref, ins, lambda d, s: (g.a.add(d, s), checked(g, INT_OVERFLOW)()),
                True)


def op_isub(g: CodeGen, ref, ins) -> None:
    binary(g, ref, ins, lambda d, s: (g.a.sub(d, s), checked(g, INT_OVERFLOW)()),
                False)


def op_imul(g: CodeGen, ref, ins) -> None:
    if imul_immediate(g, ref, ins):
        g.a.jcc("o", g.stub(INT_OVERFLOW))
        return
    binary(g, ref, ins, lambda d, s: (imul(g, d, s), checked(g, INT_OVERFLOW)()),
                True)


def constant_last(args: tuple[int, int]) -> tuple[int, int]:
    """The two operands of a commutative op, a constant (negative ref) second if there
    is one."""
    return args if args[1] < 0 else args[::-1]


def imul_immediate(g: CodeGen, ref, ins) -> bool:
    """d = x * imm32 in one three-operand imul; False when the form does not apply."""
    x, c = constant_last(ins.args)
    if x < 0 or c >= 0 or not fits32(g.ival(c)):
        return False
    d = g.dest(ref, rax)
    g.a.imul(d, g.operand(x), g.ival(c))
    g.store(ref, d)
    return True


def imul(g: CodeGen, d, s) -> None:
    if isinstance(s, int):
        g.a.imul(d, d, s)
    else:
        g.a.imul(d, s)


def op_wadd(g: CodeGen, ref, ins) -> None:
    left, right = ins.args
    d = g.dest(ref, rax)
    if left < 0:
        left, right = right, left
    if (left >= 0 and g.loc[left] < SLOT
            and (right < 0 and fits32(g.ival(right))
                 or right >= 0 and g.loc[right] < SLOT)):
        base = g.operand(left)
        other = g.operand(right)
        g.a.lea(d, qword[base + other])  # a third register, flags untouched
        g.store(ref, d)
        return
    binary(g, ref, ins, lambda d, s: g.a.add(d, s), True)


def op_wsub(g: CodeGen, ref, ins) -> None:
    binary(g, ref, ins, lambda d, s: g.a.sub(d, s), False)


def op_wmul(g: CodeGen, ref, ins) -> None:
    x, c = constant_last(ins.args)
    k = g.f.power_of_two(c) if x >= 0 else None
    if k is not None:  # x * 2**k that cannot overflow: x << k
        in_place(g, ref, x, lambda d: g.a.shl(d, k))
    elif not imul_immediate(g, ref, ins):
        binary(g, ref, ins, lambda d, s: imul(g, d, s), True)


def op_iand(g: CodeGen, ref, ins) -> None:
    x, c = constant_last(ins.args)
    if x >= 0 and c < 0 and g.ival(c) == LOW_HALF:  # a 32-bit move zeroes the high half
        in_place(g, ref, x, lambda d: g.a.mov(GPR32[GPR.index(d)], GPR32[GPR.index(d)]))
        return  # (and sets no flags, so no flags_of)
    binary(g, ref, ins, logic(g, g.a.and_), True)
    g.flags_of = ref


def op_ior(g: CodeGen, ref, ins) -> None:
    binary(g, ref, ins, logic(g, g.a.or_), True)
    g.flags_of = ref


def op_ixor(g: CodeGen, ref, ins) -> None:
    binary(g, ref, ins, logic(g, g.a.xor), True)
    g.flags_of = ref


def logic(g: CodeGen, method):
    def emit(d, s) -> None:
        if isinstance(s, int) and not fits32(s):
            g.a.mov(r11, s)
            s = r11
        method(d, s)
    return emit


def unary(g: CodeGen, ref, ins, emit) -> None:
    in_place(g, ref, ins.args[0], emit)


def in_place(g: CodeGen, ref: int, x: int, emit) -> None:
    """``ref`` computed by ``emit(d)`` on ``x`` loaded into ``ref``'s register ``d``."""
    d = g.dest(ref, rax)
    g.load(d, x)
    emit(d)
    g.store(ref, d)


def op_ineg(g: CodeGen, ref, ins) -> None:
    unary(g, ref, ins, lambda d: (g.a.neg(d), checked(g, INT_OVERFLOW)()))


def op_iinv(g: CodeGen, ref, ins) -> None:
    unary(g, ref, ins, g.a.not_)


def op_iabs(g: CodeGen, ref, ins) -> None:
    def emit(d) -> None:
        g.a.mov(rax, d)
        g.a.neg(rax)
        g.a.jcc("o", g.stub(INT_OVERFLOW))
        g.a.cmovcc("ns", d, rax)
    d = g.dest(ref, rcx)
    g.load(d, ins.args[0])
    emit(d)
    g.store(ref, d)


def op_copy(g: CodeGen, ref, ins) -> None:
    d = g.dest(ref, xmm15 if g.is_float(ref) else rax)
    g.load(d, ins.args[0])
    g.store(ref, d)

op_b2i = op_copy


def op_bnot(g: CodeGen, ref, ins) -> None:
    unary(g, ref, ins, lambda d: g.a.xor(d, 1))


def op_select(g: CodeGen, ref, ins) -> None:
    cond, yes, no = ins.args
    a = g.a
    if g.is_float(ref):
        skip = a.label()
        d = g.dest(ref, xmm15)
        g.load(xmm14, yes)
        g.load(d, no)
        g.test_bool(cond)
        a.jcc("e", skip)
        a.movapd(d, xmm14)
        a.bind(skip)
        g.store(ref, d)
        return
    g.load(rax, no)
    g.load(rcx, yes)
    g.test_bool(cond)
    a.cmovcc("ne", rax, rcx)
    d = g.dest(ref, rax)
    if d is not rax:
        a.mov(d, rax)
    g.store(ref, d)


def divide(g: CodeGen, ref, ins, want_mod: bool, zero_code: int) -> None:
    """Python's floor // and %: idiv truncates, so a non-zero remainder whose sign
    differs from the divisor's moves the quotient down one and the remainder up by
    the divisor.  x // -1 is a negation (idiv would trap on INT64_MIN)."""
    a = g.a
    left, right = ins.args
    divisor = g.ival(right) if right < 0 else None
    if divisor == 0:
        a.jmp(g.stub(zero_code))
        return
    done = a.label()
    g.load(r11, right)
    g.load(rax, left)
    if divisor is None:
        a.test(r11, r11)
        a.jcc("e", g.stub(zero_code))
    if divisor is None or divisor == -1:
        general = a.label()
        a.cmp(r11, -1)
        a.jcc("ne", general)
        if want_mod:
            a.xor(GPR[2], GPR[2])
        else:
            a.neg(rax)
            a.jcc("o", g.stub(INT_OVERFLOW))
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
    d = g.dest(ref, result)
    if d is not result:
        a.mov(d, result)
    g.store(ref, d)


def op_ifloordiv(g: CodeGen, ref, ins) -> None:
    if not divide_by_constant(g, ref, ins, False):
        divide(g, ref, ins, False, INT_ZERO_DIV)


def op_imod(g: CodeGen, ref, ins) -> None:
    if not divide_by_constant(g, ref, ins, True):
        divide(g, ref, ins, True, INT_ZERO_MOD)


def divide_by_constant(g: CodeGen, ref, ins, want_mod: bool) -> bool:
    """x // d and x % d for a constant d > 1 without idiv (Granlund and Montgomery,
    "Division by invariant integers using multiplication", signed case): the
    truncated quotient is ((x + mulsh(m - 2**64, x)) >> (l - 1)) - (x >> 63) with
    l = bitlen(d - 1) and m = 1 + 2**(63 + l) // d; then Python's floor: a negative
    remainder moves the quotient down one and the remainder up by d."""
    a = g.a
    x, divisor = ins.args
    d = g.ival(divisor) if divisor < 0 else 0
    if d < 2 or not fits32(d):
        return False
    shift = (d - 1).bit_length()
    m = 1 + (1 << (63 + shift)) // d
    g.load(rcx, x)
    a.mov(rax, m - (1 << 64))
    a.imul(rcx)  # rdx = high half of x * (m - 2**64)
    a.add(rdx, rcx)
    if shift > 1:
        a.sar(rdx, shift - 1)
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
    dest = g.dest(ref, result)
    if dest is not result:
        a.mov(dest, result)
    g.store(ref, dest)
    return True


def op_udiv(g: CodeGen, ref, ins) -> None:
    g.load(r11, ins.args[1])
    g.load(rax, ins.args[0])
    g.a.xor(GPR[2], GPR[2])
    g.a.div(r11)
    d = g.dest(ref, rax)
    if d is not rax:
        g.a.mov(d, rax)
    g.store(ref, d)


def shift(g: CodeGen, ref, ins, left_shift: bool) -> None:
    a = g.a
    value, count = ins.args
    done, big = a.label(), a.label()
    if count < 0 and g.ival(count) < 0:
        a.jmp(g.stub(NEG_SHIFT))
        return
    if count < 0 and not left_shift:  # x >> k: one sar (k >= 64 fills with the sign)
        unary(g, ref, ins, lambda d: a.sar(d, min(g.ival(count), 63)))
        return
    g.load(rcx, count)
    g.load(rax, value)
    if count >= 0:  # a variable count may be negative
        a.test(rcx, rcx)
        a.jcc("s", g.stub(NEG_SHIFT))
    a.cmp(rcx, 63)
    a.jcc("a", big)
    if left_shift:  # shift, shift back, and compare: a lost bit is an overflow
        a.mov(rdx, rax)
        a.shl(rdx, cl)
        a.mov(r11, rdx)
        a.sar(r11, cl)
        a.cmp(r11, rax)
        a.jcc("ne", g.stub(INT_OVERFLOW))
        a.mov(rax, rdx)
    else:
        a.sar(rax, cl)
    a.jmp(done)
    a.bind(big)
    if left_shift:  # only 0 survives a shift by 64 or more
        a.test(rax, rax)
        a.jcc("ne", g.stub(INT_OVERFLOW))
    else:
        a.sar(rax, 63)
    a.bind(done)
    d = g.dest(ref, rax)
    if d is not rax:
        a.mov(d, rax)
    g.store(ref, d)


def op_ishl(g: CodeGen, ref, ins) -> None:
    shift(g, ref, ins, True)


def op_ishr(g: CodeGen, ref, ins) -> None:
    shift(g, ref, ins, False)


def op_ipow(g: CodeGen, ref, ins) -> None:
    """Square and multiply; every product is checked.  The base is squared only
    while exponent bits remain, so a base overflow means a result overflow."""
    a = g.a
    base, exponent = ins.args
    loop, skip, done = a.label(), a.label(), a.label()
    g.load(r11, base)
    g.load(rcx, exponent)
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
    a.jcc("o", g.stub(INT_OVERFLOW))
    a.bind(skip)
    a.shr(rcx, 1)
    a.jcc("e", done)
    a.imul(r11, r11)
    a.jcc("o", g.stub(INT_OVERFLOW))
    a.jmp(loop)
    a.bind(done)
    d = g.dest(ref, rax)
    if d is not rax:
        a.mov(d, rax)
    g.store(ref, d)

    def negative_exponent() -> None:  # CPython: 0 ** -n divides by zero, else a float
        a.bind(negative)
        a.test(r11, r11)
        a.jcc("e", g.stub(ZERO_NEG_POW))
        a.jmp(g.stub(NEG_POW))

    g.slow.append(negative_exponent)

# -- floats ----------------------------------------------------------------------------
