"""``deploy``: the three stacks in order through change sets, then the links a user needs.

Behaviour follows rain: a change set named ``<stack>-<YYYYMMDDHHMMSS>`` per stack, CREATE
or UPDATE by whether the stack exists (a stack in REVIEW_IN_PROGRESS, left by an
unexecuted CREATE change set, counts as new), "no changes" is success, the changes are
shown and confirmed before anything executes, a declined change set is deleted (with
the empty stack it created). Execution is followed event by event; failed resources are
collected with their reasons for a final summary.

Look first, then change. Before the first change set every refusal that can be known is
made, so bad input changes nothing: the templates' sizes; every stack's state (busy or
``*_FAILED`` is refused); CodeCommit's availability (:mod:`bluegreen.aws.preflight`);
the files of the first commit when one will be made (:mod:`bluegreen.aws.codecommit`:
.gitignore honoured, secrets, empty and oversized files refused); and, once the service
exists, what a stack update may not change (:mod:`bluegreen.aws.owned`: the service is
kept as deployed, its desired count, health check grace period and deployment
configuration are applied with ecs:UpdateService after the stacks, and a change that
would replace what it depends on is refused).

A GitHub, GitLab or Bitbucket source (``source.provider``) is read through an AWS
CodeConnections connection whose ARN is given at deploy time (:mod:`bluegreen.aws.
connection`: ``--connection-arn``, or the one the pipeline stack already holds); it is
looked at before anything changes (its shape, that it exists, its provider, that it is
AVAILABLE) and passed to the pipeline stack as its ConnectionArn parameter. The
repository lives with that provider: deploy makes no CodeCommit repository and no first
commit, and the pipeline's first run reads the branch the user pushed there.

Between the source and the service stacks the application repository's first commit is
made (when the branch is empty; CodeCommit source), so the pipeline's first run, triggered when the
pipeline stack creates it, finds the taskdef, appspec and Dockerfiles it needs. Before
the service stack the ECS service-linked role is created when the account has none.

Large templates: CloudFormation takes at most 51,200 bytes as TemplateBody. Above that a
template must be uploaded to S3 first, which needs a bucket that exists before the
first stack. bluegreen's templates are far below the limit, so instead of a bootstrap
bucket every template's size is checked before anything is changed and an oversized one
is a clear error.

The run is recorded in a :class:`DeployResult` the caller may pass in: it holds what was
done so far and what is in flight (:class:`InFlight`), so an interrupted or failed run
can say what it left and how to continue.

Dry run: UPDATE change sets are created, shown and deleted. For a stack that would be
new no change set is created (a CREATE change set would itself create a stack in
REVIEW_IN_PROGRESS); the template's resources are listed as "Add" instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import yaml

from bluegreen.aws import cfn, codecommit, console, ecs, owned, pipeline, preflight
from bluegreen.aws import connection as connection_mod
from bluegreen.aws.cfn import Change, StackEvent
from bluegreen.aws.codecommit import FirstCommit
from bluegreen.aws.errors import call
from bluegreen.aws.session import Clients
from bluegreen.errors import OperationError, RepositoryError, StateError
from bluegreen.names import Names, Outputs

if TYPE_CHECKING:
    from bluegreen.config import Config

Sleep = Callable[[float], None]
Now = Callable[[], datetime]

RESUME = "run `bluegreen deploy` again to continue"


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
    hint: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "stack": self.stack,
            "action": self.action,
            "status": self.status,
            "reason": self.reason,
            "hint": self.hint or None,
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
class OutOfBand:
    """A service setting applied with ecs:UpdateService instead of CloudFormation."""

    setting: str  # the AWS::ECS::Service property
    parameter: str  # its UpdateService parameter
    current: Any
    wanted: Any
    applied: bool = False

    @property
    def label(self) -> str:
        return {
            "DesiredCount": "desired count (task.desired_count)",
            "HealthCheckGracePeriodSeconds": "health check grace period",
            "DeploymentConfiguration": "deployment configuration (deployment.*)",
        }.get(self.setting, self.setting)

    @property
    def change(self) -> str:
        """``<label> <current> -> <wanted>``; a structure names only what changes."""
        if isinstance(self.wanted, dict):
            return f"{self.label}: " + ", ".join(
                owned.changes(self.current, self.wanted) or ["(unchanged)"]
            )
        return f"{self.label} {self.current} -> {self.wanted}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "setting": self.setting,
            "parameter": self.parameter,
            "current": self.current,
            "wanted": self.wanted,
            "applied": self.applied,
        }


@dataclass
class InFlight:
    """What the run was doing when it stopped, and how to continue from there."""

    subject: str  # a stack, repository or role
    state: str
    resume: str = RESUME

    def to_dict(self) -> dict[str, str]:
        return {"subject": self.subject, "state": self.state, "resume": self.resume}


@dataclass
class DeployResult:
    dry_run: bool
    stacks: list[StackOutcome] = field(default_factory=list)
    first_commit: FirstCommit | None = None
    would_commit: list[str] = field(default_factory=list)
    links: Links | None = None
    notes: list[str] = field(default_factory=list)
    service_linked_role: str = ""  # exists, missing, created, would-create
    out_of_band: list[OutOfBand] = field(default_factory=list)
    in_flight: InFlight | None = None
    connection: connection_mod.Connection | None = None

    @property
    def failed(self) -> list[StackOutcome]:
        return [s for s in self.stacks if s.action == "failed"]

    @property
    def declined(self) -> bool:
        return any(s.action == "declined" for s in self.stacks)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.declined

    @property
    def changed_anything(self) -> bool:
        """Whether the run got past its checks (something may have changed)."""
        return bool(self.stacks) or self.in_flight is not None

    def created(self, stack: str) -> bool:
        return any(s.stack == stack and s.action == "create" for s in self.stacks)

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
            "would_commit_files": len(self.would_commit),
            "would_commit": self.would_commit,
            "notes": self.notes,
            "service_linked_role": self.service_linked_role or None,
            "out_of_band": [o.to_dict() for o in self.out_of_band],
            "in_flight": self.in_flight.to_dict() if self.in_flight else None,
            "connection": (
                {
                    "arn": self.connection.arn,
                    "name": self.connection.name,
                    "provider": self.connection.provider,
                    "status": self.connection.status,
                    "from": self.connection.source,
                }
                if self.connection
                else None
            ),
            "links": self.links.to_dict() if self.links else None,
        }


def change_set_name(stack: str, now: datetime) -> str:
    """``<stack>-<YYYYMMDDHHMMSS>`` (UTC), rain's naming."""
    return f"{stack}-{now.astimezone(UTC).strftime('%Y%m%d%H%M%S')}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


