"""CodePipeline: pipelines whose executions run, stage by stage, on the emulator's clock.

What AWS documents and the emulator does (CodePipeline user guide, "How pipeline
executions work", "Set or change the pipeline execution mode", "Stop a pipeline
execution"; API reference for every shape):

- creating a pipeline starts an execution (trigger CreatePipeline); so do
  StartPipelineExecution (StartPipelineExecution), an EventBridge rule (CloudWatchEvent,
  the rule's ARN as detail) and polling (PollForSourceChanges, on by default for a
  CodeCommit source);
- a CodeCommit source revision is the branch head when the execution starts ("HEAD is
  cloned at the moment the commit is pushed"; PARALLEL mode: when the source runs);
- a stage processes one execution at a time and is locked while it does; an execution
  that finishes a stage waits in front of the next one while it is locked. SUPERSEDED
  (the default): a newer execution arriving there supersedes the waiting one (status
  Superseded); an execution inside a stage is never interrupted. QUEUED: waiting
  executions enter in order. PARALLEL: no locks. A disabled inbound transition holds
  executions in front of its stage;
- actions of a stage run by runOrder; actions with the same runOrder run in parallel; a
  failed action fails the stage after the others of its runOrder finish, and the
  execution; stop-and-wait lets running actions finish, stop-and-abandon abandons them;
- updating a pipeline cancels the executions in progress when they leave their current
  stage (status Cancelled: "The pipeline's definition was updated before the pipeline
  execution could be completed").

The actions it runs, acting as the pipeline's role through the APIs (issue 9 will
evaluate that role on each of these calls):

- CodeCommit source: the commit's tree as a ZIP (CODE_ZIP) put into the artifact bucket;
- CodeStarSourceConnection source (GitHub, GitLab, Bitbucket through a CodeConnections
  connection; :mod:`bluegreen.emulator.services.codeconnections` holds the connections and
  the provider's repositories): the same ZIP, once the pipeline role may use the
  connection and the connection is AVAILABLE. Pushes reach the pipeline as the
  provider's webhook does: with V2 triggers, a push starts an execution when one of the
  trigger's push filters matches (:mod:`bluegreen.emulator.triggers`), using the pushed
  commit of the pushed branch; without triggers, a push to the action's BranchName
  does (DetectChanges, true by default);
- action variables: an action with a ``namespace`` publishes its output variables, and
  ``#{namespace.Variable}`` in a later action's configuration is replaced by the value
  (CodePipeline user guide, "Variables reference");
- CodeBuild: StartBuild (the account's concurrent-build quota applies: two builds with
  the same runOrder fail the second StartBuild at quota 1, as on AWS), then
  BatchGetBuilds until the build ends;
- CodeDeployToECS: each input artifact at most 3 MB; the task definition from
  TaskDefinitionTemplateArtifact/Path with every ``<ImageNContainerName>`` (N = 1..4)
  replaced by the ImageURI of ImageNArtifactName's imageDetail.json; RegisterTaskDefinition;
  ``<TASK_DEFINITION>`` in the AppSpec replaced by its ARN; CreateDeployment with the
  AppSpec content; GetDeployment until it ends.
"""

from __future__ import annotations

import contextlib
import copy
import json
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from bluegreen import names
from bluegreen.emulator import artifacts, authz, internal, pipeline_structure, timing, triggers
from bluegreen.emulator.artifacts import Location
from bluegreen.emulator.clock import Process, Until, Wait
from bluegreen.emulator.core import Emulator, Refusal
from bluegreen.emulator.owned import OwnedService
from bluegreen.emulator.service import Call, Params, Result, ServiceError, operation
from bluegreen.emulator.services.codebuild import CodeBuild, PipelineJob
from bluegreen.emulator.services.codecommit import CodeCommit
from bluegreen.emulator.services.codeconnections import CodeConnections, Push

Step = Wait | Until
Body = Generator[Step, Any, Any]

MAX_ECS_ARTIFACT_BYTES = 3 * 1024 * 1024
"""CodePipeline quotas ("Quotas in AWS CodePipeline", maximum size of artifacts): "If
you are using the CodeDeployToECS action to deploy applications, the maximum artifact
size is always 3 MB." (MB read as 2^20 bytes, as AWS's quotas are.)"""

FINISHED = frozenset({"Succeeded", "Failed", "Stopped", "Superseded", "Cancelled"})
_DESCRIBED_ONLY = (
    "taskDefinitionArn",
    "revision",
    "status",
    "requiresAttributes",
    "compatibilities",
    "registeredAt",
    "registeredBy",
    "deregisteredAt",
)


class ActionFailed(Exception):
    def __init__(self, message: str, code: str = "JobFailed") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass
class _Run:
    """One action execution."""

    id: str
    execution: _Execution
    stage: str
    declaration: dict[str, Any]
    started: datetime
    updated: datetime
    status: str = "InProgress"
    summary: str | None = None
    external_id: str | None = None
    external_url: str | None = None
    error: dict[str, str] | None = None
    inputs: list[tuple[str, Location]] = field(default_factory=list)
    outputs: list[tuple[str, Location]] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)
    process: Process | None = None
    configured: dict[str, str] | None = None
    """The configuration as declared, before variables were resolved (ActionExecutionInput
    configuration; ``declaration`` holds the resolved one)."""

    @property
    def name(self) -> str:
        return str(self.declaration["name"])

    @property
    def config(self) -> dict[str, str]:
        return dict(self.declaration.get("configuration") or {})

    def state(self) -> dict[str, Any]:
        """ActionExecution (GetPipelineState)."""
        out: dict[str, Any] = {
            "actionExecutionId": self.id,
            "status": self.status,
            "lastStatusChange": self.updated,
        }
        if self.summary:
            out["summary"] = self.summary
        if self.external_id:
            out["externalExecutionId"] = self.external_id
        if self.external_url:
            out["externalExecutionUrl"] = self.external_url
        if self.error:
            out["errorDetails"] = self.error
        return out


@dataclass
class _Execution:
    id: str
    pipeline: str
    version: int
    declaration: dict[str, Any]
    mode: str
    trigger: dict[str, str]
    started: datetime
    updated: datetime
    status: str = "InProgress"
    summary: str | None = None
    stop_reason: str | None = None
    stopping: bool = False
    cancel_pending: bool = False
    revisions: dict[str, str | None] = field(default_factory=dict)
    artifacts: dict[str, Location] = field(default_factory=dict)
    artifact_revision: dict[str, str] = field(default_factory=dict)
    source_revisions: list[dict[str, Any]] = field(default_factory=list)
    artifact_revisions: list[dict[str, Any]] = field(default_factory=list)
    stages: dict[str, str] = field(default_factory=dict)
    runs: list[_Run] = field(default_factory=list)
    variables: list[dict[str, str]] = field(default_factory=list)
    branches: dict[str, str] = field(default_factory=dict)
    """Source action -> the branch a trigger's push named (else the action's BranchName)."""
    namespaces: dict[str, dict[str, str]] = field(default_factory=dict)
    process: Process | None = None

    def summary_dict(self) -> dict[str, Any]:
        """PipelineExecutionSummary (ListPipelineExecutions)."""
        out: dict[str, Any] = {
            "pipelineExecutionId": self.id,
            "status": self.status,
            "startTime": self.started,
            "lastUpdateTime": self.updated,
            "sourceRevisions": list(self.source_revisions),
            "trigger": dict(self.trigger),
            "executionMode": self.mode,
            "executionType": "STANDARD",
        }
        if self.summary:
            out["statusSummary"] = self.summary
        if self.stop_reason is not None:
            out["stopTrigger"] = {"reason": self.stop_reason}
        return out


