"""CloudWatch Logs: what the emulated tasks write, routed as ECS routes it.

moto keeps log groups, streams and events and serves every Logs operation. This module
adds the writers: each running task's containers write their lines through the route
their task definition gives them, and the surviving lines reach moto through the Logs
API (CreateLogStream, PutLogEvents), made as the role AWS would use:

- an ``awsfirelens`` container (the app): its lines become FireLens records, pass the
  router's Fluent Bit filters (:mod:`bluegreen.emulator.firelens`), and the output
  FireLens generates from the container's options writes them as the *task role* (the
  router's cloudwatch_logs plugin runs inside the task; ECS developer guide, FireLens
  "Required IAM permissions"): group ``log_group_name``, stream ``log_stream_prefix`` +
  ``<container>-firelens-<task id>``;
- an ``awslogs`` container (the router itself): the awslogs driver writes as the *task
  execution role* to ``awslogs-group``, stream ``<prefix>/<container>/<task id>``
  (ECS developer guide, using_awslogs.md, ``awslogs-stream-prefix``). A group that does
  not exist stops the task from starting (``ResourceInitializationError``) unless
  ``awslogs-create-group`` is true.

Volume stays bounded: a filtered line costs a regular-expression match and nothing else;
lines that survive are buffered per stream and written in batches, when someone reads
logs (FilterLogEvents, GetLogEvents, DescribeLogStreams flush first, so a reader sees
every line up to now), when a buffer holds 1,000 events, and when a task stops. Each
event keeps the simulated time it was written at.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bluegreen.emulator import firelens, internal
from bluegreen.emulator.service import PASS, Call, Params, Result, Service, ServiceError, operation

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

_PASS: Result = PASS
"""Let moto serve the request (typed for the handlers' return)."""

BATCH = 1000
"""Events per PutLogEvents (the API allows 10,000 and 1 MB: CloudWatch Logs API
reference, PutLogEvents)."""


@dataclass(eq=False)
class StreamWriter:
    """Buffered events for one log stream, written as one principal."""

    logs: Logs
    principal: str
    group: str
    stream: str
    on_error: Callable[[str, str], None] | None = None
    events: list[tuple[int, str]] = field(default_factory=list)
    created: bool = False
    broken: bool = False
    refused: str = ""  # the API's error message of the last refused call

    def write(self, at: datetime, message: str) -> None:
        if self.broken:
            return
        self.events.append((int(at.timestamp() * 1000), message))
        if len(self.events) >= BATCH:
            self.flush()

    def create(self) -> str | None:
        """Create the stream (once); the AWS error code if the Logs API refused."""
        if self.created:
            return None
        from botocore.exceptions import ClientError

        client = self.logs.client(self.principal)
        try:
            client.create_log_stream(logGroupName=self.group, logStreamName=self.stream)
        except ClientError as error:
            code = str(error.response["Error"]["Code"])
            if code != "ResourceAlreadyExistsException":
                self.refused = str(error.response["Error"].get("Message") or "")
                return code
        self.created = True
        return None

    def flush(self) -> None:
        if not self.events or self.broken:
            self.events.clear()
            return
        from botocore.exceptions import ClientError

        error = self.create()
        if error is not None:
            self._fail(error, _fluent_bit_error("CreateLogStream", error, self.refused))
            return
        client = self.logs.client(self.principal)
        events, self.events = self.events, []
        for start in range(0, len(events), BATCH):
            chunk = events[start : start + BATCH]
            try:
                client.put_log_events(
                    logGroupName=self.group,
                    logStreamName=self.stream,
                    logEvents=[{"timestamp": t, "message": m} for t, m in chunk],
                )
            except ClientError as exc:
                code = str(exc.response["Error"]["Code"])
                message = str(exc.response["Error"].get("Message") or "")
                self._fail(code, _fluent_bit_error("PutLogEvents", code, message))
                return

    def _fail(self, code: str, detail: str) -> None:
        self.broken = True
        self.events.clear()
        if self.on_error is not None:
            self.on_error(code, detail)


class Logs(Service):
    """CloudWatch Logs: moto's, with the emulated tasks' writers flushed before reads."""

    name = "logs"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self._writers: list[StreamWriter] = []
        self._clients: dict[str, Any] = {}

    def client(self, principal: str) -> Any:
        if principal not in self._clients:
            self._clients[principal] = internal.client(self.emulator, "logs", principal)
        return self._clients[principal]

    def writer(
        self,
        principal: str,
        group: str,
        stream: str,
        on_error: Callable[[str, str], None] | None = None,
    ) -> StreamWriter:
        """A buffered writer for one stream, acting as ``principal``."""
        writer = StreamWriter(self, principal, group, stream, on_error)
        self._writers.append(writer)
        return writer

    def close_writer(self, writer: StreamWriter) -> None:
        writer.flush()
        if writer in self._writers:
            self._writers.remove(writer)

    def flush(self) -> None:
        """Write every buffered line (called before any read of log events). A writer
        that fails writes an error line to its router's stream: flush until quiet."""
        for _ in range(3):
            pending = [w for w in self._writers if w.events]
            if not pending:
                return
            for writer in pending:
                writer.flush()

    @operation("PutRetentionPolicy")
    def put_retention_policy(self, params: Params, call: Call) -> Result:
        days = params.get("retentionInDays")
        if days not in RETENTION_DAYS:
            # moto stores any integer; AWS refuses what is not in the enum (API reference,
            # "PutRetentionPolicy": retentionInDays Valid Values).
            raise ServiceError(
                "InvalidParameterException",
                f"1 validation error detected: Value '{days}' at 'retentionInDays' failed to "
                "satisfy constraint: Member must satisfy enum value set: "
                f"[{', '.join(map(str, RETENTION_DAYS))}]",
            )
        return _PASS

    @operation("FilterLogEvents")
    def filter_log_events(self, params: Params, call: Call) -> Result:
        self.flush()
        return _PASS

    @operation("GetLogEvents")
    def get_log_events(self, params: Params, call: Call) -> Result:
        self.flush()
        return _PASS

    @operation("DescribeLogStreams")
    def describe_log_streams(self, params: Params, call: Call) -> Result:
        self.flush()
        return _PASS


RETENTION_DAYS: tuple[int, ...] = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545)
RETENTION_DAYS += (731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
"""PutRetentionPolicy's retentionInDays Valid Values (CloudWatch Logs API reference)."""


@dataclass(frozen=True)
class ContainerRoute:
    """Where one container's lines go."""

    container: str
    driver: str  # awsfirelens | awslogs | none
    group: str = ""
    stream: str = ""
    principal: str = ""
    create_group: bool = False
    include: str = ""  # FireLens include-pattern / exclude-pattern options
    exclude: str = ""


@dataclass(eq=False)
class TaskLogging:
    """The log routes of one task: its containers' lines through FireLens or awslogs.

    ``task`` is duck-typed (:class:`bluegreen.emulator.tasks.EmulatedTask`): it needs
    ``task_id``, ``task_arn``, ``cluster_name``, ``runtime_id(name)`` and ``family_revision``.
    """

    logs: Logs
    task: Any
    routes: dict[str, ContainerRoute]
    router: str | None = None  # the container with firelensConfiguration
    config: firelens.RouterConfig = field(default_factory=firelens.RouterConfig)
    metadata: bool = True
    _writers: dict[str, StreamWriter] = field(default_factory=dict)

    @classmethod
    def for_task(cls, emulator: Emulator, task: Any, task_definition: Any) -> TaskLogging:
        logs: Logs = emulator.service("logs")
        routes: dict[str, ContainerRoute] = {}
        router = None
        options: dict[str, str] = {}
        for container in task_definition.container_definitions:
            name = str(container["name"])
            if container.get("firelensConfiguration"):
                router = name
                options = dict(container["firelensConfiguration"].get("options") or {})
            routes[name] = _route(container, task, task_definition)
        logging = cls(logs, task, routes, router)
        logging.metadata = str(options.get("enable-ecs-log-metadata", "true")).lower() != "false"
        return logging

    # -- starting ------------------------------------------------------------------------
    def load_router_config(self, files: dict[str, bytes] | None, options: dict[str, str]) -> str:
        """Read the router's custom configuration; an error message if it cannot start."""
        if options.get("config-file-type") != "file" or not options.get("config-file-value"):
            return ""
        if files is None:
            return ""  # an image the emulator did not build: its files are unknown
        path = options["config-file-value"]
        data = firelens.config_file(files, path)
        if data is None:
            return f"the log router's configuration file {path} is not in its image"
        try:
            self.config = firelens.RouterConfig.from_text(data.decode("utf-8"))
        except (UnicodeDecodeError, firelens.ConfigError) as exc:
            return f"the log router's configuration file {path} is invalid: {exc}"
        return ""

    def open_awslogs(self) -> str:
        """Create the awslogs streams at container start; the task's error if one fails."""
        for route in self.routes.values():
            if route.driver != "awslogs":
                continue
            writer = self._writer(route)
            error = writer.create()
            if error == "ResourceNotFoundException" and route.create_group:
                with contextlib.suppress(Exception):  # created meanwhile
                    self.logs.client(route.principal).create_log_group(logGroupName=route.group)
                error = writer.create()
            if error == "ResourceNotFoundException":
                # Reported on Fargate for an awslogs group that does not exist (quoted in
                # public task definitions' comments, e.g. "make sure to create the log
                # group as well, otherwise you'll get this error").
                return (
                    "ResourceInitializationError: failed to validate logger args: create "
                    "stream has been retried 1 times: failed to create Cloudwatch log "
                    "stream: ResourceNotFoundException: The specified log group does not "
                    "exist. : exit status 1"
                )
            if error is not None:
                # With the API's message (a refused role: "AccessDeniedException: User:
                # ... is not authorized to perform: logs:CreateLogStream ... : exit status
                # 1", doctorray117/minecraft-ondemand#12, terraform-aws-modules/terraform-
                # aws-ecs#313).
                detail = f"{error}: {writer.refused} : exit status 1" if writer.refused else error
                return (
                    "ResourceInitializationError: failed to validate logger args: create "
                    f"stream has been retried 1 times: failed to create Cloudwatch log "
                    f"stream: {detail}"
                )
        return ""

    # -- writing ---------------------------------------------------------------------------
    def line(self, container: str, source: str, text: str, at: datetime) -> bool:
        """One line a container printed; whether it reached CloudWatch Logs."""
        route = self.routes.get(container)
        if route is None or route.driver == "none":
            return False
        if route.driver == "awslogs":
            self._writer(route).write(at, text)
            return True
        # awsfirelens: a record through the router's filters to the generated output.
        if route.exclude and _search(route.exclude, text):
            return False
        if route.include and not _search(route.include, text):
            return False
        record: firelens.Record = {
            "container_id": self.task.runtime_id(container),
            "container_name": container,
            "source": source,
            "log": text,
        }
        if self.metadata:
            record["ecs_cluster"] = self.task.cluster_name
            record["ecs_task_arn"] = self.task.task_arn
            record["ecs_task_definition"] = self.task.family_revision
        tag = firelens.tag(container, self.task.task_id)
        kept = self.config.apply(tag, record)
        if kept is None or not route.group:
            return False
        self._writer(route).write(at, firelens.message(kept))
        return True

    def router_line(self, text: str, at: datetime) -> None:
        if self.router is not None:
            self.line(self.router, "stderr", text, at)

    def close(self) -> None:
        for writer in self._writers.values():
            self.logs.close_writer(writer)
        self._writers.clear()

    def _writer(self, route: ContainerRoute) -> StreamWriter:
        writer = self._writers.get(route.container)
        if writer is None:

            def failed(code: str, detail: str, route: ContainerRoute = route) -> None:
                if route.driver == "awsfirelens":
                    # Fluent Bit's cloudwatch_logs output: the API's error
                    # (flb_aws_print_error), then what failed (terraform-aws-modules/
                    # terraform-aws-eks#3397: "Failed to create log stream", "Failed to
                    # send events"). The records are dropped; the task keeps running.
                    now = self.logs.emulator.now()
                    stamp = now.strftime("%Y/%m/%d %H:%M:%S")
                    prefix = f"[{stamp}] [error] [output:cloudwatch_logs:cloudwatch_logs.0] "
                    self.router_line(prefix + detail, now)
                    if "CreateLogStream" in detail:
                        self.router_line(prefix + "Failed to create log stream", now)
                    self.router_line(prefix + "Failed to send events", now)

            writer = self.logs.writer(route.principal, route.group, route.stream, failed)
            self._writers[route.container] = writer
        return writer


def _fluent_bit_error(api: str, code: str, message: str) -> str:
    """Fluent Bit's line for a refused AWS call (fluent-bit src/aws/flb_aws_util.c,
    flb_aws_print_error: "%s API responded with error='%s', message='%s'")."""
    if not message:
        return f"{api} API responded with error='{code}'"
    return f"{api} API responded with error='{code}', message='{message}'"


def _search(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text) is not None


def _route(container: dict[str, Any], task: Any, task_definition: Any) -> ContainerRoute:
    name = str(container["name"])
    config = container.get("logConfiguration") or {}
    driver = str(config.get("logDriver") or "none")
    options = {str(k): str(v) for k, v in (config.get("options") or {}).items()}
    if driver == "awslogs":
        prefix = options.get("awslogs-stream-prefix", "")
        stream = f"{prefix}/{name}/{task.task_id}" if prefix else task.task_id
        return ContainerRoute(
            name,
            "awslogs",
            group=options.get("awslogs-group", ""),
            stream=stream,
            principal=str(task_definition.execution_role_arn or ""),
            create_group=options.get("awslogs-create-group", "").lower() == "true",
        )
    if driver == "awsfirelens":
        output = options.get("Name", options.get("@type", "")).lower()
        if output not in ("cloudwatch_logs", "cloudwatch"):
            # Another destination (Firehose, Kinesis, a partner): not emulated.
            return ContainerRoute(name, "none")
        tag = firelens.tag(name, task.task_id)
        stream = options.get("log_stream_name") or options.get("log_stream_prefix", "") + tag
        return ContainerRoute(
            name,
            "awsfirelens",
            group=options.get("log_group_name", ""),
            stream=stream,
            principal=str(getattr(task_definition, "task_role_arn", None) or ""),
            include=options.get("include-pattern", ""),
            exclude=options.get("exclude-pattern", ""),
        )
    return ContainerRoute(name, "none")
