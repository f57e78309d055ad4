"""``mj --dis``: the multiply function listed as the seed's gdb ``x/20i block`` shows it."""

from __future__ import annotations

import re

from minijit.cli.mj import main


def test_listing_has_address_and_instruction_per_line(capsys):
    assert main(["--dis", "11"]) == 0
    out = capsys.readouterr().out.splitlines()
    start = out.index("marking as executable") + 1
    listing = out[start:start + 3]
    rows = [re.fullmatch(r"   (0x[0-9a-f]+):\t(.*)", line) for line in listing]
    assert all(rows), listing
    assert [row.group(2) for row in rows] == ["mov eax, 0xb", "imul rax, rdi", "ret"]
    addresses = [int(row.group(1), 16) for row in rows]
    assert addresses[0] % 4096 == 0        # the start of the page mj mapped
    assert addresses[1:] == [addresses[0] + 5, addresses[0] + 9]
    assert out[start + 3] == "calling JIT"
    assert out[-1] == "done"


def test_big_multiplier_uses_movabs(capsys):
    assert main(["--dis", str(-(1 << 40))]) == 0
    out = capsys.readouterr().out
    assert "\tmovabs rax, 0xffffff0000000000\n" in out


def test_without_dis_no_listing(capsys):
    assert main(["3"]) == 0
    assert "\t" not in capsys.readouterr().out
