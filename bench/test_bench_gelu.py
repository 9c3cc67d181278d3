"""pytest-benchmark: float32 exact GELU against SciPy's x * ndtr(x).

    pytest bench --benchmark-only

Kept out of the plain test run (pyproject's testpaths is tests/).  Benchmarks
time; they never fail on a number.  Groups are (dtype, size, threads).
"""
import numpy as np
import pytest

import gelu_fast as gf

scipy_special = pytest.importorskip("scipy.special")

SIZES = [1_000, 100_000, 1_000_000]


@pytest.fixture(params=SIZES, ids=lambda n: f"n={n}")
def data(request):
    x = np.random.default_rng(0).standard_normal(request.param).astype(np.float32)
    out = np.zeros_like(x)  # pre-touched
    return x, out


@pytest.fixture(autouse=True)
def one_thread():
    gf.set_num_threads(1)
    yield
    gf.set_num_threads(0)


def test_gelu_fast(benchmark, data):
    x, out = data
    benchmark.group = f"gelu float32 n={x.size} 1 thread"
    benchmark(gf.gelu, x, out=out)


def test_scipy_x_ndtr(benchmark, data):
    x, out = data
    benchmark.group = f"gelu float32 n={x.size} 1 thread"
    benchmark(lambda: np.multiply(x, scipy_special.ndtr(x), out=out))


def test_numpy_formula_erfc_free(benchmark, data):
    """The formula a NumPy-only user would write (no erf in NumPy: via tanh)."""
    x, out = data
    benchmark.group = f"gelu float32 n={x.size} 1 thread"
    c = np.float32(np.sqrt(2 / np.pi))
    benchmark(lambda: np.multiply(0.5 * x, 1 + np.tanh(c * (x + np.float32(0.044715) * x**3)), out=out))
