"""Samplers and partition functions against distributions known exactly."""

import itertools

import numpy as np
import pytest
from helpers import random_rbm_params

import ebmfast


def all_states(n):
    return np.array(list(itertools.product([0.0, 1.0], repeat=n)))


def brute_force_log_z(W, b, c):
    V, H = all_states(W.shape[0]), all_states(W.shape[1])
    minus_energy = V @ W @ H.T + (V @ b)[:, None] + (H @ c)[None, :]
    return np.logaddexp.reduce(minus_energy.ravel())


def exact_visible_distribution(W, b, c):
    """Return every visible state and p(v), by enumerating (v, h)."""
    V, H = all_states(W.shape[0]), all_states(W.shape[1])
    minus_energy = V @ W @ H.T + (V @ b)[:, None] + (H @ c)[None, :]
    log_p = np.logaddexp.reduce(minus_energy, axis=1)
    return V, np.exp(log_p - np.logaddexp.reduce(log_p))


def state_index(V):
    return (V @ (2 ** np.arange(V.shape[1])[::-1])).astype(int)


def total_variation(p, q):
    return 0.5 * np.abs(p - q).sum()


@pytest.mark.parametrize("n_visible, n_hidden", [(4, 3), (3, 5), (6, 6)])
def test_exact_log_partition_matches_enumeration(n_visible, n_hidden):
    W, b, c = random_rbm_params(np.random.default_rng(n_visible), n_visible, n_hidden)
    rbm = ebmfast.BernoulliRBM.from_params(W, b, c)
    result = rbm.log_partition()
    assert result.method == "exact"
    assert result.stderr == 0.0
    assert result.log_z == pytest.approx(brute_force_log_z(W, b, c), rel=1e-12)


def test_log_likelihood_matches_enumeration():
    W, b, c = random_rbm_params(np.random.default_rng(2), 5, 4)
    V, p = exact_visible_distribution(W, b, c)
    rbm = ebmfast.BernoulliRBM.from_params(W, b, c)
    data = V[[0, 3, 3, 17, 31]]
    expected = np.log(p[[0, 3, 3, 17, 31]]).mean()
    assert rbm.log_likelihood(data) == pytest.approx(expected, rel=1e-10)


# Gibbs chains: 2,000 chains, 20 burn-in sweeps, then 100 sweeps recorded,
# so 200,000 correlated draws over 16 states. Their total variation distance
# to the exact p(v) was about 0.003 in trial runs. The bound leaves room for
# that, and the test's power is checked below on a perturbed model.
TV_BOUND = 0.012


def gibbs_histogram(rbm, n_chains=2000, burn_in=20, n_recorded=100):
    _, V = rbm.sample(n_chains, n_steps=burn_in, random_state=123, return_states=True)
    counts = np.zeros(2 ** rbm.n_visible_)
    for _ in range(n_recorded):
        V = rbm.gibbs(V, 1)
        counts += np.bincount(state_index(V), minlength=counts.size)
    return counts / counts.sum()


@pytest.fixture(scope="module")
def tiny_model():
    W, b, c = random_rbm_params(np.random.default_rng(42), 4, 3, scale=1.0)
    states, p = exact_visible_distribution(W, b, c)
    assert np.array_equal(state_index(states), np.arange(16))
    return W, b, c, p


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_gibbs_reproduces_exact_distribution(tiny_model, backend):
    W, b, c, p = tiny_model
    rbm = ebmfast.BernoulliRBM.from_params(W, b, c, backend=backend, random_state=0)
    empirical = gibbs_histogram(rbm)
    assert total_variation(empirical, p) < TV_BOUND


def test_gibbs_test_has_power(tiny_model):
    # A sampler with a small error in one weight would fail the bound above.
    W, b, c, p = tiny_model
    W_wrong = W.copy()
    W_wrong[0, 0] += 0.3
    _, p_wrong = exact_visible_distribution(W_wrong, b, c)
    assert total_variation(p_wrong, p) > 2 * TV_BOUND
    rbm = ebmfast.BernoulliRBM.from_params(W_wrong, b, c, random_state=0)
    assert total_variation(gibbs_histogram(rbm), p) > TV_BOUND


def test_ais_agrees_with_exact():
    rng = np.random.default_rng(7)
    W, b, c = random_rbm_params(rng, 25, 15, scale=0.3)
    rbm = ebmfast.BernoulliRBM.from_params(W, b, c)
    exact = rbm.log_partition("exact")
    ais = rbm.log_partition("ais", n_runs=200, n_betas=3000, random_state=1)
    assert ais.method == "ais"
    assert 0 < ais.stderr < 0.05
    assert abs(ais.log_z - exact.log_z) < 3 * ais.stderr + 0.01


def test_ais_standard_error_is_honest():
    # Over independent AIS estimates, the spread matches the reported error.
    W, b, c = random_rbm_params(np.random.default_rng(8), 12, 10, scale=0.6)
    rbm = ebmfast.BernoulliRBM.from_params(W, b, c)
    exact = rbm.log_partition("exact").log_z
    runs = [rbm.log_partition("ais", n_runs=50, n_betas=500, random_state=s) for s in range(20)]
    errors = np.array([r.log_z - exact for r in runs])
    reported = np.mean([r.stderr for r in runs])
    assert abs(errors.mean()) < 3 * reported
    assert 0.3 * reported < errors.std() < 3 * reported


def test_exact_refused_for_large_layers():
    W, b, c = random_rbm_params(np.random.default_rng(0), 30, 25)
    rbm = ebmfast.BernoulliRBM.from_params(W, b, c)
    with pytest.raises(ValueError, match="at most 20 units"):
        rbm.log_partition("exact")
    assert rbm.log_partition("auto", n_runs=10, n_betas=50).method == "ais"


def test_ais_backends_agree(dtype):
    W, b, c = random_rbm_params(np.random.default_rng(4), 20, 12, scale=0.4, dtype=dtype)
    estimates = [ebmfast.BernoulliRBM.from_params(W, b, c, backend=backend)
                 .log_partition("ais", n_runs=30, n_betas=200, random_state=5)
                 for backend in ("fast", "reference")]
    # Both anneal in float64 on the same streams, so only rounding differs.
    assert estimates[0].log_z == pytest.approx(estimates[1].log_z, rel=1e-12)
    assert estimates[0].stderr == pytest.approx(estimates[1].stderr, rel=1e-9)


def test_ais_seed_repeats():
    W, b, c = random_rbm_params(np.random.default_rng(4), 20, 12, scale=0.4)
    rbm = ebmfast.BernoulliRBM.from_params(W, b, c)
    first = rbm.log_partition("ais", n_runs=20, n_betas=100, random_state=1)
    again = rbm.log_partition("ais", n_runs=20, n_betas=100, random_state=1)
    other = rbm.log_partition("ais", n_runs=20, n_betas=100, random_state=2)
    assert first == again
    assert first.log_z != other.log_z
