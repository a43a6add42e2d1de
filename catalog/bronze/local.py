"""Bronze in a local folder (``<home>/bronze``): the embedded default."""

from __future__ import annotations

import os
from pathlib import Path

from catalog.bronze.layout import (
    BronzeError,
    BronzeStore,
    Manifest,
    ManifestExistsError,
    ManifestInvalidError,
    PartExistsError,
    manifest_key,
)
from catalog.files import FILE_MODE, write_atomically


class LocalBronzeStore(BronzeStore):
    """Bronze in a local folder (``<home>/bronze``): the embedded default."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.location = str(root)

    def _path(self, key: str) -> Path:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise BronzeError(f"bronze key escapes the bronze root: {key!r}")
        return path

    def put_new(self, key: str, body: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # O_EXCL: the open fails if anyone created the file first; never overwrite.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError as e:
            raise PartExistsError(f"bronze object {key} already exists") from e
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
            fh.flush()
            os.fsync(fh.fileno())

    def get(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def list_keys(self, prefix: str) -> list[str]:
        base = self.root
        if not base.exists():
            return []
        keys = (p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
        return sorted(k for k in keys if k.startswith(prefix) and ".tmp-" not in k)

    def put_manifest(self, manifest: Manifest, *, replace: bool = False) -> None:
        path = self._path(manifest_key(manifest.snapshot_date))
        path.parent.mkdir(parents=True, exist_ok=True)
        body = manifest.to_json()
        # Published atomically (a crash never leaves a half-written manifest, so a day is
        # either complete or not), with the umask's permissions (catalog.files).
        if not replace:
            try:
                write_atomically(path, body, replace=False, temporary_prefix=".tmp-manifest-")
            except FileExistsError as e:  # the link fails if the manifest exists
                raise ManifestExistsError(
                    f"{manifest.snapshot_date} is already complete in bronze "
                    f"({path}); use --force to replace its manifest"
                ) from e
            return
        if path.exists():
            try:
                previous = Manifest.from_json(path.read_bytes())
            except ManifestInvalidError:
                # Not a manifest (a disk fault, a hand edit): its bytes are kept beside it
                # under their sha256, then it is replaced like any other.
                self.set_aside_unreadable_manifest(manifest.snapshot_date)
            else:
                stamp = previous.completed_at.replace(":", "").replace("-", "")
                keep = path.with_name(f"_manifest.{stamp}.{previous.run_id}.json")
                if not keep.exists():
                    os.link(path, keep)  # the local stand-in for S3 versioning
        write_atomically(path, body, temporary_prefix=".tmp-manifest-")
