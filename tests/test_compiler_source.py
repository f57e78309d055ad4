"""Finding a function's def in its file: one parse and one walk per file."""

from __future__ import annotations

import ast
import importlib.util

from minijit.compiler import source


def load(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_many_functions_in_one_file_cost_one_walk_of_its_tree(tmp_path, monkeypatch):
    # Jitting every function of a large file must not walk the whole file per function.
    path = tmp_path / "many_defs.py"
    path.write_text("".join(f"def f{i}(a):\n    return a + {i}\n\n" for i in range(50))
                    + "class C:\n    def f0(self, a):\n        return a\n")
    module = load(path)
    walks = []
    real_walk = ast.walk
    monkeypatch.setattr(source.ast, "walk", lambda node: walks.append(node) or real_walk(node))
    found = [source.parse_function(getattr(module, f"f{i}"))[0] for i in range(50)]
    method = source.parse_function(module.C.f0)[0]
    assert len(walks) == 1
    assert [node.name for node in found] == [f"f{i}" for i in range(50)]
    assert [node.lineno for node in found] == [1 + 3 * i for i in range(50)]
    assert method.lineno == 152  # the method, not the module-level f0 of the same name
