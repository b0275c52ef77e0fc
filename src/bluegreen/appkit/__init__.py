"""The application repository: its files as a function of the config, and their checks.

Public surface (others depend on it; see docs/CONTRACTS.md):

- :func:`render` ``(config) -> {path: text}``: every file ``bluegreen init`` writes.
- :func:`render_config` ``(config) -> str``: a bluegreen.toml documenting every key.
- :func:`render_taskdef` ``(text, env) -> str``: the app build's filling-in of the
  stack-derived placeholders in taskdef.json (the rehearsal uses it too).
- :func:`check` ``(repo_dir, config) -> [problem]``: what is wrong with a repository.
- :func:`hook_problems` ``(repo_dir, config) -> [problem]``: [verify] checks its
  appspec.yml would never run (deploy refuses them on every run).
- :func:`init` ``(target, config=None, force=False) -> [Path]``: write the scaffold.

Everything here is pure except :func:`init` (writes files) and :func:`check` (reads
them); nothing touches AWS.
"""

from __future__ import annotations

from bluegreen.appkit._check import check, hook_problems
from bluegreen.appkit._render import (
    DEFAULT_CAPABILITIES,
    FIRELENS_CONFIG_PATH,
    FLUENT_BIT_IMAGE,
    FLUENT_BIT_VERSION,
    PYTHON_IMAGE,
    ROUTER_MEMORY_RESERVATION,
    RepositoryPaths,
    app_dropped_capabilities,
    app_log_stream_prefix,
    health_log_regex,
    memory_reservations,
    render,
    render_config,
    router_log_stream_prefix,
)
from bluegreen.appkit._scaffold import init, restore, symbolic_links
from bluegreen.appkit._taskdef import SUBSTITUTIONS, render_taskdef

__all__ = [
    "DEFAULT_CAPABILITIES",
    "FIRELENS_CONFIG_PATH",
    "FLUENT_BIT_IMAGE",
    "FLUENT_BIT_VERSION",
    "PYTHON_IMAGE",
    "ROUTER_MEMORY_RESERVATION",
    "SUBSTITUTIONS",
    "RepositoryPaths",
    "app_dropped_capabilities",
    "app_log_stream_prefix",
    "check",
    "health_log_regex",
    "hook_problems",
    "init",
    "memory_reservations",
    "render",
    "render_config",
    "render_taskdef",
    "restore",
    "router_log_stream_prefix",
    "symbolic_links",
]
