"""aws/release.py, the parts a whole release in the emulated AWS does not reach cheaply:
which stage and action states belong to the execution followed, the lines printed, the
failure named, waiting for the pipeline's first run, and the health verdict that keeps
deploy from promoting a first release whose tasks fail the load balancer's check.

CodePipeline's and ELBv2/ECS answers are queued on botocore Stubber (validated against
the model), shaped as documented: GetPipelineState's StageState/ActionState/
ActionExecution and ListPipelineExecutions' PipelineExecutionSummary (CodePipeline API
reference), DescribeTargetHealth's TargetHealth (ELBv2 API reference), ListTasks with
desiredStatus STOPPED and DescribeTasks' stoppedReason (ECS API reference; its wording
is sourced where it is used). The end to
end release runs in test_e2e_operations.py and test_aws_first_release.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from test_aws_support import CONFIG_TOML, Stubs

from bluegreen import config as config_mod
from bluegreen.aws import release
from bluegreen.aws.release import HEALTHY, PENDING, UNHEALTHY, ReleaseResult
from bluegreen.engine import ActionResult, DeploymentView, Phase, ServiceRefs
from bluegreen.errors import StateError

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
PIPELINE = "sample3-dev-pipeline"


def _action(name: str, status: str = "", changed: datetime | None = None, **last: Any) -> Any:
    execution: dict[str, Any] = dict(last)
    if status:
        execution["status"] = status
    if changed is not None:
        execution["lastStatusChange"] = changed
    return {"actionName": name, "latestExecution": execution}


def _stage(name: str, execution_id: str, *actions: Any) -> dict[str, Any]:
    return {
        "stageName": name,
        "latestExecution": {"pipelineExecutionId": execution_id, "status": "InProgress"},
        "actionStates": list(actions),
    }


def test_only_this_executions_stages_and_actions_since_it_started() -> None:
    stages = [
        _stage("Source", "e-2", _action("Src", "Succeeded", T0 + timedelta(seconds=1))),
        _stage(
            "Build",
            "e-2",
            _action("Old", "Succeeded", T0 - timedelta(seconds=1)),  # the previous run's
            _action("Now", "InProgress", T0),  # changed at the very start: this run's
            _action("Never"),  # no change time: kept
        ),
        _stage("Deploy", "e-1", _action("Deploy", "Succeeded", T0)),
        {"stageName": "Empty"},
    ]
    kept = release._this_execution(stages, "e-2", T0)
    assert [s["stageName"] for s in kept] == ["Source", "Build"]
    assert [a["actionName"] for a in kept[1]["actionStates"]] == ["Now", "Never"]
    assert stages[1]["actionStates"][0]["actionName"] == "Old"  # the answer is not changed
    bare = {"stageName": "Bare", "latestExecution": {"pipelineExecutionId": "e-2"}}
    assert release._this_execution([bare], "e-2", T0) == [{**bare, "actionStates": []}]
    untimed = release._this_execution(stages, "e-2", None)
    assert [len(s["actionStates"]) for s in untimed] == [1, 3]


def test_each_action_line_and_its_key() -> None:
    stages = [
        _stage(
            "Deploy",
            "e-1",
            _action("NotYet"),  # a parallel action not started: skipped, not the end
            _action("Deploy", "InProgress", externalExecutionId="d-123"),
            _action("Done", "Succeeded", externalExecutionId="d-99"),
            _action("Queued", "InProgress"),
            _action("NotYet"),
        ),
        _stage("Other", "e-0", _action("Skipped", "Failed")),
    ]
    assert release._changes(stages, "e-1") == [
        ("Deploy/Deploy", "Deploy/Deploy: InProgress (d-123)"),
        ("Deploy/Done", "Deploy/Done: Succeeded"),
        ("Deploy/Queued", "Deploy/Queued: InProgress"),
    ]


def test_the_deployment_is_an_in_progress_action_of_the_deploy_stage() -> None:
    build = _stage("Build", "e-1", _action("Image", "InProgress", externalExecutionId="b:1"))
    finished = _action("Before", "Succeeded", externalExecutionId="d-0")
    waiting = _action("NoId", "InProgress")
    deploy = _stage(
        "Deploy", "e-1", finished, waiting, _action("Go", "InProgress", externalExecutionId="d-1")
    )
    other = _stage("Deploy", "e-0", _action("Go", "InProgress", externalExecutionId="d-0"))
    assert release._deploying([build, other, deploy], "e-1") == "d-1"
    bare = {"stageName": "Deploy", "latestExecution": {"pipelineExecutionId": "e-1"}}
    assert release._deploying([bare, build, other], "e-1") == ""  # no actionStates
    assert release._deploying([_stage("Deploy", "e-1", finished, waiting)], "e-1") == ""


def test_the_failed_action_and_its_message() -> None:
    failed = _action("Deploy", "Failed", errorDetails={"code": "JobFailed", "message": "boom"})
    summary_only = _action("Build", "Failed", summary="see the build")
    bare = _action("Test", "Failed")
    never = {"actionName": "Never"}  # an action that never ran has no latestExecution
    assert release._failure(
        [_stage("Other", "e-0", failed), _stage("Deploy", "e-1", failed)], "e-1"
    ) == ("Deploy/Deploy", "boom")
    assert release._failure([_stage("Build", "e-1", summary_only)], "e-1") == (
        "Build/Build",
        "see the build",
    )
    assert release._failure(
        [_stage("Test", "e-1", never, _action("Ok", "Succeeded"), bare)], "e-1"
    ) == (
        "Test/Test",
        "failed",
    )
    assert release._failure([], "e-1") == ("", "")
    empty = {"stageName": "Deploy", "latestExecution": {"pipelineExecutionId": "e-1"}}
    assert release._failure([empty, _stage("Deploy", "e-1", failed)], "e-1")[0] == "Deploy/Deploy"


def test_the_start_time_of_the_execution_among_the_newest_20() -> None:
    s = Stubs()
    summaries = [
        {"pipelineExecutionId": "e-3", "startTime": T0 + timedelta(minutes=3)},
        {"pipelineExecutionId": "e-2"},
        {"pipelineExecutionId": "e-1", "startTime": T0},
    ]
    for _ in range(3):
        s.add(
            "codepipeline",
            "list_pipeline_executions",
            {"pipelineExecutionSummaries": summaries},
            {"pipelineName": "p", "maxResults": 20},
        )
    client = s.client("codepipeline")
    assert release._started(client, "p", "e-1") == T0
    assert release._started(client, "p", "e-2") is None  # listed without a start time
    assert release._started(client, "p", "e-9") is None
    s.done()


def test_the_result_document() -> None:
    result = ReleaseResult("p", "e-1", "Failed", "https://link")
    assert result.failed
    assert result.to_dict() == {
        "pipeline": "p",
        "execution_id": "e-1",
        "status": "Failed",
        "console": "https://link",
        "waiting_deployment": None,
        "failed_action": None,
        "error": None,
        "deployment_phase": None,
        "promoted": False,
    }
    for status, failed in [
        ("Stopped", True),
        ("Cancelled", True),
        ("Succeeded", False),
        ("Superseded", False),
        ("InProgress", False),
    ]:
        assert ReleaseResult("p", "e", status, "l").failed is failed
    full = ReleaseResult(
        "p", "e", "InProgress", "l", "d-1", "Deploy/Deploy", "x", True, "ready", True
    )
    assert full.to_dict()["waiting_deployment"] == "d-1"
    assert full.to_dict()["failed_action"] == "Deploy/Deploy"
    assert full.to_dict()["error"] == "x"
    assert full.to_dict()["deployment_phase"] == "ready"
    assert full.to_dict()["promoted"] is True


class _UI:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)


def test_no_first_run_listed_after_six_looks_is_a_state_error() -> None:
    s = Stubs()
    for _ in range(release.FIRST_EXECUTION_POLLS):
        s.add(
            "codepipeline",
            "list_pipeline_executions",
            {"pipelineExecutionSummaries": []},
            {"pipelineName": PIPELINE, "maxResults": 1},
        )
    slept: list[float] = []
    ui = _UI()
    config = config_mod.parse(CONFIG_TOML)
    with pytest.raises(StateError) as info:
        release.first_release(s.clients, config, ui, sleep=slept.append, interval=2.5)
    s.done()  # exactly six looks
    assert slept == [2.5] * 5
    assert ui.lines == [
        f"waiting for the pipeline's first run ({PIPELINE}, started when the pipeline was "
        "created) to be listed; checking every 2.5 s ..."
    ]
    assert info.value.message == (
        f"the stacks are deployed, but pipeline {PIPELINE} has not listed a first run after "
        "12.5 s, so there is no release to follow"
    )
    assert info.value.hint == (
        "start the first release with `bluegreen release` (or push to main), then follow "
        "it with `bluegreen status --watch`"
    )


def test_release_without_following_returns_at_once() -> None:
    s = Stubs()
    s.add(
        "codepipeline",
        "start_pipeline_execution",
        {"pipelineExecutionId": "e-7"},
        {"name": PIPELINE},
    )
    ui = _UI()
    result = release.release(s.clients, config_mod.parse(CONFIG_TOML), ui, follow=False)
    s.done()
    assert ui.lines == [f"started {PIPELINE} execution e-7"]
    assert (result.pipeline, result.execution_id, result.status, result.followed) == (
        PIPELINE,
        "e-7",
        "InProgress",
        False,
    )
    assert result.link == (
        "https://ap-northeast-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        f"{PIPELINE}/executions/e-7/timeline?region=ap-northeast-1"
    )


# ---- the first release's health verdict ------------------------------------------------

GREEN = "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/sample3-dev-green/abc"
BLUE = "arn:aws:elasticloadbalancing:ap-northeast-1:1:targetgroup/sample3-dev-blue/def"
REFS = ServiceRefs(
    cluster="c",
    service="s",
    application="a",
    deployment_group="g",
    production_listener="pl",
    test_listener="tl",
    target_groups=(BLUE, GREEN),
    production_port=80,
    test_port=8080,
)


@dataclass
class _Engine:
    """What replacement_health reads of an engine: its refs and the test listener's
    forwards (the real engines read them from ELBv2, tested in test_aws_engine.py)."""

    test: list[tuple[str, int]] | None = field(default_factory=lambda: [(GREEN, 1)])
    refs: ServiceRefs = REFS

    def forwards(self) -> dict[str, list[tuple[str, int]]]:
        return {} if self.test is None else {"test": self.test}


def _health(s: Stubs, *states: dict[str, str]) -> None:
    s.add(
        "elbv2",
        "describe_target_health",
        {"TargetHealthDescriptions": [{"TargetHealth": state} for state in states]},
        {"TargetGroupArn": GREEN},
    )


def _stopped(s: Stubs, tasks: list[dict[str, Any]]) -> None:
    arns = [t["taskArn"] for t in tasks]
    s.add(
        "ecs",
        "list_tasks",
        {"taskArns": arns},
        {"cluster": "c", "serviceName": "s", "desiredStatus": "STOPPED"},
    )
    if arns:
        s.add("ecs", "describe_tasks", {"tasks": tasks}, {"cluster": "c", "tasks": arns[:100]})


def _task(n: int, reason: str, at: int) -> dict[str, Any]:
    return {
        "taskArn": f"arn:aws:ecs:ap-northeast-1:1:task/c/t{n}",
        "stoppedReason": reason,
        "stoppedAt": T0 + timedelta(seconds=at),
    }


@pytest.mark.parametrize("test", [None, [], [(GREEN, 1), (BLUE, 1)], [(GREEN, 0)]])
def test_health_is_pending_unless_the_test_listener_serves_one_group(
    test: list[tuple[str, int]] | None,
) -> None:
    s = Stubs()
    assert release.replacement_health(s.clients, _Engine(test)) == (PENDING, "")  # type: ignore[arg-type]
    s.done()  # nothing asked


def test_an_unhealthy_target_names_its_reason_and_description() -> None:
    s = Stubs()
    _health(
        s,
        {"State": "healthy"},
        {"State": "unhealthy", "Reason": "Target.ResponseCodeMismatch", "Description": "500"},
    )
    engine = _Engine([(BLUE, 0), (GREEN, 100)])
    assert release.replacement_health(s.clients, engine) == (  # type: ignore[arg-type]
        UNHEALTHY,
        "its tasks fail the load balancer's health check behind the test listener :8080 "
        "(target group sample3-dev-green: Target.ResponseCodeMismatch, 500)",
    )
    _health(s, {"State": "unhealthy", "Reason": "Target.Timeout"})
    assert release.replacement_health(s.clients, engine)[1].endswith(
        "(target group sample3-dev-green: Target.Timeout)"
    )  # type: ignore[arg-type]
    s.done()


def test_a_task_ecs_stopped_for_failing_the_check_makes_it_unhealthy() -> None:
    # The stoppedReason's wording is not in the DescribeTasks API reference (it defines
    # stoppedReason only as "the reason that the task was stopped"). "Task failed ELB
    # health checks" is the stopped reason AWS's troubleshooting article names ("Why is my
    # Amazon ECS task stopped?", https://repost.aws/knowledge-center/ecs-task-stopped,
    # "Stopped reasons"); its full form "Task failed ELB health checks in (target-group
    # <arn>)" is recorded in Copilot's deploy output (a Copilot maintainer's gist,
    # https://gist.github.com/efekarakus/fe4afc1ab8b54835d27e47e253f46254, "Stopped Tasks
    # Reason"). "Essential container in task exited" is another reason on the same page.
    s = Stubs()
    _health(s, {"State": "healthy"})
    reason = f"Task failed ELB health checks in (target-group {GREEN})"
    _stopped(
        s,
        [
            _task(1, reason, 10),
            _task(2, reason, 30),
            _task(3, f"Task failed ELB health checks in (target-group {BLUE})", 50),
            _task(4, "Essential container in task exited", 60),
        ],
    )
    verdict, why = release.replacement_health(s.clients, _Engine())  # type: ignore[arg-type]
    s.done()
    assert verdict == UNHEALTHY
    assert why == (
        "its tasks fail the load balancer's health check behind the test listener :8080: "
        f"ECS stopped task t2: {reason}"
    )


def test_healthy_only_when_every_target_is() -> None:
    s = Stubs()
    _health(s, {"State": "healthy"}, {"State": "healthy"})
    _stopped(s, [_task(1, "Scaling activity initiated by deployment", 1)])
    assert release.replacement_health(s.clients, _Engine()) == (HEALTHY, "")  # type: ignore[arg-type]
    _health(s, {"State": "healthy"}, {"State": "initial"})
    _stopped(s, [])
    assert release.replacement_health(s.clients, _Engine()) == (PENDING, "")  # type: ignore[arg-type]
    _health(s)  # nothing registered yet
    _stopped(s, [])
    assert release.replacement_health(s.clients, _Engine()) == (PENDING, "")  # type: ignore[arg-type]
    s.done()


# ---- following an execution ------------------------------------------------------------
# The engine is a stand-in answering what follow_execution asks of it (which deployment it
# runs, creation, promote, rollback); the real engines answer the same questions in
# test_aws_engine.py and end to end in test_aws_first_release.py.


@dataclass
class _Following:
    """The engine's answers for one follow: a view per poll (by deployment id)."""

    views: list[DeploymentView | None]
    creation_deploys: bool = False
    paused_creation: list[str | None] = field(default_factory=list)
    test: list[tuple[str, int]] | None = field(default_factory=lambda: [(GREEN, 1)])
    refs: ServiceRefs = REFS
    asked: list[str] = field(default_factory=list)

    def following(self, external: str) -> DeploymentView | None:
        self.asked.append(f"following {external}")
        return self.views.pop(0)

    def continue_creation(self) -> ActionResult | None:
        self.asked.append("continue_creation")
        message = self.paused_creation.pop(0) if self.paused_creation else None
        return None if message is None else ActionResult("continue", "d-0", message)

    def promote_if_ready(self, view: DeploymentView) -> ActionResult | None:
        self.asked.append(f"promote {view.id}")
        return ActionResult("promote", view.id, "rerouted production to green")

    def rollback(self) -> ActionResult:
        self.asked.append("rollback")
        return ActionResult("rollback", "d-1", "stopped deployment d-1")

    def forwards(self) -> dict[str, list[tuple[str, int]]]:
        return {} if self.test is None else {"test": self.test}


