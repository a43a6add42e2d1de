"""Every way ingest can fail, one class each, so callers can tell them apart.

All derive from :class:`catalog.errors.LakehouseError`: the CLI prints the message on one
line and exits with the class's ``exit_code`` (1, or 3 for missing followers). Messages say
what failed and what to do next, and never contain a client secret or a token.

:class:`FollowersUnavailableError` is shared with the transform (it lives in
``catalog.errors``) and re-exported here so ingest callers need a single import.
"""

from __future__ import annotations

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
    "SettingsError",
    "SpotifyAuthError",
    "SpotifyRequestError",
    "SpotifyUnavailableError",
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


class NoArtistsFoundError(IngestError):
    """Spotify knows none of the roster's ids, so there is nothing to classify or load."""


class NonRetryableIngestError(IngestError):
    """What the ingest Lambda raises for a failure that retrying the same event cannot fix.

    The handler (:mod:`ingest.handler`) wraps the permanent failures in it (a roster Spotify
    knows nothing of, a past or future day refused against the real API, a malformed event)
    so that Lambda reports one error name, ``NonRetryableIngestError``, which the state
    machine does not retry. The message starts with the original error's class name.
    """
