"""Stacks, change sets and the operations that run them, as CloudFormation does.

A stack operation (create, update, delete, and their rollbacks) is a process on the
emulator's clock. Resources are worked on in parallel as far as their dependencies allow
(Ref, Fn::GetAtt, Fn::Sub variables, DependsOn), each taking the time its type takes
(:mod:`bluegreen.emulator.timing`), and every state change is a stack event. What a
resource is made of comes from its handler (:mod:`bluegreen.emulator.cloudformation.
resources`), which calls the emulated AWS's APIs as the stack's caller.

The rules followed, from the CloudFormation User Guide:

- "Update behaviors of stack resources": a property change updates the resource in place
  unless the property is create-only in the type's schema, which replaces it: the new
  resource is created first and the old one deleted during cleanup
  (UPDATE_COMPLETE_CLEANUP_IN_PROGRESS). A custom-named resource cannot be replaced
  ("CloudFormation cannot update a stack when a custom-named resource requires replacing").
- "Stack failure options" / "Troubleshooting": a failed create rolls back (ROLLBACK_*),
  deleting what was created; a failed update rolls back (UPDATE_ROLLBACK_*) by updating
  the changed resources back, which can itself fail: UPDATE_ROLLBACK_FAILED.
- "Exporting stack output values": an export cannot be deleted or changed while another
  stack imports it.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Generator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from bluegreen.emulator.clock import Until, Wait
from bluegreen.emulator.cloudformation import schema
from bluegreen.emulator.cloudformation import template as cfn
from bluegreen.emulator.cloudformation.resources import Context, Resource, spec_for
from bluegreen.emulator.cloudformation.resources.registry import Existing, Spec
from bluegreen.emulator.service import ServiceError
from bluegreen.errors import BluegreenError

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

Body = Generator[Any, Any, Any]

TEMPLATE_BODY_LIMIT = 51_200
"""TemplateBody's maximum length in bytes (CloudFormation API reference, CreateChangeSet)."""


@dataclass
class ResourceState:
    """One resource of a stack as CloudFormation tracks it."""

    logical_id: str
    type: str
    body: dict[str, Any]
    status: str = ""
    reason: str = ""
    ref: Any = None
    attrs: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, Any] = field(default_factory=dict)
    updated: datetime | None = None

    @property
    def exists(self) -> bool:
        return self.ref is not None

    def existing(self) -> Existing:
        return Existing(self.logical_id, self.type, self.ref, self.attrs, self.properties)


@dataclass(frozen=True)
class StackEvent:
    event_id: str
    stack_id: str
    stack_name: str
    logical_id: str
    physical_id: str
    resource_type: str
    timestamp: datetime
    status: str
    reason: str

    def to_api(self) -> dict[str, Any]:
        event: dict[str, Any] = {
            "StackId": self.stack_id,
            "EventId": self.event_id,
            "StackName": self.stack_name,
            "LogicalResourceId": self.logical_id,
            "PhysicalResourceId": self.physical_id,
            "ResourceType": self.resource_type,
            "Timestamp": self.timestamp,
            "ResourceStatus": self.status,
        }
        if self.reason:
            event["ResourceStatusReason"] = self.reason
        return event


@dataclass
class ChangeSet:
    id: str
    name: str
    stack: Stack
    kind: str  # CREATE | UPDATE
    text: str
    template: dict[str, Any]
    parameters: dict[str, Any]
    created: datetime
    description: str = ""
    status: str = "CREATE_PENDING"
    execution_status: str = "UNAVAILABLE"
    reason: str = ""
    changes: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Stack:
    name: str
    id: str
    created: datetime
    status: str = "REVIEW_IN_PROGRESS"
    reason: str = ""
    updated: datetime | None = None
    deleted: datetime | None = None
    text: str = ""
    template: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    capabilities: list[str] = field(default_factory=list)
    resources: dict[str, ResourceState] = field(default_factory=dict)
    outputs: list[dict[str, Any]] = field(default_factory=list)
    events: list[StackEvent] = field(default_factory=list)
    change_sets: dict[str, ChangeSet] = field(default_factory=dict)
    last_change_set: str = ""

    @property
    def busy(self) -> bool:
        return self.status.endswith("_IN_PROGRESS") and self.status != "REVIEW_IN_PROGRESS"

    @property
    def description(self) -> str:
        return str(self.template.get("Description", ""))


class OperationFailed(Exception):
    """A resource failed; the message is the reason CloudFormation records."""


