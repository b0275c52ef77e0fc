"""deploy, the library function, on the emulated AWS: what it says, records and sends,
from a fresh account to a rerun and an out-of-band change (the CLI's view of the same
runs is in test_e2e_deploy.py; this drives ``deploy`` directly, so each run takes
seconds).

AWS behaviour relied on: a change set is named by the caller and computed before it is
executed; a change set with nothing to do ends FAILED with "The submitted information
didn't contain changes" (CloudFormation API reference, DescribeChangeSet); deleting the
only (CREATE) change set of a stack in REVIEW_IN_PROGRESS leaves an empty stack, deleted
with DeleteStack (CloudFormation user guide, "Update stacks using change sets");
UpdateService takes a CODE_DEPLOY service's desired count (ECS API reference,
UpdateService); CreateCommit makes one commit of every file (CodeCommit API reference).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from deploy_support import RecordingUI
from git_support import git

from bluegreen import appkit, stacks
from bluegreen import config as config_mod
from bluegreen.appkit import init
from bluegreen.aws import console
from bluegreen.aws import deploy as deploy_mod
from bluegreen.config import Config
from bluegreen.emulator import Emulator

REGION = "ap-northeast-1"
T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)
SOURCE, SERVICE, PIPELINE = "sample3-dev-source", "sample3-dev-service", "sample3-dev-pipeline"
REPO = "sample3-dev-webappservice"
ROLE = "AWSServiceRoleForECS"
NOTE = (
    f"this account has no CodeCommit repository in {REGION} yet; if CodeCommit refuses "
    "to create one (OperationNotAllowedException), deploy says what to do then"
)


# What deploy counts comes from what it deploys: the synthesized templates' resources and
# the scaffold's files (the first commit holds what `bluegreen init` wrote).
SOURCE_N, SERVICE_N, PIPELINE_N = (
    len(s.template.to_dict()["Resources"]) for s in stacks.build(Config())
)
FILES = len(appkit.render(Config()))


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as emulator:
        yield emulator


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "app"
    init(root, Config())
    return root


LIMIT = 3 * 3600.0
"""Simulated seconds a deploy may wait in a test: a run that is still waiting then
(a creation nobody continues) fails instead of polling forever."""


def run(
    aws: Emulator, root: Path, config: Config | None = None, ui: Any = None, **flags: Any
) -> tuple[deploy_mod.DeployResult, RecordingUI]:
    ui = ui or RecordingUI()
    waited = [0.0]

    def sleep(seconds: float) -> None:
        waited[0] += seconds
        if waited[0] > LIMIT:
            raise AssertionError(f"deploy still waiting after {LIMIT:g} simulated seconds")
        aws.sleep(seconds)

    result = deploy_mod.deploy(
        aws.clients(), config or Config(), root, ui, sleep=sleep, now=aws.now, **flags
    )
    return result, ui


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def test_a_dry_run_on_a_fresh_account_says_what_it_would_make(aws: Emulator, root: Path) -> None:
    result, ui = run(aws, root, dry_run=True)

    assert ui.lines == [
        f"note: {NOTE}",
        f"{SOURCE}: would be created ({SOURCE_N} resources)",
        f"{REPO}: would commit {FILES} files to the empty branch main",
        f"{SERVICE}: would be created ({SERVICE_N} resources)",
        f"would create the ECS service-linked role {ROLE} (this account has none yet; ECS "
        "needs it for the cluster and the service)",
        f"{PIPELINE}: would be created ({PIPELINE_N} resources)",
    ]
    assert [(s.stack, s.action, s.status) for s in result.stacks] == [
        (SOURCE, "would-create", ""),
        (SERVICE, "would-create", ""),
        (PIPELINE, "would-create", ""),
    ]
    assert [(stack, kind, len(changes)) for stack, kind, changes in ui.shown] == [
        (SOURCE, "CREATE", SOURCE_N),
        (SERVICE, "CREATE", SERVICE_N),
        (PIPELINE, "CREATE", PIPELINE_N),
    ]
    assert {c.action for _, _, changes in ui.shown for c in changes} == {"Add"}
    assert [len(s.changes) for s in result.stacks] == [SOURCE_N, SERVICE_N, PIPELINE_N]
    assert ("Repository", "AWS::CodeCommit::Repository") in {
        (c.logical_id, c.resource_type) for c in ui.shown[0][2]
    }
    assert result.ok and result.dry_run and result.notes == [NOTE]
    assert result.to_dict()["notes"] == [NOTE]
    assert result.service_linked_role == "would-create" and result.first_commit is None
    assert "bluegreen.toml" in result.would_commit and result.would_commit == sorted(
        appkit.render(Config())
    )
    assert result.links is None and ui.asked == []
    assert aws.client("cloudformation").describe_stacks()["Stacks"] == []
    document = result.to_dict()
    assert document["would_commit_files"] == FILES and document["service_linked_role"] == (
        "would-create"
    )
    assert document["first_commit"] is None and document["links"] is None
    assert document["would_commit"] == result.would_commit


@dataclass
class Deployed:
    aws: Emulator
    root: Path
    started: datetime
    result: deploy_mod.DeployResult
    ui: RecordingUI


@pytest.fixture(scope="class")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployed]:
    """One account with the default config deployed, shared by the tests of
    TestADeployedAccount, which read it, rerun deploy on it or change it out of band: each
    of them leaves it as deployed. (Class-scoped: the emulator is one per process, so it
    is stopped before the other tests' own.)"""
    base = tmp_path_factory.mktemp("deployed")
    root = base / "app"
    init(root, Config())
    with Emulator(REGION, start=T0, work_dir=base / "aws") as aws:
        started = aws.now()
        result, ui = run(aws, root)
        yield Deployed(aws, root, started, result, ui)


class TestADeployedAccount:
    """A first deploy, a rerun of it, and an out-of-band change, on one account."""

    def test_a_first_deploy_creates_the_stacks_commits_once_and_gives_the_links(
        self, deployed: Deployed
    ) -> None:
        aws, started, result, ui = deployed.aws, deployed.started, deployed.result, deployed.ui

        assert result.ok and not result.dry_run and result.in_flight is None
        assert result.changed_anything
        steps = [line for line in ui.lines if not line.startswith(f"{SOURCE}: creating")]
        assert ui.lines[0] == f"note: {NOTE}"
        assert ui.lines[1] == f"{SOURCE}: creating change set {SOURCE}-{stamp(started)} (CREATE)"
        assert steps[1:] == [
            f"{SOURCE} done CREATE_COMPLETE",
            f"{REPO}: committed {FILES} files to main (one commit)",
            *[line for line in ui.lines if line.startswith(f"{SERVICE}: creating change set")],
            f"created the ECS service-linked role {ROLE} (this account had none; ECS needs it "
            "for the cluster and the service)",
            f"{SERVICE} done CREATE_COMPLETE",
            *[line for line in ui.lines if line.startswith(f"{PIPELINE}: creating change set")],
            f"{PIPELINE} done CREATE_COMPLETE",
        ]
        assert ui.asked == [SOURCE, SERVICE, PIPELINE]
        assert [(s.stack, s.action, s.status) for s in result.stacks] == [
            (SOURCE, "create", "CREATE_COMPLETE"),
            (SERVICE, "create", "CREATE_COMPLETE"),
            (PIPELINE, "create", "CREATE_COMPLETE"),
        ]
        assert all(result.created(s) for s in (SOURCE, SERVICE, PIPELINE))
        assert not result.created("other")
        assert result.service_linked_role == "created"
        commit = result.first_commit
        assert commit is not None and commit.files == FILES and commit.skipped == ""
        codecommit = aws.client("codecommit")
        head = codecommit.get_branch(repositoryName=REPO, branchName="main")["branch"]["commitId"]
        assert commit.commits == [head]
        assert result.links is not None
        assert result.links.to_dict() == {
            "production_url": f"http://sample3-dev-alb-1.{REGION}.elb.amazonaws.com",
            "test_url": f"http://sample3-dev-alb-1.{REGION}.elb.amazonaws.com:8080",
            "pipeline_console": f"https://{REGION}.console.aws.amazon.com/codesuite/codepipeline/"
            f"pipelines/{PIPELINE}/view?region={REGION}",
            "codedeploy_console": f"https://{REGION}.console.aws.amazon.com/codesuite/codedeploy/"
            f"applications/sample3-dev-app/deployment-groups/sample3-dev-deployment-group"
            f"?region={REGION}",
        }
        # The events were followed: each stack's own CREATE_COMPLETE came through the UI.
        finished = [(e.stack, e.status) for e in ui.events if e.of_the_stack]
        for stack in (SOURCE, SERVICE, PIPELINE):
            assert (stack, "CREATE_COMPLETE") in finished
        document = result.to_dict()
        assert document["dry_run"] is False and document["ok"] is True
        assert document["links"] == result.links.to_dict()
        assert document["stacks"][0]["changes"][0] == {
            "action": "Add",
            "logical_id": "AppImageRepository",
            "type": "AWS::ECR::Repository",
            "replacement": "",
        }
        assert document["stacks"][0]["hint"] is None and document["stacks"][0]["failures"] == []
        assert document["first_commit"] == {
            "repository": REPO,
            "branch": "main",
            "commits": [head],
            "files": FILES,
            "skipped": "",
        }

    def test_a_rerun_of_the_same_config_changes_nothing(self, deployed: Deployed) -> None:
        aws, root = deployed.aws, deployed.root
        codecommit = aws.client("codecommit")
        head = codecommit.get_branch(repositoryName=REPO, branchName="main")["branch"]["commitId"]
        result, ui = run(aws, root)
        assert [(s.stack, s.action) for s in result.stacks] == [
            (SOURCE, "no-changes"),
            (SERVICE, "no-changes"),
            (PIPELINE, "no-changes"),
        ]
        assert f"{SOURCE}: no changes" in ui.lines and f"note: {NOTE}" not in ui.lines
        assert result.first_commit == deploy_mod.FirstCommit(
            REPO, "main", [], 0, skipped="the branch already has commits"
        )
        assert result.service_linked_role == "" and ui.asked == [] and result.ok
        assert aws.client("cloudformation").list_change_sets(StackName=SOURCE)["Summaries"] == []
        assert (
            codecommit.get_branch(repositoryName=REPO, branchName="main")["branch"]["commitId"]
            == head
        )

    def test_a_desired_count_is_out_of_band_said_in_a_dry_run_and_sent_in_a_real_one(
        self, deployed: Deployed
    ) -> None:
        """And a task size: kept as deployed, CodeDeploy owns the task definition."""
        aws, root = deployed.aws, deployed.root
        three = config_mod.parse("[task]\ndesired_count = 3\ncpu = 512\nmemory = 1024\n")
        result, ui = run(aws, root, three, dry_run=True)
        why = "(CloudFormation cannot update a CODE_DEPLOY service; the stack's template keeps it)"
        said = "desired count (task.desired_count) 1 -> 3 with ecs:UpdateService"
        assert f"{SERVICE}: would set {said} {why}" in ui.lines
        assert (
            f"{SERVICE}: TaskDefinition kept as deployed: CodeDeploy owns the task definition, so "
            "the task change reaches AWS through taskdef.json and the next release (`bluegreen "
            "verify` lists what taskdef.json must say)"
        ) in ui.lines
        assert [(s.stack, s.action) for s in result.stacks] == [
            (SOURCE, "no-changes"),
            (SERVICE, "no-changes"),
            (PIPELINE, "no-changes"),
        ]
        assert [(o.setting, o.current, o.wanted, o.applied) for o in result.out_of_band] == [
            ("DesiredCount", 1, 3, False)
        ]
        ecs = aws.client("ecs")
        service = ecs.describe_services(cluster="sample3-dev-cluster", services=[SERVICE])
        assert service["services"][0]["desiredCount"] == 1

        result, ui = run(aws, root, three)
        assert (
            f"{SERVICE}: set desired count (task.desired_count) 1 -> 3 with ecs:UpdateService {why}"
            in ui.lines
        )
        assert result.in_flight is None and result.ok
        assert result.to_dict()["out_of_band"] == [
            {
                "setting": "DesiredCount",
                "parameter": "desiredCount",
                "current": 1,
                "wanted": 3,
                "applied": True,
            }
        ]
        service = ecs.describe_services(cluster="sample3-dev-cluster", services=[SERVICE])
        assert service["services"][0]["desiredCount"] == 3
        # Now live: nothing more to send.
        result, ui = run(aws, root, three)
        assert result.out_of_band == []
        assert not any("ecs:UpdateService" in line for line in ui.lines)
        # Back as deployed for the module's other tests (UpdateService takes a CODE_DEPLOY
        # service's desired count, ECS API reference).
        ecs.update_service(cluster="sample3-dev-cluster", service=SERVICE, desiredCount=1)

    def test_checks_the_pushed_appspec_never_runs_are_refused_on_a_rerun(
        self, deployed: Deployed
    ) -> None:
        """[verify] checks added to a running system: CodeDeploy invokes only the hook
        functions the revision's AppSpec names (CodeDeploy user guide, "AppSpec 'hooks'
        section for an Amazon ECS deployment"), so deploy refuses until appspec.yml names
        it; no first commit is made here, so this is the refusal's own message."""
        aws, root = deployed.aws, deployed.root
        checks = config_mod.parse('[[verify.checks]]\npath = "/health"\n')
        problem = (
            "appspec.yml: bluegreen.toml has 1 [verify] check, but its Hooks do not name the "
            "verify function CodeDeployHook_sample3-dev-verify, so CodeDeploy never runs it; "
            "add at the end of appspec.yml the lines\n"
            "      Hooks:\n"
            '        - AfterAllowTestTraffic: "CodeDeployHook_sample3-dev-verify"\n'
            "    (or remove [verify] checks)"
        )
        result = deploy_mod.DeployResult(dry_run=False)

        with pytest.raises(deploy_mod.RepositoryError) as info:
            run(aws, root, checks, result=result)

        assert info.value.message == problem
        assert info.value.hint == (
            "nothing was changed; change appspec.yml as said (and push it), then run deploy again"
        )
        assert not result.changed_anything
        assert info.value.problems == [("appspec.yml", problem.partition(": ")[2])]


def test_a_declined_first_stack_is_deleted_with_the_empty_stack_it_made(
    aws: Emulator, root: Path
) -> None:
    started = aws.now()
    result, ui = run(aws, root, ui=RecordingUI(answer=False))

    name = f"{SOURCE}-{stamp(started)}"
    assert (
        ui.lines[-1]
        == f"{SOURCE}: change set {name} declined and deleted with the empty stack it created"
    )
    assert [(s.stack, s.action) for s in result.stacks] == [(SOURCE, "declined")]
    assert result.to_dict()["stacks"][0]["status"] == ""
    assert result.declined and not result.ok and result.failed == []
    assert result.in_flight is None and result.links is None
    assert ui.asked == [SOURCE]
    # Gone: DescribeStacks without a name lists no deleted stack, and by name a deleted
    # stack "does not exist" (a ValidationError); only its unique stack ID still describes
    # it, DELETE_COMPLETE (CloudFormation API reference, DescribeStacks: "Deleted stacks:
    # You must specify the unique stack ID").
    cfn = aws.client("cloudformation")
    assert cfn.describe_stacks()["Stacks"] == []
    with pytest.raises(cfn.exceptions.ClientError, match=f"Stack with id {SOURCE} does not exist"):
        cfn.describe_stacks(StackName=SOURCE)
    [summary] = cfn.list_stacks()["StackSummaries"]
    [gone] = cfn.describe_stacks(StackName=summary["StackId"])["Stacks"]
    assert (gone["StackName"], gone["StackStatus"]) == (SOURCE, "DELETE_COMPLETE")


def test_an_interrupted_change_set_says_what_it_left_and_how_to_continue(
    aws: Emulator, root: Path
) -> None:
    class StopAtTheQuestion(RecordingUI):
        def confirm(self, stack: Any) -> bool:
            raise KeyboardInterrupt

    started = aws.now()
    result = deploy_mod.DeployResult(dry_run=False)
    with pytest.raises(KeyboardInterrupt):
        run(aws, root, ui=StopAtTheQuestion(), result=result)
    name = f"{SOURCE}-{stamp(started)}"
    assert result.in_flight == deploy_mod.InFlight(
        SOURCE,
        f"change set {name} AVAILABLE, not executed; stack REVIEW_IN_PROGRESS",
        "run `bluegreen deploy` again to continue (it makes a new change set)",
    )
    assert result.changed_anything and result.stacks == []
    assert result.to_dict()["in_flight"] == {
        "subject": SOURCE,
        "state": f"change set {name} AVAILABLE, not executed; stack REVIEW_IN_PROGRESS",
        "resume": "run `bluegreen deploy` again to continue (it makes a new change set)",
    }


def test_a_stack_that_failed_to_create_is_deleted_and_made_again(aws: Emulator, root: Path) -> None:
    # A source stack left in ROLLBACK_COMPLETE by a failed create: CloudFormation cannot
    # update it ("it must be deleted", CloudFormation user guide, stack status codes).
    cfn = aws.client("cloudformation")
    bad = json.dumps(
        {
            "Resources": {
                "R": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "Not Valid"}}
            }
        }
    )
    cfn.create_stack(StackName=SOURCE, TemplateBody=bad)
    for _ in range(20):
        if cfn.describe_stacks(StackName=SOURCE)["Stacks"][0]["StackStatus"] == "ROLLBACK_COMPLETE":
            break
        aws.sleep(5)

    dry, ui = run(aws, root, dry_run=True)
    assert f"{SOURCE}: ROLLBACK_COMPLETE after a failed create; it would be recreated" in ui.lines
    assert (dry.stacks[0].stack, dry.stacks[0].action, dry.stacks[0].status) == (
        SOURCE,
        "would-create",
        "ROLLBACK_COMPLETE",
    )
    # What would be made again: the whole template, as for a new stack.
    assert sorted(c.logical_id for c in dry.stacks[0].changes) == [
        "AppImageRepository",
        "Repository",
        "RouterImageRepository",
    ]
    assert ui.shown[0][:2] == (SOURCE, "CREATE") and ui.shown[0][2] == dry.stacks[0].changes

    class StopAfterTheSource(RecordingUI):
        def confirm(self, stack: Any) -> bool:
            return stack == SOURCE

    result, ui = run(aws, root, ui=StopAfterTheSource())
    assert ui.lines[1] == (
        f"{SOURCE}: deleting the stack left by a failed create (ROLLBACK_COMPLETE)"
    )
    assert ui.lines[2] == f"{SOURCE} done DELETE_COMPLETE"
    assert [(s.stack, s.action) for s in result.stacks] == [
        (SOURCE, "create"),
        (SERVICE, "declined"),
    ]


