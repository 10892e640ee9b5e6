"""Tests of ESS, R-hat and MCSE against ArviZ, closed forms and edge cases."""

import warnings

import numpy as np
import pytest
from helpers import DATASETS, ar1

from ebmfast.diagnostics import ess, mcse_mean, rhat


# Computed once with ArviZ 0.23.4 (NumPy 2.4, SciPy 1.17) on the DATASETS arrays of tests/helpers.py:
# az.ess(method="bulk"), az.ess(method="tail"), az.ess(method="mean"),
# az.ess(method="identity"), az.rhat(), az.mcse(), each on az.convert_to_dataset(x).
ARVIZ_EXPECTED = {
    "white": (4039.146787452132, 3404.13834597156, 4040.224164791586, 4033.4891399172393, 1.001569927811536, 0.015782327741179405),
    "ar09": (5332.459958166117, 11641.512902320746, 5332.93930485624, 5325.940722371982, 1.0009102392154594, 0.031337569718809216),
    "anti05": (606691.1284991399, 197488.37629956467, 606749.5384988862, 606179.5250575119, 0.9999993189805398, 0.0014804608161571003),
    "anti03": (37285.24494313519, 19672.280786474184, 37291.88061147076, 37121.48167225469, 0.999999222720747, 0.005454237896288502),
    "slow": (37.346072953245304, 98.57169739507609, 38.43007851100892, 43.586448866219726, 1.1133363051075538, 1.214773404776275),
    "odd": (959.278925586395, 1503.1470280558065, 957.6051789035347, 919.0759157428021, 1.0010768281933398, 0.03773535256509247),
}

# The two implementations follow the same formulas, so only rounding separates them.
RTOL_ARVIZ = 1e-9


def our_values(x):
    return (
        ess(x, method="bulk"),
        ess(x, method="tail"),
        ess(x, method="mean"),
        ess(x, method="mean", split=False),
        rhat(x),
        mcse_mean(x),
    )


@pytest.mark.parametrize("name", list(DATASETS))
def test_matches_stored_arviz_values(name):
    x = DATASETS[name]()
    labels = ("ess bulk", "ess tail", "ess mean", "ess unsplit", "rhat", "mcse_mean")
    for label, ours, expected in zip(labels, our_values(x), ARVIZ_EXPECTED[name]):
        assert ours == pytest.approx(expected, rel=RTOL_ARVIZ), label


@pytest.mark.parametrize("name", ["white", "slow", "odd"])
def test_matches_installed_arviz(name):
    az = pytest.importorskip("arviz")
    x = DATASETS[name]()
    dataset = az.convert_to_dataset(x)
    expected = (
        float(az.ess(dataset, method="bulk").x),
        float(az.ess(dataset, method="tail").x),
        float(az.ess(dataset, method="mean").x),
        float(az.ess(dataset, method="identity").x),
        float(az.rhat(dataset).x),
        float(az.mcse(dataset).x),
    )
    labels = ("ess bulk", "ess tail", "ess mean", "ess unsplit", "rhat", "mcse_mean")
    for label, ours, reference in zip(labels, our_values(x), expected):
        assert ours == pytest.approx(reference, rel=RTOL_ARVIZ), label


def test_matches_installed_arviz_per_dimension():
    az = pytest.importorskip("arviz")
    rng = np.random.default_rng(7)
    x = np.stack([rng.standard_normal((3, 800)), ar1(0.8, 3, 800, 8), ar1(-0.4, 3, 800, 9)], axis=2)
    dataset = az.convert_to_dataset(x)
    np.testing.assert_allclose(ess(x), az.ess(dataset).x.values, rtol=RTOL_ARVIZ)
    np.testing.assert_allclose(
        ess(x, method="tail"), az.ess(dataset, method="tail").x.values, rtol=RTOL_ARVIZ
    )
    np.testing.assert_allclose(rhat(x), az.rhat(dataset).x.values, rtol=RTOL_ARVIZ)
    np.testing.assert_allclose(mcse_mean(x), az.mcse(dataset).x.values, rtol=RTOL_ARVIZ)


def test_ess_ar1_closed_form():
    # For AR(1), tau = (1 + rho) / (1 - rho) = 19 and ESS = N / tau. The estimate
    # of tau from 10^5 draws has a relative standard error of about 6%, so 15%
    # is about 2.5 standard errors.
    x = DATASETS["ar09"]()
    expected = x.size / 19.0
    assert ess(x, method="mean") == pytest.approx(expected, rel=0.15)
    assert ess(x, method="bulk") == pytest.approx(expected, rel=0.15)


def test_ess_anticorrelated_exceeds_draws():
    # rho = -0.5 gives tau = 1/3, so ESS = 3 N: more than the number of draws.
    x = DATASETS["anti05"]()
    value = ess(x, method="mean")
    assert value > x.size
    assert value == pytest.approx(3.0 * x.size, rel=0.1)


def test_mcse_ar1_closed_form():
    # MCSE of the mean = sd * sqrt(tau / N), with sd = 1 / sqrt(1 - rho^2).
    x = DATASETS["ar09"]()
    expected = np.sqrt(1.0 / (1.0 - 0.81)) * np.sqrt(19.0 / x.size)
    assert mcse_mean(x) == pytest.approx(expected, rel=0.15)


def test_white_noise_ess_and_rhat():
    x = DATASETS["white"]()
    assert ess(x) == pytest.approx(x.size, rel=0.1)
    assert rhat(x) < 1.01


def test_slow_chains_flagged():
    x = DATASETS["slow"]()
    assert rhat(x) > 1.05
    assert ess(x) < 100


