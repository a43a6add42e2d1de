"""``make package``: the artifacts the CDK app deploys, built reproducibly into ``dist/``.

* ``dist/lambda-ingest.zip``: the ``ingest`` and ``catalog`` packages (minus the Spotify
  simulator, ``ingest/simulator/``, which production code never imports) plus their
  pure-Python runtime dependencies (requests, tenacity, urllib3, idna, charset-normalizer,
  certifi; Powertools for AWS Lambda with jmespath and typing-extensions), copied from this
  virtual environment, so the Lambda runs exactly the versions the tests ran. Compiled
  extensions are left out: the venv's are built for x86_64 / CPython 3.11 and the Lambda is
  arm64 / 3.12; charset-normalizer ships pure-Python fallbacks of its two mypyc modules and
  uses them. boto3 is in the Lambda runtime and is not packaged.
* ``dist/glue/job.py``: the Glue job script (a copy of ``glue/job.py``).
* ``dist/glue/python-deps/python-deps.gluewheels.zip``: the Glue job's third-party modules
  as AWS's "zip of wheels" (``wheels/requirements.txt`` + manylinux x86_64 / cp311 wheels),
  exactly the versions installed here minus what Glue 5.1 already has at the same version;
  the stack installs it offline with :func:`infra.glue_deps.glue_python_module_arguments`.
  Alone in its folder so the stack can deploy the folder and keep the ``.gluewheels.zip``
  object name Glue needs (a CDK file asset's S3 key is ``<hash>.zip``). Wheels are
  downloaded once per machine (:func:`infra.glue_deps.wheel_cache`); re-runs are offline.
  ``dist/glue/python-deps.requirements.txt`` lists what ships and what Glue provides.
* ``dist/spotify_lakehouse-<version>-py3-none-any.whl``: this project's wheel, built with
  ``pip wheel --no-deps`` (the zip above carries the third-party modules; the wheel's own
  pins would drag pyspark onto Glue) and
  ``--no-build-isolation --no-index``: the build backend is the venv's own setuptools, so
  nothing is fetched from the index and ``make package`` works offline.
* ``dist/glue/spotify_lakehouse.zip``: the same wheel bytes under a ``.zip`` name, for
  ``--extra-py-files``: Spark puts only ``.zip``/``.egg``/``.jar`` files on the executors'
  ``sys.path`` (``SparkContext.PACKAGE_EXTENSIONS``), and a wheel is a zip archive whose
  root holds the packages.

Reproducible: entries sorted, timestamps fixed (``SOURCE_DATE_EPOCH`` for the wheel), so
an unchanged tree gives byte-identical files and CDK sees unchanged asset hashes (no
redeploy). Re-runnable: every output is rebuilt from scratch each time.

The zip is checked before it is kept: its entry module is imported from the zip in a fresh
interpreter that refuses the heavy packages (pyiceberg, pyspark, pyarrow, ...), and every
third-party module that import loads must come from the zip or the Lambda runtime.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Final

from infra import glue_deps

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
DIST: Final = REPO_ROOT / "dist"
LAMBDA_ZIP: Final = DIST / "lambda-ingest.zip"
GLUE_DIR: Final = DIST / "glue"
GLUE_SCRIPT: Final = GLUE_DIR / "job.py"
GLUE_PY_FILES: Final = GLUE_DIR / "spotify_lakehouse.zip"
GLUE_PYTHON_DEPS: Final = GLUE_DIR / "python-deps" / glue_deps.ZIP_NAME
GLUE_PYTHON_DEPS_MANIFEST: Final = GLUE_DIR / "python-deps.requirements.txt"

#: Project packages the Lambda needs (``ingest`` imports ``catalog.bronze`` and
#: ``catalog.errors``; the rest of ``catalog`` is never imported by the handler).
LAMBDA_PACKAGES: Final = ("ingest", "catalog")
#: Folders of those packages the zip leaves out: the Spotify simulator (demos and tests; the
#: handler never imports it, tests/ingest/test_cold_start.py). Its data is the shipped
#: roster in ``ingest/data/``, which production uses too and which stays.
LAMBDA_EXCLUDED: Final = ("ingest/simulator/",)
#: Runtime dependencies of those packages, by distribution name: requests' own four,
#: tenacity for the retry policy, and Powertools for AWS Lambda (the handler's Logger and
#: Secrets Manager provider) with its two dependencies, all pure Python.
LAMBDA_DISTRIBUTIONS: Final = (
    "requests",
    "tenacity",
    "urllib3",
    "idna",
    "charset-normalizer",
    "certifi",
    "aws-lambda-powertools",
    "jmespath",
    "typing-extensions",
)
#: Top-level modules the Lambda Python runtime provides; the zip may rely on them.
LAMBDA_RUNTIME_MODULES: Final = frozenset(
    {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six"}
)
#: Packages that must never be imported by the handler (too big for Lambda, or native code
#: built for another platform).
FORBIDDEN_IN_LAMBDA: Final = (
    "pyiceberg",
    "pyspark",
    "pyarrow",
    "pandas",
    "numpy",
    "great_expectations",
    "sqlalchemy",
    "duckdb",
    "sqlglot",
    "pyathena",
    "matplotlib",
)
#: The handler's module (the function's ``Handler`` is ``ingest.handler.handler``).
LAMBDA_ENTRY_MODULE: Final = "ingest.handler"

#: Fixed timestamp of every zip entry (the earliest a zip can hold) and of the wheel.
ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)
SOURCE_DATE_EPOCH: Final = "315532800"  # 1980-01-01T00:00:00Z
_SKIP_SUFFIXES: Final = (".pyc", ".pyo", ".so", ".pyd")
_SKIP_DIST_INFO: Final = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})


class PackagingError(RuntimeError):
    """An artifact could not be built or failed its check."""


@dataclass(frozen=True)
class Artifacts:
    lambda_zip: Path
    glue_script: Path
    glue_py_files: Path
    glue_python_deps: Path
    wheel: Path


def _project_files(package: str, exclude: tuple[str, ...] = ()) -> Iterator[tuple[Path, str]]:
    """Files of one of this project's packages, minus bytecode and the ``exclude`` folders
    (paths relative to the repository, ending in ``/``)."""
    root = REPO_ROOT / package
    for path in sorted(root.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts:
            continue
        if path.suffix in _SKIP_SUFFIXES:
            continue
        name = path.relative_to(REPO_ROOT).as_posix()
        if name.startswith(exclude):
            continue
        yield path, name


def _distribution_files(name: str) -> Iterator[tuple[Path, str]]:
    """Installed files of one distribution, relative to site-packages, minus compiled code,
    bytecode, console scripts (outside site-packages) and install bookkeeping."""
    dist = importlib.metadata.distribution(name)
    for entry in sorted(dist.files or [], key=str):
        rel = PurePosixPath(str(entry))
        if rel.parts[0] == ".." or "__pycache__" in rel.parts:
            continue
        if rel.suffix in _SKIP_SUFFIXES:
            continue
        if rel.parts[0].endswith(".dist-info") and rel.name in _SKIP_DIST_INFO:
            continue
        path = Path(str(dist.locate_file(entry)))
        if path.is_file():
            yield path, rel.as_posix()


def _write_zip(target: Path, files: Iterable[tuple[Path, str]]) -> None:
    entries = sorted(files, key=lambda item: item[1])
    names = [name for _, name in entries]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise PackagingError(f"two sources for {sorted(duplicates)} in {target.name}")
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path, name in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    tmp.replace(target)


_IMPORT_CHECK = r"""
import importlib, importlib.abc, json, sys
zip_path = sys.argv[1]
entry, forbidden, runtime = (arg.split(",") for arg in sys.argv[2:5])

