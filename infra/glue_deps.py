"""The Glue job's third-party Python modules as one zip of wheels, installed offline.

Glue **5.1** (:data:`GLUE_VERSION`): Spark 3.5.6, Python 3.11, Java 17, Iceberg 1.10.0, Amazon
Linux 2023 (glibc 2.34, x86_64), like the local pyspark 3.5 / Python 3.11 / Java 17 (Glue 6.0
is Spark 4.1 on Python 3.13). The zip has AWS's "zip of wheels" layout,
``wheels/requirements.txt`` + ``wheels/*.whl``; Glue 5.0+ knows it by the ``.gluewheels.zip``
suffix of the S3 key and, with ``--python-modules-installer-option --no-index``
(:func:`glue_python_module_arguments`), installs from it as from a local index, never PyPI.

Its content is computed (:func:`plan`): the third-party modules imported, lazily too, by the
first-party modules reachable from ``glue.job``, plus :data:`OPTIONAL_ROOTS`, with pyproject's
extras; their requirement closure from this venv's metadata, markers evaluated for Glue's
interpreter; minus Glue's runtime (pyspark, py4j, awsglue) and minus what Glue 5.1 already has
at the very same version (:data:`GLUE_51_PROVIDED`, AWS's list). All else ships at the version
installed here, Glue's pandas 2.3.3, numpy 2.3.4, pyarrow 22.0.0, boto3 1.40.61 included:
what runs on AWS is what the tests ran. The price: Glue's s3fs and aiobotocore no longer see
the botocore/fsspec they pin (pip warns); nothing the job imports uses them.

Wheels come from ``pip download --only-binary=:all: --no-deps`` for Glue's tags into
:func:`wheel_cache`, once per machine; each must hold the same file hashes as the
distribution installed here (same build); the zip is checked by :func:`check_glue_deps_zip`.
"""

from __future__ import annotations

import ast
import csv
import importlib.metadata
import io
import os
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.parser import Parser
from pathlib import Path
from typing import Final

from packaging import tags
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

REPO_ROOT: Final = Path(__file__).resolve().parents[1]
GLUE_VERSION: Final = "5.1"
GLUE_PYTHON: Final = (3, 11)
GLUE_GLIBC: Final = (2, 34)
ZIP_SUFFIX: Final = ".gluewheels.zip"
ZIP_NAME: Final = f"python-deps{ZIP_SUFFIX}"
ZIP_REQUIREMENTS: Final = "wheels/requirements.txt"
ENTRY_MODULE: Final = "glue.job"
#: pip option Glue passes on: resolve only from the zip (and what Glue has installed).
INSTALLER_OPTION: Final = "--no-index"
CACHE_ENV: Final = "LAKEHOUSE_WHEEL_CACHE"
_ZIP_EPOCH: Final = (1980, 1, 1, 0, 0, 0)

#: "Python modules already provided in AWS Glue", version 5.1, canonical names
#: (https://docs.aws.amazon.com/glue/latest/dg/aws-glue-programming-python-libraries.html).
_GLUE_51_LIST: Final = """aiobotocore==2.25.1 aiohappyeyeballs==2.6.1 aiohttp==3.13.2
        aioitertools==0.12.0 aiosignal==1.4.0 appdirs==1.4.4 attrs==25.4.0 boto3==1.40.61
        botocore==1.40.61 certifi==2025.10.5 charset-normalizer==3.4.4 choreographer==1.2.0
        contourpy==1.3.3 cycler==0.12.1 distlib==0.4.0 filelock==3.20.0 fonttools==4.60.1
        frozenlist==1.8.0 fsspec==2025.10.0 idna==3.11 iniconfig==2.3.0 jmespath==1.0.1
        kaleido==1.2.0 kiwisolver==1.4.9 logistro==2.0.1 matplotlib==3.10.7 multidict==6.7.0
        narwhals==2.10.2 numpy==2.3.4 orjson==3.11.4 packaging==25.0 pandas==2.3.3
        pillow==12.0.0 pip==24.0 platformdirs==4.5.0 plotly==6.4.0 pluggy==1.6.0
        propcache==0.4.1 pyarrow==22.0.0 Pygments==2.19.2 pyparsing==3.2.5
        pytest-timeout==2.4.0 pytest==8.4.2 python-dateutil==2.9.0.post0 pytz==2025.2
        requests==2.32.5 s3fs==2025.10.0 s3transfer==0.14.0 seaborn==0.13.2
        setuptools==79.0.1 simplejson==3.20.2 six==1.17.0 tenacity==9.1.2
        typing_extensions==4.15.0 tzdata==2025.2 urllib3==2.5.0 uv==0.9.7
        virtualenv==20.35.4 wrapt==1.17.3 yarl==1.22.0"""