# ---- the refusals before anything changes (pure) ------------------------------------------------


def test_a_template_is_refused_one_byte_over_cloudformations_inline_limit() -> None:
    """CloudFormation API reference, CreateChangeSet TemplateBody: "Minimum length of 1.
    Maximum length of 51,200" bytes; larger templates go through TemplateURL (S3)."""
    deploy_mod._check_size(SERVICE, "x" * 51_200)
    with pytest.raises(deploy_mod.OperationError) as info:
        deploy_mod._check_size(SERVICE, "x" * 51_199 + "é")  # 51,201 bytes in UTF-8
    assert info.value.message == (
        f"the {SERVICE} template is 51201 bytes; CloudFormation accepts at most 51200 bytes "
        "inline and bluegreen does not upload templates to S3"
    )
    assert info.value.hint == (
        "nothing was changed; report this as a bug (templates should stay small)"
    )


@pytest.mark.parametrize(
    ("status", "message", "hint"),
    [
        (
            "UPDATE_IN_PROGRESS",
            f"stack {SOURCE} in {REGION} is busy (UPDATE_IN_PROGRESS)",
            "wait for the running operation to finish (bluegreen status, or the "
            "CloudFormation console), then deploy again; nothing was changed",
        ),
        (
            "DELETE_FAILED",
            f"stack {SOURCE} in {REGION} is DELETE_FAILED and cannot be updated",
            "fix the resource named in its events, then continue the rollback (aws "
            "cloudformation continue-update-rollback) or run bluegreen destroy; nothing was "
            "changed",
        ),
    ],
)
def test_a_busy_or_failed_stack_is_refused_with_what_to_do(
    status: str, message: str, hint: str
) -> None:
    with pytest.raises(deploy_mod.StateError) as info:
        deploy_mod._refuse_unusable(SOURCE, {"StackStatus": status}, REGION)
    assert (info.value.message, info.value.hint) == (message, hint)


