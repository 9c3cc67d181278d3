"""Threading: the thread count API, OMP_NUM_THREADS and threadpoolctl read at
call time, results bit-identical across thread counts, the GIL released."""
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import gelu_fast as gf

from conftest import ALL, call

needs_openmp = pytest.mark.skipif(not gf.info()["openmp"], reason="built without OpenMP")


@pytest.fixture(autouse=True)
def restore_threads():
    yield
    gf.set_num_threads(0)


def test_set_and_get_num_threads():
    gf.set_num_threads(1)
    assert gf.get_num_threads() == 1
    gf.set_num_threads(3)
    assert gf.get_num_threads() == (3 if gf.info()["openmp"] else 1)
    gf.set_num_threads(0)
    assert gf.get_num_threads() >= 1
    with pytest.raises(ValueError):
        gf.set_num_threads(-1)
    with pytest.raises((TypeError, ValueError)):
        gf.set_num_threads("many")


def test_info_reports_build_and_runtime():
    info = gf.info()
    assert info["version"] == gf.__version__
    assert isinstance(info["openmp"], bool)
    assert info["simd"] in {"x86-64-v4 (avx512)", "x86-64-v3 (avx2, fma)", "x86-64 (sse2)",  # GCC
                            "avx512f", "avx, fma",  # Clang
                            "aarch64 (neon, baseline)", "baseline (no dispatch)"}
    assert info["num_threads"] == gf.get_num_threads()
    assert info["parallel_threshold"] > 0


@needs_openmp
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_results_bit_identical_for_1_and_n_threads(dtype):
    n = 300_001 if dtype != np.float64 else 40_001  # well above the threshold
    x = np.random.default_rng(0).standard_normal(n).astype(dtype) * 6
    for name in ALL:
        gf.set_num_threads(1)
        one = call(name, x)
        gf.set_num_threads(4)  # more threads than cores is fine
        many = call(name, x)
        assert np.array_equal(one, many, equal_nan=True), name
        strided = call(name, x[::3])
        assert np.array_equal(strided, one[::3], equal_nan=True), name


def _threads_in_subprocess(env_value, cwd):
    env = dict(os.environ, OMP_NUM_THREADS=env_value)
    out = subprocess.run([sys.executable, "-c", "import gelu_fast; print(gelu_fast.get_num_threads())"],
                         env=env, capture_output=True, text=True, check=True, cwd=cwd)
    return int(out.stdout)


@needs_openmp
def test_omp_num_threads_is_honoured(tmp_path):
    # cwd elsewhere, so the installed package is imported, not the source tree
    assert _threads_in_subprocess("1", tmp_path) == 1
    assert _threads_in_subprocess("3", tmp_path) == 3


@needs_openmp
def test_threadpoolctl_limits_apply_at_call_time():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    before = gf.get_num_threads()
    with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
        assert gf.get_num_threads() == 1
    assert gf.get_num_threads() == before


def test_gil_is_released_during_the_loop():
    """While one thread runs a long gelu call, another Python thread must keep
    running.  Measured as progress, not time: the counter thread has to get
    through many iterations during a call that holds no GIL."""
    gf.set_num_threads(1)
    x = np.linspace(-5, 5, 4_000_000)  # ~0.2 s of float64 work
    progress = []
    running = threading.Event()

    def count():
        while not running.is_set():
            pass
        while running.is_set():
            progress.append(None)
            time.sleep(0)

    t = threading.Thread(target=count)
    t.start()
    running.set()
    start = len(progress)
    gf.gelu(x)
    during = len(progress) - start
    running.clear()
    t.join()
    assert during > 20


def _os_thread_count():
    return len(os.listdir("/proc/self/task"))


@needs_openmp
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize("omp_threads", [None, 3], ids=["openmp-default", "set_num_threads-3"])
def test_dask_threaded_scheduler_thread_count_is_bounded(omp_threads):
    """8 Dask worker threads each run the parallel loop on chunks of 20 000
    elements (above the parallel threshold).  Every worker that calls a long
    loop gets its own OpenMP team of get_num_threads() threads, itself
    included, so the process never holds more than
    (threads before) + workers * get_num_threads() (+1: the watcher thread).
    When the pool shuts down its teams go with it."""
    da = pytest.importorskip("dask.array")
    workers = 8
    if omp_threads:
        gf.set_num_threads(omp_threads)
    x = np.linspace(-8, 8, 64 * 20_000)  # float64, 64 chunks
    expected = gf.gelu(x)  # (also gives the main thread its own team now, not during the count)
    before = _os_thread_count()
    peak, stop = [before], threading.Event()

    def watch():  # samples the count while the workers run
        while not stop.is_set():
            peak[0] = max(peak[0], _os_thread_count())
            time.sleep(0.0005)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(workers) as pool:  # a fresh pool: workers without a team yet
            result = gf.gelu(da.from_array(x, chunks=20_000)).compute(scheduler="threads", pool=pool)
            peak[0] = max(peak[0], _os_thread_count())
    finally:
        stop.set()
        watcher.join()
    np.testing.assert_array_equal(result, expected)
    bound = before + 1 + workers * gf.get_num_threads()
    assert peak[0] <= bound, (before, peak[0], bound)
    for _ in range(100):  # the workers' teams end with the workers
        if _os_thread_count() <= before:
            break
        time.sleep(0.01)
    assert _os_thread_count() <= before
