"""The progress file a vector run writes for ``appc-conformance run`` (conformance/childlink.py)."""

from __future__ import annotations

import time

from appc_conformance.conformance.childlink import Progress


def test_lines_of_quick_cases_are_not_held_back_by_a_slow_case_after_them(tmp_path):
    path = tmp_path / "progress"
    progress = Progress(str(path))
    try:
        progress.total(3)
        for i in range(3):  # quick cases, well within one block...
            progress.case("pass", f"app-strings/x/{i}", "appc-0.8.11")
        time.sleep(progress.EVERY_S * 4)  # ...then a slow case: nothing more is written meanwhile
        lines = path.read_text().splitlines()
        assert lines == ["total\t3"] + [f"pass\tapp-strings/x/{i} [appc-0.8.11]" for i in range(3)]
    finally:
        progress.close()
    assert len(path.read_text().splitlines()) == 4  # closed: nothing lost, nothing twice
