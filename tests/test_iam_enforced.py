"""Roles enforced (issue 9, item 4): the release path up to the deployment.

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
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulated import Emulated
from iam_support import (
    ACCOUNT,
    PIPELINE,
    denials,
    deployed,
    release,
    role_arn,
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


def test_the_unmodified_scaffold_trips_no_access_denied(system: Emulated) -> None:
    # The deploy (stacks, first commit, first release) and a release through the rule.
    assert denials(system.aws.refusals) == []
    outcome = release(system, "clean")
    assert outcome.status == "Succeeded"
    assert outcome.deployment is not None and outcome.deployment["status"] == "Succeeded"
    assert outcome.refusals == []
    assert serving(outcome.production_after) != serving(outcome.production_before)


# ------------------------------------------------------------------ the EventBridge rule


def test_the_rules_role_must_start_the_pipeline(system: Emulated) -> None:
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


def test_the_rules_role_must_trust_eventbridge(system: Emulated) -> None:
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


@pytest.mark.parametrize(
    ("action", "failed_action", "start"),
    [
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
    ],
)
def test_the_pipeline_role_needs_each_permission_of_its_actions(
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


def test_passrole_is_checked_on_the_role_passed_and_the_service_it_is_passed_to(
    system: Emulated,
) -> None:
    # iam:PassRole on the task role, to ECS: the RegisterTaskDefinition the Deploy action
    # makes is refused on the first role the policy does not let pass.
    with without(system, "PipelineRole", "iam:PassRole"):
        outcome = release(system, "passrole")
    (refusal,) = outcome.refusals
    assert (refusal.service, refusal.operation) == ("ecs", "RegisterTaskDefinition")
    assert f"iam:PassRole on resource: {role_arn(system, 'TaskRole')} " in refusal.message


def test_the_pipeline_role_must_trust_codepipeline(system: Emulated) -> None:
    with untrusting(system, "PipelineRole") as arn:
        outcome = release(system, "pipeline-untrusted")
    assert (outcome.status, outcome.failed_action) == ("Failed", "Source")
    assert outcome.error == f"CodePipeline is not authorized to perform AssumeRole on role {arn}"
    assert outcome.production_after == outcome.production_before


# ---------------------------------------------------------------------- the build role


@pytest.mark.parametrize(
    ("action", "phase", "code"),
    [
        ("s3:GetObject", "DOWNLOAD_SOURCE", "CLIENT_ERROR"),
        ("ecr:GetAuthorizationToken", "PRE_BUILD", "COMMAND_EXECUTION_ERROR"),
        ("ecr:DescribeImages", "BUILD", "COMMAND_EXECUTION_ERROR"),
        ("ecr:PutImage", "BUILD", "COMMAND_EXECUTION_ERROR"),
    ],
)
def test_the_build_role_needs_the_artifacts_and_the_registry(
    system: Emulated, action: str, phase: str, code: str
) -> None:
    with without(system, "AppBuildRole", action):
        outcome = release(system, f"build-without-{action}")
    assert (outcome.status, outcome.failed_action) == ("Failed", "BuildApp")
    # CodePipeline's text for a failed build (its Build action's error details).
    assert outcome.error.startswith(
        f"Build terminated with state: FAILED. Phase: {phase}, Code: {code}, Message: "
    )
    # CodeBuild names its session AWSCodeBuild-<build uuid> (juspay/hyperswitch-cdk#37).
    assert f"{session_of('AppBuildRole', system)}AWSCodeBuild-" in outcome.error
    assert f"is not authorized to perform: {action}" in outcome.error
    assert f"because no identity-based policy allows the {action} action" in outcome.error
    (refusal,) = outcome.refusals
    assert refusal.message in outcome.error
    assert outcome.production_after == outcome.production_before


def test_a_role_back_in_shape_releases_again(system: Emulated) -> None:
    outcome = release(system, "restored")
    assert (outcome.status, outcome.refusals) == ("Succeeded", [])
