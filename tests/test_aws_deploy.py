"""deploy against stubbed CloudFormation, CodeCommit, IAM, ECS and CodePipeline.

The call sequences are the ones deploy must make: look first (every stack's state, the
CodeCommit, IAM and ECS facts a refusal depends on), then change, stack by stack. Each
stubbed AWS behaviour cites its source here or in deploy_support.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from deploy_support import (
    CLUSTER,
    ECS_SERVICE,
    PIPELINE,
    REPO,
    SERVICE,
    SOURCE,
    RecordingUI,
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
    no_sleep,
    repositories,
    role,
)
from test_aws_support import (
    SERVICE_OUTPUTS,
    Stubs,
    change_set,
    cs_id,
    delete_change_set,
    event,
    events,
    execute,
    missing_stack,
    service_template,
    stack,
    stack_id,
)

from bluegreen import config as config_mod
from bluegreen.aws import cfn
from bluegreen.aws import deploy as deploy_mod
from bluegreen.aws.cfn import StackEvent
from bluegreen.errors import OperationError, RepositoryError, StateError, UsageError
from bluegreen.stacks import build


@pytest.fixture
def cfg() -> config_mod.Config:
    return config_mod.Config()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "app")


def deployed_service(config: config_mod.Config) -> str:
    """The service stack's template as the last deploy left it: what synth makes now."""
    return next(s for s in build(config) if s.name == SERVICE).to_yaml()


def rerun_look(s: Stubs, cfg: config_mod.Config, desired: int = 1) -> None:
    """A later deploy's first look: all three stacks up, the branch has commits, the
    service stack's deployed template, the live service."""
    look(s, "UPDATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE")
    service_template(s, deployed_service(cfg))
    branch(s, "f" * 40)
    live_service(s, desired=desired)


# ---- from an empty account --------------------------------------------------------------


