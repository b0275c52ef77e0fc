"""IAM policy evaluation in the emulator, per the IAM User Guide's "Policy evaluation logic"
and "IAM JSON policy elements: Condition operators"; and moto's bucket-policy gap closed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from botocore.exceptions import ClientError

from bluegreen.emulator import Emulator
from bluegreen.emulator.policy import Decision, evaluate

ALLOW_LOGS = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "arn:aws:logs:ap-northeast-1:123456789012:log-group:/app:*",
        }
    ],
}


def test_an_allow_allows_only_its_actions_and_resources() -> None:
    stream = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/app:log-stream:x"
    assert evaluate([ALLOW_LOGS], "logs:PutLogEvents", stream) is Decision.ALLOW
    # Action names are case-insensitive ("IAM JSON policy elements: Action").
    assert evaluate([ALLOW_LOGS], "logs:putlogevents", stream) is Decision.ALLOW
    assert evaluate([ALLOW_LOGS], "logs:DeleteLogGroup", stream) is Decision.NEUTRAL
    other = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/other:log-stream:x"
    assert evaluate([ALLOW_LOGS], "logs:PutLogEvents", other) is Decision.NEUTRAL


def test_an_explicit_deny_wins_over_an_allow() -> None:
    deny = {"Statement": [{"Effect": "Deny", "Action": "logs:*", "Resource": "*"}]}
    stream = "arn:aws:logs:ap-northeast-1:123456789012:log-group:/app:log-stream:x"
    assert evaluate([ALLOW_LOGS, deny], "logs:PutLogEvents", stream) is Decision.DENY


@pytest.mark.parametrize(
    ("condition", "context", "applies"),
    [
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "true"}, False),
        ({"Bool": {"aws:SecureTransport": "false"}}, {"aws:SecureTransport": "false"}, True),
        ({"StringEquals": {"aws:SourceAccount": "123456789012"}}, {}, False),
        ({"StringEqualsIfExists": {"aws:SourceAccount": "1"}}, {}, True),
        (
            {"ArnLike": {"aws:SourceArn": "arn:aws:ecs:*:1:*"}},
            {"aws:SourceArn": "arn:aws:ecs:x:1:y"},
            True,
        ),
        ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "c"}, True),
        ({"StringNotEquals": {"k": ["a", "b"]}}, {"k": "a"}, False),
        ({"Null": {"k": "true"}}, {}, True),
        ({"Null": {"k": "true"}}, {"k": "x"}, False),
    ],
)
def test_conditions(condition: dict[str, object], context: dict[str, str], applies: bool) -> None:
    deny = {
        "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition}]
    }
    expected = Decision.DENY if applies else Decision.NEUTRAL
    assert evaluate([deny], "s3:GetObject", "arn:aws:s3:::b/k", context) is expected


def test_a_tls_only_bucket_policy_lets_sdk_requests_through_and_keeps_its_allows() -> None:
    # The S3 User Guide's "Bucket policy examples" TLS-only policy: moto alone denies
    # every request to such a bucket, AWS denies only requests without TLS.
    with Emulator("ap-northeast-1", start=datetime(2021, 9, 19, tzinfo=UTC)) as aws:
        s3 = aws.clients().s3
        s3.create_bucket(
            Bucket="tls-only", CreateBucketConfiguration={"LocationConstraint": "ap-northeast-1"}
        )
        policy = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": ["arn:aws:s3:::tls-only", "arn:aws:s3:::tls-only/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                },
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::tls-only/locked/*",
                },
            ],
        }
        s3.put_bucket_policy(Bucket="tls-only", Policy=json.dumps(policy))
        s3.put_object(Bucket="tls-only", Key="open/a", Body=b"x")
        with pytest.raises(ClientError):
            s3.put_object(Bucket="tls-only", Key="locked/a", Body=b"x")


# ------------------------------------------------ issue 9: the evaluator's other elements


def _deny_if(condition: dict[str, object]) -> dict[str, object]:
    return {
        "Statement": [{"Effect": "Deny", "Action": "*", "Resource": "*", "Condition": condition}]
    }


@pytest.mark.parametrize(
    ("condition", "context", "applies"),
    [
        # Numeric and Date operators ("IAM JSON policy elements: Condition operators").
        ({"NumericLessThan": {"n": "10"}}, {"n": "9"}, True),
        ({"NumericLessThan": {"n": "10"}}, {"n": "10"}, False),
        ({"NumericGreaterThanEquals": {"n": "10"}}, {"n": "10"}, True),
        (
            {"DateLessThan": {"aws:CurrentTime": "2021-09-19T00:00:00Z"}},
            {"aws:CurrentTime": "2021-09-18T23:59:59Z"},
            True,
        ),
        (
            {"DateLessThan": {"aws:CurrentTime": "2021-09-19T00:00:00Z"}},
            {"aws:CurrentTime": "2021-09-19T00:00:00Z"},
            False,
        ),
        # Set qualifiers: ForAnyValue needs one match; ForAllValues every value (and holds
        # for a key the request does not carry: "ForAllValues ... returns true if there
        # are no keys in the request").
        ({"ForAnyValue:StringEquals": {"k": ["a", "b"]}}, {"k": ["c", "b"]}, True),
        ({"ForAnyValue:StringEquals": {"k": ["a", "b"]}}, {"k": ["c", "d"]}, False),
        ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {"k": ["a", "b"]}, True),
        ({"ForAllValues:StringEquals": {"k": ["a", "b"]}}, {"k": ["a", "c"]}, False),
        ({"ForAllValues:StringEquals": {"k": ["a"]}}, {}, True),
        # Condition keys are case-insensitive, values are not.
        ({"StringEquals": {"AWS:SourceAccount": "1"}}, {"aws:sourceaccount": "1"}, True),
        ({"StringEquals": {"k": "A"}}, {"k": "a"}, False),
        ({"StringLike": {"k": "a?c"}}, {"k": "abc"}, True),
        ({"StringLike": {"k": "a?c"}}, {"k": "abbc"}, False),
    ],
)
def test_more_conditions(
    condition: dict[str, object], context: dict[str, object], applies: bool
) -> None:
    expected = Decision.DENY if applies else Decision.NEUTRAL
    assert evaluate([_deny_if(condition)], "s3:GetObject", "arn:aws:s3:::b/k", context) is expected


def test_an_operator_the_evaluator_does_not_know_is_an_error_not_a_guess() -> None:
    with pytest.raises(ValueError, match="IpAddress is not evaluated"):
        evaluate([_deny_if({"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}})], "s3:GetObject", "*")


def test_notprincipal_and_service_principals_in_resource_policies() -> None:
    document = {
        "Statement": [
            {
                "Effect": "Deny",
                "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:role/keeper"},
                "Action": "s3:*",
                "Resource": "*",
            }
        ]
    }
    keeper = "arn:aws:sts::123456789012:assumed-role/keeper/s"
    other = "arn:aws:sts::123456789012:assumed-role/other/s"
    assert evaluate([document], "s3:GetObject", "*", principal=keeper) is Decision.NEUTRAL
    assert evaluate([document], "s3:GetObject", "*", principal=other) is Decision.DENY


def test_decide_follows_the_order_of_the_evaluation_logic() -> None:
    from bluegreen.emulator.policy import compile_policy, decide

    allow = compile_policy(
        {"Statement": [{"Effect": "Allow", "Action": "logs:*", "Resource": "*"}]}
    )
    nothing = compile_policy({"Statement": []})
    assert decide(allow, "logs:PutLogEvents", "*").allowed
    assert decide(nothing, "logs:PutLogEvents", "*").reason == "identity-implicit"
    # A boundary that does not allow limits an identity policy that does.
    assert decide(allow, "logs:PutLogEvents", "*", boundary=nothing).reason == "boundary-implicit"
    # A resource policy naming the role's ARN allows what identity policies do not.
    grant = compile_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:role/r"},
                    "Action": "s3:GetObject",
                    "Resource": "*",
                }
            ]
        }
    )
    caller = "arn:aws:sts::123456789012:assumed-role/r/session"
    assert decide(nothing, "s3:GetObject", "*", resource_policy=grant, caller=caller).allowed
