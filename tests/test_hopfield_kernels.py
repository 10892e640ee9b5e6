"""The compiled modern Hopfield kernels against their NumPy twins."""

import numpy as np
import pytest

from ebmfast import hopfield
from ebmfast.hopfield import ModernHopfield, attention

# 2,999 patterns in blocks of 128 leave a partial last block. 70 queries form
# one query block, so the compiled kernels also split the keys into segments.
N_PATTERNS, N_FEATURES, N_QUERIES, BLOCK = 2999, 16, 70, 128


def tolerance(dtype):
    return 2e-5 if dtype == np.float32 else 1e-12


def random_instance(dtype, seed=0, n_patterns=N_PATTERNS, n_queries=N_QUERIES):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n_patterns, N_FEATURES)).astype(dtype)
    Q = rng.standard_normal((n_queries, N_FEATURES)).astype(dtype)
    return X, Q


def model_pair(X, beta, **options):
    return (ModernHopfield(X, beta, backend="fast", block_size=BLOCK, **options),
            ModernHopfield(X, beta, backend="reference", **options))


@pytest.mark.parametrize("beta", [0.05, 1.0, 20.0])
def test_energy_agrees(dtype, beta):
    X, Q = random_instance(dtype)
    fast, reference = model_pair(X, beta)
    for options in ({}, {"add_constant": True}, {"inverse_beta": False},
                    {"add_constant": True, "inverse_beta": False}):
        expected = reference.energy(Q, **options)
        got = fast.energy(Q, **options)
        assert got.dtype == np.float64
        np.testing.assert_allclose(got, expected, rtol=tolerance(dtype),
                                   atol=tolerance(dtype), err_msg=str(options))


def test_energy_matches_definition():
    X, Q = random_instance(np.float64, n_patterns=50, n_queries=5)
    beta = 0.7
    net = ModernHopfield(X, beta, block_size=16)
    scores = beta * (Q @ X.T)
    lse = np.log(np.exp(scores).sum(axis=1))
    half_square = 0.5 * (Q ** 2).sum(axis=1)
    max_norm = np.linalg.norm(X, axis=1).max()
    np.testing.assert_allclose(net.energy(Q), -lse / beta + half_square, rtol=1e-12)
    np.testing.assert_allclose(
        net.energy(Q, add_constant=True),
        -lse / beta + half_square + np.log(50) / beta + 0.5 * max_norm ** 2, rtol=1e-12)
    np.testing.assert_allclose(net.energy(Q, inverse_beta=False), -lse + half_square,
                               rtol=1e-12)


@pytest.mark.parametrize("beta", [0.05, 1.0, 20.0])
def test_update_agrees(dtype, beta):
    X, Q = random_instance(dtype)
    fast, reference = model_pair(X, beta)
    got = fast.update(Q)
    assert got.dtype == dtype
    assert got.shape == Q.shape
    np.testing.assert_allclose(got, reference.update(Q), rtol=0,
                               atol=tolerance(dtype))


def test_attention_agrees(dtype):
    rng = np.random.default_rng(3)
    K = rng.standard_normal((1001, 24)).astype(dtype)
    V = rng.standard_normal((1001, 5)).astype(dtype)
    Q = rng.standard_normal((40, 24)).astype(dtype)
    got = attention(Q, K, V, block_size=64)
    expected = attention(Q, K, V, backend="reference")
    assert got.dtype == dtype
    assert got.shape == (40, 5)
    np.testing.assert_allclose(got, expected, rtol=0, atol=tolerance(dtype))

    scores = (Q.astype(np.float64) @ K.T.astype(np.float64)) / np.sqrt(24)
    weights = np.exp(scores - scores.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got, weights @ V, rtol=0, atol=tolerance(dtype))


