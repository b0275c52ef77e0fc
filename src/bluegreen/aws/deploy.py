"""``deploy``: the three stacks in order through change sets, then the links a user needs.

Behaviour follows rain: a change set named ``<stack>-<YYYYMMDDHHMMSS>`` per stack, CREATE
or UPDATE by whether the stack exists (a stack in REVIEW_IN_PROGRESS, left by an
unexecuted CREATE change set, counts as new), "no changes" is success, the changes are
shown and confirmed before anything executes, a declined change set is deleted (with
the empty stack it created). Execution is followed event by event; failed resources are
collected with their reasons for a final summary.

Between the source and the service stacks the application repository's first commit is
made (when the branch is empty), so the pipeline's first run, triggered when the
pipeline stack creates it, finds the taskdef, appspec and Dockerfiles it needs.

Large templates: CloudFormation takes at most 51,200 bytes as TemplateBody. Above that a
template must be uploaded to S3 first, which needs a bucket that exists before the
first stack. bluegreen's templates are far below the limit, so instead of a bootstrap
bucket every template's size is checked before anything is changed and an oversized one
is a clear error.

What CodeDeploy owns is never changed by CloudFormation. Once the service exists, ECS
refuses to update a CODE_DEPLOY service's task definition ("Unable to update task
definition on services with a CODE_DEPLOY deployment controller"), and CodeDeploy moves
the listeners between the target groups on every release. So before anything changes,
the service stack's deployed template is read: the new template keeps the deployed task
definition and the service's task definition (a task change reaches AWS through
taskdef.json and the next release), and a change that cannot be made in place (a
listener's port, the container and port the load balancer targets) is refused as bad
input with nothing changed.

Dry run: UPDATE change sets are created, shown and deleted. For a stack that would be
new no change set is created (a CREATE change set would itself create a stack in
REVIEW_IN_PROGRESS); the template's resources are listed as "Add" instead.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from bluegreen.aws import cfn, codecommit, console
from bluegreen.aws.cfn import Change, StackEvent
from bluegreen.aws.codecommit import FirstCommit
from bluegreen.aws.session import Clients
from bluegreen.errors import OperationError, StateError, UsageError
from bluegreen.names import Names, Outputs

if TYPE_CHECKING:
    from bluegreen.config import Config

Sleep = Callable[[float], None]
Now = Callable[[], datetime]


class DeployUI(Protocol):
    """How the deploy talks to a person: progress lines, change sets, confirmation."""

    def step(self, message: str) -> None: ...

    def changes(self, stack: str, change_set_type: str, changes: list[Change]) -> None: ...

    def confirm(self, stack: str) -> bool: ...

    def event(self, event: StackEvent) -> None: ...

    def stack_done(self, stack: str, status: str) -> None: ...


class SilentUI:
    """A UI that says nothing and approves everything (library use, scripts)."""

    def step(self, message: str) -> None:
        pass

    def changes(self, stack: str, change_set_type: str, changes: list[Change]) -> None:
        pass

    def confirm(self, stack: str) -> bool:
        return True

    def event(self, event: StackEvent) -> None:
        pass

    def stack_done(self, stack: str, status: str) -> None:
        pass


@dataclass
class StackOutcome:
    """What happened to one stack."""

    stack: str
    action: str  # create, update, no-changes, would-create, would-update, declined, failed
    status: str = ""
    reason: str = ""
    changes: list[Change] = field(default_factory=list)
    failures: list[StackEvent] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "action": self.action,
            "status": self.status,
            "reason": self.reason,
            "changes": [c.to_dict() for c in self.changes],
            "failures": [
                {
                    "logical_id": f.logical_id,
                    "type": f.resource_type,
                    "status": f.status,
                    "reason": f.reason,
                }
                for f in self.failures
            ],
        }


@dataclass
class Links:
    """Where to look once the system is up."""

    production_url: str
    test_url: str
    pipeline: str
    deployments: str

    def to_dict(self) -> dict[str, str]:
        return {
            "production_url": self.production_url,
            "test_url": self.test_url,
            "pipeline_console": self.pipeline,
            "codedeploy_console": self.deployments,
        }


@dataclass
class DeployResult:
    dry_run: bool
    stacks: list[StackOutcome] = field(default_factory=list)
    first_commit: FirstCommit | None = None
    would_commit: int = 0
    links: Links | None = None

    @property
    def failed(self) -> list[StackOutcome]:
        return [s for s in self.stacks if s.action == "failed"]

    @property
    def declined(self) -> bool:
        return any(s.action == "declined" for s in self.stacks)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.declined

    def to_dict(self) -> dict[str, Any]:
        commit: dict[str, Any] | None = None
        if self.first_commit is not None:
            commit = {
                "repository": self.first_commit.repository,
                "branch": self.first_commit.branch,
                "commits": self.first_commit.commits,
                "files": self.first_commit.files,
                "skipped": self.first_commit.skipped,
            }
        return {
            "dry_run": self.dry_run,
            "ok": self.ok,
            "stacks": [s.to_dict() for s in self.stacks],
            "first_commit": commit,
            "would_commit_files": self.would_commit,
            "links": self.links.to_dict() if self.links else None,
        }


def change_set_name(stack: str, now: datetime) -> str:
    """``<stack>-<YYYYMMDDHHMMSS>`` (UTC), rain's naming."""
    return f"{stack}-{now.astimezone(UTC).strftime('%Y%m%d%H%M%S')}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def deploy(
    clients: Clients,
    config: Config,
    root: Path,
    ui: DeployUI,
    *,
    dry_run: bool = False,
    sleep: Sleep = time.sleep,
    now: Now = _utcnow,
) -> DeployResult:
    """Create or update the source, service and pipeline stacks; see the module docstring."""
    from bluegreen import stacks as stacks_mod

    names = Names.of(config)
    built = stacks_mod.build(config)
    bodies = {s.name: s.to_yaml() for s in built}
    for name, body in bodies.items():
        _check_size(name, body)
    files = codecommit.collect_files(root, _required_files(config))

    client = clients.cloudformation
    deployed = cfn.deployed_template(client, names.service_stack)
    if deployed is not None:
        new = yaml.safe_load(bodies[names.service_stack])
        kept, notes = keep_codedeploy_owned(deployed, copy.deepcopy(new))
        if kept != new:
            body = json.dumps(kept, indent=1, sort_keys=True)
            _check_size(names.service_stack, body)
            bodies[names.service_stack] = body
        for note in notes:
            ui.step(f"{names.service_stack}: {note}")

    result = DeployResult(dry_run=dry_run)
    for s in built:
        outcome = _deploy_one(
            client, s.name, bodies[s.name], _resources(s.template), ui, dry_run, sleep, now
        )
        result.stacks.append(outcome)
        if outcome.action in ("failed", "declined"):
            return result
        if s.name == names.source_stack:
            _first_commit(clients, config, names, files, ui, result, dry_run, outcome)
    result.links = links(clients, config)
    return result


