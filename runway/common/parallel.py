"""Work spread over processes, results in the order given: build, verify and package use it.

Processes for the bulk: Helm's renders release the GIL, yet seven renders of one chart ran only
1.4x faster on two threads, because verify's own checks are Python that holds the GIL. Work
too small to pay a process's start runs here, on threads when it mostly waits in calls that
release the GIL (packaging: Helm and zlib, 1.6x on two cores). `RUNWAY_JOBS` caps the workers
(a shared CI runner); by default every core works.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Executor

T = TypeVar("T")
R = TypeVar("R")


def jobs() -> int:
    """Workers to use: RUNWAY_JOBS when it is a positive number, else the number of cores."""
    wanted = os.environ.get("RUNWAY_JOBS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return os.cpu_count() or 1


def processes(items: int, at_least: int = 1) -> int:
    """Worker processes `ordered_map` uses for `items` items, each worth `at_least` of them;
    0 or 1: the items are done in this process."""
    return min(jobs(), items // max(at_least, 1))


def ordered_map(
    func: Callable[[T], R],
    items: Sequence[T],
    *,
    at_least: int = 1,
    chunksize: int = 1,
    releases_gil: bool = False,
    pool: Executor | None = None,
) -> Iterator[R]:
    """`map(func, items)` on up to `jobs()` processes, each given at least `at_least` items
    (a worker's start costs about as much as that many items), or on `pool` (`process_pool`)
    when the caller started workers ahead. When one worker would do, the items are done in
    this process: on threads if `func` spends its time in calls that release the GIL
    (`releases_gil`: Helm's engine, zlib), else in turn."""
    if pool is not None:
        try:
            yield from pool.map(func, items, chunksize=chunksize)
        except BaseException:  # nothing still runs once the error is out, as with a pool of its own
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        return
    workers = processes(len(items), at_least)
    if workers <= 1:
        threads = min(jobs(), len(items)) if releases_gil else 1
        if threads <= 1:
            yield from map(func, items)
            return
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(threads) as threaded:
            yield from threaded.map(func, items)
        return
    with process_pool(workers) as started:
        yield from started.map(func, items, chunksize=chunksize)


@contextlib.contextmanager
def process_pool(workers: int, *, warm: str = "", fork: bool = False) -> Iterator[Executor]:
    """`workers` worker processes, started now, each importing the module `warm` as it starts:
    a caller with other work to do first has them start meanwhile. `fork`: the work runs no Go
    (a Go runtime reads GOGC only from the environment its process was started with), so the
    workers may be forked from this process where that is safe (`_forkable`), starting at once
    with everything it has imported instead of taking ≈ 0.35 s to import it again.

    Workers ignore Ctrl-C (they start with SIGINT ignored, which Python keeps): this process
    takes the interrupt, cancels what no worker has begun and waits for what they have, so the
    user sees one message rather than a traceback from every worker, and nothing is still being
    written when the caller cleans up."""
    import concurrent.futures
    import multiprocessing
    import sys

    forked = fork and _forkable()
    if forked:  # a child would write out again what sits in the buffers it inherits
        sys.stdout.flush()
        sys.stderr.flush()
    context = multiprocessing.get_context("fork" if forked else "spawn")
    pool = concurrent.futures.ProcessPoolExecutor(
        workers, mp_context=context, initializer=_worker_started, initargs=(warm,)
    )
    try:
        with _environment(WORKER_ENVIRONMENT), _interrupts_ignored():
            for _ in range(workers):  # each task submitted before any worker is idle starts one
                pool.submit(os.getpid)
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


def _forkable() -> bool:
    """Whether a fork of this process is sound: on Linux, with no other thread (Python's or
    native: a lock another thread holds stays held in the child forever) and no Go runtime
    loaded (its threads do not survive a fork)."""
    import sys

    if sys.platform != "linux" or "helm_python" in sys.modules:
        return False
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return False
    return "\nThreads:\t1\n" in status


@contextlib.contextmanager
def _interrupts_ignored() -> Iterator[None]:
    """SIGINT ignored in the block, for the processes it starts to inherit (main thread only:
    elsewhere Python cannot change signal handlers, and workers ignore it as they start)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


WORKER_ENVIRONMENT = {"GOGC": "400"}
"""What workers start with unless the user set it. GOGC: Helm's Go runtime collects garbage
about a tenth of verify's CPU time at Go's default of 100; at 400 a worker verifies about 15%
faster for about 15 MB more memory. Go reads it once, from the environment its process started
with, so it reaches workers only (`GOGC=400 runway verify` gives it to a run in one process)."""


def _worker_started(warm: str) -> None:
    """A worker ignores Ctrl-C (see process_pool), imports what it will need as it starts
    (`warm`), and ends without tearing its interpreter down. Freeing every module and object of
    a verify worker took it about 60 ms, which each run waited for; a worker has nothing to
    clean up, its results having gone back through the pipe before it is told to stop."""
    import atexit
    import importlib
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    atexit.register(_leave)
    if warm:
        importlib.import_module(warm)


def _leave() -> None:
    """The last exit handler to run (registered first): flush, then end the process at once."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


@contextlib.contextmanager
def _environment(wanted: Mapping[str, str]) -> Iterator[None]:
    """`wanted` in os.environ (where not already set) for processes started in the block."""
    added = {k: v for k, v in wanted.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