def test_retrieval_agrees(dtype):
    X, _ = random_instance(dtype)
    rng = np.random.default_rng(1)
    # Queries near stored patterns converge in a few steps; the random ones
    # (rows 20 onwards) take longer, so the active set shrinks unevenly.
    near = X[:20] + 0.3 * rng.standard_normal((20, N_FEATURES)).astype(dtype)
    Q = np.vstack([near, rng.standard_normal((30, N_FEATURES)).astype(dtype)])
    fast, reference = model_pair(X, 2.0)
    tol = 1e-3 if dtype == np.float32 else 1e-7
    got = fast.retrieve(Q, max_iter=50, tol=tol, return_weights=True)
    expected = reference.retrieve(Q, max_iter=50, tol=tol, return_weights=True)
    np.testing.assert_array_equal(got.n_iter, expected.n_iter)
    np.testing.assert_array_equal(got.converged, expected.converged)
    np.testing.assert_array_equal(got.nearest, expected.nearest)
    assert got.states.dtype == dtype
    assert got.weights.dtype == dtype
    np.testing.assert_allclose(got.states, expected.states, rtol=0,
                               atol=10 * tolerance(dtype))
    np.testing.assert_allclose(got.weights, expected.weights, rtol=0,
                               atol=10 * tolerance(dtype))
    assert len(np.unique(got.n_iter)) > 1


def test_nearest_is_euclidean(dtype):
    X, Q = random_instance(dtype, n_patterns=500, n_queries=30)
    X[7] *= 5  # a long pattern: nearest by distance differs from largest dot product
    net = ModernHopfield(X, 1e-3, block_size=64)
    result = net.retrieve(Q, max_iter=1)
    distances = np.linalg.norm(result.states[:, None, :].astype(np.float64)
                               - X[None, :, :], axis=2)
    np.testing.assert_array_equal(result.nearest, distances.argmin(axis=1))


@pytest.mark.parametrize("block_size", [1, 7, 4096])
def test_block_size_does_not_change_update(block_size):
    X, Q = random_instance(np.float64, n_patterns=300)
    expected = ModernHopfield(X, 1.5, backend="reference").update(Q)
    got = ModernHopfield(X, 1.5, block_size=block_size).update(Q)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)


def test_threads_do_not_change_results(dtype):
    X, Q = random_instance(dtype, n_queries=300)
    results = []
    for n_threads in (1, 2, 3):
        net = ModernHopfield(X, 3.0, block_size=BLOCK, n_threads=n_threads)
        results.append((net.update(Q), net.energy(Q), net.retrieve(Q, max_iter=20)))
    for update, energy, retrieval in results[1:]:
        np.testing.assert_array_equal(update, results[0][0])
        np.testing.assert_array_equal(energy, results[0][1])
        np.testing.assert_array_equal(retrieval.states, results[0][2].states)
        np.testing.assert_array_equal(retrieval.n_iter, results[0][2].n_iter)


def test_serial_schedule_matches_parallel(dtype, monkeypatch):
    X, Q = random_instance(dtype, n_queries=300)
    net = ModernHopfield(X, 3.0, block_size=BLOCK, n_threads=2)
    parallel = net.update(Q)
    # Without BLAS thread control the kernels walk the query blocks on one
    # thread; simulate a BLAS that offers none.
    monkeypatch.setattr(hopfield, "limit_blas_threads", lambda: -1)
    np.testing.assert_array_equal(net.update(Q), parallel)


def test_converged_queries_leave_batch(monkeypatch):
    X, _ = random_instance(np.float64)
    rng = np.random.default_rng(2)
    Q = np.vstack([X[:10], rng.standard_normal((10, N_FEATURES))])
    batch_rows = []
    attend = hopfield._attend

    def counting_attend(Q, *args):
        batch_rows.append(Q.shape[0])
        return attend(Q, *args)

    monkeypatch.setattr(hopfield, "_attend", counting_attend)
    result = ModernHopfield(X, 0.5, block_size=BLOCK).retrieve(Q, max_iter=100)
    assert batch_rows[0] == 20
    assert batch_rows == sorted(batch_rows, reverse=True)
    assert batch_rows[-1] < 20
    assert sum(batch_rows) == result.n_iter.sum()
