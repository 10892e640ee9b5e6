"""Tests of the autocorrelation function and the integrated autocorrelation time."""

import pickle
import time
import warnings

import numpy as np
import pytest
from helpers import DATASETS, ar1, slow_chains

from ebmfast.diagnostics import (
    AutocorrError,
    AutocorrWarning,
    autocorrelation,
    integrated_time,
)


# Computed once with emcee 3.1.6 (NumPy 2.4):
# emcee.autocorr.integrated_time(x.T, c=5, quiet=True)[0] on the DATASETS arrays of tests/helpers.py.
EMCEE_TAU = {
    "white": 0.9588486919415964,
    "ar09": 17.66861131951366,
    "anti05": 0.0014910795378986208,
    "anti03": 0.5203431243961063,
    "slow": 105.29835834885743,
    "odd": 3.17382787633543,
}

# Computed once with ArviZ 0.23.4: az.ess(az.convert_to_dataset(x), method="identity").
# Geyer's tau is N / ESS whenever ArviZ's floor of 1 / log10(N) is not reached.
ARVIZ_UNSPLIT_ESS = {
    "white": 4033.4891399172393,
    "ar09": 5325.940722371982,
    "slow": 43.586448866219726,
}


def direct_autocorrelation(chain):
    """Compute the biased autocorrelation of a 1-D chain by the O(n^2) definition."""
    centred = chain - chain.mean()
    n = centred.size
    acov = np.array([np.dot(centred[: n - t], centred[t:]) / n for t in range(n)])
    return acov / acov[0]


def test_acf_matches_direct_sum():
    rng = np.random.default_rng(20)
    x = rng.standard_normal((3, 50, 2)) + np.linspace(0.0, 3.0, 50)[np.newaxis, :, np.newaxis]
    per_chain = autocorrelation(x, average=False)
    assert per_chain.shape == (3, 50, 2)
    for chain in range(3):
        for dim in range(2):
            np.testing.assert_allclose(
                per_chain[chain, :, dim], direct_autocorrelation(x[chain, :, dim]), atol=1e-12
            )
    np.testing.assert_allclose(autocorrelation(x), per_chain.mean(axis=0), atol=1e-15)


def test_acf_has_no_circular_wrap():
    # A linear ramp is strongly correlated with itself shifted, and negatively
    # correlated at lags past half its length. A circular FFT without padding
    # would mix the two and break the match at large lags.
    ramp = np.arange(64, dtype=float)[np.newaxis, :]
    np.testing.assert_allclose(autocorrelation(ramp), direct_autocorrelation(ramp[0]), atol=1e-12)


def test_acf_shapes_and_max_lag():
    x = np.random.default_rng(21).standard_normal((2, 30))
    assert autocorrelation(x).shape == (30,)
    assert autocorrelation(x, average=False).shape == (2, 30)
    assert autocorrelation(x, max_lag=5).shape == (6,)
    assert autocorrelation(x[:, :, np.newaxis], max_lag=0).shape == (1, 1)
    assert autocorrelation(x)[0] == pytest.approx(1.0)


def test_acf_rejects_bad_max_lag():
    x = np.zeros((2, 30)) + np.arange(30)
    with pytest.raises(ValueError, match="max_lag must be between 0 and n_draws - 1 = 29; got 30"):
        autocorrelation(x, max_lag=30)
    with pytest.raises(ValueError, match="max_lag must be between 0 and n_draws - 1 = 29; got -1"):
        autocorrelation(x, max_lag=-1)
    with pytest.raises(ValueError, match="max_lag must be an integer; got 2.5"):
        autocorrelation(x, max_lag=2.5)


def test_acf_ar1_lag_one():
    rho = autocorrelation(DATASETS["ar09"](), max_lag=3)
    np.testing.assert_allclose(rho[1:], [0.9, 0.81, 0.729], atol=0.02)


def test_acf_matches_installed_emcee():
    emcee = pytest.importorskip("emcee")
    x = DATASETS["odd"]()
    for chain in range(x.shape[0]):
        np.testing.assert_allclose(
            autocorrelation(x[chain : chain + 1]),
            emcee.autocorr.function_1d(x[chain]),
            atol=1e-12,
        )


