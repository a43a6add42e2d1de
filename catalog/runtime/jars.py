"""The jars local Spark needs for Iceberg, found or built without Maven Central.

* The Iceberg Spark runtime comes from the PyPI package ``snowpark-connect-deps-iceberg``.
  That build lacks Iceberg's relocated Jackson classes
  (``org/apache/iceberg/shaded/com/fasterxml/jackson/**``), so the first CREATE TABLE fails
  with ``NoClassDefFoundError``. We rebuild them from the Jackson jars pyspark ships (the
  same 2.15 line Iceberg shades) by rewriting every class-file constant-pool UTF8 entry and
  service file that names ``com/fasterxml/jackson`` to the relocated package: what Maven's
  shade plugin does, in well under a second, once per machine. The rewriting
  (:class:`Relocation`, :func:`write_relocated_jar`) also serves :mod:`catalog.runtime.awsjars`,
  which moves an AWS SDK back out of another project's shaded package.
* The SQLite JDBC driver is Debian's ``libxerial-sqlite-jdbc-java``.

Where Maven Central is reachable, set ``LAKEHOUSE_SPARK_PACKAGES`` (for example
``org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.2,org.xerial:sqlite-jdbc:3.46.1.3``)
and :mod:`catalog.runtime.spark` uses ``spark.jars.packages`` with the official runtime instead.

Run ``python -m catalog.runtime.jars`` to build and print the jar list (``make`` does).
"""

from __future__ import annotations

import os
import struct
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import IO, Final

#: Iceberg runtime jar inside the ``snowpark-connect-deps-iceberg`` wheel (Spark 3.5, Scala 2.12).
ICEBERG_RUNTIME_JAR: Final = "iceberg-spark-runtime-3.5_2.12-1.10.2.jar"
#: Jackson artifacts Iceberg relocates; pyspark ships them at this version.
JACKSON_ARTIFACTS: Final = (
    "jackson-core",
    "jackson-databind",
    "jackson-annotations",
    "jackson-datatype-jsr310",
)
JACKSON_VERSION: Final = "2.15.2"
#: Debian's path of the xerial SQLite JDBC driver; override with ``LAKEHOUSE_SQLITE_JDBC``.
SQLITE_JDBC_DEFAULT: Final = "/usr/share/java/sqlite-jdbc.jar"
SQLITE_JDBC_ENV: Final = "LAKEHOUSE_SQLITE_JDBC"
#: Where built jars are cached; override with ``LAKEHOUSE_JAR_CACHE``.
JAR_CACHE_ENV: Final = "LAKEHOUSE_JAR_CACHE"

_RELOCATED_JAR: Final = f"iceberg-shaded-jackson-{JACKSON_VERSION}.jar"
_EPOCH: Final = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip entry can hold


class JarSetupError(RuntimeError):
    """A jar Spark needs is missing and cannot be built; the message says how to get it."""


@dataclass(frozen=True)
class Relocation:
    """One package move, what Maven's shade plugin calls a relocation.

    Class files name classes with slashes (``com/fasterxml/jackson/...``) while service files
    and ``Class.forName`` strings use dots, so both spellings are rewritten. ``source`` and
    ``target`` are the slashed prefixes; a trailing slash keeps a prefix from matching a
    longer package name.
    """

    source: str
    target: str

    @cached_property
    def patterns(self) -> tuple[tuple[bytes, bytes], tuple[bytes, bytes]]:
        """(from, to) in the slashed and the dotted spelling, encoded once."""
        slashed = (self.source.encode(), self.target.encode())
        return slashed, (slashed[0].replace(b"/", b"."), slashed[1].replace(b"/", b"."))

    def apply(self, data: bytes) -> bytes:
        """``data`` with every occurrence of the source prefix, in both spellings, moved."""
        (source, target), (dotted_source, dotted_target) = self.patterns
        return data.replace(source, target).replace(dotted_source, dotted_target)

    def matches(self, data: bytes) -> bool:
        """Whether :meth:`apply` would change anything (a cheap test before a full rewrite)."""
        return any(source in data for source, _ in self.patterns)


#: Iceberg's own relocation of Jackson, which its PyPI runtime jar lacks the classes of.
JACKSON_RELOCATION: Final = Relocation(
    "com/fasterxml/jackson", "org/apache/iceberg/shaded/com/fasterxml/jackson"
)


#: Bytes after a constant-pool tag, for every tag but UTF8 (1), whose length is stored.
_POOL_SIZES: Final = {
    **{3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4},
    **{15: 3, 16: 2, 17: 4, 18: 4, 19: 2, 20: 2},
}


