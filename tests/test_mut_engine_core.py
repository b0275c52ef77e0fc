"""bluegreen.engine's shared part: the views commands print, finding the live service's
engine from its stacks and its deployment controller, and why it cannot be found.

Stubbed (botocore's Stubber checks each request against the service model): these pin
the requests and every refusal's words in milliseconds; the same paths run end to end
against the emulated AWS in test_e2e_*.py.

Sources, by short name:

- STACK_STATUS: CloudFormation user guide, "Stack status codes" (CREATE_FAILED,
  ROLLBACK_IN_PROGRESS, ROLLBACK_COMPLETE, ROLLBACK_FAILED, REVIEW_IN_PROGRESS,
  DELETE_*, *_IN_PROGRESS); DescribeStacks lists a stack without outputs until a create
  completes, and pages with NextToken (CloudFormation API reference, DescribeStacks).
- CONTROLLER: ECS API reference, DeploymentController (type ECS, CODE_DEPLOY,
  EXTERNAL) and DeploymentConfiguration.strategy (ROLLING, BLUE_GREEN, LINEAR, CANARY).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from engine_stubs import Stubs, refusal

from bluegreen.config import parse
from bluegreen.engine import (
    ActionResult,
    DeploymentView,
    LifecycleStep,
    Phase,
    QuietProgress,
    TrafficSet,
    _engine_for,
    _no_service_outputs,
    commands_of,
    creation_engine,
    deployments_console,
    discover,
    planned,
    select,
    service_refs,
    short_name,
)
from bluegreen.engine.codedeploy import CodeDeployEngine
from bluegreen.engine.ecs import EcsEngine
from bluegreen.names import Outputs

REGION = "ap-northeast-1"
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def stack(name: str, outputs: dict[str, str], status: str = "CREATE_COMPLETE") -> dict[str, Any]:
    return {
        "StackName": name,
        "StackStatus": status,
        "CreationTime": T0,
        "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()],
    }


def described(s: Stubs, name: str, found: dict[str, Any] | None) -> None:
    if found is None:
        s.error(
            "cloudformation",
            "describe_stacks",
            "ValidationError",
            f"Stack with id {name} does not exist",
            {"StackName": name},
        )
    else:
        s.add("cloudformation", "describe_stacks", {"Stacks": [found]}, {"StackName": name})


def service(s: Stubs, cluster: str, name: str, found: dict[str, Any] | None) -> None:
    services = [] if found is None else [{"serviceName": name, "status": "ACTIVE"} | found]
    s.add(
        "ecs", "describe_services", {"services": services}, {"cluster": cluster, "services": [name]}
    )


CODE_DEPLOY = {"deploymentController": {"type": "CODE_DEPLOY"}}
ECS_BG = {
    "deploymentController": {"type": "ECS"},
    "deploymentConfiguration": {"strategy": "BLUE_GREEN"},
}

SERVICE_OUTPUTS = {
    Outputs.CLUSTER_NAME: "live-cluster",
    Outputs.SERVICE_NAME: "live-service",
    Outputs.PRODUCTION_LISTENER_ARN: "arn:listener/p",
    Outputs.TEST_LISTENER_ARN: "arn:listener/t",
    Outputs.BLUE_TARGET_GROUP_ARN: "arn:tg/blue",
    Outputs.GREEN_TARGET_GROUP_ARN: "arn:tg/green",
    Outputs.PRODUCTION_RULE_ARN: "arn:rule/p",
    Outputs.TEST_RULE_ARN: "arn:rule/t",
}
PIPELINE_OUTPUTS = {
    Outputs.CODEDEPLOY_APPLICATION: "live-app",
    Outputs.DEPLOYMENT_GROUP: "live-dg",
    Outputs.PIPELINE_NAME: "live-pipeline",
}


# ---- small shared pieces ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("arn", "short"),
    [
        ("arn:aws:ecs:r:1:task-definition/family:3", "family:3"),
        ("a/b/c", "c"),
        ("plain", "plain"),
        ("", ""),
        ("ends/", ""),
    ],
)
def test_short_name(arn: str, short: str) -> None:
    assert short_name(arn) == short


def test_only_the_three_final_phases_are_inactive() -> None:
    assert {p for p in Phase if not p.active} == {Phase.SUCCEEDED, Phase.FAILED, Phase.STOPPED}
    assert [str(p) for p in Phase] == [
        "queued",
        "installing",
        "waiting-for-reroute",
        "shifting",
        "termination-wait",
        "succeeded",
        "failed",
        "stopped",
    ]


@pytest.mark.parametrize(
    ("status", "paused", "ready"),
    [
        ("Ready", None, True),  # CodeDeploy: status Ready
        ("InProgress", None, False),
        ("IN_PROGRESS", True, True),  # ECS: the PAUSE hook awaits action
        ("Ready", False, False),
    ],
)
def test_ready_is_the_engines_own_word(status: str, paused: bool | None, ready: bool) -> None:
    assert DeploymentView("x", "d", status, Phase.WAITING, paused=paused).ready is ready


def test_the_status_document() -> None:
    view = DeploymentView(
        engine="codedeploy",
        id="d-1",
        status="Stopped",
        phase=Phase.STOPPED,
        created=T0,
        lifecycle=[LifecycleStep("Install", "Succeeded", T0)],
        task_sets=[TrafficSet("ts-1", "green", "ACTIVE", 10.0, "tg-g", 2, 1)],
        error="ALARM_ACTIVE: x",
        bake_ends=T0,
        bake_left=59.9,
        weights={"production": 10.0},
        alarms=["a1"],
        new_target_group="",
        phase_name="bake-time",
    )
    assert view.to_dict() == {
        "engine": "codedeploy",
        "id": "d-1",
        "status": "Stopped",
        "phase": "bake-time",
        "created": "2026-12-01T08:00:00+00:00",
        "lifecycle": [{"event": "Install", "status": "Succeeded"}],
        "task_sets": [
            {
                "id": "ts-1",
                "label": "green",
                "status": "ACTIVE",
                "traffic_weight": 10.0,
                "target_group": "tg-g",
                "desired": 2,
                "running": 1,
            }
        ],
        "error": "ALARM_ACTIVE: x",
        "bake_ends": "2026-12-01T08:00:00+00:00",
        "bake_seconds_left": 59,
        "green_traffic_percent": {"production": 10.0},
        "alarms": ["a1"],
        "new_target_group": None,
    }
    bare = DeploymentView("ecs", "d-2", "PENDING", Phase.QUEUED, bake_left=0.0).to_dict()
    assert bare["created"] is None and bare["bake_ends"] is None
    assert bare["bake_seconds_left"] == 0
    assert bare["phase"] == "queued"
    assert "alarms" not in bare and "new_target_group" not in bare
    unknown = DeploymentView("ecs", "d-3", "IN_PROGRESS", Phase.SHIFTING).to_dict()
    assert unknown["bake_seconds_left"] is None and unknown["green_traffic_percent"] == {}
    judged = DeploymentView(
        "ecs", "d-4", "STOPPED", Phase.STOPPED, alarms=["a"], new_target_group="tg-g"
    ).to_dict()
    assert (judged["alarms"], judged["new_target_group"]) == (["a"], "tg-g")


def test_the_action_document() -> None:
    assert ActionResult("promote", "d-1", "done").to_dict() == {
        "action": "promote",
        "deployment_id": "d-1",
        "message": "done",
        "started_deployment": None,
        "revision": None,
        "phase": None,
        "promoted": False,
    }
    full = ActionResult("rollback", "d-1", "m", "d-2", "td:1", "queued", True).to_dict()
    assert (full["started_deployment"], full["revision"], full["phase"], full["promoted"]) == (
        "d-2",
        "td:1",
        "queued",
        True,
    )
    QuietProgress().step("nothing")


# ---- the engine of the configured service ---------------------------------------------------


def test_service_refs_read_both_stacks_outputs() -> None:
    s = Stubs()
    config = parse("")
    described(s, "sample3-dev-service", stack("sample3-dev-service", SERVICE_OUTPUTS))
    described(s, "sample3-dev-pipeline", stack("sample3-dev-pipeline", PIPELINE_OUTPUTS))
    refs = service_refs(s.clients, config)
    s.done()
    assert refs.__dict__ == {
        "cluster": "live-cluster",
        "service": "live-service",
        "application": "live-app",
        "deployment_group": "live-dg",
        "production_listener": "arn:listener/p",
        "test_listener": "arn:listener/t",
        "target_groups": ("arn:tg/blue", "arn:tg/green"),
        "production_port": 80,
        "test_port": 8080,
        "region": REGION,
        "pipeline_stack": "sample3-dev-pipeline",
        "pipeline_deployed": True,
        "production_rule": "arn:rule/p",
        "test_rule": "arn:rule/t",
    }


def test_service_refs_fall_back_to_the_configured_names() -> None:
    s = Stubs()
    config = parse("[listeners]\nproduction_port = 8000\ntest_port = 9000\n")
    described(s, "sample3-dev-service", stack("sample3-dev-service", {Outputs.VPC_ID: "vpc-1"}))
    described(s, "sample3-dev-pipeline", None)
    refs = service_refs(s.clients, config)
    s.done()
    assert (refs.cluster, refs.service) == ("sample3-dev-cluster", "sample3-dev-service")
    assert (refs.application, refs.deployment_group) == (
        "sample3-dev-app",
        "sample3-dev-deployment-group",
    )
    assert (refs.production_listener, refs.test_listener, refs.target_groups) == ("", "", ())
    assert (refs.production_port, refs.test_port) == (8000, 9000)
    assert refs.pipeline_deployed is False
    assert (refs.production_rule, refs.test_rule) == ("", "")


WHERE = f"the service stack sample3-dev-service in {REGION}"


@pytest.mark.parametrize(
    ("status", "reason", "message", "hint"),
    [
        (
            "REVIEW_IN_PROGRESS",
            None,
            f"{WHERE} has not been created yet (REVIEW_IN_PROGRESS: its change set was "
            f"never executed)",
            "run `bluegreen deploy` to create it",
        ),
        (
            "ROLLBACK_IN_PROGRESS",
            "Resource creation cancelled",
            f"{WHERE} failed to create (ROLLBACK_IN_PROGRESS: Resource creation cancelled)",
            "wait for the rollback to end, then run `bluegreen deploy` again",
        ),
        (
            "ROLLBACK_COMPLETE",
            None,
            f"{WHERE} failed to create (ROLLBACK_COMPLETE)",
            "see its events in the CloudFormation console, fix the cause and run `bluegreen "
            "deploy` again (it deletes the failed stack and creates it again)",
        ),
        (
            "CREATE_FAILED",
            "",
            f"{WHERE} failed to create (CREATE_FAILED)",
            "see its events in the CloudFormation console, fix the cause and run `bluegreen "
            "deploy` again (after `bluegreen destroy` removes the failed stack)",
        ),
        (
            "ROLLBACK_FAILED",
            "x",
            f"{WHERE} failed to create (ROLLBACK_FAILED: x)",
            "see its events in the CloudFormation console, fix the cause and run `bluegreen "
            "deploy` again (after `bluegreen destroy` removes the failed stack)",
        ),
        (
            "DELETE_IN_PROGRESS",
            None,
            f"{WHERE} is being deleted or failed to delete (DELETE_IN_PROGRESS)",
            "let `bluegreen destroy` finish, then `bluegreen deploy` creates it again",
        ),
        (
            "DELETE_FAILED",
            None,
            f"{WHERE} is being deleted or failed to delete (DELETE_FAILED)",
            "let `bluegreen destroy` finish, then `bluegreen deploy` creates it again",
        ),
        (
            "CREATE_IN_PROGRESS",
            None,
            f"{WHERE} is being created (CREATE_IN_PROGRESS) and has no outputs yet",
            "wait until `bluegreen deploy` has finished it, then try again",
        ),
        (
            "UPDATE_COMPLETE",
            None,
            f"{WHERE} has no outputs (UPDATE_COMPLETE)",
            "run `bluegreen deploy` to bring it up to date",
        ),
    ],
)
def test_why_the_service_stack_has_no_outputs(
    status: str, reason: str | None, message: str, hint: str
) -> None:
    # STACK_STATUS
    s = Stubs()
    found = stack("sample3-dev-service", {}, status)
    if reason is not None:
        found["StackStatusReason"] = reason
    described(s, "sample3-dev-service", found)
    assert refusal(lambda: service_refs(s.clients, parse("")), s) == (message, hint)


def test_a_missing_service_stack_names_the_region() -> None:
    error = _no_service_outputs("p-service", None, "eu-west-1")
    assert error.message == "the service stack p-service does not exist in eu-west-1"
    assert error.hint == (
        "check --region and project.region (eu-west-1 is the one used); if it is right, "
        "create the stacks with `bluegreen deploy`"
    )


def _live(s: Stubs) -> None:
    described(s, "sample3-dev-service", stack("sample3-dev-service", SERVICE_OUTPUTS))
    described(s, "sample3-dev-pipeline", stack("sample3-dev-pipeline", PIPELINE_OUTPUTS))


@pytest.mark.parametrize(
    ("found", "kind"),
    [
        (CODE_DEPLOY, CodeDeployEngine),
        (ECS_BG, EcsEngine),
        (
            {"deploymentConfiguration": {"strategy": "LINEAR"}},
            EcsEngine,
        ),  # controller ECS by default
        (
            {
                "deploymentController": {"type": "ECS"},
                "deploymentConfiguration": {"strategy": "CANARY"},
            },
            EcsEngine,
        ),
    ],
)
def test_select_follows_the_deployment_controller(found: dict[str, Any], kind: type) -> None:
    # CONTROLLER
    s = Stubs()
    _live(s)
    service(s, "live-cluster", "live-service", found)
    engine = select(s.clients, parse(""))
    s.done()
    assert isinstance(engine, kind)
    # the engine reads through the clients it was given
    if kind is EcsEngine:
        s.add(
            "ecs",
            "list_service_deployments",
            {"serviceDeployments": []},
            {"cluster": "live-cluster", "service": "live-service", "maxResults": 100},
        )
        assert engine.status() is None
        s.done()
    else:
        assert engine.console_link("d-1").startswith(f"https://{REGION}.console")
    assert engine.refs.service == "live-service"
    assert engine.service["serviceName"] == "live-service"


@pytest.mark.parametrize(
    ("found", "said"),
    [
        (
            {
                "deploymentController": {"type": "ECS"},
                "deploymentConfiguration": {"strategy": "ROLLING"},
            },
            "live-service uses the ECS deployment controller with strategy ROLLING, not blue/green",
        ),
        (
            {"deploymentController": {"type": "ECS"}},
            "live-service uses the ECS deployment controller, not blue/green",
        ),
        (
            {
                "deploymentController": {"type": "EXTERNAL"},
                "deploymentConfiguration": {"strategy": "BLUE_GREEN"},
            },
            "live-service uses the EXTERNAL deployment controller with strategy "
            "BLUE_GREEN, not blue/green",
        ),
    ],
)
def test_select_refuses_a_service_without_blue_green(found: dict[str, Any], said: str) -> None:
    s = Stubs()
    _live(s)
    service(s, "live-cluster", "live-service", found)
    assert refusal(lambda: select(s.clients, parse("")), s) == (
        said,
        (
            "deploy the service stack with `bluegreen deploy` (deployment.engine sets "
            'CODE_DEPLOY for "codedeploy", built-in blue/green for "ecs")'
        ),
    )


def test_select_refuses_a_service_that_does_not_exist() -> None:
    s = Stubs()
    _live(s)
    service(s, "live-cluster", "live-service", None)
    assert refusal(lambda: select(s.clients, parse("")), s) == (
        "the ECS service live-service does not exist in cluster live-cluster",
        "run `bluegreen deploy` to create it",
    )


def test_creation_engine_names_the_service_from_the_config() -> None:
    s = Stubs()
    config = parse("[listeners]\nproduction_port = 8000\ntest_port = 9000\n")
    service(s, "sample3-dev-cluster", "sample3-dev-service", None)
    assert creation_engine(s.clients, config) is None
    service(s, "sample3-dev-cluster", "sample3-dev-service", ECS_BG)
    engine = creation_engine(s.clients, config)
    s.done()
    assert isinstance(engine, EcsEngine)
    s.add(
        "ecs",
        "list_service_deployments",
        {"serviceDeployments": []},
        {"cluster": "sample3-dev-cluster", "service": "sample3-dev-service", "maxResults": 100},
    )
    assert engine.status() is None
    s.done()
    assert engine.refs.__dict__ == {
        "cluster": "sample3-dev-cluster",
        "service": "sample3-dev-service",
        "application": "sample3-dev-app",
        "deployment_group": "sample3-dev-deployment-group",
        "production_listener": "",
        "test_listener": "",
        "target_groups": (),
        "production_port": 8000,
        "test_port": 9000,
        "region": REGION,
        "pipeline_stack": "",
        "pipeline_deployed": True,
        "production_rule": "",
        "test_rule": "",
    }


def test_engine_for_builds_the_engine_over_the_clients() -> None:
    s = Stubs()
    refs = service_refs_of(s)
    assert isinstance(_engine_for(s.clients, refs, CODE_DEPLOY), CodeDeployEngine)


def service_refs_of(s: Stubs) -> Any:
    _live(s)
    refs = service_refs(s.clients, parse(""))
    s.done()
    return refs


# ---- discover: every bluegreen system in the account ---------------------------------------


def test_discover_finds_each_service_stack_with_its_pipeline_across_pages() -> None:
    s = Stubs()
    s.add(
        "cloudformation",
        "describe_stacks",
        {
            "Stacks": [
                stack("b-service", {Outputs.CLUSTER_NAME: "b-c", Outputs.SERVICE_NAME: "b-s"}),
                stack("b-pipeline", PIPELINE_OUTPUTS),
                stack("x-other", {Outputs.CLUSTER_NAME: "x", Outputs.SERVICE_NAME: "x"}),
                stack("n-service", {Outputs.SERVICE_NAME: "n-s"}),  # no cluster
                stack("m-service", {Outputs.CLUSTER_NAME: "m-c"}),  # no service
            ],
            "NextToken": "t1",
        },
        {},
    )
    s.add(
        "cloudformation",
        "describe_stacks",
        {
            "Stacks": [
                stack("a-service", {Outputs.CLUSTER_NAME: "a-c", Outputs.SERVICE_NAME: "a-s"}),
                stack("g-service", {Outputs.CLUSTER_NAME: "g-c", Outputs.SERVICE_NAME: "g-s"}),
                stack("r-service", {Outputs.CLUSTER_NAME: "r-c", Outputs.SERVICE_NAME: "r-s"}),
            ]
        },
        {"NextToken": "t1"},
    )
    # sorted by stack name: a, b, g, r; a service left out does not end the search
    service(s, "a-c", "a-s", {"deploymentController": {"type": "ECS"}})  # rolling: left out
    service(s, "b-c", "b-s", CODE_DEPLOY)
    service(s, "g-c", "g-s", None)  # gone: left out
    service(s, "r-c", "r-s", ECS_BG)
    found = discover(s.clients)
    s.done()
    assert [(type(f.engine), f.pipeline) for f in found] == [
        (CodeDeployEngine, "live-pipeline"),
        (EcsEngine, ""),
    ]
    b, r = (f.engine.refs for f in found)
    assert (r.cluster, r.service, r.application, r.deployment_group) == ("r-c", "r-s", "", "")
    assert (r.pipeline_stack, r.pipeline_deployed, r.region) == ("r-pipeline", False, REGION)
    assert (r.production_port, r.test_port) == (0, 0)
    assert (b.application, b.deployment_group, b.pipeline_deployed) == ("live-app", "live-dg", True)
    # each engine reads through the account's clients
    s.add(
        "ecs",
        "list_service_deployments",
        {"serviceDeployments": []},
        {"cluster": "r-c", "service": "r-s", "maxResults": 100},
    )
    assert found[1].engine.status() is None
    s.done()


# ---- what the configured engine plans, before anything exists -------------------------------


@pytest.mark.parametrize(
    ("toml", "scope", "how"),
    [
        ("", "sample3-dev-deployment-group", "CodeDeployDefault.ECSAllAtOnce"),
        (
            '[deployment]\nengine = "ecs"\n',
            "service sample3-dev-service",
            "ECS BLUE_GREEN, PAUSE hook at POST_TEST_TRAFFIC_SHIFT (10 min, then "
            "ROLLBACK), bake 15 min",
        ),
        (
            '[deployment]\nengine = "ecs"\nreroute = "auto"\n'
            '[deployment.ecs]\nstrategy = "LINEAR"\n'
            "step_percent = 12.5\nstep_bake_minutes = 3\nbake_minutes = 0\n",
            "service sample3-dev-service",
            "ECS LINEAR 12.5 % every 3 min, bake 0 min",
        ),
        (
            '[deployment]\nengine = "ecs"\nreroute = "auto"\n'
            '[deployment.ecs]\nstrategy = "CANARY"\n'
            "canary_percent = 20\ncanary_bake_minutes = 7\n",
            "service sample3-dev-service",
            "ECS CANARY 20 % for 7 min, bake 15 min",
        ),
    ],
)
def test_planned(toml: str, scope: str, how: str) -> None:
    assert planned(parse(toml)) == (scope, how)


def test_where_the_console_shows_the_deployments() -> None:
    ecs = parse('[deployment]\nengine = "ecs"\n')
    assert deployments_console(REGION, ecs, {}) == (
        f"https://{REGION}.console.aws.amazon.com/ecs/v2/clusters/sample3-dev-cluster/services/"
        f"sample3-dev-service/deployments?region={REGION}"
    )
    base = f"https://{REGION}.console.aws.amazon.com/codesuite/codedeploy/applications/"
    assert deployments_console(REGION, parse(""), {}) == (
        f"{base}sample3-dev-app/deployment-groups/sample3-dev-deployment-group?region={REGION}"
    )
    assert deployments_console(REGION, parse(""), PIPELINE_OUTPUTS) == (
        f"{base}live-app/deployment-groups/live-dg?region={REGION}"
    )


def test_commands_of_each_engine() -> None:
    assert commands_of("ecs") == (
        ("promote", "continue the pause: production to green"),
        ("rollback", "back to blue (paused, shifting or baking)"),
    )
    assert commands_of("codedeploy") == (
        ("promote", "production to green; then finish or rollback"),
    )


def test_discover_reads_at_most_100_pages_of_stacks() -> None:
    # STACK_STATUS: DescribeStacks pages with NextToken; a listing that never ends is cut
    s = Stubs()
    for page in range(100):
        s.add(
            "cloudformation",
            "describe_stacks",
            {"Stacks": [], "NextToken": f"t{page + 1}"},
            {"NextToken": f"t{page}"} if page else {},
        )
    assert discover(s.clients) == []
    s.done()
    s.add("cloudformation", "describe_stacks", {}, {})  # no Stacks member: none
    assert discover(s.clients) == []
    s.done()
