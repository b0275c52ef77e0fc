"""bluegreen.engine.watch: the lines a watcher (the sandbox's log) prints for each
deployment of every system, read through the engine interface only.

The engines here are small scripted ones that keep the DeploymentEngine contract
(``status``, ``ending``, ``refs``, ``noun``): the watch never branches on the engine, so
what it says depends only on the views and endings they report. The engines' own views
of real CodeDeploy and ECS answers are pinned in test_mut_engine_codedeploy.py and
test_mut_engine_ecs.py; the sandbox's log runs end to end in test_sandbox*.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from engine_stubs import refs as service_refs

from bluegreen.engine import DeploymentView, Ending, LiveSystem, Phase, ServiceRefs, TrafficSet
from bluegreen.engine import watch as watch_mod
from bluegreen.engine.watch import DeploymentWatch
from bluegreen.errors import BluegreenError, StateError

BLUE = TrafficSet("ts-1", "blue", "PRIMARY", 100.0, "tg-b", 1, 1)
GREEN = TrafficSet("ts-2", "green", "ACTIVE", 0.0, "tg-g", 1, 1)


@dataclass
class Scripted:
    """An engine whose status() answers the next view, and ending() from a table."""

    noun: str = "Deployment"
    views: list[DeploymentView | None] = field(default_factory=list)
    endings: dict[str, Ending | Exception] = field(default_factory=dict)
    refs: ServiceRefs = field(default_factory=service_refs)
    asked: list[str] = field(default_factory=list)

    def status(self) -> DeploymentView | None:
        return self.views.pop(0)

    def ending(self, deployment_id: str) -> Ending:
        self.asked.append(deployment_id)
        found = self.endings.get(deployment_id, Ending("InProgress", ""))
        if isinstance(found, Exception):
            raise found
        return found


def run(
    monkeypatch: pytest.MonkeyPatch,
    engine: Scripted,
    rounds: int,
    pipeline: str = "",
    first_run: bool | Exception = False,
) -> list[list[str]]:
    monkeypatch.setattr(
        watch_mod,
        "discover",
        lambda clients: [LiveSystem(engine, pipeline)],  # type: ignore[arg-type]
    )

    codepipeline_client = object()

    def first_run_pending(codepipeline: Any, name: str) -> bool:
        assert codepipeline is codepipeline_client
        assert name == pipeline and name
        if isinstance(first_run, Exception):
            raise first_run
        return first_run

    from bluegreen.aws import pipeline as pipeline_mod

    monkeypatch.setattr(pipeline_mod, "first_run_pending", first_run_pending)
    watch = DeploymentWatch()
    clients: Any = type("Clients", (), {"codepipeline": codepipeline_client})()
    return [watch.lines(clients) for _ in range(rounds)]


def view(ident: str, status: str, phase: Phase, **more: Any) -> DeploymentView:
    return DeploymentView("codedeploy", ident, status, phase, **more)


REPLACED = (
    view("d-1", "InProgress", Phase.SHIFTING, task_sets=[BLUE, GREEN]),
    view("d-2", "InProgress", Phase.INSTALLING, task_sets=[BLUE, GREEN]),
)
"""Deployment d-1, shifting traffic, seen; then d-2 installing in its place."""


def test_a_deployment_seen_waiting_and_ending(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Scripted(
        views=[
            view("d-1", "InProgress", Phase.INSTALLING, task_sets=[BLUE, GREEN]),
            view("d-1", "Ready", Phase.WAITING, task_sets=[BLUE, GREEN], auto_reroute=False),
            view("d-1", "Ready", Phase.WAITING, task_sets=[BLUE, GREEN], auto_reroute=False),
            view("d-1", "Succeeded", Phase.SUCCEEDED, task_sets=[BLUE, GREEN]),
            view("d-1", "Succeeded", Phase.SUCCEEDED, task_sets=[BLUE, GREEN]),
        ],
        endings={"d-1": Ending("Succeeded", "succeeded")},
    )
    assert run(monkeypatch, engine, 5) == [
        ["deployment d-1: InProgress"],
        [
            "deployment d-1: waits for reroute: test green on the test listener, then "
            "`bluegreen promote` (or `bluegreen rollback`)"
        ],
        [],
        ["deployment d-1: Succeeded"],
        [],
    ]
    # asked for its ending to name it, then once when it ended; not on every poll after
    assert engine.asked == ["d-1", "d-1"]


def test_a_deployment_that_reroutes_by_itself_is_not_announced_as_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Scripted(
        views=[view("d-1", "Ready", Phase.WAITING, task_sets=[BLUE, GREEN], auto_reroute=True)]
    )
    assert run(monkeypatch, engine, 1) == [["deployment d-1: Ready"]]
    unknown = Scripted(views=[view("d-1", "Ready", Phase.WAITING, task_sets=[BLUE, GREEN])])
    assert run(monkeypatch, unknown, 1)[0][1].startswith("deployment d-1: waits for reroute")


def test_an_ended_deployment_first_seen_says_only_how_it_ended(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Scripted(
        views=[view("d-1", "Failed", Phase.FAILED, error="HEALTH_CONSTRAINTS: x")],
        endings={"d-1": Ending("Failed", "failed")},
    )
    assert run(monkeypatch, engine, 1) == [["deployment d-1: Failed: HEALTH_CONSTRAINTS: x"]]
    reason = Scripted(
        views=[view("d-1", "Failed", Phase.FAILED, error="E")],
        endings={"d-1": Ending("Failed", "failed", "the reason")},
    )
    assert run(monkeypatch, reason, 1) == [["deployment d-1: Failed: the reason"]]


def test_a_stopped_deployment_still_rolling_back_is_said_again_when_it_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # ECS: ROLLBACK_IN_PROGRESS reads phase STOPPED before its ending has an outcome
    engine = Scripted(
        noun="Service deployment",
        views=[view("arn:x/123", "ROLLBACK_IN_PROGRESS", Phase.STOPPED) for _ in range(4)],
    )
    monkeypatch.setattr(watch_mod, "discover", lambda clients: [LiveSystem(engine, "")])  # type: ignore[arg-type]
    watch = DeploymentWatch()
    clients: Any = None
    engine.endings["arn:x/123"] = Ending("ROLLBACK_IN_PROGRESS", "")
    assert watch.lines(clients) == ["service deployment 123: ROLLBACK_IN_PROGRESS"]
    assert watch.lines(clients) == []
    engine.endings["arn:x/123"] = Ending("ROLLBACK_SUCCESSFUL", "rolled back", "Alarm a")
    assert watch.lines(clients) == ["service deployment 123: ROLLBACK_SUCCESSFUL: Alarm a"]
    assert watch.lines(clients) == []


def test_a_deployment_replaced_before_its_end_was_seen_is_read_once_more(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Scripted(
        views=[*REPLACED],
        endings={"d-1": Ending("Stopped", "rolled back", "Alarm x")},
    )
    assert run(monkeypatch, engine, 2) == [
        ["deployment d-1: InProgress"],
        ["deployment d-1: Stopped: Alarm x", "deployment d-2: InProgress"],
    ]


@pytest.mark.parametrize(
    ("ending", "said", "read_again"),
    [
        (Ending("InProgress", ""), [], True),
        (StateError("gone"), [], True),
        (Ending("Succeeded", "succeeded"), ["deployment d-1: Succeeded"], False),
    ],
)
def test_what_is_said_of_a_replaced_deployment(
    monkeypatch: pytest.MonkeyPatch,
    ending: Ending | Exception,
    said: list[str],
    read_again: bool,
) -> None:
    engine = Scripted(
        views=[*REPLACED],
    )
    seen = DeploymentWatch()
    monkeypatch.setattr(watch_mod, "discover", lambda clients: [LiveSystem(engine, "")])  # type: ignore[arg-type]
    seen.lines(None)  # type: ignore[arg-type]
    engine.endings["d-1"] = ending
    engine.endings["d-2"] = Ending("InProgress", "")
    assert seen.lines(None) == [*said, "deployment d-2: InProgress"]  # type: ignore[arg-type]
    # Private seam (DeploymentWatch._ended_meanwhile), labelled: once d-1's end was said,
    # it is not read again; while its end is unknown (still running, or unreadable) it
    # is read again the next time it is replaced, so its end can still be said.
    asked = len(engine.asked)
    assert seen._ended_meanwhile(engine, "d-1") == []  # type: ignore[arg-type]
    assert len(engine.asked) == asked + read_again
    # a deployment this watch never saw is not read at all
    asked = len(engine.asked)
    assert seen._ended_meanwhile(engine, "d-9") == []  # type: ignore[arg-type]
    assert len(engine.asked) == asked


def test_an_ended_deployment_said_is_not_read_again_when_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Scripted(
        views=[
            view("d-1", "Succeeded", Phase.SUCCEEDED),
            view("d-2", "InProgress", Phase.INSTALLING, task_sets=[BLUE, GREEN]),
        ],
        endings={"d-1": Ending("Succeeded", "succeeded")},
    )
    assert run(monkeypatch, engine, 2) == [
        ["deployment d-1: Succeeded"],
        ["deployment d-2: InProgress"],
    ]
    assert engine.asked.count("d-1") == 2  # its name, and its end; not once more


def test_a_service_that_never_deployed_says_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(monkeypatch, Scripted(views=[None]), 1) == [[]]


@pytest.mark.parametrize(
    ("rollback_of", "ending", "name"),
    [
        ("d-1", Ending("InProgress", ""), "deployment d-2 (rollback of d-1)"),
        ("", Ending("InProgress", "", rollback=True), "rollback deployment d-2"),
        ("", StateError("no"), "deployment d-2"),
        ("", Ending("InProgress", ""), "deployment d-2"),
    ],
)
def test_a_rollback_deployment_is_named_so(
    monkeypatch: pytest.MonkeyPatch, rollback_of: str, ending: Ending | Exception, name: str
) -> None:
    engine = Scripted(
        views=[view("d-2", "InProgress", Phase.INSTALLING, rollback_of=rollback_of)],
        endings={"d-2": ending},
    )
    assert run(monkeypatch, engine, 1) == [[f"{name}: InProgress"]]


@pytest.mark.parametrize(
    ("sets", "first_run", "cue"),
    [
        (
            [GREEN],
            False,
            "the service's creation, which `bluegreen deploy` continues as it creates the "
            "service (nothing serves production yet; otherwise `bluegreen promote`)",
        ),
        (
            [BLUE, GREEN],
            True,
            "the first release, which `bluegreen deploy` promotes as it follows it (after "
            "`deploy --no-follow`: `bluegreen promote`)",
        ),
        (
            [BLUE, GREEN],
            False,
            "test green on the test listener, then `bluegreen promote` (or `bluegreen rollback`)",
        ),
        (
            [BLUE, GREEN],
            BluegreenError("denied"),
            "test green on the test listener, then `bluegreen promote` (or `bluegreen rollback`)",
        ),
    ],
)
def test_what_ends_the_wait(
    monkeypatch: pytest.MonkeyPatch, sets: list[TrafficSet], first_run: bool | Exception, cue: str
) -> None:
    engine = Scripted(
        views=[view("d-1", "Ready", Phase.WAITING, task_sets=sets, auto_reroute=False)]
    )
    lines = run(monkeypatch, engine, 1, pipeline="p", first_run=first_run)
    assert lines == [["deployment d-1: Ready", f"deployment d-1: waits for reroute: {cue}"]]


def test_without_a_pipeline_it_is_not_the_first_run(monkeypatch: pytest.MonkeyPatch) -> None:
    engine = Scripted(
        views=[view("d-1", "Ready", Phase.WAITING, task_sets=[BLUE, GREEN], auto_reroute=False)]
    )
    lines = run(monkeypatch, engine, 1, pipeline="", first_run=True)
    assert lines[0][1].endswith("then `bluegreen promote` (or `bluegreen rollback`)")


def test_a_replaced_deployments_end_is_said_once_even_if_it_shows_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    engine = Scripted(
        views=[
            *REPLACED,
            view("d-1", "Succeeded", Phase.SUCCEEDED, task_sets=[BLUE, GREEN]),
            view("d-2", "InProgress", Phase.INSTALLING, task_sets=[BLUE, GREEN]),
        ],
        endings={"d-1": Ending("Succeeded", "succeeded")},
    )
    assert run(monkeypatch, engine, 4) == [
        ["deployment d-1: InProgress"],
        ["deployment d-1: Succeeded", "deployment d-2: InProgress"],
        [],
        [],
    ]


def test_every_system_is_watched_on_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    # discover lists every bluegreen system in the account; each service keeps its own
    # latest deployment
    one = Scripted(
        views=[
            view("d-1", "InProgress", Phase.INSTALLING, task_sets=[BLUE, GREEN]),
            view("d-1", "InProgress", Phase.SHIFTING, task_sets=[BLUE, GREEN]),
            view("d-5", "InProgress", Phase.INSTALLING, task_sets=[BLUE, GREEN]),
        ]
    )
    quiet = Scripted(views=[None, None, None], refs=ServiceRefs("c", "q", "", "", "", "", (), 0, 0))
    two = Scripted(
        noun="Service deployment",
        views=[
            view("arn:x/7", "IN_PROGRESS", Phase.INSTALLING, task_sets=[BLUE, GREEN]),
            view("arn:x/7", "IN_PROGRESS", Phase.INSTALLING, task_sets=[BLUE, GREEN]),
            view("arn:x/8", "IN_PROGRESS", Phase.INSTALLING, task_sets=[BLUE, GREEN]),
        ],
        refs=ServiceRefs("c2", "s", "", "", "", "", (), 0, 0),
    )
    clients: Any = object()

    def discover(given: Any) -> list[LiveSystem]:
        assert given is clients
        return [LiveSystem(one, ""), LiveSystem(quiet, ""), LiveSystem(two, "")]  # type: ignore[arg-type]

    monkeypatch.setattr(watch_mod, "discover", discover)
    watch = DeploymentWatch()
    assert watch.lines(clients) == [
        "deployment d-1: InProgress",
        "service deployment 7: IN_PROGRESS",
    ]
    assert watch.lines(clients) == []
    assert watch.latest == {"c/s": "d-1", "c2/s": "arn:x/7"}
    assert one.asked == ["d-1"] and two.asked == ["arn:x/7"]  # each named once
    # both replaced in one round: each replaced one read once more, every line kept
    assert watch.lines(clients) == [
        "deployment d-5: InProgress",
        "service deployment 8: IN_PROGRESS",
    ]
    assert one.asked == ["d-1", "d-1", "d-5"] and two.asked == ["arn:x/7", "arn:x/7", "arn:x/8"]
