"""gelu_fast.functional: the torch-style spelling over the ufuncs."""
import numpy as np
import pytest

import gelu_fast as gf
from gelu_fast import functional as F

X = np.linspace(-5, 5, 101).astype(np.float32)


@pytest.mark.parametrize("approximate,forward", [
    ("none", gf.gelu), ("tanh", gf.gelu_tanh), ("sigmoid", gf.gelu_sigmoid)])
def test_dispatch(approximate, forward):
    np.testing.assert_array_equal(F.gelu(X, approximate=approximate), forward(X))
    g = np.full_like(X, 0.25)
    backward = getattr(gf, forward.__name__ + "_backward")
    np.testing.assert_array_equal(F.gelu_backward(g, X, approximate=approximate), backward(g, X))


def test_default_is_exact_and_out_works():
    out = np.empty_like(X)
    r = F.gelu(X, out=out)
    assert r is out
    np.testing.assert_array_equal(out, gf.gelu(X))
    out2 = np.empty_like(X)
    assert F.gelu_backward(np.ones_like(X), X, out=out2) is out2


@pytest.mark.parametrize("bad", ["exact", "Tanh", "", None, 1])
def test_unknown_approximate_raises_valueerror(bad):
    with pytest.raises(ValueError, match="approximate"):
        F.gelu(X, approximate=bad)
    with pytest.raises(ValueError, match="approximate"):
        F.gelu_backward(X, X, approximate=bad)


def test_matches_torch_where_torch_is_accurate():
    torch = pytest.importorskip("torch")
    x = np.linspace(-3, 3, 1001)  # float64: torch's double path is accurate here
    for approximate in ("none", "tanh"):
        t = torch.nn.functional.gelu(torch.from_numpy(x), approximate=approximate).numpy()
        np.testing.assert_allclose(F.gelu(x, approximate=approximate), t, rtol=1e-12, atol=1e-300)
