"""Whether AWS's network lets a task pull its images and the load balancer reach it.

Read from the VPC's state through the EC2 API (DescribeSubnets, DescribeRouteTables,
DescribeVpcEndpoints, DescribeSecurityGroups), as ECS's service-linked role; the load
balancer's own security groups and subnets are ELB's own state. Answers are kept until
the network changes (a security group rule, a route, an association, an endpoint, an
internet or NAT gateway): moto's EC2 backend counts those changes here
(:attr:`Network.version`), so the API is read again only after one.

**Image pulls and logs** (a Fargate task's elastic network interface, in the task's
subnet, carries them: "the route tables associated to the subnets that your task is
created in must allow your Amazon ECS infrastructure to reach the repository endpoint.
The endpoint can be reached through an internet gateway, NAT gateway, or VPC endpoints"
and "if you use an internet gateway (public subnets), then confirm that the task has a
public IP assigned to it", AWS re:Post knowledge center, ecs-fargate-pull-container-error;
ECS developer guide, task_cannot_pull_image.md "Connection timed out"):

- the subnet's route table (its own, else the VPC's main table) routes ``0.0.0.0/0`` to
  an internet gateway and the task has a public IP (``assignPublicIp: ENABLED``), or to a
  NAT gateway (a transit gateway, network interface, instance or peering connection is
  taken to lead to the internet too: conservative in the user's favour, said in notes);
- or, for an image in this account's ECR, the VPC has the ``ecr.api`` and ``ecr.dkr``
  interface endpoints and the ``s3`` gateway endpoint on the subnet's route table (and,
  for the awslogs driver, the ``logs`` endpoint): "ecr.api, ecr.dkr, s3 (gateway) and
  logs" (ECS developer guide, vpc-endpoints.md, "Amazon ECS tasks hosted on Fargate");
- and the task's security groups allow outbound TCP 443 there.

Otherwise the task stops before it runs (stopCode TaskFailedToStart) with the error
Fargate gives for a connection that times out (texts below, each with its source).

**Health checks and traffic** from the load balancer: "the security groups for your
load balancer must allow traffic ... to the targets on both the listener port and the
health check port", and the target's security group must allow it in (ELB Application
Load Balancer guide, load-balancer-update-security-groups.md, "Recommended rules"): the
task's groups admit one of the load balancer's groups, or a CIDR holding every subnet of
the load balancer (its nodes' addresses), on the port; the load balancer's groups let it
out to the task's group or address. A check the network drops times out
(``Target.Timeout``). Network ACLs are not evaluated (a VPC's default ACL allows all).
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bluegreen.emulator import internal

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

# moto EC2 backend methods that change what the checks read (the version counts them).
_CHANGES = (
    "authorize_security_group_ingress",
    "authorize_security_group_egress",
    "revoke_security_group_ingress",
    "revoke_security_group_egress",
    "modify_security_group_rules",
    "delete_security_group",
    "create_route",
    "replace_route",
    "delete_route",
    "delete_route_table",
    "associate_route_table",
    "disassociate_route_table",
    "replace_route_table_association",
    "attach_internet_gateway",
    "detach_internet_gateway",
    "delete_internet_gateway",
    "create_nat_gateway",
    "delete_nat_gateway",
    "create_vpc_endpoint",
    "modify_vpc_endpoint",
    "delete_vpc_endpoints",
    "modify_network_interface_attribute",
)

_ECR_PRIVATE = re.compile(
    r"^(?P<registry>\d{12}\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?)/"
    r"(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@(?P<digest>sha256:[0-9a-f]+))?$"
)


@dataclass(frozen=True)
class Reach:
    """Whether a path is open, and if not, why (for notes and tests)."""

    ok: bool
    why: str = ""


class Network:
    """The VPC as the data plane sees it (one per emulator)."""

    def __init__(self, emulator: Emulator, principal: str) -> None:
        self.emulator = emulator
        self.principal = principal
        self.version = 0
        self.notes: list[str] = []
        self._cache: dict[tuple[Any, ...], tuple[int, Any]] = {}
        self._patched: list[str] = []
        backend = emulator.backend("ec2")
        for name in _CHANGES:
            method = getattr(backend, name, None)
            if method is None:
                continue
            setattr(backend, name, self._counting(method))
            self._patched.append(name)

    def _counting(self, method: Callable[..., Any]) -> Callable[..., Any]:
        def changed(*args: Any, **kwargs: Any) -> Any:
            self.version += 1
            return method(*args, **kwargs)

        return changed

    def close(self) -> None:
        with contextlib.suppress(Exception):  # moto's backends may be reset already
            backend = self.emulator.backend("ec2")
            for name in self._patched:
                with contextlib.suppress(AttributeError):
                    delattr(backend, name)
        self._patched = []

    def _note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def _ec2(self) -> Any:
        return internal.client(self.emulator, "ec2", self.principal)

    def _cached(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        found = self._cache.get(key)
        if found is not None and found[0] == self.version:
            return found[1]
        value = compute()
        self._cache[key] = (self.version, value)
        return value

    # -- reading the VPC --------------------------------------------------------------------
    def _subnet(self, subnet_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self._cached(
            ("subnet", subnet_id),
            lambda: self._ec2().describe_subnets(SubnetIds=[subnet_id])["Subnets"][0],
        )
        return found

    def _route_table(self, subnet: dict[str, Any]) -> dict[str, Any] | None:
        def read() -> dict[str, Any] | None:
            ec2 = self._ec2()
            tables = ec2.describe_route_tables(
                Filters=[{"Name": "association.subnet-id", "Values": [subnet["SubnetId"]]}]
            )["RouteTables"]
            if not tables:
                # "A subnet that's not explicitly associated with any route table is
                # implicitly associated with the main route table" (VPC user guide,
                # VPC_Route_Tables.md, "Main route table").
                tables = ec2.describe_route_tables(
                    Filters=[
                        {"Name": "vpc-id", "Values": [subnet["VpcId"]]},
                        {"Name": "association.main", "Values": ["true"]},
                    ]
                )["RouteTables"]
            return tables[0] if tables else None

        return self._cached(("table", subnet["SubnetId"]), read)  # type: ignore[no-any-return]

    def _endpoints(self, vpc_id: str) -> list[dict[str, Any]]:
        return self._cached(  # type: ignore[no-any-return]
            ("endpoints", vpc_id),
            lambda: [
                e
                for e in self._ec2().describe_vpc_endpoints(
                    Filters=[{"Name": "vpc-id", "Values": [vpc_id]}]
                )["VpcEndpoints"]
                if str(e.get("State", "available")).lower() == "available"
            ],
        )

    def _groups(self, group_ids: tuple[str, ...]) -> list[dict[str, Any]]:
        if not group_ids:
            return []
        return self._cached(  # type: ignore[no-any-return]
            ("groups", group_ids),
            lambda: self._ec2().describe_security_groups(GroupIds=list(group_ids))[
                "SecurityGroups"
            ],
        )

    # -- image pulls and logs ---------------------------------------------------------------
    def _internet(self, subnet_id: str, public_ip: bool) -> Reach:
        subnet = self._subnet(subnet_id)
        table = self._route_table(subnet)
        if table is None:
            return Reach(False, f"subnet {subnet_id} has no route table")
        for route in table.get("Routes", []):
            if route.get("DestinationCidrBlock") != "0.0.0.0/0":
                continue
            if route.get("State") == "blackhole":
                continue
            gateway = str(route.get("GatewayId") or "")
            if gateway.startswith("igw-"):
                if public_ip:
                    return Reach(True)
                return Reach(
                    False,
                    f"subnet {subnet_id} routes 0.0.0.0/0 to the internet gateway {gateway}, "
                    "but the task has no public IP (assignPublicIp is DISABLED)",
                )
            if route.get("NatGatewayId"):
                return Reach(True)
            other = next(
                (
                    str(route[k])
                    for k in (
                        "TransitGatewayId",
                        "NetworkInterfaceId",
                        "InstanceId",
                        "VpcPeeringConnectionId",
                    )
                    if route.get(k)
                ),
                "",
            )
            if other:
                self._note(
                    f"the route 0.0.0.0/0 -> {other} of {table['RouteTableId']} is taken to "
                    "reach the internet (the emulator cannot see past it)"
                )
                return Reach(True)
        return Reach(
            False,
            f"the route table {table['RouteTableId']} of subnet {subnet_id} has no route "
            "0.0.0.0/0 to an internet gateway or a NAT gateway",
        )

    def _endpoint(self, subnet: dict[str, Any], service: str) -> bool:
        name = f"com.amazonaws.{self.emulator.region}.{service}"
        table = self._route_table(subnet)
        for endpoint in self._endpoints(str(subnet["VpcId"])):
            if endpoint.get("ServiceName") != name:
                continue
            if service == "s3" and endpoint.get("VpcEndpointType") == "Gateway":
                if table is not None and table["RouteTableId"] in endpoint.get("RouteTableIds", []):
                    return True
                continue
            return True
        return False

    def _egress_443(self, group_ids: tuple[str, ...], to_internet: bool, vpc_cidr: str) -> bool:
        for group in self._groups(group_ids):
            for rule in group.get("IpPermissionsEgress", []):
                if not _covers_port(rule, 443):
                    continue
                for cidr in [r.get("CidrIp", "") for r in rule.get("IpRanges", [])]:
                    if cidr and (
                        cidr == "0.0.0.0/0" or (not to_internet and _contains(cidr, vpc_cidr))
                    ):
                        return True
                if not to_internet and rule.get("UserIdGroupPairs"):
                    return True  # to the endpoints' group (not followed further)
        return False

    def pull_error(
        self, *, subnet_id: str, public_ip: bool, security_groups: list[str], images: list[str]
    ) -> str | None:
        """The error a task stops with when it cannot reach its images' registries."""
        groups = tuple(sorted(security_groups))
        internet = self._internet(subnet_id, public_ip)
        subnet = self._subnet(subnet_id)
        vpc_cidr = str(subnet.get("CidrBlock", "0.0.0.0/0"))
        for image in images:
            private = _ECR_PRIVATE.match(image)
            mine = (
                private is not None
                and private["registry"].split(".", 1)[0] == self.emulator.account_id
                and private["region"] == self.emulator.region
            )
            if internet.ok and self._egress_443(groups, True, vpc_cidr):
                continue
            if mine and private is not None:
                api = self._endpoint(subnet, "ecr.api")
                dkr = self._endpoint(subnet, "ecr.dkr")
                s3 = self._endpoint(subnet, "s3")
                egress = self._egress_443(groups, False, vpc_cidr)
                if api and dkr and s3 and egress:
                    continue
                if not (api and egress):
                    # The registry authorization comes first (ECS developer guide,
                    # "Troubleshoot ResourceInitializationError": "unable to pull secrets
                    # or registry auth"; the text as Fargate reports it, e.g. in
                    # ActionIQ/terraform-aws-retool-ecs-fargate and many public reports:
                    # "... Post "https://api.ecr.<region>.amazonaws.com/": dial tcp
                    # <ip>:443: i/o timeout. Please check your task network
                    # configuration."; the host stands for the address AWS would resolve).
                    host = f"api.ecr.{self.emulator.region}.amazonaws.com"
                    return (
                        "ResourceInitializationError: unable to pull secrets or registry "
                        "auth: execution resource retrieval failed: unable to retrieve ecr "
                        "registry auth: service call has been retried 3 time(s): "
                        f'RequestError: send request failed caused by: Post "https://{host}/": '
                        f"dial tcp {host}:443: i/o timeout. Please check your task network "
                        "configuration."
                    )
                if not dkr:
                    return _manifest_timeout(image)
                # The layers come from S3 ("ref pull has been retried 1 time(s): failed to
                # copy: httpReaderSeeker: failed open", task_cannot_pull_image.md "Fail to
                # copy image"; the layer bucket as reported for missing S3 endpoints).
                bucket = f"prod-{self.emulator.region}-starport-layer-bucket"
                host = f"{bucket}.s3.{self.emulator.region}.amazonaws.com"
                return (
                    "CannotPullContainerError: ref pull has been retried 1 time(s): failed to "
                    f'copy: httpReaderSeeker: failed open: failed to do request: Get "https://'
                    f'{host}/": dial tcp {host}:443: i/o timeout'
                )
            return _manifest_timeout(image)
        return None

    def logs_error(
        self, *, subnet_id: str, public_ip: bool, security_groups: list[str]
    ) -> str | None:
        """The error a task's awslogs driver stops it with when CloudWatch Logs is out of
        reach ("failed to validate logger args", as ecs.py's log stream errors)."""
        groups = tuple(sorted(security_groups))
        subnet = self._subnet(subnet_id)
        vpc_cidr = str(subnet.get("CidrBlock", "0.0.0.0/0"))
        if self._internet(subnet_id, public_ip).ok and self._egress_443(groups, True, vpc_cidr):
            return None
        if self._endpoint(subnet, "logs") and self._egress_443(groups, False, vpc_cidr):
            return None
        host = f"logs.{self.emulator.region}.amazonaws.com"
        return (
            "ResourceInitializationError: failed to validate logger args: create stream has "
            "been retried 1 times: failed to create Cloudwatch log stream: RequestError: send "
            f'request failed caused by: Post "https://{host}/": dial tcp {host}:443: i/o '
            "timeout : exit status 1"
        )

    def why_no_internet(self, subnet_id: str, public_ip: bool) -> str:
        reach = self._internet(subnet_id, public_ip)
        return "" if reach.ok else reach.why

    # -- from the load balancer -----------------------------------------------------------
    def admits(
        self,
        *,
        balancer_groups: list[str],
        balancer_subnets: list[str],
        task_groups: list[str],
        task_ip: str,
        port: int,
    ) -> Reach:
        """Whether the load balancer's nodes reach ``task_ip:port`` (both directions of
        the security groups)."""
        key = (
            "admits",
            tuple(sorted(balancer_groups)),
            tuple(sorted(balancer_subnets)),
            tuple(sorted(task_groups)),
            task_ip,
            port,
        )
        return self._cached(  # type: ignore[no-any-return]
            key,
            lambda: self._admits(balancer_groups, balancer_subnets, task_groups, task_ip, port),
        )

    def _admits(
        self,
        balancer_groups: list[str],
        balancer_subnets: list[str],
        task_groups: list[str],
        task_ip: str,
        port: int,
    ) -> Reach:
        cidrs = [str(self._subnet(s).get("CidrBlock", "")) for s in balancer_subnets if s]
        inbound = False
        for group in self._groups(tuple(sorted(task_groups))):
            for rule in group.get("IpPermissions", []):
                if not _covers_port(rule, port):
                    continue
                peers = {p.get("GroupId") for p in rule.get("UserIdGroupPairs", [])}
                if peers & set(balancer_groups):
                    inbound = True
                ranges = [r.get("CidrIp", "") for r in rule.get("IpRanges", [])]
                if cidrs and all(any(_contains(r, c) for r in ranges if r) for c in cidrs):
                    inbound = True
        if not inbound:
            return Reach(
                False,
                f"the task's security groups ({', '.join(task_groups) or 'none'}) do not "
                f"admit the load balancer's ({', '.join(balancer_groups) or 'none'}) on "
                f"port {port}",
            )
        if balancer_groups:
            outbound = False
            for group in self._groups(tuple(sorted(balancer_groups))):
                for rule in group.get("IpPermissionsEgress", []):
                    if not _covers_port(rule, port):
                        continue
                    peers = {p.get("GroupId") for p in rule.get("UserIdGroupPairs", [])}
                    if peers & set(task_groups):
                        outbound = True
                    for r in rule.get("IpRanges", []):
                        if r.get("CidrIp") and _contains(str(r["CidrIp"]), f"{task_ip}/32"):
                            outbound = True
            if not outbound:
                return Reach(
                    False,
                    f"the load balancer's security groups ({', '.join(balancer_groups)}) do "
                    f"not let it out to {task_ip} on port {port}",
                )
        return Reach(True)


