"""The compiled Gaussian-Bernoulli RBM kernels against their NumPy twins, on identical streams."""

import numpy as np
import pytest
from helpers import random_rbm_params

from ebmfast import _gbrbm_reference as reference
from ebmfast import gbrbm
from ebmfast._normal_reference import standard_normal
from ebmfast._random import ChainStreams

N_VISIBLE, N_HIDDEN, N_ROWS = 23, 11, 17


def tolerance(dtype):
    return 5e-6 if dtype == np.float32 else 1e-12


@pytest.fixture
def model(dtype):
    rng = np.random.default_rng(0)
    W, b, c = random_rbm_params(rng, N_VISIBLE, N_HIDDEN, scale=0.3, dtype=dtype)
    log_sigma = (0.3 * rng.normal(size=N_VISIBLE)).astype(dtype)
    sigma, inv_sigma = reference.scales(log_sigma)
    V = rng.normal(size=(N_ROWS, N_VISIBLE)).astype(dtype)
    return W, b, c, log_sigma, sigma, inv_sigma, V


def twin_streams(seed, n):
    streams = ChainStreams(np.random.SeedSequence(seed), n)
    return streams, streams.copy()


def test_scales_keep_dtype(dtype):
    sigma, inv_sigma = reference.scales(np.zeros(3, dtype))
    assert sigma.dtype == dtype
    assert inv_sigma.dtype == dtype


def test_hidden_layer_agrees(model):
    W, b, c, _, sigma, inv_sigma, V = model
    fast_streams, ref_streams = twin_streams(1, N_ROWS)
    P_fast, H_fast = gbrbm._hidden_layer(V, W, c, inv_sigma, "fast", 2, fast_streams)
    P_ref, H_ref = gbrbm._hidden_layer(V, W, c, inv_sigma, "reference", 1, ref_streams)
    assert P_fast.dtype == W.dtype
    np.testing.assert_allclose(P_fast, P_ref, rtol=0, atol=tolerance(W.dtype))
    assert np.array_equal(H_fast, H_ref)
    assert np.array_equal(fast_streams.states, ref_streams.states)
    expected = 1 / (1 + np.exp(-((V / sigma) @ W + c).astype(np.float64)))
    np.testing.assert_allclose(P_fast, expected, rtol=0, atol=10 * tolerance(W.dtype))


def test_visible_layer_agrees(model):
    W, b, c, _, sigma, inv_sigma, V = model
    H = (np.random.default_rng(2).random((N_ROWS, N_HIDDEN)) < 0.5).astype(W.dtype)
    fast_streams, ref_streams = twin_streams(3, N_ROWS)
    M_fast, V_fast = gbrbm._visible_layer(H, W, b, sigma, "fast", 2, fast_streams)
    M_ref, V_ref = gbrbm._visible_layer(H, W, b, sigma, "reference", 1, ref_streams)
    np.testing.assert_allclose(M_fast, M_ref, rtol=0, atol=tolerance(W.dtype))
    np.testing.assert_allclose(V_fast, V_ref, rtol=0, atol=tolerance(W.dtype))
    assert np.array_equal(fast_streams.states, ref_streams.states)
    np.testing.assert_allclose(M_fast, b + sigma * (H @ W.T), rtol=0, atol=tolerance(W.dtype))


def test_visible_draws_replay_normal_scheme(model):
    # v = mean + sigma * z, with z the documented normal numbers of stream i.
    W, b, _, _, sigma, _, _ = model
    H = np.ones((3, N_HIDDEN), W.dtype)
    streams, replay = twin_streams(4, 3)
    M, V = gbrbm._visible_layer(H, W, b, sigma, "fast", 1, streams)
    for i in range(3):
        z = standard_normal(replay, i, N_VISIBLE, W.dtype)
        np.testing.assert_array_equal(V[i], M[i] + sigma * z)


