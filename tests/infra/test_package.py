"""The Lambda zip: reproducible, holds its dependencies, and nothing heavy; the wheel:
offline; the Glue job's zip of wheels: the venv's versions, for Glue 5.1, installed offline."""

from __future__ import annotations

import csv
import importlib.metadata
import io
import os
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from infra import glue_deps, package


def test_lambda_zip_is_reproducible_and_light(tmp_path: Path) -> None:
    first = package.build_lambda_zip(tmp_path / "a.zip")
    second = package.build_lambda_zip(tmp_path / "b.zip")
    assert first.read_bytes() == second.read_bytes()
    names = zipfile.ZipFile(first).namelist()
    tops = {n.split("/")[0] for n in names}
    assert {"ingest", "catalog", "requests", "tenacity", "urllib3", "idna", "certifi"} <= tops
    assert "charset_normalizer" in tops
    # Powertools for AWS Lambda (the handler's Logger and secrets) and its two dependencies.
    assert {"aws_lambda_powertools", "jmespath", "typing_extensions.py"} <= tops
    assert not any(n.endswith((".so", ".pyc", ".pyd")) for n in names)
    assert not tops & {"pyiceberg", "pyspark", "pyarrow", "boto3", "botocore", "pydantic"}
    # The simulator stays out (production never imports it); the roster it shares stays in.
    assert "ingest/handler.py" in names
    assert not [n for n in names if n.startswith("ingest/simulator/")]
    assert "ingest/data/default_roster.json" in names
    assert first.stat().st_size < 3 * 1024 * 1024  # 1.6 MiB with Powertools 3.37


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

    monkeypatch.setattr("infra.package.subprocess.run", fake_run)
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

    monkeypatch.setattr("infra.package.importlib.metadata.version", old_setuptools)
    with pytest.raises(package.PackagingError, match=r"setuptools \(65\.5\.0\).*pip install"):
        package.check_build_backend()


# --- the Glue job's zip of wheels (infra/glue_deps.py) -------------------------------------


def _fake_wheel(folder: Path, filename: str, requires: tuple[str, ...] = ()) -> Path:
    name, version = filename.split("-")[:2]
    info = f"{name}-{version}.dist-info"
    meta = [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}"]
    meta += [f"Requires-Dist: {r}" for r in requires]
    path = folder / filename
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", "")
        wheel.writestr(f"{info}/METADATA", "\n".join(meta) + "\n")
        wheel.writestr(f"{info}/RECORD", f"{name}/__init__.py,sha256=x,0\n{info}/RECORD,,\n")
    return path


def _versions(known: dict[str, str]) -> Callable[[str], str]:
    def version(name: str) -> str:
        if name not in known:
            raise importlib.metadata.PackageNotFoundError(name)
        return known[name]

    return version


def _offline(*_: object, **__: object) -> subprocess.CompletedProcess[str]:
    raise AssertionError("no pip call expected: every wheel is cached")


def test_glue_installs_the_zip_offline_from_a_gluewheels_key() -> None:
    url = "s3://assets/glue/python-deps/0f3a/python-deps.gluewheels.zip"
    assert glue_deps.glue_python_module_arguments(url) == {
        "--additional-python-modules": url,
        "--python-modules-installer-option": "--no-index",
    }
    assert package.GLUE_PYTHON_DEPS.name == "python-deps.gluewheels.zip"
    assert package.GLUE_PYTHON_DEPS.parent.name == "python-deps"  # alone in its folder
    # A CDK file asset's key is <hash>.zip: Glue would not take it for a zip of wheels.
    for wrong in ("s3://cdk-assets/4b1c9e.zip", "https://x/python-deps.gluewheels.zip"):
        with pytest.raises(ValueError, match=r"\.gluewheels\.zip"):
            glue_deps.glue_python_module_arguments(wrong)


