"""Connection settings: env names, defaults, secrets kept out of reprs, TLS enforced."""

from __future__ import annotations

import pytest

from ingest.errors import InsecureEndpointError, MissingCredentialsError
from ingest.settings import DEFAULT_API_URL, DEFAULT_TOKEN_URL, SpotifySettings

SECRET = "s3cr3t-value-do-not-print"


def test_from_env_reads_credentials_and_defaults_the_urls() -> None:
    settings = SpotifySettings.from_env(
        {"SPOTIFY_CLIENT_ID": "abc", "SPOTIFY_CLIENT_SECRET": SECRET}
    )
    assert settings.client_id == "abc"
    assert settings.client_secret == SECRET
    assert settings.api_url == DEFAULT_API_URL == "https://api.spotify.com/v1"
    assert settings.token_url == DEFAULT_TOKEN_URL == "https://accounts.spotify.com/api/token"
    assert not settings.is_loopback


def test_from_env_overrides_urls() -> None:
    settings = SpotifySettings.from_env(
        {
            "SPOTIFY_CLIENT_ID": "abc",
            "SPOTIFY_CLIENT_SECRET": SECRET,
            "SPOTIFY_API_URL": "http://127.0.0.1:9999/v1/",
            "SPOTIFY_TOKEN_URL": "http://127.0.0.1:9999/api/token",
        }
    )
    assert settings.api_url == "http://127.0.0.1:9999/v1"
    assert settings.is_loopback


def test_secret_never_appears_in_repr_or_str() -> None:
    settings = SpotifySettings(client_id="abc", client_secret=SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert "abc" in repr(settings)


@pytest.mark.parametrize(
    "env",
    [{}, {"SPOTIFY_CLIENT_ID": "abc"}, {"SPOTIFY_CLIENT_ID": "abc", "SPOTIFY_CLIENT_SECRET": " "}],
)
def test_missing_credentials_name_the_variables(env: dict[str, str]) -> None:
    with pytest.raises(MissingCredentialsError, match=r"SPOTIFY_CLIENT_SECRET.*--simulator"):
        SpotifySettings.from_env(env)


def test_plain_http_to_a_remote_host_is_refused() -> None:
    with pytest.raises(InsecureEndpointError, match="must be https"):
        SpotifySettings("abc", SECRET, api_url="http://api.spotify.com/v1")
