"""``destroy``: the stacks in reverse order (pipeline, service, source), with progress.

CloudFormation cannot delete a bucket that still holds objects or an ECR repository that
still holds images (unless the template sets EmptyOnDelete). Rather than start deleting
and fail half-way, destroy looks first: every such resource is either emptied (only when
the user asked, ``--empty-bucket`` / ``--delete-images``), or the destroy refuses before
deleting anything and says which flag would let it through. Resources the template
marks ``DeletionPolicy: Retain`` are left by CloudFormation on purpose; they are listed
at the end as what was left behind, with their names, so the user can remove them.

What bluegreen made outside the stacks goes too, once the stacks are deleted:

* the task-definition revisions of the service's family: the pipeline registers one per
  release (CodeDeploy's ECS deployment registers the rendered taskdef.json), and
  CloudFormation only knows the first. Each ACTIVE revision is deregistered
  (DeregisterTaskDefinition, one per call), then every INACTIVE one deleted
  (DeleteTaskDefinitions: "You must deregister a task definition revision before you
  delete it", up to 10 per call; ECS API reference). Revisions ECS cannot delete are
  listed as left behind.
* the Container Insights log group ``/aws/ecs/containerinsights/<cluster>/performance``:
  the cluster has Container Insights enabled, and CloudWatch creates that log group by
  itself ("When you deploy Container Insights, it automatically creates a log group for
  the performance log events", CloudWatch user guide, Container Insights performance log
  reference; the ECS page names the group), so no stack deletes it.

The run is recorded in a :class:`DestroyResult` the caller may pass in, so an
interrupted or failed destroy can say what it left in flight.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from bluegreen.aws import cfn, console
from bluegreen.aws.cfn import StackEvent
from bluegreen.aws.deploy import InFlight
from bluegreen.aws.errors import AwsCallError, call, pages
from bluegreen.aws.preflight import ECS_SERVICE_LINKED_ROLE
from bluegreen.aws.session import Clients
from bluegreen.errors import StateError
from bluegreen.names import Names

if TYPE_CHECKING:
    from bluegreen.config import Config

Sleep = Callable[[float], None]

_RETAIN = ("Retain", "RetainExceptOnCreate", "Snapshot")
DELETE_OBJECTS_BATCH = 1000
"""S3 DeleteObjects: "The request can contain a list of up to 1,000 keys" (S3 API reference)."""
BATCH_DELETE_IMAGE_BATCH = 100
"""ECR BatchDeleteImage: imageIds holds at most 100 (botocore ECR model, ImageIdentifierList)."""
DELETE_TASK_DEFINITIONS_BATCH = 10
"""ECS DeleteTaskDefinitions: "You can specify up to 10 task definitions" (ECS API reference)."""


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


def insights_log_group(cluster: str) -> str:
    """The log group Container Insights writes a cluster's performance events to."""
    return f"/aws/ecs/containerinsights/{cluster}/performance"


@dataclass
class DestroyPlan:
    stacks: list[str]  # existing stacks, in deletion order
    holders: list[Holder]
    empty_bucket: bool
    delete_images: bool
    region: str = ""
    family: str = ""  # the service's task-definition family
    revisions: int = 0  # its revisions (ACTIVE and INACTIVE) found when planning
    log_group: str = ""  # the Container Insights log group, when it exists

    @property
    def leftovers(self) -> bool:
        """Whether anything bluegreen made outside the stacks exists."""
        return bool(self.revisions or self.log_group)

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
class Cleanup:
    """What bluegreen made outside the stacks and removed after them."""

    deregistered: int = 0
    deleted: int = 0
    log_group_deleted: str = ""
    left: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # left on purpose (shared by the account)

    def to_dict(self) -> dict[str, Any]:
        return {
            "deregistered": self.deregistered,
            "deleted": self.deleted,
            "log_group_deleted": self.log_group_deleted or None,
            "left": list(self.left),
            "kept": list(self.kept),
        }


