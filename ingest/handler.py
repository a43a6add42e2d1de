"""The ingest Lambda: ``handler(event, context)``, as fixed in docs/aws-contracts.md.

Environment (names as constants below): ``BRONZE_BUCKET``, ``BRONZE_PREFIX`` (default
``bronze/``), ``SPOTIFY_SECRET_ARN`` (a Secrets Manager secret holding
``{"client_id": ..., "client_secret": ...}``), optional ``ROSTER_KEY`` (a roster file in the
bucket; default: the 20 shipped artists), ``ROSTER_TOP`` (keep the N most followed, default
20), and ``SPOTIFY_API_URL`` / ``SPOTIFY_TOKEN_URL`` overrides.

Event: ``{"snapshot_date": "YYYY-MM-DD", "force": false}``; the day is explicit (the UTC date
of the schedule's scheduled time), never "now".

Returns ``{"snapshot_date", "status", "followers_available", "run_id", "records",
"missing_ids", "manifest_key"}`` with status ``complete``, ``already_complete`` or
``followers_unavailable``; ``manifest_key`` is the manifest's full key in the bucket. A day
the app cannot read followers for is *returned* (the state machine's Choice stops with one
alert and no retry); every other failure raises, so Lambda reports an error.

Errors the state machine sees (Lambda's ``errorType`` is the exception's class name):

* ``NonRetryableIngestError`` (:class:`~ingest.errors.NonRetryableIngestError`): a failure
  the same event can never get past, so the state machine must not retry it (a retrier for
  this name with ``MaxAttempts: 0``, ahead of the ``States.TaskFailed`` one, which is a
  wildcard). Raised for :class:`~ingest.errors.NoArtistsFoundError` (Spotify knows none of
  the roster's ids), :class:`~ingest.errors.BackdatedRefusedError` and
  :class:`~ingest.errors.FutureDayError` (the real API cannot serve that day), and
  :class:`InvalidEventError`; the message starts with that original class name.
* anything else (Spotify 5xx or 429 beyond the retry budget, S3 or Secrets Manager errors,
  ...) may be transient: the state machine retries it.

Duplicate invocations are harmless, Powertools-idempotency style with the day as the
idempotency key and the bronze manifest as the record: a completed day is answered from its
manifest without calling Spotify, and of two concurrent invocations the conditional
manifest write lets one complete the day while the other returns ``already_complete``.

Logs are one JSON object per line (level, logger, message, snapshot_date, aws_request_id);
the client secret and tokens are never logged.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final, Literal

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from catalog.bronze import manifest_key
from catalog.bronze_s3 import DEFAULT_PREFIX, S3_CLIENT_CONFIG, S3BronzeStore
from ingest.connection import client_for
from ingest.errors import (
    BackdatedRefusedError,
    FollowersUnavailableError,
    FutureDayError,
    IngestError,
    NoArtistsFoundError,
    NonRetryableIngestError,
    RosterError,
    SecretError,
    SettingsError,
)
from ingest.pipeline import IngestResult, ingest_day
from ingest.roster import Roster, default_roster, parse_roster
from ingest.settings import (
    API_URL_ENV,
    DEFAULT_API_URL,
    DEFAULT_TOKEN_URL,
    TOKEN_URL_ENV,
    SpotifySettings,
)

log = logging.getLogger(__name__)

BRONZE_BUCKET_ENV: Final = "BRONZE_BUCKET"
BRONZE_PREFIX_ENV: Final = "BRONZE_PREFIX"
SECRET_ARN_ENV: Final = "SPOTIFY_SECRET_ARN"  # noqa: S105 (a variable name)
ROSTER_KEY_ENV: Final = "ROSTER_KEY"
ROSTER_TOP_ENV: Final = "ROSTER_TOP"
#: Set by the Lambda runtime; its presence switches the root logger to JSON lines.
LAMBDA_FUNCTION_ENV: Final = "AWS_LAMBDA_FUNCTION_NAME"
#: Keys of the Secrets Manager secret's JSON.
SECRET_CLIENT_ID: Final = "client_id"  # noqa: S105 (a key name)
SECRET_CLIENT_SECRET: Final = "client_secret"  # noqa: S105 (a key name)
DEFAULT_ROSTER_TOP: Final = 20
EVENT_DATE: Final = "snapshot_date"
EVENT_FORCE: Final = "force"
#: The Lambda runs against the real API: its source, as recorded in the manifest.
LAMBDA_SOURCE: Final = "spotify"

Status = Literal["complete", "already_complete", "followers_unavailable"]


class InvalidEventError(IngestError):
    """The invocation event does not follow docs/aws-contracts.md."""


#: Failures that retrying the same event cannot fix: raised as NonRetryableIngestError.
PERMANENT_ERRORS: Final = (
    NoArtistsFoundError,
    BackdatedRefusedError,
    FutureDayError,
    InvalidEventError,
)


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
    secret_arn: str
    roster_key: str | None
    roster_top: int
    api_url: str
    token_url: str

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> HandlerConfig:
        env = os.environ if environ is None else environ
        missing = [n for n in (BRONZE_BUCKET_ENV, SECRET_ARN_ENV) if not env.get(n, "").strip()]
        if missing:
            raise SettingsError(
                f"the ingest Lambda needs {' and '.join(missing)} in its environment "
                "(the CDK stack sets them)"
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
            secret_arn=env[SECRET_ARN_ENV].strip(),
            roster_key=env.get(ROSTER_KEY_ENV, "").strip() or None,
            roster_top=top,
            api_url=env.get(API_URL_ENV, "").strip() or DEFAULT_API_URL,
            token_url=env.get(TOKEN_URL_ENV, "").strip() or DEFAULT_TOKEN_URL,
        )


def handler(event: Any, context: Any) -> dict[str, Any]:
    """The Lambda entry point (see the module docstring)."""
    if os.environ.get(LAMBDA_FUNCTION_ENV):
        install_json_logging()
    request_id = str(getattr(context, "aws_request_id", "") or "")
    _LOG_CONTEXT.clear()
    _LOG_CONTEXT["aws_request_id"] = request_id
    try:
        parsed = IngestEvent.parse(event)
        _LOG_CONTEXT[EVENT_DATE] = parsed.snapshot_date.isoformat()
        summary = ingest_for_lambda(parsed, HandlerConfig.from_env())
        log.info("ingest finished: %s", json.dumps(summary))
        return summary
    except PERMANENT_ERRORS as e:
        log.exception("ingest failed; retrying the same event cannot fix this")
        raise NonRetryableIngestError(f"{type(e).__name__}: {e}") from e
    except Exception:
        log.exception("ingest failed")
        raise
    finally:
        _LOG_CONTEXT.clear()


def ingest_for_lambda(
    event: IngestEvent,
    config: HandlerConfig,
    *,
    s3_client: Any = None,
    secrets_client: Any = None,
) -> dict[str, Any]:
    """The handler's work, with injectable AWS clients (default: from the standard chain)."""
    s3 = s3_client or boto3.client("s3", config=S3_CLIENT_CONFIG)
    store = S3BronzeStore(config.bucket, config.prefix, client=s3)
    roster = _roster(config, s3)
    settings = _settings(config, secrets_client or boto3.client("secretsmanager"))
    client = client_for(settings)
    day = event.snapshot_date
    try:
        result = ingest_day(
            day,
            store=store,
            client=client,
            roster=roster,
            source=LAMBDA_SOURCE,
            allow_backdated=False,
            force=event.force,
            top=config.roster_top,
        )
    except FollowersUnavailableError as e:
        log.warning("%s", e)
        manifest = store.read_manifest(day)
        if manifest is None:  # pragma: no cover - ingest records the day before raising
            raise
        return _summary(
            day,
            "followers_unavailable",
            followers_available=False,
            run_id=manifest.run_id,
            records=manifest.record_count,
            missing_ids=manifest.missing_ids,
            key=store.object_key(manifest_key(day)),
        )
    finally:
        client.close()
    return _from_result(result, store)


