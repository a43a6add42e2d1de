"""Seam: local Spark with Iceberg's GlueCatalog and S3FileIO, on moto's server (127.0.0.1).

The basis of the Glue job's rehearsal: pyspark 3.5.9, the Iceberg 1.10.2 runtime and the
AWS SDK jar :mod:`catalog.runtime.awsjars` builds, configured with the stack's own ``--conf`` pairs
plus the moto-only keys. Spark runs in this pytest process, whose JVM must start with those
jars: tests/rehearsal runs in a process of its own (``make rehearse``), never after the rest
of the suite has started Spark over the SQLite catalog.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest

from catalog.errors import LakehouseError
from catalog.iceberg.profiles import CATALOG_NAME
from catalog.iceberg.tables import NAMESPACE
from catalog.runtime.awsjars import (
    REQUIRED_CLASSES,
    aws_sdk_jar,
    build_moto_glue_session,
    moto_spark_conf,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

SEAM = "spark: Iceberg GlueCatalog + S3FileIO (AWS SDK jar)"
BUCKET = "rehearsal-spark-glue"
WAREHOUSE = f"s3://{BUCKET}/warehouse"
TABLE = "followers_probe"
QUALIFIED = f"{CATALOG_NAME}.{NAMESPACE}.{TABLE}"
PREFIX = f"spark.sql.catalog.{CATALOG_NAME}"


@pytest.fixture(scope="module")
def stack_conf() -> dict[str, str]:
    """The Glue job's ``--conf`` pairs exactly as the CDK stack builds them."""
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    from infra.cdk.constructs.load_job import glue_spark_conf_pairs

    return glue_spark_conf_pairs(WAREHOUSE)


@pytest.fixture(scope="module")
def glue_spark(moto_server: str, stack_conf: dict[str, str]) -> Iterator[SparkSession]:
    from catalog.runtime.spark import SparkSessionConflictError

    try:
        session = build_moto_glue_session(stack_conf, moto_server)
    except SparkSessionConflictError as e:
        pytest.skip(f"Spark already runs in this process without the AWS SDK jar ({e})")
    yield session
    session.stop()


@pytest.mark.seam(SEAM)
def test_the_sdk_jar_holds_the_sdk_under_its_own_name() -> None:
    jar = aws_sdk_jar()
    assert 20e6 < jar.stat().st_size < 40e6
    with zipfile.ZipFile(jar) as archive:
        names = archive.namelist()
        assert set(REQUIRED_CLASSES) <= set(names)
        foreign = (
            "smfs/shaded/software/",  # the SDK, unmoved
            "smfs/shaded/org/apache/iceberg/",  # the jar's second Iceberg
            "software/amazon/awssdk/services/sagemaker",
            "software/amazon/sagemaker/",
            "org/apache/spark/",
            "org/eclipse/",
            "org/projectnessie/",
        )
        assert [n for n in names if n.startswith(foreign)] == []
        # Only constant pools hold names, so a byte search over each class finds any leftover.
        unmoved = [
            n
            for n in names
            if n.endswith(".class")
            and (
                b"smfs/shaded/software/" in (data := archive.read(n))
                or b"smfs.shaded.software." in data
            )
        ]
    assert unmoved == []


@pytest.mark.seam(SEAM)
def test_the_moto_keys_are_added_beside_the_stack_conf(stack_conf: dict[str, str]) -> None:
    conf = moto_spark_conf(stack_conf, "http://127.0.0.1:5000", jars=[Path("a.jar")])
    merged = conf.merged()
    assert {k: merged[k] for k in stack_conf} == stack_conf  # the stack's conf, unchanged
    assert not set(conf.added()) & set(stack_conf)
    assert conf.moto == {
        f"{PREFIX}.glue.endpoint": "http://127.0.0.1:5000",
        f"{PREFIX}.s3.endpoint": "http://127.0.0.1:5000",
        f"{PREFIX}.s3.path-style-access": "true",
        f"{PREFIX}.client.region": "us-east-1",
        f"{PREFIX}.http-client.type": "apache",
    }
    options = merged["spark.driver.extraJavaOptions"]
    for key, value in conf.system_properties.items():
        assert f"-D{key}={value}" in options.split()
    assert merged["spark.jars"] == "a.jar"
    with pytest.raises(LakehouseError, match=r"already sets .*glue\.endpoint"):
        moto_spark_conf(
            {**stack_conf, f"{PREFIX}.glue.endpoint": "x"}, "http://127.0.0.1:5000", jars=[]
        )


