"""CloudWatch metric alarms that change state on the simulated clock.

moto stores alarms (PutMetricAlarm) and metric data (PutMetricData) but never evaluates
an alarm: its alarms stay in the state they were created in. Of moto's alarm machinery
the emulator uses the storage (``CloudWatchBackend.alarms`` and ``metric_data``, the
``Alarm`` and ``MetricDatum`` models); evaluation is here, as CloudWatch documents it:

- E1 "Evaluating an alarm" (CloudWatch user guide, AlarmThatSendsEmail.html#alarm-evaluation):
  Period, Evaluation Periods (N) and Datapoints to Alarm (M): "When you configure Evaluation
  Periods and Datapoints to Alarm as different values, you're setting an 'M out of N'
  alarm"; and "Avoiding premature transitions to alarm state": "alarms are designed to
  always go into ALARM state when the oldest available breaching datapoint during the
  Evaluation Periods number of data points is at least as old as the value of Datapoints
  to Alarm, and all other more recent data points are breaching or missing"; the page's
  two tables (N=3, range 5) show that rule only with ``missing`` and only while no real
  point of the range is non-breaching; with ``ignore`` those rows keep the state.
- E2 "Configuring how CloudWatch alarms treat missing data" (alarms-and-missing-data.html):
  ``missing`` (the default: "if all data points in the alarm evaluation range are missing,
  the alarm transitions to INSUFFICIENT_DATA"), ``notBreaching``, ``breaching``, ``ignore``
  ("the current alarm state is maintained"); the evaluation range: "CloudWatch attempts to
  retrieve a higher number of data points than the number specified as Evaluation
  Periods"; with at least N real points in it the most recent N real points decide and the
  missing-data setting is ignored; with fewer, "CloudWatch fills in the missing data
  points with the result you specified ... all real data points in the evaluation range
  are included ... CloudWatch uses missing data points only as few times as possible".
  How many extra periods the range holds is not documented: the emulator takes
  ``max(2, N // 3)``.
- Percentiles (ExtendedStatistic ``pNN``) need raw values; a statistic set counts only
  when its SampleCount is 1 or its Minimum equals its Maximum (GetMetricStatistics API
  reference). CloudWatch documents no interpolation: the emulator takes the nearest rank.
- A new alarm is ``INSUFFICIENT_DATA`` (PutMetricAlarm: "the alarm state is initially set
  to INSUFFICIENT_DATA"; moto says OK); updating an alarm keeps its state ("When you
  update an existing alarm, its state is left unchanged").
- The StateReason reads as CloudWatch's does ("Threshold Crossed: 3 out of the last 3
  datapoints [20000.0 (08/11/22 11:25:00), ...] were greater than the threshold (0.0)
  (minimum 1 datapoint for OK -> ALARM transition).", the EventBridge example of the
  CloudWatch user guide, cloudwatch-metrics-insights-alarms-partial-data.html).

Evaluation is lazy: nothing runs while nobody looks. When something asks (DescribeAlarms,
DescribeAlarmHistory, a deployment polling its alarms), every evaluation the alarm would
have made since the last one is replayed at its own instant (one a period, at most one a
minute, on period boundaries; only the instants whose evaluation range holds data, plus
the first one after data leaves it, since between those the answer cannot change), so
StateUpdatedTimestamp and the history say when the state changed, not when it was read.
Only complete periods are evaluated (a datapoint counts once its period has ended).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_COMPARE = {
    "GreaterThanOrEqualToThreshold": (lambda v, t: v >= t, "greater than or equal to"),
    "GreaterThanThreshold": (lambda v, t: v > t, "greater than"),
    "LessThanThreshold": (lambda v, t: v < t, "less than"),
    "LessThanOrEqualToThreshold": (lambda v, t: v <= t, "less than or equal to"),
}


@dataclass(frozen=True)
class Spec:
    """What decides a metric alarm's state (PutMetricAlarm's parameters)."""

    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    statistic: str = ""  # SampleCount | Average | Sum | Minimum | Maximum
    extended_statistic: str = ""  # pNN(.NN)
    datapoints_to_alarm: int | None = None
    treat_missing: str = "missing"

    @property
    def m(self) -> int:
        return self.datapoints_to_alarm or self.evaluation_periods

    @property
    def range_periods(self) -> int:
        """The evaluation range, in periods (E2: more than N; how many is not documented)."""
        n = self.evaluation_periods
        return n + max(2, n // 3)

    def breaches(self, value: float) -> bool:
        compare = _COMPARE.get(self.comparison)
        if compare is None:  # anomaly-detection operators: not evaluated here
            return False
        test: Any = compare[0]
        return bool(test(value, self.threshold))


@dataclass(frozen=True)
class Verdict:
    """One evaluation: the state (None: keep the current one), the reason, what decided."""

    state: str | None
    reason: str
    evaluated: list[tuple[datetime, float]] = field(default_factory=list)


def evaluate(spec: Spec, points: Sequence[tuple[datetime, float | None]], current: str) -> Verdict:
    """The alarm's state after one evaluation of ``points``: one (period start, value or
    None when missing) per period of the evaluation range, oldest first."""
    n, m = spec.evaluation_periods, spec.m
    real = [(at, v) for at, v in points if v is not None]
    mode = spec.treat_missing or "missing"
    if not real:
        # E2: every point of the range is missing.
        word = {
            "missing": "INSUFFICIENT_DATA",
            "breaching": "ALARM",
            "notBreaching": "OK",
        }.get(mode)
        plural = "s" if n > 1 else ""
        reason = (
            f"{'Insufficient Data' if word == 'INSUFFICIENT_DATA' else 'Threshold Crossed'}: "
            f"no datapoints were received for {n} period{plural} and {n} missing "
            f"datapoint{plural} {'were' if n > 1 else 'was'} treated as "
            f"[{mode[0].upper() + mode[1:]}]."
        )
        return Verdict(word, reason)  # ignore: None, the state is kept
    if len(real) >= n:
        # E2: enough real points in the range: the most recent N decide.
        evaluated = real[-n:]
        breaching = sum(1 for _, v in evaluated if spec.breaches(v))
        return _decided(spec, evaluated, breaching >= m, breaching)
    # Fewer real points than N.
    if mode in ("breaching", "notBreaching"):
        fill = n - len(real)
        breaching = sum(1 for _, v in real if spec.breaches(v))
        if mode == "breaching":
            breaching += fill
        return _decided(spec, real, breaching >= m, breaching, filled=(fill, mode))
    # missing / ignore: the real points only, and E1's premature-alarm rule over the last
    # N periods of the range. AWS's two tables (E2, N=3, range 5; the last revision of
    # awsdocs/amazon-cloudwatch-user-guide AlarmThatSendsEmail.md, b355497) bound the rule:
    # it fires only while no real point of the range is non-breaching (2 of 3 ``0 - X - -``
    # is OK), and with ``ignore`` it keeps the current state instead (``- - X - -`` and
    # ``- - - X -``: "Retain current state").
    breaching = sum(1 for _, v in real if spec.breaches(v))
    if breaching >= m:
        return _decided(spec, real, True, breaching)
    if breaching == len(real):
        window = list(points)[-n:]
        oldest = next((i for i, (_, v) in enumerate(window) if v is not None), None)
        if oldest is not None and len(window) - oldest >= m:
            if mode == "ignore":
                return Verdict(None, "", real)
            return _decided(spec, real, True, breaching)
    return _decided(spec, real, False, breaching)


def _decided(
    spec: Spec,
    evaluated: list[tuple[datetime, float]],
    alarm: bool,
    breaching: int,
    filled: tuple[int, str] | None = None,
) -> Verdict:
    words = _COMPARE.get(spec.comparison, (None, spec.comparison))[1]
    shown = ", ".join(f"{_number(v)} ({at:%d/%m/%y %H:%M:%S})" for at, v in reversed(evaluated))
    if alarm:
        count = f"{breaching} out of the last {spec.evaluation_periods}"
        tail = f"(minimum {spec.m} datapoint{'s' if spec.m > 1 else ''} for OK -> ALARM transition)"
        verb = "were" if breaching != 1 else "was"
    else:
        count = f"{len(evaluated) - breaching} out of the last {len(evaluated)}"
        tail = "(minimum 1 datapoint for ALARM -> OK transition)"
        verb = "were not" if len(evaluated) - breaching != 1 else "was not"
    extra = ""
    if filled is not None and filled[0]:
        plural = "s" if filled[0] > 1 else ""
        mode = filled[1][0].upper() + filled[1][1:]
        extra = f" and {filled[0]} missing datapoint{plural} treated as [{mode}]"
    reason = (
        f"Threshold Crossed: {count} datapoints [{shown}]{extra} {verb} {words} the "
        f"threshold ({_number(spec.threshold)}) {tail}."
    )
    return Verdict("ALARM" if alarm else "OK", reason, evaluated)


def _number(value: float) -> str:
    return repr(float(value))


# ------------------------------------------------------------------ statistics of a period


def statistic(spec: Spec, data: Iterable[Any]) -> float | None:
    """The alarm's statistic of one period's moto datums (None: no data)."""
    found = list(data)
    if not found:
        return None
    if spec.extended_statistic:
        values: list[float] = []
        for datum in found:
            if hasattr(datum, "value"):
                values.append(float(datum.value))
            elif datum.sample_count == 1 or datum.min == datum.max:
                values.extend([float(datum.min)] * max(1, int(datum.sample_count)))
        return percentile(values, spec.extended_statistic)
    count = total = 0.0
    low, high = math.inf, -math.inf
    for datum in found:
        if hasattr(datum, "value"):
            value = float(datum.value)
            count, total = count + 1, total + value
            low, high = min(low, value), max(high, value)
        else:
            count += float(datum.sample_count)
            total += float(datum.sum)
            low, high = min(low, float(datum.min)), max(high, float(datum.max))
    return {
        "SampleCount": count,
        "Sum": total,
        "Average": total / count if count else None,
        "Minimum": low,
        "Maximum": high,
    }.get(spec.statistic)


def percentile(values: list[float], name: str) -> float | None:
    """``pNN`` of ``values`` by the nearest rank (None without values)."""
    if not values:
        return None
    p = float(name[1:])
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


# ---------------------------------------------------------------- the account's alarms


@dataclass
class _Tracked:
    alarm: Any  # moto's Alarm
    last_tick: int  # seconds since the epoch of the last evaluation


class Alarms:
    """The account's metric alarms, evaluated lazily on the emulator's clock."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self._tracked: dict[str, _Tracked] = {}
        self.history: list[dict[str, Any]] = []
        """DescribeAlarmHistory's items, oldest first."""
        self.changes: list[tuple[datetime, str, str, str, str]] = []
        """(when, alarm, from state, to state, reason) of every state change."""
        self._series: dict[tuple[str, str, frozenset[tuple[str, str]]], list[Any]] = {}
        self._indexed = 0  # moto's metric_data is append-only: how much is in _series

    def _backend(self) -> Any:
        return self.emulator.backend("cloudwatch")

    def refresh(self, names: Iterable[str] | None = None) -> None:
        """Evaluate ``names`` (all alarms: None) up to now."""
        backend = self._backend()
        wanted = set(backend.alarms) if names is None else set(names) & set(backend.alarms)
        now = _epoch(self.emulator.now())
        for gone in set(self._tracked) - set(backend.alarms):
            del self._tracked[gone]
        for name in sorted(wanted):
            alarm = backend.alarms[name]
            tracked = self._tracked.get(name)
            if tracked is None or tracked.alarm is not alarm:
                tracked = self._track(name, alarm, tracked)
            if alarm.metric_data_queries or alarm.rule or not alarm.period:
                continue  # metric math and composite alarms are not evaluated here
            self._catch_up(tracked, now, backend)

    def states(self, names: Iterable[str]) -> dict[str, str]:
        """StateValue of each existing alarm of ``names``, evaluated up to now."""
        names = list(names)
        self.refresh(names)
        alarms = self._backend().alarms
        return {n: str(alarms[n].state_value) for n in names if n in alarms}

    # ------------------------------------------------------------------- internals
    def _track(self, name: str, alarm: Any, previous: _Tracked | None) -> _Tracked:
        created = _epoch(_aware(alarm.configuration_updated_timestamp))
        if previous is not None:
            # PutMetricAlarm on an existing alarm: moto makes a new one; AWS keeps the state.
            old = previous.alarm
            alarm.state_value = old.state_value
            alarm.state_reason = old.state_reason
            alarm.state_reason_data = old.state_reason_data
            alarm.state_updated_timestamp = old.state_updated_timestamp
            tracked = _Tracked(alarm, previous.last_tick)
        else:
            alarm.state_value = "INSUFFICIENT_DATA"
            alarm.state_reason = "Unchecked: Initial alarm creation"
            alarm.state_updated_timestamp = alarm.configuration_updated_timestamp
            step = _tick(alarm)
            tracked = _Tracked(alarm, created - created % step if step else created)
        self._tracked[name] = tracked
        return tracked

    def _catch_up(self, tracked: _Tracked, now: int, backend: Any) -> None:
        alarm = tracked.alarm
        spec = spec_of(alarm)
        step = _tick(alarm)
        last = now - now % step
        if last <= tracked.last_tick:
            return
        # Only data that can fall in an evaluation range after the last evaluation.
        oldest = tracked.last_tick - (spec.range_periods + 1) * spec.period
        data = [
            d
            for d in self._metric(backend, alarm)
            if _epoch(_aware(d.timestamp)) >= oldest
            and not (alarm.unit and d.unit and d.unit != alarm.unit)
        ]
        ticks = _interesting(tracked.last_tick, last, step, spec, data)
        for tick in ticks:
            points = _points(spec, data, tick)
            verdict = evaluate(spec, points, str(alarm.state_value))
            if verdict.state is not None and verdict.state != alarm.state_value:
                self._change(alarm, spec, verdict, tick, points)
        tracked.last_tick = last

    def set_state(self, name: str, state: str, reason: str, reason_data: str) -> None:
        """SetAlarmState: the state until the alarm's next evaluation ("the alarm state
        ... returns to its actual state" at the next period: SetAlarmState API
        reference), recorded in the history like any state change."""
        self.refresh([name])
        alarm = self._backend().alarms[name]
        old = str(alarm.state_value)
        when = self.emulator.now()
        alarm.update_state(reason, reason_data or "{}", state)
        alarm.state_updated_timestamp = when.replace(tzinfo=None)
        if old != state:
            self._record(alarm, when, old, state, reason, {})

    def _metric(self, backend: Any, alarm: Any) -> list[Any]:
        """The alarm's metric's datums: a metric is its namespace, name and whole set of
        dimensions (CloudWatch user guide, "Dimensions": "CloudWatch treats each unique
        combination of dimensions as a separate metric"). Indexed as moto appends them."""
        stored = backend.metric_data
        if len(stored) < self._indexed:  # not expected (moto only appends): start over
            self._series, self._indexed = {}, 0
        for datum in stored[self._indexed :]:
            self._series.setdefault(_key(datum.namespace, datum.name, datum.dimensions), []).append(
                datum
            )
        self._indexed = len(stored)
        return self._series.get(_key(alarm.namespace, alarm.metric_name, alarm.dimensions), [])

    def _change(
        self,
        alarm: Any,
        spec: Spec,
        verdict: Verdict,
        tick: int,
        points: list[tuple[datetime, float | None]],
    ) -> None:
        when = EPOCH + timedelta(seconds=tick)
        old = str(alarm.state_value)
        state = str(verdict.state)
        reason_data: dict[str, Any] = {
            "version": "1.0",
            "queryDate": _stamp(when),
            "startDate": _stamp(points[0][0]) if points else _stamp(when),
            "period": spec.period,
            "recentDatapoints": [v for _, v in points if v is not None],
            "threshold": spec.threshold,
            "evaluatedDatapoints": [
                {"timestamp": _stamp(at), "value": v} for at, v in reversed(verdict.evaluated)
            ],
        }
        if spec.statistic:
            reason_data["statistic"] = spec.statistic
        alarm.update_state(verdict.reason, json.dumps(reason_data), state)
        alarm.state_updated_timestamp = when.replace(tzinfo=None)
        self._record(alarm, when, old, state, verdict.reason, reason_data)

    def _record(
        self,
        alarm: Any,
        when: datetime,
        old: str,
        state: str,
        reason: str,
        reason_data: dict[str, Any],
    ) -> None:
        summary = f"Alarm updated from {old} to {state}"
        self.history.append(
            {
                "AlarmName": alarm.name,
                "AlarmType": "MetricAlarm",
                "Timestamp": when,
                "HistoryItemType": "StateUpdate",
                "HistorySummary": summary,
                "HistoryData": json.dumps(
                    {
                        "version": "1.0",
                        "oldState": {"stateValue": old},
                        "newState": {
                            "stateValue": state,
                            "stateReason": reason,
                            "stateReasonData": reason_data,
                        },
                    }
                ),
            }
        )
        self.changes.append((when, str(alarm.name), old, state, reason))


