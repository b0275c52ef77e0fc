"""`bluegreen rehearse --provider github`: the scaffold's story through a CodeConnections
connection (bluegreen.rehearse.story, the emulated CodeConnections and V2 triggers).

The same story as the CodeCommit default (tests/test_rehearse.py): release 1 deployed
(the connection made PENDING, the console handshake, the scaffold pushed to the
provider's repository, deploy with the connection), release 2 rebuilding only the app, a
feature branch built and tested without a deployment; and a push of ignored files only
starting nothing.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bluegreen.cli.rehearse import SCAFFOLD_IGNORED, SCAFFOLD_REPOSITORY
from bluegreen.config import from_dict
from bluegreen.rehearse.model import Rehearsal, Release
from bluegreen.rehearse.story import Options, run


@pytest.fixture(scope="module")
def github() -> Rehearsal:
    config = from_dict(
        {
            "source": {
                "provider": "github",
                "full_repository_id": SCAFFOLD_REPOSITORY,
                "ignored_paths": list(SCAFFOLD_IGNORED),
            }
        }
    )
    return run(Options(config))


def _operations(release: Release) -> list[tuple[str, str]]:
    return [(s.event, s.detail) for s in release.steps if s.kind == "operation"]


def test_the_connection_is_made_pending_and_the_handshake_is_said(github: Rehearsal) -> None:
    first = github.releases[0]
    operations = _operations(first)
    events = [event for event, _ in operations]
    assert events[:4] == ["create connection", "console handshake", "git push", "bluegreen deploy"]
    assert "PENDING" in operations[0][1]
    assert "on AWS a person completes the handshake with GitHub once" in operations[1][1]
    assert "AVAILABLE" in operations[1][1]
    assert "deploy makes no commit there" in operations[2][1]
    # The pipeline's first run read the pushed commit.
    assert first.commit and first.outcome == "succeeded"


def test_release_two_rebuilds_only_the_app(github: Rehearsal) -> None:
    first, second = github.releases
    assert second.outcome == "succeeded"
    assert [(b["action"], b["result"]) for b in second.builds] == [
        ("BuildApp", "built"),
        ("BuildRouter", "reused"),
    ]
    assert second.images["log-router"] == first.images["log-router"]
    assert second.images["webapp"] != first.images["webapp"]


def test_a_feature_branch_is_checked_by_the_branch_pipeline_without_a_deployment(
    github: Rehearsal,
) -> None:
    branch = github.branch_runs[0]
    assert branch["branch"] == "feature/rehearsal"
    build = branch["build"]
    assert build["build_id"].startswith("sample3-dev-branch-checks:")
    assert build["status"] == "SUCCEEDED"
    # BRANCH came from the source action's BranchName variable (#{SourceVariables.
    # BranchName}), the pushed branch, not the action's configured main.
    assert build["variables"]["BRANCH"] == "feature/rehearsal"
    assert build["commit"] == branch["commit"]
    assert branch["pipeline_started"] is False


def test_a_push_of_ignored_files_only_starts_nothing(github: Rehearsal) -> None:
    ignored = github.branch_runs[1]
    assert ignored["kind"] == "ignored"
    assert ignored["branch"] == "main"
    assert ignored["changed_files"] == ["docs/rehearsal.md"]
    assert ignored["pipeline_started"] is False
    assert github.succeeded


@pytest.mark.parametrize("extra", [["--provider", "svn"], ["--provider", "codecommit"]])
def test_provider_takes_the_connection_providers_only(
    extra: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from bluegreen.cli.app import main

    assert main(["rehearse", *extra]) == 2
    assert "github, gitlab, bitbucket" in capsys.readouterr().err


def test_provider_is_for_the_scaffold_only(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from bluegreen.appkit import init
    from bluegreen.cli.app import main
    from bluegreen.config import Config

    init(tmp_path, Config())
    assert main(["rehearse", str(tmp_path), "--provider", "github"]) == 2
    assert "source.provider" in capsys.readouterr().err
