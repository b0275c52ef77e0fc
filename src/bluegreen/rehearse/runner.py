"""The rehearsal from start to end: synthesize, provision, and run releases through it.

1. ``bluegreen.synth.synthesize`` writes the templates to a temporary directory, exactly as
   ``bluegreen synth`` does, and the rehearsal provisions *those files* (one source of
   truth: change a template, the rehearsal sees it).
2. The application repository becomes a git repository: a fresh ``init`` scaffold, or a
   copy of the user's working tree (never the tree itself).
3. Each release is a commit: the push is matched against the EventBridge rules that start
   the pipeline, then the pipeline's stages, read back from the emulator, are played:
   Source (the commit), Build (each CodeBuild action), Deploy (simulated CodeDeploy).

On the scaffold there are two releases: the scaffold itself, then the seed post's own
change ("Hello, 網走" -> "こんにちは、あばしり"). On a user's repository there is one
release of its current tree. A ``fault`` applies to the last release.
"""

from __future__ import annotations

import functools
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bluegreen.aws.emulator import Emulator
from bluegreen.aws.session import Clients
from bluegreen.config import Config
from bluegreen.errors import RehearsalError, UsageError
from bluegreen.rehearse import build as builds
from bluegreen.rehearse import pipeline as pipelines
from bluegreen.rehearse import trigger
from bluegreen.rehearse.clock import Clock
from bluegreen.rehearse.codedeploy import PREDEFINED, Deployment, TrafficShift
from bluegreen.rehearse.model import Rehearsal, Release
from bluegreen.rehearse.provision import System, TemplateFile, provision
from bluegreen.rehearse.repository import Repository, copy_tree, replace_text

FAULTS = ("green-unhealthy", "test-traffic-fails", "build-fails")
SEED_GREETING = "Hello, 網走"
SEED_NEW_GREETING = "こんにちは、あばしり"

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Options:
    """What to rehearse.

    ``repository``: the user's application repository (None: a fresh scaffold).
    ``fault``: one of :data:`FAULTS`, injected into the last release.
    ``promote``: with manual reroute, promote on the user's behalf (False: let the wait
    time run out, which stops and rolls back the deployment).
    ``edit_templates``: called with the directory of synthesized templates before they are
    provisioned (for tests: prove that a template change reaches the rehearsal).
    """

    config: Config
    repository: Path | None = None
    fault: str | None = None
    promote: bool = True
    edit_templates: Callable[[Path], None] | None = None


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
    config = options.config
    with tempfile.TemporaryDirectory(prefix="bluegreen-rehearse-") as tmp:
        work = Path(tmp)
        templates = _synthesize(config, work / "synth", options.edit_templates)
        say(f"synthesized {len(templates)} templates")
        repo, plans = _repository(config, work / "repo", options.repository)
        with Emulator(config.project.region) as emulator:
            clients = emulator.clients()
            system = provision(clients, emulator.region, emulator.account_id, templates, say)
            rehearsal = Rehearsal(
                region=emulator.region,
                account_id=emulator.account_id,
                stacks=[
                    {
                        "name": t.stack,
                        "file": t.filename,
                        "resources": sum(1 for r in system.resources if r.stack == t.stack),
                    }
                    for t in templates
                ],
                production_port=config.listeners.production_port,
                test_port=config.listeners.test_port,
                deployment_config="",
            )
            _releases(clients, emulator, system, repo, plans, options, rehearsal, say)
    rehearsal.wall_seconds = time.perf_counter() - started
    return rehearsal


def _synthesize(
    config: Config, out: Path, edit: Callable[[Path], None] | None
) -> list[TemplateFile]:
    from bluegreen.synth import synthesize

    result = synthesize(config, out)
    if edit is not None:
        edit(out)
    return [
        TemplateFile(stack.name, stack.filename, (out / stack.filename).read_text(encoding="utf-8"))
        for stack in result.stacks
    ]


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


def _shifts(system: System) -> dict[str, TrafficShift]:
    """Predefined deployment configs plus any the templates define."""
    shifts = dict(PREDEFINED)
    for created in system.of_type("AWS::CodeDeploy::DeploymentConfig"):
        routing = created.properties.get("TrafficRoutingConfig", {})
        kind = routing.get("Type", "AllAtOnce")
        if kind == "TimeBasedCanary":
            canary = routing["TimeBasedCanary"]
            shift = TrafficShift(
                kind, int(canary["CanaryPercentage"]), int(canary["CanaryInterval"])
            )
        elif kind == "TimeBasedLinear":
            linear = routing["TimeBasedLinear"]
            shift = TrafficShift(
                kind, int(linear["LinearPercentage"]), int(linear["LinearInterval"])
            )
        else:
            shift = TrafficShift("AllAtOnce")
        shifts[str(created.ref)] = shift
    return shifts


