"""AWS CodeDeploy for the ECS compute platform: blue/green deployments on the clock.

All of CodeDeploy is served here (moto records deployments that stay ``Created``). The
deployment is a clock process that follows the CodeDeploy user guide, "Deployments on an
Amazon ECS compute platform" (awsdocs/aws-codedeploy-user-guide deployment-steps-ecs.md,
D1 below), the AppSpec hooks reference (reference-appspec-file-structure-hooks.md, D2),
the ECS tutorial's real get-deployment-target output (awsdocs/amazon-ecs-developer-guide
create-blue-green.md, D3) and the API model (botocore codedeploy/2014-10-06, D4):

- statuses Created -> InProgress -> (Ready: waiting for ContinueDeployment with
  STOP_DEPLOYMENT) -> InProgress -> Succeeded, or Failed / Stopped (D4 DeploymentStatus);
- lifecycle events BeforeInstall, Install, AfterInstall, AllowTestTraffic,
  AfterAllowTestTraffic, BeforeAllowTraffic, AllowTraffic, AfterAllowTraffic, each
  Pending -> InProgress -> Succeeded (or Failed, the rest Skipped); without a test
  listener the two test-traffic events are absent, as D3's output shows;
- Install creates the replacement task set (ECS, as AWS does internally) on the target
  group of the pair the PRIMARY task set does not use (D1: "CodeDeploy determines which
  target group is associated with the task set ... PRIMARY ... and associates the other
  target group with the replacement task set") and waits until its tasks run and its
  targets are healthy, failing after an hour (CircleCI-Public/aws-ecs-orb#134). The user
  guide does not document this ELB gate; it is modelled as reported: the CodeDeploy
  team's note quoted in traveloka/terraform-aws-alb-single-listener#47 (a weight-0
  forward to the replacement group lets "future deployments ... pass ELB Health Checks
  during the Install phase"). A group behind no listener is not health-checked (its
  targets are ``unused``, Target.NotInUse: ALB guide, "Health checks for Application
  Load Balancer target groups"), so then Install waits for nothing but running tasks and
  unhealthy ones get through (aws/containers-roadmap#1941);
- AllowTestTraffic points the test listener at the replacement; the reroute wait
  (DeploymentReadyOption: CONTINUE_DEPLOYMENT reroutes at once; STOP_DEPLOYMENT waits in
  Ready for ContinueDeployment(READY_WAIT) or WaitTimeInMinutes, then the deployment is
  Stopped, D4); AllowTraffic shifts production per the deployment configuration (all at
  once, canary: two increments, linear: equal increments every interval, D4
  TimeBasedCanary/TimeBasedLinear) as weighted forwards that keep the original group at
  weight 0 (CodeDeploy's behaviour since 2022, quoted in traveloka/
  terraform-aws-alb-single-listener PR #44 and #47; terraform-aws-modules/terraform-aws-alb
  PR #269); the replacement becomes PRIMARY;
- the termination wait: the ECS target is ``Succeeded`` while the deployment stays
  InProgress, then the original task set is deleted and the deployment Succeeded at once
  (aws/containers-roadmap#269, AWS's answer; ``instanceTerminationWaitTimeStarted`` stays
  false there, the bug that thread reports);
- a failure rolls back when the group's (or deployment's) autoRollbackConfiguration has
  DEPLOYMENT_FAILURE, StopDeployment when autoRollbackEnabled is true (or, when not given,
  the configuration has DEPLOYMENT_STOP_ON_REQUEST): a *new* deployment with its own id
  (creator ``codeDeployRollback``; D1 "Redeployments and deployment rollbacks": "the new
  or rolled-back deployment is assigned its own deployment ID") reroutes production and
  test back to the original task set and removes the replacement. No rollback is
  possible from BeforeInstall (D2). Without rollback, components stay as they are (D1).

- the deployment group's alarms (alarmConfiguration, enabled) are read every minute as
  the service role while the deployment runs, the termination wait included; one in ALARM
  stops it (Stopped, errorInformation ALARM_ACTIVE with AWS's message) and, with the
  DEPLOYMENT_STOP_ON_ALARM rollback event, rolls it back; alarms that cannot be read stop
  it unless ignorePollAlarmFailure (CodeDeploy User Guide, "Monitor deployments with
  CloudWatch alarms in CodeDeploy"; D4 AlarmConfiguration, at most 10 alarms:
  AlarmsLimitExceededException).

Listener changes go through the ELBv2 API as the deployment group's service role, and
what CodeDeploy does as that role without an API call the emulator makes (creating,
promoting and deleting task sets, passing the task roles, invoking hooks) is authorized
explicitly (:mod:`bluegreen.emulator.authz`). A refused step fails the deployment with
``IAM_ROLE_PERMISSIONS``: "The IAM role <arn> does not give you permission to perform
operations in the following AWS service: AWSLambda. ..." (AWS's text, quoted in
terraform-aws-modules/terraform-aws-lambda#77 and aws/serverless-application-model#219),
the AccessDenied message naming the action in the lifecycle event's diagnostics. CodeDeploy
acts as the role only if its trust policy lets codedeploy.amazonaws.com assume it.

AppSpec hooks name Lambda functions, invoked as the service role (lambda:InvokeFunction;
the managed AWSCodeDeployRoleForECSLimited allows only functions named CodeDeployHook_*)
and played in process (:mod:`bluegreen.emulator.hooks`); the hook reports with
PutLifecycleEventHookExecutionStatus within an hour or the event fails (D2).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import yaml
from botocore.exceptions import ClientError

from bluegreen.emulator import actions, authz, hooks, internal, timing
from bluegreen.emulator.clock import Body, Process, Until, Wait
from bluegreen.emulator.service import Call, Params, Result, Service, ServiceError, operation

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator
    from bluegreen.emulator.services.ecs import Ecs
    from bluegreen.emulator.services.elbv2 import Elbv2

EVENTS = (
    "BeforeInstall",
    "Install",
    "AfterInstall",
    "AllowTestTraffic",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AllowTraffic",
    "AfterAllowTraffic",
)
HOOK_EVENTS = (
    "BeforeInstall",
    "AfterInstall",
    "AfterAllowTestTraffic",
    "BeforeAllowTraffic",
    "AfterAllowTraffic",
)
# D4's DeploymentStatus. An ECS blue/green deployment is never Queued (a second deployment
# of a group is refused with DeploymentLimitExceededException while one is active) nor
# Baking (the bake time of zonal configurations, which are for EC2/on-premises).
ACTIVE = ("Created", "Queued", "InProgress", "Baking", "Ready")
DONE = ("Succeeded", "Failed", "Stopped")

BATCH_LIMIT = 25
"""BatchGetDeployments: "The maximum number of deployment IDs you can specify is 25"
(D4, BatchGetDeploymentsInput); BatchGetDeploymentTargets the same."""
PAGE = 100
"""Entries per List* page. AWS documents no page size for ListDeployments; 100 is the
page size of CodeDeploy's other list operations as observed; pagers follow nextToken
whatever it is."""


@dataclass(frozen=True)
class Shift:
    """A deployment configuration's traffic routing."""

    kind: str  # AllAtOnce | TimeBasedCanary | TimeBasedLinear
    percent: int = 100
    minutes: int = 0

    def steps(self) -> list[tuple[float, int]]:
        """(seconds after AllowTraffic began, percent on the replacement)."""
        if self.kind == "TimeBasedCanary":
            return [(0.0, self.percent), (self.minutes * 60.0, 100)]
        if self.kind == "TimeBasedLinear":
            out: list[tuple[float, int]] = []
            share, at = 0, 0.0
            while share < 100:
                share = min(100, share + self.percent)
                out.append((at, share))
                at += self.minutes * 60.0
            return out
        return [(0.0, 100)]

    def routing(self) -> dict[str, Any]:
        if self.kind == "TimeBasedCanary":
            return {
                "type": "TimeBasedCanary",
                "timeBasedCanary": {
                    "canaryPercentage": self.percent,
                    "canaryInterval": self.minutes,
                },
            }
        if self.kind == "TimeBasedLinear":
            return {
                "type": "TimeBasedLinear",
                "timeBasedLinear": {
                    "linearPercentage": self.percent,
                    "linearInterval": self.minutes,
                },
            }
        return {"type": "AllAtOnce"}


# The predefined configurations (CodeDeploy user guide, "Working with deployment
# configurations": the ECS ones; the Server and Lambda ones are listed alongside).
PREDEFINED_ECS = {
    "CodeDeployDefault.ECSAllAtOnce": Shift("AllAtOnce"),
    "CodeDeployDefault.ECSLinear10PercentEvery1Minutes": Shift("TimeBasedLinear", 10, 1),
    "CodeDeployDefault.ECSLinear10PercentEvery3Minutes": Shift("TimeBasedLinear", 10, 3),
    "CodeDeployDefault.ECSCanary10Percent5Minutes": Shift("TimeBasedCanary", 10, 5),
    "CodeDeployDefault.ECSCanary10Percent15Minutes": Shift("TimeBasedCanary", 10, 15),
}
PREDEFINED_SERVER = {
    "CodeDeployDefault.OneAtATime": {"type": "HOST_COUNT", "value": 1},
    "CodeDeployDefault.HalfAtATime": {"type": "FLEET_PERCENT", "value": 50},
    "CodeDeployDefault.AllAtOnce": {"type": "HOST_COUNT", "value": 0},
}
PREDEFINED_LAMBDA = {
    "CodeDeployDefault.LambdaAllAtOnce": Shift("AllAtOnce"),
    "CodeDeployDefault.LambdaCanary10Percent5Minutes": Shift("TimeBasedCanary", 10, 5),
    "CodeDeployDefault.LambdaCanary10Percent10Minutes": Shift("TimeBasedCanary", 10, 10),
    "CodeDeployDefault.LambdaCanary10Percent15Minutes": Shift("TimeBasedCanary", 10, 15),
    "CodeDeployDefault.LambdaCanary10Percent30Minutes": Shift("TimeBasedCanary", 10, 30),
    "CodeDeployDefault.LambdaLinear10PercentEvery1Minute": Shift("TimeBasedLinear", 10, 1),
    "CodeDeployDefault.LambdaLinear10PercentEvery2Minutes": Shift("TimeBasedLinear", 10, 2),
    "CodeDeployDefault.LambdaLinear10PercentEvery3Minutes": Shift("TimeBasedLinear", 10, 3),
    "CodeDeployDefault.LambdaLinear10PercentEvery10Minutes": Shift("TimeBasedLinear", 10, 10),
}


HOOK_TIMEOUT = timing.duration(
    "codedeploy.hook_timeout",
    3600,
    "how long CodeDeploy waits for a lifecycle hook's PutLifecycleEventHookExecutionStatus",
    'CodeDeploy User Guide, AppSpec hooks (ECS): "The deployment is considered to have '
    'failed if CodeDeploy is not notified by the Lambda validation function within one hour"',
    documented=True,
)

