"""deploy/destroy against stubbed CloudFormation, CodeCommit, S3 and ECR."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.stub import ANY
from test_aws_support import (
    PIPELINE_OUTPUTS,
    SERVICE_OUTPUTS,
    Stubs,
    change_set,
    delete_change_set,
    event,
    execute,
    missing_stack,
    service_template,
    stack,
    stack_id,
    write_repo,
)

from bluegreen import config as config_mod
from bluegreen.aws import cfn, codecommit
from bluegreen.aws import deploy as deploy_mod
from bluegreen.aws import destroy as destroy_mod
from bluegreen.aws.cfn import Change, StackEvent
from bluegreen.errors import OperationError, RepositoryError, StateError, UsageError
from bluegreen.stacks import build

SOURCE, SERVICE, PIPELINE = "sample3-dev-source", "sample3-dev-service", "sample3-dev-pipeline"
REPO = "sample3-dev-webappservice"


class RecordingUI:
    def __init__(self, answer: bool = True) -> None:
        self.answer = answer
        self.lines: list[str] = []
        self.shown: list[tuple[str, str, list[Change]]] = []
        self.events: list[StackEvent] = []
        self.asked: list[str] = []

    def step(self, message: str) -> None:
        self.lines.append(message)

    def changes(self, stack: str, change_set_type: str, changes: list[Change]) -> None:
        self.shown.append((stack, change_set_type, changes))

    def confirm(self, stack: Any) -> bool:
        self.asked.append(stack if isinstance(stack, str) else "plan")
        return self.answer

    def event(self, event: StackEvent) -> None:
        self.events.append(event)

    def stack_done(self, stack: str, status: str) -> None:
        self.lines.append(f"{stack} done {status}")


@pytest.fixture
def cfg() -> config_mod.Config:
    return config_mod.Config()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    write_repo(tmp_path)
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / "webapp" / "__pycache__").mkdir(parents=True)
    (tmp_path / "webapp" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    return tmp_path


def deployed_service(config: config_mod.Config) -> str:
    """The service stack's template as the last deploy left it: what synth makes now."""
    return next(s for s in build(config) if s.name == SERVICE).to_yaml()


def no_sleep(seconds: float) -> None:
    pass


