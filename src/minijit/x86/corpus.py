"""A corpus of Intel-syntax instructions covering every form in the table.

``corpus()`` walks the instruction table and, for each form, writes instructions
with operands drawn from sample lists: registers that exercise REX and its absence
(rax, rsp, rbp, r8, r12, r13, r15; spl/sil; xmm8-15), memory operands that exercise
every ModRM/SIB special case (rsp/r12 base, rbp/r13 base without displacement,
no base, index without base, rip-relative, disp8/disp32 boundaries), and
immediates at the edges of their ranges.  Every line is valid for GNU as
(``.intel_syntax noprefix``); the oracle tests assemble it with both and compare,
and the disassembler tests decode it.  ``branch_program()`` is a program of
branches, labels and alignment for relaxation.
"""

from __future__ import annotations

from itertools import cycle, islice

from minijit.x86.registers import SIZE_NAMES
from minijit.x86.table import CONDITION_ALIASES, forms

__all__ = ["MEMORY", "SAMPLES", "branch_program", "corpus"]

SAMPLES = {
    "r8": ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil", "r8b", "r12b", "r15b"],
    "r16": ["ax", "cx", "dx", "sp", "bp", "si", "r8w", "r13w", "r15w"],
    "r32": ["eax", "ecx", "edx", "esp", "ebp", "edi", "r8d", "r12d", "r15d"],
    "r64": ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r12", "r13",
            "r15"],
    "xmm": ["xmm0", "xmm1", "xmm5", "xmm7", "xmm8", "xmm9", "xmm15"],
    "ymm": ["ymm0", "ymm2", "ymm6", "ymm7", "ymm8", "ymm11", "ymm15"],
    "k": ["k0", "k1", "k2", "k7"],
}
# Every special case of ModRM/SIB addressing.
MEMORY = [
    "[rax]", "[rcx + 8]", "[rsp]", "[r12]", "[rbp]", "[r13]", "[rsp + 8]", "[r12 - 8]",
    "[rbp + 0x10]", "[r13 + 127]", "[rax + 128]", "[rdx - 128]", "[rbx - 129]",
    "[rsi + 0x12345678]", "[rdi - 0x80000000]", "[0x1000]", "[0x7fffffff]",
    "[rcx*8]", "[rdx*2 + 0x40]", "[rax + rcx]", "[rax + rcx*2]", "[rsp + rbp*4 + 16]",
    "[r8 + r9*8 - 4]", "[r12 + r13*1]", "[rbp + r12*2]", "[r13 + rax*4 + 0x1000]",
    "[r15 + r14*8 + 0x7fffffff]", "[rip + 0x100]", "[rip - 8]", "[rip]",
]
MEMORY_PER_FORM = 7
# movabs's 64-bit absolute addresses (moffs)
ABSOLUTE = ["[0x1122334455667788]", "[0]", "[0x7fffffff]", "[0xfffffffffffffff0]"]
# Immediate samples per (bits, signed extension).
IMMEDIATES = {
    ("imm8", True): ["0", "1", "-1", "127", "-128", "0x55"],
    ("imm8", False): ["0", "1", "255", "-128", "0x7f", "0x80"],
    ("imm16", False): ["0", "0x1234", "0xffff", "-32768", "-1"],
    ("imm32", True): ["0", "0x12345678", "0x7fffffff", "-0x80000000", "-1", "128", "-129"],
    ("imm32", False): ["0", "0x12345678", "0xffffffff", "-0x80000000", "-1", "128"],
    ("imm64", False): ["0x123456789abcdef0", "-0x8000000000000000", "0xffffffffffffffff",
                       "0x80000000", "1"],
}


# EVEX forms also take registers 16-31; a destination gets masks.
EVEX_SAMPLES = {
    "xmm": ["xmm0", "xmm16", "xmm9", "xmm31", "xmm1", "xmm24", "xmm15"],
    "ymm": ["ymm1", "ymm17", "ymm8", "ymm30", "ymm2", "ymm25", "ymm14"],
    "zmm": ["zmm0", "zmm1", "zmm8", "zmm15", "zmm16", "zmm23", "zmm31"],
    "k": ["k0", "k1", "k5", "k7"],
}
MASKS = ["", " {k1}", " {k7}{z}", "", " {k3}"]


