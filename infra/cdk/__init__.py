"""The AWS CDK app (``python -m infra.cdk.app``): one stack that deploys the lakehouse.

Only this package imports ``aws_cdk`` (it starts Node through jsii); nothing outside
``infra/cdk`` and ``tests/infra`` imports it, so the CLI stays fast and Node-free.
"""
