"""Fixtures for the ingest tests: a real simulator on 127.0.0.1 and a bronze folder.

Nothing here replaces our own code: the client talks HTTP to the simulator, and the
pipeline writes to a real LocalBronzeStore in a temporary directory (or, for the Lambda
handler, to a bucket on moto's server, with the credentials in its Secrets Manager).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from catalog.bronze.local import LocalBronzeStore
from ingest.budget import TimeBudget
from ingest.client import SpotifyClient
from ingest.connection import client_for
from ingest.retry import RetryPolicy
from ingest.roster import Roster, default_roster, synthetic_artists
from ingest.settings import SpotifySettings
from ingest.simulator.server import SpotifySimulator

SEED = 7
#: The bronze bucket of the Lambda tests (on moto's server).
BUCKET = "lakehouse-data"
#: Fast retries for tests: tiny exponential backoff; Retry-After is still honoured in full.
FAST_RETRY = RetryPolicy(max_attempts=4, max_retry_after_s=5, backoff_initial_s=0.01)
#: The ingest function of the Lambda tests' contexts.
FUNCTION_NAME = "ingest"

MakeClient = Callable[..., SpotifyClient]


@dataclass
class LambdaContext:
    """What the Lambda runtime passes as ``context``, minus the deadline: no
    ``get_remaining_time_in_millis``, so the handler runs without a time budget. Powertools'
    Logger reads the request id, the function's name, memory and ARN."""

    aws_request_id: str = "req-0001"
    function_name: str = FUNCTION_NAME
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = f"arn:aws:lambda:us-east-1:123456789012:function:{FUNCTION_NAME}"


class FakeTime:
    """A clock and a sleep that advances it: waits are recorded, never spent."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds


@pytest.fixture
def unreachable_spotify() -> SpotifySettings:
    """Settings whose API and token URLs are a 127.0.0.1 port nobody listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return SpotifySettings(
        "id",
        "secret",
        api_url=f"http://127.0.0.1:{port}/v1",
        token_url=f"http://127.0.0.1:{port}/api/token",
    )


@pytest.fixture
def fast_retry() -> RetryPolicy:
    return FAST_RETRY


@pytest.fixture
def large_roster() -> Roster:
    """The default 20 plus 100 synthetic artists: 120 ids, more than two batches of 50."""
    extra = tuple(synthetic_artists(100, seed=SEED))
    return Roster(default_roster().artists + extra, origin="test roster")


@pytest.fixture
def sim(large_roster: Roster) -> Iterator[SpotifySimulator]:
    with SpotifySimulator(seed=SEED, extra_artists=large_roster.artists) as simulator:
        yield simulator


@pytest.fixture
def make_client(sim: SpotifySimulator) -> Iterator[MakeClient]:
    """Build clients for the simulator, with fast retries unless told otherwise."""
    clients: list[SpotifyClient] = []

    def make(
        *,
        retry: RetryPolicy = FAST_RETRY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_workers: int = 8,
        timeout: tuple[float, float] = (5.0, 30.0),
        budget: TimeBudget | None = None,
    ) -> SpotifyClient:
        made = client_for(
            sim.settings(),
            retry=retry,
            sleep=sleep,
            clock=clock,
            max_workers=max_workers,
            timeout=timeout,
            budget=budget,
        )
        clients.append(made)
        return made

    yield make
    for made in clients:
        made.close()


@pytest.fixture
def client(make_client: MakeClient) -> SpotifyClient:
    return make_client()


@pytest.fixture
def store(tmp_path: Path) -> LocalBronzeStore:
    return LocalBronzeStore(tmp_path / "bronze")


@pytest.fixture
def lambda_env(aws: str, sim: SpotifySimulator, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The ingest Lambda's world on moto: a versioned bucket, a filled credentials secret,
    the environment the CDK stack sets, pointed at the simulator. Yields the S3 client."""
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=BUCKET)
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    secret = {"client_id": sim.client_id, "client_secret": sim.client_secret}
    arn = boto3.client("secretsmanager").create_secret(
        Name="spotify", SecretString=json.dumps(secret)
    )["ARN"]
    for name, value in {
        "BRONZE_BUCKET": BUCKET,
        "SPOTIFY_SECRET_ARN": arn,
        "SPOTIFY_API_URL": sim.api_url,
        "SPOTIFY_TOKEN_URL": sim.token_url,
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("BRONZE_PREFIX", "ROSTER_KEY", "ROSTER_TOP", "SPOTIFY_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    return s3


def bucket_keys(s3: Any) -> list[str]:
    """Every key in the Lambda tests' bucket."""
    answer = s3.list_objects_v2(Bucket=BUCKET)
    return sorted(o["Key"] for o in answer.get("Contents", []))


#: What a manifest hook may answer instead of moto: (status, headers, body).
MotoAnswer = tuple[int, dict[str, str], str]


@dataclass
class ManifestPuts:
    """Every ``PutObject`` of a ``_manifest.json`` that reached moto's server, in order.

    ``conditions`` holds each request's condition (``If-None-Match: *`` or
    ``If-Match: <etag>``; ``""`` for none). ``hook``, when set, runs inside the request
    before moto's own check and may return an answer that replaces moto's (a 409, say).
    """

    conditions: list[str] = field(default_factory=list)
    hook: Callable[[str], MotoAnswer | None] | None = None


def conflict_answer(message: str = "A conflicting operation occurred.") -> MotoAnswer:
    """S3's 409 for a conditional write racing another one on the same key."""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?><Error><Code>ConditionalRequestConflict</Code>'
        f"<Message>{message}</Message><RequestId>moto-409</RequestId></Error>"
    )
    return 409, {"Content-Type": "application/xml"}, body


@pytest.fixture
def manifest_puts(monkeypatch: pytest.MonkeyPatch) -> ManifestPuts:
    """Watch (and optionally answer) manifest writes on moto's side of the wire.

    Also makes moto's conditional put atomic: moto checks ``If-None-Match``/``If-Match``
    and then writes without a lock, so two racing requests could both pass the check;
    S3 itself never lets that happen.
    """
    from moto.s3.responses import S3Response

    original = S3Response.put_object
    atomic = threading.Lock()
    puts = ManifestPuts()

    def put_object(self: S3Response) -> Any:
        key = self.parse_key_name()
        if key.endswith("/_manifest.json"):
            if self.headers.get("If-None-Match"):
                condition = f"If-None-Match: {self.headers['If-None-Match']}"
            elif self.headers.get("If-Match"):
                condition = f"If-Match: {self.headers['If-Match']}"
            else:
                condition = ""
            puts.conditions.append(condition)
            if puts.hook is not None:
                answer = puts.hook(condition)
                if answer is not None:
                    return answer
        with atomic:
            return original(self)

    monkeypatch.setattr(S3Response, "put_object", put_object)
    return puts
