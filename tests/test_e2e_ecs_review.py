"""Findings of the AWS-engineer review of the ECS built-in blue/green engine
(/work/notes/review-ecs-dataplane.md, issue 10): E2 (deployment configuration applied out
of band), E3 (rollback after success finds its own deployment), E4 (ListServiceDeployments
read to the end, in no particular order), E5/E6 (the emulator's StopServiceDeployment
states and lifecycle hooks), E8 (promote_if_ready's errors).

The real CLI against the emulated AWS (tests/emulated.py); what the tests compare with is
read through the emulated AWS's API, never through bluegreen's code.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from ecs_support import CLUSTER, ECS_CONFIG, SERVICE, create_service_stacks, release, stubbed_engine
from emulated import REGION, Emulated, wired

from bluegreen import config as config_mod
from bluegreen.aws import owned
from bluegreen.emulator import Emulator
from bluegreen.errors import UsageError
from bluegreen.stacks import build


@pytest.fixture
def deployed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    """`bluegreen init --engine ecs` deployed with `bluegreen deploy --yes` against a fresh
    emulated account (the stacks, the first commit and the first release)."""
    with wired(tmp_path, monkeypatch, capsys, config_mod.parse(ECS_CONFIG)) as emulated:
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


def _awaiting(d: dict[str, Any]) -> dict[str, Any] | None:
    return next(
        (h for h in d.get("lifecycleHookDetails", []) if h["status"] == "AWAITING_ACTION"), None
    )


def _execution(aws: Emulator) -> str:
    """The status of the pipeline's newest execution."""
    found = aws.client("codepipeline").list_pipeline_executions(
        pipelineName="sample3-dev-pipeline"
    )["pipelineExecutionSummaries"]
    return str(max(found, key=lambda e: e["startTime"])["status"])


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

    # The next release, through the pipeline (git push, Build, the Deploy step), pauses
    # with the new timeout. ListServiceDeployments answers a page of one, oldest first
    # (E4: no order is documented, and "it's possible the number of results is fewer
    # than maxResults", ListServiceDeployments request, nextToken, botocore's ECS
    # model): the Deploy step still finds its own deployment, reading every page.
    native = aws.service("ecs").native
    native.oldest_first, native.page_size = True, 1
    before = len(_deployments(aws))
    deployed.adopt_first_commit()
    main = (deployed.root / "webapp/app/main.py").read_text(encoding="utf-8")
    assert "Hello" in main
    deployed.push("Say hi", {"webapp/app/main.py": main.replace("Hello", "Hi")})
    deployed.until(lambda: len(_deployments(aws)) > before, limit=1800)
    deployed.until(lambda: _awaiting(_newest(aws)) is not None)
    newest = _newest(aws)
    hook = _awaiting(newest)
    assert hook is not None
    waited = (hook["expiresAt"] - newest["updatedAt"]).total_seconds()
    assert 30 * 60 <= waited <= 31 * 60  # from the stage's start, a moment before the hook
    assert deployed.cli("promote").code == 0
    deployed.until(lambda: _newest(aws)["status"] == "SUCCESSFUL", limit=3600)
    deployed.until(lambda: _execution(aws) != "InProgress", limit=1800)
    assert _execution(aws) == "Succeeded"  # the Deploy step followed its own deployment
    native.oldest_first, native.page_size = False, None

    # reroute = "auto": the PAUSE hook is removed, and the next release does not pause.
    deployed.configure("deployment", reroute="auto", wait_minutes=None)
    done = deployed.cli("deploy", "--yes")
    assert done.code == 0, done.err
    assert _service(aws)["deploymentConfiguration"].get("lifecycleHooks") in (None, [])
    release(aws, "three")
    deployed.until(lambda: _newest(aws)["status"] == "SUCCESSFUL", limit=3600)
    assert "lifecycleHookDetails" not in _newest(aws)

    # Another strategy: LINEAR with its configuration, and back; the emulator refuses a
    # linearConfiguration under another strategy as ECS does ("Only valid when the
    # deployment strategy is LINEAR", DeploymentConfiguration), and deploy never sends one.
    deployed.configure("deployment.ecs", strategy="LINEAR", step_percent=50.0, step_bake_minutes=1)
    done = deployed.cli("deploy", "--yes")
    assert done.code == 0, done.err
    live = _service(aws)["deploymentConfiguration"]
    assert (live["strategy"], live["linearConfiguration"]["stepPercent"]) == ("LINEAR", 50.0)
    deployed.configure(
        "deployment.ecs", strategy="BLUE_GREEN", step_percent=None, step_bake_minutes=None
    )
    done = deployed.cli("deploy", "--yes")
    assert done.code == 0, done.err
    live = _service(aws)["deploymentConfiguration"]
    assert live["strategy"] == "BLUE_GREEN" and "linearConfiguration" not in live
    assert len(_deployments(aws)) == before + 2  # the two releases only


