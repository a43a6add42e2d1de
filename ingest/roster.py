"""Which artists to track: the default 20, a user's file, or a synthetic roster for demos.

Ids are validated before any request is made: Spotify answers a whole batch with
``400 invalid id`` when one id is malformed, so one typo would otherwise fail the day. A
strict parse refuses such a roster; a lenient one (what ingest uses) sets the malformed
entries aside in :attr:`Roster.invalid`, so the rest is still fetched and the day's manifest
and the command's message name them.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Final

from catalog.bronze.payload import ARTIST_ID_LENGTH, BASE62, is_artist_id
from ingest.errors import RosterError

log = logging.getLogger(__name__)

#: How many malformed entries an error message lists before summarising the rest.
MAX_REPORTED_PROBLEMS: Final = 10
DEFAULT_ROSTER_RESOURCE: Final = "default_roster.json"


@dataclass(frozen=True)
class Artist:
    """One tracked artist. The name is optional: Spotify's answer carries the real one."""

    id: str
    name: str | None = None


@dataclass(frozen=True)
class Roster:
    """An ordered, duplicate-free list of artists, and where it came from (for messages)."""

    artists: tuple[Artist, ...]
    origin: str
    #: Malformed entries set aside by a lenient parse, as written in the roster.
    invalid: tuple[str, ...] = ()

    @property
    def ids(self) -> list[str]:
        return [a.id for a in self.artists]

    def __len__(self) -> int:
        return len(self.artists)

    def __iter__(self) -> Iterator[Artist]:
        return iter(self.artists)


def default_roster() -> Roster:
    """The 20 artists the original project tracked, in its order."""
    raw = resources.files("ingest").joinpath("data", DEFAULT_ROSTER_RESOURCE).read_text("utf-8")
    return parse_roster(raw, origin="the default roster")


def load_roster(path: Path, *, strict: bool = True) -> Roster:
    """Read a roster file: a JSON list of ids or of ``{"id", "name"}`` objects, or text with
    one id per line (blank lines and ``#`` comments ignored). ``strict``: see
    :func:`parse_roster`."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise RosterError(
            f"cannot read roster file {path}: {e.strerror or e}; "
            "pass an existing file, or omit the roster to track the default 20 artists"
        ) from e
    except UnicodeDecodeError as e:
        raise RosterError(f"roster file {path} is not UTF-8 text: {e}") from e
    return parse_roster(text, origin=str(path), strict=strict)


def parse_roster(text: str, *, origin: str, strict: bool = True) -> Roster:
    """Parse roster text (JSON when it starts with ``[``, else one id per line).

    ``strict``: a malformed id is a :class:`~ingest.errors.RosterError` naming every one;
    otherwise malformed ids are logged, kept in :attr:`Roster.invalid` and skipped (a roster
    with no well-formed id is refused either way).
    """
    stripped = text.lstrip()
    entries = _json_entries(stripped, origin) if stripped.startswith("[") else _text_entries(text)
    return _build(entries, origin, strict=strict)


def synthetic_artists(count: int, *, seed: int = 0) -> list[Artist]:
    """``count`` well-formed, deterministic artist ids for demos and load tests.

    They are unknown to real Spotify; the simulator serves them once registered. The same
    (count, seed) always gives the same artists, and a larger count extends a smaller one.
    """
    return [_synthetic_artist(index, seed) for index in range(count)]


def demo_roster(size: int, *, seed: int = 0) -> Roster:
    """The first ``size`` default artists, topped up with synthetic ones beyond 20."""
    if size < 1:
        raise RosterError(f"a roster needs at least one artist (asked for {size})")
    defaults = default_roster().artists[:size]
    extra = synthetic_artists(size - len(defaults), seed=seed)
    return Roster(defaults + tuple(extra), origin=f"demo roster of {size} artists")


def _synthetic_artist(index: int, seed: int) -> Artist:
    digest = hashlib.sha256(f"synthetic-artist:{seed}:{index}".encode()).digest()
    number = int.from_bytes(digest, "big")
    chars = []
    for _ in range(ARTIST_ID_LENGTH):
        number, rem = divmod(number, len(BASE62))
        chars.append(BASE62[rem])
    return Artist(id="".join(chars), name=f"Simulated Artist {index + 1:05d}")


# An entry is (where it was in the file, the id as written, the name if any).
_Entry = tuple[str, object, str | None]


def _json_entries(text: str, origin: str) -> list[_Entry]:
    try:
        payload: Any = json.loads(text)
    except json.JSONDecodeError as e:
        raise RosterError(
            f"roster {origin} is not valid JSON ({e.msg} at line {e.lineno}, column {e.colno}); "
            'expected a list of ids or of {"id": ..., "name": ...} objects'
        ) from e
    if not isinstance(payload, list):
        raise RosterError(f"roster {origin} must be a JSON list, not {type(payload).__name__}")
    entries: list[_Entry] = []
    for index, item in enumerate(payload):
        where = f"item {index}"
        if isinstance(item, dict):
            name = item.get("name")
            entries.append((where, item.get("id"), name if isinstance(name, str) else None))
        else:
            entries.append((where, item, None))
    return entries


def _text_entries(text: str) -> list[_Entry]:
    entries: list[_Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        content = line.split("#", 1)[0].strip()
        if content:
            entries.append((f"line {number}", content, None))
    return entries


def _build(entries: Iterable[_Entry], origin: str, *, strict: bool = True) -> Roster:
    artists: list[Artist] = []
    seen: set[str] = set()
    problems: list[str] = []
    invalid: list[str] = []
    duplicates = 0
    for where, value, name in entries:
        if not is_artist_id(value):
            problems.append(f"{where}: {value!r}")
            invalid.append(str(value))
            continue
        if value in seen:
            duplicates += 1
            continue
        seen.add(value)
        artists.append(Artist(id=value, name=name))
    if problems and (strict or not artists):
        raise RosterError(malformed_ids_message(origin, problems))
    if not artists:
        raise RosterError(f"roster {origin} lists no artists; add at least one artist id")
    if problems:
        log.warning("%s", malformed_ids_message(origin, problems, skipped=True))
    if duplicates:
        log.warning("roster %s: ignored %d duplicate artist id(s)", origin, duplicates)
    return Roster(tuple(artists), origin=origin, invalid=tuple(invalid))


def malformed_ids_message(origin: str, problems: list[str], *, skipped: bool = False) -> str:
    """One line naming malformed roster entries (at most a few, then a count)."""
    shown = "; ".join(problems[:MAX_REPORTED_PROBLEMS])
    more = len(problems) - MAX_REPORTED_PROBLEMS
    tail = f"; and {more} more" if more > 0 else ""
    action = "skipped, the other artists are fetched; " if skipped else ""
    return (
        f"roster {origin} has {len(problems)} malformed artist id(s): {shown}{tail} "
        f"({action}a Spotify artist id is 22 letters and digits, e.g. 06HL4z0CvFAxyc27GXpf02, "
        "the part after /artist/ in an open.spotify.com link; fix or remove these entries)"
    )
