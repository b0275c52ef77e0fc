"""The emulated CodeConnections and CodePipeline's CodeStarSourceConnection source with V2
push triggers (bluegreen.emulator.services.codeconnections, codepipeline, triggers).

AWS behaviour and its sources are in those modules' docstrings; each test names what it
holds the emulator to. The pipelines' Build stage is held behind a disabled transition
(DisableStageTransition), so what the source did is read without playing a build.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bluegreen.emulator import Emulator
from bluegreen.emulator.triggers import glob_match, push_matches
from bluegreen.rehearse.repository import Repository
from tests.emulator_cicd import REGION, T0, make_role

REPO = "acme/webapp"


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as emulator:
        yield emulator


def _connection(aws: Emulator, name: str = "github") -> str:
    return str(
        aws.clients().codeconnections.create_connection(ProviderType="GitHub", ConnectionName=name)[
            "ConnectionArn"
        ]
    )


def _bucket(aws: Emulator) -> str:
    aws.clients().s3.create_bucket(
        Bucket="artifacts", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return "artifacts"


def _project(aws: Emulator) -> None:
    role = make_role(aws, "build", "codebuild.amazonaws.com")
    aws.clients().codebuild.create_project(
        name="check",
        source={"type": "CODEPIPELINE", "buildspec": "version: 0.2\nphases: {}\n"},
        artifacts={"type": "CODEPIPELINE"},
        environment={
            "type": "LINUX_CONTAINER",
            "image": "aws/codebuild/standard:7.0",
            "computeType": "BUILD_GENERAL1_SMALL",
        },
        serviceRole=role,
    )


def _pipeline(
    aws: Emulator,
    name: str,
    connection: str,
    role: str,
    *,
    triggers: list[dict[str, Any]] | None = None,
    kind: str = "V2",
    mode: str = "QUEUED",
    branch_value: str = "#{SourceVariables.BranchName}",
) -> None:
    declaration: dict[str, Any] = {
        "name": name,
        "roleArn": role,
        "artifactStore": {"type": "S3", "location": "artifacts"},
        "pipelineType": kind,
        "executionMode": mode,
        "stages": [
            {
                "name": "Source",
                "actions": [
                    {
                        "name": "Source",
                        "namespace": "SourceVariables",
                        "actionTypeId": {
                            "category": "Source",
                            "owner": "AWS",
                            "provider": "CodeStarSourceConnection",
                            "version": "1",
                        },
                        "configuration": {
                            "ConnectionArn": connection,
                            "FullRepositoryId": REPO,
                            "BranchName": "main",
                            "OutputArtifactFormat": "CODE_ZIP",
                        },
                        "outputArtifacts": [{"name": "SourceOutput"}],
                    }
                ],
            },
            {
                "name": "Check",
                "actions": [
                    {
                        "name": "Check",
                        "actionTypeId": {
                            "category": "Build",
                            "owner": "AWS",
                            "provider": "CodeBuild",
                            "version": "1",
                        },
                        "configuration": {
                            "ProjectName": "check",
                            "EnvironmentVariables": json.dumps(
                                [{"name": "BRANCH", "value": branch_value}]
                            ),
                        },
                        "inputArtifacts": [{"name": "SourceOutput"}],
                    }
                ],
            },
        ],
    }
    if triggers is not None:
        declaration["triggers"] = triggers
    codepipeline = aws.clients().codepipeline
    codepipeline.create_pipeline(pipeline=declaration)
    codepipeline.disable_stage_transition(
        pipelineName=name, stageName="Check", transitionType="Inbound", reason="test: hold"
    )


def _trigger(branches: list[str], excludes: list[str] | None = None) -> list[dict[str, Any]]:
    push: dict[str, Any] = {"branches": {"includes": branches}}
    if excludes:
        push["filePaths"] = {"excludes": excludes}
    return [
        {
            "providerType": "CodeStarSourceConnection",
            "gitConfiguration": {"sourceActionName": "Source", "push": [push]},
        }
    ]


def _executions(aws: Emulator, name: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = aws.clients().codepipeline.list_pipeline_executions(
        pipelineName=name
    )["pipelineExecutionSummaries"]
    return found


def _source_run(aws: Emulator, name: str, execution: str) -> dict[str, Any]:
    aws.sleep(120)
    details = aws.clients().codepipeline.list_action_executions(
        pipelineName=name, filter={"pipelineExecutionId": execution}
    )["actionExecutionDetails"]
    (source,) = [d for d in details if d["actionName"] == "Source"]
    found: dict[str, Any] = source
    return found


class _Clone:
    """A person's clone of the provider repository."""

    def __init__(self, aws: Emulator, path: Path) -> None:
        self.aws = aws
        self.repo = Repository.create(path, "main")
        self.remote = aws.service("codeconnections").provider_repository(REPO)

    def push(self, files: dict[str, str], branch: str = "main") -> str:
        if branch != self.repo.branch:
            self.repo.git("checkout", "-q", "-B", branch)
        for path, text in files.items():
            target = self.repo.path / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        commit = self.repo.commit(f"change {sorted(files)}", self.aws.now())
        self.repo.git("push", "-q", str(self.remote), f"HEAD:refs/heads/{branch}")
        self.aws.service("codeconnections").check_pushes()
        if branch != self.repo.branch:
            self.repo.git("checkout", "-q", self.repo.branch)
        return commit.sha


