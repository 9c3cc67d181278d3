"""Fit the piecewise tables of the AVX-512 fast path (src_c/gf_pieces.h).

Each float32/float16 kernel is F(x) times x (forward), F(x) itself (derivative) or
grad_out times F(x) (backward), where F is the function's factor:

    gelu:          Phi(x)                  gelu'          Phi + x phi
    gelu_tanh:     s = sigma(w)            gelu_tanh'     s + x w' s (1 - s)
    gelu_sigmoid:  s = sigma(1.702 x)      gelu_sigmoid'  s + 1.702 x s (1 - s)

with w = 2 sqrt(2/pi) (x + 0.044715 x^3).  On [-4.25, 3.75] each F is a
polynomial of degree PIECE_DEG in u = 2x - k on each of 16 pieces of width
1/2 centred on k/2, k = -8..7, so that the piece is 2x rounded to the
nearest integer (and u, in [-1/2, 1/2], is exact and needs no multiply) and its 16 coefficients of one degree fit in two AVX-512
registers (one permute per coefficient, no gathers).

The fit minimizes the error relative to |first term| + |second term| of F
(for the forward factors, relative to F), the scale every kernel's bound is
stated in: least squares at Chebyshev nodes in 40-digit mpmath, reweighted
(Lawson) towards minimax.  The centre piece is held to F(0) = 1/2 exactly, so
gelu'(0) = 1/2 and backward(g, 0) = g/2 hold without rounding.  The check
evaluates the double coefficients by Horner in double (as the kernel does) at
2001 points of every piece against mpmath.

Beyond the pieces the results saturate (see saturation()); the fast path
returns them directly, and leaves only the gaps between to the general kernels.

The float32 tier (float_table()) evaluates the same factors in float32 at
x' = -|x| (each factor F has F(x) = 1 - F(-x), so the kernel mirrors the
positive side), on 28 pieces of width 1/8: u = 8x' - k with k = round(8x'),
k = -27..0, x' in (-3.4375, 0] (beyond it, degree 5 in float32 would no
longer reach 2^-28.5 of F).  Narrow pieces keep the part the kernel rounds
in float32 a small fraction of the result.  Derivative factors, per piece:
c0 as a float pair (hi + lo), c1..cd as floats, F = c0 + c1 u + ..  Forward
factors: the product x' F(x') = x' h + d(u), h = F at the piece's centre
rounded to 8 bits (so that the kernel's mirror 1 - h is exact; any h near F
will do, d takes up the difference) and d a polynomial (d0..dd as floats)
fitted relative to |x' F(x')|, whose top coefficient dd carries h's 16 high
bits in the low half of its own (2^-8 of dd's term, below 2^-30 of the
result), so that the kernel fetches both with one permute.  Both:
the coefficients rounded one by one from the lowest up, each refit of the
higher terms absorbing the rounding of the one before (the same weighted
least squares, in double, against mpmath values).  The centre piece covers
only its half (x' <= 0) and holds F(0) = 1/2 exactly (h = 1/2, d0 = d1 = 0).

The table holds the coefficients for the kernel's variable v = x' - k/8 = u/8
(c_j 8^j: exact, so the kernel's Horner in v rounds exactly as one in u
would), and the forward rows hold -d, so that the kernel's x h - (-d) by
fmsub gives x's signed zero at x = +-0 (there v = +0, and -d sums to +0).

Run:  python src_c/fit_pieces.py > src_c/gf_pieces.h   (about 50 s)
src_c/check_generated.sh checks that the committed header is what this prints.
The float32 tier's least squares (numpy.linalg.lstsq) round differently on
different BLAS kernels: the committed tier is what OpenBLAS's AVX-512 kernels
give (that script's comment has the details).
"""
import mpmath as mp
import numpy as np

mp.mp.dps = 40
PIECE_DEG, NODES, ITERATIONS = 8, 60, 8
CENTRES = [mp.mpf(k) / 2 for k in range(-8, 8)]
HALF = mp.mpf(1) / 4

SQRT_2_PI = mp.sqrt(2 / mp.pi)
TANH_A, SIGMOID_A = mp.mpf("0.044715"), mp.mpf("1.702")


def logistic(v):
    return 1 / (1 + mp.exp(-v))


def phi(x):
    return mp.exp(-x * x / 2) / mp.sqrt(2 * mp.pi)


# (first term, second term) of each factor; the factor is their sum
def gelu_terms(x):
    return mp.ncdf(x), mp.mpf(0)


def gelu_grad_terms(x):
    return mp.ncdf(x), x * phi(x)


