"""aws/status.py: the pipeline's stage-by-stage view, blue and green, image tags, and the
status document (``status --json``).

GetPipelineState and ListPipelineExecutions answers are queued on botocore Stubber
(validated against the model), shaped as the CodePipeline API reference documents them:
StageState.latestExecution has the pipelineExecutionId, ActionState.latestExecution
(ActionExecution) has status, summary, externalExecutionId, errorDetails and
lastStatusChange (no pipelineExecutionId: the model has none); an unknown pipeline is
PipelineNotFoundException. The whole ``status`` runs against the emulated AWS in
test_e2e_operations.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pytest
from test_aws_support import Stubs

from bluegreen.aws import status
from bluegreen.aws.errors import AwsCallError
from bluegreen.aws.session import Clients
from bluegreen.aws.status import (
    ActionView,
    ListenerView,
    PipelineView,
    StageView,
    SystemStatus,
    TargetGroupView,
    TaskSetView,
)
from bluegreen.aws.verification import VerificationView
from bluegreen.emulator import Emulator
from bluegreen.engine import DeploymentView, Phase, ServiceRefs, TrafficSet

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
LIST = {"pipelineName": "p", "maxResults": 1}


def _answers(s: Stubs, latest: dict[str, Any] | None, stages: list[dict[str, Any]]) -> None:
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": [latest] if latest else []},
        LIST,
    )
    s.add("codepipeline", "get_pipeline_state", {"stageStates": stages}, {"name": "p"})


SCRIPT = "set -e\necho deploying\nexit 1"
SCRIPT_ERROR = f"Error while executing command: {SCRIPT}. Reason: exit status 1"


def test_the_latest_execution_stage_by_stage() -> None:
    s = Stubs()
    latest = {
        "pipelineExecutionId": "e-2",
        "status": "Failed",
        "startTime": T0,
        "sourceRevisions": [
            {"actionName": "Source", "revisionId": "abc123", "revisionSummary": "Say hello"},
            {"actionName": "Other", "revisionId": "zzz", "revisionSummary": "not shown"},
        ],
    }
    stages = [
        {
            "stageName": "Source",
            "latestExecution": {"pipelineExecutionId": "e-2", "status": "Succeeded"},
            "actionStates": [
                {
                    "actionName": "Source",
                    "latestExecution": {
                        "status": "Succeeded",
                        "summary": "Say hello",
                        "externalExecutionId": "abc123",
                        "lastStatusChange": T0,
                    },
                }
            ],
        },
        {
            "stageName": "Deploy",
            "latestExecution": {"pipelineExecutionId": "e-2", "status": "Failed"},
            "actionStates": [
                {
                    "actionName": "Deploy",
                    "latestExecution": {
                        "status": "Failed",
                        "externalExecutionId": "b:1",
                        "errorDetails": {"code": "JobFailed", "message": SCRIPT_ERROR},
                    },
                },
                {"actionName": "After"},  # never ran in this execution
                {
                    "actionName": "Older",  # an action of this execution's stage
                    "latestExecution": {
                        "status": "Succeeded",
                        "summary": "old",
                        "externalExecutionId": "b:0",
                        "errorDetails": {"code": "x", "message": "old error"},
                        "lastStatusChange": T0,
                    },
                },
            ],
        },
        {
            "stageName": "Never",  # never run: no latestExecution (StageState)
            "actionStates": [{"actionName": "Idle"}],
        },
        {
            "stageName": "Later",
            "latestExecution": {"pipelineExecutionId": "e-1", "status": "Succeeded"},
            "actionStates": [
                {
                    "actionName": "Old",  # the previous execution's run: not shown
                    "latestExecution": {
                        "status": "Succeeded",
                        "summary": "s",
                        "externalExecutionId": "b:0",
                        "lastStatusChange": T0,
                    },
                }
            ],
        },
    ]
    _answers(s, latest, stages)
    asked: list[str] = []

    def explain(build: str) -> str:
        asked.append(build)
        return "the deployment failed"

    view = status.pipeline_view(s.client("codepipeline"), "p", explain=explain)
    s.done()
    assert asked == ["b:1"]
    assert view == PipelineView(
        name="p",
        execution_id="e-2",
        status="Failed",
        started=T0,
        revision="abc123",
        revision_summary="Say hello",
        stages=[
            StageView(
                "Source",
                "Succeeded",
                [ActionView("Source", "Succeeded", "Say hello", "abc123", "", T0)],
            ),
            StageView(
                "Deploy",
                "Failed",
                [
                    ActionView(
                        "Deploy",
                        "Failed",
                        "",
                        "b:1",
                        "`set -e … (3-line script)` failed: exit status 1; last output: "
                        "the deployment failed",
                    ),
                    ActionView("After", "NotStarted"),
                    ActionView("Older", "Succeeded", "old", "b:0", "old error", T0),
                ],
            ),
            StageView("Never", "NotStarted", [ActionView("Idle", "NotStarted")]),
            StageView("Later", "NotStarted", [ActionView("Old", "NotStarted")]),
        ],
    )


def test_a_script_error_without_a_build_id_or_explain_keeps_no_output() -> None:
    s = Stubs()
    stage = {
        "stageName": "Deploy",
        "latestExecution": {"pipelineExecutionId": "e-1", "status": "Failed"},
        "actionStates": [
            {
                "actionName": "Deploy",
                "latestExecution": {
                    "status": "Failed",
                    "errorDetails": {"code": "JobFailed", "message": SCRIPT_ERROR},
                },
            }
        ],
    }
    latest = {"pipelineExecutionId": "e-1", "status": "Failed"}
    _answers(s, latest, [stage])
    view = status.pipeline_view(s.client("codepipeline"), "p", explain=lambda b: "never")
    assert view is not None
    assert view.stages[0].actions[0].error == "`set -e … (3-line script)` failed: exit status 1"
    assert (view.started, view.revision, view.revision_summary) == (None, "", "")
    one_line = "Error while executing command: make. Reason: exit status 2"
    stage["actionStates"][0]["latestExecution"]["externalExecutionId"] = "b:2"
    stage["actionStates"][0]["latestExecution"]["errorDetails"]["message"] = one_line
    _answers(s, latest, [stage])
    view = status.pipeline_view(s.client("codepipeline"), "p", explain=lambda b: "never")
    assert view is not None and view.stages[0].actions[0].error == one_line  # CodeBuild's text
    s.done()


def test_a_pipeline_that_never_ran_lists_its_stages_not_started() -> None:
    s = Stubs()
    _answers(s, None, [{"stageName": "Source"}, {"stageName": "Deploy"}])
    view = status.pipeline_view(s.client("codepipeline"), "p")
    s.done()
    assert view == PipelineView(
        name="p", stages=[StageView("Source", "NotStarted"), StageView("Deploy", "NotStarted")]
    )


def test_a_missing_pipeline_is_none_and_other_errors_pass() -> None:
    s = Stubs()
    s.error("codepipeline", "list_pipeline_executions", "PipelineNotFoundException", "no", LIST)
    assert status.pipeline_view(s.client("codepipeline"), "p") is None
    s.error("codepipeline", "list_pipeline_executions", "AccessDeniedException", "no", LIST)
    with pytest.raises(AwsCallError):
        status.pipeline_view(s.client("codepipeline"), "p")
    s.done()


@pytest.mark.parametrize(
    ("image", "tag"),
    [
        ("123.dkr.ecr.ap-northeast-1.amazonaws.com/app:abc123", "abc123"),
        ("localhost:5000/app:v1:x", "v1:x"),
        ("localhost:5000/app", "latest"),
        ("nginx", "latest"),
        ("repo/app@sha256:0123456789abcdef0123", "0123456789ab"),
        ("app@0123456789abcdef", "0123456789ab"),
    ],
)
def test_image_tag(image: str, tag: str) -> None:
    assert status.image_tag(image) == tag


def test_family_revision() -> None:
    assert status._family_revision("arn:aws:ecs:r:1:task-definition/web:7") == "web:7"
    assert status._family_revision("") == ""


BLUE = "arn:aws:elasticloadbalancing:r:1:targetgroup/app-blue/1"
GREEN = "arn:aws:elasticloadbalancing:r:1:targetgroup/app-green/2"


def _deployment(phase: Phase, *sets: tuple[str, str]) -> DeploymentView:
    return DeploymentView(
        engine="codedeploy",
        id="d-1",
        status="InProgress",
        phase=phase,
        task_sets=[
            TrafficSet(f"ts-{n}", label, "ACTIVE", 0.0, tg, 1, 1)
            for n, (label, tg) in enumerate(sets)
        ],
    )


def test_blue_is_what_production_serves_outside_a_deployment() -> None:
    groups = (BLUE, GREEN)
    assert status._labels(groups, [(BLUE, 10), (GREEN, 90)], None) == {
        BLUE: "green",
        GREEN: "blue",
    }
    assert status._labels(groups, [], None) == {BLUE: "green", GREEN: "green"}
    ended = _deployment(Phase.SUCCEEDED, ("blue", "app-green"), ("green", "app-blue"))
    assert status._labels(groups, [(BLUE, 100)], ended) == {BLUE: "blue", GREEN: "green"}


def test_during_a_deployment_the_engine_labels_them() -> None:
    groups = (BLUE, GREEN)
    shifting = _deployment(Phase.SHIFTING, ("blue", "app-green"), ("green", "app-blue"))
    assert status._labels(groups, [(BLUE, 100)], shifting) == {GREEN: "blue", BLUE: "green"}
    # queued: nothing labelled yet; one labelled set or an unknown group: by production
    queued = _deployment(Phase.QUEUED, ("blue", "app-green"), ("green", "app-blue"))
    assert status._labels(groups, [(BLUE, 100)], queued) == {BLUE: "blue", GREEN: "green"}
    half = _deployment(Phase.INSTALLING, ("blue", "app-green"))
    assert status._labels(groups, [(BLUE, 100)], half) == {BLUE: "blue", GREEN: "green"}
    odd = _deployment(Phase.INSTALLING, ("blue", "app-green"), ("grey", "app-blue"))
    assert status._labels(groups, [(BLUE, 100)], odd) == {BLUE: "blue", GREEN: "green"}
    elsewhere = _deployment(Phase.INSTALLING, ("blue", "other"), ("green", "app-blue"))
    assert status._labels(groups, [(BLUE, 100)], elsewhere) == {BLUE: "blue", GREEN: "green"}


def test_the_status_document() -> None:
    pipeline = PipelineView(
        "p",
        "e-1",
        "InProgress",
        T0,
        "abc",
        "Say hello",
        [StageView("Deploy", "InProgress", [ActionView("Deploy", "InProgress", "s", "d-1", "e")])],
    )
    system = SystemStatus(
        pipeline=pipeline,
        deployment=None,
        listeners=[ListenerView("production", 80, [("app-blue", 100)])],
        target_groups=[TargetGroupView("app-blue", "blue", {"healthy": 2})],
        task_sets=[
            TaskSetView("ts-1", "PRIMARY", "blue", "web:3", [("web", "abc")], 2, 2, 0, "app-blue")
        ],
        deployment_note="no deployment group yet",
    )
    assert system.to_dict() == {
        "pipeline": {
            "name": "p",
            "execution_id": "e-1",
            "status": "InProgress",
            "started": "2026-12-01T09:00:00+00:00",
            "revision": "abc",
            "revision_summary": "Say hello",
            "stages": [
                {
                    "name": "Deploy",
                    "status": "InProgress",
                    "actions": [
                        {
                            "name": "Deploy",
                            "status": "InProgress",
                            "summary": "s",
                            "external_id": "d-1",
                            "error": "e",
                        }
                    ],
                }
            ],
        },
        "deployment": None,
        "deployment_note": "no deployment group yet",
        "listeners": [
            {
                "role": "production",
                "port": 80,
                "forwards": [{"target_group": "app-blue", "weight": 100}],
            }
        ],
        "target_groups": [{"name": "app-blue", "label": "blue", "health": {"healthy": 2}}],
        "task_sets": [
            {
                "id": "ts-1",
                "status": "PRIMARY",
                "label": "blue",
                "task_definition": "web:3",
                "images": {"web": "abc"},
                "running": 2,
                "desired": 2,
                "pending": 0,
                "target_group": "app-blue",
            }
        ],
    }
    bare = SystemStatus(None, None, [], [], [], "", None).to_dict()
    assert bare["pipeline"] is None and bare["deployment_note"] is None
    assert "verify" not in bare
    unstarted = SystemStatus(PipelineView("p"), None, [], [], []).to_dict()
    assert unstarted["pipeline"]["started"] is None


# ---- listeners, target groups and task sets (_traffic) ---------------------------------
# Against the emulated ELBv2 (DescribeTargetHealth of a group without targets answers no
# descriptions) and ECS (DescribeTaskDefinition gives containerDefinitions with images);
# the engine is a stand-in giving what _traffic reads of it: its refs, the listeners'
# forwards and the service with its task sets (DescribeServices' taskSets, ECS API
# reference, TaskSet: id, status, taskDefinition, computedDesiredCount, runningCount,
# pendingCount, loadBalancers).


@dataclass
class _Engine:
    refs: ServiceRefs
    routes: dict[str, list[tuple[str, int]]]
    service: dict[str, Any]

    def forwards(self) -> dict[str, list[tuple[str, int]]]:
        return self.routes


def _groups(aws: Emulator) -> tuple[str, str]:
    ec2 = aws.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]["VpcId"]
    elbv2 = aws.client("elbv2")
    blue, green = (
        elbv2.create_target_group(
            Name=f"app-{color}", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        for color in ("blue", "green")
    )
    return blue, green


def _definition(aws: Emulator, image: str) -> str:
    arn: str = aws.client("ecs").register_task_definition(
        family="web",
        containerDefinitions=[
            {"name": "web", "image": image, "memory": 128},
            {"name": "log_router", "image": "fluent-bit:2.1", "memory": 64},
        ],
    )["taskDefinition"]["taskDefinitionArn"]
    return arn


def _set(ident: str, state: str, definition: str, group: str, running: int) -> dict[str, Any]:
    return {
        "id": ident,
        "status": state,
        "taskDefinition": definition,
        "computedDesiredCount": 2,
        "runningCount": running,
        "pendingCount": 2 - running,
        "loadBalancers": [{"targetGroupArn": group, "containerName": "web", "containerPort": 80}],
    }


def test_traffic_reads_listeners_groups_and_task_sets() -> None:
    with Emulator("ap-northeast-1") as aws:
        blue, green = _groups(aws)
        old = _definition(aws, "repo/web:v1")
        new = _definition(aws, "repo/web@sha256:abcdef0123456789")
        refs = ServiceRefs("c", "s", "a", "g", "pl", "tl", (blue, green), 80, 8080)
        service = {
            "taskSets": [
                _set("ts-b", "ACTIVE", new, green, 1),
                _set("ts-z", "DRAINING", old, blue, 0),
                _set("ts-a", "PRIMARY", old, blue, 2),
                {"id": "ts-x", "status": "WEIRD"},
            ]
        }
        engine = _Engine(
            refs, {"production": [(blue, 1), (green, 2)], "test": [(green, 0)]}, service
        )
        clients = Clients.from_factory(aws.client, "ap-northeast-1")
        found = status._traffic(clients, engine, None)  # type: ignore[arg-type]
        definitions = {k for k in clients.memo}
    assert found["listeners"] == [
        ListenerView("production", 80, [("app-blue", 33), ("app-green", 67)]),
        ListenerView("test", 8080, [("app-green", 0)]),  # weights summing to 0: no division
    ]
    assert found["target_groups"] == [
        TargetGroupView("app-blue", "green", {}),
        TargetGroupView("app-green", "blue", {}),
    ]
    assert found["task_sets"] == [
        TaskSetView(
            "ts-a",
            "PRIMARY",
            "green",
            "web:1",
            [("web", "v1"), ("log_router", "2.1")],
            2,
            2,
            0,
            "app-blue",
        ),
        TaskSetView(
            "ts-b",
            "ACTIVE",
            "blue",
            "web:2",
            [("web", "abcdef012345"), ("log_router", "2.1")],
            1,
            2,
            1,
            "app-green",
        ),
        TaskSetView(
            "ts-z",
            "DRAINING",
            "green",
            "web:1",
            [("web", "v1"), ("log_router", "2.1")],
            0,
            2,
            2,
            "app-blue",
        ),
        TaskSetView("ts-x", "WEIRD", "", "", [], 0, 0, 0, ""),
    ]
    assert definitions == {f"task-definition {old}", f"task-definition {new}"}


def test_traffic_without_a_test_listener_route() -> None:
    with Emulator("ap-northeast-1") as aws:
        blue, green = _groups(aws)
        refs = ServiceRefs("c", "s", "a", "g", "pl", "tl", (blue, green), 80, 8080)
        engine = _Engine(refs, {"production": [(green, 100)]}, {})
        clients = Clients.from_factory(aws.client, "ap-northeast-1")
        found = status._traffic(clients, engine, None)  # type: ignore[arg-type]
    assert found["listeners"] == [ListenerView("production", 80, [("app-green", 100)])]
    assert [(g.name, g.label) for g in found["target_groups"]] == [
        ("app-blue", "green"),
        ("app-green", "blue"),
    ]
    assert found["task_sets"] == []


def test_alarms_that_stopped_a_deployment_without_a_verify_view() -> None:
    # An alarm named by CodeDeploy while [verify] is off (the user's own alarm on the
    # deployment group): said with what it watches unknown.
    stopped = DeploymentView(
        "codedeploy", "d-1", "Stopped", Phase.STOPPED, alarms=["their-alarm"], new_target_group="g"
    )
    found = SystemStatus(None, stopped, [], [], []).to_dict()["deployment"]
    assert found["alarm_subjects"] == [{"alarm": "their-alarm", "watches": None, "revision": None}]


def test_stopping_alarms_say_whose_revision_they_watch() -> None:
    stopped = DeploymentView(
        "codedeploy",
        "d-1",
        "Stopped",
        Phase.STOPPED,
        alarms=["green-5xx", "blue-5xx"],
        new_target_group="app-green",
    )
    view = VerificationView(watches={"green-5xx": "app-green", "blue-5xx": "app-blue"})
    found = SystemStatus(None, stopped, [], [], [], verification=view).to_dict()
    assert found["deployment"]["alarm_subjects"] == [
        {"alarm": "green-5xx", "watches": "app-green", "revision": "new"},
        {"alarm": "blue-5xx", "watches": "app-blue", "revision": "previous"},
    ]
    assert found["verify"] == {
        "checks": [],
        "alarms": [],
    }