# --------------------------------------------------------------------------- connections


def test_a_new_connection_is_pending_until_the_handshake(aws: Emulator) -> None:
    arn = _connection(aws)
    assert arn.startswith(f"arn:aws:codeconnections:{REGION}:123456789012:connection/")
    get = aws.clients().codeconnections.get_connection
    assert get(ConnectionArn=arn)["Connection"]["ConnectionStatus"] == "PENDING"
    aws.service("codeconnections").complete_handshake(arn)
    assert get(ConnectionArn=arn)["Connection"]["ConnectionStatus"] == "AVAILABLE"
    # The former API name serves the same connection, under either ARN prefix.
    old = aws.clients()("codestar-connections")
    same = arn.replace(":codeconnections:", ":codestar-connections:")
    assert old.get_connection(ConnectionArn=same)["Connection"]["ConnectionStatus"] == "AVAILABLE"


def test_a_replayed_journal_completes_the_handshake_again(aws: Emulator) -> None:
    arn = _connection(aws)
    aws.service("codeconnections").replay_event("codeconnections.handshake", {"arn": arn})
    found = aws.clients().codeconnections.get_connection(ConnectionArn=arn)["Connection"]
    assert found["ConnectionStatus"] == "AVAILABLE"


def test_an_unknown_connection_is_not_found(aws: Emulator) -> None:
    arn = _connection(aws).rsplit("/", 1)[0] + "/00000000-0000-0000-0000-000000000000"
    with pytest.raises(ClientError) as info:
        aws.clients().codeconnections.get_connection(ConnectionArn=arn)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"


# --------------------------------------------------------------------------- the source


def test_the_source_fails_while_the_connection_is_pending_then_reads_the_branch(
    aws: Emulator, tmp_path: Path
) -> None:
    _bucket(aws)
    _project(aws)
    arn = _connection(aws)
    clone = _Clone(aws, tmp_path / "clone")
    head = clone.push({"app/main.py": "print('hi')\n"})
    _pipeline(aws, "p", arn, make_role(aws, "pipeline", "codepipeline.amazonaws.com"))
    (first,) = _executions(aws, "p")
    failed = _source_run(aws, "p", first["pipelineExecutionId"])
    assert failed["status"] == "Failed"
    assert "PENDING" in failed["output"]["executionResult"]["errorDetails"]["message"]
    # Pushes made while it is pending start nothing: no webhook without the app.
    clone.push({"app/main.py": "print('hello')\n"})
    assert len(_executions(aws, "p")) == 1

    aws.service("codeconnections").complete_handshake(arn)
    started = aws.clients().codepipeline.start_pipeline_execution(name="p")
    run = _source_run(aws, "p", started["pipelineExecutionId"])
    assert run["status"] == "Succeeded"
    variables = run["output"]["outputVariables"]
    assert variables["BranchName"] == "main"
    assert variables["FullRepositoryName"] == REPO
    assert variables["ConnectionArn"] == arn
    assert variables["CommitId"] != head  # the newest commit of main, pushed later


