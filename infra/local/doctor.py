"""``doctor``: what this machine and this Spotify app can do, before a run finds out.

Each check is one line of the report (ok, warn or fail, and why). The exit status follows
from the findings, never from the printed table: 3 when the probe found an app without
followers (the finding to act on first), 1 when any other check failed.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import ExitStack, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from catalog.errors import LakehouseError
from catalog.paths import LakehousePaths
from infra.local.spotify import open_connection
from ingest.capabilities import AppCapabilities, probe
from ingest.connection import SpotifyConnection, open_real_api
from ingest.errors import FollowersUnavailableError
from ingest.retry import RetryPolicy
from ingest.roster import default_roster

JAVA_VERSION_TIMEOUT_S: Final = 20
#: Attempts per Spotify request in doctor: one retry rides out a blip; a run's six attempts
#: and 30 s backoff (ingest's policy) would make an offline machine wait ~35 s for a verdict.
DOCTOR_MAX_ATTEMPTS: Final = 2
DOCTOR_BACKOFF_MAX_S: Final = 2.0
#: Longest Retry-After doctor sleeps through; a longer one is reported, not waited for.
DOCTOR_MAX_RETRY_AFTER_S: Final = 5.0
#: Doctor's retry rules: few, short, and no retry when the host name does not resolve (that
#: is "offline" or a wrong URL, said at once, in one line).
DOCTOR_RETRY: Final = RetryPolicy(
    max_attempts=DOCTOR_MAX_ATTEMPTS,
    backoff_max_s=DOCTOR_BACKOFF_MAX_S,
    max_retry_after_s=DOCTOR_MAX_RETRY_AFTER_S,
    retry_name_resolution=False,
)

CheckStatus = Literal["ok", "warn", "fail"]


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report."""

    name: str
    status: CheckStatus
    detail: str


class DoctorFoundProblemsError(LakehouseError):
    """At least one doctor check failed (exit 1); the report says which and why."""


class FollowersNotReadableError(FollowersUnavailableError):
    """Doctor's exit 3: the probe's artist came without ``followers``.

    The ingest error's wording would claim that bronze was written; doctor writes nothing,
    so it says what ingest and transform would do instead.
    """

    def __init__(self, artist_id: str) -> None:
        LakehouseError.__init__(
            self,
            f"this Spotify app cannot read followers: the probe artist {artist_id} came "
            "without the 'followers' field (Spotify Development Mode apps get no 'followers' "
            "and no 'popularity' since 2026-03-09), so ingest and transform would exit 3. "
            "Remedy: use an app with Extended Quota Mode (SPOTIFY_CLIENT_ID/"
            "SPOTIFY_CLIENT_SECRET), or another source of follower counts",
        )
        self.day = None


@dataclass(frozen=True)
class DoctorReport:
    """The doctor's checks and the probe's findings, from which its exit status follows."""

    checks: list[Check]
    #: What the probe found; None when it did not run (no credentials, no token, error).
    capabilities: AppCapabilities | None = None

    def problem(self) -> LakehouseError | None:
        """The error doctor exits with, or None (exit 0): 3 when the probe found an app
        without followers (whatever else failed: that is the finding to act on first), 1
        when any check failed. Decided from the findings, never from the printed table."""
        if self.capabilities is not None and self.capabilities.followers is False:
            return FollowersNotReadableError(self.capabilities.artist_id)
        failed = [c for c in self.checks if c.status == "fail"]
        if not failed:
            return None
        return DoctorFoundProblemsError(
            f"doctor: {len(failed)} check(s) failed: "
            + "; ".join(f"{c.name}: {c.detail}" for c in failed)
        )


def doctor_checks(
    paths: LakehousePaths,
    connection: Callable[[], SpotifyConnection],
    *,
    jars: Callable[[], list[Path]] | None = None,
) -> DoctorReport:
    """Run every check. ``connection`` opens the Spotify connection (it may raise)."""
    checks: list[Check] = []
    found: AppCapabilities | None = None
    try:
        conn = connection()
    except LakehouseError as e:
        checks.append(Check("credentials", "fail", str(e)))
        checks.append(Check("token", "fail", "not tried: no credentials"))
    else:
        where = conn.client.settings.api_url
        checks.append(Check("credentials", "ok", f"{conn.source} at {where}"))
        spotify, found = _spotify_checks(conn)
        checks.extend(spotify)
    checks.append(_java_check())
    checks.append(_jars_check(jars))
    checks.append(_catalog_check(paths))
    return DoctorReport(checks, found)