class Engine:
    """Every stack of the account, their exports, and the operations running on them."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.stacks: list[Stack] = []
        self._events = 0

    # -- lookup -------------------------------------------------------------------------
    def find(self, name_or_id: str, *, deleted: bool = False) -> Stack | None:
        """The live stack of that name, or any stack (deleted too) of that id."""
        for stack in reversed(self.stacks):
            if stack.id == name_or_id:
                return stack
        for stack in reversed(self.stacks):
            if stack.name == name_or_id and (deleted or stack.deleted is None):
                return stack
        return None

    def live(self) -> list[Stack]:
        return [s for s in self.stacks if s.deleted is None]

    def exports(self) -> dict[str, tuple[Stack, str]]:
        """Export name -> (exporting stack, value), over every live stack."""
        found: dict[str, tuple[Stack, str]] = {}
        for stack in self.live():
            for output in stack.outputs:
                if output.get("ExportName"):
                    found[output["ExportName"]] = (stack, output["OutputValue"])
        return found

    def importers(self, export: str) -> list[str]:
        """Names of the live stacks whose template imports ``export``."""
        return sorted(
            stack.name
            for stack in self.live()
            if stack.template and export in _imports(stack.template)
        )

    # -- stacks -------------------------------------------------------------------------
    def new_stack(self, name: str) -> Stack:
        now = self.emulator.now()
        seed = f"{name}/{len(self.stacks)}"
        stack_id = self.emulator_arn(f"stack/{name}/{_uuid(seed)}")
        stack = Stack(name=name, id=stack_id, created=now)
        self.stacks.append(stack)
        return stack

    def emulator_arn(self, resource: str) -> str:
        e = self.emulator
        return f"arn:aws:cloudformation:{e.region}:{e.account_id}:{resource}"

    def event(
        self,
        stack: Stack,
        logical_id: str,
        resource_type: str,
        status: str,
        reason: str = "",
        physical_id: str = "",
    ) -> None:
        self._events += 1
        stack.events.append(
            StackEvent(
                event_id=f"{logical_id}-{status}-{_uuid(f'{stack.id}/{self._events}')}",
                stack_id=stack.id,
                stack_name=stack.name,
                logical_id=logical_id,
                physical_id=physical_id,
                resource_type=resource_type,
                timestamp=self.emulator.now(),
                status=status,
                reason=reason,
            )
        )

    def stack_status(self, stack: Stack, status: str, reason: str = "") -> None:
        stack.status = status
        stack.reason = reason
        self.event(stack, stack.name, "AWS::CloudFormation::Stack", status, reason, stack.id)

    # -- change sets --------------------------------------------------------------------
    def compute(self, change_set: ChangeSet) -> Body:
        """A change set's computation: a few seconds, then its changes or its failure."""
        from bluegreen.emulator import timing

        change_set.status = "CREATE_IN_PROGRESS"
        yield Wait(timing.CHANGE_SET_COMPUTE)
        try:
            changes = self._changes(change_set)
        except (BluegreenError, ServiceError) as exc:
            change_set.status = "FAILED"
            change_set.reason = _message(exc)
            return
        if not changes and change_set.kind == "UPDATE":
            change_set.status = "FAILED"
            # The reason CloudFormation gives a change set without changes (CloudFormation
            # User Guide, "Update stacks using change sets").
            change_set.reason = (
                "The submitted information didn't contain changes. Submit different "
                "information to create a change set."
            )
            return
        change_set.changes = changes
        change_set.status = "CREATE_COMPLETE"
        change_set.execution_status = "AVAILABLE"

    def _changes(self, change_set: ChangeSet) -> list[dict[str, Any]]:
        stack = change_set.stack
        new = change_set.template.get("Resources", {})
        cfn.order(new, change_set.name)  # a cycle fails the change set, as on AWS
        for logical_id, body in new.items():
            spec_for(Resource(stack.name, change_set.name, logical_id, body["Type"], {}))
        old = stack.resources if change_set.kind == "UPDATE" else {}
        changes: list[dict[str, Any]] = []
        for logical_id, body in new.items():
            before = old.get(logical_id)
            if before is None or not before.exists:
                changes.append(_change("Add", logical_id, body["Type"]))
                continue
            if before.type != body["Type"]:
                changes.append(
                    _change("Modify", logical_id, body["Type"], before.ref, "True", ["Type"])
                )
                continue
            changed = _changed_properties(before.body, body)
            if changed is None:
                continue
            replaced = schema.replacing(body["Type"], changed)
            conditional = schema.conditionally_create_only(body["Type"]) & changed
            replacement = "True" if replaced else "Conditional" if conditional else "False"
            changes.append(
                _change("Modify", logical_id, body["Type"], before.ref, replacement, changed)
            )
        for logical_id, before in old.items():
            if logical_id not in new and before.exists:
                changes.append(_change("Remove", logical_id, before.type, before.ref))
        return changes

    # -- operations ---------------------------------------------------------------------
    def run(
        self,
        stack: Stack,
        kind: str,
        text: str,
        template: dict[str, Any],
        parameters: dict[str, Any],
        principal: str,
    ) -> None:
        """Start a create or update of ``stack`` to ``template`` (a process)."""
        previous = (stack.text, stack.template, stack.parameters)
        stack.text, stack.template, stack.parameters = text, template, parameters
        operation = _Operation(self, stack, principal)
        body = operation.create() if kind == "CREATE" else operation.update(previous)
        self.emulator.clock.spawn(f"cloudformation {kind.lower()} {stack.name}", body)

    def delete(self, stack: Stack, principal: str, retain: Iterable[str] = ()) -> None:
        if stack.status == "REVIEW_IN_PROGRESS" and not any(
            r.exists for r in stack.resources.values()
        ):
            # Nothing was ever created: the stack goes at once.
            self.stack_status(stack, "DELETE_COMPLETE")
            stack.deleted = self.emulator.now()
            return
        operation = _Operation(self, stack, principal)
        self.emulator.clock.spawn(
            f"cloudformation delete {stack.name}", operation.delete(set(retain))
        )


