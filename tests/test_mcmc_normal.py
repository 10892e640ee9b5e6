"""Normal draws from the chain streams: compiled fill against the NumPy replay."""

import numpy as np
import pytest
from scipy import stats

from ebmfast import _mcmc_fast
from ebmfast._normal_reference import (log_unit, log_unit_f32, normals_from_raw_f32,
                                      standard_normal, standard_normal_rows)
from ebmfast._random import ChainStreams


@pytest.mark.parametrize("n", [1, 2, 7, 128, 129, 300])
def test_normal_fill_replays_exactly(dtype, n):
    streams = ChainStreams(np.random.SeedSequence(3), 5)
    twin = streams.copy()
    fast = np.empty((5, n), dtype=dtype)
    _mcmc_fast.normal_rows(streams.states, fast, 2)
    reference = standard_normal_rows(twin, n, dtype)
    assert np.array_equal(fast, reference)
    assert np.array_equal(streams.states, twin.states)


def test_normal_fill_draws_half_as_many_words():
    streams = ChainStreams(np.random.SeedSequence(4), 1)
    counter = int(streams.states[0, 3])  # SFC64 counts its draws in word 3
    standard_normal(streams, 0, 7)
    assert int(streams.states[0, 3]) - counter == 4  # ceil(7 / 2)


def test_normal_fill_independent_of_threads():
    outputs = []
    for n_threads in (1, 2):
        streams = ChainStreams(np.random.SeedSequence(5), 64)
        out = np.empty((64, 33))
        _mcmc_fast.normal_rows(streams.states, out, n_threads)
        outputs.append(out)
    assert np.array_equal(outputs[0], outputs[1])


def test_log_polynomial_accuracy():
    u = np.concatenate([np.linspace(2.0**-32, 1.0, 100001), [2.0**-32, 0.5, 1.0]])
    np.testing.assert_allclose(log_unit(u), np.log(u), rtol=4e-16, atol=1e-16)


def test_float32_log_polynomial_accuracy():
    u = np.concatenate([np.linspace(2.0**-32, 1.0, 100001), [2.0**-32, 0.5, 1.0]])
    u = u.astype(np.float32)
    exact = np.log(u.astype(np.float64))
    error = np.abs(log_unit_f32(u).astype(np.float64) - exact)
    # Within two float32 units in the last place of the result, or 1e-7 near u = 1.
    assert (error <= np.maximum(2 * np.spacing(np.abs(exact).astype(np.float32)), 1e-7)).all()


def test_float32_normal_extremes():
    # All-zero and all-one bits give the smallest and the largest radius.
    raw = np.array([0, 2**64 - 1, 2**63, 12345], dtype=np.uint64)
    z = normals_from_raw_f32(raw)
    assert z.dtype == np.float32
    assert np.isfinite(z).all()
    assert np.abs(z).max() < np.sqrt(64 * np.log(2))
    radius = np.hypot(z[0], z[1])
    np.testing.assert_allclose(radius, np.sqrt(-2 * np.log(2.0**-32)), rtol=1e-6)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_normal_moments(dtype):
    streams = ChainStreams(np.random.SeedSequence(6), 100)
    z = np.empty((100, 20000), dtype=dtype)
    _mcmc_fast.normal_rows(streams.states, z, 2)
    z = z.astype(np.float64)
    z = z.ravel()
    n = z.size
    # Standard errors of the first four sample moments of N(0, 1).
    assert abs(z.mean()) < 5 / np.sqrt(n)
    assert abs(z.var() - 1) < 5 * np.sqrt(2 / n)
    assert abs(stats.skew(z)) < 5 * np.sqrt(6 / n)
    assert abs(stats.kurtosis(z)) < 5 * np.sqrt(24 / n)
    assert stats.kstest(z[:200000], "norm").pvalue > 1e-4


def test_normal_pairs_uncorrelated():
    streams = ChainStreams(np.random.SeedSequence(7), 1)
    z = standard_normal(streams, 0, 400000)
    r = np.corrcoef(z[0::2], z[1::2])[0, 1]
    assert abs(r) < 5 / np.sqrt(200000)
    # The radius and angle come from separate bits: z0^2 and z1^2 stay uncorrelated.
    r2 = np.corrcoef(z[0::2] ** 2, z[1::2] ** 2)[0, 1]
    assert abs(r2) < 5 / np.sqrt(200000)