@dataclass
class _Gate:
    """The inbound side of a stage: who holds it, who waits, the transition."""

    waiting: list[_Execution] = field(default_factory=list)
    holder: _Execution | None = None
    enabled: bool = True
    changed_by: str | None = None
    changed_at: datetime | None = None
    reason: str | None = None
    latest: _Execution | None = None


@dataclass
class _Pipeline:
    name: str
    arn: str
    declaration: dict[str, Any]
    versions: dict[int, dict[str, Any]]
    created: datetime
    updated: datetime
    tags: dict[str, str] = field(default_factory=dict)
    executions: list[_Execution] = field(default_factory=list)
    gates: dict[str, _Gate] = field(default_factory=dict)
    latest_runs: dict[tuple[str, str], _Run] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    polled: dict[str, str | None] = field(default_factory=dict)
    poller: Process | None = None
    deleted: bool = False

    @property
    def version(self) -> int:
        return int(self.declaration["version"])

    @property
    def role(self) -> str:
        return str(self.declaration["roleArn"])

    def gate(self, stage: str) -> _Gate:
        return self.gates.setdefault(stage, _Gate())


class CodePipeline(OwnedService):
    name = "codepipeline"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.pipelines: dict[str, _Pipeline] = {}
        self._count = 0
        self._trigger: tuple[str, str] | None = None

    # ==================================================================== Python API
    @contextlib.contextmanager
    def triggered_by(self, kind: str, detail: str) -> Iterator[None]:
        """Attribute the executions internal StartPipelineExecution calls start in this
        block to ``kind`` (an ExecutionTrigger triggerType) and ``detail``: what AWS
        knows from the calling service (EventBridge: CloudWatchEvent, the rule's ARN)."""
        saved, self._trigger = self._trigger, (kind, detail)
        try:
            yield
        finally:
            self._trigger = saved

    def execution(self, pipeline: str, execution_id: str) -> _Execution:
        """An execution's record (for the rehearsal's timeline and tests)."""
        return self._execution(self._pipeline(pipeline), execution_id)

    def provider_push(self, push: Push) -> list[str]:
        """A push to a provider repository, as the provider's webhook tells CodePipeline;
        the executions it started (pipeline names).

        Only a connection that is AVAILABLE delivers pushes (a pending connection has no
        installed app on the provider). For each pipeline whose CodeStarSourceConnection
        source reads that repository: with triggers on that action, a push starts an
        execution when one of their push filters matches (trigger type WebhookV2); without
        triggers, a push to the action's BranchName does unless DetectChanges is false
        (trigger type Webhook). The execution uses the pushed commit of the pushed branch
        ("The execution will use the commit from the branch that you're pushing to";
        "For a pipeline where triggers are used to filter branches ... the pipeline won't
        use the default BranchName field branch": CodePipeline user guide, "Add trigger
        with code push or pull request event types"). A deleted branch starts nothing.
        """
        started: list[str] = []
        connections = self._connections()
        if push.after is None or connections is None:
            return started
        for pipeline in list(self.pipelines.values()):
            declaration = pipeline.declaration
            for action in declaration["stages"][0]["actions"]:
                config = action.get("configuration") or {}
                if (
                    action["actionTypeId"]["provider"] != "CodeStarSourceConnection"
                    or config.get("FullRepositoryId") != push.repository
                ):
                    continue
                connection = connections.connection(str(config.get("ConnectionArn", "")))
                if connection is None or connection.status != "AVAILABLE":
                    continue
                own = [
                    t
                    for t in declaration.get("triggers") or []
                    if (t.get("gitConfiguration") or {}).get("sourceActionName") == action["name"]
                ]
                if own:
                    kind = "WebhookV2"
                    matched = any(
                        triggers.push_matches(f, push.branch, push.changed)
                        for t in own
                        for f in (t.get("gitConfiguration") or {}).get("push") or []
                    )
                else:
                    kind = "Webhook"
                    detect = str(config.get("DetectChanges", "true")).lower() != "false"
                    matched = detect and push.branch == config.get("BranchName")
                if not matched:
                    continue
                self._start(
                    pipeline,
                    {"triggerType": kind, "triggerDetail": connection.arn},
                    [
                        {
                            "actionName": action["name"],
                            "revisionType": "COMMIT_ID",
                            "revisionValue": push.after,
                        }
                    ],
                    [],
                    branches={action["name"]: push.branch},
                )
                started.append(pipeline.name)
                break
        return started

    # ==================================================================== pipelines
    @operation("CreatePipeline")
    def create_pipeline(self, params: Params, call: Call) -> Result:
        declaration = self._normalized(params.get("pipeline") or {})
        name = pipeline_structure.check_name(declaration.get("name"), "pipeline.name")
        if name in self.pipelines:
            raise ServiceError(
                "PipelineNameInUseException",
                f"A pipeline with the name '{name}' already exists in account '{self.account_id}'",
            )
        self._check(declaration)
        tags = self._tags(params.get("tags") or [], {})
        declaration["version"] = 1
        now = self.emulator.now()
        pipeline = _Pipeline(
            name=name,
            arn=self.arn(name),
            declaration=declaration,
            versions={1: copy.deepcopy(declaration)},
            created=now,
            updated=now,
            tags=tags,
        )
        self.pipelines[name] = pipeline
        pipeline.poller = self.emulator.clock.spawn(
            f"codepipeline {name}: poll sources", self._poll(pipeline)
        )
        # "When you create a pipeline, it automatically starts to run" (CodePipeline user
        # guide, "Start a pipeline in CodePipeline"; trigger type CreatePipeline).
        self._start(
            pipeline, {"triggerType": "CreatePipeline", "triggerDetail": call.principal}, [], []
        )
        result: Result = {"pipeline": copy.deepcopy(declaration)}
        if tags:
            result["tags"] = [{"key": k, "value": v} for k, v in sorted(tags.items())]
        return result

    @operation("GetPipeline")
    def get_pipeline(self, params: Params, call: Call) -> Result:
        pipeline = self._pipeline(params.get("name"))
        version = params.get("version")
        declaration = pipeline.declaration
        if version is not None:
            found = pipeline.versions.get(int(version))
            if found is None:
                raise ServiceError(
                    "PipelineVersionNotFoundException",
                    f"Pipeline {pipeline.name} has no version {version}",
                )
            declaration = found
        return {
            "pipeline": copy.deepcopy(declaration),
            "metadata": {
                "pipelineArn": pipeline.arn,
                "created": pipeline.created,
                "updated": pipeline.updated,
            },
        }

    @operation("UpdatePipeline")
    def update_pipeline(self, params: Params, call: Call) -> Result:
        declaration = self._normalized(params.get("pipeline") or {})
        pipeline = self._pipeline(declaration.get("name"))
        self._check(declaration)
        declaration["version"] = pipeline.version + 1
        pipeline.declaration = declaration
        pipeline.versions[declaration["version"]] = copy.deepcopy(declaration)
        pipeline.updated = self.emulator.now()
        for execution in pipeline.executions:
            if execution.status == "InProgress":
                execution.cancel_pending = True
        return {"pipeline": copy.deepcopy(declaration)}

    @operation("DeletePipeline")
    def delete_pipeline(self, params: Params, call: Call) -> Result:
        name = pipeline_structure.check_name(params.get("name"), "name")
        pipeline = self.pipelines.pop(name, None)
        if pipeline is None:
            return {}
        pipeline.deleted = True
        if pipeline.poller is not None:
            pipeline.poller.cancel()
        for execution in pipeline.executions:
            for run in execution.runs:
                if run.process is not None:
                    run.process.cancel()
            if execution.process is not None:
                execution.process.cancel()
        return {}

    @operation("ListPipelines")
    def list_pipelines(self, params: Params, call: Call) -> Result:
        items = [
            {
                "name": p.name,
                "version": p.version,
                "pipelineType": p.declaration.get("pipelineType", "V1"),
                "executionMode": p.declaration.get("executionMode", "SUPERSEDED"),
                "created": p.created,
                "updated": p.updated,
            }
            for p in sorted(self.pipelines.values(), key=lambda p: p.name)
        ]
        return _page(items, "pipelines", params.get("maxResults") or 1000, params.get("nextToken"))

    # ==================================================================== executions
    @operation("StartPipelineExecution")
    def start_pipeline_execution(self, params: Params, call: Call) -> Result:
        pipeline = self._pipeline(params.get("name"))
        token = params.get("clientRequestToken")
        if token and token in pipeline.tokens:
            return {"pipelineExecutionId": pipeline.tokens[token]}
        trigger = {"triggerType": "StartPipelineExecution", "triggerDetail": call.principal}
        if call.internal and self._trigger is not None:
            trigger = {"triggerType": self._trigger[0], "triggerDetail": self._trigger[1]}
        declared = {
            v["name"]: v.get("defaultValue") for v in pipeline.declaration.get("variables") or []
        }
        variables = []
        for variable in params.get("variables") or []:
            if variable["name"] not in declared:
                raise ServiceError(
                    "ValidationException",
                    f"Pipeline variable {variable['name']} is not declared in pipeline "
                    f"{pipeline.name}",
                )
            variables.append({"name": variable["name"], "resolvedValue": variable["value"]})
        given = {v["name"] for v in variables}
        variables += [
            {"name": k, "resolvedValue": str(v)}
            for k, v in declared.items()
            if k not in given and v is not None
        ]
        execution = self._start(pipeline, trigger, params.get("sourceRevisions") or [], variables)
        if token:
            pipeline.tokens[token] = execution.id
        return {"pipelineExecutionId": execution.id}

    @operation("StopPipelineExecution")
    def stop_pipeline_execution(self, params: Params, call: Call) -> Result:
        pipeline = self._pipeline(params.get("pipelineName"))
        execution = self._execution(pipeline, params.get("pipelineExecutionId") or "")
        abandon = bool(params.get("abandon"))
        if execution.status not in ("InProgress", "Stopping"):
            raise ServiceError(
                "PipelineExecutionNotStoppableException",
                f"Unable to stop pipeline execution {execution.id}: it is {execution.status}",
            )
        if execution.status == "Stopping" and not abandon:
            # "If you choose to stop and wait, and you change your mind while your
            # execution is still in a Stopping state, you can then choose to abandon."
            raise ServiceError(
                "DuplicatedStopRequestException",
                f"Execution {execution.id} is already being stopped",
            )
        execution.stopping = True
        execution.stop_reason = params.get("reason") or ""
        execution.status = "Stopping"
        execution.updated = self.emulator.now()
        for stage, status in execution.stages.items():
            if status == "InProgress":
                execution.stages[stage] = "Stopping"
        if abandon:
            for run in execution.runs:
                if run.status == "InProgress":
                    if run.process is not None:
                        run.process.cancel()
                    self._finish(run, "Abandoned")
        return {"pipelineExecutionId": execution.id}

    @operation("GetPipelineExecution")
    def get_pipeline_execution(self, params: Params, call: Call) -> Result:
        pipeline = self._pipeline(params.get("pipelineName"))
        execution = self._execution(pipeline, params.get("pipelineExecutionId") or "")
        out: dict[str, Any] = {
            "pipelineName": pipeline.name,
            "pipelineVersion": execution.version,
            "pipelineExecutionId": execution.id,
            "status": execution.status,
            "artifactRevisions": list(execution.artifact_revisions),
            "variables": list(execution.variables),
            "trigger": dict(execution.trigger),
            "executionMode": execution.mode,
            "executionType": "STANDARD",
        }
        if execution.summary:
            out["statusSummary"] = execution.summary
        return {"pipelineExecution": out}

    @operation("ListPipelineExecutions")
    def list_pipeline_executions(self, params: Params, call: Call) -> Result:
        pipeline = self._pipeline(params.get("pipelineName"))
        executions = list(reversed(pipeline.executions))
        stage = ((params.get("filter") or {}).get("succeededInStage") or {}).get("stageName")
        if stage:
            executions = [e for e in executions if e.stages.get(stage) == "Succeeded"]
        items = [e.summary_dict() for e in executions]
        return _page(
            items,
            "pipelineExecutionSummaries",
            params.get("maxResults") or 100,
            params.get("nextToken"),
        )

    @operation("GetPipelineState")
    def get_pipeline_state(self, params: Params, call: Call) -> Result:
        pipeline = self._pipeline(params.get("name"))
        states = []
        for stage in pipeline.declaration["stages"]:
            name = stage["name"]
            gate = pipeline.gate(name)
            state: dict[str, Any] = {"stageName": name, "inboundTransitionState": _transition(gate)}
            waiting = [e for e in gate.waiting if e.status in ("InProgress", "Stopping")]
            if waiting:
                state["inboundExecution"] = {
                    "pipelineExecutionId": waiting[0].id,
                    "status": "InProgress",
                    "type": "STANDARD",
                }
                state["inboundExecutions"] = [
                    {"pipelineExecutionId": e.id, "status": "InProgress", "type": "STANDARD"}
                    for e in waiting
                ]
            actions = []
            for action in stage["actions"]:
                entry: dict[str, Any] = {"actionName": action["name"]}
                run = pipeline.latest_runs.get((name, action["name"]))
                if run is not None:
                    entry["latestExecution"] = run.state()
                    if run.declaration["actionTypeId"]["category"] == "Source" and run.external_id:
                        entry["currentRevision"] = {
                            "revisionId": run.external_id,
                            "revisionChangeId": run.external_id,
                            "created": run.updated,
                        }
                url = self._entity_url(action)
                if url:
                    entry["entityUrl"] = url
                actions.append(entry)
            state["actionStates"] = actions
            if gate.latest is not None:
                state["latestExecution"] = {
                    "pipelineExecutionId": gate.latest.id,
                    "status": gate.latest.stages.get(name, "InProgress"),
                    "type": "STANDARD",
                }
            states.append(state)
        return {
            "pipelineName": pipeline.name,
            "pipelineVersion": pipeline.version,
            "stageStates": states,
            "created": pipeline.created,
            "updated": pipeline.updated,
        }

    @operation("ListActionExecutions")
    def list_action_executions(self, params: Params, call: Call) -> Result:
        pipeline = self._pipeline(params.get("pipelineName"))
        wanted = (params.get("filter") or {}).get("pipelineExecutionId")
        executions = pipeline.executions
        if wanted:
            executions = [self._execution(pipeline, wanted)]
        runs = [run for execution in executions for run in execution.runs]
        runs.sort(key=lambda r: r.started, reverse=True)
        items = [self._detail(pipeline, run) for run in runs]
        return _page(
            items,
            "actionExecutionDetails",
            params.get("maxResults") or 100,
            params.get("nextToken"),
        )

    @operation("DisableStageTransition")
    def disable_stage_transition(self, params: Params, call: Call) -> Result:
        gate = self._transition_gate(params)
        gate.enabled = False
        gate.reason = params.get("reason")
        gate.changed_by = call.principal
        gate.changed_at = self.emulator.now()
        return {}

    @operation("EnableStageTransition")
    def enable_stage_transition(self, params: Params, call: Call) -> Result:
        gate = self._transition_gate(params)
        gate.enabled = True
        gate.reason = None
        gate.changed_by = call.principal
        gate.changed_at = self.emulator.now()
        return {}

    # -- tags -----------------------------------------------------------------------------
    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, call: Call) -> Result:
        pipeline = self._by_arn(params.get("resourceArn") or "")
        return {"tags": [{"key": k, "value": v} for k, v in sorted(pipeline.tags.items())]}

    @operation("TagResource")
    def tag_resource(self, params: Params, call: Call) -> Result:
        pipeline = self._by_arn(params.get("resourceArn") or "")
        pipeline.tags = self._tags(params.get("tags") or [], pipeline.tags)
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, call: Call) -> Result:
        pipeline = self._by_arn(params.get("resourceArn") or "")
        for key in params.get("tagKeys") or []:
            pipeline.tags.pop(key, None)
        return {}

    # ==================================================================== checks
    def _normalized(self, raw: dict[str, Any]) -> dict[str, Any]:
        """The declaration as GetPipeline returns it (AWS fills in the defaults)."""
        declaration = copy.deepcopy(raw)
        declaration.pop("version", None)
        declaration.setdefault("executionMode", "SUPERSEDED")
        declaration.setdefault("pipelineType", "V1")
        for stage in declaration.get("stages") or []:
            for action in stage.get("actions") or []:
                action.setdefault("runOrder", 1)
                action.setdefault("configuration", {})
                action.setdefault("outputArtifacts", [])
                action.setdefault("inputArtifacts", [])
        return declaration

    def _check(self, declaration: dict[str, Any]) -> None:
        pipeline_structure.check(declaration, self.region)
        role = str(declaration.get("roleArn") or "")
        # CodePipeline assumes the role when the pipeline is created or updated; AWS's
        # text when it cannot (CloudFormation events, moto reproduces it).
        if not internal.role_trusts(self.emulator, role, "codepipeline.amazonaws.com"):
            raise ServiceError(
                "InvalidStructureException",
                f"CodePipeline is not authorized to perform AssumeRole on role {role}",
            )

    @staticmethod
    def _tags(given: list[dict[str, str]], existing: dict[str, str]) -> dict[str, str]:
        tags = dict(existing)
        for tag in given:
            if tag["key"].startswith("aws:"):
                # moto reproduces AWS's text for system tags.
                raise ServiceError(
                    "InvalidTagsException",
                    "Not allowed to modify system tags. System tags start with 'aws:'. "
                    "msg=[Caller is an end user and not allowed to mutate system tags]",
                )
            tags[tag["key"]] = tag["value"]
        if len(tags) > 50:
            raise ServiceError("TooManyTagsException", "Tag limit exceeded: at most 50 tags")
        return tags

    def _pipeline(self, name: Any) -> _Pipeline:
        pipeline_structure.check_name(name, "name")
        pipeline = self.pipelines.get(str(name))
        if pipeline is None:
            raise ServiceError(
                "PipelineNotFoundException",
                f"Account '{self.account_id}' does not have a pipeline with name '{name}'",
            )
        return pipeline

    def _by_arn(self, arn: str) -> _Pipeline:
        for pipeline in self.pipelines.values():
            if pipeline.arn == arn:
                return pipeline
        raise ServiceError(
            "ResourceNotFoundException",
            f"The account with id '{self.account_id}' does not include a pipeline with the "
            f"ARN '{arn}'",
        )

    def _execution(self, pipeline: _Pipeline, execution_id: str) -> _Execution:
        for execution in pipeline.executions:
            if execution.id == execution_id:
                return execution
        raise ServiceError(
            "PipelineExecutionNotFoundException",
            f"Account '{self.account_id}' does not have an execution with id "
            f"'{execution_id}' for pipeline '{pipeline.name}'",
        )

    def _transition_gate(self, params: Params) -> _Gate:
        pipeline = self._pipeline(params.get("pipelineName"))
        stage = params.get("stageName")
        names_ = [s["name"] for s in pipeline.declaration["stages"]]
        if stage not in names_:
            raise ServiceError(
                "StageNotFoundException",
                f"Stage {stage} does not exist in pipeline {pipeline.name}",
            )
        if params.get("transitionType") == "Outbound":
            index = names_.index(stage)
            if index + 1 >= len(names_):
                raise ServiceError("ValidationException", f"Stage {stage} is the last stage")
            stage = names_[index + 1]
        return pipeline.gate(str(stage))

    # ==================================================================== executions
    def _start(
        self,
        pipeline: _Pipeline,
        trigger: dict[str, str],
        overrides: list[dict[str, Any]],
        variables: list[dict[str, str]],
        branches: dict[str, str] | None = None,
    ) -> _Execution:
        self._count += 1
        now = self.emulator.now()
        declaration = copy.deepcopy(pipeline.declaration)
        execution = _Execution(
            id=internal.stable_uuid("codepipeline", pipeline.name, self._count),
            pipeline=pipeline.name,
            version=pipeline.version,
            declaration=declaration,
            mode=str(declaration.get("executionMode") or "SUPERSEDED"),
            trigger=trigger,
            started=now,
            updated=now,
            variables=variables,
            branches=dict(branches or {}),
        )
        pinned = {o["actionName"]: o["revisionValue"] for o in overrides}
        for action in declaration["stages"][0]["actions"]:
            if action["name"] in pinned:
                execution.revisions[action["name"]] = pinned[action["name"]]
            elif execution.mode != "PARALLEL":
                execution.revisions[action["name"]] = self._head(action)
        pipeline.executions.append(execution)
        execution.process = self.emulator.clock.spawn(
            f"codepipeline {pipeline.name} {execution.id}", self._run(pipeline, execution)
        )
        return execution

    def _codecommit(self) -> CodeCommit | None:
        found = self.emulator.services.get("codecommit")
        return found if isinstance(found, CodeCommit) else None

    def _connections(self) -> CodeConnections | None:
        found = self.emulator.services.get("codeconnections")
        return found if isinstance(found, CodeConnections) else None

    def _head(self, action: dict[str, Any], branch: str | None = None) -> str | None:
        config = action.get("configuration") or {}
        if action["actionTypeId"]["provider"] == "CodeStarSourceConnection":
            connections = self._connections()
            if connections is None:
                return None
            return connections.head(
                config.get("FullRepositoryId", ""), branch or config.get("BranchName", "")
            )
        codecommit = self._codecommit()
        if codecommit is None:
            return None
        head: str | None = codecommit.head(
            config.get("RepositoryName", ""), config.get("BranchName", "")
        )
        return head

    def _run(self, pipeline: _Pipeline, execution: _Execution) -> Body:
        for stage in execution.declaration["stages"]:
            name = stage["name"]
            entered = yield from self._enter(pipeline, execution, name)
            if not entered:
                return
            status = yield from self._stage(pipeline, execution, stage)
            self._leave(pipeline, execution, name)
            if status == "Failed":
                self._end(pipeline, execution, "Failed")
                return
            if status == "Stopped" or execution.stopping:
                self._end(pipeline, execution, "Stopped")
                return
            if execution.cancel_pending:
                self._end(pipeline, execution, "Cancelled")
                return
        self._end(pipeline, execution, "Succeeded")

    def _enter(
        self, pipeline: _Pipeline, execution: _Execution, stage: str
    ) -> Generator[Step, Any, bool]:
        gate = pipeline.gate(stage)
        if execution.mode == "SUPERSEDED":
            for older in list(gate.waiting):
                # Rule 3: "A more recent execution overtakes a waiting execution ... The
                # superseded execution does not continue."
                self._end(pipeline, older, "Superseded")
            gate.waiting = [execution]
        else:
            gate.waiting.append(execution)

        def ready() -> bool:
            if execution.status != "InProgress" or execution.cancel_pending or execution.stopping:
                return True
            if not gate.enabled:
                return False
            if execution.mode == "PARALLEL":
                return True
            return gate.holder is None and bool(gate.waiting) and gate.waiting[0] is execution

        yield Until(ready)
        if execution in gate.waiting:
            gate.waiting.remove(execution)
        if execution.status in FINISHED:
            return False
        if execution.stopping:
            self._end(pipeline, execution, "Stopped")
            return False
        if execution.cancel_pending:
            self._end(pipeline, execution, "Cancelled")
            return False
        if execution.mode != "PARALLEL":
            gate.holder = execution
        gate.latest = execution
        execution.stages[stage] = "InProgress"
        execution.updated = self.emulator.now()
        return True

    def _leave(self, pipeline: _Pipeline, execution: _Execution, stage: str) -> None:
        gate = pipeline.gate(stage)
        if gate.holder is execution:
            gate.holder = None

    def _end(self, pipeline: _Pipeline, execution: _Execution, status: str) -> None:
        execution.status = status
        execution.updated = self.emulator.now()
        for stage, gate in pipeline.gates.items():
            if gate.holder is execution:
                gate.holder = None
            if execution in gate.waiting:
                gate.waiting.remove(execution)
            if execution.stages.get(stage) in ("InProgress", "Stopping"):
                # StageExecutionStatus has no Superseded: a stage left unfinished stops.
                ended = status in ("Failed", "Cancelled", "Succeeded")
                execution.stages[stage] = status if ended else "Stopped"

    def _stage(
        self, pipeline: _Pipeline, execution: _Execution, stage: dict[str, Any]
    ) -> Generator[Step, Any, str]:
        name = stage["name"]
        groups: dict[int, list[dict[str, Any]]] = {}
        for action in stage["actions"]:
            groups.setdefault(int(action.get("runOrder") or 1), []).append(action)
        result = "Succeeded"
        for order in sorted(groups):
            if execution.stopping:
                result = "Stopped"
                break
            runs = [
                self._start_action(pipeline, execution, name, action) for action in groups[order]
            ]
            yield Until(_all_done(runs))
            if any(r.status == "Failed" for r in runs):
                result = "Failed"
                break
            if any(r.status == "Abandoned" for r in runs):
                result = "Stopped"
                break
        if execution.stopping and result == "Succeeded":
            result = "Stopped"
        execution.stages[name] = result
        execution.updated = self.emulator.now()
        return result

    def _start_action(
        self, pipeline: _Pipeline, execution: _Execution, stage: str, action: dict[str, Any]
    ) -> _Run:
        self._count += 1
        now = self.emulator.now()
        run = _Run(
            id=internal.stable_uuid("codepipeline-action", pipeline.name, self._count),
            execution=execution,
            stage=stage,
            declaration=action,
            started=now,
            updated=now,
        )
        execution.runs.append(run)
        pipeline.latest_runs[(stage, run.name)] = run
        provider = action["actionTypeId"]["provider"]
        run.configured = dict(action.get("configuration") or {})
        try:
            run.declaration = self._resolved(execution, action)
        except ActionFailed as failure:
            body: Body = _failing(failure)
        else:
            body = {
                "CodeCommit": self._source,
                "CodeStarSourceConnection": self._connection_source,
                "CodeBuild": self._build,
                "CodeDeployToECS": self._deploy,
            }[provider](pipeline, execution, run)
        body = self._as_role(pipeline, body)
        run.process = self.emulator.clock.spawn(
            f"codepipeline {pipeline.name} {execution.id[:8]} {stage}/{run.name}",
            self._guard(run, body),
        )
        return run

    def _as_role(self, pipeline: _Pipeline, body: Body) -> Body:
        """An action runs as the pipeline's role, which CodePipeline assumes: its trust
        policy must allow codepipeline.amazonaws.com (issue 9, bluegreen.emulator.authz;
        the text is the one CreatePipeline refuses an untrusted role with)."""
        role = pipeline.role
        text = f"CodePipeline is not authorized to perform AssumeRole on role {role}"
        if not authz.authorizer(self.emulator).assume(
            role, "codepipeline.amazonaws.com", pipeline.arn, record=text
        ):
            raise ActionFailed(text)
        yield from body

    def _guard(self, run: _Run, body: Body) -> Body:
        try:
            yield from body
        except ActionFailed as failure:
            run.error = {"code": failure.code, "message": failure.message}
            self._finish(run, "Failed")
        else:
            if run.status == "InProgress":
                self._finish(run, "Succeeded")
                namespace = run.declaration.get("namespace")
                if namespace:
                    run.execution.namespaces[str(namespace)] = dict(run.variables)

    def _resolved(self, execution: _Execution, action: dict[str, Any]) -> dict[str, Any]:
        """The action with ``#{namespace.Variable}`` in its configuration replaced
        (CodePipeline user guide, "Variables reference": action variables by namespace,
        pipeline variables as ``#{variables.name}``, and ``#{codepipeline.
        PipelineExecutionId}``). A reference to a variable nothing produced fails the
        action, as an unresolvable variable does on AWS."""
        config = action.get("configuration") or {}
        if not any("#{" in str(v) for v in config.values()):
            return action
        scopes = dict(execution.namespaces)
        scopes["variables"] = {v["name"]: v["resolvedValue"] for v in execution.variables}
        scopes["codepipeline"] = {"PipelineExecutionId": execution.id}

        def value(match: re.Match[str]) -> str:
            scope, name = match.group(1), match.group(2)
            found = scopes.get(scope, {}).get(name)
            if found is None:
                raise ActionFailed(
                    f"The variable #{{{scope}.{name}}} in the configuration of action "
                    f"{action['name']} has no value in this execution",
                    code="ConfigurationError",
                )
            return found

        resolved = {k: _VARIABLE.sub(value, str(v)) for k, v in config.items()}
        return {**action, "configuration": resolved}

    def _finish(self, run: _Run, status: str) -> None:
        run.status = status
        run.updated = self.emulator.now()
        run.execution.updated = run.updated

    def _bucket(self, execution: _Execution) -> str:
        declaration = execution.declaration
        store = declaration.get("artifactStore") or (declaration.get("artifactStores") or {}).get(
            self.region
        )
        return str((store or {}).get("location"))

    def _output(self, execution: _Execution, run: _Run, artifact: str) -> Location:
        key = artifacts.artifact_key(
            execution.pipeline, artifact, f"{execution.id}/{run.id}/{artifact}"
        )
        return Location(self._bucket(execution), key)

    # ==================================================================== actions
    def _source(self, pipeline: _Pipeline, execution: _Execution, run: _Run) -> Body:
        config = run.config
        repository, branch = config["RepositoryName"], config["BranchName"]
        codecommit = self._codecommit()
        if run.name not in execution.revisions:  # PARALLEL: HEAD when the source runs
            execution.revisions[run.name] = self._head(run.declaration)
        revision = execution.revisions.get(run.name)
        if codecommit is None or revision is None:
            # AWS's text for a branch the repository does not have (observed in
            # CodePipeline's console and GetPipelineState for a CodeCommit source).
            raise ActionFailed(
                f"The action failed because no branch named {branch} was found in the selected "
                f"AWS CodeCommit repository {repository}. Make sure you are using the correct "
                "branch name, and then try again. Error: null"
            )
        yield Wait(timing.PIPELINE_SOURCE)
        self._source_permissions(pipeline, repository)
        try:
            commit = codecommit.commit(repository, revision)
            data = codecommit.archive(repository, revision)
        except ServiceError as exc:
            raise ActionFailed(f"{exc.code}: {exc.message}") from None
        url = (
            f"https://{self.region}.console.aws.amazon.com/codesuite/codecommit/repositories/"
            f"{repository}/commit/{revision}?region={self.region}"
        )
        when = datetime.fromtimestamp(commit.committer.seconds, UTC)
        self._source_output(pipeline, execution, run, revision, commit.message, url, when, data)
        run.variables = {
            "CommitId": revision,
            "CommitMessage": commit.message,
            "RepositoryName": repository,
            "BranchName": branch,
            "AuthorDate": datetime.fromtimestamp(commit.author.seconds, UTC).isoformat(),
            "CommitterDate": when.isoformat(),
        }

    def _connection_source(self, pipeline: _Pipeline, execution: _Execution, run: _Run) -> Body:
        """A CodeStarSourceConnection source: the pushed (or the branch's newest) commit of
        the provider's repository, through the connection."""
        config = run.config
        arn, full_id = config["ConnectionArn"], config["FullRepositoryId"]
        branch = execution.branches.get(run.name, config["BranchName"])
        connections = self._connections()
        if run.name not in execution.revisions:  # PARALLEL: HEAD when the source runs
            execution.revisions[run.name] = self._head(run.declaration, branch)
        yield Wait(timing.PIPELINE_SOURCE)
        # The pipeline role must be allowed codestar-connections:UseConnection (or
        # codeconnections:UseConnection for a connection of the new prefix) on the
        # connection: CodePipeline user guide, "Add permissions to the CodePipeline service
        # role" and "CodeStarSourceConnection ... action reference" (service role
        # permissions). AWS's text when it is not: "Unable to use Connection: <arn>. The
        # provided role does not have sufficient permissions." (quoted from failed
        # executions in public deployment notes; Developer Tools console user guide,
        # "Troubleshooting connections": "I receive a permissions error when trying to use
        # a connection").
        prefix = "codeconnections" if ":codeconnections:" in arn else "codestar-connections"
        denied = authz.authorizer(self.emulator).require(
            pipeline.role, f"{prefix}:UseConnection", arn
        )
        if denied is not None:
            raise ActionFailed(
                f"Unable to use Connection: {arn}. The provided role does not have "
                "sufficient permissions."
            )
        connection = connections.connection(arn) if connections is not None else None
        if connection is None:
            raise ActionFailed(
                f"Unable to use Connection: {arn}. The connection does not exist "
                "(CodeConnections: Resource not found. Verify the connection resource ARN "
                "and try again.)"
            )
        if connection.status != "AVAILABLE":
            # "A pending connection is a connection that must be completed (moved to
            # available) before it can be used"; an error connection "cannot be used
            # until it is available" (Developer Tools console user guide, "Workflow to
            # create or update connections"). AWS's exact failure text for this case is
            # not published; this one says what AWS's docs say to do.
            raise ActionFailed(
                f"Unable to use Connection: {arn}. The connection is in {connection.status} "
                "status; it can be used once it is AVAILABLE (complete it in the console: "
                "Developer Tools > Settings > Connections > Update pending connection)"
            )
        revision = execution.revisions.get(run.name)
        if connections is None or revision is None:
            raise ActionFailed(
                f"The branch {branch} was not found in the repository {full_id} of the "
                f"connection {arn}"
            )
        commit = connections.commit(full_id, revision)
        data = connections.archive(full_id, revision)
        when = datetime.fromtimestamp(commit.committer.seconds, UTC)
        url = _provider_commit_url(connection.provider, full_id, revision)
        self._source_output(pipeline, execution, run, revision, commit.message, url, when, data)
        # Output variables (CodePipeline user guide, "Variables reference":
        # CodeStarSourceConnection action: AuthorDate, BranchName, CommitId,
        # CommitMessage, ConnectionArn, FullRepositoryName).
        run.variables = {
            "AuthorDate": datetime.fromtimestamp(commit.author.seconds, UTC).isoformat(),
            "BranchName": branch,
            "CommitId": revision,
            "CommitMessage": commit.message,
            "ConnectionArn": arn,
            "FullRepositoryName": full_id,
        }

    def _source_output(
        self,
        pipeline: _Pipeline,
        execution: _Execution,
        run: _Run,
        revision: str,
        message: str,
        url: str,
        when: datetime,
        data: bytes,
    ) -> None:
        """A source action's output artifacts and revision records."""
        outputs = [str(a["name"]) for a in run.declaration.get("outputArtifacts") or []]
        for artifact in outputs:
            location = self._output(execution, run, artifact)
            try:
                artifacts.put(self.emulator, pipeline.role, location, data)
            except ClientError as exc:
                raise ActionFailed(_client_error(exc)) from None
            run.outputs.append((artifact, location))
            execution.artifacts[artifact] = location
            execution.artifact_revision[artifact] = revision
        run.external_id = revision
        run.external_url = url
        run.summary = message
        execution.source_revisions.append(
            {
                "actionName": run.name,
                "revisionId": revision,
                "revisionSummary": message,
                "revisionUrl": url,
            }
        )
        for artifact in outputs:
            execution.artifact_revisions.append(
                {
                    "name": artifact,
                    "revisionId": revision,
                    "revisionSummary": message,
                    "created": when,
                    "revisionUrl": url,
                }
            )

    def _source_permissions(self, pipeline: _Pipeline, repository: str) -> None:
        """The CodeCommit calls the source action makes as the pipeline role (the
        emulator reads the repository directly): GetBranch, GetCommit, UploadArchive,
        GetUploadArchiveStatus (CodePipeline user guide, "Service role policy and
        permissions": CodeCommit). A refusal fails the action with AWS's text ("The service
        role or action role doesn't have the permissions required to access the AWS
        CodeCommit repository named <name>. ... Error: User: ... is not authorized to
        perform: codecommit:GetBranch ...", quoted from CodePipeline's console in a public
        walkthrough)."""
        arn = f"arn:aws:codecommit:{self.region}:{self.account_id}:{repository}"
        auth = authz.authorizer(self.emulator)
        for action in (
            "codecommit:GetBranch",
            "codecommit:GetCommit",
            "codecommit:UploadArchive",
            "codecommit:GetUploadArchiveStatus",
        ):
            denied = auth.require(pipeline.role, action, arn)
            if denied is not None:
                raise ActionFailed(
                    "The service role or action role doesn\u2019t have the permissions required "
                    f"to access the AWS CodeCommit repository named {repository}. Update the "
                    f"IAM role permissions, and then try again. Error: {denied}"
                )

    def _build(self, pipeline: _Pipeline, execution: _Execution, run: _Run) -> Body:
        config = run.config
        run.inputs = self._inputs(execution, run)
        outputs = [
            (str(a["name"]), self._output(execution, run, str(a["name"])))
            for a in run.declaration.get("outputArtifacts") or []
        ]
        primary = config.get("PrimarySource") or (run.inputs[0][0] if run.inputs else None)
        job = _job(pipeline, execution, run, outputs, primary)
        codebuild = self.emulator.services.get("codebuild")
        if isinstance(codebuild, CodeBuild):
            codebuild.register_job(run.id, job)
        client = internal.client(self.emulator, "codebuild", pipeline.role)
        kwargs: dict[str, Any] = {"projectName": config["ProjectName"], "idempotencyToken": run.id}
        if config.get("EnvironmentVariables"):
            try:
                kwargs["environmentVariablesOverride"] = [
                    {"name": v["name"], "value": v["value"], "type": v.get("type", "PLAINTEXT")}
                    for v in json.loads(config["EnvironmentVariables"])
                ]
            except (ValueError, KeyError, TypeError):
                raise ActionFailed(
                    "EnvironmentVariables is not a JSON list of name/value objects"
                ) from None
        try:
            build = client.start_build(**kwargs)["build"]
        except ClientError as exc:
            # AWS's text: "Error calling startBuild: Cannot have more than 1 builds in
            # queue for the account (Service: AWSCodeBuild; Status Code: 400; Error Code:
            # AccountLimitExceededException; ...)"
            # (aws-samples/aws-gateway-load-balancer-suricata-ids-ips-nsm#12).
            error = exc.response.get("Error", {})
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            request = internal.stable_uuid("request", run.id)
            raise ActionFailed(
                f"Error calling startBuild: {error.get('Message')} (Service: AWSCodeBuild; "
                f"Status Code: {status}; "
                f"Error Code: {error.get('Code')}; Request ID: {request}; Proxy: null)"
            ) from None
        build_id = str(build["id"])
        run.external_id = build_id
        run.external_url = (
            f"https://console.aws.amazon.com/codebuild/home?region={self.region}"
            f"#/builds/{build_id}/view/new"
        )
        while True:
            yield Wait(timing.PIPELINE_JOB_POLL)
            try:
                found = client.batch_get_builds(ids=[build_id])["builds"]
            except ClientError as exc:
                raise ActionFailed(_client_error(exc)) from None
            if not found:
                raise ActionFailed(f"Build {build_id} does not exist")
            build = found[0]
            if build.get("buildComplete"):
                break
        status = build.get("buildStatus")
        if status != "SUCCEEDED":
            failed = [
                p
                for p in build.get("phases", [])
                if p.get("phaseStatus") not in (None, "SUCCEEDED")
            ]
            message = f"Build terminated with state: {status}"
            if failed and failed[-1].get("contexts"):
                context = failed[-1]["contexts"][0]
                message += (
                    f". Phase: {failed[-1]['phaseType']}, Code: {context.get('statusCode')}, "
                    f"Message: {context.get('message')}"
                )
            raise ActionFailed(message)
        for artifact, location in outputs:
            execution.artifacts[artifact] = location
            if primary in execution.artifact_revision:
                execution.artifact_revision[artifact] = execution.artifact_revision[primary]
        run.outputs = outputs

    def _deploy(self, pipeline: _Pipeline, execution: _Execution, run: _Run) -> Body:
        config = run.config
        run.inputs = self._inputs(execution, run)
        locations = dict(run.inputs)
        taskdef_artifact = config["TaskDefinitionTemplateArtifact"]
        appspec_artifact = config["AppSpecTemplateArtifact"]
        images = [
            (config[f"Image{n}ArtifactName"], config.get(f"Image{n}ContainerName"))
            for n in range(1, pipeline_structure.MAX_IMAGES + 1)
            if config.get(f"Image{n}ArtifactName")
        ]
        roles = {taskdef_artifact: "task definition", appspec_artifact: "AppSpec"}
        for artifact, _ in images:
            roles.setdefault(artifact, "image")
        order = [taskdef_artifact, appspec_artifact] + [a for a, _ in images]
        order += [name for name in locations if name not in order]
        contents: dict[str, dict[str, bytes]] = {}
        for artifact in dict.fromkeys(order):
            try:
                data = artifacts.get(self.emulator, pipeline.role, locations[artifact])
            except ClientError as exc:
                raise ActionFailed(_client_error(exc)) from None
            if len(data) > MAX_ECS_ARTIFACT_BYTES:
                # What the action reports for an oversized input (qiita.com/zhangsd,
                # "Exception while trying to read the task definition artifact file from:
                # <artifact>"; reviews-2026-11 aws-fidelity.md M2). The 3 MB limit: the
                # CodePipeline quotas page (MAX_ECS_ARTIFACT_BYTES).
                # AWS's text only; why (the size) is the emulator's to tell: tests and the
                # rehearsal read it from the refusal record.
                self.emulator.refusals.append(
                    Refusal(
                        self.emulator.clock.seconds,
                        "codepipeline",
                        "CodeDeployToECS",
                        "ArtifactTooLarge",
                        f"{artifact} is {len(data)} bytes; the action reads at most 3 MB",
                    )
                )
                raise ActionFailed(
                    f"Exception while trying to read the {roles.get(artifact, 'input')} "
                    f"artifact file from: {artifact}"
                )
            contents[artifact] = artifacts.unzip(data)
        taskdef_path = config.get("TaskDefinitionTemplatePath") or "taskdef.json"
        appspec_path = config.get("AppSpecTemplatePath") or "appspec.yaml"
        taskdef = _read(contents, taskdef_artifact, taskdef_path, "task definition")
        appspec = _read(contents, appspec_artifact, appspec_path, "AppSpec")
        for artifact, container in images:
            detail_text = contents[artifact].get("imageDetail.json")
            if detail_text is None:
                raise ActionFailed(
                    "The image definition file imageDetail.json does not exist in artifact "
                    f"{artifact}"
                )
            try:
                uri = str(json.loads(detail_text)["ImageURI"])
            except (ValueError, KeyError, TypeError):
                raise ActionFailed(
                    f"imageDetail.json in artifact {artifact} is not valid: it needs an ImageURI"
                ) from None
            if container:
                taskdef = taskdef.replace(f"<{container}>", uri)
        try:
            body = json.loads(taskdef)
        except ValueError as exc:
            raise ActionFailed(f"Invalid task definition {taskdef_path}: {exc}") from None
        for key in _DESCRIBED_ONLY:
            # Fields of a described task definition, not of RegisterTaskDefinition (the
            # action registers the file as a new revision).
            body.pop(key, None)
        ecs = internal.client(self.emulator, "ecs", pipeline.role)
        try:
            registered = ecs.register_task_definition(**body)["taskDefinition"]
        except (ClientError, TypeError, ValueError) as exc:
            detail = _client_error(exc) if isinstance(exc, ClientError) else str(exc)
            raise ActionFailed(
                f"Failed to register the task definition from {taskdef_path}: {detail}"
            ) from None
        appspec = appspec.replace(
            names.TASK_DEFINITION_PLACEHOLDER, str(registered["taskDefinitionArn"])
        )
        codedeploy = internal.client(self.emulator, "codedeploy", pipeline.role)
        revision = {"revisionType": "AppSpecContent", "appSpecContent": {"content": appspec}}
        try:
            # The CodeDeploy calls the action makes as the pipeline role (CodePipeline user
            # guide, "Amazon ECS and CodeDeploy blue-green deploy action reference": service
            # role permissions GetApplication, RegisterApplicationRevision,
            # GetApplicationRevision, CreateDeployment, GetDeployment,
            # GetDeploymentConfig); the order is not documented.
            application = config["ApplicationName"]
            codedeploy.get_application(applicationName=application)
            codedeploy.register_application_revision(applicationName=application, revision=revision)
            codedeploy.get_application_revision(applicationName=application, revision=revision)
            deployment_id = str(
                codedeploy.create_deployment(
                    applicationName=application,
                    deploymentGroupName=config["DeploymentGroupName"],
                    revision=revision,
                )["deploymentId"]
            )
            created = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            codedeploy.get_deployment_config(deploymentConfigName=created["deploymentConfigName"])
        except ClientError as exc:
            raise ActionFailed(_client_error(exc)) from None
        run.external_id = deployment_id
        run.external_url = (
            f"https://console.aws.amazon.com/codedeploy/home?region={self.region}"
            f"#/deployments/{deployment_id}"
        )
        while True:
            yield Wait(timing.PIPELINE_JOB_POLL)
            try:
                info = codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            except ClientError as exc:
                raise ActionFailed(_client_error(exc)) from None
            status = info.get("status")
            if status == "Succeeded":
                return
            if status in ("Failed", "Stopped"):
                error = info.get("errorInformation") or {}
                raise ActionFailed(
                    error.get("message") or f"Deployment {deployment_id} {status.lower()}"
                )

    def _inputs(self, execution: _Execution, run: _Run) -> list[tuple[str, Location]]:
        found = []
        for artifact in run.declaration.get("inputArtifacts") or []:
            name = str(artifact["name"])
            location = execution.artifacts.get(name)
            if location is None:
                raise ActionFailed(f"Input artifact {name} was not produced by this execution")
            found.append((name, location))
        return found

    # ==================================================================== polling
    def _poll(self, pipeline: _Pipeline) -> Body:
        """PollForSourceChanges: start an execution when a polled branch moved.

        A pipeline whose sources do not poll (bluegreen's: an EventBridge rule starts it)
        waits for an update instead of waking every minute.
        """
        for action in _polled(pipeline.declaration):
            pipeline.polled[action["name"]] = self._head(action)
        while not pipeline.deleted:
            if not _polls(pipeline.declaration):
                yield Until(_updated(pipeline, pipeline.version))
                continue
            yield Wait(timing.PIPELINE_SOURCE_POLLING)
            moved = False
            for action in _polled(pipeline.declaration):
                polling = str(
                    (action.get("configuration") or {}).get("PollForSourceChanges", "true")
                )
                head = self._head(action)
                if (
                    polling.lower() != "false"
                    and head is not None
                    and head != pipeline.polled.get(action["name"])
                ):
                    moved = True
                pipeline.polled[action["name"]] = head
            if moved and not pipeline.deleted:
                detail = pipeline.declaration["stages"][0]["actions"][0]["name"]
                self._start(
                    pipeline,
                    {"triggerType": "PollForSourceChanges", "triggerDetail": detail},
                    [],
                    [],
                )

    # ==================================================================== views
    def _detail(self, pipeline: _Pipeline, run: _Run) -> dict[str, Any]:
        """ActionExecutionDetail (ListActionExecutions)."""
        declaration = run.declaration
        result: dict[str, Any] = {}
        if run.external_id:
            result["externalExecutionId"] = run.external_id
        if run.summary:
            result["externalExecutionSummary"] = run.summary
        if run.external_url:
            result["externalExecutionUrl"] = run.external_url
        if run.error:
            result["errorDetails"] = run.error
        return {
            "pipelineExecutionId": run.execution.id,
            "actionExecutionId": run.id,
            "pipelineVersion": run.execution.version,
            "stageName": run.stage,
            "actionName": run.name,
            "startTime": run.started,
            "lastUpdateTime": run.updated,
            "updatedBy": pipeline.role,
            "status": run.status,
            "input": {
                "actionTypeId": declaration["actionTypeId"],
                "configuration": dict(
                    run.configured
                    if run.configured is not None
                    else declaration.get("configuration") or {}
                ),
                "resolvedConfiguration": dict(declaration.get("configuration") or {}),
                "roleArn": pipeline.role,
                "region": self.region,
                "inputArtifacts": [
                    {"name": n, "s3location": loc.to_dict()} for n, loc in run.inputs
                ],
            },
            "output": {
                "outputArtifacts": [
                    {"name": n, "s3location": loc.to_dict()} for n, loc in run.outputs
                ],
                "executionResult": result,
                "outputVariables": dict(run.variables),
            },
        }

    def _entity_url(self, action: dict[str, Any]) -> str | None:
        config = action.get("configuration") or {}
        provider = action["actionTypeId"]["provider"]
        console = f"https://{self.region}.console.aws.amazon.com"
        if provider == "CodeCommit":
            return (
                f"{console}/codesuite/codecommit/repositories/{config.get('RepositoryName')}/"
                f"browse/refs/heads/{config.get('BranchName')}?region={self.region}"
            )
        if provider == "CodeStarSourceConnection":
            return f"{console}/codesuite/settings/connections?region={self.region}"
        if provider == "CodeBuild":
            project = config.get("ProjectName")
            return f"{console}/codesuite/codebuild/projects/{project}?region={self.region}"
        if provider == "CodeDeployToECS":
            return (
                f"{console}/codesuite/codedeploy/applications/{config.get('ApplicationName')}"
                f"?region={self.region}"
            )
        return None

    def close(self) -> None:
        for pipeline in self.pipelines.values():
            if pipeline.poller is not None:
                pipeline.poller.cancel()


