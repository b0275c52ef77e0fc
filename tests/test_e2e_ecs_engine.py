"""ECS built-in blue/green (deployment.engine = "ecs"): the operating commands end to end,
the real CLI against the emulated AWS, whose ECS runs service deployments by itself
(src/bluegreen/emulator/services/ecs_native.py).

The stacks are the real synthesized templates of `bluegreen init --engine ecs`, created
through the emulated CloudFormation. Releases are started the way the pipeline's deploy
step starts them (RegisterTaskDefinition + UpdateService, bluegreen.stacks.pipeline
DEPLOY_BUILDSPEC); the pipeline itself is not run here. It is in tests/test_rehearse_ecs.py:
the played deploy step's `sleep` waits on the emulator's clock (tests/test_builds_sleep.py),
so its polling follows the deployment.

What the tests compare with is read through the emulated AWS's API (boto3 clients of
the account), never through bluegreen's code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from e2e_support import e2e_fixture, snapshot  # noqa: F401 (fixture)
from ecs_support import CLUSTER, ECS_CONFIG, SERVICE, create_service_stacks, release
from emulated import REGION, T0, Emulated, emulated, wired  # noqa: F401 (fixture)

from bluegreen import config as config_mod
from bluegreen.emulator import Emulator

SHIFTS = {
    "linear": (
        ECS_CONFIG + 'reroute = "auto"\n[deployment.ecs]\nstrategy = "LINEAR"\n'
        "step_percent = 50.0\nstep_bake_minutes = 2\nbake_minutes = 1\n"
    ),
    "canary": (
        ECS_CONFIG + 'reroute = "auto"\n[deployment.ecs]\nstrategy = "CANARY"\n'
        "canary_percent = 10.0\ncanary_bake_minutes = 3\nbake_minutes = 1\n"
    ),
}


@pytest.fixture
def native(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    request: pytest.FixtureRequest,
) -> Iterator[Emulated]:
    """tests/emulated.py's fixture with the `bluegreen init --engine ecs` scaffold (or the
    config a test names by indirect parametrization), its source and service stacks
    created."""
    config = config_mod.parse(getattr(request, "param", ECS_CONFIG))
    with wired(tmp_path, monkeypatch, capsys, config) as system:
        create_service_stacks(system, config)
        yield system


def _stack_status(aws: Emulator, name: str) -> str:
    return str(
        aws.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
    )


def _outputs(aws: Emulator) -> dict[str, str]:
    found = aws.client("cloudformation").describe_stacks(StackName=SERVICE)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in found["Outputs"]}


def _latest(aws: Emulator) -> dict[str, Any]:
    ecs = aws.client("ecs")
    arn = ecs.list_service_deployments(cluster=CLUSTER, service=SERVICE)["serviceDeployments"][0][
        "serviceDeploymentArn"
    ]
    described: dict[str, Any] = ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
        "serviceDeployments"
    ][0]
    return described


def _weights(aws: Emulator, output: str) -> dict[str, int]:
    """Target group name -> weight of a listener rule's forward."""
    rule = _outputs(aws)[output]
    found = aws.client("elbv2").describe_rules(RuleArns=[rule])["Rules"][0]
    groups = found["Actions"][0]["ForwardConfig"]["TargetGroups"]
    return {g["TargetGroupArn"].split("/")[1]: int(g["Weight"]) for g in groups}


def _paused(aws: Emulator) -> bool:
    found = _latest(aws)
    return any(h["status"] == "AWAITING_ACTION" for h in found.get("lifecycleHookDetails", []))


