"""The emulated CloudFormation's building blocks without AWS: template evaluation,
dependency order, resource-handler strictness."""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen.emulator.cloudformation import template as cfn
from bluegreen.emulator.cloudformation.resources import Resource, spec_for
from bluegreen.errors import RehearsalError


def _scope(**kwargs: Any) -> cfn.Scope:
    return cfn.Scope(
        filename="t.yaml",
        pseudo={
            "AWS::Region": "eu-west-1",
            "AWS::AccountId": "123456789012",
            "AWS::Partition": "aws",
        },
        azs=["eu-west-1a", "eu-west-1b"],
        **kwargs,
    )


def test_short_and_long_forms_evaluate_alike() -> None:
    text = """
Resources:
  A:
    Type: X
    Properties:
      Short: !Sub "arn:${AWS::Partition}:s3:::${Bucket}/${!Literal}"
      Long: {"Fn::Sub": ["${Name}-x", {"Name": !GetAtt Bucket.Arn}]}
      Az: !Select [1, !GetAZs ""]
      Joined: !Join ["-", [a, !Ref Bucket]]
      Imported: !ImportValue other-Out
      Gone: !Ref AWS::NoValue
      Version: 2012-10-17
"""
    data = cfn.load(text, "t.yaml")
    scope = _scope(
        refs={"Bucket": "b1"},
        attrs={"Bucket": {"Arn": "arn:aws:s3:::b1"}},
        exports={"other-Out": 42},
    )
    props = cfn.evaluate(data["Resources"]["A"]["Properties"], scope)
    assert props == {
        "Short": "arn:aws:s3:::b1/${Literal}",
        "Long": "arn:aws:s3:::b1-x",
        "Az": "eu-west-1b",
        "Joined": "a-b1",
        "Imported": 42,
        "Version": "2012-10-17",
    }


def test_conditions_and_if() -> None:
    scope = _scope(conditions={"Prod": False})
    assert cfn.evaluate({"Fn::If": ["Prod", 3, 1]}, scope) == 1
    assert cfn.evaluate({"Fn::Equals": ["a", "a"]}, scope) is True


@pytest.mark.parametrize(
    ("node", "message"),
    [
        ({"Ref": "Nope"}, "Ref 'Nope'"),
        ({"Fn::GetAtt": ["B", "Nope"]}, "does not know this attribute"),
        ({"Fn::ImportValue": "missing"}, "no earlier stack exports it"),
        ({"Fn::Transmogrify": 1}, "not supported"),
    ],
)
def test_unresolvable_intrinsics_fail_loudly(node: dict[str, Any], message: str) -> None:
    with pytest.raises(RehearsalError, match=message):
        cfn.evaluate(node, _scope(attrs={"B": {"Arn": "x"}}))


def test_dependency_order_follows_refs_getatt_sub_and_depends_on() -> None:
    resources = {
        "C": {"Properties": {"X": {"Fn::Sub": "${B.Arn}"}}},
        "B": {"Properties": {"X": {"Ref": "A"}}},
        "D": {"DependsOn": "C"},
        "A": {},
    }
    assert cfn.order(resources, "t.yaml") == ["A", "B", "C", "D"]
    with pytest.raises(RehearsalError, match="circular"):
        cfn.order({"A": {"Properties": {"Ref": "B"}}, "B": {"DependsOn": "A"}}, "t.yaml")


def test_a_property_no_provisioner_plays_is_an_error() -> None:
    resource = Resource("s", "2-service.yaml", "Cluster", "AWS::ECS::Cluster", {"Banana": 1})
    with pytest.raises(RehearsalError, match="2-service.yaml: Cluster .* Banana"):
        spec_for(resource)
