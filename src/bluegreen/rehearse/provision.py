"""Provision synthesized stacks into the emulator, in deploy order, as CloudFormation would.

For each template: parameters take their defaults, conditions are evaluated, resources
are created in dependency order (Ref, Fn::GetAtt, Fn::Sub variables and DependsOn), each
by its provisioner, and outputs with exports are evaluated so later stacks can
Fn::ImportValue them. The result, :class:`System`, is the provisioned system's map from
logical ids to physical ids; all *state* is read back from the emulator later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bluegreen.aws.session import Clients
from bluegreen.emulator.cloudformation import template as cfn
from bluegreen.emulator.cloudformation.resources import Context, Resource, spec_for
from bluegreen.errors import AwsError, RehearsalError


@dataclass(frozen=True)
class TemplateFile:
    """One synthesized template: the stack it deploys as and the file's text."""

    stack: str
    filename: str
    text: str


@dataclass
class Created:
    """A provisioned resource: what it is and what it answers to Ref/GetAtt."""

    stack: str
    filename: str
    logical_id: str
    type: str
    ref: Any
    attrs: dict[str, Any]
    properties: dict[str, Any]


@dataclass
class System:
    """Every provisioned resource and every export, across the stacks."""

    resources: list[Created] = field(default_factory=list)
    exports: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    def of_type(self, resource_type: str) -> list[Created]:
        return [r for r in self.resources if r.type == resource_type]

    def one(self, resource_type: str) -> Created:
        found = self.of_type(resource_type)
        if len(found) != 1:
            raise RehearsalError(
                f"the rehearsal plays a system with exactly one {resource_type}; "
                f"the templates have {len(found)}"
            )
        return found[0]

    def by_ref(self, resource_type: str, ref: Any) -> Created:
        for created in self.of_type(resource_type):
            if created.ref == ref:
                return created
        raise RehearsalError(f"no {resource_type} named {ref!r} in the templates")


Progress = Callable[[str], None]


def provision(
    clients: Clients,
    region: str,
    account_id: str,
    templates: list[TemplateFile],
    progress: Progress | None = None,
) -> System:
    """Create every resource of ``templates`` (in the given stack order) in the emulator."""
    system = System()
    ctx = Context(clients=clients, region=region, account_id=account_id)
    zones = clients.ec2.describe_availability_zones()["AvailabilityZones"]
    azs = sorted(zone["ZoneName"] for zone in zones if zone.get("State") == "available")
    for item in templates:
        count = _stack(ctx, item, system, azs)
        if progress:
            progress(f"provisioned {item.filename} as {item.stack}: {count} resources")
    return system


def _stack(ctx: Context, item: TemplateFile, system: System, azs: list[str]) -> int:
    data = cfn.load(item.text, item.filename)
    pseudo = {
        "AWS::Region": ctx.region,
        "AWS::AccountId": ctx.account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": item.stack,
        "AWS::StackId": ctx.arn("cloudformation", f"stack/{item.stack}/rehearsal"),
        "AWS::NotificationARNs": [],
    }
    scope = cfn.Scope(
        filename=item.filename,
        pseudo=pseudo,
        exports=system.exports,
        mappings=data.get("Mappings", {}),
        azs=azs,
    )
    for name, parameter in (data.get("Parameters") or {}).items():
        if "Default" not in parameter:
            raise RehearsalError(
                f"{item.filename}: parameter {name} has no default; the rehearsal deploys "
                "the templates as synthesized, without parameters"
            )
        scope.refs[name] = parameter["Default"]
    for name, expression in (data.get("Conditions") or {}).items():
        scope.where = f"condition {name}"
        scope.conditions[name] = bool(cfn.evaluate(expression, scope))

    resources: dict[str, dict[str, Any]] = data["Resources"]
    created = 0
    for logical_id in cfn.order(resources, item.filename):
        body = resources[logical_id]
        condition = body.get("Condition")
        if condition is not None and not cfn.condition(condition, scope):
            continue
        scope.where = logical_id
        properties = cfn.evaluate(body.get("Properties") or {}, scope)
        resource = Resource(item.stack, item.filename, logical_id, body["Type"], properties)
        spec = spec_for(resource)
        try:
            result = spec.create(ctx, resource)
        except AwsError as exc:
            raise RehearsalError(
                f"{resource.where()}: {exc.message}",
                hint=exc.hint,
            ) from exc
        except (KeyError, TypeError, ValueError) as exc:
            raise resource.fail(f"malformed properties ({type(exc).__name__}: {exc})") from exc
        scope.refs[logical_id] = result.ref
        scope.attrs[logical_id] = result.attrs
        system.resources.append(
            Created(
                item.stack,
                item.filename,
                logical_id,
                body["Type"],
                result.ref,
                result.attrs,
                properties,
            )
        )
        created += 1

    outputs: dict[str, Any] = {}
    for key, output in (data.get("Outputs") or {}).items():
        condition = output.get("Condition")
        if condition is not None and not cfn.condition(condition, scope):
            continue
        scope.where = f"output {key}"
        value = cfn.evaluate(output["Value"], scope)
        outputs[key] = value
        if "Export" in output:
            export = cfn.evaluate(output["Export"]["Name"], scope)
            if export in system.exports:
                raise RehearsalError(f"{item.filename}: export {export} is already exported")
            system.exports[export] = value
    system.outputs[item.stack] = outputs
    return created