def test_acf_constant_chain_is_nan():
    x = np.random.default_rng(22).standard_normal((2, 20))
    x[1] = 3.0
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per_chain = autocorrelation(x, average=False)
        assert np.isfinite(per_chain[0]).all()
        assert np.isnan(per_chain[1]).all()
        assert np.isnan(autocorrelation(x)).all()


def test_acf_million_draws_is_fast():
    # Measured about 0.09 s on a 2-core AMD EPYC VM. An O(n^2) method would take
    # minutes, so the 5 s bound only catches that kind of regression.
    x = np.random.default_rng(23).standard_normal((1, 1_000_000))
    start = time.perf_counter()
    rho = autocorrelation(x)
    elapsed = time.perf_counter() - start
    assert rho.shape == (1_000_000,)
    assert elapsed < 5.0


@pytest.mark.parametrize("name", list(EMCEE_TAU))
def test_sokal_matches_stored_emcee_values(name):
    tau = integrated_time(DATASETS[name](), on_short="ignore")
    assert tau == pytest.approx(EMCEE_TAU[name], rel=1e-9)


@pytest.mark.parametrize("name", ["white", "ar09", "slow", "odd"])
def test_sokal_matches_installed_emcee(name):
    emcee = pytest.importorskip("emcee")
    x = DATASETS[name]()
    expected = emcee.autocorr.integrated_time(x.T, c=5, quiet=True)[0]
    assert integrated_time(x, on_short="ignore") == pytest.approx(expected, rel=1e-9)


def test_sokal_matches_installed_emcee_per_dimension():
    emcee = pytest.importorskip("emcee")
    x = np.stack([ar1(0.5, 4, 3000, 24), ar1(0.8, 4, 3000, 25)], axis=2)
    expected = emcee.autocorr.integrated_time(x.transpose(1, 0, 2), c=7, quiet=True)
    np.testing.assert_allclose(integrated_time(x, c=7), expected, rtol=1e-9)


@pytest.mark.parametrize("name", list(ARVIZ_UNSPLIT_ESS))
def test_geyer_matches_stored_arviz_values(name):
    x = DATASETS[name]()
    tau = integrated_time(x, method="geyer", on_short="ignore")
    assert tau == pytest.approx(x.size / ARVIZ_UNSPLIT_ESS[name], rel=1e-9)


@pytest.mark.parametrize("method", ["sokal", "threshold", "geyer"])
def test_tau_ar1_closed_form(method):
    # tau = (1 + rho) / (1 - rho) = 19. The Sokal estimate from 10^5 draws has a
    # relative standard error of about sqrt(2 * (2M + 1) / N) = 6% for a
    # window M near 95, so 20% is about three standard errors.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tau = integrated_time(DATASETS["ar09"](), method=method)
    assert tau == pytest.approx(19.0, rel=0.2)


@pytest.mark.parametrize("method", ["sokal", "threshold", "geyer"])
def test_tau_below_one_for_anticorrelated_chain(method):
    # rho = -0.3 gives tau = 0.7 / 1.3 = 0.538, returned as is and without warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tau = integrated_time(DATASETS["anti03"](), method=method)
    assert tau < 1.0
    assert tau == pytest.approx(0.7 / 1.3, rel=0.1)


def test_strong_anticorrelation_geyer_and_threshold():
    # rho = -0.5 gives tau = 1/3.
    x = DATASETS["anti05"]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert integrated_time(x, method="geyer") == pytest.approx(1.0 / 3.0, rel=0.05)
        assert integrated_time(x, method="threshold") == pytest.approx(1.0 / 3.0, rel=0.15)


def test_strong_anticorrelation_sokal_is_flagged():
    # The Sokal window closes at lag 1, where tau(1) = 1 + 2 rho(1) is near 0.
    with pytest.warns(AutocorrWarning, match="method='geyer'") as record:
        tau = integrated_time(DATASETS["anti05"]())
    assert tau == pytest.approx(EMCEE_TAU["anti05"], rel=1e-9)
    assert record[0].message.tau == tau


