"""The refusals of issue 7 item 4: the emulated AWS makes each one as AWS does, and
bluegreen's own flows never trigger any of them.

Each refusal has two tests. The emulator's side is in the emulator's own test modules
(the AWS error code and message, with their sources); :data:`REFUSALS` names them and
:func:`test_the_emulator_makes_each_refusal_in_its_own_tests` keeps the references
honest. bluegreen's side is :func:`test_a_whole_life_triggers_none_of_them`: the real CLI
from an empty account through a deploy that follows and promotes the first release, a
second release (git push, promote, finish), a rollback after it succeeded, a config
change (task.desired_count 1 -> 3 through `bluegreen deploy`), changes the service cannot
take (refused, nothing changed), and `destroy` (refused, declined, failed, interrupted
and resumed) until nothing is left; the account's record of refusals and pipeline
failures then holds none of them.

One run serves every assertion of that life (a full deploy and two releases take ~10 s),
so it is one test whose steps say what they check.
"""

from __future__ import annotations

import importlib
import inspect
import json
import random
import re
from typing import Any

import click
import pytest
import typer
import yaml
from e2e_support import (
    CLUSTER,
    ECS_SERVICE,
    INSIGHTS,
    PIPELINE,
    REPO,
    SERVICE,
    SLR,
    SOURCE,
    WHERE,
    change_sets,
    config_edited,
    ctrl_c,
    deployment_phase,
    e2e_fixture,  # noqa: F401 (fixture)
    failed_actions,
    leftovers,
    rerun_promotes_the_first_release,
    set_config,
    sleep_doing,
    snapshot,
    stack,
    stack_statuses,
    wait_until,
)
from emulated import Emulated, emulated  # noqa: F401 (the fixture e2e builds on)

from bluegreen.aws import deploy as deploy_mod
from bluegreen.cli import common
from bluegreen.emulator.services.codepipeline import MAX_ECS_ARTIFACT_BYTES
from bluegreen.stacks import build

REFUSALS = {
    # name: (service, operation, AWS error code, the emulator test showing the refusal)
    "empty file in CreateCommit": (
        "codecommit",
        "CreateCommit",
        "FileContentRequiredException",
        "test_emulator_codecommit::test_an_empty_file_is_refused_and_nothing_changes",
    ),
    "a build beyond the concurrent-build quota (1)": (
        "codebuild",
        "StartBuild",
        "AccountLimitExceededException",
        "test_emulator_codebuild::test_a_second_concurrent_build_is_refused_at_quota_1",
    ),
    "a CodeDeployToECS input artifact over 3 MB": (
        "codepipeline",
        "Deploy action",
        "JobFailed",
        "test_emulator_pipeline::test_a_deploy_input_artifact_over_3_mb_fails_the_deploy_action",
    ),
    "UpdateService of what CodeDeploy owns on a CODE_DEPLOY service": (
        "ecs",
        "UpdateService",
        "InvalidParameterException",
        "test_emulator_ecs::test_update_service_refuses_what_codedeploy_owns_even_unchanged",
    ),
    "UpdateServicePrimaryTaskSet when the controller is not EXTERNAL": (
        "ecs",
        "UpdateServicePrimaryTaskSet",
        "InvalidParameterException",
        "test_emulator_ecs::test_task_set_operations_are_refused_unless_the_controller_is_external",
    ),
    "ContinueDeployment of a deployment that is not Ready": (
        "codedeploy",
        "ContinueDeployment",
        "DeploymentIsNotInReadyStateException",
        "test_emulator_codedeploy::test_continue_deployment_is_refused_unless_the_deployment_is_ready",
    ),
}

LOOKUPS = {
    # What the life's commands ask about things that are not there (yet), and the answer
    # AWS gives: a stack that does not exist is a ValidationError (boto/boto3#2807), an
    # empty repository has no branch (botocore CodeCommit model, GetBranch errors), a
    # deployment just created has no targets yet (DeploymentNotStartedException, botocore
    # CodeDeploy model, ListDeploymentTargets; bluegreen.aws.codedeploy reads it as none).
    # (The record holds what bluegreen's emulated services refuse, every refusal of
    # issue 7 among them; errors moto itself answers are not in it.)
    ("cloudformation", "DescribeStacks", "ValidationError"),
    ("codecommit", "GetBranch", "BranchDoesNotExistException"),
    ("codedeploy", "ListDeploymentTargets", "DeploymentNotStartedException"),
}


