"""``spotify-lakehouse dashboard``: the page, opened in a real headless browser, offline.

The home is built by the CLI itself (``backfill --simulator``: simulator, bronze, the Glue
job, Great Expectations, Iceberg). The page is then opened from ``file://`` in Debian's
chromium, driven through the DevTools protocol (``--remote-debugging-pipe``: no port, no
extra package), with the network closed (no host name resolves, the proxy is a closed
port), and watched:

* every request the page starts (``Network.requestWillBeSent``: fired before a blocked
  request fails) is recorded; the page passes only when none of them leaves ``file:``,
  ``data:`` or ``blob:``. The browser's own background services are not the page's and
  are not counted (they fail to resolve like everything else);
* no script error, no console error (a Content-Security-Policy refusal logs one);
* the page must say every chart rendered, and each chart's SVG must hold as many drawn
  traces as its figure has visible ones;
* the screenshot is decoded and must show each artist's line colour, the run bars' colours
  and the calendar's "passed" green: pixels only a drawn chart puts there;
* a click on the followers chart's scale button turns every line into its gain since the
  first day, in the browser.

:func:`test_the_browser_check_fails_a_page_that_needs_the_network` runs the same check on
the page with plotly.js swapped for a CDN ``<script src>`` and shows it fails on each
count (a request seen, no chart drawn, the colours missing).
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import json
import os
import select
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Final
from urllib.parse import unquote

import pytest

from infra.dashboard.figures import ARTIST_COLOURS, STAGE_COLOURS, since_first
from tests.cli._run import Outcome, reason, run_cli

#: Days the shared home holds (one backfill, one JVM).
DAYS: Final = 3
#: Artists of the simulator's default roster.
ARTISTS: Final = 20
#: The charts the page draws, by the id of their ``<div>``.
CHART_IDS: Final = ("chart-followers", "chart-gains", "chart-ranks", "chart-runs", "chart-tables")
#: The calendar's "passed every check" colour (page.py's --pass).
PASSED_GREEN: Final = "#2ca25f"
#: Pixels of one colour that make a drawn mark rather than an antialiasing accident.
MIN_PIXELS: Final = 40
#: Width of the browser window; the screenshot takes the page's whole height.
WIDTH: Final = 1400
#: How long the page may take to draw (a loaded CI machine); a deadline, not a measurement.
RENDER_DEADLINE_S: Final = 120
#: One DevTools answer's deadline.
ANSWER_DEADLINE_S: Final = 60
#: Schemes that never touch the network.
LOCAL_SCHEMES: Final = ("file:", "data:", "blob:", "about:")
CDN_SCRIPT: Final = '<script src="https://cdn.plot.ly/plotly-3.0.1.min.js"></script>'

#: What the page says about its charts once drawn (or after the deadline).
_PROBE: Final = """JSON.stringify({
  rendered: document.body.getAttribute('data-charts-rendered'),
  error: document.body.getAttribute('data-charts-error'),
  height: document.documentElement.scrollHeight,
  charts: Array.from(document.querySelectorAll('div.chart')).map(function (div) {
    return {id: div.id, svgs: div.querySelectorAll('svg.main-svg').length,
            traces: div.querySelectorAll('g.trace').length};
  })
})"""

#: Click the followers chart's last scale button ("gained since the first day").
_SWITCH: Final = """(function () {
  var buttons = document.querySelectorAll('#chart-followers g.updatemenu-button');
  if (!buttons.length) { return 'no buttons'; }
  buttons[buttons.length - 1].dispatchEvent(new MouseEvent('click', {bubbles: true}));
  return 'clicked';
})()"""
#: The followers chart's axis title and every trace's y values, as the browser holds them.
_FOLLOWERS_NOW: Final = """(function () {
  var chart = document.getElementById('chart-followers');
  if (!chart || !chart.layout) { return null; }
  return JSON.stringify({title: chart.layout.yaxis.title.text,
                         y: chart.data.map(function (t) { return Array.from(t.y); })});
})()"""


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "no chromium on PATH: the dashboard is tested in a real browser; `make system-deps` "
        "(run by `make test`) installs Debian's chromium package"
    )


def _above_nine(fd: int) -> int:
    """``fd`` moved to a descriptor number of 10 or more (the old one is closed)."""
    moved = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return moved


class DevTools:
    """Headless chromium with the network closed, spoken to over its DevTools pipe.

    ``--remote-debugging-pipe`` reads commands on descriptor 3 and answers on 4, each
    message JSON ending in NUL. Events seen while waiting for an answer are kept in
    :attr:`events`.
    """

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        argv = [
            _chromium(),
            "--headless",
            "--remote-debugging-pipe",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            "--disable-dev-shm-usage",  # a container's small /dev/shm would crash tabs
            # No name resolves and the proxy is a closed port: nothing leaves the machine.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=http://127.0.0.1:9",
            "--proxy-bypass-list=<-loopback>",
            f"--window-size={WIDTH},1000",
            "about:blank",
        ]
        if os.geteuid() == 0:  # chromium refuses to run as root with its sandbox
            argv.insert(1, "--no-sandbox")
        # bash puts the pipe ends on descriptors 3 and 4, then becomes chromium. They are
        # first moved above 9, so that neither is 3 or 4 already (one would overwrite the
        # other); dash, Debian's sh, takes no descriptor above 9, bash does.
        to_browser_r, from_browser_w = _above_nine(to_browser_r), _above_nine(from_browser_w)
        script = f'exec "$@" 3<&{to_browser_r} 4>&{from_browser_w}'
        self.process = subprocess.Popen(
            ["/bin/bash", "-c", script, "bash", *argv],
            pass_fds=(to_browser_r, from_browser_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Run one command and return its result (an error answer fails the test)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + ANSWER_DEADLINE_S
        while True:
            answer = self._read(deadline, method)
            if answer.get("id") == self._next_id:
                assert "error" not in answer, f"{method}: {answer['error']}"
                result: dict[str, Any] = answer.get("result", {})
                return result
            self.events.append(answer)

    def _read(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(left, 0))
            assert ready, f"chromium did not answer {waiting_for} in {ANSWER_DEADLINE_S} s"
            chunk = os.read(self._from_browser, 1 << 20)
            assert chunk, f"chromium exited (status {self.process.poll()}) during {waiting_for}"
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def close(self) -> None:
        # It may exit before it answers, or be gone already (then the test's own failure,
        # not this one, is the one to report).
        with contextlib.suppress(AssertionError, OSError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@dataclass
class BrowserCheck:
    """What the offline browser saw of a page; ``problems`` is empty when it passed."""

    requests: list[str]
    errors: list[str]
    probe: dict[str, Any]
    colours: Counter[tuple[int, int, int]]
    #: The followers chart after its "gained since the first day" button was clicked.
    switched: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def _figures(page: Path) -> dict[str, dict[str, Any]]:
    """Each chart's figure as the page embeds it (``<script type=application/json>``)."""
    found = _Links()
    found.feed(page.read_text(encoding="utf-8"))
    return found.figures


