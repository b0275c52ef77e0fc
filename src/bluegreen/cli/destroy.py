"""``bluegreen destroy``: delete the pipeline, service and source stacks, in that order."""

from __future__ import annotations

from typing import Annotated

import typer

from bluegreen.aws import destroy as destroy_mod
from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import (
    ConfigOpt,
    OutputFormat,
    OutputOpt,
    ProfileOpt,
    RegionOpt,
    YesOpt,
    err,
    json_with_error,
    out,
)
from bluegreen.cli.deploy import (
    StackProgress,
    resume_command,
    stopped_lines,
    with_command,
)
from bluegreen.errors import BluegreenError, Interrupted, OperationError, UsageError


class DestroyConsole(StackProgress):
    def __init__(self, live: bool, assume_yes: bool) -> None:
        super().__init__(live)
        self._yes = assume_yes

    def __enter__(self) -> DestroyConsole:
        return self

    def confirm(self, plan: destroy_mod.DestroyPlan) -> bool:
        for line in plan_lines(plan):
            err.print(line, markup=False)
        if self._yes:
            return True
        return self.ask(f"Delete these in {plan.region}?" if plan.region else "Delete these?")


def plan_lines(plan: destroy_mod.DestroyPlan) -> list[str]:
    lines = []
    if plan.stacks:
        where = f" in {plan.region}" if plan.region else ""
        lines.append(f"will delete{where}, in order: {', '.join(plan.stacks)}")
    for h in plan.to_empty():
        what = "every object version of bucket" if h.kind == "bucket" else "every image of"
        lines.append(f"  and first {what} {h.name}")
    for h in plan.holders:
        if h.retained:
            lines.append(f"  {h.name} is kept (DeletionPolicy Retain in {h.stack})")
    if plan.stacks and plan.stacks[-1].endswith("-source"):
        lines.append("  the CodeCommit repository and its history go with the source stack")
    after = []
    if plan.revisions:
        after.append(f"the {plan.revisions} task-definition revisions of family {plan.family}")
    if plan.log_group:
        after.append(f"the Container Insights log group {plan.log_group}")
    if after:
        lines.append(f"  then {' and '.join(after)} (made outside the stacks)")
    return lines


def result_lines(result: destroy_mod.DestroyResult) -> list[str]:
    lines = []
    for o in result.outcomes:
        lines.append(f"{o.stack}: {'deleted' if o.status == 'DELETE_COMPLETE' else o.status}")
        if o.reason and o.status != "DELETE_COMPLETE":
            lines.append(f"  {o.reason}")
        for f in o.failures:
            lines.append(f"  {f.logical_id} ({f.resource_type}) {f.status}: {f.reason}")
    cleanup = result.cleanup
    if cleanup is not None and result.plan is not None:
        if cleanup.deregistered or cleanup.deleted:
            lines.append(
                f"{result.plan.family}: {cleanup.deregistered} task-definition revisions "
                f"deregistered, {cleanup.deleted} deleted"
            )
        if cleanup.log_group_deleted:
            lines.append(f"{cleanup.log_group_deleted}: deleted")
    for h in result.left:
        kind = "bucket" if h.kind == "bucket" else "ECR repository"
        lines.append(f"left: {kind} {h.name} (retained by its stack; delete it yourself)")
    if cleanup is not None:
        lines += [f"left: {item}" for item in cleanup.left]
        # ECS developer guide, "Using service-linked roles for Amazon ECS": one role per
        # account, used by every ECS cluster and service in it.
        lines += [
            f"kept on purpose: {role}, the ECS service-linked role every ECS service in the "
            "account shares (delete it only once the account runs nothing on ECS)"
            for role in cleanup.kept
        ]
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
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """Delete the pipeline, service and source stacks (reverse order) after confirmation.

    Without --empty-bucket / --delete-images a non-empty artifact bucket or image
    repository stops the destroy before anything is deleted, naming the flag to add.
    Afterwards the task-definition revisions the pipeline registered and the Container
    Insights log group are removed too; the ECS service-linked role is kept on purpose
    (the whole account shares it). Ctrl-C says what was left and how to continue (exit
    130). With --output json: what was deleted, emptied, cleaned up and left as one
    document (progress and the plan stay on stderr).
    """
    cfg, _ = common.load_config(config)
    if not yes and not common.interactive():
        raise UsageError(
            "destroy needs confirmation but no terminal is attached",
            hint="pass --yes to delete without asking",
        )
    clients = common.make_clients(cfg, profile, region)
    command = resume_command("destroy", config, profile, region, yes=yes)
    result = destroy_mod.DestroyResult()
    try:
        with DestroyConsole(err.is_terminal, yes) as ui:
            destroy_mod.destroy(
                clients,
                cfg,
                ui,
                empty_bucket=empty_bucket,
                delete_images=delete_images,
                result=result,
                sleep=common.sleep,
            )
    except (KeyboardInterrupt, Interrupted):
        _stopped(result, None, command, output)
        raise Interrupted(reported=True) from None
    except BluegreenError as exc:
        _stopped(result, exc, command, output)
        raise
    error: OperationError | None = None
    if result.cancelled:
        error = OperationError("destroy cancelled; nothing was deleted")
    elif not result.ok:
        error = OperationError(
            "destroy failed; the stacks after the failed one were not deleted",
            hint="fix the reasons above and run `bluegreen destroy` again",
        )
    if output == OutputFormat.json:
        if error is None:
            common.emit_result(result.to_dict())
        else:
            common.emit_json(json_with_error(result.to_dict(), error))
    else:
        for line in result_lines(result):
            out.print(line, markup=False)
    if error is not None:
        raise error


def _stopped(
    result: destroy_mod.DestroyResult,
    error: BluegreenError | None,
    command: str,
    output: OutputFormat,
) -> None:
    """What was deleted so far, what was in flight, and the command that continues."""
    if output == OutputFormat.text and result.changed_anything:
        for line in result_lines(result):
            out.print(line, markup=False)
    for line in stopped_lines(
        result.in_flight,
        command,
        error is None,
        resume=destroy_mod.RESUME,
        changed=result.changed_anything,
    ):
        err.print(line, markup=False)
    if error is not None and result.changed_anything and result.in_flight is None:
        resume = with_command(destroy_mod.RESUME, command)
        error.hint = f"{error.hint}; {resume}" if error.hint else resume
    if output == OutputFormat.json:
        common.emit_json(json_with_error(result.to_dict(), error))
