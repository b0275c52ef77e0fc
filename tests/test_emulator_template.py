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
  Bucket:
    Type: AWS::S3::Bucket
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
        ({"Fn::Length": [1, 2]}, "AWS::LanguageExtensions"),
        ({"Fn::ToJsonString": {"a": 1}}, "AWS::LanguageExtensions"),
        ({"Fn::FindInMap": ["M", "a", "b", {"DefaultValue": "x"}]}, "LanguageExtensions"),
        ({"Fn::Select": ["one", ["a"]]}, "must be an integer"),
        ({"Fn::Select": [1, ["a"]]}, "out of range"),
        ({"Fn::Select": [0, "a,b"]}, "needs a list"),
        ({"Fn::Join": [",", "a"]}, "needs a list"),
        ({"Fn::Join": [1, ["a"]]}, "delimiter must be a string"),
        ({"Fn::Cidr": ["10.0.0.0/24", 2, 9]}, "not a valid split"),
        ({"Fn::Cidr": ["10.0.0.0/24", 5, 6]}, "holds only 4"),
        ({"Condition": "Missing"}, "not defined"),
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


def test_conditions_refer_to_each_other_in_any_order() -> None:
    # User Guide, "Conditions syntax": a condition can use another condition.
    scope = _scope(
        refs={"Env": "prod", "Count": "3"},
        condition_defs={
            "ProdAndThree": {"Fn::And": [{"Condition": "Prod"}, {"Condition": "Three"}]},
            "Prod": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            # a Number parameter is held as the string "3"; Fn::Equals compares it to 3
            "Three": {"Fn::Equals": [{"Ref": "Count"}, 3]},
        },
    )
    assert scope.evaluate_conditions() == {"Prod": True, "Three": True, "ProdAndThree": True}


def test_a_cycle_between_conditions_is_refused() -> None:
    scope = _scope(
        condition_defs={
            "A": {"Fn::Not": [{"Condition": "B"}]},
            "B": {"Fn::Not": [{"Condition": "A"}]},
        }
    )
    with pytest.raises(RehearsalError, match="Circular dependency between conditions: A -> B -> A"):
        scope.evaluate_conditions()


def test_a_condition_must_be_true_or_false() -> None:
    scope = _scope(condition_defs={"A": "yes"})
    with pytest.raises(RehearsalError, match="not true or false"):
        scope.evaluate_conditions()


def test_cidr_splits_a_block_as_cloudformation_does() -> None:
    # User Guide, "Fn::Cidr": [ipBlock, count, cidrBits]; cidrBits 8 gives /24 in a /16
    subnets = cfn.evaluate({"Fn::Cidr": ["10.0.0.0/16", 3, 8]}, _scope())
    assert subnets == ["10.0.0.0/24", "10.0.1.0/24", "10.0.2.0/24"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Resources:\n  A: {Type: X}\n  A: {Type: Y}\n", "Duplicate"),
        ("Transform: AWS::Serverless-2016-10-31\nResources:\n  A: {Type: X}\n", "Transform"),
        (
            "Resources:\n  A:\n    Type: X\n    Properties:\n"
            "      P: '{{resolve:ssm:/app/secret}}'\n",
            "dynamic reference",
        ),
        ("Outputs: {}\n", "no Resources"),
        ("[unclosed\n", "Template format error"),
    ],
)
def test_load_refuses_what_cloudformation_refuses(text: str, message: str) -> None:
    with pytest.raises(RehearsalError, match=message):
        cfn.load(text, "t.yaml")


PARAMETERS = {
    "Count": {"Type": "Number", "MinValue": 1, "MaxValue": 10, "Default": 2},
    "Name": {"Type": "String", "AllowedPattern": "[a-z]+", "MinLength": 2, "MaxLength": 4},
    "Env": {"Type": "String", "AllowedValues": ["dev", "prod"], "Default": "dev"},
    "Subnets": {"Type": "List<AWS::EC2::Subnet::Id>", "Default": "subnet-1, subnet-2"},
}


def test_parameters_are_held_as_cloudformation_holds_them() -> None:
    values = cfn.resolve_parameters(PARAMETERS, {"Name": "ab"})
    assert values == {
        "Count": "2",
        "Name": "ab",
        "Env": "dev",
        "Subnets": ["subnet-1", "subnet-2"],
    }


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ({"Name": "ab", "Count": "0"}, "not less than 1"),
        ({"Name": "ab", "Count": "11"}, "not greater than 10"),
        ({"Name": "ab", "Count": "two"}, "must be a number"),
        ({"Name": "a"}, "at least 2 characters"),
        ({"Name": "abcde"}, "at most 4 characters"),
        ({"Name": "AB"}, "must match pattern"),
        ({"Name": "ab", "Env": "qa"}, "AllowedValues"),
        ({}, r"Parameters: \[Name\] must have values"),
        ({"Name": "ab", "Other": "x"}, r"\[Other\] do not exist"),
    ],
)
def test_parameter_constraints_are_enforced(given: dict[str, str], message: str) -> None:
    with pytest.raises(cfn.ParameterError, match=message):
        cfn.resolve_parameters(PARAMETERS, given)


@pytest.mark.parametrize(("count", "name"), [("1", "ab"), ("10", "abcd")])
def test_parameter_constraints_accept_their_edges(count: str, name: str) -> None:
    assert cfn.resolve_parameters(PARAMETERS, {"Count": count, "Name": name})["Count"] == count


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "Resources:\n  A:\n    Type: X\n    Properties: {P: !Ref Nope}\n",
            r"Unresolved resource dependencies \[Nope\] in the Resources block",
        ),
        (
            "Resources:\n  A:\n    Type: X\n    DependsOn: [Gone]\n",
            r"\[Gone\] in the Resources block",
        ),
        (
            "Resources:\n  A: {Type: X}\nOutputs:\n  O: {Value: !GetAtt B.Arn}\n",
            r"\[B\] in the Outputs block",
        ),
        (
            "Resources:\n  A:\n    Type: X\n    Properties: {P: !Sub '${Missing}-x'}\n",
            r"\[Missing\] in the Resources block",
        ),
    ],
)
def test_a_reference_to_nothing_is_refused_before_anything_is_made(text: str, message: str) -> None:
    with pytest.raises(RehearsalError, match=message):
        cfn.load(text, "t.yaml")


def test_references_to_parameters_resources_and_pseudo_parameters_resolve() -> None:
    text = (
        "Parameters:\n  Env: {Type: String}\n"
        "Resources:\n  A: {Type: X}\n  B:\n    Type: X\n    DependsOn: A\n"
        "    Properties: {P: !Sub '${Env}-${A}-${AWS::Region}', Q: !GetAtt A.Arn}\n"
    )
    assert set(cfn.load(text, "t.yaml")["Resources"]) == {"A", "B"}
