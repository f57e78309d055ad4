"""Finding a function's def in its file: a parse of its own lines, the whole file where
those do not parse alone."""

from __future__ import annotations

import ast
import importlib.util
import linecache

from minijit.compiler import source


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def many_defs(tmp_path):
    path = tmp_path / "many_defs.py"
    path.write_text("".join(f"def f{i}(a):\n    return a + {i}\n\n" for i in range(50))
                    + "class C:\n    def f0(self, a):\n        return a\n\n"
                    + "def documented(a):\n    \"\"\"Only a docstring,\n    over lines.\"\"\"\n")
    return load(path)


def recording_parses(monkeypatch) -> list[str]:
    parsed = []
    real_parse = ast.parse
    monkeypatch.setattr(source.ast, "parse",
                        lambda text, *args: parsed.append(text) or real_parse(text, *args))
    return parsed


def test_a_function_is_parsed_from_its_own_lines_once(tmp_path, monkeypatch):
    # Jitting one function of a large file must not parse the whole file.
    module = many_defs(tmp_path)
    parsed = recording_parses(monkeypatch)
    found = [source.parse_function(getattr(module, f"f{i}"))[0] for i in range(50)]
    method = source.parse_function(module.C.f0)[0]
    assert [node.name for node in found] == [f"f{i}" for i in range(50)]
    assert [node.lineno for node in found] == [1 + 3 * i for i in range(50)]
    assert (method.lineno, method.col_offset) == (152, 4)  # not the module-level f0
    assert method.body[0].lineno == 153
    assert max(map(len, parsed)) < 50  # no padding up to the function's line
    assert [text.split() for text in parsed] == (
        [["def", f"f{i}(a):", "return", "a", "+", str(i)] for i in range(50)]
        + [["if", "1:", "def", "f0(self,", "a):", "return", "a"]])
    source.parse_function(module.f7)
    source.parse_function(module.C.f0)
    assert len(parsed) == 51  # cached


def test_a_function_whose_lines_do_not_parse_alone_is_found_in_the_whole_file(
        tmp_path, monkeypatch):
    module = many_defs(tmp_path)
    parsed = recording_parses(monkeypatch)
    node = source.parse_function(module.documented)[0]
    assert (node.name, node.lineno) == ("documented", 155)
    assert len(parsed) == 2 and parsed[0].split() == ["def", "documented(a):"]
    assert "class C:" in parsed[1]  # the cut failed, so the whole file was parsed


def test_without_end_positions_the_whole_file_is_parsed(tmp_path, monkeypatch):
    module = many_defs(tmp_path)
    monkeypatch.setattr(source, "_last_line", lambda code: code.co_firstlineno)
    node, info = source.parse_function(module.f3)
    assert (node.name, node.lineno, node.body[0].lineno) == ("f3", 10, 11)
    assert info.line_text(11) == "    return a + 3"


def test_an_edited_file_is_parsed_again(tmp_path):
    path = tmp_path / "edited.py"
    path.write_text("def f(a):\n    return a\n")
    first = source.parse_function(load(path).f)[0]
    path.write_text("def f(a):\n    return a + 1\n")
    linecache.checkcache(str(path))
    second = source.parse_function(load(path).f)[0]
    assert isinstance(first.body[0].value, ast.Name)
    assert isinstance(second.body[0].value, ast.BinOp)
