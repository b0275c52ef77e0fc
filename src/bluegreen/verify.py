"""Pre-flight checks, offline: is this repository ready to deploy?

``verify(config, repo_dir)`` runs every check and returns a :class:`Report`; nothing is
written and no network is used. The checks:

- **templates**: the three synthesized templates pass cfn-lint (the AWS resource schemas)
  with zero errors and zero warnings in the configured region;
- **repository**: the application repository's files are present and agree with the
  config (:func:`bluegreen.appkit.check`);
- **wiring**: what the pipeline template expects from the repository is there: each
  build's buildspec, the deploy action's taskdef.json and appspec.yml, an image
  placeholder in taskdef.json for every image the deploy action fills, and the same
  containers in taskdef.json as in the service's first task definition; and the deploy
  action reads only build outputs, never the source (repository) artifact;
- **account ids**: no 12-digit AWS account id is committed anywhere in the repository;
- **first commit**: never fails, but warns about files ``deploy``'s first commit through
  CodeCommit's API would refuse (empty, over 6 MB, secrets);
- **exposure**: never fails, but warns when the test listener is open to the whole
  internet (``listeners.test_cidrs`` holds 0.0.0.0/0, the seed's default): during every
  release the untested green tasks answer anyone on it.

A check's ``warnings`` never change the exit code; they are printed (marked "warn") and
listed in ``--output json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bluegreen import appkit, lint, stacks
from bluegreen.config import Config

# An account id as it appears in ARNs and ECR registry hosts.
ACCOUNT_ID = re.compile(r"(?:arn:aws[a-z-]*:[a-z0-9-]*:[a-z0-9-]*:(\d{12}):|(\d{12})\.dkr\.ecr\.)")
_SKIP_DIRS = {".git", ".bluegreen", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache"}
_MAX_SCAN_BYTES = 1_000_000
# CodeDeployToECS configuration keys that name an input artifact: TaskDefinitionTemplate-
# Artifact, AppSpecTemplateArtifact, Image1ArtifactName..Image4ArtifactName (CodePipeline
# action reference, "Amazon Elastic Container Service and CodeDeploy blue-green").
_ARTIFACT_KEYS = ("Artifact", "ArtifactName")


@dataclass
class Check:
    """One named check and the problems it found (empty: passed)."""

    name: str
    description: str
    problems: list[str] = field(default_factory=list)
    bad_input: bool = True  # problems here are the user's to fix (exit 2), else exit 1
    warnings: list[str] = field(default_factory=list)  # worth a look; never fail the check

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class Report:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def exit_code(self) -> int:
        if self.ok:
            return 0
        return 2 if any(c.bad_input and not c.ok for c in self.checks) else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checks": [
                {
                    "name": c.name,
                    "ok": c.ok,
                    "description": c.description,
                    "problems": c.problems,
                    "warnings": c.warnings,
                }
                for c in self.checks
            ],
        }


def verify(config: Config, repo_dir: Path) -> Report:
    """Run every pre-flight check on the repository at ``repo_dir``."""
    built = stacks.build(config)
    return Report(
        [
            _templates(config, built),
            *repository_checks(config, repo_dir, built),
            _first_commit(repo_dir),
            _exposure(config),
        ]
    )


def repository_checks(
    config: Config, repo_dir: Path, built: list[stacks.Stack] | None = None
) -> list[Check]:
    """The checks of the repository's files (no cfn-lint): what ``deploy`` also runs
    before it makes the first commit, which it never redoes."""
    built = stacks.build(config) if built is None else built
    repository = appkit.check(repo_dir, config)
    # A file the repository check already blamed is not blamed again by the wiring check.
    blamed = {problem.split(":", 1)[0] for problem in repository}
    accounts = [
        f"{path}:{line}: account id {account} committed; use the placeholders "
        "bluegreen fills at build time instead"
        for path, line, account in _account_ids(repo_dir)
    ]
    return [
        Check("repository", "application repository files agree with bluegreen.toml", repository),
        Check(
            "wiring",
            "the pipeline finds what it needs in the repository",
            _unblamed(_wiring(built, repo_dir), blamed),
        ),
        # Never deduplicated: a committed account id fails this check wherever it is.
        Check("account-ids", "no AWS account id is committed", accounts),
    ]


def _first_commit(repo_dir: Path) -> Check:
    """Warn (never fail) about files ``deploy``'s first commit cannot carry: it goes
    through CodeCommit's API (empty files, files over 6 MB, secrets refused), where a
    first push with git has none of these limits."""
    from bluegreen.aws import codecommit
    from bluegreen.errors import RepositoryError

    warnings: list[str] = []
    try:
        codecommit.collect_files(repo_dir)
    except RepositoryError as exc:
        lines = [line.strip() for line in exc.message.splitlines()[1:] if line.strip()]
        warnings = [
            f"{line} (bluegreen deploy's first commit would refuse it; a first push with "
            "git would not)"
            for line in lines
        ]
    return Check(
        "first-commit",
        "the files can be deploy's first commit (CodeCommit's API limits)",
        warnings=warnings,
    )


OPEN_TO_ALL = "0.0.0.0/0"


def _exposure(config: Config) -> Check:
    """Warn (never fail) when the test listener is open to the whole internet."""
    port = config.listeners.test_port
    warnings = []
    if OPEN_TO_ALL in config.listeners.test_cidrs:
        warnings.append(
            f"listeners.test_cidrs contains {OPEN_TO_ALL}: during every release the untested "
            f"green tasks answer anyone on the internet on port {port} until production "
            'moves to them; narrow it to your office or VPN range, such as ["203.0.113.0/24"]'
        )
    return Check(
        "exposure",
        f"who can reach the test listener (:{port}): {', '.join(config.listeners.test_cidrs)}",
        warnings=warnings,
    )


def _unblamed(problems: list[str], blamed: set[str]) -> list[str]:
    return [p for p in problems if p.split(":", 1)[0] not in blamed]


def _templates(config: Config, built: list[stacks.Stack]) -> Check:
    problems = []
    for stack in built:
        for finding in lint.lint_template(stack.to_yaml(), stack.filename, [config.project.region]):
            problems.append(f"{stack.filename}: {finding}")
    return Check(
        "templates",
        f"{len(built)} templates pass cfn-lint in {config.project.region}",
        problems,
        bad_input=False,
    )


def _resources(stack: stacks.Stack, kind: str) -> Iterator[dict[str, Any]]:
    resources: dict[str, Any] = stack.template.to_dict().get("Resources", {})
    for resource in resources.values():
        if resource.get("Type") == kind:
            yield resource.get("Properties", {})


def _deploy_reads_only_build_outputs(pipeline_stack: stacks.Stack) -> list[str]:
    """CodeDeployToECS accepts input artifacts of at most 3 MB: "If you are using the
    CodeDeployToECS action to deploy applications, the maximum artifact size is always
    3 MB" (CodePipeline quotas,
    https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html). The source
    artifact is the whole repository zipped, which outgrows that with the first images or
    fonts committed; the builds' outputs (taskdef.json, appspec.yml, imageDetail.json)
    stay small. So every artifact a CodeDeployToECS action reads, as an input or named in
    its configuration, must be some Build action's output."""
    problems: list[str] = []
    for pipeline in _resources(pipeline_stack, "AWS::CodePipeline::Pipeline"):
        stages = pipeline.get("Stages", [])
        built = {
            artifact.get("Name")
            for stage in stages
            for action in stage.get("Actions", [])
            if action.get("ActionTypeId", {}).get("Category") == "Build"
            for artifact in action.get("OutputArtifacts", [])
        }
        for stage in stages:
            for action in stage.get("Actions", []):
                if action.get("ActionTypeId", {}).get("Provider") != "CodeDeployToECS":
                    continue
                where = f"{stage.get('Name')}/{action.get('Name')}"
                conf = action.get("Configuration", {})
                read = [a.get("Name") for a in action.get("InputArtifacts", [])]
                read += [conf[key] for key in sorted(conf) if key.endswith(_ARTIFACT_KEYS)]
                for artifact in dict.fromkeys(read):
                    if artifact not in built:
                        problems.append(
                            f"{pipeline_stack.filename}: the deploy action {where} reads "
                            f"artifact {artifact}, which no build action produces; "
                            "CodeDeployToECS reads at most 3 MB per input artifact, so it "
                            "must read only the builds' outputs"
                        )
    return problems


