"""Iceberg catalog profiles, the one table-definition module, the Spark runtime and time travel."""
