"""The Lambda zip: reproducible, holds its dependencies, and nothing heavy; the wheel: offline."""

from __future__ import annotations

import importlib.metadata
import subprocess
import zipfile
from pathlib import Path

import pytest

from infra import package


def test_lambda_zip_is_reproducible_and_light(tmp_path: Path) -> None:
    first = package.build_lambda_zip(tmp_path / "a.zip")
    second = package.build_lambda_zip(tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {"ingest", "catalog", "requests", "tenacity", "urllib3", "idna", "certifi"} <= tops
    assert "charset_normalizer" in tops
    assert not any(n.endswith((".so", ".pyc")) for n in names)
    assert not tops & {"pyiceberg", "pyspark", "pyarrow", "boto3", "botocore"}
    assert "ingest/data/default_roster.json" in names


def test_wheel_packages_follow_pyproject() -> None:
    assert package._setuptools_packages() == [
        "catalog",
        "expectations",
        "glue",
        "infra",
        "ingest",
        "views",
    ]


def test_wheel_is_built_offline_by_the_venvs_setuptools(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    calls: list[list[str]] = []

    def fake_run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        return subprocess.CompletedProcess(command, 1, "", "stop here")

    monkeypatch.setattr(package.subprocess, "run", fake_run)
    with pytest.raises(package.PackagingError, match="stop here"):
        package.build_wheel(tmp_path)
    (command,) = calls
    assert command[1:4] == ["-m", "pip", "wheel"]
    assert {"--no-deps", "--no-build-isolation", "--no-index"} <= set(command)


def test_a_backend_that_cannot_build_wheels_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    package.check_build_backend()  # the venv's own setuptools can

    def old_setuptools(name: str) -> str:
        if name == "setuptools":
            return "65.5.0"
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(package.importlib.metadata, "version", old_setuptools)
    with pytest.raises(package.PackagingError, match=r"setuptools \(65\.5\.0\).*pip install"):
        package.check_build_backend()
