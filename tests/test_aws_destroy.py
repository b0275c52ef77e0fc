"""destroy against stubbed CloudFormation, S3, ECR, ECS and CloudWatch Logs.

Each stubbed AWS behaviour cites its source; the batch sizes are the documented API
limits, written here from the sources rather than read from the implementation.
"""

from __future__ import annotations

from typing import Any

import pytest
from deploy_support import (
    FAMILY,
    PIPELINE,
    SERVICE,
    SOURCE,
    RecordingUI,
    no_sleep,
)
from test_aws_support import Stubs, event, events, missing_stack, stack, stack_id

from bluegreen import config as config_mod
from bluegreen.aws import destroy as destroy_mod
from bluegreen.aws.cfn import StackEvent
from bluegreen.errors import StateError

BUCKET = "sample3-dev-pipeline-artifactbucket-abc"
INSIGHTS = "/aws/ecs/containerinsights/sample3-dev-cluster/performance"
TD_ARN = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition"

S3_DELETE_OBJECTS_MAX = 1000
"""S3 API reference, DeleteObjects: "The request can contain a list of up to 1,000 keys"."""
ECR_BATCH_DELETE_MAX = 100
"""botocore ECR model: BatchDeleteImage imageIds (ImageIdentifierList) holds at most 100."""
ECS_DELETE_TASK_DEFINITIONS_MAX = 10
"""ECS API reference, DeleteTaskDefinitions: "You can specify up to 10 task definitions"."""


@pytest.fixture
def cfg() -> config_mod.Config:
    return config_mod.Config()


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


def revisions(s: Stubs, status: str, numbers: list[int], family: str = FAMILY) -> None:
    """ListTaskDefinitions of the family in one status (ECS API reference: status ACTIVE |
    INACTIVE | DELETE_IN_PROGRESS; familyPrefix is a prefix, so a longer family name can
    come back too)."""
    s.add(
        "ecs",
        "list_task_definitions",
        {"taskDefinitionArns": [f"{TD_ARN}/{family}:{n}" for n in numbers]},
        {"familyPrefix": FAMILY, "status": status},
    )


def log_groups(s: Stubs, names: list[str]) -> None:
    s.add(
        "logs",
        "describe_log_groups",
        {"logGroups": [{"logGroupName": n} for n in names]},
        {"logGroupNamePrefix": INSIGHTS},
    )


def plan(
    s: Stubs,
    objects: int,
    active: list[int] | None = None,
    inactive: list[int] | None = None,
    insights: bool = True,
) -> None:
    """destroy's look: the three stacks, their buckets and image repositories, the task
    definitions and the Container Insights log group."""
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
    resources(s, SOURCE, [("AppImageRepository", "AWS::ECR::Repository", "sample3-dev-webapp")])
    s.add(
        "ecr",
        "list_images",
        {"imageIds": [{"imageDigest": "sha256:" + "1" * 64, "imageTag": "abc12345"}]},
        {"repositoryName": "sample3-dev-webapp", "maxResults": 10},
    )
    revisions(s, "ACTIVE", active or [])
    revisions(s, "INACTIVE", inactive or [])
    log_groups(s, [INSIGHTS] if insights else [])


def delete_ok(s: Stubs, name: str) -> None:
    stack(s, name, "CREATE_COMPLETE")
    old = event(name, 0, name, "AWS::CloudFormation::Stack", "CREATE_COMPLETE")
    events(s, name, [old])
    s.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(name)})
    fresh = [event(name, 1, name, "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS"), old]
    events(s, name, fresh)
    stack(s, name, "DELETE_COMPLETE", key=stack_id(name))
    events(s, name, fresh)


def arn(n: int) -> str:
    return f"{TD_ARN}/{FAMILY}:{n}"


