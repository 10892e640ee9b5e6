"""The compiled RBM kernels against their NumPy twins, on identical streams."""

import numpy as np
import pytest
from helpers import random_rbm_params

from ebmfast import _rbm_ops as ops
from ebmfast._random import ChainStreams

N_VISIBLE, N_HIDDEN, N_ROWS = 23, 11, 17


def tolerance(dtype):
    return 5e-6 if dtype == np.float32 else 1e-12


def binary(rng, shape, dtype, p=0.5):
    return (rng.random(shape) < p).astype(dtype)


@pytest.fixture
def model(dtype):
    rng = np.random.default_rng(0)
    W, b, c = random_rbm_params(rng, N_VISIBLE, N_HIDDEN, dtype=dtype)
    V = binary(rng, (N_ROWS, N_VISIBLE), dtype)
    return W, b, c, V


def twin_streams(seed, n):
    streams = ChainStreams(np.random.SeedSequence(seed), n)
    return streams, streams.copy()


def test_conditionals_agree(model):
    W, b, c, V = model
    fast = ops.hidden_probs(V, W, c, "fast", 2)
    reference = ops.hidden_probs(V, W, c, "reference", 2)
    assert fast.dtype == W.dtype
    np.testing.assert_allclose(fast, reference, rtol=0, atol=tolerance(W.dtype))
    H = (fast > 0.5).astype(W.dtype)
    np.testing.assert_allclose(ops.visible_probs(H, W, b, "fast", 2),
                               ops.visible_probs(H, W, b, "reference", 2),
                               rtol=0, atol=tolerance(W.dtype))


def test_bernoulli_samples_identical(model):
    W, b, c, V = model
    P = ops.hidden_probs(V, W, c, "reference", 1)
    fast_streams, ref_streams = twin_streams(1, N_ROWS)
    fast = ops.sample_bernoulli(P, fast_streams, "fast", 2)
    reference = ops.sample_bernoulli(P, ref_streams, "reference", 1)
    assert np.array_equal(fast, reference)
    assert set(np.unique(fast)) <= {0.0, 1.0}


def test_gibbs_steps_identical(model):
    W, b, c, V = model
    fast_streams, ref_streams = twin_streams(2, N_ROWS)
    Vf, Pf, Hf = ops.gibbs(V, W, b, c, fast_streams, 7, "fast", 2)
    Vr, Pr, Hr = ops.gibbs(V, W, b, c, ref_streams, 7, "reference", 1)
    assert np.array_equal(Vf, Vr)
    assert np.array_equal(Hf, Hr)
    np.testing.assert_allclose(Pf, Pr, rtol=0, atol=tolerance(W.dtype))


def test_gibbs_leaves_input(model):
    W, b, c, V = model
    before = V.copy()
    ops.gibbs(V, W, b, c, ChainStreams(np.random.SeedSequence(0), N_ROWS), 3, "fast", 1)
    assert np.array_equal(V, before)


@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
@pytest.mark.parametrize("k", [1, 3])
def test_training_update_agrees(model, persistent, k):
    W, b, c, _ = model
    dtype = W.dtype
    rng = np.random.default_rng(5)
    X = rng.random((31, N_VISIBLE)).astype(dtype)  # probabilities, not only 0/1
    order = rng.permutation(31).astype(np.int64)
    batch_size, n_chains = 8, 6
    H0 = binary(rng, (n_chains, N_HIDDEN), dtype) if persistent else None
    results = {}
    for backend in ("fast", "reference"):
        params = [W.copy(), b.copy(), c.copy()]
        velocities = [np.full_like(p, 0.01) for p in params]
        hidden = None if H0 is None else H0.copy()
        streams = ChainStreams(np.random.SeedSequence(9), batch_size)
        ops.train_epoch(X, order, batch_size, params, velocities, streams, k=k,
                        learning_rate=0.1, momentum=0.5, weight_decay=0.01,
                        persistent_hidden=hidden, backend=backend, n_threads=2)
        results[backend] = params + velocities + ([hidden] if persistent else [])
    for fast, reference in zip(results["fast"], results["reference"], strict=True):
        assert fast.dtype == dtype
        np.testing.assert_allclose(fast, reference, rtol=0, atol=20 * tolerance(dtype))
    assert not np.allclose(results["fast"][0], W)  # the update did something


def test_free_energy_agrees(model):
    W, b, c, V = model
    np.testing.assert_allclose(ops.free_energy(V, W, b, c, "fast", 2),
                               ops.free_energy(V, W, b, c, "reference", 1),
                               rtol=tolerance(W.dtype), atol=tolerance(W.dtype))


def test_pseudo_likelihood_agrees(model):
    W, b, c, V = model
    np.testing.assert_allclose(ops.pseudo_log_likelihood(V, W, b, c, "fast", 2),
                               ops.pseudo_log_likelihood(V, W, b, c, "reference", 1),
                               rtol=1e-5 if W.dtype == np.float32 else 1e-10)


