"""Roles enforced (issue 9, item 4): the deployment and the tasks.

As tests/test_iam_enforced.py, for CodeDeploy's service role, the task execution role and
the task role. Sources: the ECS developer guide, "Amazon ECS CodeDeploy IAM Role" (the
managed AWSCodeDeployRoleForECSLimited; "you must add the iam:PassRole permission for each
task execution role or task role override"); CodeDeploy's IAM_ROLE_PERMISSIONS text ("The
IAM role <arn> does not give you permission to perform operations in the following AWS
service: AWSLambda. ...", terraform-aws-modules/terraform-aws-lambda#77); the ECR User
Guide, "Using Amazon ECR images with Amazon ECS" (a Fargate task's execution role needs
ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer); a task stopped
for a refused pull (aws/aws-cdk#29876: "CannotPullContainerError: ... 403 Forbidden") or a
refused awslogs stream ("ResourceInitializationError: failed to validate logger args:
create stream has been retried 1 times: failed to create Cloudwatch log stream:
AccessDeniedException: User: ...", doctorray117/minecraft-ondemand#12); the deployment
then times out in Install after 60 minutes (CircleCI-Public/aws-ecs-orb#134); Fluent Bit's
line for a refused call (fluent-bit flb_aws_print_error); ECS refusing a role that does not
trust ecs-tasks.amazonaws.com (tmknom/terraform-aws-codedeploy-for-ecs#18).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulated import Emulated
from iam_support import (
    ACCOUNT,
    CLUSTER,
    SERVICE,
    denials,
    deployed,
    release,
    role_arn,
    role_name,
    session_of,
    untrusting,
    without,
)

REGION = "ap-northeast-1"
LIMITED = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECSLimited"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    with deployed(tmp_path_factory.mktemp("iam-deploy")) as built:
        yield built


def _events(system: Emulated, deployment_id: str) -> dict[str, dict[str, Any]]:
    target = system.aws.clients().codedeploy.get_deployment_target(
        deploymentId=deployment_id, targetId=f"{CLUSTER}:{SERVICE}"
    )["deploymentTarget"]["ecsTarget"]
    return {e["lifecycleEventName"]: e for e in target["lifecycleEvents"]}


def _stopped_reasons(system: Emulated) -> set[str]:
    ecs = system.aws.clients().ecs
    arns = ecs.list_tasks(cluster=CLUSTER, desiredStatus="STOPPED")["taskArns"]
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    return {str(t.get("stoppedReason", "")) for t in tasks}


def _role_permissions(system: Emulated, service: str) -> str:
    return (
        f"The IAM role {role_arn(system, 'CodeDeployRole')} does not give you permission to "
        f"perform operations in the following AWS service: {service}. Contact your AWS "
        "administrator if you need help. If you are an AWS administrator, you can grant "
        "permissions to your users or groups by creating IAM policies."
    )


# ------------------------------------------------------------ CodeDeploy's service role


def test_codedeploys_role_without_its_managed_policy_fails_the_deployment(
    system: Emulated,
) -> None:
    iam = system.aws.clients().iam
    name = role_name(system, "CodeDeployRole")
    iam.detach_role_policy(RoleName=name, PolicyArn=LIMITED)
    try:
        outcome = release(system, "codedeploy-without-managed")
    finally:
        iam.attach_role_policy(RoleName=name, PolicyArn=LIMITED)
    assert outcome.deployment is not None
    assert outcome.deployment["status"] == "Failed"
    assert outcome.deployment["errorInformation"] == {
        "code": "IAM_ROLE_PERMISSIONS",
        "message": _role_permissions(system, "AmazonECS"),
    }
    # The pipeline's Deploy action fails with CodeDeploy's message.
    assert (outcome.status, outcome.failed_action) == ("Failed", "Deploy")
    assert outcome.error == _role_permissions(system, "AmazonECS")
    # The event that failed says which action was refused, to which role.
    diagnostics = _events(system, outcome.deployment["deploymentId"])["BeforeInstall"]
    message = diagnostics["diagnostics"]["message"]
    assert message.startswith(session_of("CodeDeployRole", system))
    assert message.endswith(
        "is not authorized to perform: ecs:DescribeServices on resource: "
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE} because no "
        "identity-based policy allows the ecs:DescribeServices action"
    )
    assert [r.message for r in outcome.refusals] == [message]
    assert outcome.production_after == outcome.production_before


def test_codedeploys_role_must_pass_the_task_roles_to_ecs(system: Emulated) -> None:
    with without(system, "CodeDeployRole", "iam:PassRole"):
        outcome = release(system, "codedeploy-without-passrole")
    assert outcome.deployment is not None
    assert outcome.deployment["errorInformation"]["code"] == "IAM_ROLE_PERMISSIONS"
    install = _events(system, outcome.deployment["deploymentId"])["Install"]
    assert install["status"] == "Failed"
    assert (
        f"is not authorized to perform: iam:PassRole on resource: "
        f"{role_arn(system, 'ExecutionRole')} because no identity-based policy allows the "
        "iam:PassRole action"
    ) in install["diagnostics"]["message"]
    assert outcome.production_after == outcome.production_before


def test_codedeploys_role_must_trust_codedeploy(system: Emulated) -> None:
    with untrusting(system, "CodeDeployRole") as arn:
        outcome = release(system, "codedeploy-untrusted")
    assert outcome.deployment is not None
    assert outcome.deployment["errorInformation"] == {
        "code": "IAM_ROLE_PERMISSIONS",
        "message": f"AWS CodeDeploy does not have the permissions required to assume the "
        f"role {arn}.",
    }
    assert [(r.service, r.operation) for r in outcome.refusals] == [("sts", "AssumeRole")]
    assert outcome.production_after == outcome.production_before


# --------------------------------------------------------------- the task execution role


def test_an_execution_role_that_may_not_pull_stops_every_task_and_the_release_fails(
    system: Emulated,
) -> None:
    with without(system, "ExecutionRole", "ecr:BatchGetImage"):
        outcome = release(system, "execution-without-pull")
    assert outcome.deployment is not None
    assert outcome.deployment["errorInformation"]["code"] == "ECS_UPDATE_ERROR"
    reasons = _stopped_reasons(system)
    registry = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
    assert any(
        r.startswith(
            "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed "
            f"to resolve ref {registry}/sample3-dev-webapp:"
        )
        and r.endswith(" 403 Forbidden")
        for r in reasons
    )
    # What ECS shows names neither; the refusal the emulator kept names both.
    assert {r.operation for r in outcome.refusals} == {"BatchGetImage"}
    message = outcome.refusals[0].message
    assert message.startswith(session_of("ExecutionRole", system))
    assert message.endswith(
        "is not authorized to perform: ecr:BatchGetImage on resource: "
        f"arn:aws:ecr:{REGION}:{ACCOUNT}:repository/sample3-dev-webapp because no "
        "identity-based policy allows the ecr:BatchGetImage action"
    )
    assert outcome.production_after == outcome.production_before


def test_an_execution_role_that_may_not_write_the_routers_logs_stops_its_tasks(
    system: Emulated,
) -> None:
    with without(system, "ExecutionRole", "logs:CreateLogStream"):
        outcome = release(system, "execution-without-logs")
    assert outcome.deployment is not None and outcome.deployment["status"] == "Failed"
    prefix = (
        "ResourceInitializationError: failed to validate logger args: create stream has been "
        "retried 1 times: failed to create Cloudwatch log stream: AccessDeniedException: "
        + session_of("ExecutionRole", system)
    )
    matching = [r for r in _stopped_reasons(system) if r.startswith(prefix)]
    assert matching
    assert matching[0].endswith(
        "because no identity-based policy allows the logs:CreateLogStream action : exit status 1"
    )
    assert {r.operation for r in outcome.refusals} == {"CreateLogStream"}
    assert outcome.production_after == outcome.production_before


def test_a_task_role_ecs_cannot_assume_fails_the_install(system: Emulated) -> None:
    with untrusting(system, "ExecutionRole") as arn:
        outcome = release(system, "execution-untrusted")
    assert outcome.deployment is not None
    assert outcome.deployment["errorInformation"] == {
        "code": "ECS_UPDATE_ERROR",
        "message": (
            f"Failed to create the replacement task set: ECS was unable to assume the role "
            f"'{arn}' that was provided for this task. Please verify that the role being "
            "passed has the proper trust relationship and permissions and that your IAM "
            "user has permissions to pass this role."
        ),
    }
    assert outcome.production_after == outcome.production_before


# --------------------------------------------------------------------- the task role


def test_a_task_role_that_may_not_write_logs_loses_the_logs_but_not_the_release(
    system: Emulated,
) -> None:
    # FireLens's output runs in the task as the task role; a refused write is an error in
    # the router's own log, the records are dropped, the task keeps serving.
    logs = system.aws.clients().logs
    before = len(system.aws.refusals)
    with without(system, "TaskRole", "logs:PutLogEvents"):
        outcome = release(system, "task-without-put")
        logs.filter_log_events(logGroupName="/bluegreen/sample3-dev/webapp")  # flushes
    assert (outcome.status, outcome.deployment and outcome.deployment["status"]) == (
        "Succeeded",
        "Succeeded",
    )
    router = [
        e["message"]
        for e in logs.filter_log_events(logGroupName="/bluegreen/sample3-dev/log-router")["events"]
        if "[error]" in e["message"]
    ]
    assert any(
        "[error] [output:cloudwatch_logs:cloudwatch_logs.0] PutLogEvents API responded with "
        "error='AccessDeniedException', message='" + session_of("TaskRole", system) in line
        for line in router
    )
    assert {r.operation for r in denials(system.aws.refusals[before:])} == {"PutLogEvents"}
    assert outcome.production_after != outcome.production_before
