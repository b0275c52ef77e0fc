"""``bluegreen finish``: remove the old (blue) tasks now instead of waiting."""

from __future__ import annotations

from bluegreen import engine
from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import ConfigOpt, OutputFormat, OutputOpt, ProfileOpt, RegionOpt, out


@app.command()
def finish(
    config: ConfigOpt = None,
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """End the termination wait: terminate the original task set now.

    Refuses (exit 1) unless the deployment has shifted production and keeps the old tasks
    for a quick rollback. After this, rollback is no longer possible. With --output json:
    the action, the deployment and the message as one document.
    """
    cfg, _ = common.load_config(config)
    result = engine.select(common.make_clients(cfg, profile, region), cfg).finish()
    if output == OutputFormat.json:
        common.emit_result(result.to_dict())
    else:
        out.print(result.message, markup=False)
