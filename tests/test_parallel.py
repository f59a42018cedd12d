"""Work spread over processes comes back in the order given, on as many workers as allowed."""

from __future__ import annotations

import os
import time
from pathlib import Path

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


class _Teardown:
    """Leaves a mark when the interpreter holding it is torn down."""

    def __init__(self, mark: str) -> None:
        self.mark = mark
        self.write = os.open, os.write, os.close, os.O_WRONLY | os.O_CREAT  # outlive os's teardown

    def __del__(self) -> None:
        open_, write, close, flags = self.write
        handle = open_(self.mark, flags)
        write(handle, b"torn down\n")
        close(handle)


_KEPT: list[_Teardown] = []


def keep_till_exit(mark: str) -> int:
    time.sleep(0.05)
    _KEPT.append(_Teardown(mark))
    return os.getpid()


def test_workers_end_without_tearing_their_interpreter_down(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Tearing a verify worker's interpreter down took about 60 ms that every run waited for;
    the results are back before a worker is told to stop, so it may simply end."""
    monkeypatch.setenv("RUNWAY_JOBS", "2")
    mark = tmp_path / "torn-down"
    pids = list(parallel.ordered_map(keep_till_exit, [str(mark)] * 4, at_least=2))
    assert len(set(pids)) == 2 and os.getpid() not in pids
    assert not mark.exists(), f"workers tore their interpreters down: {mark.read_text()}"


def mark_slowly(mark: str) -> str:
    time.sleep(0.1)
    Path(mark).write_text("ran\n")
    return mark


def test_ctrl_c_stops_the_workers_quietly_and_cancels_what_they_have_not_begun(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C reaches every process of the terminal's group: the workers ignore it, and this
    process cancels what they have not begun and waits for what they have, so there is one
    message and nothing is still being written when the caller cleans up."""
    import multiprocessing
    import signal

    monkeypatch.setenv("RUNWAY_JOBS", "2")
    marks = [str(tmp_path / f"item-{i}") for i in range(12)]
    with pytest.raises(KeyboardInterrupt):
        for _ in parallel.ordered_map(mark_slowly, marks, at_least=2):
            for worker in multiprocessing.active_children():
                os.kill(worker.pid or 0, signal.SIGINT)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.5)  # the interrupt arrives here
    ran = sorted(tmp_path.iterdir())
    time.sleep(0.3)
    assert sorted(tmp_path.iterdir()) == ran, "a worker went on after the interrupt was out"
    assert 0 < len(ran) < len(marks), "what no worker had begun is cancelled"
    assert "Traceback" not in capfd.readouterr().err


def square(number: int) -> int:
    return number * number


def test_workers_waiting_for_work_shrug_off_ctrl_c(capfd: pytest.CaptureFixture[str]) -> None:
    """A worker interrupted while it waits for work (or starts) would print a traceback of its
    own and die; workers leave the interrupt to this process and carry on."""
    import multiprocessing
    import signal

    with parallel.process_pool(2, warm="json") as pool:
        while len({pid for _, pid in pool.map(where, range(4))}) < 2:
            pass
        for worker in multiprocessing.active_children():
            os.kill(worker.pid or 0, signal.SIGINT)
        time.sleep(0.3)
        assert list(pool.map(square, [1, 2, 3])) == [1, 4, 9]
    assert "Traceback" not in capfd.readouterr().err