def _shown(figure: dict[str, Any]) -> int:
    """Traces plotly draws: all but those hidden to the legend."""
    return sum(1 for trace in figure["data"] if trace.get("visible", True) is True)


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return (int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16))


def _colours(png: bytes) -> Counter[tuple[int, int, int]]:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        pixels = image.convert("RGB").get_flattened_data()
    return Counter((int(p[0]), int(p[1]), int(p[2])) for p in pixels if isinstance(p, tuple))


def check_in_browser(page: Path, work: Path) -> BrowserCheck:
    """Open ``page`` offline, wait for its charts, screenshot it, list what is wrong."""
    browser = DevTools(work / "profile")
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Network", "Page", "Runtime", "Log"):
            browser.send(f"{domain}.enable", session)
        browser.send("Page.navigate", session, url=page.resolve().as_uri())
        deadline = time.monotonic() + RENDER_DEADLINE_S
        while True:
            answer = browser.send(
                "Runtime.evaluate", session, expression=_PROBE, returnByValue=True
            )
            probe: dict[str, Any] = json.loads(answer["result"].get("value") or "{}")
            if probe.get("rendered") or probe.get("error") or time.monotonic() > deadline:
                break
            time.sleep(0.25)
        browser.send(
            "Emulation.setDeviceMetricsOverride",
            session,
            width=WIDTH,
            height=int(probe.get("height") or 1000),
            deviceScaleFactor=1,
            mobile=False,
        )
        shot = browser.send("Page.captureScreenshot", session, format="png")
        png = base64.b64decode(shot["data"])
        switched = _switch_scale(browser, session) if probe.get("rendered") else {}
    finally:
        browser.close()
    (work / "screenshot.png").write_bytes(png)
    events = [e for e in browser.events if e.get("sessionId") == session]
    requests = [
        str(e["params"]["request"]["url"])
        for e in events
        if e.get("method") == "Network.requestWillBeSent"
        and not str(e["params"]["request"]["url"]).startswith(LOCAL_SCHEMES)
    ]
    errors = [
        json.dumps(e["params"])[:500]
        for e in events
        if e.get("method") == "Runtime.exceptionThrown"
        or (e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] == "error")
    ]
    check = BrowserCheck(requests, errors, probe, _colours(png), switched)
    problems = check.problems
    if requests:
        problems.append(f"the page made network requests: {requests}")
    if errors:
        problems.append(f"the page logged errors: {errors}")
    if probe.get("rendered") != str(len(CHART_IDS)):
        problems.append(f"not every chart rendered: {probe}")
    drawn = {c["id"]: c for c in probe.get("charts", [])}
    for chart, figure in _figures(page).items():
        seen = drawn.get(chart, {"svgs": 0, "traces": 0})
        if seen["svgs"] == 0:
            problems.append(f"{chart}: no SVG drawn")
        if seen["traces"] != _shown(figure):
            problems.append(f"{chart}: {seen['traces']} traces drawn, {_shown(figure)} shown")
    for name in (*ARTIST_COLOURS[:10], *STAGE_COLOURS, PASSED_GREEN):
        if check.colours[_rgb(name)] < MIN_PIXELS:
            problems.append(f"screenshot: {check.colours[_rgb(name)]} pixels of {name}")
    return check


