"""One CDK construct per concern of the lakehouse, each in a module named for it.

Each construct takes frozen-dataclass props whose defaults are the stack's default settings
(:mod:`infra.stack_settings`; ``Props.from_settings`` maps a whole settings object), owns the
IAM of what it creates, and grants access to it through ``grant_*`` methods. The dependency
order, which the modules' imports follow (no module imports a later one):

* :mod:`.logs`, :mod:`.grants`, :mod:`.lambdas`: what several constructs share;
* :mod:`.storage`: the buckets (:func:`.storage.private_bucket` owns what every bucket shares);
* :mod:`.catalog`: the Glue database and its table-version pruner;
* :mod:`.ingest`: the ingest Lambda and the Spotify secret;
* :mod:`.load_job`: the Glue job, its wheels, its logs;
* :mod:`.query`: the Athena workgroup;
* :mod:`.alerts`: the SNS topics and the EventBridge rules that alert on failed executions;
* :mod:`.pipelines`: the state machines (:mod:`infra.cdk.orchestration`) and their schedules.

Resources that hold data or carry a fixed name keep their construct ids from the flat stack
they were first deployed in: :mod:`infra.cdk.logical_ids` derives their logical IDs from them.
This package imports none of its modules, so importing one never imports the rest.
"""