def test_sample_normal_identical(model):
    _, b, _, _, sigma, _, _ = model
    M = np.ascontiguousarray(np.broadcast_to(b, (N_ROWS, N_VISIBLE)))
    fast_streams, ref_streams = twin_streams(5, N_ROWS)
    fast = gbrbm._sample_normal(M, sigma, fast_streams, "fast", 2)
    ref = gbrbm._sample_normal(M, sigma, ref_streams, "reference", 1)
    assert np.array_equal(fast, ref)


@pytest.mark.parametrize("n_steps", [1, 5])
def test_gibbs_steps_agree(model, n_steps):
    W, b, c, _, sigma, inv_sigma, V = model
    fast_streams, ref_streams = twin_streams(6, N_ROWS)
    Vf, Mf, Hf = gbrbm._gibbs(V, W, b, c, sigma, inv_sigma, fast_streams, n_steps, "fast", 2)
    Vr, Mr, Hr = gbrbm._gibbs(V, W, b, c, sigma, inv_sigma, ref_streams, n_steps,
                              "reference", 1)
    assert np.array_equal(Hf, Hr)
    np.testing.assert_allclose(Vf, Vr, rtol=0, atol=10 * tolerance(W.dtype))
    np.testing.assert_allclose(Mf, Mr, rtol=0, atol=10 * tolerance(W.dtype))
    assert np.array_equal(fast_streams.states, ref_streams.states)


def test_gibbs_leaves_input(model):
    W, b, c, _, sigma, inv_sigma, V = model
    before = V.copy()
    gbrbm._gibbs(V, W, b, c, sigma, inv_sigma, ChainStreams(np.random.SeedSequence(0), N_ROWS),
                 3, "fast", 1)
    assert np.array_equal(V, before)


@pytest.mark.parametrize("learn_sigma", [False, True], ids=["fixed_sigma", "learned_sigma"])
@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
@pytest.mark.parametrize("k", [1, 3])
def test_training_update_agrees(model, persistent, k, learn_sigma):
    W, b, c, log_sigma, _, _, _ = model
    dtype = W.dtype
    rng = np.random.default_rng(5)
    X = rng.normal(size=(31, N_VISIBLE)).astype(dtype)
    order = rng.permutation(31).astype(np.int64)
    batch_size, n_chains = 8, 6
    H0 = (rng.random((n_chains, N_HIDDEN)) < 0.5).astype(dtype) if persistent else None

    results = {}
    for backend in ("fast", "reference"):
        params = {"weights": W.copy(), "visible_bias": b.copy(), "hidden_bias": c.copy(),
                  "log_sigma": log_sigma.copy()}
        velocities = {name: np.full_like(p, 0.01) for name, p in params.items()}
        hidden = None if H0 is None else H0.copy()
        streams = ChainStreams(np.random.SeedSequence(9), batch_size)
        gbrbm._train_epoch(X, order, batch_size, params, velocities, streams, k=k,
                           learning_rate=0.05, momentum=0.5, weight_decay=0.01,
                           learn_sigma=learn_sigma, persistent_hidden=hidden,
                           backend=backend, n_threads=2)
        results[backend] = (params, velocities, hidden, streams.states)

    fast, ref = results["fast"], results["reference"]
    for name in reference.PARAMETER_NAMES:
        assert fast[0][name].dtype == dtype
        np.testing.assert_allclose(fast[0][name], ref[0][name], rtol=0,
                                   atol=20 * tolerance(dtype), err_msg=name)
        np.testing.assert_allclose(fast[1][name], ref[1][name], rtol=0,
                                   atol=20 * tolerance(dtype), err_msg=name)
    if persistent:
        assert np.array_equal(fast[2], ref[2])
    assert np.array_equal(fast[3], ref[3])
    assert not np.allclose(fast[0]["weights"], W)  # the update did something
    assert np.array_equal(fast[0]["log_sigma"], log_sigma) != learn_sigma


