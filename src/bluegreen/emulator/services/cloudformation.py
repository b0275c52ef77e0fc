"""CloudFormation, emulated: change sets, stacks, events, outputs and exports.

moto's own CloudFormation cannot stand in (it skips the CI/CD resource types, drops the
ECS service's deployment controller and load balancers, gives change-set stacks no
outputs and emits no resource events: reference/moto-5.2.5-findings.md), so every
CloudFormation operation is served here, and resources are made by bluegreen's resource
handlers through the emulated APIs (:mod:`bluegreen.emulator.cloudformation.stacks`).

Refusals made as CloudFormation makes them (API reference and User Guide): a template
over 51,200 bytes as TemplateBody; IAM resources without CAPABILITY_IAM; a CREATE change
set for a stack that exists, an UPDATE one for a stack that does not; executing a change
set that is not AVAILABLE or on a busy stack; updating a stack in a *_IN_PROGRESS,
ROLLBACK_COMPLETE or *_FAILED state that cannot be updated.
"""

from __future__ import annotations

import hashlib
from typing import Any

from bluegreen.emulator.cloudformation import template as cfn
from bluegreen.emulator.cloudformation.stacks import (
    TEMPLATE_BODY_LIMIT,
    ChangeSet,
    Engine,
    Stack,
)
from bluegreen.emulator.service import Call, Params, Result, Service, ServiceError, operation
from bluegreen.errors import BluegreenError

_PAGE = 100
"""Events and stacks per page (DescribeStackEvents pages, as the console shows)."""

# Stack states from which an update may start (CloudFormation User Guide, "Stack status
# codes": a stack in any other state cannot be updated).
_UPDATABLE = {
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
}


def _validation(message: str) -> ServiceError:
    return ServiceError("ValidationError", message)


