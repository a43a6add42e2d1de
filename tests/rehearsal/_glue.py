"""Start the packaged Glue job the way Glue starts it, against moto.

Glue runs ``spark-submit`` with the job's ``--conf`` and then the script with a
``sys.argv`` of its own making: the script path, the job's default arguments merged with
the run's arguments (the run's win), and Glue's own (``--JOB_ID``, ``--JOB_RUN_ID``,
``--JOB_NAME``, ``--TempDir``, ``--job-bookmark-option``), in an order it does not fix.
The rehearsal does the same with the template's values: ``dist/glue/job.py`` as the
script, ``--extra-py-files`` (the packaged project zip) on ``PYTHONPATH`` ahead of
everything else, the stack's ``--conf`` pairs passed to spark-submit through
``PYSPARK_SUBMIT_ARGS`` unchanged, plus the few keys that point the catalog at moto (shown
apart by :class:`catalog.runtime.awsjars.MotoSparkConf`).
"""

from __future__ import annotations

import itertools
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from tests.rehearsal._aws import Credentials
from tests.rehearsal._template import REGION, Template, evaluate_jsonata, find_state

REPO: Final = Path(__file__).resolve().parents[2]
GLUE_OWN: Final = (
    ("--JOB_ID", "j_0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    ("--JOB_RUN_ID", "jr_0123456789abcdef0123456789abcdef"),
    ("--TempDir", "s3://aws-glue-assets-123456789012-us-east-1/temporary/"),
    ("--job-bookmark-option", "job-bookmark-disable"),
)
ORDERS: Final = ("template", "reversed", "dates first", "glue's own first")
#: The job's own day arguments: a range (what the state machine sends) or one day.
DAY_ARGUMENTS: Final = ("--start_date", "--end_date", "--snapshot_date")


def split_conf(value: str) -> dict[str, str]:
    """The ``--conf`` job argument as pairs (Glue takes further pairs behind `` --conf ``)."""
    pairs: dict[str, str] = {}
    for item in value.split(" --conf "):
        key, sep, val = item.partition("=")
        if not sep:
            raise ValueError(f"--conf item {item!r} is not key=value")
        pairs[key.strip()] = val.strip()
    return pairs


@dataclass(frozen=True)
class GlueJob:
    """The job as deployed: its name, default arguments and the state machine's run args."""

    name: str
    default_arguments: dict[str, str]
    transform_arguments: Any  # the Transform task's Arguments.Arguments (JSONata)
    maintain_arguments: Any

    @classmethod
    def from_template(cls, template: Template) -> GlueJob:
        logical, _ = template.only("AWS::Glue::Job")
        props = template.properties(logical)
        pipeline, _ = template.only("AWS::StepFunctions::StateMachine", "Pipeline")
        maintenance, _ = template.only("AWS::StepFunctions::StateMachine", "Maintenance")
        transform = find_state(template.state_machine_definition(pipeline), "Transform")
        maintain = find_state(template.state_machine_definition(maintenance), "Maintain")
        assert transform["Arguments"]["JobName"] == props["Name"]
        return cls(
            name=props["Name"],
            default_arguments={k: str(v) for k, v in props["DefaultArguments"].items()},
            transform_arguments=transform["Arguments"]["Arguments"],
            maintain_arguments=maintain["Arguments"]["Arguments"],
        )

    @property
    def stack_conf(self) -> dict[str, str]:
        return split_conf(self.default_arguments["--conf"])

    def run_arguments(
        self, day: str, action: str = "transform", end: str | None = None
    ) -> dict[str, str]:
        """The run's arguments as the state machine's task evaluates them: the chunk from
        ``day`` to ``end`` (default: ``day``) for the Transform task, the scheduled day for
        the Maintain task."""
        if action == "transform":
            chunk = {"start_date": day, "end_date": end or day, "execution_class": "FLEX"}
            states = {"input": chunk}
            raw = self.transform_arguments
        else:
            states = {"input": {"scheduled_time": f"{day}T03:00:00Z"}}
            raw = self.maintain_arguments
        evaluated: dict[str, str] = evaluate_jsonata(raw, states)
        return evaluated

    def argv(self, script: Path, run: Mapping[str, str], order: str) -> list[str]:
        """A Glue-shaped ``sys.argv``: script first, then every argument in ``order``."""
        merged = {**self.default_arguments, **run, "--JOB_NAME": self.name}
        mine = list(merged.items())
        theirs = list(GLUE_OWN)
        if order == "template":
            pairs = theirs + mine
        elif order == "reversed":
            pairs = list(reversed(theirs + mine))
        elif order == "dates first":
            first = [p for p in mine if p[0] in DAY_ARGUMENTS]
            pairs = first + [p for p in mine if p[0] not in DAY_ARGUMENTS] + theirs
        elif order == "glue's own first":
            pairs = theirs + list(reversed(mine))
        else:
            raise ValueError(order)
        return [str(script), *itertools.chain.from_iterable(pairs)]


def spark_submit_args(conf: Mapping[str, str]) -> str:
    """``PYSPARK_SUBMIT_ARGS`` carrying ``conf`` as spark-submit ``--conf`` flags."""
    flags = itertools.chain.from_iterable(("--conf", f"{k}={v}") for k, v in conf.items())
    return shlex.join([*flags, "pyspark-shell"])


@dataclass(frozen=True)
class JobRun:
    returncode: int
    stdout: str
    stderr: str

    def failure(self) -> str:
        """The Python traceback and the job's own error line, without the JVM's frames."""
        lines = [
            line
            for line in self.stderr.splitlines()
            if not line.startswith(("\tat ", "\t... ")) and " INFO " not in line
        ]
        return "\n".join(lines[-80:])


def run_job(
    argv: Sequence[str],
    *,
    py_files: Path,
    spark_conf: Mapping[str, str],
    credentials: Credentials,
    endpoint: str,
    timeout_s: float = 600,
) -> JobRun:
    """Run the script in a process of its own (its own JVM), as Glue's driver would."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AWS_", "PYSPARK_", "SPARK_", "LAKEHOUSE_"))
    }
    env.update(credentials.env())
    env.update(
        {
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            # boto3 (pyiceberg's Glue catalog, the bronze and report stores) and pyarrow's
            # S3 filesystem read the endpoint from here; it is never set on AWS.
            "AWS_ENDPOINT_URL": endpoint,
            "PYTHONPATH": str(py_files),
            "PYSPARK_SUBMIT_ARGS": spark_submit_args(spark_conf),
            "PYSPARK_PYTHON": sys.executable,
            "SPARK_LOCAL_IP": "127.0.0.1",
        }
    )
    done = subprocess.run(
        [sys.executable, *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout_s,
        check=False,
    )
    return JobRun(done.returncode, done.stdout, done.stderr)
