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

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from bluegreen.aws.errors import call
from bluegreen.errors import BluegreenError


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
    """The resolved commit, else the requested source version; "" when neither is known."""
    status: str
    phase: str
    """CodeBuild's currentPhase; "" when the build has none yet."""
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


_EARLIEST = datetime.min.replace(tzinfo=UTC)


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
    # botocore's timestamps are aware: an action without a start time sorts first, as an
    # aware datetime (a naive one cannot be compared with them).
    for detail in sorted(details, key=lambda d: d.get("startTime") or _EARLIEST):
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
                    # Absent (a build not started yet): "", as for the branch, not "None".
                    commit=str(
                        build.get("resolvedSourceVersion") or build.get("sourceVersion") or ""
                    ),
                    status=str(build.get("buildStatus")),
                    phase=str(build.get("currentPhase") or ""),
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


# ---- a failed build in one line (F6) ----------------------------------------------------

_COMMAND_ERROR = re.compile(
    r"Error while executing command: (?P<command>.*)\. Reason: (?P<reason>[^\n]*)\Z", re.S
)
"""CodeBuild's context of a failed command, "Error while executing command: <command>.
Reason: exit status <N>" (awslabs/aws-deployment-framework#471), where <command> is the
buildspec's command as written: a whole script for a ``- |`` block."""

ERROR_LINE_CHARACTERS = 200
"""How much of a command or of its last output line a one-line reason keeps."""


def is_script_error(message: str) -> bool:
    """Whether ``message`` (a failed action's or build phase's) names a failed command
    that spans lines (a ``- |`` script). A one-line command's text is CodeBuild's own and
    stays as it is."""
    found = _COMMAND_ERROR.search(message)
    return found is not None and "\n" in found["command"].strip()


def one_line(message: str, output: str = "") -> str:
    """A failed build's reason on one line: the command CodeBuild names cut to its first
    line (a script's length said instead of its text), its reason, and ``output``, the
    last line the build printed (:func:`last_output`), where the script said what went
    wrong. Other messages have their whitespace collapsed."""
    found = _COMMAND_ERROR.search(message)
    if found is None:
        text = " ".join(message.split())
    else:
        lines = [line.strip() for line in found["command"].strip().splitlines() if line.strip()]
        shown = _cut(lines[0] if lines else "")
        if len(lines) > 1:
            shown += f" … ({len(lines)}-line script)"
        head = " ".join(message[: found.start()].split())
        text = f"{head} `{shown}` failed: {found['reason'].strip()}".strip()
    if output:
        text += f"; last output: {_cut(output)}"
    return text


def _cut(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= ERROR_LINE_CHARACTERS:
        return text
    return text[: ERROR_LINE_CHARACTERS - 1] + "…"


def last_output(codebuild: Any, logs: Any, build_id: str) -> str:
    """The last line a build's commands printed (its CloudWatch Logs stream, Build.logs;
    CodeBuild's own lines start with ``[Container]``), or "" when it cannot be read (no
    such build, no log, no permission: the reason stays CodePipeline's)."""
    try:
        found = _builds(codebuild, [build_id]).get(build_id) or {}
        where = found.get("logs") or {}
        if not where.get("groupName") or not where.get("streamName"):
            return ""
        events = call(
            logs,
            "get_log_events",
            logGroupName=where["groupName"],
            logStreamName=where["streamName"],
            limit=100,
            startFromHead=False,
        ).get("events", [])
    except BluegreenError:
        return ""
    for event in reversed(events):
        line = str(event.get("message", "")).strip()
        if line and not line.startswith("[Container]"):
            return line
    return ""
