"""How the lakehouse is run: the command line, the local pipeline and the AWS app.

Three rooms: :mod:`infra.cli` (the typer app and thin commands), :mod:`infra.local` (the
pipeline on one machine) and :mod:`infra.cdk` (the AWS stack). Beside them, the deployed
defaults (:mod:`~infra.stack_settings`), the cost model (:mod:`~infra.cost`) and packaging
(:mod:`~infra.package`, :mod:`~infra.glue_deps`). The dependency rule, enforced by
import-linter: ``cli -> local, cdk``; nothing imports ``cli``; ``infra`` builds on views,
glue and ingest, which build on expectations and catalog.
"""