def test_release_pause_promote_bake_rollback_and_what_ecs_refuses(native: Emulated) -> None:
    aws = native.aws
    # The service's creation is its first deployment, and it goes through the hooks too
    # (ECS developer guide, "Amazon ECS blue/green service deployments workflow"); the
    # PAUSE hook of reroute = "manual" held it after the test traffic shift, until the
    # fixture continued it as `bluegreen deploy` does; the stack's create waited for it.
    first = _latest(aws)
    assert first["status"] == "SUCCESSFUL"
    assert [h["status"] for h in first["lifecycleHookDetails"]] == ["SUCCEEDED"]
    assert first["sourceServiceRevisions"] == []

    # -- release 2: green on the test rule, production on blue while paused -------------
    release(aws, "two")
    native.until(lambda: _paused(aws))
    second = _latest(aws)
    assert (second["status"], second["lifecycleStage"]) == (
        "IN_PROGRESS",
        "POST_TEST_TRAFFIC_SHIFT",
    )
    status = native.cli("status", "--output", "json")
    assert status.code == 0, status.err
    shown = json.loads(status.out)["deployment"]
    assert shown["engine"] == "ecs"
    assert (shown["id"], shown["phase"]) == (second["serviceDeploymentArn"], "waiting-for-reroute")
    assert [s["event"] for s in shown["lifecycle"][:6]] == [
        "PRE_SCALE_UP",
        "SCALE_UP",
        "POST_SCALE_UP",
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "hook pause",  # by what it is, not its generated hookId (review U16)
    ]
    assert shown["lifecycle"][5]["status"] == "AWAITING_ACTION"

    # finish has nothing to end before the bake
    refused = native.cli("finish")
    assert refused.code == 1
    assert "not in the bake" in refused.err

    # production's rule is still as the stack wrote it; ECS moved the test rule only
    assert _weights(aws, "ProductionListenerRuleArn") == {
        "sample3-dev-blue": 100,
        "sample3-dev-green": 0,
    }
    assert _weights(aws, "TestListenerRuleArn") == {"sample3-dev-blue": 0, "sample3-dev-green": 1}
    status = native.cli("status")
    assert status.code == 0, status.err
    # status shows the rules' weights (what ECS moves), not the listeners' defaults
    assert (
        "\n  production  :80    blue (sample3-dev-blue) 100%, green (sample3-dev-green) 0%\n"
        in status.out
    )
    assert (
        "\n  test        :8080  blue (sample3-dev-blue) 0%, green (sample3-dev-green) 100%\n"
        in status.out
    )
    assert "\n  hook pause " in status.out and "  AWAITING_ACTION\n" in status.out

    # rollback while paused: ContinueServiceDeployment ROLLBACK
    rolled = native.cli("rollback")
    assert rolled.code == 0, rolled.err
    assert "ContinueServiceDeployment ROLLBACK" in rolled.out
    native.until(lambda: _latest(aws)["status"] == "ROLLBACK_SUCCESSFUL")
    assert _weights(aws, "TestListenerRuleArn") == {"sample3-dev-blue": 1, "sample3-dev-green": 0}

    # -- release 3: promote, then roll back during the bake (StopServiceDeployment) ------
    release(aws, "three")
    native.until(lambda: _paused(aws))
    promoted = native.cli("promote")
    assert promoted.code == 0, promoted.err
    assert promoted.out.startswith("continued service deployment ")
    assert _latest(aws)["lifecycleHookDetails"][0]["status"] == "SUCCEEDED"
    native.until(lambda: _latest(aws)["lifecycleStage"] == "BAKE_TIME")
    # The bake: ECS has no call that ends it; finish refuses, naming the setting.
    refused = native.cli("finish")
    assert refused.code == 1
    assert "ECS has no call that ends a bake" in refused.err
    assert "deployment.ecs.bake_minutes" in refused.err
    # status says when the bake ends and how much is left, by ECS's clock (the Date
    # header of its answer): bake_minutes is 15 by default, and 1 min has passed.
    native.aws.sleep(60)
    shown = native.cli("status")
    assert shown.code == 0, shown.err
    bake = next(line for line in shown.out.splitlines() if line.startswith("  bake: "))
    assert bake.startswith("  bake: ends about ") and bake.endswith(" UTC, 14 min left"), bake
    assert "codedeploy" not in shown.out.lower()
    document = json.loads(native.cli("status", "--output", "json").out)["deployment"]
    assert document["bake_seconds_left"] == 14 * 60
    assert _weights(aws, "ProductionListenerRuleArn") == {
        "sample3-dev-blue": 0,
        "sample3-dev-green": 1,
    }
    rolled = native.cli("rollback")
    assert rolled.code == 0, rolled.err
    assert "stopped service deployment" in rolled.out
    assert "production returns to blue" in rolled.out
    native.until(lambda: _latest(aws)["status"] == "ROLLBACK_SUCCESSFUL")
    found = _latest(aws)
    assert found["rollback"]["serviceRevisionArn"] == found["sourceServiceRevisions"][0]["arn"]
    assert _weights(aws, "ProductionListenerRuleArn") == {
        "sample3-dev-blue": 1,
        "sample3-dev-green": 0,
    }

    # nothing in progress: rollback refuses, promote refuses
    refused = native.cli("rollback")
    assert refused.code == 1 and "already ROLLBACK_SUCCESSFUL" in refused.err
    refused = native.cli("promote")
    assert refused.code == 1 and "not paused for reroute" in refused.err

    # What ECS refuses, through the API: continuing a hook that is not awaiting action
    # (ContinueServiceDeployment API reference: the hook must be AWAITING_ACTION and the
    # deployment IN_PROGRESS), stopping a deployment that has ended, stopType ABORT
    # (StopServiceDeployment: "The valid values are ROLLBACK"), an unknown deployment.
    ecs = aws.client("ecs")
    ended = _latest(aws)
    with pytest.raises(ClientError) as caught:
        ecs.continue_service_deployment(
            serviceDeploymentArn=ended["serviceDeploymentArn"],
            hookId=ended["lifecycleHookDetails"][0]["hookId"],
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        ecs.stop_service_deployment(
            serviceDeploymentArn=ended["serviceDeploymentArn"], stopType="ROLLBACK"
        )
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as caught:
        ecs.stop_service_deployment(
            serviceDeploymentArn=ended["serviceDeploymentArn"], stopType="ABORT"
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        ecs.stop_service_deployment(serviceDeploymentArn=ended["serviceDeploymentArn"] + "0")
    assert caught.value.response["Error"]["Code"] == "ServiceDeploymentNotFoundException"
    many = ecs.describe_service_deployments(
        serviceDeploymentArns=[ended["serviceDeploymentArn"] + "0"]
    )
    assert many["failures"] == [{"arn": ended["serviceDeploymentArn"] + "0", "reason": "MISSING"}]
    with pytest.raises(ClientError) as caught:
        ecs.describe_service_deployments(serviceDeploymentArns=["x"] * 21)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"


def test_rollback_after_success_redeploys_the_previous_revision(native: Emulated) -> None:
    aws = native.aws
    assert _latest(aws)["status"] == "SUCCESSFUL"  # the service's creation
    first_revision = aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])[
        "services"
    ][0]["taskDefinition"]
    second = release(aws, "two")
    native.until(lambda: _paused(aws))
    assert native.cli("promote").code == 0
    native.until(lambda: _latest(aws)["status"] == "SUCCESSFUL", limit=3600)
    listed = aws.client("ecs").list_service_deployments(cluster=CLUSTER, service=SERVICE)
    before = len(listed["serviceDeployments"])

    # After success: UpdateService with the replaced revision's task definition
    # (DescribeServiceRevisions), followed and continued at its pause, as asked.
    rolled = native.cli("rollback")
    assert rolled.code == 0, rolled.err
    short = first_revision.rsplit("/", 1)[-1]
    assert rolled.out.startswith(f"production (:80) serves {short} again (service deployment ")
    assert second.rsplit("/", 1)[-1] != short
    assert "is paused: continuing it, as you asked to roll back" in rolled.err
    latest = _latest(aws)
    assert latest["lifecycleStage"] in ("BAKE_TIME", "CLEAN_UP")
    listed = aws.client("ecs").list_service_deployments(cluster=CLUSTER, service=SERVICE)
    assert len(listed["serviceDeployments"]) == before + 1
    revisions = aws.client("ecs").describe_service_revisions(
        serviceRevisionArns=[latest["targetServiceRevision"]["arn"]]
    )["serviceRevisions"]
    assert revisions[0]["taskDefinition"] == first_revision
    assert _weights(aws, "ProductionListenerRuleArn") == {
        "sample3-dev-blue": 1,
        "sample3-dev-green": 0,
    }


