"""CodeBuild: projects and builds that run through CodeBuild's phases on the clock.

bluegreen keeps projects itself (moto's CreateProject insists on a source location for
CODEPIPELINE sources, which AWS does not, and moto has no UpdateProject) and builds:

- StartBuild enforces the account's concurrent-build quota (``emulator.build_quota``;
  a new account's is 1): beyond it AccountLimitExceededException "Cannot have more than
  N builds in queue for the account", the text AWS returns
  (aws-samples/aws-gateway-load-balancer-suricata-ids-ips-nsm#12, with N=1;
  aws-ia/terraform-aws-control_tower_account_factory#100, N=0; reviews-2026-11
  aws-fidelity.md B3);
- a build moves through SUBMITTED, QUEUED, PROVISIONING, DOWNLOAD_SOURCE, INSTALL,
  PRE_BUILD, BUILD, POST_BUILD, UPLOAD_ARTIFACTS, FINALIZING, COMPLETED (the API's
  BuildPhaseType), each taking the time registered in :mod:`bluegreen.emulator.timing`;
- what the build does is played for real (:mod:`bluegreen.emulator.buildspec`): the
  source is unpacked into the build's own directory, the buildspec's commands run in a
  shell there with CodeBuild's environment variables, its ``aws`` and ``docker`` are
  stand-ins that act on the emulated AWS as the project's service role
  (:mod:`bluegreen.emulator.standins`), and the artifacts are the files the commands
  left; everything the build reads and writes goes through the APIs as that role: the
  source artifact from S3, the images to ECR, the output artifact to S3, its log lines
  to CloudWatch Logs. The commands run when their phase starts on the simulated clock;
  the phases take the durations of :mod:`bluegreen.emulator.timing`.

The rehearsal's ``faults[project]`` (a message) makes that project's next build's
``docker build`` fail with exit status 1; the failed command's context then ends with the
message in parentheses, so a reader can tell an injected failure from a real one.

Builds started by CodePipeline get their input and output artifact locations from the
pipeline's job (:meth:`CodeBuild.register_job`): on AWS, CodeBuild reads them from the
CodePipeline job, which has no public API of its own for AWS-owned actions.
"""

from __future__ import annotations

import contextlib
import json
import re
import shlex
import shutil
import sys
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from bluegreen.emulator import artifacts, buildspec, internal, timing
from bluegreen.emulator.artifacts import Location
from bluegreen.emulator.clock import Process, Wait
from bluegreen.emulator.core import Emulator
from bluegreen.emulator.owned import OwnedService
from bluegreen.emulator.service import Call, Params, Result, ServiceError, operation
from bluegreen.emulator.standins import Standins
from bluegreen.emulator.standins.server import Listener
from bluegreen.emulator.standins.shell import Shell

_PROJECT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-_]{1,149}")  # the model's ProjectName
_SOURCE_TYPES_WITH_LOCATION = {
    "CODECOMMIT",
    "S3",
    "GITHUB",
    "GITHUB_ENTERPRISE",
    "BITBUCKET",
    "GITLAB",
}


@dataclass
class PipelineJob:
    """What CodePipeline tells CodeBuild about a build it starts (its job data)."""

    pipeline: str
    execution_id: str
    stage: str
    action: str
    inputs: list[tuple[str, Location]]
    outputs: list[tuple[str, Location]]
    revision: str | None
    """The source revision (the commit id) of the primary input."""
    primary: str | None = None
    """The primary source's artifact name (the action's PrimarySource, else the first)."""


@dataclass
class _Build:
    data: dict[str, Any]
    project: dict[str, Any]
    job: PipelineJob | None
    env: dict[str, str]
    process: Process | None = None
    log: list[tuple[datetime, str, bool]] = field(default_factory=list)
    """(when, text, from CodeBuild's agent): agent lines get CodeBuild's prefix."""
    typed: list[dict[str, Any]] = field(default_factory=list)
    """PARAMETER_STORE / SECRETS_MANAGER variables, resolved in DOWNLOAD_SOURCE."""
    played: _Played | None = None

    @property
    def id(self) -> str:
        return str(self.data["id"])

    @property
    def complete(self) -> bool:
        return bool(self.data["buildComplete"])


@dataclass
class _Played:
    """A build being played: its directory, its shell and its stand-ins."""

    root: Path
    listener: Listener
    shell: Shell
    standins: Standins
    player: buildspec.Player

    def close(self) -> None:
        self.shell.close()
        self.listener.close()
        shutil.rmtree(self.root, ignore_errors=True)