@pytest.mark.parametrize(
    ("status", "live"),
    [
        (None, False),
        ("REVIEW_IN_PROGRESS", False),
        ("ROLLBACK_COMPLETE", False),
        ("DELETE_COMPLETE", False),
        ("CREATE_COMPLETE", True),
        ("UPDATE_ROLLBACK_COMPLETE", True),
    ],
)
def test_which_stacks_have_their_resources(status: str | None, live: bool) -> None:
    stack = None if status is None else {"StackStatus": status}
    assert deploy_mod._live(stack) is live


def test_a_change_set_is_named_after_the_stack_and_the_utc_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """UTC whatever the machine's own time zone."""
    import time
    from datetime import timedelta, timezone

    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        tokyo = datetime(2021, 9, 19, 10, 5, 7, tzinfo=timezone(timedelta(hours=9)))
        assert deploy_mod.change_set_name("app", tokyo) == "app-20210919010507"
    finally:
        monkeypatch.undo()
        time.tzset()


# ---- a GitHub source through a CodeConnections connection --------------------------------------


def test_a_connection_source_commits_nothing_and_opens_the_held_branch_checks(
    aws: Emulator, root: Path
) -> None:
    """The branch-check pipeline of a connection source is created with its Check stage's
    inbound transition disabled (stacks/connections.py); its creation run
    (trigger CreatePipeline, CodePipeline API reference ExecutionTrigger) is stopped with
    abandon (StopPipelineExecution) and the transition enabled (EnableStageTransition)."""
    config = config_mod.from_dict(
        {"source": {"provider": "github", "full_repository_id": "acme/webapp"}}
    )
    connections = aws.client("codeconnections")
    arn = connections.create_connection(ProviderType="GitHub", ConnectionName="github-acme")[
        "ConnectionArn"
    ]
    aws.service("codeconnections").complete_handshake(arn)
    # The user's first push of the scaffold to the provider's repository.
    remote = aws.service("codeconnections").provider_repository("acme/webapp")
    for args in (
        ["init", "-q", "-b", "main"],
        ["add", "-A"],
        ["commit", "-q", "-m", "scaffold"],
        ["push", "-q", str(remote), "HEAD:refs/heads/main"],
    ):
        git(root, *args)
    aws.service("codeconnections").check_pushes()

    result, ui = run(aws, root, config, connection_arn=arn)

    assert result.ok, result.to_dict()
    checks = "sample3-dev-branch-checks"
    assert ui.lines[0] == (
        "connection github-acme (GitHub, given): AVAILABLE; the pipeline reads acme/webapp "
        "through it"
    )
    assert (
        "no commit made: the application repository is acme/webapp on github; the "
        "pipeline's runs read its main branch (push to it to release)"
    ) in ui.lines
    assert ui.lines[-1] == (
        f"{checks}: branch checks open (pushes to feature/* are built and tested, never deployed)"
    )
    assert result.first_commit is None and result.would_commit == []
    assert aws.client("codecommit").list_repositories()["repositories"] == []
    assert result.to_dict()["connection"] == {
        "arn": arn,
        "name": "github-acme",
        "provider": "GitHub",
        "status": "AVAILABLE",
        "from": "flag",
    }
    codepipeline = aws.client("codepipeline")
    states = codepipeline.get_pipeline_state(name=checks)["stageStates"]
    [check] = [s for s in states if s["stageName"] == "Check"]
    assert check["inboundTransitionState"]["enabled"] is True
    [held] = codepipeline.list_pipeline_executions(pipelineName=checks)[
        "pipelineExecutionSummaries"
    ]
    assert (held["trigger"]["triggerType"], held["status"]) == ("CreatePipeline", "Stopped")
    # Open already: nothing to do, nothing said.
    quiet = RecordingUI()
    deploy_mod.open_branch_checks(aws.clients(), config, quiet)
    assert quiet.lines == []
    assert codepipeline.list_pipeline_executions(pipelineName=checks)[
        "pipelineExecutionSummaries"
    ] == [held]

    # A later deploy without the ARN reads it from the pipeline stack's parameter.
    again, ui = run(aws, root, config)
    assert ui.lines[0] == (
        "connection github-acme (GitHub, the pipeline stack's): AVAILABLE; the pipeline "
        "reads acme/webapp through it"
    )
    assert again.ok and again.connection is not None and again.connection.source != "flag"


