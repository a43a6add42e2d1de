"""The bronze layout, manifest and local store, pinned down value by value.

Written against mutmut's survivors (docs/mutation-testing.md): each test states a rule of
the layout or of the store that a one-token change of ``catalog/bronze/layout.py`` would break.
"""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from catalog.bronze.layout import (
    DATASET_PREFIX,
    MANIFEST_NAME,
    MANIFEST_VERSION,
    BronzeError,
    BronzeStore,
    Manifest,
    ManifestExistsError,
    ManifestInvalidError,
    ManifestPart,
    PartExistsError,
    PartIntegrityError,
    day_prefix,
    envelope_key,
    manifest_key,
    part_key,
    sha256_hex,
)
from catalog.bronze.local import LocalBronzeStore

DAY = date(2026, 3, 7)
BODY = b'{"artists": [{"id": "a"}]}'


def _part(
    key: str = "spotify/artists/snapshot_date=2026-03-07/run_id=r1/part-00000.json",
) -> ManifestPart:
    return ManifestPart(
        key=key,
        sha256=sha256_hex(BODY),
        bytes=len(BODY),
        records=1,
        url="http://127.0.0.1/v1/artists?ids=a",
        status=200,
        fetched_at="2026-03-07T06:00:01+00:00",
    )


def _manifest(**changes: object) -> Manifest:
    values: dict[str, object] = {
        "snapshot_date": DAY,
        "run_id": "r1",
        "completed_at": "2026-03-07T06:00:02+00:00",
        "source": "simulator",
        "parts": (_part(),),
    }
    values.update(changes)
    return Manifest(**values)  # type: ignore[arg-type]


# --- layout ------------------------------------------------------------------------------


def test_keys_follow_the_documented_layout() -> None:
    assert DATASET_PREFIX == "spotify/artists"
    assert MANIFEST_NAME == "_manifest.json"
    assert day_prefix(DAY) == "spotify/artists/snapshot_date=2026-03-07"
    assert manifest_key(DAY) == "spotify/artists/snapshot_date=2026-03-07/_manifest.json"
    assert part_key(DAY, "r1", 0) == (
        "spotify/artists/snapshot_date=2026-03-07/run_id=r1/part-00000.json"
    )
    assert part_key(DAY, "r1", 123).endswith("/part-00123.json")
    assert envelope_key("a/part-00001.json") == "a/part-00001.meta.json"
    # Only the suffix is replaced, never a ".json" in the middle of a key.
    assert envelope_key("x.json/part-00001.json") == "x.json/part-00001.meta.json"


def test_sha256_is_the_hex_digest_of_the_body() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert sha256_hex(b"abc") == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


# --- manifest ------------------------------------------------------------------------------


def test_manifest_json_names_every_field() -> None:
    manifest = _manifest(
        followers_available=False,
        backdated=True,
        roster_size=3,
        missing_ids=("x",),
        api_url="http://127.0.0.1:1/v1",
        extra={"top": 2},
        parts=(_part(), _part("k2")),
    )
    raw = manifest.to_json()
    body = json.loads(raw)
    assert body == {
        "snapshot_date": "2026-03-07",
        "run_id": "r1",
        "completed_at": "2026-03-07T06:00:02+00:00",
        "source": "simulator",
        "parts": [
            {
                "key": _part().key,
                "sha256": sha256_hex(BODY),
                "bytes": len(BODY),
                "records": 1,
                "url": "http://127.0.0.1/v1/artists?ids=a",
                "status": 200,
                "fetched_at": "2026-03-07T06:00:01+00:00",
            },
            {
                "key": "k2",
                "sha256": sha256_hex(BODY),
                "bytes": len(BODY),
                "records": 1,
                "url": "http://127.0.0.1/v1/artists?ids=a",
                "status": 200,
                "fetched_at": "2026-03-07T06:00:01+00:00",
            },
        ],
        "followers_available": False,
        "backdated": True,
        "roster_size": 3,
        "missing_ids": ["x"],
        "api_url": "http://127.0.0.1:1/v1",
        "extra": {"top": 2},
        "manifest_version": MANIFEST_VERSION,
        "record_count": 2,
    }
    assert MANIFEST_VERSION == 1
    # Stable text: sorted keys, two-space indent (diffs of two manifests stay readable).
    assert raw == json.dumps(body, indent=2, sort_keys=True).encode()
    assert Manifest.from_json(raw) == manifest