def test_rhat_detects_shifted_chain():
    x = np.random.default_rng(10).standard_normal((4, 500))
    x[0] += 1.0
    # Well above the 1.01 limit that Vehtari et al. (2021) recommend.
    assert rhat(x) > 1.05


def test_rhat_folding_detects_scale_difference():
    # Same mean, different spread: the bulk R-hat stays near 1 and only the
    # folded R-hat detects the difference.
    x = np.random.default_rng(11).standard_normal((4, 2000))
    x[0] *= 3.0
    assert rhat(x) > 1.02


def test_rhat_single_chain_uses_halves():
    x = np.random.default_rng(12).standard_normal((1, 1000))
    value = rhat(x)
    assert np.isfinite(value)
    assert value < 1.01

    # A jump halfway shows up as two disagreeing half-chains.
    x[0, 500:] += 2.0
    assert rhat(x) > 1.3


def test_ess_single_chain():
    x = np.random.default_rng(13).standard_normal((1, 1000))
    assert ess(x) == pytest.approx(1000, rel=0.15)
    assert ess(x, method="mean", split=False) == pytest.approx(1000, rel=0.15)


def test_constant_draws():
    x = np.full((3, 40, 2), 2.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for method in ("bulk", "tail", "mean"):
            np.testing.assert_array_equal(ess(x, method=method), [120.0, 120.0])
        np.testing.assert_array_equal(ess(x, method="mean", split=False), [120.0, 120.0])
        np.testing.assert_array_equal(mcse_mean(x), [0.0, 0.0])
        assert np.isnan(rhat(x)).all()


def test_rhat_constant_chains_at_different_values():
    x = np.repeat(np.array([[0.0], [1.0]]), 20, axis=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert rhat(x) == np.inf


def test_ess_with_one_stuck_chain_is_small():
    x = np.random.default_rng(14).standard_normal((4, 500))
    x[3] = 5.0
    assert ess(x) < 50
    assert rhat(x) > 1.5


def test_ess_capped_for_alternating_chain():
    # A chain that alternates sign has tau near 0. ESS is capped at N log10(N).
    n = 1000
    x = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)[np.newaxis, :]
    x = x + 1e-3 * np.random.default_rng(15).standard_normal((1, n))
    assert ess(x, method="mean", split=False) == pytest.approx(n * np.log10(n), rel=1e-12)


def test_ess_short_chains_return_cap():
    # Halves of 4 draws are too short for any lag to enter the sum.
    short = np.random.default_rng(20).standard_normal((2, 8))
    assert ess(short, method="mean") == pytest.approx(16 * np.log10(16), rel=1e-12)

    # Halves of 6 draws already give an estimate below the cap.
    longer = np.random.default_rng(20).standard_normal((2, 12))
    assert ess(longer, method="mean") < 24 * np.log10(24)


def test_tail_ess_is_minimum_over_quantiles():
    x = DATASETS["odd"]()
    low = ess(x, method="tail", tail_probs=(0.05, 0.05))
    high = ess(x, method="tail", tail_probs=(0.95, 0.95))
    assert low != high
    assert ess(x, method="tail") == min(low, high)


@pytest.mark.parametrize("n_draws", [1, 2, 3])
def test_too_few_draws_return_nan(n_draws):
    x = np.random.default_rng(16).standard_normal((2, n_draws, 3))
    for function in (ess, rhat, mcse_mean):
        with pytest.warns(RuntimeWarning, match=f"has {n_draws} draws per chain, fewer than the 4"):
            values = function(x)
        assert values.shape == (3,)
        assert np.isnan(values).all()


def test_four_draws_is_enough():
    x = np.random.default_rng(17).standard_normal((2, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.isfinite(ess(x))
        assert np.isfinite(ess(x, method="tail"))
        assert np.isfinite(rhat(x))
        assert np.isfinite(mcse_mean(x))


def test_long_integer_chain():
    # 10^6 int32 draws near the int32 maximum: sums in int32 would overflow.
    rng = np.random.default_rng(18)
    x = rng.integers(2**31 - 1000, 2**31 - 1, size=(1, 1_000_000), dtype=np.int32)
    as_float = x.astype(np.float64)
    assert ess(x, method="mean") == ess(as_float, method="mean")
    assert ess(x, method="mean") == pytest.approx(1_000_000, rel=0.05)
    assert mcse_mean(x) == pytest.approx(np.std(as_float) / np.sqrt(1_000_000), rel=0.05)


def test_large_magnitude_values():
    # Squares of 1e200 overflow float64. The results must not change with scale.
    x = ar1(0.5, 2, 500, 19)
    scale = 1e200
    assert ess(x * scale) == pytest.approx(ess(x), rel=1e-10)
    assert ess(x * scale, method="mean") == pytest.approx(ess(x, method="mean"), rel=1e-10)
    assert rhat(x * scale) == pytest.approx(rhat(x), rel=1e-10)
    assert mcse_mean(x * scale) / scale == pytest.approx(mcse_mean(x), rel=1e-10)


def test_rejects_invalid_options():
    x = np.zeros((2, 10))
    with pytest.raises(ValueError, match="method must be one of .* got 'median'"):
        ess(x, method="median")
    with pytest.raises(ValueError, match=r"tail_probs must be two quantile levels in \(0, 1\); got \(0.0, 0.95\)"):
        ess(x, method="tail", tail_probs=(0.0, 0.95))
    with pytest.raises(ValueError, match="tail_probs must be two quantile levels"):
        ess(x, method="tail", tail_probs=0.05)
