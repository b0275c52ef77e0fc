"""ECS tasks on the simulated clock: their lifecycle, their network address, their logs.

A task walks the lifecycle of the ECS developer guide ("Task lifecycle",
awsdocs/amazon-ecs-developer-guide task-lifecycle.md), each step taking the time
:mod:`bluegreen.emulator.timing` gives it:

PROVISIONING (its elastic network interface: an address in its subnet) -> PENDING (the
images are pulled; an ECR image of this account whose repository or tag does not exist
stops the task with ``CannotPullContainerError``) -> ACTIVATING (the containers start,
the log router first; ECS registers the task with its target group) -> RUNNING ... and
when stopped: DEACTIVATING (deregistered; the target drains for the group's
deregistration delay) -> STOPPING (SIGTERM) -> DEPROVISIONING (the interface is deleted)
-> STOPPED.

The task is stored in moto's ECS backend, so ListTasks/DescribeTasks show it with its
real state and timestamps (``createdAt``, ``pullStartedAt``, ``startedAt``,
``stoppingAt``, ``stoppedAt``, ``stopCode``, ``stoppedReason``).

While RUNNING, the app container writes what a uvicorn app writes (its start-up lines,
then an access-log line per request it serves, the load balancer's health checks
included); a container whose command runs Python's ``http.server`` (the bootstrap task
definition of bluegreen's service stack) writes that server's log lines instead. Where
the lines go is :class:`bluegreen.emulator.services.logs.TaskLogging`'s business.

A :class:`ContainerRunner` runs the containers: :class:`NoRunner` (nothing runs; every
health check passes) by default, the data plane's
:class:`~bluegreen.emulator.dataplane.ProcessRunner` (the app as a real local process,
the network checked from the VPC's state) in the rehearsal and the sandbox. The clock
waits at the end of ACTIVATING until the runner's app listens or exits
(:meth:`ContainerRunner.ready`). A task whose essential app container exits stops as ECS
stops it: stopCode ``EssentialContainerExited``, stoppedReason "Essential container in
task exited", the container's ``exitCode`` (ECS API reference, Task.stopCode; the reason
as ECS reports it, e.g. AWS re:Post knowledge center "ecs-task-stopped": "Essential
container in task exited"). Such a task has reached RUNNING first, so the service
scheduler replaces it without its throttle ("Tasks that fail immediately due to command
errors do not trigger the throttle", ECS developer guide, service-throttle-logic.md).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from moto.ecs.models import Task

from bluegreen.emulator import authz, timing
from bluegreen.emulator.clock import Body, Until, Wait

if TYPE_CHECKING:
    from bluegreen.emulator.services.elbv2 import Prober
    from bluegreen.emulator.services.logs import TaskLogging

PRE_RUNNING = ("PROVISIONING", "PENDING", "ACTIVATING")
STOPPING_STATES = ("DEACTIVATING", "STOPPING", "DEPROVISIONING")


class ContainerRunner(Protocol):
    """What runs a task's containers (:class:`NoRunner`, or the data plane's).

    ``start``, ``stop`` and ``prober`` are required; a runner may also have the hooks of
    :class:`NoRunner` (``pull_error``, ``logs_error``, ``ready``, ``exit_code``,
    ``stopped``), called through :func:`hook` when it does.
    """

    def start(self, task: EmulatedTask) -> None:
        """The task's containers start (after the image pull); returns at once."""

    def stop(self, task: EmulatedTask) -> None:
        """The task's containers get SIGTERM."""

    def prober(self, task: EmulatedTask) -> Prober | None:
        """The health checks of the task's target (None: the default prober)."""


def hook(runner: ContainerRunner, name: str, task: EmulatedTask) -> Any:
    """Call the runner's optional hook ``name`` (None when it has none)."""
    method = getattr(runner, name, None)
    return None if method is None else method(task)


class NoRunner:
    """The default runner: nothing runs; health checks pass. Its methods are every hook
    a runner may have."""

    def pull_error(self, task: EmulatedTask) -> str | None:
        """Why the task's images cannot be pulled from its network (None: they can)."""
        return None

    def logs_error(self, task: EmulatedTask) -> str | None:
        """Why its awslogs log driver cannot reach CloudWatch Logs (None: it can)."""
        return None

    def start(self, task: EmulatedTask) -> None:
        return None

    def ready(self, task: EmulatedTask) -> None:
        """Block (a bounded real time) until the app listens or exits."""
        return None

    def exit_code(self, task: EmulatedTask) -> tuple[str, int] | None:
        """(container, exit code) once the essential app container has exited by itself."""
        return None

    def stop(self, task: EmulatedTask) -> None:
        return None

    def stopped(self, task: EmulatedTask) -> tuple[str, int | None] | None:
        """After the stop: (container, exit code or None: not known yet) of the app
        container, if it ran."""
        return None

    def prober(self, task: EmulatedTask) -> Prober | None:
        return None


