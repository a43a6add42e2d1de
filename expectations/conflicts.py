"""Commit conflicts: another writer committed first. Retry a bounded number of times.

Iceberg commits are optimistic. When another writer changed the same table between our
read and our commit, Iceberg retries by itself where the two changes do not overlap; when
they do (another load rewrote the same day's files), it raises and the whole operation must
be redone from the new table state. :func:`retry_on_conflict` does that with exponential
backoff and jitter, then fails with a message that says what to do.

Used for the Spark MERGE into silver (:mod:`glue.merge`) and for the pyiceberg writes of the
quarantine and results tables (:mod:`expectations.persist`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Final, TypeVar

from tenacity import (
    RetryError,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from catalog.errors import LakehouseError

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Attempts in all (the first plus three retries). Conflicts come from a second job on the
#: same day or a maintenance run; both finish within seconds, so a few tries suffice and a
#: stuck writer surfaces within a minute instead of hanging the schedule.
DEFAULT_COMMIT_ATTEMPTS: Final = 4
#: Backoff: random exponential from 0.5 s, at most 8 s per wait (jitter keeps two retrying
#: writers from colliding again in lockstep).
DEFAULT_WAIT_MULTIPLIER_S: Final = 0.5
DEFAULT_WAIT_MAX_S: Final = 8.0

#: Texts of Iceberg's exceptions that mean "someone else committed first": a failed
#: compare-and-swap of the table pointer, or a validation that found the other commit's
#: files overlap ours (row-level operations under serializable isolation).
_CONFLICT_CLASSES: Final = ("CommitFailedException", "CommitStateUnknownException")
_CONFLICT_VALIDATIONS: Final = (
    "Found conflicting files",
    "Found new conflicting",
    "Missing required files to delete",
    "concurrent",
)


class CommitConflictError(LakehouseError):
    """Another writer kept committing first; our change was not applied."""


def is_commit_conflict(error: BaseException) -> bool:
    """Whether ``error`` (pyiceberg, Spark or py4j) says another writer committed first."""
    from pyiceberg.exceptions import CommitFailedException

    if isinstance(error, CommitFailedException):
        return True
    text = str(error)
    if any(name in text for name in _CONFLICT_CLASSES):
        return True
    return "ValidationException" in text and any(m in text for m in _CONFLICT_VALIDATIONS)


def retry_on_conflict(
    operation: Callable[[], T],
    *,
    what: str,
    attempts: int = DEFAULT_COMMIT_ATTEMPTS,
    wait_multiplier_s: float = DEFAULT_WAIT_MULTIPLIER_S,
    wait_max_s: float = DEFAULT_WAIT_MAX_S,
) -> T:
    """Run ``operation``; on a commit conflict, redo it after a backoff, ``attempts`` in all.

    ``operation`` must recompute its change from the table's current state each time.
    Any other error is raised at once.
    """

    def note(state: object) -> None:
        attempt = getattr(state, "attempt_number", "?")
        log.warning("%s: commit conflict on attempt %s, retrying", what, attempt)

    retrying = Retrying(
        retry=retry_if_exception(is_commit_conflict),
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=wait_multiplier_s, max=wait_max_s),
        before_sleep=note,
        reraise=False,
    )
    try:
        return retrying(operation)
    except RetryError as e:
        cause = e.last_attempt.exception()
        raise CommitConflictError(
            f"{what}: another writer committed first {attempts} times in a row "
            f"({type(cause).__name__}: {str(cause).splitlines()[0] if cause else ''}); "
            "nothing of this run was committed to that table. Check for a second job or a "
            "maintenance run on the same table, then re-run: a re-run is safe"
        ) from cause
