"""AppSpec lifecycle hooks played by the emulated CodeDeploy (issue 9, item 5).

Sources: D2 the CodeDeploy User Guide, "AppSpec 'hooks' section for an Amazon ECS
deployment" (a hook is a Lambda function; it reports with
PutLifecycleEventHookExecutionStatus, Succeeded or Failed; "The deployment is considered to
have failed if CodeDeploy is not notified by the Lambda validation function within one
hour"); D4 the CodeDeploy API model (PutLifecycleEventHookExecutionStatus and its errors);
the AWS managed policy AWSCodeDeployRoleForECSLimited (moto's copy of AWS's catalogue,
moto/iam/aws_managed_policies.py, and the ECS developer guide, "Amazon ECS CodeDeploy IAM
Role"), which lets CodeDeploy invoke only functions named CodeDeployHook_*.

One system per module (tests/emulator_system.py): each scenario is one deployment on it.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_system import APP, GROUP, REGION, T0, System, build

from bluegreen.emulator import Emulator, hooks

ACCOUNT = "123456789012"
HOOK = "AfterAllowTestTraffic"


@pytest.fixture(scope="module")
def system() -> Iterator[System]:
    with Emulator(REGION, start=T0) as aws:
        built = build(aws, ready="CONTINUE_DEPLOYMENT", termination_minutes=0)
        # Lambda functions: their execution roles may report hook results.
        iam = built.clients.iam
        for name, actions in (
            ("hook-reports", ["codedeploy:PutLifecycleEventHookExecutionStatus"]),
            ("hook-silent", []),
        ):
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=_trust("lambda.amazonaws.com"))
            if actions:
                iam.put_role_policy(
                    RoleName=name,
                    PolicyName="report",
                    PolicyDocument=json.dumps(
                        {
                            "Version": "2012-10-17",
                            "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}],
                        }
                    ),
                )
        yield built


def _trust(service: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}
            ],
        }
    )


def _function(system: System, name: str, role: str = "hook-reports", code: str = "") -> str:
    """CreateFunction (moto's Lambda: the function exists; its code never runs)."""
    awslambda = system.aws.client("lambda")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", code or f"# {name}\ndef handler(event, context): ...\n")
    created = awslambda.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=f"arn:aws:iam::{ACCOUNT}:role/{role}",
        Handler="index.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    return str(created["CodeSha256"])


def _deploy(system: System, function: str, event: str = HOOK) -> str:
    appspec = {
        "Resources": [
            {
                "TargetService": {
                    "Type": "AWS::ECS::Service",
                    "Properties": {
                        "TaskDefinition": system.register(system.app_image),
                        "LoadBalancerInfo": {"ContainerName": "webapp", "ContainerPort": 80},
                    },
                }
            }
        ],
        "Hooks": [{event: function}],
    }
    deployment_id: str = system.clients.codedeploy.create_deployment(
        applicationName=APP,
        deploymentGroupName=GROUP,
        revision={
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": json.dumps(appspec)},
        },
    )["deploymentId"]
    return deployment_id


def _settled(system: System, deployment_id: str) -> dict[str, Any]:
    """The deployment once it ended, and its rollback (if any) once that ended."""
    system.wait_for(
        lambda: system.deployment(deployment_id)["status"] in ("Succeeded", "Failed", "Stopped"),
        step=15,
    )
    info = system.deployment(deployment_id)
    rollback = (info.get("rollbackInfo") or {}).get("rollbackDeploymentId")
    if rollback:
        system.wait_for(lambda: system.deployment(rollback)["status"] != "InProgress", step=5)
    return info


def _event(system: System, deployment_id: str, name: str = HOOK) -> dict[str, Any]:
    return next(
        e
        for e in system.target(deployment_id)["lifecycleEvents"]
        if e["lifecycleEventName"] == name
    )


# ------------------------------------------------------------------- missing, unknown


def test_a_hook_naming_no_function_fails_at_its_event(system: System) -> None:
    info = _settled(system, _deploy(system, "CodeDeployHook_missing"))
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "INVALID_LAMBDA_FUNCTION"
    assert info["errorInformation"]["message"].endswith(
        f"Function not found: arn:aws:lambda:{REGION}:{ACCOUNT}:function:CodeDeployHook_missing"
    )


def test_a_function_of_unknown_code_fails_the_release_unless_declared(system: System) -> None:
    _function(system, "CodeDeployHook_unknown")
    deployment = _deploy(system, "CodeDeployHook_unknown")
    info = _settled(system, deployment)
    assert info["status"] == "Failed"
    assert info["errorInformation"]["code"] == "HOOK_EXECUTION_FAILURE"
    assert info["errorInformation"]["message"].startswith(
        "the emulator cannot run Lambda function CodeDeployHook_unknown's code"
    )
    assert _event(system, deployment)["status"] == "Failed"
    # Production never left the original task set; test traffic is back on it.
    assert system.forwards(system.production) == {"demo-blue": 100}


# -------------------------------------------------------------------- declared plays


def test_declared_plays_report_through_the_api_as_the_functions_role(system: System) -> None:
    codedeploy = system.aws.service("codedeploy")
    _function(system, "CodeDeployHook_declared")
    codedeploy.play_hooks({"CodeDeployHook_declared": "fail"})
    failed = _deploy(system, "CodeDeployHook_declared")
    info = _settled(system, failed)
    assert (info["status"], info["errorInformation"]["code"]) == (
        "Failed",
        "HOOK_EXECUTION_FAILURE",
    )
    assert info["errorInformation"]["message"] == (
        f"The {HOOK} hook CodeDeployHook_declared reported Failed."
    )
    codedeploy.play_hooks({"CodeDeployHook_declared": "succeed"})
    passed = _deploy(system, "CodeDeployHook_declared")
    assert _settled(system, passed)["status"] == "Succeeded"
    assert _event(system, passed)["status"] == "Succeeded"
    with pytest.raises(ValueError, match="choose one of succeed, fail, timeout"):
        codedeploy.play_hooks({"CodeDeployHook_declared": "pass"})


def test_a_hook_that_never_reports_fails_after_one_hour(system: System) -> None:
    # D2: "The deployment is considered to have failed if CodeDeploy is not notified by
    # the Lambda validation function within one hour".
    codedeploy = system.aws.service("codedeploy")
    _function(system, "CodeDeployHook_silent")
    codedeploy.play_hooks({"CodeDeployHook_silent": "timeout"})
    deployment = _deploy(system, "CodeDeployHook_silent")
    info = _settled(system, deployment)
    event = _event(system, deployment)
    assert info["errorInformation"]["message"] == (
        f"The {HOOK} hook CodeDeployHook_silent did not report its result with "
        "PutLifecycleEventHookExecutionStatus within one hour."
    )
    waited = (event["endTime"] - event["startTime"]).total_seconds()
    assert 3600 <= waited < 3600 + 30


# -------------------------------------------------------------------- registered code


def test_registered_code_runs_in_process_with_the_functions_clients(system: System) -> None:
    seen: list[dict[str, str]] = []

    def validate(event: dict[str, str], clients: Any) -> None:
        seen.append(event)
        clients.codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )

    sha = _function(system, "CodeDeployHook_registered", code="# bluegreen's own\n")
    hooks.register(sha, validate)  # by the code's hash: the function's name may be any
    try:
        deployment = _deploy(system, "CodeDeployHook_registered")
        assert _settled(system, deployment)["status"] == "Succeeded"
    finally:
        hooks.unregister(sha)
    assert [e["DeploymentId"] for e in seen] == [deployment]
    assert set(seen[0]) == {"DeploymentId", "LifecycleEventHookExecutionId"}


