"""The three CloudFormation stacks, built from the config as troposphere Templates.

Pure functions of the config: no I/O, no AWS calls, deterministic output (same config,
byte-identical YAML). Deploy order is source -> service -> pipeline: each later stack
reads the earlier stacks' exported outputs with Fn::ImportValue, so the stacks need no
parameters and the templates carry no account id or region.

    stacks = build(config)
    for stack in stacks:
        path.write_text(stack.to_yaml())
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from troposphere import Template

from bluegreen.config import Config
from bluegreen.names import Names
from bluegreen.stacks.pipeline import build_pipeline
from bluegreen.stacks.service import build_service
from bluegreen.stacks.source import build_source

__all__ = ["Stack", "build"]

TEMPLATE_FORMAT_VERSION = "2010-09-09"


@dataclass(frozen=True)
class Stack:
    """One stack: its key, CloudFormation stack name, template file name and template."""

    key: str
    name: str
    filename: str
    template: Template

    def to_yaml(self) -> str:
        """The template as plain YAML, deterministic for a given config.

        Long-form intrinsic functions (``Fn::GetAtt:`` rather than ``!GetAtt``) so any
        YAML parser (``yaml.safe_load``) reads the file; keys are sorted.
        """
        return str(self.template.to_yaml(long_form=True, sort_keys=True))

    @property
    def resource_count(self) -> int:
        return len(self.template.resources)

    @property
    def capabilities(self) -> list[str]:
        """CAPABILITY_IAM when the stack creates IAM resources (all unnamed)."""
        types = {getattr(r, "resource_type", "") for r in self.template.resources.values()}
        return ["CAPABILITY_IAM"] if any(t.startswith("AWS::IAM::") for t in types) else []


_PARTS: tuple[tuple[str, str, Callable[[Config], Template]], ...] = (
    ("source", "1-source.yaml", build_source),
    ("service", "2-service.yaml", build_service),
    ("pipeline", "3-pipeline.yaml", build_pipeline),
)


def build(config: Config) -> list[Stack]:
    """All stacks for ``config``, in deploy order (source, service, pipeline)."""
    names = Names.of(config)
    stack_names = dict(zip(("source", "service", "pipeline"), names.stacks, strict=True))
    stacks = []
    for key, filename, builder in _PARTS:
        template = builder(config)
        template.set_version(TEMPLATE_FORMAT_VERSION)
        stacks.append(Stack(key, stack_names[key], filename, template))
    return stacks
