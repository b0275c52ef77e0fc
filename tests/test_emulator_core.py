"""The emulator's dispatch: bluegreen's services first, moto for the rest, AWS-shaped errors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bluegreen.emulator import Call, Emulator, Service, ServiceError, operation

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)


class _Branches(Service):
    name = "codecommit"

    @operation("GetBranch")
    def get_branch(self, params: dict[str, Any], call: Call) -> dict[str, Any]:
        if params["branchName"] == "missing":
            raise ServiceError("BranchDoesNotExistException", "Branch missing does not exist")
        return {"branch": {"branchName": params["branchName"], "commitId": call.principal}}


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator("ap-northeast-1", start=T0) as emulator:
        emulator.services["codecommit"] = _Branches(emulator)
        yield emulator


def test_an_operation_bluegreen_serves_is_parsed_and_answered_in_the_api_shape(
    aws: Emulator,
) -> None:
    answer = aws.clients().codecommit.get_branch(repositoryName="r", branchName="main")
    # The handler saw who called: the operator user of the emulated account.
    assert answer["branch"] == {
        "branchName": "main",
        "commitId": "arn:aws:iam::123456789012:user/bluegreen-operator",
    }


def test_a_service_error_reaches_the_client_with_the_aws_code(aws: Emulator) -> None:
    with pytest.raises(ClientError) as caught:
        aws.clients().codecommit.get_branch(repositoryName="r", branchName="missing")
    assert caught.value.response["Error"]["Code"] == "BranchDoesNotExistException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_operation_nobody_serves_is_an_aws_style_error_naming_it(aws: Emulator) -> None:
    with pytest.raises(ClientError) as caught:
        aws.clients().codecommit.merge_branches_by_fast_forward(
            repositoryName="r", sourceCommitSpecifier="a", destinationCommitSpecifier="b"
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "UnknownOperationException"
    assert "codecommit:MergeBranchesByFastForward" in error["Message"]


def test_moto_serves_the_rest_and_its_timestamps_follow_the_simulated_clock(
    aws: Emulator,
) -> None:
    logs = aws.clients().logs
    logs.create_log_group(logGroupName="first")
    aws.sleep(3600)
    logs.create_log_group(logGroupName="second")
    groups = {g["logGroupName"]: g["creationTime"] for g in logs.describe_log_groups()["logGroups"]}
    assert groups == {
        "first": int(T0.timestamp() * 1000),
        "second": int(T0.timestamp() * 1000) + 3_600_000,
    }


def test_the_emulator_leaves_the_environment_as_it_found_it(monkeypatch: Any) -> None:
    monkeypatch.setenv("AWS_PROFILE", "production")
    with Emulator("us-east-1", start=T0):
        import os

        assert "AWS_PROFILE" not in os.environ
    import os

    assert os.environ["AWS_PROFILE"] == "production"


@pytest.mark.parametrize(("days", "refused"), [(3653, False), (7, False), (7777, True), (2, True)])
def test_log_retention_is_one_of_the_values_aws_accepts(days: int, refused: bool) -> None:
    # CloudWatch Logs API reference, PutRetentionPolicy: retentionInDays Valid Values
    with Emulator("ap-northeast-1", start=T0) as aws:
        logs = aws.client("logs")
        logs.create_log_group(logGroupName="/app")
        if refused:
            with pytest.raises(ClientError) as caught:
                logs.put_retention_policy(logGroupName="/app", retentionInDays=days)
            assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
            assert f"Value '{days}' at 'retentionInDays'" in str(caught.value)
        else:
            logs.put_retention_policy(logGroupName="/app", retentionInDays=days)
            (group,) = logs.describe_log_groups()["logGroups"]
            assert group["retentionInDays"] == days
