"""``release``: start the pipeline (the console's "Release change") and follow it.

Following reads the execution's status and the pipeline state (stage and action
statuses) every few seconds and reports only what changed. It ends when the execution
ends, or when the Deploy action's CodeDeploy deployment is waiting for reroute: the
pipeline stays in progress then, and a person decides (``promote`` or ``rollback``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from bluegreen import engine as engine_mod
from bluegreen.aws import console, pipeline
from bluegreen.engine import DeploymentEngine, Phase
from bluegreen.names import Names

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients
    from bluegreen.config import Config

Sleep = Callable[[float], None]

FINISHED = {"Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"}
FAILED = {"Failed", "Stopped", "Cancelled"}


class ReleaseUI(Protocol):
    def step(self, message: str) -> None: ...


@dataclass
class ReleaseResult:
    pipeline: str
    execution_id: str
    status: str  # the execution's status when we stopped following
    link: str
    waiting_deployment: str = ""
    failed_action: str = ""
    error: str = ""
    followed: bool = True

    @property
    def failed(self) -> bool:
        return self.status in FAILED

    def to_dict(self) -> dict[str, Any]:
        return {
            "pipeline": self.pipeline,
            "execution_id": self.execution_id,
            "status": self.status,
            "console": self.link,
            "waiting_deployment": self.waiting_deployment or None,
            "failed_action": self.failed_action or None,
            "error": self.error or None,
        }


def release(
    clients: Clients,
    config: Config,
    ui: ReleaseUI,
    *,
    follow: bool = True,
    sleep: Sleep = time.sleep,
    interval: float = 10.0,
) -> ReleaseResult:
    """Start the pipeline and, unless ``follow`` is False, follow it (module docstring)."""
    name = Names.of(config).pipeline
    client = clients.codepipeline
    execution_id = pipeline.start(client, name)
    link = console.pipeline_execution(clients.region, name, execution_id)
    ui.step(f"started {name} execution {execution_id}")
    result = ReleaseResult(name, execution_id, "InProgress", link, followed=follow)
    if not follow:
        return result

    printed: dict[str, str] = {}
    engine: DeploymentEngine | None = None
    while True:
        status = pipeline.execution(client, name, execution_id).get("status", "")
        stages = pipeline.state(client, name)
        for line_key, text in _changes(stages, execution_id):
            if printed.get(line_key) != text:
                printed[line_key] = text
                ui.step(text)
        if status in FINISHED:
            result.status = status
            if status in FAILED:
                result.failed_action, result.error = _failure(stages, execution_id)
            return result
        deployment_id = _deploying(stages, execution_id)
        if deployment_id:
            if engine is None:
                engine = engine_mod.select(clients, config)
            view = engine.status()
            if view is not None and view.id == deployment_id and view.phase == Phase.WAITING:
                result.status = status
                result.waiting_deployment = deployment_id
                return result
        sleep(interval)


def _mine(stage: dict[str, Any], execution_id: str) -> bool:
    return bool(stage.get("latestExecution", {}).get("pipelineExecutionId") == execution_id)


def _changes(stages: list[dict[str, Any]], execution_id: str) -> list[tuple[str, str]]:
    lines = []
    for stage in stages:
        if not _mine(stage, execution_id):
            continue
        name = stage.get("stageName", "")
        for action in stage.get("actionStates", []):
            last = action.get("latestExecution", {})
            status = last.get("status", "")
            if not status:
                continue
            text = f"{name}/{action.get('actionName', '')}: {status}"
            external = last.get("externalExecutionId") or ""
            if external and status == "InProgress":
                text += f" ({external})"
            lines.append((f"{name}/{action.get('actionName', '')}", text))
    return lines


def _deploying(stages: list[dict[str, Any]], execution_id: str) -> str:
    """The CodeDeploy deployment id of an in-progress action of this execution, if any."""
    for stage in stages:
        if not _mine(stage, execution_id):
            continue
        for action in stage.get("actionStates", []):
            last = action.get("latestExecution", {})
            external = last.get("externalExecutionId") or ""
            if last.get("status") == "InProgress" and external.startswith("d-"):
                return str(external)
    return ""


def _failure(stages: list[dict[str, Any]], execution_id: str) -> tuple[str, str]:
    for stage in stages:
        if not _mine(stage, execution_id):
            continue
        for action in stage.get("actionStates", []):
            last = action.get("latestExecution", {})
            if last.get("status") == "Failed":
                details = last.get("errorDetails", {})
                message = details.get("message") or last.get("summary") or "failed"
                return f"{stage.get('stageName')}/{action.get('actionName')}", str(message)
    return "", ""