def _wiring(built: list[stacks.Stack], repo_dir: Path) -> list[str]:
    by_key = {stack.key: stack for stack in built}
    problems: list[str] = _deploy_reads_only_build_outputs(by_key["pipeline"])
    for project in _resources(by_key["pipeline"], "AWS::CodeBuild::Project"):
        buildspec = project.get("Source", {}).get("BuildSpec")
        # BuildSpec is a path in the source or the buildspec itself, inline (CodeBuild
        # API reference, ProjectSource.buildspec); the ECS engine's deploy step is inline.
        inline = isinstance(buildspec, str) and "\n" in buildspec
        if isinstance(buildspec, str) and not inline and not (repo_dir / buildspec).is_file():
            problems.append(
                f"{buildspec}: missing; the build project {project.get('Name')} reads it "
                "(`bluegreen init --force` restores the scaffold's)"
            )
    taskdef = _read_json(repo_dir / "taskdef.json")
    for pipeline in _resources(by_key["pipeline"], "AWS::CodePipeline::Pipeline"):
        for stage in pipeline.get("Stages", []):
            for action in stage.get("Actions", []):
                if action.get("ActionTypeId", {}).get("Provider") != "CodeDeployToECS":
                    continue
                conf = action.get("Configuration", {})
                for key in ("AppSpecTemplatePath", "TaskDefinitionTemplatePath"):
                    path = conf.get(key)
                    if isinstance(path, str) and not (repo_dir / path).is_file():
                        problems.append(f"{path}: missing; the deploy action's {key} names it")
                if taskdef is None:
                    continue
                text = json.dumps(taskdef)
                for n in range(1, 5):
                    placeholder = conf.get(f"Image{n}ContainerName")
                    if placeholder and f"<{placeholder}>" not in text:
                        problems.append(
                            f"taskdef.json: no <{placeholder}> image placeholder; the deploy "
                            f"action fills it with image {n}'s URI"
                        )
    if taskdef is not None:
        wanted = _service_containers(by_key["service"])
        have = {c.get("name") for c in taskdef.get("containerDefinitions", [])}
        if wanted and have != wanted:
            problems.append(
                f"taskdef.json: containers {sorted(map(str, have))} differ from the service's "
                f"{sorted(wanted)}; CodeDeploy would replace the task with other containers"
            )
    return problems


def _service_containers(service: stacks.Stack) -> set[str]:
    names: set[str] = set()
    for taskdef in _resources(service, "AWS::ECS::TaskDefinition"):
        names |= {c.get("Name") for c in taskdef.get("ContainerDefinitions", [])}
    return names


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # appkit.check reports a missing or malformed taskdef.json
    return data if isinstance(data, dict) else None


def _account_ids(repo_dir: Path) -> Iterator[tuple[str, int, str]]:
    for path in sorted(_files(repo_dir)):
        try:
            if path.stat().st_size > _MAX_SCAN_BYTES:
                continue
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            for match in ACCOUNT_ID.finditer(line):
                yield str(path.relative_to(repo_dir)), number, match.group(1) or match.group(2)


def _files(root: Path) -> Iterator[Path]:
    for entry in root.iterdir():
        if entry.is_dir() and not entry.is_symlink():
            if entry.name not in _SKIP_DIRS:
                yield from _files(entry)
        elif entry.is_file():
            yield entry
