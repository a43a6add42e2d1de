"""``make rehearse``: the deployed system rehearsed on this machine against moto's server.

Every test names the AWS seam it rehearses with ``@pytest.mark.seam("name")``; the session
ends with one line per seam: passed, failed, or not possible here (a skip, with its reason).
This folder runs in a pytest process of its own (``make rehearse``): its Spark session needs
the AWS SDK jar and Iceberg's GlueCatalog, which a JVM cannot take on after the rest of the
suite started one over the local SQLite catalog.

What comes from where: the template is the one ``make synth`` wrote (``REHEARSE_TEMPLATE``),
or a fresh synthesis over ``make package``'s artifacts; everything the rehearsal deploys
into moto (names, environments, policies, arguments, definitions) is read from it.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.rehearsal._aws import Account
from tests.rehearsal._template import REGION, Template

REPO: Path = Path(__file__).resolve().parents[2]
TEMPLATE_ENV = "REHEARSE_TEMPLATE"

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

_OUTCOMES: dict[str, list[tuple[str, str]]] = defaultdict(list)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "seam(name): the AWS seam a rehearsal test proves")


def _seam(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("seam")
    return str(marker.args[0]) if marker and marker.args else None


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()  # type: ignore[attr-defined]
    seam = _seam(item)
    if seam is None:
        return
    if report.when == "call" or (report.when == "setup" and not report.passed):
        if report.skipped:
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else "skipped"
            _OUTCOMES[seam].append(("skipped", str(reason).removeprefix("Skipped: ")))
        elif report.failed:
            _OUTCOMES[seam].append(("failed", item.name))
        else:
            _OUTCOMES[seam].append(("passed", item.name))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if not _OUTCOMES:
        return
    terminalreporter.section("AWS rehearsal: one line per seam")
    width = max(len(s) for s in _OUTCOMES)
    for seam in sorted(_OUTCOMES):
        results = _OUTCOMES[seam]
        failed = [name for status, name in results if status == "failed"]
        passed = [name for status, name in results if status == "passed"]
        skipped = [why for status, why in results if status == "skipped"]
        if failed:
            line = f"FAILED ({len(failed)} of {len(results)}: {', '.join(failed)})"
        elif passed:
            line = f"passed ({len(passed)} checks)"
            if skipped:
                line += f"; not possible here: {'; '.join(sorted(set(skipped)))}"
        else:
            line = f"not possible here: {'; '.join(sorted(set(skipped)))}"
        terminalreporter.write_line(f"{seam.ljust(width)}  {line}")


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The synthesized stack: ``make synth``'s, or synthesized here over the real artifacts."""
    given = os.environ.get(TEMPLATE_ENV)
    if given:
        path = Path(given)
        if not path.is_file():
            raise FileNotFoundError(f"{TEMPLATE_ENV}={given} does not exist: run `make synth`")
        return Template.load(path)
    from infra import package
    from infra.cdk.app import build_app

    if not all(p.is_file() for p in (package.LAMBDA_ZIP, package.GLUE_SCRIPT)):
        package.build_all()
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir=str(outdir))
    assembly = app.synth()
    artifact = assembly.get_stack_by_name(stack.stack_name)
    return Template.load(Path(assembly.directory) / artifact.template_file)


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    """moto's server on 127.0.0.1, in this process (so its IAM checks can be taught the
    resource ARNs of Glue and Secrets Manager requests: tests/rehearsal/_aws.py)."""
    from moto.server import ThreadedMotoServer

    from tests.rehearsal._aws import install_resource_rules

    install_resource_rules()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def account(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    """A fresh moto account (IAM not enforced until a seam asks), nothing real reachable."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_url)
    aws = Account(moto_url)
    aws.reset()
    yield aws
    aws.enforce(False)