def _view(phase: Phase, status: str = "InProgress", name: str = "") -> DeploymentView:
    return DeploymentView("codedeploy", "d-1", status, phase, phase_name=name)


def _polls(s: Stubs, *polls: tuple[str, list[dict[str, Any]]], started: bool = True) -> None:
    summary: dict[str, Any] = {"pipelineExecutionId": "e-1"}
    if started:
        summary["startTime"] = T0
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [summary]},
        {"pipelineName": PIPELINE, "maxResults": 20},
    )
    for status, stages in polls:
        s.add(
            "codepipeline",
            "get_pipeline_execution",
            {"pipelineExecution": {"pipelineExecutionId": "e-1", "status": status}},
            {"pipelineName": PIPELINE, "pipelineExecutionId": "e-1"},
        )
        s.add("codepipeline", "get_pipeline_state", {"stageStates": stages}, {"name": PIPELINE})


def _at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


SOURCE_RUNNING = _stage("Source", "e-1", _action("Source", "InProgress", _at(1)))
SOURCE_DONE = _stage("Source", "e-1", _action("Source", "Succeeded", _at(2)))


def _deploy(status: str = "InProgress", **last: Any) -> dict[str, Any]:
    return _stage(
        "Deploy", "e-1", _action("Deploy", status, _at(3), externalExecutionId="d-1", **last)
    )


