"""Stub scenarios for the deploy tests that still need canned answers (no tests here).

Only error shapes the emulated AWS cannot produce are tested against botocore Stubber
(test_aws_deploy.py, test_cli_deploy.py); everything else runs end to end on the
emulated AWS (test_e2e_deploy.py, test_e2e_refusals.py). Every stubbed AWS behaviour
names its source next to it. Stubs are queued per service in the order the code calls
them, so each test asserts the exact call sequence per service (botocore Stubber also
checks every request's parameters when they are given).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from botocore.stub import ANY
from test_aws_support import (
    PIPELINE_OUTPUTS,
    SERVICE_OUTPUTS,
    T0,
    Stubs,
    change_set,
    delete_change_set,
    missing_stack,
    stack,
    write_repo,
)

from bluegreen.aws.cfn import Change, StackEvent

SOURCE, SERVICE, PIPELINE = "sample3-dev-source", "sample3-dev-service", "sample3-dev-pipeline"
REPO = "sample3-dev-webappservice"
CLUSTER = "sample3-dev-cluster"
ECS_SERVICE = "sample3-dev-service"
FAMILY = "sample3-dev-task"

NO_CHANGES = (
    "The submitted information didn't contain changes. Submit different information to "
    "create a change set."
)
"""CloudFormation's StatusReason of a FAILED change set with nothing to do: the text the
AWS CLI's own `cloudformation deploy` matches (aws/aws-cli,
awscli/customizations/cloudformation/deployer.py, wait_for_changeset)."""


class RecordingUI:
    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.lines: list[str] = []
        self.shown: list[tuple[str, str, list[Change]]] = []
        self.events: list[StackEvent] = []
        self.asked: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)

    def changes(self, stack: str, change_set_type: str, changes: list[Change]) -> None:
        self.shown.append((stack, change_set_type, changes))

    def confirm(self, stack: Any) -> bool:
        self.asked.append(stack if isinstance(stack, str) else "plan")
        return self.answer

    def event(self, event: StackEvent) -> None:
        self.events.append(event)

    def stack_done(self, stack: str, status: str) -> None:
        self.lines.append(f"{stack} done {status}")


def make_repo(root: Path) -> Path:
    """The files `bluegreen init` writes, each with content (CodeCommit's API refuses
    empty files: botocore model, FileContentRequiredException)."""
    write_repo(root)
    for path in root.rglob("*"):
        if path.is_file() and path.stat().st_size == 0:
            path.write_text('"""Tests."""\n', encoding="utf-8")
    return root


def no_sleep(seconds: float) -> None:
    pass


# ---- deploy's first look --------------------------------------------------------------


def look(
    s: Stubs,
    source: str | None = None,
    service: str | None = None,
    pipeline: str | None = None,
) -> None:
    """DescribeStacks of the three stacks, in deploy order (None: no such stack, which
    CloudFormation answers with ValidationError "Stack with id X does not exist":
    boto/boto3#2807)."""
    for name, status in ((SOURCE, source), (SERVICE, service), (PIPELINE, pipeline)):
        if status is None:
            missing_stack(s, name)
        else:
            stack(s, name, status)


def repositories(s: Stubs, names: list[str]) -> None:
    """ListRepositories (botocore CodeCommit model: repositories of name and id)."""
    s.add(
        "codecommit",
        "list_repositories",
        {"repositories": [{"repositoryName": n, "repositoryId": f"id-{n}"} for n in names]},
        {},
    )


ROLE = {
    "Path": "/aws-service-role/ecs.amazonaws.com/",
    "RoleName": "AWSServiceRoleForECS",
    "RoleId": "AROAEXAMPLE000000000",
    "Arn": "arn:aws:iam::123456789012:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS",
    "CreateDate": T0,
}


def role(s: Stubs, exists: bool) -> None:
    """GetRole of the ECS service-linked role; a missing role is NoSuchEntity (botocore
    IAM model: GetRole raises NoSuchEntityException, code NoSuchEntity)."""
    params = {"RoleName": "AWSServiceRoleForECS"}
    if exists:
        s.add("iam", "get_role", {"Role": ROLE}, params)
    else:
        s.error(
            "iam",
            "get_role",
            "NoSuchEntity",
            "The role with name ... cannot be found.",
            params,
            404,
        )


def branch(s: Stubs, head: str | None) -> None:
    """GetBranch; an empty repository has no branch: BranchDoesNotExistException
    (botocore CodeCommit model, GetBranch errors)."""
    params = {"repositoryName": REPO, "branchName": "main"}
    if head is None:
        s.error("codecommit", "get_branch", "BranchDoesNotExistException", "no branch", params)
    else:
        s.add(
            "codecommit", "get_branch", {"branch": {"branchName": "main", "commitId": head}}, params
        )


def live_service(s: Stubs, desired: int = 1, grace: int = 60) -> None:
    """DescribeServices of the CODE_DEPLOY service (botocore ECS model)."""
    s.add(
        "ecs",
        "describe_services",
        {
            "services": [
                {
                    "serviceName": ECS_SERVICE,
                    "status": "ACTIVE",
                    "desiredCount": desired,
                    "healthCheckGracePeriodSeconds": grace,
                    "deploymentController": {"type": "CODE_DEPLOY"},
                }
            ]
        },
        {"cluster": CLUSTER, "services": [ECS_SERVICE]},
    )


# ---- one stack -------------------------------------------------------------------------


def no_changes(s: Stubs, name: str, body: Any = ANY) -> None:
    """An UPDATE change set that CloudFormation finds nothing to do for (FAILED with the
    no-changes reason, then deleted)."""
    stack(s, name, "UPDATE_COMPLETE")
    change_set(s, name, "UPDATE", [], status="FAILED", reason=NO_CHANGES, body=body)
    delete_change_set(s, name)


def links(s: Stubs) -> None:
    stack(s, SERVICE, "CREATE_COMPLETE", SERVICE_OUTPUTS)
    stack(s, PIPELINE, "CREATE_COMPLETE", PIPELINE_OUTPUTS)
