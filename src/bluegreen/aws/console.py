"""AWS console links, region- and partition-aware, needing no account id.

The console resolves the account from the signed-in session, so a link only needs the
region (and the partition's console domain for China and GovCloud).
"""

from __future__ import annotations

from urllib.parse import quote


def _base(region: str) -> str:
    if region.startswith("cn-"):
        return f"https://{region}.console.amazonaws.cn"
    if region.startswith("us-gov-"):
        return f"https://{region}.console.amazonaws-us-gov.com"
    return f"https://{region}.console.aws.amazon.com"


def pipeline(region: str, name: str) -> str:
    return f"{_base(region)}/codesuite/codepipeline/pipelines/{quote(name)}/view?region={region}"


def pipeline_execution(region: str, name: str, execution_id: str) -> str:
    return (
        f"{_base(region)}/codesuite/codepipeline/pipelines/{quote(name)}/executions/"
        f"{quote(execution_id)}/timeline?region={region}"
    )


def deployment_group(region: str, application: str, group: str) -> str:
    return (
        f"{_base(region)}/codesuite/codedeploy/applications/{quote(application)}/"
        f"deployment-groups/{quote(group)}?region={region}"
    )


def service_deployments(region: str, cluster: str, service: str) -> str:
    """The ECS console's Deployments tab of a service, where its service deployments and
    their lifecycle stages are listed (ECS developer guide, "Continuing service
    deployments", console procedure: the cluster, the service, the Deployments tab)."""
    return (
        f"{_base(region)}/ecs/v2/clusters/{quote(cluster)}/services/{quote(service)}/"
        f"deployments?region={region}"
    )


def deployment(region: str, deployment_id: str) -> str:
    return (
        f"{_base(region)}/codesuite/codedeploy/deployments/{quote(deployment_id)}?region={region}"
    )


def stack(region: str, stack_id: str) -> str:
    return (
        f"{_base(region)}/cloudformation/home?region={region}#/stacks/stackinfo?stackId="
        f"{quote(stack_id, safe='')}"
    )
