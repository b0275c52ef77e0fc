"""Small helpers every stack module shares: ARNs, outputs with exports, imports.

ARNs are built from the AWS::Partition, AWS::Region and AWS::AccountId pseudo parameters
so a template never carries an account id or a region and deploys unchanged into any
account, region or partition (the seed hard-coded its account id in several places).
"""

from __future__ import annotations

from troposphere import AWSHelperFn, Export, ImportValue, Output, Sub, Template, logs

from bluegreen.names import Names


def arn(service: str, resource: str) -> Sub:
    """``arn:<partition>:<service>:<region>:<account>:<resource>`` for this stack's account."""
    return Sub("arn:${AWS::Partition}:" + service + ":${AWS::Region}:${AWS::AccountId}:" + resource)


def aws_managed_policy(name: str) -> Sub:
    """The ARN of an AWS managed IAM policy in the stack's partition."""
    return Sub("arn:${AWS::Partition}:iam::aws:policy/" + name)


def add_output(
    template: Template,
    names: Names,
    stack: str,
    key: str,
    value: object,
    description: str,
) -> None:
    """Add output ``key`` exported as ``<stack>-<key>``, the name later stacks import."""
    template.add_output(
        Output(
            key,
            Description=description,
            Value=value,
            Export=Export(names.export(stack, key)),
        )
    )


def import_value(names: Names, stack: str, key: str) -> AWSHelperFn:
    """Fn::ImportValue of output ``key`` of ``stack`` (a stack deployed earlier)."""
    return ImportValue(names.export(stack, key))


def log_group(title: str, name: str, retention_days: int) -> logs.LogGroup:
    """A named log group with bounded retention, deleted with its stack.

    The deletion policy is explicit (cfn-lint's I3011 asks for it on stateful
    resources): logs belong to the system, and `bluegreen destroy` leaves nothing behind.
    """
    return logs.LogGroup(
        title,
        LogGroupName=name,
        RetentionInDays=retention_days,
        DeletionPolicy="Delete",
        UpdateReplacePolicy="Delete",
    )