def test_job_imports_follow_what_the_entry_module_reaches(tmp_path: Path) -> None:
    for name, source in {
        "app/__init__.py": "",
        "app/job.py": "import json\nfrom lib import helper\ndef run():\n    import requests\n",
        "lib/__init__.py": "",
        "lib/helper.py": "from typing import Final\nimport yaml.loader\nfrom lib.deep import x\n",
        "lib/deep.py": "x = 1\nimport pyspark\n",
        "lib/unused.py": "import duckdb\n",  # not reached from app.job
    }.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(source)
    assert glue_deps.job_imports("app.job", tmp_path) == {"requests", "yaml", "pyspark"}


def test_the_zip_ships_the_venvs_versions_except_what_glue_51_has() -> None:
    plan = glue_deps.plan()
    ship = {p.name: p for p in plan.ship}
    assert {
        "great-expectations",
        "pyiceberg",
        "pyiceberg-core",
        "sqlalchemy",
        "pandas",
        "numpy",
        "pyarrow",
        "boto3",
        "tenacity",
    } <= set(ship)
    assert ship["pyiceberg"].extras == ("pyarrow", "sql-sqlite")  # pyproject's extras
    assert not set(ship) & {"pyspark", "py4j", "awsgluedataplanepython"}
    for pin in plan.ship:
        assert pin.version == importlib.metadata.version(pin.name)
        assert glue_deps.GLUE_51_PROVIDED.get(pin.name) != pin.version
    for pin in plan.provided:  # e.g. six 1.17.0: Glue's own copy is the one tested here
        assert glue_deps.GLUE_51_PROVIDED[pin.name] == pin.version
        assert pin.version == importlib.metadata.version(pin.name)


def test_a_venv_that_is_not_pyprojects_or_lacks_a_module_fails_the_build(
    tmp_path: Path,
) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "__init__.py").write_text("")
    (tmp_path / "app" / "job.py").write_text("import pandas\n")
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["pandas==0.0.1"]\n')
    with pytest.raises(glue_deps.GlueDepsError, match=r"run make deps.*pandas .*==0\.0\.1"):
        glue_deps.plan("app.job", tmp_path)
    (tmp_path / "app" / "job.py").write_text("import no_such_module_here\n")
    with pytest.raises(glue_deps.GlueDepsError, match="no_such_module_here"):
        glue_deps.plan("app.job", tmp_path)


def test_only_wheels_glue_51_can_load_are_accepted() -> None:
    ranks = glue_deps.glue_tags()

    def runs(filename: str) -> bool:
        return any(t in ranks for t in parse_wheel_filename(filename)[3])

    assert runs("a-1-cp311-cp311-manylinux_2_34_x86_64.whl")  # Glue 5.1's glibc is 2.34
    assert runs("a-1-cp310-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl")
    assert runs("a-1-py3-none-any.whl")
    assert not runs("a-1-cp311-cp311-manylinux_2_35_x86_64.whl")
    assert not runs("a-1-cp311-cp311-manylinux_2_28_aarch64.whl")
    assert not runs("a-1-cp312-cp312-manylinux_2_28_x86_64.whl")
    assert not runs("a-1-cp311-cp311-musllinux_1_2_x86_64.whl")
    assert not runs("a-1-cp311-cp311-linux_x86_64.whl")


