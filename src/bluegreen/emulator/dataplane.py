"""The data plane: each task's app container runs as a real local process on loopback.

:class:`ProcessRunner` is the :class:`~bluegreen.emulator.tasks.ContainerRunner` the
rehearsal and the sandbox use (``Emulator(..., data_plane=True)``). For every task ECS
starts, it runs the task's essential app container (the one its load balancer forwards
to) from the files its image was built from (``emulator.images[uri]``, the build
context), as the image's Dockerfile makes it (:mod:`bluegreen.emulator.dockerfile`):

- the final stage's files under a private root (``<work_dir>/dataplane/images/...``), the
  process started in its ``WORKDIR`` there;
- the command Docker would run: the task definition's ``entryPoint``/``command`` over the
  image's ``ENTRYPOINT``/``CMD`` (a task definition's ``entryPoint`` drops the image's
  ``CMD``, as ``docker run --entrypoint`` does);
- the image's ``ENV``, then the task definition's ``environment``, then what Fargate sets
  itself (``AWS_EXECUTION_ENV``, ``AWS_REGION``, ``AWS_DEFAULT_REGION``; ECS developer
  guide, "Fargate task environment variables" / task metadata) -- nothing of this
  machine's environment except ``PATH``.

The app binds the container port as it would in its container (``0.0.0.0:80``); the
process's ``bind`` is redirected to an ephemeral port of 127.0.0.1 and reported
(:mod:`bluegreen.emulator.runtime.shim`), so nothing in the app's command or environment
is rewritten: an app that listens on another port than the task definition's, or not at
all, fails its health checks as it would on AWS.

Python apps are recognised by their command (``python``/``python3.x`` with ``-m``, ``-c``
or a script; ``uvicorn``, ``gunicorn``, ``hypercorn``, ``flask``, ``fastapi``; or one of
those started by a shell command line) on an image built from the official Python image.
They run on this machine's interpreter, which must have the packages the image's
``pip install`` names (its requirements files): the scaffold's need fastapi and uvicorn.
Processes are forked by one starter process that imported those once
(:mod:`bluegreen.emulator.runtime.zygote`), so starting an app takes milliseconds.

Anything else (another language, no run command, packages missing here, an image whose
files the emulator does not have) is not run: its target's health is *derived
statically*, healthy when the load balancer can reach the task (:mod:`network`) and the
checked port is one of the container's port mappings; :attr:`ProcessRunner.derived`
says which and why.

Time: a process is started when its container starts on the simulated clock, and the
clock does not move past the task's ACTIVATING step until the process listens on a port
or exits (at most :data:`READY_TIMEOUT` real seconds), so a health check never races the
app's start. A container that exits stops its task as ECS does (stopCode
``EssentialContainerExited``, stoppedReason "Essential container in task exited", the
container's ``exitCode``). Its output goes to the task's logs (stdout and stderr lines,
stamped with the simulated time they are read at). A task that stops gets SIGTERM, then
SIGKILL if it has not exited within :data:`STOP_WAIT` real seconds (ECS's stopTimeout is
30 s). Every process is killed when the emulator closes, on an exception or Ctrl-C too,
and -- through ``PR_SET_PDEATHSIG`` -- when the emulator's process dies.
"""

from __future__ import annotations

import atexit
import contextlib
import dataclasses
import hashlib
import http.client
import json
import os
import re
import select
import shlex
import signal
import socket
import ssl
import subprocess
import sys
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bluegreen.emulator import dockerfile
from bluegreen.emulator.network import Network
from bluegreen.emulator.services.elbv2 import ProbeResult, TargetRef

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator
    from bluegreen.emulator.services.elbv2 import Prober
    from bluegreen.emulator.tasks import EmulatedTask

READY_TIMEOUT = 10.0
"""Real seconds the clock waits, at most, for a started app to listen or exit."""

OTHER_PORT_GRACE = 0.3
"""Real seconds to wait for the container port once the app listens on another port."""

PROBE_TIMEOUT_CAP = 5.0
"""Real seconds a health check request may take at most (the target group's timeout,
capped): a hung app costs the rehearsal this much per check, not up to 120 s."""

STOP_WAIT = 3.0
"""Real seconds a stopped app has to exit after SIGTERM before it gets SIGKILL."""

AHEAD_GRACE = 1.0
"""Real seconds beyond the check's timeout to wait for a request sent ahead."""

STOP_SETTLE = 0.02
"""Real seconds a task's stop waits for its app to exit (more is not waited for)."""

PRELOAD = (
    "asyncio",
    "http.server",
    "logging.config",
    "fastapi",
    "fastapi.responses",
    "uvicorn",
    "uvicorn.main",
    "uvicorn.config",
    "uvicorn.server",
    "uvicorn.lifespan.on",
    "uvicorn.loops.auto",
    "uvicorn.loops.asyncio",
    "uvicorn.protocols.http.auto",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.websockets.auto",
)
"""What the starter imports once (a module missing here is skipped)."""

# Console scripts of Python servers and the module that runs each (``python -m``).
ENTRY_MODULES = {
    "uvicorn": "uvicorn",
    "gunicorn": "gunicorn",
    "hypercorn": "hypercorn",
    "flask": "flask",
    "fastapi": "fastapi",
}
_PYTHON = re.compile(r"^python(?:\d+(?:\.\d+)?)?$")
_RUNTIME = Path(__file__).with_name("runtime")


