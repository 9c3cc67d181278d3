"""Accuracy of float32 exact GELU: gelu_fast against its peers, per region.

Max ULP error against the float64 reference x * ndtr(x) (docs/accuracy.md
defines the measure and the regions), over 1M uniform random inputs per
region, plus the values at +-inf.  Peers are measured when installed (SciPy
always; PyTorch and JAX if importable).  Prints a Markdown table, as in the
README and docs/accuracy.md.

    python bench/accuracy_peers.py
"""
import numpy as np

import gelu_fast as gf

from _oracle import ref  # tests/_reference.py


def peers():
    from scipy.special import ndtr
    impls = {"gelu_fast.gelu": gf.gelu,
             "SciPy x*ndtr(x) (float32 ufunc)": lambda x: x * ndtr(x)}
    try:
        import torch
        impls[f"PyTorch {torch.__version__.split('+')[0]} F.gelu"] = \
            lambda x: torch.nn.functional.gelu(torch.from_numpy(x)).numpy()
    except ImportError:
        pass
    try:
        import jax
        impls[f"JAX {jax.__version__} nn.gelu(approximate=False)"] = \
            lambda x: np.asarray(jax.nn.gelu(x, approximate=False))
    except ImportError:
        pass
    return impls


def main():
    x = ref.float32_grid()
    reference = ref.gelu_f64(x)
    specials = np.array([np.inf, -np.inf], dtype=np.float32)
    rows = []
    for name, f in peers().items():
        with np.errstate(all="ignore"):
            regions = ref.max_ulp_by_region(np.asarray(f(x), dtype=np.float32), x, reference)
            inf_values = np.asarray(f(specials.copy()), dtype=np.float32)
        rows.append((name, regions, inf_values))
    header = list(rows[0][1])
    print("| implementation | " + " | ".join(header) + " | gelu(+inf), gelu(-inf) |")
    print("|---" * (len(header) + 2) + "|")
    for name, regions, inf_values in rows:
        cells = [f"{regions[h]:.3g}" if regions[h] < 1e6 else "total loss" for h in header]
        print(f"| {name} | " + " | ".join(cells) + f" | {inf_values[0]}, {inf_values[1]} |")


if __name__ == "__main__":
    main()