def test_manifest_defaults_and_record_count() -> None:
    manifest = _manifest(parts=())
    assert manifest.record_count == 0
    assert manifest.followers_available is True
    assert manifest.backdated is False
    assert manifest.roster_size == 0
    assert manifest.missing_ids == ()
    assert manifest.api_url == ""
    assert manifest.extra == {}
    part = ManifestPart(key="k", sha256="s", bytes=1, records=4)
    assert (part.url, part.status, part.fetched_at) == ("", 200, "")
    assert _manifest(parts=(part, part)).record_count == 8


def test_a_minimal_manifest_reads_with_the_defaults() -> None:
    raw = json.dumps(
        {
            "snapshot_date": "2026-03-07",
            "run_id": "r1",
            "completed_at": "t",
            "source": "spotify",
            "parts": [{"key": "k", "sha256": "s", "bytes": 1, "records": 1}],
        }
    ).encode()
    manifest = Manifest.from_json(raw)
    assert manifest.snapshot_date == DAY
    assert manifest.run_id == "r1"
    assert manifest.completed_at == "t"
    assert manifest.source == "spotify"
    assert manifest.parts == (ManifestPart(key="k", sha256="s", bytes=1, records=1),)
    assert manifest.followers_available is True
    assert manifest.backdated is False
    assert manifest.roster_size == 0
    assert manifest.missing_ids == ()
    assert manifest.api_url == ""
    assert manifest.extra == {}


def test_manifest_fields_are_coerced_to_their_types() -> None:
    body = json.loads(_manifest().to_json())
    body.update(
        followers_available=0, backdated=1, roster_size="7", missing_ids=["a", "b"], extra={}
    )
    manifest = Manifest.from_json(json.dumps(body).encode())
    assert manifest.followers_available is False
    assert manifest.backdated is True
    assert manifest.roster_size == 7
    assert manifest.missing_ids == ("a", "b")


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"{}",
        json.dumps({"snapshot_date": "2026-13-01", "run_id": "r", "parts": []}).encode(),
        json.dumps(
            {"snapshot_date": "2026-03-07", "run_id": "r", "completed_at": "t", "parts": [{}]}
        ).encode(),
        json.dumps(
            {
                "snapshot_date": "2026-03-07",
                "run_id": "r",
                "completed_at": "t",
                "source": "spotify",
                "parts": [],
                "roster_size": "many",
            }
        ).encode(),
        json.dumps({"snapshot_date": None, "parts": []}).encode(),
    ],
)
def test_an_unreadable_manifest_is_a_manifest_error(raw: bytes) -> None:
    with pytest.raises(ManifestInvalidError, match=r"^unreadable bronze manifest: "):
        Manifest.from_json(raw)


# --- the store's shared rules --------------------------------------------------------------


class DictStore(BronzeStore):
    """The smallest store: the abstract base's own logic is what is under test."""

    def __init__(self, objects: dict[str, bytes]) -> None:
        self.objects = objects
        self.location = "mem://bronze/"

    def put_new(self, key: str, body: bytes) -> None:
        self.objects[key] = body

    def get(self, key: str) -> bytes:
        try:
            return self.objects[key]
        except KeyError:
            raise FileNotFoundError(key) from None

    def exists(self, key: str) -> bool:
        return key in self.objects

    def list_keys(self, prefix: str) -> list[str]:
        return sorted(k for k in self.objects if k.startswith(prefix))

    def put_manifest(self, manifest: Manifest, *, replace: bool = False) -> None:
        self.objects[manifest_key(manifest.snapshot_date)] = manifest.to_json()


