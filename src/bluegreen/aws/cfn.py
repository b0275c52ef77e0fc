"""CloudFormation: stacks, change sets, events and outputs (a thin client over boto3).

Change sets are the only way bluegreen changes a stack, as rain does: create one, look at
its changes, execute or delete it. This module knows CloudFormation's states and error
texts; the deploy/destroy orchestration in :mod:`bluegreen.aws.deploy` and
:mod:`bluegreen.aws.destroy` decides what to do with them.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bluegreen.aws.errors import AwsCallError, call, pages
from bluegreen.errors import OperationError

Sleep = Callable[[float], None]

CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"]
"""IAM roles are part of every stack; NAMED_IAM is harmless when names are generated."""

TEMPLATE_BODY_LIMIT = 51_200
"""CloudFormation's limit for TemplateBody in bytes; larger templates need TemplateURL."""

# "No changes" comes back as a FAILED change set with one of these reasons. The first is
# the usual one (DescribeChangeSet of a change set with nothing to do; localstack's parity
# tests record it: localstack/localstack#13123); the second is also seen on FAILED change
# sets, not only as UpdateStack's ValidationError: a recorded describe-change-set answer
# "Status: FAILED / StatusReason: No updates are to be performed." (Sceptre/sceptre#568),
# "sometimes StatusReason is 'No updates are to be performed.'"
# (ansible-collections/amazon.aws#507), "FAILED - No updates are to be performed"
# (aws/aws-toolkit-azure-devops#97).
_NO_CHANGES = (
    "The submitted information didn't contain changes",
    "No updates are to be performed",
)

SUCCEEDED = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "DELETE_COMPLETE", "IMPORT_COMPLETE"}


@dataclass(frozen=True)
class StackEvent:
    """One line of a stack's event history (one resource changing state)."""

    stack: str
    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str

    @property
    def failed(self) -> bool:
        return self.status.endswith("_FAILED")

    @property
    def of_the_stack(self) -> bool:
        """The stack's own status event (CloudFormation lists it among the resources, as
        LogicalResourceId the stack's name and ResourceType AWS::CloudFormation::Stack),
        whose reason is the stack's StackStatusReason."""
        return self.resource_type == "AWS::CloudFormation::Stack" and self.logical_id == self.stack


@dataclass(frozen=True)
class Change:
    """One row of a change set: what CloudFormation will do to one resource."""

    action: str
    logical_id: str
    resource_type: str
    replacement: str

    def to_dict(self) -> dict[str, str]:
        return {
            "action": self.action,
            "logical_id": self.logical_id,
            "type": self.resource_type,
            "replacement": self.replacement,
        }


@dataclass(frozen=True)
class ChangeSetResult:
    """A created change set: its id and changes, or ``no_changes`` when there are none."""

    id: str
    name: str
    stack_id: str
    status: str
    reason: str
    changes: list[Change]

    @property
    def no_changes(self) -> bool:
        return self.status == "FAILED" and is_no_changes(self.reason)


def is_no_changes(reason: str) -> bool:
    """Whether a FAILED change set's StatusReason only says there is nothing to change."""
    return any(text in reason for text in _NO_CHANGES)


def is_terminal(status: str) -> bool:
    """A stack status CloudFormation will not leave by itself."""
    return not status.endswith("_IN_PROGRESS")


def describe_stack(cfn: Any, name: str) -> dict[str, Any] | None:
    """The stack's description, or None when it does not exist (or was deleted)."""
    try:
        stacks = call(cfn, "describe_stacks", StackName=name).get("Stacks", [])
    except AwsCallError as exc:
        if exc.code == "ValidationError" and "does not exist" in exc.message:
            return None
        raise
    if not stacks:
        return None
    stack: dict[str, Any] = stacks[0]
    return stack


def deployed_template(cfn: Any, name: str) -> dict[str, Any] | None:
    """The template stack ``name`` runs now, parsed (None when the stack does not exist)."""
    try:
        body = call(cfn, "get_template", StackName=name, TemplateStage="Original")
    except AwsCallError as exc:
        if exc.code == "ValidationError" and "does not exist" in exc.message:
            return None
        raise
    template = body.get("TemplateBody")
    if isinstance(template, str):  # YAML (or JSON) text; bluegreen writes plain YAML
        import yaml

        template = yaml.safe_load(template)
    return template if isinstance(template, dict) else None


def outputs_of(stack: dict[str, Any] | None) -> dict[str, str]:
    """A described stack's outputs as ``{OutputKey: OutputValue}``."""
    if stack is None:
        return {}
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def outputs(cfn: Any, name: str) -> dict[str, str]:
    """The outputs of stack ``name`` (empty when it does not exist)."""
    return outputs_of(describe_stack(cfn, name))


def create_change_set(
    cfn: Any,
    stack: str,
    name: str,
    change_set_type: str,
    body: str,
    parameters: list[dict[str, Any]] | None = None,
) -> tuple[str, str]:
    """Create a change set; returns (change set id, stack id). ``parameters``: the
    template's parameters (only the pipeline stack of a CodeConnections source has one)."""
    extra: dict[str, Any] = {"Parameters": parameters} if parameters else {}
    result = call(
        cfn,
        "create_change_set",
        StackName=stack,
        ChangeSetName=name,
        ChangeSetType=change_set_type,
        TemplateBody=body,
        Capabilities=CAPABILITIES,
        Description="bluegreen deploy",
        **extra,
    )
    return result["Id"], result.get("StackId", "")


