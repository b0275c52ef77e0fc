"""The rehearsal's timeline: what the operations did, and what ``bluegreen status`` read.

Five kinds of rows:

- *operations*: what the rehearsal ran, with the same code as the commands (``deploy``,
  a ``git push``, ``promote``, ``rollback``, a config change), one row each;
- *status reads*: between operations the rehearsal reads the system with the code of
  ``bluegreen status`` (:func:`bluegreen.aws.status.collect`) every poll interval of
  simulated time, as ``status --watch`` would, and writes a row whenever what it read
  changed: a pipeline action, the deployment and its lifecycle events, the listeners'
  forwards, the task sets;
- *requests*: after each release, one ``GET /`` through the production listener and
  what it answered (the load run's, :mod:`bluegreen.rehearse.load`);
- *shifts*: each change of where the production or test listener forwards, at the time
  the load balancer's listener changed (the emulated load balancer records them as
  CloudTrail records ModifyListener and ModifyRule), so a shift between two status reads
  (a canary's first step, a rollback's reroute) is neither missed nor shown late;
- *alarms* (kind ``alarm``): each state change of an alarm the release watches
  (``[verify.alarms]``), at the time CloudWatch changed it, read with DescribeAlarmHistory
  (its StateUpdate items) like any CloudWatch user would.

Every row carries what the status read showed at that moment (a shift row: what the row
before it showed, with the shifted listener's new forward): both listeners' forwards
and the task sets, and the role status gave each target group (blue serves production,
green is the replacement), so a target group is always shown as ``role (name)``, for
example ``green (sample3-dev-blue)``: the names are fixed, the roles swap each release.
Nothing shown is the rehearsal's own idea of the state. A deployment CodeDeploy created
to roll another back (its ``creator`` is ``codeDeployRollback``, CodeDeploy API
reference, DeploymentInfo) or that ``bluegreen rollback`` created (its description says
so) is shown as a rollback deployment.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bluegreen.aws.elb import target_group_name
from bluegreen.engine import Phase, short_name
from bluegreen.errors import BluegreenError, StateError
from bluegreen.names import Names
from bluegreen.rehearse.clock import stamp
from bluegreen.rehearse.load import LoadRun, Served, rate_for
from bluegreen.rehearse.model import Release, Step, TaskSetState

if TYPE_CHECKING:
    from bluegreen.aws.cfn import Change, StackEvent
    from bluegreen.aws.status import SystemStatus
    from bluegreen.config import Config
    from bluegreen.emulator import Emulator

POLL_SECONDS = 15.0
"""How often the rehearsal reads the system while something happens (status --watch reads
every 5 s; 15 s keeps the rehearsal fast and shows every lifecycle step, each lasting
longer). While nothing changes the interval doubles, up to :data:`QUIET_POLL_SECONDS`."""

QUIET_POLL_SECONDS = 120.0

Progress = Callable[[str], None]


@dataclass
class _Seen:
    """The parts of a status read that make a row when they change."""

    actions: dict[str, str] = field(default_factory=dict)
    deployment: str = ""
    deployment_label: str = "Deployment"
    deployment_status: str = ""
    phase: str = ""
    lifecycle: dict[str, str] = field(default_factory=dict)
    production: dict[str, int] = field(default_factory=dict)
    test: dict[str, int] = field(default_factory=dict)
    task_sets: tuple[tuple[str, str, str, int], ...] = ()


class Recorder:
    """Runs the rehearsal's waits on the emulator's clock and writes the timeline."""

    def __init__(self, aws: Emulator, config: Config, say: Progress) -> None:
        self.aws = aws
        self.config = config
        self.clients = aws.clients()
        self.say = say
        self.release: Release | None = None
        self.observing = False
        self.last: SystemStatus | None = None
        self._seen = _Seen()
        self._interval = POLL_SECONDS
        self._prefix = f"{config.project.name}-{config.project.environment}-"
        self._roles: dict[str, str] = {}
        self._watches: dict[str, str] | None = None  # alarm -> what it watches (A2)
        self._shifts_read = 0
        self._listeners: dict[str, str] | None = None
        self.load: LoadRun | None = None
        """The load run of the release under way (:mod:`bluegreen.rehearse.load`)."""
        self._seq = 0
        self._row_keys: dict[int, tuple[float, int]] = {}
        self._production: tuple[str, int] | None = None
        self._check_run = ""
        self._check_count = 0
        self._alarms_read: datetime | None = None
        self._timed: list[tuple[int, str]] = []
        """Changes of this read that AWS recorded a time for (a pipeline action's
        lastStatusChange): rows at that time, not at the read's (review U4)."""

    # -- time -----------------------------------------------------------------------------
    @property
    def seconds(self) -> int:
        return int(self.aws.clock.seconds)

    def sleep(self, seconds: float) -> None:
        """What the operating code's sleep between polls becomes: simulated time passes
        (at least the current poll interval: while nothing changes the commands poll less
        often, and what they follow keeps its own timestamps), then ``status`` reads."""
        self._advance(self.aws.clock.seconds + max(seconds, self._interval))
        self.observe()

    def wait(self, until: Callable[[SystemStatus], bool], limit: float) -> bool:
        """Let time pass, reading ``status``, until ``until`` holds (True) or ``limit``
        seconds have passed (False)."""
        end = self.aws.clock.seconds + limit
        status = self.observe()
        while not (status is not None and until(status)):
            if self.aws.clock.seconds >= end:
                return False
            self._advance(min(end, self.aws.clock.seconds + self._interval))
            status = self.observe()
        return True

    def _advance(self, target: float) -> None:
        """Move the clock, the load run sending the requests due on the way."""
        if self.load is not None and self.load.active:
            self.load.advance_to(target)
        else:
            self.aws.advance_to(target)

    # -- the load run ---------------------------------------------------------------------
    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def production_address(self) -> tuple[str, int] | None:
        """The production listener's local server (None before deploy made it)."""
        if self._production is None and self.observing:
            from bluegreen import engine

            try:
                arn = engine.service_refs(self.clients, self.config).production_listener
            except StateError:
                return None
            if arn:
                self._production = self.aws.service("elbv2").local_address(arn)
        return self._production

    def start_load(self) -> None:
        """Requests through the production listener from now until :meth:`end_load`."""
        self._production = None
        self.load = LoadRun(
            self.aws, self.production_address, rate_for(self.config), self._next_seq
        )

    def end_load(self) -> None:
        """Stop the load run; one ``GET /`` through the production listener shows what
        it serves now (a row); each row gets the requests sent since the row before,
        and the release its totals (:attr:`Release.load`)."""
        load, release = self.load, self.release
        self.load = None
        if load is None or release is None:
            return
        load.stop()
        greeting = None
        if load.started_at is not None and self.production_address() is not None:
            greeting = load.request("/")
            load.served.append(greeting)
            body = " ".join(greeting.body.split())
            body = body if len(body) <= 80 else body[:77] + "..."
            where = f"from {self.group(greeting.group)}" if greeting.group else "(no target)"
            self._row(
                "request",
                f"GET / on :{self._port('production')}",
                f"{greeting.status or 'no answer'} “{body}” {where}",
            )
        self._count_rows(release, load)
        self._row_keys.clear()
        release.load = _load_summary(load, greeting)

    def _count_rows(self, release: Release, load: LoadRun) -> None:
        """Each request goes to the first row after it (by simulated time, then by the
        order requests were sent and rows written)."""
        pending = sorted(load.served, key=lambda r: (r.seconds, r.seq))
        at = 0
        steps = release.steps
        for index, step in enumerate(steps):
            key = self._row_keys.get(id(step))
            if key is None:
                continue
            last = index == len(steps) - 1
            served: dict[str, int] = {}
            failed = 0
            while at < len(pending) and (last or (pending[at].seconds, pending[at].seq) < key):
                request = pending[at]
                if request.group:
                    served[request.group] = served.get(request.group, 0) + 1
                failed += int(request.failed)
                at += 1
            if served or failed:
                steps[index] = replace(step, served=served, failed=failed)

    # -- rows ---------------------------------------------------------------------------
    def operation(self, event: str, detail: str = "") -> None:
        """A row for something the rehearsal ran (with the state just after it)."""
        self._row("operation", event, detail)
        self._interval = POLL_SECONDS

    def observe(self) -> SystemStatus | None:
        """Read the system as ``bluegreen status`` does; a row when something changed."""
        if not self.observing:
            return None
        from bluegreen.aws.status import collect

        try:
            status = collect(self.clients, self.config)
        except StateError:
            return None  # the service stack is not there (yet)
        self._shifts()
        self._alarm_changes()
        self.last = status
        self._roles = _roles(status)
        self._timed = []
        changes = self._changes(status)
        self._timed_rows()
        if changes:
            self._row("status", changes[0], "; ".join(changes[1:]))
        changes += [text for _, text in self._timed]
        checked = self._checks(status)
        if changes or checked:
            self._interval = POLL_SECONDS
        else:
            self._interval = min(QUIET_POLL_SECONDS, self._interval * 2)
        return status

    def _checks(self, status: SystemStatus) -> bool:
        """A row for each result of [verify]'s checks status read that was not read
        before (the hook's log group: :func:`bluegreen.aws.verification.latest_run`),
        kept with the release too; whether there was one."""
        view = status.verification
        if view is None or not view.run:
            return False
        if view.run != self._check_run:
            self._check_run, self._check_count = view.run, 0
        start = self._check_count
        fresh = view.checks[start:]
        self._check_count = len(view.checks)
        if self.release is None:
            return bool(fresh)
        # the emulator's clock at epoch 0: a log event's time on the rehearsal's clock
        offset = self.aws.now().timestamp() - self.aws.clock.seconds
        for index, result in enumerate(fresh, start=start):
            logged = view.logged[index] if index < len(view.logged) else 0
            seconds = min(self.seconds, int(logged / 1000 - offset)) if logged else self.seconds
            event, detail = check_row(result)
            # the task sets as the read that found the result shows them: the read before
            # the checks can predate green's tasks (a pass next to "(0 tasks)", review U4)
            # before a row of the same second: the hook's end the checks decided comes after
            self._insert_row(seconds, event, detail, "status", _task_sets(status), first=True)
            if "request" in result or "reason" in result:
                self.release.checks.append({"time": stamp(seconds), **check_record(result)})
        return bool(fresh)

    def _changes(self, status: SystemStatus) -> list[str]:
        seen = self._seen
        changes: list[str] = []
        pipeline = status.pipeline
        if pipeline is not None:
            for stage in pipeline.stages:
                for action in stage.actions:
                    key = f"{stage.name}/{action.name}"
                    if action.status and seen.actions.get(key) != action.status:
                        if action.status != "NotStarted":
                            text = f"{key}: {action.status}"
                            if action.error:
                                text += f" ({action.error})"
                            at = self._at(action.changed)
                            if at is not None and at < self.seconds:
                                self._timed.append((at, text))
                            else:
                                changes.append(text)
                        seen.actions[key] = action.status
        deployment = status.deployment
        if deployment is not None:
            introduced = deployment.id != seen.deployment
            if introduced:
                seen.deployment, seen.lifecycle = deployment.id, {}
                seen.deployment_label, scope = self._deployment_label(deployment.id)
                if (
                    self.release is not None
                    and not self.release.deployment_id
                    and deployment.phase != Phase.SUCCEEDED
                ):
                    # The release's own: the first one seen that had not already
                    # succeeded (one that had, such as the ECS service's creation, which
                    # deploy continued before the release's pipeline ran, is not).
                    self.release.deployment_id = deployment.id
                changes.append(
                    f"{seen.deployment_label} {short_name(deployment.id)} of {scope}: "
                    f"{deployment.status}"
                )
                seen.deployment_status, seen.phase = (
                    deployment.status,
                    str(deployment.phase),
                )
            elif (deployment.status, str(deployment.phase)) != (
                seen.deployment_status,
                seen.phase,
            ):
                text = (
                    f"{seen.deployment_label} {short_name(deployment.id)}: {deployment.status} "
                    f"({deployment.phase_text})"
                )
                if deployment.error:
                    text += f": {deployment.error}"
                changes.append(text)
                seen.deployment_status, seen.phase = (
                    deployment.status,
                    str(deployment.phase),
                )
            for step in deployment.lifecycle:
                if seen.lifecycle.get(step.name) != step.status:
                    if step.status not in ("Pending", ""):
                        text = f"{step.name}: {step.status}"
                        at = self._at(step.ended)
                        # a step that ended between reads: at its end (review U4), once
                        # its deployment has a row of its own to follow
                        if at is not None and at < self.seconds and not introduced:
                            self._timed.append((at, text))
                        else:
                            changes.append(text)
                    seen.lifecycle[step.name] = step.status
        production, test = _forwards(status, "production"), _forwards(status, "test")
        if production != seen.production and seen.production:
            changes.append(f"production :{self._port('production')} → {self._weights(production)}")
        if test != seen.test and seen.test:
            changes.append(f"test :{self._port('test')} → {self._weights(test)}")
        seen.production, seen.test = production, test
        sets = tuple(
            sorted((t.id, t.status, t.task_definition, t.running) for t in status.task_sets)
        )
        if sets != seen.task_sets:
            before = {s[0]: s for s in seen.task_sets}
            groups = {t.id: t.target_group for t in status.task_sets}
            for task_set in sets:
                old = before.get(task_set[0])
                name = f"{task_set[2]} on {self.group(groups.get(task_set[0], ''))}"
                if old is None or old[1:] != task_set[1:]:
                    changes.append(f"task set {name}: {task_set[1]}, {task_set[3]} running")
            now = {s[0] for s in sets}
            for gone in sorted(set(before) - now):
                changes.append(f"task set {before[gone][2]}: gone")
            seen.task_sets = sets
        return changes

    def _at(self, when: datetime | None) -> int | None:
        """A time AWS recorded, in seconds of the rehearsal's clock (None: none)."""
        if when is None or self.release is None:
            return None
        return int((when - self.aws.clock.start).total_seconds())

    def _timed_rows(self) -> None:
        """The changes AWS recorded a time for, each time's changes one row at that time
        among the rows (a status read every 15 to 120 s would show them late: the
        timeline then disagreed with the build durations and the lead time)."""
        by_time: dict[int, list[str]] = {}
        for seconds, text in self._timed:
            by_time.setdefault(seconds, []).append(text)
        for seconds, texts in sorted(by_time.items()):
            self._insert_row(seconds, texts[0], "; ".join(texts[1:]), "status")

    def _shifts(self) -> None:
        """A row for each listener shift since the last read, at the time it happened.

        Status reads sample the system; a shift between two reads (a canary step, a
        rollback's reroute) would show late or not at all. The emulated load balancer
        records every change of where a listener or rule forwards (as CloudTrail records
        ModifyListener and ModifyRule: ``Elbv2.forward_changes``); each change of the
        production or test forward becomes a row of its own, and the next status read no
        longer reports it as its own change.
        """
        changes = getattr(self.aws.services.get("elbv2"), "forward_changes", [])
        fresh = changes[self._shifts_read :]
        self._shifts_read = len(changes)
        if not fresh or self.release is None:
            return
        roles = self._listener_roles()
        for seconds, arn, pairs in fresh:
            role = roles.get(arn)
            if role is None:
                continue
            total = sum(weight for _, weight in pairs) or 1
            weights = {
                target_group_name(group): round(100 * weight / total) for group, weight in pairs
            }
            seen = self._seen.production if role == "production" else self._seen.test
            if weights == seen or not seen:
                continue
            if role == "production":
                self._seen.production = weights
            else:
                self._seen.test = weights
            self._insert(seconds, role, weights)

    def _insert(self, when: float, role: str, weights: dict[str, int]) -> None:
        """The shift's row, among the rows by time, with what the row before it showed."""
        assert self.release is not None
        seconds = int(when)
        steps = self.release.steps
        at = len(steps)
        while at > 0 and steps[at - 1].seconds > seconds:
            at -= 1
        before = steps[at - 1] if at else None
        production = dict(before.production) if before else {}
        test = dict(before.test) if before else {}
        if role == "production":
            production = weights
        else:
            test = weights
        step = Step(
            seconds=seconds,
            event=f"{role} :{self._port(role)} → {self._weights(weights)}",
            detail="",
            production=production,
            test=test,
            task_sets=before.task_sets if before else (),
            kind="status",
            roles=dict(before.roles) if before else {},
        )
        steps.insert(at, step)
        # Requests sent at the shift's second were routed after it (the clock moved the
        # listener first): they count in the rows after this one.
        self._row_keys[id(step)] = (float(when), -1)

    def _alarm_changes(self) -> None:
        """A row for each state change of a watched alarm since the last read, at the
        time CloudWatch changed it (DescribeAlarmHistory, StateUpdate items)."""
        from bluegreen.stacks.verification import alarm_names

        names = set(alarm_names(self.config))
        if not names:
            return
        if self.release is None:  # changes between releases belong to no timeline
            self._alarms_read = self.aws.now()
            return
        since = self._alarms_read or self.aws.clock.start
        self._alarms_read = self.aws.now()
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            page = self.clients.cloudwatch.describe_alarm_history(
                HistoryItemType="StateUpdate",
                StartDate=since,
                EndDate=self._alarms_read,
                ScanBy="TimestampAscending",
                **({"NextToken": token} if token else {}),
            )
            items += page.get("AlarmHistoryItems", [])
            token = page.get("NextToken")
            if not token:
                break
        start = self.aws.clock.start
        # Alarms that change the same way at the same moment share a row (the stack's seven
        # alarms leave INSUFFICIENT_DATA together).
        grouped: dict[tuple[int, str, str], list[tuple[str, str]]] = {}
        for item in items:
            if item["AlarmName"] not in names or item["Timestamp"] <= since:
                continue
            data = json.loads(item.get("HistoryData") or "{}")
            old = (data.get("oldState") or {}).get("stateValue", "")
            new = (data.get("newState") or {}).get("stateValue", "")
            reason = (data.get("newState") or {}).get("stateReason", "")
            seconds = int((item["Timestamp"] - start).total_seconds())
            grouped.setdefault((seconds, old, new), []).append((item["AlarmName"], reason))
        for (seconds, old, new), changed in grouped.items():
            noun = "alarm" if len(changed) == 1 else "alarms"
            event = f"{noun} {', '.join(n for n, _ in changed)}: {old} → {new}"
            if new == "ALARM":
                event += self._judged([n for n, _ in changed])
            self._insert_row(seconds, event, changed[0][1] if len(changed) == 1 else "", "alarm")

    def _judged(self, alarms: list[str]) -> str:
        """Whose revision alarms going into ALARM judge (review A2): `` on green
        (sample3-dev-blue), the new revision``, or blue, production's previous revision
        (an alarm there stops every release while it lasts), or the load balancer."""
        from bluegreen.aws.verification import LOAD_BALANCER, watched_by

        if self._watches is None:
            from bluegreen.stacks.verification import alarm_names

            described = self.clients.cloudwatch.describe_alarms(
                AlarmNames=alarm_names(self.config)
            ).get("MetricAlarms", [])
            self._watches = {a["AlarmName"]: w for a in described if (w := watched_by(a))}
        parts = []
        for watched in dict.fromkeys(self._watches.get(n, "") for n in alarms):
            role = self._roles.get(watched, "")
            if watched == LOAD_BALANCER:
                parts.append(f"on {LOAD_BALANCER} (both revisions' traffic)")
            elif role == "green":
                parts.append(f"on {role_and_name(watched, self._roles)}, the new revision")
            elif role == "blue":
                parts.append(
                    f"on {role_and_name(watched, self._roles)}, production's previous revision"
                )
            elif watched:
                parts.append(f"on {watched}")
        return f" ({'; '.join(parts)})" if parts else ""

    def _insert_row(
        self,
        seconds: int,
        event: str,
        detail: str,
        kind: str,
        task_sets: tuple[TaskSetState, ...] | None = None,
        first: bool = False,
    ) -> None:
        """A row among the rows by time, showing what the row before it showed (the
        task sets given instead, when given)."""
        assert self.release is not None
        steps = self.release.steps
        at = len(steps)
        while at > 0 and (
            steps[at - 1].seconds > seconds
            or (
                first
                and steps[at - 1].seconds == seconds
                and not steps[at - 1].event.startswith("check")  # the checks keep their order
            )
        ):
            at -= 1
        before = steps[at - 1] if at else None
        step = Step(
            seconds=seconds,
            event=event,
            detail=detail,
            production=dict(before.production) if before else {},
            test=dict(before.test) if before else {},
            task_sets=task_sets if task_sets is not None else (before.task_sets if before else ()),
            kind=kind,
            roles=dict(before.roles) if before else {},
        )
        steps.insert(at, step)
        self._row_keys[id(step)] = (float(seconds), -1)  # the load run's requests before it

    def _listener_roles(self) -> dict[str, str]:
        """Listener and rule ARN -> production or test (the service stack's outputs)."""
        if self._listeners is None:
            from bluegreen import engine

            refs = engine.service_refs(self.clients, self.config)
            found = {
                refs.production_listener: "production",
                refs.test_listener: "test",
                refs.production_rule: "production",
                refs.test_rule: "test",
            }
            self._listeners = {arn: role for arn, role in found.items() if arn}
        return self._listeners

    def _port(self, role: str) -> int:
        listeners = self.config.listeners
        return listeners.production_port if role == "production" else listeners.test_port

    def _weights(self, weights: dict[str, int]) -> str:
        live = {k: v for k, v in weights.items() if v}
        if len(live) == 1:
            (name,) = live
            return self.group(name)
        return ", ".join(f"{self.group(k)} {v}%" for k, v in weights.items())

    def group(self, name: str) -> str:
        """A target group as ``role (name)`` with the role status read last."""
        return role_and_name(name, self._roles)

    def _deployment_label(self, deployment_id: str) -> tuple[str, str]:
        """("Rollback deployment" for a deployment that rolls another back, else the
        engine's noun, such as "Deployment"; what it deploys to, in the engine's terms)
        (module docstring; DeploymentEngine.ending, .scope)."""
        from bluegreen import engine as engine_mod

        scope = Names.of(self.config).deployment_group
        try:
            engine = engine_mod.select(self.clients, self.config)
            scope = engine.scope()
            rollback = engine.ending(deployment_id).rollback
        except BluegreenError:
            return "Deployment", scope
        return ("Rollback deployment" if rollback else engine.noun), scope

    def _row(self, kind: str, event: str, detail: str) -> None:
        if self.release is None:
            return
        status = self.last
        step = Step(
            seconds=self.seconds,
            event=event,
            detail=detail,
            production=_forwards(status, "production") if status else {},
            test=_forwards(status, "test") if status else {},
            task_sets=_task_sets(status) if status else (),
            kind=kind,
            roles=_roles(status) if status else {},
        )
        self.release.steps.append(step)
        self._row_keys[id(step)] = (self.aws.clock.seconds, self._next_seq())