def _updated(pipeline: _Pipeline, version: int) -> Callable[[], bool]:
    return lambda: pipeline.deleted or pipeline.version != version


def _polled(declaration: dict[str, Any]) -> list[dict[str, Any]]:
    """The source actions that can poll: CodeCommit's (a CodeStarSourceConnection source
    is started by the provider's webhook, never by polling: its action reference has no
    PollForSourceChanges)."""
    return [
        action
        for action in declaration["stages"][0]["actions"]
        if action["actionTypeId"]["provider"] == "CodeCommit"
    ]


def _polls(declaration: dict[str, Any]) -> bool:
    """Whether a source action polls (PollForSourceChanges defaults to true for a
    CodeCommit source: CodeCommit source action reference)."""
    return any(
        str((action.get("configuration") or {}).get("PollForSourceChanges", "true")).lower()
        != "false"
        for action in _polled(declaration)
    )


_VARIABLE = re.compile(r"#\{([A-Za-z0-9@\-_]+)\.([A-Za-z0-9@\-_.]+)\}")


def _failing(failure: ActionFailed) -> Body:
    raise failure
    yield  # a generator that fails when it runs


def _provider_commit_url(provider: str, full_id: str, revision: str) -> str:
    """Where the provider shows a commit (its public web address)."""
    if provider == "GitLab":
        return f"https://gitlab.com/{full_id}/-/commit/{revision}"
    if provider == "Bitbucket":
        return f"https://bitbucket.org/{full_id}/commits/{revision}"
    return f"https://github.com/{full_id}/commit/{revision}"


