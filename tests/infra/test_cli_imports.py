"""The CLI must never import aws_cdk: jsii would start Node on every command."""

from __future__ import annotations

import subprocess
import sys


def test_cli_does_not_import_aws_cdk() -> None:
    code = (
        "import sys, infra.cli.main\n"
        "from infra.cli.commands import cost\n"
        "node = {'aws_cdk', 'jsii', 'cdk_nag'}\n"
        "cdk = sorted(m for m in sys.modules if m.split('.')[0] in node)\n"
        "print(cdk)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


def test_cost_command_runs_without_aws_cdk() -> None:
    code = (
        "import sys\n"
        "from infra.cli.main import main\n"
        "code = main(['cost', '--format', 'json'])\n"
        "assert code in (0, None), code\n"
        "assert not any(m.startswith('aws_cdk') for m in sys.modules)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert '"service": "total"' in result.stdout
