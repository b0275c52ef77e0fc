"""destroy's plan, run and clean-up on the emulated AWS, with small stacks of its names.

The stacks are made here with CloudFormation directly (a bucket in the pipeline stack, a
log group in the service stack, image repositories in the source stack), so the real
``plan``/``destroy``/``clean_up`` run against stacks, buckets, repositories, task
definitions, log groups and roles in seconds. What AWS does that they rely on:

- CloudFormation cannot delete a bucket that holds objects or an ECR repository that holds
  images unless the template sets ``EmptyOnDelete`` (AWS::ECR::Repository EmptyOnDelete,
  CloudFormation template reference; "You can only delete an empty bucket", S3 user guide);
- ListObjectVersions ``MaxKeys`` and ListImages ``maxResults`` bound a page (S3 and ECR API
  references), which is how the plan counts without reading everything;
- DeleteTaskDefinitions takes up to 10 revisions, each deregistered first (ECS API
  reference); ListTaskDefinitions' ``familyPrefix`` is a prefix (ECS API reference);
- Container Insights writes to ``/aws/ecs/containerinsights/<cluster>/performance``
  (CloudWatch user guide, Container Insights performance log reference).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from deploy_support import RecordingUI
from ecr_support import manifest

from bluegreen.aws import destroy as destroy_mod
from bluegreen.aws.deploy import InFlight
from bluegreen.config import Config
from bluegreen.emulator import Emulator
from bluegreen.errors import StateError

REGION = "ap-northeast-1"
T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)
SOURCE, SERVICE, PIPELINE = "sample3-dev-source", "sample3-dev-service", "sample3-dev-pipeline"
FAMILY = "sample3-dev-task"
INSIGHTS = "/aws/ecs/containerinsights/sample3-dev-cluster/performance"
APP_IMAGES = "sample3-dev-webapp"  # AppImageRepository: EmptyOnDelete in bluegreen's template
OTHER_IMAGES = "sample3-dev-other"  # a repository bluegreen's template does not declare


@dataclass
class World:
    aws: Emulator
    clients: Any

    @property
    def bucket(self) -> str:
        [res] = self.clients.cloudformation.list_stack_resources(StackName=PIPELINE)[
            "StackResourceSummaries"
        ]
        return str(res["PhysicalResourceId"])

    def stacks(self) -> list[str]:
        listed = self.clients.cloudformation.describe_stacks()["Stacks"]
        return sorted(s["StackName"] for s in listed if s["StackStatus"] != "DELETE_COMPLETE")


def _create(aws: Emulator, cfn: Any, stacks: dict[str, dict[str, Any]]) -> None:
    for name, resources in stacks.items():
        cfn.create_stack(StackName=name, TemplateBody=json.dumps({"Resources": resources}))
    for _ in range(60):
        statuses = [s["StackStatus"] for s in cfn.describe_stacks()["Stacks"]]
        if all(s == "CREATE_COMPLETE" for s in statuses):
            return
        aws.sleep(5)
    raise AssertionError(statuses)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:
        clients = aws.clients()
        _create(
            aws,
            clients.cloudformation,
            {
                PIPELINE: {"ArtifactBucket": {"Type": "AWS::S3::Bucket"}},
                SERVICE: {"Logs": {"Type": "AWS::Logs::LogGroup"}},
                SOURCE: {
                    "AppImageRepository": {
                        "Type": "AWS::ECR::Repository",
                        "Properties": {"RepositoryName": APP_IMAGES, "EmptyOnDelete": True},
                    },
                    "OtherRepository": {
                        "Type": "AWS::ECR::Repository",
                        "Properties": {"RepositoryName": OTHER_IMAGES},
                    },
                },
            },
        )
        yield World(aws, clients)


def _objects(world: World, count: int) -> None:
    for n in range(count):
        world.clients.s3.put_object(Bucket=world.bucket, Key=f"artifact/{n}", Body=b"x")


def _images(world: World, repository: str, count: int) -> None:
    for n in range(count):
        world.clients.ecr.put_image(
            repositoryName=repository, imageManifest=manifest(f"{repository}{n}"), imageTag=f"t{n}"
        )


def _revisions(world: World, family: str, count: int) -> list[str]:
    return [
        world.clients.ecs.register_task_definition(
            family=family,
            containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}],
        )["taskDefinition"]["taskDefinitionArn"]
        for _ in range(count)
    ]


def _plan(world: World, **flags: bool) -> destroy_mod.DestroyPlan:
    return destroy_mod.plan(
        world.clients,
        Config(),
        empty_bucket=flags.get("empty_bucket", False),
        delete_images=flags.get("delete_images", False),
    )


# ---- the plan ---------------------------------------------------------------------------------


def test_the_plan_lists_the_stacks_in_reverse_order_and_counts_what_they_hold(
    world: World,
) -> None:
    _objects(world, 12)
    _images(world, APP_IMAGES, 12)
    _revisions(world, FAMILY, 2)
    _revisions(world, FAMILY + "-other", 1)  # another family with the same prefix
    world.clients.logs.create_log_group(logGroupName=INSIGHTS)

    plan = _plan(world, empty_bucket=True)

    assert plan.stacks == [PIPELINE, SERVICE, SOURCE]
    assert plan.region == REGION and plan.family == FAMILY
    holders = {h.logical_id: h for h in plan.holders}
    assert sorted(holders) == ["AppImageRepository", "ArtifactBucket", "OtherRepository"]
    bucket = holders["ArtifactBucket"]
    # A look of one page: ListObjectVersions MaxKeys=10 and ListImages maxResults=10 (S3
    # and ECR API references; ListImages "maxResults ... can be between 1 and 1000"), so
    # 12 objects and 12 images both count 10.
    assert (bucket.stack, bucket.kind, bucket.name, bucket.count) == (
        PIPELINE,
        "bucket",
        world.bucket,
        10,
    )
    assert (bucket.retained, bucket.empties_itself, bucket.blocks) == (False, False, True)
    app = holders["AppImageRepository"]
    assert (app.stack, app.kind, app.name, app.count) == (SOURCE, "images", APP_IMAGES, 10)
    assert (app.empties_itself, app.blocks) == (True, False)  # EmptyOnDelete
    other = holders["OtherRepository"]
    assert (other.count, other.empties_itself, other.blocks) == (0, False, False)
    assert plan.revisions == 2 and plan.log_group == INSIGHTS and plan.leftovers
    assert [h.logical_id for h in plan.to_empty()] == ["ArtifactBucket"]


def test_a_non_empty_holder_without_its_flag_refuses_before_anything_is_deleted(
    world: World,
) -> None:
    _objects(world, 1)
    _images(world, OTHER_IMAGES, 1)
    bucket = world.bucket

    with pytest.raises(StateError) as info:
        _plan(world)
    assert info.value.message == (
        f"nothing was deleted: CloudFormation cannot delete non-empty {bucket} (objects in "
        f"stack {PIPELINE}); {OTHER_IMAGES} (images in stack {SOURCE})"
    )
    assert info.value.hint == (
        "rerun with --delete-images --empty-bucket to empty them first (this deletes the "
        "pipeline artifacts / the built images for good)"
    )
    with pytest.raises(StateError) as info:
        _plan(world, empty_bucket=True)
    assert info.value.message.endswith(f"non-empty {OTHER_IMAGES} (images in stack {SOURCE})")
    assert info.value.hint.startswith("rerun with --delete-images to empty them first")
    with pytest.raises(StateError) as info:
        _plan(world, delete_images=True)
    assert info.value.hint.startswith("rerun with --empty-bucket to empty them first")
    assert _plan(world, empty_bucket=True, delete_images=True).stacks == [PIPELINE, SERVICE, SOURCE]
    assert world.stacks() == [PIPELINE, SERVICE, SOURCE]


def test_a_holder_already_gone_counts_as_empty(world: World) -> None:
    """A bucket or repository deleted behind the stack's back: ListObjectVersions answers
    NoSuchBucket, ListImages RepositoryNotFoundException (S3 and ECR API references)."""
    world.clients.s3.delete_bucket(Bucket=world.bucket)
    world.clients.ecr.delete_repository(repositoryName=OTHER_IMAGES)
    plan = _plan(world)
    counts = {h.logical_id: h.count for h in plan.holders}
    assert counts == {"ArtifactBucket": 0, "AppImageRepository": 0, "OtherRepository": 0}


# ---- the run ----------------------------------------------------------------------------------


def test_destroy_empties_what_it_was_asked_to_then_deletes_each_stack_and_cleans_up(
    world: World,
) -> None:
    _objects(world, 3)
    _images(world, OTHER_IMAGES, 2)
    old = _revisions(world, FAMILY, 12)  # more than one DeleteTaskDefinitions batch
    world.clients.ecs.deregister_task_definition(taskDefinition=old[0])  # already INACTIVE
    [foreign] = _revisions(world, FAMILY + "-other", 1)
    world.clients.logs.create_log_group(logGroupName=INSIGHTS)
    world.clients.iam.create_service_linked_role(AWSServiceName="ecs.amazonaws.com")
    bucket = world.bucket
    ui = RecordingUI()

    result = destroy_mod.destroy(
        world.clients,
        Config(),
        ui,
        empty_bucket=True,
        delete_images=True,
        sleep=world.aws.sleep,
    )

    assert result.ok and not result.cancelled and result.in_flight is None
    assert ui.asked == ["plan"]
    assert result.emptied == [bucket, OTHER_IMAGES]
    assert [(o.stack, o.status) for o in result.outcomes] == [
        (PIPELINE, "DELETE_COMPLETE"),
        (SERVICE, "DELETE_COMPLETE"),
        (SOURCE, "DELETE_COMPLETE"),
    ]
    assert world.stacks() == []
    steps = [line for line in ui.lines if " done " not in line]
    assert steps == [
        f"{bucket}: deleted 3 object versions",
        f"{PIPELINE}: deleting",
        f"{SERVICE}: deleting",
        f"{OTHER_IMAGES}: deleted 2 images",
        f"{SOURCE}: deleting",
        f"{FAMILY}: deregistered 11 and deleted 12 task-definition revisions",
        f"{INSIGHTS}: deleted (Container Insights)",
    ]
    # Each stack's deletion events come under its name (not its id).
    assert [e.stack for e in ui.events if e.of_the_stack and e.status == "DELETE_COMPLETE"] == [
        PIPELINE,
        SERVICE,
        SOURCE,
    ]
    assert [line for line in ui.lines if " done " in line] == [
        f"{PIPELINE} done DELETE_COMPLETE",
        f"{SERVICE} done DELETE_COMPLETE",
        f"{SOURCE} done DELETE_COMPLETE",
    ]
    cleanup = result.cleanup
    assert cleanup is not None
    assert cleanup.to_dict() == {
        "deregistered": 11,
        "deleted": 12,
        "log_group_deleted": INSIGHTS,
        "left": [],
        "kept": ["AWSServiceRoleForECS"],
    }
    ecs = world.clients.ecs
    assert ecs.list_task_definitions(familyPrefix=FAMILY)["taskDefinitionArns"] == []
    assert ecs.describe_task_definition(taskDefinition=foreign)["taskDefinition"]["status"] == (
        "ACTIVE"
    )
    assert world.clients.logs.describe_log_groups(logGroupNamePrefix=INSIGHTS)["logGroups"] == []
    document = result.to_dict()
    assert document["emptied"] == [bucket, OTHER_IMAGES] and document["region"] == REGION


def test_without_the_role_or_log_group_nothing_is_kept_or_said(world: World) -> None:
    ui = RecordingUI()
    result = destroy_mod.destroy(world.clients, Config(), ui, sleep=world.aws.sleep)
    assert result.ok and result.emptied == []
    assert result.cleanup == destroy_mod.Cleanup()
    assert not any("task-definition" in line or "Insights" in line for line in ui.lines)


def test_a_declined_plan_deletes_nothing(world: World) -> None:
    ui = RecordingUI(answer=False)
    result = destroy_mod.destroy(world.clients, Config(), ui, sleep=world.aws.sleep)
    assert result.cancelled and not result.ok and not result.changed_anything
    assert result.outcomes == [] and result.cleanup is None
    assert world.stacks() == [PIPELINE, SERVICE, SOURCE]


class StopAt(RecordingUI):
    """A user's Ctrl-C while the line ``starting`` is shown (or at the first event)."""

    def __init__(self, starting: str) -> None:
        super().__init__()
        self.starting = starting

    def step(self, message: str) -> None:
        super().step(message)
        if message.startswith(self.starting):
            raise KeyboardInterrupt

    def event(self, event: Any) -> None:
        super().event(event)
        if self.starting == "event":
            raise KeyboardInterrupt


