"""Every way ingest can fail, one class each, so callers can tell them apart.

All derive from :class:`catalog.errors.LakehouseError`: the CLI prints the message on one
line and exits with the class's ``exit_code`` (1, or 3 for missing followers). Messages say
what failed and what to do next, and never contain a client secret or a token.

:class:`FollowersUnavailableError` is shared with the transform (it lives in
``catalog.errors``) and re-exported here so ingest callers need a single import.
"""

from __future__ import annotations

import json

from catalog.errors import FollowersUnavailableError, LakehouseError

__all__ = [
    "BackdatedRefusedError",
    "FollowersUnavailableError",
    "FutureDayError",
    "IngestError",
    "InsecureEndpointError",
    "LegacySourceError",
    "MissingCredentialsError",
    "NoArtistsFoundError",
    "NonRetryableIngestError",
    "RateLimitTooLongError",
    "RosterError",
    "SecretError",
    "SecretValueMissingError",
    "SettingsError",
    "SpotifyAuthError",
    "SpotifyRequestError",
    "SpotifyUnavailableError",
    "TimeBudgetExceededError",
    "spotify_error_message",
]


class IngestError(LakehouseError):
    """Base class of ingest failures (exit 1 unless a subclass says otherwise)."""


class RosterError(IngestError):
    """The roster file cannot be read, is empty, or holds malformed artist ids."""


class SettingsError(IngestError):
    """The Spotify connection settings are unusable."""


class MissingCredentialsError(SettingsError):
    """SPOTIFY_CLIENT_ID or SPOTIFY_CLIENT_SECRET is not set (and no simulator was asked for)."""


class InsecureEndpointError(SettingsError):
    """A Spotify URL is plain http to a non-loopback host: the secret would travel in clear."""


class SpotifyAuthError(IngestError):
    """Spotify refused the client credentials, or kept answering 401 after a token refresh."""


class SpotifyRequestError(IngestError):
    """Spotify answered a request with an error that retrying cannot fix (e.g. 400)."""


class SpotifyUnavailableError(IngestError):
    """Spotify kept failing (5xx, 429, connection errors) until the retry budget ran out."""


class TimeBudgetExceededError(SpotifyUnavailableError):
    """A wait (a 429's Retry-After, the shared rate-limit pause, or the backoff after a 5xx
    or a connection error) would leave the Lambda less than its safety margin.

    The run stops *before* waiting, because a Lambda killed mid-wait and retried at once is
    exactly the early retry Spotify punishes. The day is left incomplete (no manifest; parts
    already written stay, the pipeline never deletes bronze). A subclass of
    :class:`SpotifyUnavailableError`, i.e. transient: the state machine's later retry (minutes
    away, longer than any wait the retry policy accepts) completes the day. Only raised
    where there is a deadline (the Lambda); local runs have none.
    """

    def __init__(self, *, reason: str, wait_s: float, remaining_s: float, margin_s: float) -> None:
        super().__init__(
            f"{reason}, but only {remaining_s:.1f} s of the Lambda's time are left and "
            f"{margin_s:.0f} s of them are kept to finish cleanly: stopped instead of waiting. "
            "The day is left incomplete (no manifest written; parts already written stay in "
            "bronze) and will be retried later by the state machine"
        )
        self.reason = reason
        self.wait_s = wait_s
        self.remaining_s = remaining_s
        self.margin_s = margin_s


class RateLimitTooLongError(IngestError):
    """Spotify asked us to wait (Retry-After) longer than the configured ceiling.

    Waiting is the only correct answer to a 429 (retrying early makes Spotify's penalty
    longer), so rather than hang a Lambda or a terminal for hours the run stops cleanly and
    nothing is marked complete; re-run the day later.
    """


class BackdatedRefusedError(IngestError):
    """Real Spotify returns today's numbers only; filing them under a past day needs consent."""


class FutureDayError(IngestError):
    """Real Spotify cannot provide numbers for a day that has not started yet (UTC)."""


class LegacySourceError(IngestError):
    """The original project's history (folder or bucket) cannot be listed or read."""


class SecretError(SettingsError):
    """The Spotify credentials secret (Secrets Manager) is unreadable or not the expected JSON."""


class SecretValueMissingError(SecretError):
    """The credentials secret exists but holds no usable credentials yet: no value at all
    (the stack creates it empty), or JSON without string ``client_id``/``client_secret``.

    Not a failure of the run but a setup step not yet done: the Lambda *returns* the status
    ``credentials_missing`` with this message (no retries, one alert) instead of raising.
    The message never quotes the secret's content; it gives the command that fills it.
    """

    def __init__(self, secret_arn: str, problem: str) -> None:
        super().__init__(
            f"the Spotify credentials secret {secret_arn} {problem}; nothing was fetched or "
            "written. Next step: fill it with the Spotify app's values (developer dashboard), "
            f"e.g. aws secretsmanager put-secret-value --secret-id {secret_arn} "
            """--secret-string '{"client_id":"...","client_secret":"..."}' """
            "(docs/runbook.md, 'Fill the secret'), then re-run the day (docs/runbook.md, "
            "'Run a day')"
        )
        self.secret_arn = secret_arn
        self.problem = problem


class NoArtistsFoundError(IngestError):
    """Spotify knows none of the roster's ids, so there is nothing to classify or load."""


class NonRetryableIngestError(IngestError):
    """What the ingest Lambda raises for a failure that retrying the same event cannot fix.

    The handler (:mod:`ingest.handler`) wraps the permanent failures in it (a roster Spotify
    knows nothing of, a past or future day refused against the real API, a malformed event)
    so that Lambda reports one error name, ``NonRetryableIngestError``, which the state
    machine does not retry. The message starts with the original error's class name.
    """


def spotify_error_message(body: bytes) -> str:
    """The message of a Spotify error body (either shape), else a short raw excerpt, for the
    errors above: the Web API's ``{"error": {"status", "message"}}`` and the token
    endpoint's ``{"error": "...", "error_description": "..."}``."""
    try:
        payload = json.loads(body)
    except ValueError:
        return body[:200].decode("utf-8", "replace") or "(empty body)"
    error = payload.get("error") if isinstance(payload, dict) else None
    if isinstance(error, dict):
        return str(error.get("message", error))
    if isinstance(error, str):
        description = payload.get("error_description")
        return f"{error}: {description}" if description else error
    return body[:200].decode("utf-8", "replace")
