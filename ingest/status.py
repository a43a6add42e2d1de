"""The statuses the ingest Lambda returns, as one enum both sides of the contract import.

The handler (:mod:`ingest.handler`) puts one of these in its answer's ``status``; the CDK
state machine's Choice branches on the same strings. This module imports nothing beyond the
standard library on purpose: the CDK app can import it without pulling in boto3 or requests,
and a renamed status breaks both sides at once instead of silently sending days to the
Choice's "unexpected status" branch.

Failures are *raised*, not returned (Lambda reports them by exception class name); these
statuses are the outcomes the state machine must route without retrying.
"""

from __future__ import annotations

from enum import StrEnum


class IngestStatus(StrEnum):
    """``status`` of the ingest Lambda's answer (a plain JSON string on the wire)."""

    #: This invocation fetched the day and wrote its manifest: bronze is loadable.
    COMPLETE = "complete"
    #: The day already had a manifest (a duplicate or retried invocation): nothing fetched.
    ALREADY_COMPLETE = "already_complete"
    #: The app's answers carry no followers (Spotify Development Mode): the raw answers and a
    #: ``followers_available: false`` manifest are in bronze; stop with one alert, no retry.
    FOLLOWERS_UNAVAILABLE = "followers_unavailable"
    #: The credentials secret exists but holds no usable ``client_id``/``client_secret`` yet:
    #: nothing was fetched or written; the answer's ``message`` gives the operator's next step.
    #: Retrying cannot help until a person fills the secret, so stop with one alert.
    CREDENTIALS_MISSING = "credentials_missing"