def create_ok(s: Stubs, name: str) -> None:
    missing_stack(s, name)
    change_set(s, name, "CREATE", [("Add", "Thing", "AWS::SNS::Topic", "")])
    review = event(name, 0, name, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS")
    execute(
        s,
        name,
        [review],
        [
            [
                event(name, 2, "Thing", "AWS::SNS::Topic", "CREATE_IN_PROGRESS"),
                event(name, 1, name, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
            ],
            [
                event(name, 4, name, "AWS::CloudFormation::Stack", "CREATE_COMPLETE"),
                event(name, 3, "Thing", "AWS::SNS::Topic", "CREATE_COMPLETE"),
            ],
        ],
        "CREATE_COMPLETE",
    )


def no_changes(s: Stubs, name: str, body: Any = ANY) -> None:
    stack(s, name, "UPDATE_COMPLETE")
    change_set(
        s,
        name,
        "UPDATE",
        [],
        status="FAILED",
        reason="The submitted information didn't contain changes. Submit different "
        "information to create a change set.",
        body=body,
    )
    delete_change_set(s, name)


def links(s: Stubs) -> None:
    stack(s, SERVICE, "CREATE_COMPLETE", SERVICE_OUTPUTS)
    stack(s, PIPELINE, "CREATE_COMPLETE", PIPELINE_OUTPUTS)


def first_commit(message: str, **more: str) -> dict[str, Any]:
    """The create_commit request that fills the empty main branch of REPO."""
    return {
        "repositoryName": REPO,
        "branchName": "main",
        "authorName": "bluegreen",
        "commitMessage": message,
        "putFiles": ANY,
        **more,
    }


def test_create_from_an_empty_account_commits_the_repository_before_the_pipeline(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    service_template(s, None)
    create_ok(s, SOURCE)
    s.error(
        "codecommit",
        "get_branch",
        "BranchDoesNotExistException",
        "Branch main does not exist",
        {"repositoryName": REPO, "branchName": "main"},
    )
    s.add("codecommit", "list_branches", {"branches": []}, {"repositoryName": REPO})
    s.add(
        "codecommit",
        "create_commit",
        {"commitId": "c0ffee00" * 5, "treeId": "t", "filesAdded": []},
        first_commit("Initial commit by bluegreen deploy"),
    )
    create_ok(s, SERVICE)
    create_ok(s, PIPELINE)
    links(s)
    ui = RecordingUI()

    result = deploy_mod.deploy(s.clients, cfg, repo, ui, sleep=no_sleep)

    s.done()
    assert [(o.stack, o.action, o.status) for o in result.stacks] == [
        (SOURCE, "create", "CREATE_COMPLETE"),
        (SERVICE, "create", "CREATE_COMPLETE"),
        (PIPELINE, "create", "CREATE_COMPLETE"),
    ]
    assert result.ok
    assert ui.asked == [SOURCE, SERVICE, PIPELINE]
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
    assert result.links.test_url == SERVICE_OUTPUTS["TestUrl"]
    assert result.links.pipeline == (
        "https://ap-northeast-1.console.aws.amazon.com/codesuite/codepipeline/pipelines/"
        "sample3-dev-pipeline/view?region=ap-northeast-1"
    )
    assert "deployment-groups/sample3-dev-deployment-group" in result.links.deployments
    # the commit is made between the source stack and the service stack
    order = [line for line in ui.lines if "committed" in line or "creating change set" in line]
    assert "committed" in order[1] and SERVICE in order[2]


def test_files_committed_exclude_git_and_caches(repo: Path) -> None:
    files = codecommit.collect_files(repo, ["taskdef.json"])
    paths = {f.path for f in files}
    assert "taskdef.json" in paths and "webapp/Dockerfile" in paths
    assert not any(p.startswith(".git/") or "__pycache__" in p for p in paths)


def test_missing_repository_file_is_refused_before_any_call(
    cfg: config_mod.Config, repo: Path
) -> None:
    (repo / "taskdef.json").unlink()
    s = Stubs()
    with pytest.raises(RepositoryError, match="taskdef.json"):
        deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)
    s.done()


def test_commits_are_batched_under_the_api_limits() -> None:
    small = [codecommit.RepoFile(f"f{i}", b"x", False) for i in range(250)]
    assert [len(b) for b in codecommit.batches(small)] == [100, 100, 50]
    big = [codecommit.RepoFile(f"b{i}", b"x" * (2 * 1024 * 1024), False) for i in range(5)]
    assert [len(b) for b in codecommit.batches(big)] == [2, 2, 1]


def test_chained_commits_name_their_parent(tmp_path: Path) -> None:
    s = Stubs()
    files = [codecommit.RepoFile(f"f{i:03}", b"x", i == 0) for i in range(150)]
    s.error("codecommit", "get_branch", "BranchDoesNotExistException", "no")
    s.add("codecommit", "list_branches", {"branches": []})
    s.add("codecommit", "create_commit", {"commitId": "a" * 40})
    s.add(
        "codecommit",
        "create_commit",
        {"commitId": "b" * 40},
        first_commit("Initial commit by bluegreen deploy (2/2)", parentCommitId="a" * 40),
    )
    done = codecommit.commit_if_empty(s.client("codecommit"), REPO, "main", files)
    s.done()
    assert done.commits == ["a" * 40, "b" * 40] and done.files == 150


def test_no_changes_is_success_and_deletes_the_change_sets(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    service_template(s, deployed_service(cfg))
    no_changes(s, SOURCE)
    s.add("codecommit", "get_branch", {"branch": {"branchName": "main", "commitId": "f" * 40}})
    no_changes(s, SERVICE)
    no_changes(s, PIPELINE)
    links(s)
    ui = RecordingUI()

    result = deploy_mod.deploy(s.clients, cfg, repo, ui, sleep=no_sleep)

    s.done()
    assert [o.action for o in result.stacks] == ["no-changes"] * 3
    assert result.ok and ui.asked == []
    assert result.first_commit is not None and result.first_commit.commits == []


def test_failed_change_set_stops_with_its_reason(cfg: config_mod.Config, repo: Path) -> None:
    s = Stubs()
    service_template(s, None)
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
    assert not result.ok
    [failed] = result.failed
    assert failed.stack == SOURCE
    assert "Unresolved resource dependencies [Nope]" in failed.reason
    assert len(result.stacks) == 1  # nothing after the failed stack


def test_failed_update_collects_resource_reasons(cfg: config_mod.Config, repo: Path) -> None:
    s = Stubs()
    service_template(s, deployed_service(cfg))
    no_changes(s, SOURCE)
    s.add("codecommit", "get_branch", {"branch": {"branchName": "main", "commitId": "f" * 40}})
    stack(s, SERVICE, "UPDATE_COMPLETE")
    change_set(s, SERVICE, "UPDATE", [("Modify", "Service", "AWS::ECS::Service", "Conditional")])
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
                    "Service",
                    "AWS::ECS::Service",
                    "UPDATE_FAILED",
                    "Invalid request provided: Unable to update task definition on services "
                    "with a CODE_DEPLOY deployment controller.",
                ),
                event(SERVICE, 2, "Service", "AWS::ECS::Service", "UPDATE_IN_PROGRESS"),
            ],
            [
                event(
                    SERVICE, 5, SERVICE, "AWS::CloudFormation::Stack", "UPDATE_ROLLBACK_COMPLETE"
                ),
                event(
                    SERVICE,
                    4,
                    SERVICE,
                    "AWS::CloudFormation::Stack",
                    "UPDATE_ROLLBACK_IN_PROGRESS",
                    "The following resource(s) failed to update: [Service].",
                ),
            ],
        ],
        "UPDATE_ROLLBACK_COMPLETE",
        in_progress="UPDATE_IN_PROGRESS",
    )

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()
    [failed] = result.failed
    assert failed.status == "UPDATE_ROLLBACK_COMPLETE"
    assert [(f.logical_id, f.status) for f in failed.failures] == [("Service", "UPDATE_FAILED")]
    assert "CODE_DEPLOY deployment controller" in failed.failures[0].reason
    assert [o.stack for o in result.stacks] == [SOURCE, SERVICE]


