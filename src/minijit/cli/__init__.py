"""Layer 6: the ``mj`` demo and the ``minijit`` command with its subcommands."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable


def command(main: Callable[..., int]) -> Callable[..., int]:
    """A command's ``main`` that ends quietly when its reader goes away (``mj --dis | head``).

    Without this, writing to a closed pipe raises BrokenPipeError with a traceback,
    and Python's flush of stdout at exit raises it again.
    """

    @functools.wraps(main)
    def run(*args: object, **kwargs: object) -> int:
        try:
            return main(*args, **kwargs)
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # nothing left to flush into the pipe
            return 1

    return run
