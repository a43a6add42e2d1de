"""The JSONata expressions of the state machines: plain strings, no CDK.

The day an execution's input names, the pipeline's plan of days and its chunks, a chunk's
Glue arguments and load records, the Glue execution class of a run.

JSONata rather than JSONPath: the input may name a day, a range or nothing (the schedule's
time), and turning that into a list of days needs date arithmetic, which JSONata has
(``$toMillis``/``$fromMillis``) and JSONPath intrinsics do not; without it a Lambda would be
needed just to count days.
"""

from __future__ import annotations

from typing import Final

DAY_MS: Final = 86_400_000

#: The UTC day of an execution's input: ``snapshot_date`` if given, else the date part of the
#: schedule's ``scheduled_time``.
INPUT_DAY: Final = (
    "$exists($states.input.snapshot_date) ? $states.input.snapshot_date"
    " : $substring($states.input.scheduled_time, 0, 10)"
)


def execution_class_of(scheduled_class: str, input_expression: str = "$states.input") -> str:
    """JSONata for the Glue execution class of a run: ``scheduled_class`` when the execution
    was started by a schedule (its input has ``scheduled_time``), else Standard unless the
    input says ``"flex": true``."""
    return (
        f"($exists({input_expression}.scheduled_time) ? '{scheduled_class}'"
        f" : ({input_expression}.flex = true ? 'FLEX' : 'STANDARD'))"
    )


def plan(scheduled_class: str) -> str:
    """Normalizes any pipeline input to ``{first_day, last_day, day_count, force,
    deploy_views, execution_class}``."""
    return f"""{{% (
  $in := $states.input;
  $first := $exists($in.start_date) ? $in.start_date : ({INPUT_DAY});
  $last := $exists($in.end_date) ? $in.end_date : $first;
  {{
    "first_day": $first,
    "last_day": $last,
    "day_count":
      ($toMillis($last & "T00:00:00Z") - $toMillis($first & "T00:00:00Z")) / {DAY_MS} + 1,
    "force": $in.force = true,
    "deploy_views": $in.deploy_views = true,
    "execution_class": {execution_class_of(scheduled_class, "$in")}
  }}
) %}}"""


def chunks(chunk_days: int) -> str:
    """The plan's days, oldest first, cut into chunks of at most ``chunk_days`` consecutive
    days: ``[{start_date, end_date, days: [...]}]`` (``$append`` keeps one-element lists
    lists: JSONata unwraps a sequence of one)."""
    return f"""{{% (
  $start := $toMillis($states.input.first_day & "T00:00:00Z");
  $count := $states.input.day_count;
  $day := function($i) {{ $fromMillis($start + $i * {DAY_MS}, "[Y0001]-[M01]-[D01]") }};
  $append([], $map([0..($ceil($count / {chunk_days}) - 1)], function($c) {{ (
    $first := $c * {chunk_days};
    $last := $min([$count - 1, $first + {chunk_days} - 1]);
    {{
      "start_date": $day($first),
      "end_date": $day($last),
      "days": $append([], $map([$first..$last], $day))
    }}
  ) }}))
) %}}"""


#: The job's arguments for a chunk: ``--snapshot_date D`` for a chunk of one day (the daily
#: run: the day passed explicitly, as ARCHITECTURE.md fixes it; the job validates it again
#: if it was loaded already), ``--start_date``/``--end_date`` for more (the job skips the
#: days already loaded from their bronze run: a re-run backfill resumes).
CHUNK_ARGUMENTS: Final = """{% $states.input.start_date = $states.input.end_date
  ? {"--snapshot_date": $states.input.start_date, "--action": 'transform'}
  : {
      "--start_date": $states.input.start_date,
      "--end_date": $states.input.end_date,
      "--action": 'transform'
    } %}"""

#: A chunk's load records: one per ingested day, once the chunk's Glue run succeeded.
CHUNK_LOADED: Final = """{% $append([], $map($states.input.ingested, function($d) { {
  "snapshot_date": $d.snapshot_date,
  "status": 'loaded',
  "ingest_status": $d.status,
  "run_id": $d.run_id,
  "records": $d.records,
  "missing_ids": $d.missing_ids,
  "glue_job_run_id": $states.result.Id,
  "glue_execution_seconds": $states.result.ExecutionTime
} })) %}"""

#: The chunks' load records, flattened to one list of days, oldest first.
ALL_LOADED: Final = (
    "{% $append([], $reduce($states.result, function($all, $chunk) "
    "{ $append($all, $chunk) }, [])) %}"
)


def jsonata_list(values: tuple[str, ...]) -> str:
    """A JSONata list literal of ``values`` (strings)."""
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"
