"""``bluegreen release``: start the pipeline and follow it until it ends or waits."""

from __future__ import annotations

from typing import Annotated

import typer

from bluegreen.aws import deploy as deploy_mod
from bluegreen.aws import release as release_mod
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
from bluegreen.errors import OperationError


class _Progress:
    def step(self, message: str) -> None:
        err.print(message, markup=False)


@app.command()
def release(
    config: ConfigOpt = None,
    no_follow: Annotated[
        bool,
        typer.Option("--no-follow", help="Start the pipeline and return at once."),
    ] = False,
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """Start the pipeline (the console's "Release change") and follow it stage by stage.

    Following stops when the execution ends, or when the blue/green deployment waits for
    reroute: test green on the test listener, then run `bluegreen promote` (or
    `bluegreen rollback`). Exits 1 if the execution failed, naming the failing action.
    """
    cfg, _ = common.load_config(config)
    clients = common.make_clients(cfg, profile, region)
    result = release_mod.release(
        clients, cfg, _Progress(), follow=not no_follow, sleep=common.sleep
    )
    if output == OutputFormat.json:
        common.emit_json(result.to_dict())
    else:
        out.print(f"execution {result.execution_id}: {result.status}", markup=False)
        out.print(f"console   {result.link}", markup=False)
        if result.waiting_deployment:
            links = deploy_mod.links(clients, cfg)
            where = f" on {links.test_url}" if links and links.test_url else ""
            out.print(
                f"deployment {result.waiting_deployment} waits for reroute: test green{where}, "
                "then `bluegreen promote` (or `bluegreen rollback`)",
                markup=False,
            )
        elif result.status == "Superseded":
            out.print("a newer execution superseded this one", markup=False)
    if result.failed:
        raise OperationError(
            f"the pipeline execution {result.status.lower()}"
            + (f" at {result.failed_action}: {result.error}" if result.failed_action else ""),
            hint=f"details: {result.link}",
        )