def _switch_scale(browser: DevTools, session: str) -> dict[str, Any]:
    """Click the followers chart's scale button as a user would; what the chart then holds."""
    clicked = browser.send("Runtime.evaluate", session, expression=_SWITCH, returnByValue=True)
    assert clicked["result"].get("value") == "clicked", clicked
    deadline = time.monotonic() + ANSWER_DEADLINE_S
    while True:
        now = browser.send(
            "Runtime.evaluate", session, expression=_FOLLOWERS_NOW, returnByValue=True
        )
        state: dict[str, Any] = json.loads(now["result"].get("value") or "{}")
        if "gained" in str(state.get("title")) or time.monotonic() > deadline:
            return state
        time.sleep(0.25)


class _Links(HTMLParser):
    """The links and the embedded chart figures of a page as written."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.figures: dict[str, dict[str, Any]] = {}
        self._json_for: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "a" and "href" in found:
            self.links.append(found["href"])
        if tag == "script" and found.get("type") == "application/json":
            self._json_for = found.get("data-chart")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._json_for = None

    def handle_data(self, data: str) -> None:
        if self._json_for is not None:
            self.figures[self._json_for] = json.loads(data)


@dataclass(frozen=True)
class Built:
    home: Path
    out: Path
    written: Outcome


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    """A home with :data:`DAYS` simulator days loaded, and its dashboard written."""
    root = tmp_path_factory.mktemp("dashboard")
    home = root / "home"
    last = datetime.now(UTC).date()
    first = last - timedelta(days=DAYS - 1)
    loaded = run_cli(
        [
            "--home",
            str(home),
            "backfill",
            "--simulator",
            "--start",
            first.isoformat(),
            "--end",
            last.isoformat(),
        ],
        cwd=root,
    )
    assert loaded.code == 0, loaded.describe()
    out = root / "site"
    written = run_cli(["--home", str(home), "dashboard", "--out", str(out)], cwd=root)
    return Built(home, out, written)


@pytest.mark.spark
def test_dashboard_writes_one_page_and_prints_its_path(built: Built) -> None:
    assert built.written.code == 0, built.written.describe()
    page = built.out / "index.html"
    assert built.written.out.strip() == str(page)
    text = page.read_text(encoding="utf-8")
    assert "plotly.js v" in text  # the library itself is inside the page
    assert "<script src" not in text.lower()
    assert '<link rel="stylesheet"' not in text.lower()


@pytest.mark.spark
def test_the_charts_hold_what_the_gold_view_and_the_tables_say(built: Built) -> None:
    """The figures carry the gold view's numbers (asked through ``query``, as a user would),
    the one recorded run of the backfill that built the home, and every table of the namespace."""
    asked = run_cli(
        [
            "--home",
            str(built.home),
            "query",
            "--format",
            "json",
            "SELECT name, date, followers, follower_rank FROM Spotify_Gold_View",
        ],
        cwd=built.home.parent,
    )
    assert asked.code == 0, asked.describe()
    rows = json.loads(asked.out)
    assert len(rows) == DAYS * ARTISTS
    figures = _figures(built.out / "index.html")

    def points(chart: str) -> dict[tuple[str, str], Any]:
        return {
            (trace["name"], day): value
            for trace in figures[chart]["data"]
            for day, value in zip(trace["x"], trace["y"], strict=True)
        }

    assert points("chart-followers") == {(r["name"], r["date"]): r["followers"] for r in rows}
    assert points("chart-ranks") == {(r["name"], r["date"]): r["follower_rank"] for r in rows}
    # The home was built by one `backfill`: one row of spotify.pipeline_runs.
    run_labels = figures["chart-runs"]["data"][0]["y"]
    assert len(run_labels) == 1, run_labels
    assert figures["chart-tables"]["data"][0]["x"] == [
        "artists_quarantine",
        "artists_silver",
        "dq_results",
        "pipeline_runs",
    ]


@pytest.mark.spark
def test_every_calendar_day_links_to_its_existing_report(built: Built) -> None:
    page = _Links()
    page.feed((built.out / "index.html").read_text(encoding="utf-8"))
    reports = [link for link in page.links if link.endswith(".html")]
    assert len(reports) == DAYS, page.links
    for link in reports:
        assert "://" not in link, link  # relative: the page and reports/ move together
        assert (built.out / unquote(link)).resolve().is_file(), link


@pytest.mark.spark
def test_the_page_renders_every_chart_offline_in_chromium(built: Built, tmp_path: Path) -> None:
    check = check_in_browser(built.out / "index.html", tmp_path)
    assert not check.problems, "\n".join(check.problems)
    figures = _figures(built.out / "index.html")
    assert set(figures) == set(CHART_IDS)
    # The scale switch works in the browser: every line becomes its gain since the first day.
    assert check.switched["title"] == "followers gained since the first day"
    assert check.switched["y"] == [
        since_first(trace["y"]) for trace in figures["chart-followers"]["data"]
    ]


@pytest.mark.spark
def test_the_browser_check_fails_a_page_that_needs_the_network(
    built: Built, tmp_path: Path
) -> None:
    """The same page with plotly.js from a CDN instead of inline (and without the page's
    Content-Security-Policy, which would stop the request before it left): the check must
    see the request and the charts that never drew."""
    text = (built.out / "index.html").read_text(encoding="utf-8")
    start = text.index("<script>/**\n* plotly.js")
    end = text.index("</script>", start) + len("</script>")
    online = text[:start] + CDN_SCRIPT + text[end:]
    online = "\n".join(
        line for line in online.splitlines() if "Content-Security-Policy" not in line
    )
    page = tmp_path / "site" / "index.html"
    page.parent.mkdir()
    page.write_text(online, encoding="utf-8")
    check = check_in_browser(page, tmp_path)
    assert any("cdn.plot.ly" in r for r in check.requests), check.requests
    assert any("network requests" in p for p in check.problems), check.problems
    assert any("not every chart rendered" in p for p in check.problems), check.problems
    assert any("screenshot:" in p for p in check.problems), check.problems


def test_dashboard_of_a_home_with_nothing_loaded_says_what_to_run(tmp_path: Path) -> None:
    outcome = run_cli(
        ["--home", str(tmp_path / "empty"), "dashboard", "--out", str(tmp_path / "site")],
        cwd=tmp_path,
    )
    reason(outcome, 1, "nothing has been loaded", "spotify-lakehouse run --date")
    assert not (tmp_path / "site" / "index.html").exists()


def test_out_must_be_a_folder(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("", encoding="utf-8")
    outcome = run_cli(["--home", str(tmp_path), "dashboard", "--out", str(blocker)], cwd=tmp_path)
    reason(outcome, 2, "is a file")