def tanh_w(x):
    return 2 * SQRT_2_PI * (x + TANH_A * x**3), 2 * SQRT_2_PI * (1 + 3 * TANH_A * x * x)


def gelu_tanh_terms(x):
    return logistic(tanh_w(x)[0]), mp.mpf(0)


def gelu_tanh_grad_terms(x):
    w, dw = tanh_w(x)
    s = logistic(w)
    return s, x * dw * s * (1 - s)


def gelu_sigmoid_terms(x):
    return logistic(SIGMOID_A * x), mp.mpf(0)


def gelu_sigmoid_grad_terms(x):
    s = logistic(SIGMOID_A * x)
    return s, SIGMOID_A * x * s * (1 - s)


FACTORS = [
    ("GF_PIECES_gelu", gelu_terms),
    ("GF_PIECES_gelu_grad", gelu_grad_terms),
    ("GF_PIECES_gelu_tanh", gelu_tanh_terms),
    ("GF_PIECES_gelu_tanh_grad", gelu_tanh_grad_terms),
    ("GF_PIECES_gelu_sigmoid", gelu_sigmoid_terms),
    ("GF_PIECES_gelu_sigmoid_grad", gelu_sigmoid_grad_terms),
]


def fit_piece(terms, centre):
    """Monomial coefficients in u = 2 (x - centre), rounded to double."""
    ts = [HALF * mp.cos(mp.pi * (k + mp.mpf(1) / 2) / NODES) for k in range(NODES)]
    ys, scales = [], []
    for t in ts:
        a, b = terms(centre + t)
        ys.append(a + b)
        scales.append(abs(a) + abs(b))
    fixed = centre == 0  # F(0) = 1/2 exactly: fit (F - 1/2)/t
    first = 1 if fixed else 0
    weights = [mp.mpf(1)] * NODES
    for _ in range(ITERATIONS):
        a = mp.matrix(NODES, PIECE_DEG + 1 - first)
        b = mp.matrix(NODES, 1)
        for i, t in enumerate(ts):
            s = weights[i] / scales[i]
            for j in range(first, PIECE_DEG + 1):
                a[i, j - first] = (t / HALF) ** j * s
            b[i] = (ys[i] - (mp.mpf(1) / 2 if fixed else 0)) * s
        c, _ = mp.qr_solve(a, b)
        coefs = ([mp.mpf(1) / 2] if fixed else []) + [c[j] / (2 * HALF) ** (j + first)
                                                     for j in range(PIECE_DEG + 1 - first)]
        errs = [(mp.polyval(coefs[::-1], 2 * t) - y) / s for t, y, s in zip(ts, ys, scales)]
        worst = max(abs(e) for e in errs)
        weights = [w * mp.sqrt(abs(e) / worst) + mp.mpf(10) ** -30 for w, e in zip(weights, errs)]
    return [float(v) for v in coefs]


def crossing(g, a, b, iterations=60):
    """x in [a, b] where g changes sign (bisection; g(a), g(b) of opposite signs)."""
    ga = g(a)
    for _ in range(iterations):
        m = (a + b) / 2
        if (g(m) > 0) == (ga > 0):
            a, ga = m, g(m)
        else:
            b = m
    return (a + b) / 2


def bfloat16(v):
    """v rounded to its float32 bits' high half (8 significant bits)"""
    bits = (float_bits(v) + 0x8000) & 0xFFFF0000
    return float(np.array([bits], np.uint32).view(np.float32)[0])


def with_low_half(v, low):
    """The float32 nearest v whose bits' low half is `low`"""
    high = float_bits(v) >> 16
    candidates = np.array([((high + k) << 16) | low for k in (-1, 0, 1) if 0 <= high + k <= 0xFFFF],
                          np.uint32).view(np.float32)
    return float(candidates[np.argmin(np.abs(candidates.astype(np.float64) - v))])


def float_bits(v):
    return int(np.array(v, dtype=np.float32).view(np.uint32))


