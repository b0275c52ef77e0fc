"""What deploy compares and shows of the service settings it applies out of band.

The live value comes from ECS DescribeServices and the wanted one is what UpdateService
takes (botocore's ECS model: ``deploymentConfiguration`` members are camelCase, e.g.
``bakeTimeInMinutes``, ``lifecycleHooks[].lifecycleStages``); CloudFormation's
AWS::ECS::Service spells the same members with a capital first letter (template
reference). These tests pin what a user reads (``changes``) and what is sent or skipped
(``differs``, ``update_value``), and the placeholders of stack outputs deploy resolves
after the service stack's update.
"""

from __future__ import annotations

from typing import Any

import pytest

from bluegreen.aws import owned
from bluegreen.aws.deploy import OutOfBand

# ---- differs: what is sent ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("live", "wanted", "differ"),
    [
        (10, 10.0, False),  # numbers by value
        (10, 11, True),
        (True, 1, True),  # a flag is not a number (deploymentCircuitBreaker.enable)
        (1, True, True),
        (True, True, False),
        (False, True, True),
        ("a", "a", False),
        ("a", "b", True),
        (None, 3, True),
        ({"a": 1, "extra": 2}, {"a": 1}, False),  # ECS's own defaults do not count
        ({"a": 1}, {"a": 2}, True),
        ({"a": 1}, {"b": 1}, True),
        (None, {"a": 1}, True),
        ([1, 2], [1, 2], False),
        ([1, 2], [1, 3], True),
        ([1], [1, 2], True),
        ([1, 2], [1], True),
        (None, [], False),  # no hooks live, none wanted
        (None, [1], True),
        ({"h": [{"s": 1, "x": 9}]}, {"h": [{"s": 1}]}, False),
    ],
)
def test_differs(live: Any, wanted: Any, differ: bool) -> None:
    assert owned.differs(live, wanted) is differ


# ---- changes: what the user reads -------------------------------------------------------------


def test_changes_name_each_member_path_that_differs() -> None:
    live = {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 5,
        "alarms": {"enable": False, "rollback": True},
        "lifecycleHooks": [{"hookTargetArn": "arn:a"}],
        "maximumPercent": 200,
    }
    wanted = {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 10,
        "alarms": {"enable": True, "rollback": True},
        "lifecycleHooks": [{"hookTargetArn": "arn:b"}],
    }
    assert owned.changes(live, wanted) == [
        "bakeTimeInMinutes 5 -> 10",
        "alarms.enable False -> True",
        "lifecycleHooks[0].hookTargetArn arn:a -> arn:b",
    ]


def test_a_top_level_change_is_named_value_and_an_equal_one_not_at_all() -> None:
    assert owned.changes(1, 3) == ["value 1 -> 3"]
    assert owned.changes(3, 3.0) == []
    assert owned.changes(None, 2) == ["value (none) -> 2"]


def test_lists_of_another_length_are_shown_whole() -> None:
    hook = {"lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"], "hookTargetArn": "arn:f"}
    paused = {"lifecycleStages": ["PRE_SCALE_UP", "POST_SCALE_UP"], "targetType": "PAUSE"}
    assert owned.changes({"lifecycleHooks": [hook]}, {"lifecycleHooks": []}) == [
        "lifecycleHooks AWS_LAMBDA at POST_TEST_TRAFFIC_SHIFT -> []"
    ]
    assert owned.changes({"lifecycleHooks": []}, {"lifecycleHooks": [hook, paused]}) == [
        "lifecycleHooks [] -> AWS_LAMBDA at POST_TEST_TRAFFIC_SHIFT, "
        "PAUSE at PRE_SCALE_UP/POST_SCALE_UP"
    ]


def test_a_long_structure_is_cut_at_sixty_characters() -> None:
    fits = {"k": "x" * 51}  # repr: {'k': 'xxx...'} is 60 characters
    assert len(repr(fits)) == 60
    assert owned.changes(None, fits) == [f"value (none) -> {fits!r}"]
    longer = {"k": "x" * 52}
    assert owned.changes(None, longer) == [f"value (none) -> {repr(longer)[:57]}..."]
    assert owned.changes(None, [1, 2]) == ["value (none) -> [1, 2]"]


def test_out_of_band_lines_name_the_setting_as_the_config_does() -> None:
    count = OutOfBand("DesiredCount", "desiredCount", 1, 3)
    assert count.change == "desired count (task.desired_count) 1 -> 3"
    grace = OutOfBand("HealthCheckGracePeriodSeconds", "healthCheckGracePeriodSeconds", 60, 90)
    assert grace.change == "health check grace period 60 -> 90"
    other = OutOfBand("PlacementStrategies", "placementStrategy", "a", "b")
    assert other.label == "PlacementStrategies"
    config = OutOfBand(
        "DeploymentConfiguration",
        "deploymentConfiguration",
        {"bakeTimeInMinutes": 5, "strategy": "BLUE_GREEN"},
        {"bakeTimeInMinutes": 10, "strategy": "BLUE_GREEN"},
    )
    assert config.change == ("deployment configuration (deployment.*): bakeTimeInMinutes 5 -> 10")
    same = OutOfBand("DeploymentConfiguration", "x", {"a": 1}, {"a": 1})
    assert same.change == "deployment configuration (deployment.*): (unchanged)"
    assert count.to_dict() == {
        "setting": "DesiredCount",
        "parameter": "desiredCount",
        "current": 1,
        "wanted": 3,
        "applied": False,
    }


