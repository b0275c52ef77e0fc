"""What a service-stack update may change once the CODE_DEPLOY service exists.

Replacement is decided by the resource provider schemas cfn-lint ships
(``createOnlyProperties``); the tests read those schemas themselves for the facts they
rely on, then check the refusal (or the pass) on templates synthesized from real configs.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from cfnlint.schema import PROVIDER_SCHEMA_MANAGER

from bluegreen import config as config_mod
from bluegreen.aws import owned
from bluegreen.errors import UsageError
from bluegreen.stacks import build

REGION = "ap-northeast-1"


def service_template(text: str = "") -> dict[str, Any]:
    config = config_mod.parse(text)
    template: dict[str, Any] = yaml.safe_load(
        next(s for s in build(config) if s.key == "service").to_yaml()
    )
    return template


def create_only(resource_type: str) -> list[str]:
    schema = PROVIDER_SCHEMA_MANAGER.get_resource_schema("us-east-1", resource_type).schema
    return list(schema["createOnlyProperties"])


def refused(text: str, deployed: dict[str, Any] | None = None) -> str:
    with pytest.raises(UsageError) as info:
        owned.keep_codedeploy_owned(deployed or service_template(), service_template(text), REGION)
    assert "nothing was changed" in str(info.value)
    assert "`bluegreen destroy` then `bluegreen deploy`" in str(info.value)
    return str(info.value)


def test_the_same_config_changes_nothing() -> None:
    kept = owned.keep_codedeploy_owned(service_template(), service_template(), REGION)
    assert kept.template == service_template() and kept.notes == []
    assert kept.out_of_band == {"DesiredCount": 1, "HealthCheckGracePeriodSeconds": 60}


def test_the_service_is_sent_as_deployed_and_its_desired_count_goes_out_of_band() -> None:
    deployed = service_template()
    kept = owned.keep_codedeploy_owned(
        deployed, service_template("[task]\ndesired_count = 3"), REGION
    )
    assert kept.template["Resources"]["Service"] == deployed["Resources"]["Service"]
    assert kept.template == deployed  # the only change left to make is out of band
    assert kept.out_of_band["DesiredCount"] == 3


def test_a_task_change_keeps_the_deployed_task_definition() -> None:
    """ECS refuses to update a CODE_DEPLOY service's task definition: keep the deployed one."""
    deployed = service_template()
    kept = owned.keep_codedeploy_owned(
        deployed, service_template("[task]\ncpu = 512\nmemory = 1024"), REGION
    )
    assert kept.template["Resources"]["TaskDefinition"] == deployed["Resources"]["TaskDefinition"]
    [note] = kept.notes
    assert note.startswith("TaskDefinition kept as deployed") and "taskdef.json" in note


@pytest.mark.parametrize(
    "text",
    [
        '[listeners]\ntest_cidrs = ["203.0.113.0/24"]',  # a security group rule, in place
        "[logs]\nretention_days = 30",  # a log group property, in place
        '[health_check]\npath = "/healthz"',  # target-group health check, in place
        "[health_check]\nhealthy_threshold = 3",
    ],
)
def test_changes_made_in_place_go_through(text: str) -> None:
    new = service_template(text)
    kept = owned.keep_codedeploy_owned(service_template(), new, REGION)
    # Everything but the task definition (CodeDeploy's) is sent as the config says.
    for logical_id, resource in new["Resources"].items():
        if resource["Type"] != "AWS::ECS::TaskDefinition":
            assert kept.template["Resources"][logical_id] == resource, logical_id


def test_listener_routing_is_left_to_codedeploy() -> None:
    deployed = service_template()
    new = service_template()
    listener = new["Resources"]["ProductionListener"]
    groups = listener["Properties"]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    groups[0]["Weight"], groups[1]["Weight"] = 0, 100
    kept = owned.keep_codedeploy_owned(deployed, new, REGION)
    assert kept.template == deployed


def test_a_system_deployed_with_plain_forwards_keeps_them_and_codedeploys_weights() -> None:
    """A service stack deployed before the listeners were weighted (a plain forward to
    blue, green an explicit DependsOn) keeps its listeners as deployed: CodeDeploy owns
    the live weights (since 2022 it leaves {new: 100, old: 0} after every deployment,
    traveloka/terraform-aws-alb-single-listener #47), and the template's {blue: 100,
    green: 0} would move production back to blue (aws/aws-cdk#36649)."""
    deployed = service_template()
    for name in ("ProductionListener", "TestListener"):
        listener = deployed["Resources"][name]
        listener["DependsOn"] = ["GreenTargetGroup"]
        listener["Properties"]["DefaultActions"] = [
            {"Type": "forward", "TargetGroupArn": {"Ref": "BlueTargetGroup"}}
        ]
    new = service_template()
    assert new["Resources"]["ProductionListener"] != deployed["Resources"]["ProductionListener"]
    kept = owned.keep_codedeploy_owned(deployed, new, REGION)
    assert kept.template == deployed