def _releases(
    clients: Clients,
    emulator: Emulator,
    system: System,
    repo: Repository,
    plans: list[_Plan],
    options: Options,
    rehearsal: Rehearsal,
    say: Progress,
) -> None:
    clock = Clock()
    pipeline_name = str(system.one("AWS::CodePipeline::Pipeline").ref)
    pipeline = pipelines.read(clients, pipeline_name)
    source = pipeline.one("Source", "CodeCommit")
    deploy = pipeline.one("Deploy", "CodeDeployToECS")
    repository_name = source.setting("RepositoryName")
    metadata = clients.codecommit.get_repository(repositoryName=repository_name)[
        "repositoryMetadata"
    ]
    branch = source.setting("BranchName")
    if branch != repo.branch:
        raise RehearsalError(
            f"the pipeline's source action watches branch {branch}, but releases are "
            f"committed to {repo.branch} (source.branch)"
        )
    pipeline_arn = f"arn:aws:codepipeline:{emulator.region}:{emulator.account_id}:{pipeline_name}"
    shifts = _shifts(system)

    for number, plan in enumerate(plans, start=1):
        last = number == len(plans)
        fault = options.fault if last else None
        changed = plan.change(repo.path) if plan.change else []
        commit = repo.commit(plan.message, clock.now)
        release = Release(number, commit.sha, plan.message, tuple(changed or commit.files), fault)
        rehearsal.releases.append(release)
        say(f"release {number}: commit {commit.short} {plan.message}")
        deployment = Deployment(
            clients,
            clock,
            deploy,
            pipelines.Artifacts(),
            release,
            shifts,
            fault=fault,
            promote=options.promote,
        )
        rehearsal.deployment_config = deployment.group.config

        # Source: the push, and the rule that turns it into a pipeline execution.
        event = trigger.push_event(
            emulator.region,
            emulator.account_id,
            metadata["Arn"],
            repository_name,
            branch,
            commit.sha,
            created=number == 1,
        )
        rules = trigger.rules_starting(clients, pipeline_arn, event)
        polling = source.configuration.get("PollForSourceChanges", "true").lower() == "true"
        if not rules and not polling:
            release.outcome = "failed"
            release.cause = (
                f"Source: a push to {branch} starts no pipeline execution (no enabled "
                f"EventBridge rule matches it and targets {pipeline_name})"
            )
            deployment.step("Push not picked up", release.cause)
            break
        execution = clients.codepipeline.start_pipeline_execution(name=pipeline_name)
        how = f"EventBridge rule {', '.join(rules)}" if rules else "polling"
        deployment.step(
            "Source",
            f"push of {commit.short} to {branch} started execution "
            f"{execution['pipelineExecutionId'][:8]} ({how})",
        )

        # Build: every CodeBuild action, their outputs become artifacts.
        artifacts = deployment.artifacts
        artifacts.sources[source.outputs[0]] = functools.partial(repo.show, commit)
        failed = None
        for index, action in enumerate(pipeline.actions("Build")):
            if action.provider != "CodeBuild":
                raise RehearsalError(
                    f"build action {action.name} uses provider {action.provider}; the "
                    "rehearsal plays CodeBuild actions"
                )
            result = builds.play(
                clients,
                repo,
                commit,
                action,
                emulator.region,
                fault="build-fails" if fault == "build-fails" and index == 0 else None,
            )
            if result.succeeded:
                if result.output:
                    artifacts.files[result.output] = result.files
                pushed = "reused" if result.reused else "pushed"
                image = str(result.image_uri).rsplit("/", 1)[-1]
                deployment.step("Build", f"{action.name}: {pushed} image {image} in ECR")
            else:
                failed = result
                deployment.step("Build failed", f"{action.name}: {result.failure}")
                break
        if failed is not None:
            release.outcome = "failed"
            release.cause = f"Build: {failed.action} ({failed.project}): {failed.failure}"
            deployment.step("Pipeline stopped", "the Deploy stage did not run; nothing deployed")
            break

        deployment.run()
        say(f"release {number}: {release.outcome}")
        if not release.succeeded:
            break
    rehearsal.simulated_seconds = clock.seconds
