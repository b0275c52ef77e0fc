"""What a stack update may change once the service exists (a CODE_DEPLOY service, or an
ECS-controlled one under ECS built-in blue/green), and what it may not.

Once the service stack has run, CodeDeploy owns the service: every release registers a new
task-definition revision, creates and removes task sets, and points the listeners at the
blue or the green target group. CloudFormation knows none of that, and an update of the
service stack must not undo it or trip over it:

* The ECS service is kept in the template exactly as deployed. CloudFormation's
  AWS::ECS::Service update handler sends every property to UpdateService, and ECS refuses
  the task definition, load balancers, network configuration and platform version of a
  CODE_DEPLOY service, so any update of the resource fails, and its rollback (the same
  call) can fail too, leaving the stack in UPDATE_ROLLBACK_FAILED (aws/aws-cdk#23564, the
  comment by clareliguori, an AWS engineer: "the CloudFormation handler always fills in
  all parameters in the ECS UpdateService API call"; pulumi/pulumi-aws#1961 for the
  network configuration; aws-cloudformation/cloudformation-coverage-roadmap#1529 for a
  desired-count change). What UpdateService does accept for a CODE_DEPLOY service (the
  ECS API reference of UpdateService: "only the desired count, deployment configuration,
  health check grace period, task placement constraints and strategies, enable ECS
  managed tags option, and propagate tags can be updated") is returned in
  ``out_of_band`` for :mod:`bluegreen.aws.deploy` to apply with UpdateService directly.
  The same holds for an ECS-controlled service (deployment.engine = "ecs"): ECS owns its
  task definition and its listener rules, so a CloudFormation update of it would deploy
  the template's bootstrap revision; what UpdateService takes for it without a new
  revision ("For services using the rolling update (ECS) you can update the desired
  count, deployment configuration, ...": the same reference) is applied out of band too.
  A DeploymentConfiguration change (deployment.ecs.*, deployment.wait_minutes,
  deployment.reroute, deployment.auto_rollback) thus reaches ECS with UpdateService's
  ``deploymentConfiguration``, which "doesn't trigger a new service deployment"
  (UpdateService request, deploymentConfiguration, botocore's ECS model): the next
  release's service deployment runs under it. A DeploymentConfiguration that names
  resources of the stack ([verify]'s Lambda lifecycle hook and the role ECS invokes it
  with) goes out of band too when each such reference is an output of the stack
  (:func:`through_outputs`): ``deploy`` reads the outputs once the stack update has
  made them. Hooks that go are removed before the stack update deletes their function;
  what the service's entry, kept as deployed, still names stays in the template
  (:func:`_carry_named`).
* The task definition is kept as deployed: CodeDeploy owns the running revision; a task
  change reaches AWS through taskdef.json and the next release.
* The listeners keep their deployed default actions (CodeDeploy moved them), and any
  other change to a listener is refused: updating the resource would send the template's
  forward action with it and move production to whichever target group the template
  names (aws/aws-cdk#36649: a stack update resets listener rule actions that a blue/green
  deployment moved).
* Nothing the service, a listener or a target group depends on may be replaced: a new
  subnet, security group, target group, load balancer or task definition changes the
  service's network, load balancers or task definition (refused, as above), and the
  target groups and the load balancer have fixed names, which CloudFormation cannot
  replace ("CloudFormation cannot update a stack when a custom-named resource requires
  replacing", AWS::ElasticLoadBalancingV2::TargetGroup Name). Whether a change replaces
  a resource is read from the resource provider schemas cfn-lint ships
  (``createOnlyProperties``: a change to one of them replaces the resource), and a
  replacement propagates to every resource whose create-only properties refer to it.

Refused changes raise :class:`UsageError` before anything is changed, naming each one
and the settings that usually cause it.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from bluegreen.errors import UsageError

SERVICE = "AWS::ECS::Service"
TASK_DEFINITION = "AWS::ECS::TaskDefinition"
LISTENER = "AWS::ElasticLoadBalancingV2::Listener"
LISTENER_RULE = "AWS::ElasticLoadBalancingV2::ListenerRule"
TARGET_GROUP = "AWS::ElasticLoadBalancingV2::TargetGroup"

OUT_OF_BAND = {
    "DesiredCount": "desiredCount",
    "HealthCheckGracePeriodSeconds": "healthCheckGracePeriodSeconds",
    "DeploymentConfiguration": "deploymentConfiguration",
}
"""Service properties UpdateService accepts on a CODE_DEPLOY service and on an ECS-
controlled one without a new task definition -> its parameter (UpdateService, ECS API
reference: "only the desired count, deployment configuration, health check grace period,
..." for CODE_DEPLOY; "the desired count, deployment configuration, ..." for ECS)."""

CONTROLLERS = {
    "CODE_DEPLOY": "a CODE_DEPLOY service",
    "ECS": "an ECS-controlled service (built-in blue/green)",
}
"""How a refusal names the live service, by its deployment controller."""

# The settings of bluegreen.toml behind a changed property, for the refusal's hint.
_SETTINGS = {
    ("AWS::EC2::VPC", "CidrBlock"): "network.vpc_cidr",
    ("AWS::EC2::Subnet", "CidrBlock"): "network.vpc_cidr",
    (TARGET_GROUP, "Port"): "app.port",
    (LISTENER, "Port"): "listeners.production_port, listeners.test_port",
    (SERVICE, "LoadBalancers"): "app.name, app.port",
    (SERVICE, "NetworkConfiguration"): "network.vpc_cidr",
}

_SUB_NAME = re.compile(r"\$\{([^}!][^}]*)\}")


@dataclass
class Kept:
    """The template to send, what was kept and why, and the out-of-band service changes."""

    template: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    out_of_band: dict[str, Any] = field(default_factory=dict)
    """Service property -> the value bluegreen.toml asks for (UpdateService applies it)."""


@functools.cache
def create_only(resource_type: str, region: str) -> frozenset[str] | None:
    """The top-level properties whose change replaces a ``resource_type``, from the
    cfn-lint resource schema; None when the schema is unknown (treated as all)."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

    for where in (region, "us-east-1"):
        try:
            schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema(where, resource_type).schema
        except Exception:  # cfn-lint raises KeyError or ResourceNotFoundError when unknown
            continue
        pointers = schema.get("createOnlyProperties", []) or []
        return frozenset(p.split("/")[2] for p in pointers if p.startswith("/properties/"))
    return None


def references(value: Any) -> Iterator[str]:
    """The logical ids ``value`` refers to with Ref, Fn::GetAtt or Fn::Sub."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref" and isinstance(inner, str):
                if not inner.startswith("AWS::"):
                    yield inner
            elif key == "Fn::GetAtt":
                target = inner[0] if isinstance(inner, list) else str(inner).split(".")[0]
                yield str(target)
            elif key == "Fn::Sub":
                text, names = (inner[0], inner[1]) if isinstance(inner, list) else (inner, {})
                for name in _SUB_NAME.findall(str(text)):
                    base = name.split(".")[0]
                    if base not in names and not base.startswith("AWS::"):
                        yield base
                yield from references(names)
            else:
                yield from references(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from references(inner)


def _props(resource: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = resource.get("Properties", {}) or {}
    return props


def _depends(resource: dict[str, Any]) -> list[str]:
    depends = resource.get("DependsOn", [])
    return [depends] if isinstance(depends, str) else list(depends)


@dataclass(frozen=True)
class Replacement:
    """Why CloudFormation would replace (or remove) a resource, down to the root change."""

    reason: str
    cause: tuple[str, str] = ("", "")  # (type, property) of the change that starts it
    root: str = ""  # that change, when the replacement is inherited

    @property
    def setting(self) -> str:
        """The bluegreen.toml settings behind the root change, when known."""
        return _SETTINGS.get(self.cause, "")


def replacements(
    deployed: dict[str, Any], new: dict[str, Any], region: str
) -> dict[str, Replacement]:
    """Logical id -> why CloudFormation would replace (or remove) it going from
    ``deployed`` to ``new``."""
    old = deployed.get("Resources", {})
    res = new.get("Resources", {})
    why: dict[str, Replacement] = {}
    for logical_id, before in old.items():
        after = res.get(logical_id)
        if after is None:
            why[logical_id] = Replacement("it is no longer in the template")
        elif after.get("Type") != before.get("Type"):
            why[logical_id] = Replacement(f"its type changes to {after.get('Type')}")
        else:
            fixed = create_only(after["Type"], region)
            a, b = _props(after), _props(before)
            for key in sorted(set(a) | set(b)):
                if a.get(key) != b.get(key) and (fixed is None or key in fixed):
                    why[logical_id] = Replacement(
                        f"{key} {_show(b.get(key))} -> {_show(a.get(key))}", (after["Type"], key)
                    )
                    break
    changed = True
    while changed:  # a replaced resource gets a new id: create-only refs to it replace too
        changed = False
        for logical_id, after in res.items():
            if logical_id in why or logical_id not in old:
                continue
            fixed = create_only(after["Type"], region)
            for key, value in _props(after).items():
                if fixed is not None and key not in fixed:
                    continue
                hit = next((r for r in references(value) if r in why), None)
                if hit is not None:
                    first = why[hit]
                    root = first.root or f"{hit} {first.reason}"
                    why[logical_id] = Replacement(
                        f"its {key} refers to {hit}, replaced too", first.cause, root
                    )
                    changed = True
                    break
    return why


def _show(value: Any) -> str:
    if value is None:
        return "(none)"
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, dict) and "lifecycleStages" in v for v in value)
    ):
        # ECS lifecycle hooks: what each does where ("AWS_LAMBDA at POST_TEST_...").
        return ", ".join(
            f"{v.get('targetType') or 'AWS_LAMBDA'} at {'/'.join(v['lifecycleStages'])}"
            for v in value
        )
    if isinstance(value, dict | list):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    return str(value)


