"""Simulated CodeDeploy: an ECS blue/green deployment played on emulated ECS and ELBv2.

moto records a deployment and leaves it "Created" forever, so this module is the
rehearsal's counterpart of the real engine (:mod:`bluegreen.engine.codedeploy` operates
the real one). It follows CodeDeploy's documented ECS blue/green lifecycle:

BeforeInstall -> Install (replacement task set on the target group not serving
production, healthy after the health check's interval x healthy threshold) ->
AfterInstall -> AllowTestTraffic (test listener to the replacement) ->
AfterAllowTestTraffic -> reroute (ActionOnTimeout CONTINUE_DEPLOYMENT: at once;
STOP_DEPLOYMENT: a manual reroute, i.e. ``bluegreen promote``, within WaitTimeInMinutes,
else the deployment is stopped) ->
BeforeAllowTraffic -> AllowTraffic (production shifted per the deployment config:
all at once, canary or linear, as weighted forwards; then the replacement made PRIMARY) ->
AfterAllowTraffic -> the termination wait -> the original task set removed.

A failure before production moves rolls back as CodeDeploy does with automatic rollback:
the test listener back to the original target group, the replacement task set deleted,
the original still PRIMARY. Every step acts on the emulator and the state recorded with
it is read back by :class:`~bluegreen.rehearse.observe.Observer`. Lifecycle hooks named in
appspec.yml are Lambda functions, which the emulator cannot run: they are shown and
assumed to succeed (the ``test-traffic-fails`` fault makes AfterAllowTestTraffic fail).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import yaml

from bluegreen import names
from bluegreen.aws.session import Clients
from bluegreen.errors import BluegreenError
from bluegreen.rehearse import fleet
from bluegreen.rehearse.clock import Clock, span
from bluegreen.rehearse.model import Release
from bluegreen.rehearse.observe import Observer
from bluegreen.rehearse.pipeline import Action, Artifacts

HOOKS = (
    "BeforeInstall",
    "AfterInstall",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)


@dataclass(frozen=True)
class TrafficShift:
    """A deployment config's traffic routing: (percent, minutes) per increment."""

    kind: str  # AllAtOnce | TimeBasedCanary | TimeBasedLinear
    percent: int = 100
    minutes: int = 0

    def steps(self) -> list[tuple[int, int]]:
        """(seconds after the shift began, percent on the replacement) at each change."""
        if self.kind == "AllAtOnce":
            return [(0, 100)]
        if self.kind == "TimeBasedCanary":
            return [(0, self.percent), (self.minutes * 60, 100)]
        out, share, at = [], 0, 0
        while share < 100:
            share = min(100, share + self.percent)
            out.append((at, share))
            at += self.minutes * 60
        return out


PREDEFINED = {
    "CodeDeployDefault.ECSAllAtOnce": TrafficShift("AllAtOnce"),
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": TrafficShift("TimeBasedLinear", 10, 1),
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": TrafficShift("TimeBasedLinear", 10, 3),
    "CodeDeployDefault.ECSCanary10Percent5Minutes": TrafficShift("TimeBasedCanary", 10, 5),
    "CodeDeployDefault.ECSCanary10Percent15Minutes": TrafficShift("TimeBasedCanary", 10, 15),
}


