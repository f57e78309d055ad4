"""The results as Markdown: the machine, the kernel table, the micro-benchmark tables.

Cells that have no number say why through a numbered note under their table;
the same reason (say, "minijit.jit is not available yet") is one note however
many cells it explains.
"""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata

import cbuild
import measure

TIME_UNITS = [(1e-6, 1e9, "ns"), (1e-3, 1e6, "µs"), (1.0, 1e3, "ms"), (float("inf"), 1, "s")]


def fmt_time(seconds: float) -> str:
    """``24.9 ms``, ``310 µs``, ``1.23 s``: three significant digits, a fitting unit.
    A difference of two noisy times may be negative: ``-701 µs``."""
    if seconds < 0:
        return "-" + fmt_time(-seconds)
    for limit, scale, unit in TIME_UNITS:
        if seconds < limit:
            return f"{seconds * scale:.3g} {unit}"
    raise AssertionError("unreachable: the last unit has no limit")


def fmt_value(key: str, value: object) -> str:
    if isinstance(value, float):
        if "seconds" in key:
            return fmt_time(value)
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class Notes:
    """Numbered notes, one per distinct text."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    def ref(self, text: str) -> str:
        if text not in self.texts:
            self.texts.append(text)
        return f"[{self.texts.index(text) + 1}]"

    def render(self) -> list[str]:
        return [f"{i}. {text}" for i, text in enumerate(self.texts, 1)]


def markdown_table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return lines + ["| " + " | ".join(row) + " |" for row in rows]


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _commit() -> str:
    result = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                            text=True, cwd=measure.BENCH_DIR, check=False)
    return result.stdout.strip() or "unknown"


def environment(command: str, repeat: int) -> dict:
    try:
        gcc = cbuild.gcc_version()
    except cbuild.BuildError as error:
        gcc = str(error)
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {_cpu_model()}, {os.cpu_count()} CPUs, "
                   f"{platform.system()} {platform.release()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "gcc": gcc,
        "numba": _version("numba"),
        "numpy": _version("numpy"),
        "minijit": f"{_version('minijit')} (commit {_commit()})",
        "repeat": repeat,
        "command": command,
    }


def _header(env: dict) -> list[str]:
    return [
        "# minijit benchmarks",
        "",
        f"- Date: {env['date']}; command: `{env['command']}`",
        f"- Machine: {env['machine']}",
        (f"- Python: {env['python']}; gcc: {env['gcc']}; Numba {env['numba']}; "
         f"NumPy {env['numpy']}; minijit {env['minijit']}"),
        (f"- Run times are medians of {env['repeat']} runs (CPython: of up to 3); ratios are"
         " taken within this one run. Machines are noisy: compare columns, not runs."),
    ]


KERNEL_LEGEND = (
    "Run time at the benchmark size. Ratios: minijit's time over the peer's (below 1 means"
    " minijit is faster). Speed-up over CPython: both at CPython's size, which is smaller"
    " than the benchmark size where the CPython column names it. Every result is checked"
    " against CPython's (at the benchmark size, against gcc -O2's, itself checked against"
    " CPython at CPython's size). First call: from decorating the kernel to the end of its"
    " first call at a small size, mostly compile time, in a fresh process where the"
    " compiler has already compiled a one-line function, as for every function after a"
    " program's first. Cold start: the same in a fresh process where nothing was compiled"
    " before, so it also loads the compiler. no-vec:"
    " gcc -O2 -fno-tree-vectorize, for the array kernels."
)

KERNEL_COLUMNS = ["kernel", "size", "gcc -O2", "gcc -O2 no-vec", "Numba", "minijit",
                  "minijit / gcc -O2", "minijit / Numba", "minijit speed-up over CPython",
                  "CPython", "minijit first call", "Numba first call", "minijit cold start",
                  "Numba cold start"]


def _kernel_row(record: dict, notes: Notes) -> list[str]:
    seconds, cells = record["seconds"], record["cell"]

    def time_cell(peer: str) -> str:
        if peer in seconds:
            return fmt_time(seconds[peer])
        if peer in cells:
            return f"{cells[peer]} {notes.ref(record['notes'][peer])}"
        return "—"

    def ratio(a: str, b: str) -> str:
        return f"{seconds[a] / seconds[b]:.2f}" if a in seconds and b in seconds else "—"

    def first_call(peer: str, key: str = "first_call") -> str:
        if peer in record.get(key, {}):
            return fmt_time(record[key][peer])
        note = record["notes"].get(f"{peer} {key}") or record["notes"].get(peer)
        return f"n/a {notes.ref(note)}" if note else "—"

    label, size, cpython_size = record["size_label"], record["size"], record["cpython_size"]
    if "CPython" not in seconds:  # the kernel could not run at all
        return [record["kernel"], f"{label}={size:,}",
                *[time_cell("CPython")] * (len(KERNEL_COLUMNS) - 2)]
    cpython = fmt_time(seconds["CPython"])
    if cpython_size != size:
        cpython += f" at {label}={cpython_size:,}"
    at_cpython_size = record["seconds_at_cpython_size"]
    speedup = (f"{seconds['CPython'] / at_cpython_size['minijit']:.1f}×"
               if "minijit" in at_cpython_size else "—")
    return [record["kernel"], f"{label}={size:,}", time_cell("gcc -O2"),
            time_cell("gcc -O2 -fno-tree-vectorize") if record["array"] else "—",
            time_cell("Numba"), time_cell("minijit"), ratio("minijit", "gcc -O2"),
            ratio("minijit", "Numba"), speedup, cpython, first_call("minijit"),
            first_call("Numba"), first_call("minijit", "cold_start"),
            first_call("Numba", "cold_start")]


SUMMARY_COLUMNS = ["kernel", "gcc -O2", "Numba", "minijit", "minijit / gcc -O2",
                   "minijit speed-up over CPython", "minijit first call", "Numba first call",
                   "minijit cold start"]


def _kernel_sections(records: list[dict]) -> list[str]:
    """The summary (a few columns), then the full table and its notes."""
    notes = Notes()
    rows = [_kernel_row(r, notes) for r in records]
    picked = [KERNEL_COLUMNS.index(c) for c in SUMMARY_COLUMNS]
    return [
        "## Summary",
        "",
        "Run times at the benchmark size; the numbered notes are under the full table.",
        "",
        *markdown_table(SUMMARY_COLUMNS, [[row[i] for i in picked] for row in rows]),
        "",
        "## Kernels",
        "",
        KERNEL_LEGEND,
        "",
        *markdown_table(KERNEL_COLUMNS, rows),
        "",
        *notes.render(),
    ]


MICRO_TITLES = {
    "calls": "## Call overhead: a two-int add, ns per call over 1,000,000 calls in one loop",
    "imports": "## Import time: a fresh `python -c`, median wall time",
    "asm": "## Assembler throughput (bench/asm_speed.py)",
    "dis": "## Disassembler throughput (bench/dis_speed.py)",
    "memory": "## Memory: resident memory added by 10,000 compiled functions",
}


def _micro_section(name: str, rows: list[dict]) -> list[str]:
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[fmt_value(c, row[c]) if c in row else "" for c in columns] for row in rows]
    return [MICRO_TITLES[name], "", *markdown_table(columns, cells)]


def render(data: dict) -> str:
    lines = _header(data["environment"])
    if data["kernels"]:
        lines += ["", *_kernel_sections(data["kernels"])]
    for name, rows in data["micro"].items():
        lines += ["", *_micro_section(name, rows)]
    return "\n".join(lines) + "\n"
