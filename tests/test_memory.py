"""Executable memory: W^X read back from the kernel, release, and every misuse."""

from __future__ import annotations

import ctypes
import gc
import platform
import subprocess
import threading
import sys

import pytest

from minijit import memory
from minijit.memory import PAGE_SIZE, CodeArena, CodeBuffer, PlatformError, allocate
from minijit.native import NativeFunction

RET_42 = b"\xb8\x2a\x00\x00\x00\xc3"  # mov eax, 42; ret


def mappings() -> list[tuple[int, int, str, str]]:
    """(start, end, permissions, name) for every mapping of this process."""
    rows = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            fields = line.split(maxsplit=5)
            start, end = (int(x, 16) for x in fields[0].split("-"))
            name = fields[5].strip() if len(fields) > 5 else ""
            rows.append((start, end, fields[1], name))
    return rows


def permissions_at(address: int) -> str:
    for start, end, perms, _ in mappings():
        if start <= address < end:
            return perms
    raise AssertionError(f"{address:#x} is not mapped")


def is_mapped(address: int) -> bool:
    return any(start <= address < end for start, end, _, _ in mappings())


needs_proc = pytest.mark.skipif(not platform.system() == "Linux", reason="reads /proc/self/maps")


@needs_proc
def test_code_buffer_is_writable_then_executable_never_both():
    buf = CodeBuffer()
    assert permissions_at(buf.address)[:3] == "rw-"
    buf.write(RET_42)
    buf.seal()
    assert permissions_at(buf.address)[:3] == "r-x"
    assert NativeFunction(buf, "int32()")() == 42


@needs_proc
def test_arena_mappings_are_never_writable_and_executable():
    functions = [NativeFunction(RET_42, "int32()") for _ in range(5000)]  # spans several chunks
    ours = [m for m in mappings() if "minijit-code" in m[3]]
    assert len(ours) >= 4  # a read+write and a read+execute view per chunk
    assert all(not ("w" in perms and "x" in perms) for _, _, perms, _ in ours)
    for f in functions[::997]:
        assert permissions_at(f.address)[:3] == "r-x"
        assert f() == 42
    assert all("rwx" not in perms for _, _, perms, _ in mappings() if "minijit" in _)


