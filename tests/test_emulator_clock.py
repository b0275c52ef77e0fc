"""The emulator's clock: processes wait on time and on conditions, deterministically."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bluegreen.emulator.clock import Clock, EmulatorBug, Until, Wait

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)


def test_a_process_runs_to_its_first_wait_when_spawned_and_wakes_on_time() -> None:
    clock = Clock(T0)
    seen: list[tuple[str, float]] = []

    def body() -> Any:
        seen.append(("start", clock.seconds))
        yield Wait(30)
        seen.append(("woke", clock.seconds))
        yield Wait(0)
        seen.append(("again", clock.seconds))

    process = clock.spawn("p", body())
    assert seen == [("start", 0.0)]
    clock.advance(29.9)
    assert seen == [("start", 0.0)]
    clock.advance(0.1)
    assert seen == [("start", 0.0), ("woke", 30.0), ("again", 30.0)]
    assert process.done


def test_timers_fire_in_time_order_at_their_own_times() -> None:
    clock = Clock(T0)
    seen: list[tuple[str, float]] = []

    def sleeper(name: str, seconds: float) -> Any:
        yield Wait(seconds)
        seen.append((name, clock.seconds))

    clock.spawn("late", sleeper("late", 50))
    clock.spawn("early", sleeper("early", 10))
    clock.advance(100)
    assert seen == [("early", 10.0), ("late", 50.0)]
    assert clock.seconds == 100.0
    assert clock.now() == datetime(2021, 9, 19, 1, 1, 40, tzinfo=UTC)


def test_until_resumes_when_the_condition_holds_or_on_timeout() -> None:
    clock = Clock(T0)
    flag = {"go": False}
    seen: list[tuple[bool, float]] = []

    def waiter(timeout: float | None) -> Any:
        met = yield Until(lambda: flag["go"], timeout=timeout)
        seen.append((met, clock.seconds))

    clock.spawn("times out", waiter(60))
    clock.spawn("waits", waiter(None))
    clock.advance(61)
    assert seen == [(False, 60.0)]
    flag["go"] = True
    clock.run_due()  # something happened (an API call): conditions are checked at once
    assert seen == [(False, 60.0), (True, 61.0)]


def test_a_process_that_moves_another_one_resumes_it_in_the_same_tick() -> None:
    clock = Clock(T0)
    state = {"ready": False}
    seen: list[str] = []

    def producer() -> Any:
        yield Wait(5)
        state["ready"] = True

    def consumer() -> Any:
        yield Until(lambda: state["ready"])
        seen.append(f"consumed at {clock.seconds}")

    clock.spawn("consumer", consumer())
    clock.spawn("producer", producer())
    assert clock.next_wakeup() == 5.0
    clock.advance(5)
    assert seen == ["consumed at 5.0"]
    assert not clock.busy


def test_a_cancelled_process_never_resumes() -> None:
    clock = Clock(T0)
    seen: list[str] = []

    def body() -> Any:
        yield Wait(10)
        seen.append("resumed")

    process = clock.spawn("p", body())
    process.cancel()
    clock.advance(20)
    assert seen == [] and process.cancelled


def test_a_failing_process_is_reported_as_an_emulator_bug() -> None:
    clock = Clock(T0)

    def body() -> Any:
        yield Wait(1)
        raise KeyError("boom")

    clock.spawn("broken", body())
    with pytest.raises(EmulatorBug, match="broken"):
        clock.advance(2)


def test_time_never_goes_back_and_needs_an_aware_start() -> None:
    clock = Clock(T0)
    with pytest.raises(ValueError):
        clock.advance(-1)
    with pytest.raises(ValueError):
        Clock(datetime(2021, 1, 1))  # noqa: DTZ001 - the point of the test