def _manifest_timeout(image: str) -> str:
    """A registry out of reach, as Fargate platform 1.4 reports it ("pull image manifest
    has been retried 5 time(s): failed to resolve ref ...: dial tcp <ip>:443: i/o
    timeout", quoted in ActionIQ/terraform-aws-retool-ecs-fargate#20 for docker.io; the
    ECS guide's task_cannot_pull_image.md "Connection timed out": "a route to the
    internet doesn't exist"). The host stands for the address AWS would resolve."""
    name, tag = image, "latest"
    last = image.rsplit("/", 1)[-1]
    if "@" in image:
        name, tag = image.split("@", 1)
    elif ":" in last:
        name, tag = image.rsplit(":", 1)
    if "/" in name and ("." in name.split("/", 1)[0] or ":" in name.split("/", 1)[0]):
        registry, repository = name.split("/", 1)
    else:
        registry = "registry-1.docker.io"
        repository = name if "/" in name else f"library/{name}"
    ref = image if registry != "registry-1.docker.io" else f"docker.io/{repository}:{tag}"
    return (
        "CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to "
        f'resolve ref {ref}: failed to do request: Head "https://{registry}/v2/{repository}/'
        f'manifests/{tag}": dial tcp {registry}:443: i/o timeout'
    )


def _covers_port(rule: dict[str, Any], port: int) -> bool:
    protocol = str(rule.get("IpProtocol", ""))
    if protocol == "-1":
        return True
    if protocol not in ("tcp", "6"):
        return False
    low = int(rule.get("FromPort", -1))
    high = int(rule.get("ToPort", -1))
    return low <= port <= high


def _contains(outer: str, inner: str) -> bool:
    try:
        small = ipaddress.ip_network(inner, strict=False)
        large = ipaddress.ip_network(outer, strict=False)
        if small.version != large.version:
            return False
        return small.subnet_of(large)  # type: ignore[arg-type]
    except (ValueError, TypeError):
        return False
