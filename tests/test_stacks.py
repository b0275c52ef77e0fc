"""Semantic tests of the three stacks: what AWS will build, read back from the YAML.

Each template is parsed with ``yaml.safe_load`` (the YAML is plain, long-form), so the
assertions check the bytes that get deployed, not troposphere objects.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import pytest
import yaml
from configs import CONFIGS

from bluegreen import appkit
from bluegreen import config as config_mod
from bluegreen.config import Config
from bluegreen.names import (
    APP_IMAGE_PLACEHOLDER,
    ECS_HOOK_OUTPUTS,
    ROUTER_IMAGE_PLACEHOLDER,
    Names,
    Outputs,
)
from bluegreen.stacks import Stack, bootstrap, build
from bluegreen.stacks import pipeline as pipeline_stack
from bluegreen.stacks import verification as verify_stacks
from bluegreen.stacks.branches import BRANCH_CHECK_PROJECT_OUTPUT
from bluegreen.stacks.iam import WILDCARD_ACTIONS
from bluegreen.verification import network as verify_network


def parsed(stacks: list[Stack]) -> dict[str, dict[str, Any]]:
    return {s.key: yaml.safe_load(s.to_yaml()) for s in stacks}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def system(request: pytest.FixtureRequest) -> tuple[Config, list[Stack], dict[str, dict[str, Any]]]:
    config = config_mod.parse(CONFIGS[request.param])
    stacks = build(config)
    return config, stacks, parsed(stacks)


def resources(template: dict[str, Any], type_: str) -> dict[str, dict[str, Any]]:
    # The branch flows' resources (builds.branches) are tests/test_branches.py's.
    return {
        k: v
        for k, v in template["Resources"].items()
        if v["Type"] == type_ and not k.startswith("BranchCheck")
    }


def one(template: dict[str, Any], type_: str) -> dict[str, Any]:
    found = resources(template, type_)
    assert len(found) == 1, (type_, list(found))
    return next(iter(found.values()))["Properties"]


def imported(value: Any) -> str:
    """The export name an ``Fn::ImportValue`` reads."""
    assert isinstance(value, dict) and set(value) == {"Fn::ImportValue"}, value
    return str(value["Fn::ImportValue"])


def walk(node: Any) -> list[Any]:
    """Every dict and list in a template, depth first."""
    found: list[Any] = [node]
    if isinstance(node, dict):
        for value in node.values():
            found += walk(value)
    elif isinstance(node, list):
        for value in node:
            found += walk(value)
    return found


def depends_on(template: dict[str, Any], logical_id: str) -> set[str]:
    """Every resource ``logical_id`` waits for: its Refs, GetAtts, Sub variables that
    name resources, and DependsOn (what CloudFormation orders creation and deletion by)."""
    body = template["Resources"][logical_id]
    found: set[str] = set()
    for node in walk(body.get("Properties", {})):
        if not isinstance(node, dict):
            continue
        if "Ref" in node:
            found.add(node["Ref"])
        if "Fn::GetAtt" in node:
            found.add(node["Fn::GetAtt"][0])
        if "Fn::Sub" in node and isinstance(node["Fn::Sub"], str):
            found |= {v.split(".")[0] for v in re.findall(r"\$\{([^}]+)\}", node["Fn::Sub"])}
    declared = body.get("DependsOn", [])
    found |= {declared} if isinstance(declared, str) else set(declared)
    return found & set(template["Resources"])


def exports(templates: dict[str, dict[str, Any]]) -> dict[str, tuple[str, Any]]:
    """Export name -> (stack key, output value) over all stacks."""
    result = {}
    for key, template in templates.items():
        for output in template.get("Outputs", {}).values():
            result[output["Export"]["Name"]] = (key, output["Value"])
    return result


# --- the stack list ------------------------------------------------------------------


def test_stacks_in_deploy_order_with_names_from_names_py(system: Any) -> None:
    config, stacks, _ = system
    names = Names.of(config)
    assert [(s.key, s.name, s.filename) for s in stacks] == [
        ("source", names.source_stack, "1-source.yaml"),
        ("service", names.service_stack, "2-service.yaml"),
        ("pipeline", names.pipeline_stack, "3-pipeline.yaml"),
    ]


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_build_is_deterministic(name: str) -> None:
    first = [s.to_yaml() for s in build(config_mod.parse(CONFIGS[name]))]
    second = [s.to_yaml() for s in build(config_mod.parse(CONFIGS[name]))]
    assert first == second


def test_configs_give_different_templates() -> None:
    texts = {tuple(s.to_yaml() for s in build(config_mod.parse(t))) for t in CONFIGS.values()}
    assert len(texts) == len(CONFIGS)


def test_no_parameters_every_output_exported_under_its_stack(system: Any) -> None:
    config, stacks, templates = system
    names = Names.of(config)
    all_keys = Outputs.of_engine(config.deployment.engine)
    seen: set[str] = set()
    for stack in stacks:
        template = templates[stack.key]
        assert "Parameters" not in template
        for key, output in template["Outputs"].items():
            assert output["Export"]["Name"] == names.export(stack.name, key)
            seen.add(key)
    assert seen - ECS_HOOK_OUTPUTS == all_keys | {BRANCH_CHECK_PROJECT_OUTPUT}
    # The ECS engine's verify hook and its invoke role, for `deploy` to set the service's
    # lifecycle hook with UpdateService (aws/owned.py): with checks under "ecs" only.
    hooked = config.deployment.engine == "ecs" and verify_stacks.has_hook(config)
    assert seen & ECS_HOOK_OUTPUTS == (ECS_HOOK_OUTPUTS if hooked else set())


def test_imports_resolve_to_exports_of_earlier_stacks(system: Any) -> None:
    _, stacks, templates = system
    available = exports(templates)
    order = [s.key for s in stacks]
    count = 0
    for key, template in templates.items():
        for node in walk(template):
            if isinstance(node, dict) and "Fn::ImportValue" in node:
                source_stack, _ = available[node["Fn::ImportValue"]]
                assert order.index(source_stack) < order.index(key)
                count += 1
    assert count >= 15


def test_no_account_id_or_region_in_any_template(system: Any) -> None:
    config, stacks, _ = system
    for stack in stacks:
        text = stack.to_yaml()
        assert not re.search(r"(?<!\d)\d{12}(?!\d)", text), stack.filename
        assert config.project.region not in text, stack.filename
        assert "arn:aws:" not in text, stack.filename  # partition from AWS::Partition


# --- source ----------------------------------------------------------------------------


def test_source_repositories(system: Any) -> None:
    config, _, templates = system
    names = Names.of(config)
    source = templates["source"]
    assert one(source, "AWS::CodeCommit::Repository")["RepositoryName"] == (
        names.codecommit_repository
    )
    repos = {
        r["Properties"]["RepositoryName"]: r["Properties"]
        for r in resources(source, "AWS::ECR::Repository").values()
    }
    assert set(repos) == {names.app_image_repository, names.router_image_repository}
    for repo in repos.values():
        assert repo["ImageTagMutability"] == "IMMUTABLE"
        assert repo["ImageScanningConfiguration"] == {"ScanOnPush": True}
        policy = yaml.safe_load(repo["LifecyclePolicy"]["LifecyclePolicyText"])
        rules = sorted(policy["rules"], key=lambda r: r["rulePriority"])
        assert rules[0]["selection"]["tagStatus"] == "untagged"
        assert rules[-1]["selection"]["tagStatus"] == "any"  # ECR: "any" must come last


# --- service ---------------------------------------------------------------------------


def test_network_spans_two_azs_without_zone_names(system: Any) -> None:
    config, stacks, templates = system
    service = templates["service"]
    vpc = one(service, "AWS::EC2::VPC")
    assert vpc["EnableDnsHostnames"] is True and vpc["EnableDnsSupport"] is True
    subnets = [r["Properties"] for r in resources(service, "AWS::EC2::Subnet").values()]
    assert len(subnets) == 2
    assert [s["AvailabilityZone"]["Fn::Select"][0] for s in subnets] == [0, 1]
    assert all(s["AvailabilityZone"]["Fn::Select"][1] == {"Fn::GetAZs": ""} for s in subnets)
    assert all(s["MapPublicIpOnLaunch"] is True for s in subnets)
    vpc_net = ipaddress.ip_network(config.network.vpc_cidr)
    nets = [ipaddress.ip_network(s["CidrBlock"]) for s in subnets]
    assert all(n.subnet_of(vpc_net) for n in nets) and not nets[0].overlaps(nets[1])
    assert re.search(r"[a-z]{2}-[a-z]+-\d[a-f]\b", stacks[1].to_yaml()) is None


def test_listeners_on_configured_ports_forward_to_blue(system: Any) -> None:
    """Blue serves (weight 100); green is in the forward at weight 0 from the first deploy,
    so the load balancer health-checks the first release's tasks during Install (a group
    behind no listener is ``unused``, Target.NotInUse), as CodeDeploy leaves its listeners
    after every deployment since 2022 (traveloka/terraform-aws-alb-single-listener #47)."""
    config, _, templates = system
    service = templates["service"]
    listeners = resources(service, "AWS::ElasticLoadBalancingV2::Listener")
    ports = {k: v["Properties"]["Port"] for k, v in listeners.items()}
    assert ports == {
        "ProductionListener": config.listeners.production_port,
        "TestListener": config.listeners.test_port,
    }
    for listener in listeners.values():
        assert listener["Properties"]["Protocol"] == "HTTP"
        assert listener["Properties"]["DefaultActions"] == [
            {
                "Type": "forward",
                "ForwardConfig": {
                    "TargetGroups": [
                        {"TargetGroupArn": {"Ref": "BlueTargetGroup"}, "Weight": 100},
                        {"TargetGroupArn": {"Ref": "GreenTargetGroup"}, "Weight": 0},
                    ]
                },
            }
        ]
    alb = one(service, "AWS::ElasticLoadBalancingV2::LoadBalancer")
    assert alb["Name"] == Names.of(config).load_balancer
    assert alb["Scheme"] == "internet-facing" and len(alb["Subnets"]) == 2


def test_listeners_depend_on_both_target_groups(system: Any) -> None:
    """Stack deletion removes both listeners before either target group: after an odd
    number of releases the listeners forward to green, and ELBv2 refuses to delete a
    target group a listener still uses (ResourceInUse)."""
    _, _, templates = system
    service = templates["service"]
    groups = set(resources(service, "AWS::ElasticLoadBalancingV2::TargetGroup"))
    assert groups == {"BlueTargetGroup", "GreenTargetGroup"}
    listeners = resources(service, "AWS::ElasticLoadBalancingV2::Listener")
    assert len(listeners) == 2
    for listener in listeners:
        assert groups <= depends_on(service, listener), listener


def test_load_balancer_drops_invalid_header_fields(system: Any) -> None:
    _, _, templates = system
    alb = one(templates["service"], "AWS::ElasticLoadBalancingV2::LoadBalancer")
    attributes = {a["Key"]: a["Value"] for a in alb["LoadBalancerAttributes"]}
    # ELBv2 takes attribute values as strings: "true", not a YAML boolean.
    assert attributes == {"routing.http.drop_invalid_header_fields.enabled": "true"}


def test_security_groups(system: Any) -> None:
    config, _, templates = system
    groups = resources(templates["service"], "AWS::EC2::SecurityGroup")
    alb_rules = groups["LoadBalancerSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    by_port: dict[int, list[str]] = {}
    for rule in alb_rules:
        assert rule["FromPort"] == rule["ToPort"]
        by_port.setdefault(rule["FromPort"], []).append(rule["CidrIp"])
    assert by_port == {
        config.listeners.production_port: ["0.0.0.0/0"],
        config.listeners.test_port: list(config.listeners.test_cidrs),
    }
    (task_rule,) = groups["TaskSecurityGroup"]["Properties"]["SecurityGroupIngress"]
    assert task_rule["FromPort"] == task_rule["ToPort"] == config.app.port
    assert task_rule["SourceSecurityGroupId"] == {"Ref": "LoadBalancerSecurityGroup"}
    assert "CidrIp" not in task_rule


def test_target_groups_health_check(system: Any) -> None:
    config, _, templates = system
    names = Names.of(config)
    hc = config.health_check
    groups = resources(templates["service"], "AWS::ElasticLoadBalancingV2::TargetGroup")
    assert {g["Properties"]["Name"] for g in groups.values()} == {
        names.blue_target_group,
        names.green_target_group,
    }
    for group in groups.values():
        p = group["Properties"]
        assert (p["TargetType"], p["Port"], p["Protocol"]) == ("ip", config.app.port, "HTTP")
        assert (p["HealthCheckPath"], p["HealthCheckIntervalSeconds"]) == (
            hc.path,
            hc.interval_seconds,
        )
        assert (p["HealthCheckTimeoutSeconds"], p["HealthyThresholdCount"]) == (
            hc.timeout_seconds,
            hc.healthy_threshold,
        )
        assert p["UnhealthyThresholdCount"] == hc.unhealthy_threshold
        assert p["Matcher"] == {"HttpCode": "200"}


def test_service_is_code_deploy_controlled_on_blue(system: Any) -> None:
    config, _, templates = system
    names = Names.of(config)
    service = templates["service"]
    (svc,) = resources(service, "AWS::ECS::Service").values()
    p = svc["Properties"]
    assert p["DeploymentController"] == {"Type": "CODE_DEPLOY"}
    assert p["LaunchType"] == "FARGATE"
    assert p["ServiceName"] == names.service
    assert p["DesiredCount"] == config.task.desired_count
    assert p["HealthCheckGracePeriodSeconds"] > 0
    assert p["LoadBalancers"] == [
        {
            "ContainerName": config.app.name,
            "ContainerPort": config.app.port,
            "TargetGroupArn": {"Ref": "BlueTargetGroup"},
        }
    ]
    vpc_config = p["NetworkConfiguration"]["AwsvpcConfiguration"]
    assert vpc_config["AssignPublicIp"] == "ENABLED"
    assert vpc_config["SecurityGroups"] == [{"Ref": "TaskSecurityGroup"}]
    assert sorted(svc["DependsOn"]) == ["ProductionListener", "TestListener"]


def test_task_definition_with_firelens(system: Any) -> None:
    config, _, templates = system
    names = Names.of(config)
    task = one(templates["service"], "AWS::ECS::TaskDefinition")
    assert task["Family"] == names.task_family
    assert (task["Cpu"], task["Memory"]) == (str(config.task.cpu), str(config.task.memory))
    assert task["NetworkMode"] == "awsvpc" and task["RequiresCompatibilities"] == ["FARGATE"]
    assert task["RuntimePlatform"] == {
        "OperatingSystemFamily": "LINUX",
        "CpuArchitecture": "X86_64",
    }
    containers = {c["Name"]: c for c in task["ContainerDefinitions"]}
    assert set(containers) == {config.app.name, config.router.name}
    app, router = containers[config.app.name], containers[config.router.name]

    assert app["Essential"] is True
    assert app["PortMappings"] == [{"ContainerPort": config.app.port, "Protocol": "tcp"}]
    log = app["LogConfiguration"]
    assert log["LogDriver"] == "awsfirelens"
    assert log["Options"]["Name"] == "cloudwatch_logs"
    assert log["Options"]["log_group_name"] == names.app_log_group
    assert log["Options"]["auto_create_group"] == "false"
    assert log["Options"]["region"] == {"Ref": "AWS::Region"}
    assert "FirelensConfiguration" not in app

    # The bootstrap app writes nothing, so its root file system is read-only; the Fluent
    # Bit router writes at start-up and keeps a writable one.
    assert app["ReadonlyRootFilesystem"] is True
    assert router.get("ReadonlyRootFilesystem", False) is False

    assert router["FirelensConfiguration"]["Type"] == "fluentbit"
    assert router["LogConfiguration"]["LogDriver"] == "awslogs"
    assert router["LogConfiguration"]["Options"]["awslogs-group"] == {"Ref": "RouterLogGroup"}
    assert router["Image"] == bootstrap.BOOTSTRAP_ROUTER_IMAGE
    assert app["Image"] == bootstrap.BOOTSTRAP_APP_IMAGE
    for image in (router["Image"], app["Image"]):
        assert image.startswith("public.ecr.aws/") and re.search(r":\d+\.\d+\.\d+", image)
    reservations = app["MemoryReservation"] + router["MemoryReservation"]
    assert 0 < router["MemoryReservation"] < app["MemoryReservation"]
    assert reservations <= config.task.memory
    groups = {
        r["Properties"]["LogGroupName"]: r["Properties"]["RetentionInDays"]
        for r in resources(templates["service"], "AWS::Logs::LogGroup").values()
    }
    verify_groups = []  # issue 11: the hook's and the prober's (stacks/verification.py)
    if verify_stacks.has_hook(config):
        verify_groups.append(verify_stacks.hook_log_group(names))
        if verify_network.mode(config) == "prober":
            verify_groups.append(verify_stacks.prober_log_group(names))
    assert groups == {
        names.app_log_group: config.logs.retention_days,
        names.router_log_group: config.logs.retention_days,
        **{group: config.logs.retention_days for group in verify_groups},
    }


def test_urls_show_port_unless_80(system: Any) -> None:
    config, _, templates = system
    outputs = templates["service"]["Outputs"]
    for key, port in (
        (Outputs.PRODUCTION_URL, config.listeners.production_port),
        (Outputs.TEST_URL, config.listeners.test_port),
    ):
        sub = outputs[key]["Value"]["Fn::Sub"]
        assert sub == "http://${LoadBalancer.DNSName}" + ("" if port == 80 else f":{port}")
    names = Names.of(config)
    assert outputs[Outputs.BLUE_TARGET_GROUP_NAME]["Value"] == names.blue_target_group
    assert outputs[Outputs.GREEN_TARGET_GROUP_NAME]["Value"] == names.green_target_group


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=2) as response:
        return response.status, response.read().decode()


def test_bootstrap_server_answers_the_health_check() -> None:
    """Run the bootstrap app container's command for real (the python image's job)."""
    port = _free_port()
    command = bootstrap.app_command(port, "/healthz")
    assert command[:3] == ["python", "-B", "-c"]
    proc = subprocess.Popen(
        [sys.executable, *command[1:]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                health = _get(f"http://127.0.0.1:{port}/healthz?probe=1")
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert health == (200, bootstrap.HEALTH_BODY)
        assert _get(f"http://127.0.0.1:{port}/") == (200, bootstrap.WAITING_BODY)
    finally:
        proc.terminate()
        proc.wait(timeout=5)


# Reports every file the server opens for writing and every directory it creates, on
# stderr, through the interpreter's audit events ("open", "os.mkdir", ...; Python docs,
# "Audit events table"). Prepended to the bootstrap script it runs before the server's
# own imports, so bytecode caches written for them would be reported too.
_WRITE_AUDIT = """\
import os, sys
_WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
def _audit(event, args):
    if event == "open":
        path, mode, flags = args
        if (mode and any(c in mode for c in "wax+")) or (flags or 0) & _WRITES:
            sys.stderr.write("WRITE open %r\\n" % (path,))
    elif event in ("os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link"):
        sys.stderr.write("WRITE %s %r\\n" % (event, args[0]))
sys.addaudithook(_audit)
"""


def _run_audited(command: list[str], port: int | None, tmp: Any) -> list[str]:
    """Run ``command`` (``python [-B] -c SCRIPT``) with the write audit, make two
    requests if it serves ``port``, and return what it reported writing."""
    *flags, script = command[1:]
    err = tmp / "stderr.txt"
    with err.open("wb") as stderr:
        proc = subprocess.Popen(
            [sys.executable, *flags, _WRITE_AUDIT + script],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=tmp,
        )
        try:
            if port is not None:
                deadline = time.monotonic() + 5
                while True:
                    try:
                        assert _get(f"http://127.0.0.1:{port}/healthz")[0] == 200
                        break
                    except OSError:
                        if time.monotonic() > deadline:
                            raise
                        time.sleep(0.05)
                assert _get(f"http://127.0.0.1:{port}/")[0] == 200
                proc.terminate()
            proc.wait(timeout=5)
        finally:
            if proc.poll() is None:
                proc.kill()
    return [line for line in err.read_text().splitlines() if line.startswith("WRITE ")]


def test_bootstrap_server_writes_nothing(tmp_path: Any) -> None:
    """The bootstrap container runs with ReadonlyRootFilesystem: its server, asked for
    the health check and a page, opens no file for writing and creates nothing."""
    port = _free_port()
    command = bootstrap.app_command(port, "/healthz")
    assert _run_audited(command, port, tmp_path) == []
    # The audit itself sees writes (else the assertion above proves nothing).
    target = tmp_path / "written.txt"
    probe = ["python", "-B", "-c", f"open({str(target)!r}, 'w').close()"]
    assert _run_audited(probe, None, tmp_path) == [f"WRITE open {str(target)!r}"]


def test_roles_scoped(system: Any) -> None:
    config, _, templates = system
    roles = resources(templates["service"], "AWS::IAM::Role")
    task_policy = roles["TaskRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    (statement,) = task_policy["Statement"]
    assert statement["Resource"] == [{"Fn::GetAtt": ["AppLogGroup", "Arn"]}]
    for name in ("TaskRole", "ExecutionRole"):  # the verify roles: test_stacks_verify.py
        trust = roles[name]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert trust[0]["Principal"] == {"Service": ["ecs-tasks.amazonaws.com"]}


# --- pipeline --------------------------------------------------------------------------


def test_deployment_group_as_code(system: Any) -> None:
    config, stacks, templates = system
    names = Names.of(config)
    service_stack = stacks[1].name
    available = exports(templates)
    group = one(templates["pipeline"], "AWS::CodeDeploy::DeploymentGroup")
    assert group["DeploymentGroupName"] == names.deployment_group
    assert group["ApplicationName"] == {"Ref": "CodeDeployApplication"}
    assert group["DeploymentStyle"] == {
        "DeploymentType": "BLUE_GREEN",
        "DeploymentOption": "WITH_TRAFFIC_CONTROL",
    }
    assert group["DeploymentConfigName"] == config.deployment.config
    (ecs_service,) = group["ECSServices"]
    assert imported(ecs_service["ClusterName"]) == names.export(service_stack, Outputs.CLUSTER_NAME)
    assert imported(ecs_service["ServiceName"]) == names.export(service_stack, Outputs.SERVICE_NAME)

    (pair,) = group["LoadBalancerInfo"]["TargetGroupPairInfoList"]
    target_names = [available[imported(tg["Name"])][1] for tg in pair["TargetGroups"]]
    assert target_names == [names.blue_target_group, names.green_target_group]
    service = templates["service"]
    listeners = resources(service, "AWS::ElasticLoadBalancingV2::Listener")
    for route, port in (
        ("ProdTrafficRoute", config.listeners.production_port),
        ("TestTrafficRoute", config.listeners.test_port),
    ):
        (listener_arn,) = pair[route]["ListenerArns"]
        stack_key, value = available[imported(listener_arn)]
        assert stack_key == "service"
        assert listeners[value["Ref"]]["Properties"]["Port"] == port

    blue_green = group["BlueGreenDeploymentConfiguration"]
    # CodeDeploy refuses CONTINUE_DEPLOYMENT with a wait ("Deployment ready action cannot be
    # set to 'CONTINUE_DEPLOYMENT' when timeout is specified"); the wait is STOP_DEPLOYMENT's.
    if config.deployment.reroute == "auto":
        assert blue_green["DeploymentReadyOption"] == {"ActionOnTimeout": "CONTINUE_DEPLOYMENT"}
    else:
        assert blue_green["DeploymentReadyOption"] == {
            "ActionOnTimeout": "STOP_DEPLOYMENT",
            "WaitTimeInMinutes": config.deployment.wait_minutes,
        }
    assert blue_green["TerminateBlueInstancesOnDeploymentSuccess"] == {
        "Action": "TERMINATE",
        "TerminationWaitTimeInMinutes": config.deployment.termination_wait_minutes,
    }
    alarm_event = ["DEPLOYMENT_STOP_ON_ALARM"] if verify_stacks.alarm_names(config) else []
    assert group["AutoRollbackConfiguration"] == {
        "Enabled": config.deployment.auto_rollback,
        "Events": ["DEPLOYMENT_FAILURE", "DEPLOYMENT_STOP_ON_REQUEST", *alarm_event],
    }
    role = templates["pipeline"]["Resources"][group["ServiceRoleArn"]["Fn::GetAtt"][0]]
    # The Limited policy: Lambda only CodeDeployHook_*, SNS only CodeDeployTopic_*, S3 only
    # objects tagged for CodeDeploy (AWS managed policy reference).
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/AWSCodeDeployRoleForECSLimited"}
    ]
    # Its iam:PassRole covers only ecsTaskExecutionRole / ECSTaskExecution*; the stacks'
    # own task and execution roles are passed by an inline statement, to ECS tasks only.
    (passing,) = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    assert passing["Action"] == ["iam:PassRole"]
    assert [imported(r) for r in passing["Resource"]] == [
        names.export(service_stack, Outputs.TASK_ROLE_ARN),
        names.export(service_stack, Outputs.EXECUTION_ROLE_ARN),
    ]
    assert passing["Condition"] == {
        "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
    }
    application = one(templates["pipeline"], "AWS::CodeDeploy::Application")
    assert application == {
        "ApplicationName": names.codedeploy_application,
        "ComputePlatform": "ECS",
    }


def test_pipeline_stages_and_actions(system: Any) -> None:
    config, _, templates = system
    names = Names.of(config)
    pipeline = one(templates["pipeline"], "AWS::CodePipeline::Pipeline")
    assert pipeline["Name"] == names.pipeline
    assert pipeline["PipelineType"] == "V2"
    assert pipeline["ExecutionMode"] in ("QUEUED", "SUPERSEDED")
    assert pipeline["ArtifactStore"] == {"Type": "S3", "Location": {"Ref": "ArtifactBucket"}}
    stages = {s["Name"]: s["Actions"] for s in pipeline["Stages"]}
    assert list(stages) == ["Source", "Build", "Deploy"]

    (source,) = stages["Source"]
    assert source["ActionTypeId"]["Provider"] == "CodeCommit"
    assert source["Configuration"]["BranchName"] == config.source.branch
    assert source["Configuration"]["PollForSourceChanges"] == "false"
    assert source["Configuration"]["OutputArtifactFormat"] == "CODE_ZIP"

    builds = stages["Build"]
    assert [b["ActionTypeId"]["Provider"] for b in builds] == ["CodeBuild", "CodeBuild"]
    projects = {b["Configuration"]["ProjectName"]["Ref"]: b for b in builds}
    outputs = {p: b["OutputArtifacts"][0]["Name"] for p, b in projects.items()}
    assert outputs == {
        "AppBuildProject": "AppBuildOutput",
        "RouterBuildProject": "RouterBuildOutput",
    }

    (deploy,) = stages["Deploy"]
    assert deploy["ActionTypeId"] == {
        "Category": "Deploy",
        "Owner": "AWS",
        "Provider": "CodeDeployToECS",
        "Version": "1",
    }
    c = deploy["Configuration"]
    assert c["Image1ContainerName"] == APP_IMAGE_PLACEHOLDER == "IMAGE1_NAME"
    assert c["Image2ContainerName"] == ROUTER_IMAGE_PLACEHOLDER == "IMAGE2_NAME"
    assert (c["Image1ArtifactName"], c["Image2ArtifactName"]) == (
        "AppBuildOutput",
        "RouterBuildOutput",
    )
    assert (c["TaskDefinitionTemplateArtifact"], c["TaskDefinitionTemplatePath"]) == (
        "AppBuildOutput",
        "taskdef.json",
    )
    assert (c["AppSpecTemplateArtifact"], c["AppSpecTemplatePath"]) == (
        "AppBuildOutput",
        "appspec.yml",
    )
    assert c["DeploymentGroupName"] == {"Ref": "DeploymentGroup"}
    inputs = {a["Name"] for a in deploy["InputArtifacts"]}
    assert inputs == {"AppBuildOutput", "RouterBuildOutput"}


def test_builds_run_one_at_a_time_app_first(system: Any) -> None:
    """A new account's CodeBuild concurrent-build quota can be 1: no two CodeBuild
    actions of a stage share a RunOrder. The list order is the RunOrder order (the
    rehearsal plays the actions in list order), and the app builds first."""
    _, _, templates = system
    pipeline_props = one(templates["pipeline"], "AWS::CodePipeline::Pipeline")
    codebuild_stages = 0
    for stage in pipeline_props["Stages"]:
        builds = [a for a in stage["Actions"] if a["ActionTypeId"]["Provider"] == "CodeBuild"]
        if not builds:
            continue
        codebuild_stages += 1
        orders = [a["RunOrder"] for a in builds]
        assert len(set(orders)) == len(orders), (stage["Name"], orders)
        all_orders = [a["RunOrder"] for a in stage["Actions"]]
        assert all_orders == sorted(all_orders), stage["Name"]
        assert builds[0]["Configuration"]["ProjectName"] == {"Ref": "AppBuildProject"}
        assert orders == [1, 2]
    assert codebuild_stages == 1
    assert pipeline_stack.BUILD_RUN_ORDER == {"App": 1, "Router": 2}


def test_deploy_reads_only_build_outputs_that_hold_its_files(system: Any) -> None:
    """CodeDeployToECS input artifacts are at most 3 MB (CodePipeline quotas): the deploy
    action reads nothing from the repository zip, and every file it reads is one the
    producing build's buildspec lists among its artifacts."""
    config, _, templates = system
    pipeline_props = one(templates["pipeline"], "AWS::CodePipeline::Pipeline")
    actions = [a for s in pipeline_props["Stages"] for a in s["Actions"]]
    producers = {
        o["Name"]: a
        for a in actions
        if a["ActionTypeId"]["Category"] == "Build"
        for o in a["OutputArtifacts"]
    }
    (deploy,) = [a for a in actions if a["ActionTypeId"]["Provider"] == "CodeDeployToECS"]
    assert {a["Name"] for a in deploy["InputArtifacts"]} <= set(producers)
    c = deploy["Configuration"]
    reads = {
        (c["TaskDefinitionTemplateArtifact"], c["TaskDefinitionTemplatePath"]),
        (c["AppSpecTemplateArtifact"], c["AppSpecTemplatePath"]),
        (c["Image1ArtifactName"], "imageDetail.json"),
        (c["Image2ArtifactName"], "imageDetail.json"),
    }
    files = appkit.render(config)
    projects = {
        name: r["Properties"]
        for name, r in resources(templates["pipeline"], "AWS::CodeBuild::Project").items()
    }
    for artifact, path in reads:
        project = projects[producers[artifact]["Configuration"]["ProjectName"]["Ref"]]
        buildspec = yaml.safe_load(files[project["Source"]["BuildSpec"]])
        assert path in buildspec["artifacts"]["files"], (artifact, path)


def test_build_projects(system: Any) -> None:
    config, stacks, templates = system
    names = Names.of(config)
    source_stack, service_stack = stacks[0].name, stacks[1].name
    projects = {
        p["Properties"]["Name"]: p["Properties"]
        for p in resources(templates["pipeline"], "AWS::CodeBuild::Project").values()
    }
    assert set(projects) == {names.app_build_project, names.router_build_project}
    for name, directory, container, uri_key in (
        (
            names.app_build_project,
            config.app.directory,
            config.app.name,
            Outputs.APP_IMAGE_REPOSITORY_URI,
        ),
        (
            names.router_build_project,
            config.router.directory,
            config.router.name,
            Outputs.ROUTER_IMAGE_REPOSITORY_URI,
        ),
    ):
        p = projects[name]
        assert p["Source"] == {"Type": "CODEPIPELINE", "BuildSpec": f"{directory}/buildspec.yml"}
        env = p["Environment"]
        assert (env["Image"], env["Type"], env["ComputeType"], env["PrivilegedMode"]) == (
            "aws/codebuild/standard:7.0",
            "LINUX_CONTAINER",
            "BUILD_GENERAL1_SMALL",
            True,
        )
        variables = {v["Name"]: v["Value"] for v in env["EnvironmentVariables"]}
        assert "AWS_ACCOUNT_ID" not in variables  # the buildspecs use the repository URI
        assert variables["CONTAINER_NAME"] == container
        assert imported(variables["IMAGE_REPOSITORY_URI"]) == names.export(source_stack, uri_key)
        assert "IMAGE_REPOSITORY_NAME" in variables
        if name == names.app_build_project:
            assert imported(variables["TASK_ROLE_ARN"]) == names.export(
                service_stack, Outputs.TASK_ROLE_ARN
            )
            assert imported(variables["EXECUTION_ROLE_ARN"]) == names.export(
                service_stack, Outputs.EXECUTION_ROLE_ARN
            )
        else:
            assert "TASK_ROLE_ARN" not in variables
        assert p["LogsConfig"]["CloudWatchLogs"]["Status"] == "ENABLED"


def test_artifact_bucket_locked_down(system: Any) -> None:
    _, _, templates = system
    pipeline = templates["pipeline"]
    (bucket,) = resources(pipeline, "AWS::S3::Bucket").values()
    assert "DeletionPolicy" not in bucket or bucket["DeletionPolicy"] != "Retain"
    p = bucket["Properties"]
    assert p["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(p["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(p["PublicAccessBlockConfiguration"]) == 4
    assert p["BucketEncryption"]["ServerSideEncryptionConfiguration"] == [
        {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    ]
    assert p["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    policy = one(pipeline, "AWS::S3::BucketPolicy")["PolicyDocument"]
    (deny,) = policy["Statement"]
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_artifact_bucket_expires_what_it_keeps(system: Any) -> None:
    _, _, templates = system
    (bucket,) = resources(templates["pipeline"], "AWS::S3::Bucket").values()
    rules = {r["Id"]: r for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules == {
        "ExpireArtifacts": {
            "Id": "ExpireArtifacts",
            "Status": "Enabled",
            "ExpirationInDays": pipeline_stack.ARTIFACT_EXPIRATION_DAYS,
            "NoncurrentVersionExpiration": {
                "NoncurrentDays": pipeline_stack.NONCURRENT_EXPIRATION_DAYS
            },
            "AbortIncompleteMultipartUpload": {
                "DaysAfterInitiation": pipeline_stack.ABORT_MULTIPART_DAYS
            },
        },
        # S3 refuses ExpiredObjectDeleteMarker together with Days in one expiration.
        "RemoveExpiredDeleteMarkers": {
            "Id": "RemoveExpiredDeleteMarkers",
            "Status": "Enabled",
            "ExpiredObjectDeleteMarker": True,
        },
    }
    # An execution reads its artifacts for at most the reroute wait plus the termination
    # wait (2880 minutes each at most): expiry must outlast both.
    longest_execution_days = 2 * 2880 / (60 * 24)
    assert longest_execution_days < pipeline_stack.ARTIFACT_EXPIRATION_DAYS
    assert pipeline_stack.ABORT_MULTIPART_DAYS > 0
    assert pipeline_stack.NONCURRENT_EXPIRATION_DAYS > 0


def test_eventbridge_rule_starts_pipeline_on_branch(system: Any) -> None:
    config, stacks, templates = system
    names = Names.of(config)
    pipeline = templates["pipeline"]
    rule = one(pipeline, "AWS::Events::Rule")
    pattern = rule["EventPattern"]
    assert pattern["source"] == ["aws.codecommit"]
    assert pattern["detail-type"] == ["CodeCommit Repository State Change"]
    (repo,) = pattern["resources"]
    assert imported(repo) == names.export(stacks[0].name, Outputs.REPOSITORY_ARN)
    assert pattern["detail"] == {
        "event": ["referenceCreated", "referenceUpdated"],
        "referenceType": ["branch"],
        "referenceName": [config.source.branch],
    }
    (target,) = rule["Targets"]
    pipeline_arn = (
        "arn:${AWS::Partition}:codepipeline:${AWS::Region}:${AWS::AccountId}:" + names.pipeline
    )
    assert target["Arn"] == {"Fn::Sub": pipeline_arn}
    role = pipeline["Resources"][target["RoleArn"]["Fn::GetAtt"][0]]["Properties"]
    (statement,) = role["Policies"][0]["PolicyDocument"]["Statement"]
    assert statement["Action"] == ["codepipeline:StartPipelineExecution"]
    assert statement["Resource"] == [{"Fn::Sub": pipeline_arn}]


def test_iam_no_wildcard_resource_except_where_aws_requires(system: Any) -> None:
    _, _, templates = system
    statements = 0
    for template in templates.values():
        for node in walk(template):
            if not (isinstance(node, dict) and "Effect" in node and "Action" in node):
                continue
            statements += 1
            acts = node["Action"] if isinstance(node["Action"], list) else [node["Action"]]
            if node["Effect"] == "Deny":
                continue
            assert all(a != "*" and not a.endswith(":*") for a in acts), node
            res = node.get("Resource", [])
            res = res if isinstance(res, list) else [res]
            if "*" in res:
                assert set(acts) <= WILDCARD_ACTIONS, node
            if "iam:PassRole" in acts:
                assert node["Condition"] == {
                    "StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}
                }
    assert statements >= 15


def test_pipeline_role_scoped_to_this_system(system: Any) -> None:
    config, _, templates = system
    names = Names.of(config)
    pipeline = templates["pipeline"]
    role = pipeline["Resources"]["PipelineRole"]["Properties"]
    by_action = {}
    for statement in role["Policies"][0]["PolicyDocument"]["Statement"]:
        for action in statement["Action"]:
            by_action[action] = statement["Resource"]
    assert by_action["codebuild:StartBuild"] == [
        {"Fn::GetAtt": ["AppBuildProject", "Arn"]},
        {"Fn::GetAtt": ["RouterBuildProject", "Arn"]},
    ]
    deploy_arns = [r["Fn::Sub"] for r in by_action["codedeploy:CreateDeployment"]]
    assert any(
        a.endswith(f":deploymentgroup:{names.codedeploy_application}/{names.deployment_group}")
        for a in deploy_arns
    )
    assert any(a.endswith(f":deploymentconfig:{config.deployment.config}") for a in deploy_arns)
    assert by_action["ecs:RegisterTaskDefinition"] == ["*"]
    assert len(by_action["iam:PassRole"]) == 2
    # ACLs are disabled on the artifact bucket (BucketOwnerEnforced): no ACL writes.
    assert not [a for a in by_action if "Acl" in a and a.startswith("s3:Put")]
    assert by_action["s3:PutObject"] == [{"Fn::Sub": "${ArtifactBucket.Arn}/*"}]


def _role_statements(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    role = template["Resources"][role_id]["Properties"]
    return [s for p in role.get("Policies", []) for s in p["PolicyDocument"]["Statement"]]


def test_each_build_project_has_its_own_role_scoped_to_its_own_repository(system: Any) -> None:
    config, stacks, templates = system
    names = Names.of(config)
    source_stack = stacks[0].name
    template = templates["pipeline"]
    projects = resources(template, "AWS::CodeBuild::Project")
    role_of = {k: p["Properties"]["ServiceRole"]["Fn::GetAtt"][0] for k, p in projects.items()}
    assert len(set(role_of.values())) == len(projects) == 2  # one role per project
    own = {
        "AppBuildProject": (Outputs.APP_IMAGE_REPOSITORY_ARN, "AppBuildLogGroup"),
        "RouterBuildProject": (Outputs.ROUTER_IMAGE_REPOSITORY_ARN, "RouterBuildLogGroup"),
    }
    for project, role_id in role_of.items():
        repository_key, log_group = own[project]
        assert projects[project]["Properties"]["LogsConfig"]["CloudWatchLogs"]["GroupName"] == {
            "Ref": log_group
        }
        statements = _role_statements(template, role_id)
        ecr = [s for s in statements if any(a.startswith("ecr:") for a in s["Action"])]
        repositories = [r for s in ecr for r in s["Resource"] if r != "*"]
        assert [imported(r) for r in repositories] == [names.export(source_stack, repository_key)]
        assert "ecr:PutImage" in next(s for s in ecr if s["Resource"] != ["*"])["Action"]
        logs = [s for s in statements if any(a.startswith("logs:") for a in s["Action"])]
        assert [r for s in logs for r in s["Resource"]] == [{"Fn::GetAtt": [log_group, "Arn"]}]
        s3_resources = {
            json.dumps(r, sort_keys=True)
            for s in statements
            if any(a.startswith("s3:") for a in s["Action"])
            for r in s["Resource"]
        }
        assert s3_resources == {
            json.dumps({"Fn::Sub": "${ArtifactBucket.Arn}/*"}),
            json.dumps({"Fn::GetAtt": ["ArtifactBucket", "Arn"]}, sort_keys=True),
        }


_ACCOUNT = {"Ref": "AWS::AccountId"}


def _sub(service: str, resource: str) -> dict[str, str]:
    here = "${AWS::Region}:${AWS::AccountId}"
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:{here}:{resource}"}


def test_trust_policies_carry_the_documented_confused_deputy_conditions(system: Any) -> None:
    """aws:SourceAccount (and aws:SourceArn naming the resource the role serves) on every
    role whose service documents the keys for its trust policy; none on the two whose
    services document none (a key the service does not send makes the role unusable).
    Every role is listed here, so a new role needs a decision."""
    config, _, templates = system
    names = Names.of(config)
    pipeline_t = templates["pipeline"]
    rule = one(pipeline_t, "AWS::Events::Rule")
    (target,) = rule["Targets"]
    group = one(pipeline_t, "AWS::CodeDeploy::DeploymentGroup")
    application = one(pipeline_t, "AWS::CodeDeploy::Application")
    assert group["ApplicationName"] == {"Ref": "CodeDeployApplication"}
    group_arn = _sub(
        "codedeploy",
        f"deploymentgroup:{application['ApplicationName']}/{group['DeploymentGroupName']}",
    )
    projects = resources(pipeline_t, "AWS::CodeBuild::Project").values()
    expected: dict[tuple[str, str], tuple[str, dict[str, Any] | None]] = {
        ("service", "TaskRole"): (
            "ecs-tasks.amazonaws.com",
            {
                "StringEquals": {"aws:SourceAccount": _ACCOUNT},
                "ArnLike": {"aws:SourceArn": _sub("ecs", "*")},
            },
        ),
        ("service", "ExecutionRole"): ("ecs-tasks.amazonaws.com", None),
        ("pipeline", "PipelineRole"): ("codepipeline.amazonaws.com", None),
        ("pipeline", group["ServiceRoleArn"]["Fn::GetAtt"][0]): (
            "codedeploy.amazonaws.com",
            {
                "StringEquals": {"aws:SourceAccount": _ACCOUNT},
                "StringLike": {"aws:SourceArn": group_arn},
            },
        ),
        ("pipeline", target["RoleArn"]["Fn::GetAtt"][0]): (
            "events.amazonaws.com",
            {
                "StringEquals": {"aws:SourceAccount": _ACCOUNT},
                "ArnLike": {"aws:SourceArn": _sub("events", f"rule/{rule['Name']}")},
            },
        ),
    }
    for project in projects:
        p = project["Properties"]
        expected[("pipeline", p["ServiceRole"]["Fn::GetAtt"][0])] = (
            "codebuild.amazonaws.com",
            {
                "StringEquals": {
                    "aws:SourceAccount": _ACCOUNT,
                    "aws:SourceArn": _sub("codebuild", f"project/{p['Name']}"),
                }
            },
        )
    # issue 11's functions: the Lambda execution-role page documents no condition
    if verify_stacks.has_hook(config):
        expected[("service", "VerifyHookRole")] = ("lambda.amazonaws.com", None)
        if verify_network.mode(config) == "prober":
            expected[("service", "VerifyProberRole")] = ("lambda.amazonaws.com", None)
    found = {}
    for key in ("source", "service", "pipeline"):
        for role_id, role in resources(templates[key], "AWS::IAM::Role").items():
            (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            assert statement["Action"] == ["sts:AssumeRole"]
            (service_name,) = statement["Principal"]["Service"]
            found[(key, role_id)] = (service_name, statement.get("Condition"))
    assert found == expected
    assert rule["Name"] == names.source_rule
    assert names.source_rule.startswith(names.prefix) and len(names.source_rule) <= 64


def test_bootstrap_task_definition_matches_the_repository_taskdef(system: Any) -> None:
    """The first pipeline run swaps images, not the task's shape: the bootstrap revision
    and the repository's taskdef.json (bluegreen.appkit) agree on everything else."""
    config, _, templates = system
    stack_task = one(templates["service"], "AWS::ECS::TaskDefinition")
    repo_task = json.loads(appkit.render(config)["taskdef.json"])
    assert repo_task["family"] == stack_task["Family"]
    assert (repo_task["cpu"], repo_task["memory"]) == (stack_task["Cpu"], stack_task["Memory"])
    stack_containers = {c["Name"]: c for c in stack_task["ContainerDefinitions"]}
    for container in repo_task["containerDefinitions"]:
        ours = stack_containers[container["name"]]
        assert container["memoryReservation"] == ours["MemoryReservation"]
        assert container["essential"] == ours["Essential"]
        assert container["logConfiguration"]["logDriver"] == ours["LogConfiguration"]["LogDriver"]
        options = dict(container["logConfiguration"]["options"])
        ours_options = dict(ours["LogConfiguration"]["Options"])
        for key in ("region", "awslogs-region", "awslogs-group"):
            options.pop(key, None)
            ours_options.pop(key, None)
        assert options == ours_options
    assert set(stack_containers) == {c["name"] for c in repo_task["containerDefinitions"]}
    assert appkit.FLUENT_BIT_IMAGE == bootstrap.BOOTSTRAP_ROUTER_IMAGE
    # The placeholder app is confined as the app will be (security M9): the same dropped
    # capabilities, and not root unless the port is below 1024.
    app = stack_containers[config.app.name]
    (repo_app,) = [c for c in repo_task["containerDefinitions"] if c["name"] == config.app.name]
    assert (
        app["LinuxParameters"]["Capabilities"]["Drop"]
        == (repo_app["linuxParameters"]["capabilities"]["drop"])
    )
    assert app["ReadonlyRootFilesystem"] is True
    assert app.get("User") == (None if config.app.port < 1024 else bootstrap.NOBODY)
