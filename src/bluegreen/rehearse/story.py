"""The rehearsal's story, played through the operating code against the emulated AWS.

Everything the rehearsal does is what a user's commands do, with the same code:

1. ``bluegreen deploy`` (:func:`bluegreen.aws.deploy.deploy`): the three stacks through
   change sets, the repository's first commit through CodeCommit's API, then the first
   release followed and promoted (:func:`bluegreen.aws.release.first_release`);
2. each later release is a ``git commit`` and a ``git push`` to the emulated CodeCommit
   repository; the pipeline starts by itself (the EventBridge rule), is followed as
   ``bluegreen release`` follows it, and promoted with the code of ``bluegreen promote``;
3. between operations the system is read with the code of ``bluegreen status``.

With a GitHub, GitLab or Bitbucket source (``source.provider``) the repository is the
provider's, emulated as a local bare repository the rehearsal pushes to
(:mod:`bluegreen.emulator.services.codeconnections`): the rehearsal makes the connection
(PENDING, as one made through the API or CloudFormation is), completes the handshake a
person completes once in the console on AWS, pushes the scaffold, and deploys with
``--connection-arn``; later releases and the feature branch are pushes the pipelines'
V2 triggers pick up, and a push that changes only ``source.ignored_paths`` starts
nothing.

What AWS does by itself (stacks, builds, the blue/green deployment, tasks starting and
passing their health checks) is the emulator's (:mod:`bluegreen.emulator`), on its
simulated clock. Users are a bounded load run through the production listener during
every release, then one ``GET /`` after it (:mod:`bluegreen.rehearse.load`); at the end
the load balancer's metrics are read back from the emulated CloudWatch. The scenarios add
what users do next: a rollback during the termination
wait or after a release succeeded, a config change applied to the running system.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bluegreen.config import Config
from bluegreen.errors import BluegreenError, RehearsalError, UsageError
from bluegreen.names import Names
from bluegreen.rehearse.clock import EPOCH, span
from bluegreen.rehearse.model import Rehearsal, Release
from bluegreen.rehearse.recorder import DeployRecorder, Recorder, ReleaseRecorder
from bluegreen.rehearse.repository import Repository, copy_tree, replace_text

FAULTS = ("green-unhealthy", "test-traffic-fails", "build-fails", "fails-under-load")
SCENARIOS = (
    "releases",
    "rollback-in-termination-wait",
    "rollback-after-success",
    "config-change",
    "engine-switch",
)
SEED_GREETING = "Hello, 網走"
SEED_NEW_GREETING = "こんにちは、あばしり"

Progress = Callable[[str], None]

# How long the rehearsal lets a step take before it calls the release stuck (simulated).
_PIPELINE_START_LIMIT = 5 * 60
_DEPLOYMENT_LIMIT = 4 * 3600
_HEALTH_RETURN = "    return HEALTH_OK\n"
_HEALTH_500 = (
    "    # fault injected by `bluegreen rehearse --fault green-unhealthy`\n"
    '    return PlainTextResponse("fault injected: green-unhealthy", status_code=500)\n'
)
"""The scaffold's health endpoint's answer, and the one ``--fault green-unhealthy`` puts
in its place."""
_HOME_RETURN = "    return GREETING\n"
_HOME_500 = (
    "    # fault injected by `bluegreen rehearse --fault test-traffic-fails`\n"
    '    return PlainTextResponse("fault injected: test-traffic-fails", status_code=500)\n'
)
"""The scaffold's home page's answer, and the one ``--fault test-traffic-fails`` puts in
its place."""

_FAILS_UNDER_LOAD = (
    "    # fault injected by `bluegreen rehearse --fault fails-under-load`: the first {n}\n"
    "    # answers are good (the checks through the test listener), then every one is a\n"
    "    # 500 (production traffic)\n"
    "    global _SERVED\n"
    '    _SERVED = globals().get("_SERVED", 0) + 1\n'
    "    if _SERVED > {n}:\n"
    '        return PlainTextResponse("fault injected: fails-under-load", status_code=500)\n'
    "    return GREETING\n"
)
"""The scaffold's ``GET /`` answer, and the code ``--fault fails-under-load`` puts in
its place: good for as many requests as the checks send and a few more, then 500."""

FAILS_UNDER_LOAD_MARGIN = 3
"""Good answers of the faulty revision beyond the checks' requests."""


@dataclass(frozen=True)
class Options:
    """What to rehearse.

    ``repository``: the user's application repository (None: a fresh scaffold).
    ``fault``: one of :data:`FAULTS`, injected into the last release.
    ``promote``: with manual reroute, promote on the user's behalf (False: let the wait
    time run out, which stops the deployment).
    ``scenario``: one of :data:`SCENARIOS` (the releases only, by default).
    """

    config: Config
    repository: Path | None = None
    fault: str | None = None
    promote: bool = True
    scenario: str = "releases"


@dataclass(frozen=True)
class _Plan:
    message: str
    change: Callable[[Path], list[str]] | None