def test_declined_create_deletes_change_set_and_the_empty_stack(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    service_template(s, None)
    missing_stack(s, SOURCE)
    change_set(s, SOURCE, "CREATE", [("Add", "Repository", "AWS::CodeCommit::Repository", "")])
    delete_change_set(s, SOURCE)
    stack(s, SOURCE, "REVIEW_IN_PROGRESS")
    s.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(SOURCE)})
    ui = RecordingUI(answer=False)

    result = deploy_mod.deploy(s.clients, cfg, repo, ui, sleep=no_sleep)

    s.done()
    assert result.declined and not result.ok
    assert [o.action for o in result.stacks] == ["declined"]


def test_review_in_progress_counts_as_new(cfg: config_mod.Config, repo: Path) -> None:
    s = Stubs()
    service_template(s, None)
    stack(s, SOURCE, "REVIEW_IN_PROGRESS")
    change_set(s, SOURCE, "CREATE", [("Add", "Repository", "AWS::CodeCommit::Repository", "")])
    delete_change_set(s, SOURCE)
    stack(s, SOURCE, "REVIEW_IN_PROGRESS")
    s.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(SOURCE)})

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(answer=False), sleep=no_sleep)

    s.done()
    assert result.declined


def test_dry_run_creates_no_stack_and_deletes_update_change_sets(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    service_template(s, None)
    stack(s, SOURCE, "UPDATE_COMPLETE")
    change_set(
        s, SOURCE, "UPDATE", [("Modify", "AppImageRepository", "AWS::ECR::Repository", "False")]
    )
    delete_change_set(s, SOURCE)
    s.error("codecommit", "get_branch", "BranchDoesNotExistException", "no")
    missing_stack(s, SERVICE)
    missing_stack(s, PIPELINE)
    missing_stack(s, SERVICE)  # links: nothing to link to yet
    ui = RecordingUI()

    result = deploy_mod.deploy(s.clients, cfg, repo, ui, dry_run=True, sleep=no_sleep)

    s.done()
    assert [o.action for o in result.stacks] == ["would-update", "would-create", "would-create"]
    assert ui.asked == []
    service_changes = result.stacks[1].changes
    assert ("Add", "Service", "AWS::ECS::Service") in {
        (c.action, c.logical_id, c.resource_type) for c in service_changes
    }
    assert result.would_commit > 10 and result.first_commit is None
    assert result.links is None


def test_busy_stack_is_refused(cfg: config_mod.Config, repo: Path) -> None:
    s = Stubs()
    service_template(s, None)
    stack(s, SOURCE, "UPDATE_IN_PROGRESS")
    with pytest.raises(StateError, match="busy"):
        deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)


