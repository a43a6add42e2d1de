"""A write that finds the disk full: one line saying so, the next step, exit 1.

Real ENOSPC without root comes from ``/dev/full`` (every write to it fails with ENOSPC):
the CLI's output is sent there. A full disk under the home cannot be made without root (no
tmpfs), so the bronze write of ``ingest`` finds it through a boundary fake: ``os.fsync``
raising ENOSPC, as it does when a filesystem reports the lost write late. Errors of
libraries that wrap it (Spark through py4j, pyarrow) are checked by their message shape.
"""

from __future__ import annotations

import errno
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest

from catalog.bronze.layout import manifest_key
from infra.cli.main import _reason
from tests.cli._run import reason, run_cli, run_main

DEV_FULL = Path("/dev/full")


def _is_dev_full() -> bool:
    """``/dev/full`` is the character device (never write to a regular file of that name)."""
    try:
        return stat.S_ISCHR(DEV_FULL.stat().st_mode)
    except OSError:
        return False


needs_dev_full = pytest.mark.skipif(not _is_dev_full(), reason="no /dev/full device here")


def no_room(filename: str | None = None) -> OSError:
    return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), filename)


def test_ingest_whose_bronze_write_finds_no_room_says_disk_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def fsync(fd: int) -> None:
        raise no_room()

    monkeypatch.setattr(os, "fsync", fsync)
    home = tmp_path / "home"
    today = datetime.now(UTC).date()
    outcome = run_main(
        ["--home", str(home), "ingest", "--simulator", "--date", today.isoformat()],
        monkeypatch,
        capsys,
    )
    reason(outcome, 1, "disk full", "no space left on device", str(home), "then re-run")
    assert not (home / "bronze" / manifest_key(today)).exists()  # the day is not complete


@needs_dev_full
def test_output_to_a_full_disk_is_one_line_and_exit_1_from_the_real_cli(tmp_path: Path) -> None:
    full = os.open(DEV_FULL, os.O_WRONLY)  # no O_CREAT: only ever the device itself
    try:
        outcome = run_cli(
            ["--home", str(tmp_path / "home"), "query", "SELECT 1 AS x", "--format", "csv"],
            cwd=tmp_path,
            stdout=full,
        )
    finally:
        os.close(full)
    reason(outcome, 1, "disk full", "no space left on device", "--home")


def test_a_wrapped_no_room_error_is_still_named_with_its_file() -> None:
    try:
        try:
            raise no_room("/data/home/warehouse/part-0.parquet")
        except OSError as e:
            raise RuntimeError("commit failed") from e
    except RuntimeError as wrapped:
        line = _reason(wrapped)
    assert line.startswith("disk full: no space left on device writing /data/home/warehouse/")
    assert "(RuntimeError)" in line


@pytest.mark.parametrize(
    "message",
    [
        # py4j's Py4JJavaError text: the Java exception, no OSError in the Python chain.
        "An error occurred while calling o81.sql.\n: java.io.IOException: No space left on device",
        "[Errno 122] Disk quota exceeded",
    ],
)
def test_a_library_error_that_only_says_it_found_no_room_is_named(message: str) -> None:
    assert _reason(Exception(message)).startswith("disk full: a write found no space left")


def test_other_os_errors_keep_their_own_reason() -> None:
    error = OSError(errno.EACCES, os.strerror(errno.EACCES), "/root/home")
    assert not _reason(error).startswith("disk full")