ALARM_POLL = timing.duration(
    "codedeploy.alarm_poll",
    60,
    "how often a running CodeDeploy deployment reads its deployment group's alarms",
    'not documented (CodeDeploy User Guide, "Monitor deployments with CloudWatch alarms in '
    'CodeDeploy": it stops the deployment "when the alarm is activated", no interval); '
    "CloudWatch evaluates a 60-second alarm once a minute",
)
MAX_ALARMS = 10
"""AlarmConfiguration.alarms: "A maximum of 10 alarms can be added" (CodeDeploy API
reference, AlarmConfiguration); AlarmsLimitExceededException: "The maximum number of
alarms for a deployment group (10) was exceeded." (botocore's codedeploy model). A
terraform-provider-aws PR (hashicorp/terraform-provider-aws#39971) reports that AWS now
accepts 50 as an adjustable quota; the emulator keeps the documented 10."""
ALARM_ACTIVE = (
    "One or more alarms have been activated according to the Amazon CloudWatch metrics you "
    "selected, and the affected deployments have been stopped. Activated alarms: "
)
"""errorInformation.message of a deployment stopped by its alarms (code ALARM_ACTIVE),
followed by each alarm as ``<name>`` separated by spaces: AWS's text as a real
deployment's get-deployment output quotes it (github.com/chrispsheehan/aws-serverless-
github-deploy, README.md in earlier versions: ErrorCode ALARM_ACTIVE, ErrorMessage "One
or more alarms ... Activated alarms: <dev-...-5xx-rate-critical>", one alarm). AWS
documents no text for it; how several alarms are joined is the emulator's reading."""
ALARM_POLL_FAILED = (
    "The deployment was stopped because the state of its CloudWatch alarms could not be retrieved: "
)
"""The message of a deployment stopped because its alarms could not be read (error code
ALARM_ACTIVE; AWS publishes no text for this case: the wording is the emulator's)."""

# The AWS service names CodeDeploy's IAM_ROLE_PERMISSIONS message uses: "AWSLambda" is
# AWS's (terraform-aws-modules/terraform-aws-lambda#77); for ECS and ELB the SDK service
# names, by analogy (not documented).
_SERVICE_NAMES = {
    "lambda": "AWSLambda",
    "ecs": "AmazonECS",
    "iam": "AmazonECS",  # passing the task roles is part of ECS's CreateTaskSet
    "elasticloadbalancing": "AmazonElasticLoadBalancing",
}


def role_permissions(role: str, prefix: str) -> str:
    """CodeDeploy's IAM_ROLE_PERMISSIONS message for a refused call of service ``prefix``."""
    service = _SERVICE_NAMES.get(prefix, prefix)
    return (
        f"The IAM role {role} does not give you permission to perform operations in the "
        f"following AWS service: {service}. Contact your AWS administrator if you need help. "
        "If you are an AWS administrator, you can grant permissions to your users or groups "
        "by creating IAM policies."
    )