def _follow(
    s: Stubs, engine: _Following, promote: bool = False
) -> tuple[ReleaseResult, _UI, list[float]]:
    ui, slept = _UI(), []
    result = release.follow_execution(
        s.clients,
        config_mod.parse(CONFIG_TOML),
        ui,
        "e-1",
        promote=promote,
        sleep=slept.append,
        interval=7.0,
        engine=engine,  # type: ignore[arg-type]
    )
    s.done()
    return result, ui, slept


def test_following_stops_when_the_deployment_waits_for_reroute() -> None:
    s = Stubs()
    old = _stage("Deploy", "e-1", _action("Deploy", "Succeeded", T0 - timedelta(hours=1)))
    _polls(
        s,
        ("InProgress", [SOURCE_RUNNING, old]),
        ("InProgress", [SOURCE_RUNNING, old]),  # nothing new: nothing printed
        ("InProgress", [SOURCE_DONE, _deploy()]),
        ("InProgress", [SOURCE_DONE, _deploy()]),
    )
    engine = _Following([_view(Phase.INSTALLING), _view(Phase.WAITING, "Ready", "ready")])
    result, ui, slept = _follow(s, engine)
    assert ui.lines == [
        "Source/Source: InProgress",
        "Source/Source: Succeeded",
        "Deploy/Deploy: InProgress (d-1)",
    ]
    assert slept == [7.0, 7.0, 7.0]
    assert engine.asked == ["following d-1", "following d-1"]
    assert (result.status, result.waiting_deployment, result.deployment_phase) == (
        "InProgress",
        "d-1",
        "ready",
    )
    assert result.pipeline == PIPELINE and result.execution_id == "e-1"
    assert result.link.endswith(
        f"/pipelines/{PIPELINE}/executions/e-1/timeline?region=ap-northeast-1"
    )


