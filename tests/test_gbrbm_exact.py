"""Samples of the Gaussian-Bernoulli RBM against p(v) in closed form, and the
two-mode mixture that training must reproduce.

p(v) of a Gaussian-Bernoulli RBM is a mixture of 2^n_hidden Gaussians with
covariance diag(sigma^2), whose weights and means
``_gbrbm_reference.mixture`` computes exactly.
"""

import numpy as np
import pytest
import scipy.stats

from ebmfast import _gbrbm_reference as reference
from ebmfast.gbrbm import GaussianBernoulliRBM

# A 2-visible, 3-hidden model whose p(v) has several separated components.
W_TINY = np.array([[2.0, -1.5, 0.5], [1.0, 1.0, -2.0]])
B_TINY = np.array([0.3, -0.2])
C_TINY = np.array([-1.0, 0.5, 0.2])
SIGMA_TINY = np.array([0.8, 1.3])
N_CHAINS = 4000


def mixture_moments(log_weights, means, sigma):
    weights = np.exp(log_weights)
    mean = weights @ means
    centred = means - mean
    covariance = (weights[:, None] * centred).T @ centred + np.diag(sigma**2)
    return mean, covariance


def projection_cdf(log_weights, means, sigma, direction):
    """Return the CDF of direction^T v under the mixture."""
    weights = np.exp(log_weights)
    centres = means @ direction
    scale = np.sqrt(np.sum((direction * sigma) ** 2))
    return lambda x: weights @ scipy.stats.norm.cdf((np.atleast_1d(x)[None, :]
                                                     - centres[:, None]) / scale)


@pytest.fixture(scope="module")
def tiny_samples():
    model = GaussianBernoulliRBM.from_params(W_TINY, B_TINY, C_TINY, SIGMA_TINY)
    # Each chain gives one independent draw after 200 sweeps.
    return model.sample(N_CHAINS, n_steps=200, random_state=11)


def test_mixture_weights_normalised():
    log_weights, means = reference.mixture(W_TINY, B_TINY, C_TINY, SIGMA_TINY)
    assert log_weights.shape == (8,)
    assert means.shape == (8, 2)
    assert np.exp(log_weights).sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(means[0], B_TINY)  # h = 0
    np.testing.assert_allclose(means[7], B_TINY + SIGMA_TINY * W_TINY.sum(axis=1))  # h = 1


def test_gibbs_mean_and_covariance_exact(tiny_samples):
    log_weights, means = reference.mixture(W_TINY, B_TINY, C_TINY, SIGMA_TINY)
    mean, covariance = mixture_moments(log_weights, means, SIGMA_TINY)
    standard_error = np.sqrt(np.diag(covariance) / N_CHAINS)
    np.testing.assert_array_less(np.abs(tiny_samples.mean(axis=0) - mean), 4 * standard_error)
    sample_covariance = np.cov(tiny_samples, rowvar=False)
    # Standard error of a covariance entry for Gaussian data, widened by 1.5
    # for the heavier tails of the mixture.
    variances = np.diag(covariance)
    entry_error = 1.5 * np.sqrt((np.outer(variances, variances) + covariance**2) / N_CHAINS)
    np.testing.assert_array_less(np.abs(sample_covariance - covariance), 4 * entry_error)


@pytest.mark.parametrize("direction", [[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]])
def test_gibbs_projection_passes_ks(tiny_samples, direction):
    direction = np.asarray(direction)
    log_weights, means = reference.mixture(W_TINY, B_TINY, C_TINY, SIGMA_TINY)
    cdf = projection_cdf(log_weights, means, SIGMA_TINY, direction)
    assert scipy.stats.kstest(tiny_samples @ direction, cdf).pvalue > 1e-3


def test_ks_detects_slightly_wrong_model(tiny_samples):
    # The same test has power: a hidden bias off by 0.5 is rejected (measured
    # p-values 3e-10 to 8e-8 over seeds 11-14, against 0.03 to 0.9 for the
    # right model).
    direction = np.array([0.6, 0.8])
    log_weights, means = reference.mixture(W_TINY, B_TINY, C_TINY + [0.5, 0.0, 0.0],
                                           SIGMA_TINY)
    cdf = projection_cdf(log_weights, means, SIGMA_TINY, direction)
    assert scipy.stats.kstest(tiny_samples @ direction, cdf).pvalue < 1e-3


# -- training on a mixture of two Gaussians ----------------------------------

DIRECTION = np.array([1.0, 1.0]) / np.sqrt(2)
POSITIVE_WEIGHT = 0.3


@pytest.fixture(scope="module")
def two_modes():
    """1,000 points: weight 0.3 at +2 DIRECTION, 0.7 at -2 DIRECTION, unit variance."""
    rng = np.random.default_rng(0)
    positive = rng.random(1000) < POSITIVE_WEIGHT
    X = np.where(positive[:, None], 2 * DIRECTION, -2 * DIRECTION) + rng.normal(size=(1000, 2))
    return X, positive.mean()


@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
def test_training_reproduces_both_modes(two_modes, persistent):
    X, data_weight = two_modes
    model = GaussianBernoulliRBM(n_hidden=4, learning_rate=0.005, batch_size=20,
                                 n_epochs=200, persistent=persistent, n_chains=100,
                                 init_scale=0.1, random_state=1).fit(X)
    samples = model.sample(4000, n_steps=100, random_state=2)

    # Classify samples and data by the side of the line they fall on.
    sample_side = samples @ DIRECTION > 0
    data_side = X @ DIRECTION > 0
    assert 0.1 < sample_side.mean() < 0.5  # both modes present, the + mode the smaller
    # Mode weights within 0.06 of the data's (measured deviations up to 0.04
    # over seeds 1-3 for CD-1 and PCD-1).
    assert abs(sample_side.mean() - data_side.mean()) < 0.06

    # The exact mixture weight of the + mode, from the components' means.
    log_weights, means = reference.mixture(model.weights_, model.visible_bias_,
                                           model.hidden_bias_, model.sigma_)
    model_weight = np.exp(log_weights)[means @ DIRECTION > 0].sum()
    assert abs(model_weight - data_weight) < 0.06

    # Each mode sits at the right place with the right spread.
    for side in (True, False):
        projected = samples[sample_side == side] @ DIRECTION
        expected = X[data_side == side] @ DIRECTION
        assert abs(projected.mean() - expected.mean()) < 0.25
        assert abs(projected.std() - expected.std()) < 0.15
    across = samples @ np.array([DIRECTION[1], -DIRECTION[0]])
    assert abs(across.std() - 1.0) < 0.1