class _Operation:
    """One stack operation: its resources' work, in dependency order and in parallel."""

    def __init__(self, engine: Engine, stack: Stack, principal: str) -> None:
        self.engine = engine
        self.stack = stack
        self.emulator = engine.emulator
        self.principal = principal
        self.failed = ""
        clients = self.emulator.clients(principal, internal=True)
        self.ctx = Context(
            clients=clients,
            region=self.emulator.region,
            account_id=self.emulator.account_id,
            emulator=self.emulator,
        )

    # -- helpers ------------------------------------------------------------------------
    def _event(self, state: ResourceState, status: str, reason: str = "") -> None:
        state.status = status
        state.reason = reason
        state.updated = self.emulator.now()
        physical = "" if state.ref is None else str(state.ref)
        self.engine.event(self.stack, state.logical_id, state.type, status, reason, physical)

    def _scope(self) -> cfn.Scope:
        e = self.emulator
        pseudo = {
            "AWS::Region": e.region,
            "AWS::AccountId": e.account_id,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.stack.name,
            "AWS::StackId": self.stack.id,
            "AWS::NotificationARNs": [],
        }
        exports = {name: value for name, (_, value) in self.engine.exports().items()}
        zones = self.ctx.clients.ec2.describe_availability_zones()["AvailabilityZones"]
        azs = sorted(z["ZoneName"] for z in zones if z.get("State") == "available")
        scope = cfn.Scope(
            filename=self.stack.name,
            pseudo=pseudo,
            exports=exports,
            mappings=self.stack.template.get("Mappings", {}),
            azs=azs,
            condition_defs=self.stack.template.get("Conditions") or {},
        )
        scope.refs.update(self.stack.parameters)
        scope.evaluate_conditions()
        return scope

    def _wanted(self, scope: cfn.Scope) -> dict[str, dict[str, Any]]:
        """The template's resources whose condition holds."""
        resources: dict[str, dict[str, Any]] = self.stack.template.get("Resources", {})
        return {
            logical_id: body
            for logical_id, body in resources.items()
            if body.get("Condition") is None or cfn.condition(body["Condition"], scope)
        }

    def _resource(self, scope: cfn.Scope, logical_id: str, body: dict[str, Any]) -> Resource:
        scope.where = logical_id
        properties = cfn.evaluate(body.get("Properties") or {}, scope)
        return Resource(self.stack.name, self.stack.name, logical_id, body["Type"], properties)

    def _outputs(self, scope: cfn.Scope) -> list[dict[str, Any]]:
        outputs = []
        for key, output in (self.stack.template.get("Outputs") or {}).items():
            condition = output.get("Condition")
            if condition is not None and not cfn.condition(condition, scope):
                continue
            scope.where = f"output {key}"
            entry: dict[str, Any] = {
                "OutputKey": key,
                "OutputValue": _text(cfn.evaluate(output["Value"], scope)),
            }
            if output.get("Description"):
                entry["Description"] = output["Description"]
            if "Export" in output:
                entry["ExportName"] = str(cfn.evaluate(output["Export"]["Name"], scope))
            outputs.append(entry)
        return outputs

    def _check_exports(self, outputs: list[dict[str, Any]]) -> None:
        """An export another stack imports may not change or go (User Guide, "Exporting
        stack output values"); a new export may not take another stack's name."""
        mine = {o["ExportName"]: o["OutputValue"] for o in self.stack.outputs if "ExportName" in o}
        new = {o["ExportName"]: o["OutputValue"] for o in outputs if "ExportName" in o}
        others = {
            name: owner
            for name, (owner, _) in self.engine.exports().items()
            if owner is not self.stack
        }
        for name in new:
            if name in others:
                raise OperationFailed(
                    f"Export with name {name} is already exported by stack {others[name].name}"
                )
        for name, value in mine.items():
            users = [s for s in self.engine.importers(name) if s != self.stack.name]
            if not users:
                continue
            if name not in new:
                raise OperationFailed(
                    f"Export {name} cannot be deleted as it is in use by {', '.join(users)}"
                )
            if new[name] != value:
                raise OperationFailed(
                    f"Cannot update export {name} as it is in use by {', '.join(users)}"
                )

    def _call(self, action: Callable[[], Any]) -> Any:
        """Run a handler; an AWS error becomes the reason CloudFormation records."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return action()
        except ClientError as exc:
            error = exc.response.get("Error", {})
            raise OperationFailed(
                f'Resource handler returned message: "{error.get("Message", "")}" '
                f"(Service: {exc.operation_name}, Error Code: {error.get('Code', '')})"
            ) from exc
        except BotoCoreError as exc:
            raise OperationFailed(f"Resource handler returned message: {exc}") from exc
        except BluegreenError as exc:
            raise OperationFailed(exc.message) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise OperationFailed(
                f"Properties validation failed: {type(exc).__name__}: {exc}"
            ) from exc

    def _spec(self, resource: Resource) -> Spec:
        try:
            return spec_for(resource)
        except BluegreenError as exc:
            raise OperationFailed(exc.message) from exc

    def _wait_ready(self, spec: Spec, state: ResourceState) -> Body:
        from bluegreen.emulator import timing

        if spec.ready is None:
            return True
        existing = state.existing()
        # CloudFormation's handler polls the resource (an ECS service's DescribeServices)
        # until it is stable, or the operation times out.
        waited = 0.0
        while not self._safe_ready(spec.ready, existing):
            if waited >= timing.STABILIZATION_TIMEOUT:
                return False
            yield Wait(timing.STABILIZATION_POLL)
            waited += timing.STABILIZATION_POLL
        return True

    def _safe_ready(self, ready: Callable[[Context, Existing], bool], existing: Existing) -> bool:
        try:
            return ready(self.ctx, existing)
        except Exception:  # noqa: BLE001 - not ready yet (the resource may be starting)
            return False

    def _parallel(self, work: dict[str, Callable[[], Body]], needs: dict[str, set[str]]) -> Body:
        """Run each piece of ``work`` once what it needs is done, in parallel; stops
        starting new work once the operation has failed."""
        done: set[str] = set()
        processes = {}

        def runner(name: str) -> Body:
            yield Until(lambda: needs[name] <= done or bool(self.failed))
            if needs[name] <= done and not self.failed:
                yield from work[name]()
            done.add(name)

        for name in work:
            processes[name] = self.emulator.clock.spawn(f"{self.stack.name}/{name}", runner(name))
        yield Until(lambda: all(p.done for p in processes.values()))

    def _needs(self, resources: dict[str, dict[str, Any]]) -> dict[str, set[str]]:
        needs: dict[str, set[str]] = {}
        for logical_id, body in resources.items():
            deps = cfn.references(body.get("Properties", {}), {})
            depends_on = body.get("DependsOn", [])
            deps |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
            needs[logical_id] = deps & set(resources)
        return needs

    # -- create -------------------------------------------------------------------------
    def create(self) -> Body:
        from bluegreen.emulator import timing

        stack = self.stack
        self.engine.stack_status(stack, "CREATE_IN_PROGRESS", "User Initiated")
        try:
            scope = self._scope()
            wanted = self._wanted(scope)
            cfn.order(wanted, stack.name)
        except (BluegreenError, ServiceError) as exc:
            self.failed = _message(exc)
            wanted = {}
            scope = None
        for logical_id, body in wanted.items():
            stack.resources[logical_id] = ResourceState(logical_id, body["Type"], body)

        def make(logical_id: str) -> Callable[[], Body]:
            def work() -> Body:
                assert scope is not None
                state = stack.resources[logical_id]
                try:
                    resource = self._resource(scope, logical_id, state.body)
                    spec = self._spec(resource)
                except (BluegreenError, OperationFailed) as exc:
                    self._fail(state, "CREATE_FAILED", _message(exc))
                    return
                self._event(state, "CREATE_IN_PROGRESS")
                try:
                    made = self._call(lambda: spec.create(self.ctx, resource))
                except OperationFailed as exc:
                    self._fail(state, "CREATE_FAILED", str(exc))
                    return
                state.ref, state.attrs, state.properties = made.ref, made.attrs, resource.properties
                self.engine.event(
                    stack,
                    logical_id,
                    state.type,
                    "CREATE_IN_PROGRESS",
                    "Resource creation Initiated",
                    str(made.ref),
                )
                yield Wait(timing.resource_seconds(state.type, "create"))
                ready = yield from self._wait_ready(spec, state)
                if self.failed:
                    self._event(state, "CREATE_FAILED", "Resource creation cancelled")
                    return
                if not ready:
                    self._fail(
                        state,
                        "CREATE_FAILED",
                        "Resource did not stabilize within the timeout "
                        f"({int(timing.STABILIZATION_TIMEOUT // 60)} minutes)",
                    )
                    return
                scope.refs[logical_id] = made.ref
                scope.attrs[logical_id] = made.attrs
                self._event(state, "CREATE_COMPLETE")

            return work

        yield from self._parallel({lid: make(lid) for lid in wanted}, self._needs(wanted))
        if not self.failed:
            try:
                assert scope is not None
                outputs = self._outputs(scope)
                self._check_exports(outputs)
            except (BluegreenError, OperationFailed) as exc:
                self.failed = _message(exc)
            else:
                stack.outputs = outputs
                self.engine.stack_status(stack, "CREATE_COMPLETE")
                return
        # Roll back: delete what was created, newest dependencies last.
        self.engine.stack_status(
            stack,
            "ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to create: [{self._failed_ids('CREATE_FAILED')}]. "
            "Rollback requested by user."
            if self._failed_ids("CREATE_FAILED")
            else self.failed,
        )
        self.failed = ""
        ok = yield from self._delete_resources(list(stack.resources.values()), set())
        stack.outputs = []
        self.engine.stack_status(stack, "ROLLBACK_COMPLETE" if ok else "ROLLBACK_FAILED")

    def _failed_ids(self, status: str) -> str:
        return ", ".join(
            r.logical_id
            for r in self.stack.resources.values()
            if r.status == status and r.reason != "Resource creation cancelled"
        )

    def _fail(self, state: ResourceState, status: str, reason: str) -> None:
        self._event(state, status, reason)
        if not self.failed:
            self.failed = reason

    # -- update -------------------------------------------------------------------------
    def update(self, previous: tuple[str, dict[str, Any], dict[str, Any]]) -> Body:
        from bluegreen.emulator import timing

        stack = self.stack
        old_states = {k: v for k, v in stack.resources.items()}
        self.engine.stack_status(stack, "UPDATE_IN_PROGRESS", "User Initiated")
        try:
            scope = self._scope()
            wanted = self._wanted(scope)
            cfn.order(wanted, stack.name)
        except (BluegreenError, ServiceError) as exc:
            self.failed = _message(exc)
            wanted = {}
            scope = None
        touched: dict[str, tuple[str, Existing | None]] = {}  # logical id -> (how, before)
        replaced: list[ResourceState] = []  # old physical resources to delete at cleanup

        def make(logical_id: str, body: dict[str, Any]) -> Callable[[], Body]:
            def work() -> Body:
                assert scope is not None
                before = old_states.get(logical_id)
                try:
                    resource = self._resource(scope, logical_id, body)
                    spec = self._spec(resource)
                except (BluegreenError, OperationFailed) as exc:
                    state = stack.resources.setdefault(
                        logical_id, ResourceState(logical_id, body["Type"], body)
                    )
                    self._fail(state, "UPDATE_FAILED" if before else "CREATE_FAILED", _message(exc))
                    return
                if before is not None and before.exists and before.type == body["Type"]:
                    changed = _changed_values(before.properties, resource.properties)
                    if not changed and _same_body(before.body, body):
                        scope.refs[logical_id] = before.ref
                        scope.attrs[logical_id] = before.attrs
                        return
                    yield from self._modify(
                        scope, before, body, resource, spec, changed, touched, replaced
                    )
                    return
                state = ResourceState(logical_id, body["Type"], body)
                stack.resources[logical_id] = state
                self._event(state, "CREATE_IN_PROGRESS")
                try:
                    made = self._call(lambda: spec.create(self.ctx, resource))
                except OperationFailed as exc:
                    self._fail(state, "CREATE_FAILED", str(exc))
                    return
                state.ref, state.attrs, state.properties = made.ref, made.attrs, resource.properties
                touched[logical_id] = ("add", None)
                yield Wait(timing.resource_seconds(state.type, "create"))
                ready = yield from self._wait_ready(spec, state)
                if not ready:
                    self._fail(state, "CREATE_FAILED", "Resource did not stabilize")
                    return
                scope.refs[logical_id] = made.ref
                scope.attrs[logical_id] = made.attrs
                self._event(state, "CREATE_COMPLETE")

            return work

        yield from self._parallel(
            {lid: make(lid, body) for lid, body in wanted.items()}, self._needs(wanted)
        )
        outputs: list[dict[str, Any]] = []
        if not self.failed:
            try:
                assert scope is not None
                outputs = self._outputs(scope)
                self._check_exports(outputs)
            except (BluegreenError, OperationFailed) as exc:
                self.failed = _message(exc)
        if not self.failed:
            stack.outputs = outputs
            self.engine.stack_status(stack, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            removed = [s for lid, s in old_states.items() if lid not in wanted and s.exists]
            for lid in [s.logical_id for s in removed]:
                stack.resources.pop(lid, None)
            yield from self._delete_resources([*replaced, *removed], set(), cleanup=True)
            self.engine.stack_status(stack, "UPDATE_COMPLETE")
            return
        yield from self._roll_back_update(previous, old_states, touched, replaced)

    def _modify(
        self,
        scope: cfn.Scope,
        before: ResourceState,
        body: dict[str, Any],
        resource: Resource,
        spec: Spec,
        changed: set[str],
        touched: dict[str, tuple[str, Existing | None]],
        replaced: list[ResourceState],
    ) -> Body:
        from bluegreen.emulator import timing

        stack = self.stack
        logical_id = before.logical_id
        state = ResourceState(
            logical_id,
            body["Type"],
            body,
            ref=before.ref,
            attrs=before.attrs,
            properties=before.properties,
        )
        stack.resources[logical_id] = state
        replace = schema.replacing(body["Type"], changed)
        if replace:
            if (
                spec.name_property
                and spec.name_property in resource.properties
                and (
                    resource.properties.get(spec.name_property)
                    == before.properties.get(spec.name_property)
                )
            ):
                self._fail(
                    state,
                    "UPDATE_FAILED",
                    "CloudFormation cannot update a stack when a custom-named resource "
                    f"requires replacing. Rename {resource.properties[spec.name_property]} "
                    "and update the stack again.",
                )
                return
            self._event(
                state,
                "UPDATE_IN_PROGRESS",
                "Requested update requires the creation of a new physical resource; hence "
                "creating one.",
            )
            try:
                made = self._call(lambda: spec.create(self.ctx, resource))
            except OperationFailed as exc:
                self._fail(state, "UPDATE_FAILED", str(exc))
                return
            touched[logical_id] = ("replace", before.existing())
            replaced.append(before)
            state.ref, state.attrs, state.properties = made.ref, made.attrs, resource.properties
            self._event(state, "UPDATE_IN_PROGRESS", "Resource creation Initiated")
            yield Wait(timing.resource_seconds(state.type, "create"))
        else:
            self._event(state, "UPDATE_IN_PROGRESS")
            update = spec.update
            if update is None:
                self._fail(
                    state,
                    "UPDATE_FAILED",
                    f"the emulated CloudFormation cannot update {state.type} in place "
                    f"(properties {', '.join(sorted(changed))})",
                )
                return
            try:
                made = self._call(lambda: update(self.ctx, resource, before.existing()))
            except OperationFailed as exc:
                self._fail(state, "UPDATE_FAILED", str(exc))
                return
            touched[logical_id] = ("update", before.existing())
            state.ref, state.attrs, state.properties = made.ref, made.attrs, resource.properties
            yield Wait(timing.resource_seconds(state.type, "update"))
        ready = yield from self._wait_ready(spec, state)
        if not ready:
            self._fail(state, "UPDATE_FAILED", "Resource did not stabilize")
            return
        scope.refs[logical_id] = state.ref
        scope.attrs[logical_id] = state.attrs
        self._event(state, "UPDATE_COMPLETE")

    def _roll_back_update(
        self,
        previous: tuple[str, dict[str, Any], dict[str, Any]],
        old_states: dict[str, ResourceState],
        touched: dict[str, tuple[str, Existing | None]],
        replaced: list[ResourceState],
    ) -> Body:
        from bluegreen.emulator import timing

        stack = self.stack
        failed_ids = ", ".join(
            r.logical_id for r in stack.resources.values() if r.status.endswith("_FAILED")
        )
        self.engine.stack_status(
            stack,
            "UPDATE_ROLLBACK_IN_PROGRESS",
            f"The following resource(s) failed to update: [{failed_ids}]. "
            if failed_ids
            else self.failed,
        )
        stack.text, stack.template, stack.parameters = previous
        broken = ""
        new_physical: list[ResourceState] = []
        for logical_id, (how, before) in reversed(list(touched.items())):
            current = stack.resources[logical_id]
            if how == "add":
                new_physical.append(current)
                continue
            assert before is not None
            old = old_states[logical_id]
            if how == "replace":
                new_physical.append(
                    ResourceState(
                        logical_id,
                        current.type,
                        current.body,
                        ref=current.ref,
                        attrs=current.attrs,
                        properties=current.properties,
                    )
                )
                stack.resources[logical_id] = old
                self._event(old, "UPDATE_COMPLETE")
                continue
            # Updated in place: update it back to what it was.
            resource = Resource(stack.name, stack.name, logical_id, old.type, old.properties)
            spec = spec_for(resource)
            self._event(current, "UPDATE_IN_PROGRESS")
            update = spec.update
            assert update is not None
            try:
                self._call(partial(update, self.ctx, resource, current.existing()))
            except OperationFailed as exc:
                self._event(current, "UPDATE_FAILED", str(exc))
                broken = broken or str(exc)
                continue
            yield Wait(timing.resource_seconds(current.type, "update"))
            stack.resources[logical_id] = old
            self._event(old, "UPDATE_COMPLETE")
        for state in stack.resources.values():
            if (
                state.status.endswith("_FAILED")
                and state.logical_id not in touched
                and state.logical_id in old_states
            ):
                stack.resources[state.logical_id] = old_states[state.logical_id]
        if broken:
            self.engine.stack_status(stack, "UPDATE_ROLLBACK_FAILED", broken)
            return
        self.engine.stack_status(stack, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        for state in new_physical:
            if stack.resources.get(state.logical_id) is state:
                stack.resources.pop(state.logical_id)
        for logical_id in list(stack.resources):
            if logical_id not in old_states and not stack.resources[logical_id].exists:
                stack.resources.pop(logical_id)
        yield from self._delete_resources(new_physical, set(), cleanup=True)
        self.engine.stack_status(stack, "UPDATE_ROLLBACK_COMPLETE")

    # -- delete -------------------------------------------------------------------------
    def delete(self, retain: set[str]) -> Body:
        stack = self.stack
        self.engine.stack_status(stack, "DELETE_IN_PROGRESS", "User Initiated")
        mine = [o["ExportName"] for o in stack.outputs if o.get("ExportName")]
        for name in mine:
            users = [s for s in self.engine.importers(name) if s != stack.name]
            if users:
                self.engine.stack_status(
                    stack,
                    "DELETE_FAILED",
                    f"Export {name} cannot be deleted as it is in use by {', '.join(users)}",
                )
                return
        ok = yield from self._delete_resources(list(stack.resources.values()), retain)
        if not ok:
            self.engine.stack_status(
                stack,
                "DELETE_FAILED",
                "The following resource(s) failed to delete: ["
                + ", ".join(
                    r.logical_id for r in stack.resources.values() if r.status == "DELETE_FAILED"
                )
                + "]. ",
            )
            return
        stack.outputs = []
        self.engine.stack_status(stack, "DELETE_COMPLETE")
        stack.deleted = self.emulator.now()

    def _delete_resources(
        self, states: list[ResourceState], retain: set[str], cleanup: bool = False
    ) -> Body:
        """Delete ``states`` in reverse dependency order (dependents first), in parallel;
        True when every one went."""
        from bluegreen.emulator import timing

        bodies = {s.logical_id + ("#old" if cleanup else ""): s for s in states}
        by_id = {s.logical_id: key for key, s in bodies.items()}
        needs: dict[str, set[str]] = {key: set() for key in bodies}
        for key, state in bodies.items():
            deps = cfn.references(state.body.get("Properties", {}), {})
            depends_on = state.body.get("DependsOn", [])
            deps |= {depends_on} if isinstance(depends_on, str) else set(depends_on)
            for dep in deps:
                if dep in by_id:
                    needs[by_id[dep]].add(key)  # a dependency goes after its dependents
        failed: list[str] = []

        def make(key: str) -> Callable[[], Body]:
            def work() -> Body:
                state = bodies[key]
                if not state.exists:
                    if not cleanup and state.status:
                        self._event(state, "DELETE_COMPLETE")
                    return
                policy = state.body.get("DeletionPolicy", "Delete")
                if state.logical_id in retain or (policy == "Retain" and not cleanup):
                    self._event(state, "DELETE_SKIPPED")
                    return
                self._event(state, "DELETE_IN_PROGRESS")
                spec = spec_for(
                    Resource(self.stack.name, self.stack.name, state.logical_id, state.type, {})
                )
                delete = spec.delete
                if delete is not None:
                    try:
                        self._call(lambda: delete(self.ctx, state.existing()))
                    except OperationFailed as exc:
                        self._event(state, "DELETE_FAILED", str(exc))
                        failed.append(key)
                        return
                yield Wait(timing.resource_seconds(state.type, "delete"))
                if spec.gone is not None:
                    existing, waited = state.existing(), 0.0
                    while not self._safe_ready(spec.gone, existing):
                        if waited >= timing.STABILIZATION_TIMEOUT:
                            self._event(state, "DELETE_FAILED", "Resource did not stabilize")
                            failed.append(key)
                            return
                        yield Wait(timing.STABILIZATION_POLL)
                        waited += timing.STABILIZATION_POLL
                state.ref = None
                self._event(state, "DELETE_COMPLETE")

            return work

        saved, self.failed = self.failed, ""
        yield from self._parallel({key: make(key) for key in bodies}, needs)
        self.failed = saved
        return not failed


# ------------------------------------------------------------------------------ helpers


def _uuid(seed: str) -> str:
    return str(uuid.UUID(hashlib.sha256(seed.encode()).hexdigest()[:32]))


def _message(exc: BaseException) -> str:
    return str(getattr(exc, "message", None) or exc)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)


def _imports(template: dict[str, Any]) -> set[str]:
    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if (
                len(node) == 1
                and "Fn::ImportValue" in node
                and isinstance(node["Fn::ImportValue"], str)
            ):
                found.add(node["Fn::ImportValue"])
                return
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(template.get("Resources", {}))
    walk(template.get("Outputs", {}))
    return found


_BODY_KEYS = (
    "Properties",
    "DependsOn",
    "Metadata",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "Condition",
)


def _same_body(old: dict[str, Any], new: dict[str, Any]) -> bool:
    return all(_canonical(old.get(k)) == _canonical(new.get(k)) for k in _BODY_KEYS)


def _changed_properties(old: dict[str, Any], new: dict[str, Any]) -> set[str] | None:
    """Top-level properties whose template text changed (None: the resource is unchanged;
    an empty set: only DependsOn, Metadata or policies changed)."""
    if _same_body(old, new):
        return None
    before = old.get("Properties") or {}
    after = new.get("Properties") or {}
    return {
        key
        for key in set(before) | set(after)
        if _canonical(before.get(key)) != _canonical(after.get(key))
    }


def _changed_values(old: dict[str, Any], new: dict[str, Any]) -> set[str]:
    return {
        key for key in set(old) | set(new) if _canonical(old.get(key)) != _canonical(new.get(key))
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _change(
    action: str,
    logical_id: str,
    resource_type: str,
    physical_id: Any = None,
    replacement: str | None = None,
    changed: Iterable[str] = (),
) -> dict[str, Any]:
    change: dict[str, Any] = {
        "Action": action,
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
    }
    if physical_id is not None:
        change["PhysicalResourceId"] = str(physical_id)
    if action == "Modify":
        create_only = schema.create_only(resource_type)
        change["Replacement"] = replacement or "False"
        change["Scope"] = ["Properties"]
        change["Details"] = [
            {
                "Target": {
                    "Attribute": "Properties",
                    "Name": name,
                    "RequiresRecreation": "Always" if name in create_only else "Never",
                },
                "Evaluation": "Static",
                "ChangeSource": "DirectModification",
            }
            for name in sorted(changed)
        ]
    return {"Type": "Resource", "ResourceChange": change}
