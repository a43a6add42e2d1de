"""The Lambda zip: reproducible, holds its dependencies, and nothing heavy."""

from __future__ import annotations

import zipfile
from pathlib import Path

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
