"""Reports: read results files and turn them into what people and CI act on.

``appc_conformance.reports.results``      load / validate / atomically write results files (format v1)
``appc_conformance.reports.model``        verdict counts by implementation, area, requirement
``reports.html``         the self-contained HTML compatibility matrix
``appc_conformance.reports.markdown``     Markdown summary (CI step summaries, README) and coverage table
``appc_conformance.reports.junit``        JUnit XML, one testsuite per implementation and profile
``appc_conformance.reports.expectations`` known failures per implementation, and ``check``
``appc_conformance.reports.diff``         compare two results files; compare two revisions of the vectors
``appc_conformance.reports.cli``          the command-line verbs (report, diff, check, list, vectors-diff)
"""

from appc_conformance.reports.results import (
    FAILING,
    FORMAT,
    FORMAT_VERSION,
    SKIPPING,
    VERDICTS,
    Results,
    ResultsError,
    load_results,
    write_results,
)

# The package's own API: these names are re-exported.
__all__ = [
    "FAILING",
    "FORMAT",
    "FORMAT_VERSION",
    "SKIPPING",
    "VERDICTS",
    "Results",
    "ResultsError",
    "load_results",
    "write_results",
]
