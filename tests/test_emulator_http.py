"""The emulated AWS over HTTP on loopback: SDK clients and the AWS CLI reach one endpoint."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest
from botocore.exceptions import ClientError

from bluegreen.emulator import Emulator
from bluegreen.emulator.http import Endpoint

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)


@pytest.fixture
def endpoint() -> Iterator[Endpoint]:
    with Emulator("ap-northeast-1", start=T0) as aws:
        served = Endpoint(aws)
        served.start()
        try:
            yield served
        finally:
            served.stop()


def client(endpoint: Endpoint, service: str) -> object:
    session = boto3.session.Session(
        region_name="ap-northeast-1", aws_access_key_id="any", aws_secret_access_key="any"
    )
    return session.client(service, endpoint_url=endpoint.url)


def test_json_query_and_rest_apis_are_served_on_loopback(endpoint: Endpoint) -> None:
    assert endpoint.url.startswith("http://127.0.0.1:")
    logs = client(endpoint, "logs")
    logs.create_log_group(logGroupName="/demo")  # type: ignore[attr-defined]
    groups = logs.describe_log_groups()["logGroups"]  # type: ignore[attr-defined]
    assert [g["logGroupName"] for g in groups] == ["/demo"]
    s3 = client(endpoint, "s3")
    s3.create_bucket(  # type: ignore[attr-defined]
        Bucket="demo-bucket",
        CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"},
    )
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["demo-bucket"]  # type: ignore[attr-defined]
    cloudformation = client(endpoint, "cloudformation")
    with pytest.raises(ClientError) as caught:
        cloudformation.describe_stacks(StackName="nothing")  # type: ignore[attr-defined]
    assert caught.value.response["Error"]["Code"] == "ValidationError"


def test_an_operation_nobody_serves_is_an_aws_style_error(endpoint: Endpoint) -> None:
    codecommit = client(endpoint, "codecommit")
    with pytest.raises(ClientError) as caught:
        codecommit.merge_branches_by_fast_forward(  # type: ignore[attr-defined]
            repositoryName="r", sourceCommitSpecifier="a", destinationCommitSpecifier="b"
        )
    assert caught.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "codecommit:MergeBranchesByFastForward" in caught.value.response["Error"]["Message"]


@pytest.mark.skipif(shutil.which("aws") is None, reason="the AWS CLI is not installed")
def test_the_aws_cli_works_against_it(endpoint: Endpoint) -> None:
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": endpoint.url,
        "AWS_ACCESS_KEY_ID": "any",
        "AWS_SECRET_ACCESS_KEY": "any",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
    }
    env.pop("AWS_PROFILE", None)
    done = subprocess.run(
        ["aws", "cloudformation", "list-exports", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert '"Exports": []' in done.stdout


def test_only_loopback_is_served() -> None:
    with Emulator("ap-northeast-1", start=T0) as aws, pytest.raises(ValueError, match="loopback"):
        Endpoint(aws, host="0.0.0.0")  # noqa: S104 - the refusal under test


def _in(endpoint: Endpoint, service: str, region: str) -> object:
    session = boto3.session.Session(
        region_name=region, aws_access_key_id="any", aws_secret_access_key="any"
    )
    return session.client(service, endpoint_url=endpoint.url)


def test_a_request_for_another_region_is_refused_as_aws_does(endpoint: Endpoint) -> None:
    """A sandbox emulates one region (ap-northeast-1 here): a command pointed at another
    gets AWS's answer to a credential scoped to the wrong region, never this region's
    resources (aws/aws-sdk-ruby#508, cognitect-labs/aws-api#27)."""
    client(endpoint, "logs").create_log_group(logGroupName="/here")  # type: ignore[attr-defined]
    for service, call, code, status in (
        ("logs", "describe_log_groups", "InvalidSignatureException", 403),  # JSON
        ("cloudformation", "list_exports", "SignatureDoesNotMatch", 403),  # query
        ("ecs", "list_clusters", "InvalidSignatureException", 403),
    ):
        with pytest.raises(ClientError) as caught:
            getattr(_in(endpoint, service, "us-west-2"), call)()
        error = caught.value.response["Error"]
        assert (error["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
            code,
            status,
        )
        assert error["Message"].startswith(
            "Credential should be scoped to a valid region, not 'us-west-2'."
        )
        assert "ap-northeast-1" in error["Message"]
    with pytest.raises(ClientError) as caught:
        _in(endpoint, "s3", "eu-west-1").list_buckets()  # type: ignore[attr-defined]
    assert caught.value.response["Error"]["Code"] == "AuthorizationHeaderMalformed"
    # The emulated region itself, and us-east-1 for a global service (IAM's endpoint).
    groups = _in(endpoint, "logs", "ap-northeast-1").describe_log_groups()  # type: ignore[attr-defined]
    assert [g["logGroupName"] for g in groups["logGroups"]] == ["/here"]
    _in(endpoint, "iam", "us-east-1").list_roles()  # type: ignore[attr-defined]
    with pytest.raises(ClientError) as caught:
        _in(endpoint, "logs", "us-east-1").describe_log_groups()  # type: ignore[attr-defined]
    assert caught.value.response["Error"]["Code"] == "InvalidSignatureException"
