"""Fit the rational approximation used by the float32/float16 exact-GELU kernels.

The upper normal tail Q(t) = P(Z > t) = erfc(t/sqrt 2)/2 is written as
Q(t) = exp(-t^2/2) * R(t), where R is smooth and positive on [0, inf) (it is the
Mills ratio divided by sqrt(2*pi)).  We fit R(t) ~ P7(t)/Q8(t) on [0, 15] by
iteratively reweighted linear least squares on the relative error (Loeb's method),
in 50-digit mpmath arithmetic, then check the rounded double coefficients on a
dense grid evaluated in double precision.

Run:  python src_c/fit_mills_ratio.py   (about a minute; prints the C table)
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 50
T_MAX = mp.mpf(15)
NUM_DEG, DEN_DEG, NODES, ITERATIONS = 7, 8, 400, 12


def mills_scaled(t):
    return mp.erfc(t / mp.sqrt(2)) / 2 * mp.exp(t * t / 2)


def fit():
    ts = [T_MAX / 2 * (1 - mp.cos(mp.pi * (k + mp.mpf(0.5)) / NODES)) for k in range(NODES)]
    ys = [mills_scaled(t) for t in ts]
    weights = [mp.mpf(1)] * NODES
    best = None
    for _ in range(ITERATIONS):
        ncoef = NUM_DEG + 1 + DEN_DEG
        a, b = mp.matrix(NODES, ncoef), mp.matrix(NODES, 1)
        for i, (t, y) in enumerate(zip(ts, ys)):
            s = 1 / (y * weights[i])
            for j in range(NUM_DEG + 1):
                a[i, j] = t**j * s
            for j in range(1, DEN_DEG + 1):
                a[i, NUM_DEG + j] = -y * t**j * s
            b[i] = y * s
        c, _ = mp.qr_solve(a, b)
        num = [c[j] for j in range(NUM_DEG + 1)]
        den = [mp.mpf(1)] + [c[NUM_DEG + j] for j in range(1, DEN_DEG + 1)]
        weights = [mp.polyval(den[::-1], t) for t in ts]
        err = max(abs(mp.polyval(num[::-1], t) / mp.polyval(den[::-1], t) / y - 1)
                  for t, y in zip(ts, ys))
        if best is None or err < best[0]:
            best = (err, num, den)
    return best


def check_in_double(num, den, points=20001):
    numd = [float(v) for v in num]
    dend = [float(v) for v in den]
    worst = 0.0
    for t in np.linspace(0.0, 15.0, points):
        p = 0.0
        for v in reversed(numd):
            p = p * t + v
        q = 0.0
        for v in reversed(dend):
            q = q * t + v
        assert q > 0
        ref = mills_scaled(mp.mpf(t))
        worst = max(worst, float(abs(mp.mpf(p / q) / ref - 1)))
    return worst


if __name__ == "__main__":
    err, num, den = fit()
    print(f"/* max relative error at the fit nodes: {mp.nstr(err, 3)} */")
    print(f"/* max relative error in double on a 20001-point grid: {check_in_double(num, den):.3g} */")
    for name, coefs in (("GF_MILLS_NUM", num), ("GF_MILLS_DEN", den)):
        print(f"#define {name} \\")
        print(",\\\n".join(f"    {float(v).hex()}" for v in coefs))
