"""Builds played, not invented: the buildspec's commands run for real, ``aws`` and
``docker`` act on the emulated AWS as the project's service role, the artifacts are the
files the commands wrote.

Sources, each cited where it is used:
- CodeBuild user guide, "Build specification reference" (build-spec-ref.html): phases,
  ``finally``, ``on-failure``, ``env`` (``shell``, ``variables``, ``parameter-store``,
  ``exported-variables``), ``artifacts``; Buildspec versions: "In version 0.2, AWS
  CodeBuild runs all build commands in the same instance of the default shell";
- "Build phase transitions" (view-build-details-phases.html): a failed INSTALL or
  PRE_BUILD ends the build, "The UPLOAD_ARTIFACTS phase is always attempted, even if the
  BUILD phase fails";
- "Environment variables in build environments" (build-env-ref-env-vars.html): the
  variables CodeBuild sets (no AWS_ACCOUNT_ID among them);
- CodeBuild's log texts users report: "Error while executing command: <cmd>. Reason:
  exit status N" (awslabs/aws-deployment-framework#471), "no matching artifact paths
  found" (aws-samples/amazon-ecs-fargate-cdk-cicd#13), "Decrypted Variables Error"
  (cloudposse/terraform-aws-cicd#107), the Docker daemon without privileged mode
  (aws/aws-codebuild-docker-images#46);
- the CodeBuild API reference, ProjectEnvironment.privilegedMode; ECR's PutImage errors
  (ImageTagAlreadyExistsException); the AWS CLI's return codes (cli-usage-returncodes).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError
from emulated import Emulated, emulated  # noqa: F401 (the fixture ops builds on)
from emulator_cicd import REGION, T0, commit_files
from operations import (
    deployment,
    deployments,
    ops_fixture,  # noqa: F401 (fixture)
)

from bluegreen.emulator import Emulator, images, timing
from bluegreen.emulator.buildspec import Artifacts, NoArtifacts, collect
from bluegreen.emulator.service import Call, Params, Result, Service, ServiceError, operation
from bluegreen.emulator.standins import shell as shell_module
from bluegreen.emulator.standins.server import Listener, Response

ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
ALLOW_ALL = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["ecr:*", "logs:*", "s3:*", "ssm:GetParameters", "sts:*"],
            "Resource": "*",
        }
    ],
}


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as emulator:
        yield emulator


# --------------------------------------------------------------------------- helpers


def _role(aws: Emulator) -> str:
    iam = aws.clients().iam
    try:
        return str(iam.get_role(RoleName="played-build")["Role"]["Arn"])
    except ClientError:
        pass
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "codebuild.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn = str(
        iam.create_role(RoleName="played-build", AssumeRolePolicyDocument=json.dumps(trust))[
            "Role"
        ]["Arn"]
    )
    iam.put_role_policy(
        RoleName="played-build", PolicyName="build", PolicyDocument=json.dumps(ALLOW_ALL)
    )
    return arn


_COUNT = [0]


def _play(
    aws: Emulator,
    spec: str | dict[str, Any],
    files: Mapping[str, str | bytes] | None = None,
    *,
    privileged: bool = True,
    variables: dict[str, str] | None = None,
    timeout_minutes: int = 60,
) -> dict[str, Any]:
    """Run one build of ``spec`` over a repository holding ``files``; the finished build."""
    clients = aws.clients()
    _COUNT[0] += 1
    name = f"played-{_COUNT[0]}"
    text = spec if isinstance(spec, str) else yaml.safe_dump(spec, sort_keys=False)
    tree = {"buildspec.yml": text.encode()}
    for path, content in (files or {}).items():
        tree[path] = content.encode() if isinstance(content, str) else content
    clients.codecommit.create_repository(repositoryName=name)
    commit_files(aws, name, "main", tree, "Initial commit")
    environment: dict[str, Any] = {
        "type": "LINUX_CONTAINER",
        "image": "aws/codebuild/standard:7.0",
        "computeType": "BUILD_GENERAL1_SMALL",
        "privilegedMode": privileged,
        "environmentVariables": [{"name": k, "value": v} for k, v in (variables or {}).items()],
    }
    clients.codebuild.create_project(
        name=name,
        source={
            "type": "CODECOMMIT",
            "location": f"https://git-codecommit.{REGION}.amazonaws.com/v1/repos/{name}",
        },
        artifacts={"type": "NO_ARTIFACTS"},
        environment=environment,
        serviceRole=_role(aws),
        timeoutInMinutes=timeout_minutes,
    )
    build_id = clients.codebuild.start_build(projectName=name, sourceVersion="main")["build"]["id"]
    return _settle(aws, build_id)


def _settle(aws: Emulator, build_id: str) -> dict[str, Any]:
    codebuild = aws.clients().codebuild
    for _ in range(200):
        build: dict[str, Any] = codebuild.batch_get_builds(ids=[build_id])["builds"][0]
        if build["buildComplete"]:
            return build
        aws.sleep(30)
    raise AssertionError("the build never ended")


def _phases(build: dict[str, Any]) -> list[tuple[str, str]]:
    return [(p["phaseType"], p.get("phaseStatus", "")) for p in build["phases"]]


def _context(build: dict[str, Any], phase: str) -> dict[str, str]:
    found = next(p for p in build["phases"] if p["phaseType"] == phase)
    context: dict[str, str] = found["contexts"][0]
    return context


def _log(aws: Emulator, build: dict[str, Any]) -> list[str]:
    logs = build["logs"]
    events = aws.clients().logs.get_log_events(
        logGroupName=logs["groupName"], logStreamName=logs["streamName"]
    )["events"]
    return [e["message"] for e in events]


def _output(lines: list[str]) -> list[str]:
    """The commands' own output lines (CodeBuild's lines start with [Container])."""
    return [line for line in lines if not line.startswith("[Container] ")]


def _spec(phases: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"version": 0.2, **extra, "phases": phases}


def _pids_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        # A zombie is dead (not reaped yet by whoever is its parent now).
        status = Path(f"/proc/{pid}/status")
        if status.exists() and "State:\tZ" in status.read_text():
            continue
        alive.append(pid)
    return alive


DOCKERFILE = """FROM python:3.12-slim AS builder
WORKDIR /build
COPY requirements.txt .
RUN pip wheel -r requirements.txt --wheel-dir /wheels

