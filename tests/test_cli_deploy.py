"""`bluegreen deploy` and `bluegreen destroy` through the CLI: exact text, exit codes, and
what a stopped run says (Ctrl-C, an AWS error, a failure while following).

The AWS seam is ``bluegreen.cli.common.make_clients`` (stubbed clients); following the
first release is ``bluegreen.aws.release.first_release`` (the engine's, tested in
test_aws_first_release), replaced here by a fake so the CLI's handling of its result,
its errors and Ctrl-C is what is tested.
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from deploy_support import (
    PIPELINE,
    REPO,
    SERVICE,
    SOURCE,
    branch,
    create_ok,
    create_role,
    declined_create,
    first_commit,
    links,
    live_service,
    look,
    make_repo,
    no_changes,
    repositories,
    role,
)
from rich.console import Console
from test_aws_destroy import cleanup, delete_ok, plan, revisions
from test_aws_destroy import log_groups as insights_groups
from test_aws_support import (
    SERVICE_OUTPUTS,
    T0,
    Stubs,
    change_set,
    cs_id,
    event,
    events,
    missing_stack,
    service_template,
    stack,
    stack_id,
)

from bluegreen import config as config_mod
from bluegreen.aws import cfn
from bluegreen.aws import deploy as deploy_mod
from bluegreen.aws import destroy as destroy_mod
from bluegreen.aws import release as release_mod
from bluegreen.aws.cfn import Change, StackEvent
from bluegreen.aws.codecommit import FirstCommit
from bluegreen.cli import common
from bluegreen.cli import deploy as deploy_cli
from bluegreen.cli import destroy as destroy_cli
from bluegreen.cli.app import main
from bluegreen.errors import StateError
from bluegreen.stacks import build

PIPELINE_LINK = (
    "https://ap-northeast-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
    "sample3-dev-pipeline/view?region=ap-northeast-1"
)
DEPLOYMENTS_LINK = (
    "https://ap-northeast-1.console.aws.amazon.com/codesuite/codedeploy/applications/"
    "sample3-dev-app/deployment-groups/sample3-dev-deployment-group?region=ap-northeast-1"
)
LINK_LINES = [
    f"production  {SERVICE_OUTPUTS['ProductionUrl']}",
    f"test        {SERVICE_OUTPUTS['TestUrl']}",
    f"pipeline    {PIPELINE_LINK}",
    f"deployments {DEPLOYMENTS_LINK}",
]


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


def file_count(root: Path) -> int:
    return sum(len(names) for _, _, names in os.walk(root))


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


def empty_account(s: Stubs) -> None:
    look(s)
    repositories(s, ["x"])
    role(s, exists=False)
    create_ok(s, SOURCE)
    first_commit(s)
    create_role(s)
    create_ok(s, SERVICE)
    create_ok(s, PIPELINE)
    links(s)


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


def latest_execution(s: Stubs, trigger: str, status: str = "InProgress") -> None:
    """ListPipelineExecutions' newest run (botocore CodePipeline model: trigger.triggerType)."""
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                {
                    "pipelineExecutionId": "exec-1",
                    "status": status,
                    "trigger": {"triggerType": trigger},
                }
            ]
        },
        {"pipelineName": PIPELINE, "maxResults": 1},
    )


# ---- deploy: the text paths ----------------------------------------------------------------


