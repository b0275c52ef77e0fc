"""deploy's first release: followed until production serves it, promoted if it waits.

The pipeline and CodeDeploy calls are stubbed with botocore Stubber and the real
CodeDeploy engine reads them. Stubbed behaviour and its source:

- Creating a pipeline starts an execution (CodePipeline user guide, "Start a pipeline in
  CodePipeline", trigger CreatePipeline); ListPipelineExecutions(maxResults=1) gives the
  most recent one (API reference: "Gets a summary of the most recent executions for a
  pipeline") and may list none for a moment after the pipeline was created.
- The Deploy action's ``externalExecutionId`` is the CodeDeploy deployment id (the
  CodeDeployToECS action links to the deployment it creates).
- A CodeDeploy ECS deployment waits for reroute with status ``Ready``; only then does
  ContinueDeployment(READY_WAIT) succeed, otherwise DeploymentIsNotInReadyStateException
  (botocore model). The lifecycle events can read "test traffic done" while the status
  is still InProgress (the order of events: CodeDeploy user guide, "Deployments on an
  Amazon ECS compute platform").
- The deployment group's deploymentReadyOption.actionOnTimeout is STOP_DEPLOYMENT for
  reroute = "manual" and CONTINUE_DEPLOYMENT for "auto" (GetDeploymentGroup, model).
- The termination wait: target Succeeded while the deployment is InProgress
  (aws/containers-roadmap#269).
"""

from __future__ import annotations

from typing import Any

import pytest
from codedeploy_stubs import auto_group, group, manual_group
from test_aws_support import (
    BLUE_TG,
    GREEN_TG,
    Stubs,
    deployment,
    pipeline_poll,
    refs,
    task_set,
)
from test_aws_support import service as service_stub

from bluegreen import config as config_mod
from bluegreen import engine as engine_mod
from bluegreen.aws import release as release_mod
from bluegreen.errors import StateError

PIPELINE = "sample3-dev-pipeline"
BOTH = [
    task_set("ecs-svc/1111", "PRIMARY", 1, BLUE_TG),
    task_set("ecs-svc/2222", "ACTIVE", 2, GREEN_TG),
]


class Lines:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)


def latest(s: Stubs, execution: str | None) -> None:
    summaries = [{"pipelineExecutionId": execution, "status": "InProgress"}] if execution else []
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {"pipelineExecutionSummaries": summaries},
        {"pipelineName": PIPELINE, "maxResults": 1},
    )


def poll(s: Stubs, execution: str, status: str, action: dict[str, Any]) -> None:
    pipeline_poll(
        s, execution, status, "Deploy", {"actionName": "Deploy", "latestExecution": action}
    )


DEPLOYING = {"status": "InProgress", "externalExecutionId": "d-FIRST0001"}


def promote_call(s: Stubs, error: str = "") -> None:
    params = {"deploymentId": "d-FIRST0001", "deploymentWaitType": "READY_WAIT"}
    if error:
        s.error("codedeploy", "continue_deployment", error, "not Ready", params)
    else:
        s.add("codedeploy", "continue_deployment", {}, params)


def run(s: Stubs, reroute: str = "manual") -> tuple[release_mod.ReleaseResult, Lines, list[float]]:
    cfg = config_mod.parse(f'[deployment]\nreroute = "{reroute}"')
    refs(s)
    service_stub(s, BOTH)
    engine = engine_mod.select(s.clients, cfg)
    ui = Lines()
    naps: list[float] = []
    result = release_mod.first_release(s.clients, cfg, ui, sleep=naps.append, engine=engine)
    s.done()
    return result, ui, naps


def test_a_first_release_is_promoted_once_codedeploy_reports_it_ready() -> None:
    s = Stubs()
    latest(s, "exec-1")
    poll(s, "exec-1", "InProgress", {"status": "InProgress"})  # still building
    poll(s, "exec-1", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "InProgress", 1, running="Install")
    poll(s, "exec-1", "InProgress", DEPLOYING)
    # Test traffic done, status still InProgress: the heuristic reads WAITING, but no
    # promotion is attempted (ContinueDeployment would be refused).
    deployment(s, "d-FIRST0001", "InProgress", 5)
    poll(s, "exec-1", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "Ready", 5, target_status="Ready")
    group(s, manual_group())
    promote_call(s)
    poll(s, "exec-1", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "InProgress", 8, target_status="Succeeded", weights=(0, 100))

    result, ui, naps = run(s)

    assert result.promoted and result.waiting_deployment == "d-FIRST0001"
    assert result.deployment_phase == "termination-wait" and not result.failed
    assert naps == [10.0] * 4
    assert ui.lines[0] == f"following the first release: {PIPELINE} execution exec-1"
    assert ui.lines[-1] == (
        "promoted the first release (blue was the bootstrap placeholder): rerouting production "
        "(:80) to the green task set of deployment d-FIRST0001; follow with `bluegreen status "
        "--watch`"
    )


