"""The sandbox: the emulated AWS on loopback, kept running, on a clock that runs by itself.

``bluegreen sandbox`` (:mod:`bluegreen.cli.sandbox`) is a thin shell over
:class:`Sandbox`:

- the :class:`~bluegreen.emulator.Emulator` serves SDKs and the AWS CLI through an
  :class:`~bluegreen.emulator.http.Endpoint` on loopback, so the unchanged commands
  (``bluegreen deploy``, ``status``, ``promote``...) run against it in another terminal;
- its clock runs at ``speed`` times real time (a thread moves it every
  :data:`TICK` seconds under the emulator's lock), from the real current time;
- the endpoint's control path answers ``GET /_bluegreen/status`` (clock, speed,
  repositories) and ``POST /_bluegreen/advance`` (``{"seconds": N}``: time passes now);
- :meth:`Sandbox.observe` reads the system through the API (a few reads, in process)
  and says what changed: a stack created or deleted, a pipeline execution started or
  ended, a deployment waiting for reroute, a CodeCommit repository to push to; and what
  the data plane says (a container whose health is derived statically, and why);
- the data plane is on, as in the rehearsal (:mod:`bluegreen.emulator.dataplane`): each
  task's app runs as a local process when bluegreen can run it (the Python sample with
  its packages installed here), health-checked for real; otherwise its health is
  derived statically;
- with a state directory, the emulator's journal (:mod:`bluegreen.emulator.journal`)
  keeps every request that changed something, the clock's moves and the git pushes; the
  next sandbox on that directory replays it and carries on.

Nothing is left behind when it closes: the server's port, the threads, the emulator's
temporary directory (without a state directory) and the environment it changed.
"""

from __future__ import annotations

import json
import math
import os
import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from bluegreen.errors import OperationError, UsageError

DEFAULT_PORT = 4566
"""The port AWS-emulating tools conventionally use (LocalStack's edge port), so an
existing ``AWS_ENDPOINT_URL=http://localhost:4566`` habit works."""
DEFAULT_SPEED = 60.0
"""Simulated seconds per real second: the seed's 10-minute reroute wait passes in 10 s."""
MAX_SPEED = 3600.0
"""An hour per second. Faster, a command polling every 5-10 s real (``deploy``
following a release) would miss whole states between two reads: the 10-minute reroute
wait would pass between two polls."""
MAX_ADVANCE = 7 * 24 * 3600.0
"""The longest single move of ``bluegreen sandbox advance``: CodeDeploy's longest wait
(the termination wait, "The maximum setting is 2880 minutes (2 days)": CodeDeploy API
reference, BlueInstanceTerminationOption.terminationWaitTimeInMinutes) several times
over, while a move stays a few seconds of work (a day: ~2 s, bench/sandbox.py)."""
TICK = 0.1
"""Real seconds between two moves of the clock."""
OBSERVE_EVERY = 1.0
"""Real seconds between two looks at the system (a handful of in-process reads, ~10 ms:
bench/sandbox.py)."""
JOURNAL_EVERY = 5.0
"""Real seconds between two clock moves kept in the journal. The ticks in between are
not journaled: what the emulator does only depends on when things happen (every
request and push is journaled with its time, processes wake at their own times and
their conditions read state, never the clock), so replaying up to each request's time
gives the same state. The clock reached is journaled on close."""

STATE_FILES = ("journal.jsonl", "aws", "pushes", ".lock")
"""What a state directory holds: the journal, the emulator's files (git repositories,
rebuilt by the replay), the bundles of the pushes, the lock of the running sandbox."""

Say = Callable[[str], None]


@dataclass(frozen=True)
class Settings:
    """What ``bluegreen sandbox`` was asked for.

    ``region`` given explicitly (``--region``) must agree with a kept state's;
    ``default_region`` applies otherwise (the bluegreen.toml's ``project.region``).
    ``port`` 0 takes any free port.
    """

    port: int = DEFAULT_PORT
    speed: float = DEFAULT_SPEED
    state: Path | None = None
    region: str | None = None
    default_region: str = "ap-northeast-1"
    host: str = "127.0.0.1"