class CloudFormation(Service):
    name = "cloudformation"

    def __init__(self, emulator: Any) -> None:
        super().__init__(emulator)
        self.engine = Engine(emulator)
        self._change_sets = 0

    # -- lookups ------------------------------------------------------------------------
    def _stack(self, name: str, *, deleted: bool = False) -> Stack:
        stack = self.engine.find(name, deleted=deleted)
        if stack is None:
            raise _validation(f"Stack with id {name} does not exist")
        return stack

    def _change_set(self, params: Params) -> ChangeSet:
        name = params["ChangeSetName"]
        for stack in self.engine.stacks:
            for change_set in stack.change_sets.values():
                if change_set.id == name:
                    return change_set
        stack_name = params.get("StackName")
        if not stack_name:
            raise _validation(
                "StackName must be specified if ChangeSetName is not specified as an ARN."
            )
        owner = self.engine.find(stack_name)
        if owner is not None:
            for change_set in owner.change_sets.values():
                if change_set.name == name:
                    return change_set
        raise ServiceError("ChangeSetNotFound", f"ChangeSet [{name}] does not exist")

    def _template(self, params: Params) -> tuple[str, dict[str, Any]]:
        text = params.get("TemplateBody")
        if text is None:
            if params.get("TemplateURL") or params.get("UsePreviousTemplate"):
                raise _validation(
                    "the emulated CloudFormation takes templates as TemplateBody only"
                )
            raise _validation("Either Template URL or Template Body must be specified.")
        if len(text.encode("utf-8")) > TEMPLATE_BODY_LIMIT:
            raise _validation(
                "1 validation error detected: Value at 'templateBody' failed to satisfy "
                f"constraint: Member must have length less than or equal to {TEMPLATE_BODY_LIMIT}"
            )
        try:
            template = cfn.load(text, "template")
        except BluegreenError as exc:
            raise _validation(f"Template format error: {exc.message}") from None
        return text, template

    @staticmethod
    def _check_capabilities(template: dict[str, Any], given: list[str]) -> None:
        types = {str(body.get("Type", "")) for body in template.get("Resources", {}).values()}
        needs_iam = any(t.startswith("AWS::IAM::") for t in types)
        if needs_iam and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(given):
            raise ServiceError(
                "InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]"
            )

    @staticmethod
    def _parameters(template: dict[str, Any], given: list[dict[str, Any]]) -> dict[str, Any]:
        values = {p["ParameterKey"]: p.get("ParameterValue") for p in given}
        try:
            return cfn.resolve_parameters(template.get("Parameters") or {}, values)
        except cfn.ParameterError as exc:
            raise _validation(str(exc)) from None

    # -- change sets --------------------------------------------------------------------
    @operation("CreateChangeSet")
    def create_change_set(self, params: Params, call: Call) -> Result:
        name = params["StackName"]
        kind = params.get("ChangeSetType", "UPDATE")
        text, template = self._template(params)
        self._check_capabilities(template, params.get("Capabilities", []))
        parameters = self._parameters(template, params.get("Parameters", []))
        stack = self.engine.find(name)
        if kind == "CREATE":
            if stack is not None and stack.status != "REVIEW_IN_PROGRESS":
                raise ServiceError("AlreadyExistsException", f"Stack [{name}] already exists")
            if stack is None:
                stack = self.engine.new_stack(name)
                self.engine.stack_status(stack, "REVIEW_IN_PROGRESS", "User Initiated")
        elif kind == "UPDATE":
            if stack is None:
                raise _validation(f"Stack [{name}] does not exist")
            if stack.status == "REVIEW_IN_PROGRESS":
                raise _validation(
                    f"Stack [{name}] does not exist"  # no resources yet: CREATE is needed
                )
        else:
            raise _validation(f"the emulated CloudFormation does not serve {kind} change sets")
        change_set_name = params["ChangeSetName"]
        if any(c.name == change_set_name for c in stack.change_sets.values()):
            raise ServiceError(
                "AlreadyExistsException", f"ChangeSet {change_set_name} already exists"
            )
        self._change_sets += 1
        seed = f"{stack.id}/{change_set_name}/{self._change_sets}"
        change_set_id = self.engine.emulator_arn(f"changeSet/{change_set_name}/{_uuid(seed)}")
        change_set = ChangeSet(
            id=change_set_id,
            name=change_set_name,
            stack=stack,
            kind=kind,
            text=text,
            template=template,
            parameters=parameters,
            created=self.emulator.now(),
            description=params.get("Description", ""),
        )
        stack.change_sets[change_set_id] = change_set
        stack.capabilities = list(params.get("Capabilities", []))
        self.emulator.clock.spawn(f"change set {change_set_name}", self.engine.compute(change_set))
        return {"Id": change_set_id, "StackId": stack.id}

    @operation("DescribeChangeSet")
    def describe_change_set(self, params: Params, call: Call) -> Result:
        change_set = self._change_set(params)
        stack = change_set.stack
        start = int(params.get("NextToken") or 0)
        page = change_set.changes[start : start + _PAGE]
        result: Result = {
            "ChangeSetName": change_set.name,
            "ChangeSetId": change_set.id,
            "StackId": stack.id,
            "StackName": stack.name,
            "CreationTime": change_set.created,
            "ExecutionStatus": change_set.execution_status,
            "Status": change_set.status,
            "Changes": page,
            "Capabilities": list(stack.capabilities),
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": cfn.held(v)}
                for k, v in change_set.parameters.items()
            ],
        }
        if change_set.description:
            result["Description"] = change_set.description
        if change_set.reason:
            result["StatusReason"] = change_set.reason
        if start + _PAGE < len(change_set.changes):
            result["NextToken"] = str(start + _PAGE)
        return result

    @operation("ListChangeSets")
    def list_change_sets(self, params: Params, call: Call) -> Result:
        stack = self._stack(params["StackName"])
        return {
            "Summaries": [
                {
                    "StackId": stack.id,
                    "StackName": stack.name,
                    "ChangeSetId": c.id,
                    "ChangeSetName": c.name,
                    "ExecutionStatus": c.execution_status,
                    "Status": c.status,
                    "CreationTime": c.created,
                }
                for c in stack.change_sets.values()
            ]
        }

    @operation("ExecuteChangeSet")
    def execute_change_set(self, params: Params, call: Call) -> Result:
        change_set = self._change_set(params)
        stack = change_set.stack
        if change_set.execution_status != "AVAILABLE":
            raise ServiceError(
                "InvalidChangeSetStatus",
                f"ChangeSet [{change_set.id}] cannot be executed in its current status of "
                f"[{change_set.status}]",
            )
        if stack.busy:
            raise _validation(
                f"Stack:{stack.id} is in {stack.status} state and can not be updated."
            )
        if change_set.kind == "UPDATE" and stack.status not in _UPDATABLE:
            raise _validation(
                f"Stack:{stack.id} is in {stack.status} state and can not be updated."
            )
        change_set.execution_status = "EXECUTE_IN_PROGRESS"
        stack.last_change_set = change_set.id
        if change_set.kind == "UPDATE":
            stack.updated = self.emulator.now()
        # Executing a change set deletes the stack's other change sets (CloudFormation
        # User Guide, "Execute a change set").
        for other in list(stack.change_sets):
            if other != change_set.id:
                del stack.change_sets[other]
        self.engine.run(
            stack,
            change_set.kind,
            change_set.text,
            change_set.template,
            change_set.parameters,
            call.principal,
        )

        def finished() -> Any:
            from bluegreen.emulator.clock import Until

            yield Until(lambda: not stack.busy)
            change_set.execution_status = (
                "EXECUTE_COMPLETE"
                if stack.status in ("CREATE_COMPLETE", "UPDATE_COMPLETE")
                else "EXECUTE_FAILED"
            )
            stack.change_sets.pop(change_set.id, None)

        self.emulator.clock.spawn(f"change set {change_set.name} execution", finished())
        return {}

    @operation("DeleteChangeSet")
    def delete_change_set(self, params: Params, call: Call) -> Result:
        change_set = self._change_set(params)
        if change_set.execution_status == "EXECUTE_IN_PROGRESS":
            raise ServiceError(
                "InvalidChangeSetStatus",
                f"Cannot delete ChangeSet in status {change_set.execution_status}",
            )
        change_set.stack.change_sets.pop(change_set.id, None)
        return {}

    # -- stacks -------------------------------------------------------------------------
    @operation("CreateStack")
    def create_stack(self, params: Params, call: Call) -> Result:
        name = params["StackName"]
        text, template = self._template(params)
        self._check_capabilities(template, params.get("Capabilities", []))
        parameters = self._parameters(template, params.get("Parameters", []))
        if self.engine.find(name) is not None:
            raise ServiceError("AlreadyExistsException", f"Stack [{name}] already exists")
        stack = self.engine.new_stack(name)
        stack.capabilities = list(params.get("Capabilities", []))
        self.engine.run(stack, "CREATE", text, template, parameters, call.principal)
        return {"StackId": stack.id}

    @operation("UpdateStack")
    def update_stack(self, params: Params, call: Call) -> Result:
        stack = self._stack(params["StackName"])
        text, template = self._template(params)
        self._check_capabilities(template, params.get("Capabilities", []))
        parameters = self._parameters(template, params.get("Parameters", []))
        if stack.busy or stack.status not in _UPDATABLE:
            raise _validation(
                f"Stack:{stack.id} is in {stack.status} state and can not be updated."
            )
        if text == stack.text and parameters == stack.parameters:
            raise _validation("No updates are to be performed.")
        stack.updated = self.emulator.now()
        self.engine.run(stack, "UPDATE", text, template, parameters, call.principal)
        return {"StackId": stack.id}

    @operation("DeleteStack")
    def delete_stack(self, params: Params, call: Call) -> Result:
        stack = self.engine.find(params["StackName"], deleted=True)
        if stack is None or stack.deleted is not None:
            return {}  # deleting a stack that is gone succeeds (API reference)
        if stack.busy:
            if stack.status == "DELETE_IN_PROGRESS":
                return {}
            raise _validation(
                f"Stack [{stack.name}] cannot be deleted while in status {stack.status}"
            )
        self.engine.delete(stack, call.principal, params.get("RetainResources", []))
        return {}

    @operation("DescribeStacks")
    def describe_stacks(self, params: Params, call: Call) -> Result:
        name = params.get("StackName")
        if name:
            stacks = [self._stack(name, deleted=True)]
            if stacks[0].deleted is not None and stacks[0].id != name:
                raise _validation(f"Stack with id {name} does not exist")
        else:
            stacks = self.engine.live()
        return {"Stacks": [self._describe(s) for s in stacks]}

    def _describe(self, stack: Stack) -> Result:
        described: Result = {
            "StackId": stack.id,
            "StackName": stack.name,
            "CreationTime": stack.created,
            "StackStatus": stack.status,
            "DisableRollback": False,
            "NotificationARNs": [],
            "Capabilities": list(stack.capabilities),
            "Outputs": [dict(o) for o in stack.outputs],
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": cfn.held(v)}
                for k, v in stack.parameters.items()
            ],
            "Tags": [],
            "EnableTerminationProtection": False,
        }
        if stack.description:
            described["Description"] = stack.description
        if stack.reason:
            described["StackStatusReason"] = stack.reason
        if stack.updated:
            described["LastUpdatedTime"] = stack.updated
        if stack.deleted:
            described["DeletionTime"] = stack.deleted
        if stack.last_change_set:
            described["ChangeSetId"] = stack.last_change_set
        return described

    @operation("ListStacks")
    def list_stacks(self, params: Params, call: Call) -> Result:
        wanted = set(params.get("StackStatusFilter") or [])
        return {
            "StackSummaries": [
                {
                    "StackId": s.id,
                    "StackName": s.name,
                    "CreationTime": s.created,
                    "StackStatus": s.status,
                    **({"DeletionTime": s.deleted} if s.deleted else {}),
                    **({"LastUpdatedTime": s.updated} if s.updated else {}),
                }
                for s in reversed(self.engine.stacks)
                if not wanted or s.status in wanted
            ]
        }

    @operation("DescribeStackEvents")
    def describe_stack_events(self, params: Params, call: Call) -> Result:
        stack = self._stack(params["StackName"], deleted=True)
        newest_first = [e.to_api() for e in reversed(stack.events)]
        start = int(params.get("NextToken") or 0)
        result: Result = {"StackEvents": newest_first[start : start + _PAGE]}
        if start + _PAGE < len(newest_first):
            result["NextToken"] = str(start + _PAGE)
        return result

    def _summaries(self, stack: Stack) -> list[Result]:
        return [
            {
                "LogicalResourceId": r.logical_id,
                "PhysicalResourceId": "" if r.ref is None else str(r.ref),
                "ResourceType": r.type,
                "LastUpdatedTimestamp": r.updated or stack.created,
                "ResourceStatus": r.status,
                **({"ResourceStatusReason": r.reason} if r.reason else {}),
            }
            for r in stack.resources.values()
            if r.status
        ]

    @operation("ListStackResources")
    def list_stack_resources(self, params: Params, call: Call) -> Result:
        stack = self._stack(params["StackName"], deleted=True)
        return {"StackResourceSummaries": self._summaries(stack)}

    @operation("DescribeStackResources")
    def describe_stack_resources(self, params: Params, call: Call) -> Result:
        stack = self._stack(params["StackName"], deleted=True)
        wanted = params.get("LogicalResourceId")
        return {
            "StackResources": [
                {
                    "StackName": stack.name,
                    "StackId": stack.id,
                    "Timestamp": r["LastUpdatedTimestamp"],
                    **{k: v for k, v in r.items() if k != "LastUpdatedTimestamp"},
                }
                for r in self._summaries(stack)
                if wanted is None or r["LogicalResourceId"] == wanted
            ]
        }

    @operation("DescribeStackResource")
    def describe_stack_resource(self, params: Params, call: Call) -> Result:
        stack = self._stack(params["StackName"], deleted=True)
        for r in self._summaries(stack):
            if r["LogicalResourceId"] == params["LogicalResourceId"]:
                return {
                    "StackResourceDetail": {
                        "StackName": stack.name,
                        "StackId": stack.id,
                        **r,
                    }
                }
        raise _validation(
            f"Resource {params['LogicalResourceId']} does not exist for stack {stack.name}"
        )

    @operation("GetTemplate")
    def get_template(self, params: Params, call: Call) -> Result:
        if params.get("ChangeSetName"):
            change_set = self._change_set(params)
            return {"TemplateBody": change_set.text, "StagesAvailable": ["Original", "Processed"]}
        stack = self._stack(params["StackName"], deleted=True)
        return {"TemplateBody": stack.text, "StagesAvailable": ["Original", "Processed"]}

    @operation("ListExports")
    def list_exports(self, params: Params, call: Call) -> Result:
        return {
            "Exports": [
                {"ExportingStackId": stack.id, "Name": name, "Value": value}
                for name, (stack, value) in sorted(self.engine.exports().items())
            ]
        }

    @operation("ListImports")
    def list_imports(self, params: Params, call: Call) -> Result:
        name = params["ExportName"]
        if name not in self.engine.exports():
            raise _validation(f"Export '{name}' does not exist.")
        return {"Imports": self.engine.importers(name)}

    @operation("ValidateTemplate")
    def validate_template(self, params: Params, call: Call) -> Result:
        _, template = self._template(params)
        types = {str(b.get("Type", "")) for b in template.get("Resources", {}).values()}
        result: Result = {
            "Parameters": [
                {
                    "ParameterKey": k,
                    "NoEcho": bool(v.get("NoEcho", False)),
                    **({"DefaultValue": cfn.held(v["Default"])} if "Default" in v else {}),
                    **({"Description": v["Description"]} if "Description" in v else {}),
                }
                for k, v in (template.get("Parameters") or {}).items()
            ]
        }
        if template.get("Description"):
            result["Description"] = template["Description"]
        if any(t.startswith("AWS::IAM::") for t in types):
            result["Capabilities"] = ["CAPABILITY_IAM"]
            result["CapabilitiesReason"] = "The following resource(s) require capabilities: " + (
                "[" + ", ".join(sorted(t for t in types if t.startswith("AWS::IAM::"))) + "]"
            )
        return result


def _uuid(seed: str) -> str:
    import uuid

    return str(uuid.UUID(hashlib.sha256(seed.encode()).hexdigest()[:32]))