def spec_of(alarm: Any) -> Spec:
    return Spec(
        period=int(alarm.period),
        evaluation_periods=int(alarm.evaluation_periods),
        threshold=float(alarm.threshold),
        comparison=str(alarm.comparison_operator),
        statistic=str(alarm.statistic or ""),
        extended_statistic=str(alarm.extended_statistic or ""),
        datapoints_to_alarm=int(alarm.datapoints_to_alarm) if alarm.datapoints_to_alarm else None,
        treat_missing=str(alarm.treat_missing_data or "missing"),
    )


def _tick(alarm: Any) -> int:
    """Seconds between two evaluations: one a period, at most one a minute."""
    return max(1, min(int(alarm.period or 60), 60))


def _interesting(after: int, last: int, step: int, spec: Spec, data: list[Any]) -> list[int]:
    """The evaluation instants in (after, last] whose answer may differ from the one
    before: the first, those whose range holds data, the first after data leaves it."""
    span = spec.range_periods * spec.period
    ticks = {after + step} if after + step <= last else set()
    ends = set()
    for datum in data:
        at = _epoch(_aware(datum.timestamp))
        ends.add(at - at % spec.period + spec.period)  # a datum counts once its period ended
    for end in ends:
        first = max(after + step, math.ceil(end / step) * step)
        stop = min(last, end + span)
        tick = first
        while tick <= stop + step:
            if after < tick <= last:
                ticks.add(tick)
            tick += step
    ticks.add(last)
    return sorted(t for t in ticks if after < t <= last)


def _points(spec: Spec, data: list[Any], tick: int) -> list[tuple[datetime, float | None]]:
    """The evaluation range at ``tick``: the complete periods before it, oldest first."""
    end = tick - tick % spec.period
    starts = [end - (i + 1) * spec.period for i in reversed(range(spec.range_periods))]
    buckets: dict[int, list[Any]] = {s: [] for s in starts}
    for datum in data:
        at = _epoch(_aware(datum.timestamp))
        start = at - at % spec.period
        if start in buckets:
            buckets[start].append(datum)
    return [(EPOCH + timedelta(seconds=s), statistic(spec, buckets[s])) for s in starts]


def _key(
    namespace: str, name: str, dimensions: Iterable[Any]
) -> tuple[str, str, frozenset[tuple[str, str]]]:
    return (str(namespace), str(name), frozenset((str(d.name), str(d.value)) for d in dimensions))


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _epoch(moment: datetime) -> int:
    return int((moment - EPOCH).total_seconds())


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
