"""pytest-benchmark: gelu_fast against SciPy, the NumPy formula, PyTorch, ONNX
Runtime, JAX and the memory floor (np.copyto).

    pytest bench --benchmark-only --benchmark-json=bench/results.json
    python bench/report.py            # bench/results.md and bench/results.png

Kept out of the plain test run (pyproject's testpaths is tests/).  Benchmarks
time; they never fail on a number.  One group per (function, dtype, size,
threads); each benchmark's extra_info carries those fields and the
implementation, so the report reads the JSON without parsing names.  Peers
that are not installed are skipped.  The contenders themselves (inputs and
outputs made once and pre-touched, thread control) are bench/_bench.py's,
shared with bench/targets.py; `python -m gelu_fast bench` times the same float32
gelu formulas with the same timing (gelu_fast/_timing.py).
"""
import pytest

import _bench

CASES = [("gelu", "float32"), ("gelu", "float64"), ("gelu_tanh", "float32"), ("gelu_backward", "float32")]
SIZES = [1_000, 3072, 100_000, 1_000_000, 10_000_000]
THREADS = sorted({1, _bench.all_threads()})

# Ordered so that consecutive benchmarks share their inputs (_bench.inputs is cached).
PARAMS = [pytest.param((function, dtype, n, threads, impl),
                       id=f"{function}-{dtype}-n={n}-threads={threads}-{impl}")
          for function, dtype in CASES for n in SIZES for threads in THREADS
          for impl in _bench.BUILDERS]


@pytest.fixture
def contender(request):
    """The callable under test; skips when its library is not installed or has
    no such function or dtype."""
    function, dtype, n, threads, impl = request.param
    if impl in _bench.REQUIRES:
        pytest.importorskip(_bench.REQUIRES[impl])
    run = _bench.build(impl, function, dtype, n, threads)
    if run is None:
        pytest.skip(f"{impl} has no {function} for {dtype}")
    return run


@pytest.mark.parametrize("contender", PARAMS, indirect=True)
def test_gelu(benchmark, contender, request):
    function, dtype, n, threads, impl = request.node.callspec.params["contender"]
    benchmark.group = f"{function} {dtype} n={n:,} threads={threads}"
    benchmark.extra_info.update(function=function, dtype=dtype, size=n, threads=threads,
                                implementation=impl)
    with _bench.use_threads(threads):
        benchmark(contender)
