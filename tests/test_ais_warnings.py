"""AIS warns when its weights are too uneven to trust, for both RBMs."""

import warnings

import numpy as np
import pytest

from ebmfast import BernoulliRBM, GaussianBernoulliRBM


def strong_gbrbm():
    weights = 8.0 * np.random.default_rng(0).standard_normal((10, 10))
    return GaussianBernoulliRBM.from_params(weights, np.zeros(10), np.zeros(10))


def strong_rbm():
    weights = 6.0 * np.random.default_rng(1).standard_normal((30, 25))
    return BernoulliRBM.from_params(weights, np.zeros(30), np.zeros(25))


@pytest.mark.parametrize("make_model", [strong_gbrbm, strong_rbm])
def test_too_few_temperatures_warn(make_model):
    model = make_model()
    with pytest.warns(RuntimeWarning, match="AIS weights are dominated by a few runs"):
        model.log_partition("ais", n_runs=50, n_betas=10, random_state=0)


def test_enough_temperatures_do_not_warn():
    weights = 0.3 * np.random.default_rng(2).standard_normal((4, 8))
    model = GaussianBernoulliRBM.from_params(weights, np.zeros(4), np.zeros(8))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        estimate = model.log_partition("ais", n_runs=50, n_betas=2000, random_state=0)
    assert abs(estimate.log_z - model.log_partition("exact").log_z) < 4 * estimate.stderr + 0.01


def test_score_samples_rejects_nonfinite_log_partition():
    model = strong_gbrbm()
    X = np.zeros((3, 10))
    bad = model.log_partition("exact")._replace(log_z=float("nan"))
    with pytest.raises(ValueError, match="log_partition must be finite"):
        model.score_samples(X, log_partition=bad)
    scores = model.score_samples(X, log_partition=np.array(1.5))
    assert model.log_likelihood(X, log_partition=1.5) == pytest.approx(scores.mean())
