"""The ingest Lambda: ``handler(event, context)``, as fixed in docs/aws-contracts.md.

Environment (names as constants in :mod:`ingest.invocation`): ``BRONZE_BUCKET``,
``BRONZE_PREFIX`` (default ``bronze/``), the credentials store: exactly one of
``SPOTIFY_CREDENTIALS_PARAMETER`` (an SSM Parameter Store SecureString's name, the stack's
default) and ``SPOTIFY_SECRET_ARN`` (a Secrets Manager secret), either holding
``{"client_id": ..., "client_secret": ...}``; optional ``ROSTER_KEY`` (a roster file in the
bucket; default: the 20 shipped artists), ``ROSTER_TOP`` (keep the N most followed, default
20), and ``SPOTIFY_API_URL`` / ``SPOTIFY_TOKEN_URL`` overrides.

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
  :class:`~ingest.invocation.InvalidEventError`; the message starts with that original class name.
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

Run history: every invocation that got past the credentials leaves its run record (engine
``lambda``, kind ``ingest``: status, exit status 0/3/1 as the CLI's, records fetched, API
requests and 429 pauses, seconds, the error line) as JSON in bronze at
:func:`catalog.bronze.layout.run_record_key` (outside the artists dataset, so no manifest,
part or gap reader sees it); the Glue job folds it into ``spotify.pipeline_runs``. The
Lambda needs no pyiceberg for it (:mod:`catalog.iceberg.run_log` is standard library until a
table is touched). A record that cannot be written is a warning: the answer stands.

Logs: one JSON object per line (:mod:`ingest.lambda_logs`). Credentials: through Powertools'
parameters utility, never from a cache, never logged (:mod:`ingest.credentials`).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, Final

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from catalog.bronze.layout import BronzeStore, manifest_key, run_record_key
from catalog.bronze.s3 import S3_CLIENT_CONFIG, S3BronzeStore
from catalog.iceberg.run_log import ResponseCounter, RunRecord, RunTally
from ingest.budget import TimeBudget
from ingest.connection import client_for
from ingest.credentials import read_credentials, spotify_settings
from ingest.errors import (
    BackdatedRefusedError,
    FollowersUnavailableError,
    FutureDayError,
    NoArtistsFoundError,
    NonRetryableIngestError,
    RosterError,
    SecretValueMissingError,
    TimeBudgetExceededError,
)
from ingest.invocation import ROSTER_KEY_ENV, HandlerConfig, IngestEvent, InvalidEventError
from ingest.lambda_logs import LAMBDA_FUNCTION_ENV, logger, route_package_logs
from ingest.pipeline import ingest_day, new_run_id
from ingest.roster import Roster, default_roster, parse_roster
from ingest.settings import SpotifySettings
from ingest.status import IngestStatus
from ingest.summary import credentials_missing_summary, day_summary, result_summary

#: The Lambda runs against the real API: its source, as recorded in the manifest.
LAMBDA_SOURCE: Final = "spotify"
#: The engine and kind of the Lambda's run records.
LAMBDA_ENGINE: Final = "lambda"
RUN_KIND: Final = "ingest"
#: Exit statuses of the run record, as the CLI's: followers unavailable is 3.
FOLLOWERS_UNAVAILABLE_EXIT: Final = 3
FAILED_EXIT: Final = 1

if os.environ.get(LAMBDA_FUNCTION_ENV):
    route_package_logs()


#: Failures that retrying the same event cannot fix: raised as NonRetryableIngestError.
PERMANENT_ERRORS: Final = (
    NoArtistsFoundError,
    BackdatedRefusedError,
    FutureDayError,
    InvalidEventError,
)


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
        settings = spotify_settings(config, read_credentials(config, secrets_client, ssm_client))
    except SecretValueMissingError as e:
        logger.warning("%s", e)
        return credentials_missing_summary(day, str(e))
    s3 = s3_client or boto3.client("s3", config=S3_CLIENT_CONFIG)
    store = S3BronzeStore(config.bucket, config.prefix, client=s3)
    run = LambdaRun(day)
    try:
        summary = _ingest(
            event, config, settings, store, s3, run, budget=budget, sleep=sleep, clock=clock
        )
    except Exception as e:
        run.write(store, FAILED_EXIT, f"{type(e).__name__}: {e}")
        raise
    return summary


def _ingest(
    event: IngestEvent,
    config: HandlerConfig,
    settings: SpotifySettings,
    store: S3BronzeStore,
    s3: Any,
    run: LambdaRun,
    *,
    budget: TimeBudget | None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
) -> dict[str, Any]:
    day = event.snapshot_date
    roster = _roster(config, s3)
    client = client_for(settings, budget=budget, sleep=sleep, clock=clock)
    run.watch(client)
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
        run.fetched(manifest.run_id, manifest.record_count)
        run.write(store, FOLLOWERS_UNAVAILABLE_EXIT, str(e))
        return day_summary(
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
    run.fetched(result.run_id, 0 if result.already_complete else result.records)
    run.write(store, 0, None)
    return result_summary(result, store)


class LambdaRun:
    """This invocation's run record: started when the credentials were read, written once
    to bronze (:func:`catalog.bronze.layout.run_record_key`) with its outcome."""

    def __init__(self, day: date) -> None:
        self.day = day
        self.run_id = new_run_id()
        self.started_at = datetime.now(UTC)
        self._started = time.perf_counter()
        self.tally = RunTally()
        self.tally.day(day)
        self._client: Any = None
        self._responses: ResponseCounter | None = None
        self.written: RunRecord | None = None

    def watch(self, client: Any) -> None:
        """Count ``client``'s requests and 429 pauses from now on."""
        self._client = client
        self._responses = ResponseCounter(client.session)  # every answer, retries included

    def fetched(self, bronze_run_id: str, records: int) -> None:
        self.tally.add_fetch(
            day=self.day,
            records=records,
            bronze_run_id=bronze_run_id,
            seconds=time.perf_counter() - self._started,
            api_requests=self._responses.count if self._responses is not None else None,
            rate_limit_waits=self._client.rate_limit_pauses if self._client else None,
        )

    def write(self, store: BronzeStore, exit_code: int, error: str | None) -> RunRecord | None:
        """Write the record (once); a failure to write is a warning, never the answer."""
        if self.written is not None:
            return self.written
        if self._client is not None and self.tally.api_requests is None:
            self.tally.api_requests = self._responses.count if self._responses else None
            self.tally.rate_limit_waits = self._client.rate_limit_pauses
        record = self.tally.record(
            run_id=self.run_id,
            kind=RUN_KIND,
            engine=LAMBDA_ENGINE,
            started_at=self.started_at,
            ended_at=datetime.now(UTC),
            exit_code=exit_code,
            error=error,
            elapsed_s=time.perf_counter() - self._started,
        )
        try:
            store.put_new(run_record_key(self.day, self.run_id), record.to_json())
        except Exception as e:
            logger.warning("run record %s not written: %s: %s", self.run_id, type(e).__name__, e)
            return None
        self.written = record
        return record


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
