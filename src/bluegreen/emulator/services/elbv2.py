"""Elastic Load Balancing v2: target health on the simulated clock, weighted forwards.

moto keeps the load balancers, target groups, listeners and rules, and echoes listener
actions exactly (a weighted ``ForwardConfig``, a weight-0 group included, stays as
written). What moto lacks is target health: it reports every registered IP target
``healthy`` at once and forgets a deregistered one immediately. This module keeps, per
registered target, the state the ALB guide documents ("Health checks for your target
groups", awsdocs/elb-application-load-balancers-user-guide target-group-health-checks.md):

- a new target is ``initial`` (``Elb.RegistrationInProgress``, then
  ``Elb.InitialHealthChecking``) until it passes ``HealthyThresholdCount`` consecutive
  checks sent every ``HealthCheckIntervalSeconds``; then ``healthy``. (The guide also says
  a new target "must pass one health check"; users measure threshold x interval before a
  new target takes traffic, govuk-one-login/authentication-frontend PR #1362, which is
  what the brief asks for and what is modelled.)
- ``UnhealthyThresholdCount`` consecutive failures make it ``unhealthy``
  (``Target.FailedHealthChecks`` or the prober's reason), as many passes make it healthy
  again;
- a target group that no listener action or rule forwards to is not health-checked: its
  targets are ``unused`` (``Target.NotInUse``); so is a target in an Availability Zone the
  load balancer does not have. A group in a weighted forward is in use at any weight, 0
  included ("Health checks are performed on all targets registered to a target group
  that is specified in a listener rule", "Target groups for your Application Load
  Balancers"; the CodeDeploy team relies on it, traveloka/terraform-aws-alb-single-
  listener#47, and so does goployer PR #191: "stable=100 and canary=0 so the canary
  target group becomes active for load balancer health checks");
- a deregistered target is ``draining`` (``Target.DeregistrationInProgress``) for the
  group's ``deregistration_delay.timeout_seconds`` (300 by default), then gone
  (load-balancer-target-groups.md, "Deregistration delay").

Whether a check passes comes from a *prober* per target: by default every check passes;
the data plane (:mod:`bluegreen.emulator.dataplane`) plugs in real HTTP checks against
the tasks' local processes (:meth:`Elbv2.set_prober`).
Every check is also reported to the observers of :attr:`Elbv2.check_observers` (the
tasks' access logs) and every state change to :attr:`Elbv2.state_observers` (ECS replaces
a task whose target turns unhealthy).

Each listener can be reached on loopback (:meth:`Elbv2.local_address`): a local HTTP
server that routes every request by the listener's rules and forward weights at that
moment, to healthy targets (:mod:`bluegreen.emulator.proxy`), through
:attr:`Elbv2.forwarder` (the data plane's processes). What they serve is recorded as an
access log and published as the AWS/ApplicationELB metrics, with the targets' health,
every simulated minute (:attr:`Elbv2.metrics`, :mod:`bluegreen.emulator.albmetrics`).

Refused as AWS refuses them: a forward weight outside 0..999 (ALB guide, listener
"Forward actions": weights 0-999); an unknown target group; deregistering a target that
is not registered; deleting a target group a listener or rule still forwards to.
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bluegreen.emulator import timing
from bluegreen.emulator.clock import Body, Process, Until, Wait
from bluegreen.emulator.service import (
    PASS,
    Call,
    Params,
    Result,
    Service,
    ServiceError,
    operation,
)

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator
    from bluegreen.emulator.proxy import Forwarder, ListenerProxy

_PASS: Result = PASS
"""Let moto serve the request (typed for the handlers' return)."""

# Reason codes and descriptions: ALB guide, "Health check reason codes".
_REASONS = {
    "Elb.RegistrationInProgress": "Target registration is in progress",
    "Elb.InitialHealthChecking": "Initial health checks in progress",
    "Target.FailedHealthChecks": "Health checks failed",
    "Target.Timeout": "Request timed out",
    "Target.NotInUse": "Target group is not configured to receive traffic from the load balancer",
    "Target.DeregistrationInProgress": "Target deregistration is in progress",
    "Target.NotRegistered": "Target is not registered to the target group",
    "Target.HealthCheckDisabled": "Health checks are disabled",
}
_NOT_IN_ENABLED_ZONE = "Target is in an Availability Zone that is not enabled for the load balancer"

WEIGHT_MAX = 999
"""ALB guide, listener rules, forward actions: each target group weight is 0 to 999."""


@dataclass(frozen=True)
class HealthCheck:
    """The health check settings of a target group (its API names)."""

    protocol: str
    port: str
    path: str
    matcher: str
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    enabled: bool


@dataclass(frozen=True)
class TargetRef:
    """One registered target, as a prober sees it."""

    target_group_arn: str
    id: str
    port: int
    health_check: HealthCheck

    @property
    def url(self) -> str:
        port = self.port if self.health_check.port == "traffic-port" else self.health_check.port
        return f"{self.health_check.protocol.lower()}://{self.id}:{port}{self.health_check.path}"


@dataclass(frozen=True)
class ProbeResult:
    """The outcome of one health check request."""

    ok: bool
    status: int = 200
    reason: str = ""  # a TargetHealthReasonEnum for a failure (Target.Timeout ...)
    description: str = ""


Prober = Callable[[TargetRef, datetime], ProbeResult]


def passing(target: TargetRef, at: datetime) -> ProbeResult:
    """The default prober: every health check passes (the app answers 200)."""
    return ProbeResult(True, 200)


@dataclass(frozen=True)
class CheckEvent:
    """One health check request the load balancer sent (what the target's access log shows)."""

    target: TargetRef
    at: datetime
    client_ip: str
    client_port: int
    result: ProbeResult


@dataclass(eq=False)
class TargetState:
    """The health of one registered target (ip:port) in one target group."""

    group_arn: str
    id: str
    port: int
    registered_at: float
    state: str = "initial"
    reason: str = "Elb.RegistrationInProgress"
    description: str = _REASONS["Elb.RegistrationInProgress"]
    passes: int = 0
    fails: int = 0
    checked: int = 0
    draining_until: float | None = None
    zone: str = ""
    gone: bool = False
    process: Process | None = field(default=None, repr=False)

    def key(self) -> tuple[str, int]:
        return (self.id, self.port)

    def describe(self) -> dict[str, Any]:
        health: dict[str, Any] = {"State": self.state}
        if self.state != "healthy":
            health["Reason"] = self.reason
            health["Description"] = self.description
        return {"Target": {"Id": self.id, "Port": self.port}, "TargetHealth": health}


class Elbv2(Service):
    """ELBv2: target health on the clock; everything else is moto's."""

    name = "elbv2"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self._targets: dict[str, dict[tuple[str, int], TargetState]] = {}
        self.default_prober: Prober = passing
        self._probers: dict[tuple[str, str, int], Prober] = {}
        self.check_observers: list[Callable[[CheckEvent], None]] = []
        """Called with every health check sent (issue 9's data plane, the access logs)."""
        self.state_observers: list[Callable[[TargetState, str], None]] = []
        self.forward_changes: list[tuple[float, str, list[tuple[str, int]]]] = []
        """Every change of where a listener (its default action) or a rule forwards, in
        order: (simulated seconds, listener or rule ARN, [(target group ARN, weight)]), as
        CloudTrail records each ModifyListener and ModifyRule. The rehearsal's timeline
        reads it, so that a shift between two status reads is shown at its own time."""
        """Called with a target and its previous state whenever its state changes."""
        self._ports = 0
        self._zones: dict[str, str] = {}
        self._topology = 0
        self._serving_cache: dict[tuple[str, str], tuple[int, tuple[bool, str]]] = {}
        self._balancers_cache: dict[str, tuple[int, list[Any]]] = {}
        self.forwarder: Forwarder | None = None
        """Where a target answers locally (the data plane sets it; see proxy.Forwarder)."""
        self.after_request: Callable[[str], None] | None = None
        """Called (target id) after a proxied request (the data plane reads the app's logs)."""
        self._proxies: dict[str, ListenerProxy] = {}
        from bluegreen.emulator.albmetrics import AlbMetrics

        self.metrics = AlbMetrics(self)
        """The listeners' access log and the AWS/ApplicationELB metrics published from it
        and from the targets' health (:mod:`bluegreen.emulator.albmetrics`)."""

    # -- Python API ------------------------------------------------------------------------
    def set_prober(self, target_group_arn: str, target_id: str, port: int, prober: Prober) -> None:
        """Decide the health checks of one target (issue 9: a real HTTP check)."""
        self._probers[(target_group_arn, target_id, int(port))] = prober

    def all_targets(self) -> list[TargetState]:
        """Every registered target of every target group."""
        return [t for targets in self._targets.values() for t in targets.values() if not t.gone]

    def targets(self, target_group_arn: str) -> list[TargetState]:
        """The registered and draining targets of a group, in registration order."""
        return [t for t in self._targets.get(target_group_arn, {}).values() if not t.gone]

    def target(self, target_group_arn: str, target_id: str, port: int) -> TargetState | None:
        found = self._targets.get(target_group_arn, {}).get((target_id, int(port)))
        return None if found is None or found.gone else found

    def in_use(self, target_group_arn: str) -> bool:
        """Whether any listener default action or rule forwards to the group (any weight)."""
        return bool(self._backend()._any_listener_using(target_group_arn))

    def balancers_of(self, group_arn: str) -> list[Any]:
        """The load balancers (moto's) with a listener action or rule forwarding to the group
        (kept until a listener, rule or load balancer changes: every health check asks)."""
        cached = self._balancers_cache.get(group_arn)
        if cached is not None and cached[0] == self._topology:
            return cached[1]
        found = self._balancers_of(group_arn)
        self._balancers_cache[group_arn] = (self._topology, found)
        return found

    def local_address(self, listener_arn: str) -> tuple[str, int]:
        """Where the listener answers on this machine (127.0.0.1, an ephemeral port): a
        local server that routes as the listener does (started on first use)."""
        with self.emulator.lock:
            found = self._proxies.get(listener_arn)
            if found is None:
                from bluegreen.emulator.proxy import ListenerProxy

                if not any(
                    listener_arn in balancer.listeners
                    for balancer in self._backend().load_balancers.values()
                ):
                    raise ServiceError("ListenerNotFound", "One or more listeners not found")
                found = ListenerProxy(self, listener_arn, self.after_request, self.metrics.record)
                self._proxies[listener_arn] = found
            return found.address

    def local_addresses(self) -> dict[str, tuple[str, int]]:
        """Every listener's local address (listener ARN -> host, port)."""
        return {
            arn: self.local_address(arn)
            for balancer in list(self._backend().load_balancers.values())
            for arn in list(balancer.listeners)
        }

    def close(self) -> None:
        """Stop the listeners' local servers (never raises)."""
        for proxy in list(self._proxies.values()):
            with contextlib.suppress(Exception):
                proxy.close()
        self._proxies.clear()

    def _stop_proxy(self, listener_arn: str) -> None:
        proxy = self._proxies.pop(listener_arn, None)
        if proxy is not None:
            proxy.close()

    def target_group(self, arn: str) -> Any:
        """moto's target group (None if it does not exist)."""
        return self._backend().target_groups.get(arn)

    def health_check(self, arn: str) -> HealthCheck:
        group = self._backend().target_groups[arn]
        matcher = (getattr(group, "matcher", None) or {}).get("HttpCode", "200")
        return HealthCheck(
            protocol=str(group.health_check_protocol or group.protocol or "HTTP"),
            port=str(group.health_check_port or "traffic-port"),
            path=str(group.health_check_path or "/"),
            matcher=str(matcher),
            interval=float(group.health_check_interval_seconds),
            timeout=float(group.health_check_timeout_seconds),
            healthy_threshold=int(group.healthy_threshold_count),
            unhealthy_threshold=int(group.unhealthy_threshold_count),
            enabled=bool(group.health_check_enabled),
        )

    # -- operations ------------------------------------------------------------------------
    @operation("RegisterTargets")
    def register_targets(self, params: Params, call: Call) -> Result:
        arn = params["TargetGroupArn"]
        group = self._group(arn)
        self._backend().register_targets(arn, params.get("Targets", []))
        for target in params.get("Targets", []):
            port = int(target.get("Port") or group.port)
            self._register(arn, str(target["Id"]), port)
        return {}

    @operation("DeregisterTargets")
    def deregister_targets(self, params: Params, call: Call) -> Result:
        arn = params["TargetGroupArn"]
        group = self._group(arn)
        targets = params.get("Targets", [])
        found = []
        for target in targets:
            port = int(target.get("Port") or group.port)
            state = self.target(arn, str(target["Id"]), port)
            if state is None or state.state == "draining":
                # moto's InvalidTargetError text; AWS refuses a target it does not hold.
                raise ServiceError(
                    "InvalidTarget",
                    "The specified target does not exist or is not in the same VPC as the "
                    "target group.",
                )
            found.append(state)
        for state in found:
            self._drain(group, state)
        return {}

    @operation("DescribeTargetHealth")
    def describe_target_health(self, params: Params, call: Call) -> Result:
        arn = params["TargetGroupArn"]
        group = self._group(arn)
        asked = params.get("Targets")
        if not asked:
            return {"TargetHealthDescriptions": [t.describe() for t in self.targets(arn)]}
        out = []
        for target in asked:
            port = int(target.get("Port") or group.port)
            state = self.target(arn, str(target["Id"]), port)
            if state is not None:
                out.append(state.describe())
            else:
                out.append(
                    {
                        "Target": {"Id": str(target["Id"]), "Port": port},
                        "TargetHealth": {
                            "State": "unused",
                            "Reason": "Target.NotRegistered",
                            "Description": _REASONS["Target.NotRegistered"],
                        },
                    }
                )
        return {"TargetHealthDescriptions": out}

    @operation("DeleteTargetGroup")
    def delete_target_group(self, params: Params, call: Call) -> Result:
        arn = params["TargetGroupArn"]
        if arn in self._backend().target_groups and self.in_use(arn):
            # moto's ResourceInUseError text, as AWS words it.
            raise ServiceError(
                "ResourceInUse",
                f"The target group '{arn}' is currently in use by a listener or a rule",
            )
        for state in self._targets.pop(arn, {}).values():
            self._forget(state)
        self._probers = {k: v for k, v in self._probers.items() if k[0] != arn}
        self.changed()
        return _PASS

    @operation("DeleteListener")
    def delete_listener(self, params: Params, call: Call) -> Result:
        self.changed()
        self._stop_proxy(str(params["ListenerArn"]))
        return _PASS

    @operation("DeleteRule")
    def delete_rule(self, params: Params, call: Call) -> Result:
        self.changed()
        return _PASS

    @operation("DeleteLoadBalancer")
    def delete_load_balancer(self, params: Params, call: Call) -> Result:
        self.changed()
        balancer = self._backend().load_balancers.get(str(params["LoadBalancerArn"]))
        for arn in list(getattr(balancer, "listeners", {}) or {}):
            self._stop_proxy(arn)
        return _PASS

    @operation("SetSubnets")
    def set_subnets(self, params: Params, call: Call) -> Result:
        self.changed()
        return _PASS

    @operation("CreateListener")
    def create_listener(self, params: Params, call: Call) -> Result:
        _check_actions(params.get("DefaultActions", []), "defaultActions")
        self.changed()
        self.metrics.start()  # a load balancer with a listener reports its metrics
        return _PASS

    @operation("ModifyListener")
    def modify_listener(self, params: Params, call: Call) -> Result:
        _check_actions(params.get("DefaultActions", []), "defaultActions")
        self.changed()
        self._forwarded(params.get("ListenerArn"), params.get("DefaultActions"))
        return _PASS

    @operation("CreateRule")
    def create_rule(self, params: Params, call: Call) -> Result:
        _check_actions(params.get("Actions", []), "actions")
        self.changed()
        return _PASS

    @operation("ModifyRule")
    def modify_rule(self, params: Params, call: Call) -> Result:
        _check_actions(params.get("Actions", []), "actions")
        self.changed()
        self._forwarded(params.get("RuleArn"), params.get("Actions"))
        return _PASS

    def _forwarded(self, arn: Any, actions: Any) -> None:
        """Record where ``arn`` forwards from now on (:attr:`forward_changes`)."""
        if not arn or not actions:
            return
        from bluegreen.aws.elb import forwards

        pairs = forwards({"DefaultActions": actions})
        if pairs:
            self.forward_changes.append((self.emulator.clock.seconds, str(arn), pairs))

    # -- internals ---------------------------------------------------------------------------
    def _backend(self) -> Any:
        return self.emulator.backend("elbv2")

    def _group(self, arn: str) -> Any:
        group = self._backend().target_groups.get(arn)
        if group is None:
            raise ServiceError("TargetGroupNotFound", "One or more target groups not found")
        return group

    def _register(self, arn: str, target_id: str, port: int) -> None:
        targets = self._targets.setdefault(arn, {})
        old = targets.get((target_id, port))
        if old is not None and not old.gone:
            if old.state != "draining":
                return  # registering a registered target again changes nothing
            self._forget(old)
        state = TargetState(arn, target_id, port, self.emulator.clock.seconds)
        state.zone = self._zone_of(target_id) or ""
        targets[(target_id, port)] = state
        state.process = self.emulator.clock.spawn(
            f"elbv2 health {target_id}:{port}", self._health(state)
        )

    def _drain(self, group: Any, state: TargetState) -> None:
        if state.process is not None:
            state.process.cancel()
        delay = float(
            group.attributes.get(
                "deregistration_delay.timeout_seconds", timing.DEREGISTRATION_DELAY_DEFAULT
            )
        )
        self._set(state, "draining", "Target.DeregistrationInProgress")
        state.draining_until = self.emulator.clock.seconds + delay
        state.process = self.emulator.clock.spawn(
            f"elbv2 drain {state.id}:{state.port}", self._drained(state, delay)
        )

    def _drained(self, state: TargetState, delay: float) -> Body:
        yield Wait(delay)
        state.process = None  # this process: it ends here
        self._forget(state)
        with contextlib.suppress(Exception):  # moto already forgot it (a deleted group)
            self._backend().deregister_targets(
                state.group_arn, [{"Id": state.id, "Port": state.port}]
            )

    def _forget(self, state: TargetState) -> None:
        state.gone = True
        if state.process is not None:
            state.process.cancel()
        targets = self._targets.get(state.group_arn, {})
        if targets.get(state.key()) is state:
            del targets[state.key()]

    def _set(self, state: TargetState, new: str, reason: str, description: str = "") -> None:
        old = state.state
        state.state = new
        state.reason = reason
        state.description = description or _REASONS.get(reason, "")
        if old != new:
            for observer in list(self.state_observers):
                observer(state, old)

    def changed(self) -> None:
        """Listeners, rules or load balancers changed (called before moto applies the
        change: nothing reads the cache between a handler and moto's answer)."""
        self._topology += 1

    def _serving(self, state: TargetState) -> tuple[bool, str]:
        """Whether the load balancer health-checks this target, else the unused reason."""
        key = (state.group_arn, state.zone)
        cached = self._serving_cache.get(key)
        if cached is not None and cached[0] == self._topology:
            return cached[1]
        result = self._serving_now(state)
        self._serving_cache[key] = (self._topology, result)
        return result

    def _serving_now(self, state: TargetState) -> tuple[bool, str]:
        balancers = self._balancers_of(state.group_arn)
        if not balancers:
            return False, _REASONS["Target.NotInUse"]
        if state.zone:
            zones = {
                self._subnet_zone(subnet) for balancer in balancers for subnet in balancer.subnets
            }
            zones.discard("")
            if zones and state.zone not in zones:
                return False, _NOT_IN_ENABLED_ZONE
        return True, ""

    def _subnet_zone(self, subnet: Any) -> str:
        subnet_id = subnet if isinstance(subnet, str) else getattr(subnet, "id", "")
        if subnet_id not in self._zones:
            found = _find_subnet(self.emulator.backend("ec2"), subnet_id)
            self._zones[subnet_id] = "" if found is None else str(found.availability_zone)
        return self._zones[subnet_id]

    def _health(self, state: TargetState) -> Body:
        """Register, then check every interval while the group is in use."""
        serving, why = self._serving(state)
        if not serving:
            self._set(state, "unused", "Target.NotInUse", why)
        yield Wait(timing.ELB_REGISTRATION)
        while not state.gone:
            serving, why = self._serving(state)
            if not serving:
                self._set(state, "unused", "Target.NotInUse", why)
                state.passes = state.fails = 0
                yield Until(lambda: state.gone or self._serving(state)[0])
                if state.gone:
                    return
                # Back in use: health checking starts over (conservative: AWS does not
                # document whether earlier results count).
                self._set(state, "initial", "Elb.InitialHealthChecking")
                continue
            check = self.health_check(state.group_arn)
            if not check.enabled:
                self._set(state, "unavailable", "Target.HealthCheckDisabled")
                yield Until(lambda: state.gone or self.health_check(state.group_arn).enabled)
                continue
            if state.state == "unused" or state.reason == "Elb.RegistrationInProgress":
                self._set(state, "initial", "Elb.InitialHealthChecking")
            moved = yield Until(
                lambda: state.gone or not self._serving(state)[0],
                timeout=check.interval,
            )
            if moved:
                continue
            self._check(state, check)

    def _check(self, state: TargetState, check: HealthCheck) -> None:
        ref = TargetRef(state.group_arn, state.id, state.port, check)
        prober = self._probers.get((state.group_arn, state.id, state.port), self.default_prober)
        now = self.emulator.now()
        result = prober(ref, now)
        state.checked += 1
        client_ip = self._node_ip(state)
        self._ports += 1
        event = CheckEvent(ref, now, client_ip, 32768 + (self._ports * 7919) % 28000, result)
        for observer in list(self.check_observers):
            observer(event)
        if result.ok:
            state.passes += 1
            state.fails = 0
            if state.state != "healthy" and state.passes >= check.healthy_threshold:
                self._set(state, "healthy", "")
        else:
            state.fails += 1
            state.passes = 0
            if state.state != "unhealthy" and state.fails >= check.unhealthy_threshold:
                reason = result.reason or "Target.FailedHealthChecks"
                description = result.description or (
                    f"Health checks failed with these codes: [{result.status}]"
                    if reason == "Target.ResponseCodeMismatch"
                    else ""
                )
                self._set(state, "unhealthy", reason, description)

    # -- topology helpers ---------------------------------------------------------------------
    def _balancers_of(self, group_arn: str) -> list[Any]:
        """The load balancers with a listener action or rule forwarding to the group."""
        backend = self._backend()
        found = []
        for balancer in backend.load_balancers.values():
            if any(
                group_arn in backend._get_target_group_arns_from(action_data=action.data)
                for listener in balancer.listeners.values()
                for rule in listener.rules.values()
                for action in rule.actions
            ):
                found.append(balancer)
        return found

    def _zone_of(self, ip: str) -> str | None:
        subnet = _subnet_of_ip(self.emulator.backend("ec2"), ip)
        return None if subnet is None else str(subnet.availability_zone)

    def _node_ip(self, state: TargetState) -> str:
        """A stable private address for the load balancer node that sends the checks."""
        ec2 = self.emulator.backend("ec2")
        zone = state.zone or None
        for balancer in self._balancers_of(state.group_arn):
            for subnet in getattr(balancer, "subnets", []) or []:
                subnet_id = subnet if isinstance(subnet, str) else getattr(subnet, "id", None)
                found = _find_subnet(ec2, subnet_id)
                if found is not None and (zone is None or found.availability_zone == zone):
                    network = ipaddress.ip_network(found.cidr_block)
                    digest = hashlib.sha256(balancer.arn.encode()).digest()
                    offset = 2 + int.from_bytes(digest[:2], "big") % 200
                    return str(network.broadcast_address - offset)
        return "10.0.0.2"


def _find_subnet(ec2: Any, subnet_id: str | None) -> Any:
    if subnet_id is None:
        return None
    for zone_subnets in ec2.subnets.values():
        if subnet_id in zone_subnets:
            return zone_subnets[subnet_id]
    return None


def _subnet_of_ip(ec2: Any, ip: str) -> Any:
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return None  # an instance id, not an IP target
    for zone_subnets in ec2.subnets.values():
        for subnet in zone_subnets.values():
            if address in ipaddress.ip_network(subnet.cidr_block):
                return subnet
    return None


def _check_actions(actions: list[dict[str, Any]], where: str) -> None:
    """Refuse forward weights outside 0..999 with AWS's validation message format."""
    for a, action in enumerate(actions, start=1):
        groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
        for g, group in enumerate(groups, start=1):
            weight = group.get("Weight")
            if weight is None:
                continue
            path = f"{where}.{a}.member.forwardConfig.targetGroups.{g}.member.weight"
            if int(weight) > WEIGHT_MAX:
                raise ServiceError(
                    "ValidationError",
                    f"1 validation error detected: Value '{weight}' at '{path}' failed to "
                    f"satisfy constraint: Member must have value less than or equal to "
                    f"{WEIGHT_MAX}",
                )
            if int(weight) < 0:
                raise ServiceError(
                    "ValidationError",
                    f"1 validation error detected: Value '{weight}' at '{path}' failed to "
                    "satisfy constraint: Member must have value greater than or equal to 0",
                )