def test_free_energy_and_gradient_agree(model):
    W, b, c, _, _, inv_sigma, V = model
    F_fast, G_fast = gbrbm._free_energy(V, W, b, c, inv_sigma, "fast", 2, with_grad=True)
    F_ref, G_ref = gbrbm._free_energy(V, W, b, c, inv_sigma, "reference", 1, with_grad=True)
    assert F_fast.dtype == W.dtype
    assert G_fast.dtype == W.dtype
    np.testing.assert_allclose(F_fast, F_ref, rtol=tolerance(W.dtype), atol=tolerance(W.dtype))
    np.testing.assert_allclose(G_fast, G_ref, rtol=0, atol=tolerance(W.dtype))
    F_only, no_grad = gbrbm._free_energy(V, W, b, c, inv_sigma, "fast", 2, with_grad=False)
    assert no_grad is None
    assert np.array_equal(F_only, F_fast)


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_free_energy_extreme_preactivations(dtype, backend):
    pre = np.array([-1000, -100, -30, 0, 30, 100, 1000], dtype=dtype)
    V = np.ones((1, 1), dtype)
    W = pre.reshape(1, -1)
    zeros_v, zeros_h, ones = np.zeros(1, dtype), np.zeros(pre.size, dtype), np.ones(1, dtype)
    F, G = gbrbm._free_energy(V, W, zeros_v, zeros_h, ones, backend, 1, with_grad=True)
    assert np.isfinite(F).all()
    assert np.isfinite(G).all()
    expected = 0.5 - np.logaddexp(0, pre.astype(np.float64)).sum()
    np.testing.assert_allclose(F[0], expected, rtol=1e-6)


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_results_independent_of_threads(backend):
    # Large enough that the blocked loops run on several threads.
    rng = np.random.default_rng(3)
    W, b, c = random_rbm_params(rng, 120, 100, scale=0.05, dtype=np.float32)
    sigma, inv_sigma = reference.scales(np.full(120, -0.2, np.float32))
    V = rng.normal(size=(256, 120)).astype(np.float32)
    runs = [gbrbm._gibbs(V, W, b, c, sigma, inv_sigma,
                         ChainStreams(np.random.SeedSequence(4), 256), 2, backend, n_threads)
            for n_threads in (1, 2)]
    for one, two in zip(*runs, strict=True):
        assert np.array_equal(one, two)
    one, two = (gbrbm._free_energy(V, W, b, c, inv_sigma, backend, n, with_grad=True)
                for n in (1, 2))
    assert np.array_equal(one[0], two[0])
    assert np.array_equal(one[1], two[1])


@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
def test_training_independent_of_threads(persistent):
    rng = np.random.default_rng(6)
    W, b, c = random_rbm_params(rng, 120, 100, scale=0.05, dtype=np.float32)
    X = rng.normal(size=(512, 120)).astype(np.float32)
    order = rng.permutation(512).astype(np.int64)
    H0 = (rng.random((150, 100)) < 0.5).astype(np.float32) if persistent else None
    results = []
    for n_threads in (1, 2):
        params = {"weights": W.copy(), "visible_bias": b.copy(), "hidden_bias": c.copy(),
                  "log_sigma": np.zeros(120, np.float32)}
        velocities = {name: np.zeros_like(p) for name, p in params.items()}
        hidden = None if H0 is None else H0.copy()
        streams = ChainStreams(np.random.SeedSequence(3), 150 if persistent else 128)
        gbrbm._train_epoch(X, order, 128, params, velocities, streams, k=2,
                           learning_rate=0.01, momentum=0.5, weight_decay=1e-4,
                           learn_sigma=True, persistent_hidden=hidden, backend="fast",
                           n_threads=n_threads)
        results.append([*params.values()] + ([hidden] if persistent else []))
    for one, two in zip(*results, strict=True):
        assert np.array_equal(one, two)


def test_too_few_streams_rejected(model):
    W, b, c, _, sigma, inv_sigma, V = model
    with pytest.raises(ValueError, match="one random stream per row"):
        gbrbm._gibbs(V, W, b, c, sigma, inv_sigma, ChainStreams(np.random.SeedSequence(0), 2),
                     1, "fast", 1)