def relocate_class(data: bytes, relocation: Relocation = JACKSON_RELOCATION) -> bytes:
    """Rewrite the UTF8 entries of one class file's constant pool; the rest is copied as is.

    Only the constant pool names classes (descriptors, class refs, string constants), so
    relocating its UTF8 entries is a complete relocation. Entry lengths change, which is why
    an entry that names the package is re-emitted with its new length rather than patched
    in place; the spans between such entries are copied untouched (the AWS SDK's classes
    hold over a million pool entries, most of which stay as they are).
    """
    if data[:4] != b"\xca\xfe\xba\xbe":
        raise ValueError("not a class file")
    if not relocation.matches(data):
        return data  # nothing in the pool names the package: the rewrite would copy it
    (source, _), (dotted, _) = relocation.patterns
    count = struct.unpack_from(">H", data, 8)[0]
    pieces: list[bytes] = []
    copied, pos, index = 0, 10, 1
    while index < count:
        tag = data[pos]
        if tag == 1:
            start, end = pos + 3, pos + 3 + struct.unpack_from(">H", data, pos + 1)[0]
            if data.find(source, start, end) >= 0 or data.find(dotted, start, end) >= 0:
                text = relocation.apply(data[start:end])
                pieces += [data[copied:pos], struct.pack(">BH", 1, len(text)), text]
                copied = end
            pos = end
        elif tag in _POOL_SIZES:
            pos += 1 + _POOL_SIZES[tag]
        else:
            raise ValueError(f"unknown constant-pool tag {tag} at entry {index}")
        index += 2 if tag in (5, 6) else 1  # longs and doubles take two slots
    pieces.append(data[copied:])
    return b"".join(pieces)


def write_relocated_jar(
    sources: Sequence[Path | IO[bytes]],
    target: Path,
    relocation: Relocation,
    keep: Callable[[str], bool] = lambda name: True,
) -> Path:
    """Write ``target`` from the entries of ``sources`` that ``keep`` accepts, relocated.

    Class files get their constant pools rewritten (:func:`relocate_class`), service files
    their contents, and every entry its name. Manifests, signatures, licences, multi-release
    copies and ``module-info`` are dropped: a relocated jar is no longer the module or the
    signed artifact they describe. The first of two entries with one name wins. Entries get
    one fixed date, so equal inputs give a byte-identical jar. The jar is written beside
    ``target`` and renamed into place: a concurrent builder or a reader never sees half a jar.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp-{os.getpid()}")
    seen: set[str] = set()
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
            for source in sources:
                with zipfile.ZipFile(source) as jar:
                    for info in jar.infolist():
                        name = info.filename
                        if info.is_dir() or name.endswith("module-info.class") or not keep(name):
                            continue
                        services = name.startswith("META-INF/services/")
                        if name.startswith("META-INF/") and not services:
                            continue  # manifests, signatures, licences, multi-release copies
                        data = jar.read(info)
                        if name.endswith(".class"):
                            data = relocate_class(data, relocation)
                        elif services:
                            data = relocation.apply(data)
                        new_name = relocation.apply(name.encode()).decode()
                        if new_name in seen:
                            continue
                        seen.add(new_name)
                        out.writestr(zipfile.ZipInfo(new_name, _EPOCH), data, zipfile.ZIP_DEFLATED)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)
    return target


def build_relocated_jackson(pyspark_jars: Path, target: Path) -> Path:
    """Write the relocated Jackson jar Iceberg's runtime expects, from pyspark's own jars."""
    sources = [pyspark_jars / f"{name}-{JACKSON_VERSION}.jar" for name in JACKSON_ARTIFACTS]
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        raise JarSetupError(
            f"pyspark's Jackson jars are missing ({', '.join(missing)}); "
            "reinstall the pinned pyspark (make deps)"
        )
    return write_relocated_jar(list(sources), target, JACKSON_RELOCATION)


def cache_dir() -> Path:
    """Where jars built (and sources downloaded) for this machine are kept."""
    configured = os.environ.get(JAR_CACHE_ENV)
    if configured:
        return Path(configured)
    # Inside the venv, so `make clean` (rm -rf .venv) also clears it.
    return Path(sys.prefix) / "share" / "spotify-lakehouse" / "jars"


def _pyspark_jars() -> Path:
    return Path(str(resources.files("pyspark"))) / "jars"


def _iceberg_runtime() -> Path:
    jar = Path(str(resources.files("snowpark_connect_deps_iceberg"))) / "jars" / ICEBERG_RUNTIME_JAR
    if not jar.exists():
        raise JarSetupError(
            f"{ICEBERG_RUNTIME_JAR} not found in snowpark-connect-deps-iceberg; "
            "reinstall the pinned version (make deps)"
        )
    return jar


def sqlite_jdbc_jar() -> Path:
    jar = Path(os.environ.get(SQLITE_JDBC_ENV, SQLITE_JDBC_DEFAULT))
    if not jar.exists():
        raise JarSetupError(
            f"SQLite JDBC driver not found at {jar}: install Debian's libxerial-sqlite-jdbc-java "
            f"(make deps does), or point {SQLITE_JDBC_ENV} at a sqlite-jdbc jar"
        )
    return jar


def iceberg_spark_jars() -> list[Path]:
    """Iceberg's Spark runtime and its relocated Jackson jar (built on first use).

    What every local session needs whatever its catalog; :func:`local_spark_jars` adds the
    SQLite driver, :mod:`catalog.runtime.awsjars` the AWS SDK.
    """
    relocated = cache_dir() / _RELOCATED_JAR
    if not relocated.exists():
        build_relocated_jackson(_pyspark_jars(), relocated)
    return [_iceberg_runtime(), relocated]


def local_spark_jars() -> list[Path]:
    """Every jar local Spark needs, building the relocated Jackson jar on first use."""
    return [*iceberg_spark_jars(), sqlite_jdbc_jar()]


def main() -> None:
    for jar in local_spark_jars():
        print(jar)


if __name__ == "__main__":
    main()
