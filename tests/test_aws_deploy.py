"""deploy's pieces that the end-to-end tests do not reach, and the error shapes the
emulated AWS cannot produce.

What deploy does against an AWS with state (stacks created, updated, failed, declined,
busy; the first commit; the role; out-of-band changes; refused changes; Ctrl-C) is shown
end to end on the emulated AWS in test_e2e_deploy.py and test_e2e_refusals.py. Here:
how a change set is waited for (on the emulated CloudFormation), which stack states
deploy refuses (a pure rule), and, against botocore Stubber, only what the emulator
cannot answer: an endpoint that does not exist, CodeCommit's 2024-07 restriction,
a change set CloudFormation fails for a reason other than "no changes", throttling.
Each stubbed AWS behaviour cites its source here or in deploy_support.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from deploy_support import (
    SERVICE,
    SOURCE,
    RecordingUI,
    branch,
    live_service,
    look,
    make_repo,
    no_changes,
    no_sleep,
    repositories,
    role,
)
from test_aws_support import (
    Stubs,
    change_set,
    delete_change_set,
    event,
    execute,
    missing_stack,
    service_template,
    stack,
)

from bluegreen import config as config_mod
from bluegreen.aws import cfn, preflight
from bluegreen.aws import deploy as deploy_mod
from bluegreen.emulator import Emulator, timing
from bluegreen.errors import OperationError, StateError
from bluegreen.stacks import build

T0 = datetime(2021, 9, 19, 1, 0, tzinfo=UTC)


@pytest.fixture
def cfg() -> config_mod.Config:
    return config_mod.Config()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path / "app")


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Emulator]:
    with Emulator("ap-northeast-1", start=T0, work_dir=tmp_path / "aws") as emulator:
        yield emulator


def deployed_service(config: config_mod.Config) -> str:
    """The service stack's template as the last deploy left it: what synth makes now."""
    return next(s for s in build(config) if s.name == SERVICE).to_yaml()


def rerun_look(s: Stubs, cfg: config_mod.Config, desired: int = 1) -> None:
    """A later deploy's first look: all three stacks up, the branch has commits, the
    service stack's deployed template, the live service."""
    look(s, "UPDATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_COMPLETE")
    service_template(s, deployed_service(cfg))
    branch(s, "f" * 40)
    live_service(s, desired=desired)


# ---- waiting for a change set (the emulated CloudFormation computes it for a while) ---------


def _change_set(aws: Emulator) -> str:
    template = {
        "Resources": {
            "Logs": {"Type": "AWS::Logs::LogGroup"},
            "Images": {"Type": "AWS::ECR::Repository"},
        }
    }
    made = aws.client("cloudformation").create_change_set(
        StackName=SOURCE,
        ChangeSetName=f"{SOURCE}-20210919010000",
        ChangeSetType="CREATE",
        TemplateBody=json.dumps(template),
    )
    return str(made["Id"])


def test_a_change_set_is_polled_until_computed(aws: Emulator) -> None:
    """CREATE_IN_PROGRESS until computed, then CREATE_COMPLETE (CloudFormation API
    reference, DescribeChangeSet Status: CREATE_PENDING | CREATE_IN_PROGRESS |
    CREATE_COMPLETE | ... | FAILED); polled every 2 s on the command's clock."""
    change_set_id = _change_set(aws)
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        aws.sleep(seconds)

    computed = cfn.wait_change_set(aws.client("cloudformation"), change_set_id, sleep=sleep)

    assert computed.status == "CREATE_COMPLETE"
    assert set(slept) == {2.0} and sum(slept) >= timing.CHANGE_SET_COMPUTE
    assert sum(slept) - 2.0 < timing.CHANGE_SET_COMPUTE  # not polled once more than needed
    assert sorted(c.logical_id for c in computed.changes) == ["Images", "Logs"]
    assert {c.action for c in computed.changes} == {"Add"}