@dataclass(frozen=True)
class DeploymentGroup:
    """The deployment group's settings, read back from the emulated CodeDeploy."""

    application: str
    name: str
    config: str
    target_groups: tuple[str, str]
    production_listener: str
    test_listener: str | None
    cluster: str
    service: str
    reroute: str  # CONTINUE_DEPLOYMENT | STOP_DEPLOYMENT
    wait_minutes: int
    terminate: bool
    termination_wait_minutes: int
    auto_rollback: bool

    @classmethod
    def read(cls, clients: Clients, application: str, group: str) -> DeploymentGroup:
        info = clients.codedeploy.get_deployment_group(
            applicationName=application, deploymentGroupName=group
        )["deploymentGroupInfo"]
        pair = info["loadBalancerInfo"]["targetGroupPairInfoList"][0]
        first, second = (g["name"] for g in pair["targetGroups"])
        test = pair.get("testTrafficRoute", {}).get("listenerArns") or [None]
        blue_green = info.get("blueGreenDeploymentConfiguration", {})
        ready = blue_green.get("deploymentReadyOption", {})
        termination = blue_green.get("terminateBlueInstancesOnDeploymentSuccess", {})
        rollback = info.get("autoRollbackConfiguration", {})
        service = info["ecsServices"][0]
        return cls(
            application=application,
            name=group,
            config=info.get("deploymentConfigName") or "CodeDeployDefault.ECSAllAtOnce",
            target_groups=(first, second),
            production_listener=pair["prodTrafficRoute"]["listenerArns"][0],
            test_listener=test[0],
            cluster=service["clusterName"],
            service=service["serviceName"],
            reroute=ready.get("actionOnTimeout", "CONTINUE_DEPLOYMENT"),
            wait_minutes=int(ready.get("waitTimeInMinutes", 0)),
            terminate=termination.get("action", "TERMINATE") == "TERMINATE",
            termination_wait_minutes=int(termination.get("terminationWaitTimeInMinutes", 0)),
            auto_rollback=bool(rollback.get("enabled"))
            and "DEPLOYMENT_FAILURE" in rollback.get("events", []),
        )


class DeploymentFailed(Exception):
    """The deployment fails at ``event``; the message is CodeDeploy's reason."""

    def __init__(self, event: str, message: str) -> None:
        super().__init__(message)
        self.event = event
        self.message = message