class CodeBuild(OwnedService):
    name = "codebuild"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.projects: dict[str, dict[str, Any]] = {}
        self.builds: dict[str, _Build] = {}
        self.jobs: dict[str, PipelineJob] = {}
        self.faults: dict[str, str] = {}
        """project name -> message: that project's next build fails in BUILD (rehearsals)."""
        self._numbers: dict[str, int] = {}
        self._count = 0

    # ==================================================================== Python API
    def register_job(self, token: str, job: PipelineJob) -> None:
        """CodePipeline's job data for the StartBuild call carrying ``idempotencyToken``."""
        self.jobs[token] = job

    def running(self) -> int:
        """Builds not complete (what counts against the concurrent-build quota)."""
        return sum(1 for build in self.builds.values() if not build.complete)

    # ==================================================================== projects
    @operation("CreateProject")
    def create_project(self, params: Params, call: Call) -> Result:
        name = self._valid_name(params.get("name"))
        if name in self.projects:
            raise ServiceError(
                "ResourceAlreadyExistsException",
                f"Project already exists: {self._project_arn(name)}",
            )
        now = self.emulator.now()
        project: dict[str, Any] = {
            "name": name,
            "arn": self._project_arn(name),
            "secondarySources": [],
            "secondarySourceVersions": [],
            "secondaryArtifacts": [],
            "cache": {"type": "NO_CACHE"},
            "timeoutInMinutes": 60,  # API reference, CreateProject: default 60
            "queuedTimeoutInMinutes": 480,  # default 8 hours
            "encryptionKey": f"arn:aws:kms:{self.region}:{self.account_id}:alias/aws/s3",
            "tags": [],
            "created": now,
            "lastModified": now,
            "badge": {"badgeEnabled": False},
            "logsConfig": {
                "cloudWatchLogs": {"status": "ENABLED"},
                "s3Logs": {"status": "DISABLED", "encryptionDisabled": False},
            },
            "projectVisibility": "PRIVATE",
        }
        self._apply(project, params)
        self.projects[name] = project
        return {"project": project}

    @operation("UpdateProject")
    def update_project(self, params: Params, call: Call) -> Result:
        name = params.get("name") or ""
        project = self._find(name)
        if project is None:
            raise ServiceError(
                "ResourceNotFoundException", f"Project not found: {self._project_arn(name)}"
            )
        updated = dict(project)
        self._apply(updated, params)
        updated["lastModified"] = self.emulator.now()
        self.projects[updated["name"]] = updated
        return {"project": updated}

    @operation("DeleteProject")
    def delete_project(self, params: Params, call: Call) -> Result:
        project = self._find(params.get("name") or "")
        if project is not None:
            del self.projects[project["name"]]
        return {}

    @operation("BatchGetProjects")
    def batch_get_projects(self, params: Params, call: Call) -> Result:
        names = list(params.get("names") or [])
        if not names or len(names) > 100:
            raise ServiceError("InvalidInputException", "names must hold 1 to 100 project names")
        found: list[dict[str, Any]] = []
        missing: list[str] = []
        for name in names:
            project = self._find(name)
            if project is None:
                missing.append(name)
            else:
                found.append(project)
        return {"projects": found, "projectsNotFound": missing}

    @operation("ListProjects")
    def list_projects(self, params: Params, call: Call) -> Result:
        by = params.get("sortBy") or "NAME"
        key = {"NAME": "name", "CREATED_TIME": "created", "LAST_MODIFIED_TIME": "lastModified"}[by]
        ordered = sorted(
            self.projects.values(),
            key=lambda p: (p[key], p["name"]),
            reverse=params.get("sortOrder") == "DESCENDING",
        )
        return {"projects": [p["name"] for p in ordered]}

    def _apply(self, project: dict[str, Any], params: Params) -> None:
        for key in (
            "description",
            "source",
            "secondarySources",
            "sourceVersion",
            "secondarySourceVersions",
            "artifacts",
            "secondaryArtifacts",
            "cache",
            "environment",
            "serviceRole",
            "timeoutInMinutes",
            "queuedTimeoutInMinutes",
            "encryptionKey",
            "tags",
            "vpcConfig",
            "logsConfig",
            "fileSystemLocations",
            "buildBatchConfig",
            "concurrentBuildLimit",
            "autoRetryLimit",
        ):
            if key in params:
                project[key] = params[key]
        if "badgeEnabled" in params:
            project["badge"] = {"badgeEnabled": bool(params["badgeEnabled"])}
        environment = dict(project.get("environment") or {})
        environment.setdefault("environmentVariables", [])
        environment.setdefault("privilegedMode", False)
        environment.setdefault("imagePullCredentialsType", "CODEBUILD")
        project["environment"] = environment
        self._check(project)

    def _check(self, project: dict[str, Any]) -> None:
        source = project.get("source") or {}
        output = project.get("artifacts") or {}
        # A CODEPIPELINE source goes with CODEPIPELINE artifacts and the other way
        # round (CodeBuild user guide, "Use CodeBuild with CodePipeline": both are
        # CODEPIPELINE when CodePipeline runs the project).
        if (source.get("type") == "CODEPIPELINE") != (output.get("type") == "CODEPIPELINE"):
            raise ServiceError(
                "InvalidInputException",
                "Invalid input: a CODEPIPELINE source requires CODEPIPELINE artifacts, and "
                "CODEPIPELINE artifacts require a CODEPIPELINE source",
            )
        if source.get("type") in _SOURCE_TYPES_WITH_LOCATION and not source.get("location"):
            raise ServiceError("InvalidInputException", "Project source location is required")
        if output.get("type") == "S3" and not output.get("location"):
            raise ServiceError("InvalidInputException", "Project artifacts location is required")
        timeout = project.get("timeoutInMinutes")
        if timeout is not None and not 5 <= int(timeout) <= 2160:  # the model's BuildTimeOut
            raise ServiceError(
                "InvalidInputException", "timeoutInMinutes must be from 5 to 2160 minutes"
            )
        queued = project.get("queuedTimeoutInMinutes")
        if queued is not None and not 5 <= int(queued) <= 480:  # the model's TimeOut
            raise ServiceError(
                "InvalidInputException", "queuedTimeoutInMinutes must be from 5 to 480 minutes"
            )
        role = str(project.get("serviceRole") or "")
        if not role.startswith("arn:"):
            role = f"arn:aws:iam::{self.account_id}:role/{role}"
            project["serviceRole"] = role
        # CodeBuild assumes the service role when the project is created; a role it
        # cannot assume is refused (observed: "CodeBuild is not authorized to perform:
        # sts:AssumeRole on <role ARN>", InvalidInputException, in CloudFormation events).
        if not internal.role_trusts(self.emulator, role, "codebuild.amazonaws.com"):
            raise ServiceError(
                "InvalidInputException",
                f"CodeBuild is not authorized to perform: sts:AssumeRole on {role}",
            )

    # ==================================================================== builds
    @operation("StartBuild")
    def start_build(self, params: Params, call: Call) -> Result:
        name = params.get("projectName") or ""
        project = self._find(name)
        if project is None:
            raise ServiceError(
                "ResourceNotFoundException", f"Project cannot be found: {self._project_arn(name)}"
            )
        quota = self.emulator.build_quota
        if self.running() >= quota:
            raise ServiceError(
                "AccountLimitExceededException",
                f"Cannot have more than {quota} builds in queue for the account",
            )
        token = params.get("idempotencyToken")
        job = self.jobs.pop(token, None) if (call.internal and token) else None
        project = _overridden(project, params)
        self._count += 1
        number = self._numbers.get(project["name"], 0) + 1
        self._numbers[project["name"]] = number
        uid = internal.stable_uuid("codebuild", project["name"], self._count)
        build_id = f"{project['name']}:{uid}"
        now = self.emulator.now()
        role = str(project["serviceRole"])
        logs = self._logs(project, uid)
        data: dict[str, Any] = {
            "id": build_id,
            "arn": f"arn:aws:codebuild:{self.region}:{self.account_id}:build/{build_id}",
            "buildNumber": number,
            "startTime": now,
            "currentPhase": "QUEUED",
            "buildStatus": "IN_PROGRESS",
            "projectName": project["name"],
            "phases": [
                {
                    "phaseType": "SUBMITTED",
                    "phaseStatus": "SUCCEEDED",
                    "startTime": now,
                    "endTime": now,
                    "durationInSeconds": 0,
                },
                {"phaseType": "QUEUED", "startTime": now},
            ],
            "source": project["source"],
            "secondarySources": project.get("secondarySources", []),
            "secondarySourceVersions": project.get("secondarySourceVersions", []),
            "artifacts": {},
            "secondaryArtifacts": [],
            "cache": project.get("cache", {"type": "NO_CACHE"}),
            "environment": project["environment"],
            "serviceRole": role,
            "logs": logs,
            "timeoutInMinutes": project.get("timeoutInMinutes", 60),
            "queuedTimeoutInMinutes": project.get("queuedTimeoutInMinutes", 480),
            "buildComplete": False,
            "initiator": (
                f"codepipeline/{job.pipeline}" if job else call.principal.rsplit("/", 1)[-1]
            ),
            "encryptionKey": project.get("encryptionKey"),
        }
        if job is not None:
            primary = _primary(job)
            if primary is not None:
                data["sourceVersion"] = primary[1].arn
            if job.revision:
                data["resolvedSourceVersion"] = job.revision
            if job.outputs:
                data["artifacts"] = {"location": job.outputs[0][1].arn}
        elif params.get("sourceVersion") or project.get("sourceVersion"):
            data["sourceVersion"] = params.get("sourceVersion") or project.get("sourceVersion")
        build = _Build(data, project, job, {})
        build.env = self._environment(build, params)
        self.builds[build_id] = build
        build.process = self.emulator.clock.spawn(f"codebuild {build_id}", self._run(build))
        return {"build": data}

    @operation("BatchGetBuilds")
    def batch_get_builds(self, params: Params, call: Call) -> Result:
        ids = list(params.get("ids") or [])
        if not ids or len(ids) > 100:
            raise ServiceError("InvalidInputException", "ids must hold 1 to 100 build ids")
        found = [self.builds[i].data for i in ids if i in self.builds]
        missing = [i for i in ids if i not in self.builds]
        return {"builds": found, "buildsNotFound": missing}

    @operation("ListBuildsForProject")
    def list_builds_for_project(self, params: Params, call: Call) -> Result:
        name = params.get("projectName") or ""
        if self._find(name) is None:
            raise ServiceError(
                "ResourceNotFoundException",
                f"The provided project {self._project_arn(name)} does not exist",
            )
        ids = [b.id for b in self.builds.values() if b.data["projectName"] == name]
        if params.get("sortOrder") != "ASCENDING":
            ids.reverse()
        return {"ids": ids}

    @operation("ListBuilds")
    def list_builds(self, params: Params, call: Call) -> Result:
        ids = list(self.builds)
        if params.get("sortOrder") != "ASCENDING":
            ids.reverse()
        return {"ids": ids}

    @operation("StopBuild")
    def stop_build(self, params: Params, call: Call) -> Result:
        build_id = params.get("id") or ""
        if ":" not in build_id:
            raise ServiceError("InvalidInputException", "Invalid build ID provided")
        build = self.builds.get(build_id)
        if build is None:
            raise ServiceError("ResourceNotFoundException", f"Build {build_id} does not exist")
        if not build.complete:
            if build.process is not None:
                build.process.cancel()
            self._end_phase(build, "STOPPED")
            self._finish(build, "STOPPED")
        return {"build": build.data}

    # ==================================================================== the build
    def _run(self, build: _Build) -> Generator[Wait, Any, None]:
        try:
            yield from self._phases(build)
        finally:
            # Also when the build is stopped (StopBuild closes this generator) or the
            # emulator stops: nothing the build started outlives it.
            self._release(build)

    def _phases(self, build: _Build) -> Generator[Wait, Any, None]:
        phases = timing.BUILD_PHASES
        yield Wait(phases["QUEUED"])
        self._end_phase(build, "SUCCEEDED")
        self._begin_phase(build, "PROVISIONING")
        yield Wait(phases["PROVISIONING"])
        self._end_phase(build, "SUCCEEDED")
        self._begin_phase(build, "DOWNLOAD_SOURCE")
        yield Wait(phases["DOWNLOAD_SOURCE"])
        source, modes, failure = self._download(build)
        spec: buildspec.Buildspec | None = None
        if failure is None:
            ref = str(build.project.get("source", {}).get("buildspec") or "buildspec.yml")
            try:
                spec = buildspec.read_buildspec(ref, source)
            except buildspec.BuildspecError as exc:
                failure = ("YAML_FILE_ERROR", str(exc))
            except buildspec.Unplayable as exc:
                failure = ("CLIENT_ERROR", f"the emulated CodeBuild does not play {exc}")
        root = self.emulator.work_dir / "codebuild" / build.id.split(":", 1)[1]
        if failure is None and spec is not None:
            src = root / "src"
            build.env["CODEBUILD_SRC_DIR"] = str(src)
            self._agent(build, f"CODEBUILD_SRC_DIR={src}")
            self._agent(build, f"YAML location is {src / spec.path if spec.path else 'inline'}")
            failure = self._variables(build, spec)
        if failure is None and spec is not None:
            self._prepare(build, spec, root, source, modes)
        if failure is not None or spec is None or build.played is None:
            code, message = failure or ("CLIENT_ERROR", "no buildspec")
            self._end_phase(build, "FAILED", code, message)
            yield from self._finalize(build, "FAILED")
            return
        self._end_phase(build, "SUCCEEDED")
        player = build.played.player
        failed = False
        upload = True
        for phase in ("INSTALL", "PRE_BUILD", "BUILD", "POST_BUILD"):
            self._begin_phase(build, phase)
            docker = build.played.standins.docker
            before = (len(docker.images), len(docker.pushed))
            result = yield from player.steps(phase)
            yield Wait(_phase_seconds(phase, before, (len(docker.images), len(docker.pushed))))
            if not result.failed:
                self._end_phase(build, "SUCCEEDED")
                continue
            if result.status == "TIMED_OUT":
                # The build's timeout ends it: no later phase, no artifacts (CodeBuild
                # API reference, Build.buildStatus TIMED_OUT).
                self._end_phase(build, "TIMED_OUT", result.code, result.message)
                yield from self._finalize(build, "TIMED_OUT")
                return
            failed = True
            self._end_phase(build, "FAILED", result.code, result.message)
            declared = spec.phases.get(phase.lower())
            where = buildspec.after_failure(phase, declared.on_failure if declared else None)
            if where == "end":
                upload = False
                break
            if where == "upload":
                break
        if spec.exported:
            build.data["exportedEnvironmentVariables"] = player.exported()
        if upload:
            self._begin_phase(build, "UPLOAD_ARTIFACTS")
            yield Wait(phases["UPLOAD_ARTIFACTS"])
            code, error = self._upload(build, spec)
            if error is not None:
                failed = True
                self._end_phase(build, "FAILED", code, error)
            else:
                self._end_phase(build, "SUCCEEDED")
        yield from self._finalize(build, "FAILED" if failed else "SUCCEEDED")

    def _finalize(self, build: _Build, status: str) -> Generator[Wait, Any, None]:
        self._release(build)
        self._begin_phase(build, "FINALIZING")
        yield Wait(timing.BUILD_PHASES["FINALIZING"])
        self._end_phase(build, "SUCCEEDED")
        self._write_logs(build)
        self._finish(build, status)

    def _release(self, build: _Build) -> None:
        if build.played is not None:
            played, build.played = build.played, None
            played.close()

    def close(self) -> None:
        """The emulator stops: every build still being played is ended."""
        for build in self.builds.values():
            self._release(build)

    def _finish(self, build: _Build, status: str) -> None:
        now = self.emulator.now()
        build.data["phases"].append({"phaseType": "COMPLETED", "startTime": now})
        build.data["currentPhase"] = "COMPLETED"
        build.data["buildStatus"] = status
        build.data["buildComplete"] = True
        build.data["endTime"] = now

    def _begin_phase(self, build: _Build, phase: str) -> None:
        build.data["phases"].append({"phaseType": phase, "startTime": self.emulator.now()})
        build.data["currentPhase"] = phase
        self._agent(build, f"Entering phase {phase}")

    def _end_phase(self, build: _Build, status: str, code: str = "", message: str = "") -> None:
        current = build.data["phases"][-1]
        now = self.emulator.now()
        current["phaseStatus"] = status
        current["endTime"] = now
        current["durationInSeconds"] = int(round((now - current["startTime"]).total_seconds()))
        if code:
            current["contexts"] = [{"statusCode": code, "message": message}]
        self._agent(build, f"Phase complete: {current['phaseType']} State: {status}")
        self._agent(build, f"Phase context status code: {code} Message: {message}")

    def _agent(self, build: _Build, text: str) -> None:
        build.log.append((self.emulator.now(), text, True))

    def _prepare(
        self,
        build: _Build,
        spec: buildspec.Buildspec,
        root: Path,
        source: dict[str, bytes],
        modes: dict[str, int],
    ) -> None:
        """The build's directory holding the source, its shell and stand-ins."""
        uid = root.name
        shutil.rmtree(root, ignore_errors=True)
        src = root / "src"
        src.mkdir(parents=True)
        for path, data in source.items():
            target = (src / path).resolve()
            if src.resolve() not in target.parents:
                continue  # an entry outside the source directory (../x): not unpacked
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            target.chmod(modes.get(path, 0o644) & 0o777)
        self._secondary_inputs(build, root)
        pending = [self.faults.pop(str(build.data["projectName"]), None)]

        def take() -> str | None:
            found, pending[0] = pending[0], None
            return found

        environment = build.project.get("environment") or {}
        standins = Standins(
            self.emulator,
            str(build.data["serviceRole"]),
            f"AWSCodeBuild-{uid}",
            bool(environment.get("privilegedMode")),
            take,
        )
        listener = Listener(standins)
        try:
            shell = Shell(root, spec.shell, build.env, listener, isolated=spec.version == "0.1")
        except BaseException:
            listener.close()
            raise

        _install_python(root / "bin")

        def fired() -> str | None:
            found, standins.docker.fault_fired = standins.docker.fault_fired, None
            return found

        timeout = float(build.data.get("timeoutInMinutes") or 60) * 60
        started: datetime = build.data["startTime"]

        def budget() -> float:
            """Simulated seconds left before the build's timeout (timeoutInMinutes)."""
            return timeout - (self.emulator.now() - started).total_seconds()

        player = buildspec.Player(
            spec, shell, lambda text, agent: self._line(build, text, agent), fired, budget
        )
        build.played = _Played(root, listener, shell, standins, player)
        self._agent(build, f"Moving to directory {src}")

    def _line(self, build: _Build, text: str, agent: bool) -> None:
        build.log.append((self.emulator.now(), text, agent))

    def _variables(self, build: _Build, spec: buildspec.Buildspec) -> tuple[str, str] | None:
        """The buildspec's variables under the project's (buildspec reference, env: the
        project's value wins over the buildspec's); PARAMETER_STORE and SECRETS_MANAGER
        values fetched as the service role: a failure fails DOWNLOAD_SOURCE with
        "Decrypted Variables Error" / "Secrets Manager Error" and the reason (CodeBuild
        logs: cloudposse/terraform-aws-cicd#107 "parameter does not exist: <name>",
        aws/aws-codebuild-docker-images#475)."""
        self._agent(build, "Processing environment variables")
        stored = {name: ("PARAMETER_STORE", value) for name, value in spec.parameter_store.items()}
        stored.update(
            {name: ("SECRETS_MANAGER", value) for name, value in spec.secrets_manager.items()}
        )
        resolved: dict[str, str] = {}
        if spec.parameter_store or any(v["type"] == "PARAMETER_STORE" for v in build.typed):
            self._agent(build, "Decrypting parameter store environment variables")
        for name, (kind, reference) in stored.items():
            value, failure = self._stored(build, kind, reference)
            if failure is not None:
                return failure
            resolved[name] = value
        for name, value in {**spec.variables, **resolved}.items():
            build.env.setdefault(name, value)
        for variable in build.typed:
            value, failure = self._stored(build, str(variable["type"]), str(variable["value"]))
            if failure is not None:
                return failure
            build.env[str(variable["name"])] = value
        return None

    def _stored(
        self, build: _Build, kind: str, reference: str
    ) -> tuple[str, tuple[str, str] | None]:
        role = str(build.data["serviceRole"])
        if kind == "PARAMETER_STORE":
            ssm = internal.client(self.emulator, "ssm", role)
            try:
                found = ssm.get_parameters(Names=[reference], WithDecryption=True)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                return "", (
                    "Decrypted Variables Error",
                    f"{error.get('Code')}: {error.get('Message')}",
                )
            if found.get("InvalidParameters") or not found.get("Parameters"):
                return "", ("Decrypted Variables Error", f"parameter does not exist: {reference}")
            return str(found["Parameters"][0]["Value"]), None
        secret_id, key, stage, version = _secret_reference(reference)
        secrets = internal.client(self.emulator, "secretsmanager", role)
        kwargs: dict[str, str] = {"SecretId": secret_id}
        if stage:
            kwargs["VersionStage"] = stage
        if version:
            kwargs["VersionId"] = version
        try:
            secret = str(secrets.get_secret_value(**kwargs).get("SecretString", ""))
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return "", ("Secrets Manager Error", f"{error.get('Code')}: {error.get('Message')}")
        if key:
            try:
                secret = str(json.loads(secret)[key])
            except (ValueError, KeyError, TypeError):
                return "", ("Secrets Manager Error", f"json key {key} not found in {secret_id}")
        return secret, None

    def _download(
        self, build: _Build
    ) -> tuple[dict[str, bytes], dict[str, int], tuple[str, str] | None]:
        """The source files, their modes, and a (code, message) failure."""
        source = build.project.get("source") or {}
        kind = source.get("type")
        role = str(build.data["serviceRole"])
        try:
            if kind == "CODEPIPELINE":
                primary = _primary(build.job) if build.job else None
                if primary is None:
                    # Conservative: AWS documents no manual start of a CODEPIPELINE
                    # project; the build has no pipeline input artifact to download.
                    return (
                        {},
                        {},
                        (
                            "CLIENT_ERROR",
                            "CODEPIPELINE source: no input artifact (start the build from its "
                            "pipeline)",
                        ),
                    )
                data = artifacts.get(self.emulator, role, primary[1])
                return artifacts.unzip(data), artifacts.unzip_modes(data), None
            if kind == "CODECOMMIT":
                return self._codecommit_source(build, str(source.get("location", "")))
            if kind == "S3":
                bucket, _, key = str(source.get("location", "")).partition("/")
                data = artifacts.get(self.emulator, role, Location(bucket, key))
                return artifacts.unzip(data), artifacts.unzip_modes(data), None
            if kind == "NO_SOURCE":
                return {}, {}, None
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return {}, {}, ("CLIENT_ERROR", f"{error.get('Code')}: {error.get('Message')}")
        return {}, {}, ("CLIENT_ERROR", f"the emulated CodeBuild does not download {kind} sources")

    def _secondary_inputs(self, build: _Build, root: Path) -> None:
        """A pipeline's other input artifacts, each in its own directory named by
        CODEBUILD_SRC_DIR_<artifact name> ("the primary source ... in CODEBUILD_SRC_DIR;
        the others in CODEBUILD_SRC_DIR_<yourInputArtifactName>": CodePipeline user guide,
        "CodeBuild action reference", PrimarySource; CodeBuild user guide, "CodePipeline
        integration with CodeBuild and multiple input sources")."""
        primary = _primary(build.job) if build.job else None
        if build.job is None or primary is None:
            return
        role = str(build.data["serviceRole"])
        for name, location in build.job.inputs:
            if name == primary[0]:
                continue
            directory = root / f"src_{name}"
            directory.mkdir(parents=True, exist_ok=True)
            try:
                data = artifacts.get(self.emulator, role, location)
            except ClientError:
                continue  # the role cannot read it: the directory stays empty
            for path, content in artifacts.unzip(data).items():
                target = (directory / path).resolve()
                if directory.resolve() not in target.parents:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content)
            build.env[f"CODEBUILD_SRC_DIR_{name}"] = str(directory)

    def _codecommit_source(
        self, build: _Build, location: str
    ) -> tuple[dict[str, bytes], dict[str, int], tuple[str, str] | None]:
        from bluegreen.emulator.services.codecommit import CodeCommit

        codecommit = self.emulator.services.get("codecommit")
        repository = location.rstrip("/").rsplit("/", 1)[-1]
        version = str(build.data.get("sourceVersion") or "")
        if not isinstance(codecommit, CodeCommit) or repository not in codecommit.repos:
            return {}, {}, ("CLIENT_ERROR", f"repository not found: {location}")
        branch = version.removeprefix("refs/heads/") if version else None
        commit = None
        if branch and re.fullmatch(r"[0-9a-f]{40}", branch):
            commit = branch
        else:
            repo = codecommit.repos[repository]
            commit = codecommit.head(repository, branch or repo.default_branch or "")
        if commit is None:
            return (
                {},
                {},
                (
                    "CLIENT_ERROR",
                    f"reference not found for primary source and source version {version}",
                ),
            )
        build.data["resolvedSourceVersion"] = commit
        build.env["CODEBUILD_RESOLVED_SOURCE_VERSION"] = commit
        files = codecommit.files(repository, commit)
        return {p: d for p, (d, _) in files.items()}, {p: m for p, (_, m) in files.items()}, None

    def _upload(self, build: _Build, spec: buildspec.Buildspec) -> tuple[str, str | None]:
        """Collect the artifacts the commands left and put them where the job says:
        (phase context code, error) with error None on success."""
        played = build.played
        if spec.artifacts is None or not spec.artifacts.files or played is None:
            return "", None
        try:
            files, modes = buildspec.collect(
                played.shell.src, spec.artifacts, lambda text: self._agent(build, text)
            )
        except buildspec.NoArtifacts as exc:
            return "CLIENT_ERROR", str(exc)
        if build.job is None or not build.job.outputs:
            return "", None
        location = build.job.outputs[0][1]
        data = artifacts.zip_files(files, self.emulator.now(), modes)
        try:
            artifacts.put(self.emulator, str(build.data["serviceRole"]), location, data)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            return "CLIENT_ERROR", f"{error.get('Code')}: {error.get('Message')}"
        return "", None

    def _environment(self, build: _Build, params: Params) -> dict[str, str]:
        """The build's variables: the project's, StartBuild's overrides (these win:
        CodeBuild user guide, "Environment variables in build environments"), then
        CodeBuild's own, which cannot be overridden. No AWS_ACCOUNT_ID: CodeBuild sets
        none (the same page lists every variable it sets). PARAMETER_STORE and
        SECRETS_MANAGER values are fetched in DOWNLOAD_SOURCE (:meth:`_variables`)."""
        env: dict[str, str] = {}
        variables = list(build.project.get("environment", {}).get("environmentVariables", []))
        variables += list(params.get("environmentVariablesOverride") or [])
        for variable in variables:
            kind = variable.get("type") or "PLAINTEXT"
            if kind == "PLAINTEXT":
                env[str(variable["name"])] = str(variable.get("value", ""))
            else:
                env.pop(str(variable["name"]), None)
                build.typed.append(dict(variable))
        data = build.data
        source_version = str(data.get("sourceVersion") or "")
        source = build.project.get("source") or {}
        environment = build.project.get("environment") or {}
        env.update(
            {
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                "CODEBUILD_BUILD_ID": data["id"],
                "CODEBUILD_BUILD_ARN": data["arn"],
                "CODEBUILD_BUILD_IMAGE": str(environment.get("image") or ""),
                "CODEBUILD_BUILD_NUMBER": str(data["buildNumber"]),
                "CODEBUILD_BUILD_SUCCEEDING": "1",
                "CODEBUILD_INITIATOR": str(data["initiator"]),
                "CODEBUILD_KMS_KEY_ID": str(data.get("encryptionKey") or ""),
                "CODEBUILD_LOG_PATH": str(data["logs"].get("streamName") or ""),
                "CODEBUILD_SOURCE_REPO_URL": str(source.get("location") or ""),
                "CODEBUILD_SOURCE_VERSION": source_version,
                "CODEBUILD_RESOLVED_SOURCE_VERSION": str(data.get("resolvedSourceVersion") or ""),
                "CODEBUILD_SRC_DIR": "",
                "CODEBUILD_START_TIME": str(int(data["startTime"].timestamp() * 1000)),
            }
        )
        return env

    def _logs(self, project: dict[str, Any], uid: str) -> dict[str, Any]:
        config = (project.get("logsConfig") or {}).get("cloudWatchLogs") or {"status": "ENABLED"}
        if config.get("status") == "DISABLED":
            return {"cloudWatchLogs": config, "s3Logs": {"status": "DISABLED"}}
        # Default group /aws/codebuild/<project>, stream <build uuid> (CodeBuild user
        # guide, "View detailed build information": build logs in CloudWatch Logs).
        group = config.get("groupName") or f"/aws/codebuild/{project['name']}"
        stream = f"{config['streamName']}/{uid}" if config.get("streamName") else uid
        return {
            "groupName": group,
            "streamName": stream,
            "deepLink": (
                f"https://console.aws.amazon.com/cloudwatch/home?region={self.region}"
                f"#logEvent:group={group};stream={stream}"
            ),
            "cloudWatchLogsArn": (
                f"arn:aws:logs:{self.region}:{self.account_id}:log-group:{group}:log-stream:{stream}"
            ),
            "cloudWatchLogs": config,
            "s3Logs": {"status": "DISABLED", "encryptionDisabled": False},
        }

    def _write_logs(self, build: _Build) -> None:
        """The build's log lines into its CloudWatch Logs stream, as the service role:
        CodeBuild's own lines as ``[Container] <date> <text>``, the commands' output as
        it was written (the format of CodeBuild's build logs)."""
        logs = build.data["logs"]
        if "groupName" not in logs or not build.log:
            return
        client = internal.client(self.emulator, "logs", str(build.data["serviceRole"]))
        group, stream = logs["groupName"], logs["streamName"]
        events = [
            {
                "timestamp": int(when.timestamp() * 1000),
                "message": (
                    f"[Container] {when.strftime('%Y/%m/%d %H:%M:%S')} {text}" if agent else text
                )
                or " ",
            }
            for when, text, agent in build.log
        ]
        try:
            if group.startswith("/aws/codebuild/"):
                with contextlib.suppress(ClientError):  # already there
                    client.create_log_group(logGroupName=group)
            client.create_log_stream(logGroupName=group, logStreamName=stream)
            for start in range(0, len(events), 10000):  # PutLogEvents takes 10,000 at most
                client.put_log_events(
                    logGroupName=group,
                    logStreamName=stream,
                    logEvents=events[start : start + 10000],
                )
        except ClientError as exc:
            self._agent(build, f"cannot write the build log: {exc}")

    # ==================================================================== helpers
    def _find(self, name: str) -> dict[str, Any] | None:
        if name.startswith("arn:"):
            name = name.rsplit("/", 1)[-1]
        return self.projects.get(name)

    def _project_arn(self, name: str) -> str:
        return f"arn:aws:codebuild:{self.region}:{self.account_id}:project/{name}"

    @staticmethod
    def _valid_name(name: str | None) -> str:
        if not name or not _PROJECT_NAME.fullmatch(name):
            raise ServiceError(
                "InvalidInputException",
                f"Invalid project name: {name!r}: 2 to 150 letters, numbers, dashes and "
                "underscores, starting with a letter or number",
            )
        return name


