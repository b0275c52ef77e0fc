"""IAM: moto's, with AWS's managed policies loaded when first attached.

moto can load its whole catalogue of ~1,600 AWS managed policies, once per partition:
~0.8 s, a third of a rehearsal. Instead, a policy named by an attach call is looked up
in that same catalogue and added just before moto serves the call, so attaching a real
managed policy works and a misspelt one fails ("does not exist or is not attachable") as
on AWS.

A service-linked role exists once per account (and custom suffix): a second
CreateServiceLinkedRole is refused with AWS's code and text, ``InvalidInput`` "Service role
name AWSServiceRoleForECS has been taken in this account, please try a different suffix."
(bcgov/startup-sample-project-aws-containers#13, Rayraegah/terraform-aws-hasura#17; the
botocore IAM model lists InvalidInputException for CreateServiceLinkedRole), where moto
answers EntityAlreadyExists as for CreateRole.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bluegreen.emulator.service import PASS, Call, Params, Result, Service, ServiceError, operation

_MANAGED = re.compile(r"^arn:aws:iam::aws:policy(/(?:[^/]+/)*)([^/]+)$")


class Iam(Service):
    name = "iam"

    @operation("AttachRolePolicy")
    def attach_role_policy(self, params: Params, call: Call) -> Result:
        self.load_managed_policy(str(params.get("PolicyArn", "")))
        result: Result = PASS
        return result

    @operation("AttachUserPolicy")
    def attach_user_policy(self, params: Params, call: Call) -> Result:
        return self.attach_role_policy(params, call)

    @operation("AttachGroupPolicy")
    def attach_group_policy(self, params: Params, call: Call) -> Result:
        return self.attach_role_policy(params, call)

    @operation("CreateServiceLinkedRole")
    def create_service_linked_role(self, params: Params, call: Call) -> Result:
        from moto.iam import models

        name = service_linked_role_name(
            str(params.get("AWSServiceName", "")), params.get("CustomSuffix")
        )
        backend = models.iam_backends[self.account_id]["aws"]
        if any(role.name == name for role in backend.roles.values()):
            raise ServiceError(
                "InvalidInput",
                f"Service role name {name} has been taken in this account, please try a "
                "different suffix.",
            )
        result: Result = PASS
        return result

    def load_managed_policy(self, arn: str) -> None:
        """Add AWS managed policy ``arn`` to moto's IAM if it is one (else nothing: the
        call that names it then fails as it would on AWS)."""
        match = _MANAGED.match(arn)
        if not match:
            return
        import moto.iam
        from moto.iam import models

        backend = models.iam_backends[self.account_id]["aws"]
        if arn in backend.managed_policies:
            return
        name = match.group(2)
        catalogue = Path(moto.iam.__file__).with_name("aws_managed_policies.py")
        text = catalogue.read_text(encoding="utf-8")
        start = text.find(f'\n "{name}":{{')
        if start < 0:
            return
        data, _ = json.JSONDecoder().raw_decode(text, text.index("{", start))
        policy = models.AWSManagedPolicy.from_data(name, self.account_id, "us-east-1", data)
        if policy.arn == arn:
            backend.managed_policies.setdefault(policy.arn, policy)


def service_linked_role_name(service_name: str, suffix: str | None) -> str:
    """The role CreateServiceLinkedRole makes for ``service_name``: AWSServiceRoleFor<Service>
    (ecs.amazonaws.com -> AWSServiceRoleForECS), ``_<suffix>`` appended; the naming moto
    applies when it creates the role (moto.iam.models.create_service_linked_role)."""
    from moto.iam.models import SERVICE_NAME_CONVERSION

    parts = service_name.split(".")
    service = parts[-3] if len(parts) >= 3 else parts[0]
    prefix = parts[0]
    converted = SERVICE_NAME_CONVERSION.get(service, service)
    if service != prefix:
        converted += "_" + "".join(x.capitalize() for x in prefix.split("-"))
    name = f"AWSServiceRoleFor{converted}"
    return f"{name}_{suffix}" if suffix else name