class Deployment:
    """One CodeDeployToECS action, played step by step into ``release.steps``."""

    def __init__(
        self,
        clients: Clients,
        clock: Clock,
        action: Action,
        artifacts: Artifacts,
        release: Release,
        shifts: dict[str, TrafficShift],
        fault: str | None = None,
        promote: bool = True,
    ) -> None:
        self.clients = clients
        self.clock = clock
        self.action = action
        self.artifacts = artifacts
        self.release = release
        self.shifts = shifts
        self.fault = fault
        self.promote = promote
        self.group = DeploymentGroup.read(
            clients, action.setting("ApplicationName"), action.setting("DeploymentGroupName")
        )
        self.observer = Observer(
            clients,
            clock,
            self.group.cluster,
            self.group.service,
            self.group.production_listener,
            self.group.test_listener or self.group.production_listener,
        )
        self.original: dict[str, Any] | None = None
        self.replacement: dict[str, Any] | None = None
        self.test_moved = False
        self.production_moved = False

    # -- helpers

    def step(self, event: str, detail: str = "") -> None:
        self.release.steps.append(self.observer.snapshot(event, detail))

    def _who(self) -> str:
        return f"deploy action {self.action.stage}/{self.action.name}"

    # -- the deployment

    def run(self) -> None:
        """Play the deployment; the release's outcome says how it ended."""
        try:
            self._run()
        except DeploymentFailed as exc:
            self.release.cause = f"{exc.event}: {exc.message}"
            self._roll_back(exc)
        except BluegreenError as exc:
            # A broken input (taskdef, appspec) fails the deployment before Install.
            self.release.cause = exc.message
            self.release.outcome = "failed"
            self.step("Deployment failed", exc.message)

    def _run(self) -> None:
        appspec_text = self.artifacts.get(
            self.action.setting("AppSpecTemplateArtifact"),
            self.action.configuration.get("AppSpecTemplatePath", "appspec.yaml"),
            self._who(),
        )
        task_definition = self._register_task_definition()
        appspec = _appspec(
            appspec_text.replace(
                names.TASK_DEFINITION_PLACEHOLDER, task_definition["taskDefinitionArn"]
            )
        )
        container, port, properties = _target(appspec, task_definition)
        hooks = _hooks(appspec)
        deployment = self.clients.codedeploy.create_deployment(
            applicationName=self.group.application,
            deploymentGroupName=self.group.name,
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": json.dumps(appspec)},
            },
        )
        self.release.deployment_id = deployment["deploymentId"]
        shift = self._shift()

        self.original = self._primary()
        production = self.observer.serving(self.group.production_listener)
        if production not in self.group.target_groups:
            raise DeploymentFailed(
                "BeforeInstall",
                f"production listener forwards to {production}, outside the deployment "
                f"group's pair {self.group.target_groups}",
            )
        replacement_group = next(g for g in self.group.target_groups if g != production)
        self.step(
            "Deployment created",
            f"{self.group.config}; task definition "
            f"{task_definition['family']}:{task_definition['revision']} registered",
        )
        self._hook(hooks, "BeforeInstall")

        # Install: the replacement task set, on the target group production doesn't use.
        service = self.observer.service_state()
        network = properties.get("NetworkConfiguration")
        self.replacement = self.clients.ecs.create_task_set(
            cluster=self.group.cluster,
            service=self.group.service,
            taskDefinition=task_definition["taskDefinitionArn"],
            loadBalancers=[
                {
                    "targetGroupArn": self.observer.group_arn(replacement_group),
                    "containerName": container,
                    "containerPort": port,
                }
            ],
            networkConfiguration=_network(network) if network else service["networkConfiguration"],
            launchType=service.get("launchType", "FARGATE"),
            platformVersion=str(properties.get("PlatformVersion", "LATEST")),
            scale={"value": 100.0, "unit": "PERCENT"},
        )["taskSet"]
        registered = fleet.register_targets(self.clients, self.group.cluster, self.replacement)
        self._health(replacement_group, registered)
        self._hook(hooks, "AfterInstall")

        # AllowTestTraffic
        if self.group.test_listener:
            self._forward(self.group.test_listener, {replacement_group: 100})
            self.test_moved = True
            self.step(
                "AllowTestTraffic", f"test listener :{self._port('test')} -> {replacement_group}"
            )
        self._hook(hooks, "AfterAllowTestTraffic", fail=self.fault == "test-traffic-fails")

        self._reroute()
        self._hook(hooks, "BeforeAllowTraffic")

        # AllowTraffic: production shifted per the deployment config.
        start = self.clock.seconds
        for at, share in shift.steps():
            self.clock.advance(start + at - self.clock.seconds)
            weights = {production: 100 - share, replacement_group: share}
            self._forward(self.group.production_listener, weights)
            self.production_moved = True
            self.step(
                "AllowTraffic",
                f"production :{self._port('production')}: {share}% on {replacement_group}"
                + ("" if share < 100 else " (all traffic shifted)"),
            )
        self.clients.ecs.update_service_primary_task_set(
            cluster=self.group.cluster,
            service=self.group.service,
            primaryTaskSet=self.replacement["taskSetArn"],
        )
        self.step("Replacement task set PRIMARY", f"{replacement_group} serves production")
        self._hook(hooks, "AfterAllowTraffic")

        # Termination wait, then the original task set goes.
        if self.group.terminate:
            wait = self.group.termination_wait_minutes * 60
            self.clock.advance(wait)
            fleet.remove(
                self.clients,
                self.group.cluster,
                self.group.service,
                self.original,
                "Task set deleted by CodeDeploy after the termination wait",
            )
            self.step(
                "Original task set terminated",
                f"after the termination wait of {span(wait)}; {production} has no targets",
            )
        self.release.outcome = "succeeded"
        self.step("Deployment succeeded")

    # -- the pieces

    def _register_task_definition(self) -> dict[str, Any]:
        text = self.artifacts.get(
            self.action.setting("TaskDefinitionTemplateArtifact"),
            self.action.configuration.get("TaskDefinitionTemplatePath", "taskdef.json"),
            self._who(),
        )
        for number in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10):
            artifact = self.action.configuration.get(f"Image{number}ArtifactName")
            placeholder = self.action.configuration.get(f"Image{number}ContainerName")
            if not artifact or not placeholder:
                continue
            detail = json.loads(self.artifacts.get(artifact, "imageDetail.json", self._who()))
            text = text.replace(f"<{placeholder}>", str(detail["ImageURI"]))
        try:
            body = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DeploymentFailed("BeforeInstall", f"taskdef.json is not JSON: {exc}") from None
        left = [p for p in ("<IMAGE1_NAME>", "<IMAGE2_NAME>") if p in text]
        if left:
            raise DeploymentFailed(
                "BeforeInstall", f"taskdef.json still holds {', '.join(left)} after substitution"
            )
        for key in ("taskDefinitionArn", "revision", "status", "registeredAt", "registeredBy"):
            body.pop(key, None)  # fields of a described task definition, not of a request
        registered = self.clients.ecs.register_task_definition(**body)["taskDefinition"]
        self.release.images = {c["name"]: c["image"] for c in registered["containerDefinitions"]}
        return dict(registered)

    def _shift(self) -> TrafficShift:
        shift = self.shifts.get(self.group.config)
        if shift is None:
            raise DeploymentFailed(
                "BeforeInstall",
                f"deployment config {self.group.config} is neither predefined nor in the templates",
            )
        return shift

    def _primary(self) -> dict[str, Any]:
        sets = [s for s in self.observer.task_sets() if s["status"] == "PRIMARY"]
        if len(sets) != 1:
            raise DeploymentFailed(
                "BeforeInstall", f"the service has {len(sets)} PRIMARY task sets, not 1"
            )
        return sets[0]

    def _health(self, group: str, registered: int) -> None:
        described = self.clients.elbv2.describe_target_groups(Names=[group])["TargetGroups"][0]
        interval = int(described["HealthCheckIntervalSeconds"])
        if self.fault == "green-unhealthy":
            threshold = int(described["UnhealthyThresholdCount"])
            self.clock.advance(interval * threshold)
            arn = described["TargetGroupArn"]
            assert self.replacement is not None
            # ECS deregisters and stops tasks that fail their load balancer health checks.
            health = self.clients.elbv2.describe_target_health(TargetGroupArn=arn)
            targets = [
                {"Id": t["Target"]["Id"], "Port": t["Target"]["Port"]}
                for t in health["TargetHealthDescriptions"]
            ]
            if targets:
                self.clients.elbv2.deregister_targets(TargetGroupArn=arn, Targets=targets)
            fleet.stop_tasks(
                self.clients,
                self.group.cluster,
                self.replacement["taskDefinition"],
                f"Task failed ELB health checks in (target-group {arn})",
            )
            self.step(
                "Install",
                f"replacement tasks failed {threshold} health checks "
                f"({described.get('HealthCheckPath', '/')}, every {interval} s): ECS stopped them",
            )
            raise DeploymentFailed(
                "Install",
                f"the replacement tasks never passed the {group} health check "
                "(fault injected: green-unhealthy)",
            )
        threshold = int(described["HealthyThresholdCount"])
        self.clock.advance(interval * threshold)
        health = self.clients.elbv2.describe_target_health(
            TargetGroupArn=described["TargetGroupArn"]
        )
        healthy = sum(
            1 for t in health["TargetHealthDescriptions"] if t["TargetHealth"]["State"] == "healthy"
        )
        if registered == 0 or healthy < registered:
            raise DeploymentFailed(
                "Install", f"{healthy} of {registered} replacement targets healthy in {group}"
            )
        self.step(
            "Install",
            f"replacement task set on {group}: {healthy} healthy target"
            f"{'s' if healthy != 1 else ''} after {threshold} checks every {interval} s",
        )

    def _hook(self, hooks: dict[str, str], event: str, fail: bool = False) -> None:
        function = hooks.get(event)
        if fail:
            what = f"hook {function}" if function else "validation of the test listener"
            message = f"{what} reported Failed (fault injected: test-traffic-fails)"
            self.step(event, message)
            raise DeploymentFailed(event, message)
        if function:
            self.step(
                event,
                f"hook {function}: Lambda hooks don't run in the emulator; taken as Succeeded",
            )

    def _reroute(self) -> None:
        if self.group.reroute == "CONTINUE_DEPLOYMENT":
            # CodeDeploy reroutes at once: ECS offers no timed automatic reroute, and it
            # refuses a wait time with CONTINUE_DEPLOYMENT.
            self.step("Reroute", "reroute = auto: traffic rerouted as soon as green is ready")
            return
        wait = self.group.wait_minutes * 60
        if self.promote:
            self.step(
                "Reroute",
                "manual reroute (`bluegreen promote`), done by the rehearsal on your behalf; "
                f"you have {span(wait)} to run it",
            )
            return
        self.clock.advance(wait)
        raise DeploymentFailed(
            "Reroute",
            f"nobody rerouted traffic within the wait time of {span(wait)} "
            "(--no-promote): the deployment was stopped",
        )

    def _forward(self, listener: str, weights: dict[str, int]) -> None:
        live = {name: weight for name, weight in weights.items() if weight}
        if len(live) == 1:
            action: dict[str, Any] = {
                "Type": "forward",
                "TargetGroupArn": self.observer.group_arn(next(iter(live))),
            }
        else:
            action = {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": self.observer.group_arn(name), "Weight": weight}
                        for name, weight in weights.items()
                    ]
                },
            }
        self.clients.elbv2.modify_listener(ListenerArn=listener, DefaultActions=[action])

    def _port(self, which: str) -> int:
        arn = self.group.production_listener if which == "production" else self.group.test_listener
        listener = self.clients.elbv2.describe_listeners(ListenerArns=[arn])["Listeners"][0]
        return int(listener["Port"])

    def _roll_back(self, failure: DeploymentFailed) -> None:
        if self.original is None:
            # Failed before CodeDeploy created the deployment (a broken taskdef.json or
            # appspec): nothing was started, so there is nothing to roll back.
            self.release.outcome = "failed"
            self.step("Deployment failed", f"{failure.message}; nothing was deployed")
            return
        # A reroute wait that runs out (STOP_DEPLOYMENT) leaves the deployment Stopped, not
        # Failed (CodeDeploy API reference, DeploymentReadyOption).
        ended = "stopped" if failure.event == "Reroute" else "failed"
        if not self.group.auto_rollback:
            self.release.outcome = "failed"
            self.step(f"Deployment {ended}", f"{failure.message}; automatic rollback is off")
            return
        assert self.original is not None
        original_group = self.observer.group_name(
            self.original["loadBalancers"][0]["targetGroupArn"]
        )
        if self.production_moved:
            self._forward(self.group.production_listener, {original_group: 100})
        if self.test_moved and self.group.test_listener:
            self._forward(self.group.test_listener, {original_group: 100})
        if self.replacement is not None:
            fleet.remove(
                self.clients,
                self.group.cluster,
                self.group.service,
                self.replacement,
                "Task set deleted by CodeDeploy rollback",
            )
        self.clients.ecs.update_service_primary_task_set(
            cluster=self.group.cluster,
            service=self.group.service,
            primaryTaskSet=self.original["taskSetArn"],
        )
        self.release.outcome = "rolled back"
        self.step(
            "Rollback",
            f"{failure.event} {ended}: listeners back on {original_group}, replacement task set "
            "deleted",
        )


