"""ModernHopfield and attention: dynamics, capacity, numerics and input checks."""

import numpy as np
import pytest

from ebmfast.hopfield import ModernHopfield, attention

BACKENDS = ["fast", "reference"]


def unit_rows(A):
    return A / np.linalg.norm(A, axis=1, keepdims=True)


@pytest.mark.parametrize("seed", range(4))
def test_energy_never_increases(dtype, seed):
    rng = np.random.default_rng(seed)
    n_patterns, n_features = rng.integers(20, 400), rng.integers(2, 30)
    X = (rng.standard_normal((n_patterns, n_features)) * rng.uniform(0.2, 3)).astype(dtype)
    states = (rng.standard_normal((25, n_features)) * rng.uniform(0.2, 3)).astype(dtype)
    beta = float(rng.uniform(0.05, 5))
    net = ModernHopfield(X, beta, block_size=64)
    energy = net.energy(states)
    # Rounding of the float32 states can raise E by about eps * |E|.
    slack = 1e-5 if dtype == np.float32 else 1e-10
    for _ in range(15):
        states = net.update(states)
        next_energy = net.energy(states)
        increase = next_energy - energy
        assert np.all(increase <= slack * (1 + np.abs(energy))), increase.max()
        energy = next_energy


def test_retrieval_from_noise_capacity():
    # 5,000 unit patterns in 20 dimensions: far more than the ~0.14 d patterns
    # of a classical Hopfield network. With beta = 50 each pattern is a fixed
    # point, and a query at 10% relative noise falls back to its pattern.
    rng = np.random.default_rng(0)
    n_patterns, n_features, n_queries = 5000, 20, 300
    X = unit_rows(rng.standard_normal((n_patterns, n_features)))
    targets = rng.choice(n_patterns, n_queries, replace=False)
    noise = unit_rows(rng.standard_normal((n_queries, n_features)))
    Q = X[targets] + 0.1 * noise
    result = ModernHopfield(X, 50.0).retrieve(Q, max_iter=20)
    recovered = (result.nearest == targets) & (
        np.linalg.norm(result.states - X[targets], axis=1) < 0.05)
    # Measured: 300 of 300 here, and 1,500 of 1,500 over seeds 0 to 4; allow 2%.
    assert recovered.mean() >= 0.98, recovered.mean()
    assert result.converged.all()


def test_update_equals_attention(dtype):
    rng = np.random.default_rng(4)
    X = rng.standard_normal((800, 12)).astype(dtype)
    Q = rng.standard_normal((30, 12)).astype(dtype)
    beta = 0.8
    for backend in BACKENDS:
        net = ModernHopfield(X, beta, backend=backend)
        got = attention(Q, X, X, scale=beta, backend=backend)
        np.testing.assert_allclose(net.update(Q), got, rtol=0,
                                   atol=1e-5 if dtype == np.float32 else 1e-13)


def test_attention_default_scale():
    rng = np.random.default_rng(5)
    K, V, Q = rng.standard_normal((50, 9)), rng.standard_normal((50, 3)), rng.standard_normal((4, 9))
    np.testing.assert_allclose(attention(Q, K, V), attention(Q, K, V, scale=1 / 3), rtol=0,
                               atol=0)


def test_attention_mixed_dtypes_give_float64():
    rng = np.random.default_rng(6)
    K = rng.standard_normal((50, 9)).astype(np.float32)
    assert attention(K[:3], K, K).dtype == np.float32
    assert attention(K[:3].astype(np.float64), K, K).dtype == np.float64


# ---------------------------------------------------------------------------
# Numerics