GLUE_51_PROVIDED: Final[Mapping[str, str]] = {
    canonicalize_name(n): v for n, v in (p.split("==") for p in _GLUE_51_LIST.split())
}
#: Glue's own runtime: never shipped (pyspark must match Glue's Spark and JVM).
GLUE_RUNTIME_MODULES: Final = frozenset({"awsglue", "pyspark", "py4j"})
GLUE_RUNTIME_DISTRIBUTIONS: Final = frozenset({"pyspark", "py4j", "awsgluedataplanepython"})
#: Imported by a dependency only when installed, so no metadata names it: pyiceberg uses
#: pyiceberg-core (Rust transforms) when present, and the tests ran with it.
OPTIONAL_ROOTS: Final = ("pyiceberg-core",)


class GlueDepsError(RuntimeError):
    """The zip of wheels could not be built or failed its check."""


@dataclass(frozen=True, order=True)
class Pin:
    name: str  # canonical
    version: str
    extras: tuple[str, ...] = ()

    @property
    def requirement(self) -> str:
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        return f"{self.name}{extras}=={self.version}"


@dataclass(frozen=True)
class Plan:
    ship: tuple[Pin, ...]
    provided: tuple[Pin, ...]  # in the closure, and in Glue 5.1 at the same version


def glue_python_module_arguments(zip_s3_url: str) -> dict[str, str]:
    """The job arguments that install the zip offline. ``zip_s3_url`` must name an object
    whose key ends in ``.gluewheels.zip`` (a CDK file asset's ``<hash>.zip`` key does not)."""
    if not zip_s3_url.startswith("s3://") or not zip_s3_url.endswith(ZIP_SUFFIX):
        raise ValueError(
            f"Glue installs a zip of wheels only from an s3:// object whose key ends in "
            f"{ZIP_SUFFIX}; got {zip_s3_url!r}"
        )
    return {
        "--additional-python-modules": zip_s3_url,
        "--python-modules-installer-option": INSTALLER_OPTION,
    }


def wheel_cache() -> Path:
    """Per-machine wheel cache: ``$LAKEHOUSE_WHEEL_CACHE``, else the XDG cache directory."""
    xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get(CACHE_ENV) or xdg / "spotify-lakehouse" / "glue-wheels")


