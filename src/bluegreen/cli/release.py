"""``bluegreen release``: start the pipeline and follow it until it ends or waits."""

from __future__ import annotations

import re
from typing import Annotated

import typer

from bluegreen.aws import deploy as deploy_mod
from bluegreen.aws import release as release_mod
from bluegreen.aws.errors import AwsCallError
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
from bluegreen.errors import OperationError, StateError
from bluegreen.names import Names

_ACCOUNT = re.compile(r"Account '(\d{12})'")


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
    Ctrl-C (exit 130) or an error while following leaves the execution running on AWS;
    follow it again with `bluegreen status --watch`.
    """
    cfg, _ = common.load_config(config)
    clients = common.make_clients(cfg, profile, region)
    ui = _Progress()
    name = Names.of(cfg).pipeline
    try:
        with common.in_flight(
            f"the pipeline {name} may have started an execution", resume="bluegreen status"
        ):
            started = release_mod.release(clients, cfg, ui, follow=False, sleep=common.sleep)
    except AwsCallError as exc:
        if exc.code != "PipelineNotFoundException":
            raise
        # StartPipelineExecution: PipelineNotFoundException (botocore's codepipeline
        # model; https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_StartPipelineExecution.html).
        # Pipelines are regional, so a wrong --region reads exactly like "not deployed";
        # AWS's message names the account.
        account = _ACCOUNT.search(exc.message)
        whose = f" (account {account.group(1)})" if account else ""
        raise StateError(
            f"the pipeline {name} does not exist in {clients.region}{whose}",
            hint=f"check --region / project.region (now {clients.region}); in the right "
            "region, run `bluegreen deploy` first (the pipeline stack creates it)",
        ) from None  # not started: nothing in flight
    common.result_so_far(started.to_dict())
    result = started
    if not no_follow:
        with common.in_flight(
            f"execution {started.execution_id} of {name} keeps running on AWS: {started.link}",
            resume="bluegreen status --watch",
        ):
            result = release_mod.follow_execution(
                clients, cfg, ui, started.execution_id, sleep=common.sleep
            )
        common.result_so_far(result.to_dict())
    if output == OutputFormat.json:
        if not result.failed:
            common.emit_result(result.to_dict())
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
        # In JSON the failure document carries the result (common.result_so_far).
        raise OperationError(
            f"the pipeline execution {result.status.lower()}"
            + (f" at {result.failed_action}: {result.error}" if result.failed_action else ""),
            hint=f"details: {result.link}",
        )