@pytest.mark.parametrize("backend", BACKENDS)
def test_huge_beta_finite(dtype, backend):
    rng = np.random.default_rng(7)
    X = unit_rows(rng.standard_normal((300, 8))).astype(dtype)
    Q = (X[:10] + 0.05 * rng.standard_normal((10, 8))).astype(dtype)
    net = ModernHopfield(X, 1e6, backend=backend)
    states = net.update(Q)
    assert np.isfinite(states).all()
    # At beta = 1e6 the softmax is one-hot on the best-matching pattern.
    np.testing.assert_allclose(states, X[np.argmax(Q @ X.T, axis=1)], atol=1e-6)
    for options in ({}, {"add_constant": True}, {"inverse_beta": False}):
        assert np.isfinite(net.energy(Q, **options)).all()
    result = net.retrieve(Q, return_weights=True)
    assert np.isfinite(result.states).all()
    assert np.isfinite(result.weights).all()
    assert result.converged.all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_queries_give_pattern_mean(dtype, backend):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((100, 6)).astype(dtype)
    net = ModernHopfield(X, 2.0, backend=backend, normalize=False)
    Q = np.zeros((3, 6), dtype)
    expected = np.broadcast_to(X.astype(np.float64).mean(axis=0), (3, 6))
    np.testing.assert_allclose(net.update(Q), expected, rtol=0, atol=1e-5)
    np.testing.assert_allclose(net.energy(Q), -np.log(100) / 2.0, rtol=1e-6)
    normalized = ModernHopfield(X, 2.0, backend=backend, normalize=True)
    assert np.isfinite(normalized.update(Q)).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_zero_patterns(dtype, backend):
    for normalize in (False, True):
        net = ModernHopfield(np.zeros((40, 5), dtype), 3.0, backend=backend,
                             normalize=normalize)
        Q = np.ones((2, 5), dtype)
        np.testing.assert_array_equal(net.update(Q), np.zeros((2, 5)))
        energy = net.energy(Q, add_constant=True)
        assert np.isfinite(energy).all()
        result = net.retrieve(Q)
        np.testing.assert_array_equal(result.states, np.zeros((2, 5)))
        np.testing.assert_array_equal(result.nearest, [0, 0])


@pytest.mark.parametrize("backend", BACKENDS)
def test_single_pattern_is_fixed_point(dtype, backend):
    x = np.array([[0.5, -2.0, 1.0]], dtype)
    net = ModernHopfield(x, 1e6, backend=backend)
    Q = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0], [-3, 7, 1e3]], dtype)
    np.testing.assert_array_equal(net.update(Q), np.repeat(x, 3, axis=0))
    result = net.retrieve(Q)
    assert result.converged.all()
    np.testing.assert_array_equal(result.nearest, [0, 0, 0])
    # With one pattern the energy of the pattern is 1/2 |x|^2 - |x|^2.
    np.testing.assert_allclose(net.energy(x), -0.5 * (x ** 2).sum(), rtol=1e-6)


@pytest.mark.parametrize("backend", BACKENDS)
def test_duplicate_patterns_share_weight(dtype, backend):
    x = np.array([1.0, 0.0, 0.0, 0.0], dtype)
    X = np.vstack([np.tile(x, (3, 1)), np.eye(4, dtype=dtype)[1:]])
    net = ModernHopfield(X, 1e6, backend=backend)
    result = net.retrieve(x[None, :] * 0.9, return_weights=True)
    np.testing.assert_allclose(result.weights[0], [1 / 3, 1 / 3, 1 / 3, 0, 0, 0],
                               atol=1e-6)
    np.testing.assert_allclose(result.states[0], x, atol=1e-6)
    assert result.nearest[0] == 0
    assert np.isfinite(net.energy(X)).all()


