"""Provisioners for the network: VPC and friends (EC2) and the load balancer (ELBv2)."""

from __future__ import annotations

import json
from typing import Any

from bluegreen.emulator.cloudformation.resources.registry import (
    Context,
    Existing,
    Provisioned,
    Resource,
    deleter,
    pick,
    provisioner,
    tag_arg,
    tags,
    updater,
)

_TAGS_ONLY = {"Tags": "tags do not change behaviour"}


def _tag_spec(kind: str, props: dict[str, Any]) -> list[dict[str, Any]]:
    found = tags(props)
    return [{"ResourceType": kind, "Tags": found}] if found else []


@provisioner(
    "AWS::EC2::VPC",
    "CidrBlock EnableDnsHostnames EnableDnsSupport InstanceTenancy",
    _TAGS_ONLY,
)
def vpc(ctx: Context, res: Resource) -> Provisioned:
    ec2 = ctx.clients.ec2
    p = res.properties
    created = ec2.create_vpc(
        CidrBlock=p["CidrBlock"],
        InstanceTenancy=p.get("InstanceTenancy", "default"),
        TagSpecifications=_tag_spec("vpc", p),
    )["Vpc"]
    vpc_id = created["VpcId"]
    # One attribute per call: that is the EC2 API's rule.
    for prop, attribute in (
        ("EnableDnsSupport", "EnableDnsSupport"),
        ("EnableDnsHostnames", "EnableDnsHostnames"),
    ):
        if prop in p:
            ec2.modify_vpc_attribute(VpcId=vpc_id, **{attribute: {"Value": bool(p[prop])}})
    groups = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"]
    return Provisioned(
        vpc_id,
        {
            "VpcId": vpc_id,
            "CidrBlock": created["CidrBlock"],
            "DefaultSecurityGroup": groups[0]["GroupId"] if groups else "",
        },
    )


@provisioner(
    "AWS::EC2::Subnet",
    "VpcId CidrBlock AvailabilityZone MapPublicIpOnLaunch",
    _TAGS_ONLY,
)
def subnet(ctx: Context, res: Resource) -> Provisioned:
    ec2 = ctx.clients.ec2
    p = res.properties
    created = ec2.create_subnet(
        VpcId=p["VpcId"],
        CidrBlock=p["CidrBlock"],
        TagSpecifications=_tag_spec("subnet", p),
        **pick(p, "AvailabilityZone"),
    )["Subnet"]
    if p.get("MapPublicIpOnLaunch"):
        ec2.modify_subnet_attribute(
            SubnetId=created["SubnetId"], MapPublicIpOnLaunch={"Value": True}
        )
    return Provisioned(
        created["SubnetId"],
        {
            "SubnetId": created["SubnetId"],
            "AvailabilityZone": created["AvailabilityZone"],
            "VpcId": created["VpcId"],
            "CidrBlock": created["CidrBlock"],
        },
    )


@provisioner("AWS::EC2::InternetGateway", "", _TAGS_ONLY)
def internet_gateway(ctx: Context, res: Resource) -> Provisioned:
    created = ctx.clients.ec2.create_internet_gateway(
        TagSpecifications=_tag_spec("internet-gateway", res.properties)
    )["InternetGateway"]
    gateway_id = created["InternetGatewayId"]
    return Provisioned(gateway_id, {"InternetGatewayId": gateway_id})


@provisioner("AWS::EC2::VPCGatewayAttachment", "VpcId InternetGatewayId")
def gateway_attachment(ctx: Context, res: Resource) -> Provisioned:
    p = res.properties
    if "InternetGatewayId" not in p:
        raise res.fail("only internet gateway attachments are played")
    ctx.clients.ec2.attach_internet_gateway(
        InternetGatewayId=p["InternetGatewayId"], VpcId=p["VpcId"]
    )
    return Provisioned(f"IGW|{p['VpcId']}")


@provisioner("AWS::EC2::RouteTable", "VpcId", _TAGS_ONLY)
def route_table(ctx: Context, res: Resource) -> Provisioned:
    created = ctx.clients.ec2.create_route_table(
        VpcId=res.properties["VpcId"], TagSpecifications=_tag_spec("route-table", res.properties)
    )["RouteTable"]
    return Provisioned(created["RouteTableId"], {"RouteTableId": created["RouteTableId"]})


