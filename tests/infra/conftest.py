"""One synthesis of the stack for the whole session: jsii starts Node and synth takes
several seconds, so every template test reads the same template."""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")


@dataclass(frozen=True)
class Synthesized:
    template: Any  # aws_cdk.assertions.Template
    raw: dict[str, Any]
    errors: list[str]

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.raw["Resources"].items() if v["Type"] == kind}


def _stand_in_assets(root: Path) -> tuple[Path, Path, Path, Path]:
    """Tiny files where `make package` would put the real artifacts."""
    lambda_zip = root / "lambda-ingest.zip"
    with zipfile.ZipFile(lambda_zip, "w") as z:
        z.writestr("ingest/handler.py", "def handler(event, context):\n    return event\n")
    script = root / "job.py"
    script.write_text("print('glue job stand-in')\n")
    py_files = root / "spotify_lakehouse.zip"
    with zipfile.ZipFile(py_files, "w") as z:
        z.writestr("glue/__init__.py", "")
    deps = root / "python-deps" / "python-deps.gluewheels.zip"
    deps.parent.mkdir()
    with zipfile.ZipFile(deps, "w") as z:
        z.writestr("wheels/requirements.txt", "")
    return lambda_zip, script, py_files, deps


def synthesize(root: Path, context: dict[str, str] | None = None) -> Synthesized:
    """The stack synthesized over stand-in assets, with CDK ``context`` (settings)."""
    from aws_cdk.assertions import Template

    from infra.cdk.app import build_app, error_messages
    from infra.cdk.assets import StackAssets

    lambda_zip, script, py_files, deps = _stand_in_assets(root)
    assets = StackAssets(
        lambda_zip=lambda_zip, glue_script=script, glue_py_files=py_files, glue_python_deps=deps
    )
    app, stack = build_app(outdir=str(root / "cdk.out"), assets=assets, context=context)
    assembly = app.synth()  # raises if cdk-nag finds anything unacknowledged
    artifact = assembly.get_stack_by_name(stack.stack_name)
    raw = json.loads((Path(assembly.directory) / artifact.template_file).read_text())
    return Synthesized(Template.from_json(raw), raw, error_messages(assembly))


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk"))


@pytest.fixture(scope="session")
def secrets_manager(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The stack with ``credentialsStore=secretsmanager`` (the store of the first deploys)."""
    return synthesize(tmp_path_factory.mktemp("cdk-sm"), {"credentialsStore": "secretsmanager"})
