"""``doctor`` on a machine without network: a verdict in one line, without 35 s of retries.

The DNS variant runs in process with the resolver answering "no such name" (a boundary
fake: ``socket.getaddrinfo`` raises ``gaierror``, so no query leaves the machine); the
"connection refused" variant uses a closed port on 127.0.0.1, in process (to count the
attempts) and as a real CLI process (for the exit status and the single stderr line).
Attempts are counted at the resolver, which every connection attempt asks first.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.local.doctor import DOCTOR_MAX_ATTEMPTS
from ingest.retry import DEFAULT_MAX_ATTEMPTS
from tests.cli._run import reason, run_cli, run_main

TOKEN_HOST = "accounts.spotify.com"  # the default token URL: never reached, the resolver fails
CREDENTIALS = {"SPOTIFY_CLIENT_ID": "id", "SPOTIFY_CLIENT_SECRET": "secret"}


def closed_port() -> int:
    """A 127.0.0.1 port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def counting_resolver(monkeypatch: pytest.MonkeyPatch, host: str, *, fail: bool) -> list[str]:
    """Count the resolver's lookups of ``host`` (one per connection attempt); with ``fail``,
    answer them as a resolver without network does."""
    asked: list[str] = []
    real: Callable[..., Any] = socket.getaddrinfo

    def getaddrinfo(name: Any, *args: Any, **kwargs: Any) -> Any:
        if name == host:
            asked.append(name)
            if fail:
                raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return asked


def test_doctor_without_dns_says_offline_after_one_attempt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = counting_resolver(monkeypatch, TOKEN_HOST, fail=True)
    outcome = run_main(["--home", str(tmp_path), "doctor"], monkeypatch, capsys, CREDENTIALS)
    reason(outcome, 1, "token:", "offline?", f"cannot resolve {TOKEN_HOST}")
    assert asked == [TOKEN_HOST]  # no retry of a name that does not resolve
    assert '"artist"' not in outcome.out  # the probe is not tried without a token


def test_doctor_with_spotify_refusing_connections_stops_after_its_few_attempts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = counting_resolver(monkeypatch, "127.0.0.1", fail=False)
    port = closed_port()
    env = {
        **CREDENTIALS,
        "SPOTIFY_TOKEN_URL": f"http://127.0.0.1:{port}/api/token",
        "SPOTIFY_API_URL": f"http://127.0.0.1:{port}/v1",
    }
    outcome = run_main(["--home", str(tmp_path), "doctor"], monkeypatch, capsys, env)
    reason(outcome, 1, "token:", "refused", f"after {DOCTOR_MAX_ATTEMPTS} attempts")
    assert len(asked) == DOCTOR_MAX_ATTEMPTS < DEFAULT_MAX_ATTEMPTS


def test_doctor_offline_is_one_line_and_exit_1_from_the_real_cli(tmp_path: Path) -> None:
    port = closed_port()
    env = {
        **CREDENTIALS,
        "SPOTIFY_TOKEN_URL": f"http://127.0.0.1:{port}/api/token",
        "SPOTIFY_API_URL": f"http://127.0.0.1:{port}/v1",
    }
    outcome = run_cli(["--home", str(tmp_path / "home"), "doctor"], cwd=tmp_path, env=env)
    reason(outcome, 1, "token:", "refused")
