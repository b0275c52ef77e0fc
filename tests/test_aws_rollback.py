"""``rollback`` after a deployment succeeded: reading the release to redeploy.

The rollback itself (a new CodeDeploy deployment of the previous release, followed and
promoted or not, a rollback of a rollback going one release further back, a CodeDeploy
rollback deployment standing for the release before its trigger, a redeploy of the same
revision skipped, the refusals: the first release, a deregistered or deleted task
definition, a deployment started meanwhile, a revision left out) runs end to end against
the emulated AWS in test_e2e_operations.py and test_e2e_story.py. Here: the AppSpec
parsing that needs no AWS.
"""

from __future__ import annotations

from typing import Any

from bluegreen.engine.codedeploy import task_definition_of

TD = "arn:aws:ecs:ap-northeast-1:123456789012:task-definition/sample3-dev-task"


def test_the_appspec_names_the_task_definition_in_yaml_or_json() -> None:
    # An ECS AppSpec: Resources -> TargetService -> Properties -> TaskDefinition (CodeDeploy
    # user guide, "AppSpec 'resources' section for Amazon ECS deployments"), YAML or JSON,
    # as the RevisionLocation's AppSpecContent (API reference, AppSpecContent).
    as_yaml = {
        "revisionType": "AppSpecContent",
        "appSpecContent": {
            "content": "version: 0.0\n"
            "Resources:\n"
            "  - TargetService:\n"
            "      Type: AWS::ECS::Service\n"
            "      Properties:\n"
            f'        TaskDefinition: "{TD}:7"\n'
            "        LoadBalancerInfo:\n"
            '          ContainerName: "webapp"\n'
            "          ContainerPort: 80\n"
        },
    }
    assert task_definition_of(as_yaml) == f"{TD}:7"
    as_json: dict[str, Any] = {
        "revisionType": "AppSpecContent",
        "appSpecContent": {
            "content": '{"version": 0.0, "resources": [{"TargetService": {"type": '
            '"AWS::ECS::Service", "properties": {"taskDefinition": "arn:x:9", '
            '"loadBalancerInfo": {"containerName": "webapp", "containerPort": 80}}}}]}'
        },
    }
    assert task_definition_of(as_json) == "arn:x:9"
    s3 = {"revisionType": "S3", "s3Location": {"bucket": "b", "key": "k", "bundleType": "YAML"}}
    assert task_definition_of(s3) == ""
    broken = {"revisionType": "AppSpecContent", "appSpecContent": {"content": "a: [b"}}
    assert task_definition_of(broken) == ""


def test_the_release_a_rollback_stands_for_is_found_and_a_loop_of_them_ends() -> None:
    """A bluegreen rollback names in its description the deployment whose revision it
    redeploys, so it stands for that release; descriptions are free text (CreateDeployment
    ``description``), so hand-made ones that name each other in a loop must still end."""
    from datetime import datetime

    from bluegreen.engine.codedeploy import _origin

    def made(ident: str, minute: int, copies: str = "") -> dict[str, Any]:
        text = f"bluegreen rollback of d-X: redeploys the revision of {copies}" if copies else ""
        return {
            "deploymentId": ident,
            "createTime": datetime(2026, 1, 1, 0, minute),
            "description": text,
        }

    first, rollback = made("d-1", 1), made("d-3", 3, copies="d-1")
    history = [rollback, first]  # newest first, as ListDeployments' Succeeded ones
    by_id = {d["deploymentId"]: d for d in history}
    assert _origin(made("d-4", 4, copies="d-3"), by_id, history) is first
    assert _origin(first, by_id, history) is first

    a, b = made("d-a", 5, copies="d-b"), made("d-b", 6, copies="d-a")
    loop = {"d-a": a, "d-b": b}
    assert _origin(a, loop, [b, a]) in (a, b)
