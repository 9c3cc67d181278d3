"""Build the gelu_fast extension: Cython bindings over the C kernels in src_c/.

Compiler policy (GCC/Clang): -O3 so the contiguous loops vectorize;
-ffp-contract=off so the compiler fuses no a*b+c on its own (the kernels write
their fused multiply-adds as fma(), so results are bit-identical across ISA
levels and between contiguous and strided loops); -fno-trapping-math, which
changes no value, only lets the compiler evaluate both arms of a select (the
kernels restore the caller's exception flags anyway).  Never -ffast-math.
OpenMP is used when the compiler supports it; otherwise the build warns and the
loops run serially.  The extension is linked without debug information (a
quarter of the size) unless GELU_FAST_DEBUG is set, as the sanitizer build
does.
"""
import glob
import importlib.util
import os
import subprocess
import sys
import sysconfig
import tempfile
import warnings

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, setup

IS_MSVC = sys.platform == "win32" and "GCC" not in sys.version


def _openmp_candidates():
    """(compile flags, link flags) to try, in order, for the OpenMP build.

    GCC and LLVM clang take -fopenmp.  Apple's clang has no OpenMP runtime of
    its own: it needs -Xpreprocessor -fopenmp and LLVM's libomp (e.g. from
    Homebrew), found through GELU_FAST_OPENMP_PREFIX (the folder that holds
    include/omp.h and lib/libomp.dylib; the wheel builds set it to
    `brew --prefix libomp`) or else Homebrew's usual places.
    """
    yield ["-fopenmp"], ["-fopenmp"]
    if sys.platform != "darwin":
        return
    prefixes = [os.environ.get("GELU_FAST_OPENMP_PREFIX", ""),
                "/opt/homebrew/opt/libomp", "/usr/local/opt/libomp"]
    for prefix in filter(None, prefixes):
        if os.path.isfile(os.path.join(prefix, "include", "omp.h")):
            yield (["-Xpreprocessor", "-fopenmp", "-I" + os.path.join(prefix, "include")],
                   ["-L" + os.path.join(prefix, "lib"), "-lomp"])


def openmp_flags():
    """(compile flags, link flags) that build and link an OpenMP program with
    this compiler, or None (no OpenMP, or GELU_FAST_NO_OPENMP is set)."""
    if os.environ.get("GELU_FAST_NO_OPENMP"):
        return None
    if IS_MSVC:
        return ["/openmp"], []
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "omp.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n")
        for cflags, ldflags in _openmp_candidates():
            try:
                r = subprocess.run(cc + cflags + [src, "-o", os.path.join(tmp, "omp")] + ldflags,
                                   capture_output=True)
            except OSError:
                return None
            if r.returncode == 0:
                return cflags, ldflags
    return None


if IS_MSVC:
    compile_args, link_args = ["/O2", "/fp:precise"], []
else:
    compile_args = ["-O3", "-ffp-contract=off", "-fno-trapping-math", "-std=c99"]
    link_args = []
    compile_args += os.environ.get("GELU_FAST_EXTRA_CFLAGS", "").split()
    link_args += os.environ.get("GELU_FAST_EXTRA_LDFLAGS", "").split()
    if not os.environ.get("GELU_FAST_DEBUG"):
        # Python's own CFLAGS carry -g; the linker leaves the debug sections out
        link_args.append("-Wl,-S" if sys.platform == "darwin" else "-s")

def write_function_list():
    """src_c/gf_functions.h from the function table, gelu_fast/_spec.py
    (rewritten only when its text changes, so an unchanged list rebuilds
    nothing); returns the table's module."""
    loader = importlib.util.spec_from_file_location("gelu_fast_spec", os.path.join("gelu_fast", "_spec.py"))
    spec = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(spec)
    path, text = os.path.join("src_c", "gf_functions.h"), spec.c_header()
    if not os.path.exists(path) or open(path).read() != text:
        with open(path, "w") as f:
            f.write(text)
    return spec


SPEC = write_function_list()
omp = openmp_flags()
if omp:
    compile_args += omp[0]
    link_args += omp[1]
else:
    warnings.warn("gelu_fast: the compiler has no OpenMP; building serial loops "
                  "(set CC to an OpenMP-capable compiler for multithreading; with "
                  "Apple clang, install libomp and set GELU_FAST_OPENMP_PREFIX)")

ext = Extension(
    "gelu_fast._ufuncs",
    sources=["gelu_fast/_ufuncs.pyx", "src_c/gelu_loops.c", *SPEC.tier_sources()],
    # every header the loops include: editing one rebuilds the extension
    depends=sorted(glob.glob("src_c/*.h")),
    include_dirs=["src_c", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=cythonize([ext], language_level=3))