def _all_done(runs: list[_Run]) -> Callable[[], bool]:
    return lambda: all(r.status != "InProgress" for r in runs)


def _job(
    pipeline: _Pipeline,
    execution: _Execution,
    run: _Run,
    outputs: list[tuple[str, Location]],
    primary: str | None,
) -> PipelineJob:
    return PipelineJob(
        pipeline=pipeline.name,
        execution_id=execution.id,
        stage=run.stage,
        action=run.name,
        inputs=list(run.inputs),
        outputs=outputs,
        revision=execution.artifact_revision.get(primary or ""),
        primary=primary,
    )


def _read(contents: dict[str, dict[str, bytes]], artifact: str, path: str, what: str) -> str:
    data = contents[artifact].get(path.lstrip("/"))
    if data is None:
        raise ActionFailed(
            f"The {what} file {path} does not exist in artifact {artifact} (it holds: "
            f"{', '.join(sorted(contents[artifact])) or 'nothing'})"
        )
    return data.decode("utf-8", errors="replace")


def _client_error(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code')}: {error.get('Message')}"


def _transition(gate: _Gate) -> dict[str, Any]:
    out: dict[str, Any] = {"enabled": gate.enabled}
    if gate.changed_by:
        out["lastChangedBy"] = gate.changed_by
    if gate.changed_at:
        out["lastChangedAt"] = gate.changed_at
    if gate.reason:
        out["disabledReason"] = gate.reason
    return out


def _page(items: list[dict[str, Any]], key: str, limit: int, token: str | None) -> Result:
    start = 0
    if token is not None:
        if not token.startswith("page-") or not token[5:].isdigit() or int(token[5:]) > len(items):
            raise ServiceError(
                "InvalidNextTokenException",
                "The next token was specified in an invalid format. Make sure that the next "
                "token you provide is the token returned by a previous call.",
            )
        start = int(token[5:])
    result: Result = {key: items[start : start + limit]}
    if start + limit < len(items):
        result["nextToken"] = f"page-{start + limit}"
    return result
