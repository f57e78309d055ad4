"""Float instruction selection: SSE2 arithmetic, conversions, and CPython's float rules.

One function per IR op (``op_fadd(g, ref, ins)``), reached through the code
generator's ``EMIT`` table with the ``CodeGen`` as ``g``.  Plain arithmetic is
one SSE2 instruction in source order (nothing reassociated, no FMA), so
results are CPython's bit for bit.  The rest follows CPython's own algorithms
step by step: zero divisors, ``float % float`` and ``//`` (from libm's fmod),
``**`` (libm's pow plus CPython's three differences), math functions with
mathmodule's domain and range errors, conversions to int that raise on nan
and inf, and int / int rounded exactly.
"""

from __future__ import annotations

from minijit.compiler import libm
from minijit.compiler.ir import (
    COMPLEX_POW, DOMAIN, FLOAT_ZERO_DIV, FLOAT_ZERO_FLOORDIV, FLOAT_ZERO_MOD, INF_TO_INT,
    INT_OVERFLOW, NAN_TO_INT, RANGE, ZERO_DIV, ZERO_NEG_POW, Op,
)
from minijit.compiler.machine import (
    GPR, INT64_MIN, ROUND_MODE, SIGN_BIT, XMM, al, cl, qword, r11, rax, rcx, rdx, rsp, xmm0,
    xmm14, xmm15,
)
from minijit.compiler.regalloc import CALL_OPS, SLOT

TYPE_CHECKING = False  # typing takes milliseconds to import; type checkers read True
if TYPE_CHECKING:
    from minijit.compiler.codegen import CodeGen


def fbinary(g: CodeGen, ref, ins, method, commutative: bool = False) -> None:
    left, right = ins.args
    if commutative and left < 0 <= right:  # 0.25 * x: the constant as the memory operand
        left, right = right, left
    d = g.dest(ref, xmm15)
    if g.aliases(d, right) and not (left >= 0 and g.aliases(d, left)):
        d = xmm15
    g.load(d, left)
    method(d, g.operand(right))
    g.store(ref, d)
    if d is xmm15 and g.loc.get(ref, SLOT) < SLOT:
        g.a.movapd(g.dest(ref, xmm15), xmm15)


def op_fadd(g: CodeGen, ref, ins) -> None:
    fbinary(g, ref, ins, g.a.addsd, True)


def op_fsub(g: CodeGen, ref, ins) -> None:
    fbinary(g, ref, ins, g.a.subsd)


def op_fmul(g: CodeGen, ref, ins) -> None:
    fbinary(g, ref, ins, g.a.mulsd, True)


def zero_check(g: CodeGen, ref: int, code: int) -> None:
    """Jump to the status stub when float ``ref`` is +-0.0 (nan is not zero)."""
    a = g.a
    if ref < 0:
        if g.f.const_value(ref) == 0.0:
            a.jmp(g.stub(code))
        return
    ok = a.label()
    a.xorpd(xmm14, xmm14)
    a.ucomisd(g.reg_of(ref, xmm15), xmm14)
    a.jcc("p", ok)
    a.jcc("e", g.stub(code))
    a.bind(ok)


def converted_int(g: CodeGen, ref: int, x: int) -> int | None:
    """The int that float ``x`` was converted from (``float(n)``, ``1.0 / n``), when it
    still is where it was: ``x`` is an ``i2f`` earlier in the block of ``ref``, and
    nothing in between writes the int's location or calls out.  (Its conversion is
    0.0 exactly when it is 0, so testing it is testing ``x``.)"""
    if x < 0 or g.f.ins[x].op != Op.I2F or g.f.ins[x].args[0] < 0:
        return None
    code = g.block.ins
    if x not in code:
        return None
    n = g.f.ins[x].args[0]
    where = g.loc.get(n)
    between = code[code.index(x) + 1:code.index(ref)]
    if where is None or any(g.loc.get(r) == where or g.f.ins[r].op in CALL_OPS
                            for r in between):
        return None
    return n


def op_fdiv(g: CodeGen, ref, ins) -> None:
    n = converted_int(g, ref, ins.args[1])
    if n is None:
        zero_check(g, ins.args[1], FLOAT_ZERO_DIV)
    else:  # the int it was converted from: no float compare, no parity test
        src = g.operand(n)
        g.a.test(src, src) if src in GPR else g.a.cmp(src, 0)
        g.a.jcc("e", g.stub(FLOAT_ZERO_DIV))
    fbinary(g, ref, ins, g.a.divsd)


