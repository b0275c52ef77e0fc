"""F6 of issue 11: a failed build's reason is one line, not the failed script.

CodeBuild names a failed command in its phase context as written in the buildspec,
"Error while executing command: <command>. Reason: exit status <N>"
(awslabs/aws-deployment-framework#471), and CodePipeline's action error repeats it: for
the ECS engine's deploy step, whose follow-up is a 26-line `- |` block, the whole script.
"""

from __future__ import annotations

import yaml

from bluegreen.aws.builds import is_script_error, one_line
from bluegreen.stacks.pipeline import deploy_buildspec


def _action_error(command: str) -> str:
    """CodePipeline's error for the failed CodeBuild action (as the emulator makes it)."""
    return (
        "Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR, "
        f"Message: Error while executing command: {command}. Reason: exit status 1"
    )


def test_the_deploy_step_s_script_becomes_its_first_line_and_the_build_s_last_output() -> None:
    commands = yaml.safe_load(deploy_buildspec())["phases"]["build"]["commands"]
    script = commands[-1]
    assert script.count("\n") > 20
    message = _action_error(script)
    assert is_script_error(message)
    line = one_line(
        message, "the deployment did not succeed (ROLLBACK_SUCCESSFUL); production stays on"
    )
    assert "\n" not in line and "describe-service-deployments" not in line
    assert line == (
        "Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR, "
        'Message: `DEPLOYMENT="" … (26-line script)` failed: exit status 1; last output: '
        "the deployment did not succeed (ROLLBACK_SUCCESSFUL); production stays on"
    )


def test_a_one_line_command_stays_whole_and_other_messages_lose_only_line_breaks() -> None:
    message = _action_error("docker build --file webapp/Dockerfile webapp")
    assert not is_script_error(message)  # status leaves CodeBuild's text as it is
    assert one_line(message) == (
        "Build terminated with state: FAILED. Phase: BUILD, Code: COMMAND_EXECUTION_ERROR, "
        "Message: `docker build --file webapp/Dockerfile webapp` failed: exit status 1"
    )
    assert not is_script_error("Build terminated with state: FAILED")
    assert one_line("Build has timed out.\n  ") == "Build has timed out."
    # a long output line is cut, and says so
    assert one_line(message, "x" * 500).endswith("x…")
