"""How long AWS takes for what it does by itself: the durations the emulator's clock uses.

Each duration names its source. Where AWS documents a number (a default, a quota, a
timeout) it is that number; where AWS documents none, the figure is a typical value
reported publicly, marked ``observed`` with where it was reported, so a reader can tell
a documented duration from a modelled one. The rehearsal lists them in its JSON output.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Duration:
    """A duration of the emulated AWS: seconds, what it is, and where the number is from."""

    seconds: float
    what: str
    source: str
    documented: bool = False

    @property
    def basis(self) -> str:
        """documented (AWS gives the number), observed (a public report measured it), or
        modelled (no public figure: a reasoned estimate, said so in its source)."""
        if self.documented:
            return "documented"
        return "observed" if self.source.startswith("observed") else "modelled"

    def to_dict(self) -> dict[str, object]:
        return {
            "seconds": self.seconds,
            "what": self.what,
            "source": self.source,
            "documented": self.documented,
            "basis": self.basis,
        }


DURATIONS: dict[str, Duration] = {}


def duration(key: str, seconds: float, what: str, source: str, documented: bool = False) -> float:
    """Register a duration under ``key`` and return its seconds (module-level constants)."""
    DURATIONS[key] = Duration(seconds, what, source, documented)
    return seconds


# -- CloudFormation -------------------------------------------------------------------------
# CloudFormation documents no per-resource durations. The figures are typical times
# between a resource's CREATE_IN_PROGRESS and CREATE_COMPLETE events in CloudFormation's
# stack events (modelled, not documented); resources of one stack run in parallel as far
# as their dependencies allow, so a stack takes its longest dependency chain.

_CFN_SOURCE = (
    "modelled: typical time between a resource's *_IN_PROGRESS and *_COMPLETE stack events; "
    "CloudFormation documents no durations"
)

CHANGE_SET_COMPUTE = duration(
    "cloudformation.change_set",
    5,
    "computing a change set (CREATE_PENDING to CREATE_COMPLETE)",
    _CFN_SOURCE,
)

STABILIZATION_TIMEOUT = duration(
    "cloudformation.operation_timeout",
    36 * 3600,
    "longest a resource operation may take before CloudFormation times it out",
    "AWS CloudFormation Template Reference, AWS::ECS::Service CanaryConfiguration: "
    '"Amazon CloudFormation operations time out after 36 hours"',
    documented=True,
)

STABILIZATION_POLL = duration(
    "cloudformation.stabilization_poll",
    15,
    "how often CloudFormation's handler checks a resource it waits for (an ECS service's "
    "stability)",
    "modelled: the ECS services-stable waiter polls every 15 s (botocore ecs waiters-2.json, "
    "ServicesStable delay)",
)

_RESOURCE_SECONDS: dict[str, tuple[float, float, float]] = {
    # type: (create, update, delete) seconds
    "AWS::EC2::VPC": (15, 5, 5),
    "AWS::EC2::InternetGateway": (15, 5, 5),
    "AWS::EC2::VPCGatewayAttachment": (15, 5, 15),
    "AWS::EC2::Subnet": (5, 5, 5),
    "AWS::EC2::RouteTable": (5, 5, 5),
    "AWS::EC2::Route": (15, 5, 5),
    "AWS::EC2::SubnetRouteTableAssociation": (5, 5, 5),
    "AWS::EC2::SecurityGroup": (5, 5, 5),
    "AWS::EC2::SecurityGroupIngress": (5, 5, 5),
    "AWS::EC2::SecurityGroupEgress": (5, 5, 5),
    "AWS::ElasticLoadBalancingV2::LoadBalancer": (180, 15, 30),
    "AWS::ElasticLoadBalancingV2::TargetGroup": (5, 5, 5),
    "AWS::ElasticLoadBalancingV2::Listener": (5, 5, 5),
    "AWS::ECS::Cluster": (10, 5, 5),
    "AWS::ECS::TaskDefinition": (5, 5, 5),
    "AWS::ECS::Service": (30, 30, 30),
    "AWS::IAM::Role": (15, 10, 10),
    "AWS::IAM::Policy": (15, 10, 10),
    "AWS::Logs::LogGroup": (5, 5, 5),
    "AWS::ECR::Repository": (5, 5, 5),
    "AWS::CodeCommit::Repository": (5, 5, 5),
    "AWS::S3::Bucket": (20, 20, 5),
    "AWS::S3::BucketPolicy": (5, 5, 5),
    "AWS::CodeBuild::Project": (5, 5, 5),
    "AWS::CodeDeploy::Application": (5, 5, 5),
    "AWS::CodeDeploy::DeploymentConfig": (5, 5, 5),
    "AWS::CodeDeploy::DeploymentGroup": (5, 5, 5),
    "AWS::CodePipeline::Pipeline": (5, 5, 5),
    "AWS::Events::Rule": (60, 30, 30),
}
_DEFAULT_RESOURCE_SECONDS = (10.0, 10.0, 10.0)

for _type, (_create, _update, _delete) in _RESOURCE_SECONDS.items():
    duration(f"cloudformation.{_type}", _create, f"creating an {_type}", _CFN_SOURCE)


def resource_seconds(resource_type: str, operation: str) -> float:
    """Seconds CloudFormation takes to create, update or delete a resource of a type
    (before any readiness it waits for, such as an ECS service's stability)."""
    create, update, delete = _RESOURCE_SECONDS.get(resource_type, _DEFAULT_RESOURCE_SECONDS)
    return {"create": create, "update": update, "delete": delete}[operation]


# -- ECS, ELBv2, CodeDeploy (emulator/services/ecs.py, elbv2.py, codedeploy.py) ----------
# The one real end-to-end figure published for an ECS blue/green deployment is the ECS
# tutorial's get-deployment-target output (awsdocs/amazon-ecs-developer-guide,
# doc_source/create-blue-green.md): Install took 123.6 s for one Fargate task (startTime
# 1543431361.678, endTime 1543431485.275) and every other lifecycle event ~0.5 s. The task
# start-up figures below are chosen so that a task pulled from ECR, registered and passing
# two 15-second health checks lands close to that total.

FARGATE_PROVISIONING = duration(
    "ecs.fargate_provisioning",
    30,
    "a Fargate task in PROVISIONING (its elastic network interface is created and attached)",
    "observed: ECS task lifecycle doc names the ENI as the PROVISIONING step "
    "(awsdocs/amazon-ecs-developer-guide task-lifecycle.md) and 'Optimize Amazon ECS task "
    "launch time' says provisioning and attaching it 'adds an overhead of several seconds'; "
    "an AWS answer on re:Post ('how to speed up provisioning of ECS Fargate task'): 'It is "
    "normal for new AWS Fargate tasks to take 30-45 seconds or longer to start' (instance, "
    "network interface, image download and unpack, start); aws/containers-roadmap#358 "
    "reports 20-40 s pulling in-VPC. Provisioning, pull and start here take 65 s, so "
    "with registration and checks one task's Install lands near the 123.6 s of the ECS "
    "tutorial's get-deployment-target output (create-blue-green.md)",
)
IMAGE_PULL = duration(
    "ecs.image_pull",
    30,
    "a Fargate task in PENDING: its container images are pulled (pullStartedAt..pullStoppedAt)",
    "observed: aws/containers-roadmap#358 (20-40 s from within a VPC, 1+ min from "
    "docker.io); documented that Fargate pulls every image for every task (ECS best "
    "practices, 'Linux containers on Fargate container image pull behavior': images are "
    "not cached, so the pull time is part of every task's start), not how long it takes",
)
IMAGE_PULL_FAILURE = duration(
    "ecs.image_pull_failure",
    30,
    "a pull of an image that does not exist, retried before the task stops with "
    "CannotPullContainerError ('pull image manifest has been retried 5 time(s)')",
    "observed: the retry count is in the error text (ECS stopped-task errors, "
    "#pull-request-image-tag); the time the retries take is not documented",
)
CONTAINER_START = duration(
    "ecs.container_start",
    5,
    "the containers of a task are created and started (the log router first: dependsOn START)",
    "modelled: the log router starts first (dependsOn START), then the app (uvicorn is "
    "up within a second); no AWS figure",
)
ACTIVATING = duration(
    "ecs.activating",
    10,
    "a task in ACTIVATING: ECS registers it with its target group before RUNNING",
    "observed: ECS task lifecycle doc (ACTIVATING: target group registration happens here); "
    "duration typical",
)
CONTAINER_STOP = duration(
    "ecs.container_stop",
    2,
    "a task in STOPPING: the app exits on SIGTERM (uvicorn shuts down at once; ECS would "
    "SIGKILL after the task's stopTimeout, 30 s by default)",
    "observed: uvicorn's graceful shutdown; the 30 s bound is documented (UpdateService API "
    "reference: 'SIGTERM and a 30-second timeout')",
)
DEPROVISIONING = duration(
    "ecs.deprovisioning",
    10,
    "a task in DEPROVISIONING: its elastic network interface is detached and deleted",
    "observed: ECS task lifecycle doc names the ENI as the DEPROVISIONING step; duration typical",
)
SCHEDULER_RETRY = duration(
    "ecs.scheduler_retry",
    15,
    "the first delay before the service scheduler replaces a task that failed to start "
    "(doubled after each failure)",
    "observed: ECS 'Service throttle logic' documents the increasing delay but not its start",
)
SCHEDULER_RETRY_MAX = duration(
    "ecs.scheduler_retry_max",
    900,
    "the longest delay between the service scheduler's attempts to start a failing task",
    "ECS developer guide, 'Service throttle logic': 'incrementally increased up to a "
    "maximum of 15 minutes'",
    documented=True,
)
STOPPED_TASK_RETENTION = duration(
    "ecs.stopped_task_retention",
    3600,
    "how long a stopped task stays visible to ListTasks/DescribeTasks",
    "ECS API reference, DescribeTasks/ListTasks: stopped tasks appear for at least 1 hour",
    documented=True,
)
DEREGISTRATION_DELAY_DEFAULT = duration(
    "elb.deregistration_delay_default",
    300,
    "how long a deregistered target drains when its group sets no deregistration delay "
    "(bluegreen's target groups set 30 s: stacks/service.py DEREGISTRATION_DELAY_SECONDS)",
    "ALB guide, 'Edit target group attributes', Deregistration delay: 'By default, Elastic "
    "Load Balancing waits 300 seconds before completing the deregistration process'; "
    "ELBv2 API TargetGroupAttribute deregistration_delay.timeout_seconds: 'The default "
    "value is 300 seconds'",
    documented=True,
)
ELB_REGISTRATION = duration(
    "elb.registration",
    10,
    "a newly registered target is initial/Elb.RegistrationInProgress before its first health check",
    "observed: ALB guide lists Elb.RegistrationInProgress; awsdocs/"
    "elb-network-load-balancers-user-guide PR #11 reports registration delays",
)
CODEDEPLOY_START = duration(
    "codedeploy.start",
    1,
    "a CodeDeploy deployment moves from Created to InProgress",
    "observed: the ECS tutorial's output (create-blue-green.md) starts BeforeInstall right away",
)
CODEDEPLOY_EVENT = duration(
    "codedeploy.event",
    0.5,
    "one lifecycle event without work (a hook event with no Lambda function, a listener "
    "change), and the gap before the next one",
    "observed: the ECS tutorial's get-deployment-target output (create-blue-green.md): "
    "BeforeInstall 0.41 s, AfterInstall 0.51 s, AllowTraffic 0.74 s, gaps 0.25-0.8 s",
)
CODEDEPLOY_INSTALL_TIMEOUT = duration(
    "codedeploy.install_timeout",
    3600,
    "how long Install waits for the replacement task set to become healthy before the "
    "deployment fails",
    "observed: CircleCI-Public/aws-ecs-orb#134 ('times out in the Install lifecycle phase "
    "(defaults to 60 minutes)')",
)


# -- EventBridge, CodePipeline, CodeBuild (emulator/services/{events,codepipeline,codebuild}.py)
_FIDELITY = "reviews-2026-11/rehearsal-fidelity.md section 3"

EVENT_DELIVERY = duration(
    "events.delivery",
    0.5,
    "EventBridge delivering a service event to a matching rule's target",
    "modelled: EventBridge documents service events as best-effort delivery with no "
    "latency figure (EventBridge events reference, 'Delivery type: Best effort')",
)

PIPELINE_SOURCE = duration(
    "codepipeline.source",
    5.0,
    "a CodeCommit source action: archive the commit and store it in the artifact bucket",
    f"observed: 'seconds to tens of seconds' from push to pipeline start ({_FIDELITY})",
)
PIPELINE_JOB_POLL = duration(
    "codepipeline.job_poll",
    15.0,
    "how often CodePipeline checks an action's external job (a build, a deployment)",
    "modelled: CodePipeline documents no interval for its own action types",
)
PIPELINE_SOURCE_POLLING = duration(
    "codepipeline.source_polling",
    60.0,
    "how often a source action with PollForSourceChanges checks its branch",
    "modelled: CodePipeline documents polling (PollForSourceChanges, default true for "
    "CodeCommit) but no interval",
)

BUILD_PHASES: dict[str, float] = {
    "QUEUED": duration(
        "codebuild.queued",
        1.0,
        "a build waiting for capacity",
        f"observed: 1 s in a build's phase list (blog.kriation.com, cited in {_FIDELITY})",
    ),
    "PROVISIONING": duration(
        "codebuild.provisioning",
        24.0,
        "CodeBuild starting the build container",
        f"observed: 24 s, 'over 30 s' is common with standard images ({_FIDELITY}); with an "
        "image not cached on the region's build fleet 180-250 s (aws/aws-codebuild-docker-"
        "images#424, #793: CodeBuild's answer is that standard images are cached in some "
        "regions only)",
    ),
    "DOWNLOAD_SOURCE": duration(
        "codebuild.download_source",
        4.0,
        "downloading the source (the pipeline's input artifact)",
        f"observed: 4 s ({_FIDELITY}); under 1 s for a small repository in "
        "aws/aws-codebuild-docker-images#793",
    ),
    "INSTALL": duration(
        "codebuild.install",
        1.0,
        "the install phase (no commands in bluegreen's buildspecs)",
        "observed: 'Other phases (DOWNLOAD_SOURCE, INSTALL, PRE_BUILD) complete in under 1 "
        "second each.' (aws/aws-codebuild-docker-images#793)",
    ),
    "PRE_BUILD": duration(
        "codebuild.pre_build",
        5.0,
        "pre_build: checks, the ECR login (one aws ecr get-login-password call and docker "
        "login) and the content hash of the image's files",
        "modelled: no public figure for these commands (#793's empty-ish PRE_BUILD took "
        "under 1 s; the ECR login is an API call and a registry login)",
    ),
    "BUILD": duration(
        "codebuild.build",
        120.0,
        "build: docker build and push of an image (no layer cache: every CodeBuild build "
        "starts from a fresh host)",
        "modelled: the scaffold's image is small (a slim Python base, a few pinned wheels); "
        "public reports of real apps' uncached CodeBuild docker builds are 5-6 min, about 2 "
        "min with an ECR layer cache (AWS DevOps blog 'Reduce Docker image build time on "
        "AWS CodeBuild using Amazon ECR as a remote cache'; dev.to aws-builders, '~6 "
        f"minutes down to ~2 minutes'); 'minutes' in {_FIDELITY}",
    ),
    "POST_BUILD": duration(
        "codebuild.post_build",
        1.0,
        "post_build: writing imageDetail.json and taskdef.json",
        "modelled: no public figure",
    ),
    "UPLOAD_ARTIFACTS": duration(
        "codebuild.upload_artifacts",
        5.0,
        "uploading the output artifact",
        f"observed, {_FIDELITY}",
    ),
    "FINALIZING": duration(
        "codebuild.finalizing", 2.0, "finalizing the build", "modelled: no public figure"
    ),
}


# -- CodeCommit --------------------------------------------------------------------------------

CODECOMMIT_PUSH_POLL = duration(
    "codecommit.push_seen",
    5,
    "longest between a git push to an emulated repository and its state-change event",
    "modelled: CodeCommit emits the EventBridge event within seconds of a push (CodeCommit "
    "User Guide, 'Monitoring CodeCommit events in Amazon EventBridge' gives no figure)",
)