def run(options: Options, progress: Progress | None = None) -> Rehearsal:
    """Rehearse; the result holds every release, failed or not (never raises for a
    failed release, only for a system that cannot be rehearsed at all)."""
    started = time.perf_counter()
    say = progress or (lambda _message: None)
    if options.fault is not None and options.fault not in FAULTS:
        raise UsageError(f"unknown fault {options.fault!r}; choose one of {', '.join(FAULTS)}")
    if options.scenario not in SCENARIOS:
        raise UsageError(
            f"unknown scenario {options.scenario!r}; choose one of {', '.join(SCENARIOS)}"
        )
    if options.fault == "test-traffic-fails" and not options.config.verify.checks:
        raise UsageError(
            "--fault test-traffic-fails pushes an app that answers 500 on /, which only "
            "[verify] checks on the test listener notice, but this config has none: the "
            "release would reach production",
            hint='add a check to bluegreen.toml, such as [verify] checks = [{ path = "/", '
            "status = 200 }] (with CodeDeploy, and appspec.yml's Hooks entry `bluegreen "
            "verify` names), or rehearse the scaffold (no PATH), whose config has one",
        )
    from bluegreen import engine as engine_mod
    from bluegreen.emulator import ACCOUNT_ID, Emulator, hooks

    config = options.config
    alarms_enabled = False
    if options.fault == "fails-under-load" and not config.verify.alarms.enabled:
        # The stack's alarms (5xx of the new revision's target group) are what rolls this
        # fault back: rehearsed with them.
        config = config.model_copy(
            update={
                "verify": config.verify.model_copy(
                    update={"alarms": config.verify.alarms.model_copy(update={"enabled": True})}
                )
            }
        )
        alarms_enabled = True
    if options.scenario == "engine-switch" and config.deployment.engine != "codedeploy":
        raise UsageError(
            "--scenario engine-switch rehearses moving a running CodeDeploy system to ECS "
            f'built-in blue/green, but this config has deployment.engine = "'
            f'{config.deployment.engine}"',
            hint='rehearse it with deployment.engine = "codedeploy" (the default), or '
            "without --scenario engine-switch",
        )
    scope, how = engine_mod.planned(config)
    rehearsal = Rehearsal(
        region=config.project.region,
        account_id=ACCOUNT_ID,
        stacks=[],
        production_port=config.listeners.production_port,
        test_port=config.listeners.test_port,
        deployment_config=how,
        deployment_group=scope,
    )
    with tempfile.TemporaryDirectory(prefix="bluegreen-rehearse-") as tmp:
        work = Path(tmp)
        repo, plans = _repository(config, work / "repo", options.repository)
        if options.fault == "green-unhealthy" and len(plans) == 1:
            # The fault is a pushed commit, so production has a healthy revision to stay on
            # (a broken FIRST release is tests/test_first_release_health.py's: with the
            # CodeDeploy engine it fails Install too, green being behind both listeners at
            # weight 0 from the first deploy).
            plans.append(_Plan("Push a commit whose health check answers 500", None))
        with Emulator(
            config.project.region, start=EPOCH, work_dir=work / "aws", data_plane=True
        ) as aws:
            say(f"emulated AWS started in {config.project.region} (account {ACCOUNT_ID})")
            # Hooks of the user's own code, played as bluegreen.toml's [rehearse.hooks] says.
            aws.service("codedeploy").play_hooks(dict(config.rehearse.hooks))
            for function, play in sorted(config.rehearse.hooks.items()):
                if hooks.provide(aws, function):
                    say(f"hook function {function} (yours, outside the stacks) stands in: {play}")
            story = _Story(aws, config, repo, options, rehearsal, say)
            story.play(plans)
            rehearsal.metrics = story.metrics()
            rehearsal.timing = _timing(config)
            rehearsal.simulated_seconds = int(aws.clock.seconds)
            rehearsal.notes.extend(_data_plane_notes(aws))
    for release in rehearsal.releases:
        if release.succeeded and release.failed_requests:
            rehearsal.notes.append(
                f"release {release.number} succeeded although {release.failed_requests} of "
                f"its {(release.load or {}).get('requests')} requests through production "
                "failed (the requests column shows when); nothing rolled it back"
            )
    if alarms_enabled:
        rehearsal.notes.append(
            "--fault fails-under-load: rehearsed with verify.alarms.enabled = true (the "
            "stack's alarms on each target group's 5xx, unhealthy hosts and p95 latency), "
            "which this config does not set"
        )
    rehearsal.wall_seconds = time.perf_counter() - started
    return rehearsal


def _timing(config: Config) -> dict[str, object]:
    """The emulator's durations (each with its source, documented or observed) and the
    config's timing settings: what every lead time is made of."""
    from bluegreen.emulator import timing
    from bluegreen.rehearse.leadtime import config_timing

    return {
        "durations": {key: d.to_dict() for key, d in sorted(timing.DURATIONS.items())},
        "config": config_timing(config),
    }


def _data_plane_notes(aws: object) -> list[str]:
    """What the data plane says about the health checks: each container whose health was
    derived statically (not run) and why, then its caveats (Python version, pins)."""
    from bluegreen.emulator import Emulator

    assert isinstance(aws, Emulator)
    runner = aws.service("ecs").runner
    derived = [
        f"health derived statically, not checked for real: {line}"
        for line in getattr(runner, "derived", [])
    ]
    return derived + [f"data plane: {note}" for note in getattr(runner, "notes", [])]


def _deploying(status: object) -> bool:
    """Whether the pipeline's Deploy stage has started (its builds are over)."""
    pipeline = getattr(status, "pipeline", None)
    for stage in getattr(pipeline, "stages", None) or []:
        if stage.name == "Deploy":
            return any(a.status not in ("", "NotStarted") for a in stage.actions)
    return False


def _repository(config: Config, path: Path, source: Path | None) -> tuple[Repository, list[_Plan]]:
    repo = Repository.create(path, config.source.branch)
    if source is not None:
        copy_tree(source, path)
        return repo, [_Plan(f"Release the working tree of {source.name or source}", None)]
    from bluegreen.appkit import init

    init(path, config)
    old = config.app.greeting
    new = SEED_NEW_GREETING if old != SEED_NEW_GREETING else SEED_GREETING
    directory = config.app.directory

    def change(root: Path) -> list[str]:
        changed = replace_text(root, directory, old, new)
        if not changed:
            raise RehearsalError(
                f"the scaffold's {directory}/ does not contain the greeting {old!r}; "
                "the rehearsal cannot make the seed's change"
            )
        return changed

    return repo, [
        _Plan("Initial commit: the bluegreen scaffold", None),
        _Plan(f"Change the greeting: {old} -> {new}", change),
    ]


