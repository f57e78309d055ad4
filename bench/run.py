"""Run the benchmark suite: ``python bench/run.py [--only NAME,...] [--repeat N] [--json FILE]``.

For each kernel of ``suite.KERNELS``: CPython runs it at its size and gives the
expected results; then each peer (gcc -O2, gcc -O2 -fno-tree-vectorize for the
array kernels, Numba, minijit) runs it at the small size, at CPython's size
and at the benchmark size, and every result is checked: against CPython where
CPython ran, against gcc -O2 at the benchmark size where CPython would take too
long.  A peer that is missing, or that says it cannot compile a kernel, is a
cell "n/a" with a note; a peer that returns a different result is a cell
"WRONG" with a note; nothing stops the run.  First calls (compile times) are
measured in fresh processes, before the runs in this one, so that compiled code
that crashes the process is a "crash" cell instead of the end of the run.  Then
the micro-benchmarks of ``micro.py``.

The table is printed and, for a full run (no --only), written to
``bench/results.md``; --json writes every number measured.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

import cbuild
import measure
import micro
import report
import suite

NOVEC = "gcc -O2 -fno-tree-vectorize"
PEERS = ["gcc -O2", NOVEC, "Numba", "minijit"]
COMPILERS = ["minijit", "Numba"]  # the peers whose first call compiles


class WrongResult(AssertionError):
    pass


def load_peers() -> tuple[dict[str, Callable], dict[str, str]]:
    """For each available peer, kernel -> callable; for each missing one, why."""
    loaders: dict[str, Callable] = {}
    missing: dict[str, str] = {}
    for name in PEERS:
        try:
            if name.startswith("gcc"):
                library = cbuild.load(name)
                loaders[name] = lambda k, lib=library: cbuild.function(lib, k.name, k.signature)
            else:
                decorator = suite.DECORATORS[name]()
                loaders[name] = lambda k, d=decorator: suite.compiled(k.name, d)
        except (cbuild.BuildError, suite.Missing) as error:
            missing[name] = str(error)
    return loaders, missing


def check(got: object, want: object, why: str) -> None:
    if not suite.same_result(got, want):
        raise WrongResult(f"returned {got!r}, expected {want!r} ({why})")


def run_peer(kernel: suite.Kernel, peer: str, function: Callable, expected: dict,
             repeat: int) -> tuple[float, float, object]:
    """(seconds at CPython's size, seconds at the benchmark size, benchmark result).

    ``expected`` maps a size to (result, who gave it): CPython's for the sizes
    CPython ran; at a size it did not, the first peer's result becomes the
    reference the others must match.
    """
    times = {}
    for size in dict.fromkeys([kernel.small_size, kernel.cpython_size, kernel.size]):
        seconds, result = measure.median_run(function, lambda s=size: kernel.make_args(s),
                                             1 if size == kernel.small_size else repeat)
        if size in expected:
            want, source = expected[size]
            check(result, want, f"{source} gives that at {kernel.size_label}={size}")
        else:
            expected[size] = (result, peer)
        times[size] = seconds
    return times[kernel.cpython_size], times[kernel.size], expected[kernel.size][0]


def measure_kernel(kernel: suite.Kernel, loaders: dict, missing: dict, repeat: int) -> dict:
    record: dict = {"kernel": kernel.name, "size": kernel.size, "size_label": kernel.size_label,
                    "cpython_size": kernel.cpython_size, "array": kernel.array,
                    "seconds": {}, "seconds_at_cpython_size": {}, "results": {},
                    "first_call": {}, "cold_start": {}, "cell": {}, "notes": {}}
    cpython = suite.cpython(kernel.name)
    try:
        expected = {kernel.small_size: (cpython(*kernel.make_args(kernel.small_size)),
                                        "CPython")}
    except suite.Missing as error:  # its arguments need NumPy
        record["cell"]["CPython"], record["notes"]["CPython"] = "n/a", str(error)
        return record
    seconds, result = measure.median_run(
        cpython, lambda: kernel.make_args(kernel.cpython_size), min(repeat, 3))
    expected[kernel.cpython_size] = (result, "CPython")
    record["seconds"]["CPython"] = seconds
    record["results"]["CPython"] = result
    # First calls come first: code that crashes the process is found in a fresh one.
    first_calls = {peer: measure.median_fresh(min(repeat, 3), "first-call", peer, kernel.name)
                   for peer in COMPILERS if peer in loaders}
    loaded_calls = {peer: measure.median_fresh(min(repeat, 3), "first-call", peer, kernel.name,
                                               "loaded")
                    for peer in first_calls if not first_calls[peer].get("crashed")}
    unsupported = {"minijit": suite.minijit_unsupported()}
    for peer in [p for p in PEERS if p in loaders or p in missing]:
        if peer == NOVEC and not kernel.array:
            continue
        if peer in missing:
            record["cell"][peer], record["notes"][peer] = "n/a", missing[peer]
            continue
        if first_calls.get(peer, {}).get("crashed"):
            record["cell"][peer] = "crash"
            record["notes"][peer] = f"{peer}: {first_calls[peer]['error']} at the small size"
            continue
        try:
            at_cpython_size, at_size, result = run_peer(kernel, peer, loaders[peer](kernel),
                                                        expected, repeat)
        except WrongResult as error:
            record["cell"][peer], record["notes"][peer] = "WRONG", f"{peer} {error}"
        except unsupported.get(peer, ()) as error:
            record["cell"][peer] = "n/a"
            record["notes"][peer] = f"{peer}: {measure.describe(error)}"
        except Exception as error:  # noqa: BLE001 -- a broken peer is a note, never a crash
            record["cell"][peer] = "error"
            record["notes"][peer] = f"{peer}: {measure.describe(error)}"
        else:
            record["seconds_at_cpython_size"][peer] = at_cpython_size
            record["seconds"][peer] = at_size
            record["results"][peer] = result
    for key, answers in (("first_call", loaded_calls), ("cold_start", first_calls)):
        for peer, answer in answers.items():
            if peer not in record["seconds"]:
                continue
            if "error" in answer or not answer["ok"]:
                record["notes"][f"{peer} {key}"] = (
                    f"{peer} first call: {answer.get('error', 'result differs from CPython')}")
            else:
                record[key][peer] = answer["seconds"]
    return record


def parse_args(argv: list[str]) -> argparse.Namespace:
    names = [k.name for k in suite.KERNELS] + list(micro.MICRO)
    parser = argparse.ArgumentParser(
        prog="bench/run.py",
        description="Benchmark minijit against CPython, gcc -O2 and Numba.",
        epilog="names: " + ", ".join(names),
    )
    parser.add_argument("--only", metavar="NAME,...",
                        help="run only these kernels and micro-benchmarks")
    parser.add_argument("--repeat", type=int, default=5, metavar="N",
                        help="timed repeats per measurement; medians are reported (default 5)")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every number here")
    args = parser.parse_args(argv)
    args.names = args.only.split(",") if args.only else names
    unknown = [n for n in args.names if n not in names]
    if unknown:
        parser.error(f"unknown name(s) {', '.join(unknown)}; choose from {', '.join(names)}")
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1, got {args.repeat}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    loaders, missing = load_peers()
    only = f" --only {args.only}" if args.only else ""
    command = f"python bench/run.py{only} --repeat {args.repeat}"
    data = {"environment": report.environment(command, args.repeat), "missing": missing,
            "kernels": [], "micro": {}}
    for name in args.names:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        if name in suite.BY_NAME:
            data["kernels"].append(measure_kernel(suite.BY_NAME[name], loaders, missing,
                                                  args.repeat))
        else:
            data["micro"][name] = micro.MICRO[name](args.repeat)
    text = report.render(data)
    print(text)
    if not args.only:
        (measure.BENCH_DIR / "results.md").write_text(text)
    if args.json:
        args.json.write_text(json.dumps(data, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
