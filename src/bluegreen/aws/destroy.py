"""``destroy``: the stacks in reverse order (pipeline, service, source), with progress.

CloudFormation cannot delete a bucket that still holds objects or an ECR repository that
still holds images (unless the template sets EmptyOnDelete). Rather than start deleting
and fail half-way, destroy looks first: every such resource is either emptied (only when
the user asked, ``--empty-bucket`` / ``--delete-images``), or the destroy refuses before
deleting anything and says which flag would let it through. Resources the template
marks ``DeletionPolicy: Retain`` are left by CloudFormation on purpose; they are listed
at the end as what was left behind, with their names, so the user can remove them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bluegreen.aws import cfn
from bluegreen.aws.cfn import StackEvent
from bluegreen.aws.errors import AwsCallError, call, pages
from bluegreen.aws.session import Clients
from bluegreen.errors import StateError
from bluegreen.names import Names

if TYPE_CHECKING:
    from bluegreen.config import Config

Sleep = Callable[[float], None]

_RETAIN = ("Retain", "RetainExceptOnCreate", "Snapshot")


class DestroyUI(Protocol):
    def step(self, message: str) -> None: ...

    def confirm(self, plan: DestroyPlan) -> bool: ...

    def event(self, event: StackEvent) -> None: ...

    def stack_done(self, stack: str, status: str) -> None: ...


@dataclass(frozen=True)
class Holder:
    """A resource that holds data: a bucket or image repository of a stack."""

    stack: str
    logical_id: str
    kind: str  # "bucket" or "images"
    name: str
    retained: bool
    empties_itself: bool
    count: int  # objects/images found (0 = empty; capped by the probe)

    @property
    def blocks(self) -> bool:
        return not self.retained and not self.empties_itself and self.count > 0


@dataclass
class DestroyPlan:
    stacks: list[str]  # existing stacks, in deletion order
    holders: list[Holder]
    empty_bucket: bool
    delete_images: bool

    def to_empty(self) -> list[Holder]:
        wanted = []
        for h in self.holders:
            if not h.blocks:
                continue
            if (h.kind == "bucket" and self.empty_bucket) or (
                h.kind == "images" and self.delete_images
            ):
                wanted.append(h)
        return wanted


@dataclass
class DestroyOutcome:
    stack: str
    status: str
    reason: str = ""
    failures: list[StackEvent] = field(default_factory=list)


@dataclass
class DestroyResult:
    plan: DestroyPlan
    outcomes: list[DestroyOutcome] = field(default_factory=list)
    emptied: list[str] = field(default_factory=list)
    cancelled: bool = False

    @property
    def ok(self) -> bool:
        return not self.cancelled and all(o.status == "DELETE_COMPLETE" for o in self.outcomes)

    @property
    def left(self) -> list[Holder]:
        return [h for h in self.plan.holders if h.retained]


def plan(
    clients: Clients, config: Config, *, empty_bucket: bool, delete_images: bool
) -> DestroyPlan:
    """What exists and what would stop its deletion; raises StateError if blocked."""
    from bluegreen import stacks as stacks_mod

    names = Names.of(config)
    templates = {s.name: _resources_of(s.template) for s in stacks_mod.build(config)}
    client = clients.cloudformation
    existing: list[str] = []
    holders: list[Holder] = []
    for stack in reversed(names.stacks):
        described = cfn.describe_stack(client, stack)
        if described is None:
            continue
        existing.append(stack)
        declared = templates.get(stack, {})
        for res in cfn.stack_resources(client, stack):
            kind = res.get("ResourceType")
            physical = res.get("PhysicalResourceId", "")
            if kind not in ("AWS::S3::Bucket", "AWS::ECR::Repository") or not physical:
                continue
            if res.get("ResourceStatus") == "DELETE_COMPLETE":
                continue
            spec = declared.get(res["LogicalResourceId"], {})
            retained = spec.get("DeletionPolicy") in _RETAIN
            if kind == "AWS::S3::Bucket":
                holders.append(
                    Holder(
                        stack,
                        res["LogicalResourceId"],
                        "bucket",
                        physical,
                        retained,
                        False,
                        _bucket_count(clients.s3, physical),
                    )
                )
            else:
                empties = bool(spec.get("Properties", {}).get("EmptyOnDelete", False))
                holders.append(
                    Holder(
                        stack,
                        res["LogicalResourceId"],
                        "images",
                        physical,
                        retained,
                        empties,
                        _image_count(clients.ecr, physical),
                    )
                )
    result = DestroyPlan(existing, holders, empty_bucket, delete_images)
    blocked = [
        h
        for h in holders
        if h.blocks
        and not ((h.kind == "bucket" and empty_bucket) or (h.kind == "images" and delete_images))
    ]
    if blocked:
        lines = "; ".join(
            f"{h.name} ({'objects' if h.kind == 'bucket' else 'images'} in stack {h.stack})"
            for h in blocked
        )
        flags = sorted(
            {"--empty-bucket" if h.kind == "bucket" else "--delete-images" for h in blocked}
        )
        raise StateError(
            f"nothing was deleted: CloudFormation cannot delete non-empty {lines}",
            hint=f"rerun with {' '.join(flags)} to empty them first (this deletes the "
            "pipeline artifacts / the built images for good)",
        )
    return result


def destroy(
    clients: Clients,
    config: Config,
    ui: DestroyUI,
    *,
    empty_bucket: bool = False,
    delete_images: bool = False,
    sleep: Sleep = time.sleep,
) -> DestroyResult:
    """Delete the stacks in reverse order after ``ui.confirm``; see the module docstring."""
    the_plan = plan(clients, config, empty_bucket=empty_bucket, delete_images=delete_images)
    result = DestroyResult(the_plan)
    if not the_plan.stacks:
        ui.step("no bluegreen stacks exist; nothing to destroy")
        return result
    if not ui.confirm(the_plan):
        result.cancelled = True
        return result
    client = clients.cloudformation
    to_empty = the_plan.to_empty()
    for stack in the_plan.stacks:
        for holder in (h for h in to_empty if h.stack == stack):
            if holder.kind == "bucket":
                removed = empty_bucket_versions(clients.s3, holder.name)
                ui.step(f"{holder.name}: deleted {removed} object versions")
            else:
                removed = delete_all_images(clients.ecr, holder.name)
                ui.step(f"{holder.name}: deleted {removed} images")
            result.emptied.append(holder.name)
        described = cfn.describe_stack(client, stack)
        if described is None:
            result.outcomes.append(DestroyOutcome(stack, "DELETE_COMPLETE"))
            continue
        stack_id = described["StackId"]
        ui.step(f"{stack}: deleting")
        tail = cfn.EventTail(client, stack_id, stack)
        tail.mark()
        cfn.delete_stack(client, stack_id)
        final, reason, failures = cfn.wait_stack(client, stack_id, tail, ui.event, sleep=sleep)
        ui.stack_done(stack, final)
        result.outcomes.append(DestroyOutcome(stack, final, reason, failures))
        if final != "DELETE_COMPLETE":
            break  # the next stack's exports are still imported by this one
    return result


def _resources_of(template: Any) -> dict[str, Any]:
    data = template.to_dict() if hasattr(template, "to_dict") else dict(template)
    resources: dict[str, Any] = data.get("Resources", {})
    return resources


def _bucket_count(s3: Any, bucket: str) -> int:
    try:
        page = call(s3, "list_object_versions", Bucket=bucket, MaxKeys=10)
    except AwsCallError as exc:
        if exc.code in ("NoSuchBucket", "404"):
            return 0
        raise
    return len(page.get("Versions", [])) + len(page.get("DeleteMarkers", []))


def _image_count(ecr: Any, repository: str) -> int:
    try:
        page = call(ecr, "list_images", repositoryName=repository, maxResults=10)
    except AwsCallError as exc:
        if exc.code == "RepositoryNotFoundException":
            return 0
        raise
    return len(page.get("imageIds", []))


_T = TypeVar("_T")


def _chunks(items: list[_T], size: int) -> Iterator[list[_T]]:
    """``items`` in order, at most ``size`` at a time (a batch API's limit per call)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def empty_bucket_versions(s3: Any, bucket: str) -> int:
    """Delete every object version and delete marker; returns how many were deleted."""
    removed = 0
    for page in pages(s3, "list_object_versions", Bucket=bucket):
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        for chunk in _chunks(keys, 1000):
            answer = call(
                s3, "delete_objects", Bucket=bucket, Delete={"Objects": chunk, "Quiet": True}
            )
            errors = answer.get("Errors", [])
            if errors:
                first = errors[0]
                raise StateError(
                    f"could not empty bucket {bucket}: {first.get('Key')}: "
                    f"{first.get('Code')} {first.get('Message', '')}".rstrip(),
                    hint="check s3:DeleteObjectVersion permission and object lock settings",
                )
            removed += len(chunk)
    return removed


def delete_all_images(ecr: Any, repository: str) -> int:
    """Delete every image of an ECR repository; returns how many were deleted."""
    ids: list[dict[str, str]] = []
    for page in pages(ecr, "list_images", repositoryName=repository):
        ids.extend(page.get("imageIds", []))
    # One digest can carry several tags; delete by digest once.
    unique = list({i.get("imageDigest", i.get("imageTag", "")): i for i in ids}.values())
    by_digest = [{"imageDigest": i["imageDigest"]} if "imageDigest" in i else i for i in unique]
    for chunk in _chunks(by_digest, 100):
        answer = call(ecr, "batch_delete_image", repositoryName=repository, imageIds=chunk)
        failures = [
            f for f in answer.get("failures", []) if f.get("failureCode") != "ImageNotFound"
        ]
        if failures:
            first = failures[0]
            raise StateError(
                f"could not delete images of {repository}: {first.get('failureCode')} "
                f"{first.get('failureReason', '')}".rstrip(),
                hint="check ecr:BatchDeleteImage permission",
            )
    return len(by_digest)
