"""`bluegreen deploy` and `bluegreen destroy` through the CLI: the renderers, and the error
shapes the emulated AWS cannot produce.

Every road the emulated AWS can show (the text from an empty account, following and
promoting the first release, a rerun that follows it, dry runs, refused files, declined
and unanswered prompts, Ctrl-C at each stage, a failure while following in JSON, and
destroy's text, refusals, failure and interruption) runs the real CLI end to end in
test_e2e_deploy.py and test_e2e_refusals.py. Here the renderers (pure), and against
botocore Stubber only AWS errors the emulator never gives: throttling and access denied.
The AWS seam is ``bluegreen.cli.common.make_clients`` (stubbed clients); following the
first release, ``bluegreen.aws.release.first_release``, is replaced by a fake.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    PIPELINE,
    REPO,
    SERVICE,
    SOURCE,
    branch,
    links,
    live_service,
    look,
    make_repo,
    no_changes,
)
from rich.console import Console
from test_aws_support import (
    T0,
    Stubs,
    service_template,
    stack,
)

from bluegreen import config as config_mod
from bluegreen.aws import deploy as deploy_mod
from bluegreen.aws import destroy as destroy_mod
from bluegreen.aws import release as release_mod
from bluegreen.aws.cfn import Change, StackEvent
from bluegreen.aws.codecommit import FirstCommit
from bluegreen.cli import common
from bluegreen.cli import deploy as deploy_cli
from bluegreen.cli import destroy as destroy_cli
from bluegreen.cli.app import main
from bluegreen.stacks import build


@pytest.fixture
def stubs(monkeypatch: pytest.MonkeyPatch) -> Stubs:
    s = Stubs()
    monkeypatch.setattr(common, "make_clients", lambda config, profile, region: s.clients)
    monkeypatch.setattr(common, "sleep", lambda seconds: None)
    return s


@pytest.fixture
def project(tmp_path: Path) -> Path:
    make_repo(tmp_path)
    return tmp_path / "bluegreen.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out.splitlines(), captured.err


class FakeFirst:
    """Stands in for the engine's first_release: returns, raises, or records calls."""

    def __init__(self, outcome: Any = None) -> None:
        self.outcome = outcome
        self.calls = 0

    def __call__(self, clients: Any, cfg: Any, ui: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if isinstance(self.outcome, BaseException):
            raise self.outcome
        return self.outcome or release_mod.ReleaseResult(
            PIPELINE, "exec-12345678", "InProgress", "link", promoted=True
        )


def deployed_service() -> str:
    return next(s for s in build(config_mod.Config()) if s.name == SERVICE).to_yaml()


def rerun(s: Stubs) -> None:
    look(s, "UPDATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE")
    service_template(s, deployed_service())
    branch(s, "f" * 40)
    live_service(s)
    for name in (SOURCE, SERVICE, PIPELINE):
        no_changes(s, name)
    links(s)


# ---- what only a canned answer can show ----------------------------------------------------


def test_a_rerun_that_cannot_read_the_pipelines_runs_still_succeeds(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stubber: access denied on ListPipelineExecutions, which the emulated AWS never gives.
    fake = FakeFirst()
    monkeypatch.setattr(release_mod, "first_release", fake)
    rerun(stubs)
    stubs.error(
        "codepipeline",
        "list_pipeline_executions",
        "AccessDeniedException",
        "User: arn:aws:iam::123456789012:user/ci is not authorized",
    )
    code, _, err = run(capsys, "deploy", "--yes", "--config", str(project))
    stubs.done()
    assert code == 0 and fake.calls == 0
    assert "could not look for the pipeline's first run, so not following it: access denied" in err


def test_an_aws_error_mid_deploy_shows_what_was_done_and_how_to_continue(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # Stubber: throttling even after retries, which the emulated AWS never gives.
    look(stubs, "UPDATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE")
    service_template(stubs, deployed_service())
    branch(stubs, "f" * 40)
    live_service(stubs)
    no_changes(stubs, SOURCE)
    stack(stubs, SERVICE, "UPDATE_COMPLETE")
    stubs.error("cloudformation", "create_change_set", "Throttling", "Rate exceeded")

    code, lines, err = run(capsys, "deploy", "--yes", "--config", str(project))

    assert code == 1
    assert lines == [f"{SOURCE}: no changes"]
    assert f"stopped: {SERVICE}: change set {SERVICE}-" in err
    assert "(UPDATE) being created, not executed; stack UPDATE_COMPLETE" in err
    assert (
        f"to continue: run `bluegreen deploy --yes --config {project}` again to continue (it "
        "makes a new change set)"
    ) in err
    assert "error: AWS throttled cloudformation:CreateChangeSet even after retries" in err


def test_an_error_after_the_stacks_adds_the_resume_command_to_the_hint(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    # Stubber: access denied on DescribeStacks, which the emulated AWS never gives.
    look(stubs, "UPDATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE")
    service_template(stubs, deployed_service())
    branch(stubs, "f" * 40)
    live_service(stubs)
    for name in (SOURCE, SERVICE, PIPELINE):
        no_changes(stubs, name)
    stubs.error(
        "cloudformation",
        "describe_stacks",
        "AccessDenied",
        "User: arn:aws:iam::123456789012:user/ci is not authorized",
    )

    code, lines, err = run(capsys, "deploy", "--yes", "--config", str(project))

    assert code == 1
    assert lines == [f"{SOURCE}: no changes", f"{SERVICE}: no changes", f"{PIPELINE}: no changes"]
    assert err.rstrip().endswith(
        f"; run `bluegreen deploy --yes --config {project}` again to continue"
    )


# ---- deploy: the renderers ----------------------------------------------------------------


def test_change_lines_align_and_name_replacements() -> None:
    changes = [
        Change("Modify", "Service", "AWS::ECS::Service", "Conditional"),
        Change("Add", "Rule", "AWS::Events::Rule", ""),
    ]
    assert deploy_cli.change_lines(SERVICE, "UPDATE", changes) == [
        f"{SERVICE}: UPDATE 2 changes",
        "  Modify  Service  AWS::ECS::Service  replacement: Conditional",
        "  Add     Rule     AWS::Events::Rule",
    ]
    assert deploy_cli.change_lines(SOURCE, "UPDATE", []) == [f"{SOURCE}: UPDATE 0 changes"]


def test_result_lines_of_a_failed_and_a_dry_run() -> None:
    failure = StackEvent(
        SOURCE, "e1", T0, "Repository", "AWS::CodeCommit::Repository", "CREATE_FAILED", "refused"
    )
    result = deploy_mod.DeployResult(dry_run=False)
    result.stacks = [
        deploy_mod.StackOutcome(
            SOURCE,
            "failed",
            "ROLLBACK_COMPLETE",
            "rolled back",
            failures=[failure],
            hint="ask AWS Support",
        ),
    ]
    assert deploy_cli.result_lines(result) == [
        f"{SOURCE}: FAILED (ROLLBACK_COMPLETE): rolled back",
        "  Repository (AWS::CodeCommit::Repository) CREATE_FAILED: refused",
        "  hint: ask AWS Support",
    ]
    dry = deploy_mod.DeployResult(dry_run=True)
    dry.stacks = [
        deploy_mod.StackOutcome(SOURCE, "would-update"),
        deploy_mod.StackOutcome(SERVICE, "no-changes"),
        deploy_mod.StackOutcome(PIPELINE, "would-create"),
    ]
    dry.service_linked_role = "would-create"
    dry.would_commit = ["a.py", "b.py"]
    dry.out_of_band = [deploy_mod.OutOfBand("DesiredCount", "desiredCount", 1, 3)]
    assert deploy_cli.result_lines(dry) == [
        f"{SOURCE}: would be updated",
        f"{SERVICE}: no changes",
        f"{PIPELINE}: would be created",
        "ECS service-linked role AWSServiceRoleForECS: would be created",
        "first commit: would push 2 files:",
        "  a.py",
        "  b.py",
        "would set desired count (task.desired_count) 1 -> 3 with ecs:UpdateService",
    ]
    done = deploy_mod.DeployResult(dry_run=False)
    done.stacks = [deploy_mod.StackOutcome(SOURCE, "declined")]
    done.first_commit = FirstCommit(REPO, "main", [], 0, skipped="the branch already has commits")
    assert deploy_cli.result_lines(done) == [f"{SOURCE}: declined (change set deleted)"]


def test_the_live_display_is_stopped_and_the_cursor_shown_whatever_ends_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P4: rich's Live hides the cursor (ESC[?25l) and shows it again (ESC[?25h) on stop."""
    screen = io.StringIO()
    monkeypatch.setattr(deploy_cli, "err", Console(file=screen, force_terminal=True, width=100))
    row = StackEvent(SOURCE, "e1", T0, "Thing", "AWS::SNS::Topic", "CREATE_IN_PROGRESS", "")
    with pytest.raises(RuntimeError), deploy_cli.StackProgress(live=True) as progress:
        progress.event(row)
        raise RuntimeError("the endpoint went away")
    text = screen.getvalue()
    assert "\x1b[?25l" in text
    assert text.rindex("\x1b[?25h") > text.rindex("\x1b[?25l")


# ---- destroy: the renderer -------------------------------------------------------------------


def test_plan_lines_name_what_is_kept_and_emptied() -> None:
    holder = destroy_mod.Holder(PIPELINE, "ArtifactBucket", "bucket", "b-1", False, False, 3)
    kept = destroy_mod.Holder(SOURCE, "Images", "images", "r-1", True, False, 2)
    the_plan = destroy_mod.DestroyPlan(
        [PIPELINE, SERVICE], [holder, kept], True, False, "us-east-1"
    )
    assert destroy_cli.plan_lines(the_plan) == [
        f"will delete in us-east-1, in order: {PIPELINE}, {SERVICE}",
        "  and first every object version of bucket b-1",
        f"  r-1 is kept (DeletionPolicy Retain in {SOURCE})",
    ]