def _from_result(result: IngestResult, store: S3BronzeStore) -> dict[str, Any]:
    return _summary(
        result.day,
        "already_complete" if result.already_complete else "complete",
        followers_available=result.followers_available,
        run_id=result.run_id,
        records=result.records,
        missing_ids=result.missing_ids,
        key=store.object_key(result.manifest_key),
    )


def _summary(
    day: date,
    status: Status,
    *,
    followers_available: bool,
    run_id: str,
    records: int,
    missing_ids: tuple[str, ...],
    key: str,
) -> dict[str, Any]:
    return {
        "snapshot_date": day.isoformat(),
        "status": status,
        "followers_available": followers_available,
        "run_id": run_id,
        "records": records,
        "missing_ids": list(missing_ids),
        "manifest_key": key,
    }


def _settings(config: HandlerConfig, secrets: Any) -> SpotifySettings:
    """Spotify settings with the credentials from Secrets Manager (never logged)."""
    try:
        answer = secrets.get_secret_value(SecretId=config.secret_arn)
    except (ClientError, BotoCoreError) as e:
        raise SecretError(
            f"cannot read the Spotify credentials secret {config.secret_arn} ({e}); check "
            f"{SECRET_ARN_ENV} and that the Lambda's role may call secretsmanager:GetSecretValue"
        ) from e
    try:
        payload = json.loads(answer.get("SecretString") or "")
        client_id = payload[SECRET_CLIENT_ID]
        client_secret = payload[SECRET_CLIENT_SECRET]
        if not isinstance(client_id, str) or not isinstance(client_secret, str):
            raise TypeError("not strings")
    except (ValueError, KeyError, TypeError) as e:
        # The message never quotes the secret's content.
        raise SecretError(
            f"secret {config.secret_arn} must be a JSON object with string fields "
            f'"{SECRET_CLIENT_ID}" and "{SECRET_CLIENT_SECRET}" ({type(e).__name__})'
        ) from None
    return SpotifySettings(
        client_id=client_id.strip(),
        client_secret=client_secret.strip(),
        api_url=config.api_url,
        token_url=config.token_url,
    )


