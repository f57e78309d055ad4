"""Executable memory: where machine code lives while it can be called.

Two ways to get it, for two kinds of user:

``CodeBuffer`` is the seed's way, one mapping whose protection changes: mmap a
page-aligned region read+write, copy the code in, then ``seal()`` it with
mprotect to read+execute.  It is what ``mj`` shows step by step, and what a
learner reads first.  It costs at least one page per buffer.

``CodeArena`` is the compiler's way: many small functions share pages.  Sharing
pages under W^X needs care, because writing a new function next to one that is
already handed out would mean making a live page writable (or, worse, taking
execute away from code another thread may be running).  So each arena chunk is
one shared-memory file (``memfd_create`` on Linux, an unlinked temporary file
elsewhere) mapped twice: a read+write view that only the arena writes through,
and a read+execute view whose addresses are handed out.  No mapping is ever
writable and executable at once, executable mappings never change protection,
and new code can be appended to a chunk while older code in it runs.

Release: every ``CodeBlock`` counts as one live user of its chunk.  A block
goes away by ``close()`` (or leaving a ``with`` block) or when it becomes
unreachable (``__del__``).  A chunk whose last block is gone is
unmapped and its file closed, so memory returns to the operating system.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import threading
import weakref

__all__ = [
    "PAGE_SIZE",
    "MAX_CODE_SIZE",
    "PlatformError",
    "CodeBuffer",
    "CodeArena",
    "CodeBlock",
    "allocate",
    "check_platform",
]

PAGE_SIZE: int = mmap.PAGESIZE
#: The largest single piece of code we map. Generous for a JIT, small enough
#: that a runaway generator fails with a clear error instead of eating memory.
MAX_CODE_SIZE: int = 64 * 1024 * 1024
#: Size of one arena chunk; larger functions get a chunk of their own.
CHUNK_SIZE: int = 64 * 1024
#: Functions start on this boundary (what compilers use for function entry).
FUNCTION_ALIGN: int = 16

_X86_64_NAMES = frozenset({"x86_64", "amd64", "x64"})


class PlatformError(RuntimeError):
    """This machine cannot run the code minijit emits."""


#: What this machine is, as ``uname -m`` says (``platform.machine()`` costs an import).
MACHINE: str = os.uname().machine


def check_platform() -> None:
    """Raise PlatformError unless this process can run x86-64 code from mmap."""
    if MACHINE.lower() not in _X86_64_NAMES:
        raise PlatformError(
            f"minijit emits x86-64 machine code, but this machine is {MACHINE or 'unknown'}; "
            "assembling and disassembling work here, running code does not"
        )
    if os.name != "posix":
        raise PlatformError(f"minijit needs POSIX mmap/mprotect; this system is {os.name}")


# --- libc, with explicit signatures (ctypes guesses wrong on 64-bit pointers) ---------

_libc = ctypes.CDLL(None, use_errno=True)
_mmap = _libc.mmap
_mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int,
                  ctypes.c_long]
_mmap.restype = ctypes.c_void_p
_munmap = _libc.munmap
_munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
_munmap.restype = ctypes.c_int
_mprotect = _libc.mprotect
_mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
_mprotect.restype = ctypes.c_int

_MAP_FAILED = ctypes.c_void_p(-1).value
PROT_RW = mmap.PROT_READ | mmap.PROT_WRITE
PROT_RX = mmap.PROT_READ | mmap.PROT_EXEC


def _os_error(what: str) -> OSError:
    err = ctypes.get_errno()
    return OSError(err, f"{what}: {os.strerror(err)}")


def _map(size: int, prot: int, flags: int, fd: int = -1) -> int:
    address = _mmap(None, size, prot, flags, fd, 0)
    if address is None or address == _MAP_FAILED:
        kind = "executable" if prot & mmap.PROT_EXEC else "writable"
        raise _os_error(f"mmap of {size} {kind} bytes refused")
    return address


def _unmap(address: int, size: int) -> None:
    if _munmap(address, size) != 0:
        raise _os_error("munmap failed")


def _page_round(size: int) -> int:
    return (size + PAGE_SIZE - 1) // PAGE_SIZE * PAGE_SIZE


def _check_size(size: int) -> None:
    if not isinstance(size, int) or isinstance(size, bool):
        raise TypeError(f"code size must be an int, not {type(size).__name__}")
    if size <= 0:
        raise ValueError(f"code size must be positive, got {size}")
    if size > MAX_CODE_SIZE:
        raise ValueError(f"code of {size} bytes exceeds minijit's limit of {MAX_CODE_SIZE} bytes")


# --- CodeBuffer: one mapping, written then sealed -------------------------------------


class CodeBuffer:
    """A page-aligned region that is written while read+write, then sealed read+execute.

    >>> buf = CodeBuffer(PAGE_SIZE)      # doctest: +SKIP
    >>> buf.write(b"\\xc3")             # ret
    >>> buf.seal()                       # now executable, never writable again
    """

    __slots__ = ("size", "length", "_address", "_sealed", "_finalizer", "__weakref__")

    def __init__(self, size: int = PAGE_SIZE) -> None:
        check_platform()
        _check_size(size)
        self.size = _page_round(size)
        self._address = _map(self.size, PROT_RW, mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        self.length = 0  # end of the highest write: how much of the region is code
        self._sealed = False
        self._finalizer = weakref.finalize(self, _unmap, self._address, self.size)
        self._finalizer.atexit = False

    @property
    def address(self) -> int:
        """Where the region starts; raises ValueError once closed."""
        self._check_open()
        return self._address

    @property
    def sealed(self) -> bool:
        return self._sealed

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def _check_open(self) -> None:
        if not self._finalizer.alive:
            raise ValueError("code buffer is closed")

    def write(self, data: bytes, offset: int = 0) -> None:
        """Copy ``data`` into the region at ``offset``; only before ``seal()``."""
        self._check_open()
        if self._sealed:
            raise PermissionError(
                "code buffer is sealed read+execute; write the code before calling seal()"
            )
        data = bytes(data)
        if offset < 0 or offset + len(data) > self.size:
            raise ValueError(
                f"write of {len(data)} bytes at offset {offset} does not fit a "
                f"{self.size}-byte buffer"
            )
        ctypes.memmove(self._address + offset, data, len(data))
        self.length = max(self.length, offset + len(data))

    def seal(self) -> None:
        """Make the region read+execute (and no longer writable). Idempotent."""
        self._check_open()
        if self._sealed:
            return
        if _mprotect(self._address, self.size, PROT_RX) != 0:
            raise _os_error("mprotect to read+execute refused")
        self._sealed = True

    def read(self, size: int | None = None, offset: int = 0) -> bytes:
        """The bytes currently in the region."""
        self._check_open()
        size = self.size - offset if size is None else size
        if offset < 0 or size < 0 or offset + size > self.size:
            raise ValueError(f"read of {size} bytes at {offset} is outside the buffer")
        return ctypes.string_at(self._address + offset, size)

    @property
    def code(self) -> bytes:
        """The bytes written so far (up to the end of the highest write)."""
        return self.read(self.length)

    def close(self) -> None:
        """Unmap the region. Harmless to call twice."""
        self._finalizer()

    def __enter__(self) -> CodeBuffer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# --- CodeArena: many functions per chunk, dual-mapped ---------------------------------


def _shared_file(size: int) -> int:
    """A file descriptor for ``size`` bytes of shared memory not visible by name."""
    if hasattr(os, "memfd_create"):
        fd = os.memfd_create("minijit-code", getattr(os, "MFD_CLOEXEC", 0))
    else:  # macOS: an unlinked temporary file serves the same purpose.
        import tempfile  # here, not at the top: Linux never needs it, and it is slow to import

        fd, path = tempfile.mkstemp(prefix="minijit-code-")
        os.unlink(path)
    try:
        os.ftruncate(fd, size)
    except OSError:
        os.close(fd)
        raise
    return fd


class _Chunk:
    """One shared-memory file mapped twice: ``rw`` to write through, ``rx`` to run."""

    __slots__ = ("size", "fd", "rw", "rx", "used", "live")

    def __init__(self, size: int) -> None:
        self.size = size
        self.fd = _shared_file(size)
        try:
            self.rw = _map(size, PROT_RW, mmap.MAP_SHARED, self.fd)
            try:
                self.rx = _map(size, PROT_RX, mmap.MAP_SHARED, self.fd)
            except OSError:
                _unmap(self.rw, size)
                raise
        except OSError:
            os.close(self.fd)
            raise
        self.used = 0
        self.live = 0

    def release(self) -> None:
        _unmap(self.rx, self.size)
        _unmap(self.rw, self.size)
        os.close(self.fd)


class CodeArena:
    """Hands out executable copies of code; small functions share chunks.

    Allocation is a bump pointer in the current chunk; a chunk is released when
    its last block is released (and the current chunk is rewound when it empties).

    Thread-safe, and safe against the garbage collector: a block's ``__del__``
    can run anywhere, including inside ``allocate`` on the same thread (a
    collection triggered by an allocation there).  So releasing never waits
    for the lock: it queues the block, and whoever holds the lock drains the
    queue before letting go of it.
    """

    def __init__(self, chunk_size: int = CHUNK_SIZE) -> None:
        self.chunk_size = _page_round(chunk_size)
        self._lock = threading.Lock()
        self._current: _Chunk | None = None
        self._released: list[CodeBlock] = []  # closed blocks not yet given back
        self.chunks = 0  # how many chunks are mapped now (for tests and stats)
        self.blocks = 0  # how many blocks are live now

    def allocate(self, code: bytes) -> CodeBlock:
        """Copy ``code`` into executable memory and return the block holding it."""
        check_platform()
        code = bytes(code)
        _check_size(len(code))
        size = (len(code) + FUNCTION_ALIGN - 1) // FUNCTION_ALIGN * FUNCTION_ALIGN
        with self._lock:
            self._drain()
            chunk = self._current
            if size > self.chunk_size:
                chunk = self._new_chunk(_page_round(size))
            elif chunk is None or chunk.used + size > chunk.size:
                chunk = self._current = self._new_chunk(self.chunk_size)
            offset = chunk.used
            chunk.used += size
            chunk.live += 1
            self.blocks += 1
            ctypes.memmove(chunk.rw + offset, code, len(code))
            block = CodeBlock(self, chunk, offset, len(code))
            self._drain()  # blocks released by a collection while we held the lock
        return block

    def _new_chunk(self, size: int) -> _Chunk:
        chunk = _Chunk(size)
        self.chunks += 1
        return chunk

    def _release(self, block: CodeBlock) -> None:
        """Give ``block`` back now if the lock is free, else when its holder lets go."""
        self._released.append(block)  # list.append is atomic: safe from __del__
        if self._lock.acquire(blocking=False):
            try:
                self._drain()
            finally:
                self._lock.release()

    def _drain(self) -> None:
        """Give back every queued block; the caller holds the lock."""
        while self._released:
            block = self._released.pop()
            chunk = block._chunk
            if chunk is None:  # queued twice (closed from two threads at once)
                continue
            block._chunk = None
            self.blocks -= 1
            chunk.live -= 1
            if chunk.live:
                continue
            if chunk is self._current:
                chunk.used = 0  # nothing in it can be called any more: reuse it
                continue
            chunk.release()
            self.chunks -= 1


class CodeBlock:
    """Executable code owned by a ``CodeArena``: an address that stays valid until closed.

    Release is ``close()`` or ``__del__`` (when the block becomes unreachable),
    not ``weakref.finalize``: a finalizer costs a registry entry and several
    objects per block, too much for a JIT that makes many small functions.
    """

    __slots__ = ("_address", "size", "_arena", "_chunk", "_closed")

    def __init__(self, arena: CodeArena, chunk: _Chunk, offset: int, size: int) -> None:
        self._address = chunk.rx + offset
        self.size = size
        self._arena = arena
        self._chunk: _Chunk | None = chunk  # cleared by the arena when it takes the memory back
        self._closed = False

    @property
    def address(self) -> int:
        """The executable address of the first byte; raises ValueError once closed."""
        if self._closed:
            raise ValueError("code block is closed")
        return self._address

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def code(self) -> bytes:
        """The bytes as they are in executable memory."""
        return ctypes.string_at(self.address, self.size)

    def close(self) -> None:
        """Give the memory back. Harmless to call twice."""
        if not self._closed:
            self._closed = True
            self._arena._release(self)

    __del__ = close

    def __enter__(self) -> CodeBlock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"at {self._address:#x}"
        return f"<CodeBlock {self.size} bytes {state}>"


_default_arena: CodeArena | None = None


def default_arena() -> CodeArena:
    """The process-wide arena that ``allocate`` and the compiler use."""
    global _default_arena
    if _default_arena is None:
        _default_arena = CodeArena()
    return _default_arena


def allocate(code: bytes) -> CodeBlock:
    """Copy ``code`` into executable memory from the default arena."""
    return default_arena().allocate(code)
