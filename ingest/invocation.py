"""The ingest Lambda's invocation: the event the state machine sends and the environment.

Both follow docs/aws-contracts.md and are read and checked once per invocation; a wrong event
raises :class:`InvalidEventError` (never retried), a wrong environment
:class:`~ingest.errors.SettingsError`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from catalog.bronze.s3 import DEFAULT_PREFIX
from ingest.errors import IngestError, SettingsError
from ingest.settings import (
    API_URL_ENV,
    CREDENTIALS_PARAMETER_ENV,
    DEFAULT_API_URL,
    DEFAULT_TOKEN_URL,
    SECRET_ARN_ENV,
    TOKEN_URL_ENV,
)

BRONZE_BUCKET_ENV: Final = "BRONZE_BUCKET"
BRONZE_PREFIX_ENV: Final = "BRONZE_PREFIX"
ROSTER_KEY_ENV: Final = "ROSTER_KEY"
ROSTER_TOP_ENV: Final = "ROSTER_TOP"
DEFAULT_ROSTER_TOP: Final = 20
EVENT_DATE: Final = "snapshot_date"
EVENT_FORCE: Final = "force"


class InvalidEventError(IngestError):
    """The invocation event does not follow docs/aws-contracts.md."""


@dataclass(frozen=True)
class IngestEvent:
    """The event the state machine sends."""

    snapshot_date: date
    force: bool = False

    @classmethod
    def parse(cls, event: Any) -> IngestEvent:
        if not isinstance(event, Mapping):
            raise InvalidEventError(
                f'the event must be a JSON object like {{"{EVENT_DATE}": "YYYY-MM-DD"}}, '
                f"not {type(event).__name__}"
            )
        raw = event.get(EVENT_DATE)
        if not isinstance(raw, str):
            raise InvalidEventError(
                f"the event needs {EVENT_DATE!r} as YYYY-MM-DD (the UTC date of the schedule's "
                f"scheduled time), got {raw!r}"
            )
        try:
            day = date.fromisoformat(raw)
        except ValueError as e:
            raise InvalidEventError(f"{EVENT_DATE} {raw!r} is not a YYYY-MM-DD date") from e
        force = event.get(EVENT_FORCE, False)
        if not isinstance(force, bool):
            raise InvalidEventError(f"{EVENT_FORCE} must be true or false, got {force!r}")
        return cls(snapshot_date=day, force=force)


@dataclass(frozen=True)
class HandlerConfig:
    """The Lambda's environment, read and checked once per invocation."""

    bucket: str
    prefix: str
    #: The Secrets Manager secret (``SPOTIFY_SECRET_ARN``), or None when...
    secret_arn: str | None
    roster_key: str | None
    roster_top: int
    api_url: str
    token_url: str
    #: ...the credentials are the SSM parameter of this name (``SPOTIFY_CREDENTIALS_PARAMETER``).
    parameter_name: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HandlerConfig:
        env = os.environ if environ is None else environ
        if not env.get(BRONZE_BUCKET_ENV, "").strip():
            raise SettingsError(
                f"the ingest Lambda needs {BRONZE_BUCKET_ENV} in its environment "
                "(the CDK stack sets it)"
            )
        parameter = env.get(CREDENTIALS_PARAMETER_ENV, "").strip() or None
        secret = env.get(SECRET_ARN_ENV, "").strip() or None
        if (parameter is None) == (secret is None):
            raise SettingsError(
                f"the ingest Lambda needs exactly one of {CREDENTIALS_PARAMETER_ENV} (an SSM "
                f"parameter) and {SECRET_ARN_ENV} (a Secrets Manager secret) in its "
                "environment (the CDK stack sets one)"
            )
        raw_top = env.get(ROSTER_TOP_ENV, "").strip() or str(DEFAULT_ROSTER_TOP)
        try:
            top = int(raw_top)
        except ValueError:
            top = 0
        if top < 1:
            raise SettingsError(f"{ROSTER_TOP_ENV} must be a whole number >= 1, got {raw_top!r}")
        return cls(
            bucket=env[BRONZE_BUCKET_ENV].strip(),
            prefix=env.get(BRONZE_PREFIX_ENV, "").strip() or DEFAULT_PREFIX,
            secret_arn=secret,
            parameter_name=parameter,
            roster_key=env.get(ROSTER_KEY_ENV, "").strip() or None,
            roster_top=top,
            api_url=env.get(API_URL_ENV, "").strip() or DEFAULT_API_URL,
            token_url=env.get(TOKEN_URL_ENV, "").strip() or DEFAULT_TOKEN_URL,
        )

    @property
    def credentials_location(self) -> str:
        """The parameter's name or the secret's ARN."""
        return self.parameter_name or self.secret_arn or ""