def test_a_dry_run_of_a_connection_source_looks_and_opens_nothing(
    aws: Emulator, root: Path
) -> None:
    config = config_mod.from_dict(
        {"source": {"provider": "github", "full_repository_id": "acme/webapp"}}
    )
    connections = aws.client("codeconnections")
    arn = connections.create_connection(ProviderType="GitHub", ConnectionName="github-acme")[
        "ConnectionArn"
    ]
    aws.service("codeconnections").complete_handshake(arn)
    github_n = [len(s.template.to_dict()["Resources"]) for s in stacks.build(config)]

    result, ui = run(aws, root, config, connection_arn=arn, dry_run=True)

    assert result.ok and result.would_commit == [] and result.first_commit is None
    assert ui.lines == [
        "connection github-acme (GitHub, given): AVAILABLE; the pipeline reads acme/webapp "
        "through it",
        f"{SOURCE}: would be created ({github_n[0]} resources)",
        f"{SERVICE}: would be created ({github_n[1]} resources)",
        f"would create the ECS service-linked role {ROLE} (this account has none yet; ECS "
        "needs it for the cluster and the service)",
        f"{PIPELINE}: would be created ({github_n[2]} resources)",
    ]
    assert aws.client("codepipeline").list_pipelines()["pipelines"] == []
    # Only a connection source with branch checks has the branch-check pipeline to open:
    # the others are not looked for (GetPipelineState of a pipeline that does not exist is
    # PipelineNotFoundException, CodePipeline API reference).
    from bluegreen.aws.errors import AwsCallError

    deploy_mod.open_branch_checks(aws.clients(), Config())
    no_branches = config_mod.from_dict(
        {
            "source": {"provider": "github", "full_repository_id": "acme/webapp"},
            "builds": {"branches": []},
        }
    )
    deploy_mod.open_branch_checks(aws.clients(), no_branches)
    with pytest.raises(AwsCallError) as info:
        deploy_mod.open_branch_checks(aws.clients(), config)
    assert info.value.code == "PipelineNotFoundException"


