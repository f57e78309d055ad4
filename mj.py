"""A JIT compiler in one page of Python: ``python mj.py [N]``.

It builds a native function that multiplies its argument by N, the way every
JIT does it: ask the OS for a page of memory, write machine code into it, make
the page executable, call it, give the page back.  Standard library only
(ctypes for the OS calls and for calling the code); it does not use minijit.

Run it as ``python mj.py 10``.  N defaults to 2, like the ``mj`` command.
"""

import ctypes
import mmap
import platform
import sys

USAGE = "usage: python mj.py [N]   (N: a signed 64-bit integer, default 2)"
INT64_MIN, INT64_MAX = -(1 << 63), (1 << 63) - 1

# The three libc calls we need, with their C signatures spelled out.  Without
# explicit restype, ctypes would cut the returned address to a 32-bit int.
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                      ctypes.c_int, ctypes.c_long]
libc.mmap.restype = ctypes.c_void_p
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
libc.mprotect.restype = ctypes.c_int
libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
libc.munmap.restype = ctypes.c_int
MAP_FAILED = ctypes.c_void_p(-1).value


def mul_code(n: int) -> bytes:
    """x86-64 machine code for ``int64_t mul(int64_t x) { return x * n; }``.

    The System V calling convention (Linux, macOS) passes the first integer
    argument in rdi and expects the result in rax.
    """
    return (
        b"\x48\xb8" + (n & (1 << 64) - 1).to_bytes(8, "little")
        #  48 = REX.W (64-bit operand), B8 = "mov rax, imm64"; then n, little-endian
        + b"\x48\x0f\xaf\xc7"
        #  48 = REX.W, 0F AF = imul r64, r/m64, C7 = ModRM 11 000 111: rax *= rdi
        + b"\xc3"
        #  C3 = ret: return to the caller, the result is in rax
    )


def wrap64(value: int) -> int:
    """``value`` as a signed 64-bit register holds it: imul keeps the low 64 bits."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def check(ok: bool, what: str) -> None:
    """Stop with the OS's reason (errno) if the libc call ``what`` failed."""
    if not ok:
        raise OSError(ctypes.get_errno(), f"{what} failed")


def parse_multiplier(argv: list[str]) -> int:
    """N from the command line, or ValueError saying what is wrong with it."""
    if len(argv) > 1:
        raise ValueError("too many arguments")
    if not argv:
        return 2
    try:
        n = int(argv[0], 0)
    except ValueError:
        raise ValueError(f"N must be an integer, got {argv[0]!r}") from None
    if not INT64_MIN <= n <= INT64_MAX:
        raise ValueError(f"N must fit in a signed 64-bit integer ({INT64_MIN} to {INT64_MAX}),"
                         f" got {n}")
    return n


def main(argv: list[str]) -> int:
    try:
        n = parse_multiplier(argv)
    except ValueError as error:
        print(f"{USAGE}\nmj.py: error: {error}", file=sys.stderr)
        return 2
    if platform.machine().lower() not in ("x86_64", "amd64"):
        # The bytes below are x86-64 instructions; anywhere else they are garbage.
        print(f"mj.py: this machine is {platform.machine()}, not x86-64; "
              "the code it would run is x86-64 machine code", file=sys.stderr)
        return 1

    # mmap hands out whole pages, aligned to a page boundary; mprotect works on
    # pages, so the code must sit in memory that no one else shares (malloc's
    # memory could share a page with other data).
    pagesize = mmap.PAGESIZE
    print(f"Pagesize: {pagesize}")

    print("Allocating one page of memory")
    page = libc.mmap(None, pagesize, mmap.PROT_READ | mmap.PROT_WRITE,
                     mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
    check(page != MAP_FAILED, "mmap")

    print(f"JIT-compiling a native mul-function w/arg {n}")
    code = mul_code(n)
    ctypes.memmove(page, code, len(code))  # the page is still read+write: copy the bytes in

    # Writable and executable at once would let any bug that writes memory
    # plant code that then runs.  So: write first, then swap write for execute.
    print("Making function block executable")
    check(libc.mprotect(page, pagesize, mmap.PROT_READ | mmap.PROT_EXEC) == 0, "mprotect")

    # A C function pointer type "int64_t (*)(int64_t)" at the page's address.
    mul = ctypes.CFUNCTYPE(ctypes.c_int64, ctypes.c_int64)(page)

    print("Testing function")
    ok = True
    for i in range(10):
        got, want = mul(i), wrap64(n * i)
        print(f"mul({i}) = {got}")
        if got != want:
            print(f"FAIL: mul({i}) should be {want}")
            ok = False

    print("Deallocating function")
    del mul  # nothing may call into the page once it is gone
    check(libc.munmap(page, pagesize) == 0, "munmap")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
