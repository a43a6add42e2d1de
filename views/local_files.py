"""Which Iceberg file locations are files of this machine (no pyiceberg needed).

Shared by the catalog read (:mod:`views.tables`), the read-only FileIO
(:mod:`views.iceberg_io`) and the planner (:mod:`views.scan`).
"""

from __future__ import annotations

from urllib.parse import urlsplit

_FILE_SCHEME = "file"


def local_path(location: str) -> str | None:
    """The local path of an Iceberg file location, or ``None`` when it is not on this machine.

    Both spellings of a file URI occur: ``file:///tmp/x`` (pyiceberg) and ``file:/tmp/x``
    (Hadoop's ``Path``, which Spark's writers use); a bare absolute path is local too. The
    path is taken as written, never percent-decoded: Iceberg records paths unencoded.
    """
    if location.startswith("/"):
        return location
    parts = urlsplit(location)
    if parts.scheme == _FILE_SCHEME and parts.netloc in ("", "localhost"):
        return parts.path
    return None
