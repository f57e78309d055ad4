"""The machine as code generation sees it: registers by number, conventions, constants.

General registers are listed by hardware number (``GPR[0]`` is rax), so a location
from ``regalloc`` indexes them directly; xmm registers likewise.  rax, rcx, rdx,
r11, xmm14 and xmm15 are scratch for instruction sequences; r15 holds the stack
limit of the current call from Python.
"""

from __future__ import annotations

import minijit.x86 as x86
from minijit.compiler.ir import Op

#: bytes of machine stack one call from Python may use before RecursionError
STACK_BUDGET = 1 << 20
_G = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + [f"r{i}" for i in range(8, 16)]
_G8 = ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"] + [f"r{i}b" for i in range(8, 16)]
GPR = [getattr(x86, n) for n in _G]
GPR8 = [getattr(x86, n) for n in _G8]
GPR32 = [getattr(x86, "e" + n[1:] if n[0] == "r" and n[1].isalpha() else n + "d") for n in _G]
XMM = [getattr(x86, f"xmm{i}") for i in range(16)]
rax, rcx, rdx, rsp, rdi, r11, r15 = GPR[0], GPR[1], GPR[2], GPR[4], GPR[7], GPR[11], GPR[15]
al, cl = GPR8[0], GPR8[1]
eax = x86.eax
xmm0, xmm14, xmm15 = XMM[0], XMM[14], XMM[15]
qword, dword, byte = x86.qword, x86.dword, x86.byte
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


def fits32(v: int) -> bool:
    return -(1 << 31) <= v < (1 << 31)