@pytest.mark.parametrize("name", sorted(REFUSALS))
def test_the_emulator_makes_each_refusal_in_its_own_tests(name: str) -> None:
    service, operation, code, where = REFUSALS[name]
    module_name, test_name = where.split("::")
    test = getattr(importlib.import_module(module_name), test_name)
    source = inspect.getsource(test)
    # The test asserts the refusal's code (the 3 MB failure: its message, the code is
    # CodePipeline's JobFailed for every failed job).
    assert (code if code != "JobFailed" else "Exception while trying to read") in source


def _links() -> list[str]:
    return [
        "production  http://sample3-dev-alb-1.ap-northeast-1.elb.amazonaws.com",
        "test        http://sample3-dev-alb-1.ap-northeast-1.elb.amazonaws.com:8080",
        "pipeline    https://ap-northeast-1.console.aws.amazon.com/codesuite/codepipeline/"
        "pipelines/sample3-dev-pipeline/view?region=ap-northeast-1",
        "deployments https://ap-northeast-1.console.aws.amazon.com/codesuite/codedeploy/"
        "applications/sample3-dev-app/deployment-groups/sample3-dev-deployment-group"
        "?region=ap-northeast-1",
    ]


def _committed_files(e2e: Emulated) -> list[str]:
    return sorted(e2e.git("ls-tree", "-r", "--name-only", "HEAD").split())


def _ecs_service(e2e: Emulated) -> dict[str, object]:
    services = e2e.aws.client("ecs").describe_services(cluster=CLUSTER, services=[ECS_SERVICE])[
        "services"
    ]
    return dict(services[0])


def _resource(state: dict[str, Any], logical_id: str) -> Any:
    """A resource of the service stack's deployed template (GetTemplate's body: botocore
    hands a JSON body over parsed, a YAML one as text)."""
    body = state[SERVICE]["template"]
    template = yaml.safe_load(body) if isinstance(body, str) else body
    return template["Resources"][logical_id]


def _answering(answer: object) -> object:
    def confirm(*args: object, **kwargs: object) -> bool:
        if isinstance(answer, BaseException):
            raise answer
        return bool(answer)

    return confirm


def _objects(e2e: Emulated, bucket: str) -> int:
    listed = e2e.aws.client("s3").list_object_versions(Bucket=bucket)
    return len(listed.get("Versions", [])) + len(listed.get("DeleteMarkers", []))


