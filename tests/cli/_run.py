"""Running ``spotify-lakehouse`` as its users do, and reading what it said.

Two ways in, both through the console script's ``main``:

* :func:`run_cli` starts ``.venv/bin/spotify-lakehouse`` as a process. Exit statuses 0, 1
  and 3 are checked this way: only a real process shows what reaches a user's stderr (a
  library's warning, a JVM's log line, Python's exit-time ``Exception ignored``).
* :func:`run_main` sets ``sys.argv`` and calls ``infra.cli.main.main()`` in this process, as the
  console script does. Bad usage (exit 2) is checked this way: it is decided while the
  command line is read, before any library runs, and each call costs milliseconds instead
  of a 2-3 s interpreter start.

The environment never reaches real Spotify or AWS: ``SPOTIFY_*``, ``AWS_*`` and
``LAKEHOUSE_*`` are removed, the AWS config files are empty and EC2 metadata lookups are off.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

#: The console script ``pip install -e .`` created beside this interpreter.
CLI = Path(sys.executable).with_name("spotify-lakehouse")
PROG = "spotify-lakehouse"
#: A cold CLI start is 2-3 s; a Spark command 10-20 s; a loaded CI machine is slower.
TIMEOUT_S = 300
_SCRUBBED = ("SPOTIFY_", "AWS_", "LAKEHOUSE_")


@dataclass(frozen=True)
class Outcome:
    """What one command did: its exit status and both streams."""

    argv: tuple[str, ...]
    code: int
    out: str
    err: str
    seconds: float

    def describe(self) -> str:
        return (
            f"$ {PROG} {' '.join(self.argv)}\nexit {self.code} after {self.seconds:.1f}s\n"
            f"--- stderr\n{self.err}--- stdout (first 2000 chars)\n{self.out[:2000]}"
        )


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment without Spotify, AWS or lakehouse settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED)}
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    # No ~/.aws either: a region or profile there would send --engine athena to AWS.
    env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    env.update(extra or {})
    return env


def run_cli(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    stdout: int | None = None,
) -> Outcome:
    """Run the console script as a process. ``stdout`` may be a descriptor to write to."""
    assert CLI.exists(), f"{CLI} is missing: install the project (make deps) first"
    started = time.monotonic()
    done = subprocess.run(
        [str(CLI), *argv],
        cwd=cwd,
        env=clean_env(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        timeout=TIMEOUT_S,
        check=False,
    )
    return Outcome(
        tuple(argv),
        done.returncode,
        (done.stdout or b"").decode(errors="replace"),
        done.stderr.decode(errors="replace"),
        time.monotonic() - started,
    )


def run_main(
    argv: Sequence[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    env: Mapping[str, str] | None = None,
) -> Outcome:
    """``sys.argv = [spotify-lakehouse, *argv]; main()`` in this process, as the script does,
    with the environment of :func:`clean_env` (``env`` added)."""
    from infra.cli.main import main

    for name in list(os.environ):
        if name.startswith(_SCRUBBED):
            monkeypatch.delenv(name)
    for name, value in clean_env(env).items():
        if os.environ.get(name) != value:
            monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "argv", [str(CLI), *argv])
    capsys.readouterr()
    started = time.monotonic()
    code = 0
    try:
        main()
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return Outcome(tuple(argv), code, out, err, time.monotonic() - started)


def reason(outcome: Outcome, code: int, *fragments: str) -> str:
    """Assert the contract of a non-zero exit and return its reason line.

    Exit status ``code``; stderr exactly one line, ``spotify-lakehouse: <reason>``, with no
    traceback and no terminal escapes; each of ``fragments`` in the reason.
    """
    assert outcome.code == code, outcome.describe()
    lines = outcome.err.splitlines()
    assert len(lines) == 1, f"stderr must be one line\n{outcome.describe()}"
    [line] = lines
    assert line.startswith(f"{PROG}: "), outcome.describe()
    assert "\x1b[" not in line, outcome.describe()
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in the reason\n{outcome.describe()}"
    return line


def succeeded(outcome: Outcome, *fragments: str) -> None:
    """Assert exit 0 with no traceback; each of ``fragments`` in stdout or stderr."""
    assert outcome.code == 0, outcome.describe()
    assert "Traceback" not in outcome.err, outcome.describe()
    for fragment in fragments:
        assert fragment in outcome.out + outcome.err, f"{fragment!r} missing\n{outcome.describe()}"
