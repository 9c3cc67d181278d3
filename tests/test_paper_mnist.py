"""examples/paper_mnist.py: the hand-written backward pass of the whole network
against central finite differences in float64 (GELU through gelu_fast's float64
kernels), with dropout off and with a fixed mask; a few float32 training steps
on the digits lower the loss; --quick never writes into docs/."""
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import gelu_fast as gf

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "paper_mnist.py"


@pytest.fixture(scope="module")
def pm():
    if not SCRIPT.exists():
        pytest.skip("no examples/paper_mnist.py next to the tests (installed without the repository)")
    spec = importlib.util.spec_from_file_location("paper_mnist", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("paper_mnist", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def one_thread():
    before = gf.get_num_threads()
    gf.set_num_threads(1)
    yield
    gf.set_num_threads(before)


def _numeric_grads(pm, params, x, y, act, masks, h=1e-5):
    def loss():
        return pm.loss_and_grads(params, x, y, act, masks)[0]
    grads = []
    for layer in params:
        layer_grads = []
        for p in layer:
            g = np.zeros_like(p)
            for i in np.ndindex(p.shape):
                old = p[i]
                p[i] = old + h
                up = loss()
                p[i] = old - h
                down = loss()
                p[i] = old
                g[i] = (up - down) / (2 * h)
            layer_grads.append(g)
        grads.append(layer_grads)
    return grads


@pytest.mark.parametrize("dropout", [False, True], ids=["no-dropout", "fixed-mask"])
@pytest.mark.parametrize("act", ["gelu", "relu", "elu"])
def test_gradients_match_finite_differences(pm, act, dropout):
    rng = np.random.default_rng(7)
    n, sizes = 5, [6, 8, 8, 8, 4]  # three hidden layers of 8 units
    params = pm.init_params(sizes, rng, dtype=np.float64)
    # larger weights and inputs than the unit-norm start, so that the
    # pre-activations reach both sides of every activation's bend
    params = [(2.0 * w, rng.standard_normal(b.shape) * 0.5) for w, b in params]
    x = rng.standard_normal((n, sizes[0])) * 1.5
    y = rng.integers(0, sizes[-1], n)
    masks = pm.dropout_masks(params, n, 0.5, rng) if dropout else None
    if dropout:
        assert {float(v) for m in masks for v in np.unique(m)} == {0.0, 2.0}
    _, (_, pre) = pm.forward(params, x, act, masks)
    assert all(z.dtype == np.float64 for z in pre)
    zs = np.concatenate([z.ravel() for z in pre])
    assert (zs < -0.5).any() and (zs > 0.5).any()
    if act == "relu":  # a kink inside a finite-difference step would spoil the comparison
        assert np.abs(zs).min() > 1e-3
    _, grads = pm.loss_and_grads(params, x, y, act, masks)
    numeric = _numeric_grads(pm, params, x, y, act, masks)
    for i, (analytic_layer, numeric_layer) in enumerate(zip(grads, numeric)):
        for name, a, d in zip(("W", "b"), analytic_layer, numeric_layer):
            assert a.shape == d.shape and a.dtype == np.float64
            rel = np.linalg.norm(a - d) / max(np.linalg.norm(a) + np.linalg.norm(d), 1e-300)
            assert rel < 1e-6, (act, dropout, f"layer {i} {name}", rel)
            assert np.linalg.norm(d) > 0, (act, f"layer {i} {name}")


def test_activations_are_gelu_fast_and_numpy(pm):
    z = np.linspace(-4, 4, 101, dtype=np.float32)
    assert np.array_equal(pm.FORWARD["gelu"](z), gf.gelu(z))
    assert np.array_equal(pm.BACKWARD["gelu"](np.ones_like(z), z), gf.gelu_backward(np.ones_like(z), z))
    assert np.allclose(pm.FORWARD["elu"](z), np.where(z > 0, z, np.exp(z) - 1), atol=1e-6)
    for act in ("gelu", "relu", "elu"):
        assert pm.FORWARD[act](z).dtype == np.float32
        assert pm.BACKWARD[act](np.ones_like(z), z).dtype == np.float32


def test_adam_bias_correction_first_step(pm):
    """After one step from zero moments, each parameter moves by lr * sign(g)
    (up to eps): what the bias correction is for."""
    params = [(np.ones((2, 3), np.float32), np.zeros(3, np.float32))]
    grads = [(np.array([[0.5, -2.0, 1e-3], [3.0, -1e-2, 4.0]], np.float32), np.array([1.0, -1.0, 2.0], np.float32))]
    opt = pm.Adam(params, lr=1e-3)
    opt.step(params, grads)
    assert np.allclose(params[0][0], 1 - 1e-3 * np.sign(grads[0][0]), rtol=0, atol=1e-7)
    assert np.allclose(params[0][1], -1e-3 * np.sign(grads[0][1]), rtol=0, atol=1e-7)
    assert params[0][0].dtype == np.float32


def test_unit_norm_initialisation(pm):
    params = pm.init_params([64, 128, 10], np.random.default_rng(0))
    for w, b in params:
        assert w.dtype == np.float32
        assert np.allclose(np.linalg.norm(w, axis=0), 1, atol=1e-6)
        assert not b.any()


@pytest.mark.parametrize("dropout", [0.0, 0.5])
def test_a_few_training_steps_lower_the_loss(pm, dropout):
    pytest.importorskip("sklearn", reason="the digits come from scikit-learn (pip install -e \".[paper]\")")
    from threadpoolctl import threadpool_limits
    data = pm.load_data()
    assert [len(a) for a in data] == [1437, 1437, 360, 360]
    with threadpool_limits(1):
        h = pm.train(data, "gelu", dropout, epochs=2, run=0)
        again = pm.train(data, "gelu", dropout, epochs=2, run=0)
    assert h["train_loss"].shape == (3,)
    assert h["train_loss"][-1] < h["train_loss"][0]
    assert h["val_loss"][-1] < h["val_loss"][0]
    for k in h:  # fixed seeds: the same numbers again
        assert np.array_equal(h[k], again[k]), k


def test_quick_never_writes_into_docs(pm, tmp_path):
    class Args:
        quick, out = True, None
    temporary = pm.output_dir(Args)
    temporary.rmdir()  # a fresh, empty folder
    assert temporary.resolve() != pm.DOCS.resolve()
    Args.out = str(pm.DOCS)
    with pytest.raises(SystemExit):
        pm.output_dir(Args)
    Args.quick, Args.out = False, None
    assert pm.output_dir(Args) == pm.DOCS
    Args.quick, Args.out = True, str(tmp_path)
    assert pm.output_dir(Args) == tmp_path.resolve()


def test_markdown_block_is_replaced_and_prose_kept(pm, tmp_path):
    path = tmp_path / "page.md"
    path.write_text(f"# title\n\nbefore\n\n{pm.BEGIN}\nold\n{pm.END}\n\nafter\n", encoding="utf-8")
    pm.write_markdown(path, f"{pm.BEGIN}\nnew\n{pm.END}")
    assert path.read_text(encoding="utf-8") == f"# title\n\nbefore\n\n{pm.BEGIN}\nnew\n{pm.END}\n\nafter\n"
