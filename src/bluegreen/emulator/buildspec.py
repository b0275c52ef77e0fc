"""What a build does: the buildspec read as CodeBuild reads it, and played for real.

Sources: CodeBuild user guide, "Build specification reference"
(https://docs.aws.amazon.com/codebuild/latest/userguide/build-spec-ref.html), "Build
phase transitions" (view-build-details-phases.html), "Environment variables in build
environments" (build-env-ref-env-vars.html).

:func:`read_buildspec` is CodeBuild's reading of the buildspec (a YAML_FILE_ERROR in
DOWNLOAD_SOURCE when it cannot be used). :class:`Player` plays its phases in the build's
shell (:mod:`bluegreen.emulator.standins.shell`), with its ``aws`` and ``docker``
stand-ins (:mod:`bluegreen.emulator.standins`):

- each phase's ``commands`` run one at a time, in order; the first that exits non-zero
  ends them and fails the phase with CodeBuild's context ``COMMAND_EXECUTION_ERROR``,
  "Error while executing command: <command>. Reason: exit status <N>" (the texts of
  CodeBuild's logs, e.g. awslabs/aws-deployment-framework#471,
  aws-containers/hello-app-runner-nodejs#1); then the phase's ``finally`` commands run
  ("executed even if a command in the commands block fails");
- which phase comes after a failure is :func:`after_failure`: ``on-failure: ABORT`` ends
  the build, ``CONTINUE`` goes on to the next phase; without it, the build phase
  transitions: a failed INSTALL or PRE_BUILD ends the build (FINALIZING), a failed BUILD
  goes on to POST_BUILD, a failed POST_BUILD to UPLOAD_ARTIFACTS ("The UPLOAD_ARTIFACTS
  phase is always attempted, even if the BUILD phase fails"); CODEBUILD_BUILD_SUCCEEDING
  is 1, then 0 once a phase failed;
- the artifacts are the files the build directory holds afterwards that
  ``artifacts.files`` names (:func:`collect`): globs relative to ``base-directory`` (or the
  source directory), ``discard-paths``, ``exclude-paths``; a listed path that matches
  nothing is skipped ("Skipping invalid file path"), and when nothing matches at all
  UPLOAD_ARTIFACTS fails with ``CLIENT_ERROR`` "no matching artifact paths found"
  (aws-samples/amazon-ecs-fargate-cdk-cicd#13, aws/copilot-cli#2780).
"""

from __future__ import annotations

import fnmatch
import os
import posixpath
import re
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bluegreen.emulator.clock import Wait
from bluegreen.emulator.standins.shell import SHELLS, Ran, Shell

COMMAND_PHASES = ("install", "pre_build", "build", "post_build")
ON_FAILURE = ("ABORT", "CONTINUE")


class BuildspecError(Exception):
    """The buildspec cannot be used (YAML_FILE_ERROR in DOWNLOAD_SOURCE)."""


class Unplayable(Exception):
    """A buildspec feature AWS has and the emulated CodeBuild does not play."""


@dataclass(frozen=True)
class Phase:
    name: str
    commands: tuple[str, ...]
    finally_: tuple[str, ...] = ()
    on_failure: str | None = None
    runtime_versions: dict[str, str] = field(default_factory=dict)
    run_as: str | None = None


@dataclass(frozen=True)
class Artifacts:
    files: tuple[str, ...]
    base_directory: str = ""
    discard_paths: bool = False
    exclude_paths: tuple[str, ...] = ()


@dataclass(frozen=True)
class Buildspec:
    path: str
    """Where it was read from in the source ("" for an inline buildspec)."""
    data: dict[str, Any]
    version: str = "0.2"
    shell: str = "/bin/sh"
    variables: dict[str, str] = field(default_factory=dict)
    parameter_store: dict[str, str] = field(default_factory=dict)
    secrets_manager: dict[str, str] = field(default_factory=dict)
    exported: tuple[str, ...] = ()
    phases: dict[str, Phase] = field(default_factory=dict)
    artifacts: Artifacts | None = None
    run_as: str | None = None

    def commands(self, phase: str) -> list[str]:
        found = self.phases.get(phase)
        return list(found.commands) if found else []


