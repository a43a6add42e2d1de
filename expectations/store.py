"""Where data-quality reports go: a folder on one machine, an S3 prefix on AWS.

Keys are relative to the reports root (``quality/D/<run_id>.html``); :func:`open_report_store`
picks the store from a URI (``s3://bucket/reports`` or a path), so the job writes through
one interface on AWS and locally.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from catalog.errors import LakehouseError
from catalog.files import write_atomically

if TYPE_CHECKING:
    from collections.abc import Callable

#: Folder (prefix) of the quality reports under the reports root.
QUALITY_PREFIX: Final = "quality"
HTML: Final = "text/html; charset=utf-8"


class ReportStoreError(LakehouseError):
    """A report could not be written; the data was validated and loaded regardless."""


def report_key(day: date, run_id: str) -> str:
    """``quality/D/<run_id>.html``; a re-run of the same ingest run replaces its report."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run_id)
    return f"{QUALITY_PREFIX}/{day.isoformat()}/{safe}.html"


class ReportStore(ABC):
    """Writes report objects and says where they are, for people and for ``quality``."""

    @abstractmethod
    def put(self, key: str, body: bytes, content_type: str = HTML) -> str:
        """Write (or replace) ``key``; return its location (a path or an ``s3://`` URI)."""


class LocalReportStore(ReportStore):
    """Reports in a folder (``<home>/reports``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, key: str, body: bytes, content_type: str = HTML) -> str:
        path = (self.root / key).resolve()
        if self.root.resolve() not in path.parents:
            raise ReportStoreError(f"report key escapes the reports folder: {key!r}")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename: a reader never opens a half-written report; the file gets
            # the umask's permissions, so whoever may read the home may read its reports.
            write_atomically(path, body)
        except OSError as e:
            raise ReportStoreError(
                f"cannot write the quality report {path}: {e}; check that the lakehouse home "
                "is writable"
            ) from e
        return str(path)


class S3ReportStore(ReportStore):
    """Reports under an S3 prefix (``s3://bucket/reports``), written with boto3."""

    def __init__(self, bucket: str, prefix: str, client: Any) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.client = client

    def put(self, key: str, body: bytes, content_type: str = HTML) -> str:
        from botocore.exceptions import (  # type: ignore[import-untyped]
            BotoCoreError,
            ClientError,
        )

        full = f"{self.prefix}/{key}" if self.prefix else key
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=full, Body=body, ContentType=content_type
            )
        except (BotoCoreError, ClientError) as e:
            raise ReportStoreError(
                f"cannot write the quality report to s3://{self.bucket}/{full}: {e}; check the "
                "job role's s3:PutObject permission on the reports prefix"
            ) from e
        return f"s3://{self.bucket}/{full}"


def open_report_store(uri: str, *, client_factory: Callable[[], Any] | None = None) -> ReportStore:
    """The store for a reports root URI: ``s3://bucket/prefix`` or a local path."""
    if uri.startswith("s3://"):
        bucket, _, prefix = uri.removeprefix("s3://").partition("/")
        if not bucket:
            raise ReportStoreError(f"reports URI {uri!r} names no bucket (s3://bucket/prefix)")
        if client_factory is None:
            import boto3  # type: ignore[import-untyped]

            client = boto3.client("s3")
        else:
            client = client_factory()
        return S3ReportStore(bucket, prefix, client)
    if "://" in uri and not uri.startswith("file://"):
        raise ReportStoreError(f"reports URI {uri!r}: only s3:// and local paths are supported")
    return LocalReportStore(Path(uri.removeprefix("file://")))