def test_oversized_template_is_refused_before_any_change(
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


# ---- destroy -------------------------------------------------------------------------

BUCKET = "sample3-dev-pipeline-artifactbucket-abc"


def resources(s: Stubs, name: str, rows: list[tuple[str, str, str]]) -> None:
    s.add(
        "cloudformation",
        "list_stack_resources",
        {
            "StackResourceSummaries": [
                {
                    "LogicalResourceId": logical,
                    "PhysicalResourceId": physical,
                    "ResourceType": rtype,
                    "LastUpdatedTimestamp": "2026-01-01T00:00:00Z",
                    "ResourceStatus": "CREATE_COMPLETE",
                }
                for logical, rtype, physical in rows
            ]
        },
        {"StackName": name},
    )


def destroy_plan(s: Stubs, objects: int) -> None:
    stack(s, PIPELINE, "CREATE_COMPLETE")
    resources(s, PIPELINE, [("ArtifactBucket", "AWS::S3::Bucket", BUCKET)])
    s.add(
        "s3",
        "list_object_versions",
        {
            "Versions": [
                {"Key": f"k{i}", "VersionId": f"v{i}", "IsLatest": True} for i in range(objects)
            ]
        },
        {"Bucket": BUCKET, "MaxKeys": 10},
    )
    stack(s, SERVICE, "CREATE_COMPLETE")
    resources(s, SERVICE, [])
    stack(s, SOURCE, "CREATE_COMPLETE")
    resources(
        s,
        SOURCE,
        [("AppImageRepository", "AWS::ECR::Repository", "sample3-dev-webapp")],
    )
    s.add(
        "ecr",
        "list_images",
        {"imageIds": [{"imageDigest": "sha256:" + "1" * 64, "imageTag": "abc12345"}]},
        {"repositoryName": "sample3-dev-webapp", "maxResults": 10},
    )


def delete_ok(s: Stubs, name: str) -> None:
    stack(s, name, "CREATE_COMPLETE")
    old = event(name, 0, name, "AWS::CloudFormation::Stack", "CREATE_COMPLETE")
    events(s, name, [old])
    s.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(name)})
    fresh = [event(name, 1, name, "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS"), old]
    events(s, name, fresh)
    stack(s, name, "DELETE_COMPLETE", key=stack_id(name))
    events(s, name, fresh)


def events(s: Stubs, name: str, newest_first: list[dict[str, Any]]) -> None:
    from test_aws_support import events as add_events

    add_events(s, name, newest_first)


def test_destroy_refuses_a_non_empty_bucket_before_deleting_anything(
    cfg: config_mod.Config,
) -> None:
    s = Stubs()
    destroy_plan(s, objects=3)
    with pytest.raises(StateError, match=BUCKET) as info:
        destroy_mod.destroy(s.clients, cfg, RecordingUI(), sleep=no_sleep)
    assert "--empty-bucket" in str(info.value)
    s.done()


def test_destroy_empties_the_bucket_when_asked_and_deletes_in_reverse_order(
    cfg: config_mod.Config,
) -> None:
    s = Stubs()
    destroy_plan(s, objects=2)
    s.add(
        "s3",
        "list_object_versions",
        {
            "Versions": [{"Key": "k0", "VersionId": "v0"}],
            "DeleteMarkers": [{"Key": "k1", "VersionId": "v1"}],
        },
        {"Bucket": BUCKET},
    )
    s.add(
        "s3",
        "delete_objects",
        {},
        {
            "Bucket": BUCKET,
            "Delete": {
                "Objects": [{"Key": "k0", "VersionId": "v0"}, {"Key": "k1", "VersionId": "v1"}],
                "Quiet": True,
            },
        },
    )
    for name in (PIPELINE, SERVICE, SOURCE):
        delete_ok(s, name)
    ui = RecordingUI()

    result = destroy_mod.destroy(s.clients, cfg, ui, empty_bucket=True, sleep=no_sleep)

    s.done()
    assert result.ok and result.emptied == [BUCKET]
    assert [o.stack for o in result.outcomes] == [PIPELINE, SERVICE, SOURCE]
    # ECR repositories set EmptyOnDelete in the template: not a blocker, not emptied by us
    assert [h.name for h in result.plan.holders if h.kind == "images"] == ["sample3-dev-webapp"]
    assert not result.plan.holders[1].blocks


