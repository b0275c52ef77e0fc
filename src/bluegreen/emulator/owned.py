"""A service bluegreen serves entirely, with nothing of it left to moto.

When bluegreen keeps a service's state itself (CodeCommit's repositories, CodePipeline's
pipelines and executions, CodeBuild's projects and builds), an operation it does not
serve must not fall through to moto: moto's own records of that service know nothing of
bluegreen's and would answer as if the resources did not exist. Such an operation is
refused the way AWS answers an operation it does not know, naming it.
"""

from __future__ import annotations

from bluegreen.emulator.service import Call, Params, Result, Service, ServiceError


class OwnedService(Service):
    """Serves every operation of its API: its own, or an AWS-style refusal."""

    def serves(self, operation_name: str) -> bool:
        return True

    def handle(self, operation_name: str, params: Params, call: Call) -> Result:
        if operation_name not in self._operations:
            # What AWS answers for an action it does not know (JSON protocol):
            # UnknownOperationException; AWS General Reference, "Common errors".
            raise ServiceError(
                "UnknownOperationException",
                f"The emulated AWS does not serve {self.name}:{operation_name}",
            )
        return super().handle(operation_name, params, call)