def _load_summary(load: LoadRun, greeting: Served | None) -> dict[str, Any]:
    """A release's load run for ``--output json`` and the summary."""
    served: dict[str, int] = {}
    for request in load.served:
        if request.group:
            served[request.group] = served.get(request.group, 0) + 1
    failures = [r for r in load.served if r.failed]
    latencies = sorted(r.latency_ms for r in load.served if r.status)
    return {
        "rate_per_minute": load.rate,
        "started_at": stamp(int(load.started_at)) if load.started_at is not None else None,
        "requests": len(load.served),
        "served": served,
        "failed": len(failures),
        "failures": [r.to_dict() for r in failures[:10]],
        "latency_ms": {
            "median": round(latencies[len(latencies) // 2], 2) if latencies else None,
            "max": round(latencies[-1], 2) if latencies else None,
        },
        "real_seconds": round(load.real_seconds, 3),
        "stopped": load.stopped or None,
        "greeting": (
            {
                "status": greeting.status,
                "body": greeting.body,
                "target_group": greeting.group or None,
            }
            if greeting is not None
            else None
        ),
    }


def check_row(result: dict[str, Any]) -> tuple[str, str]:
    """A check's result as a timeline row: ``check 1/3 GET /: pass 200 in 4 ms`` and
    what it expected (a failure: why, and what came back)."""
    from bluegreen.verification.checks import failure, several

    if "warmup" in result:
        return "checks: warm-up", str(result["warmup"])
    if "skipped" in result:
        return "checks: skipped", str(result["skipped"])
    number = f" {result['number']}/{result['of']}" if "number" in result else ""
    outcome = "pass" if result.get("ok") else "FAIL"
    got = f" {result['status']}" if result.get("status") else ""
    latency = f" in {result['latency_ms']} ms" if "latency_ms" in result else ""
    event = f"check{number} {result.get('request', '')}".rstrip()
    if several(result):
        event = (
            f"check {result['check']}/{result['checks']} {result.get('request', '')} "
            f"request {result['repeat']}/{result['count']}"
        )
    event += f": {outcome}{got}{latency}"
    expected = f"expected {result['expected']}" if result.get("expected") else ""
    if result.get("ok"):
        return event, expected
    return event, "; ".join(part for part in (failure(result), expected) if part)


def check_record(result: dict[str, Any]) -> dict[str, Any]:
    """A check's result for ``--output json`` (Release.checks)."""
    record: dict[str, Any] = {
        "number": result.get("number"),
        "of": result.get("of"),
        "check": result.get("check"),
        "checks": result.get("checks"),
        "repeat": result.get("repeat"),
        "count": result.get("count"),
        "request": result.get("request", ""),
        "expected": result.get("expected", ""),
        "result": "pass" if result.get("ok") else "fail",
        "status": result.get("status"),
        "latency_ms": result.get("latency_ms"),
    }
    if not result.get("ok"):
        record["reason"] = result.get("reason", "")
        record["body"] = result.get("body", "")
    return record


def _forwards(status: SystemStatus, role: str) -> dict[str, int]:
    for listener in status.listeners:
        if listener.role == role:
            return dict(listener.forwards)
    return {}


def _roles(status: SystemStatus) -> dict[str, str]:
    """Each target group's role as status labels it (blue or green)."""
    return {group.name: group.label for group in status.target_groups if group.label}


def role_and_name(name: str, roles: dict[str, str]) -> str:
    """``green (sample3-dev-blue)``; the name alone when the role is unknown."""
    role = roles.get(name, "")
    return f"{role} ({name})" if role else name


def _task_sets(status: SystemStatus) -> tuple[TaskSetState, ...]:
    sets = [
        TaskSetState(
            id=t.id,
            status=t.status,
            task_definition=t.task_definition,
            target_group=t.target_group,
            running=t.running,
            images=dict(t.images),
            role=t.label,
        )
        for t in status.task_sets
    ]
    sets.sort(key=lambda s: (s.status != "PRIMARY", s.task_definition))
    return tuple(sets)


class DeployRecorder:
    """The deploy UI of a rehearsal: approves every change set and writes a row per
    stack and per notable step (the first commit, the service-linked role)."""

    def __init__(self, recorder: Recorder) -> None:
        self.recorder = recorder
        self.stacks: dict[str, int] = {}

    def step(self, message: str) -> None:
        notable = (
            "committed",
            "created the ECS service-linked role",
            "desired count",
            "set ",
            "continued",
        )
        if any(word in message for word in notable):
            self.recorder.operation("bluegreen deploy", message)
        if "the service's creation" in message:
            # the long quiet wait that follows (the creation's bake) is said as it starts
            self.recorder.say(f"  {message}")

    def changes(self, stack: str, change_set_type: str, changes: list[Change]) -> None:
        self.stacks[stack] = len(changes)

    def confirm(self, stack: str) -> bool:
        return True

    def event(self, event: StackEvent) -> None:
        pass

    def stack_done(self, stack: str, status: str) -> None:
        count = self.stacks.get(stack, 0)
        self.recorder.operation(
            "bluegreen deploy",
            f"{stack}: {status} ({count} change{'s' if count != 1 else ''})",
        )


class ReleaseRecorder:
    """The release UI of a rehearsal: follow-up lines become operation rows only when they
    are actions the code took (a promote), labelled with the command that took them
    (``bluegreen deploy`` promotes the first release, ``bluegreen rollback`` its
    rollback deployment)."""

    def __init__(self, recorder: Recorder, command: str) -> None:
        self.recorder = recorder
        self.command = command

    def step(self, message: str) -> None:
        if (
            message.startswith(("promoted", "promoting", "not promoting", "continued"))
            or " promoting it" in message
        ):
            self.recorder.operation(self.command, message)