def test_destroy_stops_at_a_failed_stack(cfg: config_mod.Config) -> None:
    s = Stubs()
    destroy_plan(s, objects=0)
    stack(s, PIPELINE, "CREATE_COMPLETE")
    old = event(PIPELINE, 0, PIPELINE, "AWS::CloudFormation::Stack", "CREATE_COMPLETE")
    events(s, PIPELINE, [old])
    s.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(PIPELINE)})
    fresh = [
        event(
            PIPELINE,
            2,
            "ArtifactBucket",
            "AWS::S3::Bucket",
            "DELETE_FAILED",
            "The bucket you tried to delete is not empty",
        ),
        old,
    ]
    events(s, PIPELINE, fresh)
    stack(s, PIPELINE, "DELETE_FAILED", key=stack_id(PIPELINE))
    events(s, PIPELINE, fresh)

    result = destroy_mod.destroy(s.clients, cfg, RecordingUI(), sleep=no_sleep)

    s.done()
    assert not result.ok
    [outcome] = result.outcomes
    assert outcome.failures[0].reason == "The bucket you tried to delete is not empty"


def test_destroy_cancelled_deletes_nothing(cfg: config_mod.Config) -> None:
    s = Stubs()
    destroy_plan(s, objects=0)
    result = destroy_mod.destroy(s.clients, cfg, RecordingUI(answer=False), sleep=no_sleep)
    s.done()
    assert result.cancelled and not result.ok


def _service_yaml(text: str) -> dict[str, Any]:
    config = config_mod.parse(text)
    return yaml.safe_load(next(s for s in build(config) if s.key == "service").to_yaml())


def test_task_changes_keep_the_deployed_task_definition() -> None:
    """ECS refuses to update a CODE_DEPLOY service's task definition: keep the deployed one."""
    deployed = _service_yaml("")
    bigger = _service_yaml("[task]\ncpu = 512\nmemory = 1024")
    kept, notes = deploy_mod.keep_codedeploy_owned(deployed, bigger)
    task = next(k for k, r in kept["Resources"].items() if r["Type"] == "AWS::ECS::TaskDefinition")
    assert kept["Resources"][task] == deployed["Resources"][task]
    assert [n.split(" kept as deployed")[0] for n in notes] == [task]
    assert "taskdef.json" in notes[0]


def test_changes_codedeploy_does_not_own_go_through() -> None:
    deployed = _service_yaml("")
    wider = _service_yaml(
        '[listeners]\ntest_cidrs = ["203.0.113.0/24"]\n[logs]\nretention_days = 30'
    )
    kept, notes = deploy_mod.keep_codedeploy_owned(deployed, copy.deepcopy(wider))
    assert kept == wider and notes == []


def test_listener_routing_is_left_to_codedeploy() -> None:
    deployed = _service_yaml("")
    new = _service_yaml("")
    listener = next(
        r for r in new["Resources"].values() if r["Type"] == "AWS::ElasticLoadBalancingV2::Listener"
    )
    listener["Properties"]["DefaultActions"][0]["TargetGroupArn"] = {"Ref": "GreenTargetGroup"}
    kept, _ = deploy_mod.keep_codedeploy_owned(deployed, new)
    assert kept == deployed


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("[listeners]\nproduction_port = 8000", "port 80 -> 8000"),
        ("[app]\nport = 8080", "container name or port"),
    ],
)
def test_in_place_impossible_changes_are_refused_before_any_change(
    cfg: config_mod.Config, repo: Path, text: str, what: str
) -> None:
    s = Stubs()
    service_template(s, deployed_service(cfg))
    changed = config_mod.parse(text)
    with pytest.raises(UsageError, match="cannot change in place") as info:
        deploy_mod.deploy(s.clients, changed, repo, RecordingUI(), sleep=no_sleep)
    s.done()  # only the template was read
    assert what in str(info.value) and "nothing was changed" in str(info.value)


def test_a_task_change_deploys_the_service_with_its_deployed_task_definition(
    cfg: config_mod.Config, repo: Path
) -> None:
    s = Stubs()
    service_template(s, deployed_service(cfg))
    bigger = config_mod.parse("[task]\ncpu = 512\nmemory = 1024")
    no_changes(s, SOURCE)
    s.add("codecommit", "get_branch", {"branch": {"branchName": "main", "commitId": "f" * 40}})
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