def test_a_vpc_cidr_change_is_refused() -> None:
    """Subnet and VPC CidrBlock are create-only, and the target groups' VpcId too, so the
    subnets, the task security group and both (named) target groups would be replaced."""
    assert "/properties/CidrBlock" in create_only("AWS::EC2::Subnet")
    assert "/properties/VpcId" in create_only("AWS::ElasticLoadBalancingV2::TargetGroup")
    text = refused('[network]\nvpc_cidr = "10.1.0.0/16"')
    assert (
        "Service depends on PublicSubnet1, which would be replaced: CidrBlock 10.0.0.0/18 -> "
        "10.1.0.0/18; set by network.vpc_cidr"
    ) in text
    assert (
        "BlueTargetGroup would be replaced: its VpcId refers to Vpc, replaced too (Vpc "
        "CidrBlock 10.0.0.0/16 -> 10.1.0.0/16); set by network.vpc_cidr"
    ) in text
    assert "Service depends on TaskSecurityGroup, which would be replaced" in text


def test_an_app_port_change_is_refused() -> None:
    assert "/properties/Port" in create_only("AWS::ElasticLoadBalancingV2::TargetGroup")
    text = refused("[app]\nport = 8080")
    assert "BlueTargetGroup would be replaced: Port 80 -> 8080; set by app.port" in text
    assert "Service: its LoadBalancers changes (app.name, app.port)" in text


def test_an_app_name_change_is_refused() -> None:
    text = refused('[app]\nname = "web"')
    assert "Service: its LoadBalancers changes (app.name, app.port)" in text


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("[listeners]\nproduction_port = 8000", "ProductionListener: its port 80 -> 8000"),
        ("[listeners]\ntest_port = 9000", "TestListener: its port 8080 -> 9000"),
    ],
)
def test_a_listener_port_change_is_refused(text: str, line: str) -> None:
    """Not create-only, but updating the listener would send the template's forward
    action with it and move production off the group CodeDeploy chose (aws/aws-cdk#36649)."""
    assert "/properties/Port" not in create_only("AWS::ElasticLoadBalancingV2::Listener")
    assert line in refused(text)


def test_a_replaced_role_replaces_the_kept_task_definition_and_is_refused() -> None:
    """TaskRole's RoleName is create-only; the task definition (every property create-only)
    refers to the role's ARN, so it would be replaced and the service with it."""
    assert "/properties/RoleName" in create_only("AWS::IAM::Role")
    deployed = service_template()
    new = copy.deepcopy(deployed)
    new["Resources"]["TaskRole"]["Properties"]["RoleName"] = "renamed-task-role"
    with pytest.raises(UsageError) as info:
        owned.keep_codedeploy_owned(deployed, new, REGION)
    assert (
        "Service depends on TaskDefinition, which would be replaced: its TaskRoleArn refers to "
        "TaskRole, replaced too (TaskRole RoleName (none) -> renamed-task-role)"
    ) in str(info.value)


def test_a_resource_the_service_uses_removed_from_the_template_is_refused() -> None:
    deployed = service_template()
    new = copy.deepcopy(deployed)
    del new["Resources"]["TaskSecurityGroup"]
    with pytest.raises(
        UsageError, match="TaskSecurityGroup, which would be replaced: it is no longer"
    ):
        owned.keep_codedeploy_owned(deployed, new, REGION)


def test_an_unknown_region_uses_the_us_east_1_schemas() -> None:
    assert owned.create_only("AWS::EC2::Subnet", "mars-1") == owned.create_only(
        "AWS::EC2::Subnet", "us-east-1"
    )
    assert owned.create_only("AWS::Not::AType", REGION) is None


@pytest.mark.parametrize(
    ("value", "refs"),
    [
        ({"Ref": "Vpc"}, ["Vpc"]),
        ({"Ref": "AWS::Region"}, []),
        ({"Fn::GetAtt": ["TaskRole", "Arn"]}, ["TaskRole"]),
        ({"Fn::GetAtt": "LoadBalancer.DNSName"}, ["LoadBalancer"]),
        ({"Fn::Sub": "http://${LoadBalancer.DNSName}:${AWS::Region}"}, ["LoadBalancer"]),
        ({"Fn::Sub": ["${Name}-${Bucket}", {"Name": {"Ref": "Thing"}}]}, ["Bucket", "Thing"]),
        ({"Fn::Sub": "literal ${!NotARef}"}, []),
        ([{"Ref": "A"}, {"x": [{"Ref": "B"}]}], ["A", "B"]),
    ],
)
def test_references(value: Any, refs: list[str]) -> None:
    assert sorted(owned.references(value)) == refs


