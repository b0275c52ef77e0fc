"""What the deployments of every bluegreen system in an account do, one line per change,
read through the engine interface (:func:`bluegreen.engine.discover` and each engine's
``status``/``ending``), so that a watcher (the sandbox's log) never branches on the
engine: a CodeDeploy deployment and an ECS service deployment say the same things in
their own terms.

The lines: a deployment seen for the first time (a rollback deployment named so), the
wait for reroute with the command that ends it (the engine reports it ready: CodeDeploy's
``Ready``, ECS's PAUSE hook ``AWAITING_ACTION``), and the end (with the engine's reason).
A deployment replaced as its service's latest before its end was seen is read once more
(``ending``) for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bluegreen.engine import DeploymentEngine, DeploymentView, LiveSystem, discover, short_name
from bluegreen.errors import BluegreenError

if TYPE_CHECKING:
    from bluegreen.aws.session import Clients


@dataclass
class _Seen:
    name: str  # "deployment d-X", "rollback service deployment 123..."
    said: set[str] = field(default_factory=set)  # "ready", "ended", "status <status>"


@dataclass
class DeploymentWatch:
    """The deployments seen so far (by id) and each service's latest one."""

    seen: dict[str, _Seen] = field(default_factory=dict)
    latest: dict[str, str] = field(default_factory=dict)  # service -> deployment id

    def lines(self, clients: Clients) -> list[str]:
        """What changed since the last call, one line each."""
        found: list[str] = []
        for system in discover(clients):
            engine = system.engine
            view = engine.status()
            if view is None:
                continue
            key = f"{engine.refs.cluster}/{engine.refs.service}"
            previous = self.latest.get(key)
            if previous is not None and previous != view.id:
                found += self._ended_meanwhile(engine, previous)
            self.latest[key] = view.id
            found += self._lines(clients, system, view)
        return found

    def _lines(self, clients: Clients, system: LiveSystem, view: DeploymentView) -> list[str]:
        engine = system.engine
        seen = self.seen.get(view.id)
        lines: list[str] = []
        if seen is None:
            seen = self.seen[view.id] = _Seen(_name(engine, view))
            if view.phase.active:
                lines.append(f"{seen.name}: {view.status}")
        if view.ready and view.auto_reroute is not True and "ready" not in seen.said:
            seen.said.add("ready")
            lines.append(f"{seen.name}: waits for reroute: {_cue(clients, system, view)}")
        if not view.phase.active and "ended" not in seen.said:
            # Stopped is not yet ended: ECS's ROLLBACK_IN_PROGRESS rolls back still; the
            # engine's ending says when it is over (DeploymentEngine.ending).
            ending = engine.ending(view.id)
            said = f"status {ending.status}"
            if ending.outcome:
                seen.said.add("ended")
            if said not in seen.said:
                seen.said.add(said)
                reason = ending.reason or view.error
                lines.append(f"{seen.name}: {ending.status}" + (f": {reason}" if reason else ""))
        return lines

    def _ended_meanwhile(self, engine: DeploymentEngine, deployment_id: str) -> list[str]:
        seen = self.seen.get(deployment_id)
        if seen is None or "ended" in seen.said:
            return []
        try:
            ending = engine.ending(deployment_id)
        except BluegreenError:
            return []
        if not ending.outcome:
            return []
        seen.said.add("ended")
        return [f"{seen.name}: {ending.status}" + (f": {ending.reason}" if ending.reason else "")]


def _name(engine: DeploymentEngine, view: DeploymentView) -> str:
    """``deployment d-X`` (CodeDeploy), ``service deployment 123`` (ECS); a deployment
    that rolls another back says so, naming it where the engine does (CodeDeploy's
    rollbackInfo: ``deployment d-Y (rollback of d-X)``)."""
    name = f"{engine.noun.lower()} {short_name(view.id)}"
    if view.rollback_of:
        return f"{name} (rollback of {short_name(view.rollback_of)})"
    try:
        rollback = engine.ending(view.id).rollback
    except BluegreenError:
        rollback = False
    return ("rollback " if rollback else "") + name


def _cue(clients: Clients, system: LiveSystem, view: DeploymentView) -> str:
    """What ends the wait, and who runs it."""
    if not any(t.label == "blue" for t in view.task_sets):
        # ECS: the service's creation is itself a deployment through the lifecycle, with
        # nothing serving production yet (DeploymentEngine.continue_creation).
        return (
            "the service's creation, which `bluegreen deploy` continues as it creates the "
            "service (nothing serves production yet; otherwise `bluegreen promote`)"
        )
    if _first_run(clients, system.pipeline):
        # bluegreen deploy follows the first release and promotes it itself
        # (aws/release.py first_release): production served only the placeholder.
        return (
            "the first release, which `bluegreen deploy` promotes as it follows it (after "
            "`deploy --no-follow`: `bluegreen promote`)"
        )
    return "test green on the test listener, then `bluegreen promote` (or `bluegreen rollback`)"


def _first_run(clients: Clients, pipeline_name: str) -> bool:
    from bluegreen.aws import pipeline

    if not pipeline_name:
        return False
    try:
        return pipeline.first_run_pending(clients.codepipeline, pipeline_name)
    except BluegreenError:
        return False
