"""Benchmark machinery shared by the pytest-benchmark suite in bench/ and the
scripts beside it (targets.py, placement.py, scaling.py, report.py), which
import it as ``_bench``: ``python bench/X.py`` and ``pytest bench`` both put
bench/ on the path.  It is not installed with gelu_fast.

- ``build(implementation, function, dtype, n, threads)``: a zero-argument
  callable that runs one contender on inputs and an output made once,
  pre-allocated and pre-touched, so no call pays for allocation or page faults
  that are not the implementation's own.
- ``use_threads(n)``, ``median_time`` and ``interleaved_medians``, from
  gelu_fast/_timing.py: the thread count for every library that can change it
  at run time (gelu_fast, PyTorch; ONNX Runtime takes it when its
  InferenceSession is built, JAX (XLA) fixes its own at import), and seconds
  per call, medians, with the contenders' repeats interleaved so that drift in
  machine load hits all alike (speed claims are ratios measured side by side
  in one run).
- ``machine()``: what the numbers were measured on.
- ``AVX2_ENVIRONMENT``, ``limit_to_avx2()`` and ``isa_in_use()``: gelu_fast
  and PyTorch held to AVX2 on a CPU with more (targets.py's AVX2 section), and
  the level each one runs at.

Peers are imported only when asked for: gelu_fast itself needs none of them.
"""
import functools
import importlib.metadata
import os
import platform
import sys

import numpy as np

import gelu_fast as gf
# One implementation of the timing, the one `python -m gelu_fast` uses too.
from gelu_fast._timing import all_threads, inputs, interleaved_medians, median_time, use_threads  # noqa: F401

FUNCTIONS = ("gelu", "gelu_tanh", "gelu_backward")

# What each implementation runs; the pytest suite, the report and targets.py
# take their labels from here (`python -m gelu_fast bench` has the same ones).
LABELS = {
    "gelu_fast": "gelu_fast",
    "scipy": "SciPy",
    "numpy": "NumPy formula",
    "torch": "PyTorch",
    "onnxruntime": "ONNX Runtime",
    "jax": "JAX",
    "floor": "memory floor",
}
DESCRIPTIONS = {
    "gelu_fast": "the ufunc, out=",
    "scipy": "gelu: x*ndtr(x); gelu_backward: g*(ndtr(x) + x*exp(-x²/2)/√(2π)); into out=",
    "numpy": "0.5x(1 + tanh(√(2/π)(x + 0.044715x³))), the tanh approximation even for exact gelu "
             "(NumPy has no erf)",
    "torch": "F.gelu(x, approximate=..., out=) and aten.gelu_backward.grad_input on torch.from_numpy views",
    "onnxruntime": "a one-node Gelu model (ONNX opset 20), IO binding into out; no float64 kernel",
    "jax": "jit(jax.nn.gelu), backward through jax.vjp; block_until_ready(); allocates its result; "
           "XLA sets its own thread count (one thread for these kernels)",
    "floor": "np.copyto(out, x) (np.multiply(g, x, out=) for gelu_backward): reads and writes what "
             "the kernel must, computes nothing",
}
# The reference each function's speed-up is stated against: SciPy where it has
# the function, else the formula a NumPy user writes.
BASELINE = {"gelu": "scipy", "gelu_tanh": "numpy", "gelu_backward": "scipy"}
# The module an implementation needs, for pytest.importorskip and for versions.
REQUIRES = {"scipy": "scipy", "torch": "torch", "onnxruntime": "onnxruntime", "jax": "jax"}


def _gelu_fast(function, x, g, out, threads):
    f = getattr(gf, function)
    args = (g, x) if function == "gelu_backward" else (x,)
    return lambda: f(*args, out=out)


def _scipy(function, x, g, out, threads):
    from scipy.special import ndtr
    if function == "gelu":
        return lambda: np.multiply(x, ndtr(x), out=out)
    if function == "gelu_backward":
        inv_sqrt_2pi = x.dtype.type(1 / np.sqrt(2 * np.pi))
        half = x.dtype.type(0.5)
        return lambda: np.multiply(g, ndtr(x) + x * np.exp(-half * x * x) * inv_sqrt_2pi, out=out)
    return None  # SciPy has no tanh GELU


def _numpy(function, x, g, out, threads):
    if function == "gelu_backward":
        return None  # NumPy has no erf, so no exact derivative either
    c = x.dtype.type(np.sqrt(2 / np.pi))
    k, half, one = (x.dtype.type(v) for v in (0.044715, 0.5, 1))
    return lambda: np.multiply(half * x, one + np.tanh(c * (x + k * x * x * x)), out=out)


def _torch(function, x, g, out, threads):
    import torch
    tx, ty = torch.from_numpy(x), torch.from_numpy(out)
    if function == "gelu_backward":
        tg = torch.from_numpy(g)
        backward = torch.ops.aten.gelu_backward.grad_input
        return lambda: backward(tg, tx, approximate="none", grad_input=ty)
    approximate = "tanh" if function == "gelu_tanh" else "none"
    gelu = torch.nn.functional.gelu  # the binding takes out=, which its docs do not show
    return lambda: gelu(tx, approximate=approximate, out=ty)


