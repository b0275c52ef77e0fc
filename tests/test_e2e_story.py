"""The whole story of one system, end to end, in one emulated account (issue 8, item 4).

An empty account; ``bluegreen deploy`` creates the stacks and the first release goes live
on :80; a pushed change waits on :8080 as green while blue serves :80; promote, finish;
a release rolled back during its termination wait; another rolled back after it
succeeded; a config change applied to the running service; ``bluegreen destroy``, after
which nothing bluegreen made is left in the account. Every step is the real CLI
(tests/emulated.py); what it prints is checked against the emulated AWS's API
(tests/operations.py).
"""

from __future__ import annotations

from emulated import Emulated, emulated  # noqa: F401 (the fixture ops builds on)
from operations import (
    ALB,
    CLUSTER,
    SERVICE,
    deployment,
    deployments,
    execution,
    latest,
    ops_fixture,  # noqa: F401 (fixture)
    task_definition,
    wait_for_deployment,
    wait_for_status,
    wait_for_termination_wait,
)


def _shown(ops: Emulated, *command: str) -> list[str]:
    result = ops.cli(*command)
    assert result.code == 0, result.err
    return result.out.splitlines()


def _section(lines: list[str], title: str) -> list[str]:
    """The lines of one `status` section (``listeners``, ``task sets``...), title included."""
    start = lines.index(title)
    end = next(
        (i for i in range(start + 1, len(lines)) if not lines[i].startswith("  ")), len(lines)
    )
    return lines[start:end]


def _image(ops: Emulated, deployment_id: str) -> str:
    found = ops.aws.client("ecs").describe_task_definition(
        taskDefinition=task_definition(ops, deployment_id)
    )
    return str(found["taskDefinition"]["containerDefinitions"][0]["image"]).rsplit(":", 1)[-1]


def _push(ops: Emulated, message: str, old: str, new: str) -> str:
    """Change the greeting, commit, git push; the deployment the pipeline starts."""
    count = len(deployments(ops))
    main = (ops.root / "webapp/app/main.py").read_text(encoding="utf-8")
    assert old in main
    ops.push(message, {"webapp/app/main.py": main.replace(old, new)})
    found = wait_for_deployment(ops, after=count)
    wait_for_status(ops, found, "Ready")
    return found


def _inventory(ops: Emulated) -> dict[str, list[str]]:
    """What the account holds, service by service, through the API."""
    c = ops.aws.clients()
    return {
        "stacks": sorted(
            s["StackName"]
            for s in c.cloudformation.list_stacks()["StackSummaries"]
            if s["StackStatus"] != "DELETE_COMPLETE"
        ),
        "ecr repositories": sorted(
            r["repositoryName"] for r in c.ecr.describe_repositories()["repositories"]
        ),
        "task definitions": sorted(
            c.ecs.list_task_definitions(status="ACTIVE")["taskDefinitionArns"]
            + c.ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"]
        ),
        # DeleteCluster leaves the cluster INACTIVE, "discoverable in your account for a
        # period of time" (ECS API reference, DeleteCluster): only ACTIVE ones count.
        "clusters": sorted(
            cluster["clusterName"]
            for cluster in c.ecs.describe_clusters(clusters=c.ecs.list_clusters()["clusterArns"])[
                "clusters"
            ]
            if cluster["status"] == "ACTIVE"
        ),
        "log groups": sorted(g["logGroupName"] for g in c.logs.describe_log_groups()["logGroups"]),
        "buckets": sorted(b["Name"] for b in c.s3.list_buckets()["Buckets"]),
        "codecommit repositories": sorted(
            r["repositoryName"] for r in c.codecommit.list_repositories()["repositories"]
        ),
        "pipelines": sorted(p["name"] for p in c.codepipeline.list_pipelines()["pipelines"]),
        "build projects": sorted(c.codebuild.list_projects()["projects"]),
        "codedeploy applications": sorted(c.codedeploy.list_applications()["applications"]),
        "load balancers": sorted(
            b["LoadBalancerName"] for b in c.elbv2.describe_load_balancers()["LoadBalancers"]
        ),
        "target groups": sorted(
            g["TargetGroupName"] for g in c.elbv2.describe_target_groups()["TargetGroups"]
        ),
        "vpcs": sorted(v["VpcId"] for v in c.ec2.describe_vpcs()["Vpcs"]),
        "event rules": sorted(r["Name"] for r in c.events.list_rules()["Rules"]),
        "iam roles": sorted(r["RoleName"] for r in c.iam.list_roles()["Roles"]),
    }


