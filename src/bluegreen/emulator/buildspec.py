"""What a build does: the buildspec read as CodeBuild reads it, and its effects simulated.

:func:`read_buildspec` is CodeBuild's own reading of the buildspec (a YAML_FILE_ERROR in
the DOWNLOAD_SOURCE phase when it is not one). :func:`run_buildspec` is the one boundary
issue 9 replaces with real shell execution: today no command runs and no container
starts; what a build of bluegreen's buildspecs *leaves behind* is made real, acting as
the project's service role (ported from the rehearsal's ``bluegreen.rehearse.build``):

- ``${VAR:?message}`` checks fail the phase they are in when the variable is empty;
- when the buildspec builds and pushes an image (``docker build`` / ``docker push``), the
  image is put into the ECR repository its environment names (IMAGE_REPOSITORY_URI or
  IMAGE_REPOSITORY_NAME), under the tag :func:`image_tag` computes from the commands and
  CODEBUILD_RESOLVED_SOURCE_VERSION. A tag that exists is reused (the scaffold's
  buildspec checks ListImages first), so immutable tags are never overwritten. The
  manifest's digests hash the build context, so the same sources give the same image;
  the context's files are recorded in ``emulator.images[uri]`` (paths relative to the
  context: ``Dockerfile``, ``app/main.py``, ``extra.conf``);
- ``imageDetail.json`` is ``{"ImageURI":"<uri>"}`` (the buildspec's printf); a
  ``taskdef.json`` with the stack placeholders is rendered with
  :func:`bluegreen.appkit.render_taskdef`, exactly the buildspec's ``sed``; every other
  listed artifact is copied from the source. A listed file that is neither fails
  UPLOAD_ARTIFACTS with CodeBuild's "CLIENT_ERROR: no matching artifact paths found".
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import posixpath
import re
import shlex
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml
from botocore.exceptions import ClientError

from bluegreen import names
from bluegreen.emulator import internal
from bluegreen.errors import BluegreenError

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

IMAGE_DETAIL = "imageDetail.json"
COMMAND_PHASES = ("install", "pre_build", "build", "post_build")
_MANIFEST_TYPE = "application/vnd.docker.distribution.manifest.v2+json"
_REQUIRED_VAR = re.compile(r"\$\{(\w+):\?([^}]*)\}")
_ASSIGNMENT = re.compile(r"\s*(?:export\s+)?([A-Za-z_]\w*)=(.*)$")


class BuildspecError(Exception):
    """The buildspec cannot be used (YAML_FILE_ERROR in DOWNLOAD_SOURCE)."""


class UnknownTag(Exception):
    """The simulated build cannot tell which tag the buildspec pushes."""


@dataclass(frozen=True)
class Buildspec:
    path: str
    """Where it was read from in the source ("" for an inline buildspec)."""
    data: dict[str, Any]

    def commands(self, phase: str) -> list[str]:
        block = (self.data.get("phases") or {}).get(phase) or {}
        return [str(c) for c in (block.get("commands") or [])]

    def all_commands(self) -> list[tuple[str, str]]:
        return [(phase, c) for phase in COMMAND_PHASES for c in self.commands(phase)]

    def variables(self) -> dict[str, str]:
        env = self.data.get("env") or {}
        return {str(k): str(v) for k, v in (env.get("variables") or {}).items()}

    def artifact_files(self) -> tuple[str, list[str]]:
        """(base-directory, file patterns) of the primary artifact."""
        artifacts = self.data.get("artifacts") or {}
        files = artifacts.get("files") or []
        files = [files] if isinstance(files, str) else files
        return str(artifacts.get("base-directory") or ""), [str(f) for f in files]


def read_buildspec(ref: str, source: dict[str, bytes]) -> Buildspec:
    """The buildspec a project names (a path in the source, or inline YAML)."""
    if "\n" in ref or ref.lstrip().startswith("version"):
        text, path = ref, ""
    else:
        path = ref.lstrip("./") if ref.startswith("./") else ref
        found = source.get(path)
        if found is None:
            # CodeBuild's message for a missing buildspec file (build logs, DOWNLOAD_SOURCE).
            raise BuildspecError(
                f"stat /codebuild/output/src/src/{path}: no such file or directory"
            )
        text = found.decode("utf-8", errors="replace")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise BuildspecError(f"Invalid buildspec {path or 'inline'}: {exc}") from None
    if not isinstance(data, dict):
        raise BuildspecError(f"Invalid buildspec {path or 'inline'}: not a YAML mapping")
    if str(data.get("version")) not in ("0.1", "0.2"):
        raise BuildspecError(f"invalid buildspec version {data.get('version')!r}: use 0.2")
    if not isinstance(data.get("phases"), dict) or not data["phases"]:
        raise BuildspecError(f"Invalid buildspec {path or 'inline'}: phases are required")
    return Buildspec(path, data)


@dataclass
class BuildInput:
    """Everything a build runs with."""

    emulator: Emulator
    role: str
    """The project's service role: every AWS call of the build acts as it."""
    project: dict[str, Any]
    env: dict[str, str]
    source: dict[str, bytes]
    modes: dict[str, int]
    spec: Buildspec
    fault: str | None = None
    """Fail the BUILD phase with this message (for rehearsing a failing build)."""


