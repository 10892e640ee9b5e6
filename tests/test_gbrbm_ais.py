"""Annealed importance sampling for the Gaussian-Bernoulli RBM: the kernel
against its NumPy twin, and the estimate against the exact log Z."""

import numpy as np
import pytest
from helpers import random_rbm_params

from ebmfast import LogPartition
from ebmfast import _gbrbm_fast as fast
from ebmfast import _gbrbm_reference as reference
from ebmfast._random import ChainStreams
from ebmfast._rbm_eval import ais_schedule
from ebmfast.gbrbm import GaussianBernoulliRBM


def random_model(seed, n_visible, n_hidden, scale=0.8, dtype=np.float64, **kwargs):
    rng = np.random.default_rng(seed)
    W, b, c = random_rbm_params(rng, n_visible, n_hidden, scale=scale, dtype=dtype)
    sigma = np.exp(0.3 * rng.normal(size=n_visible))
    return GaussianBernoulliRBM.from_params(W, b, c, sigma, **kwargs)


def anneal(model, backend, n_runs, n_betas, seed):
    """Return (final visible states, log weights, stream states) of one annealing."""
    sigma, inv_sigma = reference.scales(model.log_sigma_)
    W, b, c = model.weights_, model.visible_bias_, model.hidden_bias_
    streams = ChainStreams(np.random.SeedSequence(seed), n_runs)
    V = np.ascontiguousarray(np.broadcast_to(b, (n_runs, W.shape[0]))).copy()
    betas = ais_schedule(n_betas)
    log_w = np.zeros(n_runs)
    if backend == "reference":
        reference.ais_reference(V, W, b, c, sigma, inv_sigma, betas, streams, log_w)
    else:
        H = np.empty((n_runs, W.shape[1]), dtype=W.dtype)
        fast.ais_anneal(V, W, b, c, sigma, inv_sigma, betas, streams.states, log_w,
                        np.empty_like(V), np.empty_like(H), H, np.empty_like(V), 2)
    return V, log_w, streams.states


# -- the kernel against its twin ----------------------------------------------

def test_kernel_matches_reference(dtype):
    model = random_model(1, 7, 9, scale=0.5, dtype=dtype)
    V_fast, log_w_fast, states_fast = anneal(model, "fast", 13, 60, seed=2)
    V_ref, log_w_ref, states_ref = anneal(model, "reference", 13, 60, seed=2)
    assert V_fast.dtype == dtype
    assert log_w_fast.dtype == np.float64
    assert np.array_equal(states_fast, states_ref)
    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(log_w_fast, log_w_ref, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(V_fast, V_ref, rtol=0, atol=100 * tolerance)
    assert np.all(log_w_fast != 0)


def test_backends_give_same_estimate(dtype):
    estimates = [random_model(3, 6, 8, dtype=dtype, backend=backend)
                 .log_partition("ais", n_runs=20, n_betas=100, random_state=4)
                 for backend in ("fast", "reference")]
    tolerance = 1e-6 if dtype == np.float32 else 1e-12
    assert estimates[0].log_z == pytest.approx(estimates[1].log_z, rel=tolerance)
    assert estimates[0].stderr == pytest.approx(estimates[1].stderr, rel=1e3 * tolerance)


def test_results_independent_of_threads():
    # 130 runs of a 10 x 20 model over 99 steps is enough work for the
    # parallel path, and 130 runs make 3 blocks.
    estimates = [random_model(5, 10, 20, scale=0.3, dtype=np.float32, n_threads=n)
                 .log_partition("ais", n_runs=130, n_betas=100, random_state=6)
                 for n in (1, 2)]
    assert estimates[0] == estimates[1]


def test_kernel_rejects_too_few_streams():
    model = random_model(0, 3, 4)
    W, b, c = model.weights_, model.visible_bias_, model.hidden_bias_
    sigma, inv_sigma = reference.scales(model.log_sigma_)
    V = np.zeros((5, 3))
    H = np.empty((5, 4))
    streams = ChainStreams(np.random.SeedSequence(0), 4)
    with pytest.raises(ValueError, match="one random stream per row"):
        fast.ais_anneal(V, W, b, c, sigma, inv_sigma, ais_schedule(10), streams.states,
                        np.zeros(5), np.empty_like(V), np.empty_like(H), H,
                        np.empty_like(V), 1)


# -- the estimate against the exact log Z -------------------------------------

def test_ais_agrees_with_exact():
    model = random_model(7, 4, 8)
    exact = model.log_partition("exact")
    ais = model.log_partition("ais", n_runs=200, n_betas=3000, random_state=1)
    assert ais.method == "ais"
    assert (ais.n_runs, ais.n_betas) == (200, 3000)
    assert 0 < ais.stderr < 0.05
    assert abs(ais.log_z - exact.log_z) < 3 * ais.stderr + 0.01


def test_ais_agrees_with_exact_float32():
    model = random_model(7, 4, 8, dtype=np.float32)
    exact = model.log_partition("exact")
    ais = model.log_partition("ais", n_runs=200, n_betas=3000, random_state=2)
    assert isinstance(ais.log_z, float)
    assert 0 < ais.stderr < 0.05
    assert abs(ais.log_z - exact.log_z) < 3 * ais.stderr + 0.01


def test_ais_agrees_with_exact_on_trained_model():
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=2.0, size=(3, 6))
    X = (centres[rng.integers(0, 3, 600)] + rng.normal(size=(600, 6))).astype(np.float32)
    model = GaussianBernoulliRBM(n_hidden=12, learning_rate=0.01, batch_size=20,
                                 n_epochs=20, persistent=True, learn_sigma=True,
                                 init_scale=0.3, random_state=0).fit(X)
    exact = model.log_partition("exact")
    ais = model.log_partition("ais", n_runs=200, n_betas=3000, random_state=3)
    assert 0 < ais.stderr < 0.05
    assert abs(ais.log_z - exact.log_z) < 3 * ais.stderr + 0.01