@dataclass
class DestroyResult:
    plan: DestroyPlan | None = None
    outcomes: list[DestroyOutcome] = field(default_factory=list)
    emptied: list[str] = field(default_factory=list)
    cancelled: bool = False
    cleanup: Cleanup | None = None
    in_flight: InFlight | None = None

    @property
    def ok(self) -> bool:
        return not self.cancelled and all(o.status == "DELETE_COMPLETE" for o in self.outcomes)

    @property
    def changed_anything(self) -> bool:
        return bool(self.outcomes or self.emptied) or self.in_flight is not None

    @property
    def left(self) -> list[Holder]:
        return [h for h in self.plan.holders if h.retained] if self.plan else []

    def to_dict(self) -> dict[str, Any]:
        """The ``--output json`` document of a destroy (the CLI adds ``ok``)."""
        return {
            "region": self.plan.region if self.plan else None,
            "cancelled": self.cancelled,
            "stacks": [
                {
                    "stack": o.stack,
                    "status": o.status,
                    "reason": o.reason or None,
                    "failures": [
                        {
                            "logical_id": f.logical_id,
                            "resource_type": f.resource_type,
                            "status": f.status,
                            "reason": f.reason,
                        }
                        for f in o.failures
                    ],
                }
                for o in self.outcomes
            ],
            "emptied": list(self.emptied),
            "cleanup": self.cleanup.to_dict() if self.cleanup else None,
            "left": [
                {"kind": h.kind, "name": h.name, "stack": h.stack, "retained": True}
                for h in self.left
            ],
            "in_flight": self.in_flight.to_dict() if self.in_flight else None,
        }


def plan(
    clients: Clients, config: Config, *, empty_bucket: bool, delete_images: bool
) -> DestroyPlan:
    """What exists and what would stop its deletion; raises StateError if blocked."""
    from bluegreen import stacks as stacks_mod

    names = Names.of(config)
    region = clients.region
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
    result = DestroyPlan(existing, holders, empty_bucket, delete_images, region)
    result.family = names.task_family
    result.revisions = len(
        task_definition_revisions(clients.ecs, names.task_family, "ACTIVE")
        + task_definition_revisions(clients.ecs, names.task_family, "INACTIVE")
    )
    result.log_group = _existing_log_group(clients.logs, insights_log_group(names.cluster))
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


RESUME = "run `bluegreen destroy` again to continue"


def destroy(
    clients: Clients,
    config: Config,
    ui: DestroyUI,
    *,
    empty_bucket: bool = False,
    delete_images: bool = False,
    result: DestroyResult | None = None,
    sleep: Sleep = time.sleep,
) -> DestroyResult:
    """Delete the stacks in reverse order after ``ui.confirm``; see the module docstring.

    ``result``, when given, is filled in as the run goes, so the caller still has it
    when the run raises (an AWS error, Ctrl-C).
    """
    names = Names.of(config)
    the_plan = plan(clients, config, empty_bucket=empty_bucket, delete_images=delete_images)
    result = result if result is not None else DestroyResult()
    result.plan = the_plan
    if not the_plan.stacks and not the_plan.leftovers:
        ui.step(
            f"no bluegreen stacks ({', '.join(names.stacks)}) exist in {clients.region}; "
            "nothing to destroy"
        )
        return result
    if not the_plan.stacks:
        ui.step(
            f"no bluegreen stacks exist in {clients.region}; only what they left behind "
            "outside them"
        )
    if not ui.confirm(the_plan):
        result.cancelled = True
        return result
    client = clients.cloudformation
    to_empty = the_plan.to_empty()
    flags = " ".join(
        flag
        for flag, on in (("--empty-bucket", empty_bucket), ("--delete-images", delete_images))
        if on
    )
    again = RESUME.replace("destroy`", f"destroy {flags}`") if flags else RESUME
    for stack in the_plan.stacks:
        for holder in (h for h in to_empty if h.stack == stack):
            result.in_flight = InFlight(
                holder.name, "being emptied (part of it may be deleted already)", again
            )
            if holder.kind == "bucket":
                removed = empty_bucket_versions(clients.s3, holder.name)
                ui.step(f"{holder.name}: deleted {removed} object versions")
            else:
                removed = delete_all_images(clients.ecr, holder.name)
                ui.step(f"{holder.name}: deleted {removed} images")
            result.in_flight = None
            result.emptied.append(holder.name)
        described = cfn.describe_stack(client, stack)
        if described is None:
            result.outcomes.append(DestroyOutcome(stack, "DELETE_COMPLETE"))
            continue
        stack_id = described["StackId"]
        ui.step(f"{stack}: deleting")
        tail = cfn.EventTail(client, stack_id, stack)
        tail.mark()
        result.in_flight = InFlight(
            stack,
            "CloudFormation keeps deleting it without bluegreen "
            f"({console.stack(clients.region, stack_id)})",
            f"wait for the deletion to finish, then {again}",
        )
        cfn.delete_stack(client, stack_id)
        final, reason, failures = cfn.wait_stack(client, stack_id, tail, ui.event, sleep=sleep)
        result.in_flight = None
        ui.stack_done(stack, final)
        result.outcomes.append(DestroyOutcome(stack, final, reason, failures))
        if final != "DELETE_COMPLETE":
            break  # the next stack's exports are still imported by this one
    if result.ok:
        result.in_flight = InFlight(names.task_family, "being cleaned up (outside the stacks)")
        result.cleanup = clean_up(clients, names, ui)
        result.in_flight = None
    return result