_PYTHON = """#!/bin/sh
# bluegreen: the Python of the emulated build image: the emulator's own interpreter and
# packages. `python3 -m pip install` is played by bluegreen.emulator.standins.pip, which
# installs nothing (no network) and reports what the interpreter already has.
if [ "$1" = -m ] && [ "$2" = pip ]; then
  shift 2
  exec {python} -I {pip} "$@"
fi
exec {python} "$@"
"""


def _install_python(directory: Path) -> None:
    """``python3``, ``python`` and ``pip`` on the build's PATH (its stand-ins'
    directory): the standard image's Python ("aws/codebuild/standard:7.0" has Python 3:
    CodeBuild user guide, "Runtimes of the standard image"), played by this interpreter."""
    from bluegreen.emulator.standins import pip as pip_standin

    script = _PYTHON.format(
        python=shlex.quote(sys.executable), pip=shlex.quote(str(Path(pip_standin.__file__)))
    )
    for name in ("python3", "python"):
        path = directory / name
        path.write_text(script, encoding="utf-8")
        path.chmod(0o755)
    pip_path = directory / "pip"
    pip_path.write_text(
        f'#!/bin/sh\nexec {shlex.quote(str(directory / "python3"))} -m pip "$@"\n',
        encoding="utf-8",
    )
    pip_path.chmod(0o755)


