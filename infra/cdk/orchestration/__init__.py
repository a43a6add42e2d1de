"""The three Step Functions state machines, written in JSONata: what their states do.

* **pipeline** (daily schedule; also re-runs and backfills): plan the days and cut them into
  chunks of ``backfill_chunk_days`` -> for each chunk, in order: for each of its days, in
  order, the ingest Lambda and a Choice on its status -> one Glue job run ``.sync`` for the
  whole chunk (``--start_date``/``--end_date``; ``--snapshot_date`` for a chunk of one day)
  -> a load record per day -> then deploy the gold view if it is missing -> publish the
  result. The daily run is a chunk of one day.
* **maintenance** (weekly): Glue job ``--action maintain`` ``.sync`` -> prune Glue table
  versions.
* **freshness** (daily at the deadline hour): fail (and so alert) when today has no load record
  (a day stopped because the app gets no followers has one too: it was alerted already).

This package says what the states do; :mod:`infra.cdk.constructs.pipelines` makes state
machines of them (logs, timeouts, schedules, the grants the raw Athena state needs).

The room, in import order (each module imports only those above it):

* :mod:`.expressions`: the JSONata expressions, pure strings: the day an input names, the
  plan of days and its chunks, a chunk's Glue arguments and load records; why JSONata.
* :mod:`.outcomes`: how a day's ingest ends as the state machines see it: the loadable
  statuses, the stop reasons (one alert, no retry), the permanent errors, the load records.
* :mod:`.parts`: what the states act on (:class:`~.parts.PipelineParts`) and the task
  states more than one definition uses (a Glue run ``.sync``, a load record's put).
* :mod:`.pipeline`: the pipeline's definition, and the input it accepts.
* :mod:`.maintenance`: the weekly maintenance's definition.
* :mod:`.freshness`: the freshness check's definition.
"""
