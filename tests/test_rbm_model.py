"""BernoulliRBM through its public API."""

import logging

import numpy as np
import pytest
from helpers import random_rbm_params

import ebmfast
from ebmfast.datasets import load_digits


@pytest.fixture(scope="module")
def digits():
    images, _ = load_digits()
    return images


def small_rbm(**kwargs):
    settings = dict(n_hidden=32, learning_rate=0.05, batch_size=20, n_epochs=3,
                    random_state=0)
    settings.update(kwargs)
    return ebmfast.BernoulliRBM(**settings)


def test_training_improves_digits_model(digits):
    X = digits.astype(np.float32)
    untrained = ebmfast.BernoulliRBM(n_hidden=16, n_epochs=0, random_state=0).fit(X)
    trained = ebmfast.BernoulliRBM(n_hidden=16, n_epochs=10, learning_rate=0.05,
                                   batch_size=10, random_state=0).fit(X)
    # 16 hidden units, so log Z is exact and the likelihoods are too.
    ll_before = untrained.log_likelihood(X)
    ll_after = trained.log_likelihood(X)
    assert ll_after > ll_before + 1.0  # measured: -27.1 before, -24.8 after
    assert trained.reconstruction_error(X) < 0.7 * untrained.reconstruction_error(X)
    assert trained.score_samples(X).mean() > untrained.score_samples(X).mean()
    errors = [entry["reconstruction_error"] for entry in trained.history_]
    assert len(errors) == 10
    assert errors[-1] < errors[0]


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
def test_fit_independent_of_threads(digits, backend, persistent):
    X = digits[:300]
    fits = [small_rbm(backend=backend, persistent=persistent, n_threads=n).fit(X)
            for n in (1, 2)]
    assert np.array_equal(fits[0].weights_, fits[1].weights_)
    assert np.array_equal(fits[0].hidden_bias_, fits[1].hidden_bias_)


def test_fit_same_seed_repeats_and_seeds_differ(digits):
    X = digits[:300]
    a = small_rbm(random_state=1).fit(X).weights_
    b = small_rbm(random_state=1).fit(X).weights_
    c = small_rbm(random_state=2).fit(X).weights_
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_backends_agree_on_float64_fit(digits):
    X = digits[:200]
    fast = small_rbm(backend="fast", k=2).fit(X)
    reference = small_rbm(backend="reference", k=2).fit(X)
    np.testing.assert_allclose(fast.weights_, reference.weights_, atol=1e-9)


def test_sample_independent_of_threads():
    W, b, c = random_rbm_params(np.random.default_rng(0), 40, 30, scale=0.2)
    draws = [ebmfast.BernoulliRBM.from_params(W, b, c, n_threads=n)
             .sample(500, n_steps=5, random_state=9) for n in (1, 2)]
    assert np.array_equal(draws[0], draws[1])


def test_dtype_preserved(digits, dtype):
    X = digits[:100].astype(dtype)
    rbm = small_rbm(n_epochs=1).fit(X)
    assert rbm.weights_.dtype == dtype
    assert rbm.transform(X).dtype == dtype
    assert rbm.free_energy(X).dtype == dtype
    assert rbm.sample(3, n_steps=2).dtype == dtype
    assert rbm.gibbs(X[:3]).dtype == dtype


def test_int_data_becomes_float64():
    X = (np.random.default_rng(0).random((50, 8)) < 0.5).astype(np.int64)
    assert small_rbm(n_epochs=1).fit(X).weights_.dtype == np.float64


def test_caller_arrays_untouched(digits):
    X = digits[:100].copy()
    before = X.copy()
    rbm = small_rbm(n_epochs=1).fit(X)
    rbm.partial_fit(X)
    rbm.gibbs(X[:5], 2)
    rbm.sample(5, n_steps=2, init=X[:5])
    assert np.array_equal(X, before)
    W, b, c = (rbm.weights_.copy(), rbm.visible_bias_.copy(), rbm.hidden_bias_.copy())
    model = ebmfast.BernoulliRBM.from_params(W, b, c)
    model.partial_fit(X)
    assert np.array_equal(W, rbm.weights_)