def keep_codedeploy_owned(
    deployed: dict[str, Any], new: dict[str, Any], region: str = "us-east-1"
) -> Kept:
    """``new`` with what CodeDeploy owns kept as ``deployed`` has it (module docstring).

    Raises UsageError (nothing changed) for a change that cannot be made in place.
    """
    new = copy.deepcopy(new)
    old = deployed.get("Resources", {})
    res = new.get("Resources", {})
    kept = Kept(new)
    problems: list[str] = []
    protected: list[str] = []
    controller = "CODE_DEPLOY"
    for logical_id, resource in list(res.items()):
        before = old.get(logical_id)
        if before is None or before.get("Type") != resource.get("Type"):
            continue
        kind = resource["Type"]
        props, old_props = _props(resource), _props(before)
        if kind == SERVICE:
            _refuse_engine_switch(logical_id, _controller(old_props), _controller(props))
            controller = _controller(old_props)
        if kind == LISTENER_RULE:
            # ECS built-in blue/green rewrites the production and test rules' forwards on
            # every release (ECS developer guide, "Application Load Balancer resources for
            # blue/green, linear, and canary deployments"); the template's actions would
            # move production back to blue (aws/aws-cdk#36649).
            protected.append(logical_id)
            if "Actions" in old_props:
                props["Actions"] = old_props["Actions"]
            for key in sorted(set(props) | set(old_props)):
                if props.get(key) != old_props.get(key):
                    problems.append(
                        f"{logical_id}: its {key} {_show(old_props.get(key))} -> "
                        f"{_show(props.get(key))}"
                    )
            continue
        if kind == TASK_DEFINITION and resource != before:
            res[logical_id] = copy.deepcopy(before)
            kept.notes.append(
                f"{logical_id} kept as deployed: CodeDeploy owns the task definition, so "
                "the task change reaches AWS through taskdef.json and the next release "
                "(`bluegreen verify` lists what taskdef.json must say)"
            )
        elif kind == SERVICE:
            protected.append(logical_id)
            for key in sorted(set(props) | set(old_props)):
                placed = (
                    through_outputs(props[key], new)
                    if key in OUT_OF_BAND and key in props
                    else None
                )
                if key in OUT_OF_BAND and not any(references(props.get(key))):
                    if key in props:
                        kept.out_of_band[key] = props[key]
                elif placed is not None:
                    # It names resources of the stack (the verify hook and the role ECS
                    # invokes it with, stacks/service.py): each is an output of the
                    # stack, read once the stack update has made it.
                    kept.out_of_band[key] = placed
                elif props.get(key) != old_props.get(key):
                    setting = _SETTINGS.get((kind, key))
                    problems.append(
                        f"{logical_id}: its {key} changes"
                        + (f" ({setting})" if setting else "")
                        + (
                            "; ECS refuses that change to a CODE_DEPLOY service"
                            if _controller(old_props) == "CODE_DEPLOY"
                            else "; ECS owns this service's task definition and traffic "
                            "(built-in blue/green), and a stack update of it would start "
                            "a deployment of the template's bootstrap revision"
                        )
                    )
            if _depends(resource) != _depends(before):
                problems.append(f"{logical_id}: its DependsOn changes")
            res[logical_id] = copy.deepcopy(before)
        elif kind == LISTENER:
            protected.append(logical_id)
            # CodeDeploy points the listeners at blue or green on every release, and
            # owns the weights from the first deploy on (a template's {blue: 100,
            # green: 0} must not reset them, nor an older template's plain forward to
            # blue be replaced by it: either would move production). The dependencies
            # that action makes on the target groups stay as deployed with it.
            if "DefaultActions" in old_props:
                props["DefaultActions"] = old_props["DefaultActions"]
                if "DependsOn" in before:
                    resource["DependsOn"] = copy.deepcopy(before["DependsOn"])
                else:
                    resource.pop("DependsOn", None)
            for key in sorted(set(props) | set(old_props)):
                if props.get(key) != old_props.get(key):
                    setting = _SETTINGS.get((kind, key))
                    label = key.lower() if key in ("Port", "Protocol") else key
                    problems.append(
                        f"{logical_id}: its {label} {_show(old_props.get(key))} -> "
                        f"{_show(props.get(key))}" + (f" ({setting})" if setting else "")
                    )
        elif kind == TARGET_GROUP:
            protected.append(logical_id)
    _carry_named(old, res, protected, kept)
    replaced = replacements(deployed, new, region)
    for logical_id in protected:
        resource = res.get(logical_id, {})
        if logical_id in replaced:
            problems.append(f"{logical_id} would be replaced: {_why(replaced[logical_id])}")
            continue
        for target in sorted(set(references(_props(resource))) | set(_depends(resource))):
            if target in replaced and target not in protected:  # those have their own line
                problems.append(
                    f"{logical_id} depends on {target}, which would be replaced: "
                    f"{_why(replaced[target])}"
                )
    if problems:
        unique = list(dict.fromkeys(problems))
        raise UsageError(
            f"the config changes what {CONTROLLERS.get(controller, CONTROLLERS['ECS'])} "
            "cannot change in place:\n" + "\n".join(f"  {p}" for p in unique),
            hint="nothing was changed; revert those settings, or recreate the service: "
            "`bluegreen destroy` then `bluegreen deploy`",
        )
    return kept


