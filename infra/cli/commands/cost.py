"""``spotify-lakehouse cost``: the monthly bill of the deployed defaults, priced offline."""

from __future__ import annotations

from typing import Annotated

import typer

from infra.cli.app import FormatOption, app
from infra.cli.output import OutputFormat, console, render, result_console

#: The two sizes the README compares: the original project's roster and a large one.
DEFAULT_ARTIST_COUNTS = (20, 10_000)


@app.command()
def cost(
    artists: Annotated[
        list[int] | None,
        typer.Option("--artists", min=1, help="Roster size to price (repeat for several)"),
    ] = None,
    flex: Annotated[
        bool | None,
        typer.Option("--flex/--standard", help="Glue execution class \\[default: the stack's]"),
    ] = None,
    fmt: FormatOption = OutputFormat.table,
) -> None:
    """Estimate the monthly AWS bill of the stack's defaults (infra/stack_settings.py)."""
    from infra.cost import (
        BACKFILL_DAYS,
        PRICES_AS_OF,
        PRICES_REGION,
        backfill,
        estimate,
        glue_billed_seconds,
        glue_daily_run_seconds,
    )
    from infra.stack_settings import DEFAULT_SETTINGS

    counts = artists or list(DEFAULT_ARTIST_COUNTS)
    estimates = [estimate(DEFAULT_SETTINGS, n, flex=flex) for n in counts]
    columns = ["service", *(f"usd_{e.artists}_artists" for e in estimates), "usage"]
    rows: list[list[object]] = []
    for i, line in enumerate(estimates[0].lines):
        rows.append(
            [
                line.service,
                *(round(e.lines[i].monthly_usd, 2) for e in estimates),
                estimates[-1].lines[i].usage,
            ]
        )
    rows.append(["total", *(round(e.total_usd, 2) for e in estimates), ""])
    rows.append(
        [
            "total within the always-free tiers",
            *(round(e.total_within_free_tier_usd, 2) for e in estimates),
            "; ".join(
                f"{line.service}: {line.free_tier}"
                for line in estimates[-1].lines
                if line.free_tier
            ),
        ]
    )
    backfills = [backfill(DEFAULT_SETTINGS, n) for n in counts]
    rows.append(
        [
            f"one-off: backfill of {BACKFILL_DAYS} days",
            *(round(b.usd, 2) for b in backfills),
            f"{backfills[-1].runs} Glue runs (standard), "
            f"{backfills[-1].billed_seconds / 60:,.0f} min billed",
        ]
    )
    render(columns, rows, fmt, title="spotify-lakehouse on AWS", console=result_console())
    # The note follows the figures: if they cannot be written (a closed pipe), stderr
    # carries only the reason, as for every failure.
    billed = ", ".join(
        f"{glue_billed_seconds(glue_daily_run_seconds(n)):.0f} s at {n:,} artists" for n in counts
    )
    console.print(
        f"Monthly estimate, {PRICES_REGION} list prices of {PRICES_AS_OF}: 'total' without "
        "any free tier, then as if the account's always-free allowances served only this "
        f"stack; usage column for {counts[-1]:,} artists. A daily Glue run is assumed billed "
        f"{billed} (infra/cost.py says why); the backfill is a one-off, not in the totals."
    )
