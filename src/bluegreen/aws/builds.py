"""CodeBuild: what each image build of a release did, and the branch builds' results.

The image buildspecs export ``IMAGE_TAG`` and ``IMAGE_BUILT`` (``yes``: built and
pushed; ``no``: the content tag was already in ECR, the image was reused); CodeBuild
returns them in the build's ``exportedEnvironmentVariables`` (CodeBuild API reference,
Build; buildspec reference, env/exported-variables). A release's builds are the Build
actions of its pipeline execution: ListActionExecutions gives each action's
``externalExecutionId``, the CodeBuild build id (CodePipeline API reference,
ActionExecutionResult).

The branch builds (pushes to ``builds.branches``) are the builds of the branch-check
project, newest first (ListBuildsForProject sorts by build number, DESCENDING by
default); each exports ``BRANCH``, ``APP_TESTS`` and ``CHECKS`` besides the two tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bluegreen.aws.errors import call


@dataclass(frozen=True)
class ImageBuild:
    """One image build of a pipeline execution."""

    action: str
    project: str
    build_id: str
    status: str
    tag: str
    built: bool | None
    """True: built and pushed; False: reused from ECR; None: the build did not say."""
    seconds: int

    @property
    def verdict(self) -> str:
        if self.built is None:
            return self.status.lower()
        return "built" if self.built else "reused"

    def to_dict(self) -> dict[str, Any]:
        return {
            "action": self.action,
            "project": self.project,
            "build_id": self.build_id,
            "status": self.status,
            "tag": self.tag,
            "result": self.verdict,
            "seconds": self.seconds,
        }


@dataclass(frozen=True)
class BranchBuild:
    """One build of the branch-check project."""

    build_id: str
    number: int
    branch: str
    commit: str
    status: str
    phase: str
    started: datetime | None
    seconds: int
    variables: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "build_id": self.build_id,
            "number": self.number,
            "branch": self.branch,
            "commit": self.commit,
            "status": self.status,
            "phase": self.phase,
            "started": self.started.isoformat() if self.started else None,
            "seconds": self.seconds,
            "variables": dict(self.variables),
        }


def _variables(build: dict[str, Any]) -> dict[str, str]:
    return {
        str(v.get("name")): str(v.get("value", ""))
        for v in build.get("exportedEnvironmentVariables") or []
    }


def _seconds(build: dict[str, Any]) -> int:
    start, end = build.get("startTime"), build.get("endTime")
    if isinstance(start, datetime) and isinstance(end, datetime):
        return int(round((end - start).total_seconds()))
    return 0


def _builds(codebuild: Any, ids: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(ids), 100):  # BatchGetBuilds takes 1 to 100 ids
        chunk = ids[start : start + 100]
        for build in call(codebuild, "batch_get_builds", ids=chunk).get("builds", []):
            found[str(build["id"])] = build
    return found


def image_builds(
    codepipeline: Any, codebuild: Any, pipeline: str, execution_id: str
) -> list[ImageBuild]:
    """The CodeBuild builds of ``execution_id``'s Build actions, in action order."""
    details = call(
        codepipeline,
        "list_action_executions",
        pipelineName=pipeline,
        filter={"pipelineExecutionId": execution_id},
    ).get("actionExecutionDetails", [])
    runs: list[tuple[str, str]] = []
    for detail in sorted(details, key=lambda d: d.get("startTime") or datetime.min):
        type_id = (detail.get("input") or {}).get("actionTypeId") or {}
        result = (detail.get("output") or {}).get("executionResult") or {}
        build_id = result.get("externalExecutionId")
        if type_id.get("provider") == "CodeBuild" and build_id:
            runs.append((str(detail.get("actionName")), str(build_id)))
    found = _builds(codebuild, [build_id for _, build_id in runs]) if runs else {}
    out: list[ImageBuild] = []
    for action, build_id in runs:
        build = found.get(build_id)
        if build is None:
            continue
        variables = _variables(build)
        built = variables.get("IMAGE_BUILT")
        out.append(
            ImageBuild(
                action=action,
                project=str(build.get("projectName")),
                build_id=build_id,
                status=str(build.get("buildStatus")),
                tag=variables.get("IMAGE_TAG", ""),
                built=None if built not in ("yes", "no") else built == "yes",
                seconds=_seconds(build),
            )
        )
    return out


def branch_builds(
    codebuild: Any, project: str, branch: str | None = None, limit: int = 10
) -> list[BranchBuild]:
    """The newest ``limit`` builds of the branch-check ``project`` (of ``branch`` only,
    when given), newest first."""
    ids = [
        str(i)
        for i in call(
            codebuild, "list_builds_for_project", projectName=project, sortOrder="DESCENDING"
        ).get("ids", [])
    ]
    out: list[BranchBuild] = []
    for start in range(0, len(ids), 100):
        chunk = ids[start : start + 100]
        found = _builds(codebuild, chunk)
        for build_id in chunk:
            build = found.get(build_id)
            if build is None:
                continue
            variables = _variables(build)
            name = variables.get("BRANCH") or _branch_of(build)
            if branch is not None and name != branch:
                continue
            out.append(
                BranchBuild(
                    build_id=build_id,
                    number=int(build.get("buildNumber") or 0),
                    branch=name,
                    commit=str(build.get("resolvedSourceVersion") or build.get("sourceVersion")),
                    status=str(build.get("buildStatus")),
                    phase=str(build.get("currentPhase")),
                    started=build.get("startTime"),
                    seconds=_seconds(build),
                    variables=variables,
                )
            )
            if len(out) >= limit:
                return out
    return out


def _branch_of(build: dict[str, Any]) -> str:
    """The branch from the build's environment (the event target sets BRANCH)."""
    environment = build.get("environment") or {}
    for variable in environment.get("environmentVariables") or []:
        if variable.get("name") == "BRANCH":
            return str(variable.get("value", ""))
    return ""