class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in forbidden:
            raise ImportError(f"{name} must not be imported by the Lambda handler")
        return None

before = set(sys.modules)  # whatever site.py loaded (e.g. the editable-install finder)
sys.meta_path.insert(0, Refuse())
sys.path.insert(0, zip_path)
for module in entry:
    importlib.import_module(module)
outside = sorted({
    name.split(".")[0] for name, mod in list(sys.modules.items())
    if name not in before and getattr(mod, "__file__", None)
    and name.split(".")[0] not in sys.stdlib_module_names
    and not mod.__file__.startswith(zip_path)
    and name.split(".")[0] not in runtime
})
print(json.dumps(outside))
"""


def check_lambda_zip(zip_path: Path) -> list[str]:
    """Import the handler from the zip in a fresh interpreter; return the entry modules
    checked. Raises :class:`PackagingError` when it pulls in a forbidden package or a
    third-party module that is neither in the zip nor in the Lambda runtime."""
    modules = [LAMBDA_ENTRY_MODULE]
    result = subprocess.run(
        [
            sys.executable,
            "-I",
            "-c",
            _IMPORT_CHECK,
            str(zip_path),
            ",".join(modules),
            ",".join(FORBIDDEN_IN_LAMBDA),
            ",".join(sorted(LAMBDA_RUNTIME_MODULES)),
        ],
        capture_output=True,
        text=True,
        cwd=tempfile.gettempdir(),  # not the repo root: the sources must come from the zip
        check=False,
    )
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise PackagingError(f"{zip_path.name}: importing {modules} failed: {last}")
    outside: list[str] = json.loads(result.stdout.strip().splitlines()[-1])
    if outside:
        raise PackagingError(
            f"{zip_path.name}: {modules} import modules the zip does not hold: {outside}"
        )
    return modules


def build_lambda_zip(target: Path = LAMBDA_ZIP) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    files: list[tuple[Path, str]] = []
    for package in LAMBDA_PACKAGES:
        files.extend(_project_files(package, LAMBDA_EXCLUDED))
    for name in LAMBDA_DISTRIBUTIONS:
        files.extend(_distribution_files(name))
    _write_zip(target, files)
    check_lambda_zip(target)
    return target


def _setuptools_packages() -> list[str]:
    """Top-level packages the wheel holds: ``[tool.setuptools] packages`` as a list, or the
    top-level directories (with an ``__init__.py``) that ``packages.find.include`` matches."""
    with (REPO_ROOT / "pyproject.toml").open("rb") as f:
        config = tomllib.load(f)
    packages: list[str] | dict[str, dict[str, list[str]]] = config["tool"]["setuptools"]["packages"]
    if isinstance(packages, list):
        return sorted({name.split(".")[0] for name in packages})
    include = packages["find"].get("include", ["*"])
    return sorted(
        path.name
        for path in REPO_ROOT.iterdir()
        if (path / "__init__.py").is_file()
        and any(fnmatch.fnmatchcase(path.name, pattern) for pattern in include)
    )


#: setuptools builds wheels by itself from 70.1 on; older releases need the ``wheel`` package.
SETUPTOOLS_OWN_BDIST_WHEEL: Final = (70, 1)


def check_build_backend() -> None:
    """Without build isolation the venv's setuptools is the backend: fail early, with the
    remedy, when it cannot build a wheel (pip's own error is "invalid command 'bdist_wheel'")."""
    try:
        version = importlib.metadata.version("setuptools")
    except importlib.metadata.PackageNotFoundError:
        version = None
    if version is not None:
        release = tuple(int(p) for p in version.split(".")[:2] if p.isdigit())
        if release >= SETUPTOOLS_OWN_BDIST_WHEEL:
            return
        try:
            importlib.metadata.version("wheel")
            return
        except importlib.metadata.PackageNotFoundError:
            pass
    with (REPO_ROOT / "pyproject.toml").open("rb") as f:
        wanted = " ".join(tomllib.load(f)["build-system"]["requires"])
    raise PackagingError(
        f"this venv's setuptools ({version or 'not installed'}) cannot build a wheel "
        f"without build isolation; install the project's build backend once: "
        f"{sys.executable} -m pip install '{wanted}'"
    )


def build_wheel(out_dir: Path = DIST) -> Path:
    """``pip wheel --no-deps`` of a clean copy of the sources (no stale ``build/`` left over
    from an earlier build can leak deleted modules into the wheel)."""
    check_build_backend()
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="spotify-lakehouse-wheel-") as tmp:
        src = Path(tmp) / "src"
        src.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(REPO_ROOT / name, src / name)
        for package in _setuptools_packages():
            shutil.copytree(
                REPO_ROOT / package,
                src / package,
                ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "cdk"),
            )
        wheels = Path(tmp) / "wheels"
        env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH}
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "wheel",
                "--quiet",
                "--no-deps",
                # The venv's setuptools builds it: no isolated build env fetched from the index.
                "--no-build-isolation",
                "--no-index",
                "--wheel-dir",
                str(wheels),
                str(src),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PackagingError(f"pip wheel failed:\n{result.stderr.strip()}")
        built = sorted(wheels.glob("*.whl"))
        if len(built) != 1:
            raise PackagingError(f"expected one wheel, got {[w.name for w in built]}")
        for old in out_dir.glob("spotify_lakehouse-*.whl"):
            old.unlink()
        target = out_dir / built[0].name
        shutil.copy2(built[0], target)
    return target