def test_switching_a_live_codedeploy_system_to_ecs_is_refused_with_the_steps(
    e2e: Emulated,
) -> None:
    """Issue 10 item 5, the refusal route: `deploy` of engine = "ecs" over a running
    CodeDeploy system exits 2 and changes nothing (the stacks, their templates and
    change sets, the service), naming the ways to move."""
    deployed = e2e.cli("deploy", "--yes")
    assert deployed.code == 0, deployed.err
    before = snapshot(e2e.aws)
    # The user switches the engine, dropping the CodeDeploy-only keys the config refuses
    # under "ecs" (config.py).
    e2e.configure("deployment", engine="ecs", config=None, termination_wait_minutes=None)
    refused = e2e.cli("deploy", "--yes")
    assert refused.code == 2, refused.err
    assert (
        'deployment.engine changes from "codedeploy" to "ecs", but the live service '
        "(Service) runs the CODE_DEPLOY deployment controller"
    ) in refused.err
    assert '`bluegreen destroy`, set deployment.engine = "ecs", `bluegreen deploy`' in (
        " ".join(refused.err.split())
    )
    assert "migrate-codedeploy-to-ecs-bluegreen.html" in refused.err.replace("\n", "")
    assert snapshot(e2e.aws) == before


@pytest.mark.parametrize(
    ("native", "steps"),
    [
        # LINEAR 50 %: half, a 2-minute step bake, then all (ECS API reference,
        # LinearConfiguration); CANARY 10 %: a tenth, a 3-minute bake, then the rest
        # (CanaryConfiguration). The emulator writes percentages x 10 as rule weights.
        (SHIFTS["linear"], [(500, 500), (0, 1)]),
        (SHIFTS["canary"], [(900, 100), (0, 1)]),
    ],
    indirect=["native"],
    ids=["linear", "canary"],
)
def test_linear_and_canary_shift_production_in_steps_without_a_pause(
    native: Emulated, steps: list[tuple[int, int]]
) -> None:
    aws = native.aws
    native.until(lambda: _latest(aws)["status"] == "SUCCESSFUL", limit=3600)
    release(aws, "two")
    seen: list[tuple[int, int]] = []

    def shifted() -> bool:
        weights = _weights(aws, "ProductionListenerRuleArn")
        pair = (weights["sample3-dev-blue"], weights["sample3-dev-green"])
        if pair != (100, 0) and (not seen or seen[-1] != pair):
            seen.append(pair)
        return bool(_latest(aws)["status"] == "SUCCESSFUL")

    native.until(shifted, limit=3600, step=10)
    assert seen == steps
    found = _latest(aws)
    # reroute = "auto": no PAUSE hook, nobody promoted
    assert "lifecycleHookDetails" not in found
    assert found["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0


def _labels(native: Emulated) -> tuple[dict[str, str], dict[str, Any], str]:
    """`bluegreen status` read twice: JSON (target group -> label, the deployment) and
    text."""
    document = native.cli("status", "--output", "json")
    assert document.code == 0, document.err
    data = json.loads(document.out)
    text = native.cli("status")
    assert text.code == 0, text.err
    return {g["name"]: g["label"] for g in data["target_groups"]}, data["deployment"], text.out


def test_status_keeps_blue_and_green_through_the_production_shift(native: Emulated) -> None:
    """Review F3: for the whole release, blue is the target group of the revision
    production was on when the deployment started (sourceServiceRevisions) and green the
    target revision's (ServiceRevision.resolvedConfiguration.loadBalancers, ECS API
    reference), as CodeDeploy labels its task sets (taskSetLabel), in text and JSON.
    Release 2 moves production to sample3-dev-green; release 3's green is then
    sample3-dev-blue, before and after its production shift."""
    aws = native.aws
    release(aws, "two")
    native.until(lambda: _paused(aws))
    assert native.cli("promote").code == 0
    native.until(lambda: _latest(aws)["status"] == "SUCCESSFUL", limit=7200)
    labels, _, _ = _labels(native)
    # Between releases, blue is what production serves.
    assert labels == {"sample3-dev-blue": "green", "sample3-dev-green": "blue"}

    release(aws, "three")
    native.until(lambda: _paused(aws))
    labels, deployment, text = _labels(native)
    expected = {"sample3-dev-blue": "green", "sample3-dev-green": "blue"}
    assert labels == expected
    assert {t["label"]: t["target_group"] for t in deployment["task_sets"]} == {
        "green": "sample3-dev-blue",
        "blue": "sample3-dev-green",
    }
    assert "  test        :8080  blue (sample3-dev-green) 0%, green (sample3-dev-blue) 100%" in text
    assert native.cli("promote").code == 0
    native.until(lambda: _latest(aws)["lifecycleStage"] == "BAKE_TIME")
    labels, deployment, text = _labels(native)
    assert labels == expected  # production moved; the names did not
    assert deployment["phase"] == "bake-time"  # ECS's BAKE_TIME stage
    assert ": IN_PROGRESS (bake-time)\n" in text
    assert "  production  :80    blue (sample3-dev-green) 0%, green (sample3-dev-blue) 100%" in text
    assert "\n  green  sample3-dev-blue " in text and "\n  blue   sample3-dev-green " in text
