"""AppSpec lifecycle hooks: Lambda functions the emulated CodeDeploy invokes, played in
process.

An ECS deployment's AppSpec names a Lambda function per hook (BeforeInstall, AfterInstall,
AfterAllowTestTraffic, BeforeAllowTraffic, AfterAllowTraffic). CodeDeploy invokes it as its
service role with an event carrying the deployment id and a lifecycle event hook execution
id; the function reports the hook's result with PutLifecycleEventHookExecutionStatus
(``Succeeded`` or ``Failed``), and "the deployment is considered to have failed if
CodeDeploy is not notified by the Lambda validation function within one hour" (CodeDeploy
User Guide, "AppSpec 'hooks' section for an Amazon ECS deployment").

The emulator cannot run a function's code (no container engine; moto's Invoke needs
Docker), so a hook plays one of:

- code registered here (:func:`register`), keyed by the function's name or its
  ``CodeSha256``: a Python callable taking the invocation event and the
  :class:`~bluegreen.aws.session.Clients` of the function's execution role (its calls are
  evaluated against that role's policies, as on AWS); it reports with
  ``clients.codedeploy.put_lifecycle_event_hook_execution_status(...)`` like the real
  function. bluegreen's own hooks (issue 11's test-traffic check) register here;
- a play the user declares for a function of unknown code (:data:`PLAYS`), which reports
  ``Succeeded`` or ``Failed`` through the same API as the function's role, or never reports
  (``timeout``: the event fails after the hour);
- otherwise the hook fails the deployment: "the emulator cannot run Lambda function X's
  code".
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from bluegreen.config import HOOK_PLAYS

if TYPE_CHECKING:
    from bluegreen.emulator.core import Emulator

HookEvent = dict[str, str]
"""The invocation event: ``DeploymentId`` and ``LifecycleEventHookExecutionId`` (the
sample hook function of the AppSpec hooks reference reads exactly these)."""

HookCode = Callable[[HookEvent, Any], None]
"""A hook function's code: ``(event, clients of the function's role) -> None``."""

PLAYS = HOOK_PLAYS
"""How a declared hook of unknown code is played (the config's ``[rehearse.hooks]``)."""

_REGISTRY: dict[str, HookCode] = {}


def register(key: str, code: HookCode) -> None:
    """Run ``code`` for the Lambda function named ``key`` (or whose CodeSha256 is ``key``)."""
    _REGISTRY[key] = code


def unregister(key: str) -> None:
    _REGISTRY.pop(key, None)


def code_for(name: str, code_sha256: str) -> HookCode | None:
    """The registered code of a function: by its CodeSha256 first (the code itself), then
    by its name."""
    return _REGISTRY.get(code_sha256) or _REGISTRY.get(name)


def declared(play: str) -> HookCode:
    """The code a declared play stands for."""
    if play not in PLAYS:
        raise ValueError(f"a hook is played as one of {', '.join(PLAYS)}, not {play!r}")

    def run(event: HookEvent, clients: Any) -> None:
        if play == "timeout":
            return  # never reports: CodeDeploy fails the event after an hour
        clients.codedeploy.put_lifecycle_event_hook_execution_status(
            deploymentId=event["DeploymentId"],
            lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
            status="Succeeded" if play == "succeed" else "Failed",
        )

    return run


def check_plays(plays: dict[str, str]) -> dict[str, str]:
    """Validate a ``function name -> play`` mapping (the config's ``[rehearse.hooks]``)."""
    for name, play in plays.items():
        if play not in PLAYS:
            raise ValueError(f"hook {name} is played as {play!r}; choose one of {', '.join(PLAYS)}")
    return dict(plays)


def provide(emulator: Emulator, name: str) -> bool:
    """Make sure the emulated account holds the Lambda function ``name`` of a declared play.

    A hook of the user's own is a function created outside bluegreen's stacks, which the
    emulated account does not hold; a declared play stands for it, so the rehearsal
    creates it (if missing) with an execution role that Lambda may assume and that may
    report hook results (PutLifecycleEventHookExecutionStatus, the permission the
    AppSpec hooks reference's sample function needs). Everything else is checked as on
    AWS: CodeDeploy's service role must be allowed to invoke it (the limited managed
    policy allows only ``CodeDeployHook_*`` functions). Returns whether it was created.
    """
    import io
    import json
    import zipfile

    from botocore.exceptions import ClientError

    awslambda = emulator.client("lambda")
    try:
        awslambda.get_function(FunctionName=name)
        return False
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
    iam = emulator.client("iam")
    role = f"bluegreen-rehearse-{name}"[:64]
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    report = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "codedeploy:PutLifecycleEventHookExecutionStatus",
                "Resource": "*",
            }
        ],
    }
    arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="report", PolicyDocument=json.dumps(report))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", f"# stands for {name} in the rehearsal\n")
    awslambda.create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=arn,
        Handler="index.handler",
        Code={"ZipFile": buffer.getvalue()},
    )
    return True