OUTPUT = "bluegreen:output"
"""The key of a placeholder ``{OUTPUT: key}``: the value of the service stack's output
``key``, read after the stack update (:func:`through_outputs`, :func:`resolve`)."""


def through_outputs(value: Any, template: dict[str, Any]) -> Any | None:
    """``value`` with each Ref or Fn::GetAtt replaced by a placeholder of the
    ``template``'s output with that very value; None when one has no such output (then
    bluegreen cannot know what it becomes before CloudFormation makes it)."""
    outputs = {
        repr(body.get("Value")): key for key, body in (template.get("Outputs") or {}).items()
    }

    def walk(inner: Any) -> Any:
        if isinstance(inner, dict):
            if any(k in inner for k in ("Ref", "Fn::GetAtt", "Fn::Sub")):
                key = outputs.get(repr(inner))
                if key is None:
                    raise LookupError(repr(inner))
                return {OUTPUT: key}
            return {k: walk(v) for k, v in inner.items()}
        if isinstance(inner, list):
            return [walk(v) for v in inner]
        return inner

    try:
        return walk(value)
    except LookupError:
        return None


def resolve(value: Any, outputs: dict[str, str]) -> Any:
    """``value`` with each placeholder whose output ``outputs`` has replaced by it."""
    if isinstance(value, dict):
        if set(value) == {OUTPUT}:
            return outputs.get(str(value[OUTPUT]), value)
        return {k: resolve(v, outputs) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve(v, outputs) for v in value]
    return value


