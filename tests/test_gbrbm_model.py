"""GaussianBernoulliRBM through its public API."""

import logging

import numpy as np
import pytest
from helpers import random_rbm_params

import ebmfast
from ebmfast.gbrbm import GaussianBernoulliRBM


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6)) * 0.5


def small_model(**kwargs):
    settings = dict(n_hidden=8, learning_rate=0.01, batch_size=20, n_epochs=3,
                    random_state=0)
    settings.update(kwargs)
    return GaussianBernoulliRBM(**settings)


def random_model(seed=0, n_visible=5, n_hidden=4, **kwargs):
    rng = np.random.default_rng(seed)
    W, b, c = random_rbm_params(rng, n_visible, n_hidden, scale=0.5)
    sigma = np.exp(0.3 * rng.normal(size=n_visible))
    return GaussianBernoulliRBM.from_params(W, b, c, sigma, **kwargs)


# -- energies and gradients ---------------------------------------------------

def test_grad_x_matches_finite_differences():
    model = random_model()
    X = np.random.default_rng(1).normal(size=(4, 5))
    G = model.grad_x(X)
    step = 1e-6
    for i in range(5):
        shift = np.zeros(5)
        shift[i] = step
        numeric = (model.energy(X + shift) - model.energy(X - shift)) / (2 * step)
        np.testing.assert_allclose(G[:, i], numeric, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("learn_sigma", [False, True])
def test_grad_params_matches_finite_differences(learn_sigma):
    model = random_model(learn_sigma=learn_sigma)
    X = np.random.default_rng(2).normal(size=(7, 5))
    grads = model.grad_params(X)
    assert set(grads) == set(model.parameter_names())
    assert ("log_sigma" in grads) == learn_sigma
    parameters = {"weights": model.weights_, "visible_bias": model.visible_bias_,
                  "hidden_bias": model.hidden_bias_, "log_sigma": model.log_sigma_}
    step = 1e-6
    for name, grad in grads.items():
        param = parameters[name]
        assert grad.shape == param.shape
        numeric = np.zeros_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + step
            upper = model.energy(X).mean()
            param[index] = saved - step
            lower = model.energy(X).mean()
            param[index] = saved
            numeric[index] = (upper - lower) / (2 * step)
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-7, err_msg=name)


def test_free_energy_sums_joint_energy():
    model = random_model(n_hidden=3)
    v = np.random.default_rng(3).normal(size=(1, 5))
    hs = np.array([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)], dtype=float)
    energies = model.joint_energy(np.repeat(v, 8, axis=0), hs)
    # F(v) = -log sum_h exp(-E(v, h))
    assert model.energy(v)[0] == pytest.approx(-np.logaddexp.reduce(-energies), rel=1e-12)
    assert model.free_energy(v)[0] == model.energy(v)[0]


def test_energy_and_grad_x_from_one_pass():
    model = random_model()
    X = np.random.default_rng(4).normal(size=(6, 5))
    energy, grad = model.energy_and_grad_x(X)
    assert np.array_equal(energy, model.energy(X))
    assert np.array_equal(grad, model.grad_x(X))


def test_log_partition_matches_integration():
    rng = np.random.default_rng(5)
    W, b, c = random_rbm_params(rng, 2, 3, scale=0.8)
    model = GaussianBernoulliRBM.from_params(W, b, c, [0.7, 1.4])
    step = 0.02
    axis = np.arange(-14, 14, step)
    grid = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)
    numeric = np.logaddexp.reduce(-model.energy(grid)) + 2 * np.log(step)
    assert model.log_partition().log_z == pytest.approx(numeric, abs=1e-6)
    scores = model.score_samples(grid)
    assert np.exp(scores).sum() * step**2 == pytest.approx(1.0, abs=1e-6)


def test_log_partition_needs_few_hidden_units():
    model = random_model(n_hidden=21)
    with pytest.raises(ValueError, match="needs n_hidden <= 20, got 21"):
        model.log_partition("exact")


