"""Commit conflicts: another writer committed first. Retry a bounded number of times.

Iceberg commits are optimistic. When another writer changed the same table between our
read and our commit, Iceberg retries by itself where the two changes do not overlap; when
they do (another load rewrote the same day's files), it raises and the whole operation must
be redone from the new table state. :func:`retry_on_conflict` does that with exponential
backoff and jitter, then fails with a message that says what to do.

A commit whose outcome is unknown (``CommitStateUnknownException``: the catalog failed after
receiving it, or its answer was lost) is not a conflict: it may have landed. Redoing an
append that landed would record it twice, so such an operation passes ``landed``, a check
of the table for the commit it made (by an id it put in the snapshot summary). After the
backoff that check runs first: if the commit is there, its result is returned and nothing
is redone; if not, the operation is redone. An operation whose redo after a landed commit
changes nothing (a MERGE that recomputes its changes) passes ``idempotent=True`` and is
simply redone; any other fails at once with :class:`CommitStateUnknownError`.

Used for the loads of silver (:func:`glue.transform.load_day`: a first load's pyiceberg
append, whose lost race is redone as a fresh decision, or a re-load's Spark MERGE), for the
pyiceberg writes of the quarantine and results tables (:mod:`expectations.persist`) and for
their load tags (:mod:`catalog.iceberg.tags.with_pyiceberg`).
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
_CONFLICT_CLASSES: Final = ("CommitFailedException",)
#: Text of Iceberg's exception (Java or pyiceberg) for a commit whose outcome is unknown.
_UNKNOWN_STATE_CLASS: Final = "CommitStateUnknownException"
_CONFLICT_VALIDATIONS: Final = (
    "Found conflicting files",
    "Found new conflicting",
    "Missing required files to delete",
    "concurrent",
)


class CommitConflictError(LakehouseError):
    """Another writer kept committing first; our change was not applied."""


class CommitStateUnknownError(LakehouseError):
    """A commit's outcome is unknown and could not be settled: it may or may not be applied."""


def is_commit_conflict(error: BaseException) -> bool:
    """Whether ``error`` (pyiceberg, Spark or py4j) says another writer committed first."""
    from pyiceberg.exceptions import CommitFailedException

    if isinstance(error, CommitFailedException):
        return True
    if is_commit_state_unknown(error):
        return False
    text = str(error)
    if any(name in text for name in _CONFLICT_CLASSES):
        return True
    return "ValidationException" in text and any(m in text for m in _CONFLICT_VALIDATIONS)


def is_commit_state_unknown(error: BaseException) -> bool:
    """Whether ``error`` says the commit's outcome is unknown (it may have landed)."""
    from pyiceberg.exceptions import CommitStateUnknownException

    return isinstance(error, CommitStateUnknownException) or _UNKNOWN_STATE_CLASS in str(error)


def _first_line(error: BaseException | None) -> str:
    return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"


def retry_on_conflict(
    operation: Callable[[], T],
    *,
    what: str,
    landed: Callable[[], T | None] | None = None,
    idempotent: bool = False,
    attempts: int = DEFAULT_COMMIT_ATTEMPTS,
    wait_multiplier_s: float = DEFAULT_WAIT_MULTIPLIER_S,
    wait_max_s: float = DEFAULT_WAIT_MAX_S,
) -> T:
    """Run ``operation``; on a commit conflict, redo it after a backoff, ``attempts`` in all.

    ``operation`` must recompute its change from the table's current state each time.
    On an unknown commit state, ``landed`` (when given) is asked first whether the last
    attempt's commit is in the table: its answer (not ``None``) is returned without a redo.
    Without ``landed``, an unknown state is redone only when ``idempotent``; otherwise it
    raises :class:`CommitStateUnknownError` at once. Any other error is raised at once.
    """
    unknown = False

    def attempt() -> T:
        nonlocal unknown
        if unknown and landed is not None:
            found = landed()
            if found is not None:
                log.warning("%s: the commit of unknown state had landed; not redone", what)
                return found
        unknown = False
        try:
            return operation()
        except Exception as e:
            unknown = is_commit_state_unknown(e)
            raise

    def retried(error: BaseException) -> bool:
        if is_commit_state_unknown(error):
            return landed is not None or idempotent
        return is_commit_conflict(error)

    def note(state: object) -> None:
        number = getattr(state, "attempt_number", "?")
        reason = "unknown commit state" if unknown else "commit conflict"
        log.warning("%s: %s on attempt %s, retrying", what, reason, number)

    retrying = Retrying(
        retry=retry_if_exception(retried),
        stop=stop_after_attempt(attempts),
        wait=wait_random_exponential(multiplier=wait_multiplier_s, max=wait_max_s),
        before_sleep=note,
        reraise=False,
    )
    try:
        return retrying(attempt)
    except RetryError as e:
        cause = e.last_attempt.exception()
        if cause is not None and is_commit_state_unknown(cause):
            found = landed() if landed is not None else None
            if found is not None:
                return found
            raise _unknown_state(what, cause, attempts) from cause
        raise CommitConflictError(
            f"{what}: another writer committed first {attempts} times in a row "
            f"({_first_line(cause)}); "
            "nothing of this run was committed to that table. Check for a second job or a "
            "maintenance run on the same table, then re-run: a re-run is safe"
        ) from cause
    except Exception as e:
        if is_commit_state_unknown(e):
            raise _unknown_state(what, e, 1) from e
        raise


def _unknown_state(what: str, cause: BaseException, attempts: int) -> CommitStateUnknownError:
    tries = "its commit" if attempts == 1 else f"the last of {attempts} commits"
    return CommitStateUnknownError(
        f"{what}: the catalog could not say whether {tries} was applied "
        f"({_first_line(cause)}); it is not redone blindly, so nothing is applied twice. "
        "Check the table's latest snapshots (their summaries name the run) before re-running"
    )