def test_other_listener_and_service_changes_are_refused_by_name() -> None:
    """A listener property other than the port or protocol is named as the template
    spells it; a change to the service's DependsOn would update the service resource
    (refused like its properties)."""
    deployed = service_template()
    new = copy.deepcopy(deployed)
    new["Resources"]["ProductionListener"]["Properties"]["SslPolicy"] = "ELBSecurityPolicy-TLS13"
    depends = new["Resources"]["Service"].get("DependsOn", [])
    new["Resources"]["Service"]["DependsOn"] = [*_as_list(depends), "TaskRole"]
    with pytest.raises(UsageError) as info:
        owned.keep_codedeploy_owned(deployed, new, REGION)
    text = str(info.value)
    assert "ProductionListener: its SslPolicy (none) -> ELBSecurityPolicy-TLS13" in text
    assert "Service: its DependsOn changes" in text


def _as_list(value: Any) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


ECS = '[deployment]\nengine = "ecs"\n'


def test_switching_a_live_ecs_service_back_to_codedeploy_is_refused_with_the_steps() -> None:
    """The reverse of test_e2e_ecs_engine's switch: the live service runs the ECS
    deployment controller, the config asks for CodeDeploy."""
    with pytest.raises(UsageError) as info:
        owned.keep_codedeploy_owned(service_template(ECS), service_template(), REGION)
    assert info.value.exit_code == 2
    assert str(info.value).splitlines()[0] == (
        'deployment.engine changes from "ecs" to "codedeploy", but the live service '
        "(Service) runs the ECS deployment controller; bluegreen does not switch a live "
        "service's engine in place: one stack update would have to change its deployment "
        "controller, load balancers and listeners while the current engine owns them, and "
        "production could not be guaranteed to keep serving"
    )
    assert info.value.hint == (
        'nothing was changed. Keep deployment.engine = "ecs" for this system, or move to '
        "the other engine in one of these ways: (1) with a short outage: `bluegreen "
        'destroy`, set deployment.engine = "codedeploy", `bluegreen deploy`; (2) without '
        "one: deploy a second system with the new engine under another "
        "project.environment, check it on its own URL, then move your DNS name to its load "
        "balancer and `bluegreen destroy` the old one (the AWS blog's \"new service behind "
        'a new load balancer" strategy, https://aws.amazon.com/blogs/containers/migrating-'
        "from-aws-codedeploy-to-amazon-ecs-for-blue-green-deployments); (3) AWS's in-place "
        "steps by hand, outside bluegreen's stacks: https://docs.aws.amazon.com/AmazonECS/"
        "latest/developerguide/migrate-codedeploy-to-ecs-bluegreen.html"
    )


def test_the_ecs_listener_rules_keep_their_actions_and_refuse_other_changes() -> None:
    """ECS rewrites the rules' forwards on every release (ECS developer guide,
    "Application Load Balancer resources for blue/green, linear, and canary
    deployments"): the same config changes nothing, the deployed actions are kept, and
    any other change to a rule is refused by name."""
    deployed = service_template(ECS)
    kept = owned.keep_codedeploy_owned(deployed, service_template(ECS), REGION)
    assert kept.template == deployed and kept.notes == []
    live = copy.deepcopy(deployed)
    rule = live["Resources"]["ProductionListenerRule"]["Properties"]
    rule["Actions"] = [{"Type": "forward", "TargetGroupArn": "green-as-ecs-left-it"}]
    kept = owned.keep_codedeploy_owned(live, service_template(ECS), REGION)
    assert kept.template["Resources"]["ProductionListenerRule"]["Properties"] == rule
    new = copy.deepcopy(deployed)
    new["Resources"]["TestListenerRule"]["Properties"]["Priority"] = 7
    with pytest.raises(UsageError) as info:
        owned.keep_codedeploy_owned(deployed, new, REGION)
    before = deployed["Resources"]["TestListenerRule"]["Properties"]["Priority"]
    assert f"TestListenerRule: its Priority {before} -> 7" in str(info.value)


def test_replacement_follows_references_through_any_number_of_resources() -> None:
    """A replaced resource gets a new physical id, so a create-only property that refers
    to it replaces its holder too, and so on down the chain, whatever order the template
    lists them in (here the last link first). IAM Role RoleName and every property of
    AWS::ECS::TaskDefinition are create-only (the provider schemas, read here)."""
    assert "/properties/RoleName" in create_only("AWS::IAM::Role")
    assert "/properties/Family" in create_only("AWS::ECS::TaskDefinition")
    assert "/properties/TaskRoleArn" in create_only("AWS::ECS::TaskDefinition")

    def template(role_name: str) -> dict[str, Any]:
        return {
            "Resources": {
                "Second": {
                    "Type": "AWS::ECS::TaskDefinition",
                    "Properties": {"Family": {"Fn::Sub": "copy-of-${First}"}},
                },
                "First": {
                    "Type": "AWS::ECS::TaskDefinition",
                    "Properties": {"TaskRoleArn": {"Fn::GetAtt": ["Role", "Arn"]}},
                },
                "Role": {"Type": "AWS::IAM::Role", "Properties": {"RoleName": role_name}},
            }
        }

    why = owned.replacements(template("a"), template("b"), REGION)
    assert sorted(why) == ["First", "Role", "Second"]
    assert why["Second"].reason == "its Family refers to First, replaced too"
    assert why["Second"].root == "Role RoleName a -> b"
