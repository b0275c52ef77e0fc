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

    def to_dict(self) -> dict[str, object]:
        return {
            "seconds": self.seconds,
            "what": self.what,
            "source": self.source,
            "documented": self.documented,
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