def test_pseudo_likelihood_matches_definition():
    rng = np.random.default_rng(1)
    W, b, c = random_rbm_params(rng, 5, 3)
    V = binary(rng, (4, 5), np.float64)
    F = lambda x: ops.free_energy(x, W, b, c, "reference", 1)  # noqa: E731
    expected = np.zeros(4)
    for i in range(5):
        flipped = V.copy()
        flipped[:, i] = 1 - flipped[:, i]
        # p(v_i | v_-i) = exp(-F(v)) / (exp(-F(v)) + exp(-F(v flipped)))
        expected += -np.logaddexp(0, F(V) - F(flipped))
    np.testing.assert_allclose(ops.pseudo_log_likelihood(V, W, b, c, "fast", 1), expected,
                               rtol=1e-12)


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_logistic_extreme_preactivations(dtype, backend):
    pre = np.array([-1000, -100, -30, 0, 30, 100, 1000], dtype=dtype)
    V = np.ones((1, 1), dtype)
    W = pre.reshape(1, -1)
    P = ops.hidden_probs(V, W, np.zeros(pre.size, dtype), backend, 1)[0]
    assert np.isfinite(P).all()
    assert P[0] < 1e-30
    assert P[-1] == 1.0
    assert P[3] == 0.5
    F = ops.free_energy(V, W, np.zeros(1, dtype), np.zeros(pre.size, dtype), backend, 1)
    assert np.isfinite(F).all()
    expected = -np.logaddexp(0, pre.astype(np.float64)).sum()
    np.testing.assert_allclose(F[0], expected, rtol=1e-6)


def test_logistic_accuracy_float32():
    x = np.linspace(-40, 40, 100_001).astype(np.float32)
    V = np.ones((1, 1), np.float32)
    fast = ops.hidden_probs(V, x.reshape(1, -1), np.zeros(x.size, np.float32), "fast", 1)[0]
    exact = 1 / (1 + np.exp(-x.astype(np.float64)))
    assert np.max(np.abs(fast - exact) / exact) < 5e-7


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_results_independent_of_threads(backend):
    rng = np.random.default_rng(3)
    W, b, c = random_rbm_params(rng, 300, 200, scale=0.05, dtype=np.float32)
    V = binary(rng, (256, 300), np.float32)
    runs = [ops.gibbs(V, W, b, c, ChainStreams(np.random.SeedSequence(4), 256), 3,
                      backend, n_threads)[0] for n_threads in (1, 2)]
    assert np.array_equal(runs[0], runs[1])
    for kernel in (ops.free_energy, ops.pseudo_log_likelihood):
        one, two = (kernel(V, W, b, c, backend, n_threads) for n_threads in (1, 2))
        assert np.array_equal(one, two)
    one, two = (ops.hidden_probs(V, W, c, backend, n_threads) for n_threads in (1, 2))
    assert np.array_equal(one, two)


def test_too_few_streams_rejected(model):
    W, b, c, V = model
    with pytest.raises(ValueError, match="one random stream per row"):
        ops.sample_bernoulli(V, ChainStreams(np.random.SeedSequence(0), 2), "fast", 1)


@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
def test_training_independent_of_threads(persistent):
    # Large enough that the blocked loops run on several threads.
    rng = np.random.default_rng(6)
    W, b, c = random_rbm_params(rng, 300, 200, scale=0.05, dtype=np.float32)
    X = binary(rng, (512, 300), np.float32)
    order = rng.permutation(512).astype(np.int64)
    H0 = binary(rng, (150, 200), np.float32) if persistent else None
    results = []
    for n_threads in (1, 2):
        params = [W.copy(), b.copy(), c.copy()]
        velocities = [np.zeros_like(p) for p in params]
        hidden = None if H0 is None else H0.copy()
        streams = ChainStreams(np.random.SeedSequence(3), 150 if persistent else 128)
        ops.train_epoch(X, order, 128, params, velocities, streams, k=2,
                        learning_rate=0.05, momentum=0.5, weight_decay=1e-4,
                        persistent_hidden=hidden, backend="fast", n_threads=n_threads)
        results.append(params + ([hidden] if persistent else []))
    for one, two in zip(*results, strict=True):
        assert np.array_equal(one, two)


def test_blas_threads_restored():
    threadpoolctl = pytest.importorskip("threadpoolctl")

    def blas_threads():
        return [pool["num_threads"] for pool in threadpoolctl.threadpool_info()
                if pool["user_api"] == "blas"]

    rng = np.random.default_rng(0)
    W, b, c = random_rbm_params(rng, 100, 80, dtype=np.float32)
    V = binary(rng, (64, 100), np.float32)
    before = blas_threads()
    ops.gibbs(V, W, b, c, ChainStreams(np.random.SeedSequence(0), 64), 2, "fast", 2)
    assert blas_threads() == before
