"""The lakehouse lease: one home's writers (shared) against its maintenance (exclusive).

Why: a write in flight has uploaded data files that no snapshot references yet, and orphan
removal would take them for garbage. On one machine an ``flock`` serializes the two; on AWS
the Glue job's ``MaxConcurrentRuns=1`` does (docs/maintenance.md).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final, Literal

from catalog.errors import LakehouseError
from catalog.files import FILE_MODE
from catalog.paths import LakehousePaths

#: The lease file under a lakehouse home.
LEASE_FILE: Final = ".lakehouse.lease"

LeaseMode = Literal["write", "maintain"]


class WriteInProgressError(LakehouseError):
    """A writer holds the lakehouse lease: maintenance would take its new files for orphans."""


@contextmanager
def write_lease(paths: LakehousePaths, mode: LeaseMode) -> Iterator[None]:
    """Hold the lakehouse lease of one home for a write (shared) or maintenance (exclusive).

    ``write`` waits for a running maintenance; ``maintain`` never waits and raises
    :class:`WriteInProgressError` if any write holds the lease. The lock is an ``flock`` on
    ``<home>/.lakehouse.lease``, released by the kernel if the process dies.
    """
    if mode not in ("write", "maintain"):
        raise ValueError(f"mode must be 'write' or 'maintain', got {mode!r}")
    paths.home.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(paths.home / LEASE_FILE, os.O_RDWR | os.O_CREAT, FILE_MODE)
    try:
        if mode == "write":
            fcntl.flock(descriptor, fcntl.LOCK_SH)
        else:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError as e:
                raise WriteInProgressError(
                    f"a write to the lakehouse at {paths.home} is running (it holds "
                    f"{LEASE_FILE}): maintenance would take its new files for orphans. "
                    "Run `spotify-lakehouse maintain` again when it has finished."
                ) from e
        yield
    finally:
        os.close(descriptor)