BUILD_WITHOUT_IMAGE = timing.duration(
    "codebuild.build_without_image",
    3.0,
    "a BUILD phase that ran no docker build or push (a selective build reusing the image "
    "its content tag names: one DescribeImages call and a few shell commands)",
    "modelled: seconds of shell commands and one API call; AWS bills CodeBuild by the "
    "minute or second of the whole build, not per phase",
)


def _phase_seconds(phase: str, before: tuple[int, int], after: tuple[int, int]) -> float:
    """How long a played phase takes on the clock. BUILD's figure is a docker build and
    push (timing.BUILD_PHASES); a BUILD phase whose commands built and pushed no image
    (the daemon holds no new image, nothing was pushed) takes BUILD_WITHOUT_IMAGE."""
    if phase == "BUILD" and after == before:
        return BUILD_WITHOUT_IMAGE
    return timing.BUILD_PHASES[phase]


def _secret_reference(reference: str) -> tuple[str, str, str, str]:
    """``<secret-id>:<json-key>:<version-stage>:<version-id>`` (buildspec reference,
    env/secrets-manager); the secret id may be an ARN (7 colon-separated parts)."""
    parts = reference.split(":")
    head = 7 if reference.startswith("arn:") else 1
    secret_id = ":".join(parts[:head])
    rest = parts[head:] + ["", "", ""]
    return secret_id, rest[0], rest[1], rest[2]


