"""Developer tooling that runs in ``make test`` and ships in no artifact."""