def build_glue_assets(wheel: Path) -> tuple[Path, Path]:
    GLUE_DIR.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(REPO_ROOT / "glue" / "job.py", GLUE_SCRIPT)
    shutil.copyfile(wheel, GLUE_PY_FILES)
    return GLUE_SCRIPT, GLUE_PY_FILES


def build_all() -> Artifacts:
    lambda_zip = build_lambda_zip()
    wheel = build_wheel()
    script, py_files = build_glue_assets(wheel)
    deps = glue_deps.build_glue_deps_zip(GLUE_PYTHON_DEPS, GLUE_PYTHON_DEPS_MANIFEST)
    return Artifacts(lambda_zip, script, py_files, glue_python_deps=deps, wheel=wheel)


def _describe(path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
    return f"{path.relative_to(REPO_ROOT)}  {path.stat().st_size / 1024:,.0f} KiB  sha256 {digest}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="infra.package", description=__doc__.split("\n")[0])
    parser.parse_args(argv)
    try:
        artifacts = build_all()
    except (PackagingError, glue_deps.GlueDepsError) as e:
        print(f"make package: {e}", file=sys.stderr)
        return 1
    a = artifacts
    for path in (a.lambda_zip, a.glue_script, a.glue_py_files, a.glue_python_deps):
        print(_describe(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
