"""Bronze in S3 (boto3), and :func:`open_bronze_store` to open a store from a URI.

Same layout and rules as the local store (:mod:`catalog.bronze.layout`), enforced by S3 itself:

* Parts and envelopes: ``PutObject`` with ``If-None-Match: *``. A second write of a key
  fails with 412 (:class:`~catalog.bronze.layout.PartExistsError`); nothing is ever overwritten
  or deleted (this module has no delete call).
* The day's manifest: ``If-None-Match: *`` too, so of two concurrent runs exactly one
  completes the day (the other gets :class:`~catalog.bronze.layout.ManifestExistsError`). A forced
  replace sends ``If-Match`` with the ETag this store saw when it read the manifest (or the
  current one, if it never read it), so a manifest that changed in between is never
  clobbered (:class:`~catalog.bronze.layout.ManifestConflictError`). Bucket versioning (set by the
  stack) keeps every earlier manifest.
* S3 answers a conditional write with 409 ``ConditionalRequestConflict`` while another
  conditional write of the same key is still in flight: that is not a verdict, the other
  write may yet fail and leave the day incomplete. So a 409 is retried after a short pause
  (:data:`CONFLICT_RETRY_DELAYS_S`, as AWS advises), and the retry gets the real answer: 412
  if the other write completed the day, success if it failed. Only a conflict that outlasts
  every retry is raised, as :class:`~catalog.bronze.layout.ManifestConflictError` (the day is not
  known to be complete; the run may be retried), never as "already complete".

Every botocore failure is translated into a bronze exception, raised from the original.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Final

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from catalog.bronze.layout import (
    MANIFEST_NAME,
    BronzeError,
    BronzeStore,
    Manifest,
    ManifestConflictError,
    ManifestExistsError,
    PartExistsError,
    manifest_key,
)

#: Default bronze root inside the data bucket (docs/aws-contracts.md).
DEFAULT_PREFIX: Final = "bronze/"
#: botocore settings: adaptive retries for throttling, bounded timeouts on every call.
S3_CLIENT_CONFIG: Final = Config(
    retries={"max_attempts": 5, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
)
#: Error codes meaning "no such object".
NOT_FOUND_CODES: Final = frozenset({"404", "NoSuchKey", "NotFound"})
#: Error codes of a failed precondition (412), or of a concurrent conditional write (409).
PRECONDITION_CODES: Final = frozenset({"412", "PreconditionFailed"})
CONFLICT_CODES: Final = frozenset({"409", "ConditionalRequestConflict"})
JSON_CONTENT_TYPE: Final = "application/json"
#: Pauses before re-sending a manifest write S3 answered 409 (another write of the key in
#: flight): a few seconds in all, far below any Lambda or Glue timeout.
CONFLICT_RETRY_DELAYS_S: Final = (0.2, 0.5, 1.0, 2.0)

log = logging.getLogger(__name__)


class BronzeAccessError(BronzeError):
    """S3 refused or failed a bronze request (permissions, missing bucket, network)."""


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


class S3BronzeStore(BronzeStore):
    """Bronze under ``s3://bucket/prefix``: keys are the layout keys below ``prefix``."""

    def __init__(
        self,
        bucket: str,
        prefix: str = DEFAULT_PREFIX,
        *,
        client: Any = None,
        sleep: Callable[[float], None] = time.sleep,
        conflict_retry_delays: Sequence[float] = CONFLICT_RETRY_DELAYS_S,
    ) -> None:
        """``sleep`` and ``conflict_retry_delays`` pace the retries of a 409 (injectable so
        tests spend no time)."""
        if not bucket:
            raise BronzeError("an S3 bronze store needs a bucket name")
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.location = f"s3://{bucket}/{self.prefix}"
        self._s3: Any = client or boto3.client("s3", config=S3_CLIENT_CONFIG)
        # ETag of each manifest as last read (None: read and found absent). A forced
        # replace is conditional on it, so a manifest replaced since is never clobbered.
        self._seen: dict[str, str | None] = {}
        self._lock = threading.Lock()
        self._sleep = sleep
        self._conflict_retry_delays = tuple(conflict_retry_delays)

    def object_key(self, key: str) -> str:
        """The S3 object key of a layout key."""
        if key.startswith("/") or ".." in key.split("/"):
            raise BronzeError(f"bronze key escapes the bronze root: {key!r}")
        return self.prefix + key

    # BronzeStore -------------------------------------------------------------------------

    def put_new(self, key: str, body: bytes) -> None:
        try:
            self._s3.put_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Body=body,
                IfNoneMatch="*",
                ContentType=JSON_CONTENT_TYPE,
            )
        except ClientError as e:
            if _code(e) in PRECONDITION_CODES | CONFLICT_CODES:
                raise PartExistsError(f"bronze object {self.location}{key} already exists") from e
            raise self._failed("write", key, e) from e
        except BotoCoreError as e:
            raise self._failed("write", key, e) from e

    def get(self, key: str) -> bytes:
        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=self.object_key(key))
            body: bytes = answer["Body"].read()
        except ClientError as e:
            if _code(e) in NOT_FOUND_CODES:
                self._remember(key, None)
                raise FileNotFoundError(f"{self.location}{key}") from e
            raise self._failed("read", key, e) from e
        except BotoCoreError as e:
            raise self._failed("read", key, e) from e
        self._remember(key, str(answer.get("ETag", "")))
        return body

    def exists(self, key: str) -> bool:
        return self._head_etag(key) is not None

    def list_keys(self, prefix: str) -> list[str]:
        keys: list[str] = []
        try:
            pages = self._s3.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.object_key(prefix)
            )
            for page in pages:
                keys.extend(
                    obj["Key"].removeprefix(self.prefix) for obj in page.get("Contents", [])
                )
        except ClientError as e:
            raise self._failed("list", prefix, e) from e
        except BotoCoreError as e:
            raise self._failed("list", prefix, e) from e
        return sorted(keys)

    def put_manifest(self, manifest: Manifest, *, replace: bool = False) -> None:
        key = manifest_key(manifest.snapshot_date)
        day = manifest.snapshot_date.isoformat()
        condition: dict[str, str] = {"IfNoneMatch": "*"}
        if replace:
            with self._lock:
                seen = self._seen[key] if key in self._seen else self._head_etag(key)
            if seen is not None:
                condition = {"IfMatch": seen}
        try:
            answer = self._put_conditionally(key, manifest.to_json(), condition)
        except ClientError as e:
            code = _code(e)
            if code in CONFLICT_CODES:
                raise ManifestConflictError(
                    f"the manifest of {day} ({self.location}{key}) could not be written by run "
                    f"{manifest.run_id}: S3 kept answering 409 ConditionalRequestConflict "
                    f"(another write of it in flight) after {len(self._conflict_retry_delays)} "
                    "retries; the day is not known to be complete: run the ingest again"
                ) from e
            if code in PRECONDITION_CODES | NOT_FOUND_CODES:
                if "IfNoneMatch" in condition and not replace:
                    raise ManifestExistsError(
                        f"{day} is already complete in bronze ({self.location}{key}); "
                        "use --force to replace its manifest"
                    ) from e
                raise ManifestConflictError(
                    f"the manifest of {day} ({self.location}{key}) changed while run "
                    f"{manifest.run_id} was replacing it (another run completed the day); "
                    "nothing was overwritten: re-run with --force to replace the new one"
                ) from e
            raise self._failed("write", key, e) from e
        except BotoCoreError as e:
            raise self._failed("write", key, e) from e
        self._remember(key, str(answer.get("ETag", "")))

    # Helpers -----------------------------------------------------------------------------

    def _put_conditionally(self, key: str, body: bytes, condition: dict[str, str]) -> Any:
        """``PutObject`` with ``condition``, re-sent while S3 answers 409 (see the module
        docstring); any other error, and a 409 to the last attempt, is raised as is."""

        def put() -> Any:
            return self._s3.put_object(
                Bucket=self.bucket,
                Key=self.object_key(key),
                Body=body,
                ContentType=JSON_CONTENT_TYPE,
                **condition,
            )

        for delay in self._conflict_retry_delays:
            try:
                return put()
            except ClientError as e:
                if _code(e) not in CONFLICT_CODES:
                    raise
                log.warning(
                    "S3 answered 409 to the write of %s%s (another write of it in flight); "
                    "retrying in %.1f s",
                    self.location,
                    key,
                    delay,
                )
                self._sleep(delay)
        return put()

    def _head_etag(self, key: str) -> str | None:
        try:
            answer = self._s3.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as e:
            if _code(e) in NOT_FOUND_CODES or _status(e) == 404:
                return None
            raise self._failed("check", key, e) from e
        except BotoCoreError as e:
            raise self._failed("check", key, e) from e
        return str(answer.get("ETag", ""))

    def _remember(self, key: str, etag: str | None) -> None:
        if key.endswith("/" + MANIFEST_NAME):
            with self._lock:
                self._seen[key] = etag

    def _failed(self, action: str, key: str, error: Exception) -> BronzeAccessError:
        if isinstance(error, ClientError):
            reason = f"{_code(error)}: {error.response.get('Error', {}).get('Message', error)}"
        else:
            reason = str(error)
        return BronzeAccessError(
            f"cannot {action} bronze object {self.location}{key} ({reason}); check that the "
            "bucket exists and this role may read and write it"
        )