def test_the_pipeline_role_needs_use_connection(aws: Emulator, tmp_path: Path) -> None:
    _bucket(aws)
    _project(aws)
    arn = _connection(aws)
    aws.service("codeconnections").complete_handshake(arn)
    _Clone(aws, tmp_path / "clone").push({"a.txt": "a\n"})
    role = make_role(aws, "pipeline", "codepipeline.amazonaws.com")
    iam = aws.clients().iam
    iam.delete_role_policy(RoleName="pipeline", PolicyName="all")
    iam.put_role_policy(
        RoleName="pipeline",
        PolicyName="no-connection",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": ["s3:*", "codebuild:*"], "Resource": "*"}
                ],
            }
        ),
    )
    _pipeline(aws, "p", arn, role)
    (first,) = _executions(aws, "p")
    run = _source_run(aws, "p", first["pipelineExecutionId"])
    assert run["status"] == "Failed"
    assert run["output"]["executionResult"]["errorDetails"]["message"] == (
        f"Unable to use Connection: {arn}. The provided role does not have sufficient permissions."
    )
    assert any("UseConnection" in r.message for r in aws.refusals)


# --------------------------------------------------------------------------- triggers


def test_push_triggers_start_only_matching_pushes(aws: Emulator, tmp_path: Path) -> None:
    _bucket(aws)
    _project(aws)
    arn = _connection(aws)
    aws.service("codeconnections").complete_handshake(arn)
    clone = _Clone(aws, tmp_path / "clone")
    clone.push({"app/main.py": "1\n", "docs/a.md": "a\n"})
    role = make_role(aws, "pipeline", "codepipeline.amazonaws.com")
    _pipeline(aws, "main", arn, role, triggers=_trigger(["main"], ["docs/**", "*.md"]))
    _pipeline(aws, "branches", arn, role, triggers=_trigger(["feature/**"]), mode="PARALLEL")
    assert [len(_executions(aws, p)) for p in ("main", "branches")] == [1, 1]  # CreatePipeline

    clone.push({"docs/a.md": "b\n", "README.md": "r\n"})  # only excluded files
    assert [len(_executions(aws, p)) for p in ("main", "branches")] == [1, 1]

    sha = clone.push({"app/main.py": "2\n", "docs/a.md": "c\n"})  # one file counts
    newest = _executions(aws, "main")[0]
    assert newest["trigger"]["triggerType"] == "WebhookV2"
    assert len(_executions(aws, "branches")) == 1
    assert (
        _source_run(aws, "main", newest["pipelineExecutionId"])["output"]["outputVariables"][
            "CommitId"
        ]
        == sha
    )

    pushed = clone.push({"app/main.py": "3\n"}, branch="feature/deep/x")
    assert len(_executions(aws, "main")) == 2
    branch_run = _executions(aws, "branches")[0]
    assert branch_run["trigger"]["triggerType"] == "WebhookV2"
    run = _source_run(aws, "branches", branch_run["pipelineExecutionId"])
    assert run["output"]["outputVariables"]["BranchName"] == "feature/deep/x"
    assert run["output"]["outputVariables"]["CommitId"] == pushed
    # The next action reads the variable through its namespace.
    codepipeline = aws.clients().codepipeline
    codepipeline.enable_stage_transition(
        pipelineName="branches", stageName="Check", transitionType="Inbound"
    )
    aws.sleep(60)
    details = codepipeline.list_action_executions(
        pipelineName="branches", filter={"pipelineExecutionId": branch_run["pipelineExecutionId"]}
    )["actionExecutionDetails"]
    (check,) = [d for d in details if d["actionName"] == "Check"]
    declared = check["input"]["configuration"]["EnvironmentVariables"]
    resolved = check["input"]["resolvedConfiguration"]["EnvironmentVariables"]
    assert "#{SourceVariables.BranchName}" in declared
    assert json.loads(resolved) == [{"name": "BRANCH", "value": "feature/deep/x"}]


def test_without_triggers_a_push_to_the_branch_starts_the_pipeline(
    aws: Emulator, tmp_path: Path
) -> None:
    _bucket(aws)
    _project(aws)
    arn = _connection(aws)
    aws.service("codeconnections").complete_handshake(arn)
    clone = _Clone(aws, tmp_path / "clone")
    clone.push({"a.txt": "a\n"})
    _pipeline(aws, "p", arn, make_role(aws, "pipeline", "codepipeline.amazonaws.com"))
    clone.push({"a.txt": "b\n"}, branch="other")
    assert len(_executions(aws, "p")) == 1
    clone.push({"a.txt": "c\n"})
    newest = _executions(aws, "p")[0]
    assert newest["trigger"]["triggerType"] == "Webhook"