def op_itruediv(g: CodeGen, ref, ins) -> None:
    """int / int, correctly rounded as CPython's long_true_divide.  When both ints
    convert to float exactly, IEEE division is that rounding; otherwise the slow
    path divides the magnitudes as 128-bit integers, scaled so the quotient has
    60-61 bits, folds the remainder into a sticky bit, rounds once (cvtsi2sd) and
    scales back by an exact power of two."""
    a = g.a
    left, right = ins.args
    slow, back = a.label(), a.label()
    g.load(r11, right)
    a.test(r11, r11)
    a.jcc("e", g.stub(ZERO_DIV))
    g.load(rax, left)
    for reg in (r11, rax):
        g.cvtsi2sd(xmm14, reg)
        a.cvttsd2si(rcx, xmm14)
        a.cmp(rcx, reg)
        a.jcc("ne", slow)
    g.cvtsi2sd(xmm14, r11)
    g.cvtsi2sd(xmm15, rax)
    a.divsd(xmm15, xmm14)
    a.bind(back)
    d = g.dest(ref, xmm15)
    if d is not xmm15:
        a.movapd(d, xmm15)
    g.store(ref, d)
    g.slow.append(lambda: exact_int_division(g, slow, back))


def exact_int_division(g: CodeGen, slow, back) -> None:
    """rax / r11 (r11 != 0) into xmm15, exactly rounded; uses [rsp] for the sign."""
    a = g.a
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
    g.cvtsi2sd(xmm15, rax)
    a.mov(rax, 1023)
    a.sub(rax, qword[rsp + 8])
    a.shl(rax, 52)
    a.movq(xmm14, rax)  # 2 ** -k
    a.mulsd(xmm15, xmm14)
    a.bind(positive)
    a.mov(rax, qword[rsp])
    a.test(rax, rax)
    a.jcc("ns", back)
    a.movsd(xmm14, g.bits_const(SIGN_BIT))
    a.xorpd(xmm15, xmm14)
    a.jmp(back)
    a.bind(zero)
    a.xorpd(xmm15, xmm15)
    a.jmp(positive)


def op_fneg(g: CodeGen, ref, ins) -> None:
    sign_op(g, ref, ins, g.a.xorpd, SIGN_BIT)


def op_fabs(g: CodeGen, ref, ins) -> None:
    sign_op(g, ref, ins, g.a.andpd, SIGN_BIT - 1)


def sign_op(g: CodeGen, ref, ins, method, mask: int) -> None:
    d = g.dest(ref, xmm15)
    g.load(d, ins.args[0])
    g.a.movsd(xmm14, g.bits_const(mask))
    method(d, xmm14)
    g.store(ref, d)


def op_fsqrt(g: CodeGen, ref, ins) -> None:
    a = g.a
    x = g.reg_of(ins.args[0], xmm15)
    a.xorpd(xmm14, xmm14)
    a.ucomisd(xmm14, x)  # 0 > x, ordered: a negative argument
    a.jcc("a", g.stub(DOMAIN))
    d = g.dest(ref, xmm15)
    if d is not x:
        a.xorpd(d, d)  # sqrtsd merges into d's upper half: no false dependency
    a.sqrtsd(d, x)
    g.store(ref, d)


def op_i2f(g: CodeGen, ref, ins) -> None:
    d = g.dest(ref, xmm15)
    src = ins.args[0]
    if src < 0:
        g.a.movsd(d, g.fconst(float(g.ival(src))))
    else:
        g.cvtsi2sd(d, g.operand(src))
    g.store(ref, d)


def to_int(g: CodeGen, ref, x, mode: int | None) -> None:
    """Float ``x`` (rounded by roundsd ``mode`` first, or truncated) to int64, with
    CPython's errors: nan -> ValueError, inf -> OverflowError, beyond int64 ->
    OverflowError.  cvttsd2si gives INT64_MIN for all three, so only that value
    takes the slow path."""
    a = g.a
    if mode is not None:
        a.roundsd(xmm15, x, mode)
        x = xmm15
    d = g.dest(ref, rax)
    a.cvttsd2si(d, x)
    check, back = a.label(), a.label()
    a.mov(r11, INT64_MIN)
    a.cmp(d, r11)
    a.jcc("e", check)
    a.bind(back)
    g.store(ref, d)
    source = x

    def slow() -> None:
        a.bind(check)
        a.ucomisd(source, source)
        a.jcc("p", g.stub(NAN_TO_INT))
        a.ucomisd(source, g.fconst(-(2.0**63)))
        a.jcc("e", back)
        a.movsd(xmm14, g.bits_const(SIGN_BIT - 1))
        a.andpd(xmm14, source)
        a.ucomisd(xmm14, g.fconst(float("inf")))
        a.jcc("e", g.stub(INF_TO_INT))
        a.jmp(g.stub(INT_OVERFLOW))

    g.slow.append(slow)


