"""``spotify-lakehouse``: the command line over the lakehouse.

Exit status (ARCHITECTURE.md): 0 success; 3 when the Spotify app cannot provide followers;
1 for any other failure; 2 for bad usage. Every non-zero exit prints one line on stderr.
This module never imports ``aws_cdk`` (it would start Node through jsii).
"""

from __future__ import annotations

import sys

import typer
from typer.exceptions import TyperException

from catalog.errors import LakehouseError
from infra.cli_app import app
from infra.commands import chart, cost, demo, ingest, query, transform

#: Importing the command modules registers their commands on ``app``.
COMMAND_MODULES = (ingest, transform, query, demo, chart, cost)


def _fail(message: str, code: int) -> None:
    print(f"spotify-lakehouse: {' '.join(message.split())}", file=sys.stderr)
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: maps every failure to the contract's exit status."""
    try:
        app(args=argv, standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        _fail("aborted", 1)
    except TyperException as e:  # usage errors (typer's vendored click): exit 2
        _fail(e.format_message(), getattr(e, "exit_code", 2))
    except LakehouseError as e:
        _fail(str(e), e.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", 1)
    except Exception as e:  # the one place every other failure becomes one line
        _fail(f"{type(e).__name__}: {e}", 1)