class DeploymentFailure(Exception):
    """The deployment fails at ``event`` with CodeDeploy's error code and message;
    ``detail`` is the lifecycle event's diagnostic message (the message by default)."""

    def __init__(self, event: str, code: str, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.event = event
        self.code = code
        self.message = message
        self.detail = detail or message


@dataclass(eq=False)
class HookRun:
    """One invocation of a lifecycle hook, waiting for its report."""

    deployment: Deployment
    event: str
    function: str
    status: str = ""  # Succeeded | Failed once reported


@dataclass(eq=False)
class Deployment:
    """One CodeDeploy deployment of an ECS deployment group."""

    id: str
    application: str
    group: str
    config: str
    revision: dict[str, Any]
    creator: str
    created: datetime
    group_info: dict[str, Any]
    description: str = ""
    status: str = "Created"
    started: datetime | None = None
    completed: datetime | None = None
    error: dict[str, str] | None = None
    auto_rollback: dict[str, Any] = field(default_factory=dict)
    rollback_info: dict[str, str] = field(default_factory=dict)
    previous_revision: dict[str, Any] | None = None
    target_status: str = "Pending"
    target_updated: datetime | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    cluster: str = ""
    service: str = ""
    service_arn: str = ""
    original: str = ""  # task set ids
    replacement: str = ""
    original_group: str = ""  # target group ARNs
    replacement_group: str = ""
    share: int = 0  # percent of production on the replacement
    test_moved: bool = False
    production_moved: bool = False
    continued: bool = False
    terminate_now: bool = False
    in_termination_wait: bool = False
    process: Process | None = None
    task_sets_seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    rollback_of: Deployment | None = None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    def event(self, name: str) -> dict[str, Any] | None:
        return next((e for e in self.events if e["lifecycleEventName"] == name), None)


class CodeDeploy(Service):
    """AWS CodeDeploy (all of it served here), with ECS blue/green deployments."""

    name = "codedeploy"

    def __init__(self, emulator: Emulator) -> None:
        super().__init__(emulator)
        self._applications: dict[str, dict[str, Any]] = {}
        self._groups: dict[tuple[str, str], dict[str, Any]] = {}
        self._configs: dict[str, dict[str, Any]] = {}
        self._deployments: dict[str, Deployment] = {}
        self._order: list[str] = []
        self._ids = 0
        self.faults: dict[str, str] = {}
        """Injected failures for rehearsals: lifecycle event -> the message the next
        deployment fails with at that event (as a failing hook would)."""
        self.hook_plays: dict[str, str] = {}
        """Declared plays of hook functions whose code the emulator cannot run: function
        name -> ``succeed`` | ``fail`` | ``timeout`` (:mod:`bluegreen.emulator.hooks`)."""
        self._hook_runs: dict[str, HookRun] = {}
        self._revisions: dict[tuple[str, str], dict[str, Any]] = {}

    def play_hooks(self, plays: dict[str, str]) -> None:
        """Declare how hooks of unknown code are played (the config's
        ``[rehearse.hooks]``: function name -> succeed | fail | timeout)."""
        self.hook_plays = hooks.check_plays(plays)

    # =================================================================== applications
    @operation("CreateApplication")
    def create_application(self, params: Params, call: Call) -> Result:
        name = str(params["applicationName"])
        if name in self._applications:
            raise ServiceError(
                "ApplicationAlreadyExistsException",
                f"The application {name} already exists with the user or AWS account.",
            )
        platform = str(params.get("computePlatform") or "Server")
        self._applications[name] = {
            "applicationId": self._uuid("application", name),
            "applicationName": name,
            "createTime": self.emulator.now(),
            "linkedToGitHub": False,
            "computePlatform": platform,
            "_tags": [dict(t) for t in params.get("tags") or []],
        }
        return {"applicationId": self._applications[name]["applicationId"]}

    @operation("GetApplication")
    def get_application(self, params: Params, call: Call) -> Result:
        return {"application": _public(self._application(str(params["applicationName"])))}

    @operation("BatchGetApplications")
    def batch_get_applications(self, params: Params, call: Call) -> Result:
        names = list(params.get("applicationNames") or [])
        if len(names) > 100:
            raise ServiceError(
                "BatchLimitExceededException",
                "The maximum number of names or IDs allowed for this request (100) was exceeded.",
            )
        return {"applicationsInfo": [_public(self._application(n)) for n in names]}

    @operation("ListApplications")
    def list_applications(self, params: Params, call: Call) -> Result:
        page, token = _page(sorted(self._applications), params.get("nextToken"))
        return {"applications": page, **({"nextToken": token} if token else {})}

    @operation("DeleteApplication")
    def delete_application(self, params: Params, call: Call) -> Result:
        name = str(params["applicationName"])
        self._applications.pop(name, None)
        for key in [k for k in self._groups if k[0] == name]:
            del self._groups[key]
        return {}

    # ============================================================== deployment groups
    @operation("CreateDeploymentGroup")
    def create_deployment_group(self, params: Params, call: Call) -> Result:
        app = self._application(str(params["applicationName"]))
        name = str(params["deploymentGroupName"])
        if (app["applicationName"], name) in self._groups:
            raise ServiceError(
                "DeploymentGroupAlreadyExistsException",
                f"The deployment group {name} already exists for application "
                f"{app['applicationName']}.",
            )
        info: dict[str, Any] = {
            "applicationName": app["applicationName"],
            "deploymentGroupId": self._uuid("group", app["applicationName"], name),
            "deploymentGroupName": name,
            "computePlatform": app["computePlatform"],
        }
        for key in _GROUP_FIELDS:
            if params.get(key) is not None:
                info[key] = params[key]
        self._validate_group(info)
        info.setdefault("deploymentConfigName", _default_config(app["computePlatform"]))
        info["_tags"] = list(params.get("tags") or [])
        self._groups[(app["applicationName"], name)] = info
        return {"deploymentGroupId": info["deploymentGroupId"]}

    @operation("GetDeploymentGroup")
    def get_deployment_group(self, params: Params, call: Call) -> Result:
        info = self._group(str(params["applicationName"]), str(params["deploymentGroupName"]))
        return {"deploymentGroupInfo": self._group_view(info)}

    @operation("BatchGetDeploymentGroups")
    def batch_get_deployment_groups(self, params: Params, call: Call) -> Result:
        app = self._application(str(params["applicationName"]))
        names = list(params.get("deploymentGroupNames") or [])
        if len(names) > 100:
            raise ServiceError(
                "BatchLimitExceededException",
                "The maximum number of names or IDs allowed for this request (100) was exceeded.",
            )
        found, missing = [], []
        for name in names:
            info = self._groups.get((app["applicationName"], name))
            if info is None:
                missing.append(name)
            else:
                found.append(self._group_view(info))
        out: dict[str, Any] = {"deploymentGroupsInfo": found}
        if missing:
            out["errorMessage"] = f"Deployment groups not found: {', '.join(missing)}"
        return out

    @operation("ListDeploymentGroups")
    def list_deployment_groups(self, params: Params, call: Call) -> Result:
        app = self._application(str(params["applicationName"]))
        names = sorted(n for a, n in self._groups if a == app["applicationName"])
        page, token = _page(names, params.get("nextToken"))
        return {
            "applicationName": app["applicationName"],
            "deploymentGroups": page,
            **({"nextToken": token} if token else {}),
        }

    @operation("UpdateDeploymentGroup")
    def update_deployment_group(self, params: Params, call: Call) -> Result:
        app_name = str(params["applicationName"])
        current = str(params["currentDeploymentGroupName"])
        info = dict(self._group(app_name, current))
        new_name = params.get("newDeploymentGroupName")
        if new_name and new_name != current and (app_name, new_name) in self._groups:
            raise ServiceError(
                "DeploymentGroupAlreadyExistsException",
                f"The deployment group {new_name} already exists for application {app_name}.",
            )
        for key in _GROUP_FIELDS:
            if params.get(key) is not None:
                info[key] = params[key]
        self._validate_group(info)
        if new_name:
            info["deploymentGroupName"] = str(new_name)
        del self._groups[(app_name, current)]
        self._groups[(app_name, info["deploymentGroupName"])] = info
        return {"hooksNotCleanedUp": []}

    @operation("DeleteDeploymentGroup")
    def delete_deployment_group(self, params: Params, call: Call) -> Result:
        # DeleteDeploymentGroup lists no "does not exist" error (D4): deleting a group
        # that is gone succeeds.
        self._groups.pop((str(params["applicationName"]), str(params["deploymentGroupName"])), None)
        return {"hooksNotCleanedUp": []}

    # ==================================================================== tags
    # Resource ARNs: arn:aws:codedeploy:<region>:<account>:application:<name> and
    # ...:deploymentgroup:<application>/<group> (CodeDeploy user guide, "Resources and
    # operations": ARN formats).
    @operation("TagResource")
    def tag_resource(self, params: Params, call: Call) -> Result:
        tags = self._tags_of(str(params["ResourceArn"]))
        for tag in params.get("Tags") or []:
            tags[:] = [t for t in tags if t["Key"] != tag["Key"]] + [dict(tag)]
        return {}

    @operation("UntagResource")
    def untag_resource(self, params: Params, call: Call) -> Result:
        tags = self._tags_of(str(params["ResourceArn"]))
        tags[:] = [t for t in tags if t["Key"] not in (params.get("TagKeys") or [])]
        return {}

    @operation("ListTagsForResource")
    def list_tags_for_resource(self, params: Params, call: Call) -> Result:
        return {"Tags": list(self._tags_of(str(params["ResourceArn"])))}

    def _tags_of(self, arn: str) -> list[dict[str, str]]:
        prefix = f"arn:aws:codedeploy:{self.region}:{self.account_id}:"
        if not arn.startswith(prefix):
            raise ServiceError("InvalidArnException", f"The ARN {arn} is not a CodeDeploy ARN.")
        kind, _, name = arn[len(prefix) :].partition(":")
        if kind == "application":
            found: dict[str, Any] = self._application(name)
        elif kind == "deploymentgroup" and "/" in name:
            found = self._group(*name.split("/", 1))
        else:
            raise ServiceError(
                "ArnNotSupportedException", f"The ARN {arn} is not supported for tagging."
            )
        tags: list[dict[str, str]] = found.setdefault("_tags", [])
        return tags

    # ============================================================= deployment configs
    @operation("GetDeploymentConfig")
    def get_deployment_config(self, params: Params, call: Call) -> Result:
        return {"deploymentConfigInfo": self._config(str(params["deploymentConfigName"]))}

    @operation("ListDeploymentConfigs")
    def list_deployment_configs(self, params: Params, call: Call) -> Result:
        names = sorted([*PREDEFINED_SERVER, *PREDEFINED_LAMBDA, *PREDEFINED_ECS, *self._configs])
        page, token = _page(names, params.get("nextToken"))
        return {"deploymentConfigsList": page, **({"nextToken": token} if token else {})}

    @operation("CreateDeploymentConfig")
    def create_deployment_config(self, params: Params, call: Call) -> Result:
        name = str(params["deploymentConfigName"])
        if name in self._configs or name.startswith("CodeDeployDefault."):
            raise ServiceError(
                "DeploymentConfigAlreadyExistsException",
                f"A deployment configuration named {name} already exists.",
            )
        platform = str(params.get("computePlatform") or "Server")
        routing = params.get("trafficRoutingConfig")
        if platform in ("ECS", "Lambda"):
            if not routing:
                raise ServiceError(
                    "InvalidTrafficRoutingConfigurationException",
                    f"A {platform} deployment configuration needs a trafficRoutingConfig.",
                )
            _shift(routing)  # refuses a malformed one
        info = {
            "deploymentConfigId": self._uuid("config", name),
            "deploymentConfigName": name,
            "createTime": self.emulator.now(),
            "computePlatform": platform,
        }
        if routing:
            info["trafficRoutingConfig"] = routing
        if params.get("minimumHealthyHosts"):
            info["minimumHealthyHosts"] = params["minimumHealthyHosts"]
        self._configs[name] = info
        return {"deploymentConfigId": info["deploymentConfigId"]}

    @operation("DeleteDeploymentConfig")
    def delete_deployment_config(self, params: Params, call: Call) -> Result:
        name = str(params["deploymentConfigName"])
        if name.startswith("CodeDeployDefault."):
            raise ServiceError(
                "InvalidOperationException",
                "A predefined deployment configuration can't be deleted.",
            )
        if any(g.get("deploymentConfigName") == name for g in self._groups.values()):
            raise ServiceError(
                "DeploymentConfigInUseException", "The deployment configuration is still in use."
            )
        self._configs.pop(name, None)
        return {}

    # ==================================================================== deployments
    @operation("CreateDeployment")
    def create_deployment(self, params: Params, call: Call) -> Result:
        app = self._application(str(params["applicationName"]))
        if not params.get("deploymentGroupName"):
            raise ServiceError(
                "DeploymentGroupNameRequiredException", "The deployment group name is required."
            )
        group = self._group(app["applicationName"], str(params["deploymentGroupName"]))
        revision = params.get("revision")
        if not revision:
            raise ServiceError("RevisionRequiredException", "The revision ID was not specified.")
        if revision.get("revisionType") not in ("AppSpecContent", "String"):
            raise ServiceError(
                "InvalidRevisionException",
                "The emulated CodeDeploy serves ECS revisions given as AppSpecContent (the "
                f"revision type {revision.get('revisionType')} is not emulated).",
            )
        config_name = str(params.get("deploymentConfigName") or group["deploymentConfigName"])
        self._config(config_name)
        active = next(
            (d for d in self._group_deployments(group) if d.active),
            None,
        )
        if active is not None:
            # CircleCI-Public/aws-ecs-orb#181 quotes AWS's message.
            raise ServiceError(
                "DeploymentLimitExceededException",
                f"The Deployment Group '{group['deploymentGroupName']}' already has an active "
                f"Deployment '{active.id}'",
            )
        revision = dict(revision)
        used = self._register(app["applicationName"], revision)
        used["lastUsedTime"] = self.emulator.now()
        used.setdefault("firstUsedTime", used["lastUsedTime"])
        if group["deploymentGroupName"] not in used["deploymentGroups"]:
            used["deploymentGroups"].append(group["deploymentGroupName"])
        if revision.get("revisionType") == "AppSpecContent":
            content = dict(revision.get("appSpecContent") or {})
            content["sha256"] = hashlib.sha256(str(content.get("content", "")).encode()).hexdigest()
            revision["appSpecContent"] = content
        deployment = self._new_deployment(
            group,
            config_name,
            revision,
            creator="user",
            description=str(params.get("description") or ""),
            auto_rollback=params.get("autoRollbackConfiguration"),
        )
        deployment.process = self.emulator.clock.spawn(
            f"codedeploy {deployment.id}", self._run(deployment)
        )
        if _watched_alarms(group):
            self.emulator.clock.spawn(
                f"codedeploy alarms {deployment.id}", self._watch_alarms(deployment)
            )
        return {"deploymentId": deployment.id}

    @operation("GetDeployment")
    def get_deployment(self, params: Params, call: Call) -> Result:
        return {"deploymentInfo": self._info(self._deployment(str(params["deploymentId"])))}

    @operation("BatchGetDeployments")
    def batch_get_deployments(self, params: Params, call: Call) -> Result:
        ids = list(params.get("deploymentIds") or [])
        if len(ids) > BATCH_LIMIT:
            raise ServiceError(
                "BatchLimitExceededException",
                f"The maximum number of names or IDs allowed for this request ({BATCH_LIMIT}) "
                "was exceeded.",
            )
        return {
            "deploymentsInfo": [
                self._info(self._deployments[i]) for i in ids if i in self._deployments
            ]
        }

    @operation("ListDeployments")
    def list_deployments(self, params: Params, call: Call) -> Result:
        app_name = params.get("applicationName")
        group_name = params.get("deploymentGroupName")
        if app_name and not group_name:
            raise ServiceError(
                "DeploymentGroupNameRequiredException",
                "If applicationName is specified, then deploymentGroupName must be specified.",
            )
        if group_name and not app_name:
            raise ServiceError(
                "ApplicationNameRequiredException",
                "If deploymentGroupName is specified, then applicationName must be specified.",
            )
        candidates = [self._deployments[i] for i in reversed(self._order)]
        if app_name:
            group = self._group(str(app_name), str(group_name))
            candidates = [
                d
                for d in candidates
                if d.application == group["applicationName"]
                and d.group == group["deploymentGroupName"]
            ]
        statuses = params.get("includeOnlyStatuses")
        if statuses:
            candidates = [d for d in candidates if d.status in statuses]
        window = params.get("createTimeRange") or {}
        start, end = window.get("start"), window.get("end")
        if start is not None and end is not None and _aware(start) > _aware(end):
            raise ServiceError(
                "InvalidTimeRangeException", "The start time must be earlier than the end time."
            )
        if start is not None:
            candidates = [d for d in candidates if d.created >= _aware(start)]
        if end is not None:
            candidates = [d for d in candidates if d.created <= _aware(end)]
        page, token = _page([d.id for d in candidates], params.get("nextToken"))
        return {"deployments": page, **({"nextToken": token} if token else {})}

    @operation("ListDeploymentTargets")
    def list_deployment_targets(self, params: Params, call: Call) -> Result:
        deployment = self._started(str(params["deploymentId"]))
        statuses = (params.get("targetFilters") or {}).get("TargetStatus")
        if statuses and deployment.target_status not in statuses:
            return {"targetIds": []}
        return {"targetIds": [_target_id(deployment)]}

    @operation("GetDeploymentTarget")
    def get_deployment_target(self, params: Params, call: Call) -> Result:
        deployment = self._started(str(params["deploymentId"]))
        target = str(params["targetId"])
        if target != _target_id(deployment):
            raise ServiceError(
                "DeploymentTargetDoesNotExistException",
                f"The provided target ID {target} does not belong to the attempted deployment.",
            )
        return {"deploymentTarget": self._target(deployment)}

    @operation("BatchGetDeploymentTargets")
    def batch_get_deployment_targets(self, params: Params, call: Call) -> Result:
        deployment = self._started(str(params["deploymentId"]))
        targets = list(params.get("targetIds") or [])
        if len(targets) > 1:
            # D4: an ECS deployment's "target list ... must have exactly one item".
            raise ServiceError(
                "DeploymentTargetListSizeExceededException",
                "The maximum number of targets that can be associated with an Amazon ECS or "
                "Lambda deployment was exceeded.",
            )
        for target in targets:
            if target != _target_id(deployment):
                raise ServiceError(
                    "DeploymentTargetDoesNotExistException",
                    f"The provided target ID {target} does not belong to the attempted deployment.",
                )
        return {"deploymentTargets": [self._target(deployment) for _ in targets]}

    @operation("ContinueDeployment")
    def continue_deployment(self, params: Params, call: Call) -> Result:
        deployment = self._deployment(str(params.get("deploymentId") or ""))
        if not deployment.active:
            raise ServiceError(
                "DeploymentAlreadyCompletedException",
                f"The deployment {deployment.id} is already completed.",
            )
        wait = str(params.get("deploymentWaitType") or "READY_WAIT")
        if wait == "READY_WAIT":
            if deployment.status != "Ready":
                # D4 ContinueDeployment errors: "The deployment does not have a status of
                # Ready and can't continue yet."
                raise ServiceError(
                    "DeploymentIsNotInReadyStateException",
                    "The deployment does not have a status of Ready and can't continue yet.",
                )
            deployment.continued = True
        else:
            if not deployment.in_termination_wait:
                # Conservative choice: AWS documents no other error for a termination wait
                # that has not started.
                raise ServiceError(
                    "DeploymentIsNotInReadyStateException",
                    "The deployment is not waiting to terminate its original task set.",
                )
            deployment.terminate_now = True
        return {}

    @operation("StopDeployment")
    def stop_deployment(self, params: Params, call: Call) -> Result:
        deployment = self._deployment(str(params["deploymentId"]))
        if not deployment.active:
            raise ServiceError(
                "DeploymentAlreadyCompletedException",
                f"The deployment {deployment.id} is already completed.",
            )
        if deployment.process is not None:
            deployment.process.cancel()
        rollback = params.get("autoRollbackEnabled")
        if rollback is None:
            config = deployment.auto_rollback
            rollback = bool(config.get("enabled")) and "DEPLOYMENT_STOP_ON_REQUEST" in (
                config.get("events") or []
            )
        self._finish(
            deployment,
            "Stopped",
            DeploymentFailure("", "MANUAL_STOP", "The deployment was stopped by a user."),
        )
        note = ""
        if rollback:
            rolled = self._roll_back(deployment, "The deployment was stopped by a user.")
            if rolled is not None:
                note = f"; rollback deployment {rolled.id} restores the original task set"
        # D1 "Stopped and failed deployments": the stop operation returns Succeeded.
        return {"status": "Succeeded", "statusMessage": f"Deployment {deployment.id} stopped{note}"}

    # ======================================================= revisions and hook reports
    @operation("RegisterApplicationRevision")
    def register_application_revision(self, params: Params, call: Call) -> Result:
        app = self._application(str(params["applicationName"]))
        revision = params.get("revision")
        if not revision:
            raise ServiceError("RevisionRequiredException", "The revision ID was not specified.")
        self._register(app["applicationName"], dict(revision), str(params.get("description") or ""))
        return {}

    @operation("GetApplicationRevision")
    def get_application_revision(self, params: Params, call: Call) -> Result:
        app = self._application(str(params["applicationName"]))
        revision = params.get("revision")
        if not revision:
            raise ServiceError("RevisionRequiredException", "The revision ID was not specified.")
        found = self._revisions.get((app["applicationName"], _revision_key(dict(revision))))
        if found is None:
            # Conservative text: AWS names the error (D4), not its message.
            raise ServiceError(
                "RevisionDoesNotExistException",
                f"No application revision found for application {app['applicationName']}.",
            )
        return {
            "applicationName": app["applicationName"],
            "revision": found["revision"],
            "revisionInfo": {k: v for k, v in found.items() if k != "revision"},
        }

    def _register(
        self, application: str, revision: dict[str, Any], description: str = ""
    ) -> dict[str, Any]:
        key = (application, _revision_key(revision))
        now = self.emulator.now()
        found = self._revisions.setdefault(
            key, {"revision": revision, "registerTime": now, "deploymentGroups": []}
        )
        if description:
            found["description"] = description
        return found

    @operation("PutLifecycleEventHookExecutionStatus")
    def put_lifecycle_event_hook_execution_status(self, params: Params, call: Call) -> Result:
        deployment = self._deployment(str(params.get("deploymentId") or ""))
        execution = str(params.get("lifecycleEventHookExecutionId") or "")
        run = self._hook_runs.get(execution)
        if run is None or run.deployment is not deployment:
            # D4 names the errors; their texts here are conservative.
            raise ServiceError(
                "InvalidLifecycleEventHookExecutionIdException",
                f"The lifecycle event hook execution ID {execution} is not valid for "
                f"deployment {deployment.id}.",
            )
        status = str(params.get("status") or "")
        if status not in ("Succeeded", "Failed"):
            # D4: "only Succeeded and Failed can be passed successfully in your API call".
            raise ServiceError(
                "InvalidLifecycleEventHookExecutionStatusException",
                f"The lifecycle event hook execution status {status} is not valid: report "
                "Succeeded or Failed.",
            )
        event = deployment.event(run.event)
        if run.status or event is None or event["status"] != "InProgress":
            raise ServiceError(
                "LifecycleEventAlreadyCompletedException",
                f"The lifecycle event {run.event} of deployment {deployment.id} is already "
                "completed.",
            )
        run.status = status
        return {"lifecycleEventHookExecutionId": execution}

    # ========================================================= the deployment process
    def _run(self, d: Deployment) -> Body:
        yield Wait(timing.CODEDEPLOY_START)
        d.status = "InProgress"
        d.started = self.emulator.now()
        self._target_status(d, "InProgress")
        try:
            self._assume(d)
            appspec = _appspec(d.revision)
            plan = self._plan(d, appspec)
            yield from self._hook(d, "BeforeInstall", plan)
            # -- Install ----------------------------------------------------------------
            self._begin(d, "Install")
            ecs = self._ecs()
            self._authorize_task_set(d, plan)
            try:
                created = ecs.create_task_set(
                    d.cluster,
                    d.service,
                    plan["task_definition"],
                    target_group_arn=d.replacement_group,
                    container_name=plan["container"],
                    container_port=plan["port"],
                    scale=100.0,
                    network_configuration=plan["network"],
                    platform_version=plan["platform_version"],
                    external_id=d.id,
                    started_by="CODE_DEPLOY",
                )
            except ServiceError as exc:
                raise DeploymentFailure(
                    "Install",
                    "ECS_UPDATE_ERROR",
                    f"Failed to create the replacement task set: {exc.message}",
                ) from exc
            d.replacement = created.id
            installed = yield Until(
                lambda: self._installed(d), timeout=timing.CODEDEPLOY_INSTALL_TIMEOUT
            )
            if not installed:
                raise DeploymentFailure(
                    "Install",
                    "ECS_UPDATE_ERROR",
                    "The deployment timed out while waiting for the replacement task set to "
                    "become healthy. This time out period is 60 minutes.",
                )
            self._end(d, "Install")
            yield Wait(timing.CODEDEPLOY_EVENT)
            yield from self._hook(d, "AfterInstall", plan)
            # -- AllowTestTraffic ---------------------------------------------------------
            if d.event("AllowTestTraffic") is not None:
                self._begin(d, "AllowTestTraffic")
                self._forward(d, plan["test_listener"], 100)
                d.test_moved = True
                yield Wait(timing.CODEDEPLOY_EVENT)
                self._end(d, "AllowTestTraffic")
                yield Wait(timing.CODEDEPLOY_EVENT)
                yield from self._hook(d, "AfterAllowTestTraffic", plan)
            # -- the reroute wait -----------------------------------------------------------
            ready = plan["ready"]
            if ready.get("actionOnTimeout") == "STOP_DEPLOYMENT":
                d.status = "Ready"
                self._target_status(d, "Ready")
                minutes = float(ready.get("waitTimeInMinutes") or 0)
                rerouted = yield Until(lambda: d.continued, timeout=minutes * 60)
                if not rerouted:
                    # D5 (API DeploymentReadyOption): "If traffic rerouting is not started
                    # before the end of the specified wait period, the deployment status is
                    # changed to Stopped."
                    self._finish(
                        d,
                        "Stopped",
                        DeploymentFailure(
                            "",
                            "TIMEOUT",
                            "Traffic was not rerouted to the replacement task set before the "
                            f"end of the wait period ({int(minutes)} minutes).",
                        ),
                    )
                    # What AWS does with the replacement here is not documented; the
                    # conservative choice: a configured automatic rollback cleans up.
                    if d.auto_rollback.get("enabled"):
                        self._roll_back(d, "The wait time for rerouting traffic expired.")
                    return
                d.status = "InProgress"
                self._target_status(d, "InProgress")
            yield from self._hook(d, "BeforeAllowTraffic", plan)
            # -- AllowTraffic -----------------------------------------------------------------
            self._begin(d, "AllowTraffic")
            begun = self.emulator.clock.seconds
            for at, share in plan["shift"].steps():
                wait = begun + at - self.emulator.clock.seconds
                if wait > 0:
                    yield Wait(wait)
                self._forward(d, plan["production_listener"], share)
                d.share = share
                d.production_moved = True
            self._permit(d, "AllowTraffic", "ecs:UpdateServicePrimaryTaskSet", self._service_arn(d))
            self._ecs().make_primary(d.cluster, d.service, d.replacement)
            yield Wait(timing.CODEDEPLOY_EVENT)
            self._end(d, "AllowTraffic")
            yield Wait(timing.CODEDEPLOY_EVENT)
            yield from self._hook(d, "AfterAllowTraffic", plan)
            # -- the termination wait -----------------------------------------------------------
            termination = plan["termination"]
            if termination.get("action", "TERMINATE") == "TERMINATE":
                self._target_status(d, "Succeeded")
                d.in_termination_wait = True
                minutes = float(termination.get("terminationWaitTimeInMinutes") or 0)
                yield Until(lambda: d.terminate_now, timeout=minutes * 60)
                d.in_termination_wait = False
                self._snapshot(d)
                self._permit(d, "", "ecs:DeleteTaskSet", self._task_set_arn(d, d.original))
                with contextlib.suppress(ServiceError):  # already gone
                    self._ecs().delete_task_set(d.cluster, d.service, d.original)
            self._finish(d, "Succeeded")
        except DeploymentFailure as failure:
            self._fail(d, failure)
        except ServiceError as exc:
            # The ECS service or its task sets went away under the deployment.
            self._fail(d, DeploymentFailure(_current(d), "ECS_UPDATE_ERROR", exc.message))
        except ClientError as exc:
            # A listener or target group went away under the deployment, or the service
            # role may not change it.
            self._fail(d, self._client_failure(d, exc, _current(d)))

    def _plan(self, d: Deployment, appspec: dict[str, Any]) -> dict[str, Any]:
        """What BeforeInstall establishes: the service, the pair, who is original."""
        group = self._group(d.application, d.group)
        info = d.group_info
        service = (info.get("ecsServices") or [{}])[0]
        d.cluster = str(service.get("clusterName", ""))
        d.service = str(service.get("serviceName", ""))
        ecs = self._ecs()
        self._permit(d, "BeforeInstall", "ecs:DescribeServices", self._service_arn(d))
        try:
            svc = ecs.get_service(d.cluster, d.service)
        except ServiceError as exc:
            raise DeploymentFailure(
                "BeforeInstall",
                "INVALID_ECS_SERVICE",
                f"The ECS service {d.service} does not exist.",
            ) from exc
        d.service_arn = str(svc.arn)
        pair = info["loadBalancerInfo"]["targetGroupPairInfoList"][0]
        names = [str(g["name"]) for g in pair["targetGroups"]]
        groups = self._target_groups(group, names)
        production = str(pair["prodTrafficRoute"]["listenerArns"][0])
        test_arns = (pair.get("testTrafficRoute") or {}).get("listenerArns") or []
        primaries = [ts for ts in svc.task_sets if ts.status == "PRIMARY"]
        if len(primaries) != 1:
            raise DeploymentFailure(
                "BeforeInstall",
                "ECS_UPDATE_ERROR",
                f"The ECS service {d.service} has {len(primaries)} PRIMARY task sets; CodeDeploy "
                "needs exactly one.",
            )
        original = primaries[0]
        original_group = next(
            (
                lb["targetGroupArn"]
                for lb in original.load_balancers or []
                if lb.get("targetGroupArn")
            ),
            "",
        )
        if original_group not in groups.values():
            raise DeploymentFailure(
                "BeforeInstall",
                "ELASTIC_LOAD_BALANCING_INVALID",
                "The ELB could not be updated due to the following error: Primary taskset "
                "target group must be behind listener",
            )
        serving = self._forwards(group, production)
        if original_group not in [arn for arn, weight in serving if weight > 0]:
            # tech.dentsusoken.com (2024-07-22) quotes this CodeDeploy error for a PRIMARY
            # task set whose group the production listener does not serve.
            raise DeploymentFailure(
                "BeforeInstall",
                "ELASTIC_LOAD_BALANCING_INVALID",
                "The ELB could not be updated due to the following error: Primary taskset "
                f"target group must be behind listener {production}",
            )
        d.original = original.id
        d.original_group = original_group
        d.replacement_group = next(arn for arn in groups.values() if arn != original_group)
        properties = appspec["properties"]
        task_definition = str(properties.get("TaskDefinition", ""))
        lb = properties.get("LoadBalancerInfo") or {}
        container, port = str(lb.get("ContainerName", "")), int(lb.get("ContainerPort") or 0)
        try:
            definition = ecs._backend().describe_task_definition(task_definition)
        except Exception as exc:  # noqa: BLE001 - moto's TaskDefinitionNotFound
            raise DeploymentFailure(
                "BeforeInstall",
                "INVALID_REVISION",
                f"The task definition {task_definition} in the AppSpec file does not exist.",
            ) from exc
        ports = {
            str(c["name"]): [int(m.get("containerPort", 0)) for m in c.get("portMappings") or []]
            for c in definition.container_definitions
        }
        if container not in ports or port not in ports[container]:
            raise DeploymentFailure(
                "BeforeInstall",
                "INVALID_REVISION",
                f"The AppSpec file routes traffic to container {container} port {port}, which "
                f"task definition {definition.family}:{definition.revision} does not have.",
            )
        network = properties.get("NetworkConfiguration")
        blue_green = info.get("blueGreenDeploymentConfiguration") or {}
        return {
            "task_definition": definition.arn,
            "roles": [
                str(role)
                for role in (definition.execution_role_arn, definition.task_role_arn)
                if role
            ],
            "container": container,
            "port": port,
            "network": _network(network) if network else None,
            "platform_version": properties.get("PlatformVersion"),
            "production_listener": production,
            "test_listener": str(test_arns[0]) if test_arns else "",
            "shift": self._shift_of(d.config),
            "ready": blue_green.get("deploymentReadyOption")
            or {"actionOnTimeout": "CONTINUE_DEPLOYMENT"},
            "termination": blue_green.get("terminateBlueInstancesOnDeploymentSuccess")
            or {"action": "TERMINATE", "terminationWaitTimeInMinutes": 0},
            "hooks": appspec["hooks"],
        }

    def _hook(self, d: Deployment, event: str, plan: dict[str, Any]) -> Body:
        if d.event(event) is None:
            return
        self._begin(d, event)
        fault = self.faults.pop(event, None)
        if fault is not None:
            yield Wait(timing.CODEDEPLOY_EVENT)
            raise DeploymentFailure(event, "HOOK_EXECUTION_FAILURE", fault)
        function = plan["hooks"].get(event)
        if function:
            yield from self._invoke_hook(d, event, str(function))
        else:
            yield Wait(timing.CODEDEPLOY_EVENT)
        self._end(d, event)
        yield Wait(timing.CODEDEPLOY_EVENT)

    def _invoke_hook(self, d: Deployment, event: str, function: str) -> Body:
        """Invoke the hook's Lambda function as the service role and wait for its report
        (D2: within one hour)."""
        arn = actions.function_arn(self.emulator, function)
        self._permit(d, event, "lambda:InvokeFunction", arn, operation="Invoke")
        try:
            found = self.emulator.backend("lambda").get_function(arn)
        except Exception as exc:  # noqa: BLE001 - moto's UnknownFunctionException
            # Lambda's Invoke answers ResourceNotFoundException "Function not found:
            # <arn>" (Lambda API reference, Invoke errors).
            raise DeploymentFailure(
                event,
                "INVALID_LAMBDA_FUNCTION",
                f"The Lambda function {function} named in the AppSpec file's {event} hook "
                f"could not be invoked: Function not found: {arn}",
            ) from exc
        name = str(found.function_name)
        code = hooks.code_for(name, str(found.code_sha_256 or ""))
        play = self.hook_plays.get(name)
        if code is None and play is None:
            raise DeploymentFailure(
                event,
                "HOOK_EXECUTION_FAILURE",
                f"the emulator cannot run Lambda function {name}'s code (the {event} hook); "
                "declare how the rehearsal plays it in bluegreen.toml: "
                f'[rehearse] hooks = {{ {name} = "succeed" }} (or "fail", "timeout")',
            )
        execution = internal.stable_uuid("codedeploy hook", d.id, event)
        run = HookRun(d, event, name)
        self._hook_runs[execution] = run
        role = str(found.role)
        auth = authz.authorizer(self.emulator)
        # Lambda runs the function as its execution role, which lambda.amazonaws.com must
        # be able to assume; a function that cannot run never reports.
        if auth.assume(
            role,
            "lambda.amazonaws.com",
            str(found.function_arn),
            record=f"Lambda cannot assume role {role} to run function {name}",
        ):
            clients = self.emulator.clients(role, internal=True)
            payload = {"DeploymentId": d.id, "LifecycleEventHookExecutionId": execution}
            # A function whose call is refused fails before it reports.
            with contextlib.suppress(ClientError):
                (code or hooks.declared(str(play)))(payload, clients)
        reported = yield Until(lambda: bool(run.status), timeout=HOOK_TIMEOUT)
        del self._hook_runs[execution]
        if not reported:
            raise DeploymentFailure(
                event,
                "HOOK_EXECUTION_FAILURE",
                f"The {event} hook {name} did not report its result with "
                "PutLifecycleEventHookExecutionStatus within one hour.",
            )
        if run.status == "Failed":
            raise DeploymentFailure(
                event,
                "HOOK_EXECUTION_FAILURE",
                f"The {event} hook {name} reported Failed.",
            )

    # -- the service role -----------------------------------------------------------------
    def _role(self, d: Deployment) -> str:
        return str(d.group_info.get("serviceRoleArn", ""))

    def _assume(self, d: Deployment) -> None:
        """CodeDeploy assumes the group's service role (its trust policy must allow
        codedeploy.amazonaws.com; the source is the deployment group)."""
        role = self._role(d)
        group = self.arn(f"deploymentgroup:{d.application}/{d.group}")
        text = f"AWS CodeDeploy does not have the permissions required to assume the role {role}."
        if not authz.authorizer(self.emulator).assume(
            role, "codedeploy.amazonaws.com", group, record=text
        ):
            raise DeploymentFailure("", "IAM_ROLE_PERMISSIONS", text)

    def _permit(
        self,
        d: Deployment,
        event: str,
        action: str,
        resource: str,
        context: dict[str, str] | None = None,
        *,
        operation: str = "",
    ) -> None:
        """A step CodeDeploy takes as the service role; a refusal fails the deployment."""
        role = self._role(d)
        denied = authz.authorizer(self.emulator).require(
            role, action, resource, context, operation=operation
        )
        if denied is not None:
            prefix = action.split(":", 1)[0]
            raise DeploymentFailure(
                event, "IAM_ROLE_PERMISSIONS", role_permissions(role, prefix), detail=denied
            )

    def _authorize_task_set(self, d: Deployment, plan: dict[str, Any]) -> None:
        """CreateTaskSet as the service role: ecs:CreateTaskSet on the service, and
        iam:PassRole of the task definition's roles to ECS (ECS developer guide, "Amazon
        ECS CodeDeploy IAM Role": "you must add the iam:PassRole permission for each task
        execution role or task role override"); ECS then assumes them as
        ecs-tasks.amazonaws.com (a role that does not trust it: "ECS was unable to assume
        the role '<arn>' that was provided for this task. ...", as quoted in
        tmknom/terraform-aws-codedeploy-for-ecs#18)."""
        self._permit(d, "Install", "ecs:CreateTaskSet", self._service_arn(d))
        auth = authz.authorizer(self.emulator)
        for role in plan["roles"]:
            self._permit(
                d,
                "Install",
                "iam:PassRole",
                role,
                {"iam:PassedToService": "ecs-tasks.amazonaws.com"},
                operation="PassRole",
            )
        for role in plan["roles"]:
            text = (
                f"ECS was unable to assume the role '{role}' that was provided for this task. "
                "Please verify that the role being passed has the proper trust relationship "
                "and permissions and that your IAM user has permissions to pass this role."
            )
            cluster = self.arn(f"cluster/{d.cluster}", service="ecs")
            if not auth.assume(role, "ecs-tasks.amazonaws.com", cluster, record=text):
                raise DeploymentFailure(
                    "Install",
                    "ECS_UPDATE_ERROR",
                    f"Failed to create the replacement task set: {text}",
                )

    def _service_arn(self, d: Deployment) -> str:
        return d.service_arn or self.arn(f"service/{d.cluster}/{d.service}", service="ecs")

    def _task_set_arn(self, d: Deployment, task_set: str) -> str:
        return self.arn(f"task-set/{d.cluster}/{d.service}/{task_set}", service="ecs")

    def _client_failure(self, d: Deployment, exc: ClientError, event: str) -> DeploymentFailure:
        return self._client_failure_for({"serviceRoleArn": self._role(d)}, exc, event)

    def _client_failure_for(
        self, group: dict[str, Any], exc: ClientError, event: str
    ) -> DeploymentFailure:
        """A refused or failed ELB call as a deployment failure."""
        message = str(exc.response["Error"].get("Message") or "")
        if _denied(exc):
            match = re.search(r"perform: ([a-z0-9-]+):", message)
            prefix = match.group(1) if match else "elasticloadbalancing"
            role = str(group.get("serviceRoleArn", ""))
            return DeploymentFailure(
                event, "IAM_ROLE_PERMISSIONS", role_permissions(role, prefix), detail=message
            )
        return DeploymentFailure(
            event,
            "ELASTIC_LOAD_BALANCING_INVALID",
            f"The ELB could not be updated due to the following error: {message}",
        )

    def _installed(self, d: Deployment) -> bool:
        ecs = self._ecs()
        elb: Elbv2 = self.emulator.service("elbv2")
        try:
            found = ecs.task_set(d.cluster, d.service, d.replacement)
        except ServiceError:
            return False
        if int(found.running_count) < int(found.computed_desired_count):
            return False
        for task in ecs.tasks(d.cluster, d.service, d.replacement):
            if task.status != "RUNNING":
                return False
            for arn, port in task.registered:
                state = elb.target(arn, task.ip, port)
                if state is None or state.state not in ("healthy", "unused"):
                    return False
        return True

    def _forward(self, d: Deployment, listener: str, share: int) -> None:
        """Point ``listener`` at the pair: ``share`` % on the replacement, the rest on the
        original, both kept in the forward (weight 0 included)."""
        group = self._group(d.application, d.group)
        elbv2 = internal.client(self.emulator, "elbv2", str(group.get("serviceRoleArn", "")))
        elbv2.modify_listener(
            ListenerArn=listener,
            DefaultActions=[
                {
                    "Type": "forward",
                    "ForwardConfig": {
                        "TargetGroups": [
                            {"TargetGroupArn": d.replacement_group, "Weight": share},
                            {"TargetGroupArn": d.original_group, "Weight": 100 - share},
                        ]
                    },
                }
            ],
        )

    def _fail(self, d: Deployment, failure: DeploymentFailure) -> None:
        self._finish(d, "Failed", failure)
        config = d.auto_rollback
        if (
            config.get("enabled")
            and "DEPLOYMENT_FAILURE" in (config.get("events") or [])
            and failure.event != "BeforeInstall"  # D2: "A rollback is not possible at this point."
        ):
            self._roll_back(d, f"{failure.event} failed: {failure.message}")

    def _finish(self, d: Deployment, status: str, failure: DeploymentFailure | None = None) -> None:
        now = self.emulator.now()
        self._snapshot(d)
        for event in d.events:
            if event["status"] == "InProgress":
                event["status"] = "Failed" if status != "Succeeded" else "Succeeded"
                event["endTime"] = now
            elif event["status"] == "Pending" and status != "Succeeded":
                event["status"] = "Skipped"
        if failure is not None and failure.event:
            failed = d.event(failure.event)
            if failed is not None:
                failed["status"] = "Failed"
                failed.setdefault("startTime", now)
                failed["endTime"] = now
                failed["diagnostics"] = {
                    "errorCode": "UnknownError",
                    "scriptName": "",
                    "message": failure.detail[:1000],
                    "logTail": "",
                }
        d.status = status
        d.completed = now
        d.in_termination_wait = False
        if failure is not None:
            d.error = {"code": failure.code, "message": failure.message}
        if status == "Succeeded":
            self._target_status(d, "Succeeded")
        elif status in ("Failed", "Stopped"):
            self._target_status(d, "Failed")

    def _watch_alarms(self, d: Deployment) -> Body:
        """The deployment group's alarms, read while the deployment runs: from its start
        until it ends, the termination wait included (CodeDeploy User Guide, "Monitor
        deployments with CloudWatch alarms in CodeDeploy": "If the alarm is activated, the
        deployment is stopped"; the termination wait is part of the deployment,
        aws/containers-roadmap#269). CodeDeploy reads them as the service role
        (cloudwatch:DescribeAlarms is in AWSCodeDeployRoleForECS(Limited)); when it cannot,
        the deployment stops unless ignorePollAlarmFailure (AlarmConfiguration, CodeDeploy
        API reference: "false: The deployment stops if alarm status information can't be
        retrieved from Amazon CloudWatch")."""
        configuration = d.group_info.get("alarmConfiguration") or {}
        names = _watched_alarms(d.group_info)
        yield Wait(timing.CODEDEPLOY_START)
        while d.active and d.process is not None and not d.process.done:
            client = internal.client(self.emulator, "cloudwatch", self._role(d))
            try:
                described = client.describe_alarms(AlarmNames=names)
            except ClientError as exc:
                if not configuration.get("ignorePollAlarmFailure"):
                    error = exc.response.get("Error", {})
                    self._stop_on_alarm(
                        d, f"{ALARM_POLL_FAILED}{error.get('Code')}: {error.get('Message')}"
                    )
                    return
            else:
                found = [*described.get("MetricAlarms", []), *described.get("CompositeAlarms", [])]
                active = [a["AlarmName"] for a in found if a.get("StateValue") == "ALARM"]
                if active:
                    self._stop_on_alarm(d, ALARM_ACTIVE + " ".join(f"<{n}>" for n in active))
                    return
            yield Wait(ALARM_POLL)

    def _stop_on_alarm(self, d: Deployment, message: str) -> None:
        """Stop ``d`` (status Stopped, error ALARM_ACTIVE) and roll it back when its
        autoRollbackConfiguration has DEPLOYMENT_STOP_ON_ALARM (CodeDeploy User Guide,
        "Redeploy and roll back a deployment with CodeDeploy": automatic rollback "when a
        deployment fails, or when a monitoring threshold you specify is met")."""
        if d.process is not None:
            d.process.cancel()
        self._finish(d, "Stopped", DeploymentFailure("", "ALARM_ACTIVE", message))
        config = d.auto_rollback
        if config.get("enabled") and "DEPLOYMENT_STOP_ON_ALARM" in (config.get("events") or []):
            self._roll_back(d, message)

    def _roll_back(self, d: Deployment, why: str) -> Deployment | None:
        """A rollback deployment with its own id: listeners back on the original task set,
        the original PRIMARY again, the replacement deleted."""
        if not d.replacement and not d.test_moved and not d.production_moved:
            return None
        group = self._group(d.application, d.group)
        rollback = self._new_deployment(
            group,
            d.config,
            dict(d.previous_revision or d.revision),
            creator="codeDeployRollback",
            description="",
            auto_rollback={"enabled": False},
        )
        rollback.rollback_info = {"rollbackTriggeringDeploymentId": d.id}
        rollback.rollback_of = d
        d.rollback_info = {
            "rollbackDeploymentId": rollback.id,
            "rollbackMessage": (
                f"Deployment {d.id} was rolled back by deployment {rollback.id}: {why}"
            ),
        }
        for name in (
            "cluster",
            "service",
            "service_arn",
            "original",
            "replacement",
            "original_group",
            "replacement_group",
        ):
            setattr(rollback, name, getattr(d, name))
        rollback.share = d.share
        rollback.process = self.emulator.clock.spawn(
            f"codedeploy rollback {rollback.id}", self._run_rollback(rollback, d)
        )
        return rollback

    def _run_rollback(self, r: Deployment, d: Deployment) -> Body:
        yield Wait(timing.CODEDEPLOY_START)
        r.status = "InProgress"
        r.started = self.emulator.now()
        self._target_status(r, "InProgress")
        # A rollback reroutes traffic (D1: "CodeDeploy implements rollbacks by rerouting
        # traffic from the replacement task set to the original task set"); which of its
        # lifecycle events AWS shows is not documented: AllowTraffic runs, the rest are
        # Skipped.
        for event in r.events:
            if event["lifecycleEventName"] != "AllowTraffic":
                event["status"] = "Skipped"
        self._begin(r, "AllowTraffic")
        pair = r.group_info["loadBalancerInfo"]["targetGroupPairInfoList"][0]
        test = (pair.get("testTrafficRoute") or {}).get("listenerArns") or []
        try:
            if d.production_moved:
                self._forward(r, str(pair["prodTrafficRoute"]["listenerArns"][0]), 0)
            if d.test_moved and test:
                self._forward(r, str(test[0]), 0)
            self._permit(r, "AllowTraffic", "ecs:UpdateServicePrimaryTaskSet", self._service_arn(r))
            if r.replacement:
                self._permit(
                    r, "AllowTraffic", "ecs:DeleteTaskSet", self._task_set_arn(r, r.replacement)
                )
        except ClientError as exc:
            self._finish(r, "Failed", self._client_failure(r, exc, "AllowTraffic"))
            return
        except DeploymentFailure as failure:
            self._finish(r, "Failed", failure)
            return
        r.share = 0
        ecs = self._ecs()
        # The original task set may be gone already (the termination wait ended).
        with contextlib.suppress(ServiceError):
            ecs.make_primary(r.cluster, r.service, r.original)
        yield Wait(timing.CODEDEPLOY_EVENT)
        self._snapshot(r)
        if r.replacement:
            with contextlib.suppress(ServiceError):
                ecs.delete_task_set(r.cluster, r.service, r.replacement)
        self._end(r, "AllowTraffic")
        self._finish(r, "Succeeded")

    # ======================================================================= views
    def _info(self, d: Deployment) -> dict[str, Any]:
        info: dict[str, Any] = {
            "applicationName": d.application,
            "deploymentGroupName": d.group,
            "deploymentConfigName": d.config,
            "deploymentId": d.id,
            "revision": _located(d.revision),
            "status": d.status,
            "createTime": d.created,
            "creator": d.creator,
            "ignoreApplicationStopFailures": False,
            "updateOutdatedInstancesOnly": False,
            "deploymentStyle": d.group_info.get(
                "deploymentStyle",
                {"deploymentType": "BLUE_GREEN", "deploymentOption": "WITH_TRAFFIC_CONTROL"},
            ),
            "instanceTerminationWaitTimeStarted": False,
            "deploymentOverview": _overview(d),
            "deploymentStatusMessages": [],
            "computePlatform": d.group_info.get("computePlatform", "ECS"),
        }
        if d.previous_revision:
            info["previousRevision"] = _located(d.previous_revision)
        if d.description:
            info["description"] = d.description
        if d.started:
            info["startTime"] = d.started
        if d.completed:
            info["completeTime"] = d.completed
        if d.error:
            info["errorInformation"] = d.error
        if d.auto_rollback:
            info["autoRollbackConfiguration"] = d.auto_rollback
        if d.rollback_info:
            info["rollbackInfo"] = d.rollback_info
        for key in ("blueGreenDeploymentConfiguration", "loadBalancerInfo"):
            if d.group_info.get(key):
                info[key] = d.group_info[key]
        return info

    def _target(self, d: Deployment) -> dict[str, Any]:
        self._snapshot(d)
        sets = []
        for task_set_id, label in ((d.original, "Blue"), (d.replacement, "Green")):
            seen = d.task_sets_seen.get(task_set_id)
            if seen is not None:
                weight = float(d.share if label == "Green" else 100 - d.share)
                sets.append({**seen, "trafficWeight": weight, "taskSetLabel": label})
        return {
            "deploymentTargetType": "ECSTarget",
            "ecsTarget": {
                "deploymentId": d.id,
                "targetId": _target_id(d),
                "targetArn": d.service_arn,
                "lastUpdatedAt": d.target_updated or d.created,
                "lifecycleEvents": [dict(e) for e in d.events],
                "status": d.target_status,
                "taskSetsInfo": sets,
            },
        }

    def _snapshot(self, d: Deployment) -> None:
        """Remember the deployment's task sets as ECS shows them (kept when deleted)."""
        if not d.cluster:
            return
        names = {d.original_group: "", d.replacement_group: ""}
        for arn in names:
            names[arn] = arn.split(":targetgroup/", 1)[-1].split("/", 1)[0] if arn else ""
        try:
            task_sets = self._ecs().task_sets(d.cluster, d.service)
        except ServiceError:
            return
        for ts in task_sets:
            if ts.id not in (d.original, d.replacement) or not ts.id:
                continue
            group = next((lb["targetGroupArn"] for lb in ts.load_balancers or []), "")
            d.task_sets_seen[ts.id] = {
                "identifer": ts.id,  # [sic]: the API model's member name (D4, ECSTaskSet)
                "desiredCount": int(ts.computed_desired_count),
                "pendingCount": int(ts.pending_count),
                "runningCount": int(ts.running_count),
                "status": ts.status,
                "targetGroup": {"name": names.get(group, "")},
            }

    def _group_view(self, info: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in info.items() if not k.startswith("_")}
        deployments = self._group_deployments(info)
        if deployments:
            last = deployments[0]
            out["lastAttemptedDeployment"] = _last(last)
        succeeded = next((d for d in deployments if d.status == "Succeeded"), None)
        if succeeded is not None:
            out["lastSuccessfulDeployment"] = _last(succeeded)
            out["targetRevision"] = _located(succeeded.revision)
        return out

    # ======================================================================= helpers
    def _ecs(self) -> Ecs:
        ecs: Ecs = self.emulator.service("ecs")
        return ecs

    def _uuid(self, *parts: str) -> str:
        h = hashlib.sha256("/".join(("codedeploy", self.account_id, *parts)).encode()).hexdigest()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"

    def _new_deployment(
        self,
        group: dict[str, Any],
        config: str,
        revision: dict[str, Any],
        *,
        creator: str,
        description: str,
        auto_rollback: dict[str, Any] | None,
    ) -> Deployment:
        self._ids += 1
        digest = hashlib.sha256(f"{self.account_id}/{self.region}/{self._ids}".encode()).digest()
        number = int.from_bytes(digest[:8], "big")
        alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        suffix = ""
        for _ in range(9):
            number, rest = divmod(number, 36)
            suffix += alphabet[rest]
        previous = next(
            (d for d in self._group_deployments(group) if d.status == "Succeeded"), None
        )
        info = {k: v for k, v in group.items() if not k.startswith("_")}
        deployment = Deployment(
            id=f"d-{suffix}",
            application=str(group["applicationName"]),
            group=str(group["deploymentGroupName"]),
            config=config,
            revision=revision,
            creator=creator,
            created=self.emulator.now(),
            group_info=info,
            description=description,
            auto_rollback=dict(auto_rollback or group.get("autoRollbackConfiguration") or {}),
            previous_revision=previous.revision if previous is not None else None,
        )
        pair = ((info.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or [{}])[0]
        has_test = bool((pair.get("testTrafficRoute") or {}).get("listenerArns"))
        deployment.events = [
            {"lifecycleEventName": name, "status": "Pending"}
            for name in EVENTS
            if has_test or name not in ("AllowTestTraffic", "AfterAllowTestTraffic")
        ]
        service = (info.get("ecsServices") or [{}])[0]
        deployment.cluster = str(service.get("clusterName", ""))
        deployment.service = str(service.get("serviceName", ""))
        self._deployments[deployment.id] = deployment
        self._order.append(deployment.id)
        return deployment

    def _group_deployments(self, group: dict[str, Any]) -> list[Deployment]:
        """The group's deployments, newest first."""
        return [
            self._deployments[i]
            for i in reversed(self._order)
            if self._deployments[i].application == group["applicationName"]
            and self._deployments[i].group == group["deploymentGroupName"]
        ]

    def _begin(self, d: Deployment, name: str) -> None:
        event = d.event(name)
        if event is not None:
            event["status"] = "InProgress"
            event["startTime"] = self.emulator.now()
            d.target_updated = self.emulator.now()

    def _end(self, d: Deployment, name: str) -> None:
        event = d.event(name)
        if event is not None:
            event["status"] = "Succeeded"
            event["endTime"] = self.emulator.now()
            d.target_updated = self.emulator.now()

    def _target_status(self, d: Deployment, status: str) -> None:
        d.target_status = status
        d.target_updated = self.emulator.now()

    def _deployment(self, deployment_id: str) -> Deployment:
        if not deployment_id:
            raise ServiceError(
                "DeploymentIdRequiredException", "At least one deployment ID must be specified."
            )
        found = self._deployments.get(deployment_id)
        if found is None:
            raise ServiceError(
                "DeploymentDoesNotExistException", f"Deployment {deployment_id} does not exist."
            )
        return found

    def _started(self, deployment_id: str) -> Deployment:
        found = self._deployment(deployment_id)
        if found.status == "Created":
            raise ServiceError(
                "DeploymentNotStartedException", "The specified deployment has not started."
            )
        return found

    def _application(self, name: str) -> dict[str, Any]:
        found = self._applications.get(name)
        if found is None:
            raise ServiceError(
                "ApplicationDoesNotExistException", f"No application found for name: {name}"
            )
        return found

    def _group(self, app: str, name: str) -> dict[str, Any]:
        self._application(app)
        found = self._groups.get((app, name))
        if found is None:
            raise ServiceError(
                "DeploymentGroupDoesNotExistException",
                f"No Deployment Group found for name: {name}",
            )
        return found

    def _config(self, name: str) -> dict[str, Any]:
        created = self.emulator.clock.start
        if name in PREDEFINED_ECS:
            return {
                "deploymentConfigId": self._uuid("config", name),
                "deploymentConfigName": name,
                "createTime": created,
                "computePlatform": "ECS",
                "trafficRoutingConfig": PREDEFINED_ECS[name].routing(),
            }
        if name in PREDEFINED_LAMBDA:
            return {
                "deploymentConfigId": self._uuid("config", name),
                "deploymentConfigName": name,
                "createTime": created,
                "computePlatform": "Lambda",
                "trafficRoutingConfig": PREDEFINED_LAMBDA[name].routing(),
            }
        if name in PREDEFINED_SERVER:
            return {
                "deploymentConfigId": self._uuid("config", name),
                "deploymentConfigName": name,
                "createTime": created,
                "computePlatform": "Server",
                "minimumHealthyHosts": PREDEFINED_SERVER[name],
            }
        found = self._configs.get(name)
        if found is None:
            raise ServiceError(
                "DeploymentConfigDoesNotExistException",
                f"No deployment configuration found for name: {name}",
            )
        return dict(found)

    def _shift_of(self, name: str) -> Shift:
        config = self._config(name)
        routing = config.get("trafficRoutingConfig")
        if not routing:
            raise DeploymentFailure(
                "BeforeInstall",
                "INVALID_REVISION",
                f"Deployment configuration {name} has no traffic routing for ECS.",
            )
        return _shift(routing)

    def _target_groups(self, group: dict[str, Any], names: list[str]) -> dict[str, str]:
        elbv2 = internal.client(self.emulator, "elbv2", str(group.get("serviceRoleArn", "")))
        try:
            found = elbv2.describe_target_groups(Names=names)["TargetGroups"]
        except ClientError as exc:
            if _denied(exc):
                raise self._client_failure_for(group, exc, "BeforeInstall") from exc
            raise DeploymentFailure(
                "BeforeInstall",
                "ELASTIC_LOAD_BALANCING_INVALID",
                f"The deployment group's target groups {names}: {exc.response['Error']['Message']}",
            ) from exc
        return {str(g["TargetGroupName"]): str(g["TargetGroupArn"]) for g in found}

    def _forwards(self, group: dict[str, Any], listener: str) -> list[tuple[str, int]]:
        elbv2 = internal.client(self.emulator, "elbv2", str(group.get("serviceRoleArn", "")))
        described = elbv2.describe_listeners(ListenerArns=[listener])["Listeners"][0]
        for action in described.get("DefaultActions", []):
            if action.get("Type") != "forward":
                continue
            groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
            if groups:
                return [(str(g["TargetGroupArn"]), int(g.get("Weight", 1))) for g in groups]
            if action.get("TargetGroupArn"):
                return [(str(action["TargetGroupArn"]), 1)]
        return []

    def _validate_group(self, info: dict[str, Any]) -> None:
        """What CreateDeploymentGroup/UpdateDeploymentGroup check (moto checks nothing)."""
        role = str(info.get("serviceRoleArn") or "")
        # Any partition (arn:aws:, arn:aws-cn:, arn:aws-us-gov:; "ARN format", IAM User
        # Guide, "IAM identifiers").
        if not re.match(r"arn:aws(-[a-z]+)*:iam::\d{12}:role/", role):
            raise ServiceError("InvalidRoleException", f"The service role ARN {role} is not valid.")
        if not self._role_trusts_codedeploy(role):
            raise ServiceError(
                "InvalidRoleException",
                f"AWS CodeDeploy does not have the permissions required to assume the role {role}.",
            )
        if info.get("deploymentConfigName"):
            self._config(str(info["deploymentConfigName"]))
        alarms = (info.get("alarmConfiguration") or {}).get("alarms") or []
        if len(alarms) > MAX_ALARMS:
            raise ServiceError(
                "AlarmsLimitExceededException",
                "The maximum number of alarms for a deployment group (10) was exceeded.",
            )
        if info.get("computePlatform") != "ECS":
            return
        style = info.get("deploymentStyle") or {}
        if (
            style.get("deploymentType") != "BLUE_GREEN"
            or style.get("deploymentOption") != "WITH_TRAFFIC_CONTROL"
        ):
            raise ServiceError(
                "InvalidDeploymentStyleException",
                "An ECS deployment group needs deploymentStyle BLUE_GREEN with "
                "WITH_TRAFFIC_CONTROL.",
            )
        ready = (info.get("blueGreenDeploymentConfiguration") or {}).get(
            "deploymentReadyOption"
        ) or {}
        if ready.get(
            "actionOnTimeout", "CONTINUE_DEPLOYMENT"
        ) == "CONTINUE_DEPLOYMENT" and ready.get("waitTimeInMinutes"):
            # hashicorp/terraform-provider-aws#9653 quotes this refusal.
            raise ServiceError(
                "InvalidBlueGreenDeploymentConfigurationException",
                "Deployment ready action cannot be set to 'CONTINUE_DEPLOYMENT' when timeout is "
                "specified",
            )
        services = info.get("ecsServices") or []
        if len(services) != 1:
            raise ServiceError(
                "InvalidECSServiceException",
                "An ECS deployment group needs exactly one ECS service.",
            )
        pairs = (info.get("loadBalancerInfo") or {}).get("targetGroupPairInfoList") or []
        if len(pairs) != 1:
            # awsdocs/amazon-ecs-developer-guide#213 quotes this refusal.
            raise ServiceError(
                "InvalidLoadBalancerInfoException",
                "The specification for load balancing in the deployment group is invalid. The "
                "deploymentOption value is set to WITH_TRAFFIC_CONTROL, but either no load "
                "balancer was specified in elbInfoList or no target group was specified in "
                "targetGroupInfoList.",
            )
        pair = pairs[0]
        names = [str(g.get("name", "")) for g in pair.get("targetGroups") or []]
        if len(names) != 2 or names[0] == names[1]:
            raise ServiceError(
                "InvalidTargetGroupPairException",
                "Target group pair must have distinct target groups.",
            )
        production = (pair.get("prodTrafficRoute") or {}).get("listenerArns") or []
        if len(production) != 1:
            raise ServiceError(
                "InvalidLoadBalancerInfoException",
                "The target group pair needs exactly one production listener.",
            )
        # The references, checked as the service role (resources/cicd.py in the rehearsal
        # made the same checks): the ECS service with the CODE_DEPLOY controller, the two
        # target groups, the listeners.
        ecs = internal.client(self.emulator, "ecs", role)
        service = services[0]
        try:
            described = ecs.describe_services(
                cluster=service.get("clusterName", ""), services=[service.get("serviceName", "")]
            )["services"]
        except ClientError as exc:
            raise ServiceError(
                "InvalidECSServiceException",
                f"The ECS cluster {service.get('clusterName')} does not exist.",
            ) from exc
        live = [s for s in described if s.get("status") != "INACTIVE"]
        if not live:
            raise ServiceError(
                "InvalidECSServiceException",
                f"The ECS service {service.get('serviceName')} does not exist in cluster "
                f"{service.get('clusterName')}.",
            )
        controller = (live[0].get("deploymentController") or {}).get("type", "ECS")
        if controller != "CODE_DEPLOY":
            raise ServiceError(
                "InvalidECSServiceException",
                "Deployment group's ECS service must be configured for a CODE_DEPLOY deployment "
                "controller.",
            )
        elbv2 = internal.client(self.emulator, "elbv2", role)
        try:
            elbv2.describe_target_groups(Names=names)
        except ClientError as exc:
            raise ServiceError(
                "InvalidTargetGroupPairException",
                f"The target groups {names} of the target group pair must exist: "
                f"{exc.response['Error']['Message']}",
            ) from exc
        listeners = [*production, *((pair.get("testTrafficRoute") or {}).get("listenerArns") or [])]
        try:
            elbv2.describe_listeners(ListenerArns=listeners)
        except ClientError as exc:
            raise ServiceError(
                "InvalidLoadBalancerInfoException",
                f"The listeners {listeners} must exist: {exc.response['Error']['Message']}",
            ) from exc

    def _role_trusts_codedeploy(self, role_arn: str) -> bool:
        from urllib.parse import unquote

        iam = self.emulator.backend("iam")
        name = role_arn.rsplit("/", 1)[-1]
        role = next((r for r in iam.roles.values() if r.name == name), None)
        if role is None:
            return False
        document = role.assume_role_policy_document
        if isinstance(document, str):
            try:
                document = json.loads(unquote(document))
            except json.JSONDecodeError:
                return False
        for statement in document.get("Statement", []):
            principal = statement.get("Principal") or {}
            services = principal.get("Service", []) if isinstance(principal, dict) else []
            services = [services] if isinstance(services, str) else services
            if statement.get("Effect") == "Allow" and "codedeploy.amazonaws.com" in services:
                return True
        return False


# ============================================================================ helpers

_GROUP_FIELDS = (
    "deploymentConfigName",
    "ec2TagFilters",
    "onPremisesInstanceTagFilters",
    "autoScalingGroups",
    "serviceRoleArn",
    "triggerConfigurations",
    "alarmConfiguration",
    "autoRollbackConfiguration",
    "outdatedInstancesStrategy",
    "deploymentStyle",
    "blueGreenDeploymentConfiguration",
    "loadBalancerInfo",
    "ec2TagSet",
    "ecsServices",
    "onPremisesTagSet",
    "terminationHookEnabled",
)


def _watched_alarms(group: dict[str, Any]) -> list[str]:
    """The alarms a deployment of ``group`` watches: its alarm configuration's, if enabled."""
    configuration = group.get("alarmConfiguration") or {}
    if not configuration.get("enabled"):
        return []
    return [str(a["name"]) for a in configuration.get("alarms") or [] if a.get("name")]


def _default_config(platform: str) -> str:
    # CreateDeploymentGroup: "CodeDeployDefault.OneAtATime is the default deployment
    # configuration"; an ECS group without one deploys all at once.
    return {
        "ECS": "CodeDeployDefault.ECSAllAtOnce",
        "Lambda": "CodeDeployDefault.LambdaAllAtOnce",
    }.get(platform, "CodeDeployDefault.OneAtATime")


def _shift(routing: dict[str, Any]) -> Shift:
    kind = routing.get("type")
    if kind == "TimeBasedCanary":
        canary = routing.get("timeBasedCanary") or {}
        return Shift(
            kind, int(canary.get("canaryPercentage", 0)), int(canary.get("canaryInterval", 0))
        )
    if kind == "TimeBasedLinear":
        linear = routing.get("timeBasedLinear") or {}
        percent = int(linear.get("linearPercentage", 0))
        if percent <= 0:
            raise ServiceError(
                "InvalidTrafficRoutingConfigurationException",
                "The linear percentage must be greater than 0.",
            )
        return Shift(kind, percent, int(linear.get("linearInterval", 0)))
    if kind == "AllAtOnce":
        return Shift("AllAtOnce")
    raise ServiceError(
        "InvalidTrafficRoutingConfigurationException",
        f"The traffic routing type {kind} is not AllAtOnce, TimeBasedCanary or TimeBasedLinear.",
    )


def _located(revision: dict[str, Any]) -> dict[str, Any]:
    """A revision as GetDeployment answers it: "The content property of the
    appSpecContent object in the returned revision is always null. Use
    GetApplicationRevision and the sha256 property" (GetDeployment, API reference; the
    same DeploymentInfo shape in BatchGetDeployments and a group's targetRevision)."""
    if revision.get("revisionType") != "AppSpecContent":
        return revision
    spec = revision.get("appSpecContent") or {}
    return {"revisionType": "AppSpecContent", "appSpecContent": {"sha256": spec.get("sha256")}}


def _appspec(revision: dict[str, Any]) -> dict[str, Any]:
    """The AppSpec content of an ECS revision: its service properties and its hooks."""
    if revision.get("revisionType") == "String":
        text = str((revision.get("string") or {}).get("content", ""))
    else:
        text = str((revision.get("appSpecContent") or {}).get("content", ""))
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise DeploymentFailure(
            "BeforeInstall", "INVALID_REVISION", f"The AppSpec file cannot be parsed: {exc}"
        ) from exc
    resources = data.get("Resources") if isinstance(data, dict) else None
    if not isinstance(resources, list) or len(resources) != 1 or not isinstance(resources[0], dict):
        raise DeploymentFailure(
            "BeforeInstall",
            "INVALID_REVISION",
            "The AppSpec file must list exactly one resource, the ECS service.",
        )
    resource = next(iter(resources[0].values()))
    if not isinstance(resource, dict) or resource.get("Type") != "AWS::ECS::Service":
        raise DeploymentFailure(
            "BeforeInstall",
            "INVALID_REVISION",
            "The AppSpec resource must be of Type AWS::ECS::Service.",
        )
    properties = resource.get("Properties") or {}
    hooks: dict[str, str] = {}
    for entry in data.get("Hooks") or []:
        for event, function in dict(entry).items():
            if event not in HOOK_EVENTS:
                raise DeploymentFailure(
                    "BeforeInstall",
                    "INVALID_REVISION",
                    f"The AppSpec hook {event} is not an ECS lifecycle hook "
                    f"({', '.join(HOOK_EVENTS)}).",
                )
            hooks[str(event)] = str(function)
    return {"properties": properties, "hooks": hooks}


def _denied(exc: ClientError) -> bool:
    return str(exc.response["Error"].get("Code")) in ("AccessDenied", "AccessDeniedException")


def _revision_key(revision: dict[str, Any]) -> str:
    """A revision's identity: its content's SHA-256 (AppSpecContent and String revisions)."""
    if revision.get("revisionType") == "String":
        content = str((revision.get("string") or {}).get("content", ""))
    else:
        spec = revision.get("appSpecContent") or {}
        if spec.get("sha256") and not spec.get("content"):
            # GetDeployment returns the revision without its content (API reference,
            # GetDeployment note), so a caller names it by the sha256 it was given.
            return str(spec["sha256"])
        content = str(spec.get("content", ""))
    return hashlib.sha256(content.encode()).hexdigest()


def _network(network: dict[str, Any]) -> dict[str, Any]:
    vpc = network.get("AwsvpcConfiguration") or network.get("awsvpcConfiguration") or {}
    return {
        "awsvpcConfiguration": {
            "subnets": list(vpc.get("Subnets") or vpc.get("subnets") or []),
            "securityGroups": list(vpc.get("SecurityGroups") or vpc.get("securityGroups") or []),
            "assignPublicIp": str(
                vpc.get("AssignPublicIp") or vpc.get("assignPublicIp") or "DISABLED"
            ),
        }
    }


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if not k.startswith("_")}


def _current(d: Deployment) -> str:
    """The lifecycle event in progress (where a failure belongs)."""
    return next((e["lifecycleEventName"] for e in d.events if e["status"] == "InProgress"), "")


def _aware(moment: datetime) -> datetime:
    """A request's timestamp (parsed naive, in UTC) comparable with the clock's."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _target_id(d: Deployment) -> str:
    # D3: "targetId": "tutorial-bluegreen-cluster:service-bluegreen".
    return f"{d.cluster}:{d.service}"


def _overview(d: Deployment) -> dict[str, int]:
    counts = {"Pending": 0, "InProgress": 0, "Succeeded": 0, "Failed": 0, "Skipped": 0, "Ready": 0}
    if d.target_status in counts:
        counts[d.target_status] = 1
    return counts


def _last(d: Deployment) -> dict[str, Any]:
    out: dict[str, Any] = {"deploymentId": d.id, "status": d.status, "createTime": d.created}
    if d.completed:
        out["endTime"] = d.completed
    return out


def _page(items: list[str], token: str | None) -> tuple[list[str], str | None]:
    start = 0
    if token:
        try:
            start = int(base64.b64decode(token.encode()).decode())
        except ValueError as exc:
            raise ServiceError(
                "InvalidNextTokenException", "The next token was specified in an invalid format."
            ) from exc
    page = items[start : start + PAGE]
    following = start + PAGE
    return page, base64.b64encode(str(following).encode()).decode() if following < len(
        items
    ) else None
