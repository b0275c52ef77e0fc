"""Lambda functions and CloudWatch alarms (issue 11's verify hook and alarms).

``AWS::Lambda::Function`` with inline code: CloudFormation "places it in a file named
index and zips it to create a deployment package" (AWS::Lambda::Function Code.ZipFile,
the resource schema cfn-lint ships); the emulated Lambda gets that package
(:func:`bluegreen.verification.package.zipped`). Which code runs when a service invokes
it is :mod:`bluegreen.emulator.hooks`'s business (bluegreen's own hook is registered by
:mod:`bluegreen.verification.emulated`). ``AWS::CloudWatch::Alarm`` is PutMetricAlarm.
"""

from __future__ import annotations

from typing import Any

from bluegreen.emulator.cloudformation.resources.registry import (
    Context,
    Existing,
    Provisioned,
    Resource,
    deleter,
    pick,
    provisioner,
    tag_arg,
)
from bluegreen.verification import package

_FUNCTION_IGNORED = {
    "LoggingConfig": "moto keeps no logging configuration; bluegreen's hook writes to the "
    "group it names (bluegreen.verification.emulated)",
    "VpcConfig": "the emulator has one network; the prober's reach is checked by the "
    "security groups in the stack tests, not simulated per invocation",
}


@provisioner(
    "AWS::Lambda::Function",
    "FunctionName Runtime Handler Code Role Timeout MemorySize Description Environment Tags",
    _FUNCTION_IGNORED,
    name="FunctionName",
)
def function(ctx: Context, res: Resource) -> Provisioned:
    p = res.properties
    code = p["Code"]
    if "ZipFile" not in code:
        raise res.fail("the rehearsal plays inline code (Code.ZipFile) only")
    name = p.get("FunctionName") or ctx.physical_name(res, 64)
    created = ctx.clients("lambda").create_function(
        FunctionName=name,
        Runtime=p["Runtime"],
        Handler=p["Handler"],
        Role=p["Role"],
        Code={"ZipFile": package.zipped(str(code["ZipFile"]))},
        **pick(p, "Timeout", "MemorySize", "Description", "Environment"),
        **_tags(p),
    )
    if ctx.emulator is not None:
        from bluegreen.verification import emulated

        emulated.register(
            ctx.emulator,
            name,
            str(code["ZipFile"]),
            dict((p.get("Environment") or {}).get("Variables") or {}),
            str((p.get("LoggingConfig") or {}).get("LogGroup") or f"/aws/lambda/{name}"),
            float(p.get("Timeout") or 3),
        )
    return Provisioned(name, {"Arn": created["FunctionArn"]})


def _tags(p: dict[str, Any]) -> dict[str, Any]:
    found = tag_arg(p)
    return {"Tags": {t["Key"]: t["Value"] for t in found["Tags"]}} if found else {}


@deleter("AWS::Lambda::Function")
def function_delete(ctx: Context, old: Existing) -> None:
    from bluegreen.emulator import hooks

    ctx.clients("lambda").delete_function(FunctionName=old.ref)
    hooks.unregister(old.ref)


_ALARM_PROPERTIES = (
    "AlarmName AlarmDescription Namespace MetricName Dimensions Statistic "
    "ExtendedStatistic Period EvaluationPeriods DatapointsToAlarm Threshold "
    "ComparisonOperator TreatMissingData ActionsEnabled AlarmActions OKActions "
    "InsufficientDataActions Unit"
)


@provisioner("AWS::CloudWatch::Alarm", _ALARM_PROPERTIES, name="AlarmName")
def alarm(ctx: Context, res: Resource) -> Provisioned:
    p = res.properties
    name = p.get("AlarmName") or ctx.physical_name(res, 255)
    ctx.clients.cloudwatch.put_metric_alarm(
        AlarmName=name, **{k: v for k, v in p.items() if k != "AlarmName"}
    )
    return Provisioned(name, {"Arn": ctx.arn("cloudwatch", f"alarm:{name}")})


@deleter("AWS::CloudWatch::Alarm")
def alarm_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.cloudwatch.delete_alarms(AlarmNames=[old.ref])
