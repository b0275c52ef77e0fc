"""bluegreen.toml: the single source of truth, loaded into a validated model.

``load(path)`` reads and validates a config file; ``parse(text)`` does the same for a
string. Every problem becomes a :class:`~bluegreen.errors.ConfigError` naming the key,
the bad value and what is allowed. The defaults reproduce the seed's system (project
``sample3``, environment ``dev``, region ``ap-northeast-1``, app container ``webapp`` on
port 80, production listener 80, test listener 8080, branch ``main``, a 10-minute wait
before reroute).

Resource names are derived from this model in :mod:`bluegreen.names`, nowhere else.
"""

from __future__ import annotations

import ipaddress
import json
import re
import tomllib
import typing
import unicodedata
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bluegreen.errors import ConfigError

CONFIG_FILE = "bluegreen.toml"
BRANCH_BUILDSPEC = "buildspec-branch.yml"
"""The branch-check build's buildspec (builds.branches), at the repository root: no
image directory holds it, so changing it changes neither image's tag."""

# Fargate task sizes AWS accepts: cpu units -> allowed memory (MiB).
FARGATE_SIZES: dict[int, tuple[int, ...]] = {
    256: (512, 1024, 2048),
    512: tuple(range(1024, 4096 + 1, 1024)),
    1024: tuple(range(2048, 8192 + 1, 1024)),
    2048: tuple(range(4096, 16384 + 1, 1024)),
    4096: tuple(range(8192, 30720 + 1, 1024)),
    8192: tuple(range(16384, 61440 + 1, 4096)),
    16384: tuple(range(32768, 122880 + 1, 8192)),
}

# CodeDeploy's predefined ECS deployment configs.
DEPLOYMENT_CONFIGS = (
    "CodeDeployDefault.ECSAllAtOnce",
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes",
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes",
    "CodeDeployDefault.ECSCanary10Percent5Minutes",
    "CodeDeployDefault.ECSCanary10Percent15Minutes",
)

# Every pattern is applied with fullmatch: "$" alone would also accept a trailing newline.
_NAME = re.compile(r"[a-z][a-z0-9-]*[a-z0-9]|[a-z]")
_CONTAINER = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,254}")
_BRANCH = re.compile(r"(?!/)(?!.*//)(?!.*\.\.)(?!.*\.lock\Z)[A-Za-z0-9._/-]+(?<!/)")
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")
_DIRECTORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_REPOSITORY = re.compile(r"[A-Za-z0-9_.-]+")
# "owner/name" (GitLab: group/subgroup/name); CodePipeline's FullRepositoryId.
_FULL_REPOSITORY_ID = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)+")
MAX_IGNORED_PATHS = 8
"""CodePipeline V2 git trigger filters hold 1 to 8 file-path patterns of 1 to 255
characters, and 1 to 8 branch patterns (botocore's codepipeline model:
GitFilePathPatternList, GitFilePathPattern, GitBranchPatternList)."""
MAX_TRIGGER_PATTERN = 255
"""The longest pattern a CodePipeline V2 git trigger filter takes, file path or branch:
255 characters (botocore's codepipeline model: GitFilePathPattern, GitBranchNamePattern)."""
# The health-check path: AWS takes 1 to 1024 characters (HealthCheckPath in the ELBv2 API,
# shape Path: min 1, max 1024; the CloudFormation schema adds no pattern). bluegreen keeps
# to RFC 3986's path characters (pchar and "/") without percent-escapes: the generated
# app's route matches the *decoded* path, so "/a%41" would be requested by the load
# balancer but answered 404 by the app. The path also reaches Fluent Bit's config, the
# README, Python literals and YAML, where none of these characters is special.
_HEALTH_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@/-]{0,1023}")

# Unicode bidirectional embeddings, overrides and isolates: invisible, they make a Python
# literal or a config line read differently from what runs ("Trojan Source",
# CVE-2021-42574).
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