def saturation(name, terms):
    """Rows (kernel, low_f32, low_f16, high): below low (a negative multiple of
    1/16) the result in that storage type rounds to a zero for every input
    (and every finite grad_out); above high the forward result rounds to x,
    the derivative to 1 and backward(g, x) to g, in both types.  Each is the
    crossing rounded outward to the next 1/16, with a margin of 2x in the
    value: half of the smallest subnormal (2^-150 in float32, 2^-25 in
    float16), and |F - 1| = 2^-26 (half the half-ULP that keeps x (1 - d)
    rounding to x at a power of two in float32, and so in float16)."""
    forward = not name.endswith("_grad")
    value = (lambda x: x * sum(terms(x))) if forward else (lambda x: sum(terms(x)))
    high = crossing(lambda x: abs(sum(terms(x)) - 1) - mp.mpf(2) ** -27, mp.mpf(2), mp.mpf(60))
    high = mp.ceil(high * 16) / 16

    def low(tiny, largest_g):
        x = crossing(lambda x: abs(value(x)) * largest_g - tiny, mp.mpf(-400), mp.mpf(-2))
        return mp.floor(x * 16) / 16

    f32 = (mp.mpf(2) ** -151, mp.mpf(float(np.finfo(np.float32).max)))
    f16 = (mp.mpf(2) ** -26, mp.mpf(65504))
    rows = [(name, low(f32[0], 1), low(f16[0], 1), high)]
    if not forward:  # backward(g, x): g * F(x) rounds to a zero for every finite g
        rows.append((name.replace("_grad", "_backward"), low(*f32), low(*f16), high))
    return rows


FLOAT_DEG, FLOAT_NODES = 5, 120
# (table column, centre, a): the piece's u = a x' - k; the column is k mod 32,
# which the kernel reads off the bits of x' + 1.5 2^20
FLOAT_PIECES = [(k % 32, mp.mpf(k) / 8, 8) for k in range(-27, 1)]  # columns 1..4 unused


def fit_float_piece(terms, centre, a, degree, forward):
    """One piece's column of the float32 tier, and the max error of its
    rounded polynomial (exact arithmetic) relative to the scale.

    Derivative factors: [c0 hi, c0 lo, c1, .., c_degree], F = c0 + c1 u + ..
    Forward factors: [h, d0, .., d_degree], x' F(x') = x' h + d(u), with h
    F at the centre rounded to 8 bits (so that 1 - h is exact, and h fits in
    16: the low half of d_degree's bits holds h's high half, so that the
    kernel fetches both with one permute), and the scale |x'| F(x'), the
    forward result's."""
    nodes = np.cos(np.pi * (np.arange(FLOAT_NODES) + 0.5) / FLOAT_NODES) / 2
    if centre == 0:  # the centre piece serves x' <= 0 only
        nodes = -(nodes + 0.5) / 2
    xs = [centre + mp.mpf(float(u)) / a for u in nodes]
    values, scales = [], []
    for x in xs:
        first_term, second_term = terms(x)
        values.append(first_term + second_term)
        scales.append(abs(first_term) + abs(second_term))
    if forward:
        h = bfloat16(float(sum(terms(centre))))
        assert float(np.float32(1 - h)) == 1 - h  # F >= 2^-12 on the range
        # y's own rounding (2^-53) is far below the fit's 2^-29
        y = np.array([float(x * (v - mp.mpf(h))) for x, v in zip(xs, values)])
        scale = np.array([float(abs(x) * s) for x, s in zip(xs, scales)])
        first = 2 if centre == 0 else 0  # x' and F - 1/2 vanish there: d = O(u^2)
        target = y
    else:
        y = np.array([float(v) for v in values])  # c0's pair reaches 2^-48
        scale = np.array([float(v) for v in scales])
        first = 1 if centre == 0 else 0  # F(0) = 1/2 exactly
        target = y - (0.5 if first else 0.0)
    powers = np.vander(nodes, degree + 1, increasing=True)
    weights = np.ones(FLOAT_NODES)
    for _ in range(ITERATIONS + 4):  # Lawson: weights towards minimax
        w = weights / scale
        c = np.linalg.lstsq(powers[:, first:] * w[:, None], target * w, rcond=None)[0]
        err = np.abs(powers[:, first:] @ c - target) / scale
        weights = weights * np.sqrt(err / err.max())
        weights = np.maximum(weights / weights.max(), 1e-6)
    w = weights / scale
    if forward:
        coefs, rest = [h] + [0.0] * first, y
    else:
        c0 = 0.5 if first else float(c[0])
        hi = float(np.float32(c0))
        lo = float(np.float32(c0 - hi))
        coefs, rest, first = [hi, lo], y - hi - lo, 1
    for j in range(first, degree + 1):  # round c_j, refit c_j+1.. on what is left
        cj = np.linalg.lstsq(powers[:, j:] * w[:, None], rest * w, rcond=None)[0][0]
        if forward and j == degree:  # h's high half below: 2^-8 of d_degree u^5 < 2^-30
            cj = with_low_half(cj, float_bits(h) >> 16)
        cj = float(np.float32(cj))
        coefs.append(cj)
        rest = rest - cj * nodes**j
    # the error at the nodes, and (mpmath) between them
    worst = float(np.max(np.abs(rest) / scale))
    for u in np.linspace(nodes.min(), nodes.max(), 201):
        x = centre + mp.mpf(float(u)) / a
        first_term, second_term = terms(x)
        p = sum(mp.mpf(v) * mp.mpf(float(u))**j for j, v in enumerate(coefs[1:]))
        if forward:
            err = abs(x * coefs[0] + p - x * (first_term + second_term)) / abs(x * (first_term + second_term))
        else:
            err = abs(p + coefs[0] - first_term - second_term) / (abs(first_term) + abs(second_term))
        worst = max(worst, float(err))
    return coefs, worst