# ---- E3/E4: rollback after success, a lagging and unordered listing ------------------------


@pytest.fixture
def stacks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Emulated]:
    """The source and service stacks of `bluegreen init --engine ecs` created through the
    emulated CloudFormation (no pipeline: releases are made as the deploy step makes
    them), the service's creation continued at its pause as `bluegreen deploy` does."""
    config = config_mod.parse(ECS_CONFIG)
    with wired(tmp_path, monkeypatch, capsys, config) as emulated:
        create_service_stacks(emulated, config)
        yield emulated


def test_rollback_after_success_follows_its_own_deployment_when_the_list_lags(
    stacks: Emulated,
) -> None:
    """E3: ListServiceDeployments lists the rollback's deployment only 30 s after the
    UpdateService that started it (nothing documents how soon it does), one deployment a
    page, oldest first (E4). Rollback must follow the new deployment, not report the
    previous SUCCESSFUL one as "serves again" while the real rollback waits at its pause
    until it times out."""
    aws = stacks.aws
    first = _service(aws)["taskDefinition"]
    second = release(aws, "two")
    stacks.until(lambda: _awaiting(_newest(aws)) is not None)
    assert stacks.cli("promote").code == 0
    stacks.until(lambda: _newest(aws)["status"] == "SUCCESSFUL", limit=3600)
    released = _newest(aws)["serviceDeploymentArn"]

    native = aws.service("ecs").native
    native.listing_delay, native.oldest_first, native.page_size = 30.0, True, 1
    rolled = stacks.cli("rollback")
    assert rolled.code == 0, rolled.err
    native.listing_delay = 0.0
    newest = _newest(aws)
    assert newest["serviceDeploymentArn"] != released
    assert newest["lifecycleStage"] in ("BAKE_TIME", "CLEAN_UP")  # past its pause
    revision = aws.client("ecs").describe_service_revisions(
        serviceRevisionArns=[newest["targetServiceRevision"]["arn"]]
    )["serviceRevisions"][0]
    assert revision["taskDefinition"] == first != second
    short = first.rsplit("/", 1)[-1]
    assert rolled.out.startswith(f"production (:80) serves {short} again (service deployment ")
    assert newest["serviceDeploymentArn"].rsplit("/", 1)[-1] in rolled.out

    # status reads every page and the newest by createdAt, whatever the order.
    shown = stacks.cli("status", "-o", "json")
    assert shown.code == 0, shown.err
    assert newest["serviceDeploymentArn"] in shown.out


def test_rollback_fails_when_no_new_deployment_appears(stacks: Emulated) -> None:
    """E3's bound: if ECS lists no new deployment within the deploy step's bound (24 looks
    5 s apart), rollback fails (exit 1) and never follows the previous deployment."""
    aws = stacks.aws
    release(aws, "two")
    stacks.until(lambda: _awaiting(_newest(aws)) is not None)
    assert stacks.cli("promote").code == 0
    stacks.until(lambda: _newest(aws)["status"] == "SUCCESSFUL", limit=3600)

    aws.service("ecs").native.listing_delay = 600.0  # older ones stay listed
    rolled = stacks.cli("rollback")
    assert rolled.code == 1
    assert "ECS lists no new service deployment for sample3-dev-service after 120 s" in (
        " ".join(rolled.err.split())
    )
    assert "serves" not in rolled.out


# ---- E8: promote_if_ready when the hook is no longer awaiting action -----------------------

PAUSED_ARN = "arn:aws:ecs:ap-northeast-1:123456789012:service-deployment/c/s/abc"


def _deployment(hook_status: str) -> dict[str, Any]:
    return {
        "serviceDeploymentArn": PAUSED_ARN,
        "status": "IN_PROGRESS",
        "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "lifecycleHookDetails": [
            {"hookId": "ecs-pause-x", "targetType": "PAUSE", "status": hook_status}
        ],
    }