@provisioner(
    "AWS::EC2::Route",
    "RouteTableId DestinationCidrBlock GatewayId NatGatewayId",
)
def route(ctx: Context, res: Resource) -> Provisioned:
    p = res.properties
    ctx.clients.ec2.create_route(
        **pick(p, "RouteTableId", "DestinationCidrBlock", "GatewayId", "NatGatewayId")
    )
    return Provisioned(f"{p['RouteTableId']}|{p['DestinationCidrBlock']}")


@provisioner("AWS::EC2::SubnetRouteTableAssociation", "SubnetId RouteTableId")
def subnet_route_table_association(ctx: Context, res: Resource) -> Provisioned:
    p = res.properties
    created = ctx.clients.ec2.associate_route_table(
        SubnetId=p["SubnetId"], RouteTableId=p["RouteTableId"]
    )
    return Provisioned(created["AssociationId"], {"Id": created["AssociationId"]})


# The rule property naming the peer group, by direction.
_PEER = {"ingress": "SourceSecurityGroupId", "egress": "DestinationSecurityGroupId"}


def _permission(rule: dict[str, Any], peer: str) -> dict[str, Any]:
    """A CloudFormation ingress/egress rule as an EC2 IpPermission."""
    perm: dict[str, Any] = {"IpProtocol": str(rule["IpProtocol"])}
    for key in ("FromPort", "ToPort"):
        if key in rule:
            perm[key] = int(rule[key])
    described = pick(rule, "Description")
    if "CidrIp" in rule:
        perm["IpRanges"] = [{"CidrIp": rule["CidrIp"], **described}]
    if "CidrIpv6" in rule:
        perm["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **described}]
    if peer in rule:
        perm["UserIdGroupPairs"] = [{"GroupId": rule[peer], **described}]
    return perm


def _authorize(ec2: Any, direction: str, group_id: str, rules: list[dict[str, Any]]) -> None:
    """Authorize CloudFormation ingress or egress ``rules`` on a group in one call (none, no
    call): for a group's inline rules and for the standalone rule resources alike."""
    permissions = [_permission(rule, _PEER[direction]) for rule in rules]
    if not permissions:
        return
    if direction == "ingress":
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=permissions)
    else:
        ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=permissions)


@provisioner(
    "AWS::EC2::SecurityGroup",
    "GroupDescription GroupName VpcId SecurityGroupIngress SecurityGroupEgress",
    _TAGS_ONLY,
    name="GroupName",
)
def security_group(ctx: Context, res: Resource) -> Provisioned:
    ec2 = ctx.clients.ec2
    p = res.properties
    name = p.get("GroupName") or ctx.physical_name(res, 255)
    group_id = ec2.create_security_group(
        GroupName=name,
        Description=p["GroupDescription"],
        TagSpecifications=_tag_spec("security-group", p),
        **pick(p, "VpcId"),
    )["GroupId"]
    _authorize(ec2, "ingress", group_id, p.get("SecurityGroupIngress", []))
    _authorize(ec2, "egress", group_id, p.get("SecurityGroupEgress", []))
    return Provisioned(group_id, {"GroupId": group_id, "VpcId": p.get("VpcId", "")})


_RULE = "GroupId IpProtocol FromPort ToPort CidrIp CidrIpv6 Description"


@provisioner("AWS::EC2::SecurityGroupIngress", f"{_RULE} {_PEER['ingress']}")
def security_group_ingress(ctx: Context, res: Resource) -> Provisioned:
    _authorize(ctx.clients.ec2, "ingress", res.properties["GroupId"], [res.properties])
    return Provisioned(ctx.physical_name(res))


@provisioner("AWS::EC2::SecurityGroupEgress", f"{_RULE} {_PEER['egress']}")
def security_group_egress(ctx: Context, res: Resource) -> Provisioned:
    _authorize(ctx.clients.ec2, "egress", res.properties["GroupId"], [res.properties])
    return Provisioned(ctx.physical_name(res))


# --------------------------------------------------------------------------- ELBv2


