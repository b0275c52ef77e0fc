"""aws/connection.py: the exact refusals deploy prints for a CodeConnections connection,
driven against the emulated CodeConnections (a connection is PENDING until its handshake
is completed in the console: Developer Tools console user guide, "Update a pending
connection"; GetConnection of an unknown ARN is ResourceNotFoundException, API reference).
The whole deploy through a connection runs in test_e2e_connections.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest

from bluegreen import config as config_mod
from bluegreen.aws import connection
from bluegreen.aws.connection import Connection
from bluegreen.aws.errors import AwsCallError
from bluegreen.aws.session import Clients
from bluegreen.emulator import Emulator
from bluegreen.errors import StateError, UsageError

REGION = "ap-northeast-1"
LINK = f"https://console.aws.amazon.com/codesuite/settings/connections?region={REGION}"
GITHUB = """\
[project]
name = "sample3"
environment = "dev"
region = "ap-northeast-1"

[source]
provider = "github"
full_repository_id = "acme/webapp"
"""
CODECOMMIT = '[project]\nname = "sample3"\nenvironment = "dev"\nregion = "ap-northeast-1"\n'


@pytest.fixture(scope="module")
def aws() -> Iterator[Emulator]:
    with Emulator(REGION) as emulator:
        yield emulator


def _clients(aws: Emulator) -> Clients:
    return Clients.from_factory(aws.client, REGION)


def _made(aws: Emulator, provider: str, name: str, available: bool) -> str:
    arn = str(
        aws.client("codeconnections").create_connection(ProviderType=provider, ConnectionName=name)[
            "ConnectionArn"
        ]
    )
    if available:
        aws.service("codeconnections").complete_handshake(arn)
    return arn


def test_an_available_connection_of_the_configured_provider(aws: Emulator) -> None:
    arn = _made(aws, "GitHub", "ok-github", True)
    found = connection.check(_clients(aws), config_mod.parse(GITHUB), arn, "flag")
    assert found == Connection(arn, "ok-github", "GitHub", "AVAILABLE", "flag")
    assert connection.parameters(found) == [
        {"ParameterKey": "ConnectionArn", "ParameterValue": arn}
    ]
    assert connection.parameters(None) == []


def test_a_pending_connection_says_how_to_complete_it(aws: Emulator) -> None:
    arn = _made(aws, "GitHub", "waiting", False)
    with pytest.raises(StateError) as info:
        connection.check(_clients(aws), config_mod.parse(GITHUB), arn, "stack")
    assert info.value.message == (
        f"connection waiting ({arn}) is PENDING: CodePipeline cannot read the repository "
        "through it yet"
    )
    assert info.value.hint == (
        f"a person completes the handshake with GitHub once, in the console: {LINK} > "
        "waiting > Update pending connection (it cannot be done from the CLI); then run "
        "deploy again. Nothing was changed"
    )


def test_a_connection_in_error_says_aws_retries_it(aws: Emulator) -> None:
    arn = _made(aws, "GitHub", "broken", True)
    found = aws.service("codeconnections").connection(arn)
    assert found is not None
    found.status = "ERROR"
    with pytest.raises(StateError) as info:
        connection.check(_clients(aws), config_mod.parse(GITHUB), arn, "flag")
    assert info.value.message.endswith(
        "is ERROR: CodePipeline cannot read the repository through it yet"
    )
    assert info.value.hint == (
        f"the connection is in error and retried by AWS; look at it in {LINK}, then run "
        "deploy again. Nothing was changed"
    )


def test_a_connection_to_another_provider_is_bad_input(aws: Emulator) -> None:
    arn = _made(aws, "Bitbucket", "bb", True)
    with pytest.raises(UsageError) as info:
        connection.check(_clients(aws), config_mod.parse(GITHUB), arn, "flag")
    assert info.value.message == (
        f'connection bb ({arn}) is a Bitbucket connection, but source.provider is "github"'
    )
    assert info.value.hint == (
        "give a GitHub connection, or correct source.provider; nothing was changed"
    )


def test_an_arn_of_no_connection_is_bad_input(aws: Emulator) -> None:
    arn = "arn:aws:codeconnections:ap-northeast-1:123456789012:connection/0000-none"
    with pytest.raises(UsageError) as info:
        connection.check(_clients(aws), config_mod.parse(GITHUB), arn, "flag")
    assert info.value.message == f"no CodeConnections connection {arn} in {REGION}"
    assert info.value.hint == (
        "check the ARN and the region (`--region`): the connections of this account are "
        f"listed at {LINK}; nothing was changed"
    )


def _operator_without_get_connection(aws: Emulator) -> str:
    """A role of the emulated account (whose calls the emulator's IAM enforcement
    evaluates: emulator/authz.py) that may list connections but not read one."""
    iam = aws.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    try:
        arn = iam.get_role(RoleName="no-get-connection")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        arn = iam.create_role(
            RoleName="no-get-connection", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        allowed = {"Effect": "Allow", "Action": "codeconnections:ListConnections", "Resource": "*"}
        iam.put_role_policy(
            RoleName="no-get-connection",
            PolicyName="list-only",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allowed]}),
        )
    return str(arn)


@pytest.mark.parametrize(
    ("arn", "action"),
    [
        # The older prefix is asked of the service it names (CodeStar Connections was
        # renamed CodeConnections; both API names answer: botocore has both models).
        (
            "arn:aws:codestar-connections:ap-northeast-1:123456789012:connection/abc",
            "codestar-connections:GetConnection",
        ),
        (
            "arn:aws:codeconnections:ap-northeast-1:123456789012:connection/abc",
            "codeconnections:GetConnection",
        ),
    ],
)
def test_each_prefix_is_asked_of_its_service_and_a_refusal_passes(
    aws: Emulator, arn: str, action: str
) -> None:
    # AccessDeniedException with IAM's "is not authorized to perform" message (emulator/
    # authz.py, after the IAM User Guide, "Troubleshoot access denied error messages").
    clients = aws.clients(_operator_without_get_connection(aws))
    with pytest.raises(AwsCallError) as info:
        connection.check(clients, config_mod.parse(GITHUB), arn, "flag")
    assert (info.value.code, info.value.action) == ("AccessDeniedException", action)
    assert re.fullmatch(
        rf"access denied: arn:aws:sts::123456789012:assumed-role/no-get-connection/\S+ "
        rf"may not call {action}",
        info.value.message,
    )


def test_resolve_a_given_arn_or_refuse_it(aws: Emulator) -> None:
    clients = _clients(aws)
    github = config_mod.parse(GITHUB)
    arn = "arn:aws:codeconnections:ap-northeast-1:123456789012:connection/abc"
    assert connection.resolve(clients, github, f"  {arn} ") == (arn, "flag")
    with pytest.raises(UsageError) as info:
        connection.resolve(clients, github, "github")
    assert info.value.message == "--connection-arn 'github' is not a CodeConnections connection ARN"
    assert info.value.hint == (
        "give the ARN the console shows for the connection, such as "
        "arn:aws:codeconnections:<region>:<account>:connection/<id> (the older "
        "codestar-connections prefix is accepted too); nothing was changed"
    )
    codecommit = config_mod.parse(CODECOMMIT)
    assert connection.resolve(clients, codecommit, None) is None
    assert connection.resolve(clients, codecommit, "") is None
    with pytest.raises(UsageError) as refused:
        connection.resolve(clients, codecommit, arn)
    assert refused.value.message == (
        "--connection-arn (or BLUEGREEN_CONNECTION_ARN) applies to a GitHub, GitLab or "
        'Bitbucket source; this config\'s source.provider is "codecommit"'
    )
    assert refused.value.hint == (
        "drop --connection-arn, or set source.provider and source.full_repository_id"
    )


def test_without_an_arn_the_pipeline_stack_s_is_taken_or_the_console_named(aws: Emulator) -> None:
    clients = _clients(aws)
    github = config_mod.parse(GITHUB)
    with pytest.raises(UsageError) as info:
        connection.resolve(clients, github, None)
    assert info.value.message == (
        'source.provider = "github" needs the ARN of an AWS CodeConnections connection to '
        "GitHub, and none is given"
    )
    assert info.value.hint == (
        f"create the connection once in the console ({LINK}, Create connection, GitHub), "
        "then run `bluegreen deploy --connection-arn <its ARN>`; later deploys reuse the one "
        "the pipeline stack holds. The ARN is never written to a file; nothing was changed"
    )
    arn = "arn:aws:codeconnections:ap-northeast-1:123456789012:connection/held"
    template = {
        "Parameters": {"Other": {"Type": "String"}, "ConnectionArn": {"Type": "String"}},
        "Resources": {"Topic": {"Type": "AWS::SNS::Topic"}},
    }
    aws.client("cloudformation").create_stack(
        StackName="sample3-dev-pipeline",
        TemplateBody=json.dumps(template),
        Parameters=[
            {"ParameterKey": "Other", "ParameterValue": "x"},
            {"ParameterKey": "ConnectionArn", "ParameterValue": arn},
        ],
    )
    assert connection.resolve(clients, github, None) == (arn, "stack")


def test_well_formed_arns() -> None:
    # CodeConnections API reference, Connection.ConnectionArn: a 12-digit account id.
    assert connection.well_formed("arn:aws:codeconnections:us-east-1:123456789012:connection/a-1")
    assert connection.well_formed(
        "arn:aws:codestar-connections:us-east-1:123456789012:connection/a-1"
    )
    assert not connection.well_formed(
        "xarn:aws:codeconnections:us-east-1:123456789012:connection/a-1"
    )