def test_an_interrupted_emptying_says_how_to_continue_with_the_same_flags(
    world: World,
) -> None:
    _objects(world, 2)
    bucket = world.bucket
    result = destroy_mod.DestroyResult()
    with pytest.raises(KeyboardInterrupt):
        destroy_mod.destroy(
            world.clients,
            Config(),
            StopAt(bucket),
            empty_bucket=True,
            result=result,
            sleep=world.aws.sleep,
        )
    assert result.in_flight == InFlight(
        bucket,
        "being emptied (part of it may be deleted already)",
        "run `bluegreen destroy --empty-bucket` again to continue",
    )
    assert result.changed_anything


def test_an_interrupted_stack_deletion_names_the_stack_and_its_console(world: World) -> None:
    result = destroy_mod.DestroyResult()
    with pytest.raises(KeyboardInterrupt):
        destroy_mod.destroy(
            world.clients,
            Config(),
            StopAt("event"),
            delete_images=True,
            result=result,
            sleep=world.aws.sleep,
        )
    flight = result.in_flight
    assert flight is not None and flight.subject == PIPELINE
    assert (
        flight.state.startswith("CloudFormation keeps deleting it without bluegreen (https://")
        and f"{REGION}.console.aws.amazon.com/cloudformation" in flight.state
    )
    assert flight.resume == (
        "wait for the deletion to finish, then run `bluegreen destroy --delete-images` "
        "again to continue"
    )