def test_energy_and_free_energy_consistent():
    W, b, c = random_rbm_params(np.random.default_rng(1), 4, 3)
    rbm = ebmfast.BernoulliRBM.from_params(W, b, c)
    V = np.array([[1.0, 0.0, 1.0, 1.0]])
    H = np.array([[0.0, 1.0, 1.0]])
    assert rbm.energy(V, H)[0] == pytest.approx(-(V @ W @ H.T)[0, 0] - V[0] @ b - H[0] @ c)
    # F(v) = -log sum_h exp(-E(v, h))
    hs = np.array([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)], dtype=float)
    energies = rbm.energy(np.repeat(V, 8, axis=0), hs)
    assert rbm.free_energy(V)[0] == pytest.approx(-np.logaddexp.reduce(-energies))


def test_partial_fit_chain_counts(digits):
    X = digits[:37]
    cd = small_rbm(batch_size=10)
    cd.partial_fit(X)
    assert len(cd._streams) == 37  # one negative chain per row of the chunk
    pcd = small_rbm(batch_size=10, persistent=True, n_chains=8)
    pcd.partial_fit(X)
    pcd.partial_fit(X[:5])
    assert pcd.persistent_hidden_.shape == (8, 32)


def test_partial_fit_matches_one_batch_fit(digits):
    X = digits[:40]
    stepwise = small_rbm(n_epochs=1, batch_size=40).partial_fit(X)
    assert np.isfinite(stepwise.weights_).all()
    with pytest.raises(ValueError, match="must have 64 columns"):
        stepwise.partial_fit(X[:, :10])


def test_persistent_chains_survive_epochs(digits):
    rbm = small_rbm(persistent=True, n_chains=12, n_epochs=2).fit(digits[:100])
    assert rbm.persistent_hidden_.shape == (12, 32)
    assert set(np.unique(rbm.persistent_hidden_)) <= {0.0, 1.0}


def mean_nearest_distance(samples, data):
    squared = ((samples ** 2).sum(1)[:, None] - 2 * samples @ data.T
               + (data ** 2).sum(1)[None, :])
    return np.sqrt(np.maximum(squared.min(axis=1), 0)).mean()


@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
def test_samples_resemble_digits(digits, persistent):
    # Samples of a trained model lie near real digits. An untrained model
    # (independent pixels with the data's means) gives samples about 1.5 away
    # on average, and trained ones were 1.1 to 1.25 away over 3 seeds.
    X = digits.astype(np.float32)
    trained = ebmfast.BernoulliRBM(n_hidden=64, n_epochs=15, learning_rate=0.05,
                                   persistent=persistent, random_state=0).fit(X)
    untrained = ebmfast.BernoulliRBM(n_hidden=64, n_epochs=0, random_state=0).fit(X)
    near_trained = mean_nearest_distance(trained.sample(300, n_steps=200, random_state=0), X)
    near_untrained = mean_nearest_distance(untrained.sample(300, n_steps=200, random_state=0), X)
    assert near_trained < 0.87 * near_untrained


def test_save_load_round_trip(tmp_path, digits, dtype):
    rbm = small_rbm(n_epochs=1).fit(digits[:100].astype(dtype))
    path = tmp_path / "model.npz"
    rbm.save(path)
    loaded = ebmfast.BernoulliRBM.load(path)
    for name in ("weights_", "visible_bias_", "hidden_bias_"):
        assert getattr(loaded, name).dtype == dtype
        assert np.array_equal(getattr(loaded, name), getattr(rbm, name))
    assert loaded.learning_rate == rbm.learning_rate
    assert loaded.log_partition("ais", n_runs=10, n_betas=100, random_state=0) == \
        rbm.log_partition("ais", n_runs=10, n_betas=100, random_state=0)


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, weights=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="is not a saved ebmfast.BernoulliRBM"):
        ebmfast.BernoulliRBM.load(path)


def test_load_rejects_wrong_shapes(tmp_path, digits):
    rbm = small_rbm(n_epochs=1).fit(digits[:50])
    path = tmp_path / "model.npz"
    rbm.save(path)
    with np.load(path) as data:
        arrays = dict(data)
    arrays["hidden_bias"] = arrays["hidden_bias"][:-1]
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="hidden_bias must have shape"):
        ebmfast.BernoulliRBM.load(path)


