"""Open the bronze store a URI names: a local folder or an S3 prefix.

The S3 store (and boto3 with it) is imported only for an ``s3://`` URI, so local runs never
pay for it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from catalog.bronze.layout import BronzeError, BronzeStore
from catalog.bronze.local import LocalBronzeStore

S3_SCHEME: Final = "s3"
FILE_SCHEME: Final = "file"


def open_bronze_store(uri: str, *, s3_client: Any = None) -> BronzeStore:
    """The bronze store at ``uri``: a local path or ``file://`` URI gives a
    :class:`~catalog.bronze.local.LocalBronzeStore`; ``s3://bucket/prefix`` an
    :class:`S3BronzeStore` rooted at exactly that prefix (``s3://bucket/bronze`` on AWS, as
    the Glue job's ``--bronze_uri``; ``s3://bucket`` is the bucket's root).

    ``s3_client`` is an optional boto3 S3 client (default: one from the standard AWS chain).
    """
    parts = urlsplit(uri)
    if parts.scheme == S3_SCHEME:
        if not parts.netloc:
            raise BronzeError(f"bronze URI {uri!r} names no bucket; expected s3://bucket/prefix")
        from catalog.bronze.s3 import S3BronzeStore  # boto3 only for an s3:// store

        return S3BronzeStore(parts.netloc, parts.path, client=s3_client)
    if parts.scheme == FILE_SCHEME:
        return LocalBronzeStore(Path(parts.path))
    if parts.scheme and len(parts.scheme) > 1:  # not a Windows drive letter
        raise BronzeError(f"bronze URI {uri!r}: expected a folder, file:// or s3://bucket/prefix")
    return LocalBronzeStore(Path(uri).expanduser())