def _operand_samples(form, i: int) -> list[str]:
    spec = form.operands[i].replace("{k}", "").replace("{z}", "").strip()
    fixed = form.fixed[i]
    if fixed is not None:
        return [fixed]
    if form.roles[i] == "moffs":
        keyword = SIZE_NAMES[int(spec[5:])] + " ptr "
        return [keyword + m for m in ABSOLUTE] + ABSOLUTE
    kinds = form.kinds[i]
    if kinds == ("imm",):
        bits = spec.rstrip("0123456789") and spec
        if form.mnemonic in ("push",):
            return IMMEDIATES[(spec, True)] if spec == "imm8" else \
                ["0x12345678", "-0x80000000", "0x7fffffff", "200", "-200"]
        if spec == "imm32" and form.size == 64:
            return IMMEDIATES[("imm32", True)]
        if spec == "imm8":
            return IMMEDIATES[("imm8", form.sext)]
        return IMMEDIATES[(bits, False)]
    out: list[str] = []
    table = EVEX_SAMPLES if form.evex is not None else SAMPLES
    for kind in kinds:
        if kind in table:
            out += table[kind]
        elif kind in SAMPLES:
            out += SAMPLES[kind]
        elif kind[0] == "b":
            lanes = (128 << form.evex[0]) // int(kind[1:])
            keyword = SIZE_NAMES[int(kind[1:])]
            out += [f"{keyword} ptr {m}{{1to{lanes}}}" for m in ("[rax]", "[rsp + 64]",
                                                              "[rcx + rdx*8 - 1024]")]
        elif kind[0] == "m":
            # A rotating slice of the addressing cases: all of them over the table.
            start = form.index * MEMORY_PER_FORM % len(MEMORY)
            memory = list(islice(cycle(MEMORY), start, start + MEMORY_PER_FORM))
            keyword = SIZE_NAMES[int(kind[1:])] + " ptr " if kind != "m" else ""
            out += [keyword + m for m in memory]
    return out


def _lines_for(form) -> list[str]:
    if form.rel_size:
        return []
    samples = [_operand_samples(form, i) for i in range(len(form.operands))]
    if not samples:
        return [form.mnemonic]
    count = max(len(s) for s in samples)
    columns = [list(islice(cycle(s), count)) for s in samples]
    # Shift each column so that registers pair with different registers.
    rows = [[col[(j + 3 * k) % count] for k, col in enumerate(columns)] for j in range(count)]
    lines = []
    if form.masked:
        # (GNU as cannot read a mask after an absolute address like [0x1000].)
        rows = [[row[0] + (MASKS[j % len(MASKS)] if ("{k}{z}" in form.operands[0] or
                           "{z}" not in MASKS[j % len(MASKS)]) and "[0x" not in row[0]
                           else "")] + row[1:]
                for j, row in enumerate(rows)]
    for row in rows:
        if sum("[" in op for op in row) > 1:
            continue
        lines.append(f"{form.mnemonic} {', '.join(row)}")
    return lines


def corpus(avx512: bool = False) -> list[str]:
    """Intel-syntax lines, one instruction each, covering every non-branch table form.

    ``avx512`` adds the AVX-512 forms (``forms(avx512=True)``): EVEX with registers
    16-31, masks and broadcasts, and the opmask instructions.
    """
    lines: list[str] = []
    seen = set()
    for form in forms(avx512):
        for line in _lines_for(form):
            if line not in seen:
                seen.add(line)
                lines.append(line)
    # The high-byte registers work only without REX.
    lines += ["mov ah, bl", "add ch, dh", "xchg bh, al", "test ah, 0x40", "mov byte ptr [rax], ah",
              "movzx eax, ah", "cmp dh, byte ptr [rcx + 8]", "sub al, ah"]
    # Condition aliases and the accumulator corner cases.
    lines += [f"set{alias} al" for alias in CONDITION_ALIASES]
    lines += [f"cmov{alias} rax, qword ptr [rdi]" for alias in CONDITION_ALIASES]
    lines += ["xchg eax, eax", "xchg rax, rax", "xchg ax, ax", "xchg ecx, eax",
              "lea rax, [rip + 0x10]", "lea eax, [rdi + rsi*4]", "mov rax, 11",
              "mov rcx, 0xffffffff", "mov r8, 0x80000000", "mov rax, -0x80000000"]
    # Prefixes: repeated string instructions, locked read-modify-write.
    lines += ["rep movsb", "rep movsq", "rep stosb", "rep stosq", "rep movsd",
              "rep stosw", "rep movsw", "rep stosd", "rep lodsq", "repe cmpsb",
              "repz cmpsq", "repne scasb", "repnz scasw", "rep ret", "repz ret",
              "lock add qword ptr [rax], 1", "lock xadd qword ptr [rdi + 8], rcx",
              "lock cmpxchg qword ptr [rsi], rdx", "lock inc dword ptr [rsp]",
              "lock or byte ptr [r12], 1", "lock xchg qword ptr [rax], rcx",
              "lock add word ptr [rax], 1", "lock xadd word ptr [rdi], cx"]
    return lines


def branch_program() -> list[str]:
    """Lines of a program with labels, every jcc and alias, relaxation and alignment."""
    lines = ["top:", "loop top", "loope top", "loopne top", "jrcxz top"]
    from minijit.x86.table import CONDITIONS

    for cond in CONDITIONS + list(CONDITION_ALIASES):
        lines.append(f"j{cond} top")
        lines.append(f"j{cond} near_end")
    lines += ["jmp top", "call top", "call rax", "jmp qword ptr [rax + 8]", ".p2align 4", "mid:", "jmp far_end", "jne far_end",
              "near_end:", "nop", ".p2align 5"]
    lines += ["add rax, rcx"] * 60
    lines += ["far_end:", "jmp mid", "je mid", "lea rax, [rip + top]",
              "movsd xmm0, qword ptr [rip + const]", "ret", ".p2align 3", "const:",
              ".double 1.5", ".quad -1", ".long 7", ".byte 1, 2, 255"]
    return lines
