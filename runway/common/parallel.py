"""Work spread over processes, results in the order given: verify and package use it.

Processes, not threads: Helm's renders release the GIL (a loaded chart may be shared between
threads), yet seven renders of one chart ran only 1.4x faster on two threads, and verify's and
package's own checks are Python that holds the GIL; processes keep both cores busy. `RUNWAY_JOBS` caps the workers (a shared
CI runner); by default every core works.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def jobs() -> int:
    """Workers to use: RUNWAY_JOBS when it is a positive number, else the number of cores."""
    wanted = os.environ.get("RUNWAY_JOBS", "")
    if wanted.isdigit() and int(wanted) > 0:
        return int(wanted)
    return os.cpu_count() or 1


def ordered_map(
    func: Callable[[T], R], items: Sequence[T], *, at_least: int = 1, chunksize: int = 1
) -> Iterator[R]:
    """`map(func, items)` on up to `jobs()` processes, each given at least `at_least` items
    (a worker's start costs about as much as that many items); in this process when one
    worker would do."""
    workers = min(jobs(), len(items) // max(at_least, 1))
    if workers <= 1:
        yield from map(func, items)
        return
    import concurrent.futures
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        yield from pool.map(func, items, chunksize=chunksize)