_NOT_LIVE = ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "DELETE_COMPLETE")
_FAILED = ("UPDATE_ROLLBACK_FAILED", "DELETE_FAILED", "ROLLBACK_FAILED")


def _live(stack: dict[str, Any] | None) -> bool:
    """Whether the stack's resources exist (not absent, empty or rolled back)."""
    return stack is not None and stack["StackStatus"] not in _NOT_LIVE


def _refuse_unusable(name: str, stack: dict[str, Any] | None, region: str) -> None:
    status = stack["StackStatus"] if stack else ""
    if status.endswith("_IN_PROGRESS") and status != "REVIEW_IN_PROGRESS":
        raise StateError(
            f"stack {name} in {region} is busy ({status})",
            hint="wait for the running operation to finish (bluegreen status, or the "
            "CloudFormation console), then deploy again; nothing was changed",
        )
    if status in _FAILED:
        raise StateError(
            f"stack {name} in {region} is {status} and cannot be updated",
            hint="fix the resource named in its events, then continue the rollback "
            "(aws cloudformation continue-update-rollback) or run bluegreen destroy; "
            "nothing was changed",
        )


def deploy(
    clients: Clients,
    config: Config,
    root: Path,
    ui: DeployUI,
    *,
    dry_run: bool = False,
    allow_secrets: bool = False,
    result: DeployResult | None = None,
    sleep: Sleep = time.sleep,
    now: Now = _utcnow,
    connection_arn: str | None = None,
) -> DeployResult:
    """Create or update the source, service and pipeline stacks; see the module docstring.

    ``result``, when given, is filled in as the run goes, so the caller still has it
    when the run raises (an AWS error, Ctrl-C). ``connection_arn``: the CodeConnections
    connection of a GitHub, GitLab or Bitbucket source (``--connection-arn``).
    """
    from bluegreen import stacks as stacks_mod

    run = _Run(clients, config, ui, result or DeployResult(dry_run), dry_run, sleep, now)
    run.result.dry_run = dry_run
    names = run.names
    built = stacks_mod.build(config)
    bodies = {s.name: s.to_yaml() for s in built}
    for name, body in bodies.items():
        _check_size(name, body)

    # ---- look: every refusal that can be known before anything changes -----------------
    client = clients.cloudformation
    found = {name: cfn.describe_stack(client, name) for name in names.stacks}
    for name, stack in found.items():
        _refuse_unusable(name, stack, clients.region)
    run.look_at_connection(connection_arn)
    files = run.look_at_source(root, found[names.source_stack], allow_secrets)
    run.look_at_hooks(root)
    bodies[names.service_stack] = run.look_at_service(
        found[names.service_stack], bodies[names.service_stack]
    )

    # ---- change --------------------------------------------------------------------------
    for s in built:
        if s.name == names.service_stack and not dry_run:
            # What the service's settings stop naming (the verify hook when [verify]
            # checks are removed) leaves them before the stack update may delete it, so
            # no deployment meanwhile invokes a deleted function; the rest is set after
            # the stacks (what names the update's new resources: resolve_out_of_band).
            run.apply_out_of_band(dropping_only=True)
        outcome = run.deploy_one(s.name, bodies[s.name], _resources(s.template))
        run.result.stacks.append(outcome)
        if outcome.action in ("failed", "declined"):
            return run.result
        if s.name == names.source_stack:
            run.first_commit(files)
        if s.name == names.service_stack:
            run.resolve_out_of_band()
        if s.name == names.pipeline_stack and not dry_run:
            open_branch_checks(clients, config, ui)
    run.apply_out_of_band()
    run.result.links = links(clients, config)
    return run.result