def test_a_change_set_still_computing_at_the_timeout_is_an_error(aws: Emulator) -> None:
    change_set_id = _change_set(aws)
    timeout = timing.CHANGE_SET_COMPUTE - 2.0  # polled at 0 s, 2 s, ... up to the timeout
    with pytest.raises(OperationError) as info:
        cfn.wait_change_set(
            aws.client("cloudformation"),
            change_set_id,
            sleep=aws.sleep,
            interval=2.0,
            timeout=timeout,
        )
    assert str(info.value).startswith(
        f"change set {SOURCE}-20210919010000 still CREATE_IN_PROGRESS after {int(timeout)}s"
    )


# ---- which stack states deploy refuses (the rule on DescribeStacks' StackStatus) --------------


@pytest.mark.parametrize(
    ("status", "refused"),
    [
        # CloudFormation's StackStatus values (botocore CloudFormation model, StackStatus).
        ("REVIEW_IN_PROGRESS", ""),  # an unexecuted CREATE change set: deploy treats it as new
        ("ROLLBACK_COMPLETE", ""),  # deleted and created again by deploy_one
        ("UPDATE_COMPLETE", ""),
        ("UPDATE_ROLLBACK_COMPLETE", ""),
        ("CREATE_IN_PROGRESS", "is busy (CREATE_IN_PROGRESS)"),
        ("UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "is busy"),
        ("DELETE_IN_PROGRESS", "is busy"),
        ("UPDATE_ROLLBACK_FAILED", "is UPDATE_ROLLBACK_FAILED and cannot be updated"),
        ("ROLLBACK_FAILED", "is ROLLBACK_FAILED and cannot be updated"),
        ("DELETE_FAILED", "is DELETE_FAILED and cannot be updated"),
    ],
)
def test_busy_and_failed_stacks_are_refused(status: str, refused: str) -> None:
    """Shown end to end for CREATE_IN_PROGRESS and DELETE_FAILED in test_e2e_deploy; the
    other states of the rule here (the emulator cannot leave a stack UPDATE_ROLLBACK_FAILED
    or ROLLBACK_FAILED on purpose)."""
    described = {"StackName": SOURCE, "StackStatus": status}
    if not refused:
        deploy_mod._refuse_unusable(SOURCE, described, "ap-northeast-1")
        return
    with pytest.raises(StateError) as info:
        deploy_mod._refuse_unusable(SOURCE, described, "ap-northeast-1")
    assert f"stack {SOURCE} in ap-northeast-1 {refused}" in str(info.value)
    assert "nothing was changed" in str(info.value)


# ---- what only a canned answer can show ---------------------------------------------------


def test_a_region_without_codecommit_is_refused_before_any_stack(
    cfg: config_mod.Config, repo: Path
) -> None:
    # Stubber: a network failure (no endpoint), which the emulated AWS never gives.
    from botocore.exceptions import EndpointConnectionError

    class NoCodeCommit:
        """botocore raises EndpointConnectionError when the service has no endpoint to
        reach (botocore.exceptions; CodeCommit is not offered in every region)."""

        def list_repositories(self) -> dict[str, Any]:
            raise EndpointConnectionError(
                endpoint_url="https://codecommit.ca-west-1.amazonaws.com/"
            )

    from bluegreen.aws.session import Clients

    s = Stubs()
    look(s)
    clients = Clients.from_factory(
        lambda service: NoCodeCommit() if service == "codecommit" else s.client(service),
        "ap-northeast-1",
    )

    with pytest.raises(StateError, match="CodeCommit does not answer in ap-northeast-1") as info:
        deploy_mod.deploy(clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()
    assert "Nothing was changed" in str(info.value)


def test_a_repository_codecommit_refuses_to_create_is_explained(
    cfg: config_mod.Config, repo: Path
) -> None:
    # Stubber: the emulated CodeCommit does not make the 2024-07 OperationNotAllowedException.
    s = Stubs()
    look(s)
    repositories(s, [])
    role(s, exists=True)
    missing_stack(s, SOURCE)
    change_set(s, SOURCE, "CREATE", [("Add", "Repository", "AWS::CodeCommit::Repository", "")])
    review = event(SOURCE, 0, SOURCE, "AWS::CloudFormation::Stack", "REVIEW_IN_PROGRESS")
    # The resource failure text of aws-containers/ecs-workshop-blue-green-deployments#11.
    refused = (
        "CreateRepository request is not allowed because there is no existing repository "
        "in this AWS account or AWS Organization (Service: AWSCodeCommit; Status Code: 400; "
        "Error Code: OperationNotAllowedException)"
    )
    execute(
        s,
        SOURCE,
        [review],
        [
            [
                event(
                    SOURCE, 2, "Repository", "AWS::CodeCommit::Repository", "CREATE_FAILED", refused
                ),
                event(SOURCE, 1, SOURCE, "AWS::CloudFormation::Stack", "CREATE_IN_PROGRESS"),
            ],
            [event(SOURCE, 3, SOURCE, "AWS::CloudFormation::Stack", "ROLLBACK_COMPLETE")],
        ],
        "ROLLBACK_COMPLETE",
    )

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()
    [failed] = result.failed
    assert failed.stack == SOURCE and failed.status == "ROLLBACK_COMPLETE"
    assert "CodeCommit refused to create the repository" in failed.hint
    assert "ask AWS Support" in failed.hint


def test_failed_change_set_stops_with_its_reason(cfg: config_mod.Config, repo: Path) -> None:
    # Stubber: the emulated CloudFormation fails a change set only for "no changes".
    s = Stubs()
    rerun_look(s, cfg)
    stack(s, SOURCE, "UPDATE_COMPLETE")
    change_set(
        s,
        SOURCE,
        "UPDATE",
        [],
        status="FAILED",
        reason="Template format error: Unresolved resource dependencies [Nope]",
    )
    delete_change_set(s, SOURCE)

    result = deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), sleep=no_sleep)

    s.done()
    [failed] = result.failed
    assert failed.stack == SOURCE
    assert "Unresolved resource dependencies [Nope]" in failed.reason
    assert len(result.stacks) == 1  # nothing after the failed stack
    assert result.in_flight is None