class _Story:
    def __init__(
        self,
        aws: object,
        config: Config,
        repo: Repository,
        options: Options,
        rehearsal: Rehearsal,
        say: Progress,
    ) -> None:
        from bluegreen.emulator import Emulator

        assert isinstance(aws, Emulator)
        self.aws = aws
        self.config = config
        self.repo = repo
        self.options = options
        self.rehearsal = rehearsal
        self.say = say
        self.recorder = Recorder(aws, config, say)
        self.clients = self.recorder.clients
        self._plan_count = 0
        self._service_up = False
        self._branch: dict[str, object] | None = None
        """The push to builds.branches (the scaffold's releases only), until its result."""
        self.connection: str | None = None
        """The CodeConnections connection of a GitHub, GitLab or Bitbucket source."""

    # -- where pushes go ----------------------------------------------------------------
    @property
    def _codecommit(self) -> bool:
        return self.config.source.provider == "codecommit"

    def _remote(self) -> Path:
        """The repository pushes go to: the emulated CodeCommit repository, or the
        provider's (GitHub, GitLab, Bitbucket) repository."""
        if self._codecommit:
            path: Path = self.aws.service("codecommit").local_remote(
                Names.of(self.config).codecommit_repository
            )
            return path
        found: Path = self.aws.service("codeconnections").provider_repository(
            self.config.source.full_repository_id
        )
        return found

    def _pushed(self) -> None:
        """The push is seen at once (CodeCommit's event, the provider's webhook), not at
        the next poll."""
        self.aws.service("codecommit" if self._codecommit else "codeconnections").check_pushes()

    # -- the story ------------------------------------------------------------------------
    def play(self, plans: list[_Plan]) -> None:
        scenario = self.options.scenario
        self._plan_count = len(plans)
        for number, plan in enumerate(plans, start=1):
            last = number == len(plans)
            fault = self.options.fault if last else None
            release = Release(number, "", plan.message, (), fault)
            self.rehearsal.releases.append(release)
            self._open(release)
            self.say(f"release {number}: {plan.message}")
            try:
                if number == 1:
                    self._first(release, fault)
                else:
                    self._push(release, plan, fault)
                    self._follow(release, last and scenario == "rollback-in-termination-wait")
            except BluegreenError as exc:
                release.outcome = release.outcome if release.outcome != "pending" else "failed"
                release.cause = release.cause or exc.message
                self.recorder.operation("stopped", exc.message)
            self._close()
            self.say(f"release {number}: {release.outcome}")
            if not release.as_designed:
                return
        if self._branch is not None:
            self._branch_result()
            if not self._codecommit:
                self._ignored_push()
        if scenario == "rollback-after-success":
            self._rollback_after_success()
        elif scenario == "config-change":
            self._config_change()
        elif scenario == "engine-switch":
            self._engine_switch()
        self._close()

    # -- the load run ---------------------------------------------------------------------
    def _open(self, release: Release) -> None:
        """``release`` starts: the load run through the production listener with it."""
        self._close()
        self.recorder.release = release
        self.recorder.start_load()

    def _close(self) -> None:
        """The release under way ended: the load run stops, ``GET /`` shows what
        production serves (:meth:`Recorder.end_load`)."""
        if self.recorder.load is not None:
            self.recorder.end_load()

    def metrics(self) -> dict[str, object]:
        """What the emulated CloudWatch holds of the load run, read back as an alarm or a
        person reads it (GetMetricStatistics, namespace AWS/ApplicationELB, dimensions
        TargetGroup and LoadBalancer: emulator.albmetrics)."""
        from bluegreen import engine
        from bluegreen.aws.elb import target_group_name
        from bluegreen.emulator.albmetrics import NAMESPACE, dimension_value

        if not any(r.load and r.load.get("requests") for r in self.rehearsal.releases):
            return {}
        self.aws.service("elbv2").metrics.flush()
        try:
            refs = engine.service_refs(self.clients, self.config)
        except BluegreenError:
            return {}
        end = self.aws.now() + timedelta(minutes=1)
        start = self.aws.clock.start
        period = 60 * max(1, -(-int((end - start).total_seconds()) // 60))
        (listener,) = self.clients.elbv2.describe_listeners(
            ListenerArns=[refs.production_listener]
        )["Listeners"]
        balancer = dimension_value(listener["LoadBalancerArn"], "LoadBalancer")
        found: dict[str, object] = {}
        for arn in refs.target_groups:
            dimensions = [
                {"Name": "TargetGroup", "Value": dimension_value(arn, "TargetGroup")},
                {"Name": "LoadBalancer", "Value": balancer},
            ]
            sums = {}
            for metric in (
                "RequestCount",
                "HTTPCode_Target_2XX_Count",
                "HTTPCode_Target_5XX_Count",
            ):
                points = self.clients.cloudwatch.get_metric_statistics(
                    Namespace=NAMESPACE,
                    MetricName=metric,
                    Dimensions=dimensions,
                    StartTime=start,
                    EndTime=end,
                    Period=period,
                    Statistics=["Sum"],
                )["Datapoints"]
                sums[metric] = int(sum(p["Sum"] for p in points))
            found[target_group_name(arn)] = {
                "dimensions": {d["Name"]: d["Value"] for d in dimensions},
                "sum": sums,
            }
        return {"namespace": NAMESPACE, "target_groups": found}

    # -- release 1: deploy --------------------------------------------------------------
    def _first(self, release: Release, fault: str | None) -> None:
        from bluegreen.aws import deploy as deploy_mod
        from bluegreen.aws import release as release_mod

        self._inject(fault)
        if not self._codecommit:
            self._connect(release)
        self.recorder.operation("bluegreen deploy", "the three stacks, then the first release")
        ui = DeployRecorder(self.recorder)
        result = deploy_mod.deploy(
            self.clients,
            self.config,
            self.repo.path,
            ui,
            sleep=self._deploy_sleep,
            now=self.aws.now,
            connection_arn=self.connection,
        )
        self.rehearsal.stacks = self._stacks()
        if not result.ok:
            failed = result.failed[0] if result.failed else None
            release.outcome = "failed"
            release.cause = (
                f"deploy: {failed.stack} {failed.status}: {failed.reason}"
                if failed
                else "deploy was declined"
            )
            return
        commit = result.first_commit
        if commit is not None and commit.commits:
            release.commit = commit.commits[-1]
            release.changed = tuple(sorted(self._tracked()))
            self._adopt(release.commit)
        self.recorder.observing = True
        self.recorder.observe()
        first = release_mod.first_release(
            self.clients,
            self.config,
            ReleaseRecorder(self.recorder, "bluegreen deploy"),
            sleep=self.recorder.sleep,
        )
        self._settle(release, first.failed_action, first.error)
        if first.held and release.outcome != "succeeded":
            # deploy stopped the deployment itself: its reason, not CodeDeploy's "stopped"
            release.cause = f"deploy did not promote the first release: {first.held}"

    def _connect(self, release: Release) -> None:
        """A GitHub, GitLab or Bitbucket source: the connection (made PENDING, then the
        console's handshake), and the scaffold pushed to the provider's repository, which
        the pipeline's first run reads (deploy makes no commit there)."""
        from bluegreen.aws.connection import PROVIDER_TYPES

        source = self.config.source
        kind = PROVIDER_TYPES[source.provider]
        name = f"{Names.of(self.config).prefix}-{source.provider}"[:32]
        made = self.clients.codeconnections.create_connection(
            ProviderType=kind, ConnectionName=name
        )
        self.connection = str(made["ConnectionArn"])
        status = self.clients.codeconnections.get_connection(ConnectionArn=self.connection)[
            "Connection"
        ]["ConnectionStatus"]
        self.recorder.operation(
            "create connection", f"{name} to {kind} ({status}, as one made by the API is)"
        )
        self.aws.service("codeconnections").complete_handshake(self.connection)
        self.recorder.operation(
            "console handshake",
            f"on AWS a person completes the handshake with {kind} once, in the console "
            "(Developer Tools > Settings > Connections > Update pending connection); "
            "the rehearsal completes it here: AVAILABLE",
        )
        commit = self.repo.commit(release.message, self.aws.now())
        release.commit = commit.sha
        release.changed = tuple(sorted(self._tracked()))
        self.repo.git("push", "-q", str(self._remote()), f"HEAD:refs/heads/{self.repo.branch}")
        self._pushed()
        self.recorder.operation(
            "git push",
            f"{commit.short} to {source.full_repository_id} {self.repo.branch} on {kind} "
            f"({len(release.changed)} files; deploy makes no commit there)",
        )

    def _deploy_sleep(self, seconds: float) -> None:
        # deploy waits on CloudFormation: polled every 5 s by the command; the status
        # reads between them start once the service stack answers.
        self.recorder.observing = self._service_ready()
        self.recorder.sleep(seconds)

    def _service_ready(self) -> bool:
        from bluegreen.aws import cfn

        if self._service_up:
            return True  # deploy creates the stack once: its outputs stay while it runs
        stack = cfn.describe_stack(self.clients.cloudformation, Names.of(self.config).service_stack)
        self._service_up = bool(stack and stack.get("Outputs"))
        return self._service_up

    # -- later releases: git push -------------------------------------------------------
    def _push(self, release: Release, plan: _Plan, fault: str | None) -> None:
        from bluegreen.aws import pipeline as pipeline_api

        changed = plan.change(self.repo.path) if plan.change else []
        changed += self._inject(fault)  # a fault in the code is part of the pushed commit
        commit = self.repo.commit(plan.message, self.aws.now())
        release.commit = commit.sha
        # each file once (a fault edits a file the change already changed: review U16)
        release.changed = tuple(dict.fromkeys(changed or commit.files))
        name = Names.of(self.config).pipeline
        before = pipeline_api.latest_execution(self.clients.codepipeline, name)
        self.repo.git("push", "-q", str(self._remote()), f"HEAD:refs/heads/{self.repo.branch}")
        self._pushed()
        self.recorder.operation(
            "git push", f"{commit.short} to {self.repo.branch} ({len(release.changed)} changed)"
        )
        waited = 0.0
        latest = before
        while latest is None or (
            before is not None and latest["pipelineExecutionId"] == before["pipelineExecutionId"]
        ):
            if waited >= _PIPELINE_START_LIMIT:
                what = "EventBridge rule" if self._codecommit else "pipeline's push trigger"
                raise RehearsalError(
                    f"the push of {commit.short} started no pipeline execution within "
                    f"{span(_PIPELINE_START_LIMIT)}: the {what} did not match it"
                )
            self.recorder.sleep(5)
            waited += 5
            latest = pipeline_api.latest_execution(self.clients.codepipeline, name)
        release.execution = str(latest["pipelineExecutionId"])

    def _follow(self, release: Release, roll_back_in_termination_wait: bool) -> None:
        from bluegreen import engine as engine_mod
        from bluegreen.aws import release as release_mod
        from bluegreen.engine import Phase

        def sleep(seconds: float) -> None:
            self.recorder.sleep(seconds)
            if self._wants_branch_run(release) and _deploying(self.recorder.last):
                self._branch_push()

        followed = release_mod.follow_execution(
            self.clients,
            self.config,
            ReleaseRecorder(self.recorder, "bluegreen release"),
            release.execution,
            sleep=sleep,
        )
        if followed.waiting_deployment:
            if self.options.promote:
                engine = engine_mod.select(self.clients, self.config)
                action = engine.promote()
                self.recorder.operation("bluegreen promote", action.message)
                if self._wants_branch_run(release):
                    self._branch_push()
            else:
                release.expected = "rolled back"  # the wait runs out: what was asked for
                self.recorder.operation(
                    "no promote (--no-promote)",
                    f"nobody reroutes within {self.config.deployment.wait_minutes} min",
                )
        if roll_back_in_termination_wait:
            in_wait = self.recorder.wait(
                lambda s: s.deployment is not None and s.deployment.phase == Phase.TERMINATION_WAIT,
                _DEPLOYMENT_LIMIT,
            )
            if in_wait:
                engine = engine_mod.select(self.clients, self.config)
                action = engine.rollback()
                release.expected = "rolled back"  # what the scenario asked for
                self.recorder.operation("bluegreen rollback", action.message)
        self._settle(release, followed.failed_action, followed.error)

    # -- endings ----------------------------------------------------------------------------
    def _settle(self, release: Release, failed_action: str = "", error: str = "") -> None:
        """Wait until the release is over (no deployment active, the pipeline done), then
        its outcome from what the engine and the pipeline say."""
        from bluegreen import engine as engine_mod

        recorder = self.recorder
        recorder.wait(
            lambda s: (
                (s.deployment is None or not s.deployment.phase.active)
                and (s.pipeline is None or s.pipeline.status != "InProgress")
                and len(s.task_sets) <= 1
            ),  # CodeDeploy has removed what it replaced
            _DEPLOYMENT_LIMIT,
        )
        status = recorder.last
        self._images(release)
        self._builds(release)
        pipeline = status.pipeline if status else None
        failed = [
            f"{stage.name}/{action.name}: {action.error or action.status}"
            for stage in (pipeline.stages if pipeline else [])
            for action in stage.actions
            if action.status == "Failed"
        ]
        if not release.deployment_id:
            release.outcome = "failed"
            release.cause = (
                failed[0]
                if failed
                else (f"{failed_action}: {error}" if failed_action else "no deployment started")
            )
            return
        ending = engine_mod.select(self.clients, self.config).ending(release.deployment_id)
        reason = _hook_hint(ending.reason or (failed[0] if failed else ending.status), self.config)
        if ending.outcome in ("succeeded", "rolled back", "stopped"):
            release.outcome = ending.outcome
        else:
            release.outcome = "failed"
        release.cause = None if ending.outcome == "succeeded" else reason
        failed_check = next((c for c in release.checks if c["result"] == "fail"), None)
        if release.cause and failed_check is not None:
            # which check, and what came back: the hook's own reason (F5)
            from bluegreen.verification.checks import failure

            release.cause = (
                f"{release.cause.rstrip('.')}: check {failure({**failed_check, 'ok': False})}"
            )
        self._lead_time(release)

    def _lead_time(self, release: Release) -> None:
        """Push to production and push to done, read back from the emulated AWS."""
        from bluegreen.rehearse import leadtime

        if release.outcome != "succeeded":
            return
        try:
            found = leadtime.measure(
                self.clients, self.config, release, Names.of(self.config).pipeline
            )
        except BluegreenError as exc:
            self.rehearsal.notes.append(f"release {release.number}: no lead time: {exc.message}")
            return
        release.lead_time = found.to_dict() if found is not None else None

    def _wants_branch_run(self, release: Release) -> bool:
        """The scaffold's releases: the last one, once its builds are done (its Deploy
        stage runs), is joined by a push to a branch matching builds.branches."""
        return (
            self.options.scenario == "releases"
            and self.options.repository is None
            and self.options.fault is None
            and release.number == self._plan_count
            and release.number > 1
        )

    def _branch_push(self) -> None:
        """A push to a branch matching builds.branches, made while the last release
        deploys (its builds are done, so the branch build does not compete with the
        pipeline's for the account's concurrent-build quota, 1 for a new account)."""
        from bluegreen.aws import pipeline as pipeline_api

        patterns = self.config.builds.branches
        if not patterns or self._branch is not None:
            return
        names = Names.of(self.config)
        branch = patterns[0].replace("*", "rehearsal")
        old = self.config.app.greeting
        if old == SEED_GREETING:
            old = SEED_NEW_GREETING  # release 2 made the seed's change
        self.say(f"branch {branch}: push a change, expect tests and builds, no deployment")
        before = pipeline_api.latest_execution(self.clients.codepipeline, names.pipeline)
        self.repo.git("checkout", "-q", "-b", branch)
        changed = replace_text(self.repo.path, self.config.app.directory, old, f"{old}!")
        commit = self.repo.commit(f"Try a greeting on {branch}", self.aws.now())
        self.repo.git("push", "-q", str(self._remote()), f"HEAD:refs/heads/{branch}")
        self.repo.git("checkout", "-q", self.repo.branch)
        self._pushed()
        self.recorder.operation("git push", f"{commit.short} to {branch} (builds.branches)")
        self._branch = {
            "branch": branch,
            "commit": commit.sha,
            "message": commit.message,
            "changed_files": changed,
            "execution_before": (before or {}).get("pipelineExecutionId"),
            "pushed_at": self.aws.clock.seconds,
        }

    def _branch_result(self) -> None:
        """The branch-check build's result once it is over, and whether the pipeline
        started (it must not)."""
        from bluegreen.aws import builds
        from bluegreen.aws import pipeline as pipeline_api
        from bluegreen.stacks.branches import branch_check_project

        pushed = self._branch
        if pushed is None:
            return
        names = Names.of(self.config)
        branch = str(pushed["branch"])
        found: list[builds.BranchBuild] = []
        limit = float(str(pushed["pushed_at"])) + _PIPELINE_START_LIMIT * 6
        while True:
            found = builds.branch_builds(
                self.clients.codebuild, branch_check_project(names), branch, limit=1
            )
            if (found and found[0].status != "IN_PROGRESS") or self.aws.clock.seconds > limit:
                break
            self.aws.advance_to(self.aws.clock.seconds + 15)
        latest = pipeline_api.latest_execution(self.clients.codepipeline, names.pipeline)
        started = (latest or {}).get("pipelineExecutionId") != pushed["execution_before"]
        build = found[0].to_dict() if found else None
        if build is not None and found[0].status != "SUCCEEDED":
            build["reason"] = self._failed_phase(str(build["build_id"]))
            if (
                "has no network" in build["reason"]
                or "Could not find a version" in (build["reason"])
            ):
                self.rehearsal.notes.append(
                    "the branch check could not run the app's tests here: their packages "
                    "are not installed in bluegreen's environment (the emulated build "
                    "image has no network); `pip install -e '.[dev]'` installs the "
                    "scaffold's"
                )
        self.rehearsal.branch_runs.append(
            {
                "branch": branch,
                "commit": pushed["commit"],
                "message": pushed["message"],
                "changed_files": pushed["changed_files"],
                "build": build,
                "pipeline_started": started,
            }
        )
        status = found[0].status.lower() if found else "no build started"
        self.say(f"branch {branch}: {status}, pipeline {'started' if started else 'not started'}")

    def _ignored_push(self) -> None:
        """A GitHub, GitLab or Bitbucket source: a push to the release branch that changes
        only files of ``source.ignored_paths`` starts nothing (the pipeline's push trigger
        excludes them)."""
        from bluegreen.aws import pipeline as pipeline_api
        from bluegreen.emulator.triggers import glob_match

        patterns = list(self.config.source.ignored_paths)
        if not patterns:
            self.rehearsal.notes.append(
                "source.ignored_paths is empty: every push to "
                f"{self.config.source.branch} starts a release; set it (such as "
                '["docs/**", "*.md"]) and pushes that change only those files start nothing'
            )
            return
        path = _example_path(patterns[0])
        if not any(glob_match(p, path) for p in patterns):
            self.rehearsal.notes.append(
                f"no push of ignored files rehearsed: no example file found for {patterns[0]!r}"
            )
            return
        name = Names.of(self.config).pipeline
        before = pipeline_api.latest_execution(self.clients.codepipeline, name)
        target = self.repo.path / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("Notes that release nothing.\n", encoding="utf-8")
        commit = self.repo.commit(f"Add {path} (source.ignored_paths)", self.aws.now())
        self.repo.git("push", "-q", str(self._remote()), f"HEAD:refs/heads/{self.repo.branch}")
        self._pushed()
        self.aws.advance_to(self.aws.clock.seconds + 60)
        latest = pipeline_api.latest_execution(self.clients.codepipeline, name)
        started = (latest or {}).get("pipelineExecutionId") != (before or {}).get(
            "pipelineExecutionId"
        )
        self.rehearsal.branch_runs.append(
            {
                "kind": "ignored",
                "branch": self.repo.branch,
                "commit": commit.sha,
                "message": commit.message,
                "changed_files": list(commit.files),
                "ignored_paths": patterns,
                "build": None,
                "pipeline_started": started,
            }
        )
        self.say(
            f"push of {path} to {self.repo.branch}: pipeline "
            f"{'started (unexpected)' if started else 'not started (source.ignored_paths)'}"
        )

    def _failed_phase(self, build_id: str) -> str:
        """The failed phase of a build and its context, as BatchGetBuilds reports them,
        with the last lines of the build's log (where a command's error is)."""
        from bluegreen.aws import builds

        (build,) = self.clients.codebuild.batch_get_builds(ids=[build_id])["builds"]
        reason = ""
        for phase in build.get("phases") or []:
            if phase.get("phaseStatus") in ("FAILED", "FAULT", "TIMED_OUT"):
                contexts = "; ".join(
                    str(c.get("message") or "") for c in phase.get("contexts") or []
                )
                if builds.is_script_error(contexts):
                    contexts = builds.one_line(contexts)
                reason = f"{phase.get('phaseType')}: {contexts}"
                break
        logs = build.get("logs") or {}
        if logs.get("groupName") and logs.get("streamName"):
            events = self.clients.logs.get_log_events(
                logGroupName=logs["groupName"], logStreamName=logs["streamName"], limit=200
            )["events"]
            errors = [
                e["message"]
                for e in events
                if "ERROR" in e["message"] and not e["message"].startswith("[Container]")
            ]
            if errors:
                reason += f" ({errors[-1].strip()})"
        return reason

    def _builds(self, release: Release) -> None:
        """What each image build did (built, or reused the content-tagged image)."""
        from bluegreen.aws import builds
        from bluegreen.aws import pipeline as pipeline_api

        name = Names.of(self.config).pipeline
        execution = release.execution
        if not execution:
            latest = pipeline_api.latest_execution(self.clients.codepipeline, name)
            execution = str(latest["pipelineExecutionId"]) if latest else ""
        if execution:
            found = builds.image_builds(
                self.clients.codepipeline, self.clients.codebuild, name, execution
            )
            release.builds = [b.to_dict() for b in found]

    def _images(self, release: Release) -> None:
        """The release's own images: those of the task set its deployment started (the
        last one that first appeared as a replacement, not PRIMARY, in its timeline),
        whether the release succeeded or was rolled back; none when it started none (a
        failed build). Review U11: the PRIMARY task set at the end is the previous
        release's after a rollback, or the bootstrap placeholder's."""
        first_seen: dict[str, str] = {}
        mine: dict[str, str] = {}
        for step in release.steps:
            for task_set in step.task_sets:
                if task_set.id in first_seen:
                    continue
                first_seen[task_set.id] = task_set.status
                if task_set.status != "PRIMARY" and task_set.images:
                    mine = dict(task_set.images)
        if not mine and release.deployment_id:
            status = self.recorder.last
            # a replacement no status read caught: what the succeeded deployment left
            from bluegreen.engine import Phase

            deployment = status.deployment if status else None
            if (
                status
                and deployment
                and deployment.id == release.deployment_id
                and deployment.phase == Phase.SUCCEEDED
            ):
                for view in status.task_sets:
                    if view.status == "PRIMARY":
                        mine = dict(view.images)
        release.images = mine

    # -- scenarios ------------------------------------------------------------------------------
    def _rollback_after_success(self) -> None:
        from bluegreen import engine as engine_mod

        number = len(self.rehearsal.releases) + 1
        release = Release(number, "", "Roll back the release that succeeded", ())
        self.rehearsal.releases.append(release)
        self._open(release)
        engine = engine_mod.select(self.clients, self.config)
        try:
            action = engine.rollback(
                follow=True,
                ui=ReleaseRecorder(self.recorder, "bluegreen rollback"),
                sleep=self.recorder.sleep,
            )
        except BluegreenError as exc:
            release.outcome, release.cause = "failed", exc.message
            self.recorder.operation("bluegreen rollback", f"refused: {exc.message}")
            return
        self.recorder.operation("bluegreen rollback", action.message)
        self._settle(release)

    def _config_change(self) -> None:
        from bluegreen.aws import deploy as deploy_mod

        number = len(self.rehearsal.releases) + 1
        release = Release(number, "", "Change the config: task.desired_count 1 -> 3", ())
        self.rehearsal.releases.append(release)
        self._open(release)
        wanted = 3
        config = self.config.model_copy(
            update={"task": self.config.task.model_copy(update={"desired_count": wanted})}
        )
        self.recorder.operation("bluegreen deploy", "with task.desired_count = 3")
        result = deploy_mod.deploy(
            self.clients,
            config,
            self.repo.path,
            DeployRecorder(self.recorder),
            sleep=self.recorder.sleep,
            now=self.aws.now,
        )
        if not result.ok:
            release.outcome, release.cause = "failed", "deploy failed"
            return
        running = self.recorder.wait(
            lambda s: any(t.status == "PRIMARY" and t.running == wanted for t in s.task_sets),
            30 * 60,
        )
        release.outcome = "succeeded" if running else "failed"
        if not running:
            release.cause = f"the service never ran {wanted} tasks"
            return
        # A change CloudFormation cannot make in place to a CODE_DEPLOY service: refused.
        number += 1
        refused = Release(
            number,
            "",
            f"Change the config: listeners.test_port {self.config.listeners.test_port} -> 9090",
            (),
        )
        self.rehearsal.releases.append(refused)
        self._open(refused)
        moved = config.model_copy(
            update={"listeners": config.listeners.model_copy(update={"test_port": 9090})}
        )
        before = {
            s["StackName"]: s.get("LastUpdatedTime")
            for s in self.clients.cloudformation.describe_stacks()["Stacks"]
        }
        self.recorder.operation("bluegreen deploy", "with listeners.test_port = 9090")
        try:
            deploy_mod.deploy(
                self.clients,
                moved,
                self.repo.path,
                DeployRecorder(self.recorder),
                sleep=self.recorder.sleep,
                now=self.aws.now,
            )
        except UsageError as exc:
            after = {
                s["StackName"]: s.get("LastUpdatedTime")
                for s in self.clients.cloudformation.describe_stacks()["Stacks"]
            }
            unchanged = before == after
            self.recorder.operation(
                "refused (exit 2)",
                exc.message.splitlines()[0]
                + ("; nothing was changed" if unchanged else "; BUT a stack changed"),
            )
            refused.outcome = "succeeded" if unchanged else "failed"
            refused.cause = None if unchanged else "a stack changed although deploy refused"
            return
        refused.outcome, refused.cause = "failed", "deploy accepted a listener port change"

    def _engine_switch(self) -> None:
        """Issue 10's migration, rehearsed: the running CodeDeploy system's config switched
        to deployment.engine = "ecs" (its CodeDeploy-only keys dropped, as config.py
        requires) and deployed. ``deploy`` refuses it (exit 2) with the ways to move
        (aws/owned.py, _refuse_engine_switch); as designed when nothing changed: the
        stacks, the service's deployment controller, and where production forwards."""
        from bluegreen import engine as engine_mod
        from bluegreen.aws import deploy as deploy_mod
        from bluegreen.config import Config

        number = len(self.rehearsal.releases) + 1
        release = Release(number, "", 'Switch the engine: deployment.engine = "ecs"', ())
        self.rehearsal.releases.append(release)
        self._open(release)
        data = self.config.model_dump(exclude_unset=True)
        deployment = dict(data.get("deployment") or {})
        for key in ("config", "termination_wait_minutes"):  # CodeDeploy's own keys
            deployment.pop(key, None)
        deployment["engine"] = "ecs"
        switched = Config.model_validate({**data, "deployment": deployment})

        def state() -> tuple[object, ...]:
            stacks = {
                s["StackName"]: s.get("LastUpdatedTime")
                for s in self.clients.cloudformation.describe_stacks()["Stacks"]
            }
            engine = engine_mod.select(self.clients, self.config)
            controller = engine.service.get("deploymentController", {}).get("type")
            return stacks, controller, engine.forwards().get("production")

        before = state()
        self.recorder.operation("bluegreen deploy", 'with deployment.engine = "ecs"')
        try:
            deploy_mod.deploy(
                self.clients,
                switched,
                self.repo.path,
                DeployRecorder(self.recorder),
                sleep=self.recorder.sleep,
                now=self.aws.now,
            )
        except UsageError as exc:
            unchanged = state() == before
            steps = re.findall(r"\(\d\) [^;]*", exc.hint or "")
            self.recorder.operation(
                "refused (exit 2)",
                exc.message.split(";", 1)[0]
                + ("; nothing was changed, production still served" if unchanged else "")
                + ("; BUT something changed" if not unchanged else ""),
            )
            for step in steps:
                self.recorder.operation("the ways to move", step.strip().rstrip("."))
            release.outcome = "succeeded" if unchanged else "failed"
            release.cause = None if unchanged else "deploy refused, but something changed"
            return
        release.outcome = "failed"
        release.cause = "deploy accepted switching a running CodeDeploy system's engine"

    # -- helpers ------------------------------------------------------------------------------
    def _inject(self, fault: str | None) -> list[str]:
        """Arm the emulator for ``fault`` (the release about to start fails that way); the
        repository files the fault changed."""
        if fault is None:
            return []

        names = Names.of(self.config)
        if fault == "build-fails":
            self.aws.service("codebuild").faults[names.app_build_project] = (
                "docker build exited with status 1 (fault injected: build-fails)"
            )
        elif fault == "test-traffic-fails":
            # A code change in the commit: the app answers 500 on /. [verify]'s checks,
            # run by the hook's own code against the test listener (CodeDeploy's
            # AfterAllowTestTraffic, or ECS's hook after the test traffic shift), fail it.
            return self._home_answers_500()
        elif fault == "green-unhealthy":
            self._unhealthy_from_now()
            return self._health_answers_500()
        elif fault == "fails-under-load":
            return self._fails_under_load()
        return []

    def _home_answers_500(self) -> list[str]:
        """The release's app answers 500 on / (its health path still answers 200, so
        the tasks pass their health checks and only [verify]'s checks can stop it)."""
        return self._replace_home(
            _HOME_500, "--fault test-traffic-fails makes the scaffold's / answer 500"
        )

    def _fails_under_load(self) -> list[str]:
        """The release's app answers ``GET /`` well as many times as the checks on the
        test listener ask (and a few more), then 500 to every request: real code in the
        commit, which only production traffic reaches."""
        good = sum(c.count for c in self.config.verify.checks) + FAILS_UNDER_LOAD_MARGIN
        return self._replace_home(
            _FAILS_UNDER_LOAD.format(n=good),
            "--fault fails-under-load makes the scaffold's GET / answer 500 after a few requests",
        )

    def _replace_home(self, code: str, what: str) -> list[str]:
        """The scaffold's ``GET /`` answer replaced by ``code`` in the commit."""
        path = f"{self.config.app.directory}/app/main.py"
        source = self.repo.path / path
        text = source.read_text(encoding="utf-8") if source.is_file() else ""
        if text.count(_HOME_RETURN) != 1:
            raise RehearsalError(
                f"{what}, but {path} has no single `{_HOME_RETURN.strip()}` line to change; "
                "rehearse without --fault, or with the scaffold's app"
            )
        source.write_text(text.replace(_HOME_RETURN, code), encoding="utf-8")
        return [path]

    def _health_answers_500(self) -> list[str]:
        """The release's app answers 500 on its health path: a code change in the commit
        (the scaffold's health endpoint returns a 500 response), so the data plane's real
        health checks fail the green targets as the load balancer's would."""
        path = f"{self.config.app.directory}/app/main.py"
        source = self.repo.path / path
        text = source.read_text(encoding="utf-8") if source.is_file() else ""
        if text.count(_HEALTH_RETURN) != 1:
            raise RehearsalError(
                f"--fault green-unhealthy makes the scaffold's health endpoint answer 500, but "
                f"{path} has no single `{_HEALTH_RETURN.strip()}` line to change; rehearse "
                "without --fault, or with the scaffold's app"
            )
        source.write_text(text.replace(_HEALTH_RETURN, _HEALTH_500), encoding="utf-8")
        return [path]

    def _unhealthy_from_now(self) -> None:
        """Every target registered from now on whose health is not checked for real (an
        app the data plane derives statically) fails its health checks; the ones serving
        already keep passing."""
        from bluegreen.emulator.services.elbv2 import ProbeResult, TargetRef

        elb = self.aws.service("elbv2")
        healthy = {(t.group_arn, t.id, t.port) for t in elb.all_targets()}
        passing = elb.default_prober

        def prober(target: TargetRef, when: datetime) -> ProbeResult:
            key = (target.target_group_arn, target.id, target.port)
            if key in healthy:
                answer: ProbeResult = passing(target, when)
                return answer
            return ProbeResult(
                ok=False,
                status=500,
                reason="Target.ResponseCodeMismatch",
                description="Health checks failed with these codes: [500] "
                "(fault injected: green-unhealthy)",
            )

        elb.default_prober = prober

    def _stacks(self) -> list[dict[str, object]]:
        from bluegreen import stacks as stacks_mod
        from bluegreen.aws import cfn

        found = []
        for stack in stacks_mod.build(self.config):
            try:
                resources = len(cfn.stack_resources(self.clients.cloudformation, stack.name))
            except BluegreenError:
                resources = 0
            found.append({"name": stack.name, "file": stack.filename, "resources": resources})
        return found

    def _tracked(self) -> list[str]:
        listed = self.repo.git("ls-files", "--cached", "--others", "--exclude-standard")
        return [line for line in listed.splitlines() if line]

    def _adopt(self, sha: str) -> None:
        """Make the local repository's branch the commit deploy made through CodeCommit's
        API (what a user does with `git fetch` and `git reset` after the first deploy)."""

        remote = self.aws.service("codecommit").local_remote(
            Names.of(self.config).codecommit_repository
        )
        self.repo.git("fetch", "-q", str(remote), sha)
        self.repo.git("reset", "-q", "--mixed", sha)


def _example_path(pattern: str) -> str:
    """A file path a glob of source.ignored_paths matches (``docs/**`` -> ``docs/
    rehearsal.md``, ``*.md`` -> ``rehearsal.md``); checked against the glob by the
    caller."""
    path = pattern.replace("**", "rehearsal").replace("*", "rehearsal").replace("?", "x")
    if path.endswith("/rehearsal"):
        path += ".md"
    return path


def _hook_hint(reason: str, config: Config) -> str:
    """A hook function missing from the emulated account may be one made outside the
    stacks: say how to declare it (``[rehearse] hooks``). Never for bluegreen's own
    verify function: the stacks make it only with [verify] checks, so it is missing on
    AWS too, and declaring it would hide a failure certain there."""
    from bluegreen.stacks.verification import hook_function_name

    missing = re.match(
        r"The Lambda function (\S+) named in the AppSpec file's .* Function not found", reason
    )
    if not missing:
        return reason
    function = missing.group(1)
    if function == hook_function_name(Names.of(config)):
        return (
            f"{reason}; {function} is bluegreen's verify function, which the stacks create "
            "only when [verify] has checks: remove its entry from appspec.yml's Hooks, or add "
            "[verify] checks"
        )
    return (
        f"{reason}; if you make {function} outside bluegreen's stacks, declare how the "
        f"rehearsal plays it in bluegreen.toml: [rehearse] hooks = {{ {function} = "
        '"succeed" } (or "fail", "timeout")'
    )
