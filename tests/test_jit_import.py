"""What ``from minijit import jit`` loads: not the compiler (it is imported when a function
first compiles; the dispatcher names types through ``typecodes``), nor ``ast``, ``dataclasses``, ``typing``, ``sysconfig`` or the C-signature
parser.  Each check runs in a fresh interpreter, since this test process has long
imported everything."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

#: modules that decorating a function must not import
NOT_AT_IMPORT = ["ast", "dataclasses", "enum", "inspect", "sysconfig", "typing",
                 "minijit.compiler.errors", "minijit.compiler.ir", "minijit.compiler.frontend",
                 "minijit.compiler.driver", "minijit.native.function",
                 "minijit.native.signature"]


def loaded(code: str, tmp_path) -> list[str]:
    """Which of NOT_AT_IMPORT are in sys.modules after ``code`` runs in a new interpreter
    (from a file, so that the compiler can read its source)."""
    program = tmp_path / "program.py"
    program.write_text(f"{code}\nimport sys\n"  # json only after the look: it imports enum
                       f"found = [m for m in {NOT_AT_IMPORT!r} if m in sys.modules]\n"
                       "import json\nprint(json.dumps(found))")
    out = subprocess.run([sys.executable, str(program)], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout)


DECORATED = "from minijit import jit\n@jit\ndef f(a, b):\n    return a + b\n"


def test_import_and_decorate_load_no_compiler(tmp_path):
    assert loaded(DECORATED, tmp_path) == []


def test_first_call_compiles_and_loads_the_compiler(tmp_path):
    modules = loaded(DECORATED + "assert f(2, 3) == 5", tmp_path)
    assert {"ast", "minijit.compiler.ir", "minijit.compiler.frontend",
            "minijit.compiler.driver"} <= set(modules)
    assert "typing" not in modules and "dataclasses" not in modules  # nor does compiling


def test_package_names_are_there_on_first_use():
    import minijit.compiler
    import minijit.native
    from minijit.compiler.errors import CompileError
    from minijit.native.function import NativeFunction
    from minijit.native.signature import Signature, parse_signature

    assert minijit.compiler.CompileError is CompileError
    assert minijit.native.NativeFunction is NativeFunction
    assert (minijit.native.Signature, minijit.native.parse_signature) == (
        Signature, parse_signature)


@pytest.mark.parametrize("package", ["compiler", "native"])
def test_unknown_package_name_is_an_attribute_error(package):
    module = __import__(f"minijit.{package}", fromlist=["_"])
    with pytest.raises(AttributeError, match=f"module 'minijit.{package}' has no attribute "
                                             "'nothing_here'"):
        module.nothing_here  # noqa: B018
