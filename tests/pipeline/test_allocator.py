"""keep_freed_memory: glibc's thresholds raised for a pipeline process, harmless elsewhere."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

from pipeline.allocator import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_takes_both_thresholds() -> None:
    # In a child process: the setting is process-wide and must not leak into the test run.
    code = "from pipeline.allocator import keep_freed_memory; print(keep_freed_memory())"
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.strip() == "True"


def test_without_a_c_library_it_does_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ctypes.util.find_library", lambda name: None)
    assert keep_freed_memory() is False


def test_collect_less_freezes_what_is_held_and_collects_the_young_less_often() -> None:
    # In a child process: the thresholds are process-wide.
    code = (
        "import gc; from pipeline.allocator import collect_less, YOUNG_THRESHOLD; before = gc.get_threshold(); "
        "collect_less(); after = gc.get_threshold(); "
        "print(after[0] == YOUNG_THRESHOLD > before[0], after[1:] == before[1:], gc.get_freeze_count() > 1000)"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert done.stdout.split() == ["True", "True", "True"]


def test_collect_less_in_this_process_is_undone_for_the_next_test_1() -> None:
    import gc

    from pipeline.allocator import YOUNG_THRESHOLD, collect_less

    collect_less()  # as an in-process `mingle replay` does
    assert gc.get_threshold()[0] == YOUNG_THRESHOLD and gc.get_freeze_count() > 0


def test_collect_less_in_this_process_is_undone_for_the_next_test_2() -> None:
    import gc

    # The test above left the collector set up for a pipeline process; the autouse fixture in
    # tests/conftest.py put the interpreter's own settings back (as a fresh interpreter has them).
    code = "import gc; print(*gc.get_threshold())"
    fresh = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert gc.get_threshold() == tuple(int(v) for v in fresh.stdout.split()) and gc.get_freeze_count() == 0