def test_read_manifest_is_none_for_an_incomplete_day() -> None:
    store = DictStore({})
    assert store.read_manifest(DAY) is None
    store.put_manifest(_manifest())
    assert store.read_manifest(DAY) == _manifest()


def test_read_part_returns_the_vouched_for_body() -> None:
    part = _part()
    assert DictStore({part.key: BODY}).read_part(part) == BODY


def test_read_part_refuses_a_missing_part() -> None:
    part = _part()
    with pytest.raises(PartIntegrityError) as raised:
        DictStore({}).read_part(part)
    assert str(raised.value) == (
        f"bronze part {part.key} is listed in the manifest but missing from mem://bronze/; "
        "re-ingest the day with --force"
    )
    assert isinstance(raised.value.__cause__, FileNotFoundError)


def test_read_part_refuses_another_body() -> None:
    part = _part()
    other = BODY.replace(b"a", b"b")
    assert len(other) == len(BODY)
    with pytest.raises(PartIntegrityError) as raised:
        DictStore({part.key: other}).read_part(part)
    assert str(raised.value) == (
        f"bronze part {part.key} does not match its manifest "
        f"(sha256 {sha256_hex(other)[:12]}..., expected {part.sha256[:12]}...); "
        "re-ingest the day with --force"
    )


def test_read_part_refuses_a_body_of_another_size_even_with_the_right_digest() -> None:
    part = ManifestPart(key="k", sha256=sha256_hex(BODY), bytes=len(BODY) + 1, records=1)
    with pytest.raises(PartIntegrityError, match="does not match its manifest"):
        DictStore({"k": BODY}).read_part(part)


def test_days_are_the_days_with_a_manifest_in_order() -> None:
    later, earlier = date(2026, 3, 9), date(2026, 3, 1)
    objects = {
        manifest_key(later): b"{}",
        manifest_key(earlier): b"{}",
        part_key(DAY, "r", 0): BODY,  # a day with parts but no manifest: incomplete
        f"{day_prefix(DAY)}/run_id=r/{MANIFEST_NAME}.bak": b"{}",
        f"{day_prefix(DAY)}/x_manifest.json": b"{}",  # a name that merely ends like one
        f"other/snapshot_date=2026-03-05/{MANIFEST_NAME}": b"{}",  # outside the dataset
    }
    assert DictStore(objects).days() == [earlier, later]


# --- the local store -----------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> LocalBronzeStore:
    return LocalBronzeStore(tmp_path / "bronze")


def test_local_store_location_is_its_root(tmp_path: Path) -> None:
    store = LocalBronzeStore(tmp_path / "b")
    assert store.root == tmp_path / "b"
    assert store.location == str(tmp_path / "b")


@pytest.mark.parametrize("key", ["../x.json", "a/../../x.json", "/etc/passwd", ".", ""])
def test_local_keys_cannot_escape_the_root(store: LocalBronzeStore, key: str) -> None:
    with pytest.raises(BronzeError, match="escapes the bronze root"):
        store.put_new(key, b"x")
    with pytest.raises(BronzeError, match=r"^bronze key escapes the bronze root: "):
        store.get(key)


def test_put_new_writes_once_with_owner_write_mode(store: LocalBronzeStore) -> None:
    key = part_key(DAY, "r1", 0)
    store.put_new(key, BODY)
    path = store.root / key
    assert path.read_bytes() == BODY
    assert stat.S_IMODE(path.stat().st_mode) == 0o644 & ~_umask()
    with pytest.raises(PartExistsError, match=f"^bronze object {key} already exists$"):
        store.put_new(key, b"other")
    assert path.read_bytes() == BODY
    assert store.get(key) == BODY
    assert store.exists(key)
    assert not store.exists(part_key(DAY, "r1", 1))


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def test_get_of_an_absent_key_is_file_not_found(store: LocalBronzeStore) -> None:
    with pytest.raises(FileNotFoundError):
        store.get("spotify/artists/none.json")