@dataclass(frozen=True)
class Plan:
    """How a container runs here."""

    image: str
    container: str
    mode: str  # "python" (forked) or "exec" (a shell command line)
    argv: list[str]
    python: dict[str, Any] | None
    env: dict[str, str]
    root: Path
    cwd: Path
    ports: tuple[int, ...]
    key: str


@dataclass(frozen=True)
class Static:
    """A container that is not run: its health is derived from the state."""

    container: str
    ports: tuple[int, ...]
    why: str


@dataclass(eq=False)
class Running:
    """One container process (or the replay of one that exited at start)."""

    ident: str
    task: EmulatedTask
    plan: Plan
    stdout: Path
    stderr: Path
    started_at: datetime
    pid: int | None = None
    status: int | None = None
    listening: dict[int, tuple[str, int]] = field(default_factory=dict)
    first_listen: float | None = None
    offsets: dict[str, int] = field(default_factory=lambda: {"stdout": 0, "stderr": 0})
    partial: dict[str, bytes] = field(default_factory=lambda: {"stdout": b"", "stderr": b""})
    replayed: bool = False
    stopping: bool = False
    stop_at: datetime | None = None
    kill_at: float | None = None
    checkers: dict[tuple[tuple[str, int], bool], HealthChecker] = field(default_factory=dict)
    ahead: dict[
        tuple[tuple[str, int], bool], tuple[Future[int | ProbeResult], tuple[str, str, float]]
    ] = field(default_factory=dict)
    handles: dict[str, Any] = field(default_factory=dict)

    def close_files(self) -> None:
        for future, _ in self.ahead.values():
            future.cancel()
        self.ahead.clear()
        for checker in self.checkers.values():
            checker.close()
        self.checkers.clear()
        for handle in self.handles.values():
            with contextlib.suppress(OSError):
                handle.close()
        self.handles.clear()

    @property
    def exited(self) -> bool:
        return self.status is not None

    def exit_code(self) -> int | None:
        """The exit code ECS shows (128 + N for a process killed by signal N, as Docker)."""
        if self.status is None:
            return None
        return self.status if self.status >= 0 else 128 - self.status


class StarterError(RuntimeError):
    """The process starter could not be started or has gone."""


class Starter:
    """The emulator's end of the process starter (:mod:`.runtime.zygote`)."""

    def __init__(self, directory: Path, on_event: Callable[[dict[str, Any]], None]) -> None:
        self.on_event = on_event
        self.dead = False
        ours, theirs = socket.socketpair()
        log = (directory / "starter.log").open("ab")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and file
                [
                    sys.executable,
                    "-P",
                    str(_RUNTIME / "zygote.py"),
                    str(theirs.fileno()),
                    str(_RUNTIME / "shim.py"),
                    ",".join(PRELOAD),
                    str(os.getpid()),
                ],
                pass_fds=[theirs.fileno()],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                cwd=directory,
                env=env,
                start_new_session=True,  # Ctrl-C in the terminal is the emulator's to handle
            )
        finally:
            theirs.close()
            log.close()
        self.sock = ours
        self._buffer = b""

    def send(self, message: dict[str, Any]) -> None:
        if self.dead:
            raise StarterError("the process starter has stopped")
        try:
            self.sock.sendall((json.dumps(message) + "\n").encode())
        except OSError as exc:
            self._died()
            raise StarterError(f"the process starter has stopped: {exc}") from exc

    def pump(self, timeout: float = 0.0) -> None:
        """Read what the starter reported (waiting up to ``timeout`` real seconds)."""
        if self.dead:
            return
        if timeout > 0 and not select.select([self.sock], [], [], timeout)[0]:
            return
        while True:
            try:
                data = self.sock.recv(65536, socket.MSG_DONTWAIT)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                self._died()
                return
            self._buffer += data
            while b"\n" in self._buffer:
                line, self._buffer = self._buffer.split(b"\n", 1)
                if line.strip():
                    self.on_event(json.loads(line))

    def _died(self) -> None:
        if not self.dead:
            self.dead = True
            self.on_event({"event": "starter-died"})

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
        self.dead = True
        try:
            self.process.wait(timeout=2)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(self.process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=2)


_LIVE: weakref.WeakSet[ProcessRunner] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:  # pragma: no cover - a safety net for emulators never stopped
    for runner in list(_LIVE):
        runner.close()