class EmulatedContainer:
    """One container of a task, in the ECS API's Container shape."""

    def __init__(self, task: EmulatedTask, definition: dict[str, Any], index: int) -> None:
        self.name = str(definition["name"])
        self.image = str(definition.get("image", ""))
        self.task_arn = task.task_arn
        self.container_arn = (
            f"arn:aws:ecs:{task.region_name}:{task.account}:container/{task.cluster_name}/"
            f"{task.task_id}/{_digest(task.task_id, self.name)[:36]}"
        )
        self.runtime_id = f"{task.task_id}-{_number(task.task_id, self.name) % 10**10:010d}"
        self.last_status = "PENDING"
        self.exit_code: int | None = None
        self.reason: str | None = None
        self.health_status = "UNKNOWN"
        self.cpu = str(definition.get("cpu", 0))
        self.memory = str(definition["memory"]) if "memory" in definition else None
        self.memory_reservation = (
            str(definition["memoryReservation"]) if "memoryReservation" in definition else None
        )
        self.network_interfaces = [
            {"attachmentId": task.attachment_id, "privateIpv4Address": task.ip}
        ]
        self.network_bindings: list[dict[str, Any]] = []
        self.definition = definition
        self.index = index

    @property
    def exitCode(self) -> int | None:  # noqa: N802 - the API's member name
        return self.exit_code


class EmulatedTask(Task):
    """An ECS task of the emulator, stored in moto's backend (a moto ``Task`` subclass,
    so moto's ListTasks/DescribeTasks/StopTask keep working on it)."""

    containers: list[EmulatedContainer]  # type: ignore[assignment]

    def __init__(
        self,
        *,
        backend: Any,
        cluster: Any,
        task_definition: Any,
        task_id: str,
        ip: str,
        subnet_id: str,
        availability_zone: str,
        eni_id: str,
        security_groups: list[str],
        started_by: str,
        group: str,
        launch_type: str,
        platform_version: str | None,
        created_at: datetime,
        service: str,
        task_set_id: str,
        tags: list[dict[str, str]] | None = None,
        assign_public_ip: bool = False,
    ) -> None:
        # moto's Task.__init__ would create a random ENI and id: set its fields directly.
        self._transitions = [("RUNNING", "STOPPED")]
        self._status = "PROVISIONING"
        self._tick = 0
        self._time_progressed = created_at
        self.model_name = "ecs::task"
        self.id = task_id
        self.task_id = task_id
        self.cluster_name = cluster.name
        self.cluster_arn = cluster.arn
        self.container_instance_arn = None
        self.desired_status = "RUNNING"
        self.task_definition_arn = task_definition.arn
        self.family_revision = f"{task_definition.family}:{task_definition.revision}"
        self.task_definition = task_definition
        self.overrides: dict[str, Any] = {
            "containerOverrides": [],
            "inferenceAcceleratorOverrides": [],
        }
        self.started_by = started_by
        self.tags = tags or []
        self.launch_type = launch_type
        self.capacity_provider_name = None
        self.platform_version = platform_version or "1.4.0"
        self.platform_family = "Linux"
        self.stopped_reason = ""
        self.stop_code: str | None = None
        self.resource_requirements = None
        self.region_name = cluster.region_name
        self._account_id = backend.account_id
        self.account = backend.account_id
        self._backend = backend
        self.group = group
        self.service = service
        self.task_set_id = task_set_id
        self.ip = ip
        self.subnet_id = subnet_id
        self.availability_zone = availability_zone
        self.eni_id = eni_id
        self.security_groups = security_groups
        self.attachment_id = _uuid(task_id, "attachment")
        self.attachments = [
            {
                "id": self.attachment_id,
                "type": "ElasticNetworkInterface",
                "status": "PRECREATED",
                "details": [
                    {"name": "subnetId", "value": subnet_id},
                    {"name": "networkInterfaceId", "value": eni_id},
                    {"name": "privateIPv4Address", "value": ip},
                ],
            }
        ]
        self.network_configuration = {
            "awsvpcConfiguration": {"subnets": [subnet_id], "securityGroups": security_groups}
        }
        self.assign_public_ip = assign_public_ip
        self.cpu = task_definition.cpu
        self.memory = task_definition.memory
        self.created_at = created_at
        self.pull_started_at: datetime | None = None
        self.pull_stopped_at: datetime | None = None
        self.started_at: datetime | None = None
        self.connectivity: str | None = None
        self.connectivity_at: datetime | None = None
        self.stopping_at: datetime | None = None
        self.execution_stopped_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self.health_status = "UNKNOWN"
        self.version = 1
        self.containers = [
            EmulatedContainer(self, definition, index)
            for index, definition in enumerate(task_definition.container_definitions)
        ]
        self.reached_running = False
        self.containers_started = False
        self.stop_reason_pending: tuple[str, str] | None = None
        self.logging: TaskLogging | None = None
        self.app: AppProcess | None = None
        self.registered: list[tuple[str, int]] = []  # (target group ARN, port)

    # moto's ManagedState reads transitions on every access: the emulator sets the state.
    @property
    def status(self) -> str:
        return str(self._status)

    @status.setter
    def status(self, value: str) -> None:
        self._status = value

    def advance(self) -> None:
        return None

    @property
    def stopped(self) -> bool:
        return self._status == "STOPPED"

    def runtime_id(self, container: str) -> str:
        for found in self.containers:
            if found.name == container:
                return found.runtime_id
        return f"{self.task_id}-0"

    def container(self, name: str) -> EmulatedContainer | None:
        return next((c for c in self.containers if c.name == name), None)

    def stop(self, code: str, reason: str) -> None:
        """Ask the task to stop (its lifecycle process takes it from there)."""
        if self.desired_status == "STOPPED":
            return
        self.desired_status = "STOPPED"
        self.stop_code = code
        self.stopped_reason = reason
        self.version += 1


