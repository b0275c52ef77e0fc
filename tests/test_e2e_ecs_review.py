"""Findings of the AWS-engineer review of the ECS built-in blue/green engine
(/work/notes/review-ecs-dataplane.md, issue 10): E2 (deployment configuration applied out
of band), E3 (rollback after success finds its own deployment), E4 (ListServiceDeployments
read to the end, in no particular order), E5/E6 (the emulator's StopServiceDeployment
states and lifecycle hooks), E8 (promote_if_ready's errors).

The real CLI against the emulated AWS (tests/emulated.py); what the tests compare with is
read through the emulated AWS's API, never through bluegreen's code.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from emulated import REGION, T0, Emulated

from bluegreen import config as config_mod
from bluegreen.aws import owned
from bluegreen.config import Config
from bluegreen.emulator import Emulator
from bluegreen.errors import UsageError
from bluegreen.stacks import build

CLUSTER = "sample3-dev-cluster"
SERVICE = "sample3-dev-service"
ECS_CONFIG = '[deployment]\nengine = "ecs"\n'


@pytest.fixture
def deployed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    """`bluegreen init --engine ecs` deployed with `bluegreen deploy --yes` against a fresh
    emulated account (the stacks, the first commit and the first release)."""
    from bluegreen.appkit import init
    from bluegreen.cli import common

    root = tmp_path / "app"
    init(root, config_mod.parse(ECS_CONFIG))
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:

        def make_clients(config: Config, profile: str | None, region: str | None) -> Any:
            common.invocation().region = region or config.project.region
            return aws.clients()

        monkeypatch.setattr(common, "make_clients", make_clients)
        monkeypatch.setattr(common, "sleep", aws.sleep)
        monkeypatch.setattr(common, "interactive", lambda: False)
        emulated = Emulated(aws, root, capsys)
        done = emulated.cli("deploy", "--yes")
        assert done.code == 0, done.err
        yield emulated


def _service(aws: Emulator) -> dict[str, Any]:
    found: dict[str, Any] = aws.client("ecs").describe_services(
        cluster=CLUSTER, services=[SERVICE]
    )["services"][0]
    return found


def _deployments(aws: Emulator) -> list[dict[str, Any]]:
    """Every service deployment, read to the last page (nextToken)."""
    ecs, found, token = aws.client("ecs"), [], None
    while True:
        page = ecs.list_service_deployments(
            cluster=CLUSTER, service=SERVICE, **({"nextToken": token} if token else {})
        )
        found += page["serviceDeployments"]
        token = page.get("nextToken")
        if not token:
            return found


def _newest(aws: Emulator) -> dict[str, Any]:
    arn = max(_deployments(aws), key=lambda d: d["createdAt"])["serviceDeploymentArn"]
    described: dict[str, Any] = aws.client("ecs").describe_service_deployments(
        serviceDeploymentArns=[arn]
    )["serviceDeployments"][0]
    return described


def _release(aws: Emulator, tag: str) -> str:
    """What the pipeline's deploy step does: register a revision, UpdateService."""
    ecs = aws.client("ecs")
    definition = ecs.describe_task_definition(taskDefinition=_service(aws)["taskDefinition"])[
        "taskDefinition"
    ]
    keep = (
        "family",
        "containerDefinitions",
        "cpu",
        "memory",
        "networkMode",
        "requiresCompatibilities",
        "executionRoleArn",
        "taskRoleArn",
    )
    body = {k: definition[k] for k in keep if k in definition}
    body["containerDefinitions"][0]["environment"] = [{"name": "RELEASE", "value": tag}]
    arn = str(ecs.register_task_definition(**body)["taskDefinition"]["taskDefinitionArn"])
    ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)
    return arn


def _awaiting(d: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (h for h in d.get("lifecycleHookDetails", []) if h["status"] == "AWAITING_ACTION"), None
    )


# ---- E2: the deployment configuration, out of band ------------------------------------------


def _service_template(text: str) -> dict[str, Any]:
    template: dict[str, Any] = yaml.safe_load(build(config_mod.parse(text))[1].to_yaml())
    return template


def test_a_deployment_configuration_change_is_kept_for_update_service() -> None:
    """The review's reproduction: bake 15 -> 5 and wait 10 -> 30 on an ECS service is no
    longer refused; it is returned for UpdateService, in the API's names."""
    before = _service_template(ECS_CONFIG)
    after = _service_template(
        '[deployment]\nengine = "ecs"\nwait_minutes = 30\n[deployment.ecs]\nbake_minutes = 5\n'
    )
    kept = owned.keep_codedeploy_owned(before, after)
    assert kept.template["Resources"]["Service"] == before["Resources"]["Service"]
    wanted = owned.update_value(
        "DeploymentConfiguration", kept.out_of_band["DeploymentConfiguration"]
    )
    assert wanted == {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 5,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "lifecycleHooks": [
            {
                "targetType": "PAUSE",
                "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                "timeoutConfiguration": {"timeoutInMinutes": 30, "action": "ROLLBACK"},
            }
        ],
    }
    # reroute = "auto": no hook, sent as an empty list so the PAUSE hook goes.
    auto = _service_template('[deployment]\nengine = "ecs"\nreroute = "auto"\n')
    kept = owned.keep_codedeploy_owned(before, auto)
    converted = owned.update_value(
        "DeploymentConfiguration", kept.out_of_band["DeploymentConfiguration"]
    )
    assert converted["lifecycleHooks"] == []