def unresolved(value: Any) -> list[str]:
    """The output keys of the placeholders left in ``value``."""
    if isinstance(value, dict):
        if set(value) == {OUTPUT}:
            return [str(value[OUTPUT])]
        return [key for inner in value.values() for key in unresolved(inner)]
    if isinstance(value, list):
        return [key for inner in value for key in unresolved(inner)]
    return []


def arns(value: Any) -> set[str]:
    """The ARNs ``value`` names (strings that start with ``arn:``), at any depth."""
    if isinstance(value, dict):
        return {arn for inner in value.values() for arn in arns(inner)}
    if isinstance(value, list):
        return {arn for inner in value for arn in arns(inner)}
    return {value} if isinstance(value, str) and value.startswith("arn:") else set()


def _carry_named(
    old: dict[str, Any], res: dict[str, Any], protected: list[str], kept: Kept
) -> None:
    """Keep in the template what the service's out-of-band settings, kept as deployed,
    still name and the new template dropped (the verify hook and its roles when [verify]
    checks are removed): the service's entry stays as deployed, so its
    DeploymentConfiguration still refers to them, and a template that refers to a
    resource it lacks is invalid. Their use ends
    with UpdateService (the out-of-band deploymentConfiguration without the hook); they
    stay, unused, until `bluegreen destroy`."""
    wanted = [
        r
        for logical_id in protected
        if res.get(logical_id, {}).get("Type") == SERVICE
        for key, value in _props(res[logical_id]).items()
        if key in OUT_OF_BAND  # what UpdateService changes; the rest is refused above
        for r in references(value)
    ]
    carried: list[str] = []
    while wanted:
        logical_id = wanted.pop()
        if logical_id in res or logical_id not in old:
            continue
        res[logical_id] = copy.deepcopy(old[logical_id])
        carried.append(logical_id)
        wanted += list(references(_props(old[logical_id]))) + _depends(old[logical_id])
    if carried:
        kept.notes.append(
            "kept as deployed, unused: "
            + ", ".join(sorted(carried))
            + " (the service's entry in the stack, kept as deployed, still names them; "
            "`bluegreen destroy` removes them)"
        )


