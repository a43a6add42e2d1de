"""How a day's ingest ends, as the state machines see it.

The ingest statuses that let a day's load go on, the stop reasons (a status that ends the day
with one alert and no retry), the ingest failures never retried, and the day's load record
that the freshness check reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from infra.stack_settings import LOAD_RECORDS_PREFIX
from ingest.errors import NonRetryableIngestError
from ingest.status import IngestStatus

#: Ingest statuses after which the day's bronze is complete (manifest written) and loadable.
LOADABLE_STATUSES: Final = (IngestStatus.COMPLETE, IngestStatus.ALREADY_COMPLETE)


@dataclass(frozen=True)
class StopReason:
    """An ingest status that stops the day on purpose, with one alert and no retry.

    Retrying cannot help until a person acts (a Spotify app with followers, credentials
    filled in): the day gets a load record with this status (so the evening's freshness check
    does not alert a second time), the execution ends as succeeded after exactly one alert
    (so no failure alert fires either), and the alert says what to do.
    """

    status: IngestStatus
    error: str
    subject: str
    remedy: str


FOLLOWERS_UNAVAILABLE: Final = StopReason(
    status=IngestStatus.FOLLOWERS_UNAVAILABLE,
    error="FollowersUnavailable",
    subject="spotify-lakehouse: the Spotify app cannot read followers",
    remedy=(
        "Ingest stopped: the Spotify app behind the secret receives no followers. "
        "Since 2026-03-09 Development Mode apps get no followers and no popularity. "
        "Nothing was loaded into silver; the raw answers are kept in bronze. "
        "Remedy: use an Extended Quota Mode app (or another source), update the secret, "
        "re-run the day."
    ),
)
CREDENTIALS_MISSING: Final = StopReason(
    status=IngestStatus.CREDENTIALS_MISSING,
    error="CredentialsMissing",
    subject="spotify-lakehouse: the Spotify credentials are not filled in yet",
    remedy=(
        "Ingest stopped before calling Spotify: {location} holds no "
        "client_id/client_secret yet. Nothing was written. Fill it with the Spotify app's "
        "values (docs/runbook.md, 'Fill the credentials'): {fill_command} then re-run the day."
    ),
)
STOP_REASONS: Final = (FOLLOWERS_UNAVAILABLE, CREDENTIALS_MISSING)

#: ``status`` of a day's load record (``reports/loads/snapshot_date=D.json``): ``loaded`` once
#: the Glue job has loaded the day, or the status of a :class:`StopReason` when the pipeline
#: stopped the day with its one alert. Each satisfies the freshness check: a stopped day is
#: not loaded, but a person has been told already, once.
LOADED: Final = "loaded"
RECORDED_STATUSES: Final = (LOADED, *(reason.status.value for reason in STOP_REASONS))

#: Lambda ``errorType`` names (the raised exception's class name, exactly: Step Functions
#: matches error names literally, never by base class) of the ingest failures that retrying
#: cannot fix. The handler wraps every permanent failure (no roster artist known to Spotify,
#: a past or future day refused by the real API, a malformed event) in
#: :class:`~ingest.errors.NonRetryableIngestError`. It gets a ``MaxAttempts: 0`` retrier
#: ahead of the ``States.TaskFailed`` one (a wildcard), so the execution fails (and alerts)
#: at once instead of calling Spotify twice more for an answer that cannot change.
PERMANENT_INGEST_ERRORS: Final[tuple[str, ...]] = (NonRetryableIngestError.__name__,)


def load_record_key(day_expression: str) -> str:
    """JSONata for the key of a day's load record (``reports/loads/snapshot_date=D.json``)."""
    return f"{{% '{LOAD_RECORDS_PREFIX}snapshot_date=' & {day_expression} & '.json' %}}"