def job_imports(entry: str = ENTRY_MODULE, root: Path = REPO_ROOT) -> set[str]:
    """Top-level third-party modules imported anywhere (function bodies included) in the
    first-party modules reachable from ``entry``."""
    first_party = {p.name for p in root.iterdir() if (p / "__init__.py").is_file()}
    seen: set[str] = set()
    todo = [entry]
    found: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1))
        path = root.joinpath(*module.split("."))
        files = [f for f in (path / "__init__.py", path.with_suffix(".py")) if f.is_file()]
        if not files:  # ``from pkg import name`` where name is not a module
            continue
        source = files[0]
        for node in ast.walk(ast.parse(source.read_text(), str(source))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            for name in names:
                top = name.split(".")[0]
                if top in first_party:
                    todo.append(name)
                elif top not in sys.stdlib_module_names:
                    found.add(top)
    return found


def glue_marker_environment() -> dict[str, str]:
    """PEP 508 marker values of Glue's interpreter."""
    env = {k: str(v) for k, v in default_environment().items()}
    version = "{}.{}".format(*GLUE_PYTHON)
    if env["python_version"] != version:
        env["python_full_version"] = f"{version}.0"
    env.update(os_name="posix", sys_platform="linux", platform_system="Linux")
    env.update(platform_machine="x86_64", python_version=version)
    env.update(implementation_name="cpython", platform_python_implementation="CPython")
    return env


def _applies(req: Requirement, extras: Iterable[str], env: Mapping[str, str]) -> bool:
    return req.marker is None or any(
        req.marker.evaluate({**env, "extra": e}) for e in ("", *sorted(extras))
    )


def closure(roots: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Installed distributions ``roots`` need on Glue (name -> extras asked for), from the
    venv's metadata; Glue's runtime distributions and what they need are left out."""
    env = glue_marker_environment()
    found: dict[str, frozenset[str]] = {}
    todo = list(roots.items())
    while todo:
        name, extras = todo.pop()
        if name in GLUE_RUNTIME_DISTRIBUTIONS:
            continue
        known = found.get(name)
        if known is not None and extras <= known:
            continue
        found[name] = extras = (known or frozenset()) | extras
        try:
            requires = importlib.metadata.distribution(name).requires or []
        except importlib.metadata.PackageNotFoundError as e:
            raise GlueDepsError(f"the Glue job needs {name}, which this venv lacks") from e
        for spec in requires:
            req = Requirement(spec)
            if _applies(req, extras, env):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return found


def plan(entry: str = ENTRY_MODULE, root: Path = REPO_ROOT) -> Plan:
    """What the zip must hold; fails when the venv disagrees with pyproject's pins."""
    owners = importlib.metadata.packages_distributions()
    modules = sorted(job_imports(entry, root) - GLUE_RUNTIME_MODULES)
    unknown = [m for m in modules if m not in owners]
    if unknown:
        raise GlueDepsError(f"the Glue job imports {unknown}, which no installed package has")
    with (root / "pyproject.toml").open("rb") as f:
        dependencies: list[str] = tomllib.load(f)["project"]["dependencies"]
    pins: dict[str, Requirement] = {
        canonicalize_name(r.name): r for r in map(Requirement, dependencies)
    }
    roots = {canonicalize_name(d) for m in modules for d in owners[m]} | set(OPTIONAL_ROOTS)
    found = closure({n: frozenset(pins[n].extras if n in pins else ()) for n in roots})
    ship: list[Pin] = []
    provided: list[Pin] = []
    stale: list[str] = []
    for name, extras in sorted(found.items()):
        pin = Pin(name, importlib.metadata.version(name), tuple(sorted(extras)))
        wanted = pins[name].specifier if name in pins else None
        if wanted is not None and not wanted.contains(pin.version, prereleases=True):
            stale.append(f"{name} {pin.version} (pyproject: {wanted})")
        same = GLUE_51_PROVIDED.get(name)
        bucket = provided if same and Version(same) == Version(pin.version) else ship
        bucket.append(pin)
    if stale:
        raise GlueDepsError(f"this venv is not pyproject's (run make deps): {', '.join(stale)}")
    return Plan(tuple(ship), tuple(provided))


def glue_platforms() -> list[str]:
    """``pip --platform`` values Glue 5.1 runs, most specific first (pip does not expand
    ``manylinux_2_X`` to older glibc versions by itself)."""
    major, newest = GLUE_GLIBC
    modern = [f"manylinux_{major}_{minor}_x86_64" for minor in range(newest, 16, -1)]
    return [*modern, "manylinux2014_x86_64", "manylinux2010_x86_64", "manylinux1_x86_64"]


def glue_tags() -> dict[tags.Tag, int]:
    """Wheel tags Glue's interpreter accepts, ranked as pip ranks them (0 is best)."""
    interpreter = "cp{}{}".format(*GLUE_PYTHON)
    platforms = glue_platforms()
    ordered = [
        *tags.cpython_tags(GLUE_PYTHON, [interpreter], platforms),
        *tags.compatible_tags(GLUE_PYTHON, interpreter, platforms),
    ]
    ranks: dict[tags.Tag, int] = {}
    for rank, tag in enumerate(ordered):
        ranks.setdefault(tag, rank)
    return ranks


def _index(cache: Path) -> dict[tuple[str, Version], Path]:
    """The best Glue-compatible wheel of each (name, version) in the cache."""
    ranks = glue_tags()
    best: dict[tuple[str, Version], tuple[int, str, Path]] = {}
    for path in cache.glob("*.whl"):
        try:
            name, version, _, wheel_tags = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        rank = min((ranks[t] for t in wheel_tags if t in ranks), default=None)
        key = (str(name), version)
        if rank is not None and (key not in best or (rank, path.name) < best[key][:2]):
            best[key] = (rank, path.name, path)
    return {key: path for key, (_, _, path) in best.items()}


def pip_download_command(pins: Iterable[Pin], dest: Path) -> list[str]:
    platforms = [arg for p in glue_platforms() for arg in ("--platform", p)]
    interpreter = "{}{}".format(*GLUE_PYTHON)
    return [
        *(sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"),
        *("--only-binary=:all:", "--implementation", "cp", "--python-version", interpreter),
        *("--abi", f"cp{interpreter}", *platforms, "--dest", str(dest)),
        *(f"{p.name}=={p.version}" for p in pins),
    ]


def fetch_wheels(pins: Iterable[Pin], cache: Path) -> dict[Pin, Path]:
    """A Glue-compatible wheel per pin, from the cache; what it lacks is downloaded first
    (one ``pip download`` into a temporary directory, then moved in whole)."""
    pins = sorted(pins)
    cache.mkdir(parents=True, exist_ok=True)
    missing = [p for p in pins if (p.name, Version(p.version)) not in _index(cache)]
    if missing:
        with tempfile.TemporaryDirectory(prefix=".download-", dir=cache) as tmp:
            command = pip_download_command(missing, Path(tmp))
            result = subprocess.run(command, capture_output=True, text=True, check=False)
            if result.returncode != 0:
                names = " ".join(p.requirement for p in missing)
                raise GlueDepsError(f"pip download {names} failed:\n{result.stderr.strip()}")
            for path in Path(tmp).glob("*.whl"):
                path.replace(cache / path.name)
    index = _index(cache)
    absent = [p.requirement for p in pins if (p.name, Version(p.version)) not in index]
    if absent:
        raise GlueDepsError(f"no wheel for Glue {GLUE_VERSION} (cp311 manylinux x86_64): {absent}")
    return {p: index[(p.name, Version(p.version))] for p in pins}


def _record(rows: Iterable[list[str]]) -> dict[str, str]:
    return {r[0]: r[1] for r in rows if len(r) >= 2 and r[1] and ".data/" not in r[0]}


def build_differences(wheel: Path, name: str) -> list[str]:
    """Files whose hash in the wheel differs from the installed distribution's (a different
    build of the same version), or that the installation lacks."""
    dist = importlib.metadata.distribution(name)
    installed = _record(csv.reader(io.StringIO(dist.read_text("RECORD") or "")))
    with zipfile.ZipFile(wheel) as archive:
        record = next(n for n in archive.namelist() if n.endswith(".dist-info/RECORD"))
        shipped = _record(csv.reader(io.TextIOWrapper(archive.open(record), "utf-8")))
    return sorted(path for path, digest in shipped.items() if installed.get(path) != digest)


def write_glue_deps_zip(target: Path, wheels: Mapping[Pin, Path]) -> Path:
    """``wheels/requirements.txt`` and ``wheels/*.whl``: sorted, fixed timestamps, stored
    (wheels are compressed already), so the same wheels give the same bytes."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"# {ZIP_NAME} for AWS Glue {GLUE_VERSION}: make package (infra/glue_deps.py)"]
    lines += sorted(p.requirement for p in wheels)
    manifest = ("\n".join(lines) + "\n").encode()
    entries: list[tuple[str, bytes | Path]] = [(ZIP_REQUIREMENTS, manifest)]
    entries += [(f"wheels/{path.name}", path) for path in wheels.values()]
    tmp = target.with_name(target.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, content in sorted(entries, key=lambda e: e[0]):
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr = 0o644 << 16
            data = content if isinstance(content, bytes) else content.read_bytes()
            archive.writestr(info, data)
    tmp.replace(target)
    return target


def _exact(req: Requirement) -> str:
    specs = list(req.specifier)
    if len(specs) != 1 or specs[0].operator != "==":
        raise GlueDepsError(f"{ZIP_REQUIREMENTS}: {req} is not one exact pin")
    return specs[0].version


def check_glue_deps_zip(
    path: Path,
    installed: Callable[[str], str] = importlib.metadata.version,
    provided: Mapping[str, str] = GLUE_51_PROVIDED,
) -> list[Pin]:
    """Layout, manifest == wheels == this venv's versions, Glue-compatible tags, no Glue
    runtime package, and every requirement of every wheel met by the zip or by Glue."""
    problems: list[str] = []
    metadata: dict[str, str] = {}
    ranks = glue_tags()
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        problems += [f"unexpected entry {n}" for n in names if not n.startswith("wheels/")]
        text = archive.read(ZIP_REQUIREMENTS).decode() if ZIP_REQUIREMENTS in names else ""
        reqs = [Requirement(line) for line in text.splitlines() if line and line[0] != "#"]
        pins = sorted(
            Pin(canonicalize_name(r.name), _exact(r), tuple(sorted(r.extras))) for r in reqs
        )
        pinned = {p.name: p.version for p in pins}
        for member in (n for n in names if n.endswith(".whl")):
            name, version, _, wheel_tags = parse_wheel_filename(member.split("/")[-1])
            if Version(pinned.get(name) or "0") != version:
                problems.append(f"{member} is not in {ZIP_REQUIREMENTS}")
            if not any(t in ranks for t in wheel_tags):
                problems.append(f"{member} does not run on Glue {GLUE_VERSION}")
            with archive.open(member) as raw, zipfile.ZipFile(raw) as wheel:
                meta = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
                metadata[name] = wheel.read(meta).decode()
    available = {**provided, **pinned}
    env = glue_marker_environment()
    for pin in pins:
        try:
            here = installed(pin.name)
        except importlib.metadata.PackageNotFoundError:
            here = "(not installed)"
        if here != pin.version:
            problems.append(f"{pin.requirement} but this venv has {here}")
        if pin.name in GLUE_RUNTIME_DISTRIBUTIONS:
            problems.append(f"{pin.name} is Glue's own and must not be shipped")
        if pin.name not in metadata:
            problems.append(f"{pin.name} pinned but no wheel")
        for spec in Parser().parsestr(metadata.get(pin.name, "")).get_all("Requires-Dist") or []:
            dep = Requirement(spec)
            have = available.get(canonicalize_name(dep.name))
            if _applies(dep, pin.extras, env) and (
                have is None or not dep.specifier.contains(have, prereleases=True)
            ):
                problems.append(f"{pin.name} needs {dep}; zip + Glue {GLUE_VERSION} have {have}")
    if problems:
        raise GlueDepsError(f"{path.name}: " + "; ".join(problems))
    return pins


def build_glue_deps_zip(target: Path, manifest: Path, cache: Path | None = None) -> Path:
    """Plan, fetch (offline once cached), verify each wheel is the build installed here,
    write and check the zip, and write the manifest beside it (what ships, and what Glue
    already provides at the tested version)."""
    the_plan = plan()
    wheels = fetch_wheels(the_plan.ship, cache or wheel_cache())
    for pin, wheel in wheels.items():
        differ = build_differences(wheel, pin.name)
        if differ:
            raise GlueDepsError(
                f"{wheel.name} is not the build of {pin.requirement} installed here "
                f"({len(differ)} files differ, e.g. {differ[0]})"
            )
    write_glue_deps_zip(target, wheels)
    check_glue_deps_zip(target)
    lines = [f"# shipped in {target.name} (AWS Glue {GLUE_VERSION}, installed with --no-index)"]
    lines += [p.requirement for p in the_plan.ship]
    lines += [f"# provided by Glue {GLUE_VERSION} at the version tested here, not shipped:"]
    lines += [f"# {p.requirement}" for p in the_plan.provided]
    lines += ["# Glue's own runtime, never shipped: pyspark (Spark 3.5.6), py4j, awsglue"]
    manifest.write_text("\n".join(lines) + "\n")
    return target