def test_an_empty_account_gets_the_role_the_repository_commit_and_three_stacks(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    look(s)
    repositories(s, ["another-team-repository"])
    role(s, exists=False)
    create_ok(s, SOURCE)
    first_commit(s)
    create_role(s)  # right before the service change set executes
    create_ok(s, SERVICE)
    create_ok(s, PIPELINE)
    links(s)
    ui = RecordingUI()
    slept: list[float] = []

    result = deploy_mod.deploy(s.clients, cfg, repo, ui, sleep=slept.append)

    s.done()
    assert [(o.stack, o.action, o.status) for o in result.stacks] == [
        (SOURCE, "create", "CREATE_COMPLETE"),
        (SERVICE, "create", "CREATE_COMPLETE"),
        (PIPELINE, "create", "CREATE_COMPLETE"),
    ]
    assert result.ok and result.in_flight is None
    assert ui.asked == [SOURCE, SERVICE, PIPELINE]
    assert result.service_linked_role == "created"
    assert 10.0 in slept  # the new role is given time to propagate before ECS assumes it
    assert result.notes == []  # the account has a repository: CodeCommit lets it create one
    # only the new events, oldest first, per stack (REVIEW_IN_PROGRESS was there before)
    assert [(e.logical_id, e.status) for e in ui.events if e.stack == SOURCE] == [
        (SOURCE, "CREATE_IN_PROGRESS"),
        ("Thing", "CREATE_IN_PROGRESS"),
        ("Thing", "CREATE_COMPLETE"),
        (SOURCE, "CREATE_COMPLETE"),
    ]
    assert result.first_commit is not None
    assert result.first_commit.files > 10 and len(result.first_commit.commits) == 1
    assert result.links is not None
    assert result.links.production_url == SERVICE_OUTPUTS["ProductionUrl"]
    # the commit comes between the source stack and the service stack, the role right
    # before the service stack executes
    order = [
        line
        for line in ui.lines
        if "committed" in line or "creating change set" in line or "service-linked" in line
    ]
    assert [o.split(":")[0].split(" ")[0] for o in order] == [
        SOURCE,
        REPO,
        SERVICE,
        "created",
        PIPELINE,
    ]


def test_an_account_without_a_repository_is_told_about_codecommits_restriction(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    look(s)
    repositories(s, [])
    role(s, exists=True)
    declined_create(s, SOURCE)
    ui = RecordingUI(answer=False)

    result = deploy_mod.deploy(s.clients, cfg, repo, ui, sleep=no_sleep)

    s.done()
    [note] = result.notes
    assert "no CodeCommit repository in ap-northeast-1" in note
    assert "2024-07-25" in note and "OperationNotAllowedException" in note
    assert "ask AWS Support" in note
    assert ui.lines[0] == f"note: {note}"  # said before the source stack
    assert result.declined


def test_a_region_without_codecommit_is_refused_before_any_stack(
    cfg: config_mod.Config, repo: Path
) -> None:
    from botocore.exceptions import EndpointConnectionError

    class NoCodeCommit:
        """botocore raises EndpointConnectionError when the service has no endpoint to
        reach (botocore.exceptions; CodeCommit is not offered in every region)."""

        def list_repositories(self) -> dict[str, Any]:
            raise EndpointConnectionError(
                endpoint_url="https://codecommit.ca-west-1.amazonaws.com/"
            )

    from bluegreen.aws.session import Clients

    s = Stubs()
    look(s)
    clients = Clients.from_factory(
        lambda service: NoCodeCommit() if service == "codecommit" else s.client(service),
        "ap-northeast-1",
    )

    with pytest.raises(StateError, match="CodeCommit does not answer in ap-northeast-1") as info:
        deploy_mod.deploy(clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()
    assert "Nothing was changed" in str(info.value)


def test_a_repository_codecommit_refuses_to_create_is_explained(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    look(s)
    repositories(s, [])
    role(s, exists=True)
    missing_stack(s, SOURCE)
    change_set(s, SOURCE, "CREATE", [("Add", "Repository", "AWS::CodeCommit::Repository", "")])
    review = event(SOURCE, 0, SOURCE, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS")
    # The resource failure text of aws-containers/ecs-workshop-blue-green-deployments#11.
    refused = (
        "CreateRepository request is not allowed because there is no existing repository "
        "in this AWS account or AWS Organization (Service: AWSCodeCommit; Status Code: 400; "
        "Error Code: OperationNotAllowedException)"
    )
    execute(
        s,
        SOURCE,
        [review],
        [
            [
                event(
                    SOURCE, 2, "Repository", "AWS::CodeCommit::Repository", "CREATE_FAILED", refused
                ),
                event(SOURCE, 1, SOURCE, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
            ],
            [event(SOURCE, 3, SOURCE, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE")],
        ],
        "ROLLBACK_COMPLETE",
    )

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()
    [failed] = result.failed
    assert failed.stack == SOURCE and failed.status == "ROLLBACK_COMPLETE"
    assert "CodeCommit refused to create the repository" in failed.hint
    assert "ask AWS Support" in failed.hint


def test_a_role_made_meanwhile_by_someone_else_is_fine(cfg: config_mod.Config, repo: Path) -> None:
    s = Stubs()
    look(s, "UPDATE_COMPLETE", None, None)
    branch(s, "f" * 40)
    role(s, exists=False)
    no_changes(s, SOURCE)
    # Two creators racing: IAM answers InvalidInput "... has been taken in this account"
    # (bcgov/startup-sample-project-aws-containers#13, Rayraegah/terraform-aws-hasura#17).
    s.error(
        "iam",
        "create_service_linked_role",
        "InvalidInput",
        "Service role name AWSServiceRoleForECS has been taken in this account, please try "
        "a different suffix.",
        {"AWSServiceName": "ecs.amazonaws.com"},
    )
    create_ok(s, SERVICE)
    declined_create(s, PIPELINE)

    ui = AnsweringUI([True, False])  # yes to the service, no to the pipeline
    result = deploy_mod.deploy(s.clients, cfg, repo, ui, sleep=no_sleep)

    s.done()
    assert result.service_linked_role == "exists"
    assert [o.action for o in result.stacks] == ["no-changes", "create", "declined"]
    assert any("just created by someone else" in line for line in ui.lines)


class AnsweringUI(RecordingUI):
    def __init__(self, answers: list[bool]) -> None:
        super().__init__()
        self.answers = answers

    def confirm(self, stack: Any) -> bool:
        self.asked.append(stack)
        return self.answers.pop(0)


# ---- the first commit's files: refused before anything changes ----------------------------


def test_an_empty_file_is_named_before_anything_changes(cfg: config_mod.Config, repo: Path) -> None:
    (repo / "webapp" / "tests" / "__init__.py").write_bytes(b"")
    s = Stubs()
    look(s)
    repositories(s, ["x"])

    with pytest.raises(RepositoryError) as info:
        deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()  # only reads: no stack, no commit
    assert "webapp/tests/__init__.py is empty" in str(info.value)
    assert "nothing was changed" in str(info.value)
    assert info.value.exit_code == 2


def test_a_missing_repository_file_is_named_before_anything_changes(
    cfg: config_mod.Config, repo: Path
) -> None:
    (repo / "taskdef.json").unlink()
    s = Stubs()
    look(s)
    repositories(s, ["x"])
    with pytest.raises(RepositoryError, match="missing taskdef.json"):
        deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)
    s.done()


def test_a_branch_with_commits_needs_no_files(cfg: config_mod.Config, repo: Path) -> None:
    """Once the branch has commits the local files are not committed, so an empty file
    (fine for git) does not stop a later deploy."""
    (repo / "webapp" / "tests" / "__init__.py").write_bytes(b"")
    s = Stubs()
    rerun_look(s, cfg)
    for name in (SOURCE, SERVICE, PIPELINE):
        no_changes(s, name)
    links(s)

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()
    assert [o.action for o in result.stacks] == ["no-changes"] * 3
    assert result.first_commit is not None
    assert result.first_commit.skipped == "the branch already has commits"
    assert result.out_of_band == []  # desired count 1 as deployed: nothing out of band


# ---- state refusals, before anything changes ---------------------------------------------


@pytest.mark.parametrize(
    ("statuses", "match"),
    [
        (
            ("UPDATE_COMPLETE", "UPDATE_IN_PROGRESS", None),
            "sample3-dev-service in ap-northeast-1 is busy",
        ),
        (
            ("UPDATE_COMPLETE", "UPDATE_ROLLBACK_FAILED", None),
            "is UPDATE_ROLLBACK_FAILED and cannot",
        ),
        ((None, None, "DELETE_FAILED"), "sample3-dev-pipeline in ap-northeast-1 is DELETE_FAILED"),
    ],
)
def test_a_busy_or_failed_stack_is_refused_before_anything_changes(
    cfg: config_mod.Config,
    repo: Path,
    statuses: tuple[str | None, str | None, str | None],
    match: str,
) -> None:
    s = Stubs()
    look(s, *statuses)
    with pytest.raises(StateError, match=match) as info:
        deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)
    s.done()
    assert "nothing was changed" in str(info.value)


def test_a_stack_left_by_a_failed_create_is_deleted_and_created_again(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    look(s, "ROLLBACK_COMPLETE", None, None)
    repositories(s, ["x"])
    role(s, exists=True)
    stack(s, SOURCE, "ROLLBACK_COMPLETE")
    # A stack in ROLLBACK_COMPLETE can only be deleted (CloudFormation user guide,
    # "Troubleshooting": "Stack ... is in ROLLBACK_COMPLETE state and can not be updated").
    old = event(SOURCE, 0, SOURCE, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE")
    events(s, SOURCE, [old])
    s.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(SOURCE)})
    gone = [event(SOURCE, 1, SOURCE, "AWS::CloudFormation::Stack", "DELETE_COMPLETE"), old]
    events(s, SOURCE, gone)
    stack(s, SOURCE, "DELETE_COMPLETE", key=stack_id(SOURCE))
    events(s, SOURCE, gone)
    change_set(s, SOURCE, "CREATE", [("Add", "Repository", "AWS::CodeCommit::Repository", "")])
    delete_change_set(s, SOURCE)
    stack(s, SOURCE, "REVIEW_IN_PROGRESS")
    s.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(SOURCE)})
    ui = RecordingUI(answer=False)

    result = deploy_mod.deploy(s.clients, cfg, repo, ui, sleep=no_sleep)

    s.done()
    assert [o.action for o in result.stacks] == ["declined"]
    assert f"{SOURCE}: deleting the stack left by a failed create (ROLLBACK_COMPLETE)" in ui.lines
    assert any(
        line.endswith("declined and deleted with the empty stack it created") for line in ui.lines
    )


def test_review_in_progress_counts_as_new(cfg: config_mod.Config, repo: Path) -> None:
    s = Stubs()
    look(s, "REVIEW_IN_PROGRESS", None, None)
    repositories(s, ["x"])
    role(s, exists=True)
    stack(s, SOURCE, "REVIEW_IN_PROGRESS")
    change_set(s, SOURCE, "CREATE", [("Add", "Repository", "AWS::CodeCommit::Repository", "")])
    delete_change_set(s, SOURCE)
    stack(s, SOURCE, "REVIEW_IN_PROGRESS")
    s.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(SOURCE)})

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(answer=False), sleep=no_sleep)

    s.done()
    assert result.declined


# ---- change sets ----------------------------------------------------------------------------


def test_no_changes_is_success_and_deletes_the_change_sets(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    rerun_look(s, cfg)
    for name in (SOURCE, SERVICE, PIPELINE):
        no_changes(s, name)
    links(s)
    ui = RecordingUI()

    result = deploy_mod.deploy(s.clients, cfg, repo, ui, sleep=no_sleep)

    s.done()
    assert [o.action for o in result.stacks] == ["no-changes"] * 3
    assert result.ok and ui.asked == []
    assert result.first_commit is not None and result.first_commit.commits == []


def test_failed_change_set_stops_with_its_reason(cfg: config_mod.Config, repo: Path) -> None:
    s = Stubs()
    rerun_look(s, cfg)
    stack(s, SOURCE, "UPDATE_COMPLETE")
    change_set(
        s,
        SOURCE,
        "UPDATE",
        [],
        status="FAILED",
        reason="Template format error: Unresolved resource dependencies [Nope]",
    )
    delete_change_set(s, SOURCE)

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()
    [failed] = result.failed
    assert failed.stack == SOURCE
    assert "Unresolved resource dependencies [Nope]" in failed.reason
    assert len(result.stacks) == 1  # nothing after the failed stack
    assert result.in_flight is None


def test_failed_update_collects_resource_reasons(cfg: config_mod.Config, repo: Path) -> None:
    s = Stubs()
    rerun_look(s, cfg)
    no_changes(s, SOURCE)
    stack(s, SERVICE, "UPDATE_COMPLETE")
    change_set(s, SERVICE, "UPDATE", [("Modify", "AppLogGroup", "AWS::Logs::LogGroup", "False")])
    old = event(SERVICE, 0, SERVICE, "AWS::CloudFormation::Stack", "UPDATE_COMPLETE")
    execute(
        s,
        SERVICE,
        [old],
        [
            [
                event(
                    SERVICE,
                    3,
                    "AppLogGroup",
                    "AWS::Logs::LogGroup",
                    "UPDATE_FAILED",
                    "Rate exceeded",
                ),
                event(SERVICE, 2, "AppLogGroup", "AWS::Logs::LogGroup", "UPDATE_IN_PROGRESS"),
            ],
            [event(SERVICE, 5, SERVICE, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE")],
        ],
        "UPDATE_ROLLBACK_COMPLETE",
        in_progress="UPDATE_IN_PROGRESS",
    )

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()
    [failed] = result.failed
    assert failed.status == "UPDATE_ROLLBACK_COMPLETE"
    assert [(f.logical_id, f.status, f.reason) for f in failed.failures] == [
        ("AppLogGroup", "UPDATE_FAILED", "Rate exceeded")
    ]
    assert [o.stack for o in result.stacks] == [SOURCE, SERVICE]


def test_a_change_set_is_polled_until_computed() -> None:
    """CREATE_PENDING, then CREATE_IN_PROGRESS, then CREATE_COMPLETE (CloudFormation API
    reference, DescribeChangeSet Status: CREATE_PENDING | CREATE_IN_PROGRESS |
    CREATE_COMPLETE | DELETE_PENDING | ... | FAILED)."""
    s = Stubs()
    for status in ("CREATE_PENDING", "CREATE_IN_PROGRESS"):
        s.add(
            "cloudformation",
            "describe_change_set",
            {"ChangeSetName": "cs", "StackName": SOURCE, "Status": status},
            {"ChangeSetName": cs_id(SOURCE)},
        )
    change_set_done = {
        "ChangeSetName": "cs",
        "StackName": SOURCE,
        "StackId": stack_id(SOURCE),
        "Status": "CREATE_COMPLETE",
        "Changes": [
            {
                "Type": "Resource",
                "ResourceChange": {
                    "Action": "Add",
                    "LogicalResourceId": "Repository",
                    "ResourceType": "AWS::CodeCommit::Repository",
                },
            }
        ],
    }
    s.add(
        "cloudformation", "describe_change_set", change_set_done, {"ChangeSetName": cs_id(SOURCE)}
    )
    slept: list[float] = []

    computed = cfn.wait_change_set(s.client("cloudformation"), cs_id(SOURCE), sleep=slept.append)

    s.done()
    assert computed.status == "CREATE_COMPLETE" and slept == [2.0, 2.0]
    assert [c.logical_id for c in computed.changes] == ["Repository"]


def test_a_change_set_still_pending_at_the_timeout_is_an_error() -> None:
    s = Stubs()
    for _ in range(3):  # polled at 0 s, 2 s and 4 s; the timeout is 4 s
        s.add(
            "cloudformation",
            "describe_change_set",
            {"ChangeSetName": "cs-1", "StackName": SOURCE, "Status": "CREATE_PENDING"},
            {"ChangeSetName": cs_id(SOURCE)},
        )
    with pytest.raises(OperationError, match="change set cs-1 still CREATE_PENDING after 4s"):
        cfn.wait_change_set(
            s.client("cloudformation"), cs_id(SOURCE), sleep=no_sleep, interval=2.0, timeout=4.0
        )
    s.done()


def test_declined_create_deletes_change_set_and_the_empty_stack(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    look(s)
    repositories(s, ["x"])
    role(s, exists=True)
    declined_create(s, SOURCE)

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(answer=False), sleep=no_sleep)

    s.done()
    assert result.declined and not result.ok
    assert [o.action for o in result.stacks] == ["declined"]
    assert result.in_flight is None


# ---- dry run -----------------------------------------------------------------------------


def test_dry_run_creates_no_stack_lists_the_files_and_the_role_it_would_create(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    look(s)
    repositories(s, ["x"])
    role(s, exists=False)
    for name in (SOURCE, SERVICE, PIPELINE):
        missing_stack(s, name)
    missing_stack(s, SERVICE)  # links: nothing to link to yet
    ui = RecordingUI()

    result = deploy_mod.deploy(s.clients, cfg, repo, ui, dry_run=True, sleep=no_sleep)

    s.done()
    assert [o.action for o in result.stacks] == ["would-create"] * 3
    assert ui.asked == []
    assert result.service_linked_role == "would-create"
    assert "would create the ECS service-linked role AWSServiceRoleForECS" in " ".join(ui.lines)
    assert "taskdef.json" in result.would_commit and "webapp/Dockerfile" in result.would_commit
    assert result.first_commit is None and result.links is None


def test_dry_run_of_an_update_deletes_its_change_set(cfg: config_mod.Config, repo: Path) -> None:
    s = Stubs()
    look(s, "UPDATE_COMPLETE", None, None)
    branch(s, None)  # the repository exists but its branch is still empty
    role(s, exists=True)
    stack(s, SOURCE, "UPDATE_COMPLETE")
    change_set(
        s, SOURCE, "UPDATE", [("Modify", "AppImageRepository", "AWS::ECR::Repository", "False")]
    )
    delete_change_set(s, SOURCE)
    missing_stack(s, SERVICE)
    missing_stack(s, PIPELINE)
    missing_stack(s, SERVICE)

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), dry_run=True, sleep=no_sleep)

    s.done()
    assert [o.action for o in result.stacks] == ["would-update", "would-create", "would-create"]
    assert len(result.would_commit) > 10


# ---- what CodeDeploy owns ------------------------------------------------------------------


def test_a_desired_count_change_goes_to_ecs_after_the_stacks(
    cfg: config_mod.Config, repo: Path
) -> None:
    three = config_mod.parse("[task]\ndesired_count = 3")
    s = Stubs()
    rerun_look(s, cfg, desired=1)
    no_changes(s, SOURCE)
    # The service is sent exactly as deployed (DesiredCount 1): CloudFormation finds no change.
    no_changes(s, SERVICE, body=ServiceDesiredCount(1))
    no_changes(s, PIPELINE)
    # UpdateService accepts desiredCount on a CODE_DEPLOY service (ECS API reference,
    # UpdateService: "only the desired count, deployment configuration, health check grace
    # period, ... can be updated using this API").
    s.add(
        "ecs",
        "update_service",
        {"service": {"serviceName": ECS_SERVICE, "desiredCount": 3}},
        {"cluster": CLUSTER, "service": ECS_SERVICE, "desiredCount": 3},
    )
    links(s)
    ui = RecordingUI()

    result = deploy_mod.deploy(s.clients, three, repo, ui, sleep=no_sleep)

    s.done()
    [change] = result.out_of_band
    assert (change.setting, change.current, change.wanted, change.applied) == (
        "DesiredCount",
        1,
        3,
        True,
    )
    assert ui.lines[-1] == (
        f"{ECS_SERVICE}: set desired count (task.desired_count) 1 -> 3 with ecs:UpdateService "
        "(CloudFormation cannot update a CODE_DEPLOY service; the stack's template keeps it)"
    )


def test_dry_run_shows_the_desired_count_change_and_sends_nothing(
    cfg: config_mod.Config, repo: Path
) -> None:
    three = config_mod.parse("[task]\ndesired_count = 3")
    s = Stubs()
    rerun_look(s, cfg, desired=1)
    for name in (SOURCE, SERVICE, PIPELINE):
        no_changes(s, name)
    links(s)
    ui = RecordingUI()

    result = deploy_mod.deploy(s.clients, three, repo, ui, dry_run=True, sleep=no_sleep)

    s.done()  # no UpdateService queued, none sent
    assert [o.applied for o in result.out_of_band] == [False]
    assert ui.lines[-1].startswith(
        f"{ECS_SERVICE}: would set desired count (task.desired_count) 1 -> 3"
    )


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ('[network]\nvpc_cidr = "10.1.0.0/16"', "set by network.vpc_cidr"),
        (
            "[app]\nport = 8080",
            "BlueTargetGroup would be replaced: Port 80 -> 8080; set by app.port",
        ),
        ("[listeners]\nproduction_port = 8000", "ProductionListener: its port 80 -> 8000"),
    ],
)
def test_a_change_the_service_cannot_take_is_refused_before_anything_changes(
    cfg: config_mod.Config, repo: Path, text: str, what: str
) -> None:
    s = Stubs()
    look(s, "UPDATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE")
    branch(s, "f" * 40)
    service_template(s, deployed_service(cfg))
    changed = config_mod.parse(text)
    with pytest.raises(UsageError, match="cannot change in place") as info:
        deploy_mod.deploy(s.clients, changed, repo, RecordingUI(), sleep=no_sleep)
    s.done()  # only reads
    assert what in str(info.value) and "nothing was changed" in str(info.value)
    assert "`bluegreen destroy` then `bluegreen deploy`" in str(info.value)


def test_a_task_change_deploys_the_service_with_its_deployed_task_definition(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    rerun_look(s, cfg)
    bigger = config_mod.parse("[task]\ncpu = 512\nmemory = 1024")
    no_changes(s, SOURCE)
    # The body sent keeps cpu 256: CloudFormation finds nothing to change in the service.
    no_changes(s, SERVICE, body=KeepsCpu("256"))
    no_changes(s, PIPELINE)
    links(s)
    ui = RecordingUI()

    result = deploy_mod.deploy(s.clients, bigger, repo, ui, sleep=no_sleep)

    s.done()
    assert [o.action for o in result.stacks] == ["no-changes"] * 3
    assert any("kept as deployed" in line for line in ui.lines)


class KeepsCpu:
    """Matches a template body whose task definition has this Cpu."""

    def __init__(self, cpu: str) -> None:
        self.cpu = cpu

    def __eq__(self, body: object) -> bool:
        template = yaml.safe_load(str(body))
        return any(
            r["Type"] == "AWS::ECS::TaskDefinition" and r["Properties"]["Cpu"] == self.cpu
            for r in template["Resources"].values()
        )

    def __hash__(self) -> int:
        return hash(self.cpu)


class ServiceDesiredCount:
    """Matches a template body whose ECS service has this DesiredCount."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __eq__(self, body: object) -> bool:
        template = yaml.safe_load(str(body))
        return any(
            r["Type"] == "AWS::ECS::Service" and r["Properties"]["DesiredCount"] == self.count
            for r in template["Resources"].values()
        )

    def __hash__(self) -> int:
        return self.count


# ---- what a stopped run leaves ---------------------------------------------------------------


class InterruptingUI(RecordingUI):
    """Ctrl-C while the stack's events are shown."""

    def event(self, event: StackEvent) -> None:
        raise KeyboardInterrupt


def test_an_interrupt_while_cloudformation_executes_is_recorded(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    look(s)
    repositories(s, ["x"])
    role(s, exists=True)
    missing_stack(s, SOURCE)
    change_set(s, SOURCE, "CREATE", [("Add", "Thing", "AWS::SNS::Topic", "")])
    events(s, SOURCE, [])
    s.add("cloudformation", "execute_change_set", {}, {"ChangeSetName": cs_id(SOURCE)})
    events(
        s, SOURCE, [event(SOURCE, 1, SOURCE, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS")]
    )
    record = deploy_mod.DeployResult(dry_run=False)

    with pytest.raises(KeyboardInterrupt):
        deploy_mod.deploy(s.clients, cfg, repo, InterruptingUI(), result=record, sleep=no_sleep)

    s.done()
    assert record.in_flight is not None and record.in_flight.subject == SOURCE
    assert record.in_flight.state.startswith(
        "CloudFormation keeps executing change set sample3-dev-source-"
    )
    assert "without bluegreen (https://ap-northeast-1.console.aws.amazon.com/cloudformation" in (
        record.in_flight.state
    )
    assert record.in_flight.resume.startswith("wait for it to finish")
    assert record.changed_anything


def test_an_aws_error_after_the_first_stack_keeps_what_was_done(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    rerun_look(s, cfg)
    no_changes(s, SOURCE)
    stack(s, SERVICE, "UPDATE_COMPLETE")
    s.error("cloudformation", "create_change_set", "Throttling", "Rate exceeded")
    record = deploy_mod.DeployResult(dry_run=False)

    with pytest.raises(OperationError, match="throttled"):
        deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), result=record, sleep=no_sleep)

    assert [o.action for o in record.stacks] == ["no-changes"]
    assert record.in_flight is not None
    assert record.in_flight.state.startswith("change set sample3-dev-service-")
    assert record.in_flight.state.endswith(
        "(UPDATE) being created, not executed; stack UPDATE_COMPLETE"
    )


# ---- odds and ends ----------------------------------------------------------------------------


def test_oversized_template_is_refused_before_any_call(
    cfg: config_mod.Config, repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cfn, "TEMPLATE_BODY_LIMIT", 1000)
    s = Stubs()
    with pytest.raises(OperationError, match="bytes") as info:
        deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)
    assert "nothing was changed" in str(info.value)
    s.done()


def test_change_set_name_is_stack_and_utc_timestamp() -> None:
    from datetime import UTC, datetime

    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert deploy_mod.change_set_name("a-source", when) == "a-source-20260304050607"


@pytest.mark.parametrize(
    ("summaries", "pending"),
    [
        # CodePipeline starts a run when it creates a pipeline, trigger type CreatePipeline
        # (botocore CodePipeline model: ExecutionTrigger.triggerType; CodePipeline user
        # guide, "Start a pipeline in CodePipeline").
        ([("CreatePipeline", "InProgress")], True),
        ([("CreatePipeline", "Succeeded")], False),
        ([("CloudWatchEvent", "InProgress")], False),
        ([("StartPipelineExecution", "InProgress")], False),
        ([], False),
    ],
)
def test_the_first_release_is_pending_while_the_creation_run_is_in_progress(
    cfg: config_mod.Config, summaries: list[tuple[str, str]], pending: bool
) -> None:
    s = Stubs()
    s.add(
        "codepipeline",
        "list_pipeline_executions",
        {
            "pipelineExecutionSummaries": [
                {"pipelineExecutionId": "e-1", "status": status, "trigger": {"triggerType": kind}}
                for kind, status in summaries
            ]
        },
        {"pipelineName": PIPELINE, "maxResults": 1},
    )
    assert deploy_mod.first_release_pending(s.clients, cfg) is pending
    s.done()
