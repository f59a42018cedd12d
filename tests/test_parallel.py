"""Work spread over processes comes back in the order given, on as many workers as allowed."""

from __future__ import annotations

import os
import time

import pytest

from runway.common import parallel


def where(item: int) -> tuple[int, int]:
    time.sleep(0.05)  # long enough that one worker cannot take every item before the other starts
    return item, os.getpid()


def test_results_keep_their_order_and_use_the_workers_allowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("RUNWAY_JOBS", "2")
    done = list(parallel.ordered_map(where, list(range(8)), at_least=2))
    assert [item for item, _ in done] == list(range(8))
    assert os.getpid() not in {pid for _, pid in done}
    assert len({pid for _, pid in done}) == 2


def test_too_little_work_stays_in_this_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNWAY_JOBS", "2")
    done = list(parallel.ordered_map(where, [1, 2, 3], at_least=2))
    assert {pid for _, pid in done} == {os.getpid()}
    monkeypatch.setenv("RUNWAY_JOBS", "1")
    assert {pid for _, pid in parallel.ordered_map(where, list(range(8)))} == {os.getpid()}
    monkeypatch.setenv("RUNWAY_JOBS", "lots")
    assert parallel.jobs() == (os.cpu_count() or 1)


def test_workers_start_with_the_engines_go_settings_unless_the_user_set_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Go reads GOGC from the environment its process started with, so the setting must be in
    place when a worker starts, and gone from this process afterwards."""
    monkeypatch.setenv("RUNWAY_JOBS", "2")
    monkeypatch.delenv("GOGC", raising=False)
    assert list(parallel.ordered_map(os.getenv, ["GOGC"] * 4, at_least=2)) == ["400"] * 4
    assert "GOGC" not in os.environ
    monkeypatch.setenv("GOGC", "150")
    assert list(parallel.ordered_map(os.getenv, ["GOGC"] * 4, at_least=2)) == ["150"] * 4
    assert os.environ["GOGC"] == "150"


def test_a_little_work_that_releases_the_gil_runs_on_threads_in_order(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import threading

    def on(item: int) -> tuple[int, int, str]:
        time.sleep(0.05)
        return item, os.getpid(), threading.current_thread().name

    monkeypatch.setenv("RUNWAY_JOBS", "2")
    done = list(parallel.ordered_map(on, [1, 2, 3], at_least=2, releases_gil=True))
    assert [item for item, _, _ in done] == [1, 2, 3]
    assert {pid for _, pid, _ in done} == {os.getpid()}
    assert len({thread for _, _, thread in done}) == 2
    assert threading.main_thread().name not in {thread for _, _, thread in done}
    monkeypatch.setenv("RUNWAY_JOBS", "1")
    alone = list(parallel.ordered_map(on, [1, 2, 3], releases_gil=True))
    assert {thread for _, _, thread in alone} == {threading.main_thread().name}
