"""Colour: ANSI sequences for mnemonics, registers and numbers, only in a terminal and
only when NO_COLOR is unset; checked through a real pseudo-terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys

import pytest

from minijit.cli import colour
from minijit.cli.main import main

BOLD_CYAN, GREEN, YELLOW, DIM, RESET = "\x1b[1;36m", "\x1b[32m", "\x1b[33m", "\x1b[2m", "\x1b[0m"


def test_tokens_get_their_colours():
    assert colour.instruction("mov rax, QWORD PTR [rdi+0x8]") == (
        f"{BOLD_CYAN}mov{RESET} {GREEN}rax{RESET}, QWORD PTR [{GREEN}rdi{RESET}+"
        f"{YELLOW}0x8{RESET}]")


def test_prefix_words_and_comments():
    text = colour.instruction("notrack jmp rax  # <done>")
    assert text == (f"{BOLD_CYAN}notrack{RESET} {BOLD_CYAN}jmp{RESET} {GREEN}rax{RESET}  "
                    f"{DIM}# <done>{RESET}")


def test_source_line_label_is_not_the_mnemonic():
    assert colour.instruction("loop: dec rcx") == (
        f"\x1b[35mloop{RESET}: {BOLD_CYAN}dec{RESET} {GREEN}rcx{RESET}")


def test_segment_is_a_register_not_a_label():
    assert colour.instruction("mov rax, QWORD PTR fs:[0x28]") == (
        f"{BOLD_CYAN}mov{RESET} {GREEN}rax{RESET}, QWORD PTR {GREEN}fs{RESET}:"
        f"[{YELLOW}0x28{RESET}]")


class FakeStream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.mark.parametrize(
    "choice, tty, no_color, expected",
    [
        ("auto", True, None, True),
        ("auto", False, None, False),
        ("auto", True, "1", False),
        ("auto", True, "", True),        # NO_COLOR set but empty does not disable
        ("always", False, "1", True),
        ("never", True, None, False),
    ],
)
def test_enabled(monkeypatch, choice, tty, no_color, expected):
    if no_color is None:
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        monkeypatch.setenv("NO_COLOR", no_color)
    assert colour.enabled(choice, FakeStream(tty)) is expected


def test_colour_always_reaches_the_listing(capsys):
    assert main(["dis", "--colour", "always", "4889f8"]) == 0
    out = capsys.readouterr().out
    assert out == f"   0:  48 89 f8              {BOLD_CYAN}mov{RESET} {GREEN}rax{RESET}, " \
                  f"{GREEN}rdi{RESET}\n"


def test_pipe_gets_no_colour(capsys):
    assert main(["dis", "4889f8"]) == 0
    assert "\x1b[" not in capsys.readouterr().out


def in_terminal(argv: list[str], env: dict[str, str]) -> str:
    """Run ``python -m minijit ARGV`` with a pseudo-terminal as its standard output."""
    leader, follower = pty.openpty()
    try:
        process = subprocess.Popen([sys.executable, "-m", "minijit", *argv], stdout=follower,
                                   stderr=subprocess.PIPE, env=env)
        os.close(follower)
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:   # the terminal closes when the process exits
                break
            if not chunk:
                break
            chunks.append(chunk)
        assert process.wait(timeout=60) == 0, process.stderr.read()
        process.stderr.close()
    finally:
        os.close(leader)
    return b"".join(chunks).decode()


def test_terminal_gets_colour_unless_no_color():
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    coloured = in_terminal(["dis", "4889f8"], env)
    assert f"{BOLD_CYAN}mov{RESET}" in coloured
    plain = in_terminal(["dis", "4889f8"], {**env, "NO_COLOR": "1"})
    assert "\x1b[" not in plain and "mov rax, rdi" in plain
