"""Roles enforced (issue 9, item 4): every role of the stacks, through releases.

The scaffold is deployed once into the emulated account (tests/iam_support.py); each
scenario takes a permission the system needs out of one of the stacks' roles (as a
template change removing it would), pushes a release, and checks that the release fails
where AWS would fail it, with AWS's AccessDenied naming the role and the action, and that
production stays where it was. The roles' own policies are evaluated with IAM's logic
(IAM User Guide, "Policy evaluation logic"); the messages follow "Troubleshoot access
denied error messages" ("User: <assumed-role ARN> is not authorized to perform: <action>
on resource: <ARN> because no identity-based policy allows the <action> action").

Sources for what each service shows: awslabs/cdk-eks-blueprints#483 (CodePipeline's
"Error calling startBuild: ... (Service: AWSCodeBuild; Status Code: 400; Error Code:
AccessDeniedException; ...)"); CodePipeline's console text for a source action whose role
may not read the repository ("The service role or action role doesn't have the
permissions required to access the AWS CodeCommit repository named ..."); the CodePipeline
user guide, "Amazon ECS and CodeDeploy blue-green deploy action reference" (the CodeDeploy
calls the Deploy action makes); the IAM User Guide, "Granting a user permissions to pass a
role to an AWS service" (iam:PassRole with iam:PassedToService).

For CodeDeploy's service role, the task execution role and the task role, sources: the
ECS developer guide, "Amazon ECS CodeDeploy IAM Role" (the managed
AWSCodeDeployRoleForECSLimited; "you must add the iam:PassRole permission for each task
execution role or task role override"); CodeDeploy's IAM_ROLE_PERMISSIONS text ("The IAM
role <arn> does not give you permission to perform operations in the following AWS
service: AWSLambda. ...", terraform-aws-modules/terraform-aws-lambda#77); the ECR User
Guide, "Using Amazon ECR images with Amazon ECS" (a Fargate task's execution role needs
ecr:GetAuthorizationToken, ecr:BatchGetImage, ecr:GetDownloadUrlForLayer); a task
stopped for a refused pull (aws/aws-cdk#29876: "CannotPullContainerError: ... 403
Forbidden") or a refused awslogs stream ("ResourceInitializationError: failed to
validate logger args: create stream has been retried 1 times: failed to create
Cloudwatch log stream: AccessDeniedException: User: ...",
doctorray117/minecraft-ondemand#12); the deployment then times out in Install after 60
minutes (CircleCI-Public/aws-ecs-orb#134); Fluent Bit's line for a refused call
(fluent-bit flb_aws_print_error); ECS refusing a role that does not trust
ecs-tasks.amazonaws.com (tmknom/terraform-aws-codedeploy-for-ecs#18).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulated import Emulated
from iam_support import (
    ACCOUNT,
    CLUSTER,
    PIPELINE,
    SERVICE,
    denials,
    deployed,
    release,
    role_arn,
    role_name,
    serving,
    session_of,
    untrusting,
    without,
)

from bluegreen.emulator.core import Refusal

REGION = "ap-northeast-1"


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulated]:
    with deployed(tmp_path_factory.mktemp("iam")) as built:
        yield built


def _refused(refusals: list[Refusal], operation: str) -> str:
    messages = [r.message for r in refusals if r.operation == operation]
    assert messages, f"no refusal of {operation}"
    return messages[0]


def _check_the_unmodified_scaffold_trips_no_access_denied(system: Emulated) -> None:
    # The deploy (stacks, first commit, first release) and a release through the rule.
    assert denials(system.aws.refusals) == []
    outcome = release(system, "clean")
    assert outcome.status == "Succeeded"
    assert outcome.deployment is not None and outcome.deployment["status"] == "Succeeded"
    assert outcome.refusals == []
    assert serving(outcome.production_after) != serving(outcome.production_before)
    # Issue 9 item 6, CodeDeploy as AWS reports it (API model DeploymentStatus): InProgress,
    # Ready while it waits for the reroute (the scaffold's STOP_DEPLOYMENT), InProgress
    # again through the termination wait, Succeeded; the pipeline execution agrees.
    assert outcome.statuses[-4:] == ["InProgress", "Ready", "InProgress", "Succeeded"]
    # Since 2022 CodeDeploy keeps the original target group in the forward at weight 0
    # (AWS support's statement quoted in traveloka/terraform-aws-alb-single-listener #44).
    assert sorted(outcome.production_after.values()) == [0, 100]
    assert outcome.production_after.keys() == outcome.production_before.keys()


# ------------------------------------------------------------------ the EventBridge rule


def _check_the_rules_role_must_start_the_pipeline(system: Emulated) -> None:
    with without(system, "SourceEventRole", "codepipeline:StartPipelineExecution"):
        outcome = release(system, "rule-without-start")
    assert outcome.execution is None  # the pipeline never started
    message = _refused(outcome.refusals, "StartPipelineExecution")
    assert message.startswith(session_of("SourceEventRole", system))
    assert message.endswith(
        " is not authorized to perform: codepipeline:StartPipelineExecution on resource: "
        f"arn:aws:codepipeline:{REGION}:{ACCOUNT}:{PIPELINE} because no identity-based "
        "policy allows the codepipeline:StartPipelineExecution action"
    )
    assert outcome.production_after == outcome.production_before


def _check_the_rules_role_must_trust_eventbridge(system: Emulated) -> None:
    with untrusting(system, "SourceEventRole") as arn:
        outcome = release(system, "rule-untrusted")
    assert outcome.execution is None
    assert [(r.service, r.operation, r.message) for r in outcome.refusals] == [
        (
            "sts",
            "AssumeRole",
            f"events.amazonaws.com is not authorized to perform: sts:AssumeRole on resource: {arn}",
        )
    ]


# ------------------------------------------------------------------- the pipeline role


def _check_the_pipeline_role_needs_each_permission_of_its_actions(
    system: Emulated, action: str, failed_action: str, start: str
) -> None:
    with without(system, "PipelineRole", action):
        outcome = release(system, f"pipeline-without-{action}")
    assert outcome.status == "Failed"
    assert outcome.failed_action == failed_action
    assert outcome.error.startswith(start + session_of("PipelineRole", system))
    assert f"is not authorized to perform: {action} on resource: " in outcome.error
    assert outcome.error.split(" (Service:")[0].endswith(
        f"because no identity-based policy allows the {action} action"
    )
    assert [r.message.split(" is not")[1] for r in outcome.refusals] == [
        outcome.error.removeprefix(start).split(" (Service:")[0].split(" is not")[1]
    ]
    assert outcome.deployment is None or outcome.deployment["status"] != "Succeeded"
    assert outcome.production_after == outcome.production_before


def _check_passrole_is_checked_on_the_role_passed_and_the_service_it_is_passed_to(
    system: Emulated,
) -> None:
    # iam:PassRole on the task role, to ECS: the RegisterTaskDefinition the Deploy action
    # makes is refused on the first role the policy does not let pass.
    with without(system, "PipelineRole", "iam:PassRole"):
        outcome = release(system, "passrole")
    (refusal,) = outcome.refusals
    assert (refusal.service, refusal.operation) == ("ecs", "RegisterTaskDefinition")
    assert f"iam:PassRole on resource: {role_arn(system, 'TaskRole')} " in refusal.message


def _check_the_pipeline_role_must_trust_codepipeline(system: Emulated) -> None:
    with untrusting(system, "PipelineRole") as arn:
        outcome = release(system, "pipeline-untrusted")
    assert (outcome.status, outcome.failed_action) == ("Failed", "Source")
    assert outcome.error == f"CodePipeline is not authorized to perform AssumeRole on role {arn}"
    assert outcome.production_after == outcome.production_before


# ---------------------------------------------------------------------- the build role


def _check_the_build_role_needs_the_artifacts_and_the_registry(
    system: Emulated, action: str, phase: str, code: str
) -> None:
    with without(system, "AppBuildRole", action):
        outcome = release(system, f"build-without-{action}")
    assert (outcome.status, outcome.failed_action) == ("Failed", "BuildApp")
    # CodePipeline's text for a failed build (its Build action's error details).
    assert outcome.error.startswith(
        f"Build terminated with state: FAILED. Phase: {phase}, Code: {code}, Message: "
    )
    (refusal,) = outcome.refusals
    # CodeBuild names its session AWSCodeBuild-<build uuid> (juspay/hyperswitch-cdk#37).
    assert f"{session_of('AppBuildRole', system)}AWSCodeBuild-" in refusal.message
    assert f"is not authorized to perform: {action}" in refusal.message
    assert f"because no identity-based policy allows the {action} action" in refusal.message
    if code != "COMMAND_EXECUTION_ERROR":  # CodeBuild's own call: its text is the context
        assert refusal.message in outcome.error
        return
    # A command's failure: the phase context names the command only ("Error while
    # executing command: ... Reason: exit status 1"); the refusal is in the build's log.
    assert outcome.error.endswith("Reason: exit status 1")
    logged = _build_log_lines(system, f"is not authorized to perform: {action}")
    # The AWS CLI prints "An error occurred (<Code>) when calling the <Op> operation: ...",
    # docker push "denied: <message>".
    assert any(refusal.message in line for line in logged), logged
    assert outcome.production_after == outcome.production_before


def _build_log_lines(system: Emulated, text: str) -> list[str]:
    """The lines of the builds' CloudWatch logs that hold ``text``."""
    logs = system.aws.clients().logs
    groups = logs.get_paginator("describe_log_groups").paginate()
    return [
        event["message"]
        for page in groups
        for group in page["logGroups"]
        for events in logs.get_paginator("filter_log_events").paginate(
            logGroupName=group["logGroupName"]
        )
        for event in events["events"]
        if text in event["message"]
    ]