# ---- update_value: the template's spelling -> UpdateService's ------------------------------


def test_a_deployment_configuration_takes_the_api_names_and_always_its_hooks() -> None:
    template = {
        "Strategy": "BLUE_GREEN",
        "BakeTimeInMinutes": 5,
        "DeploymentCircuitBreaker": {"Enable": True, "Rollback": True},
    }
    assert owned.update_value("DeploymentConfiguration", template) == {
        "strategy": "BLUE_GREEN",
        "bakeTimeInMinutes": 5,
        "deploymentCircuitBreaker": {"enable": True, "rollback": True},
        "lifecycleHooks": [],
    }
    hooked = {
        "LifecycleHooks": [
            {"HookTargetArn": "arn:f", "TimeoutConfiguration": {"TimeoutInMinutes": 3}}
        ]
    }
    assert owned.update_value("DeploymentConfiguration", hooked) == {
        "lifecycleHooks": [
            {"hookTargetArn": "arn:f", "timeoutConfiguration": {"timeoutInMinutes": 3}}
        ]
    }


def test_other_settings_and_other_shapes_are_sent_as_they_are() -> None:
    assert owned.update_value("DesiredCount", 3) == 3
    assert owned.update_value("HealthCheckGracePeriodSeconds", {"A": 1}) == {"A": 1}
    assert owned.update_value("DeploymentConfiguration", None) is None


# ---- placeholders of the service stack's outputs ------------------------------------------------

TEMPLATE = {
    "Outputs": {
        "VerifyFunctionArn": {"Value": {"Fn::GetAtt": ["VerifyFunction", "Arn"]}},
        "HookRoleArn": {"Value": {"Fn::GetAtt": ["HookRole", "Arn"]}},
        "Cluster": {"Value": {"Ref": "Cluster"}},
    }
}


def test_references_to_outputs_become_placeholders() -> None:
    value = {
        "Strategy": "BLUE_GREEN",
        "LifecycleHooks": [
            {
                "HookTargetArn": {"Fn::GetAtt": ["VerifyFunction", "Arn"]},
                "RoleArn": {"Fn::GetAtt": ["HookRole", "Arn"]},
                "LifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            }
        ],
    }
    placed = owned.through_outputs(value, TEMPLATE)
    assert placed == {
        "Strategy": "BLUE_GREEN",
        "LifecycleHooks": [
            {
                "HookTargetArn": {owned.OUTPUT: "VerifyFunctionArn"},
                "RoleArn": {owned.OUTPUT: "HookRoleArn"},
                "LifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            }
        ],
    }
    assert owned.unresolved(placed) == ["VerifyFunctionArn", "HookRoleArn"]
    assert owned.through_outputs({"Ref": "Cluster"}, TEMPLATE) == {owned.OUTPUT: "Cluster"}
    sub = {"Fn::Sub": "${Cluster}"}
    assert owned.through_outputs(sub, TEMPLATE) is None  # no output has that very value
    assert owned.through_outputs({"x": {"Ref": "Other"}}, TEMPLATE) is None
    assert owned.through_outputs([1, "a"], {}) == [1, "a"]


def test_placeholders_resolve_to_the_outputs_there_are() -> None:
    placed = {
        "a": [{owned.OUTPUT: "VerifyFunctionArn"}, {owned.OUTPUT: "HookRoleArn"}],
        "b": {owned.OUTPUT: "Missing", "other": 1},  # not a placeholder: two keys
        "c": 5,
    }
    outputs = {"VerifyFunctionArn": "arn:aws:lambda:f", "HookRoleArn": "arn:aws:iam::r"}
    resolved = owned.resolve(placed, outputs)
    assert resolved == {
        "a": ["arn:aws:lambda:f", "arn:aws:iam::r"],
        "b": {owned.OUTPUT: "Missing", "other": 1},
        "c": 5,
    }
    assert owned.unresolved(resolved) == []
    partly = owned.resolve(placed, {"HookRoleArn": "arn:aws:iam::r"})
    assert owned.unresolved(partly) == ["VerifyFunctionArn"]
    assert owned.unresolved([{"x": {owned.OUTPUT: "K"}}, 3]) == ["K"]


def test_arns_are_found_at_any_depth() -> None:
    value = {
        "a": "arn:aws:lambda:f",
        "b": [{"c": "arn:aws:iam::r"}, "not-an-arn", 3],
        "d": {"e": ["arn:x"]},
        "f": "x-arn:y",
    }
    assert owned.arns(value) == {"arn:aws:lambda:f", "arn:aws:iam::r", "arn:x"}
    assert owned.arns("arn:z") == {"arn:z"}
    assert owned.arns(None) == set()


# ---- replacements and refusals -------------------------------------------------------------------


def test_why_a_resource_would_be_replaced() -> None:
    """AWS::SNS::Topic TopicName is create-only; DisplayName is not (the resource provider
    schemas cfn-lint ships, read in test_aws_owned.py for the properties it relies on)."""
    deployed = {
        "Resources": {
            "Gone": {"Type": "AWS::SNS::Topic"},
            "Retyped": {"Type": "AWS::SNS::Topic"},
            "Renamed": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "a"}},
            "Relabelled": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "a"}},
        }
    }
    new = {
        "Resources": {
            "Retyped": {"Type": "AWS::SQS::Queue"},
            "Renamed": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "b"}},
            "Relabelled": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "b"}},
        }
    }
    why = owned.replacements(deployed, new, "ap-northeast-1")
    assert sorted(why) == ["Gone", "Renamed", "Retyped"]
    assert why["Gone"].reason == "it is no longer in the template"
    assert why["Retyped"].reason == "its type changes to AWS::SQS::Queue"
    assert why["Renamed"] == owned.Replacement("TopicName a -> b", ("AWS::SNS::Topic", "TopicName"))