def test_an_aws_error_after_the_first_stack_keeps_what_was_done(
    cfg: config_mod.Config, repo: Path
) -> None:
    # Stubber: throttling, an error shape the emulated AWS never gives.
    s = Stubs()
    rerun_look(s, cfg)
    no_changes(s, SOURCE)
    stack(s, SERVICE, "UPDATE_COMPLETE")
    s.error("cloudformation", "create_change_set", "Throttling", "Rate exceeded")
    record = deploy_mod.DeployResult(dry_run=False)

    with pytest.raises(OperationError, match="throttled"):
        deploy_mod.deploy(s.clients, cfg, repo, RecordingUI(), result=record, sleep=no_sleep)

    assert [o.action for o in record.stacks] == ["no-changes"]
    assert record.in_flight is not None
    assert record.in_flight.state.startswith("change set sample3-dev-service-")
    assert record.in_flight.state.endswith(
        "(UPDATE) being created, not executed; stack UPDATE_COMPLETE"
    )
    s.done()


# ---- odds and ends ----------------------------------------------------------------------------


# ---- odds and ends ----------------------------------------------------------------------------


def test_change_set_name_is_stack_and_utc_timestamp() -> None:
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    assert deploy_mod.change_set_name("a-source", when) == "a-source-20260304050607"


@pytest.mark.parametrize(
    ("reasons", "explained"),
    [
        # The API error's message alone (CreateRepository's own answer) ...
        (["CreateRepository request is not allowed because there is no existing repository"], True),
        # ... or its code alone (a resource failure that names only the exception) ...
        (["Resource handler returned message: OperationNotAllowedException"], True),
        # ... is the 2024-07 restriction; any other failure is not explained as it.
        (["Repository already exists", "Rate exceeded"], False),
        ([], False),
    ],
)
def test_the_codecommit_restriction_is_recognised_by_its_code_or_its_message(
    reasons: list[str], explained: bool
) -> None:
    hint = preflight.codecommit_refusal(reasons)
    assert hint.startswith("CodeCommit refused to create the repository") is explained
    assert bool(hint) is explained
