"""deploy's first release: followed until production serves it, promoted if it waits.

The pipeline calls are stubbed with botocore Stubber; the deployment engine is a fake
whose phases the test scripts, so each stop condition is exercised on its own.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_aws_support import Stubs, pipeline_poll

from bluegreen import config as config_mod
from bluegreen.aws import release as release_mod
from bluegreen.engine import ActionResult, DeploymentView, Phase
from bluegreen.errors import StateError

PIPELINE = "sample3-dev-pipeline"


class FakeEngine:
    """Reports the scripted phases of deployment d-FIRST, one per status() call."""

    name = "codedeploy"

    def __init__(self, phases: list[Phase]) -> None:
        self.phases = phases
        self.promoted = 0

    def status(self) -> DeploymentView:
        phase = self.phases.pop(0) if len(self.phases) > 1 else self.phases[0]
        return DeploymentView("codedeploy", "d-FIRST", str(phase), phase)

    def promote(self) -> ActionResult:
        self.promoted += 1
        return ActionResult("promote", "d-FIRST", "rerouting production")


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


DEPLOYING = {"status": "InProgress", "externalExecutionId": "d-FIRST"}


def run(s: Stubs, engine: FakeEngine, reroute: str = "manual") -> tuple[Any, Lines]:
    cfg = config_mod.parse(f'[deployment]\nreroute = "{reroute}"')
    ui = Lines()
    result = release_mod.first_release(
        s.clients, cfg, ui, sleep=lambda _seconds: None, engine=engine
    )
    s.done()
    return result, ui


def test_a_first_release_waiting_for_reroute_is_promoted() -> None:
    s = Stubs()
    latest(s, "exec-1")
    poll(s, "exec-1", "InProgress", {"status": "InProgress"})  # still building
    poll(s, "exec-1", "InProgress", DEPLOYING)  # installing green
    poll(s, "exec-1", "InProgress", DEPLOYING)  # green waits on :8080
    engine = FakeEngine([Phase.INSTALLING, Phase.WAITING])

    result, ui = run(s, engine)

    assert engine.promoted == 1 and result.promoted
    assert result.waiting_deployment == "d-FIRST" and not result.failed
    assert ui.lines[0] == f"following the first release: {PIPELINE} execution exec-1"
    assert ui.lines[-1].startswith("promoted the first release (blue was the bootstrap")


def test_with_automatic_reroute_it_stops_once_production_moved() -> None:
    s = Stubs()
    latest(s, "exec-2")
    poll(s, "exec-2", "InProgress", DEPLOYING)
    engine = FakeEngine([Phase.TERMINATION_WAIT])

    result, _ = run(s, engine, reroute="auto")

    assert engine.promoted == 0 and not result.promoted
    assert result.deployment_phase == "termination-wait" and not result.failed


def test_a_failed_first_release_names_the_action() -> None:
    s = Stubs()
    latest(s, "exec-3")
    failed = {"status": "Failed", "errorDetails": {"code": "JobFailed", "message": "exit 1"}}
    poll(s, "exec-3", "Failed", failed)
    engine = FakeEngine([Phase.INSTALLING])

    result, _ = run(s, engine)

    assert result.failed and result.failed_action == "Deploy/Deploy"
    assert result.error == "exit 1" and engine.promoted == 0


def test_the_first_run_is_looked_for_until_it_is_listed() -> None:
    s = Stubs()
    latest(s, None)
    latest(s, "exec-4")
    poll(s, "exec-4", "InProgress", DEPLOYING)
    result, _ = run(s, FakeEngine([Phase.WAITING]))
    assert result.execution_id == "exec-4" and result.promoted


def test_no_execution_to_follow_is_refused() -> None:
    s = Stubs()
    for _ in range(release_mod.FIRST_EXECUTION_POLLS):
        latest(s, None)
    with pytest.raises(StateError, match="no execution"):
        run(s, FakeEngine([Phase.INSTALLING]))


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
