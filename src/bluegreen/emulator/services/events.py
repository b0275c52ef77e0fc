"""EventBridge: rules and targets in moto; matching and delivery here.

moto keeps rules and targets (PutRule, PutTargets, ListRules, ListTargetsByRule, ...).
This service adds what moto lacks for this system:

- PutRule's pattern is checked as EventBridge checks it (InvalidEventPatternException,
  :mod:`bluegreen.emulator.eventpattern`), then moto stores the rule;
- :meth:`Events.emit` is how AWS services (the emulated CodeCommit) send their events;
  PutEvents and TestEventPattern use the same matching;
- every ENABLED rule of the bus whose pattern matches an event gets it delivered to its
  targets. A CodePipeline target is started with StartPipelineExecution acting as the
  target's RoleArn (a pipeline target needs a role: EventBridge user guide, "Amazon
  EventBridge targets"; CodePipeline user guide, "CodeCommit source actions and
  EventBridge"), and the execution's trigger says so: CloudWatchEvent, with the rule's
  ARN as its detail. A CodeBuild project target is started with StartBuild acting as
  the target's RoleArn, the target's input (Input, InputPath, InputTransformer, else
  the whole event: :func:`target_input`) being the request (the branch checks of
  builds.branches). Other target types are recorded as not delivered.

Every delivery attempt is recorded in :attr:`Events.deliveries`, as EventBridge's
Invocations / FailedInvocations metrics would count them.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Generator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from bluegreen.emulator import authz, eventpattern, internal, timing
from bluegreen.emulator.clock import Wait
from bluegreen.emulator.core import Emulator
from bluegreen.emulator.service import PASS, Call, Params, Result, Service, ServiceError, operation
from bluegreen.emulator.services.codepipeline import CodePipeline

# TestEventPattern's Event "must follow the format specified in AWS Events, and the
# following fields are mandatory: id, account, source, time, region, resources,
# detail-type" (EventBridge API reference, TestEventPattern).
_TEST_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


@dataclass(frozen=True)
class Delivery:
    """One attempt to deliver an event to a rule's target."""

    time: datetime
    event_id: str
    rule: str
    target: str
    arn: str
    delivered: bool
    detail: str
    """The started execution's id, or why the delivery failed."""


