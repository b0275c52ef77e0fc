"""``bluegreen builds``: the branch checks' recent builds (pushes to builds.branches)."""

from __future__ import annotations

from typing import Annotated

import typer

from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import ConfigOpt, OutputFormat, OutputOpt, ProfileOpt, RegionOpt, err, out
from bluegreen.errors import UsageError

MAX_LIMIT = 100
"""Builds listed at most (one BatchGetBuilds call holds 100 ids)."""


def summary(variables: dict[str, str]) -> str:
    """The checks' results as the branch buildspec exports them."""
    parts = [
        f"tests {variables.get('APP_TESTS', '-')}",
        f"checks {variables.get('CHECKS', '-')}",
        f"app image {variables.get('APP_IMAGE', '-')}",
        f"router image {variables.get('ROUTER_IMAGE', '-')}",
    ]
    return ", ".join(parts)


@app.command()
def builds(
    config: ConfigOpt = None,
    branch: Annotated[
        str | None,
        typer.Option("--branch", "-b", help="Only this branch's builds (such as feature/x)."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option("--limit", "-n", help=f"How many builds, newest first (1 to {MAX_LIMIT})."),
    ] = 10,
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """List the recent branch checks: pushes to a branch matching builds.branches,
    tested and built without deploying. One line per build, newest first: number,
    branch, commit, status, duration, and the results of the app's tests, bluegreen's
    checks and the two image builds (built, in-ecr: the pipeline built that content
    already, or failed)."""
    from bluegreen.aws import builds as builds_api
    from bluegreen.names import Names
    from bluegreen.stacks.branches import branch_check_project

    if not 1 <= limit <= MAX_LIMIT:
        raise UsageError(
            f"--limit {limit} is out of range", hint=f"give a number from 1 to {MAX_LIMIT}"
        )
    cfg, _ = common.load_config(config)
    if not cfg.builds.branches:
        raise UsageError(
            "no branch checks: builds.branches is [] in bluegreen.toml",
            hint='set builds.branches (such as ["feature/*"]) and run `bluegreen deploy`',
        )
    clients = common.make_clients(cfg, profile, region)
    found = builds_api.branch_builds(
        clients.codebuild, branch_check_project(Names.of(cfg)), branch, limit
    )
    if output == OutputFormat.json:
        common.emit_json([b.to_dict() for b in found])
    else:
        for build in found:
            out.print(
                f"#{build.number}  {build.branch or '-'}  {build.commit[:8] or '-'}  "
                f"{build.status}  {build.seconds} s  {summary(build.variables)}",
                markup=False,
            )
    if not found:
        which = f" of {branch}" if branch else ""
        err.print(
            f"no branch checks{which} yet: push to a branch matching "
            f"{', '.join(cfg.builds.branches)}",
            markup=False,
        )
