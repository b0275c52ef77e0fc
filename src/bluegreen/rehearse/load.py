"""The rehearsal's users: a bounded load run through the production listener.

During every release, from its push until it ends (the termination wait or the bake
included), :class:`LoadRun` sends ``GET /`` to the production listener's local server
(127.0.0.1, :meth:`bluegreen.emulator.services.elbv2.Elbv2.local_address`) at a fixed
rate per *simulated* minute: the clock is moved to each request's time, the request is
sent, and the clock goes on, so every request meets the listener's weights and the
targets' health of its moment. The load balancer records which target group served it
(its access log, :mod:`bluegreen.emulator.albmetrics`); the run reads that back by the
request's ``X-Amzn-Trace-Id`` (the access log's ``trace_id`` field), with the status and
the latency the client saw.

Bounded: loopback only, one request at a time with a :data:`REQUEST_TIMEOUT`, at most
:data:`MAX_REQUESTS` requests and :data:`MAX_REAL_SECONDS` real seconds a release; the
run stops by itself at either bound (and says so), or when the release ends.
"""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bluegreen.aws.elb import target_group_name

if TYPE_CHECKING:
    from bluegreen.config import Config
    from bluegreen.emulator import Emulator

RATE_PER_MINUTE = 2
"""Requests a simulated minute: one every 30 s, about 50 a release of the default story
(3 to 8 real ms each, through the listener's server and the app's process: the default
rehearsal's ~95 requests cost it ~0.4 s)."""

MAX_RATE_PER_MINUTE = 60
MAX_REQUESTS = 1000
"""Requests a release at most (the default story sends about 50 a release)."""

MAX_REAL_SECONDS = 60.0
"""Real seconds a release's load run may take at most."""

REQUEST_TIMEOUT = 5.0
"""Real seconds one request may take."""


def rate_for(config: Config) -> int:
    """Requests a simulated minute: :data:`RATE_PER_MINUTE`, or with the stack's alarms
    twice their 5xx threshold (at most :data:`MAX_RATE_PER_MINUTE`), so that a revision
    failing every request trips the alarm (``verify.alarms.http_5xx_per_minute`` 5xx in
    one minute)."""
    alarms = config.verify.alarms
    if not alarms.enabled:
        return RATE_PER_MINUTE
    return max(RATE_PER_MINUTE, min(MAX_RATE_PER_MINUTE, 2 * alarms.http_5xx_per_minute))


@dataclass(frozen=True)
class Served:
    """One request of the load run, as the client and the load balancer saw it."""

    seconds: float
    seq: int  # order among requests and timeline rows (recorder)
    group: str  # the target group that served it ("" when none did)
    status: int  # 0: no HTTP answer (connection error, timeout)
    latency_ms: float
    body: str = ""
    not_run: bool = False
    """The target's app is not run on this machine (health derived statically): the
    answer is the emulator's, which judges this machine, not the revision."""

    @property
    def failed(self) -> bool:
        """Not a 2xx or 3xx answer, or no answer at all (unless the app is not run here)."""
        return not self.not_run and not 200 <= self.status < 400

    def to_dict(self) -> dict[str, Any]:
        return {
            "seconds": self.seconds,
            "target_group": self.group or None,
            "status": self.status,
            "latency_ms": round(self.latency_ms, 2),
        }


class LoadRun:
    """Requests through the production listener, on the simulated clock."""

    def __init__(
        self,
        aws: Emulator,
        address: Callable[[], tuple[str, int] | None],
        rate_per_minute: int,
        counter: Callable[[], int],
    ) -> None:
        self.aws = aws
        self.address = address
        self.rate = rate_per_minute
        self.interval = 60.0 / rate_per_minute
        self.counter = counter
        self.served: list[Served] = []
        self.started_at: float | None = None
        self.stopped: str = ""
        """Why the run stopped before the release ended ("" if it did not)."""
        self._next: float | None = None
        self.real_seconds = 0.0
        """Real time the run took: its requests and the clock's moves between them."""
        self._real = 0.0
        self._traces = 0
        self.active = True

    # -- time -------------------------------------------------------------------------------
    def advance_to(self, target: float) -> None:
        """Move the clock to ``target``, sending each request due on the way."""
        began = time.perf_counter()
        try:
            self._advance(target)
        finally:
            self.real_seconds += time.perf_counter() - began

    def _advance(self, target: float) -> None:
        clock = self.aws.clock
        while self.active:
            if self._next is None:
                if self.address() is None:
                    break  # no production listener yet (deploy is creating it)
                self._next = clock.seconds
                self.started_at = clock.seconds
            if self._next > target:
                break
            self.aws.advance_to(self._next)
            self._send()
            self._next += self.interval
        self.aws.advance_to(target)

    def stop(self) -> None:
        self.active = False

    # -- requests ---------------------------------------------------------------------------
    def _send(self) -> None:
        if len(self.served) >= MAX_REQUESTS:
            self._bound(f"its bound of {MAX_REQUESTS} requests")
            return
        if self._real >= MAX_REAL_SECONDS:
            self._bound(f"its bound of {MAX_REAL_SECONDS:.0f} real seconds")
            return
        self.served.append(self.request("/"))

    def _bound(self, why: str) -> None:
        self.stopped = f"the load run stopped at {why}"
        self.active = False

    def request(self, path: str) -> Served:
        """One GET through the production listener (the load balancer's record of it
        says which target group served it)."""
        address = self.address()
        seconds = self.aws.clock.seconds
        seq = self.counter()
        if address is None:
            return Served(seconds, seq, "", 0, 0.0, "the production listener does not exist")
        self._traces += 1
        # X-Amzn-Trace-Id's format: Root=1-<8 hex digits: epoch seconds>-<24 hex digits>
        # (ALB guide, "Request tracing for your Application Load Balancer").
        epoch = int(self.aws.now().timestamp())
        trace = f"Root=1-{epoch:08x}-{self._traces:024x}"
        connection = http.client.HTTPConnection(*address, timeout=REQUEST_TIMEOUT)
        started = time.perf_counter()
        status, body = 0, ""
        try:
            connection.request("GET", path, headers={"X-Amzn-Trace-Id": trace})
            response = connection.getresponse()
            body = response.read(1 << 16).decode("utf-8", errors="replace")
            status = response.status
        except (OSError, http.client.HTTPException) as exc:
            body = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        latency = time.perf_counter() - started
        self._real += latency
        group, target = self._served_by(trace)
        runner = getattr(self.aws.services.get("ecs"), "runner", None)
        why_of = getattr(runner, "not_run_reason", None)
        not_run = bool(target and why_of is not None and why_of(target.rsplit(":", 1)[0]))
        return Served(seconds, seq, group, status, latency * 1000, body, not_run)

    def _served_by(self, trace: str) -> tuple[str, str]:
        """The target group (name) and the target (ip:port) the load balancer chose."""
        entries = self.aws.service("elbv2").metrics.entries
        for entry in reversed(entries[-50:]):
            if entry.trace_id == trace:
                group = target_group_name(entry.target_group_arn) if entry.target_group_arn else ""
                return group, entry.target
        return "", ""
