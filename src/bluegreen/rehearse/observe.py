"""Read the blue/green state back from the emulator: listeners, task sets, images.

Each timeline step is a snapshot taken here, from ``elbv2.describe_listeners`` and
``ecs.describe_services`` (task sets) plus the task definitions and running tasks they
name. Only immutable facts are cached (a target group's name, a task definition's
containers), so what the timeline shows is what the emulated AWS holds at that moment.
"""

from __future__ import annotations

from typing import Any

from bluegreen.aws.session import Clients
from bluegreen.errors import RehearsalError
from bluegreen.rehearse import fleet
from bluegreen.rehearse.clock import Clock
from bluegreen.rehearse.model import Step, TaskSetState


class Observer:
    """Snapshots of one ECS service and its production and test listeners."""

    def __init__(
        self,
        clients: Clients,
        clock: Clock,
        cluster: str,
        service: str,
        production_listener: str,
        test_listener: str,
    ) -> None:
        self.clients = clients
        self.clock = clock
        self.cluster = cluster
        self.service = service
        self.production_listener = production_listener
        self.test_listener = test_listener
        self._group_names: dict[str, str] = {}
        self._definitions: dict[str, tuple[str, dict[str, str]]] = {}

    # -- listeners

    def forwards(self, listener_arn: str) -> dict[str, int]:
        """Target group name -> weight (a plain forward is weight 100)."""
        listeners = self.clients.elbv2.describe_listeners(ListenerArns=[listener_arn])["Listeners"]
        actions = [a for a in listeners[0].get("DefaultActions", []) if a["Type"] == "forward"]
        if not actions:
            return {}
        action = actions[0]
        groups = action.get("ForwardConfig", {}).get("TargetGroups")
        if groups:
            return {self.group_name(g["TargetGroupArn"]): int(g.get("Weight", 1)) for g in groups}
        return {self.group_name(action["TargetGroupArn"]): 100}

    def serving(self, listener_arn: str) -> str:
        """The one target group a listener forwards all its traffic to."""
        live = {name: weight for name, weight in self.forwards(listener_arn).items() if weight}
        if len(live) != 1:
            raise RehearsalError(
                f"listener {listener_arn} splits traffic ({live}); a deployment can only start "
                "from a listener that forwards to one target group"
            )
        return next(iter(live))

    def group_name(self, arn: str) -> str:
        if arn not in self._group_names:
            found = self.clients.elbv2.describe_target_groups(TargetGroupArns=[arn])
            self._group_names[arn] = found["TargetGroups"][0]["TargetGroupName"]
        return self._group_names[arn]

    def group_arn(self, name: str) -> str:
        found = self.clients.elbv2.describe_target_groups(Names=[name])["TargetGroups"][0]
        self._group_names[found["TargetGroupArn"]] = name
        return str(found["TargetGroupArn"])

    # -- ECS

    def service_state(self) -> dict[str, Any]:
        found = self.clients.ecs.describe_services(cluster=self.cluster, services=[self.service])
        if not found["services"]:
            raise RehearsalError(f"ECS service {self.service} is gone from {self.cluster}")
        return dict(found["services"][0])

    def task_sets(self) -> list[dict[str, Any]]:
        return list(self.service_state().get("taskSets", []))

    def definition(self, arn: str) -> tuple[str, dict[str, str]]:
        """``family:revision`` and container name -> image of a task definition."""
        if arn not in self._definitions:
            found = self.clients.ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
            images = {c["name"]: c["image"] for c in found["containerDefinitions"]}
            self._definitions[arn] = (f"{found['family']}:{found['revision']}", images)
        return self._definitions[arn]

    def snapshot(self, event: str, detail: str = "") -> Step:
        sets = []
        for task_set in self.task_sets():
            name, images = self.definition(task_set["taskDefinition"])
            balancers = task_set.get("loadBalancers", [])
            group = self.group_name(balancers[0]["targetGroupArn"]) if balancers else "-"
            running = len(fleet.tasks(self.clients, self.cluster, task_set["taskDefinition"]))
            sets.append(
                TaskSetState(
                    id=task_set["id"],
                    status=task_set["status"],
                    task_definition=name,
                    target_group=group,
                    running=running,
                    images=images,
                )
            )
        sets.sort(key=lambda s: (s.status != "PRIMARY", s.task_definition))
        return Step(
            seconds=self.clock.seconds,
            event=event,
            detail=detail,
            production=self.forwards(self.production_listener),
            test=self.forwards(self.test_listener),
            task_sets=tuple(sets),
        )