def test_a_role_someone_else_made_meanwhile_is_not_made_again(aws: Emulator, root: Path) -> None:
    """Between deploy's look (GetRole: NoSuchEntity) and the service stack, another caller
    creates the ECS service-linked role: CreateServiceLinkedRole answers InvalidInput "has
    been taken" (IAM API reference), which is no error. The run is stopped once the role
    is said, before the service stack is executed: the race is all this test is about."""

    class Stop(Exception):
        pass

    class AnotherCaller(RecordingUI):
        def step(self, message: str) -> None:
            super().step(message)
            if message.startswith(f"{SERVICE}: creating change set"):
                aws.client("iam").create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
            if "service-linked role" in message:
                raise Stop

    result = deploy_mod.DeployResult(dry_run=False)
    ui = AnotherCaller()
    with pytest.raises(Stop):
        run(aws, root, ui=ui, result=result)

    assert result.service_linked_role == "exists"
    assert ui.lines[-1] == f"the ECS service-linked role {ROLE} was just created by someone else"
    assert [(s.stack, s.action) for s in result.stacks] == [(SOURCE, "create")]
    assert ui.asked == [SOURCE, SERVICE]


def test_a_stack_that_fails_stops_the_deploy_with_the_failed_resource(
    aws: Emulator, root: Path
) -> None:
    """An image repository of the same name made outside the stack: CreateRepository
    answers RepositoryAlreadyExistsException (ECR API reference), the resource fails and
    CloudFormation rolls the new stack back (ROLLBACK_COMPLETE)."""
    aws.client("ecr").create_repository(repositoryName="sample3-dev-webapp")

    result, ui = run(aws, root)

    assert ui.lines[-1] == f"{SOURCE} done ROLLBACK_COMPLETE"
    assert [(s.stack, s.action, s.status) for s in result.stacks] == [
        (SOURCE, "failed", "ROLLBACK_COMPLETE")
    ]
    assert result.failed == result.stacks and not result.ok and result.links is None
    assert result.first_commit is None and result.in_flight is None
    [stack] = result.to_dict()["stacks"]
    assert (stack["stack"], stack["action"], stack["status"]) == (
        SOURCE,
        "failed",
        "ROLLBACK_COMPLETE",
    )
    assert stack["reason"] == "" and stack["hint"] is None
    [failure] = stack["failures"]
    assert (failure["logical_id"], failure["type"], failure["status"]) == (
        "AppImageRepository",
        "AWS::ECR::Repository",
        "CREATE_FAILED",
    )
    assert "RepositoryAlreadyExistsException" in failure["reason"]
    assert [c.logical_id for c in result.stacks[0].changes] == [
        "AppImageRepository",
        "Repository",
        "RouterImageRepository",
    ]


# ---- out-of-band settings that name what the service stack's update makes ------------------------

HOOK_STACK = {
    "Resources": {
        "HookRole": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "ecs.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            },
        },
        "VerifyFunction": {
            "Type": "AWS::Lambda::Function",
            "Properties": {
                "Runtime": "python3.12",
                "Handler": "index.handler",
                "Role": {"Fn::GetAtt": ["HookRole", "Arn"]},
                "Code": {"ZipFile": "def handler(event, context):\n    return None\n"},
            },
        },
        "Logs": {"Type": "AWS::Logs::LogGroup"},
    }
}
"""A service stack made before its template had outputs for the hook: an update that
only adds Outputs changes no resource, and "CloudFormation only determines changes to
resources to decide if an update is needed" (cfn-sphere/cfn-sphere#98), so the ARNs are
read from the resources themselves (DescribeStackResource, GetFunction, GetRole)."""


def _hook_run(aws: Emulator) -> Any:
    import json as json_mod

    cfn = aws.client("cloudformation")
    cfn.create_stack(
        StackName=SERVICE,
        TemplateBody=json_mod.dumps(HOOK_STACK),
        Capabilities=["CAPABILITY_IAM"],
    )
    for _ in range(30):
        if cfn.describe_stacks(StackName=SERVICE)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE":
            break
        aws.sleep(5)
    run_ = deploy_mod._Run(
        aws.clients(),
        Config(),
        RecordingUI(),
        deploy_mod.DeployResult(False),
        False,
        aws.sleep,
        aws.now,
    )
    run_.service_template = {
        **HOOK_STACK,
        "Outputs": {
            "VerifyFunctionArn": {"Value": {"Fn::GetAtt": ["VerifyFunction", "Arn"]}},
            "HookRoleArn": {"Value": {"Fn::GetAtt": ["HookRole", "Arn"]}},
            "LogsArn": {"Value": {"Fn::GetAtt": ["Logs", "Arn"]}},
            "LogsName": {"Value": {"Ref": "Logs"}},
        },
    }
    return run_


