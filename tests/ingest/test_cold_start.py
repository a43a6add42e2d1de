"""What the Lambda loads at cold start: ``import ingest.handler`` in a fresh interpreter.

The simulator (:mod:`ingest.simulator`) is for demos and tests: production code never
imports it, so the Lambda neither loads it at cold start nor ships it (the zip leaves it
out: tests/infra/test_package.py). ``.importlinter`` states the rule for the import graph;
this test checks what an interpreter actually loads, lazy imports and all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PROBE = "import json, sys; import ingest.handler; print(json.dumps(sorted(sys.modules)))"


def loaded_by_the_handler(**environment: str) -> list[str]:
    """Every module a fresh interpreter has loaded after ``import ingest.handler``."""
    env = {k: v for k, v in os.environ.items() if k != "AWS_LAMBDA_FUNCTION_NAME"}
    answer = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=REPO,
        env={**env, **environment},
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules: list[str] = json.loads(answer.stdout.strip().splitlines()[-1])
    return modules


@pytest.mark.parametrize("on_lambda", [False, True], ids=["plain", "on-lambda"])
def test_importing_the_handler_loads_no_simulator_module(on_lambda: bool) -> None:
    # On Lambda the handler also routes the ingest and catalog loggers at import time.
    environment = {"AWS_LAMBDA_FUNCTION_NAME": "ingest"} if on_lambda else {}
    modules = loaded_by_the_handler(**environment)
    assert "ingest.handler" in modules
    assert "aws_lambda_powertools.logging" in modules
    assert [m for m in modules if m.split(".")[:2] == ["ingest", "simulator"]] == []
    assert "http.server" not in modules  # the simulator's server, by another name