def cleanup(
    s: Stubs,
    active: list[int],
    inactive: list[int],
    failed: list[int] | None = None,
    insights: bool = True,
) -> None:
    """After the stacks: deregister each ACTIVE revision (DeregisterTaskDefinition takes
    one), delete the INACTIVE ones in batches ("You must deregister a task definition
    revision before you delete it": ECS API reference, DeleteTaskDefinitions), then the
    Container Insights log group (DeleteLogGroup of a group that is not there raises
    ResourceNotFoundException: botocore CloudWatch Logs model)."""
    revisions(s, "ACTIVE", active)
    for n in active:
        s.add("ecs", "deregister_task_definition", {}, {"taskDefinition": arn(n)})
    revisions(s, "INACTIVE", inactive)
    every = sorted(set(active) | set(inactive))
    for start in range(0, len(every), ECS_DELETE_TASK_DEFINITIONS_MAX):
        chunk = every[start : start + ECS_DELETE_TASK_DEFINITIONS_MAX]
        failures = [
            {"arn": arn(n), "reason": "TASK_DEFINITION_IN_USE", "detail": "a task still runs it"}
            for n in (failed or [])
            if n in chunk
        ]
        s.add(
            "ecs",
            "delete_task_definitions",
            {"failures": failures},
            {"taskDefinitions": [arn(n) for n in chunk]},
        )
    if insights:
        s.add("logs", "delete_log_group", {}, {"logGroupName": INSIGHTS})
    else:
        s.error(
            "logs",
            "delete_log_group",
            "ResourceNotFoundException",
            "The specified log group does not exist.",
            {"logGroupName": INSIGHTS},
        )


def test_a_non_empty_bucket_is_refused_before_deleting_anything(cfg: config_mod.Config) -> None:
    s = Stubs()
    plan(s, objects=3)
    with pytest.raises(StateError, match=BUCKET) as info:
        destroy_mod.destroy(s.clients, cfg, RecordingUI(), sleep=no_sleep)
    assert "--empty-bucket" in str(info.value)
    s.done()


def test_destroy_empties_the_bucket_deletes_in_reverse_order_and_cleans_up(
    cfg: config_mod.Config,
) -> None:
    s = Stubs()
    plan(s, objects=2, active=[12], inactive=list(range(1, 12)))
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
    # After the stacks CloudFormation has deregistered its own revision 1; the pipeline's
    # 2..12 remain, 12 still ACTIVE (12 revisions: two DeleteTaskDefinitions calls).
    cleanup(s, active=[12], inactive=list(range(1, 12)))
    ui = RecordingUI()

    result = destroy_mod.destroy(s.clients, cfg, ui, empty_bucket=True, sleep=no_sleep)

    s.done()
    assert result.ok and result.emptied == [BUCKET]
    assert [o.stack for o in result.outcomes] == [PIPELINE, SERVICE, SOURCE]
    assert result.plan is not None and result.plan.revisions == 12
    assert result.plan.log_group == INSIGHTS
    assert result.cleanup is not None
    assert (result.cleanup.deregistered, result.cleanup.deleted) == (1, 12)
    assert result.cleanup.log_group_deleted == INSIGHTS and result.cleanup.left == []
    # ECR repositories set EmptyOnDelete in the template: not a blocker, not emptied by us
    assert [h.name for h in result.plan.holders if h.kind == "images"] == ["sample3-dev-webapp"]
    assert not result.plan.holders[1].blocks
    assert result.in_flight is None


def test_revisions_ecs_cannot_delete_are_listed_as_left(cfg: config_mod.Config) -> None:
    s = Stubs()
    plan(s, objects=0, active=[2], inactive=[1], insights=False)
    for name in (PIPELINE, SERVICE, SOURCE):
        delete_ok(s, name)
    cleanup(s, active=[2], inactive=[1], failed=[2], insights=False)

    result = destroy_mod.destroy(s.clients, cfg, RecordingUI(), sleep=no_sleep)

    s.done()
    assert result.cleanup is not None
    assert result.cleanup.left == [
        f"task definition {arn(2)}: TASK_DEFINITION_IN_USE a task still runs it"
    ]
    assert result.cleanup.deleted == 1 and result.cleanup.log_group_deleted == ""