def test_hook_arns_missing_from_the_outputs_are_read_from_the_resources(aws: Emulator) -> None:
    from bluegreen.aws import owned

    run_ = _hook_run(aws)
    function = aws.client("lambda").list_functions()["Functions"][0]["FunctionArn"]
    [role] = [r["Arn"] for r in aws.client("iam").list_roles()["Roles"] if "HookRole" in r["Arn"]]
    wanted = {
        "lifecycleHooks": [
            {
                "hookTargetArn": {owned.OUTPUT: "VerifyFunctionArn"},
                "roleArn": {owned.OUTPUT: "HookRoleArn"},
                "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            }
        ]
    }
    setting = deploy_mod.OutOfBand(
        "DeploymentConfiguration", "deploymentConfiguration", {"lifecycleHooks": []}, wanted
    )
    same = deploy_mod.OutOfBand(
        "DeploymentConfiguration",
        "deploymentConfiguration",
        {"lifecycleHooks": [{"hookTargetArn": function}]},
        {"lifecycleHooks": [{"hookTargetArn": {owned.OUTPUT: "VerifyFunctionArn"}}]},
    )
    run_.result.out_of_band = [setting, same]

    run_.resolve_out_of_band()

    assert setting.wanted == {
        "lifecycleHooks": [
            {
                "hookTargetArn": function,
                "roleArn": role,
                "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            }
        ]
    }
    assert run_.result.out_of_band == [setting]  # the other is live already: dropped
    assert run_._arns_of_resources(["LogsArn", "LogsName", "Nothing"]) == {}


def test_an_output_neither_the_stack_nor_a_resource_gives_is_an_error(aws: Emulator) -> None:
    from bluegreen.aws import owned

    run_ = _hook_run(aws)
    run_.result.out_of_band = [
        deploy_mod.OutOfBand(
            "DeploymentConfiguration",
            "deploymentConfiguration",
            {},
            {"lifecycleHooks": [{"hookTargetArn": {owned.OUTPUT: "LogsName"}}]},
        )
    ]
    with pytest.raises(deploy_mod.OperationError) as info:
        run_.resolve_out_of_band()
    assert info.value.message == (
        f"the service stack {SERVICE} was updated but has no output LogsName, which the "
        "service's deployment configuration (deployment.*) names; the service was not changed"
    )
    assert info.value.hint == (
        "run `bluegreen deploy` again; if it says the same, report it as a bug"
    )


def test_an_ecs_controlled_service_s_creation_is_continued_at_its_pause(
    aws: Emulator, root: Path
) -> None:
    """ECS built-in blue/green: the service's first deployment stops at its PAUSE hook
    like any other (ECS developer guide, "Lifecycle hooks for Amazon ECS service
    deployments"), and CloudFormation's create waits for the deployment; nothing serves
    production yet, so deploy continues it. Then a desired count goes out of band with
    the ECS-controlled service's reason (UpdateService, ECS API reference)."""
    # No bake: the creation's deployment ends as soon as production moved (ECS_BAKE_MINUTES
    # allows 0), so the emulated creation takes minutes, not a quarter of an hour.
    ecs = '[deployment]\nengine = "ecs"\n[deployment.ecs]\nbake_minutes = 0\n'
    ecs_config = config_mod.parse(ecs)

    result, ui = run(aws, root, ecs_config)

    assert result.ok
    [continued] = [line for line in ui.lines if "continued service deployment" in line]
    assert continued.startswith(f"{SERVICE}: continued service deployment ")
    assert "the service's creation, at its pause" in continued
    assert ui.lines.index(continued) < ui.lines.index(f"{SERVICE} done CREATE_COMPLETE")

    three = config_mod.parse(ecs + "[task]\ndesired_count = 3\n")
    result, ui = run(aws, root, three)
    assert (
        f"{SERVICE}: set desired count (task.desired_count) 1 -> 3 with ecs:UpdateService "
        "(the stack's template keeps the service as deployed: a CloudFormation update of it "
        "would deploy the template's bootstrap revision)"
    ) in ui.lines


def test_a_first_commit_codecommit_refuses_leaves_the_branch_empty_and_says_so(
    aws: Emulator, root: Path
) -> None:
    """More files than one CreateCommit takes: MaximumFileEntriesExceededException
    (CodeCommit quotas page, "Number of files in a commit: Maximum of 100"; the emulator
    takes 100), and a refused CreateCommit made no commit."""
    from bluegreen.emulator.services.codecommit import MAX_FILE_ENTRIES

    for n in range(MAX_FILE_ENTRIES):
        (root / "docs" / "pages").mkdir(parents=True, exist_ok=True)
        (root / "docs" / "pages" / f"p{n:03}.md").write_text(f"page {n}\n", encoding="utf-8")
    result = deploy_mod.DeployResult(dry_run=False)

    with pytest.raises(deploy_mod.OperationError, match="MaximumFileEntriesExceededException"):
        run(aws, root, result=result)

    assert result.in_flight == deploy_mod.InFlight(
        REPO,
        "the first commit to main was being made (CreateCommit makes it whole or not at all)",
        "run `bluegreen deploy` again to continue (it commits if main is still empty)",
    )
    assert [(s.stack, s.action) for s in result.stacks] == [(SOURCE, "create")]
    assert aws.client("codecommit").list_branches(repositoryName=REPO)["branches"] == []


def test_a_stack_left_in_review_counts_as_new_in_a_dry_run(aws: Emulator, root: Path) -> None:
    """A CREATE change set never executed leaves its stack in REVIEW_IN_PROGRESS with no
    resources (CloudFormation user guide, "Update stacks using change sets")."""
    cfn = aws.client("cloudformation")
    cfn.create_change_set(
        StackName=SOURCE,
        ChangeSetName="left",
        ChangeSetType="CREATE",
        TemplateBody='{"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}}',
    )
    assert cfn.describe_stacks(StackName=SOURCE)["Stacks"][0]["StackStatus"] == (
        "REVIEW_IN_PROGRESS"
    )
    result, ui = run(aws, root, dry_run=True)
    assert f"{SOURCE}: would be created ({SOURCE_N} resources)" in ui.lines
    assert result.to_dict()["stacks"][0]["action"] == "would-create"
    assert result.to_dict()["stacks"][0]["status"] == "REVIEW_IN_PROGRESS"


def test_a_repository_verify_would_fail_is_refused_before_anything_changes(
    aws: Emulator, root: Path
) -> None:
    """deploy makes the first commit once: files `bluegreen verify` fails are refused
    before the first stack, with each problem on its own line and what to do."""
    (root / "taskdef.json").write_text("{", encoding="utf-8")

    with pytest.raises(deploy_mod.RepositoryError) as info:
        run(aws, root, dry_run=True)

    assert info.value.message == (
        f"the repository in {root} is not ready to be the first commit:\n"
        "  taskdef.json: not valid JSON: Expecting property name enclosed in double quotes "
        "at line 1 column 2; fix the syntax"
    )
    assert info.value.hint == (
        "nothing was changed; fix the files named above (`bluegreen verify` checks them "
        "offline), then run deploy again"
    )
    assert aws.client("cloudformation").describe_stacks()["Stacks"] == []


def test_a_change_set_that_fails_to_compute_fails_the_stack_and_leaves_no_empty_stack(
    aws: Emulator,
) -> None:
    """A change set CloudFormation cannot compute ends FAILED with its StatusReason
    (CloudFormation API reference, DescribeChangeSet: Status FAILED, StatusReason); the
    emulator fails one for a dependency cycle. Its CREATE left an empty stack in
    REVIEW_IN_PROGRESS, which is deleted (CloudFormation user guide, "Update stacks using
    change sets")."""
    run_ = deploy_mod._Run(
        aws.clients(),
        Config(),
        RecordingUI(),
        deploy_mod.DeployResult(False),
        False,
        aws.sleep,
        aws.now,
    )
    cycle = json.dumps(
        {
            "Resources": {
                "A": {"Type": "AWS::Logs::LogGroup", "DependsOn": "B"},
                "B": {"Type": "AWS::Logs::LogGroup", "DependsOn": "A"},
            }
        }
    )
    name = f"{SOURCE}-{stamp(aws.now())}"

    outcome = run_.deploy_one(SOURCE, cycle, [])

    assert outcome.to_dict() == {
        "stack": SOURCE,
        "action": "failed",
        "status": "FAILED",
        "reason": f"change set {name} failed: {name}: circular dependency among A, B",
        "hint": None,
        "changes": [],
        "failures": [],
    }
    assert run_.ui.lines == [f"{SOURCE}: creating change set {name} (CREATE)"]
    assert run_.result.in_flight is None
    assert aws.client("cloudformation").describe_stacks()["Stacks"] == []


def test_a_run_stopped_while_a_stack_executes_says_cloudformation_goes_on(
    aws: Emulator, root: Path
) -> None:
    """Once ExecuteChangeSet is sent, CloudFormation runs the change set whether or not
    the caller waits (CloudFormation API reference, ExecuteChangeSet): the record says so
    and to wait before deploying again."""

    class StopAtTheFirstEvent(RecordingUI):
        def event(self, event: Any) -> None:
            raise KeyboardInterrupt

    started = aws.now()
    result = deploy_mod.DeployResult(dry_run=False)
    with pytest.raises(KeyboardInterrupt):
        run(aws, root, ui=StopAtTheFirstEvent(), result=result)

    [stack] = aws.client("cloudformation").describe_stacks(StackName=SOURCE)["Stacks"]
    link = console.stack(REGION, stack["StackId"])
    assert link.startswith(f"https://{REGION}.console.aws.amazon.com/cloudformation/")
    name = f"{SOURCE}-{stamp(started)}"
    assert result.in_flight == deploy_mod.InFlight(
        SOURCE,
        f"CloudFormation keeps executing change set {name} without bluegreen ({link})",
        "wait for it to finish (`bluegreen status`, or the console), then run `bluegreen "
        "deploy` again to continue",
    )


def _stubbed_codepipeline() -> Any:
    import boto3

    return boto3.client("codepipeline", region_name=REGION)


class _OnlyCodePipeline:
    def __init__(self, client: Any) -> None:
        self.codepipeline = client


GITHUB = {"source": {"provider": "github", "full_repository_id": "acme/webapp"}}
CHECKS = "sample3-dev-branch-checks"


def test_a_check_stage_reported_without_a_transition_state_is_not_held() -> None:
    """GetPipelineState's StageState.inboundTransitionState is optional (botocore's
    CodePipeline model; a first stage has no inbound transition): without it the stage
    is not held, and nothing is stopped or enabled. (Stubber: the emulator always
    reports the transition.)"""
    from botocore.stub import Stubber

    client = _stubbed_codepipeline()
    ui = RecordingUI()
    with Stubber(client) as stubs:
        stubs.add_response(
            "get_pipeline_state",
            {"stageStates": [{"stageName": "Source"}, {"stageName": "Check"}]},
            {"name": CHECKS},
        )
        deploy_mod.open_branch_checks(
            cast(Any, _OnlyCodePipeline(client)), config_mod.from_dict(GITHUB), ui
        )
        stubs.assert_no_pending_responses()
    assert ui.lines == []


def test_only_the_held_creation_run_is_stopped_abandoned_then_the_check_stage_opened() -> None:
    """The requests, exactly: StopPipelineExecution with abandon (it "stops the pipeline
    execution by abandoning, rather than finishing, in-progress actions", CodePipeline API
    reference) of the InProgress run triggered by CreatePipeline only (ExecutionTrigger
    triggerType), then EnableStageTransition Inbound of the Check stage. The emulator
    stops a held run the same with or without abandon, so the parameters are checked with
    botocore's Stubber."""
    from botocore.stub import Stubber

    client = _stubbed_codepipeline()
    ui = RecordingUI()
    held = {"enabled": False, "disabledReason": "held"}
    with Stubber(client) as stubs:
        stubs.add_response(
            "get_pipeline_state",
            {
                "stageStates": [
                    {"stageName": "Source", "inboundTransitionState": {"enabled": False}},
                    {"stageName": "Check", "inboundTransitionState": held},
                ]
            },
            {"name": CHECKS},
        )
        stubs.add_response(
            "list_pipeline_executions",
            {
                "pipelineExecutionSummaries": [
                    {
                        "pipelineExecutionId": "pushed",
                        "status": "InProgress",
                        "trigger": {"triggerType": "Webhook"},
                    },
                    {
                        "pipelineExecutionId": "created-and-done",
                        "status": "Stopped",
                        "trigger": {"triggerType": "CreatePipeline"},
                    },
                    {
                        "pipelineExecutionId": "created",
                        "status": "InProgress",
                        "trigger": {"triggerType": "CreatePipeline"},
                    },
                ]
            },
            {"pipelineName": CHECKS},
        )
        stubs.add_response(
            "stop_pipeline_execution",
            {"pipelineExecutionId": "created"},
            {
                "pipelineName": CHECKS,
                "pipelineExecutionId": "created",
                "abandon": True,
                "reason": "bluegreen: the branch checks never check the release branch",
            },
        )
        stubs.add_response(
            "enable_stage_transition",
            {},
            {"pipelineName": CHECKS, "stageName": "Check", "transitionType": "Inbound"},
        )
        deploy_mod.open_branch_checks(
            cast(Any, _OnlyCodePipeline(client)), config_mod.from_dict(GITHUB), ui
        )
        stubs.assert_no_pending_responses()
    assert ui.lines == [
        f"{CHECKS}: branch checks open (pushes to feature/* are built and tested, never deployed)"
    ]


def test_a_held_stage_with_no_runs_listed_is_opened() -> None:
    """ListPipelineExecutions' pipelineExecutionSummaries is optional in botocore's
    model: none listed, nothing to stop, the stage is still opened."""
    from botocore.stub import Stubber

    client = _stubbed_codepipeline()
    with Stubber(client) as stubs:
        stubs.add_response(
            "get_pipeline_state",
            {"stageStates": [{"stageName": "Check", "inboundTransitionState": {"enabled": False}}]},
            {"name": CHECKS},
        )
        stubs.add_response("list_pipeline_executions", {}, {"pipelineName": CHECKS})
        stubs.add_response(
            "enable_stage_transition",
            {},
            {"pipelineName": CHECKS, "stageName": "Check", "transitionType": "Inbound"},
        )
        deploy_mod.open_branch_checks(
            cast(Any, _OnlyCodePipeline(client)), config_mod.from_dict(GITHUB)
        )
        stubs.assert_no_pending_responses()


def test_out_of_band_values_are_read_from_the_updated_stack_s_outputs(aws: Emulator) -> None:
    """After the service stack's update, what a setting names is read from the stack's
    outputs (DescribeStacks Outputs); a log group's name has no resource fallback, so
    only the outputs can give it."""
    from bluegreen.aws import owned

    cfn = aws.client("cloudformation")
    cfn.create_stack(
        StackName=SERVICE,
        TemplateBody=json.dumps(
            {
                "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}},
                "Outputs": {"LogsName": {"Value": {"Ref": "Logs"}}},
            }
        ),
    )
    for _ in range(30):
        if cfn.describe_stacks(StackName=SERVICE)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE":
            break
        aws.sleep(5)
    [group] = [
        r["PhysicalResourceId"]
        for r in cfn.describe_stack_resources(StackName=SERVICE)["StackResources"]
    ]
    run_ = deploy_mod._Run(
        aws.clients(),
        Config(),
        RecordingUI(),
        deploy_mod.DeployResult(False),
        False,
        aws.sleep,
        aws.now,
    )
    setting = deploy_mod.OutOfBand(
        "DeploymentConfiguration",
        "deploymentConfiguration",
        {"lifecycleHooks": []},
        {"lifecycleHooks": [{"hookTargetArn": {owned.OUTPUT: "LogsName"}}]},
    )
    run_.result.out_of_band = [setting]

    run_.resolve_out_of_band()

    assert setting.wanted == {"lifecycleHooks": [{"hookTargetArn": group}]}
    assert run_.result.out_of_band == [setting]


def test_an_empty_stack_is_deleted_only_from_review_in_progress(aws: Emulator) -> None:
    """A declined CREATE's empty stack (REVIEW_IN_PROGRESS) is deleted; a stack that
    does not exist or has resources is not, and the caller is told so."""
    cfn = aws.client("cloudformation")
    assert deploy_mod._delete_empty_stack(cfn, SOURCE) is False
    cfn.create_stack(
        StackName=SOURCE, TemplateBody='{"Resources": {"L": {"Type": "AWS::Logs::LogGroup"}}}'
    )
    for _ in range(30):
        if cfn.describe_stacks(StackName=SOURCE)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE":
            break
        aws.sleep(5)
    assert deploy_mod._delete_empty_stack(cfn, SOURCE) is False
    assert cfn.describe_stacks(StackName=SOURCE)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"


def test_a_resource_without_a_type_is_listed_with_an_empty_type() -> None:
    """A dry run lists a new stack's template resources as Add; a template given as a
    plain mapping is read too."""
    assert deploy_mod._resources(
        {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}, "Odd": {}}}
    ) == [
        deploy_mod.Change("Add", "Logs", "AWS::Logs::LogGroup", ""),
        deploy_mod.Change("Add", "Odd", "", ""),
    ]