class Events(Service):
    name = "events"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.deliveries: list[Delivery] = []
        self.emitted: list[dict[str, Any]] = []
        """Every event put on a bus, in order (what a catch-all rule would see)."""
        self._count = 0

    # ==================================================================== Python API
    def emit(self, event: dict[str, Any], bus: str = "default") -> str:
        """Put an AWS service's event on ``bus``; deliver it to the matching rules.

        ``event`` needs ``source``, ``detail-type`` and ``detail``; the envelope
        (version, id, time, account, region, resources) is filled in. Returns the id.
        """
        self._count += 1
        full = {
            "version": "0",
            "id": internal.stable_uuid("events", self.account_id, self._count),
            "detail-type": event["detail-type"],
            "source": event["source"],
            "account": self.account_id,
            "time": self.emulator.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": list(event.get("resources", [])),
            "detail": event.get("detail", {}),
        }
        self.emitted.append(full)
        matched = self.matching_rules(full, bus)
        if matched:
            self.emulator.clock.spawn(f"events: deliver {full['id']}", self._deliver(full, matched))
        return str(full["id"])

    def matching_rules(self, event: dict[str, Any], bus: str = "default") -> list[Any]:
        """moto's rules of ``bus`` that are enabled and whose pattern matches ``event``."""
        backend = self.emulator.backend("events")
        found = backend.event_buses.get(bus)
        if found is None:
            return []
        matched = []
        for rule in found.rules.values():
            raw = rule.event_pattern.dump() if rule.event_pattern else None
            if not str(rule.state).startswith("ENABLED") or not raw:
                continue
            try:
                pattern = eventpattern.parse(raw)
            except eventpattern.PatternError:
                continue  # stored before bluegreen checked patterns; EventBridge has none
            if eventpattern.matches(pattern, event):
                matched.append(rule)
        return matched

    # ==================================================================== operations
    @operation("PutRule")
    def put_rule(self, params: Params, call: Call) -> Result:
        raw = params.get("EventPattern")
        if raw:
            _checked(raw)
        result: Result = PASS
        return result

    @operation("TestEventPattern")
    def test_event_pattern(self, params: Params, call: Call) -> Result:
        pattern = _checked(params.get("EventPattern") or "")
        try:
            event = json.loads(params.get("Event") or "")
        except json.JSONDecodeError:
            raise ServiceError("InvalidEventPatternException", "Event is not valid JSON.") from None
        if not isinstance(event, dict):
            raise ServiceError("ValidationException", "Parameter Event is not valid.")
        missing = [key for key in _TEST_EVENT_FIELDS if key not in event]
        if missing:
            raise ServiceError(
                "ValidationException",
                f"Parameter Event is not valid. Reason: Provided Event must have {missing[0]}",
            )
        return {"Result": eventpattern.matches(pattern, event)}

    @operation("PutEvents")
    def put_events(self, params: Params, call: Call) -> Result:
        results: list[dict[str, Any]] = []
        for entry in params.get("Entries") or []:
            error = _entry_error(entry)
            if error:
                results.append({"ErrorCode": error[0], "ErrorMessage": error[1]})
                continue
            bus = str(entry.get("EventBusName") or "default").rsplit("/", 1)[-1]
            event_id = self.emit(
                {
                    "source": entry["Source"],
                    "detail-type": entry["DetailType"],
                    "resources": entry.get("Resources") or [],
                    "detail": json.loads(entry["Detail"]),
                },
                bus,
            )
            results.append({"EventId": event_id})
        failed = sum(1 for r in results if "ErrorCode" in r)
        return {"FailedEntryCount": failed, "Entries": results}

    # ==================================================================== delivery
    def _deliver(self, event: dict[str, Any], rules: list[Any]) -> Generator[Wait, Any, None]:
        yield Wait(timing.EVENT_DELIVERY)
        for rule in rules:
            for target in list(rule.targets):
                self.deliveries.append(self._one(event, rule, target))

    def _one(self, event: dict[str, Any], rule: Any, target: dict[str, Any]) -> Delivery:
        arn = str(target.get("Arn", ""))
        role = target.get("RoleArn")

        def record(delivered: bool, detail: str) -> Delivery:
            return Delivery(
                self.emulator.now(),
                event["id"],
                rule.name,
                str(target.get("Id")),
                arn,
                delivered,
                detail,
            )

        if arn.startswith("arn:aws:codepipeline:"):
            if not role:
                return record(False, "a CodePipeline target needs a RoleArn")
            name = arn.rsplit(":", 1)[-1]
            # EventBridge assumes the target's role (its trust policy must allow
            # events.amazonaws.com; the source is the rule): issue 9,
            # bluegreen.emulator.authz. AWS shows a failed invocation only in the rule's
            # FailedInvocations metric.
            if not authz.authorizer(self.emulator).assume(
                str(role), "events.amazonaws.com", str(rule.arn)
            ):
                return record(False, f"EventBridge cannot assume role {role}")
            client = internal.client(self.emulator, "codepipeline", str(role))
            pipelines = self.emulator.services.get("codepipeline")
            attribution: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
            if isinstance(pipelines, CodePipeline):
                attribution = pipelines.triggered_by("CloudWatchEvent", rule.arn)
            try:
                with attribution:
                    started = client.start_pipeline_execution(name=name)
            except ClientError as exc:
                error = exc.response.get("Error", {})
                return record(False, f"{error.get('Code')}: {error.get('Message')}")
            return record(True, str(started["pipelineExecutionId"]))
        if arn.startswith("arn:aws:codebuild:") and ":project/" in arn:
            return self._start_build(event, rule, target, arn, role, record)
        return record(
            False, "the emulated EventBridge delivers to CodePipeline and CodeBuild targets only"
        )

    def _start_build(
        self,
        event: dict[str, Any],
        rule: Any,
        target: dict[str, Any],
        arn: str,
        role: Any,
        record: Any,
    ) -> Delivery:
        """A CodeBuild project target: StartBuild acting as the target's role, with the
        target's input as the request ("The event to send to CodeBuild. This will be the
        payload for the StartBuild API": aws-cdk aws_events_targets.CodeBuildProject, the
        construct that wires this target). Members StartBuild does not have are left out
        (the whole event, the default input, has none of them)."""
        if not role:
            # "EventBridge needs a role to start a CodeBuild build" (EventBridge user
            # guide, "Amazon EventBridge targets": CodeBuild projects are among the
            # targets that need an IAM role); conservative: refused without one.
            result: Delivery = record(False, "a CodeBuild target needs a RoleArn")
            return result
        if not authz.authorizer(self.emulator).assume(
            str(role), "events.amazonaws.com", str(rule.arn)
        ):
            result = record(False, f"EventBridge cannot assume role {role}")
            return result
        try:
            payload = target_input(event, target, str(rule.arn), str(rule.name))
        except ValueError as exc:
            result = record(False, f"input transformation failed: {exc}")
            return result
        client = internal.client(self.emulator, "codebuild", str(role))
        members = client.meta.service_model.operation_model("StartBuild").input_shape.members
        request = {k: v for k, v in payload.items() if k in members and k != "projectName"}
        try:
            started = client.start_build(projectName=arn.rsplit("/", 1)[-1], **request)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            result = record(False, f"{error.get('Code')}: {error.get('Message')}")
            return result
        result = record(True, str(started["build"]["id"]))
        return result


