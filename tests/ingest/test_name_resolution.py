"""A host name that does not resolve: retried by runs, not by a diagnosis, named either way.

The resolver is the boundary faked here (``socket.getaddrinfo`` raises ``gaierror``, as it
does without network): no query leaves the machine. Waits are recorded, never slept.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest
import requests

from ingest.connection import client_for
from ingest.errors import SpotifyUnavailableError
from ingest.retry import DEFAULT_MAX_ATTEMPTS, RetryPolicy, name_resolution_failure
from ingest.settings import SpotifySettings

HOST = "accounts.spotify.com"


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every lookup of :data:`HOST`, each answered "no such name"."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == HOST:
            asked.append(name)
            raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def authenticate(policy: RetryPolicy, waits: list[float]) -> SpotifyUnavailableError:
    client = client_for(SpotifySettings("id", "secret"), retry=policy, sleep=waits.append)
    with pytest.raises(SpotifyUnavailableError) as raised:
        client.authenticate()
    return raised.value


def test_a_run_retries_an_unresolved_name_then_says_it_did_not_resolve(
    lookups: list[str],
) -> None:
    waits: list[float] = []
    error = authenticate(RetryPolicy(), waits)
    assert len(lookups) == DEFAULT_MAX_ATTEMPTS
    assert len(waits) == DEFAULT_MAX_ATTEMPTS - 1
    assert f"cannot resolve {HOST}" in str(error)
    assert "Temporary failure in name resolution" in str(error)


def test_a_policy_without_name_retries_stops_at_the_first_lookup(lookups: list[str]) -> None:
    waits: list[float] = []
    error = authenticate(RetryPolicy(retry_name_resolution=False), waits)
    assert (lookups, waits) == ([HOST], [])
    assert str(error).startswith(f"offline? cannot resolve {HOST}")


def test_the_dns_failure_is_found_behind_requests_wrapping() -> None:
    cause = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    resolution = OSError("urllib3's NameResolutionError")
    resolution.__cause__ = cause
    # requests passes urllib3's error as an argument; its context is set by the except block.
    outer = requests.ConnectionError(resolution)
    assert name_resolution_failure(outer) is cause
    assert name_resolution_failure(requests.ConnectionError("refused")) is None
    assert name_resolution_failure(None) is None
