"""The CloudFormation client on the emulated AWS: a stack's life through change sets, its
events as they come, its outputs and template; pages only a canned answer can give.

CloudFormation behaviour relied on (API reference): DescribeStacks and GetTemplate of a
stack that does not exist answer ValidationError "Stack with id X does not exist";
DescribeStackEvents lists the newest event first and pages with NextToken, as
DescribeChangeSet pages its Changes; a stack's own status events carry the stack's name
as LogicalResourceId and AWS::CloudFormation::Stack as ResourceType; a change set with
nothing to do ends FAILED with "The submitted information didn't contain changes" (or,
as recorded in Sceptre/sceptre#568, "No updates are to be performed.").
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from test_aws_support import Stubs

from bluegreen.aws import cfn
from bluegreen.emulator import Emulator

REGION = "ap-northeast-1"
T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)
LOGS = {"Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}}}
WITH_OUTPUT = {
    "Resources": {"Logs": {"Type": "AWS::Logs::LogGroup"}},
    "Outputs": {"LogGroup": {"Value": {"Ref": "Logs"}}, "Fixed": {"Value": "text"}},
}
BAD_REPOSITORY = {
    "Resources": {
        # ECR repository names are lower case (ECR API reference, CreateRepository).
        "Repo": {"Type": "AWS::ECR::Repository", "Properties": {"RepositoryName": "Not Valid"}},
    }
}


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(REGION, start=T0, work_dir=tmp_path / "aws") as emulator:
        yield emulator


def _run(
    aws: Emulator, stack: str, name: str, kind: str, template: dict[str, Any]
) -> tuple[cfn.ChangeSetResult, tuple[str, str, list[cfn.StackEvent]], list[cfn.StackEvent]]:
    client = aws.client("cloudformation")
    change_set_id, stack_id = cfn.create_change_set(client, stack, name, kind, json.dumps(template))
    computed = cfn.wait_change_set(client, change_set_id, sleep=aws.sleep)
    seen: list[cfn.StackEvent] = []
    if computed.status != "CREATE_COMPLETE":
        return computed, ("", "", []), seen
    tail = cfn.EventTail(client, stack_id, stack)  # followed by its id, labelled by its name
    tail.mark()
    cfn.execute_change_set(client, change_set_id)
    waited = cfn.wait_stack(client, stack_id, tail, seen.append, sleep=aws.sleep)
    return computed, waited, seen


def test_a_stack_is_created_through_a_change_set_and_followed_event_by_event(
    aws: Emulator,
) -> None:
    client = aws.client("cloudformation")
    assert cfn.describe_stack(client, "app") is None
    assert cfn.deployed_template(client, "app") is None
    assert cfn.outputs(client, "app") == {}

    computed, (final, reason, failures), seen = _run(aws, "app", "app-1", "CREATE", WITH_OUTPUT)

    assert computed.status == "CREATE_COMPLETE" and computed.name == "app-1"
    assert computed.stack_id.startswith(f"arn:aws:cloudformation:{REGION}:") and not (
        computed.no_changes
    )
    assert [c.to_dict() for c in computed.changes] == [
        {"action": "Add", "logical_id": "Logs", "type": "AWS::Logs::LogGroup", "replacement": ""}
    ]
    assert (final, reason, failures) == ("CREATE_COMPLETE", "", [])
    # Oldest first, labelled as asked, the stack's own events included.
    assert [(e.stack, e.logical_id, e.status) for e in seen] == [
        ("app", "app", "CREATE_IN_PROGRESS"),
        ("app", "Logs", "CREATE_IN_PROGRESS"),
        ("app", "Logs", "CREATE_IN_PROGRESS"),
        ("app", "Logs", "CREATE_COMPLETE"),
        ("app", "app", "CREATE_COMPLETE"),
    ]
    assert seen[0].reason == "User Initiated" and seen[0].resource_type == (
        "AWS::CloudFormation::Stack"
    )
    assert [e.timestamp for e in seen] == sorted(e.timestamp for e in seen)
    assert len({e.event_id for e in seen}) == len(seen)
    stack = cfn.describe_stack(client, "app")
    assert stack is not None and stack["StackStatus"] == "CREATE_COMPLETE"
    [resource] = cfn.stack_resources(client, "app")
    assert cfn.outputs(client, "app") == {
        "LogGroup": resource["PhysicalResourceId"],
        "Fixed": "text",
    }
    assert cfn.deployed_template(client, "app") == WITH_OUTPUT

    again, _, _ = _run(aws, "app", "app-2", "UPDATE", WITH_OUTPUT)
    assert again.status == "FAILED" and again.no_changes and again.changes == []
    assert again.reason.startswith("The submitted information didn't contain changes")


def test_a_failed_resource_is_collected_and_the_stacks_own_events_are_not(aws: Emulator) -> None:
    _, (final, reason, failures), seen = _run(aws, "bad", "bad-1", "CREATE", BAD_REPOSITORY)

    assert final == "ROLLBACK_COMPLETE"
    assert [(f.logical_id, f.status, f.resource_type) for f in failures] == [
        ("Repo", "CREATE_FAILED", "AWS::ECR::Repository")
    ]
    assert "InvalidParameterException" in failures[0].reason and failures[0].failed
    own = [e for e in seen if e.of_the_stack]
    assert [e.status for e in own] == [
        "CREATE_IN_PROGRESS",
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_COMPLETE",
    ]
    assert own[1].reason.startswith("The following resource(s) failed to create: [Repo]")
    assert not any(e.failed for e in own)


def test_a_deleted_stack_reads_delete_complete_and_its_events_end(aws: Emulator) -> None:
    client = aws.client("cloudformation")
    _run(aws, "gone", "gone-1", "CREATE", LOGS)
    stack = cfn.describe_stack(client, "gone")
    assert stack is not None
    tail = cfn.EventTail(client, "gone")
    tail.mark()
    assert tail.poll() == []
    cfn.delete_stack(client, "gone")
    seen: list[cfn.StackEvent] = []
    final, reason, failures = cfn.wait_stack(client, "gone", tail, seen.append, sleep=aws.sleep)
    assert (final, reason, failures) == ("DELETE_COMPLETE", "", [])
    assert cfn.describe_stack(client, "gone") is None
    # A stack never made has no events (DescribeStackEvents: ValidationError "does not
    # exist").
    assert cfn.EventTail(client, "never-made").poll() == []


# ---- pages (Stubber: the emulated CloudFormation answers in one page) ---------------------------


def _event(n: int, status: str = "CREATE_IN_PROGRESS") -> dict[str, Any]:
    return {
        "StackId": "sid",
        "StackName": "app",
        "EventId": f"e{n}",
        "Timestamp": datetime(2026, 1, 1, 0, 0, n, tzinfo=UTC),
        "LogicalResourceId": f"R{n}",
        "ResourceType": "AWS::Logs::LogGroup",
        "ResourceStatus": status,
    }


def test_events_are_read_page_by_page_until_one_already_seen() -> None:
    s = Stubs()
    # mark(): two pages, newest first.
    s.add(
        "cloudformation",
        "describe_stack_events",
        {"StackEvents": [_event(2), _event(1)], "NextToken": "t1"},
        {"StackName": "app"},
    )
    s.add(
        "cloudformation",
        "describe_stack_events",
        {"StackEvents": [_event(0)]},
        {"StackName": "app", "NextToken": "t1"},
    )
    # poll(): three new events over two pages; the second page reaches the seen ones.
    s.add(
        "cloudformation",
        "describe_stack_events",
        {"StackEvents": [_event(5), _event(4)], "NextToken": "t2"},
        {"StackName": "app"},
    )
    s.add(
        "cloudformation",
        "describe_stack_events",
        {"StackEvents": [_event(3, "CREATE_FAILED"), _event(2), _event(1)], "NextToken": "t3"},
        {"StackName": "app", "NextToken": "t2"},
    )
    # poll() again: nothing new, one call.
    s.add(
        "cloudformation",
        "describe_stack_events",
        {"StackEvents": [_event(5)], "NextToken": "t4"},
        {"StackName": "app"},
    )
    tail = cfn.EventTail(s.client("cloudformation"), "app")
    tail.mark()
    fresh = tail.poll()
    assert [e.event_id for e in fresh] == ["e3", "e4", "e5"]
    assert fresh[0].failed and not fresh[1].failed and fresh[0].stack == "app"
    assert tail.poll() == []
    s.done()


def _change(n: int) -> dict[str, Any]:
    return {
        "Type": "Resource",
        "ResourceChange": {
            "Action": "Modify",
            "LogicalResourceId": f"R{n}",
            "ResourceType": "AWS::Logs::LogGroup",
            "Replacement": "True" if n else "False",
        },
    }


def test_a_change_set_s_changes_are_read_from_every_page() -> None:
    s = Stubs()
    s.add(
        "cloudformation",
        "describe_change_set",
        {
            "ChangeSetId": "cs-id",
            "ChangeSetName": "app-1",
            "StackId": "sid",
            "Status": "CREATE_COMPLETE",
            "Changes": [_change(0)],
            "NextToken": "p2",
        },
        {"ChangeSetName": "cs"},
    )
    s.add(
        "cloudformation",
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": [_change(1)], "NextToken": "p3"},
        {"ChangeSetName": "cs", "NextToken": "p2"},
    )
    s.add(
        "cloudformation",
        "describe_change_set",
        {"Status": "CREATE_COMPLETE", "Changes": [_change(2)]},
        {"ChangeSetName": "cs", "NextToken": "p3"},
    )
    computed = cfn.wait_change_set(s.client("cloudformation"), "cs", sleep=lambda _: None)
    assert computed == cfn.ChangeSetResult(
        id="cs-id",
        name="app-1",
        stack_id="sid",
        status="CREATE_COMPLETE",
        reason="",
        changes=[
            cfn.Change("Modify", "R0", "AWS::Logs::LogGroup", "False"),
            cfn.Change("Modify", "R1", "AWS::Logs::LogGroup", "True"),
            cfn.Change("Modify", "R2", "AWS::Logs::LogGroup", "True"),
        ],
    )
    s.done()


@pytest.mark.parametrize(
    ("status", "reason", "no_changes"),
    [
        ("DELETE_COMPLETE", "No updates are to be performed.", False),
        ("DELETE_FAILED", "No updates are to be performed.", False),
        # Both wordings of "nothing to do" on a FAILED change set: the usual one
        # (DescribeChangeSet), and the one recorded in Sceptre/sceptre#568 ("Status: FAILED,
        # StatusReason: No updates are to be performed.", also ansible-collections/amazon.aws#507).
        (
            "FAILED",
            "The submitted information didn't contain changes. Submit different information "
            "to create a change set.",
            True,
        ),
        ("FAILED", "No updates are to be performed.", True),
        # A change set that failed for another reason is a failure, not "no changes".
        (
            "FAILED",
            "Template format error: Unresolved resource dependencies [Missing] in the "
            "Resources block of the template",
            False,
        ),
    ],
)
def test_a_change_set_that_cannot_become_available_is_not_waited_for(
    status: str, reason: str, no_changes: bool
) -> None:
    s = Stubs()
    s.add(
        "cloudformation",
        "describe_change_set",
        {"Status": status, "StatusReason": reason},
        {"ChangeSetName": "cs"},
    )
    slept: list[float] = []
    computed = cfn.wait_change_set(s.client("cloudformation"), "cs", sleep=slept.append)
    assert slept == [] and computed.status == status and computed.reason == reason
    assert computed.id == "cs" and computed.name == "" and computed.stack_id == ""
    assert computed.no_changes is no_changes
    s.done()


def test_the_timeout_names_the_change_set_and_polls_at_the_interval() -> None:
    s = Stubs()
    for _ in range(3):
        s.add(
            "cloudformation",
            "describe_change_set",
            {"Status": "CREATE_PENDING"},
            {"ChangeSetName": "cs-arn"},
        )
    slept: list[float] = []
    with pytest.raises(cfn.OperationError) as info:
        cfn.wait_change_set(
            s.client("cloudformation"), "cs-arn", sleep=slept.append, interval=3.0, timeout=6.0
        )
    assert slept == [3.0, 3.0]
    assert info.value.message == "change set cs-arn still CREATE_PENDING after 6s"
    assert info.value.hint == "look at the change set in the CloudFormation console"
    s.done()


def test_parameters_are_sent_only_when_there_are_some() -> None:
    s = Stubs()
    base = {
        "StackName": "app",
        "ChangeSetName": "app-1",
        "ChangeSetType": "UPDATE",
        "TemplateBody": "{}",
        "Capabilities": ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"],
        "Description": "bluegreen deploy",
    }
    s.add("cloudformation", "create_change_set", {"Id": "cs1"}, base)
    given = [{"ParameterKey": "ConnectionArn", "ParameterValue": "arn:c"}]
    s.add(
        "cloudformation",
        "create_change_set",
        {"Id": "cs2", "StackId": "sid"},
        {**base, "Parameters": given},
    )
    client = s.client("cloudformation")
    assert cfn.create_change_set(client, "app", "app-1", "UPDATE", "{}") == ("cs1", "")
    assert cfn.create_change_set(client, "app", "app-1", "UPDATE", "{}", given) == ("cs2", "sid")
    s.done()


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("CREATE_IN_PROGRESS", False),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", False),
        ("REVIEW_IN_PROGRESS", False),
        ("CREATE_COMPLETE", True),
        ("UPDATE_ROLLBACK_FAILED", True),
    ],
)
def test_terminal_states(status: str, terminal: bool) -> None:
    assert cfn.is_terminal(status) is terminal


def test_other_errors_are_not_taken_for_a_missing_stack() -> None:
    s = Stubs()
    s.error("cloudformation", "describe_stacks", "ValidationError", "Template format error")
    s.error("cloudformation", "get_template", "AccessDenied", "Stack with id x does not exist")
    s.error("cloudformation", "describe_stack_events", "Throttling", "does not exist")
    client = s.client("cloudformation")
    with pytest.raises(cfn.AwsCallError):
        cfn.describe_stack(client, "x")
    with pytest.raises(cfn.AwsCallError):
        cfn.deployed_template(client, "x")
    with pytest.raises(cfn.AwsCallError):
        cfn.EventTail(client, "x").poll()
    s.done()