def test_list_keys_filters_by_prefix_sorted_without_temp_files(
    store: LocalBronzeStore,
) -> None:
    assert store.list_keys("") == []  # no root yet
    for key in ("b/2.json", "a/1.json", "b/1.json", "c/.tmp-manifest-x", "ab/3.json"):
        (store.root / key).parent.mkdir(parents=True, exist_ok=True)
        (store.root / key).write_bytes(b"x")
    assert store.list_keys("b/") == ["b/1.json", "b/2.json"]
    assert store.list_keys("a") == ["a/1.json", "ab/3.json"]
    assert store.list_keys("") == ["a/1.json", "ab/3.json", "b/1.json", "b/2.json"]
    assert store.list_keys("c/") == []


def test_put_manifest_completes_a_day_once(store: LocalBronzeStore) -> None:
    store.put_manifest(_manifest())
    path = store.root / manifest_key(DAY)
    assert path.read_bytes() == _manifest().to_json()
    assert store.read_manifest(DAY) == _manifest()
    with pytest.raises(ManifestExistsError) as raised:
        store.put_manifest(_manifest(run_id="r2"))
    assert str(raised.value) == (
        f"2026-03-07 is already complete in bronze ({path}); use --force to replace its manifest"
    )
    assert store.read_manifest(DAY) == _manifest()
    # No temporary file is left behind, whichever way the write ended.
    assert sorted(p.name for p in path.parent.iterdir()) == [MANIFEST_NAME]


def test_replace_keeps_the_previous_manifest_beside_the_new_one(
    store: LocalBronzeStore,
) -> None:
    first = _manifest(completed_at="2026-03-07T06:00:02+00:00", run_id="r1")
    second = _manifest(completed_at="2026-03-07T07:30:00+00:00", run_id="r2")
    third = _manifest(completed_at="2026-03-07T08:00:00+00:00", run_id="r3")
    store.put_manifest(first, replace=True)  # replace of an absent manifest just writes it
    folder = store.root / day_prefix(DAY)
    assert sorted(p.name for p in folder.iterdir()) == [MANIFEST_NAME]
    store.put_manifest(second, replace=True)
    store.put_manifest(third, replace=True)
    assert store.read_manifest(DAY) == third
    kept = {
        "_manifest.20260307T060002+0000.r1.json": first,
        "_manifest.20260307T073000+0000.r2.json": second,
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted([MANIFEST_NAME, *kept])
    for name, manifest in kept.items():
        assert Manifest.from_json((folder / name).read_bytes()) == manifest
    assert store.days() == [DAY]


def test_replace_never_overwrites_a_kept_copy(store: LocalBronzeStore) -> None:
    first = _manifest(run_id="r1")
    store.put_manifest(first)
    folder = store.root / day_prefix(DAY)
    kept = folder / "_manifest.20260307T060002+0000.r1.json"
    kept.write_bytes(b"an earlier copy")
    store.put_manifest(_manifest(run_id="r2"), replace=True)
    assert kept.read_bytes() == b"an earlier copy"
    assert store.read_manifest(DAY) == _manifest(run_id="r2")


def test_a_manifest_being_written_is_never_a_manifest_or_a_listed_key(
    store: LocalBronzeStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the manifest's bytes are on their way to disk, the folder holds only a
    temporary file: never ``_manifest.json`` (a half-written day would look complete) and
    never a key that :meth:`list_keys` returns."""
    import catalog.files

    seen: list[tuple[list[str], list[str]]] = []
    fsync = os.fsync

    def watching_fsync(fd: int) -> None:
        folder = store.root / day_prefix(DAY)
        seen.append((sorted(p.name for p in folder.iterdir()), store.list_keys("")))
        fsync(fd)

    monkeypatch.setattr(catalog.files.os, "fsync", watching_fsync)
    store.put_manifest(_manifest(run_id="r1"))
    store.put_manifest(_manifest(run_id="r2"), replace=True)
    assert len(seen) == 2
    for names, keys in seen:
        [temporary] = [n for n in names if n != MANIFEST_NAME and not n.startswith("_manifest.")]
        assert temporary.startswith(".tmp-manifest-")
        assert all(".tmp-" not in k for k in keys)
    assert MANIFEST_NAME not in seen[0][0]
