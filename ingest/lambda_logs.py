"""The ingest Lambda's logs: Powertools for AWS Lambda's Logger, shared by every module.

Logs are Powertools for AWS Lambda's: one JSON object per line with its keys (``level``,
``message``, ``timestamp``, ``service`` = :data:`SERVICE_NAME`, ``cold_start`` and the
invocation's ``function_request_id``, ``function_name``, ...) plus ``name`` (the logger) and
``snapshot_date``. On Lambda every ingest and catalog module logs through the same Logger
(:func:`route_package_logs`), so the client's retries and the store's writes carry the same
keys. The client secret and tokens are never logged.
"""

from __future__ import annotations

from typing import Final

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

#: Set by the Lambda runtime; there, :func:`route_package_logs` runs at cold start.
LAMBDA_FUNCTION_ENV: Final = "AWS_LAMBDA_FUNCTION_NAME"
#: The ``service`` key of every log line, and the name of the handler's own logger.
SERVICE_NAME: Final = "spotify-lakehouse-ingest"
#: Top-level loggers that write through the handler's Logger on Lambda (every module of
#: these packages logs to ``logging.getLogger(__name__)``).
LOGGED_PACKAGES: Final = frozenset({"ingest", "catalog"})

#: JSON lines on stdout; ``name`` (the logger's) is a LogRecord attribute Powertools fills in.
logger = Logger(service=SERVICE_NAME, name="%(name)s")


def route_package_logs() -> None:
    """Send the records of every :data:`LOGGED_PACKAGES` module through :data:`logger`: JSON
    lines with the invocation's keys, at its level, instead of up to the root logger (the
    runtime's plain-text handler, at a level this code does not set). Runs at cold start on
    Lambda; elsewhere (tests, the CLI) those loggers are left as they are."""
    copy_config_to_registered_loggers(source_logger=logger, include=set(LOGGED_PACKAGES))
