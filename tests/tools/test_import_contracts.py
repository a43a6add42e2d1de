"""The ``acyclic`` import-linter contract finds cycles, lazy ones too, and passes a clean tree.

Runs the real ``lint-imports`` over small packages written to a temporary folder.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

CONFIG = """\
[importlinter]
root_packages =
    pkg
exclude_type_checking_imports = True
contract_types =
    acyclic: tools.import_contracts.AcyclicContract

[importlinter:contract:acyclic]
name = no cycles
type = acyclic
containers =
    pkg
"""


def _lint(tmp_path: Path, modules: dict[str, str]) -> subprocess.CompletedProcess[str]:
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    for name, body in modules.items():
        (package / name).write_text(body)
    (tmp_path / ".importlinter").write_text(CONFIG)
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{REPO}"}
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_tree_without_cycles_keeps_the_contract(tmp_path: Path) -> None:
    result = _lint(
        tmp_path,
        {"a.py": "import pkg.b\n", "b.py": "import pkg.sub.c\n", "sub/c.py": "X = 1\n"},
    )
    assert result.returncode == 0, result.stdout
    assert "1 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    "closing_import",
    [
        pytest.param("import pkg.a\n", id="module-level"),
        pytest.param("def f() -> None:\n    import pkg.a  # dodges the cycle\n", id="lazy"),
    ],
)
def test_a_cycle_breaks_the_contract_and_is_named_link_by_link(
    tmp_path: Path, closing_import: str
) -> None:
    result = _lint(
        tmp_path,
        {"a.py": "import pkg.b\n", "b.py": "import pkg.sub.c\n", "sub/c.py": closing_import},
    )
    assert result.returncode == 1
    assert "0 kept, 1 broken" in result.stdout
    assert "pkg.a -> pkg.b (l.1)" in result.stdout
    assert "pkg.b -> pkg.sub.c (l.1)" in result.stdout
    assert "pkg.sub.c -> pkg.a" in result.stdout


def test_a_type_checking_import_is_not_a_cycle(tmp_path: Path) -> None:
    closing = "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import pkg.a\n"
    result = _lint(tmp_path, {"a.py": "import pkg.b\n", "b.py": closing, "sub/c.py": ""})
    assert result.returncode == 0, result.stdout