def _check_a_role_back_in_shape_releases_again(system: Emulated) -> None:
    outcome = release(system, "restored")
    assert (outcome.status, outcome.refusals) == ("Succeeded", [])


PIPELINE_ROLE_CASES = [  # (action taken out, the action that fails, its error's start)
    (
        "codecommit:GetBranch",
        "Source",
        "The service role or action role doesn\u2019t have the permissions required to "
        "access the AWS CodeCommit repository named sample3-dev-webappservice. Update "
        "the IAM role permissions, and then try again. Error: ",
    ),
    ("s3:PutObject", "Source", "AccessDenied: "),
    ("codebuild:StartBuild", "BuildApp", "Error calling startBuild: "),
    (
        "iam:PassRole",
        "Deploy",
        "Failed to register the task definition from taskdef.json: AccessDeniedException: ",
    ),
    ("codedeploy:CreateDeployment", "Deploy", "AccessDeniedException: "),
    ("codedeploy:GetApplicationRevision", "Deploy", "AccessDeniedException: "),
]


BUILD_ROLE_CASES = [  # (action taken out, the build phase that fails, its code)
    ("s3:GetObject", "DOWNLOAD_SOURCE", "CLIENT_ERROR"),
    ("ecr:GetAuthorizationToken", "PRE_BUILD", "COMMAND_EXECUTION_ERROR"),
    ("ecr:DescribeImages", "BUILD", "COMMAND_EXECUTION_ERROR"),
    ("ecr:PutImage", "BUILD", "COMMAND_EXECUTION_ERROR"),
]


