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


def compiler_has_openmp():
    if os.environ.get("GELU_FAST_NO_OPENMP"):
        return False
    if IS_MSVC:
        return True
    cc = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    cc = cc.split()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "omp.c")
        with open(src, "w") as f:
            f.write("#include <omp.h>\nint main(void){return omp_get_max_threads() < 1;}\n")
        try:
            r = subprocess.run(cc + ["-fopenmp", src, "-o", os.path.join(tmp, "omp")],
                               capture_output=True)
        except OSError:
            return False
        return r.returncode == 0


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

if compiler_has_openmp():
    compile_args.append("/openmp" if IS_MSVC else "-fopenmp")
    link_args += [] if IS_MSVC else ["-fopenmp"]
else:
    warnings.warn("gelu_fast: the compiler has no OpenMP; building serial loops "
                  "(set CC to an OpenMP-capable compiler for multithreading)")

ext = Extension(
    "gelu_fast._ufuncs",
    sources=["gelu_fast/_ufuncs.pyx", "src_c/gelu_loops.c"],
    # every header the loops include: editing one rebuilds the extension
    depends=sorted(glob.glob("src_c/*.h")),
    include_dirs=["src_c", np.get_include()],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_2_0_API_VERSION")],
    extra_compile_args=compile_args,
    extra_link_args=link_args,
)

setup(ext_modules=cythonize([ext], language_level=3))