class _Run:
    """One deploy: the clients, the UI, the record, and the steps that fill it."""

    def __init__(
        self,
        clients: Clients,
        config: Config,
        ui: DeployUI,
        result: DeployResult,
        dry_run: bool,
        sleep: Sleep,
        now: Now,
    ) -> None:
        self.clients = clients
        self.config = config
        self.names = Names.of(config)
        self.ui = ui
        self.result = result
        self.dry_run = dry_run
        self.sleep = sleep
        self.now = now
        self.commit_needed = True
        self.controller = ""
        """The live service's deployment controller (its deployed template), if it exists."""
        self.service_template: dict[str, Any] | None = None
        """The service stack's new template (parsed), when the service is live."""
        self.creating_service = False
        """The service stack is being created by this run, and its first deployment has
        not been seen past its pause yet (:meth:`settle_creation`)."""

    def waiting(self, seconds: float) -> None:
        """The sleep between CloudFormation polls: while the service is being created,
        its creation deployment is continued at its pause (:meth:`settle_creation`)."""
        self.settle_creation()
        self.sleep(seconds)

    def settle_creation(self) -> None:
        """Continue the service's creation when the engine makes it a deployment that
        waits for reroute (DeploymentEngine.continue_creation: ECS's PAUSE hook holds
        the service's first deployment too, and CloudFormation's create may wait on it):
        nothing serves production yet. Tried on every poll of this run's stacks from the
        service stack's creation on, until it is done."""
        if not self.creating_service or self.dry_run:
            return
        from bluegreen import engine as engine_mod

        engine = engine_mod.creation_engine(self.clients, self.config)
        if engine is None:
            return  # ECS does not describe the service yet
        if not engine.creation_deploys:
            self.creating_service = False
            return
        action = engine.continue_creation()
        if action is not None:
            self.creating_service = False
            self.ui.step(f"{self.names.service}: {action.message}")

    # ---- look ----------------------------------------------------------------------------

    def look_at_connection(self, given: str | None) -> None:
        """The connection of a GitHub, GitLab or Bitbucket source (exit 2 for a bad or
        missing ARN, exit 1 for a connection not AVAILABLE); nothing for CodeCommit."""
        resolved = connection_mod.resolve(self.clients, self.config, given)
        if resolved is None:
            return
        found = connection_mod.check(self.clients, self.config, *resolved)
        self.result.connection = found
        where = "given" if found.source == "flag" else "the pipeline stack's"
        self.ui.step(
            f"connection {found.name} ({found.provider}, {where}): {found.status}; the "
            f"pipeline reads {self.config.source.full_repository_id} through it"
        )

    def look_at_source(
        self, root: Path, source: dict[str, Any] | None, allow_secrets: bool
    ) -> list[codecommit.RepoFile]:
        """CodeCommit's availability and, when a first commit will be made, its files."""
        names, branch = self.names, self.config.source.branch
        if self.config.source.provider != "codecommit":
            # The repository is the provider's: bluegreen neither creates nor commits to it
            # (first_commit says so without asking whether a commit is needed).
            return []
        if _live(source):
            head = codecommit.branch_head(
                self.clients.codecommit, names.codecommit_repository, branch
            )
            self.commit_needed = head is None
        else:
            note = preflight.codecommit_note(self.clients.codecommit, self.clients.region)
            if note:
                self.result.notes.append(note)
                self.ui.step(f"note: {note}")
        if not self.commit_needed:
            return []
        files = codecommit.collect_files(
            root, _required_files(self.config), allow_secrets=allow_secrets
        )
        self.check_repository(root)
        return files

    def look_at_hooks(self, root: Path) -> None:
        """Refuse [verify] checks that releases would never run: the repository's
        appspec.yml does not name the verify function under Hooks, or names it while
        there are no checks, so no function (checked on every
        deploy, not only the first commit's: checks added to a running system need the
        entry pushed too). Exit 2, nothing changed."""
        from bluegreen import appkit

        problems = appkit.hook_problems(root, self.config)
        if problems:
            raise RepositoryError(
                "\n".join(problems),
                hint="nothing was changed; change appspec.yml as said (and push it), "
                "then run deploy again",
                problems=RepositoryError.pairs(problems),
            )

    def check_repository(self, root: Path) -> None:
        """Refuse a first commit whose files ``bluegreen verify`` would fail (bad
        taskdef.json, buildspec, wiring, an account id): deploy makes that commit once and
        never again, and the first release would fail on it."""
        from bluegreen import verify

        problems = [p for c in verify.repository_checks(self.config, root) for p in c.problems]
        if problems:
            raise RepositoryError(
                f"the repository in {root} is not ready to be the first commit:\n"
                + "\n".join(f"  {p}" for p in problems),
                hint="nothing was changed; fix the files named above (`bluegreen verify` "
                "checks them offline), then run deploy again",
            )

    def look_at_service(self, service: dict[str, Any] | None, body: str) -> str:
        """The service stack's body with what CodeDeploy owns kept; the role check."""
        names = self.names
        if not _live(service):
            exists = preflight.ecs_role_exists(self.clients.iam)
            self.result.service_linked_role = "exists" if exists else "missing"
            return body
        deployed = cfn.deployed_template(self.clients.cloudformation, names.service_stack)
        if deployed is None:
            return body
        new = yaml.safe_load(body)
        self.service_template = new
        kept = owned.keep_codedeploy_owned(deployed, new, self.clients.region)
        self.controller = next(
            (
                owned.service_controller(r)
                for r in deployed.get("Resources", {}).values()
                if r.get("Type") == owned.SERVICE
            ),
            "",
        )
        for note in kept.notes:
            self.ui.step(f"{names.service_stack}: {note}")
        if kept.out_of_band:
            live = ecs.describe_service(self.clients.ecs, names.cluster, names.service)
            outputs = cfn.outputs_of(service)
            for setting, value in kept.out_of_band.items():
                parameter = owned.OUT_OF_BAND[setting]
                # What it names of the stack (the verify hook's ARN) as the deployed
                # stack's outputs say; what this update makes is read after it
                # (resolve_out_of_band).
                wanted = owned.update_value(setting, owned.resolve(value, outputs))
                current = live.get(parameter) if live is not None else None
                if live is not None and owned.differs(current, wanted):
                    self.result.out_of_band.append(OutOfBand(setting, parameter, current, wanted))
        if kept.template == new:
            return body
        kept_body = json.dumps(kept.template, indent=1, sort_keys=True)
        _check_size(names.service_stack, kept_body)
        return kept_body

    # ---- change ----------------------------------------------------------------------------

    def deploy_one(self, stack: str, body: str, resources: list[Change]) -> StackOutcome:
        client, ui, region = self.clients.cloudformation, self.ui, self.clients.region
        existing = cfn.describe_stack(client, stack)
        status = existing["StackStatus"] if existing else ""
        if status == "ROLLBACK_COMPLETE":
            # A create that failed and rolled back cannot be updated; it must be recreated.
            if self.dry_run:
                ui.step(f"{stack}: ROLLBACK_COMPLETE after a failed create; it would be recreated")
                self.would_create_role(stack)
                ui.changes(stack, "CREATE", resources)
                return StackOutcome(stack, "would-create", status, changes=resources)
            ui.step(f"{stack}: deleting the stack left by a failed create (ROLLBACK_COMPLETE)")
            assert existing is not None
            self.result.in_flight = InFlight(
                stack,
                "CloudFormation keeps deleting the stack left by a failed create "
                f"({console.stack(region, existing['StackId'])})",
                f"wait for the deletion to finish, then {RESUME}",
            )
            tail = cfn.EventTail(client, existing["StackId"], stack)
            tail.mark()
            cfn.delete_stack(client, existing["StackId"])
            final, reason, failures = cfn.wait_stack(
                client, existing["StackId"], tail, ui.event, sleep=self.sleep
            )
            ui.stack_done(stack, final)
            self.result.in_flight = None
            if final != "DELETE_COMPLETE":
                return StackOutcome(stack, "failed", final, reason, failures=failures)
            existing, status = None, ""
        _refuse_unusable(stack, existing, region)
        is_new = existing is None or status == "REVIEW_IN_PROGRESS"
        kind = "CREATE" if is_new else "UPDATE"

        if self.dry_run and is_new:
            ui.step(f"{stack}: would be created ({len(resources)} resources)")
            self.would_create_role(stack)
            ui.changes(stack, kind, resources)
            return StackOutcome(stack, "would-create", status, changes=resources)

        name = change_set_name(stack, self.now())
        left = "stack REVIEW_IN_PROGRESS" if is_new else f"stack {status}"
        ui.step(f"{stack}: creating change set {name} ({kind})")
        self.result.in_flight = InFlight(
            stack,
            f"change set {name} ({kind}) being created, not executed; {left}",
            f"{RESUME} (it makes a new change set)",
        )
        parameters = (
            connection_mod.parameters(self.result.connection)
            if stack == self.names.pipeline_stack
            else []
        )
        change_set_id, _ = cfn.create_change_set(client, stack, name, kind, body, parameters)
        computed = cfn.wait_change_set(client, change_set_id, sleep=self.sleep)

        if computed.status == "FAILED":
            cfn.delete_change_set(client, change_set_id)
            if is_new:
                _delete_empty_stack(client, stack)
            self.result.in_flight = None
            if computed.no_changes:
                ui.step(f"{stack}: no changes")
                return StackOutcome(stack, "no-changes", status)
            return StackOutcome(
                stack, "failed", "FAILED", f"change set {name} failed: {computed.reason}"
            )

        self.result.in_flight = InFlight(
            stack,
            f"change set {name} AVAILABLE, not executed; {left}",
            f"{RESUME} (it makes a new change set)",
        )
        ui.changes(stack, kind, computed.changes)
        if self.dry_run:
            cfn.delete_change_set(client, change_set_id)
            self.result.in_flight = None
            return StackOutcome(stack, "would-update", status, changes=computed.changes)
        if not ui.confirm(stack):
            cfn.delete_change_set(client, change_set_id)
            deleted = ""
            if is_new and _delete_empty_stack(client, stack):
                deleted = " with the empty stack it created"
            self.result.in_flight = None
            ui.step(f"{stack}: change set {name} declined and deleted{deleted}")
            return StackOutcome(stack, "declined", status, changes=computed.changes)

        self.ensure_role(stack)
        stack_id = computed.stack_id or stack
        tail = cfn.EventTail(client, stack_id, stack)
        tail.mark()
        link = console.stack(region, stack_id)
        after = f"wait for it to finish (`bluegreen status`, or the console), then {RESUME}"
        self.result.in_flight = InFlight(
            stack,
            f"change set {name} sent for execution; CloudFormation may run it ({link})",
            after,
        )
        cfn.execute_change_set(client, change_set_id)
        self.result.in_flight = InFlight(
            stack,
            f"CloudFormation keeps executing change set {name} without bluegreen ({link})",
            after,
        )
        if is_new and stack == self.names.service_stack:
            self.creating_service = True
        final, reason, failures = cfn.wait_stack(
            client, stack_id, tail, ui.event, sleep=self.waiting
        )
        self.result.in_flight = None
        ui.stack_done(stack, final)
        action = "create" if is_new else "update"
        if final not in cfn.SUCCEEDED:
            hint = ""
            if stack == self.names.source_stack:
                hint = preflight.codecommit_refusal([reason] + [f.reason for f in failures])
            return StackOutcome(
                stack, "failed", final, reason, computed.changes, failures, hint=hint
            )
        return StackOutcome(stack, action, final, reason, computed.changes, failures)

    def would_create_role(self, stack: str) -> None:
        if stack == self.names.service_stack and self.result.service_linked_role == "missing":
            self.result.service_linked_role = "would-create"
            self.ui.step(
                f"would create the ECS service-linked role {preflight.ECS_SERVICE_LINKED_ROLE} "
                "(this account has none yet; ECS needs it for the cluster and the service)"
            )

    def ensure_role(self, stack: str) -> None:
        """Create the ECS service-linked role before the service stack, when missing."""
        if stack != self.names.service_stack or self.result.service_linked_role != "missing":
            return
        role = preflight.ECS_SERVICE_LINKED_ROLE
        self.result.in_flight = InFlight(role, "being created (iam:CreateServiceLinkedRole)")
        made = preflight.create_ecs_role(self.clients.iam, self.sleep)
        self.result.service_linked_role = "created" if made else "exists"
        self.result.in_flight = None
        if made:
            self.ui.step(
                f"created the ECS service-linked role {role} (this account had none; "
                "ECS needs it for the cluster and the service)"
            )
        else:
            self.ui.step(f"the ECS service-linked role {role} was just created by someone else")

    def first_commit(self, files: list[codecommit.RepoFile]) -> None:
        names, config, ui = self.names, self.config, self.ui
        repository = names.codecommit_repository
        branch = config.source.branch
        if config.source.provider != "codecommit":
            if self.dry_run:
                return
            ui.step(
                f"no commit made: the application repository is "
                f"{config.source.full_repository_id} on {config.source.provider}; the "
                f"pipeline's runs read its {branch} branch (push to it to release)"
            )
            return
        if not self.commit_needed:
            self.result.first_commit = FirstCommit(
                repository, branch, [], 0, skipped="the branch already has commits"
            )
            return
        if self.dry_run:
            self.result.would_commit = [f.path for f in files]
            ui.step(f"{repository}: would commit {len(files)} files to the empty branch {branch}")
            return
        self.result.in_flight = InFlight(
            repository,
            f"the first commit to {branch} was being made (CreateCommit makes it whole or "
            "not at all)",
            f"{RESUME} (it commits if {branch} is still empty)",
        )
        done = codecommit.commit_if_empty(self.clients.codecommit, repository, branch, files)
        self.result.in_flight = None
        self.result.first_commit = done
        if done.commits:
            ui.step(f"{repository}: committed {done.files} files to {branch} (one commit)")
        elif done.skipped:
            ui.step(f"{repository}: no commit made: {done.skipped}")

    def resolve_out_of_band(self) -> None:
        """Once the service stack is updated: what the out-of-band settings name of it
        (the verify hook and the role ECS invokes it with, new in this update) from its
        outputs; a setting then equal to the live one is dropped (nothing to send)."""
        pending = [o for o in self.result.out_of_band if owned.unresolved(o.wanted)]
        if not pending or self.dry_run:
            return
        stack = cfn.describe_stack(self.clients.cloudformation, self.names.service_stack)
        outputs = cfn.outputs_of(stack)
        for o in pending:
            o.wanted = owned.resolve(o.wanted, outputs)
            missing = owned.unresolved(o.wanted)
            if missing:
                # A stack made before these outputs existed gets them only with a resource
                # change: "Cloudformation only determines changes to resources to decide
                # if an update is needed" (cfn-sphere/cfn-sphere#98, the outputs section of
                # the CloudFormation user guide). Read the ARNs from the resources.
                o.wanted = owned.resolve(o.wanted, self._arns_of_resources(missing))
                missing = owned.unresolved(o.wanted)
            if missing:
                raise OperationError(
                    f"the service stack {self.names.service_stack} was updated but has no "
                    f"output {', '.join(missing)}, which the service's {o.label} names; "
                    "the service was not changed",
                    hint="run `bluegreen deploy` again; if it says the same, report it as a bug",
                )
            if not owned.differs(o.current, o.wanted):
                self.result.out_of_band.remove(o)

    def _arns_of_resources(self, keys: list[str]) -> dict[str, str]:
        """Output key -> the ARN its ``Fn::GetAtt [X, Arn]`` gives, read from resource X
        itself (DescribeStackResource's PhysicalResourceId: a function's or a role's
        name; GetFunction's FunctionArn, GetRole's Arn); keys it cannot read are left
        out."""
        template = self.service_template or {}
        resources = template.get("Resources") or {}
        found: dict[str, str] = {}
        for key in keys:
            value = ((template.get("Outputs") or {}).get(key) or {}).get("Value") or {}
            target = value.get("Fn::GetAtt") if isinstance(value, dict) else None
            if not isinstance(target, list) or len(target) != 2 or target[1] != "Arn":
                continue
            kind = str((resources.get(target[0]) or {}).get("Type", ""))
            if kind not in ("AWS::Lambda::Function", "AWS::IAM::Role"):
                continue
            described = call(
                self.clients.cloudformation,
                "describe_stack_resource",
                StackName=self.names.service_stack,
                LogicalResourceId=str(target[0]),
            )["StackResourceDetail"]
            physical = str(described.get("PhysicalResourceId") or "")
            if not physical:
                continue
            if kind == "AWS::Lambda::Function":
                answer = call(self.clients("lambda"), "get_function", FunctionName=physical)
                found[key] = str(answer["Configuration"]["FunctionArn"])
            else:
                found[key] = str(
                    call(self.clients.iam, "get_role", RoleName=physical)["Role"]["Arn"]
                )
        return found

    def apply_out_of_band(self, dropping_only: bool = False) -> None:
        """Service settings CloudFormation may not update, set with ecs:UpdateService
        (allowed on a CODE_DEPLOY service and, without a new task definition, on an
        ECS-controlled one: the ECS UpdateService API reference; see
        :mod:`bluegreen.aws.owned`). ``dropping_only``: only those that stop naming an
        ARN the live setting names, and name nothing the service stack's update is
        still to make."""
        pending = [
            o
            for o in self.result.out_of_band
            if not o.applied
            and not (
                dropping_only
                and (owned.unresolved(o.wanted) or not owned.arns(o.current) - owned.arns(o.wanted))
            )
        ]
        if not pending:
            return
        service = self.names.service
        said = "; ".join(o.change for o in pending)
        if self.controller == "CODE_DEPLOY":
            why = (
                "(CloudFormation cannot update a CODE_DEPLOY service; the stack's template "
                "keeps it)"
            )
        else:
            why = (
                "(the stack's template keeps the service as deployed: a CloudFormation "
                "update of it would deploy the template's bootstrap revision)"
            )
        if any(o.setting == "DeploymentConfiguration" for o in pending):
            # "This parameter doesn't trigger a new service deployment" (UpdateService
            # request, deploymentConfiguration: botocore's ECS model).
            why += (
                "; ECS starts no deployment for a deployment configuration change: the "
                "next release's service deployment runs under it"
            )
        if self.dry_run:
            self.ui.step(f"{service}: would set {said} with ecs:UpdateService {why}")
            return
        self.result.in_flight = InFlight(service, f"ecs:UpdateService ({said}) being sent")
        call(
            self.clients.ecs,
            "update_service",
            cluster=self.names.cluster,
            service=service,
            **{o.parameter: o.wanted for o in pending},
        )
        self.result.in_flight = None
        for o in pending:
            o.applied = True
        self.ui.step(f"{service}: set {said} with ecs:UpdateService {why}")


