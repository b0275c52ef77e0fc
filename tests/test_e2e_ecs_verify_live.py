"""Issue 11 review F2: [verify] checks added to (and removed from) a live ECS-engine
system with `bluegreen deploy`, instead of destroy and deploy.

The service stack keeps the service as deployed (aws/owned.py: a CloudFormation update of
an ECS-controlled blue/green service would deploy the template's bootstrap revision);
the hook function and its invoke role are new resources of the stack, and the service's
deploymentConfiguration.lifecycleHooks, which names them, is set with UpdateService
after the stack update made them. "This parameter doesn't trigger a new service
deployment" (UpdateService request, deploymentConfiguration, botocore's ECS model). The
real CLI against the emulated AWS; what the tests compare with is read through the
emulated AWS's API.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ecs_support import CLUSTER, ECS_CONFIG, SERVICE, release
from emulated import Emulated, wired

from bluegreen import config as config_mod
from bluegreen.emulator import Emulator


@pytest.fixture
def deployed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    with wired(tmp_path, monkeypatch, capsys, config_mod.parse(ECS_CONFIG)) as emulated:
        done = emulated.cli("deploy", "--yes")
        assert done.code == 0, done.err
        yield emulated


def _service(aws: Emulator) -> dict[str, Any]:
    found: dict[str, Any] = aws.client("ecs").describe_services(
        cluster=CLUSTER, services=[SERVICE]
    )["services"][0]
    return found


def _deployments(aws: Emulator) -> int:
    return len(
        aws.client("ecs").list_service_deployments(
            cluster=CLUSTER, service=SERVICE, maxResults=100
        )["serviceDeployments"]
    )


def test_deploy_adds_and_removes_verify_checks_on_a_live_ecs_system(deployed: Emulated) -> None:
    aws = deployed.aws
    before = _deployments(aws)
    hooks = _service(aws)["deploymentConfiguration"].get("lifecycleHooks") or []
    assert [h["targetType"] for h in hooks] == ["PAUSE"]
    _checks(deployed, '[{ path = "/", status = 200 }]')
    done = deployed.cli("deploy", "--yes")
    assert done.code == 0, done.err
    said = " ".join(done.out.split())
    assert (
        "set deployment configuration (deployment.*): lifecycleHooks PAUSE at "
        "POST_TEST_TRAFFIC_SHIFT -> AWS_LAMBDA at POST_TEST_TRAFFIC_SHIFT, PAUSE at "
        "POST_TEST_TRAFFIC_SHIFT with ecs:UpdateService"
    ) in said
    # The stack made the hook function and the role ECS invokes it with; the service's
    # hook names them (read through the emulated AWS, not bluegreen's code).
    stack = aws.client("cloudformation").describe_stacks(StackName=SERVICE)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    function = aws.client("lambda").get_function(FunctionName=FUNCTION)["Configuration"]
    hooks = _service(aws)["deploymentConfiguration"]["lifecycleHooks"]
    assert [h["targetType"] for h in hooks] == ["AWS_LAMBDA", "PAUSE"]
    assert hooks[0]["hookTargetArn"] == function["FunctionArn"]
    role = hooks[0]["roleArn"].rsplit("/", 1)[-1]
    trust = aws.client("iam").get_role(RoleName=role)["Role"]["AssumeRolePolicyDocument"]
    assert "ecs.amazonaws.com" in str(trust)
    assert _deployments(aws) == before  # "doesn't trigger a new service deployment"

    # Deployed again unchanged: nothing to send.
    again = deployed.cli("deploy", "--yes")
    assert again.code == 0, again.err
    assert "with ecs:UpdateService" not in again.out

    # The next release runs the hook at POST_TEST_TRAFFIC_SHIFT, then pauses.
    release(aws, "two")
    deployed.until(lambda: _deployments(aws) > before)
    deployed.until(lambda: _hooks(aws) != [] and _hooks(aws)[-1] != ("AWS_LAMBDA", "IN_PROGRESS"))
    assert _hooks(aws)[0][0] == "AWS_LAMBDA"
    assert _hooks(aws)[0][1] in ("SUCCEEDED", "FAILED")  # it ran; the check's verdict is
    # the data plane's (tests/test_verify_release.py), not this test's subject

    # Checks removed: the hook leaves the service with UpdateService, before the stack
    # update deletes the function (no deployment meanwhile invokes a deleted function).
    deployed.until(lambda: _newest(aws)["status"] not in ("PENDING", "IN_PROGRESS"), limit=7200)
    _checks(deployed, "[]")
    done = deployed.cli("deploy", "--yes")
    assert done.code == 0, done.err
    said = " ".join(done.out.split()) + " " + " ".join(done.err.split())
    assert "lifecycleHooks AWS_LAMBDA at POST_TEST_TRAFFIC_SHIFT, PAUSE at" in said

    progress = " ".join(done.err.split())  # the run's steps, in order
    assert progress.index("-> PAUSE at POST_TEST_TRAFFIC_SHIFT with ecs:UpdateService") < (
        progress.index("VerifyHookFunction AWS::Lambda::Function DELETE_COMPLETE")
    )
    hooks = _service(aws)["deploymentConfiguration"]["lifecycleHooks"]
    assert [h["targetType"] for h in hooks] == ["PAUSE"]
    stack = aws.client("cloudformation").describe_stacks(StackName=SERVICE)["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"


FUNCTION = "CodeDeployHook_sample3-dev-verify"


def _newest(aws: Emulator) -> dict[str, Any]:
    ecs = aws.client("ecs")
    listed = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE, maxResults=100)[
        "serviceDeployments"
    ]
    newest = max(listed, key=lambda d: d["createdAt"])
    found: dict[str, Any] = ecs.describe_service_deployments(
        serviceDeploymentArns=[newest["serviceDeploymentArn"]]
    )["serviceDeployments"][0]
    return found


def _hooks(aws: Emulator) -> list[tuple[str, str]]:
    return [(h["targetType"], h["status"]) for h in _newest(aws).get("lifecycleHookDetails") or []]


def _checks(deployed: Emulated, value: str) -> None:
    """Set [verify] checks in the scaffold's bluegreen.toml, as a user edits it."""
    path = deployed.root / "bluegreen.toml"
    lines = path.read_text(encoding="utf-8").splitlines()
    at = lines.index("[verify]")
    found = next(i for i in range(at, len(lines)) if lines[i].startswith("checks = "))
    end, depth = found, 0
    while True:  # the value may span lines (an array of inline tables)
        depth += lines[end].count("[") - lines[end].count("]")
        if depth <= 0:
            break
        end += 1
    lines[found : end + 1] = [f"checks = {value}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_the_emulated_ecs_refuses_a_lambda_hook_without_its_function(deployed: Emulated) -> None:
    """hookTargetArn: "You must provide this parameter when configuring an AWS_LAMBDA
    lifecycle hook" (DeploymentLifecycleHook, botocore's ECS model); bluegreen always
    names the function (the test above)."""
    from botocore.exceptions import ClientError

    aws = deployed.aws
    live = _service(aws)["deploymentConfiguration"]
    hook = {"targetType": "AWS_LAMBDA", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}
    with pytest.raises(ClientError) as refused:
        aws.client("ecs").update_service(
            cluster=CLUSTER,
            service=SERVICE,
            deploymentConfiguration={**live, "lifecycleHooks": [hook]},
        )
    assert refused.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "hookTargetArn" in refused.value.response["Error"]["Message"]
    assert _service(aws)["deploymentConfiguration"] == live  # nothing changed


def test_checks_removed_from_a_system_created_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The service's entry in the stack, kept as deployed, names the hook function and
    its invoke role when the system was created with checks: the stack keeps them
    (unused; a template naming a resource it lacks is invalid) and the hook leaves the
    service with UpdateService."""
    text = ECS_CONFIG + '[verify]\nchecks = [{ path = "/" }]\n'
    with wired(tmp_path, monkeypatch, capsys, config_mod.parse(text)) as emulated:
        # The stacks only: the first release's checks are the data plane's subject
        # (tests/test_verify_release.py), not this test's.
        done = emulated.cli("deploy", "--yes", "--no-follow")
        assert done.code == 0, done.err
        aws = emulated.aws
        hooks = _service(aws)["deploymentConfiguration"]["lifecycleHooks"]
        assert [h["targetType"] for h in hooks] == ["AWS_LAMBDA", "PAUSE"]
        # Deployed again unchanged (init's scaffold has a check): nothing to send, the
        # hook's ARNs read from the stack's outputs equal the live ones.
        again = emulated.cli("deploy", "--yes", "--no-follow")
        assert again.code == 0, again.err
        assert "with ecs:UpdateService" not in again.out + again.err
        _checks(emulated, "[]")
        done = emulated.cli("deploy", "--yes", "--no-follow")
        assert done.code == 0, done.err
        said = " ".join(done.out.split()) + " " + " ".join(done.err.split())
        assert "kept as deployed, unused: VerifyHookFunction, VerifyHookInvokeRole" in said
        hooks = _service(aws)["deploymentConfiguration"]["lifecycleHooks"]
        assert [h["targetType"] for h in hooks] == ["PAUSE"]
        # Nothing else changed in the stack (outputs alone are no change to CloudFormation).
        stack = aws.client("cloudformation").describe_stacks(StackName=SERVICE)["Stacks"][0]
        assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
        aws.client("lambda").get_function(FunctionName=FUNCTION)  # still there, unused


def test_a_stack_made_before_the_hook_outputs_still_gets_its_hook_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A service stack created with checks before it had the hook outputs: adding them
    alone is no update to CloudFormation ("Cloudformation only determines changes to
    resources to decide if an update is needed", cfn-sphere/cfn-sphere#98), so a change
    of the hook's settings reads the ARNs from the function and the role themselves."""
    from bluegreen.names import ECS_HOOK_OUTPUTS
    from bluegreen.stacks import common
    from bluegreen.stacks import service as service_stack

    real = common.add_output

    def without_hook_outputs(t: Any, names: Any, stack: str, key: str, *rest: Any) -> None:
        if key not in ECS_HOOK_OUTPUTS:
            real(t, names, stack, key, *rest)

    text = ECS_CONFIG + '[verify]\nchecks = [{ path = "/" }]\n'
    with wired(tmp_path, monkeypatch, capsys, config_mod.parse(text)) as emulated:
        with monkeypatch.context() as patch:
            patch.setattr(service_stack, "add_output", without_hook_outputs)
            done = emulated.cli("deploy", "--yes", "--no-follow")
        assert done.code == 0, done.err
        aws = emulated.aws
        outputs = aws.client("cloudformation").describe_stacks(StackName=SERVICE)["Stacks"][0]
        assert not {o["OutputKey"] for o in outputs["Outputs"]} & ECS_HOOK_OUTPUTS
        before = _service(aws)["deploymentConfiguration"]["lifecycleHooks"]
        emulated.configure("deployment", wait_minutes=30)
        done = emulated.cli("deploy", "--yes", "--no-follow")
        assert done.code == 0, done.err
        hooks = _service(aws)["deploymentConfiguration"]["lifecycleHooks"]
        assert [h["targetType"] for h in hooks] == ["AWS_LAMBDA", "PAUSE"]
        assert hooks[0]["hookTargetArn"] == before[0]["hookTargetArn"]
        assert hooks[0]["roleArn"] == before[0]["roleArn"]
        assert hooks[1]["timeoutConfiguration"]["timeoutInMinutes"] == 30
        # The outputs alone were no change to the stack: it was not updated.
        assert "sample3-dev-service: no changes" in done.err