def clean_up(clients: Clients, names: Names, ui: DestroyUI) -> Cleanup:
    """Remove what bluegreen made outside the stacks (module docstring)."""
    done = Cleanup()
    family = names.task_family
    active = task_definition_revisions(clients.ecs, family, "ACTIVE")
    for arn in active:
        call(clients.ecs, "deregister_task_definition", taskDefinition=arn)
    done.deregistered = len(active)
    # Just-deregistered revisions may not be listed as INACTIVE yet: delete both lists.
    inactive = task_definition_revisions(clients.ecs, family, "INACTIVE")
    revisions = sorted(set(active) | set(inactive), key=_revision)
    for chunk in _chunks(revisions, DELETE_TASK_DEFINITIONS_BATCH):
        answer = call(clients.ecs, "delete_task_definitions", taskDefinitions=chunk)
        failures = answer.get("failures", [])
        done.deleted += len(chunk) - len(failures)
        for f in failures:
            why = f"{f.get('reason', '')} {f.get('detail', '')}".strip()
            done.left.append(f"task definition {f.get('arn', '?')}: {why}")
    if revisions:
        ui.step(
            f"{family}: deregistered {done.deregistered} and deleted {done.deleted} "
            "task-definition revisions"
        )
    group = insights_log_group(names.cluster)
    try:
        call(clients.logs, "delete_log_group", logGroupName=group)
    except AwsCallError as exc:
        if exc.code != "ResourceNotFoundException":  # never created: nothing to delete
            raise
    else:
        done.log_group_deleted = group
        ui.step(f"{group}: deleted (Container Insights)")
    if _exists_role(clients, ECS_SERVICE_LINKED_ROLE):
        done.kept.append(ECS_SERVICE_LINKED_ROLE)
    return done


def _exists_role(clients: Clients, name: str) -> bool:
    """Whether the IAM role ``name`` exists (GetRole: NoSuchEntity when it does not,
    botocore's iam model). A refused or failed look says nothing: False."""
    try:
        call(clients.iam, "get_role", RoleName=name)
    except AwsCallError:
        return False
    return True


def _revision(arn: str) -> int:
    tail = arn.rsplit(":", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def task_definition_revisions(ecs: Any, family: str, status: str) -> list[str]:
    """The ARNs of ``family``'s revisions in ``status`` (the prefix filter is narrowed to
    the exact family: ``<family>:<revision>`` at the end of each ARN)."""
    found: list[str] = []
    for page in pages(ecs, "list_task_definitions", familyPrefix=family, status=status):
        for arn in page.get("taskDefinitionArns", []):
            if arn.rsplit("/", 1)[-1].rsplit(":", 1)[0] == family:
                found.append(arn)
    return found


def _existing_log_group(logs: Any, name: str) -> str:
    for page in pages(logs, "describe_log_groups", logGroupNamePrefix=name):
        if any(g.get("logGroupName") == name for g in page.get("logGroups", [])):
            return name
    return ""


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
    """Delete every object version and delete marker; returns how many were deleted.

    Each page is deleted, then the listing starts again from the beginning rather than
    from the page's NextKeyMarker/NextVersionIdMarker: those name a version that is gone
    by then, and the next page must not depend on how a listing treats such a marker
    (moto's lists nothing after it). S3 lists what a delete left strongly consistently
    ("Amazon S3 data consistency model", S3 user guide), so a fresh listing holds only
    what remains.
    """
    removed = 0
    deleted: set[tuple[str, str]] = set()
    while True:
        page = call(s3, "list_object_versions", Bucket=bucket)
        keys = [
            {"Key": v["Key"], "VersionId": v["VersionId"]}
            for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if not keys:
            return removed
        if any((k["Key"], k["VersionId"]) in deleted for k in keys):
            raise StateError(
                f"could not empty bucket {bucket}: versions deleted without an error are "
                "still listed",
                hint="look at the bucket's object lock and lifecycle settings",
            )
        deleted.update((k["Key"], k["VersionId"]) for k in keys)
        for chunk in _chunks(keys, DELETE_OBJECTS_BATCH):
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


def delete_all_images(ecr: Any, repository: str) -> int:
    """Delete every image of an ECR repository; returns how many were deleted."""
    ids: list[dict[str, str]] = []
    for page in pages(ecr, "list_images", repositoryName=repository):
        ids.extend(page.get("imageIds", []))
    # One digest can carry several tags; delete by digest once.
    unique = list({i.get("imageDigest", i.get("imageTag", "")): i for i in ids}.values())
    by_digest = [{"imageDigest": i["imageDigest"]} if "imageDigest" in i else i for i in unique]
    for chunk in _chunks(by_digest, BATCH_DELETE_IMAGE_BATCH):
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