def test_following_a_deployment_not_started_yet_goes_on() -> None:
    s = Stubs()
    _polls(s, ("InProgress", [_deploy()]), ("Succeeded", [_deploy("Succeeded")]), started=False)
    engine = _Following([None])
    result, ui, slept = _follow(s, engine)
    assert (result.status, result.waiting_deployment, result.deployment_phase) == (
        "Succeeded",
        "",
        "",
    )
    assert slept == [7.0]
    assert ui.lines == ["Deploy/Deploy: InProgress (d-1)", "Deploy/Deploy: Succeeded"]
    assert not result.failed


def test_a_failed_execution_names_the_failed_action() -> None:
    s = Stubs()
    failed = _deploy(
        "Failed", errorDetails={"code": "JobFailed", "message": "Deployment d-1 failed"}
    )
    _polls(s, ("Failed", [SOURCE_DONE, failed]))
    result, ui, slept = _follow(s, _Following([]))
    assert (result.status, result.failed_action, result.error) == (
        "Failed",
        "Deploy/Deploy",
        "Deployment d-1 failed",
    )
    assert result.failed and slept == []
    assert ui.lines == ["Source/Source: Succeeded", "Deploy/Deploy: Failed"]


def test_a_superseded_execution_ends_without_a_failure() -> None:
    s = Stubs()
    _polls(s, ("Superseded", [SOURCE_DONE]))
    result, _, _ = _follow(s, _Following([]))
    assert (result.status, result.failed_action, result.error) == ("Superseded", "", "")


