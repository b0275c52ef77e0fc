"""The rehearsal's result: releases, their steps, and the state read back at each step.

Plain dataclasses with ``to_dict()`` for ``--output json``; the CLI renders the same data
as tables. Every listener forward and task set here was read from the emulated AWS with
the code of ``bluegreen status`` (:mod:`bluegreen.rehearse.recorder`), never carried over
from what the rehearsal did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bluegreen.rehearse.clock import span, stamp


@dataclass(frozen=True)
class TaskSetState:
    id: str
    status: str
    task_definition: str
    target_group: str
    running: int
    images: dict[str, str]
    role: str = ""  # blue (serves production) or green, as status labels it; "" unknown

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "task_definition": self.task_definition,
            "target_group": self.target_group,
            "role": self.role or None,
            "running_tasks": self.running,
            "images": dict(self.images),
        }


@dataclass(frozen=True)
class Step:
    seconds: int
    event: str
    detail: str
    production: dict[str, int]
    test: dict[str, int]
    task_sets: tuple[TaskSetState, ...]
    kind: str = "status"  # "operation": what the rehearsal ran; "status": what status read;
    # "alarm": a watched CloudWatch alarm changed state (DescribeAlarmHistory);
    # "request": a GET through the production listener after the release
    roles: dict[str, str] = field(default_factory=dict)  # target group -> blue or green
    served: dict[str, int] = field(default_factory=dict)
    """Requests of the load run each target group served since the row before."""
    failed: int = 0
    """Requests of the load run since the row before that failed (not 2xx/3xx, or no
    answer)."""

    @property
    def time(self) -> str:
        return stamp(self.seconds)

    def to_dict(self) -> dict[str, Any]:
        return {
            "time": self.time,
            "seconds": self.seconds,
            "kind": self.kind,
            "event": self.event,
            "detail": self.detail,
            "production": dict(self.production),
            "test": dict(self.test),
            "task_sets": [t.to_dict() for t in self.task_sets],
            "roles": dict(self.roles),
            "requests": {"served": dict(self.served), "failed": self.failed},
        }


@dataclass
class Release:
    number: int
    commit: str
    message: str
    changed: tuple[str, ...]
    fault: str | None = None
    outcome: str = "pending"  # succeeded | rolled back | stopped | failed
    expected: str = "succeeded"  # the outcome the scenario plays for (a rollback: rolled back)
    cause: str | None = None
    deployment_id: str | None = None
    execution: str = ""
    images: dict[str, str] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    builds: list[dict[str, Any]] = field(default_factory=list)
    """Each image build of the release: action, project, tag, result (built / reused)."""
    load: dict[str, Any] | None = None
    """The load run through the production listener during the release
    (:mod:`bluegreen.rehearse.load`): rate, requests served per target group, failed ones,
    and the ``GET /`` after the release (``greeting``). None: no production listener."""
    lead_time: dict[str, Any] | None = None
    """Push to production and push to done, each with its parts
    (:mod:`bluegreen.rehearse.leadtime`); None when nothing could be measured."""
    checks: list[dict[str, Any]] = field(default_factory=list)
    """Each request of [verify]'s checks the release's hook sent, as ``bluegreen status``
    read it from the hook's log group: time, number, request, expected, result (pass or
    fail), status, latency_ms, and for a failure its reason and a body excerpt."""

    @property
    def failed_requests(self) -> int:
        return int((self.load or {}).get("failed", 0))

    @property
    def succeeded(self) -> bool:
        return self.outcome == "succeeded"

    @property
    def as_designed(self) -> bool:
        """The release ended as the scenario plays it: succeeded, or rolled back by the
        scenario's own `bluegreen rollback`."""
        return self.outcome == self.expected

    def to_dict(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "commit": self.commit,
            "message": self.message,
            "changed_files": list(self.changed),
            "fault": self.fault,
            "outcome": self.outcome,
            "expected": self.expected,
            "as_designed": self.as_designed,
            "cause": self.cause,
            "deployment_id": self.deployment_id,
            "images": dict(self.images),
            "steps": [s.to_dict() for s in self.steps],
            "builds": [dict(b) for b in self.builds],
            "load": dict(self.load) if self.load is not None else None,
            "lead_time": self.lead_time,
            "checks": [dict(c) for c in self.checks],
        }


@dataclass
class Rehearsal:
    region: str
    account_id: str
    stacks: list[dict[str, Any]]
    production_port: int
    test_port: int
    deployment_config: str
    deployment_group: str = ""
    releases: list[Release] = field(default_factory=list)
    simulated_seconds: int = 0
    wall_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    timing: dict[str, Any] = field(default_factory=dict)
    """What the lead times depend on: the emulator's durations (each with its source) and
    the config's timing settings."""
    branch_runs: list[dict[str, Any]] = field(default_factory=list)
    """Pushes to builds.branches: the branch-check build's result, and the proof that
    nothing was deployed (the pipeline's executions, unchanged)."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """What the emulated CloudWatch holds of the load balancer's metrics at the end
    (AWS/ApplicationELB, read back with GetMetricStatistics): per target group, the Sum
    of RequestCount and of HTTPCode_Target_2XX/5XX_Count."""

    @property
    def succeeded(self) -> bool:
        """Every release ended as the scenario plays it (module docstring of story)."""
        return all(release.as_designed for release in self.releases)

    @property
    def failed_release(self) -> Release | None:
        return next((r for r in self.releases if not r.as_designed), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": "succeeded" if self.succeeded else "failed",
            "emulator": {"region": self.region, "account_id": self.account_id},
            "stacks": self.stacks,
            "listeners": {"production": self.production_port, "test": self.test_port},
            "deployment_config": self.deployment_config,
            "deployment_group": self.deployment_group,
            "releases": [r.to_dict() for r in self.releases],
            "summary": {
                "releases": len(self.releases),
                "succeeded": sum(1 for r in self.releases if r.succeeded),
                "simulated_seconds": self.simulated_seconds,
                "simulated": span(self.simulated_seconds),
                "wall_seconds": round(self.wall_seconds, 3),
                "requests": {
                    "served": sum(
                        sum((r.load or {}).get("served", {}).values()) for r in self.releases
                    ),
                    "failed": sum(r.failed_requests for r in self.releases),
                },
            },
            "metrics": dict(self.metrics),
            "timing": self.timing,
            "notes": list(self.notes),
            "branch_runs": [dict(b) for b in self.branch_runs],
        }
