"""The relocated Jackson jar: built from pyspark's jars, nothing left unrelocated; and the
shared relocation (catalog.runtime.awsjars moves an AWS SDK with it) on small synthetic jars."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest

from catalog.runtime.jars import (
    JACKSON_VERSION,
    Relocation,
    _pyspark_jars,
    build_relocated_jackson,
    relocate_class,
    write_relocated_jar,
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


def class_file(*strings: str) -> bytes:
    """A minimal class file: magic, version, a constant pool of UTF8 entries, a fixed tail."""
    pool = b"".join(struct.pack(">BH", 1, len(s)) + s.encode() for s in strings)
    header = b"\xca\xfe\xba\xbe" + struct.pack(">HHH", 0, 61, len(strings) + 1)
    return header + pool + b"\x00\x21\x00\x01\x00\x02" + b"\x00" * 8


AWS = Relocation("smfs/shaded/software/amazon/awssdk/", "software/amazon/awssdk/")


def test_a_relocation_moves_both_spellings_and_only_whole_packages() -> None:
    text = (
        b"Lsmfs/shaded/software/amazon/awssdk/core/SdkBytes; "
        b"smfs.shaded.software.amazon.awssdk.http.apache.ApacheSdkHttpService "
        b"smfs/shaded/software/amazon/awssdkextra/Other smfs/shaded/org/apache/hc/HttpHost"
    )
    assert AWS.apply(text) == (
        b"Lsoftware/amazon/awssdk/core/SdkBytes; "
        b"software.amazon.awssdk.http.apache.ApacheSdkHttpService "
        b"smfs/shaded/software/amazon/awssdkextra/Other smfs/shaded/org/apache/hc/HttpHost"
    )
    assert AWS.matches(text)
    assert not AWS.matches(b"smfs/shaded/org/apache/hc/HttpHost")


def test_a_class_that_does_not_name_the_package_is_returned_as_is() -> None:
    original = class_file("java/lang/Object", "smfs/shaded/org/apache/hc/HttpHost")
    assert relocate_class(original, AWS) is original


def test_the_jar_writer_keeps_what_it_is_asked_to_and_relocates_it(tmp_path: Path) -> None:
    from catalog.runtime.awsjars import AWS_SDK_RELOCATION, keep_entry

    source = tmp_path / "uber.jar"
    sdk = "smfs/shaded/software/amazon/awssdk/"
    glue = class_file(f"{sdk}services/glue/GlueClient", f"L{sdk}core/SdkClient;", "x/Y")
    with zipfile.ZipFile(source, "w") as jar:
        jar.writestr("META-INF/MANIFEST.MF", "Manifest-Version: 1.0\n")
        jar.writestr(f"{sdk}services/glue/GlueClient.class", glue)
        jar.writestr(f"{sdk}services/sagemaker/SageMakerClient.class", class_file(sdk))
        jar.writestr("smfs/shaded/org/apache/hc/HttpHost.class", class_file("java/lang/Object"))
        jar.writestr("smfs/shaded/org/apache/iceberg/Table.class", class_file("x/Y"))
        jar.writestr("org/apache/spark/sql/Dataset.class", class_file("x/Y"))
        jar.writestr(f"{sdk}regions/internal/region/endpoints.json", b"{}")
        jar.writestr(
            "META-INF/services/smfs.shaded.software.amazon.awssdk.http.SdkHttpService",
            b"smfs.shaded.software.amazon.awssdk.http.apache.ApacheSdkHttpService\n",
        )
    target = write_relocated_jar([source], tmp_path / "out.jar", AWS_SDK_RELOCATION, keep_entry)
    with zipfile.ZipFile(target) as jar:
        assert sorted(jar.namelist()) == [
            "META-INF/services/software.amazon.awssdk.http.SdkHttpService",
            "smfs/shaded/org/apache/hc/HttpHost.class",
            "software/amazon/awssdk/regions/internal/region/endpoints.json",
            "software/amazon/awssdk/services/glue/GlueClient.class",
        ]
        moved = utf8_entries(jar.read("software/amazon/awssdk/services/glue/GlueClient.class"))
        service = jar.read("META-INF/services/software.amazon.awssdk.http.SdkHttpService")
    assert moved == [
        b"software/amazon/awssdk/services/glue/GlueClient",
        b"Lsoftware/amazon/awssdk/core/SdkClient;",
        b"x/Y",
    ]
    assert service == b"software.amazon.awssdk.http.apache.ApacheSdkHttpService\n"
    assert not list(tmp_path.glob("out.tmp-*"))  # written aside, renamed into place