def test_small_functions_share_pages():
    # A private arena: the default one may be part-full, and its next block on a new chunk.
    arena = CodeArena()
    blocks = [arena.allocate(RET_42) for _ in range(100)]
    pages = {b.address // PAGE_SIZE for b in blocks}
    assert len(pages) == 1  # 100 x 16 bytes fit in one page
    assert all(b.address % memory.FUNCTION_ALIGN == 0 for b in blocks)


def test_new_code_in_a_live_chunk_does_not_disturb_running_code():
    first = NativeFunction(RET_42, "int32()")
    others = [NativeFunction(b"\xb8\x07\x00\x00\x00\xc3", "int32()") for _ in range(50)]
    assert first() == 42 and all(f() == 7 for f in others)


RELEASE_PROGRAM = """
import gc
from minijit.memory import PAGE_SIZE, CodeArena
from minijit.native import NativeFunction

def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE

arena = CodeArena()
gc.collect()
before = rss()
functions = [NativeFunction(arena.allocate(%r), "int32()") for _ in range(100_000)]
assert all(f() == 42 for f in functions[::1000])
peak, chunks = rss(), arena.chunks
del functions
gc.collect()
print(before, peak, rss(), chunks, arena.chunks)
"""


@needs_proc
def test_memory_returns_after_100000_functions_are_dropped():
    # A fresh interpreter, so that the measure is of minijit and not of the test run's heap.
    result = subprocess.run(
        [sys.executable, "-c", RELEASE_PROGRAM % RET_42], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    before, peak, after, chunks_alive, chunks_after = map(int, result.stdout.split())
    assert chunks_alive >= 20  # 100,000 functions of 16 bytes need many 64 KiB chunks
    assert peak - before > 20 * 1024 * 1024  # the measure can see the functions
    assert chunks_after <= 1
    assert after - before < 10 * 1024 * 1024


def test_unreachable_block_releases_its_chunk():
    arena = CodeArena(chunk_size=PAGE_SIZE)
    big = arena.allocate(b"\xc3" * (2 * PAGE_SIZE))  # larger than a chunk: its own
    address = big.address
    assert arena.chunks == 1
    del big
    gc.collect()
    assert arena.chunks == 0
    if platform.system() == "Linux":
        assert not is_mapped(address)


def test_close_twice_is_harmless_and_use_after_close_raises():
    block = allocate(RET_42)
    block.close()
    block.close()
    assert block.closed
    with pytest.raises(ValueError, match="closed"):
        block.address
    buf = CodeBuffer()
    buf.close()
    buf.close()
    with pytest.raises(ValueError, match="closed"):
        buf.write(b"\xc3")


def test_context_managers_close():
    with allocate(RET_42) as block:
        assert block.code == RET_42
    assert block.closed
    with CodeBuffer() as buf:
        buf.write(b"\xc3")
    assert buf.closed


def test_writing_sealed_memory_raises_permission_error():
    buf = CodeBuffer()
    buf.write(RET_42)
    buf.seal()
    with pytest.raises(PermissionError, match="sealed"):
        buf.write(b"\x90")
    assert buf.code == RET_42  # unchanged


def test_write_outside_the_buffer_raises():
    buf = CodeBuffer(PAGE_SIZE)
    with pytest.raises(ValueError, match="does not fit"):
        buf.write(b"\x90" * 2, offset=PAGE_SIZE - 1)


def test_calling_an_unsealed_buffer_is_refused():
    buf = CodeBuffer()
    buf.write(RET_42)
    with pytest.raises(ValueError, match="seal"):
        NativeFunction(buf, "int32()")


@pytest.mark.parametrize("size, error, text", [
    (0, ValueError, "positive"),
    (-5, ValueError, "positive"),
    (memory.MAX_CODE_SIZE + 1, ValueError, "limit"),
    ("4096", TypeError, "int"),
])
def test_bad_sizes(size, error, text):
    with pytest.raises(error, match=text):
        CodeBuffer(size)


def test_code_larger_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(memory, "MAX_CODE_SIZE", 1024)
    with pytest.raises(ValueError, match="exceeds minijit's limit of 1024 bytes"):
        allocate(b"\x90" * 1025)


def test_refused_mapping_raises_oserror_with_errno_text(monkeypatch):
    def refuse(*args):
        ctypes.set_errno(1)  # EPERM, what a hardened kernel answers
        return memory._MAP_FAILED

    monkeypatch.setattr(memory, "_mmap", refuse)
    with pytest.raises(OSError, match="Operation not permitted") as info:
        CodeBuffer()
    assert info.value.errno == 1
    with pytest.raises(OSError, match="mmap of .* refused"):
        CodeArena().allocate(RET_42)


def test_other_architectures_get_a_clear_error(monkeypatch):
    monkeypatch.setattr(memory, "MACHINE", "aarch64")
    with pytest.raises(PlatformError, match="x86-64.*aarch64"):
        allocate(RET_42)
    with pytest.raises(PlatformError, match="aarch64"):
        CodeBuffer()


def test_release_from_a_collection_inside_allocate_does_not_deadlock():
    # A block's __del__ may run while the arena's lock is held by this very thread
    # (a collection triggered inside allocate). The release must be queued, not wait.
    arena = CodeArena(chunk_size=PAGE_SIZE)
    doomed = [arena.allocate(RET_42)]
    big = arena.allocate(b"\x90" * (PAGE_SIZE - 16))  # fills the chunk: the next needs a new one
    new_chunk = arena._new_chunk

    def drop_last_reference_then_map(size):
        doomed.clear()  # runs CodeBlock.__del__ here, under the lock
        return new_chunk(size)

    arena._new_chunk = drop_last_reference_then_map
    made = []
    worker = threading.Thread(target=lambda: made.append(arena.allocate(RET_42)), daemon=True)
    worker.start()
    worker.join(timeout=10)
    assert not worker.is_alive(), "allocate deadlocked on a release from inside it"
    assert arena.blocks == 2  # the big block and the new one; the dropped one is given back
    assert NativeFunction(made[0], "int32()")() == 42 and not big.closed