def _onnxruntime(function, x, g, out, threads):
    if function == "gelu_backward":
        return None  # GeluGrad exists only in ORT's training build
    import onnxruntime as ort
    from onnx import helper
    elem = helper.np_dtype_to_tensor_dtype(x.dtype)
    node = helper.make_node("Gelu", ["x"], ["y"], approximate="tanh" if function == "gelu_tanh" else "none")
    graph = helper.make_graph([node], "gelu", [helper.make_tensor_value_info("x", elem, [None])],
                              [helper.make_tensor_value_info("y", elem, [None])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 20)])
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    try:
        ort_session = ort.InferenceSession(model.SerializeToString(), options,
                                       providers=["CPUExecutionProvider"])
    except ort.capi.onnxruntime_pybind11_state.NotImplemented:
        return None  # float64: ORT expands Gelu to Erf, whose CPU kernel is float32 only
    binding = ort_session.io_binding()
    binding.bind_cpu_input("x", x)
    binding.bind_output("y", "cpu", 0, x.dtype, x.shape, out.ctypes.data)
    return lambda: ort_session.run_with_iobinding(binding)


def _jax(function, x, g, out, threads):
    import jax
    if x.dtype == np.float64:
        # Without it JAX silently computes float64 inputs in float32.
        jax.config.update("jax_enable_x64", True)
    gelu = functools.partial(jax.nn.gelu, approximate=function == "gelu_tanh")
    if function == "gelu_backward":
        f = jax.jit(lambda g, x: jax.vjp(gelu, x)[1](g)[0])
        args = [jax.device_put(g), jax.device_put(x)]
    else:
        f = jax.jit(gelu)
        args = [jax.device_put(x)]
    return lambda: f(*args).block_until_ready()


def _floor(function, x, g, out, threads):
    if function == "gelu_backward":
        return lambda: np.multiply(g, x, out=out)
    return lambda: np.copyto(out, x)


BUILDERS = {"gelu_fast": _gelu_fast, "scipy": _scipy, "numpy": _numpy, "torch": _torch,
            "onnxruntime": _onnxruntime, "jax": _jax, "floor": _floor}


def available(implementation):
    """Whether the module the implementation needs can be imported."""
    module = REQUIRES.get(implementation)
    if module is None:
        return True
    try:
        importlib.import_module(module)
    except ImportError:
        return False
    return True


def build(implementation, function, dtype, n, threads):
    """A zero-argument callable running `implementation` of `function`, or
    None where the implementation has no such function or dtype.

    The callable has run once already (JAX compiles, ONNX Runtime plans), so
    its first timed call is an ordinary one."""
    x, g, out = inputs(function, np.dtype(dtype).name, n)
    with use_threads(threads):
        run = BUILDERS[implementation](function, x, g, out, threads)
        if run is not None:
            run()
    return run


# What holds each library to AVX2 on a CPU with more, read at import:
# gelu_fast's level, PyTorch's ATen kernels and its oneDNN ones.  ONNX Runtime
# has no such switch (MLAS picks its kernels from CPUID).
AVX2_ENVIRONMENT = {"GELU_FAST_ISA": "avx2", "ATEN_CPU_CAPABILITY": "avx2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def limit_to_avx2():
    """Hold gelu_fast (now) and PyTorch (when it is imported) to AVX2 in this
    process: PyTorch reads AVX2_ENVIRONMENT at import, so it must not be
    imported yet.  Raises ValueError where gelu_fast cannot run AVX2 here."""
    if "torch" in sys.modules:
        raise RuntimeError("limit_to_avx2: PyTorch is imported already and keeps its level")
    os.environ.update(AVX2_ENVIRONMENT)
    if gf.info()["isa"] != "avx2":
        gf._ufuncs._set_isa("avx2")


def isa_in_use():
    """{"gelu_fast": its level, "torch": PyTorch's CPU capability, or None
    where PyTorch is not imported}."""
    torch = sys.modules.get("torch")
    return {"gelu_fast": gf.info()["isa"],
            "torch": torch.backends.cpu.get_cpu_capability() if torch else None}


def cpu_flags():
    """The CPU's feature flags (/proc/cpuinfo), empty where they cannot be read."""
    return set(_cpuinfo().get("flags", "").split())


def _cpuinfo():
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model", "flags") and key not in fields:
                    fields[key] = value.strip()
    except OSError:
        pass
    return fields


def machine():
    """What a benchmark ran on: CPU, cores, vector ISA, gelu_fast's build, peers' versions."""
    cpu = _cpuinfo()
    flags = cpu_flags()
    versions = {}
    for package in ("numpy", "scipy", "torch", "onnxruntime", "jax"):
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            pass
    return {
        "cpu": cpu.get("model name") or platform.processor() or platform.machine(),
        "cpu_family_model": f"{cpu['cpu family']}/{cpu['model']}" if "cpu family" in cpu else None,
        "isa": [f for f in ("avx2", "fma", "avx512f", "avx512vl") if f in flags],
        "cores_usable": all_threads(),
        "cores_machine": os.cpu_count(),
        "gelu_fast": gf.info(),
        "versions": versions,
    }


def describe_machine(m):
    """One line for the machine dict of machine()."""
    family = f" (family/model {m['cpu_family_model']})" if m.get("cpu_family_model") else ""
    isa = ", ".join(m["isa"]) or "no AVX2"
    info = m["gelu_fast"]
    versions = ", ".join(f"{k} {v}" for k, v in m["versions"].items())
    return (f"{m['cpu']}{family}, {m['cores_usable']} usable cores of {m['cores_machine']}, {isa}; "
            f"gelu_fast {info['version']} simd={info['simd']} fast_path={info.get('fast_path')} "
            f"openmp={info['openmp']}; {versions}")
