"""The emulator's journal: a kept state is the story that made it, replayed the same."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from bluegreen.emulator import Emulator
from bluegreen.emulator.journal import Header, Journal, changes_state

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)
TEMPLATE = json.dumps(
    {
        "Resources": {
            "Vpc": {"Type": "AWS::EC2::VPC", "Properties": {"CidrBlock": "10.0.0.0/16"}},
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {"LogGroupName": "/kept", "RetentionInDays": 7},
            },
        },
        "Outputs": {"VpcId": {"Value": {"Ref": "Vpc"}}},
    }
)


def snapshot(aws: Emulator) -> dict[str, object]:
    clients = aws.clients()
    stack = clients.cloudformation.describe_stacks(StackName="kept")["Stacks"][0]
    return {
        "status": stack["StackStatus"],
        "outputs": stack["Outputs"],
        "vpcs": sorted(v["VpcId"] for v in clients.ec2.describe_vpcs()["Vpcs"]),
        "groups": [g["logGroupName"] for g in clients.logs.describe_log_groups()["logGroups"]],
        "clock": aws.clock.seconds,
    }


def test_reads_are_not_journaled_and_writes_are() -> None:
    assert not changes_state("DescribeStacks")
    assert not changes_state("ListPipelineExecutions")
    assert not changes_state("GetBranch")
    assert changes_state("CreateChangeSet")
    assert changes_state("ContinueDeployment")


def test_a_replayed_journal_gives_the_same_state(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    with Emulator("ap-northeast-1", start=T0) as aws:
        journal.open(Header("ap-northeast-1", T0, aws.seed, aws.build_quota))
        aws.journal = journal
        cf = aws.clients().cloudformation
        cf.create_stack(StackName="kept", TemplateBody=TEMPLATE)
        aws.sleep(120)
        before = snapshot(aws)
        journal.close()
    assert before["status"] == "CREATE_COMPLETE"

    kept = Journal(tmp_path)
    header = kept.header()
    with Emulator(header.region, start=header.start, seed=header.seed) as again:
        played = again.replay(kept)
        assert played == 2  # CreateStack, then the clock's move
        assert snapshot(again) == before