# ======================================================== the deployment and the tasks

LIMITED = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECSLimited"


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


def _check_codedeploys_role_without_its_managed_policy_fails_the_deployment(
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
    # The event that failed says which action was refused, to which role; the events
    # after it are Skipped (API model LifecycleEventStatus).
    events = _events(system, outcome.deployment["deploymentId"])
    assert {name: e["status"] for name, e in events.items()} == {
        "BeforeInstall": "Failed",
        **{name: "Skipped" for name in events if name != "BeforeInstall"},
    }
    diagnostics = events["BeforeInstall"]
    message = diagnostics["diagnostics"]["message"]
    assert message.startswith(session_of("CodeDeployRole", system))
    assert message.endswith(
        "is not authorized to perform: ecs:DescribeServices on resource: "
        f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/{CLUSTER}/{SERVICE} because no "
        "identity-based policy allows the ecs:DescribeServices action"
    )
    assert [r.message for r in outcome.refusals] == [message]
    assert outcome.production_after == outcome.production_before


def _check_codedeploys_role_must_pass_the_task_roles_to_ecs(system: Emulated) -> None:
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


def _check_codedeploys_role_must_trust_codedeploy(system: Emulated) -> None:
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


def _check_an_execution_role_that_may_not_pull_stops_every_task_and_the_release_fails(
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


def _check_an_execution_role_that_may_not_write_the_routers_logs_stops_its_tasks(
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


def _check_an_execution_role_ecs_cannot_assume_fails_the_install(system: Emulated) -> None:
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


def _check_a_task_role_that_may_not_write_logs_loses_the_logs_but_not_the_release(
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


def test_each_role_of_the_stacks_is_enforced(system: Emulated) -> None:
    """One deployed system, its scenarios in order (one test, so that pytest-xdist does not
    deploy it once per worker): the scaffold as is, then each role without a permission
    or a trust, the release path first, then the deployment and the tasks."""
    _check_the_unmodified_scaffold_trips_no_access_denied(system)
    _check_the_rules_role_must_start_the_pipeline(system)
    _check_the_rules_role_must_trust_eventbridge(system)
    for case in PIPELINE_ROLE_CASES:
        _check_the_pipeline_role_needs_each_permission_of_its_actions(system, *case)
    _check_passrole_is_checked_on_the_role_passed_and_the_service_it_is_passed_to(system)
    _check_the_pipeline_role_must_trust_codepipeline(system)
    for case in BUILD_ROLE_CASES:
        _check_the_build_role_needs_the_artifacts_and_the_registry(system, *case)
    _check_a_role_back_in_shape_releases_again(system)
    _check_codedeploys_role_without_its_managed_policy_fails_the_deployment(system)
    _check_codedeploys_role_must_pass_the_task_roles_to_ecs(system)
    _check_codedeploys_role_must_trust_codedeploy(system)
    _check_an_execution_role_that_may_not_pull_stops_every_task_and_the_release_fails(system)
    _check_an_execution_role_that_may_not_write_the_routers_logs_stops_its_tasks(system)
    _check_an_execution_role_ecs_cannot_assume_fails_the_install(system)
    _check_a_task_role_that_may_not_write_logs_loses_the_logs_but_not_the_release(system)
