"""`bluegreen deploy` with a GitHub source through a CodeConnections connection: the real
CLI against the emulated AWS (tests/emulated.py), from an empty account.

What deploy does with the connection (bluegreen.aws.connection): the ARN from
``--connection-arn`` or the deployed pipeline stack, its shape checked (exit 2), looked
up (exit 2 when it names nothing), its provider compared with the config (exit 2), and a
connection that is not AVAILABLE stops deploy before anything is created (exit 1, with
the console step). No CodeCommit repository and no first commit: the repository is the
provider's. The emulator's side of each refusal: tests/test_emulator_connections.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from e2e_support import (
    PIPELINE,
    e2e_fixture,  # noqa: F401 (fixture)
    failed_actions,
    leftovers,
    stack,
    stack_statuses,
)
from emulated import Emulated, emulated  # noqa: F401 (the fixture e2e builds on)

REPOSITORY = "acme/webapp"


@pytest.fixture
def github(e2e: Emulated) -> Emulated:
    e2e.configure("source", provider="github", full_repository_id=REPOSITORY)
    return e2e


def _connection(e: Emulated, provider: str = "GitHub", available: bool = True) -> str:
    arn = str(
        e.aws.client("codeconnections").create_connection(
            ProviderType=provider, ConnectionName=f"{provider.lower()}-acme"
        )["ConnectionArn"]
    )
    if available:
        e.aws.service("codeconnections").complete_handshake(arn)
    return arn


def _push_scaffold(e: Emulated) -> str:
    """The user's first push of the scaffold to the provider repository."""
    remote = e.aws.service("codeconnections").provider_repository(REPOSITORY)
    e.git("init", "-q", "-b", "main")
    e.git("add", "-A")
    e.git("commit", "-q", "-m", "bluegreen scaffold")
    e.git("push", "-q", str(remote), "HEAD:refs/heads/main")
    e.aws.service("codeconnections").check_pushes()
    return e.git("rev-parse", "HEAD").strip()


def _nothing_made(e: Emulated) -> None:
    assert stack_statuses(e.aws) == {}
    assert e.aws.client("codecommit").list_repositories()["repositories"] == []


@pytest.mark.parametrize(
    "arn",
    [
        "arn:aws:codeconnections:ap-northeast-1:12345678901:connection/abc",  # 11 digits
        "arn:aws:codecommit:ap-northeast-1:123456789012:connection/abc",  # not a connection
        "arn:aws:codeconnections:ap-northeast-1:123456789012:host/abc",
        "github",
    ],
)
def test_a_malformed_arn_is_refused_before_anything_changes(github: Emulated, arn: str) -> None:
    done = github.cli("deploy", "--yes", "--connection-arn", arn)
    assert done.code == 2, done.err
    assert "is not a CodeConnections connection ARN" in done.err
    _nothing_made(github)


def test_a_well_formed_arn_of_no_connection_is_refused(github: Emulated) -> None:
    arn = "arn:aws:codestar-connections:ap-northeast-1:123456789012:connection/abc-1"
    done = github.cli("deploy", "--yes", "--connection-arn", arn)
    assert done.code == 2, done.err
    assert f"no CodeConnections connection {arn}" in done.err
    _nothing_made(github)


def test_without_an_arn_deploy_says_where_to_make_the_connection(github: Emulated) -> None:
    done = github.cli("deploy", "--yes")
    assert done.code == 2, done.err
    assert "--connection-arn" in done.err and "codesuite/settings/connections" in done.err
    _nothing_made(github)


def test_a_connection_to_another_provider_is_refused(github: Emulated) -> None:
    arn = _connection(github, "GitLab")
    done = github.cli("deploy", "--yes", "--connection-arn", arn)
    assert done.code == 2, done.err
    assert "is a GitLab connection" in done.err
    _nothing_made(github)


def test_codecommit_takes_no_connection(e2e: Emulated) -> None:
    arn = _connection(e2e)
    done = e2e.cli("deploy", "--yes", "--connection-arn", arn)
    assert done.code == 2, done.err
    assert 'source.provider is "codecommit"' in done.err
    _nothing_made(e2e)