def _check_size(stack: str, body: str) -> None:
    size = len(body.encode("utf-8"))
    if size > cfn.TEMPLATE_BODY_LIMIT:
        raise OperationError(
            f"the {stack} template is {size} bytes; CloudFormation accepts at most "
            f"{cfn.TEMPLATE_BODY_LIMIT} bytes inline and bluegreen does not upload "
            "templates to S3",
            hint="nothing was changed; report this as a bug (templates should stay small)",
        )


_TASK_DEFINITION = "AWS::ECS::TaskDefinition"
_SERVICE = "AWS::ECS::Service"
_LISTENER = "AWS::ElasticLoadBalancingV2::Listener"


def keep_codedeploy_owned(
    deployed: dict[str, Any], new: dict[str, Any]
) -> tuple[dict[str, Any], list[str]]:
    """``new`` with what CodeDeploy owns kept as ``deployed`` has it, and a note for each.

    Raises UsageError (nothing changed) for a change CloudFormation cannot make to a
    CODE_DEPLOY service in place: a listener's port or protocol, or the container name
    and port the service's load balancer targets.
    """
    old = deployed.get("Resources", {})
    resources = new.get("Resources", {})
    notes: list[str] = []
    problems: list[str] = []
    for logical_id, resource in resources.items():
        before = old.get(logical_id)
        if before is None or before.get("Type") != resource.get("Type"):
            continue
        kind = resource["Type"]
        props, old_props = resource.get("Properties", {}), before.get("Properties", {})
        if kind == _TASK_DEFINITION and props != old_props:
            resources[logical_id] = before
            notes.append(
                f"{logical_id} kept as deployed: CodeDeploy owns the task definition, so "
                "the task change reaches AWS through taskdef.json and the next release "
                "(`bluegreen verify` lists what taskdef.json must say)"
            )
        elif kind == _SERVICE:
            if props.get("LoadBalancers") != old_props.get("LoadBalancers"):
                problems.append(
                    f"{logical_id}: the container name or port the load balancer targets "
                    "(app.name, app.port)"
                )
            if props.get("TaskDefinition") != old_props.get("TaskDefinition"):
                props["TaskDefinition"] = old_props.get("TaskDefinition")
        elif kind == _LISTENER:
            for key in ("Port", "Protocol"):
                if props.get(key) != old_props.get(key):
                    problems.append(
                        f"{logical_id}: its {key.lower()} {old_props.get(key)} -> "
                        f"{props.get(key)} (listeners.production_port, listeners.test_port)"
                    )
            if props.get("DefaultActions") != old_props.get("DefaultActions"):
                # CodeDeploy points the listeners at blue or green on every release.
                props["DefaultActions"] = old_props.get("DefaultActions")
    if problems:
        raise UsageError(
            "the config changes what a CODE_DEPLOY service cannot change in place:\n"
            + "\n".join(f"  {p}" for p in problems),
            hint="nothing was changed; revert those settings, or recreate the service: "
            "`bluegreen destroy` then `bluegreen deploy`",
        )
    return new, notes


