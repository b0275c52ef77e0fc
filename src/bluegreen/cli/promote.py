"""``bluegreen promote``: reroute production to green now (the console's "Reroute traffic")."""

from __future__ import annotations

from bluegreen import engine
from bluegreen.cli import common
from bluegreen.cli.app import app
from bluegreen.cli.common import ConfigOpt, OutputFormat, OutputOpt, ProfileOpt, RegionOpt, out


@app.command()
def promote(
    config: ConfigOpt = None,
    output: OutputOpt = OutputFormat.text,
    profile: ProfileOpt = None,
    region: RegionOpt = None,
) -> None:
    """Shift production traffic to the green task set of the deployment waiting for reroute.

    Refuses (exit 1) unless a deployment is waiting for reroute. With --output json: the
    action, the deployment and the message as one document.
    """
    cfg, _ = common.load_config(config)
    result = engine.select(common.make_clients(cfg, profile, region), cfg).promote()
    if output == OutputFormat.json:
        common.emit_result(result.to_dict())
    else:
        out.print(result.message, markup=False)