def float_table(name, terms):
    forward = not name.endswith("_grad")
    table, worst = [[0.0] * 32 for _ in range(FLOAT_DEG + 2)], 0.0
    for column, centre, a in FLOAT_PIECES:
        coefs, err = fit_float_piece(terms, centre, a, FLOAT_DEG, forward)
        worst = max(worst, err)
        # from u to v = u / a: the coefficient of u^j times a^j
        powers = [0] + list(range(FLOAT_DEG + 1)) if forward else [0, 0] + list(range(1, FLOAT_DEG + 1))
        for row, (v, j) in enumerate(zip(coefs, powers)):
            v *= float(a)**j
            table[row][column] = -v if forward and row > 0 and v else v  # +0 stays +0
        if forward:  # the kernel reads h off the top row's low half
            assert float_bits(table[-1][column]) & 0xFFFF == float_bits(table[0][column]) >> 16
    return table, worst


def check_piece(terms, centre, coefs, points=2001):
    """Max error of the double Horner evaluation, relative to the scale."""
    worst = 0.0
    for t in np.linspace(-float(HALF), float(HALF), points):
        p = 0.0
        for v in reversed(coefs):
            p = p * (2 * t) + v
        a, b = terms(centre + mp.mpf(t))
        worst = max(worst, float(abs(mp.mpf(p) - a - b) / (abs(a) + abs(b))))
    return worst


if __name__ == "__main__":
    print("/* Generated by src_c/fit_pieces.py; do not edit. */")
    print(f"#define GF_PIECES_DEG {PIECE_DEG}")
    for name, terms in FACTORS:
        pieces, worst = [], 0.0
        for centre in CENTRES:
            coefs = fit_piece(terms, centre)
            worst = max(worst, check_piece(terms, centre, coefs))
            pieces.append(coefs)
        # the kernel's piece index is k mod 16: rows k = 0..7, then -8..-1
        order = list(range(8, 16)) + list(range(0, 8))
        print(f"/* max error relative to the scale, in double: {worst:.3g} = 2^{np.log2(worst):.1f} */")
        print(f"#define {name} {{ \\")
        for degree in range(PIECE_DEG, -1, -1):
            row = ", ".join(pieces[i][degree].hex() for i in order)
            print(f"    {{{row}}}, \\")
        print("}")
        for kernel, low_f32, low_f16, high in saturation(name[len("GF_PIECES_"):], terms):
            for dtype, low in (("f32", low_f32), ("f16", low_f16)):
                print(f"#define GF_PIECES_LOW_{dtype}_{kernel} 0x{float_bits(-low):08x}u  /* {mp.nstr(low, 8)} */")
            print(f"#define GF_PIECES_HIGH_{kernel} 0x{float_bits(high):08x}u  /* {mp.nstr(high, 8)} */")
    print("/* The float32 tier, at x' = -|x|: column k = round(8x') mod 32,")
    print(" * v = x' - k/8; rows c0 hi, c0 lo, c1, .., cd of F = c0 + c1 v + ..")
    print(" * (derivatives), or h, -d0, .., -dd of x' F(x') = x' h + d(v) (forward).")
    print(" * Errors: of the rounded coefficients in exact arithmetic, relative to")
    print(" * the scale. */")
    print(f"#define GF_FLOAT_PIECES_ROWS {FLOAT_DEG + 2}")
    for name, terms in FACTORS:
        table, worst = float_table(name, terms)
        fname = name.replace("GF_PIECES_", "GF_FLOAT_PIECES_")
        print(f"/* max error relative to the scale: {worst:.3g} = 2^{np.log2(worst):.1f} */")
        print(f"#define {fname} {{ \\")
        for row in table:
            print("    {" + ", ".join(np.float32(v).item().hex() for v in row) + "}, \\")
        print("}")