def test_the_first_release_continues_creation_promotes_and_ends_when_production_moved() -> None:
    s = Stubs()
    _polls(
        s,
        ("InProgress", [SOURCE_RUNNING]),
        ("InProgress", [SOURCE_DONE]),
        ("InProgress", [SOURCE_DONE, _deploy()]),
        ("InProgress", [SOURCE_DONE, _deploy()]),
        ("InProgress", [SOURCE_DONE, _deploy()]),
    )
    _health(s, {"State": "healthy"})
    _stopped(s, [])
    engine = _Following(
        [
            _view(Phase.WAITING, "Ready"),
            _view(Phase.SHIFTING, "InProgress"),  # promoted: not promoted again
            _view(Phase.TERMINATION_WAIT, "InProgress", "bake-time"),
        ],
        creation_deploys=True,
        paused_creation=[None, "continued the service's creation"],
    )
    result, ui, slept = _follow(s, engine, promote=True)
    assert engine.asked == [
        "continue_creation",
        "continue_creation",
        "following d-1",
        "promote d-1",
        "following d-1",
        "following d-1",
    ]
    assert ui.lines == [
        "Source/Source: InProgress",
        "Source/Source: Succeeded",
        "continued the service's creation",
        "Deploy/Deploy: InProgress (d-1)",
        "promoted the first release (blue was the bootstrap placeholder): "
        "rerouted production to green",
    ]
    assert slept == [7.0] * 4
    assert result.promoted and result.waiting_deployment == "d-1"
    assert (result.status, result.deployment_phase) == ("InProgress", "bake-time")


