"""Amazon CloudWatch: moto's, with metric alarms that change state
(:mod:`bluegreen.emulator.alarms`).

What reads an alarm's state has it evaluated first, up to the simulated now: DescribeAlarms
and DescribeAlarmsForMetric (then served by moto), DescribeAlarmHistory (served here:
moto has none). Everything else is moto's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from bluegreen.emulator.alarms import Alarms
from bluegreen.emulator.service import PASS, Call, Params, Result, Service, ServiceError, operation

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

_PASS: Result = PASS


class CloudWatch(Service):
    """CloudWatch's alarm reads, evaluated on the clock first."""

    name = "cloudwatch"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self.alarms = Alarms(emulator)

    @operation("DescribeAlarms")
    def describe_alarms(self, params: Params, call: Call) -> Result:
        self.alarms.refresh(params.get("AlarmNames") or None)
        return _PASS

    @operation("DescribeAlarmsForMetric")
    def describe_alarms_for_metric(self, params: Params, call: Call) -> Result:
        self.alarms.refresh()
        return _PASS

    @operation("SetAlarmState")
    def set_alarm_state(self, params: Params, call: Call) -> Result:
        name = str(params["AlarmName"])
        if name not in self.emulator.backend("cloudwatch").alarms:
            # SetAlarmState's errors (botocore's cloudwatch model, with its wording).
            raise ServiceError("ResourceNotFound", "The named resource does not exist.")
        data = str(params.get("StateReasonData") or "")
        if data:
            try:
                json.loads(data)
            except ValueError:
                raise ServiceError(
                    "InvalidFormat", "Data was not syntactically valid JSON."
                ) from None
        self.alarms.set_state(name, str(params["StateValue"]), str(params["StateReason"]), data)
        return {}

    @operation("DescribeAlarmHistory")
    def describe_alarm_history(self, params: Params, call: Call) -> Result:
        name = params.get("AlarmName")
        self.alarms.refresh([name] if name else None)
        kind = params.get("HistoryItemType")
        types = params.get("AlarmTypes") or ["MetricAlarm", "CompositeAlarm"]
        start, end = _aware(params.get("StartDate")), _aware(params.get("EndDate"))
        found = [
            item
            for item in self.alarms.history
            if (not name or item["AlarmName"] == name)
            and (not kind or item["HistoryItemType"] == kind)
            and item["AlarmType"] in types
            and (start is None or item["Timestamp"] >= start)
            and (end is None or item["Timestamp"] <= end)
        ]
        order = params.get("ScanBy") or "TimestampDescending"
        if order == "TimestampDescending":
            found.reverse()
        limit = int(params.get("MaxRecords") or 100)
        if not 1 <= limit <= 100:
            # MaxRecords: 1 to 100 (botocore's cloudwatch model).
            raise ServiceError(
                "InvalidParameterValue", "The parameter MaxRecords must be between 1 and 100."
            )
        offset = int(params.get("NextToken") or 0)
        page = found[offset : offset + limit]
        result: dict[str, Any] = {"AlarmHistoryItems": [dict(item) for item in page]}
        if offset + limit < len(found):
            result["NextToken"] = str(offset + limit)
        return result


def _aware(moment: Any) -> datetime | None:
    if not isinstance(moment, datetime):
        return None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
