"""The ingest commands through the real CLI entry point: exit codes and one-line reasons."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from catalog.bronze.local import LocalBronzeStore
from infra.cli.main import main
from ingest.simulator.server import SpotifySimulator
from tests.conftest import FROZEN_TODAY
from tests.ingest.test_legacy import DAYS, write_folder

TODAY = FROZEN_TODAY
#: Every test here runs on the clock of that day (a run across UTC midnight changes nothing).
pytestmark = pytest.mark.usefixtures("frozen_today")


def cli(*argv: str) -> int:
    try:
        main(list(argv))
    except SystemExit as e:
        return int(e.code or 0)
    return 0


@pytest.fixture
def spotify_env(sim: SpotifySimulator, monkeypatch: pytest.MonkeyPatch) -> SpotifySimulator:
    """SPOTIFY_* pointing at the simulator, as the outside checks do with their server."""
    monkeypatch.setenv("SPOTIFY_CLIENT_ID", sim.client_id)
    monkeypatch.setenv("SPOTIFY_CLIENT_SECRET", sim.client_secret)
    monkeypatch.setenv("SPOTIFY_API_URL", sim.api_url)
    monkeypatch.setenv("SPOTIFY_TOKEN_URL", sim.token_url)
    return sim


@pytest.fixture
def no_spotify_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SPOTIFY_CLIENT_ID", "SPOTIFY_CLIENT_SECRET"):
        monkeypatch.delenv(name, raising=False)


def doctor_rows(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    rows = json.loads(capsys.readouterr().out)
    return {r["check"]: r["status"] for r in rows}


def test_doctor_against_an_extended_app(
    tmp_path: Path, spotify_env: SpotifySimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli("--home", str(tmp_path), "doctor", "--format", "json")
    statuses = doctor_rows(capsys)
    assert statuses["credentials"] == statuses["token"] == statuses["followers"] == "ok"
    assert statuses["batch endpoint"] == "ok"
    assert set(statuses) >= {"java", "jars", "catalog"}
    assert code == 0  # make test installs Java and the jars: every check passes


def test_doctor_exits_3_when_the_app_cannot_read_followers(
    tmp_path: Path, spotify_env: SpotifySimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    spotify_env.mode = "development"
    code = cli("--home", str(tmp_path), "doctor", "--format", "json")
    captured = capsys.readouterr()
    statuses = {r["check"]: r["status"] for r in json.loads(captured.out)}
    assert code == 3
    assert statuses["followers"] == "fail"
    assert statuses["batch endpoint"] == "warn"
    [reason] = captured.err.strip().splitlines()
    assert "'followers'" in reason
    assert "Development Mode" in reason
    assert "Extended Quota Mode" in reason


def test_doctor_without_credentials_fails_with_a_reason(
    tmp_path: Path, no_spotify_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli("--home", str(tmp_path), "doctor", "--format", "json")
    captured = capsys.readouterr()
    statuses = {r["check"]: r["status"] for r in json.loads(captured.out)}
    assert code == 1
    assert statuses["credentials"] == "fail"
    assert "credentials" in captured.err


def test_ingest_refuses_a_past_day_against_the_real_api(
    tmp_path: Path, spotify_env: SpotifySimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    past = (TODAY - timedelta(days=3)).isoformat()
    code = cli("--home", str(tmp_path), "ingest", "--date", past)
    [reason] = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert "--allow-backdated" in reason
    assert [r for r in spotify_env.requests if r.path.startswith("/v1/")] == []

    assert cli("--home", str(tmp_path), "ingest", "--date", past, "--allow-backdated") == 0
    manifest = LocalBronzeStore(tmp_path / "bronze").read_manifest(TODAY - timedelta(days=3))
    assert manifest is not None
    assert manifest.backdated


def test_ingest_with_a_roster_top_and_a_malformed_id(
    tmp_path: Path, spotify_env: SpotifySimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    roster = tmp_path / "roster.txt"
    ids = ["06HL4z0CvFAxyc27GXpf02", "3TVXtAsR1Inumwj472S9r4", "4dpARuHxo51G3z768sgnrY"]
    roster.write_text("\n".join([*ids, "06HL4z0CvFAxyc27GXpf0"]) + "\n")
    code = cli("--home", str(tmp_path), "ingest", "--roster", str(roster), "--top", "2")
    err = capsys.readouterr().err
    assert code == 0
    assert "2 artists" in err
    assert "'06HL4z0CvFAxyc27GXpf0'" in err  # the malformed entry is named
    manifest = LocalBronzeStore(tmp_path / "bronze").read_manifest(TODAY)
    assert manifest is not None
    assert manifest.record_count == 2
    assert manifest.extra["top"]["n"] == 2

    assert cli("--home", str(tmp_path), "ingest", "--top", "0") == 2  # bad usage


def test_ingest_exits_3_in_development_mode_keeping_the_answer(
    tmp_path: Path, spotify_env: SpotifySimulator, capsys: pytest.CaptureFixture[str]
) -> None:
    spotify_env.mode = "development"
    assert cli("--home", str(tmp_path), "ingest") == 3
    manifest = LocalBronzeStore(tmp_path / "bronze").read_manifest(TODAY)
    assert manifest is not None
    assert not manifest.followers_available
    assert len(manifest.parts) == 1


def test_import_legacy_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_folder(tmp_path / "old")
    home = str(tmp_path / "home")
    assert cli("--home", home, "import-legacy", str(tmp_path / "old"), "--format", "json") == 0
    captured = capsys.readouterr()
    rows = json.loads(captured.out)
    assert [(r["snapshot_date"], r["status"]) for r in rows] == [
        (DAYS[0].isoformat(), "imported"),
        (DAYS[1].isoformat(), "imported"),
    ]
    assert f"backfill --start {DAYS[0]} --end {DAYS[1]}" in captured.err
    assert LocalBronzeStore(tmp_path / "home" / "bronze").days() == list(DAYS)

    other = tmp_path / "elsewhere"
    assert cli("--home", home, "import-legacy", str(tmp_path / "old"), "--bronze", str(other)) == 0
    assert LocalBronzeStore(other).days() == list(DAYS)

    (tmp_path / "empty").mkdir()
    assert cli("--home", home, "import-legacy", str(tmp_path / "empty")) == 1
    assert "no YYYY-MM-DD/<artist name> object" in capsys.readouterr().err
