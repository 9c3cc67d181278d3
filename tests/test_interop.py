"""__array_ufunc__ dispatch: Dask arrays, xarray DataArrays and pandas Series go
in, the same type comes out, with the same values as on the NumPy array."""
import numpy as np
import pytest

import gelu_fast as gf


def values():
    return np.linspace(-6, 4, 1000).astype(np.float32)


def test_pandas_series_keeps_index_and_name():
    pd = pytest.importorskip("pandas")
    s = pd.Series(values(), index=np.arange(1000) * 2, name="act")
    r = gf.gelu(s)
    assert isinstance(r, pd.Series) and r.name == "act"
    assert (r.index == s.index).all()
    np.testing.assert_array_equal(r.to_numpy(), gf.gelu(values()))
    b = gf.gelu_backward(pd.Series(np.ones(1000, np.float32), index=s.index), s)
    assert isinstance(b, pd.Series)
    np.testing.assert_array_equal(b.to_numpy(), gf.gelu_grad(values()))
    df = pd.DataFrame({"a": values(), "b": -values()})
    rd = gf.gelu_tanh(df)
    assert isinstance(rd, pd.DataFrame) and list(rd.columns) == ["a", "b"]


def test_xarray_dataarray_keeps_coords():
    xr = pytest.importorskip("xarray")
    da = xr.DataArray(values().reshape(10, 100), dims=("batch", "hidden"),
                      coords={"batch": np.arange(10)}, attrs={"units": "1"})
    r = gf.gelu(da)
    assert isinstance(r, xr.DataArray) and r.dims == da.dims
    assert (r.coords["batch"] == da.coords["batch"]).all()
    np.testing.assert_array_equal(r.values, gf.gelu(da.values))


def test_dask_array_stays_lazy():
    da = pytest.importorskip("dask.array")
    x = da.from_array(values(), chunks=128)
    r = gf.gelu(x)
    assert isinstance(r, da.Array)
    np.testing.assert_array_equal(r.compute(), gf.gelu(values()))
    b = gf.gelu_sigmoid_backward(da.ones_like(x), x)
    assert isinstance(b, da.Array)
    np.testing.assert_array_equal(b.compute(), gf.gelu_sigmoid_grad(values()))


def test_dask_distributed_multiprocess_cluster():
    """The ufuncs pickle by name, so tasks ship to worker processes."""
    da = pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster, \
            distributed.Client(cluster) as client:
        x = da.from_array(values(), chunks=250)
        r = client.compute(gf.gelu(x)).result()
        np.testing.assert_array_equal(r, gf.gelu(values()))
        pids = client.run(lambda: __import__("os").getpid())
        assert len(set(pids.values())) == 2
