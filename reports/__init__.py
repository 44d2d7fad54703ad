"""Reports: read results files and turn them into what people and CI act on.

``reports.results``      load / validate / atomically write results files (format v1)
``reports.model``        verdict counts by implementation, area, requirement
``reports.html``         the self-contained HTML compatibility matrix
``reports.markdown``     Markdown summary (CI step summaries, README) and coverage table
``reports.junit``        JUnit XML, one testsuite per implementation and profile
``reports.expectations`` known failures per implementation, and ``check``
``reports.diff``         compare two results files; compare two revisions of the vectors
``reports.cli``          the command-line verbs (report, diff, check, list, vectors-diff)
"""
from reports.results import (FAILING, FORMAT, FORMAT_VERSION, SKIPPING, VERDICTS, Results,  # noqa: F401
                             ResultsError, load_results, write_results)