def test_a_first_release_whose_tasks_fail_the_check_is_not_promoted() -> None:
    s = Stubs()
    _polls(
        s,
        ("InProgress", [_deploy()]),
        ("InProgress", [_deploy()]),
        ("Failed", [_deploy("Failed", summary="stopped")]),
    )
    _health(s, {"State": "unhealthy", "Reason": "Target.Timeout"})
    engine = _Following([_view(Phase.WAITING, "Ready"), _view(Phase.STOPPED, "Stopped")])
    result, ui, _ = _follow(s, engine, promote=True)
    why = (
        "its tasks fail the load balancer's health check behind the test listener :8080 "
        "(target group sample3-dev-green: Target.Timeout)"
    )
    assert engine.asked == ["following d-1", "rollback", "following d-1"]
    assert ui.lines[1] == f"not promoting the first release: {why}; stopped deployment d-1"
    assert result.held == why and not result.promoted
    assert (result.failed_action, result.error) == (
        "Deploy/Deploy",
        f"deploy did not promote it: {why}",
    )


def test_a_first_release_still_checking_health_waits() -> None:
    s = Stubs()
    _polls(s, ("InProgress", [_deploy()]), ("Succeeded", [_deploy("Succeeded")]))
    _health(s, {"State": "initial"})
    _stopped(s, [])
    engine = _Following([_view(Phase.WAITING, "Ready")])
    result, _, slept = _follow(s, engine, promote=True)
    assert engine.asked == ["following d-1"]
    assert not result.promoted and slept == [7.0]
    assert result.status == "Succeeded"


def test_the_first_release_is_followed_once_its_run_is_listed() -> None:
    s = Stubs()
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": []},
        {"pipelineName": PIPELINE, "maxResults": 1},
    )
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [{"pipelineExecutionId": "e-1", "status": "InProgress"}]},
        {"pipelineName": PIPELINE, "maxResults": 1},
    )
    _polls(s, ("Succeeded", [SOURCE_DONE]))
    ui, slept = _UI(), []
    engine = _Following([])
    result = release.first_release(
        s.clients,
        config_mod.parse(CONFIG_TOML),
        ui,
        sleep=slept.append,
        interval=3.0,
        engine=engine,  # type: ignore[arg-type]
    )
    s.done()
    assert slept == [3.0]
    assert ui.lines[1:] == [
        f"following the first release: {PIPELINE} execution e-1",
        "Source/Source: Succeeded",
    ]
    assert (result.execution_id, result.status, result.promoted) == ("e-1", "Succeeded", False)


def test_release_follows_with_the_given_sleep_and_interval() -> None:
    s = Stubs()
    s.add(
        "codepipeline",
        "start_pipeline_execution",
        {"pipelineExecutionId": "e-1"},
        {"name": PIPELINE},
    )
    _polls(s, ("InProgress", [SOURCE_RUNNING]), ("Succeeded", [SOURCE_DONE]))
    ui, slept = _UI(), []
    result = release.release(
        s.clients, config_mod.parse(CONFIG_TOML), ui, sleep=slept.append, interval=4.0
    )
    s.done()
    assert slept == [4.0]
    assert result.status == "Succeeded" and result.followed
    assert ui.lines == [
        f"started {PIPELINE} execution e-1",
        "Source/Source: InProgress",
        "Source/Source: Succeeded",
    ]
