"""The jars local Spark needs for Iceberg, found or built without Maven Central.

* The Iceberg Spark runtime comes from the PyPI package ``snowpark-connect-deps-iceberg``.
  That build lacks Iceberg's relocated Jackson classes
  (``org/apache/iceberg/shaded/com/fasterxml/jackson/**``), so the first CREATE TABLE fails
  with ``NoClassDefFoundError``. We rebuild them from the Jackson jars pyspark ships (the
  same 2.15 line Iceberg shades) by rewriting every class-file constant-pool UTF8 entry and
  service file that names ``com/fasterxml/jackson`` to the relocated package: what Maven's
  shade plugin does, in well under a second, once per machine.
* The SQLite JDBC driver is Debian's ``libxerial-sqlite-jdbc-java``.

Where Maven Central is reachable, set ``LAKEHOUSE_SPARK_PACKAGES`` (for example
``org.apache.iceberg:iceberg-spark-runtime-3.5_2.12:1.10.2,org.xerial:sqlite-jdbc:3.46.1.3``)
and :mod:`catalog.spark` uses ``spark.jars.packages`` with the official runtime instead.

Run ``python -m catalog.jars`` to build and print the jar list (``make`` does).
"""

from __future__ import annotations

import io
import os
import struct
import sys
import zipfile
from importlib import resources
from pathlib import Path
from typing import Final

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

_FROM: Final = b"com/fasterxml/jackson"
_TO: Final = b"org/apache/iceberg/shaded/com/fasterxml/jackson"
_FROM_DOTTED: Final = b"com.fasterxml.jackson"
_TO_DOTTED: Final = b"org.apache.iceberg.shaded.com.fasterxml.jackson"
_RELOCATED_JAR: Final = f"iceberg-shaded-jackson-{JACKSON_VERSION}.jar"


class JarSetupError(RuntimeError):
    """A jar Spark needs is missing and cannot be built; the message says how to get it."""


def _relocate(data: bytes) -> bytes:
    return data.replace(_FROM, _TO).replace(_FROM_DOTTED, _TO_DOTTED)


def relocate_class(data: bytes) -> bytes:
    """Rewrite the UTF8 entries of one class file's constant pool; the rest is copied as is.

    Only the constant pool names classes (descriptors, class refs, string constants), so
    relocating its UTF8 entries is a complete relocation. Entry lengths change, which is why
    each entry is re-emitted with its new length rather than patched in place.
    """
    if data[:4] != b"\xca\xfe\xba\xbe":
        raise ValueError("not a class file")
    count = struct.unpack_from(">H", data, 8)[0]
    out = io.BytesIO()
    out.write(data[:10])
    pos, index = 10, 1
    fixed = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2}
    fixed |= {17: 4, 18: 4, 19: 2, 20: 2}
    while index < count:
        tag = data[pos]
        if tag == 1:
            length = struct.unpack_from(">H", data, pos + 1)[0]
            text = _relocate(data[pos + 3 : pos + 3 + length])
            out.write(struct.pack(">BH", 1, len(text)))
            out.write(text)
            pos += 3 + length
        elif tag in fixed:
            out.write(data[pos : pos + 1 + fixed[tag]])
            pos += 1 + fixed[tag]
        else:
            raise ValueError(f"unknown constant-pool tag {tag} at entry {index}")
        index += 2 if tag in (5, 6) else 1  # longs and doubles take two slots
    out.write(data[pos:])
    return out.getvalue()


def build_relocated_jackson(pyspark_jars: Path, target: Path) -> Path:
    """Write the relocated Jackson jar Iceberg's runtime expects, from pyspark's own jars."""
    sources = [pyspark_jars / f"{name}-{JACKSON_VERSION}.jar" for name in JACKSON_ARTIFACTS]
    missing = [str(s) for s in sources if not s.exists()]
    if missing:
        raise JarSetupError(
            f"pyspark's Jackson jars are missing ({', '.join(missing)}); "
            "reinstall the pinned pyspark (make deps)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".tmp-{os.getpid()}")
    seen: set[str] = set()
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for source in sources:
            with zipfile.ZipFile(source) as jar:
                for info in jar.infolist():
                    name = info.filename
                    if info.is_dir() or name.endswith("module-info.class"):
                        continue
                    if name.startswith("META-INF/") and not name.startswith("META-INF/services/"):
                        continue  # manifests, signatures, licences, multi-release copies
                    data = jar.read(info)
                    if name.endswith(".class"):
                        data = relocate_class(data)
                    elif name.startswith("META-INF/services/"):
                        data = _relocate(data)
                    new_name = _relocate(name.encode()).decode()
                    if new_name in seen:
                        continue
                    seen.add(new_name)
                    out.writestr(new_name, data)
    tmp.replace(target)  # atomic: a concurrent builder never sees half a jar
    return target


def cache_dir() -> Path:
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


def local_spark_jars() -> list[Path]:
    """Every jar local Spark needs, building the relocated Jackson jar on first use."""
    relocated = cache_dir() / _RELOCATED_JAR
    if not relocated.exists():
        build_relocated_jackson(_pyspark_jars(), relocated)
    return [_iceberg_runtime(), relocated, sqlite_jdbc_jar()]


def main() -> None:
    for jar in local_spark_jars():
        print(jar)


if __name__ == "__main__":
    main()