class Host(Protocol):
    """What a task's lifecycle needs from ECS (:class:`~bluegreen.emulator.services.ecs.Ecs`)."""

    runner: ContainerRunner

    def now(self) -> datetime: ...

    def pull_error(self, task: EmulatedTask) -> str | None: ...

    def start_logging(self, task: EmulatedTask) -> str: ...

    def register_targets(self, task: EmulatedTask) -> None: ...

    def deregister_targets(self, task: EmulatedTask) -> None: ...

    def targets_drained(self, task: EmulatedTask) -> bool: ...

    def release_address(self, task: EmulatedTask) -> None: ...

    def task_changed(self, task: EmulatedTask) -> None: ...


def lifecycle(host: Host, task: EmulatedTask) -> Body:
    """The task from PROVISIONING to STOPPED (a clock process)."""
    yield Wait(timing.FARGATE_PROVISIONING)
    failure: str | None = None
    if task.desired_status == "RUNNING":
        _state(host, task, "PENDING")
        task.pull_started_at = host.now()
        # The execution role's permission to pull (issue 9, bluegreen.emulator.authz).
        failure = authz.image_pull_refusal(task) or host.pull_error(task)
        yield Wait(timing.IMAGE_PULL_FAILURE if failure else timing.IMAGE_PULL)
        task.pull_stopped_at = host.now()
        if failure is None and task.desired_status == "RUNNING":
            failure = host.start_logging(task) or None
            if failure is None:
                yield Wait(timing.CONTAINER_START)
                for container in task.containers:
                    container.last_status = "RUNNING"
                host.runner.start(task)
                task.containers_started = True
                if task.app is not None:
                    task.app.start(host.now())
                _state(host, task, "ACTIVATING")
                host.register_targets(task)
                yield Wait(timing.ACTIVATING)
                hook(host.runner, "ready", task)
        if failure is None and task.desired_status == "RUNNING":
            task.started_at = task.connectivity_at = host.now()
            task.connectivity = "CONNECTED"
            task.reached_running = True
            _state(host, task, "RUNNING")
            yield Until(
                lambda: (
                    task.desired_status == "STOPPED"
                    or hook(host.runner, "exit_code", task) is not None
                )
            )
            _essential_exit(host, task)
    if failure is not None:
        # CannotPullContainerError and ResourceInitializationError stop the task before
        # it runs (ECS stopped-task errors; stopCode TaskFailedToStart).
        task.stop_code = "TaskFailedToStart"
        task.stopped_reason = failure
        task.desired_status = "STOPPED"
        for container in task.containers:
            if container.last_status == "PENDING":
                container.reason = failure
    if task.reached_running or task.registered:
        task.stopping_at = host.now()
        _state(host, task, "DEACTIVATING")
        host.deregister_targets(task)
        yield Until(lambda: host.targets_drained(task))
    if task.stopping_at is None:
        task.stopping_at = host.now()
    _state(host, task, "STOPPING")
    if task.containers_started:
        host.runner.stop(task)
        if task.app is not None:
            task.app.stop(host.now())
        yield Wait(timing.CONTAINER_STOP)
        ended = hook(host.runner, "stopped", task)
        if ended is not None:
            # The runner's app container: its exit code (None: the runner sets it when the
            # process has finished shutting down).
            name, code = ended
            found = task.container(name)
            if found is not None and found.last_status == "RUNNING":
                found.exit_code = code
                found.last_status = "STOPPED"
    for container in task.containers:
        if container.last_status == "RUNNING":
            container.exit_code = 0
        container.last_status = "STOPPED"
    task.execution_stopped_at = host.now()
    if task.logging is not None:
        task.logging.close()
    _state(host, task, "DEPROVISIONING")
    yield Wait(timing.DEPROVISIONING)
    host.release_address(task)
    task.stopped_at = host.now()
    _state(host, task, "STOPPED")


