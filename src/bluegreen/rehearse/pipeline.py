"""The pipeline as the emulator holds it: stages and actions read back with get_pipeline.

The rehearsal runs what the *provisioned* pipeline says (which builds, which artifacts,
which placeholders the deploy action fills), never a second description of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from bluegreen.aws.session import Clients
from bluegreen.errors import RehearsalError


@dataclass(frozen=True)
class Action:
    stage: str
    name: str
    category: str
    provider: str
    configuration: dict[str, str]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    run_order: int

    def setting(self, key: str) -> str:
        value = self.configuration.get(key)
        if not value:
            raise RehearsalError(
                f"pipeline action {self.stage}/{self.name} ({self.provider}) has no {key}"
            )
        return value

    def environment(self) -> dict[str, str]:
        """The action's EnvironmentVariables (CodeBuild actions), as name -> value."""
        raw = self.configuration.get("EnvironmentVariables")
        if not raw:
            return {}
        return {str(item["name"]): str(item["value"]) for item in json.loads(raw)}


@dataclass(frozen=True)
class Pipeline:
    name: str
    stages: tuple[tuple[str, tuple[Action, ...]], ...]

    def actions(self, category: str) -> list[Action]:
        return [a for _, actions in self.stages for a in actions if a.category == category]

    def one(self, category: str, provider: str) -> Action:
        found = [a for a in self.actions(category) if a.provider == provider]
        if len(found) != 1:
            raise RehearsalError(
                f"the rehearsal plays a pipeline with exactly one {category} action of "
                f"provider {provider}; {self.name} has {len(found)}"
            )
        return found[0]


def read(clients: Clients, name: str) -> Pipeline:
    """The pipeline ``name`` as stored in the emulator."""
    data = clients.codepipeline.get_pipeline(name=name)["pipeline"]
    stages = []
    for stage in data.get("stages", []):
        actions = tuple(
            Action(
                stage=stage["name"],
                name=action["name"],
                category=action["actionTypeId"]["category"],
                provider=action["actionTypeId"]["provider"],
                configuration=dict(action.get("configuration", {})),
                inputs=tuple(a["name"] for a in action.get("inputArtifacts", [])),
                outputs=tuple(a["name"] for a in action.get("outputArtifacts", [])),
                run_order=int(action.get("runOrder", 1)),
            )
            for action in stage.get("actions", [])
        )
        stages.append((stage["name"], actions))
    return Pipeline(data["name"], tuple(stages))


@dataclass
class Artifacts:
    """Pipeline artifacts of one execution: artifact name -> {path: text}."""

    files: dict[str, dict[str, str]] = field(default_factory=dict)
    sources: dict[str, Callable[[str], str | None]] = field(default_factory=dict)

    def get(self, artifact: str, path: str, who: str) -> str:
        if artifact in self.sources:
            found = self.sources[artifact](path)
            if found is None:
                raise RehearsalError(
                    f"{who}: {path} is not in the source commit (artifact {artifact})",
                    hint=f"commit {path} to the repository",
                )
            return found
        if artifact not in self.files:
            raise RehearsalError(f"{who}: input artifact {artifact} was not produced")
        text = self.files[artifact].get(path)
        if text is None:
            listed = ", ".join(sorted(self.files[artifact])) or "nothing"
            raise RehearsalError(
                f"{who}: {path} is not in artifact {artifact} (it holds: {listed})",
                hint="list the file under artifacts.files in the buildspec that produces "
                "the artifact, or point the deploy action at the artifact that has it",
            )
        return text