@dataclass
class BuildOutcome:
    failed_phase: str | None = None
    """The phase that failed (PRE_BUILD, BUILD, POST_BUILD, UPLOAD_ARTIFACTS), or None."""
    code: str = ""
    message: str = ""
    artifacts: dict[str, bytes] = field(default_factory=dict)
    modes: dict[str, int] = field(default_factory=dict)
    image_uri: str | None = None
    reused: bool = False
    log: list[str] = field(default_factory=list)

    def fail(self, phase: str, code: str, message: str) -> BuildOutcome:
        self.failed_phase, self.code, self.message = phase, code, message
        self.log.append(f"Phase complete: {phase} State: FAILED")
        self.log.append(f"Phase context status code: {code} Message: {message}")
        return self


def run_buildspec(build: BuildInput) -> BuildOutcome:
    """Run the buildspec's commands (simulated; see the module docstring)."""
    outcome = BuildOutcome()
    shell = dict(build.env)
    for phase, command in build.spec.all_commands():
        outcome.log.append(f"Running command {command}")
        for match in _REQUIRED_VAR.finditer(command):
            if not shell.get(match.group(1)):
                message = (
                    f"Error while executing command: {command}. Reason: exit status 1 "
                    f"({match.group(1)}: {match.group(2)})"
                )
                return outcome.fail(phase.upper(), "COMMAND_EXECUTION_ERROR", message)
        assigned = _ASSIGNMENT.match(command)
        if assigned:
            # A shell variable the buildspec sets: empty when what it is computed from
            # is (the only input the simulation can judge).
            value = assigned.group(2)
            used = re.findall(r"\$\{?(\w+)", value)
            shell[assigned.group(1)] = "" if used and not all(shell.get(u) for u in used) else "set"
    commands = [c for _, c in build.spec.all_commands()]
    builds_image = any("docker build" in c or "docker push" in c for c in commands)
    if builds_image:
        try:
            _push_image(build, commands, outcome)
        except _CommandFailed as exc:
            return outcome.fail(exc.phase, "COMMAND_EXECUTION_ERROR", exc.message)
    if build.fault:
        return outcome.fail(
            "BUILD",
            "COMMAND_EXECUTION_ERROR",
            f"Error while executing command: docker build. Reason: exit status 1 ({build.fault})",
        )
    base, patterns = build.spec.artifact_files()
    if not patterns:
        return outcome
    try:
        made = _made_files(build, commands, outcome)
    except BluegreenError as exc:
        return outcome.fail(
            "POST_BUILD",
            "COMMAND_EXECUTION_ERROR",
            "Error while executing command: sed ... taskdef.json. Reason: exit status 1 "
            f"({exc.message})",
        )
    available = dict(build.source)
    available.update(made)
    for pattern in patterns:
        full = posixpath.normpath(posixpath.join(base, pattern)) if base else pattern
        hits = [p for p in available if fnmatch.fnmatchcase(p, full) or p == full]
        if not hits:
            # CodeBuild's error when a listed artifact is missing (its build logs and
            # phase context: "CLIENT_ERROR: no matching artifact paths found").
            return outcome.fail(
                "UPLOAD_ARTIFACTS", "CLIENT_ERROR", "no matching artifact paths found"
            )
        for path in hits:
            name = posixpath.relpath(path, base) if base else path
            outcome.artifacts[name] = available[path]
            outcome.modes[name] = build.modes.get(path, 0o644)
    return outcome