def diagnose(paths: LakehousePaths, *, simulator: bool) -> DoctorReport:
    """Every check, against the built-in simulator or the real API (``SPOTIFY_*``).

    The connection opens inside the checks (missing credentials are a finding, not a
    crash) and closes, the simulator with it, before the report is returned. The real API
    is asked with :data:`DOCTOR_RETRY`: a machine without network is told so in seconds.
    """
    with ExitStack() as stack:
        return doctor_checks(
            paths,
            lambda: stack.enter_context(
                open_connection(simulator, 0, default_roster())
                if simulator
                else open_real_api(retry=DOCTOR_RETRY)
            ),
        )


def _spotify_checks(conn: SpotifyConnection) -> tuple[list[Check], AppCapabilities | None]:
    try:
        conn.client.authenticate()
    except LakehouseError as e:
        return [Check("token", "fail", str(e))], None
    checks = [
        Check("token", "ok", f"client-credentials token from {conn.client.settings.token_url}")
    ]
    try:
        found = probe(conn.client)
    except LakehouseError as e:
        return [*checks, Check("artist", "fail", str(e))], None
    return checks + _capability_checks(found), found


def _capability_checks(found: AppCapabilities) -> list[Check]:
    batch = {
        True: Check("batch endpoint", "ok", "GET /artists?ids= (50 artists per request)"),
        False: Check(
            "batch endpoint",
            "warn",
            "GET /artists is not available to this app (Development Mode): one request per artist",
        ),
        None: Check("batch endpoint", "warn", "not determined"),
    }[found.batch_endpoint]
    if found.followers is None:
        return [
            batch,
            Check("artist", "fail", f"Spotify does not know the probe artist {found.artist_id}"),
        ]
    artist = Check("artist", "ok", f"{found.artist_name or found.artist_id} ({found.artist_id})")
    if found.followers:
        count = found.followers_total
        shown = "no valid count" if count is None else str(count)  # total present but malformed
        followers = Check("followers", "ok", f"readable ({shown} for the probe)")
    else:
        followers = Check(
            "followers",
            "fail",
            "absent from artist objects: this app cannot read follower counts "
            "(Spotify Development Mode since 2026-03-09)",
        )
    return [batch, artist, followers]


def _java_check() -> Check:
    java = shutil.which("java")
    if java is None:
        return Check("java", "fail", "java not on PATH: install Java 17 (make deps does)")
    try:
        answer = subprocess.run(
            [java, "-version"],
            capture_output=True,
            text=True,
            timeout=JAVA_VERSION_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        return Check("java", "fail", f"{java} does not run: {e}")
    first = (answer.stderr or answer.stdout).strip().splitlines()
    if answer.returncode != 0 or not first:
        return Check("java", "fail", f"{java} -version exited {answer.returncode}")
    return Check("java", "ok", f"{first[0]} ({java})")


def _jars_check(jars: Callable[[], list[Path]] | None) -> Check:
    try:
        if jars is None:
            from catalog.runtime.jars import local_spark_jars

            jars = local_spark_jars
        found = jars()
    except Exception as e:  # JarSetupError, or an unreadable pyspark/jar cache: all reportable
        return Check("jars", "fail", str(e))
    missing = [p for p in found if not p.exists()]
    if missing:
        return Check("jars", "fail", f"missing: {', '.join(map(str, missing))}")
    return Check("jars", "ok", ", ".join(p.name for p in found))


def _catalog_check(paths: LakehousePaths) -> Check:
    from catalog.iceberg.repair import unknown_tables

    db = paths.catalog_db
    try:
        lost = unknown_tables(paths)
    except LakehouseError as e:
        return Check("catalog", "fail", str(e))
    if lost:
        names = ", ".join(t.qualified_name for t in lost)
        return Check(
            "catalog",
            "fail",
            f"the warehouse holds table(s) {db} does not know ({names}): loads are refused "
            f"until `spotify-lakehouse --home {paths.home} repair-catalog` registers them",
        )
    if not db.exists():
        return Check("catalog", "warn", f"{db} not created yet (the first transform creates it)")
    try:
        with closing(sqlite3.connect(f"{db.as_uri()}?mode=ro", uri=True, timeout=5)) as conn:
            rows = conn.execute(
                "SELECT table_namespace, table_name FROM iceberg_tables ORDER BY 1, 2"
            ).fetchall()
    except sqlite3.Error as e:
        return Check("catalog", "fail", f"{db} is not a readable Iceberg SQL catalog: {e}")
    tables = ", ".join(f"{ns}.{name}" for ns, name in rows) or "no tables yet"
    return Check("catalog", "ok", f"{db}: {tables}")