def test_only_the_exact_family_is_cleaned(cfg: config_mod.Config) -> None:
    """familyPrefix "sample3-dev-task" also matches "sample3-dev-task2"; that is not ours."""
    s = Stubs()
    s.add(
        "ecs",
        "list_task_definitions",
        {"taskDefinitionArns": [arn(1), f"{TD_ARN}/{FAMILY}2:1"]},
        {"familyPrefix": FAMILY, "status": "ACTIVE"},
    )
    found = destroy_mod.task_definition_revisions(s.client("ecs"), FAMILY, "ACTIVE")
    s.done()
    assert found == [arn(1)]


def test_destroy_stops_at_a_failed_stack_and_cleans_nothing(cfg: config_mod.Config) -> None:
    s = Stubs()
    plan(s, objects=0, active=[3])
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

    s.done()  # no task definition touched: the service may still run
    assert not result.ok and result.cleanup is None
    [outcome] = result.outcomes
    assert outcome.failures[0].reason == "The bucket you tried to delete is not empty"


def test_destroy_cancelled_deletes_nothing(cfg: config_mod.Config) -> None:
    s = Stubs()
    plan(s, objects=0)
    result = destroy_mod.destroy(s.clients, cfg, RecordingUI(answer=False), sleep=no_sleep)
    s.done()
    assert result.cancelled and not result.ok and not result.changed_anything


def test_nothing_to_destroy_names_the_region(cfg: config_mod.Config) -> None:
    s = Stubs()
    for name in (PIPELINE, SERVICE, SOURCE):
        missing_stack(s, name)
    revisions(s, "ACTIVE", [])
    revisions(s, "INACTIVE", [])
    log_groups(s, [])
    ui = RecordingUI()

    result = destroy_mod.destroy(s.clients, cfg, ui, sleep=no_sleep)

    s.done()
    assert ui.lines == [
        "no bluegreen stacks (sample3-dev-source, sample3-dev-service, sample3-dev-pipeline) "
        "exist in ap-northeast-1; nothing to destroy"
    ]
    assert ui.asked == [] and result.ok


def test_what_an_earlier_destroy_left_is_cleaned_after_confirmation(
    cfg: config_mod.Config,
) -> None:
    s = Stubs()
    for name in (PIPELINE, SERVICE, SOURCE):
        missing_stack(s, name)
    revisions(s, "ACTIVE", [])
    revisions(s, "INACTIVE", [4, 5])
    log_groups(s, [INSIGHTS])
    cleanup(s, active=[], inactive=[4, 5])
    ui = RecordingUI()

    result = destroy_mod.destroy(s.clients, cfg, ui, sleep=no_sleep)

    s.done()
    assert ui.asked == ["plan"]
    assert ui.lines[0] == (
        "no bluegreen stacks exist in ap-northeast-1; only what they left behind outside them"
    )
    assert result.cleanup is not None and result.cleanup.deleted == 2


class InterruptingUI(RecordingUI):
    def event(self, event: StackEvent) -> None:
        raise KeyboardInterrupt


def test_an_interrupt_while_a_stack_is_deleted_is_recorded(cfg: config_mod.Config) -> None:
    s = Stubs()
    plan(s, objects=0)
    stack(s, PIPELINE, "CREATE_COMPLETE")
    events(s, PIPELINE, [])
    s.add("cloudformation", "delete_stack", {}, {"StackName": stack_id(PIPELINE)})
    events(
        s,
        PIPELINE,
        [event(PIPELINE, 1, PIPELINE, "AWS::CloudFormation::Stack", "DELETE_IN_PROGRESS")],
    )
    record = destroy_mod.DestroyResult()

    with pytest.raises(KeyboardInterrupt):
        destroy_mod.destroy(s.clients, cfg, InterruptingUI(), result=record, sleep=no_sleep)

    s.done()
    assert record.in_flight is not None and record.in_flight.subject == PIPELINE
    assert record.in_flight.state.startswith("CloudFormation keeps deleting it without bluegreen")
    assert record.in_flight.resume == (
        "wait for the deletion to finish, then run `bluegreen destroy` again to continue"
    )


