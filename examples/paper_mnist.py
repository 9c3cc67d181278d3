"""The GELU paper's MNIST classification experiment on scikit-learn's 8x8 digits, in NumPy.

Hendrycks & Gimpel (2016), "Gaussian Error Linear Units", Fig. 2: a fully
connected network of 128-unit layers trained with Adam (lr 1e-3, batch 128,
50 epochs) from unit-norm initial weights, with GELU, ReLU and ELU, without
dropout and with dropout 0.5; each curve the median of five runs.  Here the
data are the 1,797 8x8 digits that ship with scikit-learn (no download) and
the network is written out by hand: forward and backward passes, softmax
cross-entropy, inverted dropout and Adam with bias correction, trained in
float32, with GELU and its gradient from gelu_fast (`gelu`, `gelu_backward`).

    python examples/paper_mnist.py            # 50 epochs x 5 runs: docs/paper_mnist.png, docs/paper_mnist.md
    python examples/paper_mnist.py --quick    # 10 epochs x 2 runs, into a temporary folder
    python examples/paper_mnist.py --out DIR  # the full run, into DIR

Needs scikit-learn (the data) and matplotlib (the figure): pip install -e ".[paper]".
The run is one thread (gelu_fast and BLAS) unless --threads says otherwise, and
every seed is fixed, so the same command on the same machine and libraries
gives the same numbers.  In docs/paper_mnist.md only the part between the
markers below is rewritten; the prose around it is kept.
"""
import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import gelu_fast as gf

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
BEGIN = "<!-- begin: written by examples/paper_mnist.py -->"
END = "<!-- end: written by examples/paper_mnist.py -->"

HIDDEN = [128] * 8        # the authors' script: eight hidden layers of 128, then the 10-way output
BATCH = 128
LR = 1e-3
SEED = 2016
ACTIVATIONS = ("gelu", "relu", "elu")
LABELS = {"gelu": "GELU", "relu": "ReLU", "elu": "ELU"}
COLOURS = {"gelu": "tab:blue", "relu": "tab:orange", "elu": "tab:green"}
DROPOUTS = (0.0, 0.5)


# --- activations: forward f(z), backward (grad, z) -> grad * f'(z) ---

def _relu(z):
    return np.maximum(z, 0)


def _relu_backward(g, z):
    return g * (z > 0)


def _elu(z):  # alpha = 1
    return np.where(z > 0, z, np.expm1(np.minimum(z, 0)))


def _elu_backward(g, z):
    return g * np.exp(np.minimum(z, 0))


FORWARD = {"gelu": gf.gelu, "relu": _relu, "elu": _elu}
BACKWARD = {"gelu": gf.gelu_backward, "relu": _relu_backward, "elu": _elu_backward}


# --- the network ---

def init_params(sizes, rng, dtype=np.float32):
    """[(W, b)] for layers sizes[0] -> sizes[1] -> ...: each unit's incoming
    weight vector (a column of W) drawn from a standard normal and scaled to
    unit norm, so it lies on the unit hypersphere; biases zero."""
    params = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        w = rng.standard_normal((n_in, n_out))
        w /= np.linalg.norm(w, axis=0, keepdims=True)
        params.append((w.astype(dtype), np.zeros(n_out, dtype=dtype)))
    return params


def dropout_masks(params, n, rate, rng):
    """One mask per hidden layer (none on the input or the logits), inverted
    scaling: kept units are multiplied by 1 / (1 - rate) at train time, so
    nothing changes at test time.  None when rate is 0."""
    if not rate:
        return None
    dtype = params[0][0].dtype
    scale = dtype.type(1 / (1 - rate))
    return [(rng.random((n, w.shape[1]), dtype=dtype) >= rate) * scale for w, _ in params[:-1]]


def forward(params, x, act, masks=None):
    """Logits, and what the backward pass needs: each layer's input and each
    hidden layer's pre-activation."""
    f = FORWARD[act]
    inputs, pre = [], []
    h = x
    for i, (w, b) in enumerate(params[:-1]):
        inputs.append(h)
        z = h @ w + b
        pre.append(z)
        h = f(z)
        if masks is not None:
            h = h * masks[i]
    inputs.append(h)
    w, b = params[-1]
    return h @ w + b, (inputs, pre)


def log_softmax(logits):
    shifted = logits - logits.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def cross_entropy(logits, y):
    """Mean softmax cross-entropy (log loss, nats) and its gradient in the logits."""
    logp = log_softmax(logits)
    n = len(y)
    loss = -logp[np.arange(n), y].mean()
    grad = np.exp(logp)
    grad[np.arange(n), y] -= 1
    return float(loss), grad / grad.dtype.type(n)