def test_a_refusal_names_the_live_services_controller() -> None:
    deployed = {
        "Resources": {
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "DeploymentController": {"Type": "CODE_DEPLOY"},
                    "PlatformVersion": "1.4.0",
                },
            }
        }
    }
    new = {
        "Resources": {
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {
                    "DeploymentController": {"Type": "CODE_DEPLOY"},
                    "PlatformVersion": "LATEST",
                },
            }
        }
    }
    with pytest.raises(owned.UsageError) as info:
        owned.keep_codedeploy_owned(deployed, new, "ap-northeast-1")
    assert info.value.message == (
        "the config changes what a CODE_DEPLOY service cannot change in place:\n"
        "  Service: its PlatformVersion changes; ECS refuses that change to a CODE_DEPLOY "
        "service"
    )
    for resource in (deployed, new):
        resource["Resources"]["Service"]["Properties"].pop("DeploymentController")
    with pytest.raises(owned.UsageError) as info:
        owned.keep_codedeploy_owned(deployed, new, "ap-northeast-1")
    assert info.value.message.startswith(
        "the config changes what an ECS-controlled service (built-in blue/green) cannot "
        "change in place:\n  Service: its PlatformVersion changes; ECS owns this service's "
        "task definition and traffic (built-in blue/green), and a stack update of it would "
        "start a deployment of the template's bootstrap revision"
    )


def test_what_the_kept_service_still_names_stays_in_the_template_with_a_note() -> None:
    """[verify] checks removed from a live ECS-controlled service: the service's entry is
    kept as deployed, so its DeploymentConfiguration still names the hook function and
    the role ECS invokes it with (and the function its own role); a template that refers
    to a resource it lacks is invalid ("Template format error: Unresolved resource
    dependencies", CloudFormation user guide), so they stay until destroy."""
    hooks = {
        "LifecycleHooks": [
            {
                "HookTargetArn": {"Fn::GetAtt": ["VerifyFunction", "Arn"]},
                "RoleArn": {"Fn::GetAtt": ["HookRole", "Arn"]},
                "LifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
            }
        ]
    }
    deployed = {
        "Resources": {
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {"DesiredCount": 1, "DeploymentConfiguration": hooks},
            },
            "VerifyFunction": {
                "Type": "AWS::Lambda::Function",
                "Properties": {"Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]}},
                "DependsOn": "FunctionPolicy",
            },
            "FunctionRole": {"Type": "AWS::IAM::Role"},
            "FunctionPolicy": {"Type": "AWS::IAM::Policy"},
            "HookRole": {"Type": "AWS::IAM::Role"},
            "Logs": {"Type": "AWS::Logs::LogGroup"},
        }
    }
    new = {
        "Resources": {
            "Service": {
                "Type": "AWS::ECS::Service",
                "Properties": {"DesiredCount": 1, "DeploymentConfiguration": {}},
            },
            "Logs": {"Type": "AWS::Logs::LogGroup"},
        }
    }
    kept = owned.keep_codedeploy_owned(deployed, new, "ap-northeast-1")
    assert kept.template == deployed
    assert kept.notes == [
        "kept as deployed, unused: FunctionPolicy, FunctionRole, HookRole, VerifyFunction "
        "(the service's entry in the stack, kept as deployed, still names them; `bluegreen "
        "destroy` removes them)"
    ]
    assert kept.out_of_band == {"DesiredCount": 1, "DeploymentConfiguration": {}}
    assert new["Resources"].keys() == {"Service", "Logs"}  # the caller's template untouched
