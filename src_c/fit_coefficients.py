"""Fit the coefficients of the float32/float16 kernels (src_c/gf_math.h).

1. GF_EXP2_POLY: 2^f ~ polynomial of degree 7 on |f| <= 1/2, minimax in
   relative error (least squares with Lawson reweighting), about 4e-11.
2. GF_MILLS_NUM/DEN: the normal tail, as below.
3. GF_EXPM1_POLY (float64 kernels): (exp(r) - 1 - r)/r^2 ~ polynomial of degree
   GF_EXPM1_DEG on |r| <= ln(2)/2, Chebyshev interpolation in 50 digits.
4. GF_TAIL_TABLE (float64 kernels): R(t) = exp(t^2/2) Q(t) on [0, 55] in
   pieces centred on the multiples i/GF_TAIL_STEPS_PER_UNIT (so the index is
   t rounded to nearest, which vectorizes); on each, a degree GF_TAIL_DEG
   polynomial in s = t - centre (Chebyshev interpolation), its constant term
   stored as a double-double: rows of (c0_hi, c0_lo, c1, ..., c_DEG).

The upper normal tail Q(t) = P(Z > t) = erfc(t/sqrt 2)/2 is written as
Q(t) = exp(-t^2/2) * R(t), where R is smooth and positive on [0, inf) (it is the
Mills ratio divided by sqrt(2*pi)).  We fit R(t) ~ P6(t)/Q7(t) on [0, 20] by
iteratively reweighted linear least squares on the relative error (Loeb's method),
in 50-digit mpmath arithmetic, then check the rounded double coefficients on a
dense grid evaluated in double precision.

Run:  python src_c/fit_coefficients.py > src_c/gf_coefficients.h   (about 20 s)
src_c/check_generated.sh checks that the committed header is what this prints.
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 50
T_MAX = mp.mpf(20)
NUM_DEG, DEN_DEG, NODES, ITERATIONS = 6, 7, 400, 12


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


EXP_DEG, EXP_NODES = 7, 200


def fit_exp2():
    half = mp.mpf(1) / 2
    xs = [half * mp.cos(mp.pi * (k + mp.mpf(0.5)) / EXP_NODES) for k in range(EXP_NODES)]
    weights = [mp.mpf(1)] * EXP_NODES
    for _ in range(30):
        a, b = mp.matrix(EXP_NODES, EXP_DEG + 1), mp.matrix(EXP_NODES, 1)
        for i, x in enumerate(xs):
            s = weights[i] / 2**x
            for j in range(EXP_DEG + 1):
                a[i, j] = x**j * s
            b[i] = 2**x * s
        c, _ = mp.qr_solve(a, b)
        coefs = [c[j] for j in range(EXP_DEG + 1)]
        errs = [mp.polyval(coefs[::-1], x) / 2**x - 1 for x in xs]
        worst = max(abs(e) for e in errs)
        weights = [w * mp.sqrt(abs(e) / worst) + mp.mpf(10)**-30 for w, e in zip(weights, errs)]
    grid = [half * (2 * mp.mpf(k) / 4000 - 1) for k in range(4001)]
    worst = max(abs(mp.polyval([mp.mpf(float(v)) for v in coefs[::-1]], x) / 2**x - 1)
                for x in grid)
    return worst, coefs


def chebyshev_monomials(f, a, b, degree):
    """Monomial coefficients, in s = t - (a+b)/2, of the polynomial that
    interpolates f at the Chebyshev nodes of [a, b] (near-minimax)."""
    centre, half = (a + b) / 2, (b - a) / 2
    nodes = [half * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / (degree + 1)) for k in range(degree + 1)]
    vander = mp.matrix([[u**j for j in range(degree + 1)] for u in nodes])
    coefs = mp.lu_solve(vander, mp.matrix([f(centre + u) for u in nodes]))
    return [coefs[j] for j in range(degree + 1)]


EXPM1_DEG = 10
TAIL_DEG, TAIL_STEPS_PER_UNIT, TAIL_T_MAX = 10, 4, 55


def fit_expm1():
    def tail(r):  # (a node can fall within 1e-50 of 0, where the quotient cancels)
        return (mp.expm1(r) - r) / r**2 if abs(r) > 1e-20 else 1 / mp.mpf(2) + r / 6
    bound = mp.log(2) / 2
    coefs = chebyshev_monomials(tail, -bound, bound, EXPM1_DEG)
    worst = max(abs(r + r * r * mp.polyval([mp.mpf(float(c)) for c in coefs[::-1]], r)
                    - mp.expm1(r)) / abs(mp.expm1(r))
                for r in mp.linspace(-bound, bound, 2001) if r)
    return worst, coefs


def fit_tail_table():
    rows, worst = [], mp.mpf(0)
    step = mp.mpf(1) / TAIL_STEPS_PER_UNIT
    for i in range(TAIL_T_MAX * TAIL_STEPS_PER_UNIT + 1):
        centre = i * step
        coefs = chebyshev_monomials(mills_scaled, centre - step / 2, centre + step / 2, TAIL_DEG)
        hi = mp.mpf(float(coefs[0]))
        row = [hi, mp.mpf(float(coefs[0] - hi))] + [mp.mpf(float(c)) for c in coefs[1:]]
        for s in mp.linspace(-step / 2, step / 2, 21):
            approx = row[0] + row[1] + s * mp.polyval(row[:1:-1], s)
            worst = max(worst, abs(approx / mills_scaled(centre + s) - 1))
        rows.append(row)
    return worst, rows


def check_in_double(num, den, points=20001):
    numd = [float(v) for v in num]
    dend = [float(v) for v in den]
    worst = 0.0
    for t in np.linspace(0.0, float(T_MAX), points):
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
    print("/* Generated by src_c/fit_coefficients.py; do not edit. */")
    err, coefs = fit_exp2()
    print(f"/* exp2: max relative error on a 4001-point grid: {mp.nstr(err, 3)} */")
    print("#define GF_EXP2_POLY \\")
    print(",\\\n".join(f"    {float(v).hex()}" for v in coefs))
    err, num, den = fit()
    print(f"/* max relative error at the fit nodes: {mp.nstr(err, 3)} */")
    print(f"/* max relative error in double on a 20001-point grid: {check_in_double(num, den):.3g} */")
    for name, coefs in (("GF_MILLS_NUM", num), ("GF_MILLS_DEN", den)):
        print(f"#define {name} \\")
        print(",\\\n".join(f"    {float(v).hex()}" for v in coefs))
    err, coefs = fit_expm1()
    print(f"/* expm1: max relative error, double coefficients, exact arithmetic: {mp.nstr(err, 3)} */")
    print(f"#define GF_EXPM1_DEG {EXPM1_DEG}")
    print("#define GF_EXPM1_POLY \\")
    print(",\\\n".join(f"    {float(v).hex()}" for v in coefs))
    err, rows = fit_tail_table()
    print(f"/* tail table: max relative error, double coefficients, exact arithmetic: {mp.nstr(err, 3)} */")
    print(f"#define GF_TAIL_DEG {TAIL_DEG}")
    print(f"#define GF_TAIL_STEPS_PER_UNIT {TAIL_STEPS_PER_UNIT}")
    print(f"#define GF_TAIL_ROWS {len(rows)}")
    print("#define GF_TAIL_TABLE \\")
    print(",\\\n".join("    " + ", ".join(float(v).hex() for v in row) for row in rows))
