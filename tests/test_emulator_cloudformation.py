"""The emulated CloudFormation: change sets, stack events, updates, rollbacks, deletes.

Each behaviour is CloudFormation's as its User Guide and API reference describe it (cited
at each test); the stacks are small templates of types moto backs, so the rules are
tested apart from the services the real system's stacks need.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from bluegreen.emulator import Emulator

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator("ap-northeast-1", start=T0) as emulator:
        yield emulator


def template(resources: dict[str, Any], outputs: dict[str, Any] | None = None) -> str:
    body: dict[str, Any] = {"AWSTemplateFormatVersion": "2010-09-09", "Resources": resources}
    if outputs:
        body["Outputs"] = outputs
    return json.dumps(body)


def log_group(name: str, days: int = 14) -> dict[str, Any]:
    return {
        "Type": "AWS::Logs::LogGroup",
        "Properties": {"LogGroupName": name, "RetentionInDays": days},
    }


def change_set(aws: Emulator, stack: str, body: str, kind: str = "CREATE", name: str = "") -> Any:
    cf = aws.clients().cloudformation
    made = cf.create_change_set(
        StackName=stack,
        ChangeSetName=name or f"{stack}-{kind.lower()}-{int(aws.clock.seconds)}",
        ChangeSetType=kind,
        TemplateBody=body,
        Capabilities=["CAPABILITY_IAM"],
    )
    described = cf.describe_change_set(ChangeSetName=made["Id"])
    assert described["Status"] in ("CREATE_PENDING", "CREATE_IN_PROGRESS")  # computed later
    for _ in range(10):
        aws.sleep(2)
        described = cf.describe_change_set(ChangeSetName=made["Id"])
        if described["Status"] in ("CREATE_COMPLETE", "FAILED"):
            return described
    raise AssertionError("the change set was never computed")


def deploy(aws: Emulator, stack: str, body: str, kind: str = "CREATE") -> dict[str, Any]:
    cf = aws.clients().cloudformation
    described = change_set(aws, stack, body, kind)
    assert described["Status"] == "CREATE_COMPLETE", described.get("StatusReason")
    cf.execute_change_set(ChangeSetName=described["ChangeSetId"])
    return wait(aws, stack)


def wait(aws: Emulator, stack: str) -> dict[str, Any]:
    cf = aws.clients().cloudformation
    for _ in range(200):
        found = cf.describe_stacks(StackName=stack)["Stacks"][0]
        if not found["StackStatus"].endswith("_IN_PROGRESS"):
            return dict(found)
        aws.sleep(5)
    raise AssertionError(f"{stack} never settled")


def statuses(aws: Emulator, stack: str, logical_id: str) -> list[str]:
    events = aws.clients().cloudformation.describe_stack_events(StackName=stack)["StackEvents"]
    return [e["ResourceStatus"] for e in reversed(events) if e["LogicalResourceId"] == logical_id]


def test_a_create_change_set_leaves_review_in_progress_until_executed(aws: Emulator) -> None:
    # User Guide, "Create a change set": a CREATE change set makes a stack in
    # REVIEW_IN_PROGRESS; its resources are Add changes.
    described = change_set(aws, "demo", template({"Logs": log_group("/demo")}))
    assert described["Status"] == "CREATE_COMPLETE"
    assert described["ExecutionStatus"] == "AVAILABLE"
    assert [c["ResourceChange"]["Action"] for c in described["Changes"]] == ["Add"]
    stack = aws.clients().cloudformation.describe_stacks(StackName="demo")["Stacks"][0]
    assert stack["StackStatus"] == "REVIEW_IN_PROGRESS"
    assert aws.clients().logs.describe_log_groups()["logGroups"] == []


def test_executing_creates_the_resources_with_events_and_takes_simulated_time(
    aws: Emulator,
) -> None:
    found = deploy(
        aws,
        "demo",
        template(
            {"Logs": log_group("/demo")},
            {"Group": {"Value": {"Ref": "Logs"}, "Export": {"Name": "demo-Group"}}},
        ),
    )
    assert found["StackStatus"] == "CREATE_COMPLETE"
    assert found["Outputs"] == [
        {"OutputKey": "Group", "OutputValue": "/demo", "ExportName": "demo-Group"}
    ]
    assert statuses(aws, "demo", "Logs") == [
        "CREATE_IN_PROGRESS",
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
    ]
    assert statuses(aws, "demo", "demo") == [
        "REVIEW_IN_PROGRESS",
        "CREATE_IN_PROGRESS",
        "CREATE_COMPLETE",
    ]
    assert aws.clock.seconds > 5  # a change set and a resource take time
    exports = aws.clients().cloudformation.list_exports()["Exports"]
    assert [(e["Name"], e["Value"]) for e in exports] == [("demo-Group", "/demo")]


def test_an_update_without_changes_fails_the_change_set_with_cloudformations_reason(
    aws: Emulator,
) -> None:
    body = template({"Logs": log_group("/demo")})
    deploy(aws, "demo", body)
    described = change_set(aws, "demo", body, "UPDATE")
    assert described["Status"] == "FAILED"
    assert "The submitted information didn't contain changes" in described["StatusReason"]


def test_an_in_place_change_is_modify_without_replacement_and_updates_the_resource(
    aws: Emulator,
) -> None:
    deploy(aws, "demo", template({"Logs": log_group("/demo", 14)}))
    described = change_set(aws, "demo", template({"Logs": log_group("/demo", 30)}), "UPDATE")
    (change,) = described["Changes"]
    assert change["ResourceChange"]["Action"] == "Modify"
    assert change["ResourceChange"]["Replacement"] == "False"
    aws.clients().cloudformation.execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert wait(aws, "demo")["StackStatus"] == "UPDATE_COMPLETE"
    (group,) = aws.clients().logs.describe_log_groups()["logGroups"]
    assert group["retentionInDays"] == 30


def test_a_create_only_change_replaces_the_resource_and_deletes_the_old_one_at_cleanup(
    aws: Emulator,
) -> None:
    # AWS::ECR::Repository RepositoryName is create-only (cfn-lint's provider schema),
    # but a custom name cannot be replaced while it stays; a new name is a replacement.
    repo = {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "one"}}
    deploy(aws, "demo", template({"Repo": repo}))
    renamed = {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "two"}}
    described = change_set(aws, "demo", template({"Repo": renamed}), "UPDATE")
    assert described["Changes"][0]["ResourceChange"]["Replacement"] == "True"
    aws.clients().cloudformation.execute_change_set(ChangeSetName=described["ChangeSetId"])
    assert wait(aws, "demo")["StackStatus"] == "UPDATE_COMPLETE"
    names = [r["repositoryName"] for r in aws.clients().ecr.describe_repositories()["repositories"]]
    assert names == ["two"]
    events = statuses(aws, "demo", "demo")
    assert "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS" in events


def test_a_custom_named_resource_that_needs_replacing_fails_and_rolls_back(
    aws: Emulator,
) -> None:
    # User Guide, "Name type": "If you specify a name, you cannot perform updates that
    # require replacement of this resource." A target group's Port is create-only.
    vpc = {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}}

    def group(port: int) -> dict[str, Any]:
        return {
            "Type": "AWS::ElasticLoadBalancingV2::TargetGroup",
            "Properties": {
                "Name": "named",
                "Port": port,
                "Protocol": "HTTP",
                "TargetType": "ip",
                "VpcId": {"Ref": "Vpc"},
            },
        }

    deploy(aws, "demo", template({"Vpc": vpc, "Group": group(80)}))
    described = change_set(aws, "demo", template({"Vpc": vpc, "Group": group(8080)}), "UPDATE")
    aws.clients().cloudformation.execute_change_set(ChangeSetName=described["ChangeSetId"])
    found = wait(aws, "demo")
    assert found["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    events = aws.clients().cloudformation.describe_stack_events(StackName="demo")["StackEvents"]
    failed = [e for e in events if e["ResourceStatus"] == "UPDATE_FAILED"]
    assert failed[0]["LogicalResourceId"] == "Group"
    assert "custom-named resource requires replacing" in failed[0]["ResourceStatusReason"]
    (tg,) = aws.clients().elbv2.describe_target_groups()["TargetGroups"]
    assert tg["Port"] == 80


def test_a_failed_create_rolls_back_and_deletes_what_was_made(aws: Emulator) -> None:
    # User Guide, "Stack failure options": on failure the stack rolls back, deleting the
    # resources it created: ROLLBACK_COMPLETE.
    bad = {
        "Type": "AWS::IAM::Role",
        "Properties": {
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
            "ManagedPolicyArns": ["arn:aws:iam::aws:policy/NoSuchPolicyAnywhere"],
        },
    }
    found = deploy(aws, "demo", template({"Logs": log_group("/demo"), "Role": bad}))
    assert found["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "NoSuchPolicyAnywhere" in " ".join(
        e.get("ResourceStatusReason", "")
        for e in aws.clients().cloudformation.describe_stack_events(StackName="demo")["StackEvents"]
    )
    assert aws.clients().logs.describe_log_groups()["logGroups"] == []


def test_an_export_in_use_cannot_be_deleted(aws: Emulator) -> None:
    # User Guide, "Exporting stack output values": "You can't delete a stack if another
    # stack references one of its outputs."
    deploy(
        aws,
        "first",
        template(
            {"Logs": log_group("/a")},
            {"Group": {"Value": {"Ref": "Logs"}, "Export": {"Name": "first-Group"}}},
        ),
    )
    deploy(
        aws,
        "second",
        template(
            {
                "Logs": log_group("/b"),
                "Other": {
                    "Type": "AWS::Logs::LogGroup",
                    "Properties": {
                        "LogGroupName": {
                            "Fn::Sub": ["${G}-copy", {"G": {"Fn::ImportValue": "first-Group"}}]
                        }
                    },
                },
            }
        ),
    )
    cf = aws.clients().cloudformation
    cf.delete_stack(StackName="first")
    found = wait(aws, "first")
    assert found["StackStatus"] == "DELETE_FAILED"
    assert "in use by second" in found["StackStatusReason"]
    cf.delete_stack(StackName="second")
    aws.sleep(60)
    cf.delete_stack(StackName="first")
    aws.sleep(60)
    with pytest.raises(ClientError, match="does not exist"):
        cf.describe_stacks(StackName="first")
    assert aws.clients().logs.describe_log_groups()["logGroups"] == []


def test_requests_cloudformation_refuses(aws: Emulator) -> None:
    cf = aws.clients().cloudformation
    role = {
        "Type": "AWS::IAM::Role",
        "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []}},
    }
    with pytest.raises(ClientError) as caught:
        cf.create_change_set(
            StackName="demo",
            ChangeSetName="x",
            ChangeSetType="CREATE",
            TemplateBody=template({"Role": role}),
        )
    assert caught.value.response["Error"]["Code"] == "InsufficientCapabilitiesException"
    # TemplateBody: "Maximum length of 51,200 bytes" (API reference, CreateChangeSet).
    big = template({"Logs": {**log_group("/x"), "Metadata": {"pad": "x" * 51_200}}})
    with pytest.raises(ClientError) as caught:
        cf.create_change_set(
            StackName="demo", ChangeSetName="x", TemplateBody=big, ChangeSetType="CREATE"
        )
    assert caught.value.response["Error"]["Code"] == "ValidationError"
    with pytest.raises(ClientError) as caught:
        cf.create_change_set(
            StackName="nothing", ChangeSetName="x", TemplateBody=template({"L": log_group("/y")})
        )
    assert "does not exist" in caught.value.response["Error"]["Message"]
