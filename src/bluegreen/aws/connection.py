"""The CodeConnections connection of a GitHub, GitLab or Bitbucket source, at deploy time.

Where the ARN comes from: ``bluegreen deploy --connection-arn ARN``, or, when the flag
is not given, the ``ConnectionArn`` parameter of the pipeline stack already deployed
(so the first deploy takes the flag and later ones need nothing). It is never read from
or written to bluegreen.toml or any file of the repository: a connection belongs to one
account and region, and the repository is shared and committed (issue 12: "its ARN given
at deploy time or in config, never written into repository files"; bluegreen takes the
deploy-time route only, so no file can carry it by mistake).

Before anything is created the connection is looked at (:func:`check`):

- its ARN must have the model's shape (CodeConnections API reference, Connection:
  ConnectionArn; ``arn:aws:codeconnections:`` or the former ``codestar-connections``
  prefix), else the flag is bad input (exit 2);
- GetConnection must find it in the account and region being deployed to (exit 2: the
  ARN names no connection there), and its provider must be the configured one (exit 2);
- it must be AVAILABLE. A connection made through the CLI, an SDK or CloudFormation is
  PENDING until a person completes the handshake in the console ("You must use the
  console to update a pending connection. You cannot update a pending connection using
  the AWS CLI": Developer Tools console user guide, "Update a pending connection",
  https://docs.aws.amazon.com/dtconsole/latest/userguide/connections-update.html), and a
  pending or error connection "cannot be used until it is available" ("Workflow to create
  or update connections"). A pipeline created on it would fail its first run at Source,
  so deploy stops first, exit 1 (:class:`~bluegreen.errors.StateError`): the input is
  well formed and names a real connection; what stops the operation is the account's
  state, which a person changes in the console, as for a stack that is busy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bluegreen.aws import cfn
from bluegreen.aws.errors import AwsCallError, call
from bluegreen.aws.session import Clients
from bluegreen.config import Config
from bluegreen.errors import StateError, UsageError
from bluegreen.names import Names
from bluegreen.stacks.connections import CONNECTION_ARN_PATTERN, CONNECTION_PARAMETER

PROVIDER_TYPES = {"github": "GitHub", "gitlab": "GitLab", "bitbucket": "Bitbucket"}
"""source.provider -> the connection's ProviderType (CodeConnections API model)."""

FLAG = "--connection-arn"


def console_link(region: str) -> str:
    """Where a pending connection is completed (Developer Tools console, Settings >
    Connections: "Update a pending connection")."""
    return f"https://console.aws.amazon.com/codesuite/settings/connections?region={region}"


@dataclass(frozen=True)
class Connection:
    arn: str
    name: str
    provider: str
    status: str
    source: str  # "flag" or "stack" (the pipeline stack's ConnectionArn parameter)


def well_formed(arn: str) -> bool:
    return re.fullmatch(CONNECTION_ARN_PATTERN, arn) is not None


def resolve(clients: Clients, config: Config, given: str | None) -> tuple[str, str] | None:
    """The connection ARN to deploy with and where it came from, or None for CodeCommit.
    Bad or missing input is a :class:`UsageError` (exit 2); nothing is changed."""
    provider = config.source.provider
    if provider == "codecommit":
        if given:
            raise UsageError(
                f"{FLAG} (or BLUEGREEN_CONNECTION_ARN) applies to a GitHub, GitLab or "
                'Bitbucket source; this config\'s source.provider is "codecommit"',
                hint=f"drop {FLAG}, or set source.provider and source.full_repository_id",
            )
        return None
    if given is not None:
        arn = given.strip()
        if not well_formed(arn):
            raise UsageError(
                f"{FLAG} {given!r} is not a CodeConnections connection ARN",
                hint="give the ARN the console shows for the connection, such as "
                "arn:aws:codeconnections:<region>:<account>:connection/<id> (the older "
                "codestar-connections prefix is accepted too); nothing was changed",
            )
        return arn, "flag"
    stack = cfn.describe_stack(clients.cloudformation, Names.of(config).pipeline_stack)
    for parameter in (stack or {}).get("Parameters") or []:
        if parameter.get("ParameterKey") == CONNECTION_PARAMETER and parameter.get(
            "ParameterValue"
        ):
            return str(parameter["ParameterValue"]), "stack"
    kind = PROVIDER_TYPES[provider]
    raise UsageError(
        f'source.provider = "{provider}" needs the ARN of an AWS CodeConnections '
        f"connection to {kind}, and none is given",
        hint=f"create the connection once in the console ({console_link(clients.region)}, "
        f"Create connection, {kind}), then run `bluegreen deploy {FLAG} <its ARN>`; later "
        "deploys reuse the one the pipeline stack holds. The ARN is never written to a "
        "file; nothing was changed",
    )


def check(clients: Clients, config: Config, arn: str, source: str) -> Connection:
    """The connection, looked at before anything changes (see the module docstring)."""
    service = "codestar-connections" if ":codestar-connections:" in arn else "codeconnections"
    try:
        found = call(clients(service), "get_connection", ConnectionArn=arn)["Connection"]
    except AwsCallError as exc:
        if exc.code != "ResourceNotFoundException":
            raise
        raise UsageError(
            f"no CodeConnections connection {arn} in {clients.region}",
            hint=f"check the ARN and the region (`--region`): the connections of this "
            f"account are listed at {console_link(clients.region)}; nothing was changed",
        ) from None
    connection = Connection(
        arn,
        str(found.get("ConnectionName", "")),
        str(found.get("ProviderType", "")),
        str(found.get("ConnectionStatus", "")),
        source,
    )
    wanted = PROVIDER_TYPES[config.source.provider]
    if connection.provider and connection.provider != wanted:
        raise UsageError(
            f"connection {connection.name} ({arn}) is a {connection.provider} connection, "
            f'but source.provider is "{config.source.provider}"',
            hint=f"give a {wanted} connection, or correct source.provider; nothing was changed",
        )
    if connection.status != "AVAILABLE":
        raise StateError(
            f"connection {connection.name} ({arn}) is {connection.status}: CodePipeline "
            "cannot read the repository through it yet",
            hint=(
                f"a person completes the handshake with {wanted} once, in the console: "
                f"{console_link(clients.region)} > {connection.name or 'the connection'} > "
                "Update pending connection (it cannot be done from the CLI); then run "
                "deploy again. Nothing was changed"
                if connection.status == "PENDING"
                else f"the connection is in error and retried by AWS; look at it in "
                f"{console_link(clients.region)}, then run deploy again. Nothing was changed"
            ),
        )
    return connection


def parameters(connection: Connection | None) -> list[dict[str, Any]]:
    """The pipeline stack's change-set parameters."""
    if connection is None:
        return []
    return [{"ParameterKey": CONNECTION_PARAMETER, "ParameterValue": connection.arn}]