def test_a_not_ready_answer_keeps_following_and_promotes_on_the_next_poll() -> None:
    s = Stubs()
    latest(s, "exec-2")
    poll(s, "exec-2", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "Ready", 5, target_status="Ready")
    group(s, manual_group())
    promote_call(s, "DeploymentIsNotInReadyStateException")
    poll(s, "exec-2", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "Ready", 5, target_status="Ready")
    promote_call(s)  # the group's configuration is read once
    poll(s, "exec-2", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "Succeeded", 8, target_status="Succeeded")

    result, _, _ = run(s)

    assert result.promoted and result.deployment_phase == "succeeded" and not result.failed


def test_a_group_that_reroutes_by_itself_is_never_promoted() -> None:
    s = Stubs()
    latest(s, "exec-3")
    poll(s, "exec-3", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "InProgress", 5)  # heuristic WAITING: not a reason
    poll(s, "exec-3", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "Ready", 5, target_status="Ready")
    group(s, auto_group())  # CONTINUE_DEPLOYMENT: no ContinueDeployment call follows
    poll(s, "exec-3", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "InProgress", 6, running="AllowTraffic", weights=(0, 100))
    poll(s, "exec-3", "InProgress", DEPLOYING)
    deployment(s, "d-FIRST0001", "InProgress", 8, target_status="Succeeded", weights=(0, 100))

    result, _, _ = run(s, reroute="auto")

    assert not result.promoted and result.deployment_phase == "termination-wait"


def test_a_failed_first_release_names_the_action() -> None:
    s = Stubs()
    latest(s, "exec-4")
    failed = {"status": "Failed", "errorDetails": {"code": "JobFailed", "message": "exit 1"}}
    poll(s, "exec-4", "Failed", failed)

    result, _, _ = run(s)

    assert result.failed and result.failed_action == "Deploy/Deploy"
    assert result.error == "exit 1" and not result.promoted


def test_waiting_for_the_first_run_is_said_once() -> None:
    s = Stubs()
    latest(s, None)
    latest(s, None)
    latest(s, "exec-5")
    poll(s, "exec-5", "Succeeded", {"status": "Succeeded"})

    result, ui, naps = run(s)

    assert result.execution_id == "exec-5" and naps == [10.0, 10.0]
    assert ui.lines[0] == (
        f"waiting for the pipeline's first run ({PIPELINE}, started when the pipeline was "
        "created) to be listed; checking every 10 s ..."
    )
    assert ui.lines[1] == f"following the first release: {PIPELINE} execution exec-5"


def test_no_first_run_says_the_stacks_are_fine_and_how_to_start_one() -> None:
    s = Stubs()
    for _ in range(release_mod.FIRST_EXECUTION_POLLS):
        latest(s, None)
    with pytest.raises(StateError) as info:
        run(s)
    assert info.value.message == (
        "the stacks are deployed, but pipeline sample3-dev-pipeline has not listed a first run "
        "after 50 s, so there is no release to follow"
    )
    assert info.value.hint == (
        "start the first release with `bluegreen release` (or push to main), then follow it "
        "with `bluegreen status --watch`"
    )


def test_the_deploy_summary_line_of_the_first_release() -> None:
    from bluegreen.cli.deploy import _first_release_line

    done = release_mod.ReleaseResult(PIPELINE, "3f2a9c1e-0000", "InProgress", "", promoted=True)
    assert _first_release_line(done) == "first release 3f2a9c1e: promoted"
    moved = release_mod.ReleaseResult(
        PIPELINE, "3f2a9c1e-0000", "InProgress", "", deployment_phase="termination-wait"
    )
    assert _first_release_line(moved) == "first release 3f2a9c1e: termination-wait"
    failed = release_mod.ReleaseResult(
        PIPELINE, "x", "Failed", "", failed_action="Build/BuildApp", error="exit 1"
    )
    assert _first_release_line(failed) == "first release Failed: Build/BuildApp exit 1"
