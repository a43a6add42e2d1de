"""Local files the pipeline writes: published whole, with the permissions the umask allows.

Why a module of its own: ``tempfile`` creates its files with mode 0600 whatever the umask,
and a write-then-rename keeps that mode, so reports and bronze manifests published that way
were readable by their owner only; another user, or a read-only mount of the home, could
not open them (issue 9, item 6). Files the pipeline writes follow the umask, like any file
a command-line tool creates: :func:`write_atomically` creates its temporary file with
``os.open(..., 0o666)``, so the kernel applies the process's umask (0644 under the usual
022, 0600 under 077 for whoever wants private homes), then publishes it in one step.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Final

#: Mode asked for new files; the umask takes its bits away (0o644 under umask 022).
FILE_MODE: Final = 0o666


def _create_temporary(directory: Path, prefix: str) -> tuple[int, Path]:
    """A new, empty, exclusively created file in ``directory`` (mode per the umask)."""
    while True:
        path = directory / f"{prefix}{secrets.token_hex(8)}"
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), path
        except FileExistsError:  # pragma: no cover - 64 random bits collided
            continue


def write_atomically(
    path: Path, body: bytes, *, replace: bool = True, temporary_prefix: str = ".tmp-"
) -> None:
    """Write ``body`` to ``path`` so that a reader sees the old file or the new one, whole.

    ``replace=False`` publishes with a hard link instead of a rename, so it fails with
    :class:`FileExistsError` if ``path`` exists (nothing is overwritten). The data is
    fsynced before it is published; the temporary file never outlives the call.
    """
    descriptor, temporary = _create_temporary(path.parent, temporary_prefix)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(body)
            handle.flush()
            os.fsync(handle.fileno())
        if replace:
            os.replace(temporary, path)
        else:
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
