"""`bluegreen deploy` and `bluegreen destroy` end to end: the real CLI against the emulated
AWS (tests/e2e.py), asserting what a user sees and what the account holds after.

A system's whole life (deploy, the first release followed and promoted, a second
release, a config change, refused changes, destroy with nothing left behind) is one
scenario in test_e2e_refusals.py, which also shows it trips none of AWS's refusals.
The scenarios here are the other roads: a dry run, files CodeCommit would refuse, a
stack left by a failed create, a failed update, a role made meanwhile by someone else,
busy and failed stacks, a declined or unanswered prompt, Ctrl-C at every stage of a
deploy, and what destroy finds in an account without stacks.

AWS behaviours the emulator does not model are made here the way the outside party
would make them (someone else's ECR repository, a role created by another deploy, a
pipeline run writing an artifact); each says so where it happens.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click
import pytest
import typer
from e2e_support import (
    FAMILY,
    INSIGHTS,
    PIPELINE,
    REPO,
    SERVICE,
    SLR,
    SOURCE,
    WHERE,
    config_edited,
    ctrl_c,
    e2e_fixture,  # noqa: F401 (fixture)
    leftovers,
    rerun_promotes_the_first_release,
    sleep_doing,
    stack,
    stack_statuses,
    wait_until,
)
from emulated import Emulated, emulated  # noqa: F401 (the fixture e2e builds on)

from bluegreen.aws import cfn
from bluegreen.aws import release as release_mod
from bluegreen.cli import common
from bluegreen.errors import StateError

SIX_MB = 6 * 1024 * 1024
"""CodeCommit's per-file limit for the API: botocore's FileContent maximum, 6291456."""

LINKS = [
    "production  http://sample3-dev-alb-1.ap-northeast-1.elb.amazonaws.com",
    "test        http://sample3-dev-alb-1.ap-northeast-1.elb.amazonaws.com:8080",
    "pipeline    https://ap-northeast-1.console.aws.amazon.com/codesuite/codepipeline/"
    "pipelines/sample3-dev-pipeline/view?region=ap-northeast-1",
    "deployments https://ap-northeast-1.console.aws.amazon.com/codesuite/codedeploy/"
    "applications/sample3-dev-app/deployment-groups/sample3-dev-deployment-group"
    "?region=ap-northeast-1",
]


def _files(root: Path, *leave_out: str) -> list[str]:
    return sorted(
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and str(p.relative_to(root)) not in leave_out
    )


def _answers(monkeypatch: pytest.MonkeyPatch, *answers: bool | BaseException) -> list[str]:
    """A person at the terminal answering the prompts in turn; the questions asked."""
    asked: list[str] = []
    queue = list(answers)

    def confirm(question: str, *args: Any, **kwargs: Any) -> bool:
        asked.append(question)
        answer = queue.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    monkeypatch.setattr(common, "interactive", lambda: True)
    monkeypatch.setattr(typer, "confirm", confirm)
    return asked


# ---- before anything changes ---------------------------------------------------------------


def test_a_dry_run_lists_what_it_would_do_and_changes_nothing(e2e: Emulated) -> None:
    aws, root = e2e.aws, e2e.root
    gitignore = root / ".gitignore"
    gitignore.write_text(gitignore.read_text(encoding="utf-8") + "*.log\n", encoding="utf-8")
    (root / "debug.log").write_text("x\n", encoding="utf-8")
    expected = _files(root, "debug.log")

    done = e2e.cli("deploy", "--dry-run")

    assert done.code == 0, done.err
    lines = done.out.splitlines()
    start = lines.index(f"{SOURCE}: would be created")
    assert lines[start:] == [
        f"{SOURCE}: would be created",
        f"{SERVICE}: would be created",
        f"{PIPELINE}: would be created",
        f"ECS service-linked role {SLR}: would be created",
        f"first commit: would push {len(expected)} files:",
        *[f"  {path}" for path in expected],  # .gitignore honoured: no debug.log
    ]
    assert f"{SERVICE}{WHERE}: CREATE 23 changes" in lines
    # An account with no CodeCommit repository is told before anything (B4), in one short
    # line: CodeCommit is generally available again (2025-11), so the restriction's
    # history and what to do come only with a refusal (preflight.codecommit_refusal).
    note = done.err.splitlines()[0]
    assert note == (
        "note: this account has no CodeCommit repository in ap-northeast-1 yet; if CodeCommit "
        "refuses to create one (OperationNotAllowedException), deploy says what to do then"
    )
    assert f"would create the ECS service-linked role {SLR}" in done.err
    # Nothing was created: no stack (not even REVIEW_IN_PROGRESS), repository or role.
    assert leftovers(aws) == {}

    # The same in JSON, in an account that has a repository and the role already.
    aws.client("codecommit").create_repository(repositoryName="another-team")
    aws.client("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    done = e2e.cli("deploy", "--dry-run", "-o", "json")
    assert done.code == 0, done.err
    document = json.loads(done.out)
    assert [s["action"] for s in document["stacks"]] == ["would-create"] * 3
    assert document["would_commit"] == expected
    assert document["would_commit_files"] == len(expected)
    assert document["notes"] == []  # a repository proves CodeCommit lets it make one
    assert document["service_linked_role"] == "exists"
    assert document["first_commit"] is None and document["links"] is None
    assert document["in_flight"] is None and document["ok"] is True
    assert "note:" not in done.err
    assert leftovers(aws) == {"codecommit": ["another-team"], "roles": [SLR]}


def test_files_codecommit_would_refuse_are_named_before_anything_changes(
    e2e: Emulated,
) -> None:
    """B1: CreateCommit refuses an empty file (FileContentRequiredException) and takes a
    file of at most 6 MB (botocore CodeCommit model); a secret-looking file is refused
    unless allowed; every problem is named at once and nothing is changed."""
    aws, root = e2e.aws, e2e.root
    (root / "webapp" / "tests" / "__init__.py").write_bytes(b"")
    (root / "assets").mkdir()
    (root / "assets" / "big.bin").write_bytes(b"x" * (SIX_MB + 1))
    (root / ".env").write_text("DB_PASSWORD=hunter2\n", encoding="utf-8")
    taskdef = (root / "taskdef.json").read_text(encoding="utf-8")
    (root / "taskdef.json").unlink()

    done = e2e.cli("deploy", "--yes")

    assert done.code == 2 and done.out == ""
    assert "missing taskdef.json" in done.err
    assert "webapp/tests/__init__.py is empty; CodeCommit's API refuses empty files" in done.err
    assert f"assets/big.bin is {SIX_MB + 1} bytes; CodeCommit's API takes files up to" in (done.err)
    assert ".env look like secrets" in done.err and "--allow-secret-files" in done.err
    assert "nothing was changed" in done.err
    assert "again to continue" not in done.err and "interrupted" not in done.err
    assert leftovers(aws) == {}

    # Fixed but for the secret, which is allowed: the dry run lists it to be committed.
    (root / "webapp" / "tests" / "__init__.py").write_text('"""Tests."""\n', encoding="utf-8")
    (root / "assets" / "big.bin").unlink()
    (root / "taskdef.json").write_text(taskdef, encoding="utf-8")
    done = e2e.cli("deploy", "--dry-run", "--allow-secret-files")
    assert done.code == 0, done.err
    assert "  .env" in done.out.splitlines()
    assert leftovers(aws) == {}


@pytest.mark.parametrize("output", ["text", "json"])
def test_a_repository_verify_would_fail_is_never_the_first_commit(
    e2e: Emulated, output: str
) -> None:
    """The first commit is made once: a taskdef.json the first release would fail on
    (found by `bluegreen verify`'s repository checks) is refused before anything changes,
    in a dry run too."""
    (e2e.root / "taskdef.json").write_text('{"family": \n', encoding="utf-8")
    for args in (["--dry-run"], ["--yes"]):
        done = e2e.cli("deploy", *args, *(["-o", "json"] if output == "json" else []))
        assert done.code == 2
        if output == "json":
            document = json.loads(done.out)
            assert document["ok"] is False and document["exit_code"] == 2
            assert "taskdef.json: not valid JSON" in document["error"]
        else:
            assert "is not ready to be the first commit" in done.err
            assert "taskdef.json: not valid JSON" in done.err
            assert "`bluegreen verify` checks them offline" in done.err
    assert leftovers(e2e.aws) == {}


def test_an_oversized_template_is_refused_before_any_call(
    e2e: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cfn, "TEMPLATE_BODY_LIMIT", 1000)
    done = e2e.cli("deploy", "--yes")
    assert done.code == 1 and done.out == ""
    assert re.search(r"the sample3-dev-source template is \d+ bytes", done.err)
    assert "nothing was changed" in done.err
    assert leftovers(e2e.aws) == {} and e2e.aws.refusals == []


def test_busy_and_failed_stacks_are_refused_before_anything_changes(e2e: Emulated) -> None:
    """Stacks of these names made by someone else, caught mid-create and after a failed
    delete (the emulated CloudFormation fails to delete a bucket that holds objects)."""
    aws = e2e.aws
    cfn_client = aws.client("cloudformation")
    log_group = {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}}
    cfn_client.create_stack(StackName=SERVICE, TemplateBody=json.dumps(log_group))

    done = e2e.cli("deploy", "--yes")  # no time has passed: still creating

    assert done.code == 1 and done.out == ""
    assert done.err.startswith(
        f"error: stack {SERVICE} in ap-northeast-1 is busy (CREATE_IN_PROGRESS)"
    )
    assert "nothing was changed" in done.err
    assert stack_statuses(aws) == {SERVICE: "CREATE_IN_PROGRESS"}

    bucket = {"Resources": {"Bucket": {"Type": "AWS::S3::Bucket"}}}
    cfn_client.create_stack(StackName=PIPELINE, TemplateBody=json.dumps(bucket))
    assert wait_until(e2e, lambda: stack_statuses(aws).get(PIPELINE) == "CREATE_COMPLETE")
    [resource] = cfn_client.list_stack_resources(StackName=PIPELINE)["StackResourceSummaries"]
    aws.client("s3").put_object(Bucket=resource["PhysicalResourceId"], Key="k", Body=b"1")
    cfn_client.delete_stack(StackName=PIPELINE)
    assert wait_until(e2e, lambda: stack_statuses(aws).get(PIPELINE) == "DELETE_FAILED")

    done = e2e.cli("deploy", "--yes")

    assert done.code == 1 and done.out == ""
    assert done.err.startswith(
        f"error: stack {PIPELINE} in ap-northeast-1 is DELETE_FAILED and cannot be updated"
    )
    assert "nothing was changed" in done.err
    assert stack_statuses(aws) == {SERVICE: "CREATE_COMPLETE", PIPELINE: "DELETE_FAILED"}
    assert "codecommit" not in leftovers(aws)


# ---- a failed create, a failed update, a role made meanwhile, declined change sets ----------


def test_failed_stacks_say_why_and_a_rerun_recovers(
    e2e: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = e2e.aws
    ecr = aws.client("ecr")
    # Someone else's image repository has the name the source stack gives its own.
    ecr.create_repository(repositoryName="sample3-dev-webapp")

    done = e2e.cli("deploy", "--yes")

    assert done.code == 1
    lines = done.out.splitlines()
    assert lines[lines.index(f"{SOURCE}{WHERE}: CREATE 3 changes") + 4 :] == [
        f"{SOURCE}: FAILED (ROLLBACK_COMPLETE)",
        "  AppImageRepository (AWS::ECR::Repository) CREATE_FAILED: Resource handler returned "
        "message: \"The repository with name 'sample3-dev-webapp' already exists in the "
        "registry with id '123456789012'\" (Service: CreateRepository, Error Code: "
        "RepositoryAlreadyExistsException)",
    ]
    assert f"error: deploy failed: {SOURCE}" in done.err
    # Rolled back: nothing of the source stack is left, and nothing after it was made.
    assert stack_statuses(aws) == {SOURCE: "ROLLBACK_COMPLETE"}
    assert leftovers(aws) == {"ecr": ["sample3-dev-webapp"], "stacks": [SOURCE]}

    # The repository is removed; the stack left by the failed create is deleted and
    # created again; the service's change set is declined: it and its empty stack go.
    ecr.delete_repository(repositoryName="sample3-dev-webapp")
    asked = _answers(monkeypatch, True, False)
    done = e2e.cli("deploy")
    assert done.code == 1
    assert asked == [
        f"Execute the change set for {SOURCE}{WHERE}?",
        f"Execute the change set for {SERVICE}{WHERE}?",
    ]
    assert f"{SOURCE}: deleting the stack left by a failed create (ROLLBACK_COMPLETE)" in done.err
    assert re.search(
        rf"{SERVICE}: change set {SERVICE}-\d{{14}} declined and deleted with the empty "
        "stack it created",
        done.err,
    )
    assert "error: deploy cancelled: a change set was declined; later stacks untouched" in (
        done.err
    )
    assert done.out.splitlines()[-3:-1] == [
        f"{SOURCE}: created",
        f"{SERVICE}: declined (change set deleted)",
    ]
    assert done.out.splitlines()[-1].startswith(f"{REPO}: first commit ")
    assert stack_statuses(aws) == {SOURCE: "CREATE_COMPLETE"}
    assert SLR not in leftovers(aws).get("roles", [])  # made only before a service is

    # A source update that fails: the renamed image repository's name is taken too.
    ecr.create_repository(repositoryName="sample3-dev-web")
    monkeypatch.setattr(common, "interactive", lambda: False)
    with config_edited(e2e, app__name="web"):
        done = e2e.cli("deploy", "--yes")
    assert done.code == 1
    assert done.out.splitlines()[-2:] == [
        f"{SOURCE}: FAILED (UPDATE_ROLLBACK_COMPLETE)",
        "  AppImageRepository (AWS::ECR::Repository) UPDATE_FAILED: Resource handler returned "
        "message: \"The repository with name 'sample3-dev-web' already exists in the "
        "registry with id '123456789012'\" (Service: CreateRepository, Error Code: "
        "RepositoryAlreadyExistsException)",
    ]
    assert stack_statuses(aws) == {SOURCE: "UPDATE_ROLLBACK_COMPLETE"}
    assert "sample3-dev-webapp" in leftovers(aws)["ecr"]  # rolled back to the old name

    # While the source stack's change set is computed, another deploy (or a console
    # user) creates the ECS service-linked role: this one finds the name taken (IAM's
    # InvalidInput) and goes on; the pipeline is declined.
    def role_made_by_someone_else() -> None:
        aws.client("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")

    monkeypatch.setattr(common, "sleep", sleep_doing(aws, lambda: True, role_made_by_someone_else))
    _answers(monkeypatch, True, False)
    done = e2e.cli("deploy")
    assert done.code == 1
    assert f"the ECS service-linked role {SLR} was just created by someone else" in done.err
    assert done.out.splitlines()[-3:] == [
        f"{SOURCE}: no changes",
        f"{SERVICE}: created",
        f"{PIPELINE}: declined (change set deleted)",
    ]
    assert "created the ECS service-linked role" not in done.err
    assert stack_statuses(aws) == {SOURCE: "UPDATE_ROLLBACK_COMPLETE", SERVICE: "CREATE_COMPLETE"}


def test_a_stack_left_in_review_is_new_and_no_answer_at_the_prompt_is_no(
    e2e: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A CREATE change set never executed leaves the stack in REVIEW_IN_PROGRESS; deploy
    treats it as new. Ctrl-C or end of input at the prompt is click's Abort
    (click.termui.confirm), taken as no: the change set and the empty stack go."""
    aws = e2e.aws
    aws.client("cloudformation").create_change_set(
        StackName=SOURCE,
        ChangeSetName="left-by-someone",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps({"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}}),
    )
    assert stack_statuses(aws) == {SOURCE: "REVIEW_IN_PROGRESS"}
    _answers(monkeypatch, click.exceptions.Abort())

    done = e2e.cli("deploy")

    assert done.code == 1
    assert done.out.splitlines()[0] == f"{SOURCE}{WHERE}: CREATE 3 changes"
    assert done.out.splitlines()[-1] == f"{SOURCE}: declined (change set deleted)"
    assert "(no answer: treated as no)" in done.err
    assert "declined and deleted with the empty stack it created" in done.err
    assert "error: deploy cancelled: a change set was declined; later stacks untouched" in (
        done.err
    )
    assert leftovers(aws) == {}


# ---- Ctrl-C, and failures while following --------------------------------------------------


def test_ctrl_c_before_anything_changed_says_so(
    e2e: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(cfn, "describe_stack", interrupted)
    done = e2e.cli("deploy", "--yes")
    assert done.code == 130 and done.out == ""
    assert done.err.strip() == "interrupted before anything was changed"
    assert leftovers(e2e.aws) == {}


def test_every_stop_says_what_goes_on_and_a_rerun_continues(
    e2e: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    aws = e2e.aws

    # Ctrl-C while CloudFormation creates the source stack: it goes on without bluegreen.
    def source_creating() -> bool:
        found = stack(aws, SOURCE)
        return found is not None and found["StackStatus"] == "CREATE_IN_PROGRESS"

    monkeypatch.setattr(common, "sleep", sleep_doing(aws, source_creating, ctrl_c))
    done = e2e.cli("deploy", "--yes", "--region", "ap-northeast-1")
    assert done.code == 130
    assert done.out.splitlines()[0] == f"{SOURCE}{WHERE}: CREATE 3 changes"
    [state, resume] = [
        line for line in done.err.splitlines() if line.startswith(("interrupted", "to continue"))
    ]
    assert re.fullmatch(
        rf"interrupted: {SOURCE}: CloudFormation keeps executing change set {SOURCE}-\d{{14}} "
        r"without bluegreen \(https://ap-northeast-1\.console\.aws\.amazon\.com/"
        r"cloudformation/home\?region=ap-northeast-1#/stacks/stackinfo\?stackId=\S+\)",
        state,
    )
    assert resume == (
        "to continue: wait for it to finish (`bluegreen status`, or the console), then run "
        "`bluegreen deploy --yes --region ap-northeast-1` again to continue"
    )
    monkeypatch.setattr(common, "sleep", aws.sleep)
    assert wait_until(e2e, lambda: stack_statuses(aws) == {SOURCE: "CREATE_COMPLETE"})

    # The rerun makes the first commit and the other stacks; following the first release
    # then fails (the error shape here is bluegreen's own "no first run listed", which
    # the emulated pipeline, starting its first run on creation, never gives): P3, the
    # JSON document is printed all the same, with the error.
    never_listed = StateError(
        f"the stacks are deployed, but pipeline {PIPELINE} has not listed a first run after "
        "50 s, so there is no release to follow",
        hint="start the first release with `bluegreen release`",
    )

    def fails(*args: Any, **kwargs: Any) -> Any:
        raise never_listed

    following = release_mod.first_release
    monkeypatch.setattr(release_mod, "first_release", fails)
    done = e2e.cli("deploy", "--yes", "-o", "json")
    assert done.code == 1
    document = json.loads(done.out)
    assert [s["action"] for s in document["stacks"]] == ["no-changes", "create", "create"]
    assert document["first_commit"]["commits"] and document["first_release"] is None
    assert document["ok"] is False
    # the members every failure document has (cli/common.py), beside the result
    assert (document["kind"], document["error"], document["hint"], document["exit_code"]) == (
        "operation",
        never_listed.message,
        "start the first release with `bluegreen release`",
        1,
    )
    assert document["in_flight"]["subject"] == PIPELINE
    assert f"error: {never_listed.message}" in done.err
    monkeypatch.setattr(release_mod, "first_release", following)

    # Ctrl-C while following the first release (its deployment has started): the release
    # goes on; the JSON document says it was interrupted.
    def deploying() -> bool:
        return bool(aws.client("codedeploy").list_deployments()["deployments"])

    monkeypatch.setattr(common, "sleep", sleep_doing(aws, deploying, ctrl_c))
    done = e2e.cli("deploy", "--yes", "-o", "json")
    assert done.code == 130
    document = json.loads(done.out)
    assert document["interrupted"] is True and document["ok"] is False
    assert [s["action"] for s in document["stacks"]] == ["no-changes"] * 3
    assert document["in_flight"] == {
        "subject": PIPELINE,
        "state": "its first release keeps running on AWS without bluegreen; once green "
        "answers on :8080 it waits 10 min for `bluegreen promote`",
        "resume": "`bluegreen status --watch` shows it; run `bluegreen deploy` again to "
        "follow and promote it",
    }
    assert (
        f"interrupted: {PIPELINE}: its first release keeps running on AWS without bluegreen"
    ) in done.err
    assert (
        "to continue: `bluegreen status --watch` shows it; run `bluegreen deploy --yes` "
        "again to follow and promote it"
    ) in done.err

    # The rerun follows that same first release and promotes it (P1).
    monkeypatch.setattr(common, "sleep", aws.sleep)
    rerun_promotes_the_first_release(e2e, LINKS)


# ---- destroy in an account without stacks ----------------------------------------------------


def test_destroy_without_stacks_cleans_what_an_earlier_destroy_left(e2e: Emulated) -> None:
    aws = e2e.aws
    done = e2e.cli("destroy", "--yes")
    assert done.code == 0 and done.out == ""
    assert done.err.strip() == (
        f"no bluegreen stacks ({SOURCE}, {SERVICE}, {PIPELINE}) exist in ap-northeast-1; "
        "nothing to destroy"
    )

    # What an interrupted destroy can leave outside the stacks: revisions of the family
    # (one still ACTIVE) and the Container Insights log group CloudWatch made. A family
    # whose name only starts with the same text is someone else's (familyPrefix matches
    # it too: ECS API reference, ListTaskDefinitions).
    ecs = aws.client("ecs")
    container = [{"name": "app", "image": "app", "memory": 128}]
    for family in (FAMILY, FAMILY, f"{FAMILY}2"):
        ecs.register_task_definition(family=family, containerDefinitions=container)
    ecs.deregister_task_definition(taskDefinition=f"{FAMILY}:1")
    aws.client("logs").create_log_group(logGroupName=INSIGHTS)

    done = e2e.cli("destroy", "--yes")

    assert done.code == 0, done.err
    assert done.err.startswith(
        "no bluegreen stacks exist in ap-northeast-1; only what they left behind outside them"
    )
    assert "then the 2 task-definition revisions of family sample3-dev-task and the " in done.err
    assert done.out.splitlines() == [
        f"{FAMILY}: 1 task-definition revisions deregistered, 2 deleted",
        f"{INSIGHTS}: deleted",
    ]
    assert leftovers(aws) == {
        "task definitions": [
            "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/sample3-dev-task2:1"
        ]
    }


def test_destroy_goes_on_past_a_stack_deleted_meanwhile(
    e2e: Emulated, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone deletes the service stack (the console, a second destroy) while destroy
    waits for the pipeline stack: destroy finds it gone, counts it deleted and goes on
    to the source stack; each stack it deletes itself is announced."""
    aws = e2e.aws
    deployed = e2e.cli("deploy", "--yes", "--no-follow")
    assert deployed.code == 0, deployed.err
    cloudformation = aws.client("cloudformation")

    def deleting() -> bool:
        found = stack(aws, PIPELINE)
        return found is not None and found["StackStatus"] == "DELETE_IN_PROGRESS"

    def delete_the_service_stack() -> None:
        # the pipeline stack imports the service stack's outputs: it goes first
        while stack(aws, PIPELINE) is not None:
            aws.sleep(10)
        cloudformation.delete_stack(StackName=SERVICE)
        while stack(aws, SERVICE) is not None:
            aws.sleep(10)

    monkeypatch.setattr(common, "sleep", sleep_doing(aws, deleting, delete_the_service_stack))
    done = e2e.cli("destroy", "--yes", "--empty-bucket", "--delete-images", "-o", "json")
    assert done.code == 0, done.err
    document = json.loads(done.out)
    assert [(s["stack"], s["status"]) for s in document["stacks"]] == [
        (PIPELINE, "DELETE_COMPLETE"),
        (SERVICE, "DELETE_COMPLETE"),
        (SOURCE, "DELETE_COMPLETE"),
    ]
    assert stack_statuses(aws) == {}
    progress = done.err.splitlines()
    assert f"{PIPELINE}: deleting" in progress and f"{SOURCE}: deleting" in progress
    assert f"{SERVICE}: deleting" not in progress


def test_destroy_plans_past_a_bucket_deleted_out_of_band(e2e: Emulated) -> None:
    """The artifact bucket was emptied and deleted by hand (the S3 console): the plan
    finds no objects in it (ListObjectVersions: NoSuchBucket, S3 API reference) and
    starts deleting without asking for --empty-bucket."""
    aws = e2e.aws
    deployed = e2e.cli("deploy", "--yes", "--no-follow")
    assert deployed.code == 0, deployed.err
    bucket = next(
        r["PhysicalResourceId"]
        for r in aws.client("cloudformation").list_stack_resources(StackName=PIPELINE)[
            "StackResourceSummaries"
        ]
        if r["LogicalResourceId"] == "ArtifactBucket"
    )
    s3 = aws.client("s3")
    versions = s3.list_object_versions(Bucket=bucket)
    for item in versions.get("Versions", []) + versions.get("DeleteMarkers", []):
        s3.delete_object(Bucket=bucket, Key=item["Key"], VersionId=item["VersionId"])
    s3.delete_bucket(Bucket=bucket)

    done = e2e.cli("destroy", "--yes", "--delete-images")
    # The plan counts the missing bucket as empty and deletion starts (how CloudFormation
    # then treats the missing bucket is the emulated CloudFormation's business, not the
    # plan's; nothing in the plan refers to the bucket).
    assert [line for line in done.err.splitlines() if not line.startswith(" ")][:2] == [
        f"will delete in ap-northeast-1, in order: {PIPELINE}, {SERVICE}, {SOURCE}",
        f"{PIPELINE}: deleting",
    ]
