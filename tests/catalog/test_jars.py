"""The relocated Jackson jar: built from pyspark's jars, nothing left unrelocated."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from catalog.jars import (
    JACKSON_VERSION,
    _pyspark_jars,
    build_relocated_jackson,
    relocate_class,
)


def utf8_entries(data: bytes) -> list[bytes]:
    """Parse a class file's constant pool and return its UTF8 entries (a second parser)."""
    count = struct.unpack_from(">H", data, 8)[0]
    sizes = {3: 4, 4: 4, 5: 8, 6: 8, 7: 2, 8: 2, 9: 4, 10: 4, 11: 4, 12: 4, 15: 3, 16: 2}
    sizes |= {17: 4, 18: 4, 19: 2, 20: 2}
    pos, index, found = 10, 1, []
    while index < count:
        tag = data[pos]
        if tag == 1:
            (length,) = struct.unpack_from(">H", data, pos + 1)
            found.append(data[pos + 3 : pos + 3 + length])
            pos += 3 + length
        else:
            pos += 1 + sizes[tag]
        index += 2 if tag in (5, 6) else 1
    return found


@pytest.fixture(scope="module")
def relocated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_relocated_jackson(_pyspark_jars(), tmp_path_factory.mktemp("jars") / "j.jar")


def test_every_class_moves_to_the_iceberg_shaded_package(relocated: Path) -> None:
    with zipfile.ZipFile(relocated) as jar:
        classes = [n for n in jar.namelist() if n.endswith(".class")]
        assert len(classes) > 500
        assert all(
            n.startswith("org/apache/iceberg/shaded/com/fasterxml/jackson/") for n in classes
        )
        mapper = jar.read(
            "org/apache/iceberg/shaded/com/fasterxml/jackson/databind/ObjectMapper.class"
        )
    entries = utf8_entries(mapper)
    unrelocated = [
        e for e in entries if b"com/fasterxml/jackson" in e and b"iceberg/shaded/com" not in e
    ]
    assert unrelocated == []
    assert any(
        e.startswith(b"org/apache/iceberg/shaded/com/fasterxml/jackson/core/") for e in entries
    )


def test_service_files_are_renamed_and_rewritten(relocated: Path) -> None:
    with zipfile.ZipFile(relocated) as jar:
        services = [n for n in jar.namelist() if n.startswith("META-INF/services/")]
        assert services
        for name in services:
            assert name.startswith("META-INF/services/org.apache.iceberg.shaded.com.fasterxml")
            assert b"\ncom.fasterxml" not in b"\n" + jar.read(name)


def test_relocation_keeps_the_rest_of_the_class_byte_for_byte() -> None:
    source = _pyspark_jars() / f"jackson-core-{JACKSON_VERSION}.jar"
    with zipfile.ZipFile(source) as jar:
        original = jar.read("com/fasterxml/jackson/core/JsonToken.class")
    rewritten = relocate_class(original)
    grown = sum(len(e) for e in utf8_entries(rewritten)) - sum(
        len(e) for e in utf8_entries(original)
    )
    assert len(rewritten) - len(original) == grown  # only the pool's strings changed


def test_a_non_class_file_is_refused() -> None:
    with pytest.raises(ValueError, match="not a class file"):
        relocate_class(b"PK\x03\x04")