# -- the interface of a generic training loop ---------------------------------

def test_apply_update_is_plain_step():
    model = random_model(learn_sigma=True)
    before = {name: getattr(model, attribute).copy() for name, attribute in
              (("weights", "weights_"), ("visible_bias", "visible_bias_"),
               ("hidden_bias", "hidden_bias_"), ("log_sigma", "log_sigma_"))}
    grads = model.grad_params(np.random.default_rng(6).normal(size=(5, 5)))
    returned = model.apply_update(grads, 0.1)
    assert returned is model
    np.testing.assert_array_equal(model.weights_, before["weights"] - 0.1 * grads["weights"])
    np.testing.assert_array_equal(model.visible_bias_,
                                  before["visible_bias"] - 0.1 * grads["visible_bias"])
    np.testing.assert_array_equal(model.hidden_bias_,
                                  before["hidden_bias"] - 0.1 * grads["hidden_bias"])
    np.testing.assert_array_equal(model.log_sigma_,
                                  before["log_sigma"] - 0.1 * grads["log_sigma"])


def test_generic_loop_raises_likelihood():
    # Positive phase on data, negative phase on persistent Gibbs chains,
    # with only grad_params, gibbs, init_samples and apply_update.
    rng = np.random.default_rng(7)
    direction = np.array([1.0, 1.0]) / np.sqrt(2)
    labels = rng.random(1000) < 0.3
    X = np.where(labels[:, None], 2 * direction, -2 * direction) + rng.normal(size=(1000, 2))
    model = GaussianBernoulliRBM.from_params(0.1 * rng.normal(size=(2, 4)), X.mean(axis=0),
                                             np.zeros(4), random_state=0)
    before = model.score_samples(X).mean()
    chains = model.init_samples(100, rng)
    for _ in range(600):
        chains = model.gibbs(chains, 1)
        positive = model.grad_params(X[rng.integers(0, 1000, 50)])
        negative = model.grad_params(chains)
        model.apply_update({name: positive[name] - negative[name] for name in positive}, 0.02)
    after = model.score_samples(X).mean()
    assert after > before + 0.8  # measured: -4.55 before, -3.43 after