FROM python:3.12-slim
ENV PORT=8080 \\
    MODE=prod
WORKDIR /srv
COPY --from=builder /wheels /wheels
COPY app ./app
COPY conf/extra.conf /etc/extra.conf
EXPOSE 8080
USER 10001
CMD ["python", "-m", "app"]
"""
APP = {
    "site/Dockerfile": DOCKERFILE,
    "site/requirements.txt": "flask==3.0.0\n",
    "site/app/__init__.py": "# the app\n",
    "site/app/__main__.py": "print('hello')\n",
    "site/conf/extra.conf": "[SERVICE]\n",
    "site/tests/test_x.py": "def test(): pass\n",
    "site/.dockerignore": "tests/\n",
}
LOGIN = (
    'aws ecr get-login-password --region "$AWS_REGION" | '
    f"docker login --username AWS --password-stdin {REGISTRY}"
)


def _repository(aws: Emulator, name: str = "site", mutability: str = "IMMUTABLE") -> str:
    uri: str = aws.clients().ecr.create_repository(
        repositoryName=name, imageTagMutability=mutability
    )["repository"]["repositoryUri"]
    return uri


def _tags(aws: Emulator, repository: str = "site") -> list[str]:
    found = aws.clients().ecr.list_images(repositoryName=repository)["imageIds"]
    return sorted(i["imageTag"] for i in found if "imageTag" in i)


# =========================================================================== the shell


def test_a_failing_command_fails_its_phase_with_codebuilds_message(aws: Emulator) -> None:
    build = _play(
        aws,
        _spec(
            {
                "pre_build": {"commands": ["echo before", "cat /no/such/file", "echo never"]},
                "build": {"commands": ["echo not reached"]},
            }
        ),
    )
    assert build["buildStatus"] == "FAILED"
    # A failed PRE_BUILD ends the build: no BUILD, POST_BUILD nor UPLOAD_ARTIFACTS
    # ("Build phase transitions").
    assert _phases(build)[4:] == [
        ("INSTALL", "SUCCEEDED"),
        ("PRE_BUILD", "FAILED"),
        ("FINALIZING", "SUCCEEDED"),
        ("COMPLETED", ""),
    ]
    assert _context(build, "PRE_BUILD") == {
        "statusCode": "COMMAND_EXECUTION_ERROR",
        "message": "Error while executing command: cat /no/such/file. Reason: exit status 1",
    }
    lines = _log(aws, build)
    assert "before" in _output(lines) and "never" not in _output(lines)
    assert any("No such file or directory" in line for line in _output(lines))
    assert any(
        line.endswith("Command did not exit successfully cat /no/such/file exit status 1")
        for line in lines
    )


def test_phase_transitions_after_a_failure(aws: Emulator) -> None:
    # Without on-failure: a failed BUILD goes on to POST_BUILD (where
    # CODEBUILD_BUILD_SUCCEEDING is 0), then UPLOAD_ARTIFACTS is attempted.
    build = _play(
        aws,
        _spec(
            {
                "build": {"commands": ['echo "succeeding=$CODEBUILD_BUILD_SUCCEEDING"', "exit 3"]},
                "post_build": {
                    "commands": ['echo "after: succeeding=$CODEBUILD_BUILD_SUCCEEDING" > out.txt']
                },
            },
            artifacts={"files": ["out.txt"]},
        ),
    )
    assert _phases(build)[6:] == [
        ("BUILD", "FAILED"),
        ("POST_BUILD", "SUCCEEDED"),
        ("UPLOAD_ARTIFACTS", "SUCCEEDED"),
        ("FINALIZING", "SUCCEEDED"),
        ("COMPLETED", ""),
    ]
    assert build["buildStatus"] == "FAILED"
    assert _context(build, "BUILD")["message"] == (
        "Error while executing command: exit 3. Reason: exit status 3"
    )
    assert "succeeding=1" in _output(_log(aws, build))
    # An INSTALL failure ends the build at once.
    build = _play(aws, _spec({"install": {"commands": ["false"]}, "build": {"commands": ["true"]}}))
    assert [p for p, _ in _phases(build)][4:] == ["INSTALL", "FINALIZING", "COMPLETED"]


def test_on_failure_abort_continue_and_finally(aws: Emulator) -> None:
    build = _play(
        aws,
        _spec(
            {
                "install": {
                    "on-failure": "CONTINUE",
                    "commands": ["false", "echo skipped"],
                    "finally": ['echo "finally runs: $CODEBUILD_BUILD_SUCCEEDING"'],
                },
                "pre_build": {"commands": ['echo "pre_build runs: $CODEBUILD_BUILD_SUCCEEDING"']},
                "build": {"on-failure": "ABORT", "commands": ["false"]},
                "post_build": {"commands": ["echo not reached"]},
            }
        ),
    )
    assert _phases(build)[4:] == [
        ("INSTALL", "FAILED"),
        ("PRE_BUILD", "SUCCEEDED"),
        ("BUILD", "FAILED"),
        ("FINALIZING", "SUCCEEDED"),  # ABORT: no POST_BUILD, no UPLOAD_ARTIFACTS
        ("COMPLETED", ""),
    ]
    output = _output(_log(aws, build))
    assert output == ["finally runs: 1", "pre_build runs: 0"]
    # A failing finally command fails a phase whose commands succeeded.
    build = _play(aws, _spec({"build": {"commands": ["true"], "finally": ["exit 4"]}}))
    assert _context(build, "BUILD")["message"] == (
        "Error while executing command: exit 4. Reason: exit status 4"
    )


def test_commands_share_one_shell_session_across_phases(aws: Emulator) -> None:
    build = _play(
        aws,
        _spec(
            {
                "install": {
                    "commands": [
                        "TAG=abc123",  # not exported: still there in the next phases
                        'greet() { echo "hello $1"; }',
                        "mkdir -p sub/dir && cd sub",
                    ]
                },
                "pre_build": {"commands": ["greet world", 'echo "tag=$TAG in $(basename $PWD)"']},
                "build": {
                    "commands": ["export LATER=1; exit 0", 'echo "still here: $LATER"'],
                },
            },
            env={"shell": "bash"},
        ),
    )
    assert build["buildStatus"] == "SUCCEEDED"
    assert _output(_log(aws, build)) == ["hello world", "tag=abc123 in sub", "still here: 1"]


def test_buildspec_version_0_1_runs_each_command_in_its_own_shell(aws: Emulator) -> None:
    # "In version 0.1, AWS CodeBuild runs each build command in a separate instance of the
    # default shell" (buildspec reference, Buildspec versions).
    build = _play(
        aws,
        {
            "version": 0.1,
            "phases": {
                "build": {
                    "commands": [
                        "mkdir -p sub && cd sub",
                        "basename $PWD",
                        "X=1",
                        'echo "${X-unset}"',
                    ]
                }
            },
        },
    )
    assert _output(_log(aws, build)) == ["src", "unset"]


def test_the_build_environment_is_codebuilds(aws: Emulator) -> None:
    names = [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "CODEBUILD_BUILD_ID",
        "CODEBUILD_BUILD_ARN",
        "CODEBUILD_BUILD_NUMBER",
        "CODEBUILD_BUILD_SUCCEEDING",
        "CODEBUILD_INITIATOR",
        "CODEBUILD_RESOLVED_SOURCE_VERSION",
        "CODEBUILD_SRC_DIR",
        "FROM_PROJECT",
        "FROM_SPEC",
        "BOTH",
    ]
    commands = [f'echo "{n}=${{{n}-unset}}"' for n in names]
    commands += [
        'echo "AWS_ACCOUNT_ID=${AWS_ACCOUNT_ID-unset}"',
        'test "$PWD" = "$CODEBUILD_SRC_DIR" && echo "starts in CODEBUILD_SRC_DIR"',
        'test -d "$HOME" && echo "HOME exists"',
        'echo "$0"',
    ]
    build = _play(
        aws,
        _spec(
            {"build": {"commands": commands}},
            env={"variables": {"FROM_SPEC": "spec", "BOTH": "from the buildspec"}},
        ),
        variables={"FROM_PROJECT": "project", "BOTH": "from the project"},
    )
    values = dict(line.split("=", 1) for line in _output(_log(aws, build)) if "=" in line)
    assert values["AWS_REGION"] == values["AWS_DEFAULT_REGION"] == REGION
    assert values["CODEBUILD_BUILD_ID"] == build["id"]
    assert values["CODEBUILD_BUILD_ARN"] == build["arn"]
    assert values["CODEBUILD_BUILD_NUMBER"] == "1"
    assert values["CODEBUILD_BUILD_SUCCEEDING"] == "1"
    assert values["CODEBUILD_INITIATOR"] == "bluegreen-operator"
    assert values["CODEBUILD_RESOLVED_SOURCE_VERSION"] == build["resolvedSourceVersion"]
    assert Path(values["CODEBUILD_SRC_DIR"]).name == "src"
    # The project's value wins over the buildspec's (buildspec reference, env/variables).
    assert (values["FROM_PROJECT"], values["FROM_SPEC"], values["BOTH"]) == (
        "project",
        "spec",
        "from the project",
    )
    # CodeBuild sets no AWS_ACCOUNT_ID ("Environment variables in build environments").
    assert values["AWS_ACCOUNT_ID"] == "unset"
    output = _output(_log(aws, build))
    assert "starts in CODEBUILD_SRC_DIR" in output and "HOME exists" in output
    # The default shell is sh; bash when the buildspec's env/shell says so.
    assert output[-1] == "/bin/sh"
    build = _play(aws, _spec({"build": {"commands": ['echo "$0"']}}, env={"shell": "bash"}))
    assert _output(_log(aws, build))[-1].endswith("bash")


def test_a_command_over_its_time_is_stopped_and_nothing_outlives_the_build(
    aws: Emulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    pids = tmp_path / "pids"
    monkeypatch.setattr(shell_module, "COMMAND_TIMEOUT", 1.0)
    build = _play(
        aws,
        _spec(
            {
                # /bin/sleep, not the build's `sleep` (which waits on the emulator's
                # clock, tests/test_builds_sleep.py): real processes that take real time.
                "install": {
                    "commands": [f"nohup /bin/sleep 300 >/dev/null 2>&1 & echo $! >> {pids}"]
                },
                "build": {"commands": [f"echo $$ >> {pids}; /bin/sleep 30"]},
            }
        ),
    )
    assert _context(build, "BUILD") == {
        "statusCode": "COMMAND_EXECUTION_ERROR",
        "message": (
            f"Error while executing command: echo $$ >> {pids}; /bin/sleep 30. Reason: the "
            "emulator "
            "stopped it after its limit of real time (1 s)"
        ),
    }
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 2
    deadline = time.monotonic() + 5
    while _pids_alive(started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pids_alive(started) == []
    assert not (aws.work_dir / "codebuild").exists() or not any(
        (aws.work_dir / "codebuild").iterdir()
    )


def test_stopping_the_emulator_ends_a_build_in_progress(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:
        clients = aws.clients()
        clients.codebuild.create_project(
            name="long",
            source={
                "type": "NO_SOURCE",
                "buildspec": yaml.safe_dump(
                    _spec(
                        {
                            # The real sleep, not the clock's stand-in: a background
                            # stand-in that parks after its command ended is answered at
                            # once (a race under load); this test is about the kill.
                            "install": {"commands": [f"/bin/sleep 300 & echo $! > {pids}"]},
                            "build": {"commands": ["true"]},
                        }
                    )
                ),
            },
            artifacts={"type": "NO_ARTIFACTS"},
            environment={
                "type": "LINUX_CONTAINER",
                "image": "aws/codebuild/standard:7.0",
                "computeType": "BUILD_GENERAL1_SMALL",
            },
            serviceRole=_role(aws),
        )
        build = clients.codebuild.start_build(projectName="long")["build"]
        # Past INSTALL, one second into BUILD (which runs no docker build or push, so it
        # takes BUILD_WITHOUT_IMAGE): the background sleep runs.
        phases = timing.BUILD_PHASES
        aws.sleep(
            sum(phases[p] for p in ("QUEUED", "PROVISIONING", "DOWNLOAD_SOURCE", "INSTALL"))
            + phases["PRE_BUILD"]
            + 1
        )
        current = clients.codebuild.batch_get_builds(ids=[build["id"]])["builds"][0]
        assert (current["currentPhase"], current["buildComplete"]) == ("BUILD", False)
        started = [int(pids.read_text())]
        assert _pids_alive(started) == started
    deadline = time.monotonic() + 5
    while _pids_alive(started) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _pids_alive(started) == []


def test_exported_variables_and_parameter_store(aws: Emulator) -> None:
    aws.clients().ssm.put_parameter(Name="/app/greeting", Value="hello", Type="SecureString")
    build = _play(
        aws,
        _spec(
            {"build": {"commands": ['echo "greeting=$GREETING"', "RELEASE=r-$GREETING"]}},
            env={
                "parameter-store": {"GREETING": "/app/greeting"},
                "exported-variables": ["RELEASE", "GREETING"],
            },
        ),
    )
    assert "greeting=hello" in _output(_log(aws, build))
    assert build["exportedEnvironmentVariables"] == [
        {"name": "RELEASE", "value": "r-hello"},
        {"name": "GREETING", "value": "hello"},
    ]
    # A parameter that does not exist fails DOWNLOAD_SOURCE (the CodeBuild log text in
    # cloudposse/terraform-aws-cicd#107).
    build = _play(
        aws,
        _spec({"build": {"commands": ["true"]}}, env={"parameter-store": {"X": "/no/such"}}),
    )
    assert [p for p, s in _phases(build) if s == "FAILED"] == ["DOWNLOAD_SOURCE"]
    assert _context(build, "DOWNLOAD_SOURCE") == {
        "statusCode": "Decrypted Variables Error",
        "message": "parameter does not exist: /no/such",
    }


# =========================================================================== artifacts


def test_artifacts_are_the_files_the_commands_wrote(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for path in ("dist/app.js", "dist/assets/logo.png", "dist/notes.md", "README.md"):
        (src / path).parent.mkdir(parents=True, exist_ok=True)
        (src / path).write_text(path)
    (src / "dist/run.sh").write_text("#!/bin/sh\n")
    (src / "dist/run.sh").chmod(0o755)
    lines: list[str] = []
    files, modes = collect(
        src,
        Artifacts(files=("**/*",), base_directory="dist", exclude_paths=("*.md",)),
        lines.append,
    )
    assert sorted(files) == ["app.js", "assets/logo.png", "run.sh"]
    assert modes["run.sh"] == 0o755
    files, _ = collect(src, Artifacts(files=("dist/assets/*", "nothing.txt")), lines.append)
    assert list(files) == ["dist/assets/logo.png"]
    assert "Skipping invalid file path nothing.txt" in lines  # one missing path is skipped
    files, _ = collect(src, Artifacts(files=("dist/**/*.png",), discard_paths=True), lines.append)
    assert list(files) == ["logo.png"]
    with pytest.raises(NoArtifacts, match="no matching artifact paths found"):
        collect(src, Artifacts(files=("nothing.txt",)), lines.append)


def test_no_matching_artifact_fails_upload_artifacts(aws: Emulator) -> None:
    build = _play(
        aws,
        _spec({"build": {"commands": ["echo hi > made.txt"]}}, artifacts={"files": ["out.txt"]}),
    )
    assert _context(build, "UPLOAD_ARTIFACTS") == {
        "statusCode": "CLIENT_ERROR",
        "message": "no matching artifact paths found",
    }
    assert "[Container]" in _log(aws, build)[-5] and any(
        line.endswith("Skipping invalid file path out.txt") for line in _log(aws, build)
    )


# =========================================================================== docker


def test_docker_builds_and_pushes_exactly_the_tags_pushed(aws: Emulator) -> None:
    uri = _repository(aws)
    build = _play(
        aws,
        _spec(
            {
                "pre_build": {"commands": [LOGIN]},
                "build": {
                    "commands": [
                        f"docker build -t {uri}:one -t {uri}:two site",
                        f"docker tag {uri}:one {uri}:three",
                        f"docker push {uri}:one",
                        f"docker push {uri}:three",
                    ]
                },
            }
        ),
        APP,
    )
    assert build["buildStatus"] == "SUCCEEDED", _log(aws, build)
    assert _tags(aws) == ["one", "three"]  # :two was built, never pushed
    described = aws.clients().ecr.describe_images(repositoryName="site")["imageDetails"]
    assert len(described) == 1  # one image, two tags: the digest is the content's
    # What the image holds, for whoever runs it: the context after .dockerignore, and
    # the final stage's config and the files it copies.
    assert "tests/test_x.py" not in aws.images[f"{uri}:one"]
    assert aws.images[f"{uri}:one"]["app/__main__.py"] == b"print('hello')\n"
    config = images.config(aws, f"{uri}:one")
    assert config is not None
    assert (config.workdir, config.cmd, config.exposed_ports, config.user) == (
        "/srv",
        ("python", "-m", "app"),
        ("8080/tcp",),
        "10001",
    )
    assert config.env == {"PORT": "8080", "MODE": "prod"}
    assert sorted(config.files) == [
        "/etc/extra.conf",
        "/srv/app/__init__.py",
        "/srv/app/__main__.py",
    ]
    assert config.digest == described[0]["imageDigest"]
    assert images.config(aws, f"{uri}@{config.digest}") == config


def test_docker_refusals_name_their_cause(aws: Emulator) -> None:
    uri = _repository(aws)
    cases = {
        "no Dockerfile": (
            f"docker build -t {uri}:x site/app",
            "ERROR: failed to solve: failed to read dockerfile: open Dockerfile: no such file "
            "or directory",
        ),
        "no context": (
            f"docker build -t {uri}:x nowhere",
            'ERROR: unable to prepare context: path "nowhere" not found',
        ),
        "push before login": (
            f"docker build -t {uri}:x site && docker push {uri}:x",
            "no basic auth credentials",
        ),
        "login with another password": (
            f"echo wrong | docker login -u AWS --password-stdin {REGISTRY}",
            f"Error response from daemon: login attempt to https://{REGISTRY}/v2/ failed with "
            "status: 401 Unauthorized",
        ),
        "login to another account's registry": (
            "aws ecr get-login-password | docker login -u AWS --password-stdin "
            f"210987654321.dkr.ecr.{REGION}.amazonaws.com",
            f"Error response from daemon: login attempt to https://210987654321.dkr.ecr.{REGION}"
            ".amazonaws.com/v2/ failed with status: 401 Unauthorized",
        ),
    }
    for name, (command, error) in cases.items():
        build = _play(aws, _spec({"build": {"commands": [command]}}), APP)
        assert _context(build, "BUILD") == {
            "statusCode": "COMMAND_EXECUTION_ERROR",
            "message": f"Error while executing command: {command}. Reason: exit status 1",
        }, name
        assert error in _output(_log(aws, build)), (name, _output(_log(aws, build)))
    assert _tags(aws) == []


@pytest.mark.parametrize(
    ("dockerfile", "error"),
    [
        (
            DOCKERFILE.replace("COPY app ./app", "COPY application ./app"),
            "ERROR: failed to solve: failed to compute cache key: failed to calculate checksum "
            'of ref {ref}: "/application": not found',
        ),
        (
            DOCKERFILE.replace("COPY app ./app", "COPY tests ./tests"),  # .dockerignore'd
            "ERROR: failed to solve: failed to compute cache key: failed to calculate checksum "
            'of ref {ref}: "/tests": not found',
        ),
        ("RUN echo no base\n", "ERROR: failed to solve: no build stage in current context"),
        (
            "FROM python:3.12-slim\nCOPPY app /app\n",
            "ERROR: failed to solve: dockerfile parse error on line 2: unknown instruction: COPPY",
        ),
        ("# only a comment\n", "ERROR: failed to solve: file with no instructions"),
    ],
)
def test_a_dockerfile_buildkit_refuses_fails_the_build(
    aws: Emulator, dockerfile: str, error: str
) -> None:
    uri = _repository(aws)
    files = {**APP, "site/Dockerfile": dockerfile}
    build = _play(aws, _spec({"build": {"commands": [f"docker build -t {uri}:x site"]}}), files)
    assert build["buildStatus"] == "FAILED"
    output = _output(_log(aws, build))
    if "{ref}" in error:
        prefix, suffix = error.split("{ref}")
        assert any(line.startswith(prefix) and line.endswith(suffix) for line in output), output
    else:
        assert error in output, output


def test_without_privileged_mode_there_is_no_docker_daemon(aws: Emulator) -> None:
    uri = _repository(aws)
    build = _play(
        aws,
        _spec({"pre_build": {"commands": [LOGIN]}, "build": {"commands": ["true"]}}),
        APP,
        privileged=False,
    )
    assert _context(build, "PRE_BUILD") == {
        "statusCode": "COMMAND_EXECUTION_ERROR",
        "message": f"Error while executing command: {LOGIN}. Reason: exit status 1",
    }
    # The text the Docker CLI prints in CodeBuild without privileged mode
    # (aws/aws-codebuild-docker-images#46).
    assert (
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
        "daemon running?"
    ) in _output(_log(aws, build))
    assert uri and _tags(aws) == []


def test_an_immutable_tag_is_never_overwritten(aws: Emulator) -> None:
    uri = _repository(aws)
    first = _play(
        aws,
        _spec(
            {
                "build": {
                    "commands": [LOGIN, f"docker build -t {uri}:v1 site", f"docker push {uri}:v1"]
                }
            }
        ),
        APP,
    )
    assert first["buildStatus"] == "SUCCEEDED"
    changed = {**APP, "site/app/__main__.py": "print('changed')\n"}
    second = _play(
        aws,
        _spec(
            {
                "build": {
                    "commands": [LOGIN, f"docker build -t {uri}:v1 site", f"docker push {uri}:v1"]
                }
            }
        ),
        changed,
    )
    assert second["buildStatus"] == "FAILED"
    # What docker push prints for it (aws/containers-roadmap#862).
    assert (
        "tag invalid: The image tag 'v1' already exists in the 'site' repository and cannot be "
        "overwritten because the repository is immutable."
    ) in _output(_log(aws, second))
    assert aws.images[f"{uri}:v1"]["app/__main__.py"] == b"print('hello')\n"
    # The same image again is no change: the push succeeds.
    third = _play(
        aws,
        _spec(
            {
                "build": {
                    "commands": [LOGIN, f"docker build -t {uri}:v1 site", f"docker push {uri}:v1"]
                }
            }
        ),
        APP,
    )
    assert third["buildStatus"] == "SUCCEEDED"
    assert _tags(aws) == ["v1"]


def test_ecr_put_image_refuses_an_immutable_tag_as_ecr_does(aws: Emulator) -> None:
    # ECR API reference, PutImage: ImageTagAlreadyExistsException "The specified image is
    # tagged with a tag that already exists. The repository is configured for tag
    # immutability." (moto raises ImageAlreadyExistsException: getmoto/moto#8717.)
    _repository(aws, "fixed")
    _repository(aws, "moving", "MUTABLE")
    ecr = aws.clients().ecr

    def manifest(n: int) -> str:
        return json.dumps(
            {
                "schemaVersion": 2,
                "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"digest": f"sha256:{n:064x}", "size": 1},
                "layers": [],
            }
        )

    for repository in ("fixed", "moving"):
        ecr.put_image(repositoryName=repository, imageManifest=manifest(1), imageTag="v1")
    with pytest.raises(ClientError) as caught:
        ecr.put_image(repositoryName="fixed", imageManifest=manifest(2), imageTag="v1")
    assert caught.value.response["Error"] == {
        "Code": "ImageTagAlreadyExistsException",
        "Message": "The image tag 'v1' already exists in the 'fixed' repository and cannot be "
        "overwritten because the repository is immutable.",
    }
    ecr.put_image(repositoryName="moving", imageManifest=manifest(2), imageTag="v1")
    ecr.put_image(repositoryName="fixed", imageManifest=manifest(2), imageTag="v2")


# =========================================================================== aws


class _Recorder(Service):
    """ECR's DescribeRepositories refused as IAM refuses a role without the permission
    (the AccessDeniedException text of IAM's evaluation: "User: <assumed role> is not
    authorized to perform: <action> on resource: <arn> because no identity-based policy
    allows the <action> action"); every caller recorded."""

    name = "ecr"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.callers: list[tuple[str, str, bool]] = []

    @operation("DescribeRepositories")
    def describe_repositories(self, params: Params, call: Call) -> Result:
        self.callers.append((call.operation, call.principal, call.internal))
        raise ServiceError(
            "AccessDeniedException",
            f"User: {call.principal} is not authorized to perform: ecr:DescribeRepositories "
            f"on resource: arn:aws:ecr:{REGION}:{ACCOUNT}:repository/* because no "
            "identity-based policy allows the ecr:DescribeRepositories action",
        )


def test_aws_calls_the_emulated_aws_as_the_service_role(aws: Emulator) -> None:
    _repository(aws)
    recorder = _Recorder(aws)
    aws.services["ecr"] = recorder
    commands = [
        "aws sts get-caller-identity --query Arn --output text",
        "aws ecr describe-images --repository-name site --image-ids imageTag=none; echo rc=$?",
        "aws ecr list-images --repository-name site --query 'imageIds' --output json",
        "aws ecr describe-repositories --repository-names site",
    ]
    build = _play(aws, _spec({"build": {"commands": commands}}))
    output = _output(_log(aws, build))
    role = _role(aws)
    uid = build["id"].split(":", 1)[1]
    assert output[0] == f"arn:aws:sts::{ACCOUNT}:assumed-role/played-build/AWSCodeBuild-{uid}"
    # A service error: the CLI's text on stderr, exit status 254 (AWS CLI user guide,
    # "Command line return codes").
    assert output[1].strip() == ""  # the CLI's error starts with an empty line
    assert output[2].startswith(
        "An error occurred (ImageNotFoundException) when calling the DescribeImages "
        "operation: The image with imageId"
    )
    assert output[3] == "rc=254"
    assert output[4:5] == ["[]"]
    # The call the role may not make fails the build with IAM's refusal.
    assert recorder.callers == [("DescribeRepositories", role, True)]
    assert _context(build, "BUILD") == {
        "statusCode": "COMMAND_EXECUTION_ERROR",
        "message": (
            "Error while executing command: aws ecr describe-repositories --repository-names "
            "site. Reason: exit status 254"
        ),
    }
    assert f"User: {role} is not authorized to perform: ecr:DescribeRepositories" in output[-1]


def test_aws_reads_the_command_line_as_the_cli_does(aws: Emulator) -> None:
    uri = _repository(aws)
    commands = [
        LOGIN,
        f"docker build -t {uri}:a site && docker push {uri}:a",
        # shorthand list of structures, --query, --output text
        "aws ecr describe-images --repository-name site --image-ids imageTag=a "
        "--query 'imageDetails[0].imageTags' --output text",
        # JSON value, a file:// value, an unknown option, a missing required option
        'aws ecr batch-get-image --repository-name site --image-ids \'[{"imageTag": "a"}]\' '
        "--query 'length(images)'",
        'echo \'{"repositoryName": "site"}\' > input.json; aws ecr list-images '
        "--cli-input-json file://input.json --query 'imageIds[].imageTag' --output text",
        "aws ecr list-images --repository-name site --colour red; echo rc=$?",
        "aws ecr list-images; echo rc=$?",
        "aws ecr list-images --repository-name site --region us-east-1; echo rc=$?",
        "aws s3api create-bucket --bucket played-bucket "
        f"--create-bucket-configuration LocationConstraint={REGION} >/dev/null",
        "echo data > f.txt && aws s3 cp f.txt s3://played-bucket/k/f.txt && "
        "aws s3 cp s3://played-bucket/k/f.txt back.txt && cat back.txt",
        "aws ecr get-login --no-include-email; echo rc=$?",
    ]
    build = _play(aws, _spec({"build": {"commands": commands}}), APP)
    output = [line for line in _output(_log(aws, build)) if not line.startswith(("#", " "))]
    at = output.index("a")  # the tags of the image, in text
    assert output[at + 1] == "1"
    assert output[at + 2] == "a"
    rest = output[at + 3 :]
    assert "aws: error: Unknown options: --colour, red" in rest
    assert "aws: error: the following arguments are required: --repository-name" in rest
    assert rest.count("rc=252") == 3
    assert "the emulated AWS serves ap-northeast-1 only, not 'us-east-1'" in rest
    assert "rc=255" in rest
    assert "upload: f.txt to s3://played-bucket/k/f.txt" in rest
    assert "download: s3://played-bucket/k/f.txt to back.txt" in rest and "data" in rest
    # `get-login` left the CLI with version 2: an invalid choice, exit 252.
    assert "aws: error: argument operation: Invalid choice: 'get-login'" in rest
    assert rest[-1] == "rc=252"


def test_the_python_client_speaks_the_same_protocol(tmp_path: Path) -> None:
    """Where bash has no /dev/tcp, the stand-ins run client.py instead."""
    seen = []

    def handler(request: Any) -> Response:
        seen.append(request)
        response = Response()
        response.out(b"out\0binary")
        response.err("err\n")
        response.status = 7
        return response

    listener = Listener(handler)
    endpoint = tmp_path / "endpoint"
    endpoint.write_text(listener.endpoint_text())
    client = Path(shell_module.__file__).with_name("client.py")
    process = subprocess.Popen(
        [
            sys.executable,
            "-I",
            "-S",
            str(client),
            str(endpoint),
            "docker",
            "login",
            "--password-stdin",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={"HOME": "/nowhere", "AWS_REGION": REGION},
        cwd=tmp_path,
    )
    assert process.stdin is not None
    process.stdin.write(b"secret\n")
    process.stdin.close()
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        listener.serve()
        time.sleep(0.01)
    assert process.stdout is not None and process.stderr is not None
    out, err = process.stdout.read(), process.stderr.read()
    listener.close()
    assert (process.wait(timeout=10), out, err) == (7, b"out\0binary", b"err\n")
    assert seen[0].argv == ["login", "--password-stdin"] and seen[0].stdin == b"secret\n"
    assert seen[0].env["AWS_REGION"] == REGION and seen[0].cwd == str(tmp_path)


def test_a_stand_in_without_the_builds_token_is_refused(tmp_path: Path) -> None:
    listener = Listener(lambda request: Response())
    endpoint = tmp_path / "endpoint"
    endpoint.write_text(f"{listener.port}\nnot-the-token\n")
    client = Path(shell_module.__file__).with_name("client.py")
    process = subprocess.Popen(
        [sys.executable, "-I", "-S", str(client), str(endpoint), "aws", "sts", "x"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={},
    )
    deadline = time.monotonic() + 10
    while process.poll() is None and time.monotonic() < deadline:
        listener.serve()
        time.sleep(0.01)
    out, err = process.communicate(timeout=10)
    listener.close()
    assert process.returncode == 255 and b"refused" in err


# =========================================================================== the pipeline


def _release(ops: Emulated, message: str, files: dict[str, str]) -> dict[str, Any]:
    """Push ``files`` and let the pipeline run that commit to its end; the execution."""
    codepipeline = ops.aws.client("codepipeline")

    def executions() -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = codepipeline.list_pipeline_executions(
            pipelineName="sample3-dev-pipeline"
        )["pipelineExecutionSummaries"]
        return found

    before = len(executions())
    commit = ops.push(message, files)
    ops.until(lambda: len(executions()) > before, step=10)
    ops.until(lambda: executions()[0]["status"] != "InProgress", limit=7200, step=30)
    latest = executions()[0]
    assert latest["sourceRevisions"][0]["revisionId"] == commit
    return latest


def _action_errors(ops: Emulated, execution_id: str) -> dict[str, str]:
    found = ops.aws.client("codepipeline").list_action_executions(
        pipelineName="sample3-dev-pipeline", filter={"pipelineExecutionId": execution_id}
    )["actionExecutionDetails"]
    out = {}
    for action in found:
        result = action.get("output", {}).get("executionResult", {})
        detail = (result.get("errorDetails") or {}).get("message") or result.get(
            "externalExecutionSummary", ""
        )
        out[f"{action['stageName']}/{action['actionName']}"] = f"{action['status']}: {detail}"
    return out


def _artifact(ops: Emulated, build: dict[str, Any]) -> dict[str, bytes]:
    bucket, _, key = build["artifacts"]["location"].removeprefix("arn:aws:s3:::").partition("/")
    body = ops.aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(body)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _builds(ops: Emulated, project: str) -> list[dict[str, Any]]:
    codebuild = ops.aws.client("codebuild")
    ids = codebuild.list_builds_for_project(projectName=project)["ids"]
    found: list[dict[str, Any]] = codebuild.batch_get_builds(ids=ids)["builds"]
    return found


def test_the_scaffold_builds_push_exactly_the_content_tags(ops: Emulated) -> None:
    deployed = ops.cli("deploy", "--yes")
    assert deployed.code == 0, deployed.err
    app, router = (
        _builds(ops, "sample3-dev-webapp-build"),
        _builds(ops, "sample3-dev-log-router-build"),
    )
    assert [b["buildStatus"] for b in app + router] == ["SUCCEEDED", "SUCCEEDED"]
    exported = [
        {v["name"]: v["value"] for v in b["exportedEnvironmentVariables"]} for b in app + router
    ]
    assert [e["IMAGE_BUILT"] for e in exported] == ["yes", "yes"]
    app_tag, router_tag = (e["IMAGE_TAG"] for e in exported)
    ecr = ops.aws.client("ecr")
    for repository, tag in (
        ("sample3-dev-webapp", app_tag),
        ("sample3-dev-log-router", router_tag),
    ):
        tags = [i.get("imageTag") for i in ecr.list_images(repositoryName=repository)["imageIds"]]
        assert tags == [tag], repository  # exactly the tag the buildspec pushes
    # The Deploy action's inputs are the files the buildspec wrote: imageDetail.json by
    # printf, taskdef.json by sed (the stacks' roles and region filled in).
    output = _artifact(ops, app[0])
    assert sorted(output) == ["appspec.yml", "imageDetail.json", "taskdef.json"]
    uri = f"{REGISTRY}/sample3-dev-webapp:{app_tag}"
    assert json.loads(output["imageDetail.json"]) == {"ImageURI": uri}
    taskdef = output["taskdef.json"].decode()
    assert "<TASK_ROLE_ARN>" not in taskdef and "<AWS_REGION>" not in taskdef
    assert "<IMAGE1_NAME>" in taskdef  # left for the Deploy action
    assert json.loads(_artifact(ops, router[0])["imageDetail.json"]) == {
        "ImageURI": f"{REGISTRY}/sample3-dev-log-router:{router_tag}"
    }
    config = images.config(ops.aws, uri)
    assert config is not None and config.cmd == ("python", "-m", "app")
    assert "/srv/app/main.py" in config.files
    router_config = images.config(ops.aws, f"{REGISTRY}/sample3-dev-log-router:{router_tag}")
    assert router_config is not None and "/fluent-bit/etc/extra.conf" in router_config.files


def test_a_pushed_tag_the_image_detail_does_not_name_fails_the_release_at_deploy(
    ops: Emulated,
) -> None:
    assert ops.cli("deploy", "--yes").code == 0
    ops.adopt_first_commit()

    spec = (ops.root / "webapp/buildspec.yml").read_text()
    wrong = spec.replace(
        """printf '{"ImageURI":"%s"}' "${IMAGE_REPOSITORY_URI}:${IMAGE_TAG}" > imageDetail.json""",
        """printf '{"ImageURI":"%s"}' "${IMAGE_REPOSITORY_URI}:latest" > imageDetail.json""",
    )
    assert wrong != spec
    count = len(deployments(ops))
    latest = _release(ops, "Name the wrong tag", {"webapp/buildspec.yml": wrong})
    errors = _action_errors(ops, latest["pipelineExecutionId"])
    # The build succeeds: it pushed its tag and wrote what it was told to.
    assert errors["Build/BuildApp"].startswith("Succeeded")
    assert latest["status"] == "Failed"
    # ... and the release fails later, at Deploy: the green tasks cannot pull the image
    # imageDetail.json names (ECS's CannotPullContainerError), CodeDeploy's Install times
    # out and the deployment fails, rolled back by a new deployment; production stays.
    failed_id, rollback_id = (d["deploymentId"] for d in deployments(ops)[count:])
    failed = deployment(ops, failed_id)
    assert failed["status"] == "Failed"
    assert failed["errorInformation"]["code"] == "ECS_UPDATE_ERROR"
    assert failed["rollbackInfo"]["rollbackDeploymentId"] == rollback_id
    ecs = ops.aws.client("ecs")
    stopped = ecs.list_tasks(cluster="sample3-dev-cluster", desiredStatus="STOPPED")["taskArns"]
    reasons = {
        str(task.get("stoppedReason"))
        for task in ecs.describe_tasks(cluster="sample3-dev-cluster", tasks=stopped)["tasks"]
    }
    image = f"{REGISTRY}/sample3-dev-webapp:latest"
    assert (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
        f"resolve ref {image}: {image}: not found"
    ) in reasons


def test_each_way_of_breaking_the_app_build_fails_the_release_with_its_cause(
    ops: Emulated,
) -> None:
    assert ops.cli("deploy", "--yes").code == 0
    ops.adopt_first_commit()
    count = len(deployments(ops))
    ecr = ops.aws.client("ecr")
    dockerfile = (ops.root / "webapp/Dockerfile").read_text()
    spec_text = (ops.root / "webapp/buildspec.yml").read_text()

    # 1. A COPY source that is not in the build context: docker build fails in BUILD.
    broken = dockerfile.replace("COPY app ./app", "COPY application ./app")
    latest = _release(ops, "Copy what is not there", {"webapp/Dockerfile": broken})
    assert latest["status"] == "Failed"
    assert _action_errors(ops, latest["pipelineExecutionId"])["Build/BuildApp"].startswith("Failed")
    build = _builds(ops, "sample3-dev-webapp-build")[0]
    docker_build = next(
        c for c in yaml.safe_load(spec_text)["phases"]["build"]["commands"] if "docker build" in c
    )
    assert _context(build, "BUILD") == {
        "statusCode": "COMMAND_EXECUTION_ERROR",
        "message": f"Error while executing command: {docker_build}. Reason: exit status 1",
    }
    assert any('"/application": not found' in line for line in _output(_log(ops.aws, build)))
    assert len(ecr.list_images(repositoryName="sample3-dev-webapp")["imageIds"]) == 1

    # 2. A listed artifact the buildspec no longer writes: skipped, the build succeeds
    # without it, and the Deploy action finds no image definition.
    spec = yaml.safe_load(spec_text)
    post_build = spec["phases"]["post_build"]["commands"]
    spec["phases"]["post_build"]["commands"] = [c for c in post_build if "imageDetail" not in c]
    latest = _release(
        ops,
        "Forget imageDetail.json",
        {"webapp/Dockerfile": dockerfile, "webapp/buildspec.yml": yaml.safe_dump(spec)},
    )
    assert latest["status"] == "Failed"
    build = _builds(ops, "sample3-dev-webapp-build")[0]
    assert build["buildStatus"] == "SUCCEEDED"
    assert any(
        line.endswith("Skipping invalid file path imageDetail.json")
        for line in _log(ops.aws, build)
    )
    assert sorted(_artifact(ops, build)) == ["appspec.yml", "taskdef.json"]
    errors = _action_errors(ops, latest["pipelineExecutionId"])
    assert errors["Deploy/Deploy"] == (
        "Failed: The image definition file imageDetail.json does not exist in artifact "
        "AppBuildOutput"
    )

    # 3. No privileged mode: no Docker daemon, the ECR login fails in PRE_BUILD.
    codebuild = ops.aws.client("codebuild")
    project = codebuild.batch_get_projects(names=["sample3-dev-webapp-build"])["projects"][0]
    environment = dict(project["environment"], privilegedMode=False)
    codebuild.update_project(name="sample3-dev-webapp-build", environment=environment)
    latest = _release(ops, "Build without privileges", {"webapp/buildspec.yml": spec_text})
    assert latest["status"] == "Failed"
    build = _builds(ops, "sample3-dev-webapp-build")[0]
    assert [p for p, s in _phases(build) if s == "FAILED"] == ["PRE_BUILD"]
    assert "docker login" in _context(build, "PRE_BUILD")["message"]
    assert (
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker "
        "daemon running?"
    ) in _output(_log(ops.aws, build))
    assert len(deployments(ops)) == count  # nothing was ever deployed: production stays


def _enforced(aws: Emulator) -> bool:
    """Whether the emulator evaluates a role's policies on the calls made as it (issue 9
    item 4, another helper's work): a role without any policy is refused."""
    iam = aws.clients().iam
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "codebuild.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    arn = iam.create_role(RoleName="no-permissions", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    try:
        aws.client("ecr", principal=arn, internal=True).describe_repositories()
    except ClientError:
        return True
    return False


def test_an_aws_call_the_build_role_may_not_make_fails_the_build(ops: Emulated) -> None:
    assert ops.cli("deploy", "--yes").code == 0
    if not _enforced(ops.aws):
        pytest.skip("the emulator does not evaluate role policies on internal calls yet")
    ops.adopt_first_commit()
    iam = ops.aws.client("iam")
    role = next(r["RoleName"] for r in iam.list_roles()["Roles"] if "AppBuildRole" in r["RoleName"])
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        document["Statement"] = [
            s for s in document["Statement"] if "ecr:GetAuthorizationToken" not in str(s)
        ]
        iam.put_role_policy(RoleName=role, PolicyName=name, PolicyDocument=json.dumps(document))
    main = (ops.root / "webapp/app/main.py").read_text()
    latest = _release(ops, "Change the app", {"webapp/app/main.py": main + "\n# changed\n"})
    assert latest["status"] == "Failed"
    build = _builds(ops, "sample3-dev-webapp-build")[0]
    assert [p for p, s in _phases(build) if s == "FAILED"] == ["PRE_BUILD"]
    output = _output(_log(ops.aws, build))
    assert any(
        "when calling the GetAuthorizationToken operation" in line
        and "ecr:GetAuthorizationToken" in line
        for line in output
    ), output


def test_without_bash_the_stand_ins_run_the_python_client(
    aws: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = shell_module.shutil.which

    def which(program: str, *args: Any, **kwargs: Any) -> str | None:
        return None if program == "bash" else found(program, *args, **kwargs)

    monkeypatch.setattr(shell_module.shutil, "which", which)
    build = _play(aws, _spec({"build": {"commands": ["head -2 $(command -v aws)", LOGIN]}}))
    output = _output(_log(aws, build))
    assert output[0] == "#!/bin/sh"
    assert "Login Succeeded" in output