def test_a_whole_life_triggers_none_of_them(e2e: Emulated, monkeypatch: pytest.MonkeyPatch) -> None:
    aws, root = e2e.aws, e2e.root
    links = _links()

    # ---- the repository: an ignored file, and an asset that makes its ZIP > 3 MB ------------
    gitignore = root / ".gitignore"
    gitignore.write_text(gitignore.read_text(encoding="utf-8") + "*.log\n", encoding="utf-8")
    (root / "debug.log").write_text("not for the repository\n", encoding="utf-8")
    (root / "assets").mkdir()
    # Incompressible: the source artifact (the commit's tree as a ZIP) stays above 3 MB.
    (root / "assets" / "photo.bin").write_bytes(random.Random(0).randbytes(4 * 1024 * 1024))
    expected = sorted(
        str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and p.name != "debug.log"
    )

    # ---- deploy from an empty account, not following ------------------------------------------
    done = e2e.cli("deploy", "--yes", "--no-follow")
    assert done.code == 0, done.err
    e2e.adopt_first_commit()
    head = e2e.git("rev-parse", "HEAD").strip()
    lines = done.out.splitlines()
    assert (
        [line for line in lines if not line.startswith("  ")]
        == [
            f"{SOURCE}{WHERE}: CREATE 3 changes",
            f"{SERVICE}{WHERE}: CREATE 23 changes",
            f"{PIPELINE}{WHERE}: CREATE 20 changes",  # 15, and 5 for the branch checks
            f"{SOURCE}: created",
            f"{SERVICE}: created",
            f"{PIPELINE}: created",
            f"ECS service-linked role {SLR}: created",
            f"{REPO}: first commit {head[:8]} on main ({len(expected)} files)",
            *links,
        ]
    )
    # Each CREATE change set listed every resource of its template, to be added.
    shown: dict[str, set[tuple[str, str, str]]] = {}
    current = ""
    for line in lines[: lines.index(f"{SOURCE}: created")]:
        if line.startswith("  "):
            action, logical_id, resource_type = line.split()
            shown[current].add((action, logical_id, resource_type))
        else:
            current = line.split(":")[0].removesuffix(WHERE)
            shown[current] = set()
    assert shown == {
        built.name: {
            ("Add", logical_id, body["Type"])
            for logical_id, body in built.template.to_dict()["Resources"].items()
        }
        for built in build(e2e.config)
    }
    # The first commit holds what git would commit: .gitignore honoured, the 4 MB asset in.
    assert _committed_files(e2e) == expected
    assert "debug.log" not in expected and "assets/photo.bin" in expected
    # Said before anything: the account has no CodeCommit repository yet (B4).
    assert done.err.startswith(
        "note: this account has no CodeCommit repository in ap-northeast-1 yet;"
    )
    # The order: source stack, first commit, service change set, the role (B2), service.
    steps = [
        f"{SOURCE}: CREATE_COMPLETE",
        f"{REPO}: committed {len(expected)} files to main (one commit)",
        f"{SERVICE}: creating change set",
        f"created the ECS service-linked role {SLR} (this account had none;",
        f"{SERVICE}: CREATE_COMPLETE",
        f"{PIPELINE}: CREATE_COMPLETE",
    ]
    positions = [done.err.index(step) for step in steps]
    assert positions == sorted(positions)
    assert done.err.rstrip().endswith(
        "the first release is running: follow it with `bluegreen status --watch`; when green "
        'answers on :8080, run `bluegreen promote` within 10 min (deployment.reroute = "manual"), '
        "or run `bluegreen deploy` again: it follows the first release and promotes it"
    )
    assert stack_statuses(aws) == {s: "CREATE_COMPLETE" for s in (SOURCE, SERVICE, PIPELINE)}
    assert aws.client("iam").get_role(RoleName=SLR)["Role"]["Path"] == (
        "/aws-service-role/ecs.amazonaws.com/"
    )
    assert change_sets(aws) == {SOURCE: [], SERVICE: [], PIPELINE: []}
    # The pipeline's creation run is the first release, still going (P1).
    assert deploy_mod.first_release_pending(aws.clients(), e2e.config)

    # ---- a rerun: no changes, an empty file is no obstacle now, the first release followed -
    (root / "webapp" / "tests" / "__init__.py").write_bytes(b"")
    before = snapshot(aws)
    progress = rerun_promotes_the_first_release(e2e, links)
    assert "following the first release: " in progress
    assert "promoted the first release (blue was the bootstrap placeholder)" in progress
    # No-change change sets are deleted; the stacks are as they were.
    after = snapshot(aws)
    assert {k: v for k, v in after.items() if k != "ecs-service"} == {
        k: v for k, v in before.items() if k != "ecs-service"
    }
    assert change_sets(aws) == {SOURCE: [], SERVICE: [], PIPELINE: []}

    # ---- a second release: git push, promote, finish -------------------------------------------
    # The first release waits in its termination wait (blue, the placeholder, kept):
    # finish ends it, so the next release's deployment need not wait for it.
    config = e2e.config
    assert deployment_phase(aws, config) == "termination-wait"
    done = e2e.cli("finish")
    assert done.code == 0, done.err
    main = root / "webapp" / "app" / "main.py"
    commit = e2e.push(
        "Say hi", {"webapp/app/main.py": main.read_text(encoding="utf-8").replace("Hello", "Hi")}
    )
    assert wait_until(e2e, lambda: deployment_phase(aws, config) == "waiting-for-reroute")
    done = e2e.cli("promote")
    assert done.code == 0, done.err
    assert wait_until(e2e, lambda: deployment_phase(aws, config) == "termination-wait")
    done = e2e.cli("finish")
    assert done.code == 0, done.err
    assert wait_until(e2e, lambda: deployment_phase(aws, config) == "succeeded")
    done = e2e.cli("status")
    assert done.code == 0 and f"revision {commit[:8]} Say hi" in done.out
    # A release pushed with git is no first release: a rerun of deploy does not follow it.
    assert not deploy_mod.first_release_pending(aws.clients(), config)

    # ---- a rollback after the release succeeded: a CodeDeploy deployment of the previous
    # revision (M3), never UpdateServicePrimaryTaskSet ------------------------------------------
    task_definition = _ecs_service(e2e)["taskDefinition"]
    done = e2e.cli("rollback")
    assert done.code == 0, done.err
    assert wait_until(e2e, lambda: deployment_phase(aws, config) == "termination-wait")
    done = e2e.cli("finish")
    assert done.code == 0, done.err
    assert wait_until(e2e, lambda: deployment_phase(aws, config) == "succeeded")
    assert _ecs_service(e2e)["taskDefinition"] != task_definition

    # ---- a config change: task.desired_count 1 -> 3 (M1), with a change CloudFormation ------
    # makes in place (the log groups' retention 14 -> 30). First as a dry run: the UPDATE
    # change sets are made, shown and deleted, and nothing is sent to ECS.
    set_config(e2e, task__desired_count=3, logs__retention_days=30)
    before = snapshot(aws)
    done = e2e.cli("deploy", "--dry-run")
    assert done.code == 0, done.err
    lines = done.out.splitlines()
    changes = [
        f"{SERVICE}{WHERE}: UPDATE 2 changes",
        "  Modify  AppLogGroup     AWS::Logs::LogGroup  replacement: False",
        "  Modify  RouterLogGroup  AWS::Logs::LogGroup  replacement: False",
        f"{PIPELINE}{WHERE}: UPDATE 3 changes",  # the branch checks' log group too
        "  Modify  AppBuildLogGroup     AWS::Logs::LogGroup  replacement: False",
        "  Modify  BranchCheckLogGroup  AWS::Logs::LogGroup  replacement: False",
        "  Modify  RouterBuildLogGroup  AWS::Logs::LogGroup  replacement: False",
    ]
    assert lines == [
        *changes,
        f"{SOURCE}: no changes",
        f"{SERVICE}: would be updated",
        f"{PIPELINE}: would be updated",
        "would set desired count (task.desired_count) 1 -> 3 with ecs:UpdateService",
        *links,
    ]
    assert snapshot(aws) == before and _ecs_service(e2e)["desiredCount"] == 1
    done = e2e.cli("deploy", "--dry-run", "-o", "json")
    assert done.code == 0, done.err
    assert json.loads(done.out)["out_of_band"] == [
        {
            "setting": "DesiredCount",
            "parameter": "desiredCount",
            "current": 1,
            "wanted": 3,
            "applied": False,
        }
    ]
    assert snapshot(aws) == before and _ecs_service(e2e)["desiredCount"] == 1

    done = e2e.cli("deploy", "--yes")
    assert done.code == 0, done.err
    assert done.out.splitlines() == [
        *changes,
        f"{SOURCE}: no changes",
        f"{SERVICE}: updated",
        f"{PIPELINE}: updated",
        "set desired count (task.desired_count) 1 -> 3 with ecs:UpdateService",
        *links,
    ]
    assert done.err.rstrip().endswith(
        f"{ECS_SERVICE}: set desired count (task.desired_count) 1 -> 3 with ecs:UpdateService "
        "(CloudFormation cannot update a CODE_DEPLOY service; the stack's template keeps it)"
    )
    assert wait_until(e2e, lambda: _ecs_service(e2e)["runningCount"] == 3)
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix="/bluegreen/")
    assert {g["retentionInDays"] for g in groups["logGroups"]} == {30}
    # CloudFormation changed the log groups only: the service (CodeDeploy's) was sent as
    # deployed, its template keeping the count it was created with.
    after = snapshot(aws)
    assert after[SERVICE]["status"] == "UPDATE_COMPLETE"
    assert _resource(after, "Service") == _resource(before, "Service")
    assert _resource(after, "Service")["Properties"]["DesiredCount"] == 1
    # Applied once: the next run has nothing to do (the JSON document says so).
    done = e2e.cli("deploy", "--yes", "-o", "json")
    assert done.code == 0, done.err
    document = json.loads(done.out)
    assert [s["action"] for s in document["stacks"]] == ["no-changes"] * 3
    assert document["ok"] is True and document["out_of_band"] == []
    assert document["first_release"] is None and document["in_flight"] is None
    assert document["first_commit"]["skipped"] == "the branch already has commits"

    # ---- changes the running service cannot take: refused, nothing changed (m6) ------------
    refused_changes = [
        ({"network__vpc_cidr": "10.1.0.0/16"}, "set by network.vpc_cidr"),
        (
            {"app__port": 8080},
            "BlueTargetGroup would be replaced: Port 80 -> 8080; set by app.port",
        ),
        ({"listeners__production_port": 8000}, "ProductionListener: its port 80 -> 8000"),
        ({"listeners__test_port": 9000}, "TestListener: its port 8080 -> 9000"),
    ]
    for edits, what in refused_changes:
        before = snapshot(aws)
        with config_edited(e2e, **edits):
            done = e2e.cli("deploy", "--yes")
        assert done.code == 2 and done.out == "", done.err
        assert done.err.startswith(
            "error: the config changes what a CODE_DEPLOY service cannot change in place:"
        )
        assert what in done.err
        assert "hint: nothing was changed;" in done.err
        assert "`bluegreen destroy` then `bluegreen deploy`" in done.err
        assert snapshot(aws) == before
    # A task size change keeps the deployed task definition (CodeDeploy's to change).
    before = snapshot(aws)
    with config_edited(e2e, task__cpu=512, task__memory=1024):
        done = e2e.cli("deploy", "--yes")
    assert done.code == 0, done.err
    assert f"{SERVICE}: TaskDefinition kept as deployed" in done.err
    assert snapshot(aws) == before

    # ---- what the releases did not trip -----------------------------------------------------
    assert failed_actions(aws) == []
    # The source artifact was over 3 MB; the Deploy action read only build outputs (M2).
    sizes = [
        aws.client("s3").head_object(Bucket=location.bucket, Key=location.key)["ContentLength"]
        for pipeline in aws.service("codepipeline").pipelines.values()
        for execution in pipeline.executions
        for run in execution.runs
        if run.name == "Source"
        for _, location in run.outputs
    ]
    assert len(sizes) == 2 and min(sizes) > MAX_ECS_ARTIFACT_BYTES

    # ---- destroy: declined, refused, failed, interrupted, done -------------------------------
    # The builds pushed images: the image repositories go with them (EmptyOnDelete).
    ecr = aws.client("ecr")
    assert ecr.list_images(repositoryName="sample3-dev-webapp")["imageIds"]
    assert ecr.list_images(repositoryName="sample3-dev-log-router")["imageIds"]
    # CloudWatch makes the Container Insights log group by itself (destroy's docstring);
    # the emulator does not, so it is made here as CloudWatch would.
    aws.client("logs").create_log_group(logGroupName=INSIGHTS)
    bucket = next(
        r["PhysicalResourceId"]
        for r in aws.client("cloudformation").list_stack_resources(StackName=PIPELINE)[
            "StackResourceSummaries"
        ]
        if r["LogicalResourceId"] == "ArtifactBucket"
    )
    before = snapshot(aws)
    done = e2e.cli("destroy", "--yes")
    assert done.code == 1 and done.out == ""
    assert re.search(
        r"error: nothing was deleted: CloudFormation cannot delete non-empty "
        r"sample3-dev-pipeline-artifactbucket-\w+ \(objects in stack sample3-dev-pipeline\)",
        done.err,
    )
    assert "rerun with --empty-bucket" in done.err
    assert snapshot(aws) == before
    # Declined at the prompt (or Ctrl-C there): nothing deleted, the bucket not emptied.
    monkeypatch.setattr(common, "interactive", lambda: True)
    for answer in (False, click.exceptions.Abort()):
        monkeypatch.setattr(typer, "confirm", _answering(answer))
        done = e2e.cli("destroy", "--empty-bucket")
        assert done.code == 1 and done.out == ""
        assert "error: destroy cancelled; nothing was deleted" in done.err
        assert snapshot(aws) == before and _objects(e2e, bucket)
    monkeypatch.setattr(common, "interactive", lambda: False)

    # A pipeline run writes an artifact while the pipeline stack is deleted: the bucket
    # is not empty any more and CloudFormation cannot delete it.

    def deleting() -> bool:
        found = stack(aws, PIPELINE)
        return found is not None and found["StackStatus"] == "DELETE_IN_PROGRESS"

    def late_artifact() -> None:
        aws.client("s3").put_object(Bucket=bucket, Key="late/artifact.zip", Body=b"zip")

    monkeypatch.setattr(common, "sleep", sleep_doing(aws, deleting, late_artifact))
    done = e2e.cli("destroy", "--yes", "--empty-bucket")
    assert done.code == 1
    # The stack's reason, then each failed resource (the stack's own DELETE_FAILED event
    # is not one of them).
    assert [line.rstrip() for line in done.out.splitlines()] == [
        f"{PIPELINE}: DELETE_FAILED",
        "  The following resource(s) failed to delete: [ArtifactBucket].",
        "  ArtifactBucket (AWS::S3::Bucket) DELETE_FAILED: Resource handler returned message: "
        '"The bucket you tried to delete is not empty" (Service: DeleteBucket, Error Code: '
        "BucketNotEmpty)",
    ]
    assert "error: destroy failed; the stacks after the failed one were not deleted" in done.err
    assert stack_statuses(aws) == {
        SOURCE: "CREATE_COMPLETE",
        SERVICE: "UPDATE_COMPLETE",
        PIPELINE: "DELETE_FAILED",
    }
    assert leftovers(aws)["task definitions"]  # nothing cleaned while the service may run

    # Ctrl-C while CloudFormation deletes the pipeline stack: it goes on without bluegreen.
    monkeypatch.setattr(common, "sleep", sleep_doing(aws, deleting, ctrl_c))
    done = e2e.cli("destroy", "--yes", "--empty-bucket")
    assert done.code == 130
    assert re.search(
        rf"interrupted: {PIPELINE}: CloudFormation keeps deleting it without bluegreen "
        r"\(https://ap-northeast-1\.console\.aws\.amazon\.com/cloudformation/",
        done.err,
    )
    assert (
        "to continue: wait for the deletion to finish, then run "
        "`bluegreen destroy --yes --empty-bucket` again to continue"
    ) in done.err
    monkeypatch.setattr(common, "sleep", aws.sleep)
    assert wait_until(e2e, lambda: stack(aws, PIPELINE) is None)

    done = e2e.cli("destroy", "--yes", "--empty-bucket")
    assert done.code == 0, done.err
    # The pipeline registered a revision per release (2) beside the stack's own (1,
    # deregistered when the service stack went); all go, and the Container Insights group.
    assert done.out.splitlines() == [
        f"{SERVICE}: deleted",
        f"{SOURCE}: deleted",
        "sample3-dev-task: 2 task-definition revisions deregistered, 3 deleted",
        f"{INSIGHTS}: deleted",
        f"kept on purpose: {SLR}, the ECS service-linked role every ECS service in the "
        "account shares (delete it only once the account runs nothing on ECS)",
    ]
    # Nothing left but the ECS service-linked role: account-wide, kept on purpose.
    assert leftovers(aws) == {"roles": [SLR]}

    # ---- and not one of the refusals ---------------------------------------------------------
    for service, operation, code, _ in REFUSALS.values():
        made = [
            r
            for r in aws.refusals
            if (r.service, r.operation, r.code) == (service, operation, code)
        ]
        assert made == [], made
    # The 3 MB limit fails the pipeline's Deploy action rather than a request: no action
    # of any run failed (checked above, before destroy deleted the pipeline).
    assert not [r for r in aws.refusals if r.service == "ecs" and "TaskSet" in r.operation]
    # Every request refused in the whole life asked about something not there.
    assert {(r.service, r.operation, r.code) for r in aws.refusals} <= LOOKUPS, aws.refusals