def image_tag(spec: Buildspec, env: dict[str, str]) -> str:
    """The tag the buildspec pushes, computed from its commands.

    The one rule for the simulated build; issue 9 replaces it by running the shell.
    It understands the assignment of the tag variable used in ``docker build --tag``
    when it is derived from CODEBUILD_RESOLVED_SOURCE_VERSION: the full id
    (``"${CODEBUILD_RESOLVED_SOURCE_VERSION}"``), its first N characters with
    ``cut -c 1-N`` (the original scaffold) or ``${CODEBUILD_RESOLVED_SOURCE_VERSION:0:N}``,
    or a literal tag.
    """
    commands = [c for _, c in spec.all_commands()]
    variable = None
    for command in commands:
        found = re.search(r"--tag\s+\"?\$\{?\w+\}?:\$\{?(\w+)\}?\"?", command) or re.search(
            r"\s-t\s+\"?\$\{?\w+\}?:\$\{?(\w+)\}?\"?", command
        )
        if found:
            variable = found.group(1)
            break
    if variable is None:
        raise UnknownTag("no docker build --tag <repository>:${TAG} command")
    version = env.get("CODEBUILD_RESOLVED_SOURCE_VERSION", "")
    for command in commands:
        assigned = re.match(rf"\s*(?:export\s+)?{variable}=(.*)$", command)
        if not assigned:
            continue
        value = assigned.group(1).strip()
        if "CODEBUILD_RESOLVED_SOURCE_VERSION" not in value:
            literal = value.strip("\"'")
            if re.fullmatch(r"[\w][\w.-]{0,127}", literal):
                return literal
            raise UnknownTag(f"cannot evaluate {command!r}")
        cut = re.search(r"cut\s+-c\s*1-(\d+)", value)
        if cut:
            return version[: int(cut.group(1))]
        substring = re.search(r"CODEBUILD_RESOLVED_SOURCE_VERSION:0:(\d+)", value)
        if substring:
            return version[: int(substring.group(1))]
        if re.fullmatch(r"\"?\$\{?CODEBUILD_RESOLVED_SOURCE_VERSION\}?\"?", value):
            return version
        raise UnknownTag(f"cannot evaluate {command!r}")
    if variable in env:
        return env[variable]
    raise UnknownTag(f"{variable} is never assigned")


_CLI = {"GetAuthorizationToken": "get-login-password", "DescribeImages": "describe-images"}
"""The AWS CLI commands of the scaffold's buildspec, by the operation they call."""


class _CommandFailed(Exception):
    def __init__(self, phase: str, message: str) -> None:
        super().__init__(message)
        self.phase = phase
        self.message = message