# With 300 temperatures a few of the 20 estimates have uneven weights and warn.
@pytest.mark.filterwarnings("ignore:AIS weights are dominated")
def test_ais_standard_error_is_honest():
    # Over independent AIS estimates, the spread matches the reported error.
    model = random_model(8, 5, 10, scale=1.0)
    exact = model.log_partition("exact").log_z
    runs = [model.log_partition("ais", n_runs=50, n_betas=300, random_state=seed)
            for seed in range(20)]
    errors = np.array([run.log_z - exact for run in runs])
    reported = np.mean([run.stderr for run in runs])
    assert abs(errors.mean()) < 3 * reported
    assert 0.3 * reported < errors.std() < 3 * reported


def test_ais_seed_repeats():
    model = random_model(4, 6, 10)
    first = model.log_partition("ais", n_runs=20, n_betas=100, random_state=1)
    again = model.log_partition("ais", n_runs=20, n_betas=100, random_state=1)
    other = model.log_partition("ais", n_runs=20, n_betas=100, random_state=2)
    assert first == again
    assert first.log_z != other.log_z


# -- the public interface ------------------------------------------------------

def test_auto_is_exact_for_few_hidden_units():
    model = random_model(0, 3, 20, scale=0.2)
    result = model.log_partition()
    assert result == LogPartition(result.log_z, 0.0, "exact", 0, 0)
    assert result.log_z == pytest.approx(
        reference.log_partition(model.weights_, model.visible_bias_,
                                model.hidden_bias_, model.sigma_), rel=1e-15)


def test_auto_uses_ais_for_many_hidden_units():
    model = random_model(0, 3, 21, scale=0.2)
    result = model.log_partition(n_runs=10, n_betas=50, random_state=0)
    assert result.method == "ais"
    with pytest.raises(ValueError, match="needs n_hidden <= 20, got 21; use method='ais'"):
        model.log_partition("exact")


@pytest.mark.parametrize("kwargs, error, message", [
    ({"method": "mcmc"}, ValueError, "method must be 'auto', 'exact' or 'ais', got 'mcmc'"),
    ({"method": "ais", "n_runs": 1}, ValueError, "n_runs must be >= 2, got 1"),
    ({"method": "ais", "n_runs": 10.0}, TypeError, "n_runs must be an int"),
    ({"method": "ais", "n_betas": 2}, ValueError, "n_betas must be >= 3, got 2"),
    ({"method": "ais", "random_state": -1}, ValueError, "random_state must be a non-negative int"),
])
def test_log_partition_rejects_bad_input(kwargs, error, message):
    model = random_model(0, 3, 4)
    with pytest.raises(error, match=message):
        model.log_partition(**kwargs)


def test_score_samples_takes_ais_result(dtype):
    model = random_model(2, 4, 6, dtype=dtype)
    X = np.random.default_rng(0).normal(size=(5, 4)).astype(dtype)
    ais = model.log_partition("ais", n_runs=20, n_betas=200, random_state=0)
    scores = model.score_samples(X, log_partition=ais)
    assert scores.dtype == np.float64
    np.testing.assert_allclose(scores, -model.free_energy(X).astype(np.float64) - ais.log_z)
    np.testing.assert_array_equal(model.score_samples(X, log_partition=ais.log_z), scores)
    exact = model.score_samples(X)
    np.testing.assert_allclose(scores, exact, atol=5 * ais.stderr + 0.05)


def test_score_samples_without_exact_log_z():
    model = random_model(0, 3, 21, scale=0.2)
    X = np.zeros((2, 3))
    with pytest.raises(ValueError, match="pass log_partition=model.log_partition"):
        model.score_samples(X)
    with pytest.raises(TypeError, match="log_partition must be a real number"):
        model.score_samples(X, log_partition="1.0")
    assert model.score_samples(X, log_partition=1.5).shape == (2,)