def test_a_pending_connection_stops_deploy_with_the_console_step(github: Emulated) -> None:
    arn = _connection(github, available=False)
    done = github.cli("deploy", "--yes", "--connection-arn", arn)
    assert done.code == 1, done.err
    assert "is PENDING" in done.err
    assert "Update pending connection" in done.err and "Nothing was changed" in done.err
    _nothing_made(github)


def test_a_connection_in_error_stops_deploy(github: Emulated) -> None:
    arn = _connection(github)
    # What AWS does by itself to a connection whose provider side broke ("A connection
    # that has an error state is retried automatically": Developer Tools console guide).
    found = github.aws.service("codeconnections").connection(arn)
    assert found is not None
    found.status = "ERROR"
    done = github.cli("deploy", "--yes", "--dry-run", "--connection-arn", arn)
    assert done.code == 1, done.err
    assert "is ERROR" in done.err and "retried by AWS" in done.err
    _nothing_made(github)


def test_deploy_through_an_available_connection(github: Emulated) -> None:
    arn = _connection(github)
    pushed = _push_scaffold(github)
    done = github.cli("deploy", "--yes", "--connection-arn", arn)
    assert done.code == 0, done.err
    assert "no commit made: the application repository is acme/webapp on github" in done.err
    assert "first release" in done.out and "promoted" in done.out
    # No CodeCommit repository, no first commit: the pipeline read the pushed commit.
    assert github.aws.client("codecommit").list_repositories()["repositories"] == []
    pipeline = stack(github.aws, PIPELINE)
    assert pipeline is not None
    assert {"ParameterKey": "ConnectionArn", "ParameterValue": arn} in pipeline["Parameters"]
    (execution,) = github.aws.client("codepipeline").list_pipeline_executions(
        pipelineName="sample3-dev-pipeline"
    )["pipelineExecutionSummaries"]
    assert execution["sourceRevisions"][0]["revisionId"] == pushed
    assert failed_actions(github.aws) == []
    # The branch-check pipeline's creation run was held and stopped (it would have built
    # the release branch beside the release pipeline's first run: quota 1), then opened.
    codepipeline = github.aws.client("codepipeline")
    branch_checks = "sample3-dev-branch-checks"
    states = codepipeline.get_pipeline_state(name=branch_checks)["stageStates"]
    (check,) = [s for s in states if s["stageName"] == "Check"]
    assert check["inboundTransitionState"]["enabled"] is True
    (held,) = codepipeline.list_pipeline_executions(pipelineName=branch_checks)[
        "pipelineExecutionSummaries"
    ]
    assert (held["trigger"]["triggerType"], held["status"]) == ("CreatePipeline", "Stopped")
    # Nothing refused but the lookups of things not there yet (test_e2e_refusals.LOOKUPS).
    lookups = {
        ("cloudformation", "DescribeStacks", "ValidationError"),
        ("codedeploy", "ListDeploymentTargets", "DeploymentNotStartedException"),
    }
    tripped = [r for r in github.aws.refusals if (r.service, r.operation, r.code) not in lookups]
    assert tripped == []
    # The ARN is in no file of the repository.
    account = arn.split(":")[4]
    for path in Path(github.root).rglob("*"):
        if path.is_file() and ".git" not in path.parts:
            text = path.read_text(encoding="utf-8", errors="replace")
            assert arn not in text and account not in text, path

    # A later deploy needs no flag: the pipeline stack's parameter is reused.
    again = github.cli("deploy", "--yes")
    assert again.code == 0, again.err
    assert "the pipeline stack's): AVAILABLE" in again.err

    # destroy leaves nothing of bluegreen's; the connection is the user's and stays.
    gone = github.cli("destroy", "--yes", "--empty-bucket")
    assert gone.code == 0, gone.err
    left = leftovers(github.aws)
    assert "stacks" not in left and "pipelines" not in left and "codecommit" not in left, left
    connection = github.aws.client("codeconnections").get_connection(ConnectionArn=arn)
    assert connection["Connection"]["ConnectionStatus"] == "AVAILABLE"


def test_a_dry_run_checks_the_connection_and_changes_nothing(github: Emulated) -> None:
    arn = _connection(github)
    done = github.cli("deploy", "--dry-run", "--connection-arn", arn)
    assert done.code == 0, done.err
    assert "connection github-acme (GitHub, given): AVAILABLE" in done.err
    assert "first commit" not in done.out  # nothing to commit: the repository is GitHub's
    _nothing_made(github)
