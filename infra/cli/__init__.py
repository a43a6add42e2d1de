"""The ``spotify-lakehouse`` command line: the typer app and one module per command area.

:mod:`~infra.cli.main` (the entry point: exit codes, lazy command import),
:mod:`~infra.cli.app` (the app and the options commands share), :mod:`~infra.cli.output`
(tables, JSON, CSV) and :mod:`infra.cli.commands`. Commands stay thin: the work lives in
:mod:`infra.local`, :mod:`views` and :mod:`catalog`. Nothing imports this room.
"""