def read_buildspec(ref: str, source: dict[str, bytes]) -> Buildspec:
    """The buildspec a project names (a path in the source, or inline YAML)."""
    if "\n" in ref or ref.lstrip().startswith("version"):
        text, path = ref, ""
    else:
        path = ref[2:] if ref.startswith("./") else ref
        found = source.get(path)
        if found is None:
            # CodeBuild's message for a missing buildspec file (build logs, DOWNLOAD_SOURCE).
            raise BuildspecError(
                f"stat /codebuild/output/src/src/{path}: no such file or directory"
            )
        text = found.decode("utf-8", errors="replace")
    where = path or "inline"
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BuildspecError(f"Invalid buildspec {where}: {exc}") from None
    if not isinstance(data, dict):
        raise BuildspecError(f"Invalid buildspec {where}: not a YAML mapping")
    if str(data.get("version")) not in ("0.1", "0.2"):
        raise BuildspecError(f"invalid buildspec version {data.get('version')!r}: use 0.2")
    if not isinstance(data.get("phases"), dict) or not data["phases"]:
        raise BuildspecError(f"Invalid buildspec {where}: phases are required")
    env = data.get("env") or {}
    if not isinstance(env, dict):
        raise BuildspecError(f"Invalid buildspec {where}: env must be a mapping")
    shell = str(env.get("shell") or "/bin/sh")
    if shell not in SHELLS:
        raise BuildspecError(
            f"Invalid buildspec {where}: env/shell {shell!r} is not a Linux shell CodeBuild "
            "supports (bash, /bin/sh)"
        )
    phases: dict[str, Phase] = {}
    for name, block in data["phases"].items():
        if name not in COMMAND_PHASES:
            raise BuildspecError(f"Invalid buildspec {where}: unknown phase {name!r}")
        phases[name] = _phase(where, str(name), block)
    exported = env.get("exported-variables") or []
    return Buildspec(
        path=path,
        data=data,
        version=str(data.get("version")),
        shell=shell,
        variables=_strings(where, "env/variables", env.get("variables")),
        parameter_store=_strings(where, "env/parameter-store", env.get("parameter-store")),
        secrets_manager=_strings(where, "env/secrets-manager", env.get("secrets-manager")),
        exported=tuple(str(v) for v in (exported if isinstance(exported, list) else [exported])),
        phases=phases,
        artifacts=_artifacts(where, data.get("artifacts")),
        run_as=str(data["run-as"]) if data.get("run-as") else None,
    )


def _phase(where: str, name: str, block: Any) -> Phase:
    block = block or {}
    if not isinstance(block, dict):
        raise BuildspecError(f"Invalid buildspec {where}: phases/{name} must be a mapping")
    commands = block.get("commands")
    if commands is None and not block.get("runtime-versions"):
        # "commands: Required sequence if <phase> is specified" (buildspec reference).
        raise BuildspecError(f"Invalid buildspec {where}: phases/{name}/commands is required")
    on_failure = block.get("on-failure")
    if on_failure is not None and str(on_failure) not in ON_FAILURE:
        if str(on_failure).startswith("RETRY"):
            raise Unplayable(f"phases/{name}/on-failure {on_failure} (RETRY is not played)")
        raise BuildspecError(
            f"Invalid buildspec {where}: phases/{name}/on-failure must be ABORT or CONTINUE"
        )
    runtimes = block.get("runtime-versions") or {}
    return Phase(
        name=name,
        commands=tuple(_command_list(where, f"phases/{name}/commands", commands)),
        finally_=tuple(_command_list(where, f"phases/{name}/finally", block.get("finally"))),
        on_failure=str(on_failure) if on_failure is not None else None,
        runtime_versions={str(k): str(v) for k, v in runtimes.items()}
        if isinstance(runtimes, dict)
        else {},
        run_as=str(block["run-as"]) if block.get("run-as") else None,
    )


