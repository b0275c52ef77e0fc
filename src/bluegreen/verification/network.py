"""How the hook reaches the new revision, and what that costs.

The hook runs in Lambda outside the VPC, so it reaches AWS's APIs (CodeDeploy's
PutLifecycleEventHookExecutionStatus, Elastic Load Balancing, Lambda) through Lambda's own
network, with no NAT gateway and no VPC endpoint. How it reaches the new revision depends
on ``listeners.test_cidrs``:

``direct`` (test_cidrs holds 0.0.0.0/0, the seed's): the hook requests the test listener
through the load balancer's public DNS name, exactly the path a person's browser takes.

``prober`` (test_cidrs narrowed, such as an office range): the test listener's security
group admits only those ranges, and Lambda's outbound addresses are not in them (Lambda
functions outside a VPC reach the internet from addresses AWS does not publish per
function). A function attached to the VPC cannot reach the internet-facing load balancer
either: its network interfaces get no public IP ("Lambda functions connected to a VPC
... don't have internet access" without a NAT gateway: Lambda developer guide, "Giving
Lambda functions access to resources in an Amazon VPC"), and it could not call AWS's APIs
without a NAT gateway or interface endpoints. So the check is split in two functions of the
same code:

- the hook (outside the VPC) reads which target group the test listener forwards to and
  its healthy targets (DescribeRules, DescribeTargetHealth), invokes the prober
  synchronously with their addresses, logs the results and reports;
- the prober (inside the VPC, in the public subnets, with a security group of its own
  that the task security group admits on the app port) sends the checks straight to the
  new tasks, round robin.

Trade-off: the prober's requests bypass the load balancer, so they check the new tasks
but not the test listener's routing (which the alarms and the health checks still cover),
and they see a task's answers, not a load balancer's (no ALB 502/503/504). In exchange the
test listener stays closed to everyone but test_cidrs, at no fixed cost.

Monthly cost besides per-request Lambda charges (a few cents for hundreds of releases,
within Lambda's free tier): direct 0, prober 0 (a Lambda function's VPC network
interfaces are not charged). The alternatives, for comparison, in us-east-1 prices
(Amazon VPC pricing, https://aws.amazon.com/vpc/pricing/): a NAT gateway for an in-VPC
hook about USD 32.85 a month per AZ (0.045 an hour) plus 0.045 per GB; interface
endpoints for CodeDeploy, Elastic Load Balancing and Lambda about USD 7.30 each per AZ
(0.01 an hour), about 43.80 for three in two AZs; a test-listener rule admitting a
per-deployment secret header costs nothing but must open the listener's port to
0.0.0.0/0 at the security group (the header is then the only guard, and a rule condition
is evaluated only after the connection is accepted).
"""

from __future__ import annotations

from typing import Literal

from bluegreen.config import Config

OPEN = "0.0.0.0/0"

Mode = Literal["direct", "prober"]


def mode(config: Config) -> Mode:
    """``direct`` when the test listener is open to the internet, else ``prober``."""
    return "direct" if OPEN in config.listeners.test_cidrs else "prober"