def service_controller(resource: dict[str, Any]) -> str:
    """An AWS::ECS::Service resource's deployment controller (ECS when not set)."""
    return _controller(_props(resource))


def _controller(props: dict[str, Any]) -> str:
    controller = props.get("DeploymentController") or {}
    return str(controller.get("Type", "ECS")) if isinstance(controller, dict) else "ECS"


MIGRATION_GUIDE = (
    "https://docs.aws.amazon.com/AmazonECS/latest/developerguide/"
    "migrate-codedeploy-to-ecs-bluegreen.html"
)


def _refuse_engine_switch(logical_id: str, deployed: str, wanted: str) -> None:
    """deployment.engine changed on a live service: refused, with the steps (exit 2).

    AWS documents an in-place migration (ECS developer guide, "Migrating from a
    CodeDeploy blue/green to an Amazon ECS blue/green service deployment": replace the
    CodeDeploy role with the infrastructure role for load balancers, turn CodeDeploy's
    automation off, reuse the target groups and listeners with listener rules, update the
    service's deployment controller, recreate the lifecycle hooks). bluegreen does not run
    it: the service stack's update would change the deployment controller, the load
    balancers and the listeners in one CloudFormation update, whose service handler
    sends the task definition and load balancers that ECS refuses on a CODE_DEPLOY
    service (see the module docstring), so production could not be guaranteed to keep
    serving while it runs.
    """
    if deployed == wanted or {deployed, wanted} != {"CODE_DEPLOY", "ECS"}:
        return
    before, after = ("codedeploy", "ecs") if deployed == "CODE_DEPLOY" else ("ecs", "codedeploy")
    raise UsageError(
        f'deployment.engine changes from "{before}" to "{after}", but the live service '
        f"({logical_id}) runs the {deployed} deployment controller; bluegreen does not "
        "switch a live service's engine in place: one stack update would have to change "
        "its deployment controller, load balancers and listeners while the current engine "
        "owns them, and production could not be guaranteed to keep serving",
        hint=f'nothing was changed. Keep deployment.engine = "{before}" for this system, '
        "or move to the other engine in one of these ways: (1) with a short outage: "
        f'`bluegreen destroy`, set deployment.engine = "{after}", `bluegreen deploy`; '
        "(2) without one: deploy a second system with the new engine under another "
        "project.environment, check it on its own URL, then move your DNS name to its "
        "load balancer and `bluegreen destroy` the old one (the AWS blog's \"new service "
        'behind a new load balancer" strategy, '
        "https://aws.amazon.com/blogs/containers/migrating-from-aws-codedeploy-to-amazon-"
        "ecs-for-blue-green-deployments); (3) AWS's in-place steps by hand, outside "
        f"bluegreen's stacks: {MIGRATION_GUIDE}",
    )