_CONTROL_NAMES = {0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return", 0x1B: "escape"}


def control_characters(text: str) -> list[str]:
    """The control characters in ``text``, sorted, each as ``U+XXXX (name)``.

    Control characters are C0 and C1 controls and DEL (Unicode category Cc, which includes
    tab and newline), the line and paragraph separators U+2028/U+2029 (YAML and many
    editors break lines there) and the bidirectional controls. Config strings end up in
    Fluent Bit config, YAML, JSON, Python literals and shell lines, where a newline
    starts a new directive; no setting needs any of them.
    """
    bad = {
        char
        for char in text
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _BIDI_CONTROLS
    }
    return [f"U+{ord(char):04X} ({_control_name(char)})" for char in sorted(bad)]


def _control_name(char: str) -> str:
    return _CONTROL_NAMES.get(ord(char)) or unicodedata.name(char, "control").lower()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        """Refuse control characters in every string setting (and list of strings)."""
        texts = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        for text in texts:
            bad = control_characters(text) if isinstance(text, str) else []
            if bad:
                raise ValueError(
                    f"contains {', '.join(bad)}: remove {'them' if len(bad) > 1 else 'it'}; "
                    "no setting may hold control characters, which would start a new line "
                    "or directive in the files generated from it"
                )
        return value


class ProjectConfig(_Section):
    """Who this system is: every resource name starts with ``<name>-<environment>``."""

    name: str = "sample3"
    environment: str = "dev"
    region: str = "ap-northeast-1"

    @field_validator("name", "environment")
    @classmethod
    def _dns_label(cls, value: str) -> str:
        if not _NAME.fullmatch(value) or "--" in value:
            raise ValueError(
                "must be lowercase letters, digits and single hyphens, start with a letter "
                "and not end with a hyphen (it prefixes AWS resource names)"
            )
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        if not is_region(value):
            raise ValueError("must be an AWS region code such as ap-northeast-1 or us-east-1")
        return value


def is_region(value: str) -> bool:
    """Whether ``value`` has the form of an AWS region code (ap-northeast-1, us-gov-west-1)."""
    return bool(_REGION.fullmatch(value))


class SourceConfig(_Section):
    """The CodeCommit repository holding the application repository."""

    repository: str = "webappservice"
    branch: str = "main"
    provider: Literal["codecommit", "github", "gitlab", "bitbucket"] = "codecommit"
    """Where the application repository lives: CodeCommit (created by the source stack),
    or GitHub, GitLab or Bitbucket through an AWS CodeConnections connection whose ARN is
    given at deploy time (the pipeline stack's ConnectionArn parameter), never here."""
    full_repository_id: str = ""
    """With a CodeConnections provider: the repository as "owner/name"."""
    ignored_paths: list[str] = Field(default_factory=list)
    """With a CodeConnections provider: glob patterns of files whose changes alone start
    no release (CodePipeline V2 trigger file-path excludes), such as ["docs/**"]."""

    @field_validator("full_repository_id")
    @classmethod
    def _full_repository_id(cls, value: str) -> str:
        if value and not _FULL_REPOSITORY_ID.fullmatch(value):
            raise ValueError(
                'must be "owner/name" (the repository on GitHub, GitLab or Bitbucket), '
                'such as "acme/webapp"'
            )
        return value

    @field_validator("ignored_paths")
    @classmethod
    def _ignored_paths(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_IGNORED_PATHS:
            raise ValueError(f"holds {len(value)} patterns; at most {MAX_IGNORED_PATHS}")
        for pattern in value:
            if not pattern or len(pattern) > MAX_TRIGGER_PATTERN or pattern.startswith("/"):
                raise ValueError(
                    f"{pattern!r} must be a glob relative to the repository root, 1 to "
                    f'{MAX_TRIGGER_PATTERN} characters, such as "docs/**"'
                )
        return value

    @model_validator(mode="after")
    def _provider(self) -> SourceConfig:
        if self.provider == "codecommit":
            if self.full_repository_id or self.ignored_paths:
                raise _KeyedError(
                    "source.provider",
                    "full_repository_id and ignored_paths apply to a CodeConnections "
                    "provider (github, gitlab, bitbucket); set provider or remove them",
                )
        elif not self.full_repository_id:
            raise _KeyedError(
                "source.full_repository_id",
                f'is required with provider = "{self.provider}": the repository as "owner/name"',
            )
        return self

    @field_validator("repository")
    @classmethod
    def _repository(cls, value: str) -> str:
        if not _REPOSITORY.fullmatch(value) or value.endswith(".git"):
            raise ValueError(
                "must be letters, digits, '.', '_' or '-' and not end in .git "
                "(CodeCommit repository naming rules)"
            )
        return value

    @field_validator("branch")
    @classmethod
    def _branch(cls, value: str) -> str:
        parts = value.split("/")
        if (
            not _BRANCH.fullmatch(value)
            or len(value) > 256
            or value.startswith("-")  # git refuses these (git check-ref-format --branch)
            or value == "HEAD"
            or any(part.startswith(".") or part.endswith((".", ".lock")) for part in parts)
        ):
            raise ValueError("must be a git branch name such as main or release/1.x")
        return value


def _is_branch(value: str) -> bool:
    """Whether ``value`` is a branch name ``source.branch`` accepts (git's rules, and at
    most 256 characters: CodeCommit's BranchName, botocore's codecommit model)."""
    parts = value.split("/")
    return not (
        not _BRANCH.fullmatch(value)
        or len(value) > 256
        or value.startswith("-")
        or value == "HEAD"
        or any(part.startswith(".") or part.endswith((".", ".lock")) for part in parts)
    )


class ContainerConfig(_Section):
    """A container of the task: its name and the repository directory it is built from."""

    name: str
    directory: str

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not _CONTAINER.fullmatch(value):
            raise ValueError(
                "must start with a letter and contain only letters, digits, '_' and '-' "
                "(ECS container name rules)"
            )
        if value.lower() != value:
            raise ValueError("must be lowercase (it also names an ECR repository)")
        return value

    @field_validator("directory")
    @classmethod
    def _directory(cls, value: str) -> str:
        if not _DIRECTORY.fullmatch(value):
            raise ValueError("must be a single directory name relative to the repository root")
        return value


class AppConfig(ContainerConfig):
    """The web application container."""

    name: str = "webapp"
    directory: str = "webapp"
    port: int = 80
    greeting: str = "Hello, 網走"

    @field_validator("port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError("must be a TCP port from 1 to 65535")
        return value


class RouterConfig(ContainerConfig):
    """The FireLens log-router sidecar (Fluent Bit with a custom config baked in)."""

    name: str = "log-router"
    directory: str = "firelens"


class TaskConfig(_Section):
    """Fargate task size and how many tasks the service runs."""

    cpu: int = 256
    memory: int = 512
    desired_count: int = 1

    @field_validator("desired_count")
    @classmethod
    def _count(cls, value: int) -> int:
        if value < 1:
            raise ValueError("must be at least 1 (a blue/green service needs a running task)")
        if value > 100:
            raise ValueError("must be at most 100")
        return value

    @field_validator("cpu")
    @classmethod
    def _cpu(cls, value: int) -> int:
        if value not in FARGATE_SIZES:
            allowed = ", ".join(str(c) for c in FARGATE_SIZES)
            raise ValueError(f"must be one of the Fargate cpu sizes: {allowed}")
        return value

    @model_validator(mode="after")
    def _fargate_pair(self) -> TaskConfig:
        allowed = FARGATE_SIZES[self.cpu]
        if self.memory not in allowed:
            raise _KeyedError(
                "task.memory",
                f"{self.memory} is not a Fargate memory size for cpu {self.cpu}; allowed: "
                f"{_ranges(allowed)} (MiB)",
            )
        return self


class ListenersConfig(_Section):
    """The ALB's two listeners: production traffic and the green test route."""

    production_port: int = 80
    test_port: int = 8080
    test_cidrs: list[str] = Field(default_factory=lambda: ["0.0.0.0/0"])

    @field_validator("production_port", "test_port")
    @classmethod
    def _port(cls, value: int) -> int:
        if not 1 <= value <= 65535:
            raise ValueError("must be a TCP port from 1 to 65535")
        return value

    @field_validator("test_cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("must list at least one CIDR (use your office range, not nothing)")
        for cidr in value:
            try:
                net = ipaddress.ip_network(cidr, strict=True)
            except ValueError:
                raise ValueError(f"{cidr!r} is not an IPv4 CIDR such as 203.0.113.0/24") from None
            if net.version != 4:
                raise ValueError(f"{cidr!r} is not an IPv4 CIDR (the ALB is IPv4)")
        return value

    @model_validator(mode="after")
    def _distinct(self) -> ListenersConfig:
        if self.production_port == self.test_port:
            raise _KeyedError(
                "listeners.test_port",
                f"{self.test_port} equals listeners.production_port; the test listener needs "
                "its own port (the seed uses 80 and 8080)",
            )
        return self


class HealthCheckConfig(_Section):
    """The target groups' health check of the app container.

    The defaults are the fastest AWS recommends for a service that starts quickly (the
    scaffold's app answers within a second of starting). Amazon ECS Best Practices Guide,
    "Load balancer health check parameters" (now "Optimize load balancer health check
    parameters for Amazon ECS" in the ECS developer guide,
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-healthcheck.html):
    "By default, the load balancer checks every 30 seconds", "requires five passing
    health checks before it reports that the target container is healthy"; "You can
    speed up the health-check process if your service starts up and stabilizes in under
    10 seconds": HealthCheckIntervalSeconds 5, HealthyThresholdCount 2, "With this
    setting, the health-check process takes 10 seconds compared to the default of two
    minutes and 30 seconds." Both are the minimums the ELBv2 API accepts
    (CreateTargetGroup: interval 5-300, healthy threshold 2-10). The timeout must be less
    than the interval (ELBv2 refuses "ValidationError: Health check interval must be
    greater than the timeout.", reported in terraform-linters/tflint-ruleset-aws#404 and
    zalando-incubator/kube-ingress-aws-controller#392), so 4 s, the longest below 5; the
    unhealthy threshold is the ALB default, 2 (CreateTargetGroup, UnhealthyThresholdCount:
    "the default is 2"), which takes a failing task out of service after 10 s.
    """

    path: str = "/health"
    interval_seconds: int = 5
    timeout_seconds: int = 4
    healthy_threshold: int = 2
    unhealthy_threshold: int = 2

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _HEALTH_PATH.fullmatch(value):
            raise ValueError(
                "must be a URL path starting with '/', such as /health: at most 1024 "
                "characters, each a letter, digit or one of - . _ ~ ! $ & ' ( ) * + , ; = : @ / "
                "(no spaces, '%' escapes, '?' or '#')"
            )
        if value == "/":
            raise ValueError(
                "must not be '/' alone: the app serves the greeting there, and the log router "
                "drops the lines of successful health checks, which would hide every visit to "
                "the home page; use a path of its own such as /health"
            )
        return value

    @field_validator("interval_seconds")
    @classmethod
    def _interval(cls, value: int) -> int:
        if not 5 <= value <= 300:
            raise ValueError("must be from 5 to 300 seconds")
        return value

    @field_validator("timeout_seconds")
    @classmethod
    def _timeout(cls, value: int) -> int:
        if not 2 <= value <= 120:
            raise ValueError("must be from 2 to 120 seconds")
        return value

    @field_validator("healthy_threshold", "unhealthy_threshold")
    @classmethod
    def _threshold(cls, value: int) -> int:
        if not 2 <= value <= 10:
            raise ValueError("must be from 2 to 10")
        return value

    @model_validator(mode="after")
    def _timeout_below_interval(self) -> HealthCheckConfig:
        if self.timeout_seconds >= self.interval_seconds:
            raise _KeyedError(
                "health_check.timeout_seconds",
                f"{self.timeout_seconds} must be less than health_check.interval_seconds "
                f"({self.interval_seconds})",
            )
        return self


ENGINES = ("codedeploy", "ecs")
"""deployment.engine: who shifts traffic. "codedeploy" (the seed's: CodeDeploy blue/green,
deployment controller CODE_DEPLOY) or "ecs" (Amazon ECS built-in blue/green, deployment
controller ECS; the ECS developer guide's CodeDeploy page opens with "We recommend that
you use the Amazon ECS blue/green deployment")."""

ECS_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")

# Ranges of ECS's deployment configuration (botocore ECS model and the ECS API reference:
# DeploymentConfiguration.bakeTimeInMinutes, LinearConfiguration, CanaryConfiguration;
# the same ranges are in the AWS::ECS::Service schema cfn-lint ships).
ECS_BAKE_MINUTES = (0, 1440)
ECS_STEP_PERCENT = (3.0, 100.0)  # "multiples of 0.1 from 3.0 to 100.0"
ECS_CANARY_PERCENT = (0.1, 100.0)  # "multiples of 0.1 from 0.1 to 100.0"
# A lifecycle hook's timeout (DeploymentLifecycleHookTimeoutConfiguration.timeoutInMinutes,
# "Minimum value of 1. Maximum value of 20160"): the PAUSE hook of reroute = "manual".
ECS_PAUSE_MINUTES = (1, 20160)

CLOUDFORMATION_DEPLOYMENT_LIMIT_MINUTES = 33 * 60
"""CloudFormation refuses a LINEAR or CANARY service whose computed deployment time
exceeds 33 hours ("CFN operations time out after 36 hours ... CFN rejects deployments
when the calculated deployment time exceeds 33 hours": AWS::ECS::Service
CanaryConfiguration and LinearConfiguration, CloudFormation template reference; the
same text is in the resource schema cfn-lint ships). Canary: BakeTimeInMinutes +
CanaryBakeTimeInMinutes; linear: BakeTimeInMinutes + StepBakeTimeInMinutes x steps."""

CODEBUILD_ACTION_LIMIT_MINUTES = 8 * 60
"""How long CodePipeline lets a CodeBuild action run: "Length of time before an action
times out: ... CodeBuild build action and test action: 8 hours ... All other actions: 1
hour" (Quotas in AWS CodePipeline, the user guide's source in
awsdocs/aws-codepipeline-user-guide, doc_source/limits.md at its last revision 3ae4404;
https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html). The live page
now splits that row: its configurable-timeouts table no longer names CodeBuild and ends
"All other actions: 1 hour", and it points to "the following table for non-configurable
timeouts" for the rest; that second table is not in the stored sources, so the 8 hours
is the last figure AWS published for a CodeBuild action (check the live page's
non-configurable table). With engine "ecs" the pipeline's Deploy action is a CodeBuild
build that waits for the deployment (:mod:`bluegreen.stacks.pipeline`), so the manual
wait must end inside it."""

DEPLOY_STEP_MARGIN_MINUTES = 60
"""What the deploy step needs besides the waits it is configured with: its own start
(CodeBuild provisioning, about a minute on a cached image), registering the task
definition, the green tasks starting and passing the load balancer's health checks, the
test traffic shift and the production shift. An estimate with room to spare, not a
documented figure: the build's timeout is the waits plus this margin."""


def linear_steps(step_percent: float) -> int:
    """Deployment steps CloudFormation counts for a linear strategy: (100 / step) - 1
    when the step divides 100 evenly, else floor(100 / step) ("the number of deployment
    steps", AWS::ECS::Service LinearConfiguration). The step bake is not applied after
    the last shift."""
    tenths = round(step_percent * 10)
    if 1000 % tenths == 0:
        return 1000 // tenths - 1
    return 1000 // tenths


class EcsDeploymentConfig(_Section):
    """ECS built-in blue/green: how production traffic moves and how long blue is kept."""

    # BLUE_GREEN shifts all production traffic at once; LINEAR in equal steps with a bake
    # between them; CANARY a first slice, a bake, then the rest (DeploymentConfiguration
    # .strategy, ECS API reference).
    strategy: Literal["BLUE_GREEN", "LINEAR", "CANARY"] = "BLUE_GREEN"
    # Minutes blue and green both run after production moved (bakeTimeInMinutes); blue is
    # removed afterwards. 15 is what CloudFormation sets when it is left out for
    # blue/green, linear and canary (AWS::ECS::Service DeploymentConfiguration).
    bake_minutes: int = 15
    step_percent: float = 10.0  # LINEAR: percent of production moved per step
    step_bake_minutes: int = 6  # LINEAR: minutes between two steps
    canary_percent: float = 5.0  # CANARY: the first slice
    canary_bake_minutes: int = 10  # CANARY: minutes before the rest moves
    # Whether the pipeline's Deploy action also waits through the bake. False: it
    # succeeds once production is on green (the bake does not hold the pipeline).
    pipeline_waits_for_bake: bool = False

    @field_validator("bake_minutes", "step_bake_minutes", "canary_bake_minutes")
    @classmethod
    def _minutes(cls, value: int) -> int:
        low, high = ECS_BAKE_MINUTES
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high} minutes (ECS allows up to 24 hours)")
        return value

    @field_validator("step_percent")
    @classmethod
    def _step(cls, value: float) -> float:
        return _percent(value, ECS_STEP_PERCENT)

    @field_validator("canary_percent")
    @classmethod
    def _canary(cls, value: float) -> float:
        return _percent(value, ECS_CANARY_PERCENT)

    @model_validator(mode="after")
    def _strategy_keys(self) -> EcsDeploymentConfig:
        own = {
            "step_percent": "LINEAR",
            "step_bake_minutes": "LINEAR",
            "canary_percent": "CANARY",
            "canary_bake_minutes": "CANARY",
        }
        for key, strategy in own.items():
            if key in self.model_fields_set and self.strategy != strategy:
                raise _KeyedError(
                    f"deployment.ecs.{key}",
                    f'applies to strategy = "{strategy}" only (the strategy is '
                    f'"{self.strategy}"): remove it, or set deployment.ecs.strategy = '
                    f'"{strategy}"',
                )
        total = self.deployment_minutes()
        if total > CLOUDFORMATION_DEPLOYMENT_LIMIT_MINUTES:
            if self.strategy == "CANARY":
                formula = (
                    f"bake_minutes + canary_bake_minutes = {self.bake_minutes} + "
                    f"{self.canary_bake_minutes} = {total}"
                )
                key = "deployment.ecs.canary_bake_minutes"
            else:
                steps = linear_steps(self.step_percent)
                formula = (
                    f"bake_minutes + step_bake_minutes x {steps} steps = {self.bake_minutes} "
                    f"+ {self.step_bake_minutes} x {steps} = {total}"
                )
                key = "deployment.ecs.step_bake_minutes"
            raise _KeyedError(
                key,
                f"{formula} minutes, more than CloudFormation's 33 hours "
                f"({CLOUDFORMATION_DEPLOYMENT_LIMIT_MINUTES} minutes) for a "
                f"{self.strategy.lower()} service: CloudFormation refuses the template "
                "(its operations time out after 36 hours); shorten the bakes",
            )
        return self

    def shift_minutes(self) -> int:
        """Minutes production takes to move once it starts: the bakes between steps."""
        if self.strategy == "LINEAR":
            return self.step_bake_minutes * linear_steps(self.step_percent)
        if self.strategy == "CANARY":
            return self.canary_bake_minutes
        return 0

    def deployment_minutes(self) -> int:
        """CloudFormation's computed deployment time (CLOUDFORMATION_DEPLOYMENT_LIMIT_MINUTES)."""
        return self.bake_minutes + self.shift_minutes()


def _percent(value: float, bounds: tuple[float, float]) -> float:
    low, high = bounds
    tenths = value * 10
    if not low <= value <= high or abs(tenths - round(tenths)) > 1e-9:
        raise ValueError(f"must be a multiple of 0.1 from {low:g} to {high:g} (percent)")
    value = round(value, 1)
    if not _lint_multiple_of_tenth(value):
        neighbours = [
            f"{v:g}"
            for v in (round(value - 0.1, 1), round(value + 0.1, 1))
            if low <= v <= high and _lint_multiple_of_tenth(v)
        ]
        raise ValueError(
            f"is a multiple of 0.1 for ECS, but cfn-lint (which `bluegreen verify` and "
            f"`synth --lint` run on the templates) computes {value:g} / 0.1 in floating "
            f"point as {value / 0.1!r} and rejects it (E3002 'not a multiple of 0.1'); use "
            + (" or ".join(neighbours) if neighbours else "a whole percent")
        )
    return value


def _lint_multiple_of_tenth(value: float) -> bool:
    """cfn-lint's multipleOf check of a float (cfnlint.jsonschema._keywords.multipleOf:
    ``int(value / 0.1) == value / 0.1``), which the resource schema applies to
    StepPercent and CanaryPercent."""
    quotient = value / 0.1
    return int(quotient) == quotient


class DeploymentConfig(_Section):
    """Who shifts traffic from blue to green (engine), and how."""

    engine: Literal["codedeploy", "ecs"] = "codedeploy"
    config: str = "CodeDeployDefault.ECSAllAtOnce"
    # The seed's setting: green waits on the test listener for a person to reroute
    # (`bluegreen promote`); the deployment is stopped if nobody does in time.
    reroute: Literal["auto", "manual"] = "manual"
    wait_minutes: int = 10
    termination_wait_minutes: int = 15
    auto_rollback: bool = True
    ecs: EcsDeploymentConfig = Field(default_factory=EcsDeploymentConfig)

    @field_validator("config")
    @classmethod
    def _config(cls, value: str) -> str:
        if value not in DEPLOYMENT_CONFIGS:
            raise ValueError("must be one of: " + ", ".join(DEPLOYMENT_CONFIGS))
        return value

    @field_validator("wait_minutes")
    @classmethod
    def _wait(cls, value: int, info: ValidationInfo) -> int:
        if info.data.get("engine") == "ecs":
            low, high = ECS_PAUSE_MINUTES
            if not low <= value <= high:
                raise ValueError(
                    f'must be from {low} to {high} minutes with engine = "ecs" (the PAUSE '
                    "hook's timeout: ECS allows up to 14 days)"
                )
            return value
        if not 1 <= value <= 2880:
            raise ValueError(_WAIT_RANGE)
        return value

    @field_validator("termination_wait_minutes")
    @classmethod
    def _termination(cls, value: int) -> int:
        if not 0 <= value <= 2880:
            raise ValueError("must be from 0 to 2880 minutes (CodeDeploy allows up to 2 days)")
        return value

    @model_validator(mode="after")
    def _engine_keys(self) -> DeploymentConfig:
        """Settings of one engine are refused under the other, naming the right key."""
        if self.engine == "codedeploy" and "ecs" in self.model_fields_set:
            raise _KeyedError(
                "deployment.ecs",
                'belongs to deployment.engine = "ecs" (the engine is "codedeploy"): with '
                "CodeDeploy, deployment.config sets how traffic moves and "
                "deployment.termination_wait_minutes how long blue is kept; or set "
                'deployment.engine = "ecs"',
            )
        if self.engine == "ecs":
            for key, instead in (
                (
                    "config",
                    "deployment.ecs.strategy (BLUE_GREEN, LINEAR or CANARY, with "
                    "deployment.ecs.step_percent/step_bake_minutes or "
                    "canary_percent/canary_bake_minutes)",
                ),
                ("termination_wait_minutes", "deployment.ecs.bake_minutes"),
            ):
                if key in self.model_fields_set:
                    raise _KeyedError(
                        f"deployment.{key}",
                        f'is a CodeDeploy setting, and deployment.engine is "ecs": use {instead}',
                    )
        return self

    @model_validator(mode="after")
    def _manual_needs_window(self) -> DeploymentConfig:
        ecs = self.engine == "ecs"
        if self.reroute == "auto" and "wait_minutes" in self.model_fields_set:
            why = (
                "ECS shifts production as soon as green passes the test traffic shift (no "
                "PAUSE hook)"
                if ecs
                else "CodeDeploy reroutes as soon as green is ready and offers no timed "
                "automatic reroute for ECS"
            )
            raise _KeyedError(
                "deployment.wait_minutes",
                f'{self.wait_minutes} does not apply with reroute = "auto": {why}; remove '
                'the key, or use reroute = "manual" for a window to run `bluegreen promote`',
            )
        if ecs:
            needed = deploy_step_minutes(self)
            if needed > CODEBUILD_ACTION_LIMIT_MINUTES:
                raise _KeyedError(
                    "deployment.wait_minutes" if self.reroute == "manual" else "deployment.ecs",
                    f"the pipeline's Deploy step waits for the deployment: {_budget(self)} = "
                    f"{needed} minutes, more than the {CODEBUILD_ACTION_LIMIT_MINUTES} "
                    "minutes CodePipeline lets a CodeBuild action run (Quotas in AWS "
                    "CodePipeline), so the wait would be cut off; shorten "
                    "deployment.wait_minutes or the shift's bakes"
                    + (
                        ", or set deployment.ecs.pipeline_waits_for_bake = false"
                        if self.ecs.pipeline_waits_for_bake
                        else ""
                    ),
                )
        return self


def deploy_step_minutes(deployment: DeploymentConfig) -> int:
    """How long the ECS engine's Deploy step may have to wait for a deployment: the manual
    wait, the shift's bakes, the bake when the pipeline waits for it, and a margin
    (DEPLOY_STEP_MARGIN_MINUTES). Its CodeBuild timeout."""
    ecs = deployment.ecs
    total = DEPLOY_STEP_MARGIN_MINUTES + ecs.shift_minutes()
    if deployment.reroute == "manual":
        total += deployment.wait_minutes
    if ecs.pipeline_waits_for_bake:
        total += ecs.bake_minutes
    return total


def _budget(deployment: DeploymentConfig) -> str:
    parts = []
    if deployment.reroute == "manual":
        parts.append(f"wait_minutes {deployment.wait_minutes}")
    if deployment.ecs.shift_minutes():
        parts.append(f"the shift's bakes {deployment.ecs.shift_minutes()}")
    if deployment.ecs.pipeline_waits_for_bake:
        parts.append(f"bake_minutes {deployment.ecs.bake_minutes}")
    parts.append(f"{DEPLOY_STEP_MARGIN_MINUTES} for the rest")
    return " + ".join(parts)


_WAIT_RANGE = (
    "must be from 1 to 2880 minutes (CodeDeploy allows up to 2 days): how long a person "
    'has to run `bluegreen promote` (reroute = "manual") before the deployment is stopped'
)


class NetworkConfig(_Section):
    """The VPC: two public subnets in two availability zones."""

    vpc_cidr: str = "10.0.0.0/16"

    @field_validator("vpc_cidr")
    @classmethod
    def _vpc(cls, value: str) -> str:
        try:
            net = ipaddress.ip_network(value, strict=True)
        except ValueError:
            raise ValueError("must be an IPv4 CIDR such as 10.0.0.0/16") from None
        if net.version != 4 or not 16 <= net.prefixlen <= 24:
            raise ValueError("must be an IPv4 CIDR from /16 to /24 (AWS VPC size limits)")
        return value


class LogsConfig(_Section):
    """CloudWatch Logs retention for the app's logs and the router's own."""

    retention_days: int = 14

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in RETENTION_DAYS:
            raise ValueError(
                "must be a CloudWatch Logs retention: " + ", ".join(map(str, RETENTION_DAYS))
            )
        return value


RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


HOOK_PLAYS = ("succeed", "fail", "timeout")
"""How the rehearsal plays a hook function whose code it cannot run
(:mod:`bluegreen.emulator.hooks`)."""

_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""A Lambda function name: "1 to 64 characters ... letters, numbers, hyphens, or
underscores" (Lambda API reference, CreateFunction: FunctionName)."""


class RehearseConfig(_Section):
    """How `bluegreen rehearse` plays what the emulator cannot run."""

    hooks: dict[str, str] = Field(default_factory=dict)
    """AppSpec hook function name -> succeed | fail | timeout, for a Lambda function of the
    user's own (the emulator runs bluegreen's hooks itself; any other hook named in
    appspec.yml fails the rehearsed release until it is declared here)."""

    @field_validator("hooks")
    @classmethod
    def _hooks(cls, value: dict[str, str]) -> dict[str, str]:
        for name, play in value.items():
            if not _FUNCTION_NAME.fullmatch(name):
                raise ValueError(
                    f"{name!r} is not a Lambda function name (1 to 64 letters, digits, "
                    "hyphens or underscores; the name, not the ARN)"
                )
            if play not in HOOK_PLAYS:
                raise ValueError(
                    f"hook {name} = {play!r}: choose one of " + ", ".join(map(repr, HOOK_PLAYS))
                )
        return value


MAX_SHARED_DIRECTORIES = 10
"""Directories ``builds.shared`` may name (each one is hashed into both image tags)."""

MAX_BRANCH_PATTERNS = 10
"""Patterns ``builds.branches`` may hold (each becomes one ``wildcard`` of the
EventBridge rule's ``referenceName`` array)."""


def trigger_glob(pattern: str) -> str:
    """A builds.branches pattern as a CodePipeline trigger glob: ``*`` (any characters,
    ``/`` included, EventBridge's wildcard) becomes ``**``."""
    return pattern.replace("*", "**")


def branch_pattern_matches(pattern: str, branch: str) -> bool:
    """Whether ``branch`` matches ``pattern`` as EventBridge's ``wildcard`` matches it:
    ``*`` is zero or more characters, ``/`` included, and everything else is literal
    (EventBridge user guide, "Content filtering in Amazon EventBridge event patterns",
    wildcard matching)."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, branch, flags=re.DOTALL) is not None


class BuildsConfig(_Section):
    """Selective builds and branch flows.

    ``shared``: repository directories both images are built with besides their own
    (passed to ``docker build`` as named build contexts); their content is part of both
    image tags, so a change there rebuilds both images and nothing else does.
    ``branches``: branch-name patterns (``*`` for any characters) whose pushes build both
    images, run the app's tests and bluegreen's checks, and deploy nothing.
    """

    shared: list[str] = Field(default_factory=list)
    branches: list[str] = Field(default_factory=lambda: ["feature/*"])

    @field_validator("shared")
    @classmethod
    def _shared(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_SHARED_DIRECTORIES:
            raise ValueError(
                f"holds {len(value)} directories; at most {MAX_SHARED_DIRECTORIES} are allowed"
            )
        for directory in value:
            if not _DIRECTORY.fullmatch(directory):
                raise ValueError(
                    f"{directory!r} must be a single directory name relative to the "
                    'repository root, such as "common"'
                )
        if len(set(value)) != len(value):
            raise ValueError("names a directory twice; list each once")
        return value

    @field_validator("branches")
    @classmethod
    def _branches(cls, value: list[str]) -> list[str]:
        if len(value) > MAX_BRANCH_PATTERNS:
            raise ValueError(
                f"holds {len(value)} patterns; at most {MAX_BRANCH_PATTERNS} are allowed"
            )
        for pattern in value:
            if "**" in pattern:
                # EventBridge refuses consecutive wildcard characters in a wildcard
                # pattern (InvalidEventPatternException; same user guide section).
                raise ValueError(
                    f"{pattern!r} has '**'; one '*' already matches any characters, '/' "
                    "included (write feature/* for feature/a and feature/a/b)"
                )
            if not _is_branch(pattern.replace("*", "x")):
                raise ValueError(
                    f"{pattern!r} must be a git branch name in which '*' stands for any "
                    "characters, such as feature/* or fix-*"
                )
        if len(set(value)) != len(value):
            raise ValueError("holds a pattern twice; list each once")
        return value


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
"""Methods a check may send (RFC 9110 section 9 less CONNECT and TRACE, which a load
balancer check has no use for)."""

MAX_CHECKS = 10
"""Checks ``verify.checks`` may hold: each is sent ``count`` times by the hook, and the
hook's whole run must fit in one Lambda invocation with CodeDeploy (VERIFY_BUDGET_SECONDS)."""

MAX_CHECK_COUNT = 100
CHECK_LATENCY_MS = (1, 30_000)
"""A check's latency limit: also the request's timeout, so one request never holds the
hook longer than 30 seconds."""

CHECK_INTERVAL_SECONDS = (0, 60)

LAMBDA_MAX_TIMEOUT_SECONDS = 900
"""The longest a Lambda invocation may run: "The maximum allowed value is 900 seconds"
(Lambda API reference, CreateFunction: Timeout). CodeDeploy invokes its hook once per
deployment ("Each hook is executed once per deployment": CodeDeploy User Guide, AppSpec
'hooks' section for an Amazon ECS deployment), so with CodeDeploy every check must run
inside one invocation."""

VERIFY_BUDGET_SECONDS = LAMBDA_MAX_TIMEOUT_SECONDS - 60
"""What the checks may take in one invocation, keeping a minute for the report."""

ECS_CALLBACK_SECONDS = (1, 900)
"""verify.callback_seconds: the callBackDelay the ECS hook returns with IN_PROGRESS when
checks remain ("By default, the delay is 30 seconds. You can customize this value by
returning a callBackDelay alongside the hookStatus": ECS developer guide, "Lambda hooks
for Amazon ECS service deployments"). bluegreen keeps it within a Lambda timeout."""

MAX_ALARMS = 10
"""Alarms a deployment watches: CodeDeploy's alarm configuration holds "a maximum of 10
alarms" (AWS::CodeDeploy::DeploymentGroup AlarmConfiguration.Alarms); ECS's deployment
alarms document no limit, and both engines keep the same one."""

TARGET_GROUP_ALARMS = {"5xx": 1, "unhealthy": 2, "p95": 3}
"""The stack's alarms on each of the two target groups (5xx answers of the targets,
unhealthy hosts, p95 latency), with the one-minute periods each must see breaching
(EvaluationPeriods = DatapointsToAlarm; stacks/verification.py)."""

STACK_ALARMS_PER_TARGET_GROUP = len(TARGET_GROUP_ALARMS)

LOAD_BALANCER_ALARMS = {"elb-5xx": 1}
"""The stack's load-balancer-level alarm: 5xx the load balancer itself answers
(HTTPCode_ELB_5XX_Count: 502/503/504 when a target resets, hangs or is gone), which the
targets' 5xx does not count. ECS recommends it for deployment alarms ("use the
HTTPCode_ELB_5XX_Count and HTTPCode_ELB_4XX_Count Application Load Balancer metrics": ECS
developer guide, "How CloudWatch alarms detect Amazon ECS deployment failures", Recommended
alarms); the metric has the LoadBalancer dimension only (ALB user guide, "CloudWatch metrics
for your Application Load Balancer"), so it judges the new revision only while all
production traffic is on it."""

STACK_ALARMS = 2 * STACK_ALARMS_PER_TARGET_GROUP + len(LOAD_BALANCER_ALARMS)
"""Alarms the service stack creates with verify.alarms.enabled: 7 of CodeDeploy's 10."""

ALARM_PUBLISH_MARGIN_MINUTES = 2
"""Minutes of production traffic an alarm needs beyond its evaluation periods: "Elastic Load
Balancing measures and sends its metrics in 60-second intervals" (ALB user guide,
"CloudWatch metrics for your Application Load Balancer"), so a minute's datapoint exists
only after the minute ends, and CloudWatch evaluates a one-minute alarm once a minute (the
emulator's model: emulator/alarms.py)."""


def alarm_minutes_needed() -> int:
    """The shortest window of production traffic on the new revision in which every stack
    alarm can act: its longest evaluation (p95's 3 one-minute periods) plus the margin."""
    periods = max([*TARGET_GROUP_ALARMS.values(), *LOAD_BALANCER_ALARMS.values()])
    return periods + ALARM_PUBLISH_MARGIN_MINUTES


MAX_CHECKS_SIZE = 1500
"""The checks' JSON size limit (:func:`checks_size`): they are part of the hook's code, inline
in the service template (stacks/verification.py), which must stay within CloudFormation's
51,200-byte template body with every other resource (tests/test_stacks_verify.py)."""


def checks_size(checks: list[CheckConfig]) -> int:
    """Characters of the checks as the hook's package writes them (compact JSON)."""
    return len(json.dumps([c.model_dump() for c in checks], separators=(",", ":")))


_CHECK_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@/?%-]{0,1023}")
"""A check's request target: a path, optionally with a query (RFC 3986 pchar, '/', '?'
and percent-escapes, sent as written); no '#' (a fragment is never sent) and no spaces."""


class CheckConfig(_Section):
    """One HTTP check of the new revision through the test listener."""

    path: str = "/"
    method: Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] = "GET"
    status: int = 200
    body: str = ""
    """Text the response body must contain ("" checks nothing)."""
    body_pattern: str = ""
    """Or a Python regular expression the body must match somewhere (re.search)."""
    count: int = 3
    """How many times the request is sent; every one must pass."""
    max_latency_ms: int = 2000
    """Each answer must arrive within this many milliseconds (also the request timeout)."""

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _CHECK_PATH.fullmatch(value):
            raise ValueError(
                "must be a URL path starting with '/', such as / or /api/items?limit=1: at "
                "most 1024 characters, letters, digits and - . _ ~ ! $ & ' ( ) * + , ; = : @ / "
                "? % (no spaces or '#')"
            )
        return value

    @field_validator("status")
    @classmethod
    def _status(cls, value: int) -> int:
        if not 100 <= value <= 599:
            raise ValueError("must be an HTTP status code from 100 to 599")
        return value

    @field_validator("body_pattern")
    @classmethod
    def _pattern(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"is not a Python regular expression: {exc}") from None
        return value

    @field_validator("count")
    @classmethod
    def _count(cls, value: int) -> int:
        if not 1 <= value <= MAX_CHECK_COUNT:
            raise ValueError(f"must be from 1 to {MAX_CHECK_COUNT} requests")
        return value

    @field_validator("max_latency_ms")
    @classmethod
    def _latency(cls, value: int) -> int:
        low, high = CHECK_LATENCY_MS
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high} milliseconds")
        return value

    @model_validator(mode="after")
    def _one_body_test(self) -> CheckConfig:
        if self.body and self.body_pattern:
            raise ValueError(
                "sets both body and body_pattern; keep one (a pattern can hold the text)"
            )
        return self