class ProcessRunner:
    """Runs each task's app container as a local process (see the module docstring)."""

    def __init__(
        self,
        emulator: Emulator,
        *,
        principal: str,
        app_container: Callable[[EmulatedTask], tuple[str | None, int]],
    ) -> None:
        self.emulator = emulator
        self.app_container = app_container
        self.network = Network(emulator, principal)
        self.directory = emulator.work_dir / "dataplane"
        self.directory.mkdir(parents=True, exist_ok=True)
        self.derived: list[str] = []
        """Why a container's health is derived statically (one line per image)."""
        self._notes: list[str] = []
        self._running: dict[str, Running] = {}  # task ARN -> its app process
        self._by_ident: dict[str, Running] = {}
        self._static: dict[str, Static] = {}  # task ARN -> why it is not run
        self._tasks_by_ip: dict[str, EmulatedTask] = {}
        self._ending: dict[str, Running] = {}  # stopped tasks' processes shutting down
        self._plans: dict[tuple[str, str, str], Plan | Static] = {}
        self._memo: dict[str, tuple[int, bytes, bytes]] = {}
        self._roots: dict[str, Path] = {}
        self._count = 0
        self._pumped = -1.0
        self.started = 0
        """How many processes were started (replays of a start-up exit not counted)."""
        self.starter: Starter | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._starter_error = ""
        if hasattr(os, "fork"):
            try:
                self.starter = Starter(self.directory, self._on_event)
            except OSError as exc:
                self._starter_error = f"the process starter could not start: {exc}"
        else:
            self._starter_error = "this platform cannot fork processes"
        _LIVE.add(self)

    # -- what the rehearsal shows ---------------------------------------------------------
    @property
    def notes(self) -> list[str]:
        """Caveats of the data plane (what it could not do as AWS would), in order."""
        return list(dict.fromkeys([*self._notes, *self.network.notes]))

    def _note(self, text: str) -> None:
        if text not in self._notes:
            self._notes.append(text)

    def pids(self) -> list[int]:
        """The processes running now (for tests and diagnostics)."""
        found = [r.pid for r in self._by_ident.values() if r.pid is not None and not r.exited]
        if self.starter is not None and self.starter.process.poll() is None:
            found.append(self.starter.process.pid)
        return found

    # -- ContainerRunner ----------------------------------------------------------------------
    def pull_error(self, task: EmulatedTask) -> str | None:
        images = [c.image for c in task.containers if c.image]
        return self.network.pull_error(
            subnet_id=task.subnet_id,
            public_ip=_public_ip(task),
            security_groups=list(task.security_groups),
            images=images,
        )

    def logs_error(self, task: EmulatedTask) -> str | None:
        drivers = [
            (d.get("logConfiguration") or {}).get("logDriver")
            for d in task.task_definition.container_definitions
        ]
        if "awslogs" not in drivers:
            return None
        return self.network.logs_error(
            subnet_id=task.subnet_id,
            public_ip=_public_ip(task),
            security_groups=list(task.security_groups),
        )

    def start(self, task: EmulatedTask) -> None:
        name, port = self.app_container(task)
        if name is None:
            return
        task.app = None  # the process writes its own lines
        self._tasks_by_ip[task.ip] = task
        plan = self._plan(task, name, port)
        if isinstance(plan, Static):
            self._static[task.task_arn] = plan
            line = f"{name} ({task.family_revision}): {plan.why}"
            if line not in self.derived:
                self.derived.append(line)
            return
        self._count += 1
        ident = f"{task.task_id[:12]}-{self._count}"
        where = self.directory / "tasks" / ident
        where.mkdir(parents=True, exist_ok=True)
        running = Running(
            ident,
            task,
            plan,
            where / "stdout",
            where / "stderr",
            self.emulator.now(),
        )
        self._running[task.task_arn] = running
        self._by_ident[ident] = running
        memo = self._memo.get(plan.key)
        if memo is not None:
            # The same container (image, command, environment) exited before it listened:
            # it would again; its output and exit code are replayed, not run again.
            status, out, err = memo
            running.stdout.write_bytes(out)
            running.stderr.write_bytes(err)
            running.status = status
            running.replayed = True
            return
        if self.starter is None:
            running.stderr.write_bytes(f"{self._starter_error}\n".encode())
            running.status = 125
            self._note(self._starter_error)
            return
        request: dict[str, Any] = {
            "op": "spawn",
            "id": ident,
            "mode": plan.mode,
            "argv": plan.argv,
            "env": plan.env,
            "cwd": str(plan.cwd),
            "stdout": str(running.stdout),
            "stderr": str(running.stderr),
            "python": plan.python,
        }
        try:
            self.starter.send(request)
        except StarterError as exc:
            running.status = 125
            self._note(str(exc))
            return
        self.started += 1

    def ready(self, task: EmulatedTask) -> None:
        """Block (at most READY_TIMEOUT real seconds) until the app listens or exits."""
        running = self._running.get(task.task_arn)
        if running is None:
            return
        deadline = time.monotonic() + READY_TIMEOUT
        port = running.plan.ports[0] if running.plan.ports else None
        while self.starter is not None and not running.exited:
            if port is not None and port in running.listening:
                break
            now = time.monotonic()
            if running.first_listen is not None and now >= running.first_listen + OTHER_PORT_GRACE:
                break
            if now >= deadline:
                self._note(
                    f"{running.plan.container} of {task.family_revision} neither listened on a "
                    f"port nor exited within {READY_TIMEOUT:g} s; its health checks go on"
                )
                break
            wait = deadline - now
            if running.first_listen is not None:
                wait = min(wait, running.first_listen + OTHER_PORT_GRACE - now)
            self.starter.pump(wait)
        self._drain(running, running.started_at)
        if running.exited and not running.listening and not running.replayed:
            self._memo[running.plan.key] = (
                int(running.status or 0),
                running.stdout.read_bytes(),
                running.stderr.read_bytes(),
            )

    def exit_code(self, task: EmulatedTask) -> tuple[str, int] | None:
        self._reap()
        running = self._running.get(task.task_arn)
        if running is None or running.stopping:
            return None
        now = self.emulator.clock.seconds
        if not running.exited and self.starter is not None and self._pumped != now:
            # Asked whenever the clock's processes are looked at: the starter's reports
            # are read once per simulated moment.
            self._pumped = now
            self.starter.pump(0)
        code = running.exit_code()
        if code is None:
            return None
        self._drain(running)
        return running.plan.container, code

    def stop(self, task: EmulatedTask) -> None:
        running = self._running.get(task.task_arn)
        if running is None:
            return
        running.stopping = True
        self._drain(running)
        running.stop_at = self.emulator.now()
        if not running.exited:
            self._signal(running, signal.SIGTERM)

    def stopped(self, task: EmulatedTask) -> tuple[str, int | None] | None:
        """The app container's exit code after SIGTERM. An app that takes a while to shut
        down (uvicorn: ~0.1-0.2 s) is not waited for: its exit code is set on the task
        when it exits, and its last lines are stamped with the time it was stopped."""
        running = self._running.pop(task.task_arn, None)
        self._static.pop(task.task_arn, None)
        if self._tasks_by_ip.get(task.ip) is task:
            del self._tasks_by_ip[task.ip]
        if running is None:
            return None
        self._wait_exit(running, STOP_SETTLE)
        if running.exited:
            self._end(running)
            return running.plan.container, running.exit_code()
        running.kill_at = time.monotonic() + STOP_WAIT
        self._ending[running.ident] = running
        return running.plan.container, None

    def prober(self, task: EmulatedTask) -> Prober | None:
        arn = task.task_arn

        def probe(target: TargetRef, at: datetime) -> ProbeResult:
            return self.probe(arn, task, target, at)

        return probe

    # -- health checks -------------------------------------------------------------------------
    def probe(self, arn: str, task: EmulatedTask, target: TargetRef, at: datetime) -> ProbeResult:
        check = target.health_check
        port = target.port if check.port == "traffic-port" else int(check.port)
        reach = self.reachable(task, target.target_group_arn, port)
        if not reach.ok:
            # The security groups drop the check: it times out.
            return _timeout()
        static = self._static.get(arn)
        if static is not None:
            if port in static.ports:
                # Nothing answers for real: the load balancer's default verdict (passing,
                # unless the rehearsal injected a fault there).
                verdict: ProbeResult = self.emulator.service("elbv2").default_prober(target, at)
                return verdict
            return _refused()
        running = self._running.get(arn)
        if running is None:
            return _refused()
        if not running.exited and self.starter is not None:
            self.starter.pump(0)
        local = running.listening.get(port)
        if running.exited or local is None:
            self._drain(running, at)
            return _refused()
        tls = check.protocol.upper() == "HTTPS"
        asked = (check.path, f"{target.id}:{port}", min(check.timeout, PROBE_TIMEOUT_CAP))
        result = self._check(running, (local, tls), asked)
        self._drain(running, at)
        if isinstance(result, ProbeResult):
            return result
        if matches(check.matcher, result):
            return ProbeResult(True, result)
        return ProbeResult(
            False,
            result,
            "Target.ResponseCodeMismatch",
            f"Health checks failed with these codes: [{result}]",
        )

    def _check(
        self, running: Running, key: tuple[tuple[str, int], bool], asked: tuple[str, str, float]
    ) -> int | ProbeResult:
        """One health check of a running app: the answer to the request sent ahead after
        the previous check (when it asked the same), else a request now; then the next
        request is sent ahead, on a worker thread.

        The app runs in real time while the simulated clock jumps, so when in real time a
        check is made says nothing about the simulated moment it stands for; sending it
        ahead lets the app answer while the emulator serves other calls, instead of the
        emulator waiting for each answer (a round trip to another process per check,
        which costs most on a loaded machine). Each check is still a real request to the
        app, the checks of a target one at a time, in order."""
        path, host, timeout = asked
        checker = running.checkers.get(key)
        if checker is None:
            checker = running.checkers[key] = HealthChecker(key[0], key[1])
        result: int | ProbeResult | None = None
        ahead = running.ahead.pop(key, None)
        if ahead is not None:
            future, was = ahead
            try:
                answer = future.result(timeout=timeout + AHEAD_GRACE)
            except Exception:  # noqa: BLE001 - a request still hanging: a timeout
                # The worker still holds the connection: the next checks get a new one.
                checker = running.checkers[key] = HealthChecker(key[0], key[1])
                answer = _timeout()
            if was == asked:
                result = answer
        if result is None:
            result = checker.check(path, host=host, timeout=timeout)
        if self.starter is not None:
            self.starter.pump(0)
        if running.exited:
            return _refused()
        running.ahead[key] = (
            self._workers().submit(checker.check, path, host=host, timeout=timeout),
            asked,
        )
        return result

    def _workers(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="bluegreen-checks")
        return self._pool

    def reachable(self, task: EmulatedTask, group_arn: str, port: int) -> Any:
        elb = self.emulator.service("elbv2")
        for balancer in elb.balancers_of(group_arn):
            reach = self.network.admits(
                balancer_groups=[str(g) for g in (balancer.security_groups or [])],
                balancer_subnets=[_subnet_id(s) for s in (balancer.subnets or [])],
                task_groups=list(task.security_groups),
                task_ip=task.ip,
                port=port,
            )
            if not reach.ok:
                return reach
        from bluegreen.emulator.network import Reach

        return Reach(True)

    def not_run_reason(self, target_id: str) -> str:
        """Why the app at a target address is not run for real here, or "" (it is, or no
        task of this emulator has that address)."""
        task = self._tasks_by_ip.get(target_id)
        static = self._static.get(task.task_arn) if task is not None else None
        return f"{static.container}: {static.why}" if static is not None else ""

    # -- the load balancer's side --------------------------------------------------------------
    def forward_to(
        self, group_arn: str, target_id: str, port: int
    ) -> tuple[str, int] | tuple[int, str]:
        """Where the listener proxy sends a request for a target (see proxy.Forwarder)."""
        task = self._tasks_by_ip.get(target_id)
        if task is None:
            return 502, f"no task of this emulator has the address {target_id}"
        reach = self.reachable(task, group_arn, port)
        if not reach.ok:
            return 504, str(reach.why)
        static = self._static.get(task.task_arn)
        if static is not None:
            return 502, f"{static.container} is not run locally: {static.why}"
        running = self._running.get(task.task_arn)
        if running is None:
            return 502, f"nothing runs at {target_id}"
        if not running.exited and self.starter is not None:
            self.starter.pump(0)
        local = running.listening.get(port)
        if running.exited or local is None:
            return 502, f"nothing listens on port {port} of {target_id}"
        return local

    def after_request(self, task_ip: str) -> None:
        """Read what a task's app printed while serving a proxied request."""
        for running in list(self._running.values()):
            if running.task.ip == task_ip:
                self._drain(running)

    # -- closing ------------------------------------------------------------------------------
    def close(self) -> None:
        """Kill every process (SIGKILL) and the starter; never raises."""
        _LIVE.discard(self)
        with contextlib.suppress(Exception):
            for running in list(self._by_ident.values()):
                running.close_files()
                if not running.exited and running.pid is not None:
                    with contextlib.suppress(OSError):
                        os.killpg(running.pid, signal.SIGKILL)
        if self.starter is not None:
            with contextlib.suppress(Exception):
                self.starter.close()
        if self._pool is not None:
            # The apps are gone: a request still out fails at once.
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        with contextlib.suppress(Exception):
            self.network.close()
        self._running.clear()
        self._by_ident.clear()

    # -- internals ------------------------------------------------------------------------------
    def _on_event(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "starter-died":
            self._note("the data plane's process starter stopped: every app process ended")
            for running in self._by_ident.values():
                if running.status is None:
                    running.status = -int(signal.SIGKILL)
            return
        found = self._by_ident.get(str(event.get("id", "")))
        if found is None:
            return
        if kind == "spawned":
            found.pid = int(event["pid"])
        elif kind == "listen":
            port = int(event["port"])
            found.listening.setdefault(port, (str(event["host"]), int(event["local"])))
            if found.first_listen is None:
                found.first_listen = time.monotonic()
        elif kind == "exit":
            found.status = int(event["status"])
            if found.ident in self._ending:
                self._end(found)

    def _signal(self, running: Running, signum: int) -> None:
        if running.pid is not None:
            with contextlib.suppress(OSError):
                os.killpg(running.pid, signum)
        elif self.starter is not None:
            with contextlib.suppress(StarterError):
                self.starter.send({"op": "kill", "id": running.ident, "signal": int(signum)})

    def _wait_exit(self, running: Running, wait: float) -> None:
        """Wait up to ``wait`` real seconds for the process to exit."""
        if running.exited or self.starter is None:
            return
        deadline = time.monotonic() + wait
        while not running.exited and not self.starter.dead:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self.starter.pump(left)

    def _end(self, running: Running) -> None:
        """The process of a stopped task has exited: its last lines, its exit code."""
        self._ending.pop(running.ident, None)
        self._drain(running, running.stop_at)
        running.close_files()
        self._by_ident.pop(running.ident, None)
        found = running.task.container(running.plan.container)
        code = running.exit_code()
        if found is not None and found.exit_code is None and code is not None:
            found.exit_code = code

    def _reap(self) -> None:
        """SIGKILL what has not exited STOP_WAIT real seconds after its SIGTERM (ECS's
        stopTimeout: "the container is forcefully killed" after it, 30 s by default)."""
        if not self._ending:
            return
        if self.starter is not None:
            self.starter.pump(0)
        now = time.monotonic()
        for running in list(self._ending.values()):
            if running.exited:
                self._end(running)
            elif running.kill_at is not None and now >= running.kill_at:
                running.kill_at = None
                self._signal(running, signal.SIGKILL)

    def _drain(self, running: Running, at: datetime | None = None) -> None:
        """Copy what the process printed since the last time into the task's logs."""
        logging = running.task.logging
        stamp = at or self.emulator.now()
        for stream, path in (("stdout", running.stdout), ("stderr", running.stderr)):
            handle = running.handles.get(stream)
            try:
                if handle is None:
                    handle = running.handles[stream] = path.open("rb")
                    handle.seek(running.offsets[stream])
                data = handle.read(1 << 20)
            except OSError:
                continue
            if not data:
                continue
            running.offsets[stream] += len(data)
            text = running.partial[stream] + data
            lines = text.split(b"\n")
            running.partial[stream] = lines.pop()
            if running.exited and running.partial[stream]:
                lines.append(running.partial[stream])
                running.partial[stream] = b""
            if logging is None:
                continue
            for line in lines:
                logging.line(
                    running.plan.container,
                    stream,
                    line.decode("utf-8", errors="replace").rstrip("\r"),
                    stamp,
                )

    # -- planning ---------------------------------------------------------------------------
    def _plan(self, task: EmulatedTask, name: str, port: int) -> Plan | Static:
        definition = next(
            (c for c in task.task_definition.container_definitions if c["name"] == name), None
        )
        if definition is None:
            return Static(name, (port,), f"the task definition has no container {name}")
        ports = tuple(
            dict.fromkeys(
                [port]
                + [
                    int(m["containerPort"])
                    for m in definition.get("portMappings") or []
                    if m.get("containerPort")
                ]
            )
        )
        uri = str(definition.get("image", ""))
        key = (task.task_definition.arn, name, uri)
        found = self._plans.get(key)
        if found is None:
            found = self._make_plan(definition, uri, ports)
            self._plans[key] = found
        if isinstance(found, Plan):
            env = dict(found.env)
            env["HOSTNAME"] = (
                "ip-" + task.ip.replace(".", "-") + (f".{self.emulator.region}.compute.internal")
            )
            return dataclasses.replace(found, env=env)
        return found

    def _make_plan(
        self, definition: dict[str, Any], uri: str, ports: tuple[int, ...]
    ) -> Plan | Static:
        name = str(definition["name"])
        files = self.emulator.images.get(uri)
        image: dockerfile.Image
        if files is not None:
            try:
                image = dockerfile.image(files)
            except dockerfile.DockerfileError as exc:
                return Static(name, ports, f"its image {uri} cannot be read: {exc}")
        elif dockerfile.is_python_image(uri):
            image = dockerfile.python_base(uri)
        else:
            return Static(
                name,
                ports,
                f"its image {uri} is not the official Python image, nor built by the "
                "emulated CodeBuild: bluegreen cannot run it",
            )
        for note in image.notes:
            self._note(f"{uri}: {note}")
        argv = _command(image, definition)
        if not argv:
            return Static(name, ports, f"its image {uri} has no command to run")
        if not image.python:
            return Static(
                name,
                ports,
                f"its image is built on {image.base}, not on the official Python image "
                "bluegreen can run",
            )
        missing = self._missing(image, files or {})
        if missing:
            return Static(
                name,
                ports,
                "packages its image installs are not installed here: "
                + ", ".join(missing)
                + " (install them into bluegreen's environment to run it for real)",
            )
        root = self._root(uri, image)
        cwd = root / image.workdir.lstrip("/")
        cwd.mkdir(parents=True, exist_ok=True)
        env = {**image.env}
        for item in definition.get("environment") or []:
            env[str(item["name"])] = str(item.get("value", ""))
        for secret in definition.get("secrets") or []:
            self._note(
                f"{name}: the secret {secret.get('name')} is not injected (the emulator does "
                "not read Secrets Manager or Parameter Store for containers)"
            )
        if definition.get("environmentFiles"):
            self._note(f"{name}: environmentFiles are not read")
        env.update(
            {
                "AWS_EXECUTION_ENV": "AWS_ECS_FARGATE",
                "AWS_REGION": self.emulator.region,
                "AWS_DEFAULT_REGION": self.emulator.region,
                "HOME": str(root / "root"),
                "PATH": f"{self._bin()}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            }
        )
        version = image.env.get("PYTHON_VERSION", "")
        here = f"{sys.version_info.major}.{sys.version_info.minor}"
        if version and not version.startswith(here + ".") and version != here:
            self._note(
                f"an image of Python {version} runs here on this machine's Python "
                f"{sys.version.split()[0]}"
            )
        spec = _python_spec(argv, root)
        key = hashlib.sha256(
            json.dumps([uri, argv, sorted(env.items()), image.workdir]).encode()
        ).hexdigest()
        if spec is not None:
            return Plan(uri, name, "python", argv, spec, env, root, cwd, ports, key)
        shell = _shell_command(argv)
        if shell is not None:
            env["PYTHONPATH"] = os.pathsep.join(
                [str(self._site()), *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]]
            )
            return Plan(
                uri,
                name,
                "exec",
                ["/bin/sh", "-c", shell, *argv[3:]],
                None,
                env,
                root,
                cwd,
                ports,
                key,
            )
        return Static(
            name,
            ports,
            f"its command {shlex.join(argv)} is not a Python app bluegreen recognises",
        )

    def _missing(self, image: dockerfile.Image, files: dict[str, bytes]) -> list[str]:
        names: list[str] = list(image.packages)
        for path in image.requirements:
            names.extend(_requirements(files, path, self._note, 0))
        missing = []
        for wanted in dict.fromkeys(names):
            name, _, pinned = wanted.partition("==")
            try:
                have = metadata.version(name)
            except metadata.PackageNotFoundError:
                missing.append(name)
                continue
            if pinned and have != pinned:
                self._note(f"the image pins {name}=={pinned}; it runs here with {name} {have}")
        return missing

    def _root(self, uri: str, image: dockerfile.Image) -> Path:
        found = self._roots.get(uri)
        if found is not None:
            return found
        digest = hashlib.sha256(uri.encode()).hexdigest()[:16]
        root = self.directory / "images" / digest
        for path, data in image.files.items():
            target = root / path.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        (root / "root").mkdir(parents=True, exist_ok=True)
        self._roots[uri] = root
        return root

    def _bin(self) -> Path:
        """Commands a shell command line may call: this machine's interpreter for
        ``python``, ``python3`` and ``python3.x``, the servers' modules for theirs."""
        where = self.directory / "bin"
        if not where.exists():
            where.mkdir(parents=True)
            minor = f"python{sys.version_info.major}.{sys.version_info.minor}"
            commands = {n: "" for n in ("python", "python3", minor)}
            commands.update({n: f"-m {m} " for n, m in ENTRY_MODULES.items()})
            for command, extra in commands.items():
                path = where / command
                path.write_text(
                    f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {extra}"$@"\n',
                    encoding="utf-8",
                )
                path.chmod(0o755)
        return where

    def _site(self) -> Path:
        """A directory whose ``sitecustomize`` installs the port shim in every Python
        process a shell command line starts."""
        where = self.directory / "site"
        if not where.exists():
            where.mkdir(parents=True)
            shim = str(_RUNTIME / "shim.py")
            (where / "sitecustomize.py").write_text(
                "import importlib.util as _u\n"
                f"_s = _u.spec_from_file_location('_bluegreen_shim', {shim!r})\n"
                "_m = _u.module_from_spec(_s)\n"
                "_s.loader.exec_module(_m)\n"
                "_m.install_from_environment()\n",
                encoding="utf-8",
            )
        return where


# ------------------------------------------------------------------------------ helpers


def _public_ip(task: EmulatedTask) -> bool:
    return bool(getattr(task, "assign_public_ip", False))


def _subnet_id(subnet: Any) -> str:
    return subnet if isinstance(subnet, str) else str(getattr(subnet, "id", ""))


def _command(image: dockerfile.Image, definition: dict[str, Any]) -> list[str]:
    """What the container runs: ECS's ``entryPoint``/``command`` over the image's
    (ECS container definition reference: entryPoint maps to docker's ``--entrypoint``,
    command to ``COMMAND``; ``--entrypoint`` "also resets any default command")."""
    entry = [str(a) for a in definition.get("entryPoint") or []]
    command = [str(a) for a in definition.get("command") or []]
    if entry:
        return entry + command
    return list(image.entrypoint or []) + (command or list(image.cmd or []))


def _python_spec(argv: list[str], root: Path) -> dict[str, Any] | None:
    """What a ``python ...`` (or server console script) command runs, or None."""
    exe = os.path.basename(argv[0])
    if exe in ENTRY_MODULES:
        return {"kind": "module", "target": ENTRY_MODULES[exe], "args": argv[1:], "root": str(root)}
    if not _PYTHON.match(exe):
        return None
    spec: dict[str, Any] = {"root": str(root)}
    i = 1
    while i < len(argv):
        word = argv[i]
        if word == "-m" and i + 1 < len(argv):
            return {**spec, "kind": "module", "target": argv[i + 1], "args": argv[i + 2 :]}
        if word == "-c" and i + 1 < len(argv):
            return {**spec, "kind": "code", "target": argv[i + 1], "args": argv[i + 2 :]}
        if word.startswith("-m") and len(word) > 2:
            return {**spec, "kind": "module", "target": word[2:], "args": argv[i + 1 :]}
        if word in ("-W", "-X") and i + 1 < len(argv):
            i += 2
            continue
        if word.startswith(("-W", "-X")):
            i += 1
            continue
        if word.startswith("-") and word != "-":
            for letter in word[1:]:
                if letter == "B":
                    spec["dont_write_bytecode"] = True
                elif letter == "u":
                    spec["unbuffered"] = True
                elif letter in "EI":
                    spec["ignore_environment"] = True
                elif letter not in "sSObdqvR":
                    return None  # -i, -h, -V...: not what a server's command does
            i += 1
            continue
        if word == "-":
            return None
        script = word if not word.startswith("/") else str(root) + word
        return {**spec, "kind": "script", "target": script, "args": argv[i + 1 :]}
    return None


def _shell_command(argv: list[str]) -> str | None:
    """The command line of ``sh -c "..."`` when it starts a Python server, else None."""
    if len(argv) < 3 or os.path.basename(argv[0]) not in ("sh", "bash", "dash") or argv[1] != "-c":
        return None
    try:
        words = shlex.split(argv[2])
    except ValueError:
        return None
    for word in words:
        if "=" in word and not word.startswith("-") and re.match(r"^[A-Za-z_]\w*=", word):
            continue  # VAR=value before the command
        if word == "exec":
            continue
        exe = os.path.basename(word)
        return argv[2] if (exe in ENTRY_MODULES or _PYTHON.match(exe)) else None
    return None


def _requirements(
    files: dict[str, bytes], path: str, note: Callable[[str], None], depth: int
) -> list[str]:
    """``name`` or ``name==version`` for each requirement of a requirements file."""
    data = files.get(path.lstrip("./")) if path.startswith("./") else files.get(path)
    if data is None:
        base = os.path.basename(path)
        data = next((v for k, v in files.items() if os.path.basename(k) == base), None)
    if data is None:
        note(f"the requirements file {path} named by the Dockerfile is not in the image's files")
        return []
    out: list[str] = []
    text = data.decode("utf-8", errors="replace").replace("\\\n", " ")
    for raw in text.splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")) and depth < 5:
            out.extend(_requirements(files, line.split(None, 1)[1], note, depth + 1))
            continue
        if line.startswith("-"):
            continue
        requirement = line.split(";", 1)[0].split("--hash", 1)[0].strip()
        match = re.match(
            r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?\s*(==\s*([^\s,]+))?", requirement
        )
        if match:
            out.append(match[1] + (f"=={match[3]}" if match[3] else ""))
    return out


def matches(matcher: str, status: int) -> bool:
    """Whether a status code satisfies a target group's ``Matcher.HttpCode``: "200",
    "200,202", "200-299" (ELB API reference, Matcher: "multiple values (for example,
    "200,202") or a range of values (for example, "200-299")")."""
    for part in str(matcher).split(","):
        part = part.strip()
        if "-" in part:
            low, _, high = part.partition("-")
            if low.strip().isdigit() and high.strip().isdigit() and int(low) <= status <= int(high):
                return True
        elif part.isdigit() and int(part) == status:
            return True
    return False


def _timeout() -> ProbeResult:
    # "Target.Timeout - The health check requests timed out" (DescribeTargetHealth,
    # TargetHealth.Reason); the description ELB shows is "Request timed out".
    return ProbeResult(False, 0, "Target.Timeout", "Request timed out")


def _refused() -> ProbeResult:
    # "Target.FailedHealthChecks - The load balancer received an error while establishing
    # a connection to the target or the target response was malformed" (TargetHealth.Reason).
    return ProbeResult(False, 0, "Target.FailedHealthChecks", "Health checks failed")


class HealthChecker:
    """Health check requests to one local address, as the load balancer sends them (GET,
    ``User-Agent: ELB-HealthChecker/2.0``; ALB guide, target-group-health-checks.md).

    The load balancer opens a connection per check and closes it; here one connection is
    kept while the app keeps it open (HTTP/1.1 keep-alive), which gives the same answers
    three to four times faster (measured: 1.7 ms a check instead of 5-8 ms on a loaded
    2-core machine). An app that closes connections (HTTP/1.0 servers such as
    http.server) gets a new one for each check.
    """

    def __init__(self, address: tuple[str, int], tls: bool = False) -> None:
        self.address = address
        self.tls = tls
        self._connection: http.client.HTTPConnection | None = None

    def _connect(self, timeout: float) -> http.client.HTTPConnection:
        if self._connection is None:
            host, port = self.address
            if self.tls:
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE  # ALB does not verify targets' certificates
                self._connection = http.client.HTTPSConnection(
                    host, port, timeout=timeout, context=context
                )
            else:
                self._connection = http.client.HTTPConnection(host, port, timeout=timeout)
        self._connection.timeout = timeout
        if self._connection.sock is not None:
            self._connection.sock.settimeout(timeout)
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(OSError):
                self._connection.close()
            self._connection = None

    def check(self, path: str, *, host: str, timeout: float) -> int | ProbeResult:
        """One health check; the status code, or the failure it is."""
        reused = self._connection is not None and self._connection.sock is not None
        try:
            return self._request(path, host, timeout)
        except TimeoutError:
            self.close()
            return _timeout()
        except (OSError, http.client.HTTPException, ssl.SSLError):
            self.close()
            if not reused:
                return _refused()
        # The app closed the kept connection meanwhile (its keep-alive timeout): a new one.
        try:
            return self._request(path, host, timeout)
        except TimeoutError:
            self.close()
            return _timeout()
        except (OSError, http.client.HTTPException, ssl.SSLError):
            self.close()
            return _refused()

    def _request(self, path: str, host: str, timeout: float) -> int:
        connection = self._connect(timeout)
        connection.request(
            "GET",
            path,
            headers={
                "Host": host,
                "User-Agent": "ELB-HealthChecker/2.0",
                "Accept-Encoding": "gzip, compressed",
            },
        )
        response = connection.getresponse()
        response.read(1 << 16)
        if response.will_close:
            self.close()
        return int(response.status)


def http_check(
    address: tuple[str, int], path: str, *, host: str, timeout: float, tls: bool = False
) -> int | ProbeResult:
    """One health check on a new connection (see :class:`HealthChecker`)."""
    checker = HealthChecker(address, tls)
    try:
        return checker.check(path, host=host, timeout=timeout)
    finally:
        checker.close()