def _attributes(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Load balancer or target group attributes as the API takes them (string values)."""
    return [{"Key": a["Key"], "Value": str(a["Value"])} for a in items]


@provisioner(
    "AWS::ElasticLoadBalancingV2::LoadBalancer",
    "Name Scheme Type IpAddressType Subnets SecurityGroups LoadBalancerAttributes Tags",
    name="Name",
)
def load_balancer(ctx: Context, res: Resource) -> Provisioned:
    elb = ctx.clients.elbv2
    p = res.properties
    created = elb.create_load_balancer(
        Name=p.get("Name") or ctx.physical_name(res, 32),
        **tag_arg(p),
        **pick(p, "Subnets", "SecurityGroups", "Scheme", "Type", "IpAddressType"),
    )["LoadBalancers"][0]
    arn = created["LoadBalancerArn"]
    if p.get("LoadBalancerAttributes"):
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=arn, Attributes=_attributes(p["LoadBalancerAttributes"])
        )
    return Provisioned(
        arn,
        {
            "LoadBalancerArn": arn,
            "DNSName": created["DNSName"],
            "LoadBalancerName": created["LoadBalancerName"],
            "LoadBalancerFullName": arn.split(":loadbalancer/", 1)[1],
            "CanonicalHostedZoneID": created.get("CanonicalHostedZoneId", ""),
            "SecurityGroups": created.get("SecurityGroups", []),
        },
    )


_TARGET_GROUP_INTS = (
    "Port",
    "HealthCheckIntervalSeconds",
    "HealthCheckTimeoutSeconds",
    "HealthyThresholdCount",
    "UnhealthyThresholdCount",
)


@provisioner(
    "AWS::ElasticLoadBalancingV2::TargetGroup",
    "Name Port Protocol ProtocolVersion TargetType VpcId IpAddressType HealthCheckEnabled "
    "HealthCheckPath HealthCheckPort HealthCheckProtocol HealthCheckIntervalSeconds "
    "HealthCheckTimeoutSeconds HealthyThresholdCount UnhealthyThresholdCount Matcher "
    "TargetGroupAttributes Tags",
    name="Name",
)
def target_group(ctx: Context, res: Resource) -> Provisioned:
    elb = ctx.clients.elbv2
    p = res.properties
    args = pick(
        p,
        "Protocol",
        "ProtocolVersion",
        "TargetType",
        "VpcId",
        "IpAddressType",
        "HealthCheckEnabled",
        "HealthCheckPath",
        "HealthCheckPort",
        "HealthCheckProtocol",
        "Matcher",
    )
    for key in _TARGET_GROUP_INTS:
        if key in p:
            args[key] = int(p[key])
    if "HealthCheckPort" in args:
        args["HealthCheckPort"] = str(args["HealthCheckPort"])
    created = elb.create_target_group(
        Name=p.get("Name") or ctx.physical_name(res, 32), **tag_arg(p), **args
    )["TargetGroups"][0]
    arn = created["TargetGroupArn"]
    if p.get("TargetGroupAttributes"):
        elb.modify_target_group_attributes(
            TargetGroupArn=arn, Attributes=_attributes(p["TargetGroupAttributes"])
        )
    return Provisioned(
        arn,
        {
            "TargetGroupArn": arn,
            "TargetGroupName": created["TargetGroupName"],
            "TargetGroupFullName": arn.split(":", 5)[5],
            "LoadBalancerArns": created.get("LoadBalancerArns", []),
        },
    )


@provisioner(
    "AWS::ElasticLoadBalancingV2::Listener",
    "LoadBalancerArn Port Protocol DefaultActions Certificates SslPolicy AlpnPolicy",
)
def listener(ctx: Context, res: Resource) -> Provisioned:
    p = res.properties
    created = ctx.clients.elbv2.create_listener(
        LoadBalancerArn=p["LoadBalancerArn"],
        DefaultActions=p["DefaultActions"],
        **{"Port": int(p["Port"])} if "Port" in p else {},
        **pick(p, "Protocol", "Certificates", "SslPolicy", "AlpnPolicy"),
    )["Listeners"][0]
    return Provisioned(created["ListenerArn"], {"ListenerArn": created["ListenerArn"]})


@provisioner("AWS::ElasticLoadBalancingV2::ListenerRule", "ListenerArn Priority Conditions Actions")
def listener_rule(ctx: Context, res: Resource) -> Provisioned:
    """A listener rule (the ECS engine's production and test rules): CreateRule; Ref and
    RuleArn are the rule's ARN (AWS::ElasticLoadBalancingV2::ListenerRule, Return values)."""
    p = res.properties
    created = ctx.clients.elbv2.create_rule(
        ListenerArn=p["ListenerArn"],
        Priority=int(p["Priority"]),
        Conditions=p["Conditions"],
        Actions=p["Actions"],
    )["Rules"][0]
    return Provisioned(created["RuleArn"], {"RuleArn": created["RuleArn"]})


# --------------------------------------------------------------------------- updates and
# deletes (CloudFormation's handlers: what each property change calls, what delete calls)


@updater("AWS::EC2::VPC")
def vpc_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    ec2 = ctx.clients.ec2
    for prop in ("EnableDnsSupport", "EnableDnsHostnames"):
        if res.properties.get(prop) != old.properties.get(prop) and prop in res.properties:
            ec2.modify_vpc_attribute(VpcId=old.ref, **{prop: {"Value": bool(res.properties[prop])}})
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::EC2::VPC")
def vpc_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.ec2.delete_vpc(VpcId=old.ref)


@updater("AWS::EC2::Subnet")
def subnet_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    wanted = bool(res.properties.get("MapPublicIpOnLaunch", False))
    if wanted != bool(old.properties.get("MapPublicIpOnLaunch", False)):
        ctx.clients.ec2.modify_subnet_attribute(
            SubnetId=old.ref, MapPublicIpOnLaunch={"Value": wanted}
        )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::EC2::Subnet")
def subnet_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.ec2.delete_subnet(SubnetId=old.ref)


@updater("AWS::EC2::InternetGateway")
def internet_gateway_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    return Provisioned(old.ref, old.attrs)  # tags only


@deleter("AWS::EC2::InternetGateway")
def internet_gateway_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.ec2.delete_internet_gateway(InternetGatewayId=old.ref)


@deleter("AWS::EC2::VPCGatewayAttachment")
def gateway_attachment_delete(ctx: Context, old: Existing) -> None:
    p = old.properties
    ctx.clients.ec2.detach_internet_gateway(
        InternetGatewayId=p["InternetGatewayId"], VpcId=p["VpcId"]
    )


@updater("AWS::EC2::RouteTable")
def route_table_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    return Provisioned(old.ref, old.attrs)  # tags only


@deleter("AWS::EC2::RouteTable")
def route_table_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.ec2.delete_route_table(RouteTableId=old.ref)


@updater("AWS::EC2::Route")
def route_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    p = res.properties
    ctx.clients.ec2.replace_route(
        **pick(p, "RouteTableId", "DestinationCidrBlock", "GatewayId", "NatGatewayId")
    )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::EC2::Route")
def route_delete(ctx: Context, old: Existing) -> None:
    p = old.properties
    ctx.clients.ec2.delete_route(
        RouteTableId=p["RouteTableId"], DestinationCidrBlock=p["DestinationCidrBlock"]
    )


@deleter("AWS::EC2::SubnetRouteTableAssociation")
def subnet_route_table_association_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.ec2.disassociate_route_table(AssociationId=old.ref)


def _rule_set(rules: list[dict[str, Any]], peer: str) -> dict[str, dict[str, Any]]:
    return {
        json.dumps(_permission(rule, peer), sort_keys=True): _permission(rule, peer)
        for rule in rules
    }


def _sync_rules(
    ec2: Any, direction: str, group_id: str, old: list[dict[str, Any]], new: list[dict[str, Any]]
) -> None:
    """Authorize the rules that are new and revoke the ones that went (what CloudFormation
    does for a security group's inline rules)."""
    peer = _PEER[direction]
    before, after = _rule_set(old, peer), _rule_set(new, peer)
    added = [after[k] for k in after if k not in before]
    gone = [before[k] for k in before if k not in after]
    if gone:
        if direction == "ingress":
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=gone)
        else:
            ec2.revoke_security_group_egress(GroupId=group_id, IpPermissions=gone)
    if added:
        if direction == "ingress":
            ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=added)
        else:
            ec2.authorize_security_group_egress(GroupId=group_id, IpPermissions=added)