# ---- emptying: the batch limits -------------------------------------------------------------


def test_more_than_a_thousand_object_versions_go_in_batches_of_a_thousand() -> None:
    s = Stubs()
    versions = [{"Key": f"k{i}", "VersionId": f"v{i}"} for i in range(900)]
    markers = [{"Key": f"m{i}", "VersionId": f"d{i}"} for i in range(101)]
    every = versions + markers

    def delete(chunk: list[dict[str, str]]) -> None:
        s.add(
            "s3",
            "delete_objects",
            {},
            {"Bucket": BUCKET, "Delete": {"Objects": chunk, "Quiet": True}},
        )

    # ListObjectVersions pages (S3 API reference: up to 1,000 keys a page by default);
    # each page is deleted before the next is read.
    s.add(
        "s3",
        "list_object_versions",
        {
            "Versions": versions,
            "DeleteMarkers": markers,
            "IsTruncated": True,
            "NextKeyMarker": "m100",
            "NextVersionIdMarker": "d100",
        },
        {"Bucket": BUCKET},
    )
    delete(every[:S3_DELETE_OBJECTS_MAX])
    delete(every[S3_DELETE_OBJECTS_MAX:])
    s.add(
        "s3",
        "list_object_versions",
        {"Versions": [{"Key": "z", "VersionId": "vz"}], "IsTruncated": False},
        {"Bucket": BUCKET, "KeyMarker": "m100", "VersionIdMarker": "d100"},
    )
    delete([{"Key": "z", "VersionId": "vz"}])

    removed = destroy_mod.empty_bucket_versions(s.client("s3"), BUCKET)

    s.done()
    assert removed == 1002


def test_an_object_s3_would_not_delete_stops_the_destroy() -> None:
    s = Stubs()
    s.add(
        "s3",
        "list_object_versions",
        {"Versions": [{"Key": "k", "VersionId": "v"}]},
        {"Bucket": BUCKET},
    )
    # Quiet DeleteObjects lists only the keys it could not delete (S3 API reference).
    s.add(
        "s3",
        "delete_objects",
        {"Errors": [{"Key": "k", "Code": "AccessDenied", "Message": "Access Denied"}]},
    )
    with pytest.raises(
        StateError, match="could not empty bucket .*: k: AccessDenied Access Denied"
    ):
        destroy_mod.empty_bucket_versions(s.client("s3"), BUCKET)


def test_more_than_a_hundred_images_go_in_batches_and_a_digest_with_two_tags_once() -> None:
    s = Stubs()

    def ident(n: int, tag: str) -> dict[str, Any]:
        return {"imageDigest": f"sha256:{n:064d}", "imageTag": tag}

    # ListImages lists one image id per tag, so a digest with two tags appears twice
    # (ECR API reference, ListImages: imageIds of digest and tag).
    first_page = [ident(n, f"t{n}") for n in range(120)] + [ident(0, "latest")]
    second_page = [ident(n, f"t{n}") for n in range(120, 150)]
    s.add(
        "ecr",
        "list_images",
        {"imageIds": first_page, "nextToken": "p2"},
        {"repositoryName": "sample3-dev-webapp"},
    )
    s.add(
        "ecr",
        "list_images",
        {"imageIds": second_page},
        {"repositoryName": "sample3-dev-webapp", "nextToken": "p2"},
    )
    digests = [{"imageDigest": f"sha256:{n:064d}"} for n in range(150)]
    for chunk in (digests[:ECR_BATCH_DELETE_MAX], digests[ECR_BATCH_DELETE_MAX:]):
        s.add(
            "ecr",
            "batch_delete_image",
            {"imageIds": chunk, "failures": []},
            {"repositoryName": "sample3-dev-webapp", "imageIds": chunk},
        )

    removed = destroy_mod.delete_all_images(s.client("ecr"), "sample3-dev-webapp")

    s.done()
    assert removed == 150