@pytest.mark.parametrize(
    ("controller", "why"),
    [
        (
            "CODE_DEPLOY",
            "(CloudFormation cannot update a CODE_DEPLOY service; the stack's template keeps it)",
        ),
        (
            "ECS",
            "(the stack's template keeps the service as deployed: a CloudFormation update "
            "of it would deploy the template's bootstrap revision)",
        ),
    ],
)
def test_a_deployment_configuration_change_says_it_starts_no_deployment(
    controller: str, why: str
) -> None:
    """UpdateService's deploymentConfiguration: "This parameter doesn't trigger a new
    service deployment" (botocore's ECS model): the change is said to wait for the next
    release. A dry run sends nothing (no clients are needed to say it)."""
    run_ = deploy_mod._Run(
        cast(Any, None),
        Config(),
        RecordingUI(),
        deploy_mod.DeployResult(True),
        True,
        lambda seconds: None,
        lambda: T0,
    )
    run_.controller = controller
    run_.result.out_of_band = [
        deploy_mod.OutOfBand("DesiredCount", "desiredCount", 1, 2),
        deploy_mod.OutOfBand(
            "DeploymentConfiguration",
            "deploymentConfiguration",
            {"minimumHealthyPercent": 100, "maximumPercent": 200},
            {"minimumHealthyPercent": 50, "maximumPercent": 200},
        ),
    ]

    run_.apply_out_of_band()

    assert run_.ui.lines == [
        f"{SERVICE}: would set desired count (task.desired_count) 1 -> 2; deployment "
        "configuration (deployment.*): minimumHealthyPercent 100 -> 50 with "
        f"ecs:UpdateService {why}; ECS starts no deployment for a deployment configuration "
        "change: the next release's service deployment runs under it"
    ]
    assert [o.applied for o in run_.result.out_of_band] == [False, False]


def test_the_silent_ui_approves_every_change_set() -> None:
    """Library use and scripts: nothing asked, every change set executed."""
    assert deploy_mod.SilentUI().confirm(SOURCE) is True


def test_a_stack_busy_when_its_turn_comes_is_refused_by_name(aws: Emulator) -> None:
    """A stack another caller started changing after deploy looked: still refused by
    name, before a change set (CloudFormation cannot take one on a stack in
    CREATE_IN_PROGRESS: API reference, CreateChangeSet)."""
    cfn = aws.client("cloudformation")
    cfn.create_stack(
        StackName=SOURCE, TemplateBody='{"Resources": {"L": {"Type": "AWS::Logs::LogGroup"}}}'
    )
    run_ = deploy_mod._Run(
        aws.clients(),
        Config(),
        RecordingUI(),
        deploy_mod.DeployResult(False),
        False,
        aws.sleep,
        aws.now,
    )
    with pytest.raises(deploy_mod.StateError) as info:
        run_.deploy_one(SOURCE, "{}", [])
    assert info.value.message == f"stack {SOURCE} in {REGION} is busy (CREATE_IN_PROGRESS)"
    assert run_.ui.lines == []