def _check_size(stack: str, body: str) -> None:
    size = len(body.encode("utf-8"))
    if size > cfn.TEMPLATE_BODY_LIMIT:
        raise OperationError(
            f"the {stack} template is {size} bytes; CloudFormation accepts at most "
            f"{cfn.TEMPLATE_BODY_LIMIT} bytes inline and bluegreen does not upload "
            "templates to S3",
            hint="nothing was changed; report this as a bug (templates should stay small)",
        )


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


def _delete_empty_stack(client: Any, stack: str) -> bool:
    """Delete a stack that only a never-executed CREATE change set created."""
    described = cfn.describe_stack(client, stack)
    if described is not None and described["StackStatus"] == "REVIEW_IN_PROGRESS":
        cfn.delete_stack(client, described["StackId"])
        return True
    return False


def open_branch_checks(clients: Clients, config: Config, ui: DeployUI | None = None) -> None:
    """A CodeConnections source's branch-check pipeline is created with its Check stage
    held (:mod:`bluegreen.stacks.connections`): stop its creation run, which would check
    the release branch while the release pipeline builds it, then open the transition so
    pushes to builds.branches are checked. Nothing to do when the stage is not held.

    StopPipelineExecution with abandon stops an execution without waiting for its
    in-progress actions (API reference, StopPipelineExecution); the held run has none."""
    from bluegreen.stacks.connections import CHECK_STAGE, branch_pipeline_name

    if config.source.provider == "codecommit" or not config.builds.branches:
        return
    name = branch_pipeline_name(Names.of(config))
    client = clients.codepipeline
    stages = call(client, "get_pipeline_state", name=name).get("stageStates") or []
    held = [
        s
        for s in stages
        if s.get("stageName") == CHECK_STAGE
        and not (s.get("inboundTransitionState") or {}).get("enabled", True)
    ]
    if not held:
        return
    summaries = call(client, "list_pipeline_executions", pipelineName=name).get(
        "pipelineExecutionSummaries", []
    )
    for summary in summaries:
        trigger = (summary.get("trigger") or {}).get("triggerType")
        if summary.get("status") == "InProgress" and trigger == "CreatePipeline":
            call(
                client,
                "stop_pipeline_execution",
                pipelineName=name,
                pipelineExecutionId=summary["pipelineExecutionId"],
                abandon=True,
                reason="bluegreen: the branch checks never check the release branch",
            )
    call(
        client,
        "enable_stage_transition",
        pipelineName=name,
        stageName=CHECK_STAGE,
        transitionType="Inbound",
    )
    if ui is not None:
        ui.step(
            f"{name}: branch checks open (pushes to {', '.join(config.builds.branches)} are "
            "built and tested, never deployed)"
        )


