"""The files the stack deploys, built by ``make package`` (:mod:`infra.package`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

from infra.stack_settings import GOLD_VIEW

REPO_ROOT: Final = Path(__file__).resolve().parents[2]
#: The gold view's DDL: the pipeline runs it through Athena (read at synth time).
GOLD_VIEW_SQL: Final = REPO_ROOT / "views" / "sql" / f"{GOLD_VIEW}.sql"


@dataclass(frozen=True)
class StackAssets:
    """Files ``make package`` builds; tests point these at small stand-ins."""

    lambda_zip: Path
    glue_script: Path
    glue_py_files: Path
    #: The zip of wheels (``*.gluewheels.zip``), alone in its folder: the folder is deployed.
    glue_python_deps: Path
    gold_view_sql: Path = GOLD_VIEW_SQL

    def missing(self) -> list[Path]:
        paths = (
            self.lambda_zip,
            self.glue_script,
            self.glue_py_files,
            self.glue_python_deps,
            self.gold_view_sql,
        )
        return [p for p in paths if not p.is_file()]
