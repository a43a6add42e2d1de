"""How to reach Spotify: credentials and URLs, from the environment or given explicitly.

The client secret is kept out of ``repr`` (and so out of logs, tracebacks and reprs of
anything holding the settings). On Lambda the credentials come from a credentials store (an
SSM Parameter Store SecureString, or a Secrets Manager secret; the stack chooses, see
``infra/stack_settings.py``) and the handler builds :class:`SpotifySettings` directly
instead of calling :meth:`from_env`. The store's environment variables are named here, so
the CDK app (which must not import the handler's boto3) and the handler share them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

from ingest.errors import InsecureEndpointError, MissingCredentialsError

CLIENT_ID_ENV: Final = "SPOTIFY_CLIENT_ID"
CLIENT_SECRET_ENV: Final = "SPOTIFY_CLIENT_SECRET"  # noqa: S105 (a variable name)
API_URL_ENV: Final = "SPOTIFY_API_URL"
TOKEN_URL_ENV: Final = "SPOTIFY_TOKEN_URL"  # noqa: S105 (a variable name)

#: The Lambda's credentials store: exactly one of the two is set (by the CDK stack).
#: An SSM parameter's name (a SecureString holding the JSON below)...
CREDENTIALS_PARAMETER_ENV: Final = "SPOTIFY_CREDENTIALS_PARAMETER"
#: ...or a Secrets Manager secret's ARN (its SecretString holding the JSON below).
SECRET_ARN_ENV: Final = "SPOTIFY_SECRET_ARN"  # noqa: S105 (a variable name)
#: Keys of the stored JSON.
CLIENT_ID_KEY: Final = "client_id"
CLIENT_SECRET_KEY: Final = "client_secret"  # noqa: S105 (a key name)
#: The JSON as the fill commands show it (values elided, quoted for a POSIX shell).
CREDENTIALS_SHAPE: Final = """'{"client_id":"...","client_secret":"..."}'"""

DEFAULT_API_URL: Final = "https://api.spotify.com/v1"
DEFAULT_TOKEN_URL: Final = "https://accounts.spotify.com/api/token"  # noqa: S105 (a URL)

#: Hosts where plain http is acceptable (the simulator): traffic never leaves the machine.
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "localhost", "::1"})


@dataclass(frozen=True)
class SpotifySettings:
    """Everything needed to call the Spotify Web API with the client-credentials flow."""

    client_id: str
    client_secret: str = field(repr=False)
    api_url: str = DEFAULT_API_URL
    token_url: str = DEFAULT_TOKEN_URL

    def __post_init__(self) -> None:
        if not self.client_id or not self.client_secret:
            raise MissingCredentialsError(
                f"Spotify credentials are missing: set {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV} "
                "(from https://developer.spotify.com/dashboard), or use --simulator"
            )
        for name, url in (("API", self.api_url), ("token", self.token_url)):
            _check_endpoint(name, url)
        # A trailing slash would give "//artists"; normalise once here.
        object.__setattr__(self, "api_url", self.api_url.rstrip("/"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SpotifySettings:
        """Read the four ``SPOTIFY_*`` variables; the URLs default to the real Spotify."""
        env = os.environ if environ is None else environ
        return cls(
            client_id=env.get(CLIENT_ID_ENV, "").strip(),
            client_secret=env.get(CLIENT_SECRET_ENV, "").strip(),
            api_url=env.get(API_URL_ENV, "").strip() or DEFAULT_API_URL,
            token_url=env.get(TOKEN_URL_ENV, "").strip() or DEFAULT_TOKEN_URL,
        )

    @property
    def is_loopback(self) -> bool:
        """True when both endpoints are on this machine (the simulator)."""
        return all(
            urlsplit(url).hostname in LOOPBACK_HOSTS for url in (self.api_url, self.token_url)
        )


def _check_endpoint(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise InsecureEndpointError(
        f"Spotify {name} URL {url!r} must be https:// (plain http is accepted only for "
        f"127.0.0.1/localhost, i.e. the simulator); fix {API_URL_ENV} / {TOKEN_URL_ENV}"
    )