class AlarmsConfig(_Section):
    """CloudWatch alarms that roll a release back from test traffic to the end of the
    termination wait (CodeDeploy) or bake (ECS)."""

    enabled: bool = False
    """Create the stack's alarms on both target groups (the new revision is in one) and on
    the load balancer's own 5xx answers."""
    http_5xx_per_minute: int = 5
    """Alarm when the targets answer this many 5xx in one minute."""
    unhealthy_hosts: int = 1
    """Alarm when this many targets are unhealthy for two minutes in a row."""
    p95_latency_ms: int = 2000
    """Alarm when the 95th percentile response time exceeds this for three minutes."""
    existing: list[str] = Field(default_factory=list)
    """Names of CloudWatch alarms of your own that also roll a release back."""
    ignore_poll_failure: bool = False
    """CodeDeploy only: continue when CloudWatch cannot be asked for the alarms' state."""

    @field_validator("http_5xx_per_minute")
    @classmethod
    def _errors(cls, value: int) -> int:
        if not 1 <= value <= 100_000:
            raise ValueError("must be from 1 to 100000 responses a minute")
        return value

    @field_validator("unhealthy_hosts")
    @classmethod
    def _hosts(cls, value: int) -> int:
        if not 1 <= value <= 100:
            raise ValueError("must be from 1 to 100 targets (task.desired_count is at most 100)")
        return value

    @field_validator("p95_latency_ms")
    @classmethod
    def _p95(cls, value: int) -> int:
        if not 10 <= value <= 60_000:
            raise ValueError(
                "must be from 10 to 60000 milliseconds (the load balancer's idle timeout "
                "defaults to 60 s)"
            )
        return value

    @field_validator("existing")
    @classmethod
    def _existing(cls, value: list[str]) -> list[str]:
        for name in value:
            # CloudWatch AlarmName: 1 to 255 characters (botocore's cloudwatch model).
            if not 1 <= len(name) <= 255:
                raise ValueError(f"{name!r} is not an alarm name (1 to 255 characters)")
        if len(set(value)) != len(value):
            raise ValueError("names an alarm twice; list each once")
        return value

    def count(self) -> int:
        """Alarms a deployment watches: the stack's and the existing ones."""
        own = STACK_ALARMS if self.enabled else 0
        return own + len(self.existing)


