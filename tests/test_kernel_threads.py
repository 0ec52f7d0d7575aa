"""kernels.run_chunks on its crew of threads (issue 11): every range runs exactly once and
has ended when run_chunks returns, whoever runs it; a late helper's range is run by the
caller; errors reach the caller; nested, concurrent and forked calls still work."""
import multiprocessing
import threading
import time

import numpy as np
import pytest

from codesign import kernels as K


@pytest.fixture
def threads():
    before, min_ns = K.get_threads(), K.PARALLEL_NS
    K.PARALLEL_NS = 0

    def use(n: int) -> None:
        K.set_threads(n)
    yield use
    K.set_threads(before)
    K.PARALLEL_NS = min_ns


def _ranges_run(n_chunks: int, delay_helpers: float = 0.0):
    """run_chunks over n_chunks; each chunk counts its runs and the thread that ran it,
    helpers' chunks after a delay (their writes land late unless the caller waits)."""
    runs = np.zeros(n_chunks, dtype=np.int64)
    who = [None] * n_chunks
    caller = threading.get_ident()

    def fn(lo: int, hi: int) -> None:
        if delay_helpers and threading.get_ident() != caller:
            time.sleep(delay_helpers)
        for c in range(lo, hi):
            runs[c] += 1
            who[c] = threading.get_ident()
    K.run_chunks(fn, n_chunks)
    return runs.copy(), who, caller


@pytest.mark.parametrize("n", [1, 2, 3, 4])
def test_every_range_runs_once_and_has_ended_at_return(threads, n):
    threads(n)
    for n_chunks in (1, 2, 3, 7, 64):
        for _ in range(20):
            runs, _, _ = _ranges_run(n_chunks)
            assert (runs == 1).all()
    runs, who, caller = _ranges_run(8, delay_helpers=0.05)    # the caller's wait is real
    assert (runs == 1).all()
    assert n == 1 or len(set(who)) >= 1


def test_a_late_helper_s_range_is_run_by_the_caller(threads):
    threads(2)
    K.run_chunks(lambda a, b: None, 2)              # the crew exists
    crew = K._crew
    assert crew.idle[0].acquire(timeout=5)         # the helper counts as still busy
    try:
        runs, who, caller = _ranges_run(2)
    finally:
        crew.idle[0].release()
    assert (runs == 1).all() and set(who) == {caller}


def test_errors_of_any_range_reach_the_caller(threads):
    threads(2)

    def fn(lo: int, hi: int) -> None:
        if lo > 0:
            raise ValueError(f"range {lo}")
    for _ in range(5):
        with pytest.raises(ValueError, match="range"):
            K.run_chunks(fn, 4)
    runs, _, _ = _ranges_run(4)                    # the crew still serves afterwards
    assert (runs == 1).all()


def test_nested_and_concurrent_calls(threads):
    threads(2)
    inner = np.zeros((4, 6), dtype=np.int64)

    def outer(lo: int, hi: int) -> None:
        for c in range(lo, hi):
            def fill(a: int, b: int, c=c) -> None:
                inner[c, a:b] += 1
            K.run_chunks(fill, 6)
    K.run_chunks(outer, 4)
    assert (inner == 1).all()
    results = []

    def caller() -> None:
        for _ in range(30):
            results.append(_ranges_run(5)[0])
    others = [threading.Thread(target=caller) for _ in range(3)]
    for t in others:
        t.start()
    for t in others:
        t.join()
    assert len(results) == 90 and all((r == 1).all() for r in results)


def _child(q) -> None:
    runs, _, _ = _ranges_run(6)
    q.put(runs.tolist())


@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded")
def test_a_forked_child_runs_its_own_crew(threads):
    threads(2)
    _ranges_run(4)                                   # the parent's crew exists
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q,))
    p.start()
    assert q.get(timeout=60) == [1] * 6
    p.join(timeout=60)
    assert p.exitcode == 0
