"""Time typical API calls against `bluegreen sandbox`, over HTTP on loopback.

Starts a sandbox in this process on a free port (its clock running at --speed, as a
user's would), deploys the fresh scaffold with the real `bluegreen deploy` command (its
AWS clients pointed at the sandbox's endpoint; its sleeps between polls become the
sandbox's `advance`, so the deploy takes seconds, not minutes), then calls each typical
read of the operating commands N times over HTTP and prints the median and p95 latency
per call, in milliseconds. Also: one look of the sandbox's observer (the lines it
prints), and the cost of advancing the clock a day. Figures only, no assertion.

    .venv/bin/python bench/sandbox.py [--runs 200] [--speed 60]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="calls per operation")
    parser.add_argument("--speed", type=float, default=60.0, help="the sandbox's clock speed")
    args = parser.parse_args()

    from bluegreen.appkit import init
    from bluegreen.cli import common
    from bluegreen.cli.app import main as cli
    from bluegreen.config import Config
    from bluegreen.emulator.sandbox import Sandbox, Settings, http_clients
    from bluegreen.names import Names

    config = Config()
    names = Names.of(config)
    region = config.project.region
    with tempfile.TemporaryDirectory(prefix="bluegreen-bench-sandbox-") as tmp:
        root = Path(tmp) / "app"
        init(root, config)
        started = time.perf_counter()
        box = Sandbox(Settings(port=0, speed=args.speed, default_region=region))
        box.open()
        opened = time.perf_counter() - started
        try:
            clients = http_clients(box.url, region)

            def make_clients(config: Config, profile: str | None, region: str | None) -> Any:
                return clients

            def sleep(seconds: float) -> None:  # a poll's wait: simulated time passes
                box.advance(max(seconds, 1.0))

            common.make_clients = make_clients
            common.sleep = sleep
            common.interactive = lambda: False
            began = time.perf_counter()
            sink = io.StringIO()
            with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
                code = cli(["deploy", "--yes", "--config", str(root / "bluegreen.toml")])
            deployed = time.perf_counter() - began
            if code != 0:
                sys.exit(f"bluegreen deploy exited {code}:\n{sink.getvalue()[-3000:]}")
            calls = _calls(clients, names)
            rows = []
            for service, operation, call in calls:
                for _ in range(3):
                    call()
                times = []
                for _ in range(args.runs):
                    t0 = time.perf_counter()
                    call()
                    times.append((time.perf_counter() - t0) * 1000)
                times.sort()
                p95 = times[min(len(times) - 1, int(round(0.95 * len(times))) - 1)]
                rows.append((service, operation, statistics.median(times), p95))
            looks = []
            for _ in range(20):
                t0 = time.perf_counter()
                box.observe()
                looks.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            box.advance(86400)
            day = time.perf_counter() - t0
        finally:
            box.close()

    print(
        f"bluegreen sandbox, {args.runs} calls each over HTTP on loopback "
        f"(clock at {args.speed:g}x, the deployed scaffold):"
    )
    print(f"  {'service':<15} {'operation':<24} {'median ms':>10} {'p95 ms':>8}")
    for service, operation, median, p95 in rows:
        print(f"  {service:<15} {operation:<24} {median:>10.1f} {p95:>8.1f}")
    print(f"  sandbox start (emulator, port, clock):   {opened:.2f} s")
    print(f"  bluegreen deploy --yes (sleeps advanced): {deployed:.2f} s")
    print(f"  one look of the observer (5-6 reads):     {statistics.median(looks):.1f} ms median")
    print(f"  advance 1 day (the deployed system):      {day:.2f} s")


def _calls(clients: Any, names: Any) -> list[tuple[str, str, Callable[[], Any]]]:
    """The reads the operating commands make (status, logs, release), with real ids."""
    cd = clients.codedeploy
    deployment = cd.list_deployments(
        applicationName=names.codedeploy_application, deploymentGroupName=names.deployment_group
    )["deployments"][0]
    target = cd.list_deployment_targets(deploymentId=deployment)["targetIds"][0]
    balancer = clients.elbv2.describe_load_balancers(Names=[names.load_balancer])
    balancer_arn = balancer["LoadBalancers"][0]["LoadBalancerArn"]
    group_arn = clients.elbv2.describe_target_groups(Names=[names.blue_target_group])[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    builds = clients.codebuild.list_builds_for_project(projectName=names.app_build_project)["ids"]
    bucket = clients.s3.list_buckets()["Buckets"][0]["Name"]
    return [
        (
            "cloudformation",
            "DescribeStacks",
            lambda: clients.cloudformation.describe_stacks(StackName=names.service_stack),
        ),
        (
            "ecs",
            "DescribeServices",
            lambda: clients.ecs.describe_services(cluster=names.cluster, services=[names.service]),
        ),
        (
            "codepipeline",
            "GetPipelineState",
            lambda: clients.codepipeline.get_pipeline_state(name=names.pipeline),
        ),
        (
            "codedeploy",
            "ListDeployments",
            lambda: cd.list_deployments(
                applicationName=names.codedeploy_application,
                deploymentGroupName=names.deployment_group,
            ),
        ),
        (
            "codedeploy",
            "GetDeploymentTarget",
            lambda: cd.get_deployment_target(deploymentId=deployment, targetId=target),
        ),
        (
            "elbv2",
            "DescribeListeners",
            lambda: clients.elbv2.describe_listeners(LoadBalancerArn=balancer_arn),
        ),
        (
            "elbv2",
            "DescribeTargetHealth",
            lambda: clients.elbv2.describe_target_health(TargetGroupArn=group_arn),
        ),
        (
            "logs",
            "FilterLogEvents",
            lambda: clients.logs.filter_log_events(logGroupName=names.app_log_group, limit=100),
        ),
        (
            "codecommit",
            "GetBranch",
            lambda: clients.codecommit.get_branch(
                repositoryName=names.codecommit_repository, branchName="main"
            ),
        ),
        ("codebuild", "BatchGetBuilds", lambda: clients.codebuild.batch_get_builds(ids=builds)),
        (
            "ecr",
            "DescribeImages",
            lambda: clients.ecr.describe_images(repositoryName=names.app_image_repository),
        ),
        ("s3 (REST)", "ListObjectsV2", lambda: clients.s3.list_objects_v2(Bucket=bucket)),
        ("sts", "GetCallerIdentity", lambda: clients.sts.get_caller_identity()),
    ]


if __name__ == "__main__":
    main()
