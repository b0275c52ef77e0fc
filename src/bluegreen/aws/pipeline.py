"""CodePipeline: start an execution, read executions and the stage-by-stage state."""

from __future__ import annotations

from typing import Any

from bluegreen.aws.errors import call


def start(codepipeline: Any, name: str) -> str:
    """Start an execution (the console's "Release change"); returns its id."""
    execution_id: str = call(codepipeline, "start_pipeline_execution", name=name)[
        "pipelineExecutionId"
    ]
    return execution_id


def latest_execution(codepipeline: Any, name: str) -> dict[str, Any] | None:
    """The newest execution summary, or None when the pipeline never ran."""
    found = call(codepipeline, "list_pipeline_executions", pipelineName=name, maxResults=1).get(
        "pipelineExecutionSummaries", []
    )
    if not found:
        return None
    summary: dict[str, Any] = found[0]
    return summary


def first_run_pending(codepipeline: Any, name: str) -> bool:
    """Whether the pipeline's newest execution is its first run, still in progress.

    CodePipeline starts a run when it creates a pipeline, with trigger type
    ``CreatePipeline`` (botocore model: ExecutionTrigger.triggerType)."""
    latest = latest_execution(codepipeline, name)
    if latest is None:
        return False
    trigger = latest.get("trigger", {}).get("triggerType", "")
    return bool(trigger == "CreatePipeline" and latest.get("status") == "InProgress")


def execution(codepipeline: Any, name: str, execution_id: str) -> dict[str, Any]:
    found: dict[str, Any] = call(
        codepipeline,
        "get_pipeline_execution",
        pipelineName=name,
        pipelineExecutionId=execution_id,
    )["pipelineExecution"]
    return found


def state(codepipeline: Any, name: str) -> list[dict[str, Any]]:
    """The pipeline's stage states (each with its actions' latest executions)."""
    stages: list[dict[str, Any]] = call(codepipeline, "get_pipeline_state", name=name).get(
        "stageStates", []
    )
    return stages