def test_a_functions_role_that_may_not_report_lets_the_hour_run_out(system: System) -> None:
    def validate(event: dict[str, str], clients: Any) -> None:
        clients.codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded",
        )

    _function(system, "CodeDeployHook_norights", role="hook-silent")
    hooks.register("CodeDeployHook_norights", validate)  # by name
    before = len(system.aws.refusals)
    try:
        deployment = _deploy(system, "CodeDeployHook_norights")
        info = _settled(system, deployment)
    finally:
        hooks.unregister("CodeDeployHook_norights")
    assert info["status"] == "Failed"
    assert "within one hour" in info["errorInformation"]["message"]
    refused = [r for r in system.aws.refusals[before:] if r.code == "AccessDeniedException"]
    assert [r.operation for r in refused] == ["PutLifecycleEventHookExecutionStatus"]
    assert refused[0].message.startswith(f"User: arn:aws:sts::{ACCOUNT}:assumed-role/hook-silent/")
    assert refused[0].message.endswith(
        f"is not authorized to perform: codedeploy:PutLifecycleEventHookExecutionStatus on "
        f"resource: arn:aws:codedeploy:{REGION}:{ACCOUNT}:deploymentgroup:{APP}/{GROUP} "
        "because no identity-based policy allows the "
        "codedeploy:PutLifecycleEventHookExecutionStatus action"
    )


# ----------------------------------------------------------- the service role's rights


