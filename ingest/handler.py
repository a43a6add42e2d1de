"""The ingest Lambda: ``handler(event, context)``, as fixed in docs/aws-contracts.md.

Environment (names as constants below): ``BRONZE_BUCKET``, ``BRONZE_PREFIX`` (default
``bronze/``), the credentials store: exactly one of ``SPOTIFY_CREDENTIALS_PARAMETER`` (an
SSM Parameter Store SecureString's name, the stack's default) and ``SPOTIFY_SECRET_ARN`` (a
Secrets Manager secret), either holding ``{"client_id": ..., "client_secret": ...}``;
optional ``ROSTER_KEY`` (a roster file in the bucket; default: the 20 shipped artists),
``ROSTER_TOP`` (keep the N most followed, default 20), and ``SPOTIFY_API_URL`` /
``SPOTIFY_TOKEN_URL`` overrides.

Event: ``{"snapshot_date": "YYYY-MM-DD", "force": false}``; the day is explicit (the UTC date
of the schedule's scheduled time), never "now".

Returns ``{"snapshot_date", "status", "followers_available", "run_id", "records",
"missing_ids", "manifest_key"}``, ``status`` one of :class:`~ingest.status.IngestStatus`
(``complete``, ``already_complete``, ``followers_unavailable``, ``credentials_missing``);
``manifest_key`` is the manifest's full key in the bucket. Two outcomes that retrying cannot
change are *returned*, so the state machine's Choice stops with one alert and no retry:

* ``followers_unavailable``: the app cannot read followers (the day is recorded in bronze);
* ``credentials_missing``: the credentials are not filled in yet, or their JSON lacks
  ``client_id``/``client_secret``. For SSM, "not filled in" is a parameter that does not
  exist: CloudFormation cannot create a SecureString, so the stack only names it (and the
  role may read nothing else). For Secrets Manager, it is a secret without a value (the
  stack creates it empty). Nothing is fetched or written; ``followers_available``,
  ``run_id`` and ``manifest_key`` are null, ``records`` 0, and an extra ``message`` gives
  the operator the exact command that fills the store (``aws ssm put-parameter ... --type
  SecureString`` or ``aws secretsmanager put-secret-value``).

Every other failure raises, so Lambda reports an error.

Time budget: the handler reads the invocation's remaining time
(``context.get_remaining_time_in_millis()``) into a :class:`~ingest.budget.TimeBudget` that
every wait of the client must fit in, keeping :data:`~ingest.budget.SAFETY_MARGIN_S` spare;
a wait that does not fit stops the run before it starts (see below), so the Lambda is never
killed mid-wait and retried early, the retry Spotify punishes.

Errors the state machine sees (Lambda's ``errorType`` is the exception's class name):

* ``NonRetryableIngestError`` (:class:`~ingest.errors.NonRetryableIngestError`): a failure
  the same event can never get past, so the state machine must not retry it (a retrier for
  this name with ``MaxAttempts: 0``, ahead of the ``States.TaskFailed`` one, which is a
  wildcard). Raised for :class:`~ingest.errors.NoArtistsFoundError` (Spotify knows none of
  the roster's ids), :class:`~ingest.errors.BackdatedRefusedError` and
  :class:`~ingest.errors.FutureDayError` (the real API cannot serve that day), and
  :class:`InvalidEventError`; the message starts with that original class name.
* ``TimeBudgetExceededError`` (:class:`~ingest.errors.TimeBudgetExceededError`, a
  :class:`~ingest.errors.SpotifyUnavailableError`): a Retry-After, the shared rate-limit
  pause or a 5xx/connection backoff would leave the Lambda less than the safety margin.
  The day is left incomplete (no manifest; parts already written stay) and the message says
  how long Spotify asked to wait and how much time was left. Transient: the state machine's
  ``States.TaskFailed`` retrier (5 min, then 10 min later) retries it, later than any wait the
  retry policy accepts (:data:`~ingest.retry.DEFAULT_MAX_RETRY_AFTER_S`).
* anything else (Spotify 5xx or 429 beyond the retry budget, S3 errors, credentials-store
  errors other than unfilled credentials, such as access denied or throttling, raised as
  ``SecretError``, ...) may be transient: the state machine retries it.

Duplicate invocations are harmless, Powertools-idempotency style with the day as the
idempotency key and the bronze manifest as the record: a completed day is answered from its
manifest without calling Spotify, and of two concurrent invocations the conditional
manifest write lets one complete the day while the other returns ``already_complete``.

Logs are Powertools for AWS Lambda's: one JSON object per line with its keys (``level``,
``message``, ``timestamp``, ``service`` = :data:`SERVICE_NAME`, ``cold_start`` and the
invocation's ``function_request_id``, ``function_name``, ...) plus ``name`` (the logger) and
``snapshot_date``. On Lambda every ingest and catalog module logs through the same Logger
(:func:`route_package_logs`), so the client's retries and the store's writes carry the same
keys. The credentials come through Powertools' parameters utility: ``SSMProvider`` with
``decrypt=True`` (``ssm:GetParameter`` WithDecryption) or ``SecretsProvider``, never from a
cache. The client secret and tokens are never logged.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import boto3  # type: ignore[import-untyped]
from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.utilities.parameters import SecretsProvider, SSMProvider
from aws_lambda_powertools.utilities.parameters.exceptions import GetParameterError
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from catalog.bronze.layout import manifest_key
from catalog.bronze.s3 import DEFAULT_PREFIX, S3_CLIENT_CONFIG, S3BronzeStore
from ingest.budget import TimeBudget
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
    SecretValueMissingError,
    SettingsError,
    TimeBudgetExceededError,
)
from ingest.pipeline import IngestResult, ingest_day
from ingest.roster import Roster, default_roster, parse_roster
from ingest.settings import (
    API_URL_ENV,
    CLIENT_ID_KEY,
    CLIENT_SECRET_KEY,
    CREDENTIALS_PARAMETER_ENV,
    CREDENTIALS_SHAPE,
    DEFAULT_API_URL,
    DEFAULT_TOKEN_URL,
    SECRET_ARN_ENV,
    TOKEN_URL_ENV,
    SpotifySettings,
)
from ingest.status import IngestStatus

BRONZE_BUCKET_ENV: Final = "BRONZE_BUCKET"
BRONZE_PREFIX_ENV: Final = "BRONZE_PREFIX"
ROSTER_KEY_ENV: Final = "ROSTER_KEY"
ROSTER_TOP_ENV: Final = "ROSTER_TOP"
#: Set by the Lambda runtime; there, :func:`route_package_logs` runs at cold start.
LAMBDA_FUNCTION_ENV: Final = "AWS_LAMBDA_FUNCTION_NAME"
#: The ``service`` key of every log line, and the name of the handler's own logger.
SERVICE_NAME: Final = "spotify-lakehouse-ingest"
#: Top-level loggers that write through the handler's Logger on Lambda (every module of
#: these packages logs to ``logging.getLogger(__name__)``).
LOGGED_PACKAGES: Final = frozenset({"ingest", "catalog"})
#: Keys of the stored credentials' JSON.
SECRET_CLIENT_ID: Final = CLIENT_ID_KEY
SECRET_CLIENT_SECRET: Final = CLIENT_SECRET_KEY
DEFAULT_ROSTER_TOP: Final = 20
EVENT_DATE: Final = "snapshot_date"
EVENT_FORCE: Final = "force"
#: The Lambda runs against the real API: its source, as recorded in the manifest.
LAMBDA_SOURCE: Final = "spotify"
#: Secrets Manager's error code for a secret that does not exist *or* has no AWSCURRENT
#: value yet (the two differ only in the message); DescribeSecret tells them apart.
SECRET_NOT_FOUND: Final = "ResourceNotFoundException"  # noqa: S105 (an error code)
CURRENT_STAGE: Final = "AWSCURRENT"
#: SSM's error code for a parameter that does not exist: the unfilled state (the stack names
#: the parameter and grants reading exactly it; only the operator's put-parameter creates it).
PARAMETER_NOT_FOUND: Final = "ParameterNotFound"

#: JSON lines on stdout; ``name`` (the logger's) is a LogRecord attribute Powertools fills in.
logger = Logger(service=SERVICE_NAME, name="%(name)s")


def route_package_logs() -> None:
    """Send the records of every :data:`LOGGED_PACKAGES` module through :data:`logger`: JSON
    lines with the invocation's keys, at its level, instead of up to the root logger (the
    runtime's plain-text handler, at a level this code does not set). Runs at cold start on
    Lambda; elsewhere (tests, the CLI) those loggers are left as they are."""
    copy_config_to_registered_loggers(source_logger=logger, include=set(LOGGED_PACKAGES))


if os.environ.get(LAMBDA_FUNCTION_ENV):
    route_package_logs()


class InvalidEventError(IngestError):
    """The invocation event does not follow docs/aws-contracts.md."""


class ParameterValueMissingError(SecretValueMissingError):
    """The SSM credentials parameter does not exist yet, or holds no usable credentials.

    A :class:`~ingest.errors.SecretValueMissingError` (answered ``credentials_missing``, no
    retries, one alert) whose next step is SSM's: the one ``put-parameter`` command that
    creates the SecureString (or overwrites a malformed one). Its message never quotes the
    parameter's value.
    """

    def __init__(self, name: str, problem: str) -> None:
        # SecretError's constructor, not SecretValueMissingError's: that one names the
        # Secrets Manager command.
        SecretError.__init__(
            self,
            f"the Spotify credentials parameter {name} {problem}; nothing was fetched or "
            "written. Next step: fill it with the Spotify app's values (developer dashboard), "
            f"e.g. aws ssm put-parameter --name {name} --type SecureString --overwrite "
            f"--value {CREDENTIALS_SHAPE} (docs/runbook.md, 'Fill the credentials'), then "
            "re-run the day (docs/runbook.md, 'Run a day')",
        )
        self.secret_arn = name
        self.problem = problem


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


@logger.inject_lambda_context(clear_state=True)
def handler(event: Any, context: Any) -> dict[str, Any]:
    """The Lambda entry point (see the module docstring)."""
    try:
        # Read first: the clock runs from the moment Lambda handed over the invocation.
        budget = TimeBudget.from_lambda_context(context)
        parsed = IngestEvent.parse(event)
        logger.append_keys(snapshot_date=parsed.snapshot_date.isoformat())
        summary = ingest_for_lambda(parsed, HandlerConfig.from_env(), budget=budget)
    except PERMANENT_ERRORS as e:
        logger.exception("ingest failed; retrying the same event cannot fix this")
        raise NonRetryableIngestError(f"{type(e).__name__}: {e}") from e
    except TimeBudgetExceededError as e:
        # Expected and handled by the state machine's retry: no traceback in the logs.
        logger.warning("ingest stopped: %s", e)
        raise
    except Exception:
        logger.exception("ingest failed")
        raise
    logger.info("ingest finished", extra={"answer": summary})
    return summary


def ingest_for_lambda(
    event: IngestEvent,
    config: HandlerConfig,
    *,
    s3_client: Any = None,
    secrets_client: Any = None,
    ssm_client: Any = None,
    budget: TimeBudget | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """The handler's work, with injectable AWS clients (default: from the standard chain;
    ``secrets_client`` or ``ssm_client`` serves the configured credentials store).

    ``budget`` bounds every wait of the Spotify client (None: no deadline); ``sleep`` and
    ``clock`` are the client's, injectable together with the budget's clock for tests.
    """
    day = event.snapshot_date
    # Credentials first: a run before they are filled in touches neither Spotify nor S3.
    try:
        settings = _settings(config, _read_credentials(config, secrets_client, ssm_client))
    except SecretValueMissingError as e:
        logger.warning("%s", e)
        return _credentials_missing(day, str(e))
    s3 = s3_client or boto3.client("s3", config=S3_CLIENT_CONFIG)
    store = S3BronzeStore(config.bucket, config.prefix, client=s3)
    roster = _roster(config, s3)
    client = client_for(settings, budget=budget, sleep=sleep, clock=clock)
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
        logger.warning("%s", e)
        manifest = store.read_manifest(day)
        if manifest is None:  # pragma: no cover - ingest records the day before raising
            raise
        return _summary(
            day,
            IngestStatus.FOLLOWERS_UNAVAILABLE,
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
        IngestStatus.ALREADY_COMPLETE if result.already_complete else IngestStatus.COMPLETE,
        followers_available=result.followers_available,
        run_id=result.run_id,
        records=result.records,
        missing_ids=result.missing_ids,
        key=store.object_key(result.manifest_key),
    )


def _credentials_missing(day: date, message: str) -> dict[str, Any]:
    """The answer for a secret without usable credentials: nothing was fetched or written."""
    return {
        "snapshot_date": day.isoformat(),
        "status": IngestStatus.CREDENTIALS_MISSING.value,
        "followers_available": None,
        "run_id": None,
        "records": 0,
        "missing_ids": [],
        "manifest_key": None,
        "message": message,
    }


def _summary(
    day: date,
    status: IngestStatus,
    *,
    followers_available: bool,
    run_id: str,
    records: int,
    missing_ids: tuple[str, ...],
    key: str,
) -> dict[str, Any]:
    return {
        "snapshot_date": day.isoformat(),
        "status": status.value,
        "followers_available": followers_available,
        "run_id": run_id,
        "records": records,
        "missing_ids": list(missing_ids),
        "manifest_key": key,
    }


def _read_credentials(config: HandlerConfig, secrets_client: Any, ssm_client: Any) -> str | None:
    """The raw stored credentials (never logged), from the configured store.

    One provider per invocation, on the invocation's credentials; it never answers from a
    cache (``force_fetch``), so credentials filled in after ``credentials_missing`` are read
    the next time. Raises :class:`~ingest.errors.SecretValueMissingError` (a subclass for
    SSM) when the store has no value yet, :class:`~ingest.errors.SecretError` when it cannot
    be read at all (access denied, throttling, a wrong name of a secret: raised, so the state
    machine retries and alerts).
    """
    if config.parameter_name is not None:
        return _read_parameter(config.parameter_name, ssm_client)
    assert config.secret_arn is not None  # HandlerConfig holds exactly one
    return _read_secret(config.secret_arn, secrets_client)


def _read_parameter(name: str, ssm_client: Any) -> str | None:
    """The SecureString's decrypted value (``ssm:GetParameter`` WithDecryption, and
    ``kms:Decrypt`` of its key through SSM)."""
    ssm = SSMProvider(boto3_client=ssm_client) if ssm_client else SSMProvider()
    try:
        value = ssm.get(name, decrypt=True, force_fetch=True)
    except GetParameterError as e:
        error = e.__context__ or e  # Powertools wraps the SDK's error
        if isinstance(error, ClientError) and _error_code(error) == PARAMETER_NOT_FOUND:
            raise ParameterValueMissingError(name, "does not exist yet") from None
        raise SecretError(
            f"cannot read the Spotify credentials parameter {name} ({error}); check "
            f"{CREDENTIALS_PARAMETER_ENV} and that the Lambda's role may call "
            "ssm:GetParameter on it and kms:Decrypt through SSM"
        ) from error
    return value if isinstance(value, str) else None


def _read_secret(arn: str, secrets_client: Any) -> str | None:
    """The secret's SecretString (GetSecretValue)."""
    secrets = SecretsProvider(boto3_client=secrets_client) if secrets_client else SecretsProvider()
    try:
        # The raw value: its JSON is read by _settings, with messages that never quote it.
        value = secrets.get(arn, force_fetch=True)
    except GetParameterError as e:
        # Powertools wraps the SDK's error; the original is the exception's context.
        error = e.__context__ or e
        if _has_no_current_value(error, secrets.client, arn):
            raise SecretValueMissingError(arn, "exists but has no value yet") from None
        raise SecretError(
            f"cannot read the Spotify credentials secret {arn} ({error}); check "
            f"{SECRET_ARN_ENV} and that the Lambda's role may call secretsmanager:GetSecretValue"
        ) from error
    return value if isinstance(value, str) else None


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _settings(config: HandlerConfig, value: str | None) -> SpotifySettings:
    """Spotify settings from the stored credentials ``value`` (never logged).

    Raises :class:`~ingest.errors.SecretValueMissingError` (or its SSM subclass) when the
    value holds no usable credentials: a setup step not done yet, answered with
    ``credentials_missing``.
    """
    where = config.credentials_location

    def missing(problem: str) -> SecretValueMissingError:
        if config.parameter_name is not None:
            return ParameterValueMissingError(where, problem)
        return SecretValueMissingError(where, problem)

    # The problems below never quote the stored content.
    if not isinstance(value, str) or not value:
        raise missing("has no text value" + ("" if config.parameter_name else " (SecretString)"))
    try:
        payload = json.loads(value)
    except ValueError:
        raise missing("is not JSON") from None
    if not isinstance(payload, dict):
        raise missing("is not a JSON object")
    values = {key: payload.get(key) for key in (SECRET_CLIENT_ID, SECRET_CLIENT_SECRET)}
    lacking = [k for k, v in values.items() if not isinstance(v, str) or not v.strip()]
    if lacking:
        fields = " and ".join(f'"{k}"' for k in lacking)
        raise missing(f"has no non-empty string {fields}")
    return SpotifySettings(
        client_id=str(values[SECRET_CLIENT_ID]).strip(),
        client_secret=str(values[SECRET_CLIENT_SECRET]).strip(),
        api_url=config.api_url,
        token_url=config.token_url,
    )


def _has_no_current_value(error: BaseException, secrets: Any, arn: str) -> bool:
    """Whether ``error`` (from GetSecretValue) means "the secret exists, without a value".

    Secrets Manager answers ResourceNotFoundException both for a secret that does not exist
    and for one created without a value ("can't find the specified secret value for staging
    label: AWSCURRENT"); rather than parse the message, DescribeSecret (granted with
    GetSecretValue by CDK's ``grant_read``) says whether the secret exists and has a version
    in the AWSCURRENT stage. Any doubt (DescribeSecret fails) keeps the original error.
    """
    if not isinstance(error, ClientError):
        return False
    if _error_code(error) != SECRET_NOT_FOUND:
        return False
    try:
        described = secrets.describe_secret(SecretId=arn)
    except (ClientError, BotoCoreError):
        return False
    stages = described.get("VersionIdsToStages") or {}
    return not any(CURRENT_STAGE in labels for labels in stages.values())


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
