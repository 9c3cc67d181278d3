"""Max error of every kernel, per dtype, against the independent references.

    python bench/accuracy_report.py            # float32 on 6M sampled inputs
    python bench/accuracy_report.py --all      # float32 on all 2**32 inputs (minutes)

float32: ULP against tests/_reference.py's float64 references (derivatives
in ULP of |term 1| + |term 2|, backward in ULP of |grad_out| times that);
float64: ULP against mpmath at 10 000+ points across magnitudes; float16: count
of the 65 536 inputs not correctly rounded.
"""
import sys

import numpy as np

import gelu_fast as gf

from _oracle import ref  # tests/_reference.py

UNARY = list(ref.FORWARD_F64) + list(ref.GRAD_F64)


def f32_inputs(exhaustive):
    if exhaustive:
        for start in range(0, 1 << 32, 1 << 20):
            x = np.arange(start, start + (1 << 20), dtype=np.uint64).astype(np.uint32).view(np.float32)
            yield x[np.isfinite(x)]
    else:
        rng = np.random.default_rng(20261123)
        x = rng.integers(0, 2**32, size=3_000_000, dtype=np.uint64).astype(np.uint32).view(np.float32)
        yield x[np.isfinite(x)]
        yield np.linspace(-15, 7, 3_000_001, dtype=np.float32)


def max_ulp_f32(name, exhaustive):
    worst = 0.0
    for x in f32_inputs(exhaustive):
        if x.size == 0:
            continue
        y = getattr(gf, name)(x)
        if name in ref.FORWARD_F64:
            err = ref.ulp_error(y, ref.FORWARD_F64[name](x), np.float32)
        else:
            value, scale = ref.GRAD_F64[name](x)
            err = ref.ulp_error(y, value, np.float32, scale)
        worst = max(worst, float(err.max()))
    return worst


def max_ulp_f64(name):
    rng = np.random.default_rng(7)
    x = np.unique(np.concatenate([
        np.linspace(-40, 40, 4001), np.linspace(-3, 3, 1001),
        -np.logspace(-300, np.log10(40), 1500), np.logspace(-300, np.log10(40), 1000),
        rng.uniform(-40, -3, 1000), rng.uniform(-3, 3, 1000),
        -np.logspace(np.log10(40), np.log10(600), 500), np.logspace(np.log10(40), 300, 100)]))
    y = getattr(gf, name)(x)
    if name in ref.FORWARD_MP:
        return max(ref.ulp_error_mp(a, ref.FORWARD_MP[name](b)) for a, b in zip(y, x)), x.size
    return max(ref.ulp_error_mp(a, *ref.GRAD_MP[name](b)) for a, b in zip(y, x)), x.size


def f16_misrounded(name):
    x = np.arange(2**16, dtype=np.uint16).view(np.float16)
    r = ref.FORWARD_F64[name](x) if name in ref.FORWARD_F64 else ref.GRAD_F64[name](x)[0]
    y, expected = getattr(gf, name)(x), r.astype(np.float16)
    return int((~((y == expected) | (np.isnan(y) & np.isnan(expected)))).sum())


def backward_row(name):
    """grad_out * f'(x): float32 on the sample with grad_out over 60 decades,
    float64 on every third mpmath point, float16 on all finite inputs."""
    grad = name.replace("backward", "grad")
    rng = np.random.default_rng(1)
    x = np.concatenate(list(f32_inputs(False)))[::7]
    g = (rng.standard_normal(x.size) * 10.0 ** rng.integers(-30, 30, x.size)).astype(np.float32)
    value, scale = ref.GRAD_F64[grad](x)
    g64 = g.astype(np.float64)
    f32 = float(ref.ulp_error(getattr(gf, name)(g, x), g64 * value, np.float32, np.abs(g64) * scale).max())
    xs = np.linspace(-40, 40, 3001)
    gs = rng.standard_normal(xs.size) * 10.0 ** rng.integers(-300, 300, xs.size)
    ys = getattr(gf, name)(gs, xs)
    f64 = max(ref.ulp_error_mp(y, v * gi, s * abs(gi))
              for y, gi, (v, s) in zip(ys, gs, map(ref.GRAD_MP[grad], xs)))
    h = np.arange(2**16, dtype=np.uint16).view(np.float16)
    h = h[np.isfinite(h)]
    gh = rng.standard_normal(h.size).astype(np.float16)
    expected = (gh.astype(np.float64) * ref.GRAD_F64[grad](h)[0]).astype(np.float16)
    f16 = int((getattr(gf, name)(gh, h) != expected).sum())
    return f"| {name} | {f32:.4f} (sample) | {f64:.3f} ({xs.size} points) | {f16} of {h.size} |"


def main():
    exhaustive = "--all" in sys.argv
    what = "all 2^32 inputs" if exhaustive else "6M sampled inputs"
    print(f"| function | float32 max ULP ({what}) | float64 max ULP (mpmath) | float16 misrounded |")
    print("|---|---|---|---|")
    for name in UNARY:
        f64, npoints = max_ulp_f64(name)
        print(f"| {name} | {max_ulp_f32(name, exhaustive):.4f} | {f64:.3f} ({npoints} points) "
              f"| {f16_misrounded(name)} of 65536 |")
    for name in ("gelu_backward", "gelu_tanh_backward", "gelu_sigmoid_backward"):
        print(backward_row(name))


if __name__ == "__main__":
    main()
