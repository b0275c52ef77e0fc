"""``bluegreen destroy``: delete the pipeline, service and source stacks, in that order."""

from __future__ import annotations

from typing import Annotated

import typer

from bluegreen.aws import destroy as destroy_mod
from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import ConfigOpt, ProfileOpt, RegionOpt, YesOpt, err, out
from bluegreen.cli.deploy import StackProgress
from bluegreen.errors import OperationError, UsageError


class DestroyConsole(StackProgress):
    def __init__(self, live: bool, assume_yes: bool) -> None:
        super().__init__(live)
        self._yes = assume_yes

    def confirm(self, plan: destroy_mod.DestroyPlan) -> bool:
        for line in plan_lines(plan):
            err.print(line, markup=False)
        if self._yes:
            return True
        return typer.confirm("Delete these stacks?", default=False, err=True)


def plan_lines(plan: destroy_mod.DestroyPlan) -> list[str]:
    lines = [f"will delete, in order: {', '.join(plan.stacks)}"]
    for h in plan.to_empty():
        what = "every object version of bucket" if h.kind == "bucket" else "every image of"
        lines.append(f"  and first {what} {h.name}")
    for h in plan.holders:
        if h.retained:
            lines.append(f"  {h.name} is kept (DeletionPolicy Retain in {h.stack})")
    lines.append("  the CodeCommit repository and its history go with the source stack")
    return lines


def result_lines(result: destroy_mod.DestroyResult) -> list[str]:
    lines = []
    for o in result.outcomes:
        lines.append(f"{o.stack}: {'deleted' if o.status == 'DELETE_COMPLETE' else o.status}")
        if o.reason and o.status != "DELETE_COMPLETE":
            lines.append(f"  {o.reason}")
        for f in o.failures:
            lines.append(f"  {f.logical_id} ({f.resource_type}) {f.status}: {f.reason}")
    for h in result.left:
        kind = "bucket" if h.kind == "bucket" else "ECR repository"
        lines.append(f"left: {kind} {h.name} (retained by its stack; delete it yourself)")
    return lines


@app.command()
def destroy(
    config: ConfigOpt = None,
    yes: YesOpt = False,
    empty_bucket: Annotated[
        bool,
        typer.Option(
            "--empty-bucket",
            help="Delete every object version in the pipeline's artifact bucket first "
            "(CloudFormation cannot delete a non-empty bucket).",
        ),
    ] = False,
    delete_images: Annotated[
        bool,
        typer.Option(
            "--delete-images",
            help="Delete every image in the app and router ECR repositories first.",
        ),
    ] = False,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """Delete the pipeline, service and source stacks (reverse order) after confirmation.

    Without --empty-bucket / --delete-images a non-empty artifact bucket or image
    repository stops the destroy before anything is deleted, naming the flag to add.
    """
    cfg, _ = common.load_config(config)
    if not yes and not common.interactive():
        raise UsageError(
            "destroy needs confirmation but no terminal is attached",
            hint="pass --yes to delete without asking",
        )
    clients = common.make_clients(cfg, profile, region)
    ui = DestroyConsole(err.is_terminal, yes)
    result = destroy_mod.destroy(
        clients,
        cfg,
        ui,
        empty_bucket=empty_bucket,
        delete_images=delete_images,
        sleep=common.sleep,
    )
    for line in result_lines(result):
        out.print(line, markup=False)
    if result.cancelled:
        raise OperationError("destroy cancelled; nothing was deleted")
    if not result.ok:
        raise OperationError(
            "destroy failed; the stacks after the failed one were not deleted",
            hint="fix the reasons above and run `bluegreen destroy` again",
        )
