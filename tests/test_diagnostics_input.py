"""Tests of input validation shared by all diagnostics functions."""

import warnings

import numpy as np
import pytest

from ebmfast.diagnostics import (
    autocorrelation,
    ess,
    integrated_time,
    mcse_mean,
    rhat,
    summary,
)

FUNCTIONS = {
    "autocorrelation": autocorrelation,
    "ess": ess,
    "integrated_time": lambda x: integrated_time(x, on_short="ignore"),
    "mcse_mean": mcse_mean,
    "rhat": rhat,
    "summary": summary,
}


class SamplerResult:
    """Stand-in for a sampler result: any object with a ``samples`` attribute."""

    def __init__(self, samples):
        self.samples = samples


@pytest.fixture(params=list(FUNCTIONS))
def function(request):
    return FUNCTIONS[request.param]


def test_rejects_one_dimensional_array(function):
    with pytest.raises(ValueError, match=r"samples must have shape \(n_chains, n_draws\) or \(n_chains, n_draws, d\); got ndim=1 with shape \(10,\)"):
        function(np.zeros(10))


def test_rejects_four_dimensional_array(function):
    with pytest.raises(ValueError, match=r"got ndim=4 with shape \(2, 10, 3, 1\)"):
        function(np.zeros((2, 10, 3, 1)))


@pytest.mark.parametrize("shape", [(0, 10), (2, 0), (2, 10, 0)])
def test_rejects_empty_axis(function, shape):
    with pytest.raises(ValueError, match=rf"at least one chain, one draw and one dimension; got shape \({shape[0]}, "):
        function(np.zeros(shape))


@pytest.mark.parametrize(
    ("values", "dtype_text"),
    [
        (np.array([["a", "b", "c", "d"]]), "<U1"),
        (np.array([[1.0, None, 2.0, 3.0]], dtype=object), "object"),
        (np.ones((2, 10), dtype=complex), "complex128"),
    ],
)
def test_rejects_non_numeric(function, values, dtype_text):
    with pytest.raises(TypeError, match=f"samples must contain real numbers .*got dtype {dtype_text}"):
        function(values)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_rejects_non_finite_naming_location(function, bad_value):
    x = np.random.default_rng(40).standard_normal((2, 10, 3))
    x[1, 3, 2] = bad_value
    with pytest.raises(ValueError, match=rf"samples must be finite, but it contains {bad_value} at chain 1, draw 3, dimension 2 \(1 non-finite values in total\)"):
        function(x)


def test_non_finite_message_for_two_dimensional_input():
    x = np.zeros((2, 10))
    x[0, 4] = np.nan
    with pytest.raises(ValueError, match=r"contains nan at chain 0, draw 4 \(1 non-finite"):
        ess(x)


def test_result_object_accepted():
    x = np.random.default_rng(41).standard_normal((3, 200, 2))
    result = SamplerResult(x)
    np.testing.assert_array_equal(ess(result), ess(x))
    np.testing.assert_array_equal(rhat(result), rhat(x))
    np.testing.assert_array_equal(mcse_mean(result), mcse_mean(x))
    np.testing.assert_array_equal(autocorrelation(result), autocorrelation(x))
    np.testing.assert_array_equal(integrated_time(result, tol=0.0), integrated_time(x, tol=0.0))
    assert summary(result).to_dict() == summary(x).to_dict()


def test_result_object_error_names_attribute():
    with pytest.raises(ValueError, match=r"samples.samples must have shape .* got ndim=1"):
        ess(SamplerResult(np.zeros(10)))


def test_accepts_lists_bools_and_integers():
    as_list = [[0.1, 0.5, -0.3, 0.9, 0.2, -1.0], [0.4, -0.2, 0.8, 0.0, -0.6, 0.3]]
    assert ess(as_list) == ess(np.array(as_list))

    indicator = np.random.default_rng(42).random((2, 100)) < 0.3
    assert ess(indicator, method="mean") == ess(indicator.astype(float), method="mean")

    counts = np.random.default_rng(43).integers(0, 10, size=(2, 100), dtype=np.int16)
    assert rhat(counts) == rhat(counts.astype(float))


def test_inputs_not_modified(function):
    x = np.random.default_rng(44).standard_normal((3, 50, 2))
    x[0, :, 1] = 1.0
    original = x.copy()
    x.setflags(write=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        function(x)
        function(x[:, :, 0])
    np.testing.assert_array_equal(x, original)


def test_float32_input_not_modified():
    x = np.random.default_rng(45).standard_normal((2, 50)).astype(np.float32)
    original = x.copy()
    ess(x)
    rhat(x)
    autocorrelation(x)
    assert x.dtype == np.float32
    np.testing.assert_array_equal(x, original)


def test_result_shapes():
    x3 = np.random.default_rng(46).standard_normal((2, 50, 3))
    x2 = x3[:, :, 0]
    for function in (ess, rhat, mcse_mean, lambda x: integrated_time(x, on_short="ignore")):
        assert isinstance(function(x2), float)
        assert function(x3).shape == (3,)
        assert function(x3)[0] == function(x2)