def _roster(config: HandlerConfig, s3: Any) -> Roster:
    if config.roster_key is None:
        return default_roster()
    origin = f"s3://{config.bucket}/{config.roster_key}"
    try:
        answer = s3.get_object(Bucket=config.bucket, Key=config.roster_key)
        text = answer["Body"].read().decode("utf-8")
    except (ClientError, BotoCoreError) as e:
        raise RosterError(
            f"cannot read the roster {origin} ({e}); check {ROSTER_KEY_ENV}, or unset it to "
            "track the default 20 artists"
        ) from e
    except UnicodeDecodeError as e:
        raise RosterError(f"roster {origin} is not UTF-8 text: {e}") from e
    return parse_roster(text, origin=origin, strict=False)


# JSON log lines ---------------------------------------------------------------------------

#: Fields added to every log line of the current invocation. A plain dict rather than a
#: ContextVar: the client's worker threads log too, and Lambda runs one invocation at a time.
_LOG_CONTEXT: dict[str, str] = {}


class JsonLogFormatter(logging.Formatter):
    """One JSON object per record: timestamp, level, logger, message, invocation context."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_LOG_CONTEXT,
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def install_json_logging(level: int = logging.INFO) -> None:
    """Make every root handler write JSON lines (adding one on stdout if there is none)."""
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler(sys.stdout))
    formatter = JsonLogFormatter()
    for existing in root.handlers:
        existing.setFormatter(formatter)
    root.setLevel(level)