@updater("AWS::EC2::SecurityGroup")
def security_group_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    ec2 = ctx.clients.ec2
    for direction, prop in (("ingress", "SecurityGroupIngress"), ("egress", "SecurityGroupEgress")):
        _sync_rules(
            ec2, direction, old.ref, old.properties.get(prop, []), res.properties.get(prop, [])
        )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::EC2::SecurityGroup")
def security_group_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.ec2.delete_security_group(GroupId=old.ref)


@deleter("AWS::EC2::SecurityGroupIngress")
def security_group_ingress_delete(ctx: Context, old: Existing) -> None:
    perm = _permission(old.properties, _PEER["ingress"])
    ctx.clients.ec2.revoke_security_group_ingress(
        GroupId=old.properties["GroupId"], IpPermissions=[perm]
    )


@deleter("AWS::EC2::SecurityGroupEgress")
def security_group_egress_delete(ctx: Context, old: Existing) -> None:
    perm = _permission(old.properties, _PEER["egress"])
    ctx.clients.ec2.revoke_security_group_egress(
        GroupId=old.properties["GroupId"], IpPermissions=[perm]
    )


@updater("AWS::ElasticLoadBalancingV2::LoadBalancer")
def load_balancer_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    elb = ctx.clients.elbv2
    p, before = res.properties, old.properties
    if p.get("LoadBalancerAttributes") != before.get("LoadBalancerAttributes"):
        elb.modify_load_balancer_attributes(
            LoadBalancerArn=old.ref, Attributes=_attributes(p.get("LoadBalancerAttributes", []))
        )
    if p.get("SecurityGroups") != before.get("SecurityGroups"):
        elb.set_security_groups(LoadBalancerArn=old.ref, SecurityGroups=p["SecurityGroups"])
    if p.get("Subnets") != before.get("Subnets"):
        elb.set_subnets(LoadBalancerArn=old.ref, Subnets=p["Subnets"])
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::ElasticLoadBalancingV2::LoadBalancer")
def load_balancer_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.elbv2.delete_load_balancer(LoadBalancerArn=old.ref)


