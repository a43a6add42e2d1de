"""Data quality: Great Expectations suites over each day's rows, quarantine and DQ results.

:mod:`~expectations.suites` (the expectations), :mod:`~expectations.runner` (run them on a
day's frame), :mod:`~expectations.persist` (quarantine and ``dq_results`` writes) and
:mod:`~expectations.report` (the HTML report). Imports :mod:`catalog` only.
"""