@dataclass
class _Seen:
    """What the last look at the system found (to say only what changed)."""

    stacks: dict[str, str] = field(default_factory=dict)
    executions: dict[str, str] = field(default_factory=dict)
    repositories: set[str] = field(default_factory=set)
    data_plane: set[str] = field(default_factory=set)


class Sandbox:
    """The emulated AWS served on loopback with a running clock; a context manager.

    :meth:`open` checks the settings (bad ones raise :class:`UsageError`, nothing
    started), takes the port, starts the emulator (replaying a kept state), serves and
    starts the clock; :meth:`close` undoes all of it.
    """

    def __init__(
        self,
        settings: Settings,
        progress: Say | None = None,
        deployments: Callable[[Any], list[str]] | None = None,
    ) -> None:
        """``deployments``: what the deployments did since the last look, one line each,
        given the account's Clients (``bluegreen sandbox`` passes
        ``bluegreen.engine.watch.DeploymentWatch().lines``: the engine interface, which
        the emulator does not know); None: the log says nothing of them."""
        self.settings = settings
        self._say = progress or (lambda _line: None)
        self.emulator: Any = None
        self.endpoint: Any = None
        self.region = settings.region or settings.default_region
        self.replayed = 0
        self.resumed = False
        self._journal: Any = None
        self._lock_file: Any = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._problems: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._seen = _Seen()
        self._deployment_lines = deployments
        self._started = False

    # -- lifecycle ---------------------------------------------------------------------
    def __enter__(self) -> Sandbox:
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def url(self) -> str:
        return str(self.endpoint.url)

    @property
    def speed(self) -> float:
        return self.settings.speed

    @property
    def state(self) -> Path | None:
        return self.settings.state.resolve() if self.settings.state is not None else None

    def open(self) -> None:
        """Check, bind, start (replaying a kept state), serve, start the clock."""
        from bluegreen.emulator.http import LOOPBACK, Endpoint

        settings = self.settings
        if settings.host not in LOOPBACK:
            raise UsageError(
                f"--host {settings.host!r} is not loopback: the sandbox has no "
                "authentication, so it only listens on this machine",
                hint=f"use one of {', '.join(LOOPBACK)}",
            )
        if not (math.isfinite(settings.speed) and 0 < settings.speed <= MAX_SPEED):
            raise UsageError(
                f"--speed {settings.speed:g} is not a speed from more than 0 to {MAX_SPEED:g}",
                hint="60 (the default) runs an hour of AWS time in a minute; 1 is real time",
            )
        if not 0 <= settings.port <= 65535:
            raise UsageError(f"--port {settings.port} is not a TCP port (0 to 65535)")
        header = self._check_state()
        made = self.state is not None and not self.state.exists()
        try:
            self._lock_state()
            self.emulator = self._emulator(header)  # made, not started: nothing runs yet
            self.endpoint = Endpoint(self.emulator, settings.port, settings.host, control=self)
            try:
                self.endpoint.bind()
            except OSError as exc:
                self.endpoint = None
                raise UsageError(
                    f"cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}",
                    hint="another process uses that port (a sandbox already running?): "
                    "stop it or pass --port N",
                ) from None
            self._start_emulator(header)
            self.observe()  # what exists already (a resumed state) is not news
            self.endpoint.start()
            self._ticker = threading.Thread(
                target=self._pace, name="bluegreen-sandbox-clock", daemon=True
            )
            self._ticker.start()
        except BaseException:
            self.close()
            if made and self.state is not None:
                with suppress(OSError):  # refused: the directory it made goes too
                    self.state.rmdir()
            raise

    def close(self) -> datetime | None:
        """Stop serving, stop the clock, keep the clock reached, stop the emulator; the
        simulated time it stopped at (None if it never started)."""
        stopped: datetime | None = None
        self._stop.set()
        if self.endpoint is not None:
            self.endpoint.stop()
            self.endpoint = None
        if self._ticker is not None:
            self._ticker.join(timeout=10)
            self._ticker = None
        if self.emulator is not None:
            with self.emulator.lock:
                stopped = self.emulator.now() if self._started else None
                if self._journal is not None:
                    self._journal.advance(self.emulator.clock.seconds)
                    self._journal.close()
                    self._journal = None
                self.emulator.journal = None
                self.emulator.stop()
            self.emulator = None
            self._started = False
        self._unlock_state()
        return stopped

    # -- the state directory -------------------------------------------------------------
    def _check_state(self) -> Any:
        """The kept journal's header, or None for a fresh state (or none kept)."""
        from bluegreen.emulator.journal import FILENAME, Journal

        state = self.state
        if state is None:
            return None
        hint = "pass a new or empty directory to start afresh, or the directory of a kept sandbox"
        if state.exists() and not state.is_dir():
            raise UsageError(f"--state {state} is not a directory", hint=hint)
        if not state.exists():
            parent = next((p for p in state.parents if p.exists()), None)
            if parent is None or not os.access(parent, os.W_OK | os.X_OK):
                raise UsageError(f"--state {state} cannot be created (no write access)", hint=hint)
            return None
        if not os.access(state, os.R_OK | os.W_OK | os.X_OK):
            raise UsageError(f"--state {state} is not readable and writable by you", hint=hint)
        journal = Journal(state)
        if not journal.exists:
            if any(state.iterdir()):
                raise UsageError(
                    f"--state {state} holds other files and no sandbox journal ({FILENAME})",
                    hint=hint,
                )
            return None
        try:
            header = journal.header()
            count = 0
            for entry in journal.entries():
                if entry.get("kind") not in ("request", "advance", "event"):
                    raise ValueError(f"unknown entry kind {entry.get('kind')!r}")
                count += 1
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise UsageError(
                f"--state {state}: {FILENAME} cannot be read: {exc}",
                hint="move the directory away to start afresh (the journal is the state)",
            ) from None
        if self.settings.region is not None and self.settings.region != header.region:
            raise UsageError(
                f"--region {self.settings.region} differs from the kept state's region "
                f"({header.region})",
                hint=f"leave --region out, or pass --region {header.region}",
            )
        self.region = header.region
        self.replayed = count
        return header

    def _lock_state(self) -> None:
        state = self.state
        if state is None:
            return
        state.mkdir(parents=True, exist_ok=True)
        try:
            import fcntl
        except ImportError:  # not POSIX: no lock, one sandbox per directory by convention
            return
        handle = (state / ".lock").open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip()
            handle.close()
            raise UsageError(
                f"--state {state} is in use by another sandbox"
                + (f" (process {holder})" if holder else ""),
                hint="stop that sandbox first (Ctrl-C in its terminal)",
            ) from None
        handle.truncate(0)
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def _unlock_state(self) -> None:
        handle, self._lock_file = self._lock_file, None
        if handle is None:
            return
        with suppress(OSError):
            Path(handle.name).unlink()
        handle.close()

    def _emulator(self, header: Any) -> Any:
        from bluegreen.emulator import Emulator

        # The data plane as the rehearsal has it: each task's app runs as a local process
        # when bluegreen can run it, its health is checked for real; otherwise derived
        # statically, which the watcher says (:meth:`_data_plane`).
        state = self.state
        if state is None:
            return Emulator(self.region, data_plane=True)
        if header is None:
            return Emulator(self.region, work_dir=state / "aws", data_plane=True)
        return Emulator(
            header.region,
            start=header.start,
            seed=header.seed,
            build_quota=header.build_quota,
            work_dir=state / "aws",
            data_plane=True,
        )

    def _start_emulator(self, header: Any) -> None:
        from bluegreen.emulator.journal import Header, Journal

        state = self.state
        emulator = self.emulator
        if state is None:
            emulator.start()
            self._started = True
            return
        journal = Journal(state)
        if header is None:
            emulator.start()
            self._started = True
            journal.open(
                Header(self.region, emulator.clock.start, emulator.seed, emulator.build_quota)
            )
        else:
            # The journal is the state: the files are made again by replaying it (the
            # repositories from their pushes' bundles, kept apart in pushes/).
            shutil.rmtree(state / "aws", ignore_errors=True)
            emulator.start()
            self._started = True
            self._say(f"resuming the state kept in {state}: replaying {self.replayed} entries")
            started = time.perf_counter()
            try:
                self.replayed = emulator.replay(journal)
            except Exception as exc:
                raise OperationError(
                    f"the kept state in {state} could not be replayed: {type(exc).__name__}: {exc}",
                    hint="move the directory away to start afresh; please report this with "
                    "its journal.jsonl",
                ) from exc
            self.resumed = True
            self._say(
                f"replayed {self.replayed} entries in {time.perf_counter() - started:.1f} s; "
                f"the clock is at {_stamp(emulator.now())}"
            )
            journal.open()
        self._journal = journal
        emulator.journal = journal

    # -- time ---------------------------------------------------------------------------
    def _pace(self) -> None:
        """Move the clock ``speed`` times as fast as real time until closed."""
        emulator = self.emulator
        last = time.monotonic()
        journaled = last
        while not self._stop.wait(TICK):
            now = time.monotonic()
            step = (now - last) * self.settings.speed
            last = now
            try:
                with emulator.lock:
                    target = emulator.clock.seconds + step
                    if now - journaled >= JOURNAL_EVERY:
                        emulator.advance_to(target)
                        journaled = now
                    else:
                        emulator.clock.advance_to(target)
            except Exception as exc:  # noqa: BLE001 - said by the watcher, the clock goes on
                lines = str(exc).splitlines() or [type(exc).__name__]
                tail = f" ... {lines[-1]}" if len(lines) > 1 else ""
                self._problems.put(f"{lines[0]}{tail} (a bug in bluegreen's emulator)")

    def advance(self, seconds: float) -> datetime:
        """Let ``seconds`` of simulated time pass now (on top of the running clock)."""
        if not (math.isfinite(seconds) and 0 < seconds <= MAX_ADVANCE):
            raise UsageError(
                f"cannot advance the clock by {seconds:g} s: from more than 0 up to "
                f"{MAX_ADVANCE / 86400:g} days at a time"
            )
        with self.emulator.lock:
            self.emulator.advance_to(self.emulator.clock.seconds + seconds)
            now: datetime = self.emulator.now()
        return now

    # -- the control path ---------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """What ``GET /_bluegreen/status`` answers."""
        from bluegreen.emulator import ACCOUNT_ID

        with self.emulator.lock:
            now = self.emulator.now()
            seconds = self.emulator.clock.seconds
            repositories = self._repositories()
        return {
            "endpoint": self.url,
            "region": self.region,
            "account": ACCOUNT_ID,
            "clock": now.isoformat(),
            "elapsed_seconds": seconds,
            "speed": self.settings.speed,
            "state": str(self.state) if self.state else None,
            "repositories": repositories,
            "pid": os.getpid(),
        }

    def handle(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """The control path (:class:`bluegreen.emulator.http.Control`)."""
        if self.emulator is None:
            return 503, {"error": "the sandbox is stopping"}
        if path == "/_bluegreen/status":
            if method != "GET":
                return 405, {"error": "GET /_bluegreen/status"}
            return 200, self.status()
        if path == "/_bluegreen/advance":
            if method != "POST":
                return 405, {"error": 'POST /_bluegreen/advance {"seconds": N}'}
            try:
                seconds = float(json.loads(body or b"{}")["seconds"])
            except (ValueError, KeyError, TypeError):
                return 400, {"error": 'the body must be {"seconds": N}'}
            try:
                self.advance(seconds)
            except UsageError as exc:
                return 400, {"error": exc.message}
            return 200, {**self.status(), "advanced_seconds": seconds}
        return 404, {"error": f"no {path}: GET /_bluegreen/status, POST /_bluegreen/advance"}

    def _repositories(self) -> dict[str, str]:
        codecommit = self.emulator.services.get("codecommit")
        names = sorted(getattr(codecommit, "repos", {}) or {})
        return {name: str(codecommit.local_remote(name)) for name in names}

    # -- what happens ---------------------------------------------------------------------
    def watch(self, say: Say, stop: threading.Event | None = None) -> None:
        """Say what happens until ``stop`` is set (or Ctrl-C); the emulator's failures too."""
        stopping = stop or self._stop
        while not stopping.wait(OBSERVE_EVERY):
            for line in self.observe():
                say(line)
            while True:
                try:
                    say(self._problems.get_nowait())
                except queue.Empty:
                    break

    def observe(self) -> list[str]:
        """What changed since the last look, one line each (``HH:MM:SS  what``).

        A few reads through the API, in process (no HTTP): DescribeStacks,
        ListRepositories, ListPipelines and ListPipelineExecutions per pipeline, and
        what the deployments watcher reads (each system's latest deployment, as
        ``bluegreen status`` reads it).
        """
        lines: list[str] = []
        try:
            lines += self._stacks()
            lines += self._remotes()
            lines += self._executions()
            lines += self._deployments()
            lines += self._data_plane()
        except Exception as exc:  # noqa: BLE001 - a failed look is said, the sandbox goes on
            lines.append(f"could not read the system: {type(exc).__name__}: {exc}")
        if not lines:
            return []
        stamp = self.emulator.now().strftime("%H:%M:%S")
        return [f"{stamp}  {line}" for line in lines]

    def _client(self, service: str) -> Any:
        return self.emulator.client(service)

    def _data_plane(self) -> list[str]:
        """What the data plane says, once each: a container whose health is derived
        statically (not run here) and why, and its caveats (as the rehearsal's notes)."""
        runner = getattr(self.emulator.services.get("ecs"), "runner", None)
        lines = [
            f"health derived statically, not checked for real: {line}"
            for line in getattr(runner, "derived", [])
        ]
        lines += [f"data plane: {note}" for note in getattr(runner, "notes", [])]
        fresh = [line for line in lines if line not in self._seen.data_plane]
        self._seen.data_plane.update(fresh)
        return fresh

    def _stacks(self) -> list[str]:
        found: dict[str, str] = {}
        for page in _pages(self._client("cloudformation"), "describe_stacks", "NextToken"):
            for stack in page.get("Stacks", []):
                found[stack["StackName"]] = stack["StackStatus"]
        lines = []
        for name, status in found.items():
            if self._seen.stacks.get(name) != status and status.endswith(("_COMPLETE", "_FAILED")):
                lines.append(f"stack {name}: {status}")
        for name in sorted(set(self._seen.stacks) - set(found)):
            lines.append(f"stack {name}: deleted")
        self._seen.stacks = found
        return lines

    def _remotes(self) -> list[str]:
        names = {
            r["repositoryName"]
            for page in _pages(self._client("codecommit"), "list_repositories", "nextToken")
            for r in page.get("repositories", [])
        }
        lines = []
        with self.emulator.lock:
            paths = self._repositories()
        for name in sorted(names - self._seen.repositories):
            if name in paths:
                lines.append(f"repository {name}: git remote add sandbox {paths[name]}")
        self._seen.repositories = names
        return lines

    def _executions(self) -> list[str]:
        pipeline = self._client("codepipeline")
        lines = []
        for page in _pages(pipeline, "list_pipelines", "nextToken"):
            for item in page.get("pipelines", []):
                name = item["name"]
                summaries = pipeline.list_pipeline_executions(pipelineName=name, maxResults=5)
                for summary in reversed(summaries.get("pipelineExecutionSummaries", [])):
                    lines += self._execution(name, summary)
        return lines

    def _execution(self, pipeline: str, summary: dict[str, Any]) -> list[str]:
        eid = str(summary["pipelineExecutionId"])
        status = str(summary.get("status", ""))
        before = self._seen.executions.get(eid)
        self._seen.executions[eid] = status
        lines = []
        # The commit the execution releases (sourceRevisions: CodePipeline API reference,
        # PipelineExecutionSummary); known once its source action ran, so often only by
        # the time the execution ends.
        revisions = summary.get("sourceRevisions") or []
        revision = str(revisions[0].get("revisionId", ""))[:8] if revisions else ""
        if before is None:
            trigger = (summary.get("trigger") or {}).get("triggerType", "")
            what = ", ".join(x for x in (f"revision {revision}" if revision else "", trigger) if x)
            lines.append(f"pipeline {pipeline}: execution {eid[:8]} started ({what})")
        if status != "InProgress" and before != status:
            of = f" (revision {revision})" if revision else ""
            lines.append(f"pipeline {pipeline}: execution {eid[:8]} {status}{of}")
        return lines

    def _deployments(self) -> list[str]:
        """The deployments of every bluegreen system on the sandbox, as the watcher the
        sandbox was given reads them (through the engine interface, whichever engine
        runs the system: a CodeDeploy deployment's wait for reroute and an ECS service
        deployment's pause are said alike, with the command that ends them)."""
        if self._deployment_lines is None:
            return []
        from bluegreen.aws.session import Clients

        return self._deployment_lines(Clients.from_factory(self._client, self.region))


def http_clients(url: str, region: str) -> Any:
    """:class:`~bluegreen.aws.session.Clients` that reach a sandbox over HTTP at ``url``,
    for code running in the sandbox's own process (the bench, tests): moto's in-process
    stub, which would answer every botocore request of the process before it leaves, is
    taken off their session, as :mod:`bluegreen.emulator.core` does for its own clients.
    (In another process, ``AWS_ENDPOINT_URL`` is all it takes.)"""
    import boto3
    from moto.core.models import botocore_stubber

    from bluegreen.aws.session import Clients, client_config

    session = boto3.session.Session(
        region_name=region, aws_access_key_id="sandbox", aws_secret_access_key="sandbox"
    )
    session._session.unregister("before-send", botocore_stubber)
    config = client_config()
    return Clients.from_factory(
        lambda service: session.client(service, endpoint_url=url, config=config), region
    )


def _pages(client: Any, method: str, token_key: str) -> Iterator[dict[str, Any]]:
    """Every page of a list call (bounded: 100 pages)."""
    call = getattr(client, method)
    kwargs: dict[str, Any] = {}
    for _ in range(100):
        page: dict[str, Any] = call(**kwargs)
        yield page
        token = page.get(token_key)
        if not token:
            return
        kwargs[token_key] = token


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S UTC")


def loopback_port(endpoint_url: str) -> tuple[str, int] | None:
    """(host, port) of an ``http://`` loopback URL (``AWS_ENDPOINT_URL``), else None."""
    from urllib.parse import urlsplit

    from bluegreen.emulator.http import LOOPBACK

    try:
        parts = urlsplit(endpoint_url.strip())
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname or ""
    if parts.scheme != "http" or host not in LOOPBACK:
        return None
    return host, port or 80


class Remote:
    """A client of a running sandbox's control path (``bluegreen sandbox advance``)."""

    def __init__(self, host: str, port: int, timeout: float = 30.0) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def status(self) -> dict[str, Any]:
        return self._call("GET", "/_bluegreen/status")

    def advance(self, seconds: float) -> dict[str, Any]:
        return self._call("POST", "/_bluegreen/advance", {"seconds": seconds})

    def _call(self, method: str, path: str, document: Any = None) -> dict[str, Any]:
        import urllib.error
        import urllib.request

        data = None if document is None else json.dumps(document).encode()
        request = urllib.request.Request(  # noqa: S310 - an http:// loopback URL, checked
            self.url + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"} if data is not None else {},
        )
        # No proxy: HTTP_PROXY must not carry a loopback request to another machine.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=self.timeout) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as exc:
            answer = _document(exc.read()) or {}
            detail = answer.get("error")
            if exc.code == 400 and detail:
                raise UsageError(str(detail)) from None
            raise UsageError(
                f"{self.url} answered {exc.code} to {method} {path}: it is not a bluegreen "
                "sandbox" + (f" ({detail})" if detail else ""),
                hint="start one with `bluegreen sandbox`, or pass its --port",
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise UsageError(
                f"no sandbox listens on {self.url} ({reason})",
                hint="start one with `bluegreen sandbox` in another terminal, or pass the "
                "--port it listens on",
            ) from None
        found = _document(raw)
        if found is None:
            raise UsageError(
                f"{self.url} is not a bluegreen sandbox (its answer is not JSON)",
                hint="pass the --port the sandbox listens on",
            )
        return found


def _document(raw: bytes) -> dict[str, Any] | None:
    try:
        found = json.loads(raw)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None
