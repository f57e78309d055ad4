"""``mj [N]``: the seed's demo, JIT-compile "multiply by N" and check it.

The steps are the seed's, and so is the listing: map a page read+write, write
the function's machine code into it, mark it executable (read+execute, never
both writable and executable), call it, and check each result against the same
arithmetic done in Python, wrapped to 64 bits as the machine's ``imul`` wraps.
"""

from __future__ import annotations

import argparse
import sys

from minijit.cli import command

INT64_MIN = -(1 << 63)
INT64_MAX = (1 << 63) - 1
DEFAULT_MULTIPLIER = 2


def wrap64(value: int) -> int:
    """``value`` reduced to a signed 64-bit integer, as the CPU's registers hold it."""
    value &= (1 << 64) - 1
    return value - (1 << 64) if value >> 63 else value


def multiply_code(multiplier: int) -> bytes:
    """Machine code for ``int64 mul(int64 x) { return x * multiplier; }``.

    System V passes ``x`` in rdi and expects the result in rax::

        mov rax, multiplier     (the assembler picks the shortest mov form)
        imul rax, rdi
        ret
    """
    from minijit.x86 import Assembler, rax, rdi

    a = Assembler()
    a.mov(rax, multiplier)
    a.imul(rax, rdi)
    a.ret()
    return a.assemble()


def _multiplier(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"N must be an integer, got {text!r}") from None
    if not INT64_MIN <= value <= INT64_MAX:
        raise argparse.ArgumentTypeError(
            f"N must fit in a signed 64-bit integer ({INT64_MIN} to {INT64_MAX}), got {value}"
        )
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mj",
        description="JIT-compile a function that multiplies by N, run it and check the results.",
    )
    parser.add_argument(
        "n", metavar="N", nargs="?", type=_multiplier, default=DEFAULT_MULTIPLIER,
        help=f"the multiplier, a signed 64-bit integer (default {DEFAULT_MULTIPLIER})",
    )
    parser.add_argument("--dis", action="store_true",
                        help="also list the function's machine code, as gdb's x/20i does")
    return parser


def _check(label: str, got: int, want: int) -> bool:
    ok = got == want
    print(f"{'OK' if ok else 'FAIL'} {label}{got}")
    return ok


@command
def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    n = args.n

    from minijit.memory import PAGE_SIZE, CodeBuffer
    from minijit.native import NativeFunction

    print(f"pagesize {PAGE_SIZE}")
    print(f"compiling code w/multiplier {n}")
    code = multiply_code(n)
    page = CodeBuffer(PAGE_SIZE)
    page.write(code)
    print("marking as executable")
    page.seal()
    if args.dis:
        from minijit.x86 import disassemble
        from minijit.x86.listing import gdb_lines

        print("\n".join(gdb_lines(disassemble(code, page.address))))
    mul = NativeFunction(page, "int64(int64)")
    print("calling JIT")
    ok = _check("result ", mul(12), wrap64(n * 12))
    for i in range(10):
        ok &= _check(f"call({i}) = ", mul(i), wrap64(n * i))
    mul.close()
    print("done")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