def _command_list(where: str, key: str, value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise BuildspecError(f"Invalid buildspec {where}: {key} must be a list of commands")
    return [_scalar(v) for v in value]


def _strings(where: str, key: str, value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise BuildspecError(f"Invalid buildspec {where}: {key} must be a mapping")
    return {str(k): _scalar(v) for k, v in value.items()}


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _artifacts(where: str, value: Any) -> Artifacts | None:
    if not value:
        return None
    if not isinstance(value, dict):
        raise BuildspecError(f"Invalid buildspec {where}: artifacts must be a mapping")
    files = value.get("files") or []
    files = [files] if isinstance(files, str) else files
    excludes = value.get("exclude-paths") or []
    excludes = [excludes] if isinstance(excludes, str) else excludes
    discard = value.get("discard-paths")
    return Artifacts(
        files=tuple(_scalar(f) for f in files),
        base_directory=_scalar(value.get("base-directory") or ""),
        discard_paths=discard is True or str(discard).lower() == "yes",
        exclude_paths=tuple(_scalar(e) for e in excludes),
    )


# ----------------------------------------------------------------------------- playing


@dataclass
class PhaseResult:
    status: str = "SUCCEEDED"
    """SUCCEEDED or FAILED."""
    code: str = ""
    message: str = ""

    @property
    def failed(self) -> bool:
        return self.status != "SUCCEEDED"


def after_failure(phase: str, on_failure: str | None) -> str:
    """Where a build goes when ``phase`` (INSTALL, PRE_BUILD, BUILD, POST_BUILD) failed:
    ``next`` (the next phase), ``upload`` (UPLOAD_ARTIFACTS) or ``end`` (FINALIZING).

    ``on-failure`` (buildspec reference, phases/*/on-failure): ABORT "abort the build",
    CONTINUE "continue to the next build phase"; without it "the failure process follows
    the transition phases" ("Build phase transitions": INSTALL and PRE_BUILD failures end
    the build, BUILD goes on to POST_BUILD, POST_BUILD to UPLOAD_ARTIFACTS).
    """
    if on_failure == "ABORT":
        return "end"
    if on_failure == "CONTINUE":
        return "next"
    return {"INSTALL": "end", "PRE_BUILD": "end", "BUILD": "next", "POST_BUILD": "upload"}[phase]


LogLine = Callable[[str, bool], None]
"""Where the build's log lines go: (text, from CodeBuild's agent rather than a command)."""


class Player:
    """Plays a buildspec's phases in a build's shell."""

    def __init__(
        self,
        spec: Buildspec,
        shell: Shell,
        log: LogLine,
        fault: Callable[[], str | None] = lambda: None,
        budget: Callable[[], float] = lambda: float("inf"),
    ) -> None:
        self.spec = spec
        self.shell = shell
        self.log = log
        self.fault = fault
        self.budget = budget
        """The simulated seconds left before the build's timeout."""
        """The failure the rehearsal injected, once it fired (its message is added to the
        failed command's context)."""
        self.succeeding = True

    def play(self, phase_type: str) -> PhaseResult:
        """Run the commands of ``phase_type`` (INSTALL, PRE_BUILD, BUILD, POST_BUILD) at one
        simulated instant (a ``sleep`` in them takes no time)."""
        steps = self.steps(phase_type)
        try:
            while True:
                next(steps)
        except StopIteration as done:
            result: PhaseResult = done.value
            return result

    def steps(self, phase_type: str) -> Generator[Wait, Any, PhaseResult]:
        """Run the commands of ``phase_type`` in the build's process: each ``sleep`` in
        them yields the simulated time it takes (:meth:`Shell.steps`)."""
        phase = self.spec.phases.get(phase_type.lower())
        result = PhaseResult()
        if phase is None:
            return result
        run_as = phase.run_as or self.spec.run_as
        if run_as:
            self.log(
                f"run-as {run_as} is not played by the emulated CodeBuild: the commands run as "
                "this machine's user",
                True,
            )
        if phase.runtime_versions:
            chosen = ", ".join(f"{k} {v}" for k, v in phase.runtime_versions.items())
            self.log(
                f"runtime-versions ({chosen}) are not installed by the emulated CodeBuild: the "
                "commands use this machine's tools",
                True,
            )
        for command in phase.commands:
            if not (yield from self._command(command, result)):
                break
        for command in phase.finally_:
            if not (yield from self._command(command, result)):
                break
        if result.failed:
            self.succeeding = False
        return result

    def _command(self, command: str, result: PhaseResult) -> Generator[Wait, Any, bool]:
        self.log(f"Running command {command}", True)
        ran: Ran = yield from self.shell.steps(
            command,
            {"CODEBUILD_BUILD_SUCCEEDING": "1" if self.succeeding else "0"},
            budget=self.budget(),
        )
        for line in ran.output:
            self.log(line, False)
        if ran.status == 0:
            return True
        if ran.out_of_budget:
            # The build's timeout passed while the command slept: CodeBuild stops the
            # build, whose status and the phase's are TIMED_OUT (CodeBuild API reference,
            # Build.buildStatus and BuildPhase.phaseStatus: "TIMED_OUT: The build phase
            # timed out").
            result.status = "TIMED_OUT"
            result.code = "BUILD_TIMED_OUT"
            result.message = "Build has timed out. "
            self.log(
                "Phase context status code: BUILD_TIMED_OUT Message: Build has timed out.", True
            )
            return False
        if ran.timed_out:
            reason = (
                "the emulator stopped it after its limit of real time "
                f"({int(self.shell_timeout())} s)"
            )
        else:
            reason = f"exit status {ran.status}"
            self.log(f"Command did not exit successfully {command} exit status {ran.status}", True)
        if not result.failed:
            result.status = "FAILED"
            result.code = "COMMAND_EXECUTION_ERROR"
            result.message = f"Error while executing command: {command}. Reason: {reason}"
            injected = self.fault()
            if injected:
                result.message += f" ({injected})"
        return False

    @staticmethod
    def shell_timeout() -> float:
        from bluegreen.emulator.standins import shell

        return shell.COMMAND_TIMEOUT

    def exported(self) -> list[dict[str, str]]:
        """``env/exported-variables`` with their values at the end of the build's commands
        (the Build's ``exportedEnvironmentVariables``)."""
        names = [n for n in self.spec.exported if n]
        values = self.shell.values(names)
        return [{"name": n, "value": values.get(n, "")} for n in names]


# ----------------------------------------------------------------------------- artifacts


class NoArtifacts(Exception):
    """Nothing matched: UPLOAD_ARTIFACTS fails with CLIENT_ERROR."""


def collect(
    src: Path, artifacts: Artifacts, log: Callable[[str], None]
) -> tuple[dict[str, bytes], dict[str, int]]:
    """The files ``artifacts`` names in the build's source directory ``src`` (what the
    commands left there), with their modes; the log lines CodeBuild writes meanwhile."""
    base = artifacts.base_directory.strip("/") or "."
    log(f"Expanding base directory path: {base}")
    log("Assembling file list")
    log(f"Expanding {base}")
    log(f"Expanding file paths for base directory {base}")
    log("Assembling file list")
    root = (src / base).resolve() if base != "." else src.resolve()
    available = _files(root) if root.is_dir() and _inside(root, src.resolve()) else []
    chosen: dict[str, str] = {}
    for pattern in artifacts.files:
        log(f"Expanding {pattern}")
        clean = posixpath.normpath(pattern[2:] if pattern.startswith("./") else pattern)
        hits = [p for p in available if match_path(clean, p)]
        if not hits:
            log(f"Skipping invalid file path {pattern}")
        for path in hits:
            if any(match_path(posixpath.normpath(e), path) for e in artifacts.exclude_paths):
                continue
            name = posixpath.basename(path) if artifacts.discard_paths else path
            chosen[name] = path
    if not chosen:
        raise NoArtifacts("no matching artifact paths found")
    files: dict[str, bytes] = {}
    modes: dict[str, int] = {}
    for name, path in sorted(chosen.items()):
        full = root / path
        files[name] = full.read_bytes()
        modes[name] = full.stat().st_mode & 0o777
    return files, modes


def _files(root: Path) -> list[str]:
    found: list[str] = []
    for directory, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            path = Path(directory) / name
            if path.is_file():
                found.append(path.relative_to(root).as_posix())
    return found


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def match_path(pattern: str, path: str) -> bool:
    """A buildspec artifact path pattern: ``*`` and ``?`` within one path part, ``**``
    for any number of parts (``**/*`` is every file)."""
    return _parts(pattern.split("/"), path.split("/"))


def _parts(pattern: list[str], parts: list[str]) -> bool:
    if not pattern:
        return not parts
    head, rest = pattern[0], pattern[1:]
    if head == "**":
        return any(_parts(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    return fnmatch.fnmatchcase(parts[0], head) and _parts(rest, parts[1:])


def valid_name(name: str) -> bool:
    """Whether ``name`` can be a shell variable (CodeBuild's variables become them)."""
    return re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name) is not None
