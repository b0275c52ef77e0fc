"""Config shapes every template test runs on: the seed's defaults and two far from them.

Shared by the cfn-lint tests and the semantic stack tests so both judge the same systems.
"""

from __future__ import annotations

CONFIGS = {
    "default": "",
    "shop-prod": """
[project]
name = "shop"
environment = "prod"
region = "us-east-1"
[source]
repository = "storefront"
branch = "release/1.x"
[app]
name = "api"
directory = "service"
port = 8080
[router]
name = "fluentbit"
directory = "logrouter"
[task]
cpu = 1024
memory = 3072
desired_count = 2
[listeners]
production_port = 8000
test_port = 9000
test_cidrs = ["203.0.113.0/24", "198.51.100.7/32"]
[health_check]
path = "/healthz"
interval_seconds = 30
timeout_seconds = 10
healthy_threshold = 3
unhealthy_threshold = 5
[deployment]
config = "CodeDeployDefault.ECSCanary10Percent5Minutes"
reroute = "manual"
wait_minutes = 60
termination_wait_minutes = 5
auto_rollback = false
[network]
vpc_cidr = "10.20.0.0/24"
[logs]
retention_days = 30
""",
    "eu-linear": """
[project]
name = "blog"
environment = "stg"
region = "eu-west-1"
[task]
cpu = 512
memory = 1024
[listeners]
test_port = 8443
[deployment]
config = "CodeDeployDefault.ECSLinear10PercentEvery1Minutes"
reroute = "auto"
termination_wait_minutes = 0
""",
}