def _appspec(text: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DeploymentFailed("BeforeInstall", f"appspec is not YAML: {exc}") from None
    if not isinstance(data, dict) or not data.get("Resources"):
        raise DeploymentFailed("BeforeInstall", "appspec has no Resources")
    return data


def _target(
    appspec: dict[str, Any], task_definition: dict[str, Any]
) -> tuple[str, int, dict[str, Any]]:
    """The appspec's container and port, checked against the registered task definition."""
    resource = next(iter(appspec["Resources"][0].values()))
    properties = dict(resource.get("Properties", {}))
    if properties.get("TaskDefinition") != task_definition["taskDefinitionArn"]:
        raise DeploymentFailed(
            "BeforeInstall",
            f"appspec TaskDefinition is {properties.get('TaskDefinition')!r}, not the "
            f"{names.TASK_DEFINITION_PLACEHOLDER} placeholder CodeDeployToECS fills in",
        )
    info = properties.get("LoadBalancerInfo", {})
    container, port = str(info.get("ContainerName")), int(info.get("ContainerPort", 0))
    ports = {
        c["name"]: [int(m["containerPort"]) for m in c.get("portMappings", [])]
        for c in task_definition["containerDefinitions"]
    }
    if container not in ports or port not in ports[container]:
        raise DeploymentFailed(
            "BeforeInstall",
            f"appspec routes traffic to container {container} port {port}, which the task "
            f"definition does not have (its containers and ports: {ports})",
        )
    return container, port, properties


def _hooks(appspec: dict[str, Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in appspec.get("Hooks") or []:
        for event, function in dict(entry).items():
            if event not in HOOKS:
                raise DeploymentFailed("BeforeInstall", f"appspec hook {event} is not an ECS hook")
            found[event] = str(function)
    return found


def _network(network: dict[str, Any]) -> dict[str, Any]:
    vpc = network.get("AwsvpcConfiguration") or network.get("awsvpcConfiguration") or {}
    return {
        "awsvpcConfiguration": {
            "subnets": list(vpc.get("Subnets", [])),
            "securityGroups": list(vpc.get("SecurityGroups", [])),
            "assignPublicIp": vpc.get("AssignPublicIp", "DISABLED"),
        }
    }
