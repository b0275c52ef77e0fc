"""bluegreen: an ECS Fargate blue/green CI/CD system from one config file.

Public surface: :mod:`bluegreen.config` (load the config), :mod:`bluegreen.names`
(derived resource names), :mod:`bluegreen.stacks` (CloudFormation templates),
:mod:`bluegreen.appkit` (application repository files), :mod:`bluegreen.errors`.
"""

__version__ = "0.1.0"