def test_triggers_are_refused_where_aws_refuses_them(aws: Emulator) -> None:
    _bucket(aws)
    arn = _connection(aws)
    role = make_role(aws, "pipeline", "codepipeline.amazonaws.com")
    with pytest.raises(ClientError) as info:
        _pipeline(aws, "v1", arn, role, triggers=_trigger(["main"]), kind="V1", mode="SUPERSEDED")
    assert info.value.response["Error"]["Code"] == "ValidationException"
    twice = _trigger(["main"]) + _trigger(["dev"])
    with pytest.raises(ClientError) as info:
        _pipeline(aws, "twice", arn, role, triggers=twice)
    assert info.value.response["Error"]["Code"] == "InvalidStructureException"
    other = _trigger(["main"])
    other[0]["gitConfiguration"]["sourceActionName"] = "Check"
    with pytest.raises(ClientError) as info:
        _pipeline(aws, "other", arn, role, triggers=other)
    assert info.value.response["Error"]["Code"] == "InvalidStructureException"
    # Eight patterns are accepted; nine are refused (by the model's list bounds).
    _pipeline(aws, "eight", arn, role, triggers=_trigger([f"b{n}" for n in range(8)]))
    with pytest.raises(Exception, match="9|length"):
        _pipeline(aws, "nine", arn, role, triggers=_trigger([f"b{n}" for n in range(9)]))


# --------------------------------------------------------------------------- globs


@pytest.mark.parametrize(
    ("pattern", "value", "matches"),
    [
        ("feature/*", "feature/x", True),
        ("feature/*", "feature/x/y", False),  # * stays within a directory
        ("feature/**", "feature/x/y", True),  # ** crosses directories
        ("feature/**", "feature/", True),
        ("feature/**", "feature", False),
        ("docs/**", "docs/a/b.md", True),
        ("*.md", "README.md", True),
        ("*.md", "docs/a.md", False),
        ("v?", "v1", True),
        ("v?", "v12", False),
        ("v?", "v/", False),
        ("[!a]x", "bx", True),
        ("[!a]x", "ax", False),
        ("[-a]x", "-x", True),
        ("*.{java,class}", "A.class", True),
        ("*.{java,class}", "A.py", False),
        ("a\\*b", "a*b", True),
        ("a\\*b", "axb", False),
    ],
)
def test_glob_patterns_follow_codepipeline_syntax(pattern: str, value: str, matches: bool) -> None:
    assert glob_match(pattern, value) is matches


def test_push_filters_excludes_win_and_one_counted_file_is_enough() -> None:
    both = {"branches": {"includes": ["**"], "excludes": ["main"]}}
    assert not push_matches(both, "main", ["a"])
    assert push_matches(both, "dev", ["a"])
    paths = {"branches": {"includes": ["main"]}, "filePaths": {"excludes": ["docs/**"]}}
    assert not push_matches(paths, "main", ["docs/a.md"])
    assert push_matches(paths, "main", ["docs/a.md", "app/x.py"])
    included = {"filePaths": {"includes": ["app/**"], "excludes": ["app/*.md"]}}
    assert push_matches(included, "main", ["app/x.py"])
    assert not push_matches(included, "main", ["app/x.md", "web/y.py"])
    assert not push_matches({"tags": {"includes": ["v*"]}}, "main", ["a"])


def test_a_variable_nothing_produced_fails_the_action(aws: Emulator, tmp_path: Path) -> None:
    _bucket(aws)
    _project(aws)
    arn = _connection(aws)
    aws.service("codeconnections").complete_handshake(arn)
    _Clone(aws, tmp_path / "clone").push({"a.txt": "a\n"})
    role = make_role(aws, "pipeline", "codepipeline.amazonaws.com")
    _pipeline(aws, "p", arn, role, branch_value="#{Elsewhere.BranchName}")
    codepipeline = aws.clients().codepipeline
    codepipeline.enable_stage_transition(
        pipelineName="p", stageName="Check", transitionType="Inbound"
    )
    (first,) = _executions(aws, "p")
    aws.sleep(120)
    details = codepipeline.list_action_executions(
        pipelineName="p", filter={"pipelineExecutionId": first["pipelineExecutionId"]}
    )["actionExecutionDetails"]
    (check,) = [d for d in details if d["actionName"] == "Check"]
    assert check["status"] == "Failed"
    assert (
        "#{Elsewhere.BranchName}" in check["output"]["executionResult"]["errorDetails"]["message"]
    )