def first_release_pending(clients: Clients, config: Config) -> bool:
    """Whether the pipeline's newest execution is its first run, still in progress.

    A deploy that stopped after the first commit (declined, interrupted, failed) leaves
    that run going; the next deploy follows it (and promotes it) as if it had created the
    pipeline (:func:`bluegreen.aws.pipeline.first_run_pending`).
    """
    return pipeline.first_run_pending(clients.codepipeline, Names.of(config).pipeline)


def links(clients: Clients, config: Config) -> Links | None:
    """URLs and console links from the stacks' outputs (None until the service exists)."""
    from bluegreen import engine as engine_mod

    names = Names.of(config)
    client = clients.cloudformation
    service = cfn.outputs(client, names.service_stack)
    if not service:
        return None
    pipeline_outputs = cfn.outputs(client, names.pipeline_stack)
    # The service stack has had both URL outputs since its first template (stacks/service.py).
    production = service.get(Outputs.PRODUCTION_URL, "")
    test = service.get(Outputs.TEST_URL, "")
    region = clients.region
    return Links(
        production_url=production,
        test_url=test,
        pipeline=console.pipeline(
            region, pipeline_outputs.get(Outputs.PIPELINE_NAME, names.pipeline)
        ),
        deployments=engine_mod.deployments_console(region, config, pipeline_outputs),
    )