def test_cached_wheels_make_a_reproducible_checked_zip_offline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    needs = ("beta>=2", "six>=1.5", "gamma; os_name == 'nt'")  # six: Glue's; gamma: Windows
    _fake_wheel(cache, "alpha-1.0-py3-none-any.whl", needs)
    _fake_wheel(cache, "beta-2.0-cp311-cp311-manylinux_2_17_x86_64.whl")
    _fake_wheel(cache, "beta-2.0-cp311-cp311-manylinux_2_28_x86_64.whl")  # pip's pick: newer
    _fake_wheel(cache, "beta-2.0-cp311-cp311-macosx_11_0_arm64.whl")  # not for Glue
    monkeypatch.setattr("infra.glue_deps.subprocess.run", _offline)
    pins = [glue_deps.Pin("alpha", "1.0"), glue_deps.Pin("beta", "2.0")]
    wheels = glue_deps.fetch_wheels(pins, cache)
    assert wheels[pins[1]].name == "beta-2.0-cp311-cp311-manylinux_2_28_x86_64.whl"

    first = glue_deps.write_glue_deps_zip(tmp_path / "a" / "deps.gluewheels.zip", wheels)
    second = glue_deps.write_glue_deps_zip(tmp_path / "b" / "deps.gluewheels.zip", wheels)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == [
            "wheels/alpha-1.0-py3-none-any.whl",
            "wheels/beta-2.0-cp311-cp311-manylinux_2_28_x86_64.whl",
            "wheels/requirements.txt",
        ]
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        manifest = archive.read("wheels/requirements.txt").decode().splitlines()
        assert manifest[1:] == ["alpha==1.0", "beta==2.0"]

    venv = {"alpha": "1.0", "beta": "2.0"}  # six comes from Glue 5.1 (1.17.0)
    assert glue_deps.check_glue_deps_zip(first, _versions(venv)) == pins
    with pytest.raises(glue_deps.GlueDepsError, match=r"beta==2\.0 but this venv has 2\.1"):
        glue_deps.check_glue_deps_zip(first, _versions({**venv, "beta": "2.1"}))
    alone = glue_deps.write_glue_deps_zip(tmp_path / "c.gluewheels.zip", {pins[0]: wheels[pins[0]]})
    with pytest.raises(glue_deps.GlueDepsError, match=r"alpha needs beta>=2; .* have None"):
        glue_deps.check_glue_deps_zip(alone, _versions(venv))


def test_missing_wheels_are_downloaded_once_for_glues_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []

    def fake_pip(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        calls.append(command)
        dest = Path(command[command.index("--dest") + 1])
        _fake_wheel(dest, "gamma-3.0-cp311-cp311-manylinux_2_28_x86_64.whl")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr("infra.glue_deps.subprocess.run", fake_pip)
    pin = glue_deps.Pin("gamma", "3.0")
    for _ in range(2):  # the second fetch finds it in the cache
        assert glue_deps.fetch_wheels([pin], tmp_path)[pin].parent == tmp_path
    (command,) = calls
    assert command[1:4] == ["-m", "pip", "download"]
    assert {"--no-deps", "--only-binary=:all:", "gamma==3.0"} <= set(command)
    assert command[command.index("--python-version") + 1] == "311"
    platforms = {command[i + 1] for i, arg in enumerate(command) if arg == "--platform"}
    assert {"manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"} <= platforms
    assert not list(tmp_path.glob(".download-*"))  # the temporary folder is gone

    def failing_pip(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 1, "", "No matching distribution")

    monkeypatch.setattr("infra.glue_deps.subprocess.run", failing_pip)
    with pytest.raises(glue_deps.GlueDepsError, match=r"delta==1\.0 failed"):
        glue_deps.fetch_wheels([glue_deps.Pin("delta", "1.0")], tmp_path)


def test_a_wheel_of_another_build_is_told_apart(tmp_path: Path) -> None:
    dist = importlib.metadata.distribution("mdurl")
    rows = {r[0]: r[1] for r in csv.reader(io.StringIO(dist.read_text("RECORD") or ""))}
    same = tmp_path / "same.whl"
    other = tmp_path / "other.whl"
    for path, digest in ((same, rows["mdurl/__init__.py"]), (other, "sha256=rebuilt")):
        with zipfile.ZipFile(path, "w") as wheel:
            record = f"mdurl/__init__.py,{digest},1\nmdurl-x.dist-info/RECORD,,\n"
            wheel.writestr("mdurl-x.dist-info/RECORD", record)
    assert glue_deps.build_differences(same, "mdurl") == []
    assert glue_deps.build_differences(other, "mdurl") == ["mdurl/__init__.py"]


@pytest.mark.skipif(os.environ.get("LAKEHOUSE_OFFLINE") == "1", reason="downloads from PyPI")
def test_pip_download_fetches_the_installed_build_for_glue(tmp_path: Path) -> None:
    """The one test that uses the network: one 10 KB wheel."""
    pin = glue_deps.Pin("mdurl", importlib.metadata.version("mdurl"))
    wheel = glue_deps.fetch_wheels([pin], tmp_path)[pin]
    assert wheel.name == f"mdurl-{pin.version}-py3-none-any.whl"
    assert glue_deps.build_differences(wheel, "mdurl") == []