def test_without_stacks_or_leftovers_there_is_nothing_to_destroy(tmp_path: Path) -> None:
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as aws:
        ui = RecordingUI()
        result = destroy_mod.destroy(aws.clients(), Config(), ui, sleep=aws.sleep)
        assert ui.lines == [
            f"no bluegreen stacks ({SOURCE}, {SERVICE}, {PIPELINE}) exist in {REGION}; "
            "nothing to destroy"
        ]
        assert ui.asked == [] and result.ok and result.cleanup is None

        # Only what they left outside them: asked, then cleaned up.
        clients = aws.clients()
        clients.logs.create_log_group(logGroupName=INSIGHTS)
        ui = RecordingUI()
        result = destroy_mod.destroy(clients, Config(), ui, sleep=aws.sleep)
        assert ui.lines == [
            f"no bluegreen stacks exist in {REGION}; only what they left behind outside them",
            f"{INSIGHTS}: deleted (Container Insights)",
        ]
        assert ui.asked == ["plan"] and result.outcomes == []
        assert result.cleanup is not None and result.cleanup.log_group_deleted == INSIGHTS


# ---- failures only a canned answer can give (Stubber) --------------------------------------------


def test_an_image_already_gone_is_no_failure_and_another_failure_stops_the_destroy() -> None:
    """BatchDeleteImage lists per-image failures (ECR API reference, ImageFailure:
    failureCode ImageNotFound | ...); an image deleted meanwhile is what was wanted."""
    from test_aws_support import Stubs

    digest = "sha256:" + "a" * 64
    s = Stubs()
    s.add("ecr", "list_images", {"imageIds": [{"imageDigest": digest, "imageTag": "t"}]})
    s.add(
        "ecr",
        "batch_delete_image",
        {
            "failures": [
                {
                    "imageId": {"imageDigest": digest},
                    "failureCode": "ImageNotFound",
                    "failureReason": "gone",
                }
            ],
        },
        {"repositoryName": OTHER_IMAGES, "imageIds": [{"imageDigest": digest}]},
    )
    assert destroy_mod.delete_all_images(s.client("ecr"), OTHER_IMAGES) == 1
    s.add("ecr", "list_images", {"imageIds": [{"imageDigest": digest}]})
    s.add(
        "ecr",
        "batch_delete_image",
        {"failures": [{"imageId": {"imageDigest": digest}, "failureCode": "KmsError"}]},
    )
    with pytest.raises(StateError) as info:
        destroy_mod.delete_all_images(s.client("ecr"), OTHER_IMAGES)
    assert info.value.message == f"could not delete images of {OTHER_IMAGES}: KmsError"
    assert info.value.hint == "check ecr:BatchDeleteImage permission"
    s.done()


def test_an_object_s3_refuses_without_a_message_is_named_by_its_code() -> None:
    from test_aws_support import Stubs

    s = Stubs()
    s.add("s3", "list_object_versions", {"Versions": [{"Key": "k", "VersionId": "v"}]})
    s.add("s3", "delete_objects", {"Errors": [{"Key": "k", "Code": "AccessDenied"}]})
    with pytest.raises(StateError) as info:
        destroy_mod.empty_bucket_versions(s.client("s3"), "b")
    assert info.value.message == "could not empty bucket b: k: AccessDenied"
    assert info.value.hint == "check s3:DeleteObjectVersion permission and object lock settings"
    s.done()
