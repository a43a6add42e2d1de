"""CLI commands, one module per area; each registers its commands on ``infra.cli.app.app``."""
