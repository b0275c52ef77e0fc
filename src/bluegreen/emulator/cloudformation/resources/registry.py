"""The resource handlers of the emulated CloudFormation: one set per resource type.

A handler turns one resource's evaluated properties into API calls against the
emulated AWS, as CloudFormation's own resource handlers do, and returns what ``Ref`` and
``Fn::GetAtt`` give for it: ``create`` makes the resource, ``update`` changes it in place
(properties whose change replaces the resource never reach it: see
:mod:`bluegreen.emulator.cloudformation.schema`), ``delete`` removes it. Each type
declares the properties it plays and the ones it knowingly leaves out (with the reason),
so a property nobody thought about is an error naming the template, resource and
property, never a silent no-op. A type without an ``update`` fails an in-place change
with a message saying so, rather than pretending it was made.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from bluegreen.aws.session import Clients
from bluegreen.errors import RehearsalError


@dataclass
class Resource:
    """One template resource with its properties already evaluated."""

    stack: str
    filename: str
    logical_id: str
    type: str
    properties: dict[str, Any]

    def where(self) -> str:
        return f"{self.filename}: {self.logical_id} ({self.type})"

    def fail(self, message: str) -> RehearsalError:
        return RehearsalError(f"{self.where()}: {message}")


@dataclass
class Provisioned:
    """What a created resource answers to ``Ref`` and ``Fn::GetAtt``."""

    ref: Any
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Existing:
    """A resource as it exists: its physical id, attributes and the properties applied."""

    logical_id: str
    type: str
    ref: Any
    attrs: dict[str, Any]
    properties: dict[str, Any]


@dataclass
class Context:
    """What every provisioner may use: the emulator's clients and the account."""

    clients: Clients
    region: str
    account_id: str
    emulator: Any = None
    """The emulator itself, for what is not an API call (a Lambda function's code run in
    process: bluegreen.verification.emulated)."""

    def physical_name(self, resource: Resource, limit: int = 64, lower: bool = False) -> str:
        """A name for a resource the template leaves unnamed, as CloudFormation makes one
        (``<stack>-<logical id>-<suffix>``), but deterministic."""
        digest = hashlib.sha256(f"{resource.stack}/{resource.logical_id}".encode()).hexdigest()
        suffix = digest[:12].upper()
        base = f"{resource.stack}-{resource.logical_id}"[: limit - len(suffix) - 1]
        name = f"{base}-{suffix}"
        return name.lower() if lower else name

    def arn(self, service: str, resource: str, region: bool = True) -> str:
        where = self.region if region else ""
        return f"arn:aws:{service}:{where}:{self.account_id}:{resource}"


Create = Callable[[Context, Resource], Provisioned]
Update = Callable[[Context, Resource, Existing], Provisioned]
Delete = Callable[[Context, Existing], None]
Ready = Callable[[Context, Existing], bool]


@dataclass
class Spec:
    type: str
    properties: frozenset[str]
    ignored: Mapping[str, str]
    create: Create
    name_property: str | None = None
    update: Update | None = None
    delete: Delete | None = None
    ready: Ready | None = None
    gone: Ready | None = None


REGISTRY: dict[str, Spec] = {}


def provisioner(
    resource_type: str,
    properties: str,
    ignored: Mapping[str, str] | None = None,
    *,
    name: str | None = None,
) -> Callable[[Create], Create]:
    """Register ``create`` for ``resource_type``; ``properties`` is a space-separated
    list of the properties it plays, ``ignored`` maps others to why they don't matter.
    ``name`` is the property giving the resource a custom name, unique in the account:
    CloudFormation cannot replace such a resource while the name stays the same."""

    def register(create: Create) -> Create:
        REGISTRY[resource_type] = Spec(
            resource_type, frozenset(properties.split()), dict(ignored or {}), create, name
        )
        return create

    return register


def updater(resource_type: str) -> Callable[[Update], Update]:
    """Register the in-place update of ``resource_type`` (after its provisioner)."""

    def register(update: Update) -> Update:
        REGISTRY[resource_type].update = update
        return update

    return register


def deleter(resource_type: str) -> Callable[[Delete], Delete]:
    """Register the deletion of ``resource_type`` (after its provisioner)."""

    def register(delete: Delete) -> Delete:
        REGISTRY[resource_type].delete = delete
        return delete

    return register


def deletion(resource_type: str) -> Callable[[Ready], Ready]:
    """Register what CloudFormation waits for after deleting the resource (an ECS service
    draining to INACTIVE), checked as the emulated AWS moves on."""

    def register(gone: Ready) -> Ready:
        REGISTRY[resource_type].gone = gone
        return gone

    return register


def readiness(resource_type: str) -> Callable[[Ready], Ready]:
    """Register what CloudFormation waits for after creating or updating the resource
    (an ECS service's stability), checked as the emulated AWS moves on."""

    def register(ready: Ready) -> Ready:
        REGISTRY[resource_type].ready = ready
        return ready

    return register


def spec_for(resource: Resource) -> Spec:
    spec = REGISTRY.get(resource.type)
    if spec is None:
        raise RehearsalError(
            f"{resource.filename}: {resource.logical_id} has type {resource.type}, which the "
            "rehearsal cannot provision",
            hint="add a provisioner in bluegreen/rehearse/resources/ (or drop the resource)",
        )
    unknown = sorted(set(resource.properties) - spec.properties - set(spec.ignored))
    if unknown:
        raise resource.fail(
            f"the rehearsal does not play the propert{'ies' if len(unknown) > 1 else 'y'} "
            f"{', '.join(unknown)}; teach its provisioner (bluegreen/rehearse/resources/) "
            "what they do rather than letting them pass unseen"
        )
    return spec


# --------------------------------------------------------------------------- key shapes

# Properties whose value is a free-form map: their keys are data, not field names.
_OPAQUE = frozenset({"Options", "DockerLabels", "Configuration"})
_SPECIAL = {"ECSServices": "ecsServices"}


def camel(value: Any) -> Any:
    """CloudFormation's PascalCase keys to the camelCase most JSON APIs use
    (ECS, CodeBuild, CodeDeploy, CodePipeline); free-form maps are left alone."""
    if isinstance(value, list):
        return [camel(item) for item in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, item in value.items():
        new = _SPECIAL.get(key) or (key[:1].lower() + key[1:])
        out[new] = item if key in _OPAQUE else camel(item)
    return out


def tags(props: Mapping[str, Any], lower: bool = False) -> list[dict[str, str]]:
    """CloudFormation Tags as the API's list, ``key``/``value`` when ``lower``."""
    k, v = ("key", "value") if lower else ("Key", "Value")
    return [{k: str(t["Key"]), v: str(t["Value"])} for t in props.get("Tags", [])]


def tag_arg(props: Mapping[str, Any], name: str = "Tags", lower: bool = False) -> dict[str, Any]:
    """``{name: tags}`` when the resource has tags, else nothing (APIs reject empty lists)."""
    found = tags(props, lower)
    return {name: found} if found else {}


def pick(props: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The given properties that are present, keys unchanged."""
    return {name: props[name] for name in names if name in props}