def op_f2i(g: CodeGen, ref, ins) -> None:
    to_int(g, ref, g.reg_of(ins.args[0], xmm15), None)


def op_fround(g: CodeGen, ref, ins) -> None:
    to_int(g, ref, g.reg_of(ins.args[0], xmm15), ROUND_MODE[ins.op])

op_ffloor = op_fceil = op_fround


def fclass(g: CodeGen, ref, ins, kind: str) -> None:
    a = g.a
    x = g.reg_of(ins.args[0], xmm15)
    if kind == "nan":
        a.ucomisd(x, x)
        a.setcc("p", al)
    else:
        a.movsd(xmm14, g.bits_const(SIGN_BIT - 1))
        a.andpd(xmm14, x)
        a.movsd(xmm15, g.fconst(float("inf")))
        a.ucomisd(xmm15, xmm14)
        if kind == "finite":  # inf > |x|, ordered
            a.setcc("a", al)
        else:  # inf == |x|, ordered
            a.setcc("e", al)
            a.setcc("np", cl)
            a.and_(al, cl)
    d = g.dest(ref, rax)
    a.movzx(d, al)
    g.store(ref, d)


def op_fisnan(g: CodeGen, ref, ins) -> None:
    fclass(g, ref, ins, "nan")


def op_fisinf(g: CodeGen, ref, ins) -> None:
    fclass(g, ref, ins, "inf")


def op_fisfinite(g: CodeGen, ref, ins) -> None:
    fclass(g, ref, ins, "finite")

# -- calls -----------------------------------------------------------------------------


def call_c(g: CodeGen, name: str, args: tuple[int, ...]) -> None:
    """Save the float arguments at [rsp], pass them in xmm0/xmm1, call libm."""
    a = g.a
    for i, arg in enumerate(args):
        g.load(xmm15, arg)
        a.movsd(qword[rsp + 8 * i], xmm15)
    for i in range(len(args)):
        a.movsd(XMM[i], qword[rsp + 8 * i])
    a.mov(rax, libm.address(name))
    a.call(rax)


def any_infinite_arg(g: CodeGen, n: int, target) -> None:
    """Jump to ``target`` when one of the n saved call arguments is inf or nan."""
    a = g.a
    for i in range(n):
        a.movsd(xmm14, g.bits_const(SIGN_BIT - 1))
        a.movsd(xmm15, qword[rsp + 8 * i])
        a.andpd(xmm15, xmm14)
        a.ucomisd(xmm15, g.fconst(float("inf")))
        a.jcc("e", target)
        a.jcc("p", target)


def op_libm(g: CodeGen, ref, ins) -> None:
    """CPython's math_1/math_2 rules: a nan from non-nan arguments is a domain error;
    an infinity from finite arguments is a range error for functions that can
    overflow, a domain error otherwise (math.pow(0.0, -1.0) is a domain error)."""
    a = g.a
    name = ins.aux
    call_c(g, name, ins.args)
    n = len(ins.args)
    if name not in libm.UNCHECKED:
        ok, inf_result = a.label(), a.label()
        a.ucomisd(xmm0, xmm0)
        a.jcc("np", inf_result)
        for i in range(n):  # nan result: fine if an argument was nan
            a.movsd(xmm15, qword[rsp + 8 * i])
            a.ucomisd(xmm15, xmm15)
            a.jcc("p", ok)
        a.jmp(g.stub(DOMAIN))
        a.bind(inf_result)
        a.movsd(xmm14, g.bits_const(SIGN_BIT - 1))
        a.andpd(xmm14, xmm0)
        a.ucomisd(xmm14, g.fconst(float("inf")))
        a.jcc("ne", ok)
        any_infinite_arg(g, n, ok)
        if name == "pow":  # 0.0 ** negative
            a.movsd(xmm15, qword[rsp])
            a.xorpd(xmm14, xmm14)
            a.ucomisd(xmm15, xmm14)
            a.jcc("e", g.stub(DOMAIN))
        a.jmp(g.stub(RANGE if name in libm.CAN_OVERFLOW else DOMAIN))
        a.bind(ok)
    d = g.dest(ref, xmm15)
    a.movapd(d, xmm0)
    g.store(ref, d)