def test_deploy_text_from_an_empty_account(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    empty_account(stubs)
    code, lines, err = run(capsys, "deploy", "--yes", "--no-follow", "--config", str(project))
    stubs.done()
    assert code == 0, err
    change = ["  Add  Thing  AWS::SNS::Topic"]
    assert lines == [
        f"{SOURCE}: CREATE 1 change",
        *change,
        f"{SERVICE}: CREATE 1 change",
        *change,
        f"{PIPELINE}: CREATE 1 change",
        *change,
        f"{SOURCE}: created",
        f"{SERVICE}: created",
        f"{PIPELINE}: created",
        "ECS service-linked role AWSServiceRoleForECS: created",
        f"{REPO}: first commit c0ffee00 on main ({file_count(project.parent)} files)",
        *LINK_LINES,
    ]
    assert "created the ECS service-linked role AWSServiceRoleForECS" in err
    assert err.rstrip().endswith(
        "the first release is running: follow it with `bluegreen status --watch`; when green "
        'answers on :8080, run `bluegreen promote` within 10 min (deployment.reroute = "manual")'
    )


def test_deploy_follows_and_promotes_the_first_release(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeFirst()
    monkeypatch.setattr(release_mod, "first_release", fake)
    empty_account(stubs)
    code, lines, err = run(capsys, "deploy", "--yes", "--config", str(project))
    stubs.done()
    assert code == 0, err
    assert fake.calls == 1
    assert lines[-5:] == [*LINK_LINES, "first release exec-123: promoted"]
    assert "following the first release (its run can take a minute to appear)" in err


@pytest.mark.parametrize(
    ("trigger", "followed"), [("CreatePipeline", 1), ("StartPipelineExecution", 0)]
)
def test_a_rerun_follows_a_first_release_still_in_progress(
    project: Path,
    stubs: Stubs,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    trigger: str,
    followed: int,
) -> None:
    """P1: the pipeline was created by an earlier run that stopped before following."""
    fake = FakeFirst()
    monkeypatch.setattr(release_mod, "first_release", fake)
    rerun(stubs)
    latest_execution(stubs, trigger)
    code, lines, _ = run(capsys, "deploy", "--yes", "--config", str(project))
    stubs.done()
    assert code == 0 and fake.calls == followed
    assert (lines[-1] == "first release exec-123: promoted") is bool(followed)


def test_a_rerun_that_cannot_read_the_pipelines_runs_still_succeeds(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
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


def test_json_is_printed_when_following_fails(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """P3: the stacks are up; the document says so, and why following failed."""
    monkeypatch.setattr(
        release_mod,
        "first_release",
        FakeFirst(
            StateError("pipeline sample3-dev-pipeline has no execution to follow", "start one")
        ),
    )
    empty_account(stubs)
    code = main(["deploy", "--yes", "-o", "json", "--config", str(project)])
    captured = capsys.readouterr()
    stubs.done()
    data = json.loads(captured.out)
    assert code == 1
    assert [s["action"] for s in data["stacks"]] == ["create"] * 3
    assert data["ok"] is False and data["first_release"] is None
    assert data["error"] == {
        "message": "pipeline sample3-dev-pipeline has no execution to follow",
        "hint": "start one",
        "exit_code": 1,
    }
    assert data["in_flight"]["subject"] == PIPELINE
    assert "error: pipeline sample3-dev-pipeline has no execution to follow" in captured.err


def test_ctrl_c_while_following_says_the_release_goes_on_and_how_to_resume(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(release_mod, "first_release", FakeFirst(KeyboardInterrupt()))
    empty_account(stubs)
    code, lines, err = run(capsys, "deploy", "--yes", "--config", str(project))
    assert code == 130
    assert lines[-1] == LINK_LINES[-1]  # what was deployed was shown before following
    assert (
        f"interrupted: {PIPELINE}: its first release keeps running on AWS without bluegreen; "
        "once green answers on :8080 it waits 10 min for `bluegreen promote`"
    ) in err
    assert (
        "to continue: `bluegreen status --watch` shows it; run "
        f"`bluegreen deploy --yes --config {project}` again to follow and promote it"
    ) in err


def test_ctrl_c_while_cloudformation_executes(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cfn, "wait_stack", interrupted)
    look(stubs)
    repositories(stubs, ["x"])
    role(stubs, exists=True)
    missing_stack(stubs, SOURCE)
    change_set(stubs, SOURCE, "CREATE", [("Add", "Thing", "AWS::SNS::Topic", "")])
    events(
        stubs,
        SOURCE,
        [event(SOURCE, 0, SOURCE, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS")],
    )
    stubs.add("cloudformation", "execute_change_set", {}, {"ChangeSetName": cs_id(SOURCE)})

    code, _, err = run(
        capsys, "deploy", "--yes", "--region", "ap-northeast-1", "--config", str(project)
    )

    stubs.done()
    assert code == 130
    [state, resume] = [
        line for line in err.splitlines() if line.startswith(("interrupted", "to continue"))
    ]
    assert state.startswith(
        f"interrupted: {SOURCE}: CloudFormation keeps executing change set {SOURCE}-"
    )
    assert (
        "without bluegreen (https://ap-northeast-1.console.aws.amazon.com/cloudformation/" in state
    )
    assert resume == (
        "to continue: wait for it to finish (`bluegreen status`, or the console), then run "
        f"`bluegreen deploy --yes --config {project} --region ap-northeast-1` again to continue"
    )


def test_ctrl_c_before_anything_changed_says_so(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cfn, "describe_stack", interrupted)
    code, lines, err = run(capsys, "deploy", "--yes", "--config", str(project))
    assert code == 130 and lines == []
    assert err.strip() == "interrupted before anything was changed"


def test_ctrl_c_at_the_prompt_is_no(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """P7: click answers Ctrl-C or end of input at a prompt with Abort (click.termui.confirm:
    KeyboardInterrupt and EOFError become Abort); deploy takes it as "no"."""

    def aborted(*args: Any, **kwargs: Any) -> bool:
        raise click.exceptions.Abort()

    monkeypatch.setattr(common, "interactive", lambda: True)
    monkeypatch.setattr(typer, "confirm", aborted)
    look(stubs)
    repositories(stubs, ["x"])
    role(stubs, exists=True)
    declined_create(stubs, SOURCE)

    code, lines, err = run(capsys, "deploy", "--config", str(project))

    stubs.done()  # the change set and the empty stack were deleted
    assert code == 1
    assert "(no answer: treated as no)" in err
    assert f"{SOURCE}: change set {SOURCE}-" in err
    assert "declined and deleted with the empty stack it created" in err
    assert "error: deploy cancelled: a change set was declined; later stacks untouched" in err
    assert lines[-1] == f"{SOURCE}: declined (change set deleted)"


def test_an_aws_error_mid_deploy_shows_what_was_done_and_how_to_continue(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
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


def test_a_refusal_before_anything_changed_says_only_that(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    (project.parent / "webapp" / "tests" / "__init__.py").write_bytes(b"")
    look(stubs)
    repositories(stubs, ["x"])
    code, lines, err = run(capsys, "deploy", "--yes", "--config", str(project))
    stubs.done()
    assert code == 2 and lines == []
    assert "webapp/tests/__init__.py is empty" in err
    assert "again to continue" not in err and "interrupted" not in err


def dry_run_stubs(s: Stubs) -> None:
    look(s)
    repositories(s, ["x"])
    role(s, exists=True)
    for name in (SOURCE, SERVICE, PIPELINE, SERVICE):
        missing_stack(s, name)


def test_dry_run_lists_the_files_it_would_commit(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    (project.parent / ".gitignore").write_text("*.log\n", encoding="utf-8")
    (project.parent / "debug.log").write_text("x\n", encoding="utf-8")
    dry_run_stubs(stubs)
    code, lines, _ = run(capsys, "deploy", "--dry-run", "--config", str(project))
    stubs.done()
    assert code == 0
    start = lines.index(f"first commit: would push {file_count(project.parent) - 1} files:")
    listed = lines[start + 1 :]
    assert "  taskdef.json" in listed and "  .gitignore" in listed
    assert "  debug.log" not in listed  # .gitignore honoured


def test_dry_run_json_lists_the_files_and_the_role(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    dry_run_stubs(stubs)
    code = main(["deploy", "--dry-run", "-o", "json", "--config", str(project)])
    captured = capsys.readouterr()
    stubs.done()
    data = json.loads(captured.out)
    assert code == 0
    assert data["would_commit_files"] == len(data["would_commit"]) == file_count(project.parent)
    assert "webapp/Dockerfile" in data["would_commit"]
    assert data["service_linked_role"] == "exists" and data["in_flight"] is None


def test_a_secret_file_is_refused_unless_allowed(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    (project.parent / ".env").write_text("DB_PASSWORD=hunter2\n", encoding="utf-8")
    look(stubs)
    repositories(stubs, ["x"])
    code, _, err = run(capsys, "deploy", "--dry-run", "--config", str(project))
    assert code == 2 and ".env look like secrets" in err
    dry_run_stubs(stubs)
    code, lines, _ = run(
        capsys, "deploy", "--dry-run", "--allow-secret-files", "--config", str(project)
    )
    stubs.done()
    assert code == 0 and "  .env" in lines


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


# ---- destroy -------------------------------------------------------------------------------


def test_destroy_text(project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]) -> None:
    plan(stubs, objects=0, active=[2], inactive=[1])
    for name in (PIPELINE, SERVICE, SOURCE):
        delete_ok(stubs, name)
    cleanup(stubs, active=[2], inactive=[1])
    code, lines, err = run(capsys, "destroy", "--yes", "--config", str(project))
    stubs.done()
    assert code == 0, err
    assert lines == [
        f"{PIPELINE}: deleted",
        f"{SERVICE}: deleted",
        f"{SOURCE}: deleted",
        "sample3-dev-task: 1 task-definition revisions deregistered, 2 deleted",
        "/aws/ecs/containerinsights/sample3-dev-cluster/performance: deleted",
    ]
    assert (
        f"will delete in ap-northeast-1, in order: {PIPELINE}, {SERVICE}, {SOURCE}\n"
        "  the CodeCommit repository and its history go with the source stack\n"
        "  then the 2 task-definition revisions of family sample3-dev-task and the Container "
        "Insights log group /aws/ecs/containerinsights/sample3-dev-cluster/performance (made "
        "outside the stacks)\n"
    ) in err


@pytest.mark.parametrize("answer", [False, click.exceptions.Abort()])
def test_destroy_declined_or_interrupted_at_the_prompt_deletes_nothing(
    project: Path,
    stubs: Stubs,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    answer: Any,
) -> None:
    def confirm(*args: Any, **kwargs: Any) -> bool:
        if isinstance(answer, BaseException):
            raise answer
        return bool(answer)

    monkeypatch.setattr(common, "interactive", lambda: True)
    monkeypatch.setattr(typer, "confirm", confirm)
    plan(stubs, objects=0)
    code, lines, err = run(capsys, "destroy", "--config", str(project))
    stubs.done()
    assert code == 1 and lines == []
    assert "error: destroy cancelled; nothing was deleted" in err


def test_destroy_failed_names_the_failure(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    plan(stubs, objects=0)
    stack(stubs, PIPELINE, "CREATE_COMPLETE")
    events(stubs, PIPELINE, [])
    stubs.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(PIPELINE)})
    failed = [event(PIPELINE, 1, "Rule", "AWS::Events::Rule", "DELETE_FAILED", "Access denied")]
    events(stubs, PIPELINE, failed)
    stack(
        stubs,
        PIPELINE,
        "DELETE_FAILED",
        key=stack_id(PIPELINE),
        reason="The following resource(s) failed to delete: [Rule].",
    )
    events(stubs, PIPELINE, failed)

    code, lines, err = run(capsys, "destroy", "--yes", "--config", str(project))

    stubs.done()
    assert code == 1
    assert lines == [
        f"{PIPELINE}: DELETE_FAILED",
        "  The following resource(s) failed to delete: [Rule].",
        "  Rule (AWS::Events::Rule) DELETE_FAILED: Access denied",
    ]
    assert "error: destroy failed; the stacks after the failed one were not deleted" in err


def test_destroy_with_nothing_there_names_the_region(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in (PIPELINE, SERVICE, SOURCE):
        missing_stack(stubs, name)
    revisions(stubs, "ACTIVE", [])
    revisions(stubs, "INACTIVE", [])
    insights_groups(stubs, [])
    code, lines, err = run(capsys, "destroy", "--yes", "--config", str(project))
    stubs.done()
    assert code == 0 and lines == []
    assert "exist in ap-northeast-1; nothing to destroy" in err


def test_ctrl_c_during_destroy_says_what_goes_on(
    project: Path, stubs: Stubs, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cfn, "wait_stack", interrupted)
    plan(stubs, objects=0)
    stack(stubs, PIPELINE, "CREATE_COMPLETE")
    events(stubs, PIPELINE, [])
    stubs.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(PIPELINE)})

    code, _, err = run(capsys, "destroy", "--yes", "--config", str(project))

    stubs.done()
    assert code == 130
    assert f"interrupted: {PIPELINE}: CloudFormation keeps deleting it without bluegreen" in err
    assert (
        "to continue: wait for the deletion to finish, then run "
        f"`bluegreen destroy --yes --config {project}` again to continue"
    ) in err


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
