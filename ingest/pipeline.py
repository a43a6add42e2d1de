"""Ingest one UTC day: Spotify answers -> bronze parts -> the day's manifest, written last.

The manifest is the commit point: parts and envelopes are written first under a fresh
``run_id=`` folder (never overwriting anything), and only a run that got every answer writes
``_manifest.json``. A run that fails half-way leaves an orphan run folder that no transform
reads, and the day stays incomplete until a run finishes it.

The run's first request is a preflight for one artist (the roster's first), made before
anything else, ranking included: if the app's artist objects carry no ``followers`` (Spotify
Development Mode), the raw answer is kept, the day is recorded with
``followers_available: false`` and :class:`~ingest.errors.FollowersUnavailableError` (exit 3)
is raised after that single request, rather than writing days of empty numbers. Only when
followers are available (or the preflight could not tell: an unknown id) is a roster longer
than ``top`` ranked (:mod:`ingest.ranking`), and the chosen artists fetched.

Idempotent per day: a completed day is a no-op, and when two runs of one day race (a
duplicate Lambda invocation), the store's conditional manifest write lets exactly one
complete it; the other returns the winner's result as ``already_complete``.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from catalog.bronze.layout import (
    BronzeStore,
    Manifest,
    ManifestExistsError,
    ManifestInvalidError,
    ManifestPart,
    Source,
    envelope_key,
    manifest_key,
    part_key,
    sha256_hex,
)
from ingest.answers import combine_followers, summarize
from ingest.client import RawResponse, SpotifyClient
from ingest.errors import (
    BackdatedRefusedError,
    FollowersUnavailableError,
    FutureDayError,
    NoArtistsFoundError,
)
from ingest.ranking import keep_first, top_followed
from ingest.roster import Roster

log = logging.getLogger(__name__)

#: How many artists the preflight asks for before committing to the whole roster.
PREFLIGHT_ARTISTS = 1


@dataclass(frozen=True)
class IngestResult:
    """What :func:`ingest_day` did (or found already done)."""

    day: date
    run_id: str  # the run whose parts the manifest lists
    records: int  # artist objects in those parts
    parts: tuple[str, ...]  # their keys, relative to the bronze root
    missing_ids: tuple[str, ...]  # roster ids Spotify answered null/404 for
    followers_available: bool
    already_complete: bool  # True: the day had a manifest and nothing was fetched
    manifest_key: str
    backdated: bool = False
    invalid_ids: tuple[str, ...] = ()  # malformed roster entries, skipped (also in missing_ids)


def new_run_id(now: datetime | None = None) -> str:
    """``YYYYMMDDTHHMMSSZ-<6 hex>``: sorts by start time, unique across concurrent runs."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return f"{moment:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def utc_today() -> date:
    return datetime.now(UTC).date()


def check_day(day: date, *, today: date, source: Source, allow_backdated: bool) -> bool:
    """Refuse a day real Spotify cannot serve; return whether the day is backdated.

    A day after today's UTC date is refused whatever the source: no one can report followers
    for a day that has not started, and the simulator would invent them. Spotify has no
    history: whatever day is asked, it returns today's numbers, so filing them under a past
    day is allowed only on purpose (``--allow-backdated``, recorded in the manifest). The
    simulator serves any past day with that day's own numbers, so its days are never
    backdated (nor are imported legacy days: they were fetched on the day they name).
    """
    if day > today:
        via = "the Spotify simulator" if source == "simulator" else "Spotify"
        raise FutureDayError(
            f"refusing to ingest {day.isoformat()}: it is after today's UTC date "
            f"{today.isoformat()}, and {via} cannot report followers for a day that has not "
            "started; ingest today or an earlier day"
        )
    if source == "spotify" and day != today and not allow_backdated:
        raise BackdatedRefusedError(
            f"refusing to ingest {day.isoformat()} from the real Spotify API: it returns "
            f"today's ({today.isoformat()}) numbers only, so they would be filed under the "
            "wrong day. Ingest today's date, use --simulator for past days, or pass "
            "--allow-backdated to record today's numbers under that day deliberately"
        )
    return source == "spotify" and day != today


def ingest_day(
    day: date,
    *,
    store: BronzeStore,
    client: SpotifyClient,
    roster: Roster,
    source: Source,
    allow_backdated: bool,
    force: bool = False,
    run_id: str | None = None,
    today: date | None = None,
    notes: Mapping[str, Any] | None = None,
    top: int | None = None,
) -> IngestResult:
    """Fetch ``roster`` for ``day`` into ``store`` and complete the day with a manifest.

    A day that already has a manifest is left alone (``already_complete=True``) unless
    ``force``, which writes a new run folder and replaces the manifest (the old one is kept:
    bucket versioning on S3, a renamed copy locally). Malformed ids the roster set aside
    (``roster.invalid``) are listed in the manifest's ``missing_ids`` and
    ``extra.invalid_ids``; ``notes`` are added to the manifest's ``extra``. ``top`` keeps the
    ``top`` most followed artists of the roster (:mod:`ingest.ranking`; recorded in
    ``extra.top``), ranked only when the day is actually fetched and only after the
    preflight found followers (a followers-less day keeps the first ``top`` unranked).

    Raises :class:`~ingest.errors.BackdatedRefusedError` / :class:`~ingest.errors.FutureDayError`
    before any request for a day it would fetch (a future day for every source),
    :class:`~ingest.errors.FollowersUnavailableError` after recording a day the app cannot
    read followers for, :class:`~ingest.errors.NoArtistsFoundError` when
    Spotify knows none of the ids, and the client's errors when Spotify fails.
    """
    try:
        existing = store.read_manifest(day)
    except ManifestInvalidError as e:
        if not force:
            raise ManifestInvalidError(
                f"{e}: the day's manifest is damaged; re-ingest {day.isoformat()} with --force "
                "(its bytes are kept beside it)"
            ) from e
        # A forced re-ingest is the way out of a damaged manifest: its bytes are kept beside
        # it (never deleted), and this run's manifest replaces it.
        kept = store.set_aside_unreadable_manifest(day)
        log.warning("%s: unreadable manifest kept as %s; replacing it", day.isoformat(), kept)
        existing = None
    if existing is not None and not force:
        # Answered from the manifest whatever the day's date: a re-run or a backfill of a
        # past day (the state machine ingests every day it loads) asks Spotify nothing, so
        # there is nothing to refuse as backdated. A forced re-ingest is checked below.
        return _already_complete(existing, store)
    backdated = check_day(
        day, today=today or utc_today(), source=source, allow_backdated=allow_backdated
    )

    simulated_date = day if source == "simulator" else None
    extra = dict(notes or {})
    run = _RunWriter(store, day, run_id or new_run_id())
    # The preflight is the run's first request, before any ranking: in Development Mode
    # one request settles the day instead of a ranking pass over the whole roster.
    preflight_ids = roster.ids[:PREFLIGHT_ARTISTS]
    preflight = client.fetch_artists(preflight_ids, simulated_date=simulated_date)
    followers = combine_followers(summarize(r).followers_available for r in preflight)
    if top is not None and len(roster) > top:
        ranked_from = roster
        if followers is False:
            roster = keep_first(roster, top)  # nothing to rank by: the ranking's fallback
        else:
            roster = top_followed(client, roster, top, simulated_date=simulated_date)
        extra["top"] = {"n": top, "ranked_from": len(ranked_from), "roster": ranked_from.origin}
    ids = roster.ids
    if ids[:PREFLIGHT_ARTISTS] == preflight_ids:
        # The preflight's answer is the day's first part (and, followers-less, its record).
        for response in preflight:
            run.write(response)
    else:
        # Ranking chose other artists first: the day's bronze holds exactly the chosen ones
        # (the preflight answer, like the ranking's, is not kept), the first fetched alone.
        for response in client.iter_artists(ids[:PREFLIGHT_ARTISTS], simulated_date=simulated_date):
            run.write(response)
    if run.followers_available is not False:
        for response in client.iter_artists(ids[PREFLIGHT_ARTISTS:], simulated_date=simulated_date):
            run.write(response)

    available = run.followers_available
    if available is None:
        raise NoArtistsFoundError(
            f"Spotify knows none of the {len(ids)} artist ids of {roster.origin} "
            f"(answers kept in bronze run {run.run_id}, day left incomplete); "
            "check the roster's ids"
        )
    if roster.invalid:
        extra["invalid_ids"] = list(roster.invalid)
    manifest = Manifest(
        snapshot_date=day,
        run_id=run.run_id,
        completed_at=datetime.now(UTC).isoformat(),
        source=source,
        parts=tuple(run.parts),
        followers_available=available,
        backdated=backdated,
        roster_size=len(ids) + len(roster.invalid),
        missing_ids=tuple(run.missing_ids) + roster.invalid,
        api_url=client.settings.api_url,
        extra=extra,
    )
    winner = _complete_day(store, manifest, replace=force)
    if winner is not None:
        # Another run completed the day while this one fetched (a duplicate invocation):
        # its manifest stands; this run's parts stay as an unlisted orphan folder.
        log.warning(
            "%s was completed by run %s while run %s fetched; keeping that run",
            day.isoformat(),
            winner.run_id,
            run.run_id,
        )
        return _already_complete(winner, store)
    if not available:
        raise FollowersUnavailableError(day, f"bronze run {run.run_id}")
    log.info(
        "ingested %s: %d artists in %d parts (run %s, %d missing)",
        day.isoformat(),
        manifest.record_count,
        len(run.parts),
        run.run_id,
        len(run.missing_ids),
    )
    return _result(manifest, already_complete=False)


def _complete_day(store: BronzeStore, manifest: Manifest, *, replace: bool) -> Manifest | None:
    """Write ``manifest``; ``None`` if it completed the day, else the winner's manifest.

    A refusal names a winner only if the winner can be read back. A losing run can find
    none: the store refused because a manifest existed at that moment, and it is gone by the
    read (removed by hand, or a store whose refusal outlived the write it saw). The day is
    then incomplete while this run's parts are all written, so the run completes it itself,
    once; a second refusal with still no manifest to read is raised as it came.
    """
    try:
        store.put_manifest(manifest, replace=replace)
        return None
    except ManifestExistsError:
        winner = store.read_manifest(manifest.snapshot_date)
        if winner is not None:
            return winner
    log.warning(
        "%s: the store refused run %s's manifest but holds none; completing the day again",
        manifest.snapshot_date.isoformat(),
        manifest.run_id,
    )
    try:
        store.put_manifest(manifest)
        return None
    except ManifestExistsError:
        winner = store.read_manifest(manifest.snapshot_date)
        if winner is None:
            raise
        return winner


class _RunWriter:
    """Writes one run's parts and envelopes and keeps what the manifest will say."""

    def __init__(self, store: BronzeStore, day: date, run_id: str) -> None:
        self.store = store
        self.day = day
        self.run_id = run_id
        self.parts: list[ManifestPart] = []
        self.missing_ids: list[str] = []
        self._verdicts: list[bool | None] = []

    @property
    def followers_available(self) -> bool | None:
        return combine_followers(self._verdicts)

    def write(self, response: RawResponse) -> None:
        summary = summarize(response)
        self.missing_ids.extend(summary.missing_ids)
        self._verdicts.append(summary.followers_available)
        if response.status != 200:
            # A 404 for one unknown id: no artist data, its id is in missing_ids.
            return
        key = part_key(self.day, self.run_id, len(self.parts))
        fetched_at = response.fetched_at.isoformat()
        self.store.put_new(key, response.body)
        envelope = {
            "url": response.url,
            "status": response.status,
            "fetched_at": fetched_at,
            "request_id": response.request_id,
            "run_id": self.run_id,
            "snapshot_date": self.day.isoformat(),
            "requested_ids": list(response.requested_ids),
        }
        self.store.put_new(envelope_key(key), json.dumps(envelope, indent=2).encode())
        self.parts.append(
            ManifestPart(
                key=key,
                sha256=sha256_hex(response.body),
                bytes=len(response.body),
                records=summary.records,
                url=response.url,
                status=response.status,
                fetched_at=fetched_at,
            )
        )


def _result(manifest: Manifest, *, already_complete: bool) -> IngestResult:
    return IngestResult(
        day=manifest.snapshot_date,
        run_id=manifest.run_id,
        records=manifest.record_count,
        parts=tuple(p.key for p in manifest.parts),
        missing_ids=manifest.missing_ids,
        followers_available=manifest.followers_available,
        already_complete=already_complete,
        manifest_key=manifest_key(manifest.snapshot_date),
        backdated=manifest.backdated,
        invalid_ids=tuple(manifest.extra.get("invalid_ids", ())),
    )


def _already_complete(manifest: Manifest, store: BronzeStore) -> IngestResult:
    if not manifest.followers_available:
        raise FollowersUnavailableError(
            manifest.snapshot_date,
            f"recorded by bronze run {manifest.run_id} in {store.location}; "
            "re-run with --force once the app can read followers",
        )
    log.info(
        "%s is already complete in bronze (run %s); nothing fetched (use --force to re-fetch)",
        manifest.snapshot_date.isoformat(),
        manifest.run_id,
    )
    return _result(manifest, already_complete=True)