def _primary(job: PipelineJob | None) -> tuple[str, Location] | None:
    if job is None or not job.inputs:
        return None
    for name, location in job.inputs:
        if name == job.primary:
            return name, location
    return job.inputs[0]


def _overridden(project: dict[str, Any], params: Params) -> dict[str, Any]:
    """The project as this build runs it (StartBuild's overrides applied)."""
    out = dict(project)
    source = dict(out.get("source") or {})
    if params.get("buildspecOverride"):
        source["buildspec"] = params["buildspecOverride"]
    if params.get("sourceTypeOverride"):
        source["type"] = params["sourceTypeOverride"]
    if params.get("sourceLocationOverride"):
        source["location"] = params["sourceLocationOverride"]
    out["source"] = source
    environment = dict(out.get("environment") or {})
    for key, field_name in (
        ("imageOverride", "image"),
        ("computeTypeOverride", "computeType"),
        ("environmentTypeOverride", "type"),
        ("privilegedModeOverride", "privilegedMode"),
    ):
        if key in params:
            environment[field_name] = params[key]
    out["environment"] = environment
    if params.get("serviceRoleOverride"):
        out["serviceRole"] = params["serviceRoleOverride"]
    if params.get("timeoutInMinutesOverride"):
        out["timeoutInMinutes"] = params["timeoutInMinutesOverride"]
    return out