def _path(event: dict[str, Any], path: str) -> Any:
    """A JSON path of EventBridge's subset ("dot notation", EventBridge user guide,
    "Amazon EventBridge input transformation"): ``$`` or ``$.a.b``; missing: None."""
    if path == "$":
        return event
    if not path.startswith("$."):
        raise ValueError(f"invalid JSON path {path!r}")
    node: Any = event
    for part in path[2:].split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node


_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")


def target_input(
    event: dict[str, Any], target: dict[str, Any], rule_arn: str = "", rule_name: str = ""
) -> dict[str, Any]:
    """What a target receives (EventBridge API reference, Target: Input, InputPath,
    InputTransformer; else the whole event), as a JSON object.

    InputTransformer: each ``<name>`` of InputTemplate is replaced by the value of its
    InputPathsMap path, or a predefined variable (``aws.events.rule-arn``,
    ``aws.events.rule-name``). In a JSON template, a placeholder outside quotes is
    inserted as a JSON value (a string with its quotes) and one inside a string as its
    raw text (API reference, InputTransformer, "valid JSON with variables in quotes or
    out"). A value a path does not find is null.
    """
    if target.get("Input"):
        return _object(json.loads(str(target["Input"])))
    if target.get("InputPath"):
        return _object(_path(event, str(target["InputPath"])))
    transformer = target.get("InputTransformer")
    if not transformer:
        return event
    values: dict[str, Any] = {
        name: _path(event, str(path))
        for name, path in (transformer.get("InputPathsMap") or {}).items()
    }
    values.setdefault("aws.events.rule-arn", rule_arn)
    values.setdefault("aws.events.rule-name", rule_name)
    template = str(transformer.get("InputTemplate") or "")
    out: list[str] = []
    last = 0
    for match in _PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name not in values:
            continue
        out.append(template[last : match.start()])
        value = values[name]
        quoted = _in_string(template, match.start())
        if quoted:
            out.append(json.dumps(value if isinstance(value, str) else json.dumps(value))[1:-1])
        else:
            out.append(json.dumps(value))
        last = match.end()
    out.append(template[last:])
    return _object(json.loads("".join(out)))


def _in_string(text: str, index: int) -> bool:
    """Whether ``index`` of JSON ``text`` is inside a string literal."""
    inside = False
    escaped = False
    for char in text[:index]:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = inside
        elif char == '"':
            inside = not inside
    return inside


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("the target's input is not a JSON object")
    return value


def _checked(raw: str) -> dict[str, Any]:
    try:
        return eventpattern.parse(raw)
    except eventpattern.PatternError as exc:
        # moto's text for the same exception: "Event pattern is not valid. Reason: ..."
        raise ServiceError(
            "InvalidEventPatternException", f"Event pattern is not valid. Reason: {exc}"
        ) from None


def _entry_error(entry: dict[str, Any]) -> tuple[str, str] | None:
    for key in ("Source", "DetailType", "Detail"):
        if not entry.get(key):
            return (
                "InvalidArgument",
                f"Parameter {key} is not valid. Reason: {key} is a required argument.",
            )
    if str(entry["Source"]).startswith("aws."):
        # Only AWS services put events with an aws.* source (EventBridge user guide,
        # "Sending events with PutEvents": NotAuthorizedForSourceException).
        return "NotAuthorizedForSourceException", "Not authorized for the source."
    try:
        detail = json.loads(entry["Detail"])
    except json.JSONDecodeError:
        return "MalformedDetail", "Detail is malformed."
    if not isinstance(detail, dict):
        return "MalformedDetail", "Detail is malformed."
    return None