@pytest.mark.parametrize("make_X, message", [
    (lambda X: X[0], "2-D array"),
    (lambda X: np.where(X == X[0, 20], np.nan, X), "finite values"),
    (lambda X: X * 2, r"values in \[0.0, 1.0\]"),
    (lambda X: X[:0], "at least 1 row"),
    (lambda X: X.astype(str), "real numbers"),
])
def test_fit_rejects_bad_data(digits, make_X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        small_rbm().fit(make_X(digits[:50]))


@pytest.mark.parametrize("params, message", [
    (dict(n_hidden=0), "n_hidden must be >= 1, got 0"),
    (dict(k=0), "k must be >= 1, got 0"),
    (dict(learning_rate=-0.1), "learning_rate must be > 0.0, got -0.1"),
    (dict(learning_rate=float("nan")), "learning_rate must be finite"),
    (dict(momentum=1.0), "momentum must be < 1.0"),
    (dict(batch_size=2.5), "batch_size must be an int"),
    (dict(persistent="yes"), "persistent must be True or False"),
    (dict(random_state="x"), "random_state must be None"),
])
def test_bad_parameters(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        ebmfast.BernoulliRBM(**params)


def test_mismatched_dtypes_follow_model(digits):
    rbm = small_rbm(n_epochs=1).fit(digits[:50].astype(np.float32))
    assert rbm.transform(digits[:5]).dtype == np.float32  # float64 input converted
    with pytest.raises(ValueError, match="weights of shape"):
        ebmfast.BernoulliRBM.from_params(np.zeros((3, 2), np.float32), np.zeros(2), np.zeros(2))


def test_not_fitted():
    with pytest.raises(ebmfast.NotFittedError, match="call fit"):
        ebmfast.BernoulliRBM().transform(np.zeros((1, 3)))


def test_divergent_training_restores_parameters(digits):
    rbm = ebmfast.BernoulliRBM(n_hidden=8, learning_rate=1e38, momentum=0.9,
                               n_epochs=3, random_state=0)
    with pytest.raises(FloatingPointError, match="non-finite parameters"):
        rbm.fit(digits[:100].astype(np.float32))
    assert np.isfinite(rbm.weights_).all()


def test_verbose_logs_each_epoch(digits, caplog):
    caplog.set_level(logging.INFO, logger="ebmfast")
    rbm = small_rbm(n_epochs=2, verbose=True).fit(digits[:100])
    lines = [r.getMessage() for r in caplog.records if r.name == "ebmfast"]
    assert len(lines) == 2
    assert lines[0].startswith("epoch 1: reconstruction error")
    assert np.isfinite(rbm.history_[1]["pseudo_likelihood"])


def test_score_samples_deterministic_and_per_feature(digits):
    rbm = small_rbm().fit(digits[:200])
    a, b = rbm.score_samples(digits[:20]), rbm.score_samples(digits[:20])
    assert np.array_equal(a, b)
    assert a.shape == (20,)
    # A sum of 64 log-probabilities, each between log(1e-6) and 0.
    assert (a < 0).all()
    assert (a > -64 * 14).all()


def test_load_rejects_npy_and_text(tmp_path):
    npy = tmp_path / "array.npy"
    np.save(npy, np.zeros(3))
    with pytest.raises(ValueError, match="holds a single array"):
        ebmfast.BernoulliRBM.load(npy)
    text = tmp_path / "notes.txt"
    text.write_text("not a model")
    with pytest.raises(ValueError, match="not a readable .npz model file"):
        ebmfast.BernoulliRBM.load(text)


def test_load_rejects_missing_entries(tmp_path, digits):
    path = tmp_path / "model.npz"
    small_rbm(n_epochs=1).fit(digits[:50]).save(path)
    with np.load(path) as data:
        arrays = dict(data)
    del arrays["weights"]
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"missing the entries \['weights'\]"):
        ebmfast.BernoulliRBM.load(path)


def test_save_keeps_persistent_chains(tmp_path, digits):
    rbm = small_rbm(persistent=True, n_chains=7, n_epochs=1).fit(digits[:60])
    path = tmp_path / "model.npz"
    rbm.save(path)
    loaded = ebmfast.BernoulliRBM.load(path)
    assert np.array_equal(loaded.persistent_hidden_, rbm.persistent_hidden_)
    loaded.partial_fit(digits[:20])  # continues the saved chains
    assert loaded.persistent_hidden_.shape == (7, 32)


def test_out_of_range_error_says_how_to_fix(digits):
    with pytest.raises(ValueError, match=r"X / 255 for 8-bit images"):
        small_rbm().fit(digits * 16)
