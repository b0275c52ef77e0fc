"""``bluegreen rollback``: put production back on the previous release, through the engine
that deploys it (CodeDeploy, or ECS built-in blue/green)."""

from __future__ import annotations

from typing import Annotated

import typer

from bluegreen import engine
from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import (
    ConfigOpt,
    OutputFormat,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    err,
    out,
)


class _Progress:
    def step(self, message: str) -> None:
        err.print(message, markup=False)


@app.command()
def rollback(
    config: ConfigOpt = None,
    no_follow: Annotated[
        bool,
        typer.Option(
            "--no-follow",
            help="After a succeeded deployment: start the rollback deployment and return "
            "at once (it then waits for `bluegreen promote` if reroute is manual).",
        ),
    ] = False,
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """Put production back on the previous release, through the deployment engine.

    While a deployment is in progress (before or during the traffic shift, and during
    the termination wait or the bake): the engine's stop-and-roll-back (CodeDeploy's
    StopDeployment; ECS: ContinueServiceDeployment ROLLBACK at the pause, otherwise
    StopServiceDeployment ROLLBACK), production returns to the original revision. After
    it succeeded: a new deployment of the previous release, followed until production
    serves it and promoted when it waits for reroute (you asked to roll back), unless
    --no-follow. Refuses (exit 1) when there is no
    earlier release (the first release: revert the commit and push instead). With
    --output json: the action, the deployments and the message as one document.
    """
    cfg, _ = common.load_config(config)
    chosen = engine.select(common.make_clients(cfg, profile, region), cfg)
    with common.in_flight("a rollback may be running on AWS", resume="bluegreen status --watch"):
        result = chosen.rollback(follow=not no_follow, ui=_Progress(), sleep=common.sleep)
    if output == OutputFormat.json:
        common.emit_result(result.to_dict())
    else:
        out.print(result.message, markup=False)