def wait_change_set(
    cfn: Any,
    change_set_id: str,
    *,
    sleep: Sleep = time.sleep,
    interval: float = 2.0,
    timeout: float = 600.0,
) -> ChangeSetResult:
    """Poll until the change set is computed (CREATE_COMPLETE) or FAILED; list its changes."""
    waited = 0.0
    while True:
        first = call(cfn, "describe_change_set", ChangeSetName=change_set_id)
        status = first.get("Status", "")
        if status in ("CREATE_COMPLETE", "FAILED", "DELETE_COMPLETE", "DELETE_FAILED"):
            break
        if waited >= timeout:
            raise OperationError(
                f"change set {first.get('ChangeSetName', change_set_id)} still {status} "
                f"after {int(timeout)}s",
                hint="look at the change set in the CloudFormation console",
            )
        sleep(interval)
        waited += interval
    changes = _changes(first)
    token = first.get("NextToken")
    while token:
        page = call(cfn, "describe_change_set", ChangeSetName=change_set_id, NextToken=token)
        changes.extend(_changes(page))
        token = page.get("NextToken")
    return ChangeSetResult(
        id=first.get("ChangeSetId", change_set_id),
        name=first.get("ChangeSetName", ""),
        stack_id=first.get("StackId", ""),
        status=status,
        reason=first.get("StatusReason", ""),
        changes=changes,
    )


def _changes(page: dict[str, Any]) -> list[Change]:
    found = []
    for change in page.get("Changes", []):
        rc = change.get("ResourceChange", {})
        found.append(
            Change(
                action=rc.get("Action", ""),
                logical_id=rc.get("LogicalResourceId", ""),
                resource_type=rc.get("ResourceType", ""),
                replacement=rc.get("Replacement", ""),
            )
        )
    return found


def delete_change_set(cfn: Any, change_set_id: str) -> None:
    call(cfn, "delete_change_set", ChangeSetName=change_set_id)


def execute_change_set(cfn: Any, change_set_id: str) -> None:
    call(cfn, "execute_change_set", ChangeSetName=change_set_id)


def delete_stack(cfn: Any, stack: str) -> None:
    call(cfn, "delete_stack", StackName=stack)


def stack_resources(cfn: Any, stack: str) -> list[dict[str, Any]]:
    """The stack's resources (logical id, type, physical id, status)."""
    found: list[dict[str, Any]] = []
    for page in pages(cfn, "list_stack_resources", StackName=stack):
        found.extend(page.get("StackResourceSummaries", []))
    return found


class EventTail:
    """The stack events that are new since the tail was started, oldest first.

    describe_stack_events pages newest first; a poll reads pages only until it meets an
    event it has already seen, so each poll costs one call in the common case however
    long the stack's history is.
    """

    def __init__(self, cfn: Any, stack: str, label: str | None = None) -> None:
        self._cfn = cfn
        self._stack = stack
        self._label = label or stack
        self._seen: set[str] = set()

    def mark(self) -> None:
        """Treat every event that exists now as already seen."""
        for event in self._newest_first():
            if event.event_id in self._seen:
                break
            self._seen.add(event.event_id)

    def poll(self) -> list[StackEvent]:
        """Events that appeared since the last poll (or mark), oldest first."""
        fresh: list[StackEvent] = []
        for event in self._newest_first():
            if event.event_id in self._seen:
                break
            fresh.append(event)
        for event in fresh:
            self._seen.add(event.event_id)
        fresh.reverse()
        return fresh

    def _newest_first(self) -> Iterator[StackEvent]:
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"StackName": self._stack}
            if token:
                kwargs["NextToken"] = token
            try:
                page = call(self._cfn, "describe_stack_events", **kwargs)
            except AwsCallError as exc:
                if exc.code == "ValidationError" and "does not exist" in exc.message:
                    return
                raise
            for raw in page.get("StackEvents", []):
                yield StackEvent(
                    stack=self._label,
                    event_id=raw["EventId"],
                    timestamp=raw["Timestamp"],
                    logical_id=raw.get("LogicalResourceId", ""),
                    resource_type=raw.get("ResourceType", ""),
                    status=raw.get("ResourceStatus", ""),
                    reason=raw.get("ResourceStatusReason", ""),
                )
            token = page.get("NextToken")
            if not token:
                return


def wait_stack(
    cfn: Any,
    stack_id: str,
    tail: EventTail,
    on_event: Callable[[StackEvent], None],
    *,
    sleep: Sleep = time.sleep,
    interval: float = 5.0,
) -> tuple[str, str, list[StackEvent]]:
    """Follow a stack until its status is terminal.

    Returns (final status, status reason, failed resource events). Every new event is
    passed to ``on_event`` as it appears. A stack that disappears (deleted) reads
    DELETE_COMPLETE. The stack's own *_FAILED event (DELETE_FAILED, ROLLBACK_FAILED, ...)
    is not a failed resource: its reason is the status reason returned.
    """
    failures: list[StackEvent] = []
    while True:
        for event in tail.poll():
            if event.failed and not event.of_the_stack:
                failures.append(event)
            on_event(event)
        stack = describe_stack(cfn, stack_id)
        status = stack["StackStatus"] if stack else "DELETE_COMPLETE"
        if is_terminal(status):
            for event in tail.poll():
                if event.failed and not event.of_the_stack:
                    failures.append(event)
                on_event(event)
            reason = stack.get("StackStatusReason", "") if stack else ""
            return status, reason, failures
        sleep(interval)