def _required_files(config: Config) -> list[str]:
    try:
        from bluegreen import appkit
    except ImportError:  # the scaffold module is optional for operating
        return []
    render = getattr(appkit, "render", None)
    if render is None:
        return []
    return sorted(render(config))


def _resources(template: Any) -> list[Change]:
    data = template.to_dict() if hasattr(template, "to_dict") else dict(template)
    return [
        Change("Add", logical_id, str(body.get("Type", "")), "")
        for logical_id, body in data.get("Resources", {}).items()
    ]


def _deploy_one(
    client: Any,
    stack: str,
    body: str,
    resources: list[Change],
    ui: DeployUI,
    dry_run: bool,
    sleep: Sleep,
    now: Now,
) -> StackOutcome:
    existing = cfn.describe_stack(client, stack)
    status = existing["StackStatus"] if existing else ""
    if status == "ROLLBACK_COMPLETE":
        # A create that failed and rolled back cannot be updated; it must be recreated.
        if dry_run:
            ui.step(f"{stack}: ROLLBACK_COMPLETE after a failed create; it would be recreated")
            ui.changes(stack, "CREATE", resources)
            return StackOutcome(stack, "would-create", status, changes=resources)
        ui.step(f"{stack}: deleting the stack left by a failed create (ROLLBACK_COMPLETE)")
        assert existing is not None
        tail = cfn.EventTail(client, existing["StackId"], stack)
        tail.mark()
        cfn.delete_stack(client, existing["StackId"])
        final, reason, failures = cfn.wait_stack(
            client, existing["StackId"], tail, ui.event, sleep=sleep
        )
        ui.stack_done(stack, final)
        if final != "DELETE_COMPLETE":
            return StackOutcome(stack, "failed", final, reason, failures=failures)
        existing, status = None, ""
    elif status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise StateError(
            f"stack {stack} is busy ({status})",
            hint="wait for the running operation to finish (bluegreen status, or the "
            "CloudFormation console), then deploy again",
        )
    elif status in ("UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "ROLLBACK_FAILED"):
        raise StateError(
            f"stack {stack} is {status} and cannot be updated",
            hint="fix the resource named in its events, then continue the rollback "
            "(aws cloudformation continue-update-rollback) or run bluegreen destroy",
        )
    is_new = existing is None or status == "REVIEW_IN_PROGRESS"
    kind = "CREATE" if is_new else "UPDATE"

    if dry_run and is_new:
        ui.step(f"{stack}: would be created ({len(resources)} resources)")
        ui.changes(stack, kind, resources)
        return StackOutcome(stack, "would-create", status, changes=resources)

    name = change_set_name(stack, now())
    ui.step(f"{stack}: creating change set {name} ({kind})")
    change_set_id, _ = cfn.create_change_set(client, stack, name, kind, body)
    computed = cfn.wait_change_set(client, change_set_id, sleep=sleep)

    if computed.status == "FAILED":
        cfn.delete_change_set(client, change_set_id)
        if is_new:
            _delete_empty_stack(client, stack)
        if computed.no_changes:
            ui.step(f"{stack}: no changes")
            return StackOutcome(stack, "no-changes", status)
        return StackOutcome(
            stack, "failed", "FAILED", f"change set {name} failed: {computed.reason}"
        )

    ui.changes(stack, kind, computed.changes)
    if dry_run:
        cfn.delete_change_set(client, change_set_id)
        return StackOutcome(stack, "would-update", status, changes=computed.changes)
    if not ui.confirm(stack):
        cfn.delete_change_set(client, change_set_id)
        if is_new:
            _delete_empty_stack(client, stack)
        ui.step(f"{stack}: change set {name} declined and deleted")
        return StackOutcome(stack, "declined", status, changes=computed.changes)

    tail = cfn.EventTail(client, computed.stack_id or stack, stack)
    tail.mark()
    cfn.execute_change_set(client, change_set_id)
    final, reason, failures = cfn.wait_stack(
        client, computed.stack_id or stack, tail, ui.event, sleep=sleep
    )
    ui.stack_done(stack, final)
    action = "create" if is_new else "update"
    if final not in cfn.SUCCEEDED:
        return StackOutcome(stack, "failed", final, reason, computed.changes, failures)
    return StackOutcome(stack, action, final, reason, computed.changes, failures)


def _delete_empty_stack(client: Any, stack: str) -> None:
    """Delete a stack that only a never-executed CREATE change set created."""
    described = cfn.describe_stack(client, stack)
    if described is not None and described["StackStatus"] == "REVIEW_IN_PROGRESS":
        cfn.delete_stack(client, described["StackId"])


def _first_commit(
    clients: Clients,
    config: Config,
    names: Names,
    files: list[codecommit.RepoFile],
    ui: DeployUI,
    result: DeployResult,
    dry_run: bool,
    source: StackOutcome,
) -> None:
    repository = names.codecommit_repository
    branch = config.source.branch
    if dry_run:
        empty = source.action == "would-create" or (
            codecommit.branch_head(clients.codecommit, repository, branch) is None
        )
        if empty:
            result.would_commit = len(files)
        if result.would_commit:
            ui.step(f"{repository}: would commit {len(files)} files to the empty branch {branch}")
        return
    done = codecommit.commit_if_empty(clients.codecommit, repository, branch, files)
    result.first_commit = done
    if done.commits:
        ui.step(
            f"{repository}: committed {done.files} files to {branch} "
            f"({len(done.commits)} commit{'s' if len(done.commits) > 1 else ''})"
        )
    elif done.skipped:
        ui.step(f"{repository}: no commit made: {done.skipped}")


def links(clients: Clients, config: Config) -> Links | None:
    """URLs and console links from the stacks' outputs (None until the service exists)."""
    names = Names.of(config)
    client = clients.cloudformation
    service = cfn.outputs(client, names.service_stack)
    if not service:
        return None
    pipeline = cfn.outputs(client, names.pipeline_stack)
    dns = service.get(Outputs.LOAD_BALANCER_DNS, "")
    production = service.get(Outputs.PRODUCTION_URL) or _url(dns, config.listeners.production_port)
    test = service.get(Outputs.TEST_URL) or _url(dns, config.listeners.test_port)
    region = clients.region
    return Links(
        production_url=production,
        test_url=test,
        pipeline=console.pipeline(region, pipeline.get(Outputs.PIPELINE_NAME, names.pipeline)),
        deployments=console.deployment_group(
            region,
            pipeline.get(Outputs.CODEDEPLOY_APPLICATION, names.codedeploy_application),
            pipeline.get(Outputs.DEPLOYMENT_GROUP, names.deployment_group),
        ),
    )


def _url(dns: str, port: int) -> str:
    if not dns:
        return ""
    return f"http://{dns}" if port == 80 else f"http://{dns}:{port}"