def test_the_limited_managed_policy_invokes_only_codedeployhook_functions(system: System) -> None:
    iam = system.clients.iam
    role = system.codedeploy_role.rsplit("/", 1)[-1]
    original = iam.get_role_policy(RoleName=role, PolicyName="all")["PolicyDocument"]
    limited = "arn:aws:iam::aws:policy/AWSCodeDeployRoleForECSLimited"
    iam.delete_role_policy(RoleName=role, PolicyName="all")
    iam.attach_role_policy(RoleName=role, PolicyArn=limited)
    iam.put_role_policy(
        RoleName=role,
        PolicyName="pass",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": [system.execution_role, system.task_role],
                        "Condition": {
                            "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
                        },
                    }
                ],
            }
        ),
    )
    # AWS's document, as moto ships it: InvokeFunction only on CodeDeployHook_* functions.
    document = iam.get_policy_version(PolicyArn=limited, VersionId="v3")["PolicyVersion"][
        "Document"
    ]
    document = json.loads(document) if isinstance(document, str) else document
    assert {
        "Action": ["lambda:InvokeFunction"],
        "Effect": "Allow",
        "Resource": "arn:aws:lambda:*:*:function:CodeDeployHook_*",
    } in document["Statement"]
    codedeploy = system.aws.service("codedeploy")
    try:
        _function(system, "validate")
        codedeploy.play_hooks({"validate": "succeed", "CodeDeployHook_validate": "succeed"})
        refused = _settled(system, _deploy(system, "validate"))
        assert refused["errorInformation"] == {
            "code": "IAM_ROLE_PERMISSIONS",
            "message": (
                f"The IAM role {system.codedeploy_role} does not give you permission to "
                "perform operations in the following AWS service: AWSLambda. Contact your AWS "
                "administrator if you need help. If you are an AWS administrator, you can "
                "grant permissions to your users or groups by creating IAM policies."
            ),
        }
        last = system.aws.refusals[-1]
        assert (last.service, last.operation) == ("lambda", "Invoke")
        assert f"assumed-role/{role}/" in last.message
        assert (
            "is not authorized to perform: lambda:InvokeFunction on resource: "
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:validate because no "
            "identity-based policy allows the lambda:InvokeFunction action"
        ) in last.message
        _function(system, "CodeDeployHook_validate")
        assert _settled(system, _deploy(system, "CodeDeployHook_validate"))["status"] == (
            "Succeeded"
        )
    finally:
        iam.detach_role_policy(RoleName=role, PolicyArn=limited)
        iam.delete_role_policy(RoleName=role, PolicyName="pass")
        iam.put_role_policy(RoleName=role, PolicyName="all", PolicyDocument=json.dumps(original))


# ------------------------------------------------------ PutLifecycleEventHookExecutionStatus


def test_put_lifecycle_event_hook_execution_status_refuses_what_aws_refuses(
    system: System,
) -> None:
    reports: list[tuple[str, str]] = []
    outcomes: list[str] = []

    def validate(event: dict[str, str], clients: Any) -> None:
        reports.append((event["DeploymentId"], event["LifecycleEventHookExecutionId"]))
        put = clients.codedeploy.put_lifecycle_event_hook_execution_status
        for status, execution in (
            ("InProgress", event["LifecycleEventHookExecutionId"]),  # D4: only Succeeded/Failed
            ("Succeeded", "not-an-execution"),
            ("Succeeded", event["LifecycleEventHookExecutionId"]),
            ("Failed", event["LifecycleEventHookExecutionId"]),  # already reported
        ):
            try:
                put(
                    deploymentId=event["DeploymentId"],
                    lifecycleEventHookExecutionId=execution,
                    status=status,
                )
                outcomes.append("ok")
            except ClientError as exc:
                outcomes.append(str(exc.response["Error"]["Code"]))

    _function(system, "CodeDeployHook_strict")
    hooks.register("CodeDeployHook_strict", validate)
    try:
        deployment = _deploy(system, "CodeDeployHook_strict")
        assert _settled(system, deployment)["status"] == "Succeeded"
    finally:
        hooks.unregister("CodeDeployHook_strict")
    assert outcomes == [
        "InvalidLifecycleEventHookExecutionStatusException",
        "InvalidLifecycleEventHookExecutionIdException",
        "ok",
        "LifecycleEventAlreadyCompletedException",
    ]
    with pytest.raises(ClientError) as caught:
        system.clients.codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId="d-NOTHERE00", lifecycleEventHookExecutionId="x", status="Succeeded"
        )
    assert caught.value.response["Error"]["Code"] == "DeploymentDoesNotExistException"
