"""EventBridge in the emulator: patterns checked and matched as EventBridge does, delivery.

Sources: Event Ruler's README (github.com/aws/event-ruler, the matching library behind
EventBridge) and the EventBridge user guide ("Content filtering in Amazon EventBridge
event patterns", "Comparison operators for use in event patterns"); the
rehearsal-fidelity review (reviews-2026-11, section 4 "Matching semantics") lists the
cases rehearse/trigger.py got wrong: ``ma?n`` matched ``main``, anything-but prefix
always matched, ``$or`` never did, numeric was missing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from emulator_cicd import REGION, T0, build_system, commit_files

from bluegreen.emulator import Emulator
from bluegreen.emulator.eventpattern import PatternError, matches, parse

PUSH = {
    "version": "0",
    "id": "1",
    "detail-type": "CodeCommit Repository State Change",
    "source": "aws.codecommit",
    "account": "123456789012",
    "time": "2021-09-19T01:00:00Z",
    "region": REGION,
    "resources": ["arn:aws:codecommit:ap-northeast-1:123456789012:app"],
    "detail": {
        "event": "referenceUpdated",
        "referenceType": "branch",
        "referenceName": "main",
        "commitId": "a" * 40,
        "size": 300,
        "ip": "10.0.0.33",
        "tags": ["x", "y"],
        "nested": {"inner": 1},
    },
}


def _match(pattern: dict[str, Any], event: dict[str, Any] = PUSH) -> bool:
    return matches(parse(json.dumps(pattern)), event)


def _detail(**rules: Any) -> dict[str, Any]:
    return {"detail": rules}


# --------------------------------------------------------------------------- matching


def test_wildcard_treats_only_star_as_a_wildcard() -> None:
    assert _match(_detail(referenceName=[{"wildcard": "ma*"}]))
    assert _match(_detail(referenceName=[{"wildcard": "*"}]))
    assert not _match(_detail(referenceName=[{"wildcard": "ma?n"}]))  # ? is a character
    assert not _match(_detail(referenceName=[{"wildcard": "m[a]in"}]))  # so is [
    event = {"detail": {"referenceName": "ma?n*"}}
    assert _match(_detail(referenceName=[{"wildcard": "ma?n\\*"}]), event)
    with pytest.raises(PatternError, match="Consecutive wildcard"):
        parse(json.dumps(_detail(referenceName=[{"wildcard": "m**"}])))
    with pytest.raises(PatternError, match="escape"):
        parse(json.dumps(_detail(referenceName=[{"wildcard": "m\\a"}])))


def test_anything_but_with_values_prefix_and_suffix() -> None:
    assert not _match(_detail(referenceName=[{"anything-but": {"prefix": "ma"}}]))
    assert _match(_detail(referenceName=[{"anything-but": {"prefix": "feature/"}}]))
    assert not _match(_detail(referenceName=[{"anything-but": {"suffix": "in"}}]))
    assert _match(_detail(referenceName=[{"anything-but": ["dev", "release"]}]))
    assert not _match(_detail(referenceName=[{"anything-but": ["dev", "main"]}]))
    assert not _match(_detail(referenceName=[{"anything-but": {"equals-ignore-case": "MAIN"}}]))
    assert _match(_detail(size=[{"anything-but": [100, 200]}]))
    # anything-but matches present values only.
    assert not _match(_detail(missing=[{"anything-but": "x"}]))


def test_or_of_sub_patterns() -> None:
    pattern = {"$or": [_detail(referenceName=["dev"]), {"source": ["aws.codecommit"]}]}
    assert _match(pattern)
    assert not _match({"$or": [_detail(referenceName=["dev"]), {"source": ["aws.s3"]}]})
    # Inside a field too, ANDed with its siblings.
    assert _match(
        {
            "detail": {
                "event": ["referenceUpdated"],
                "$or": [{"size": [1]}, {"referenceName": ["main"]}],
            }
        }
    )


def test_numeric_and_exact_numbers() -> None:
    assert _match(_detail(size=[{"numeric": [">", 0, "<=", 300]}]))
    assert not _match(_detail(size=[{"numeric": [">", 300]}]))
    assert _match(_detail(size=[{"numeric": ["=", 3.0e2]}]))
    assert _match(_detail(size=[300.0]))  # numbers compare as numbers
    assert not _match(_detail(size=["300"]))  # not as strings
    assert not _match(_detail(referenceName=[{"numeric": [">", 0]}]))
    with pytest.raises(PatternError):
        parse(json.dumps(_detail(size=[{"numeric": [">", 5, "<", 1]}])))


def test_exists_works_on_leaves() -> None:
    assert _match(_detail(commitId=[{"exists": True}]))
    assert _match(_detail(oldCommitId=[{"exists": False}]))
    assert not _match(_detail(commitId=[{"exists": False}]))
    # "nested" is an object, not a leaf: exists false matches it (Event Ruler README).
    assert _match(_detail(nested=[{"exists": False}]))
    assert not _match(_detail(nested=[{"exists": True}]))
    # A missing parent: every leaf under it is absent.
    assert _match({"absent": {"leaf": [{"exists": False}]}})


def test_prefix_suffix_ignore_case_cidr_and_arrays() -> None:
    assert _match({"source": [{"prefix": "aws."}]})
    assert _match({"source": [{"prefix": {"equals-ignore-case": "AWS.CODE"}}]})
    assert _match({"source": [{"suffix": "commit"}]})
    assert _match({"source": [{"equals-ignore-case": "AWS.CodeCommit"}]})
    assert _match(_detail(ip=[{"cidr": "10.0.0.0/24"}]))
    assert not _match(_detail(ip=[{"cidr": "10.0.1.0/24"}]))
    # An array in the event matches when any element does.
    assert _match(_detail(tags=["y"]))
    assert _match({"resources": ["arn:aws:codecommit:ap-northeast-1:123456789012:app"]})
    assert not _match({"resources": ["arn:aws:codecommit:ap-northeast-1:123456789012:other"]})


def test_invalid_patterns_are_refused() -> None:
    for bad in (
        '{"source": "aws.codecommit"}',
        '{"source": []}',
        '{"source": [{"regex": "x"}]}',
        "[1]",
        "{",
    ):
        with pytest.raises(PatternError):
            parse(bad)


# --------------------------------------------------------------------------- the API


@pytest.fixture
def aws() -> Iterator[Emulator]:
    with Emulator(REGION, start=T0) as emulator:
        yield emulator


def test_put_rule_refuses_an_invalid_pattern_as_eventbridge_does(aws: Emulator) -> None:
    events = aws.clients().events
    with pytest.raises(ClientError) as caught:
        events.put_rule(
            Name="bad", EventPattern=json.dumps(_detail(referenceName=[{"wildcard": "a**"}]))
        )
    error = caught.value.response["Error"]
    assert error["Code"] == "InvalidEventPatternException"
    assert error["Message"].startswith("Event pattern is not valid. Reason: Consecutive wildcard")
    assert events.list_rules()["Rules"] == []
    events.put_rule(Name="good", EventPattern=json.dumps({"source": ["aws.codecommit"]}))
    assert [r["Name"] for r in events.list_rules()["Rules"]] == ["good"]


def test_test_event_pattern_uses_the_same_matching(aws: Emulator) -> None:
    events = aws.clients().events
    pattern = json.dumps(_detail(referenceName=[{"wildcard": "ma?n"}]))
    assert (
        events.test_event_pattern(EventPattern=pattern, Event=json.dumps(PUSH))["Result"] is False
    )
    pattern = json.dumps(_detail(referenceName=[{"prefix": "ma"}]))
    assert events.test_event_pattern(EventPattern=pattern, Event=json.dumps(PUSH))["Result"] is True
    # TestEventPattern: "the following fields are mandatory: id, account, source, time,
    # region, resources, detail-type".
    partial = {k: v for k, v in PUSH.items() if k != "time"}
    with pytest.raises(ClientError):
        events.test_event_pattern(EventPattern=pattern, Event=json.dumps(partial))


def test_put_events_refuses_aws_sources_per_entry(aws: Emulator) -> None:
    events = aws.clients().events
    answer = events.put_events(
        Entries=[
            {"Source": "my.app", "DetailType": "Thing", "Detail": json.dumps({"a": 1})},
            {"Source": "aws.codecommit", "DetailType": "Thing", "Detail": "{}"},
        ]
    )
    assert answer["FailedEntryCount"] == 1
    assert "EventId" in answer["Entries"][0]
    assert answer["Entries"][1]["ErrorCode"] == "NotAuthorizedForSourceException"
    assert aws.service("events").emitted[-1]["source"] == "my.app"


def test_a_push_event_starts_the_pipeline_a_rule_targets_as_the_target_role(aws: Emulator) -> None:
    system = build_system(aws)
    clients = aws.clients()
    pipeline = system.names.pipeline
    clients.codepipeline.create_pipeline(pipeline=system.declaration())
    events = clients.events
    pattern = {
        "source": ["aws.codecommit"],
        "detail-type": ["CodeCommit Repository State Change"],
        "resources": [f"arn:aws:codecommit:{REGION}:123456789012:{system.repository}"],
        "detail": {
            "event": ["referenceCreated", "referenceUpdated"],
            "referenceType": ["branch"],
            "referenceName": [system.branch],
        },
    }
    rule = events.put_rule(Name="source-change", EventPattern=json.dumps(pattern))["RuleArn"]
    target = f"arn:aws:codepipeline:{REGION}:123456789012:{pipeline}"
    events.put_targets(Rule="source-change", Targets=[{"Id": "Pipeline", "Arn": target}])
    service = aws.service("events")
    clients.codecommit.create_branch(
        repositoryName=system.repository, branchName="other", commitId=system.head
    )
    aws.sleep(1)
    assert service.deliveries == []  # another branch: the pattern does not match
    commit_files(aws, system.repository, system.branch, {"x.txt": b"x"}, "push", system.head)
    aws.sleep(1)
    (failed,) = service.deliveries
    # A CodePipeline target needs a role to start the pipeline with.
    assert not failed.delivered and "RoleArn" in failed.detail
    events.put_targets(
        Rule="source-change",
        Targets=[{"Id": "Pipeline", "Arn": target, "RoleArn": system.events_role}],
    )
    tip = clients.codecommit.get_branch(repositoryName=system.repository, branchName=system.branch)
    head = commit_files(
        aws, system.repository, system.branch, {"y.txt": b"y"}, "push 2", tip["branch"]["commitId"]
    )
    aws.sleep(1)
    delivered = service.deliveries[-1]
    assert delivered.delivered
    execution = clients.codepipeline.get_pipeline_execution(
        pipelineName=pipeline, pipelineExecutionId=delivered.detail
    )["pipelineExecution"]
    assert execution["trigger"] == {"triggerType": "CloudWatchEvent", "triggerDetail": rule}
    # A disabled rule delivers nothing.
    events.disable_rule(Name="source-change")
    commit_files(aws, system.repository, system.branch, {"z.txt": b"z"}, "push 3", head)
    aws.sleep(1)
    assert service.deliveries[-1] is delivered