def _push_image(build: BuildInput, commands: list[str], outcome: BuildOutcome) -> None:
    ecr = internal.client(build.emulator, "ecr", build.role)
    # Which repository the commands push to is read from the environment, not asked of
    # ECR (docker takes the URI as given): moto's records, no call as the build role.
    repositories = [
        {"repositoryName": r.name, "repositoryUri": r.uri}
        for r in build.emulator.backend("ecr").repositories.values()
    ]
    values = set(build.env.values())
    named = [
        r for r in repositories if r["repositoryUri"] in values or r["repositoryName"] in values
    ]
    if len(named) != 1:
        listed = ", ".join(r["repositoryName"] for r in named) or "none"
        raise _CommandFailed(
            "BUILD",
            "Error while executing command: docker push. Reason: exit status 1 (the build's "
            f"environment names {len(named)} ECR repositories: {listed})",
        )
    repository = named[0]
    if not build.env.get("CODEBUILD_RESOLVED_SOURCE_VERSION"):
        raise _CommandFailed(
            "PRE_BUILD",
            "Error while executing command: IMAGE_TAG. Reason: exit status 1 "
            "(CODEBUILD_RESOLVED_SOURCE_VERSION is empty)",
        )
    try:
        tag = image_tag(build.spec, build.env)
    except UnknownTag as exc:
        raise _CommandFailed(
            "PRE_BUILD",
            f"the simulated build cannot compute the image tag: {exc} (issue 9 runs the shell)",
        ) from None
    uri = f"{repository['repositoryUri']}:{tag}"
    outcome.image_uri = uri
    context = _context(build, commands)
    files = {
        path[len(context) + 1 :] if context else path: data
        for path, data in build.source.items()
        if not context or path.startswith(f"{context}/")
    }
    # The calls the scaffold's buildspec makes as the build role: `aws ecr
    # get-login-password` (GetAuthorizationToken), then `aws ecr describe-images` for the
    # one tag (only ImageNotFoundException means "not pushed yet"); issue 9's played builds
    # make them from the shell.
    try:
        ecr.get_authorization_token()
        ecr.describe_images(
            repositoryName=repository["repositoryName"], imageIds=[{"imageTag": tag}]
        )
        exists = True
    except ClientError as exc:
        error = exc.response.get("Error", {})
        if error.get("Code") != "ImageNotFoundException":
            raise _CommandFailed(
                "PRE_BUILD" if exc.operation_name == "GetAuthorizationToken" else "BUILD",
                f"Error while executing command: aws ecr {_CLI[exc.operation_name]}. Reason: "
                f"exit status 1 ({error.get('Code')}: {error.get('Message')})",
            ) from None
        exists = False
    if exists:
        outcome.reused = True
        outcome.log.append(f"{uri} already exists; not building it again")
    else:
        digest = hashlib.sha256()
        for path in sorted(files):
            digest.update(path.encode() + b"\0" + hashlib.sha256(files[path]).digest())
        content = digest.hexdigest()
        manifest = {
            "schemaVersion": 2,
            "mediaType": _MANIFEST_TYPE,
            "config": {
                "mediaType": "application/vnd.docker.container.image.v1+json",
                "size": 1024,
                "digest": "sha256:" + hashlib.sha256(f"config {content}".encode()).hexdigest(),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                    "size": 4096,
                    "digest": "sha256:" + hashlib.sha256(f"layer {content}".encode()).hexdigest(),
                }
            ],
        }
        try:
            ecr.put_image(
                repositoryName=repository["repositoryName"],
                imageManifest=json.dumps(manifest),
                imageManifestMediaType=_MANIFEST_TYPE,
                imageTag=tag,
            )
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise _CommandFailed(
                "BUILD",
                f"Error while executing command: docker push {uri}. Reason: exit status 1 "
                f"({error.get('Code')}: {error.get('Message')})",
            ) from None
        outcome.log.append(f"pushed {uri}")
    build.emulator.images[uri] = files


def _context(build: BuildInput, commands: list[str]) -> str:
    """The docker build context: the last argument of ``docker build``, else the
    buildspec's directory."""
    for command in commands:
        if "docker build" not in command:
            continue
        segment = command[command.index("docker build") :].split(";")[0]
        try:
            words = shlex.split(segment)
        except ValueError:
            continue
        if words and not words[-1].startswith("-"):
            last = words[-1].strip("/")
            return "" if last in (".", "") else last
    return posixpath.dirname(build.spec.path)


def _made_files(build: BuildInput, commands: list[str], outcome: BuildOutcome) -> dict[str, bytes]:
    """The files the commands write that are not in the source."""
    made: dict[str, bytes] = {}
    text = "\n".join(commands)
    if outcome.image_uri and IMAGE_DETAIL in text:
        # printf '{"ImageURI":"%s"}' "${IMAGE_REPOSITORY_URI}:${IMAGE_TAG}" > imageDetail.json
        made[IMAGE_DETAIL] = json.dumps(
            {"ImageURI": outcome.image_uri}, separators=(",", ":")
        ).encode()
    for path, data in build.source.items():
        if posixpath.basename(path) != "taskdef.json":
            continue
        source = data.decode("utf-8", errors="replace")
        if names.TASK_ROLE_PLACEHOLDER in source and "sed" in text and "taskdef" in text:
            from bluegreen.appkit import render_taskdef

            made[path] = render_taskdef(source, build.env).encode()
    return made
