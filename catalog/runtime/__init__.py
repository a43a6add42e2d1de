"""The local Spark runtime: Java, the Iceberg and AWS jars, the SparkSession.

:mod:`~catalog.runtime.jars` (the Iceberg runtime and its relocated Jackson),
:mod:`~catalog.runtime.awsjars` (the AWS SDK jar, for the rehearsal), and
:mod:`~catalog.runtime.spark` (the session the local pipeline and tests share).
Imports :mod:`catalog.iceberg` for the catalog settings; never imported on AWS.
"""