def test_what_an_ecs_service_cannot_change_is_refused_naming_its_controller() -> None:
    before = _service_template(ECS_CONFIG)
    after = _service_template(ECS_CONFIG)
    after["Resources"]["Service"]["Properties"]["PlatformVersion"] = "1.3.0"
    with pytest.raises(UsageError) as caught:
        owned.keep_codedeploy_owned(before, after)
    assert str(caught.value).startswith(
        "the config changes what an ECS-controlled service (built-in blue/green) cannot "
        "change in place:"
    )
    assert "CODE_DEPLOY" not in str(caught.value)


def test_differs_ignores_what_ecs_adds_and_compares_numbers_by_value() -> None:
    live = {"strategy": "LINEAR", "maximumPercent": 200, "linearConfiguration": {"stepPercent": 10}}
    assert not owned.differs(
        live, {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 10.0}}
    )
    assert owned.differs(live, {"linearConfiguration": {"stepPercent": 10.1}})
    assert owned.differs({"lifecycleHooks": [{"targetType": "PAUSE"}]}, {"lifecycleHooks": []})
    assert not owned.differs({}, {"lifecycleHooks": []})  # no hooks live, none wanted


def test_deploy_applies_bake_wait_and_reroute_with_update_service_and_starts_no_deployment(
    deployed: Emulated,
) -> None:
    """E2 through `bluegreen deploy`: the change `bluegreen finish` points to is applied
    with UpdateService; "This parameter doesn't trigger a new service deployment"
    (UpdateService request, deploymentConfiguration, botocore's ECS model), so none
    starts, and the next release runs under the new configuration."""
    aws = deployed.aws
    before = len(_deployments(aws))
    deployed.configure("deployment.ecs", bake_minutes=5)
    deployed.configure("deployment", wait_minutes=30)
    done = deployed.cli("deploy", "--yes")
    assert done.code == 0, done.err
    assert (
        "set deployment configuration (deployment.*): bakeTimeInMinutes 15 -> 5, "
        "lifecycleHooks[0].timeoutConfiguration.timeoutInMinutes 10 -> 30 with "
        "ecs:UpdateService"
    ) in done.out
    assert "ECS starts no deployment for a deployment configuration change" in " ".join(
        done.err.split()
    )
    live = _service(aws)["deploymentConfiguration"]
    assert live["bakeTimeInMinutes"] == 5
    assert live["lifecycleHooks"][0]["timeoutConfiguration"]["timeoutInMinutes"] == 30
    assert len(_deployments(aws)) == before  # no deployment started
    # The service stack kept the service as deployed (its template is the bootstrap's).
    stack = aws.client("cloudformation").describe_stacks(StackName=SERVICE)["Stacks"][0]
    assert stack["StackStatus"] in ("CREATE_COMPLETE", "UPDATE_COMPLETE")

    # Deployed again with nothing changed: nothing is sent.
    again = deployed.cli("deploy", "--yes")
    assert again.code == 0, again.err
    assert "with ecs:UpdateService" not in again.out

    # The next release pauses with the new timeout.
    _release(aws, "two")
    deployed.until(lambda: _awaiting(_newest(aws)) is not None)
    newest = _newest(aws)
    hook = _awaiting(newest)
    assert hook is not None
    waited = (hook["expiresAt"] - newest["updatedAt"]).total_seconds()
    assert 30 * 60 <= waited <= 31 * 60  # from the stage's start, a moment before the hook
    assert deployed.cli("promote").code == 0
    deployed.until(lambda: _newest(aws)["status"] == "SUCCESSFUL", limit=3600)

    # reroute = "auto": the PAUSE hook is removed, and the next release does not pause.
    deployed.configure("deployment", reroute="auto", wait_minutes=None)
    done = deployed.cli("deploy", "--yes")
    assert done.code == 0, done.err
    assert _service(aws)["deploymentConfiguration"].get("lifecycleHooks") in (None, [])
    _release(aws, "three")
    deployed.until(lambda: _newest(aws)["status"] == "SUCCESSFUL", limit=3600)
    assert "lifecycleHookDetails" not in _newest(aws)