@pytest.mark.parametrize("backend", BACKENDS)
def test_normalize_lets_each_query_find_its_pattern(backend):
    rng = np.random.default_rng(9)
    X = unit_rows(rng.standard_normal((50, 10)))
    X[0] *= 20  # one long pattern attracts every query
    Q = X[1:11] + 0.01 * rng.standard_normal((10, 10))
    plain = ModernHopfield(X, 5.0, backend=backend).retrieve(Q)
    assert (plain.nearest == 0).all()
    normalized = ModernHopfield(X, 50.0, backend=backend, normalize=True)
    result = normalized.retrieve(Q)
    np.testing.assert_array_equal(result.nearest, np.arange(1, 11))
    np.testing.assert_allclose(np.linalg.norm(normalized.patterns_, axis=1), 1.0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_inputs_left_unchanged(backend):
    rng = np.random.default_rng(10)
    X = rng.standard_normal((60, 7))
    Q = rng.standard_normal((5, 7))
    X_before, Q_before = X.copy(), Q.copy()
    for normalize in (False, True):
        net = ModernHopfield(X, 2.0, backend=backend, normalize=normalize)
        net.update(Q)
        net.energy(Q, add_constant=True)
        net.retrieve(Q, return_weights=True)
        attention(Q, X, X, backend=backend)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(Q, Q_before)


def test_patterns_copied_by_default():
    X = np.ones((4, 3))
    net = ModernHopfield(X, 1.0)
    X[0] = 5.0
    assert (net.patterns_ == 1.0).all()
    shared = ModernHopfield(X, 1.0, copy=False)
    assert np.shares_memory(shared.patterns_, X)


def test_dtypes_follow_patterns():
    X32 = np.eye(3, dtype=np.float32)
    net = ModernHopfield(X32, 1.0)
    assert net.update(np.ones((1, 3))).dtype == np.float32
    assert net.retrieve(np.ones((1, 3)), return_weights=True).weights.dtype == np.float32
    net = ModernHopfield(np.eye(3, dtype=np.int64), 1.0)
    assert net.update(np.ones((1, 3), np.float32)).dtype == np.float64


def test_no_queries():
    net = ModernHopfield(np.eye(3), 1.0)
    empty = np.empty((0, 3))
    assert net.update(empty).shape == (0, 3)
    assert net.energy(empty).shape == (0,)
    result = net.retrieve(empty)
    assert result.states.shape == (0, 3)
    assert result.nearest.shape == (0,)


# ---------------------------------------------------------------------------
# Invalid input

@pytest.mark.parametrize("beta", [0.0, -1.0])
def test_nonpositive_beta_rejected(beta):
    with pytest.raises(ValueError, match=r"beta must be > 0"):
        ModernHopfield(np.eye(3), beta)


@pytest.mark.parametrize("beta", [np.nan, np.inf])
def test_nonfinite_beta_rejected(beta):
    with pytest.raises(ValueError, match="beta must be finite"):
        ModernHopfield(np.eye(3), beta)


def test_beta_type_rejected():
    with pytest.raises(TypeError, match="beta must be a real number"):
        ModernHopfield(np.eye(3), "1.0")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_values_rejected(bad):
    X = np.eye(3)
    X[1, 2] = bad
    with pytest.raises(ValueError, match=r"patterns must contain only finite values.*\(1, 2\)"):
        ModernHopfield(X, 1.0)
    net = ModernHopfield(np.eye(3), 1.0)
    Q = np.zeros((2, 3))
    Q[0, 1] = bad
    for method in (net.update, net.energy, net.retrieve):
        with pytest.raises(ValueError, match="Q must contain only finite values"):
            method(Q)
    with pytest.raises(ValueError, match="K must contain only finite values"):
        attention(np.ones((1, 3)), X, np.ones((3, 3)))
    with pytest.raises(ValueError, match="V must contain only finite values"):
        attention(np.ones((1, 3)), np.eye(3), X)


def test_dimension_mismatch_rejected():
    net = ModernHopfield(np.eye(3), 1.0)
    with pytest.raises(ValueError, match=r"Q must have 3 columns.*\(2, 4\)"):
        net.update(np.ones((2, 4)))
    with pytest.raises(ValueError, match=r"Q must have 3 columns"):
        attention(np.ones((2, 4)), np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match=r"V must have one row per row of K \(3\)"):
        attention(np.ones((2, 3)), np.eye(3), np.ones((4, 3)))


def test_empty_pattern_set_rejected():
    with pytest.raises(ValueError, match=r"patterns must have at least 1 row"):
        ModernHopfield(np.empty((0, 4)), 1.0)
    with pytest.raises(ValueError, match=r"patterns must have at least one column"):
        ModernHopfield(np.empty((3, 0)), 1.0)
    with pytest.raises(ValueError, match=r"K must have at least 1 row"):
        attention(np.ones((1, 4)), np.empty((0, 4)), np.empty((0, 4)))


def test_wrong_ndim_rejected():
    with pytest.raises(ValueError, match=r"patterns must be a 2-D array, got 1-D"):
        ModernHopfield(np.ones(3), 1.0)
    net = ModernHopfield(np.eye(3), 1.0)
    with pytest.raises(ValueError, match=r"Q must be a 2-D array, got 1-D"):
        net.update(np.ones(3))
    with pytest.raises(ValueError, match=r"Q must be a 2-D array, got 3-D"):
        net.retrieve(np.ones((1, 2, 3)))


def test_invalid_options_rejected():
    X = np.eye(3)
    with pytest.raises(ValueError, match="block_size must be >= 1"):
        ModernHopfield(X, 1.0, block_size=0)
    with pytest.raises(ValueError, match="backend must be one of"):
        ModernHopfield(X, 1.0, backend="gpu")
    with pytest.raises(TypeError, match="normalize must be True or False"):
        ModernHopfield(X, 1.0, normalize="yes")
    net = ModernHopfield(X, 1.0)
    with pytest.raises(ValueError, match="max_iter must be >= 1"):
        net.retrieve(X, max_iter=0)
    with pytest.raises(ValueError, match="tol must be >= 0"):
        net.retrieve(X, tol=-1e-3)
    with pytest.raises(ValueError, match="scale must be finite"):
        attention(X, X, X, scale=np.inf)


def test_score_overflow_rejected():
    X = np.full((2, 4), 1e19, dtype=np.float32)
    with pytest.raises(ValueError, match="beyond the range of float32"):
        ModernHopfield(X, 1.0).update(X)
    # The same data in float64 are fine.
    assert np.isfinite(ModernHopfield(X.astype(np.float64), 1.0).update(X)).all()
