"""Run a Spark SQL write so its Iceberg snapshot carries our summary properties.

Iceberg reads extra snapshot-summary properties from a thread-local that only
``org.apache.iceberg.spark.CommitMetadata.withCommitProperties(props, callable, exClass)``
sets (``spark.sql.iceberg.snapshot-property.*`` is ignored by MERGE). A Python callable
would need py4j's callback server, which keeps the process from exiting; instead the
``Callable`` is built from two public JDK classes: ``java.beans.Expression`` holds the call
``session.sql(statement)`` and ``java.beans.EventHandler`` turns it into a ``Callable`` whose
``call()`` evaluates it. The SQL therefore runs on the same JVM thread as the thread-local.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def sql_with_commit_properties(
    spark: SparkSession, statement: str, properties: Mapping[str, str]
) -> None:
    """Execute ``statement`` (MERGE, INSERT, ...) with ``properties`` in its snapshot summary."""
    jvm: Any = spark._jvm
    gateway: Any = spark.sparkContext._gateway
    arguments = gateway.new_array(jvm.java.lang.Object, 1)
    arguments[0] = statement
    expression = jvm.java.beans.Expression(spark._jsparkSession, "sql", arguments)
    callable_interface = jvm.java.lang.Class.forName("java.util.concurrent.Callable")
    task = jvm.java.beans.EventHandler.create(callable_interface, expression, "getValue")
    java_properties = jvm.java.util.HashMap()
    for key, value in properties.items():
        java_properties.put(key, value)
    rethrow_as = jvm.java.lang.Class.forName("java.lang.RuntimeException")
    jvm.org.apache.iceberg.spark.CommitMetadata.withCommitProperties(
        java_properties, task, rethrow_as
    )
