"""The emulated AWS's clock: simulated time, and the processes that run on it.

What AWS does by itself takes time: a stack creates its resources, a build runs its
phases, CodeDeploy walks an ECS deployment through its lifecycle, a task starts and
passes its health checks. In the emulator each of these is a *process*: a generator that
yields what it waits for, and the clock resumes it when that happens:

- ``yield Wait(30)``: resume 30 simulated seconds later;
- ``met = yield Until(lambda: deployment.continued, timeout=600)``: resume as soon as the
  condition holds (checked whenever anything happens: an API call, another process
  moving) or when the timeout passes; ``met`` says which.

Time moves only when someone advances it: a command that sleeps between polls in the
rehearsal or the tests (``Clock.advance``), or the sandbox's real-time pacing at a chosen
speed (``Clock.advance_to``). So waits that take minutes on AWS take no real time here,
and the same story always gives the same timestamps.
"""

from __future__ import annotations

import heapq
import itertools
import traceback
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bluegreen.errors import BluegreenError


@dataclass(frozen=True)
class Wait:
    """Resume after ``seconds`` of simulated time."""

    seconds: float


@dataclass(frozen=True)
class Until:
    """Resume when ``condition()`` holds (the yield returns True), or after ``timeout``
    seconds (it returns False). No timeout: wait as long as it takes."""

    condition: Callable[[], bool]
    timeout: float | None = None


Step = Wait | Until
Body = Generator[Step, Any, Any]


class EmulatorBug(BluegreenError):
    """A process of the emulator raised: a bug in bluegreen's emulator, not in the user's
    system (those are AWS errors and failed operations)."""

    exit_code = 1


@dataclass(eq=False)
class Process:
    """One running piece of AWS's own work (a stack operation, a build, a deployment)."""

    name: str
    body: Body
    done: bool = False
    result: Any = None
    cancelled: bool = False
    _until: Until | None = field(default=None, repr=False)
    _deadline: float | None = field(default=None, repr=False)

    def cancel(self) -> None:
        """Stop the process where it waits; it never resumes."""
        if not self.done:
            self.cancelled = True
            self.done = True
            self.body.close()


class Clock:
    """Simulated time from ``start``, and the processes waiting on it."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("the clock starts at an aware datetime")
        self.start = start.astimezone(UTC)
        self.seconds = 0.0
        self._timers: list[tuple[float, int, Process]] = []
        self._waiting: list[Process] = []
        self._order = itertools.count()
        self._running = False
        self._failures: list[str] = []

    # -- reading ----------------------------------------------------------------------
    def now(self) -> datetime:
        """The simulated time, timezone-aware UTC."""
        return self.start + timedelta(seconds=self.seconds)

    def next_wakeup(self) -> float | None:
        """Seconds from now until the next timer or timeout fires (None: nothing waits
        on time; processes waiting on conditions only move when something happens)."""
        times = [at for at, _, p in self._timers if not p.done]
        times += [p._deadline for p in self._waiting if p._deadline is not None and not p.done]
        if not times:
            return None
        return max(0.0, min(times) - self.seconds)

    @property
    def busy(self) -> bool:
        """Whether any process still runs (waiting on time or on a condition)."""
        return any(not p.done for _, _, p in self._timers) or any(not p.done for p in self._waiting)

    # -- processes --------------------------------------------------------------------
    def spawn(self, name: str, body: Body) -> Process:
        """Start ``body`` now: it runs until its first wait before spawn returns."""
        process = Process(name, body)
        self._resume(process, None)
        return process

    # -- moving time --------------------------------------------------------------------
    def advance(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass, running every process that wakes."""
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        self.advance_to(self.seconds + seconds)

    def advance_to(self, target: float) -> None:
        """Move to ``target`` seconds since the start (never backwards)."""
        if self._running:  # a process that sleeps does so by yielding, not by advancing
            return
        self._running = True
        try:
            self._poke()
            while True:
                wake = self._earliest()
                if wake is None or wake > target:
                    break
                self.seconds = max(self.seconds, wake)
                self._fire_due()
                self._poke()
            self.seconds = max(self.seconds, target)
            self._poke()
        finally:
            self._running = False
        self._raise_failures()

    def run_due(self) -> None:
        """Resume what can run at the current time (called on every API request)."""
        self.advance_to(self.seconds)

    # -- internals --------------------------------------------------------------------
    def _earliest(self) -> float | None:
        while self._timers and self._timers[0][2].done:
            heapq.heappop(self._timers)
        candidates = [self._timers[0][0]] if self._timers else []
        candidates += [p._deadline for p in self._waiting if p._deadline is not None and not p.done]
        return min(candidates) if candidates else None

    def _fire_due(self) -> None:
        while self._timers and self._timers[0][0] <= self.seconds:
            _, _, process = heapq.heappop(self._timers)
            if not process.done:
                self._resume(process, None)
        for process in list(self._waiting):
            if process._deadline is not None and process._deadline <= self.seconds:
                self._waiting.remove(process)
                if not process.done:
                    met = process._until is not None and _holds(process._until)
                    self._resume(process, met)

    def _poke(self) -> None:
        """Resume every process whose condition now holds, until nothing changes."""
        moved = True
        while moved:
            moved = False
            for process in list(self._waiting):
                if process.done:
                    self._waiting.remove(process)
                    continue
                if process._until is not None and _holds(process._until):
                    self._waiting.remove(process)
                    self._resume(process, True)
                    moved = True

    def _resume(self, process: Process, value: Any) -> None:
        process._until = None
        process._deadline = None
        try:
            step = process.body.send(value)
        except StopIteration as stop:
            process.done = True
            process.result = stop.value
            return
        except Exception:  # noqa: BLE001 - recorded and raised after the tick
            process.done = True
            self._failures.append(f"{process.name}:\n{traceback.format_exc()}")
            return
        if isinstance(step, Wait):
            at = self.seconds + max(0.0, float(step.seconds))
            heapq.heappush(self._timers, (at, next(self._order), process))
        elif isinstance(step, Until):
            process._until = step
            process._deadline = None if step.timeout is None else self.seconds + step.timeout
            if _holds(step):
                self._resume(process, True)
            else:
                self._waiting.append(process)
        else:
            process.done = True
            self._failures.append(f"{process.name}: yielded {step!r}, not Wait or Until")

    def _raise_failures(self) -> None:
        if self._failures:
            failures, self._failures = self._failures, []
            raise EmulatorBug(
                "the embedded AWS emulator failed: " + "\n".join(failures),
                hint="this is a bug in bluegreen's emulator; please report it with the "
                "command that showed it",
            )


def _holds(until: Until) -> bool:
    return bool(until.condition())
