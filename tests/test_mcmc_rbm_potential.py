"""The Gaussian-Bernoulli RBM's free energy as a compiled MCMC target."""

import numpy as np
import pytest

import ebmfast
from ebmfast._gbrbm_reference import mixture
from ebmfast._random import ChainStreams
from ebmfast.mcmc import RBMFreeEnergy, hmc, init_state, step


def small_model(n_visible=3, n_hidden=4, seed=0, sigma=(0.5, 1.0, 2.0)):
    rng = np.random.default_rng(seed)
    return ebmfast.GaussianBernoulliRBM.from_params(
        rng.normal(size=(n_visible, n_hidden)), rng.normal(size=n_visible),
        rng.normal(size=n_hidden), sigma=sigma)


def test_energy_and_grad_match_model(dtype):
    model = small_model()
    potential = model.as_potential()
    X = np.random.default_rng(1).normal(size=(9, 3)).astype(dtype)
    tolerance = 2e-6 if dtype == np.float32 else 1e-12
    for backend in ("fast", "reference"):
        U, G = potential.energy_and_grad(X, backend=backend)
        assert G.dtype == dtype
        np.testing.assert_allclose(U, model.energy(X.astype(np.float64)),
                                   rtol=tolerance, atol=tolerance)
        np.testing.assert_allclose(G, model.grad_x(X.astype(np.float64)),
                                   rtol=tolerance, atol=tolerance)


def test_one_hmc_step_fast_matches_reference(dtype):
    potential = small_model().as_potential()
    X = np.random.default_rng(2).normal(size=(11, 3)).astype(dtype)
    state = init_state(potential, X)
    streams = ChainStreams(np.random.SeedSequence(3), 11)
    twin = streams.copy()
    fast_state, fast_info = step("hmc", potential, state, streams, step_size=0.2,
                                 n_leapfrog=3, backend="fast", n_threads=2)
    ref_state, ref_info = step("hmc", potential, state, twin, step_size=0.2,
                               n_leapfrog=3, backend="reference")
    assert np.array_equal(fast_info.accepted, ref_info.accepted)
    tolerance = 2e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(fast_state.position, ref_state.position,
                               rtol=tolerance, atol=tolerance)


def test_hmc_draws_match_exact_mixture():
    # p(v) of the model is a mixture of 2^3 Gaussians known in closed form.
    model = small_model(n_visible=2, n_hidden=3, seed=4, sigma=(1.0, 1.0))
    log_weights, means = mixture(model.weights_, model.visible_bias_,
                                 model.hidden_bias_, model.sigma_)
    weights = np.exp(log_weights)
    exact_mean = weights @ means
    exact_cov = np.eye(2) + (weights[:, None] * means).T @ means - np.outer(exact_mean, exact_mean)

    result = hmc(model.as_potential(), n_chains=200, n_samples=500, n_warmup=300,
                 random_state=0)
    draws = result.samples.reshape(-1, 2)
    # 100,000 correlated draws: the Monte Carlo error of the mean is about
    # 0.01 here, so 0.05 is a 5-sigma bound.
    np.testing.assert_allclose(draws.mean(axis=0), exact_mean, atol=0.05)
    np.testing.assert_allclose(np.cov(draws.T), exact_cov, atol=0.1)
    assert result.divergences.sum() == 0


def test_as_potential_copies_parameters():
    model = small_model()
    potential = model.as_potential()
    model.weights_[...] = 0.0
    assert np.abs(potential.weights).sum() > 0


@pytest.mark.parametrize("sigma, message", [
    ([1.0, -1.0, 1.0], "sigma must be positive"),
    ([1.0, np.nan, 1.0], "sigma must contain only finite values"),
])
def test_invalid_sigma(sigma, message):
    with pytest.raises(ValueError, match=message):
        RBMFreeEnergy(np.ones((3, 2)), np.zeros(3), np.zeros(2), sigma)