@updater("AWS::ElasticLoadBalancingV2::TargetGroup")
def target_group_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    elb = ctx.clients.elbv2
    p = res.properties
    args = pick(
        p,
        "HealthCheckEnabled",
        "HealthCheckPath",
        "HealthCheckPort",
        "HealthCheckProtocol",
        "Matcher",
    )
    for key in _TARGET_GROUP_INTS[1:]:
        if key in p:
            args[key] = int(p[key])
    if "HealthCheckPort" in args:
        args["HealthCheckPort"] = str(args["HealthCheckPort"])
    elb.modify_target_group(TargetGroupArn=old.ref, **args)
    if p.get("TargetGroupAttributes") != old.properties.get("TargetGroupAttributes"):
        elb.modify_target_group_attributes(
            TargetGroupArn=old.ref, Attributes=_attributes(p.get("TargetGroupAttributes", []))
        )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::ElasticLoadBalancingV2::TargetGroup")
def target_group_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.elbv2.delete_target_group(TargetGroupArn=old.ref)


@updater("AWS::ElasticLoadBalancingV2::Listener")
def listener_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    p = res.properties
    ctx.clients.elbv2.modify_listener(
        ListenerArn=old.ref,
        DefaultActions=p["DefaultActions"],
        **{"Port": int(p["Port"])} if "Port" in p else {},
        **pick(p, "Protocol", "Certificates", "SslPolicy", "AlpnPolicy"),
    )
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::ElasticLoadBalancingV2::Listener")
def listener_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.elbv2.delete_listener(ListenerArn=old.ref)


@updater("AWS::ElasticLoadBalancingV2::ListenerRule")
def listener_rule_update(ctx: Context, res: Resource, old: Existing) -> Provisioned:
    """ModifyRule with the template's conditions and actions (a changed priority is
    SetRulePriorities; a changed ListenerArn replaces the rule: CloudFormation template
    reference, ListenerRule, "Update requires")."""
    p = res.properties
    client = ctx.clients.elbv2
    if int(p["Priority"]) != int(old.properties.get("Priority", p["Priority"])):
        client.set_rule_priorities(
            RulePriorities=[{"RuleArn": old.ref, "Priority": int(p["Priority"])}]
        )
    client.modify_rule(RuleArn=old.ref, Conditions=p["Conditions"], Actions=p["Actions"])
    return Provisioned(old.ref, old.attrs)


@deleter("AWS::ElasticLoadBalancingV2::ListenerRule")
def listener_rule_delete(ctx: Context, old: Existing) -> None:
    ctx.clients.elbv2.delete_rule(RuleArn=old.ref)
