"""deploy's account checks on the emulated AWS: CodeCommit's answer and the ECS
service-linked role.

AWS behaviour relied on: ListRepositories lists the account's repositories in the region
(CodeCommit API reference); GetRole of a role that does not exist is NoSuchEntity, and a
second CreateServiceLinkedRole for ecs.amazonaws.com is InvalidInput "Service role name
AWSServiceRoleForECS has been taken in this account" (botocore's IAM model and IAM API
reference); IAM is eventually consistent, so a new role is given time before use (IAM
user guide, "Troubleshoot IAM": changes take time to propagate).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError
from test_aws_support import Stubs

from bluegreen.aws import preflight
from bluegreen.aws.errors import AwsCallError
from bluegreen.emulator import Emulator
from bluegreen.errors import StateError

REGION = "ap-northeast-1"


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(REGION, work_dir=tmp_path / "aws") as emulator:
        yield emulator


def test_an_account_without_a_repository_gets_one_line_and_one_with_a_repository_none(
    aws: Emulator,
) -> None:
    codecommit = aws.client("codecommit")
    assert preflight.codecommit_note(codecommit, REGION) == (
        f"this account has no CodeCommit repository in {REGION} yet; if CodeCommit refuses "
        "to create one (OperationNotAllowedException), deploy says what to do then"
    )
    codecommit.create_repository(repositoryName="someone-elses")
    assert preflight.codecommit_note(codecommit, REGION) == ""


class Unreachable:
    """botocore raises EndpointConnectionError when a service has no endpoint to reach
    (botocore.exceptions): CodeCommit is not offered in every region."""

    def list_repositories(self) -> dict[str, Any]:
        raise EndpointConnectionError(endpoint_url="https://codecommit.ca-west-1.amazonaws.com/")


def test_a_region_without_codecommit_is_refused_with_what_to_do() -> None:
    with pytest.raises(StateError) as info:
        preflight.codecommit_note(Unreachable(), "ca-west-1")
    assert info.value.message.startswith("CodeCommit does not answer in ca-west-1: ")
    assert "codecommit.ca-west-1.amazonaws.com" in info.value.message
    assert info.value.hint == (
        "CodeCommit is not offered in every region (`bluegreen verify` checks "
        "project.region); choose a region that has it, with --region or project.region. "
        "Nothing was changed"
    )


def test_other_codecommit_errors_are_passed_on() -> None:
    s = Stubs()
    s.error("codecommit", "list_repositories", "AccessDeniedException", "no")
    with pytest.raises(AwsCallError) as info:
        preflight.codecommit_note(s.client("codecommit"), REGION)
    assert info.value.code == "AccessDeniedException"


def test_the_refusal_hint_says_what_happened_and_what_to_do() -> None:
    assert preflight.codecommit_refusal(["x", "CreateRepository request is not allowed"]) == (
        "CodeCommit refused to create the repository: from 2024-07-25 until CodeCommit "
        "returned to general availability in 2025-11, CreateRepository was refused "
        "(OperationNotAllowedException) to accounts and AWS Organizations without a "
        "CodeCommit repository; ask AWS Support to enable CodeCommit for this account, or "
        "deploy into an account (or AWS Organization) that already has a CodeCommit "
        "repository"
    )
    assert preflight.codecommit_refusal(["Operation", "NotAllowedException"]) == ""


def test_the_ecs_role_is_made_once_and_given_time_to_propagate(aws: Emulator) -> None:
    iam = aws.client("iam")
    assert preflight.ecs_role_exists(iam) is False
    slept: list[float] = []
    assert preflight.create_ecs_role(iam, slept.append) is True
    assert slept == [10.0]
    role = iam.get_role(RoleName="AWSServiceRoleForECS")["Role"]
    assert role["Path"] == "/aws-service-role/ecs.amazonaws.com/"
    assert preflight.ecs_role_exists(iam) is True
    # Another caller made it first: not an error, and no wait.
    assert preflight.create_ecs_role(iam, slept.append) is False
    assert slept == [10.0]


def test_other_iam_errors_are_passed_on() -> None:
    s = Stubs()
    s.error("iam", "get_role", "AccessDenied", "not allowed")
    s.error("iam", "create_service_linked_role", "InvalidInput", "some other input problem")
    s.error("iam", "create_service_linked_role", "AccessDenied", "has been taken")
    iam = s.client("iam")
    with pytest.raises(AwsCallError):
        preflight.ecs_role_exists(iam)
    with pytest.raises(AwsCallError):
        preflight.create_ecs_role(iam, lambda _: None)
    with pytest.raises(AwsCallError):
        preflight.create_ecs_role(iam, lambda _: None)
    s.done()