@pytest.mark.parametrize("code", ["ClientException", "InvalidParameterException"])
@pytest.mark.parametrize("then", ["SUCCEEDED", "AWAITING_ACTION"])
def test_promote_if_ready_reads_again_after_a_refused_continue(code: str, then: str) -> None:
    """ContinueServiceDeployment refused (its documented errors include ClientException
    and InvalidParameterException, botocore's ECS model; which one ECS gives for a hook
    no longer AWAITING_ACTION is not documented): keep following if the hook left
    AWAITING_ACTION meanwhile, raise if it still awaits. Stubbed: the emulator cannot
    time the race between the read and the call, nor does it answer ClientException."""
    import boto3
    from botocore.stub import Stubber

    from bluegreen.aws.errors import AwsCallError

    client = boto3.client(
        "ecs", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    engine = stubbed_engine(client)
    with Stubber(client) as stub:
        stub.add_response(
            "describe_service_deployments", {"serviceDeployments": [_deployment("AWAITING_ACTION")]}
        )
        view = engine.deployment(PAUSED_ARN)
        stub.add_response(
            "describe_service_deployments", {"serviceDeployments": [_deployment("AWAITING_ACTION")]}
        )
        stub.add_client_error("continue_service_deployment", service_error_code=code)
        stub.add_response(
            "describe_service_deployments", {"serviceDeployments": [_deployment(then)]}
        )
        if then == "SUCCEEDED":
            assert engine.promote_if_ready(view) is None
        else:
            with pytest.raises(AwsCallError):
                engine.promote_if_ready(view)
        stub.assert_no_pending_responses()


# ---- E5/E6: the emulator's StopServiceDeployment states and hooks at the shift stages ------


def _status(aws: Emulator, arn: str) -> str:
    return str(
        aws.client("ecs").describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"
        ][0]["status"]
    )


def test_stop_service_deployment_in_each_documented_state(stacks: Emulated) -> None:
    """E5: "You can stop a deployment that is in any of the following states": PENDING and
    IN_PROGRESS move to ROLLBACK_REQUESTED; STOP_REQUESTED, ROLLBACK_REQUESTED and
    ROLLBACK_IN_PROGRESS go on as they were (ECS developer guide, "Stopping Amazon ECS
    service deployments"). An ended deployment cannot be stopped."""
    from botocore.exceptions import ClientError

    aws, ecs = stacks.aws, stacks.aws.client("ecs")
    release(aws, "two")
    two = _newest(aws)["serviceDeploymentArn"]
    stacks.until(lambda: _status(aws, two) == "IN_PROGRESS")
    release(aws, "three")  # "two" is asked to roll back; "three" waits, PENDING
    three = _newest(aws)["serviceDeploymentArn"]
    assert (_status(aws, two), _status(aws, three)) == ("ROLLBACK_REQUESTED", "PENDING")

    assert ecs.stop_service_deployment(serviceDeploymentArn=two)["serviceDeploymentArn"] == two
    assert _status(aws, two) in ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
    answer = ecs.stop_service_deployment(serviceDeploymentArn=three, stopType="ROLLBACK")
    assert answer["serviceDeploymentArn"] == three
    assert _status(aws, three) == "ROLLBACK_REQUESTED"
    stacks.until(lambda: _status(aws, three) == "ROLLBACK_SUCCESSFUL")
    assert _status(aws, two) == "ROLLBACK_SUCCESSFUL"
    with pytest.raises(ClientError) as caught:
        ecs.stop_service_deployment(serviceDeploymentArn=three)
    assert caught.value.response["Error"]["Code"] == "ConflictException"


