"""Commands whose reader goes away (``minijit dis ... | head``) end quietly."""

from __future__ import annotations

import subprocess
import sys


def test_a_closed_pipe_ends_the_command_without_a_traceback():
    # 20,000 nops list as 20,000 lines: far more than a pipe holds, so writes hit the closed end.
    command = [sys.executable, "-m", "minijit", "dis", "--colour", "never", "90" * 20_000]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = child.stdout.readline()
    child.stdout.close()
    status = child.wait(timeout=60)
    errors = child.stderr.read().decode()
    child.stderr.close()
    assert b"nop" in first
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
    assert status == 1
