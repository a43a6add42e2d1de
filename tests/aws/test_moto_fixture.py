"""The moto fixture itself: boto3 reaches the local server, and state is reset per test."""

from __future__ import annotations

import boto3


def test_boto3_talks_to_the_local_server(aws: str) -> None:
    s3 = boto3.client("s3")
    assert s3.meta.endpoint_url == aws
    assert aws.startswith("http://127.0.0.1:")
    s3.create_bucket(Bucket="fixture-check")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["fixture-check"]


def test_state_does_not_leak_between_tests(aws: str) -> None:
    assert boto3.client("s3").list_buckets()["Buckets"] == []