class VerifyConfig(_Section):
    """Releases that verify themselves: checks against the test listener, then alarms."""

    checks: list[CheckConfig] = Field(default_factory=list)
    interval_seconds: int = 1
    """Pause between two requests of the checks."""
    callback_seconds: int = 30
    """ECS only: when the checks outlast one invocation, ECS invokes the hook again after
    this many seconds (callBackDelay)."""
    alarms: AlarmsConfig = Field(default_factory=AlarmsConfig)

    @field_validator("checks")
    @classmethod
    def _checks(cls, value: list[CheckConfig]) -> list[CheckConfig]:
        if len(value) > MAX_CHECKS:
            raise ValueError(f"holds {len(value)} checks; at most {MAX_CHECKS}")
        size = checks_size(value)
        if size > MAX_CHECKS_SIZE:
            raise ValueError(
                f"take {size} characters written out (JSON), more than {MAX_CHECKS_SIZE}: the "
                "checks travel inline in the service template, whose body CloudFormation "
                "takes up to 51,200 bytes; shorten the paths, bodies or patterns"
            )
        return value

    @field_validator("interval_seconds")
    @classmethod
    def _interval(cls, value: int) -> int:
        low, high = CHECK_INTERVAL_SECONDS
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high} seconds")
        return value

    @field_validator("callback_seconds")
    @classmethod
    def _callback(cls, value: int) -> int:
        low, high = ECS_CALLBACK_SECONDS
        if not low <= value <= high:
            raise ValueError(f"must be from {low} to {high} seconds")
        return value

    @model_validator(mode="after")
    def _alarm_count(self) -> VerifyConfig:
        if self.alarms.count() > MAX_ALARMS:
            own = self.alarms.count() - len(self.alarms.existing)
            raise _KeyedError(
                "verify.alarms.existing",
                f"{len(self.alarms.existing)} alarms plus the stack's {own} make "
                f"{self.alarms.count()}; a deployment watches at most {MAX_ALARMS} "
                "(CodeDeploy's alarm configuration limit)",
            )
        return self

    def worst_case_seconds(self) -> int:
        """The longest the checks can take: every request at its latency limit, and the
        pauses between them."""
        requests = sum(check.count for check in self.checks)
        slowest = sum(check.count * check.max_latency_ms for check in self.checks)
        return -(-slowest // 1000) + max(0, requests - 1) * self.interval_seconds

    @property
    def enabled(self) -> bool:
        """Whether releases run a hook (checks) or watch alarms."""
        return bool(self.checks) or self.alarms.count() > 0


class Config(_Section):
    """The whole bluegreen.toml."""

    project: ProjectConfig = Field(default_factory=ProjectConfig)
    source: SourceConfig = Field(default_factory=SourceConfig)
    app: AppConfig = Field(default_factory=AppConfig)
    router: RouterConfig = Field(default_factory=RouterConfig)
    task: TaskConfig = Field(default_factory=TaskConfig)
    listeners: ListenersConfig = Field(default_factory=ListenersConfig)
    health_check: HealthCheckConfig = Field(default_factory=HealthCheckConfig)
    deployment: DeploymentConfig = Field(default_factory=DeploymentConfig)
    network: NetworkConfig = Field(default_factory=NetworkConfig)
    logs: LogsConfig = Field(default_factory=LogsConfig)
    builds: BuildsConfig = Field(default_factory=BuildsConfig)
    rehearse: RehearseConfig = Field(default_factory=RehearseConfig)
    verify: VerifyConfig = Field(default_factory=VerifyConfig)

    @model_validator(mode="after")
    def _cross(self) -> Config:
        if self.app.name == self.router.name:
            raise _KeyedError(
                "router.name",
                f"{self.router.name!r} equals app.name; containers need distinct names",
            )
        if self.app.directory == self.router.directory:
            raise _KeyedError(
                "router.directory",
                f"{self.router.directory!r} equals app.directory; each image has its own directory",
            )
        # Fluent Bit listens on 24224 (forward) and 2020 (metrics) inside the task.
        if self.app.port in (24224, 2020):
            raise _KeyedError(
                "app.port", f"{self.app.port} is used by the FireLens log router in the same task"
            )
        return self

    @model_validator(mode="after")
    def _builds_cross(self) -> Config:
        own = {self.app.directory: "app.directory", self.router.directory: "router.directory"}
        for directory in self.builds.shared:
            if directory in own:
                raise _KeyedError(
                    "builds.shared",
                    f"{directory!r} is {own[directory]}, already part of that image's tag; "
                    "list only other directories",
                )
        if self.source.provider != "codecommit" and len(self.builds.branches) > MAX_IGNORED_PATHS:
            raise _KeyedError(
                "builds.branches",
                f"holds {len(self.builds.branches)} patterns; a CodePipeline V2 trigger "
                f"(provider {self.source.provider}) takes at most {MAX_IGNORED_PATHS}",
            )
        for pattern in self.builds.branches:
            glob = trigger_glob(pattern)
            if self.source.provider != "codecommit" and len(glob) > MAX_TRIGGER_PATTERN:
                raise _KeyedError(
                    "builds.branches",
                    f"{pattern[:40]!r}... becomes a CodePipeline trigger pattern of "
                    f"{len(glob)} characters (each * is written **); a trigger takes at most "
                    f"{MAX_TRIGGER_PATTERN}: shorten it",
                )
            if branch_pattern_matches(pattern, self.source.branch):
                raise _KeyedError(
                    "builds.branches",
                    f"{pattern!r} matches source.branch {self.source.branch!r}, whose pushes "
                    "deploy; narrow the pattern (such as feature/*)",
                )
        return self

    @model_validator(mode="after")
    def _verify_cross(self) -> Config:
        """verify's engine-specific settings, and the checks' time with CodeDeploy."""
        verify = self.verify
        if self.deployment.engine == "codedeploy":
            if "callback_seconds" in verify.model_fields_set:
                raise _KeyedError(
                    "verify.callback_seconds",
                    'belongs to deployment.engine = "ecs" (ECS invokes its hook again after '
                    "callBackDelay); CodeDeploy invokes its hook once, so every check runs in "
                    "one invocation: pace the checks with verify.interval_seconds",
                )
            budget = verify_seconds(self) if verify.checks else 0
            if budget > VERIFY_BUDGET_SECONDS:
                raise _KeyedError(
                    "verify.checks",
                    f"can take {budget} seconds (the wait for a healthy target, "
                    f"{warmup_seconds(self)} s with these health_check settings, then every "
                    "request at max_latency_ms, plus verify.interval_seconds between them), "
                    f"more than the {VERIFY_BUDGET_SECONDS} "
                    "a CodeDeploy hook has: CodeDeploy invokes it once and a Lambda "
                    f"invocation lasts at most {LAMBDA_MAX_TIMEOUT_SECONDS} s; lower count, "
                    'max_latency_ms or interval_seconds, or use deployment.engine = "ecs" '
                    "(its hook is invoked again while checks remain)",
                )
        elif "ignore_poll_failure" in verify.alarms.model_fields_set:
            raise _KeyedError(
                "verify.alarms.ignore_poll_failure",
                "is a CodeDeploy setting (AlarmConfiguration.IgnorePollAlarmFailure), and "
                'deployment.engine is "ecs", whose deployment alarms have no such switch: '
                "remove it",
            )
        self._alarm_window()
        return self

    def _alarm_window(self) -> None:
        """The stack's alarms act only while the deployment runs, and before production
        moves the new revision sees only the checks' few requests: in practice they judge
        it during the termination wait (CodeDeploy: the deployment is Succeeded once it
        ends, aws/containers-roadmap#269) or the bake (ECS: the time "during which Amazon
        ECS continues to monitor the alarm"). A window shorter than an alarm's evaluation
        periods plus ALARM_PUBLISH_MARGIN_MINUTES never lets that alarm act."""
        if not self.verify.alarms.enabled:
            return
        if self.deployment.engine == "codedeploy":
            key, window = (
                "deployment.termination_wait_minutes",
                (self.deployment.termination_wait_minutes),
            )
            phase = "termination wait"
        else:
            key, window = "deployment.ecs.bake_minutes", self.deployment.ecs.bake_minutes
            phase = "bake"
        needed = alarm_minutes_needed()
        if window >= needed:
            return
        prefix = f"{self.project.name}-{self.project.environment}"
        kinds = {**TARGET_GROUP_ALARMS, **LOAD_BALANCER_ALARMS}
        blind = [
            f"{prefix}-blue-{kind}/green-{kind}"
            if kind in TARGET_GROUP_ALARMS
            else f"{prefix}-{kind}"
            for kind, periods in sorted(kinds.items(), key=lambda kv: -kv[1])
            if window < periods + ALARM_PUBLISH_MARGIN_MINUTES
        ]
        raise _KeyedError(
            key,
            f"is {window} minutes, too short for verify.alarms: the alarms {blind[0]} need "
            f"{max(kinds.values())} one-minute periods of production traffic on the new "
            f"revision plus {ALARM_PUBLISH_MARGIN_MINUTES} minutes (the load balancer sends "
            "its metrics every 60 seconds, and a minute counts once it has ended), and the "
            f"alarms judge the new revision during the {phase}"
            + (f"; {', '.join(blind[1:])} could not act either" if blind[1:] else "")
            + f"; set {key} to at least {needed}, or verify.alarms.enabled = false",
        )


def warmup_seconds(config: Config) -> int:
    """How long the verify hook waits for a healthy target behind the test listener before
    its checks: one more health-check interval than the healthy threshold needs (the first
    check may come up to an interval after the group is put behind the listener)."""
    check = config.health_check
    return check.interval_seconds * (check.healthy_threshold + 1)


def verify_seconds(config: Config) -> int:
    """The verify hook's worst case: the warm-up and every check at its limits."""
    return warmup_seconds(config) + config.verify.worst_case_seconds()


class _KeyedError(ValueError):
    """A cross-field problem that knows which key to blame."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def _ranges(values: tuple[int, ...]) -> str:
    if len(values) <= 4:
        return ", ".join(map(str, values))
    step = values[1] - values[0]
    return f"{values[0]} to {values[-1]} in steps of {step}"


SCAFFOLD_CHECK: dict[str, Any] = {
    "path": "/",
    "method": "GET",
    "status": 200,
    "body_pattern": r"\S",
    "count": 3,
    "max_latency_ms": 2000,
}
"""The check ``bluegreen init`` writes (and the scaffold's rehearsal runs): ``GET /``
answers 200 with a page that is not empty, three times, each within 2 s.

It does not pin the greeting: the seed's second release changes it ("Hello, 網走" ->
"こんにちは、あばしり"), the two share no text, and the checks are part of the hook's
code, which ``bluegreen deploy`` updates, not a push. A check of the greeting itself
(``body = "..."``) would fail the release that changes it. Config() keeps no check (a
bluegreen.toml without [verify] runs none, as the seed's system did)."""


def scaffold(data: dict[str, Any] | None = None, source: str = CONFIG_FILE) -> Config:
    """What ``bluegreen init`` writes: ``data`` (such as its flags) validated, with
    :data:`SCAFFOLD_CHECK` as ``verify.checks`` unless ``data`` sets them."""
    merged = dict(data or {})
    verify = dict(merged.get("verify") or {})
    verify.setdefault("checks", [dict(SCAFFOLD_CHECK)])
    merged["verify"] = verify
    return from_dict(merged, source=source)


def parse(text: str, source: str = CONFIG_FILE) -> Config:
    """Validate config text; raise ConfigError naming every bad key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{source}: not valid TOML: {exc}",
            hint="fix the syntax at the line and column shown (strings need quotes, "
            "tables are written [section])",
            problems=[("(file)", str(exc))],
        ) from None
    return from_dict(data, source)


def from_dict(data: dict[str, Any], source: str = CONFIG_FILE) -> Config:
    """Validate an already-parsed config mapping."""
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(err, data) for err in exc.errors()]
        raise _config_error(source, problems) from None
    # Names derived from the config must satisfy AWS rules too (lengths, characters).
    from bluegreen.names import naming_problems

    problems = naming_problems(config)
    if problems:
        raise _config_error(source, problems)
    return config


def load(path: Path | str) -> Config:
    """Read and validate a bluegreen.toml file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: no such file",
            hint="run `bluegreen init DIR` to create one, or pass --config PATH",
        ) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text", hint="save the file as UTF-8") from None
    except OSError as exc:  # a directory, no permission, ...
        raise ConfigError(
            f"{path}: cannot read it: {exc.strerror or exc}",
            hint="point --config (or the repository path) at a readable bluegreen.toml file",
        ) from None
    return parse(text, str(path))


def find(start: Path | None = None) -> Path:
    """The bluegreen.toml in ``start`` (default: the current directory) or a parent."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    for folder in (here, *here.parents):
        if (folder / CONFIG_FILE).exists():
            raise ConfigError(
                f"{folder / CONFIG_FILE} is not a file",
                hint="replace it with the config file, or pass --config PATH",
            )
    raise ConfigError(
        f"no {CONFIG_FILE} in {here} or its parents",
        hint="run the command inside an application repository, pass --config PATH, "
        "or create one with `bluegreen init DIR`",
    )


def _config_error(source: str, problems: list[tuple[str, str]]) -> ConfigError:
    lines = "\n".join(f"  {key}{_counted(key)}: {message}" for key, message in problems)
    return ConfigError(
        f"{source}: {len(problems)} invalid setting{'s' if len(problems) > 1 else ''}:\n{lines}",
        hint="fix the keys above; `bluegreen init` writes a commented example of every key",
        problems=problems,
    )


def _counted(key: str) -> str:
    """`` (check 1)`` after ``verify.checks.0``: the key counts from 0 (the JSON keeps
    it), a user counts their first check as 1."""
    found = re.match(r"verify\.checks\.(\d+)(\.|$)", key)
    return f" (check {int(found.group(1)) + 1})" if found else ""


def _describe(err: Any, data: dict[str, Any]) -> tuple[str, str]:
    loc = [str(part) for part in err["loc"]]
    ctx = err.get("ctx") or {}
    inner = ctx.get("error")
    if isinstance(inner, _KeyedError):
        return inner.key, inner.message
    key = ".".join(loc) if loc else "(file)"
    kind = err["type"]
    if kind == "extra_forbidden":
        section = loc[:-1]
        allowed = _allowed_keys(section)
        return key, f"unknown key (a typo?); allowed here: {', '.join(allowed)}"
    value = _lookup(data, loc)
    shown = f"{value!r}" if value is not _MISSING else "(missing)"
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    if kind == "literal_error":
        message = f"must be one of {ctx.get('expected')}"
    # The models are strict: a "80", an 80.5 or a 1 for a switch is a wrong type, never
    # parsed or converted (no int_parsing, int_from_float or bool_parsing errors).
    elif kind == "int_type":
        message = "must be a whole number"
    elif kind == "string_type":
        message = "must be a string in quotes"
    elif kind == "bool_type":
        message = "must be true or false"
    elif kind in ("list_type",):
        example = _LIST_EXAMPLES.get(key, '["a", "b"]')
        message = f"must be a list in brackets, such as {example}"
    elif kind in ("model_type", "dict_type"):
        message = (
            'must be an inline table in braces, such as { path = "/" }'
            if any(part.isdigit() for part in loc)
            else "must be a table ([section])"
        )
    if len(shown) > 80:  # such as a list of eleven checks: the key says which
        shown = shown[:60] + "…"
    return key, f"{shown} {message}"


_LIST_EXAMPLES = {
    "listeners.test_cidrs": '["203.0.113.0/24"]',
    "verify.checks": '[{ path = "/", status = 200 }]',
    "verify.alarms.existing": '["my-alarm"]',
    "builds.shared": '["common"]',
    "builds.branches": '["feature/*"]',
    "source.ignored_paths": '["docs/**"]',
}
"""What a list of each key looks like, for the message when it is not a list."""


_MISSING = object()


def _lookup(data: Any, loc: list[str]) -> Any:
    for part in loc:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return _MISSING
    return data


def _allowed_keys(section: list[str]) -> list[str]:
    """The keys of the table at ``section`` (an item of a list of tables, such as
    verify.checks.0, has its item's keys)."""
    model: type[BaseModel] = Config
    for part in section:
        if part.isdigit():
            continue
        field = model.model_fields.get(part)
        annotation = field.annotation if field else None
        if typing.get_origin(annotation) in (list, tuple):
            annotation = next(iter(typing.get_args(annotation)), None)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        else:
            break
    return list(model.model_fields)