def test_init_samples_draw_from_visible_prior(dtype):
    model = random_model().from_params(
        np.zeros((2, 3), dtype), [1.0, -2.0], np.zeros(3), [0.5, 2.0])
    states = model.init_samples(20000, 0)
    assert states.shape == (20000, 2)
    assert states.dtype == dtype
    np.testing.assert_allclose(states.mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(states.std(axis=0), [0.5, 2.0], rtol=0.03)
    assert np.array_equal(model.init_samples(5, 3), model.init_samples(5, 3))
    generator = np.random.default_rng(3)
    assert not np.array_equal(model.init_samples(5, generator), model.init_samples(5, generator))


@pytest.mark.parametrize("grads, message", [
    ({"weights": np.zeros((5, 4))}, "must have exactly the keys"),
    (lambda g: {**g, "log_sigma": np.zeros(5)}, "only with learn_sigma=True"),
    (lambda g: {**g, "weights": np.zeros((4, 5))}, r"must have shape \(5, 4\)"),
    (lambda g: {**g, "hidden_bias": np.full(4, np.nan)}, "finite values"),
    ([np.zeros((5, 4))], "must be a dict"),
])
def test_apply_update_rejects_bad_grads(grads, message):
    model = random_model()
    before = model.weights_.copy()
    if callable(grads):
        grads = grads(model.grad_params(np.zeros((1, 5))))
    with pytest.raises((ValueError, TypeError), match=message):
        model.apply_update(grads, 0.1)
    assert np.array_equal(model.weights_, before)


def test_apply_update_rejects_bad_learning_rate():
    model = random_model()
    grads = model.grad_params(np.zeros((1, 5)))
    with pytest.raises(ValueError, match="learning_rate must be > 0.0"):
        model.apply_update(grads, 0.0)


def test_apply_update_overflow_changes_nothing():
    model = random_model()
    before = model.hidden_bias_.copy()
    grads = {name: np.full_like(value, 1e300) for name, value in
             model.grad_params(np.zeros((1, 5))).items()}
    with pytest.raises(FloatingPointError, match="parameters were not changed"):
        model.apply_update(grads, 1e10)
    assert np.array_equal(model.hidden_bias_, before)


# -- training -----------------------------------------------------------------

def test_training_improves_likelihood(data):
    untrained = small_model(n_epochs=0).fit(data)
    trained = small_model(n_epochs=20).fit(data)
    ll_before = untrained.score_samples(data).mean()
    ll_after = trained.score_samples(data).mean()
    assert ll_after > ll_before + 0.5
    errors = [entry["reconstruction_error"] for entry in trained.history_]
    assert len(errors) == 20
    assert errors[-1] < errors[0]
    assert set(trained.history_[0]) == {"epoch", "reconstruction_error", "seconds"}


def test_learned_sigma_finds_data_scale():
    X = 5 + 3 * np.random.default_rng(8).normal(size=(1000, 3))
    model = GaussianBernoulliRBM(n_hidden=4, learning_rate=0.01, batch_size=20, n_epochs=30,
                                 learn_sigma=True, random_state=0).fit(X)
    np.testing.assert_allclose(model.sigma_, 3.0, rtol=0.1)  # measured: 3.05, 2.96, 3.08
    fixed = GaussianBernoulliRBM(n_hidden=4, n_epochs=2, sigma=[1.0, 2.0, 0.5],
                                 random_state=0).fit(X)
    np.testing.assert_array_equal(fixed.sigma_, [1.0, 2.0, 0.5])


@pytest.mark.parametrize("backend", ["fast", "reference"])
@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
def test_fit_independent_of_threads(data, backend, persistent):
    fits = [small_model(backend=backend, persistent=persistent, learn_sigma=True,
                        n_threads=n).fit(data) for n in (1, 2)]
    assert np.array_equal(fits[0].weights_, fits[1].weights_)
    assert np.array_equal(fits[0].log_sigma_, fits[1].log_sigma_)


@pytest.mark.parametrize("persistent", [False, True], ids=["cd", "pcd"])
def test_backends_agree_on_fit(data, persistent):
    fast = small_model(backend="fast", k=2, persistent=persistent, learn_sigma=True).fit(data)
    ref = small_model(backend="reference", k=2, persistent=persistent,
                      learn_sigma=True).fit(data)
    np.testing.assert_allclose(fast.weights_, ref.weights_, atol=1e-9)
    np.testing.assert_allclose(fast.log_sigma_, ref.log_sigma_, atol=1e-9)


def test_fit_same_seed_repeats_and_seeds_differ(data):
    a = small_model(random_state=1).fit(data).weights_
    b = small_model(random_state=1).fit(data).weights_
    c = small_model(random_state=2).fit(data).weights_
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_partial_fit_chain_counts(data):
    cd = small_model(batch_size=10)
    cd.partial_fit(data[:37])
    assert len(cd._streams) == 37  # one negative chain per row of the chunk
    pcd = small_model(persistent=True, n_chains=8)
    pcd.partial_fit(data[:37])
    pcd.partial_fit(data[:5])
    assert pcd.persistent_hidden_.shape == (8, 8)
    with pytest.raises(ValueError, match="must have 6 columns"):
        pcd.partial_fit(data[:, :4])


def test_divergent_training_restores_parameters(data):
    model = small_model(learning_rate=1e38, momentum=0.9)
    with pytest.raises(FloatingPointError, match="non-finite parameters"):
        model.fit(data * 1e10)
    assert np.isfinite(model.weights_).all()


def test_verbose_logs_each_epoch(data, caplog):
    with caplog.at_level(logging.INFO, logger="ebmfast"):
        small_model(n_epochs=2, verbose=True).fit(data)
    messages = [r.message for r in caplog.records if r.name == "ebmfast"]
    assert len(messages) == 2
    assert messages[0].startswith("epoch 1: reconstruction error")


# -- sampling -----------------------------------------------------------------

def test_sample_independent_of_threads():
    draws = [random_model(n_threads=n).sample(500, n_steps=5, random_state=9) for n in (1, 2)]
    assert np.array_equal(draws[0], draws[1])


def test_sample_backends_agree():
    fast, fast_means = random_model().sample(40, n_steps=4, random_state=3, return_means=True)
    ref, ref_means = random_model(backend="reference").sample(
        40, n_steps=4, random_state=3, return_means=True)
    np.testing.assert_allclose(fast, ref, atol=1e-12)
    np.testing.assert_allclose(fast_means, ref_means, atol=1e-12)


def test_sampling_continues_streams():
    model = random_model()
    V = np.zeros((3, 5))
    assert not np.array_equal(model.gibbs(V, 2), model.gibbs(V, 2))
    assert np.array_equal(model.gibbs(V, 2, random_state=1), model.gibbs(V, 2, random_state=1))


# -- dtypes, inputs and persistence ------------------------------------------

def test_dtype_preserved(data, dtype):
    X = data.astype(dtype)
    model = small_model(n_epochs=1, learn_sigma=True).fit(X)
    for array in (model.weights_, model.log_sigma_, model.sigma_, model.transform(X),
                  model.energy(X), model.grad_x(X), model.sample(3, n_steps=2),
                  model.gibbs(X[:3]), model.visible_mean(model.transform(X[:3])),
                  *model.grad_params(X).values()):
        assert array.dtype == dtype


def test_int_data_becomes_float64():
    X = np.random.default_rng(0).integers(-3, 3, size=(50, 4))
    assert small_model(n_epochs=1).fit(X).weights_.dtype == np.float64


def test_caller_arrays_untouched(data):
    X = data.copy()
    before = X.copy()
    model = small_model(n_epochs=1, persistent=True).fit(X)
    model.partial_fit(X)
    model.gibbs(X[:5], 2)
    model.sample(5, n_steps=2, init=X[:5])
    model.energy(X)
    model.grad_x(X)
    model.grad_params(X)
    assert np.array_equal(X, before)
    W, b, c = model.weights_.copy(), model.visible_bias_.copy(), model.hidden_bias_.copy()
    sigma = np.full(6, 0.5)
    copy = GaussianBernoulliRBM.from_params(W, b, c, sigma, learn_sigma=True)
    copy.partial_fit(X)
    grads = copy.grad_params(X[:3])
    saved = {name: value.copy() for name, value in grads.items()}
    copy.apply_update(grads, 0.1)
    assert np.array_equal(W, model.weights_)
    assert np.array_equal(sigma, np.full(6, 0.5))
    for name, value in grads.items():
        assert np.array_equal(value, saved[name])


@pytest.mark.parametrize("make_X, message", [
    (lambda X: X[0], "2-D array"),
    (lambda X: np.where(X == X[0, 2], np.nan, X), "finite values"),
    (lambda X: np.where(X == X[1, 3], np.inf, X), "finite values"),
    (lambda X: X[:0], "at least 1 row"),
    (lambda X: X.astype(str), "real numbers"),
])
def test_fit_rejects_bad_data(data, make_X, message):
    with pytest.raises((ValueError, TypeError), match=message):
        small_model().fit(make_X(data[:50]))


@pytest.mark.parametrize("method", ["energy", "grad_x", "grad_params", "transform"])
def test_methods_reject_bad_data(method):
    model = random_model()
    with pytest.raises(ValueError, match="must have 5 columns"):
        getattr(model, method)(np.zeros((2, 4)))
    with pytest.raises(ValueError, match="finite values"):
        getattr(model, method)(np.full((2, 5), np.nan))


def test_data_outside_unit_interval_accepted():
    model = random_model()
    assert np.isfinite(model.energy(np.full((1, 5), -250.0))).all()


@pytest.mark.parametrize("params, message", [
    (dict(n_hidden=0), "n_hidden must be >= 1, got 0"),
    (dict(k=0), "k must be >= 1, got 0"),
    (dict(learning_rate=-0.1), "learning_rate must be > 0.0, got -0.1"),
    (dict(momentum=1.0), "momentum must be < 1.0"),
    (dict(sigma=0.0), "sigma must be > 0.0, got 0.0"),
    (dict(sigma=[1.0, -1.0]), "sigma must contain only values > 0"),
    (dict(sigma=[[1.0]]), "sigma must be a 1-D array"),
    (dict(sigma="wide"), "sigma must be an array of numbers"),
    (dict(learn_sigma="yes"), "learn_sigma must be True or False"),
    (dict(random_state="x"), "random_state must be None"),
])
def test_bad_parameters(params, message):
    with pytest.raises((ValueError, TypeError), match=message):
        GaussianBernoulliRBM(**params)


def test_sigma_shape_must_match_data(data):
    with pytest.raises(ValueError, match=r"sigma must be a number or have shape \(6,\)"):
        small_model(sigma=[1.0, 2.0]).fit(data)


def test_from_params_validates_shapes():
    with pytest.raises(ValueError, match="hidden_bias must have shape"):
        GaussianBernoulliRBM.from_params(np.zeros((3, 2)), np.zeros(3), np.zeros(3))
    with pytest.raises(ValueError, match=r"sigma must be a number or have shape \(3,\)"):
        GaussianBernoulliRBM.from_params(np.zeros((3, 2)), np.zeros(3), np.zeros(2), [1.0])


def test_visible_mean_rejects_non_probabilities():
    with pytest.raises(ValueError, match=r"values in \[0.0, 1.0\]"):
        random_model().visible_mean(np.full((1, 4), 2.0))


def test_not_fitted():
    with pytest.raises(ebmfast.NotFittedError, match="call fit"):
        GaussianBernoulliRBM().energy(np.zeros((1, 3)))


def test_save_load_round_trip(tmp_path, data, dtype):
    model = small_model(n_epochs=2, learn_sigma=True, persistent=True,
                        sigma=np.linspace(0.5, 1.5, 6)).fit(data.astype(dtype))
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = GaussianBernoulliRBM.load(path)
    for name in ("weights_", "visible_bias_", "hidden_bias_", "log_sigma_",
                 "persistent_hidden_"):
        assert getattr(loaded, name).dtype == dtype
        assert np.array_equal(getattr(loaded, name), getattr(model, name))
    assert loaded.learn_sigma
    assert loaded.learning_rate == model.learning_rate
    np.testing.assert_allclose(loaded.sigma, np.linspace(0.5, 1.5, 6))
    assert np.array_equal(loaded.energy(data[:4]), model.energy(data[:4]))
    assert GaussianBernoulliRBM.load(path, backend="reference").backend == "reference"


def test_load_rejects_bernoulli_model(tmp_path):
    W, b, c = random_rbm_params(np.random.default_rng(0), 4, 3)
    path = tmp_path / "bernoulli.npz"
    ebmfast.BernoulliRBM.from_params(W, b, c).save(path)
    with pytest.raises(ValueError, match="is not a saved ebmfast.GaussianBernoulliRBM model"):
        GaussianBernoulliRBM.load(path)


def test_load_rejects_damaged_files(tmp_path):
    path = tmp_path / "model.npz"
    random_model().save(path)
    with np.load(path) as saved:
        arrays = dict(saved)
    del arrays["log_sigma"]
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=r"missing the entries \['log_sigma'\]"):
        GaussianBernoulliRBM.load(path)
    text = tmp_path / "model.txt"
    text.write_text("not a model")
    with pytest.raises(ValueError, match="not a readable .npz model file"):
        GaussianBernoulliRBM.load(text)
    single = tmp_path / "array.npy"
    np.save(single, np.zeros(3))
    with pytest.raises(ValueError, match="holds a single array"):
        GaussianBernoulliRBM.load(single)
