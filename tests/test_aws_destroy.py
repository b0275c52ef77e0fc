"""destroy's batch limits on the emulated AWS, and the failure shapes it cannot produce.

destroy end to end (refused for a non-empty bucket, declined, failed at a stack,
interrupted and resumed, then nothing left behind; and an account without stacks) is in
test_e2e_refusals.py and test_e2e_deploy.py. Here the batches: S3's DeleteObjects and
ECR's BatchDeleteImage take at most 1,000 and 100 keys a call (the emulated services
accept more, so each call is also observed), written here from their sources rather
than read from the implementation. Against botocore Stubber, only what the emulator
cannot answer: a DeleteTaskDefinitions failure entry and an object S3 refuses to delete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from deploy_support import FAMILY, RecordingUI
from ecr_support import manifest
from test_aws_support import Stubs

from bluegreen import config as config_mod
from bluegreen.aws import destroy as destroy_mod
from bluegreen.emulator import Emulator
from bluegreen.errors import StateError
from bluegreen.names import Names

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)
BUCKET = "sample3-dev-pipeline-artifactbucket-abc"
IMAGES = "sample3-dev-webapp"
INSIGHTS = "/aws/ecs/containerinsights/sample3-dev-cluster/performance"
TD_ARN = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition"

S3_DELETE_OBJECTS_MAX = 1000
"""S3 API reference, DeleteObjects: "The request can contain a list of up to 1,000 keys"."""
ECR_BATCH_DELETE_MAX = 100
"""botocore ECR model: BatchDeleteImage imageIds (ImageIdentifierList) holds at most 100."""
ECS_DELETE_TASK_DEFINITIONS_MAX = 10
"""ECS API reference, DeleteTaskDefinitions: "You can specify up to 10 task definitions"."""


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator("ap-northeast-1", start=T0, work_dir=tmp_path / "aws") as emulator:
        yield emulator


def observed(client: Any, operation: str) -> tuple[list[dict[str, Any]], Any]:
    """The parameters of every ``operation`` call the client makes (botocore's
    before-parameter-build event), and the handler to unregister."""
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **kwargs: Any) -> None:
        calls.append(json.loads(json.dumps(params, default=str)))

    event = f"before-parameter-build.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register(event, record)
    return calls, (event, record)


# ---- emptying: the batch limits -------------------------------------------------------------


def test_more_than_a_thousand_object_versions_go_in_batches_of_a_thousand(aws: Emulator) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
    )
    s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    # 901 versions and 101 delete markers: more than one ListObjectVersions page (up to
    # 1,000 keys a page, S3 API reference). Made through moto's S3 model, not 1,002
    # requests: the arrangement, not what is tested.
    backend = aws.backend("s3")
    for i in range(901):
        backend.put_object(BUCKET, f"k{i}", b"x")
    for i in range(101):
        backend.delete_object(BUCKET, f"k{i}")
    calls, handler = observed(s3, "DeleteObjects")
    try:
        removed = destroy_mod.empty_bucket_versions(s3, BUCKET)
    finally:
        s3.meta.events.unregister(*handler)

    assert removed == 1002
    assert s3.list_object_versions(Bucket=BUCKET).get("Versions", []) == []
    assert s3.list_object_versions(Bucket=BUCKET).get("DeleteMarkers", []) == []
    sizes = [len(c["Delete"]["Objects"]) for c in calls]
    assert sum(sizes) == 1002 and max(sizes) == S3_DELETE_OBJECTS_MAX
    assert all(c["Delete"]["Quiet"] is True for c in calls)
    s3.delete_bucket(Bucket=BUCKET)  # empty: S3 deletes it


def _image(ecr: Any, n: int, tag: str) -> None:
    """An image whose digest is its own (moto's digest comes from the layer digests)."""
    ecr.put_image(repositoryName=IMAGES, imageManifest=manifest(str(n)), imageTag=tag)


def test_more_than_a_hundred_images_go_in_batches_and_a_digest_with_two_tags_once(
    aws: Emulator,
) -> None:
    ecr = aws.client("ecr")
    ecr.create_repository(repositoryName=IMAGES)
    for n in range(150):
        _image(ecr, n, f"t{n}")
    _image(ecr, 0, "latest")  # ListImages lists one image id per tag (ECR API reference)
    # One page holds 100 ids unless maxResults (1 to 1000) says otherwise, and a nextToken
    # says there is more (ECR API reference, ListImages): delete_all_images reads them all.
    first = ecr.list_images(repositoryName=IMAGES)
    assert (len(first["imageIds"]), "nextToken" in first) == (100, True)
    rest = ecr.list_images(repositoryName=IMAGES, nextToken=first["nextToken"])
    assert (len(rest["imageIds"]), "nextToken" in rest) == (51, False)
    assert len(ecr.list_images(repositoryName=IMAGES, maxResults=1000)["imageIds"]) == 151
    calls, handler = observed(ecr, "BatchDeleteImage")
    try:
        removed = destroy_mod.delete_all_images(ecr, IMAGES)
    finally:
        ecr.meta.events.unregister(*handler)

    assert removed == 150
    assert ecr.list_images(repositoryName=IMAGES)["imageIds"] == []
    sizes = [len(c["imageIds"]) for c in calls]
    assert sizes == [ECR_BATCH_DELETE_MAX, 150 - ECR_BATCH_DELETE_MAX]
    assert all("imageTag" not in i for c in calls for i in c["imageIds"])  # by digest, once


# ---- what only a canned answer can show -----------------------------------------------------


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


def test_revisions_ecs_cannot_delete_are_listed_as_left() -> None:
    # Stubber: a DeleteTaskDefinitions failure entry; nothing in destroy's flow leaves the
    # emulated ECS a revision it refuses to delete (it refuses only ACTIVE ones, and
    # destroy deregisters those first).
    s = Stubs()
    cleanup(s, active=[2], inactive=[1], failed=[2], insights=False)
    names = Names.of(config_mod.Config())

    done = destroy_mod.clean_up(s.clients, names, RecordingUI())

    s.done()
    assert done.left == [f"task definition {arn(2)}: TASK_DEFINITION_IN_USE a task still runs it"]
    assert (done.deregistered, done.deleted, done.log_group_deleted) == (1, 1, "")


def test_an_object_s3_would_not_delete_stops_the_destroy() -> None:
    # Stubber: access denied on one key, an error shape the emulated S3 never gives.
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
    s.done()


@pytest.mark.parametrize(
    ("empty_bucket", "delete_images", "emptied"),
    [
        (False, False, []),
        (True, False, ["Artifacts"]),
        (False, True, ["AppImages"]),
        (True, True, ["Artifacts", "AppImages"]),
    ],
)
def test_each_flag_empties_only_its_own_kind_of_holder(
    empty_bucket: bool, delete_images: bool, emptied: list[str]
) -> None:
    """--empty-bucket empties the artifact bucket and --delete-images the image
    repositories, never the other kind; a retained or already empty holder, or one that
    CloudFormation empties itself (ECR EmptyOnDelete), is never touched."""

    def holder(logical_id: str, kind: str, **changes: Any) -> destroy_mod.Holder:
        fields: dict[str, Any] = {"retained": False, "empties_itself": False, "count": 3}
        fields.update(changes)
        return destroy_mod.Holder("sample3-dev-pipeline", logical_id, kind, logical_id, **fields)

    plan = destroy_mod.DestroyPlan(
        stacks=["sample3-dev-pipeline"],
        holders=[
            holder("Artifacts", "bucket"),
            holder("AppImages", "images"),
            holder("Kept", "bucket", retained=True),
            holder("Empty", "images", count=0),
            holder("Itself", "images", empties_itself=True),
        ],
        empty_bucket=empty_bucket,
        delete_images=delete_images,
    )
    assert [h.logical_id for h in plan.to_empty()] == emptied


def test_the_json_document_names_what_is_kept_and_what_was_cleaned() -> None:
    """The ``destroy -o json`` document (the CLI adds ``ok``) of a destroy whose pipeline
    stack held a bucket with DeletionPolicy Retain (CloudFormation leaves it: "AWS
    CloudFormation keeps the resource without deleting the resource", DeletionPolicy
    attribute, CloudFormation user guide) and failed on the next stack."""
    from bluegreen.aws.cfn import StackEvent

    kept = destroy_mod.Holder(
        "sample3-dev-pipeline", "Artifacts", "bucket", "sample3-artifacts", True, False, 4
    )
    failure = StackEvent(
        "sample3-dev-service",
        "e1",
        datetime(2026, 12, 1, tzinfo=UTC),
        "Cluster",
        "AWS::ECS::Cluster",
        "DELETE_FAILED",
        "tasks still run",
    )
    result = destroy_mod.DestroyResult(
        plan=destroy_mod.DestroyPlan(
            stacks=["sample3-dev-pipeline", "sample3-dev-service"],
            holders=[kept],
            empty_bucket=False,
            delete_images=False,
            region="ap-northeast-1",
        ),
        outcomes=[
            destroy_mod.DestroyOutcome("sample3-dev-pipeline", "DELETE_COMPLETE"),
            destroy_mod.DestroyOutcome(
                "sample3-dev-service", "DELETE_FAILED", "one resource failed", [failure]
            ),
        ],
        cleanup=destroy_mod.Cleanup(
            deregistered=2, deleted=3, log_group_deleted="", left=["x"], kept=["role"]
        ),
    )
    assert result.to_dict() == {
        "region": "ap-northeast-1",
        "cancelled": False,
        "stacks": [
            {
                "stack": "sample3-dev-pipeline",
                "status": "DELETE_COMPLETE",
                "reason": None,
                "failures": [],
            },
            {
                "stack": "sample3-dev-service",
                "status": "DELETE_FAILED",
                "reason": "one resource failed",
                "failures": [
                    {
                        "logical_id": "Cluster",
                        "resource_type": "AWS::ECS::Cluster",
                        "status": "DELETE_FAILED",
                        "reason": "tasks still run",
                    }
                ],
            },
        ],
        "emptied": [],
        "cleanup": {
            "deregistered": 2,
            "deleted": 3,
            "log_group_deleted": None,
            "left": ["x"],
            "kept": ["role"],
        },
        "left": [
            {
                "kind": "bucket",
                "name": "sample3-artifacts",
                "stack": "sample3-dev-pipeline",
                "retained": True,
            }
        ],
        "in_flight": None,
    }
