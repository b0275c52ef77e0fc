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
from typing import Any

HookEvent = dict[str, str]
"""The invocation event: ``DeploymentId`` and ``LifecycleEventHookExecutionId`` (the
sample hook function of the AppSpec hooks reference reads exactly these)."""

HookCode = Callable[[HookEvent, Any], None]
"""A hook function's code: ``(event, clients of the function's role) -> None``."""

PLAYS = ("succeed", "fail", "timeout")
"""How a declared hook of unknown code is played."""

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