def test_the_story_of_one_system_from_an_empty_account_to_nothing_left(ops: Emulated) -> None:
    empty = _inventory(ops)
    result = ops.cli("status")
    assert result.code == 1
    assert result.err.splitlines()[0] == (
        "error: the service stack sample3-dev-service does not exist in ap-northeast-1"
    )

    # deploy: the three stacks, the first commit, the first release followed and promoted.
    deployed = ops.cli("deploy", "--yes")
    assert deployed.code == 0
    r1 = latest(ops)["deploymentId"]
    first_run = execution(ops)["pipelineExecutionId"]
    assert deployed.out.splitlines()[-5:] == [
        f"production  {ALB}",
        f"test        {ALB}:8080",
        "pipeline    https://ap-northeast-1.console.aws.amazon.com/codesuite/codepipeline/"
        "pipelines/sample3-dev-pipeline/view?region=ap-northeast-1",
        "deployments https://ap-northeast-1.console.aws.amazon.com/codesuite/codedeploy/"
        "applications/sample3-dev-app/deployment-groups/sample3-dev-deployment-group"
        "?region=ap-northeast-1",
        f"first release {first_run[:8]}: promoted",
    ]
    sha1 = _image(ops, r1)
    # Production (:80) serves the first release: the task definition the pipeline
    # registered (revision 2; revision 1 is the stack's bootstrap placeholder).
    lines = _shown(ops, "status")
    assert lines[9] == f"deployment {r1}: InProgress (termination-wait)"
    assert _section(lines, "listeners")[1] == (
        "  production  :80    green (sample3-dev-green) 100%, blue (sample3-dev-blue) 0%"
    )
    assert _section(lines, "task sets")[1] == (
        f"  green (sample3-dev-green)  PRIMARY  sample3-dev-task:2  1/1 running  webapp:{sha1} "
        f"log-router:{sha1}"
    )
    assert ops.cli("finish").code == 0
    wait_for_status(ops, r1, "Succeeded")
    ops.adopt_first_commit()

    # A pushed change: green on the test listener (:8080), blue still on :80.
    r2 = _push(ops, "Say hi", "Hello", "Hi")
    sha2 = _image(ops, r2)
    lines = _shown(ops, "status")
    assert lines[1].endswith(" Say hi")
    assert lines[9] == f"deployment {r2}: Ready (waiting-for-reroute)"
    assert _section(lines, "listeners") == [
        "listeners",
        "  production  :80    blue (sample3-dev-green) 100%, green (sample3-dev-blue) 0%",
        "  test        :8080  green (sample3-dev-blue) 100%, blue (sample3-dev-green) 0%",
    ]
    assert _section(lines, "task sets") == [
        "task sets",
        f"  blue (sample3-dev-green)  PRIMARY  sample3-dev-task:2  1/1 running  webapp:{sha1} "
        f"log-router:{sha1}",
        f"  green (sample3-dev-blue)  ACTIVE   sample3-dev-task:3  1/1 running  webapp:{sha2} "
        f"log-router:{sha2}",
    ]
    assert _shown(ops, "promote") == [
        f"rerouting production (:80) to the green task set of deployment {r2}; follow with "
        "`bluegreen status --watch`"
    ]
    wait_for_termination_wait(ops, r2)
    assert _section(_shown(ops, "status"), "listeners")[1] == (
        "  production  :80    green (sample3-dev-blue) 100%, blue (sample3-dev-green) 0%"
    )
    assert _shown(ops, "finish") == [
        f"terminating the original (blue) task set of deployment {r2} now; rollback is no "
        "longer possible once it is gone"
    ]
    wait_for_status(ops, r2, "Succeeded")

    # A second push, rolled back during its termination wait: CodeDeploy's
    # stop-and-roll-back returns production to the original task set (aws/containers-
    # roadmap#269: the deployment is still in progress during the wait).
    r3 = _push(ops, "Say hey", "Hi", "Hey")
    assert ops.cli("promote").code == 0
    wait_for_termination_wait(ops, r3)
    result = ops.cli("rollback")
    back = latest(ops)["deploymentId"]
    assert (result.code, result.out.splitlines()) == (
        0,
        [
            f"stopped deployment {r3} (termination-wait) with rollback: production returns to "
            f"the original task set and CodeDeploy removes the replacement (Deployment {r3} "
            f"stopped; rollback deployment {back} restores the original task set)"
        ],
    )
    wait_for_status(ops, back, "Succeeded")
    assert deployment(ops, r3)["status"] == "Stopped"
    ops.sleep(300)  # the replaced tasks drain and stop
    assert _section(_shown(ops, "status"), "task sets") == [
        "task sets",
        f"  blue (sample3-dev-blue)  PRIMARY  sample3-dev-task:3  1/1 running  webapp:{sha2} "
        f"log-router:{sha2}",
    ]

    # A third push that succeeds, then rolled back after success: a new CodeDeploy
    # deployment of the release production served before (r2's, restored by `back`),
    # followed and promoted.
    r4 = _push(ops, "Say yo", "Hey", "Yo")
    assert ops.cli("promote").code == 0
    wait_for_termination_wait(ops, r4)
    assert ops.cli("finish").code == 0
    wait_for_status(ops, r4, "Succeeded")
    result = ops.cli("rollback")
    again = latest(ops)["deploymentId"]
    assert result.code == 0
    assert result.out.splitlines() == [
        f"production (:80) serves {task_definition(ops, r2)} again (deployment {again}); the "
        "replaced tasks are kept for the termination wait: `bluegreen finish` removes them now"
    ]
    assert result.err.splitlines()[0] == (
        f"deployment {r4} had succeeded: started deployment {again}, which redeploys "
        f"{task_definition(ops, r2)} (the release of deployment {back}) through CodeDeploy"
    )
    assert ops.cli("finish").code == 0
    wait_for_status(ops, again, "Succeeded")
    ops.sleep(300)
    assert _section(_shown(ops, "status"), "task sets")[1:] == [
        f"  blue (sample3-dev-blue)  PRIMARY  {task_definition(ops, r2)}  1/1 running  "
        f"webapp:{sha2} "
        f"log-router:{sha2}",
    ]

    # A config change: three tasks. CloudFormation cannot change a CODE_DEPLOY service's
    # desired count in place, so deploy applies it through UpdateService (ECS API
    # reference: desiredCount is what UpdateService may change on such a service).
    ops.configure("task", desired_count=3)
    result = ops.cli("deploy", "--yes")
    assert result.code == 0, result.err
    assert result.out.splitlines()[:4] == [
        "sample3-dev-source: no changes",
        "sample3-dev-service: no changes",
        "sample3-dev-pipeline: no changes",
        "set desired count (task.desired_count) 1 -> 3 with ecs:UpdateService",
    ]
    ops.until(
        lambda: (
            ops.aws.client("ecs").describe_services(cluster=CLUSTER, services=[SERVICE])[
                "services"
            ][0]["runningCount"]
            == 3
        )
    )
    assert _section(_shown(ops, "status"), "task sets")[1:] == [
        f"  blue (sample3-dev-blue)  PRIMARY  {task_definition(ops, r2)}  3/3 running  "
        f"webapp:{sha2} "
        f"log-router:{sha2}",
    ]
    assert len(deployments(ops)) == 6  # no deployment for a config change

    # Everything the commands did, AWS would have accepted: the only answers the emulated
    # AWS refused are lookups of what did not exist yet (a stack before deploy, the branch
    # before the first commit, the targets of a deployment not started), never a change
    # (issue 7: CreateCommit, UpdateService, ContinueDeployment... refused as AWS does).
    assert {(r.service, r.operation, r.code) for r in ops.aws.refusals} <= {
        ("cloudformation", "DescribeStacks", "ValidationError"),
        ("codecommit", "GetBranch", "BranchDoesNotExistException"),
        ("codedeploy", "ListDeploymentTargets", "DeploymentNotStartedException"),
    }
    holding = _inventory(ops)
    assert [kind for kind in empty if holding[kind] == empty[kind]] == []  # none vacuous

    # destroy: the stacks, the artifact bucket's objects, the images, the task definitions.
    result = ops.cli("destroy", "--yes", "--empty-bucket", "--delete-images")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "sample3-dev-pipeline: deleted",
        "sample3-dev-service: deleted",
        "sample3-dev-source: deleted",
        "sample3-dev-task: 4 task-definition revisions deregistered, 5 deleted",
        "kept on purpose: AWSServiceRoleForECS, the ECS service-linked role every ECS service "
        "in the account shares (delete it only once the account runs nothing on ECS)",
    ]
    # Left: the ECS service-linked role deploy created, which every ECS service of the
    # account shares (ECS developer guide, "Using service-linked roles for Amazon ECS").
    assert _inventory(ops) == empty | {"iam roles": ["AWSServiceRoleForECS"]}
    assert empty["stacks"] == [] and empty["iam roles"] == []