def op_fpow(g: CodeGen, ref, ins) -> None:
    """float ** float as CPython's float_pow: libm pow, whose C99 special cases match,
    plus the three places CPython differs: 0.0 ** negative raises ZeroDivisionError,
    negative ** fractional is complex (loud here), an overflow raises OverflowError."""
    a = g.a
    base, exponent = ins.args
    ok, checked, negative = a.label(), a.label(), a.label()
    x = g.reg_of(base, xmm15)
    a.xorpd(xmm14, xmm14)
    a.ucomisd(x, xmm14)
    a.jcc("p", checked)
    a.jcc("a", checked)
    a.jcc("ne", negative)
    # x == 0.0: a finite negative exponent fails (0.0 ** -inf is inf)
    a.ucomisd(xmm14, g.operand(exponent))
    a.jcc("be", checked)
    a.movsd(xmm14, g.operand(exponent))
    a.ucomisd(xmm14, g.fconst(float("-inf")))
    a.jcc("ne", g.stub(ZERO_NEG_POW))
    a.jmp(checked)
    a.bind(negative)  # x < 0: -inf, or an integral (or inf or nan) exponent
    a.ucomisd(x, g.fconst(float("-inf")))
    a.jcc("e", checked)
    y = g.reg_of(exponent, xmm15)
    a.roundsd(xmm14, y, 9)
    a.ucomisd(xmm14, y)
    a.jcc("p", checked)
    a.jcc("ne", g.stub(COMPLEX_POW))
    a.bind(checked)
    call_c(g, "pow", ins.args)
    a.movsd(xmm14, g.bits_const(SIGN_BIT - 1))
    a.andpd(xmm14, xmm0)
    a.ucomisd(xmm14, g.fconst(float("inf")))
    a.jcc("ne", ok)
    any_infinite_arg(g, 2, ok)  # an infinite result from finite arguments overflowed
    a.jmp(g.stub(RANGE))
    a.bind(ok)
    d = g.dest(ref, xmm15)
    a.movapd(d, xmm0)
    g.store(ref, d)


def fmod_parts(g: CodeGen, ins, zero_code: int) -> None:
    """fmod(x, y) into xmm0, with x at [rsp] and y at [rsp + 8]; y == 0 fails."""
    zero_check(g, ins.args[1], zero_code)
    call_c(g, "fmod", ins.args)


def fix_mod(g: CodeGen, done) -> None:
    """CPython's float_rem on xmm0 = fmod(x, y): a non-zero remainder takes the
    divisor's sign by adding y; a zero one is copysign(0.0, y)."""
    a = g.a
    nonzero, same = a.label(), a.label()
    a.xorpd(xmm14, xmm14)
    a.ucomisd(xmm0, xmm14)
    a.jcc("p", nonzero)
    a.jcc("ne", nonzero)
    a.movsd(xmm0, qword[rsp + 8])  # copysign(0.0, y)
    a.movsd(xmm14, g.bits_const(SIGN_BIT))
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


def op_fmod(g: CodeGen, ref, ins) -> None:
    a = g.a
    done = a.label()
    fmod_parts(g, ins, FLOAT_ZERO_MOD)
    fix_mod(g, done)
    a.bind(done)
    d = g.dest(ref, xmm15)
    a.movapd(d, xmm0)
    g.store(ref, d)


def op_ffloordiv(g: CodeGen, ref, ins) -> None:
    """CPython's float_floor_div (via _float_div_mod), step by step."""
    a = g.a
    fmod_parts(g, ins, FLOAT_ZERO_FLOORDIV)
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
    a.subsd(xmm15, g.fconst(1.0))
    a.bind(adjusted)
    a.xorpd(xmm14, xmm14)
    a.ucomisd(xmm15, xmm14)
    a.jcc("p", is_nan)
    a.jcc("e", zero)
    a.roundsd(xmm0, xmm15, 9)  # floordiv = floor(div), then up one if div - it > 0.5
    a.subsd(xmm15, xmm0)
    a.ucomisd(xmm15, g.fconst(0.5))
    a.jcc("be", done)
    a.addsd(xmm0, g.fconst(1.0))
    a.jmp(done)
    a.bind(is_nan)
    a.movapd(xmm0, xmm15)
    a.jmp(done)
    a.bind(zero)  # copysign(0.0, x / y)
    a.movsd(xmm0, qword[rsp])
    a.divsd(xmm0, qword[rsp + 8])
    a.movsd(xmm14, g.bits_const(SIGN_BIT))
    a.andpd(xmm0, xmm14)
    a.bind(done)
    d = g.dest(ref, xmm15)
    a.movapd(d, xmm0)
    g.store(ref, d)