def loss_and_grads(params, x, y, act, masks=None):
    """Loss and [(dW, db)] of the mean cross-entropy over the batch."""
    logits, (inputs, pre) = forward(params, x, act, masks)
    loss, g = cross_entropy(logits, y)
    back = BACKWARD[act]
    grads = [None] * len(params)
    for i in range(len(params) - 1, -1, -1):
        w, _ = params[i]
        grads[i] = (inputs[i].T @ g, g.sum(axis=0))
        if i:
            g = g @ w.T
            if masks is not None:
                g = g * masks[i - 1]
            g = back(g, pre[i - 1])
    return loss, grads


class Adam:
    """Adam (Kingma & Ba) with bias correction; updates the arrays in place."""

    def __init__(self, params, lr=LR, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.m = [np.zeros_like(p) for layer in params for p in layer]
        self.v = [np.zeros_like(p) for layer in params for p in layer]
        self.t = 0

    def step(self, params, grads):
        self.t += 1
        c1 = 1 - self.beta1 ** self.t
        c2 = 1 - self.beta2 ** self.t
        flat = [p for layer in params for p in layer]
        for p, g, m, v in zip(flat, [g for layer in grads for g in layer], self.m, self.v):
            m *= self.beta1
            m += (1 - self.beta1) * g
            v *= self.beta2
            v += (1 - self.beta2) * g * g
            p -= self.lr * (m / c1) / (np.sqrt(v / c2) + self.eps)


def evaluate(params, x, y, act):
    """Log loss (float64 reduction of float32 logits) and accuracy, dropout off."""
    logits, _ = forward(params, x, act)
    logits = logits.astype(np.float64)
    loss = -log_softmax(logits)[np.arange(len(y)), y].mean()
    return float(loss), float((logits.argmax(axis=1) == y).mean())


def train(data, act, dropout, epochs, run, hidden=HIDDEN, lr=LR, batch=BATCH, seed=SEED):
    """One run: per-epoch training-set and validation log loss and accuracy
    (index 0 is before the first step), each on the whole set, dropout off.

    The initial weights, the minibatch order and the dropout draws depend only
    on (seed, run), so the activations of one run index start from the same
    weights and see the same batches."""
    x_tr, y_tr, x_va, y_va = data
    params = init_params([x_tr.shape[1], *hidden, int(y_tr.max()) + 1], np.random.default_rng([seed, run, 0]))
    order_rng = np.random.default_rng([seed, run, 1])
    drop_rng = np.random.default_rng([seed, run, 2])
    opt = Adam(params, lr=lr)
    history = {k: [] for k in ("train_loss", "train_acc", "val_loss", "val_acc")}

    def record():
        for split, (x, y) in (("train", (x_tr, y_tr)), ("val", (x_va, y_va))):
            loss, acc = evaluate(params, x, y, act)
            history[split + "_loss"].append(loss)
            history[split + "_acc"].append(acc)

    record()
    steps = len(y_tr) // batch  # full batches only; the remainder joins the next epoch's shuffle
    for _ in range(epochs):
        perm = order_rng.permutation(len(y_tr))
        for s in range(steps):
            idx = perm[s * batch:(s + 1) * batch]
            masks = dropout_masks(params, len(idx), dropout, drop_rng)
            _, grads = loss_and_grads(params, x_tr[idx], y_tr[idx], act, masks)
            opt.step(params, grads)
        record()
    return {k: np.array(v) for k, v in history.items()}


def load_data(seed=0):
    """The 1,797 digits, pixels scaled to [0, 1], split stratified 1437/360."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.intp)
    x_tr, x_va, y_tr, y_va = train_test_split(x, y, test_size=360, stratify=y, random_state=seed)
    return x_tr, y_tr, x_va, y_va


# --- the experiment and its report ---

def run_all(data, epochs, runs, log=print):
    """{(dropout, act): {key: array (runs, epochs + 1)}}."""
    results = {}
    for dropout in DROPOUTS:
        for act in ACTIVATIONS:
            t0 = time.perf_counter()
            hs = [train(data, act, dropout, epochs, run) for run in range(runs)]
            results[dropout, act] = {k: np.stack([h[k] for h in hs]) for k in hs[0]}
            final = results[dropout, act]["train_loss"][:, -1]
            log(f"dropout {dropout:g}, {LABELS[act]:4}: final training loss per run "
                + " ".join(f"{v:.3g}" for v in final) + f"  ({time.perf_counter() - t0:.1f} s)")
    return results


def table(results):
    lines = ["| dropout | activation | training loss | validation loss | validation accuracy "
             "| training loss, min-max over runs |",
             "|---:|---|---:|---:|---:|---:|"]
    for dropout in DROPOUTS:
        best = min(ACTIVATIONS, key=lambda a: np.median(results[dropout, a]["train_loss"][:, -1]))
        for act in ACTIVATIONS:
            r = results[dropout, act]
            tl = r["train_loss"][:, -1]
            name = f"**{LABELS[act]}**" if act == best else LABELS[act]
            lines.append(f"| {dropout:g} | {name} | {np.median(tl):.3g} | {np.median(r['val_loss'][:, -1]):.3g} "
                         f"| {100 * np.median(r['val_acc'][:, -1]):.1f}% | {tl.min():.3g}-{tl.max():.3g} |")
    return "\n".join(lines)


def figure(results, epochs, runs, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    x = np.arange(epochs + 1)
    for ax, dropout in zip(axes, DROPOUTS):
        for act in ACTIVATIONS:
            r = results[dropout, act]
            c = COLOURS[act]
            ax.plot(x, np.median(r["train_loss"], axis=0), color=c, lw=1.8, label=f"{LABELS[act]} training")
            ax.plot(x, np.median(r["val_loss"], axis=0), color=c, lw=1.4, alpha=0.35, label=f"{LABELS[act]} validation")
        ax.set_yscale("log")
        ax.set_xlabel("epoch")
        ax.set_title(f"dropout {dropout:g}")
        ax.grid(True, which="both", alpha=0.2)
    axes[0].set_ylabel("log loss (median of %d runs)" % runs)
    axes[1].legend(fontsize=8, ncol=2)
    fig.suptitle("8x8 digits, 8 hidden layers of 128, Adam lr 1e-3, batch 128", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)


def block(results, epochs, runs, command, png_name):
    return "\n".join([
        BEGIN,
        "",
        f"`{command}` ({epochs} epochs, median of {runs} runs; losses and accuracy after the last epoch, "
        "on the whole training set or the 360 held-out digits, dropout off; bold: lowest median training loss):",
        "",
        table(results),
        "",
        f"![training (dark) and validation (faint) log loss per epoch]({png_name})",
        "",
        END,
    ])


def write_markdown(path, text):
    """Replace the marked block of an existing file, or write the block alone."""
    if path.exists():
        old = path.read_text(encoding="utf-8")
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.DOTALL)
        if pattern.search(old):
            path.write_text(pattern.sub(lambda _: text, old, count=1), encoding="utf-8")
            return
    path.write_text(text + "\n", encoding="utf-8")


def output_dir(args):
    """Where the figure and the table go: --out, else docs/ for the full run and
    a new temporary folder for --quick, which never writes into docs/."""
    if args.out is not None:
        out = Path(args.out).resolve()
        if args.quick and out == DOCS.resolve():
            raise SystemExit("--quick does not write into docs/: its figure and table are the full run's")
        return out
    return Path(tempfile.mkdtemp(prefix="paper_mnist_")) if args.quick else DOCS


def limit_threads(n):
    gf.set_num_threads(n)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        print("threadpoolctl not installed: BLAS keeps its own thread count", file=sys.stderr)
        return None
    return threadpool_limits(n)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 epochs x 2 runs, into a temporary folder")
    parser.add_argument("--epochs", type=int, help="default 50 (10 with --quick)")
    parser.add_argument("--runs", type=int, help="default 5 (2 with --quick)")
    parser.add_argument("--out", help="folder for paper_mnist.png and paper_mnist.md (default docs/)")
    parser.add_argument("--threads", type=int, default=1, help="gelu_fast and BLAS threads (default 1)")
    args = parser.parse_args(argv)
    epochs = args.epochs or (10 if args.quick else 50)
    runs = args.runs or (2 if args.quick else 5)
    out = output_dir(args)
    out.mkdir(parents=True, exist_ok=True)
    command = "python examples/paper_mnist.py" + "".join(f" {a}" for a in (argv if argv is not None else sys.argv[1:]))
    limits = limit_threads(args.threads)  # noqa: F841  (kept alive for the run)

    t0 = time.perf_counter()
    data = load_data()
    print(f"digits: {len(data[1])} training, {len(data[3])} validation; network 64-{'-'.join(map(str, HIDDEN))}-10; "
          f"{epochs} epochs x {runs} runs x {len(ACTIVATIONS)} activations x {len(DROPOUTS)} dropout rates; "
          f"{args.threads} thread(s)")
    results = run_all(data, epochs, runs)
    png, md = out / "paper_mnist.png", out / "paper_mnist.md"
    figure(results, epochs, runs, png)
    text = block(results, epochs, runs, command, png.name)
    write_markdown(md, text)
    print()
    print(table(results))
    print()
    print(f"wrote {png} and {md} in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
