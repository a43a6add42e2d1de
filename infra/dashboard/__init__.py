"""The dashboard: one self-contained interactive HTML page over a lakehouse home.

``spotify-lakehouse dashboard --out DIR`` and the demo write it with :func:`write_dashboard`:
followers per artist over time, daily gains as small multiples with a smoothed line, rank
changes, a calendar of days coloured by their data-quality status linking to each day's
report, recent runs with their timings, and the health of every Iceberg table.

Its room: beside :mod:`infra.local` (whose data-quality verdicts it shows), below
:mod:`infra.cli` (which calls it; it never imports the CLI). It reads the home like the
read-only commands do (:mod:`infra.dashboard.data`), builds the charts as plotly.js figures
(:mod:`infra.dashboard.figures`) and writes one page with plotly.js inlined
(:mod:`infra.dashboard.page`).

Why plotly.js: the pinned ``plotly`` wheel is pure Python and ships the minified plotly.js
(MIT) it was built against, so the page embeds an exact, offline copy with no download step;
one library draws lines, small multiples, bump charts and bars with hover, legend picking
and zoom. Its cost is size: plotly.js is about 4.8 MB of the page. Vega-Lite (altair is
installed already) would be about 1 MB, but its JavaScript ships in no pinned Python
package except vl-convert-python, a platform-specific wheel of tens of MB bundling a
JavaScript runtime, or would have to be vendored from npm into the repository.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from catalog.paths import LakehousePaths

#: Days of the trend charts, ending the latest loaded day (the demo loads 30).
DEFAULT_DAYS: Final = 90
#: The page's file name inside the output folder (what an S3 static website serves first).
PAGE_NAME: Final = "index.html"


def write_dashboard(paths: LakehousePaths, out_dir: Path, *, days: int = DEFAULT_DAYS) -> Path:
    """Read the home ``paths`` and write ``out_dir/index.html``; returns its path.

    The home is only read. Raises :class:`catalog.iceberg.timetravel.TableNotLoadedError`
    when nothing has been loaded there yet.
    """
    from infra.dashboard.data import read_dashboard
    from infra.dashboard.page import render_page

    data = read_dashboard(paths, days=days)
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / PAGE_NAME
    staged = page.with_name(f".{PAGE_NAME}.tmp")
    staged.write_text(render_page(data, out_dir), encoding="utf-8")
    staged.replace(page)  # a reader never sees half a page
    return page


__all__ = ["DEFAULT_DAYS", "PAGE_NAME", "write_dashboard"]