def _essential_exit(host: Host, task: EmulatedTask) -> None:
    """The essential app container exited by itself: the task stops."""
    if task.desired_status == "STOPPED":
        return
    exited = hook(host.runner, "exit_code", task)
    if exited is None:
        return
    name, code = exited
    found = task.container(name)
    if found is not None:
        found.exit_code = code
        found.last_status = "STOPPED"
    task.stop("EssentialContainerExited", "Essential container in task exited")


def _state(host: Host, task: EmulatedTask, state: str) -> None:
    task.status = state
    task.version += 1
    if task.attachments and state in ("RUNNING", "DEACTIVATING"):
        task.attachments[0]["status"] = "ATTACHED"
    elif task.attachments and state == "STOPPED":
        task.attachments[0]["status"] = "DELETED"
    host.task_changed(task)


# -------------------------------------------------------------------------- the app


@dataclass
class AppProcess:
    """What the app container prints: start-up lines, an access line per request.

    ``kind`` is ``uvicorn`` (the scaffold's app: ``python -m app`` runs uvicorn) or
    ``http.server`` (a container whose command runs Python's http.server, as the service
    stack's bootstrap task definition does).
    """

    task: EmulatedTask
    container: str
    port: int
    kind: str
    write: Callable[[str, str, str, datetime], bool]

    def start(self, at: datetime) -> None:
        if self.kind != "uvicorn":
            return
        # uvicorn's start-up lines on stderr (uvicorn/server.py, config.py; the
        # container's process is PID 1), without colours: the stream is not a TTY.
        for text in (
            "INFO:     Started server process [1]",
            "INFO:     Waiting for application startup.",
            "INFO:     Application startup complete.",
            f"INFO:     Uvicorn running on http://0.0.0.0:{self.port} (Press CTRL+C to quit)",
        ):
            self.write(self.container, "stderr", text, at)

    def stop(self, at: datetime) -> None:
        if self.kind != "uvicorn":
            return
        for text in (
            "INFO:     Shutting down",
            "INFO:     Waiting for application shutdown.",
            "INFO:     Application shutdown complete.",
            "INFO:     Finished server process [1]",
        ):
            self.write(self.container, "stderr", text, at)

    def request(
        self, at: datetime, client: str, port: int, method: str, path: str, status: int
    ) -> bool:
        """One request served; whether its access-log line reached CloudWatch Logs."""
        if self.kind == "http.server":
            # http.server's log_message: '%s - - [%s] %s\n' on stderr, with
            # log_date_time_string's day/Mon/year hh:mm:ss and the request line.
            stamp = at.strftime("%d/%b/%Y %H:%M:%S")
            text = f'{client} - - [{stamp}] "{method} {path} HTTP/1.1" {status} -'
            return self.write(self.container, "stderr", text, at)
        # uvicorn's access log on stdout: '%(client_addr)s - "%(request_line)s" %(status_code)s'
        # with the status phrase (uvicorn/logging.py AccessFormatter).
        text = f'INFO:     {client}:{port} - "{method} {path} HTTP/1.1" {status} {_phrase(status)}'
        return self.write(self.container, "stdout", text, at)


def app_kind(definition: dict[str, Any]) -> str:
    command = " ".join(str(part) for part in definition.get("command") or [])
    entry = " ".join(str(part) for part in definition.get("entryPoint") or [])
    return "http.server" if "http.server" in f"{entry} {command}" else "uvicorn"


_PHRASES = {
    200: "OK",
    204: "No Content",
    301: "Moved Permanently",
    302: "Found",
    304: "Not Modified",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def _phrase(status: int) -> str:
    return _PHRASES.get(status, "")


# ---------------------------------------------------------------------------- ids


def _digest(*parts: str) -> str:
    return hashlib.sha256("/".join(parts).encode()).hexdigest()


def _number(*parts: str) -> int:
    return int(_digest(*parts)[:16], 16)


def _uuid(*parts: str) -> str:
    h = _digest(*parts)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def task_id(*parts: str) -> str:
    """A task id (32 hex digits, as ECS shows them) from stable inputs."""
    return _digest("task", *parts)[:32]
