"""CDK entry point: ``python -m infra.cdk.app [-c key=value ...] [--outdir cdk.out]``.

Synthesizes the stack with cdk-nag's AwsSolutions pack as a CDK validation plugin: any
finding not acknowledged in :mod:`infra.cdk.nag` makes the synth fail (the full report is
written to ``<outdir>/validation-report.json``), and so does any other error annotation.
``cdk.json`` points the npm CLI here, so ``npx aws-cdk@2.1148.1 diff`` synthesizes the same
way; ``make synth`` runs this module directly (no npm, offline).

Context (``-c key=value``, or the CLI's ``--context``) overrides the settings listed in
:data:`infra.stack_settings.CONTEXT_KEYS`; ``lambdaZip``, ``glueScript`` and ``gluePyFiles``
and ``gluePythonDeps``
override the artifact paths (default: what ``make package`` writes to ``dist/``).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import aws_cdk as cdk
import cdk_nag
from aws_cdk import cx_api

from infra import package
from infra.cdk.assets import StackAssets
from infra.cdk.nag import suppress_reviewed_findings
from infra.cdk.stack import LakehouseStack
from infra.stack_settings import CONTEXT_KEYS, StackSettings

#: CDK feature flags this app relies on. Server access logs are delivered under a bucket
#: policy (the current AWS recommendation) rather than the LogDeliveryWrite ACL, which
#: would clash with the buckets' BucketOwnerEnforced object ownership.
FEATURE_FLAGS: dict[str, object] = {"@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy": True}


def build_app(
    context: dict[str, str] | None = None,
    outdir: str | None = None,
    assets: StackAssets | None = None,
) -> tuple[cdk.App, LakehouseStack]:
    """The app with its one stack, cdk-nag attached and the reviewed findings suppressed."""
    app = cdk.App(outdir=outdir, context={**FEATURE_FLAGS, **(context or {})})
    values = {key: app.node.try_get_context(key) for key in CONTEXT_KEYS.values()}
    settings = StackSettings.from_context(values)
    if assets is None:
        assets = StackAssets(
            lambda_zip=Path(app.node.try_get_context("lambdaZip") or package.LAMBDA_ZIP),
            glue_script=Path(app.node.try_get_context("glueScript") or package.GLUE_SCRIPT),
            glue_py_files=Path(app.node.try_get_context("gluePyFiles") or package.GLUE_PY_FILES),
            glue_python_deps=Path(
                app.node.try_get_context("gluePythonDeps") or package.GLUE_PYTHON_DEPS
            ),
        )
    stack = LakehouseStack(app, settings.stack_name, settings=settings, assets=assets)
    suppress_reviewed_findings(stack)
    cdk.Validations.of(app).add_plugins(cdk_nag.AwsSolutionsChecks(app, verbose=True))
    return app, stack


def error_messages(assembly: cx_api.CloudAssembly) -> list[str]:
    """Error annotations (unsuppressed cdk-nag findings among them) of every stack."""
    errors: list[str] = []
    for stack in assembly.stacks:
        for message in stack.messages:
            if message.level == cx_api.SynthesisMessageLevel.ERROR:
                errors.append(f"{message.id}: {message.entry.data}")
    return errors


def _parse_context(pairs: list[str]) -> dict[str, str]:
    context: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise SystemExit(f"-c expects key=value, got {pair!r}")
        context[key.strip()] = value.strip()
    return context


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="infra.cdk.app", description=__doc__.split("\n")[0])
    parser.add_argument("-c", "--context", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--outdir", default=None, help="default: $CDK_OUTDIR or cdk.out")
    args = parser.parse_args(argv)
    # The npm CLI passes its output directory (and context) through the environment.
    outdir = args.outdir or os.environ.get("CDK_OUTDIR") or "cdk.out"
    try:
        app, _ = build_app(_parse_context(args.context), outdir)
    except (FileNotFoundError, ValueError) as e:
        print(f"synth: {e}", file=sys.stderr)
        return 1
    try:
        assembly = app.synth()
    except RuntimeError as e:  # jsii's wrapper of ValidationFailed (cdk-nag findings)
        print(f"synth: {str(e).splitlines()[0]}", file=sys.stderr)
        return 1
    errors = error_messages(assembly)
    for error in errors:
        print(f"synth: ERROR {error}", file=sys.stderr)
    if errors:
        print(f"synth: {len(errors)} error annotation(s)", file=sys.stderr)
        return 1
    for stack in assembly.stacks:
        print(f"synth: {stack.stack_name} -> {assembly.directory}/{stack.template_file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