def _why(replacement: Replacement) -> str:
    text = replacement.reason
    if replacement.root:
        text += f" ({replacement.root})"
    setting = replacement.setting
    return text + (f"; set by {setting}" if setting else "")


def update_value(setting: str, value: Any) -> Any:
    """A service property's template value as UpdateService's parameter takes it.

    DeploymentConfiguration: CloudFormation's AWS::ECS::Service DeploymentConfiguration
    names each member as the ECS API does with a capital first letter (Strategy ->
    strategy, BakeTimeInMinutes -> bakeTimeInMinutes, LifecycleHooks[].TimeoutConfiguration
    .TimeoutInMinutes -> lifecycleHooks[].timeoutConfiguration.timeoutInMinutes: the
    CloudFormation template reference against botocore's ECS DeploymentConfiguration
    shape; botocore validates the request, so a wrong name fails the call). Lifecycle
    hooks are always sent, empty when the config has none (reroute = "auto"), so a PAUSE
    hook the config dropped is removed whether ECS merges or replaces the configuration
    (the API reference does not say which)."""
    if setting != "DeploymentConfiguration" or not isinstance(value, dict):
        return value
    converted = _api_names(value)
    converted.setdefault("lifecycleHooks", [])
    return converted


def _api_names(value: Any) -> Any:
    if isinstance(value, dict):
        return {key[:1].lower() + key[1:]: _api_names(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [_api_names(inner) for inner in value]
    return value


def differs(live: Any, wanted: Any) -> bool:
    """Whether the live value (DescribeServices) is not what UpdateService would set:
    every member ``wanted`` names must be equal (numbers by value: 10 == 10.0); members
    only the live value has (ECS's defaults, such as maximumPercent) do not count."""
    if isinstance(wanted, dict):
        if not isinstance(live, dict):
            return True
        return any(differs(live.get(key), inner) for key, inner in wanted.items())
    if isinstance(wanted, list):
        live_list = live if isinstance(live, list) else []
        return len(live_list) != len(wanted) or any(
            differs(a, b) for a, b in zip(live_list, wanted, strict=True)
        )
    if isinstance(wanted, bool) or isinstance(live, bool):
        return live is not wanted
    if isinstance(wanted, int | float) and isinstance(live, int | float):
        return float(live) != float(wanted)
    return bool(live != wanted)


def changes(live: Any, wanted: Any, path: str = "") -> list[str]:
    """``path old -> new`` for each member ``differs`` finds, for the user to read."""
    if isinstance(wanted, dict) and isinstance(live, dict):
        found: list[str] = []
        for key, inner in wanted.items():
            found += changes(live.get(key), inner, f"{path}.{key}" if path else key)
        return found
    if isinstance(wanted, list) and isinstance(live, list) and len(live) == len(wanted):
        found = []
        for index, (a, b) in enumerate(zip(live, wanted, strict=True)):
            found += changes(a, b, f"{path}[{index}]")
        return found
    if not differs(live, wanted):
        return []
    return [f"{path or 'value'} {_show(live)} -> {_show(wanted)}"]