def test_short_chain_warns_with_estimate():
    x = DATASETS["slow"]()
    with pytest.warns(AutocorrWarning, match=r"n_draws = 2000 per chain is below tol \* tau = 50 \* 105.3") as record:
        tau = integrated_time(x)
    assert tau == pytest.approx(EMCEE_TAU["slow"], rel=1e-9)
    assert record[0].message.tau == tau


def test_short_chain_raises_with_estimate():
    x = DATASETS["slow"]()
    with pytest.raises(AutocorrError, match="Run longer chains") as excinfo:
        integrated_time(x, on_short="raise")
    assert isinstance(excinfo.value, RuntimeError)
    assert excinfo.value.tau == pytest.approx(EMCEE_TAU["slow"], rel=1e-9)


def test_short_chain_ignored():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tau = integrated_time(DATASETS["slow"](), on_short="ignore")
    assert tau == pytest.approx(EMCEE_TAU["slow"], rel=1e-9)


def test_tol_zero_accepts_short_chain():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        integrated_time(DATASETS["slow"](), tol=0.0)


def test_short_chain_message_names_dimensions():
    x = np.stack([np.random.default_rng(26).standard_normal((4, 2000)), slow_chains()], axis=2)
    with pytest.raises(AutocorrError, match=r"\(dimensions \[1\]\)") as excinfo:
        integrated_time(x, on_short="raise")
    assert excinfo.value.tau.shape == (2,)
    assert excinfo.value.tau[1] == pytest.approx(EMCEE_TAU["slow"], rel=1e-9)


def test_threshold_never_reached_is_flagged():
    # An alternating chain of 12 draws has |rho(t)| = (12 - t) / 12 >= 1/12 at
    # every lag, so |rho(t)| never falls below 0.05.
    alternating = (np.arange(12) % 2).astype(float)[np.newaxis, :]
    with pytest.warns(AutocorrWarning, match="never fell below threshold"):
        integrated_time(alternating, method="threshold", tol=0.0)


def test_autocorr_error_pickles():
    error = AutocorrError("too short", tau=np.array([1.0, 2.0]))
    restored = pickle.loads(pickle.dumps(error))
    assert str(restored) == "too short"
    np.testing.assert_array_equal(restored.tau, [1.0, 2.0])


def test_tau_constant_dimension_is_one():
    x = np.full((3, 100, 2), 7.0)
    x[:, :, 1] = np.random.default_rng(28).standard_normal((3, 100))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("sokal", "threshold", "geyer"):
            tau = integrated_time(x, method=method)
            assert tau[0] == 1.0
            assert tau[1] == pytest.approx(1.0, abs=0.3)


def test_tau_one_constant_chain():
    x = np.random.default_rng(29).standard_normal((3, 100))
    x[2] = 0.5
    with pytest.warns(RuntimeWarning, match=r"chains \[2\] are constant"):
        assert np.isnan(integrated_time(x))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        # The other two chains alone give about 1. The stuck chain's distance
        # from them raises the between-chain variance and so tau.
        assert integrated_time(x[:2], method="geyer") < 1.5
        assert integrated_time(x, method="geyer", tol=0.0) > 3.0


@pytest.mark.parametrize("n_draws", [1, 2, 3])
def test_tau_too_few_draws_is_nan(n_draws):
    x = np.random.default_rng(30).standard_normal((2, n_draws))
    with pytest.warns(RuntimeWarning, match="fewer than the 4"):
        assert np.isnan(integrated_time(x))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"method": "windowed"}, "method must be one of .* got 'windowed'"),
        ({"on_short": "skip"}, "on_short must be one of .* got 'skip'"),
        ({"c": 0.0}, "c must be a positive finite number; got 0.0"),
        ({"threshold": 1.5}, r"threshold must be in \(0, 1\); got 1.5"),
        ({"tol": -1.0}, "tol must be a non-negative finite number; got -1.0"),
    ],
)
def test_tau_rejects_invalid_options(options, message):
    x = np.random.default_rng(31).standard_normal((2, 100))
    with pytest.raises(ValueError, match=message):
        integrated_time(x, **options)