def test_hooks_at_the_shift_stages_run_and_pause_hooks_are_refused_there(
    stacks: Emulated,
) -> None:
    """E6: TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT take (AWS_LAMBDA) hooks, and
    "PAUSE hooks cannot be configured at TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT
    stages" (DeploymentLifecycleHook.lifecycleStages, botocore's ECS model). bluegreen's
    stacks never trip the refusal: their PAUSE hook is at POST_TEST_TRAFFIC_SHIFT, and the
    fixture created them through the same checks."""
    from botocore.exceptions import ClientError

    aws, ecs = stacks.aws, stacks.aws.client("ecs")
    live = _service(aws)["deploymentConfiguration"]
    assert [h["lifecycleStages"] for h in live["lifecycleHooks"]] == [["POST_TEST_TRAFFIC_SHIFT"]]
    for stage in ("TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"):
        pause = {**live["lifecycleHooks"][0], "lifecycleStages": [stage]}
        with pytest.raises(ClientError) as caught:
            ecs.update_service(
                cluster=CLUSTER,
                service=SERVICE,
                deploymentConfiguration={**live, "lifecycleHooks": [pause]},
            )
        assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
        assert stage in caught.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as caught:
        ecs.update_service(
            cluster=CLUSTER,
            service=SERVICE,
            deploymentConfiguration={**live, "linearConfiguration": {"stepPercent": 50.0}},
        )
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
    assert _service(aws)["deploymentConfiguration"] == live  # nothing changed

    # A Lambda hook at TEST_TRAFFIC_SHIFT runs there: ECS assumes the hook's role to
    # invoke it, and this role does not exist, so the hook fails at that stage and the
    # deployment rolls back, saying why.
    lambda_hook = {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": "arn:aws:lambda:ap-northeast-1:123456789012:function:check",
        "roleArn": "arn:aws:iam::123456789012:role/hook",
        "lifecycleStages": ["TEST_TRAFFIC_SHIFT"],
    }
    ecs.update_service(
        cluster=CLUSTER,
        service=SERVICE,
        deploymentConfiguration={**live, "lifecycleHooks": [lambda_hook]},
    )
    release(aws, "two")
    stacks.until(lambda: _newest(aws)["status"] == "ROLLBACK_SUCCESSFUL")
    ended = _newest(aws)
    assert ended["lifecycleStage"] == "TEST_TRAFFIC_SHIFT"
    assert "could not assume the lifecycle hook's role" in ended["rollback"]["reason"]
    assert [h["status"] for h in ended["lifecycleHookDetails"]] == ["FAILED"]


# ---- E9: the CodeBuild action's time limit ------------------------------------------------


def test_the_deploy_step_fits_the_codebuild_action_limit_at_both_edges() -> None:
    """ "CodeBuild build action and test action: 8 hours ... All other actions: 1 hour"
    (Quotas in AWS CodePipeline: awsdocs/aws-codepipeline-user-guide doc_source/limits.md,
    its last revision 3ae4404; the live page's non-configurable-timeouts table, where the
    CodeBuild row now is, was not in the stored sources). The config refuses a Deploy
    step that would need more, and accepts one that needs exactly that."""
    from bluegreen.config import CODEBUILD_ACTION_LIMIT_MINUTES, deploy_step_minutes
    from bluegreen.errors import ConfigError

    assert CODEBUILD_ACTION_LIMIT_MINUTES == 8 * 60
    default = config_mod.parse(ECS_CONFIG)
    assert deploy_step_minutes(default.deployment) <= CODEBUILD_ACTION_LIMIT_MINUTES
    room = CODEBUILD_ACTION_LIMIT_MINUTES - deploy_step_minutes(default.deployment)
    wait = default.deployment.wait_minutes + room
    last = config_mod.parse(f"{ECS_CONFIG}wait_minutes = {wait}\n")
    assert deploy_step_minutes(last.deployment) == CODEBUILD_ACTION_LIMIT_MINUTES
    with pytest.raises(ConfigError) as caught:
        config_mod.parse(f"{ECS_CONFIG}wait_minutes = {wait + 1}\n")
    assert "minutes CodePipeline lets a CodeBuild action run" in str(caught.value)


def test_rollback_no_follow_after_success_names_the_deployment_it_started(
    stacks: Emulated,
) -> None:
    """`rollback --no-follow -o json` after a succeeded release: the document names the
    new service deployment its UpdateService started (not the succeeded one), the
    revision it redeploys and where it was when the command returned."""
    aws = stacks.aws
    first = _service(aws)["taskDefinition"]
    release(aws, "two")
    stacks.until(lambda: _awaiting(_newest(aws)) is not None)
    assert stacks.cli("promote").code == 0
    stacks.until(lambda: _newest(aws)["status"] == "SUCCESSFUL", limit=3600)
    released = _newest(aws)["serviceDeploymentArn"]

    rolled = stacks.cli("rollback", "--no-follow", "-o", "json")
    assert rolled.code == 0, rolled.err
    started = _newest(aws)["serviceDeploymentArn"]
    assert started != released
    short = started.rsplit("/", 1)[-1]
    assert json.loads(rolled.out) == {
        "ok": True,
        "action": "rollback",
        "deployment_id": released,
        "message": f"service deployment {released.rsplit('/', 1)[-1]} had succeeded: started "
        f"service deployment {short}, which deploys {first.rsplit('/', 1)[-1]} (the release "
        "it replaced) again; when it pauses (green on :8080), `bluegreen promote` moves "
        "production to it",
        "started_deployment": started,
        "revision": first,
        "phase": "queued",
        "promoted": False,
    }