def _rows(spark: SparkSession, sql: str) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in spark.sql(sql).collect()]


@pytest.mark.spark
@pytest.mark.seam(SEAM)
def test_a_glue_table_takes_insert_merge_and_tags(
    glue_spark: SparkSession, aws: str, stack_conf: dict[str, str]
) -> None:
    spark = glue_spark
    s3 = boto3.client("s3", endpoint_url=aws, region_name="us-east-1")
    glue = boto3.client("glue", endpoint_url=aws, region_name="us-east-1")
    s3.create_bucket(Bucket=BUCKET)
    glue.create_database(DatabaseInput={"Name": NAMESPACE})
    assert {k: spark.conf.get(k) for k in stack_conf} == stack_conf

    spark.sql(
        f"CREATE TABLE {QUALIFIED} (artist_id string, followers bigint, snapshot_date date) "
        "USING iceberg PARTITIONED BY (months(snapshot_date))"
    )
    spark.sql(
        f"INSERT INTO {QUALIFIED} VALUES ('a', 100, DATE'2026-11-24'), ('b', 200, DATE'2026-11-24')"
    )
    spark.sql(f"ALTER TABLE {QUALIFIED} CREATE TAG `snapshot-2026-11-24` RETAIN 30 DAYS")
    spark.sql(
        "SELECT * FROM VALUES ('a', 110L, DATE'2026-11-25'), ('c', 300L, DATE'2026-11-25') "
        "AS t(artist_id, followers, snapshot_date)"
    ).createOrReplaceTempView("incoming")
    spark.sql(
        f"MERGE INTO {QUALIFIED} t USING incoming s ON t.artist_id = s.artist_id "
        "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    )
    spark.sql(f"ALTER TABLE {QUALIFIED} CREATE TAG `snapshot-2026-11-25` RETAIN 30 DAYS")

    read = f"SELECT artist_id, followers FROM {QUALIFIED}"
    assert _rows(spark, f"{read} ORDER BY artist_id") == [("a", 110), ("b", 200), ("c", 300)]
    first = _rows(spark, f"{read} VERSION AS OF 'snapshot-2026-11-24' ORDER BY artist_id")
    assert first == [("a", 100), ("b", 200)]
    snapshots = _rows(
        spark, f"SELECT snapshot_id, operation FROM {QUALIFIED}.snapshots ORDER BY committed_at"
    )
    assert [operation for _, operation in snapshots] == ["append", "overwrite"]
    refs = dict(_rows(spark, f"SELECT name, snapshot_id FROM {QUALIFIED}.refs"))
    assert refs["snapshot-2026-11-24"] == snapshots[0][0]
    assert refs["snapshot-2026-11-25"] == refs["main"] == snapshots[1][0]

    # The Glue side: a table whose parameters point at Iceberg's current metadata in S3.
    table = glue.get_table(DatabaseName=NAMESPACE, Name=TABLE)["Table"]
    parameters = table["Parameters"]
    assert parameters["table_type"].upper() == "ICEBERG"
    location = parameters["metadata_location"]
    ((latest,),) = _rows(
        spark,
        f"SELECT file FROM {QUALIFIED}.metadata_log_entries ORDER BY timestamp DESC LIMIT 1",
    )
    assert location == latest
    assert location.startswith(f"{WAREHOUSE}/{NAMESPACE}.db/{TABLE}/metadata/")
    s3.head_object(Bucket=BUCKET, Key=location.removeprefix(f"s3://{BUCKET}/"))

    # The S3 side: every data file of the current snapshot is an object in moto's bucket.
    listing = s3.list_objects_v2(Bucket=BUCKET, Prefix=f"warehouse/{NAMESPACE}.db/{TABLE}/")
    keys = {item["Key"] for item in listing["Contents"]}
    files = [path for (path,) in _rows(spark, f"SELECT file_path FROM {QUALIFIED}.files")]
    assert files
    for path in files:
        assert path.startswith(f"s3://{BUCKET}/")
        assert path.endswith(".parquet")
        assert path.removeprefix(f"s3://{BUCKET}/") in keys
