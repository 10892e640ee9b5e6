"""train_ebm on GaussianEnergy: recovery of the MLE, seeds, non-finite stops and input errors."""

import logging

import numpy as np
import pytest

from ebmfast.ebm import EnergyModel, GaussianEnergy, ReplayBuffer, train_ebm
from ebmfast.mcmc import ula

MEAN = np.array([1.0, -2.0])
STD = np.array([0.5, 2.0])


def gaussian_data(n=2000, seed=0):
    return np.random.default_rng(seed).normal(MEAN, STD, size=(n, 2))


class RecordingGaussian(GaussianEnergy):
    """GaussianEnergy that records its parameters after every update.

    ``bad_gradient_at`` makes grad_params return NaN on that call (counted
    over data and sample calls); ``bad_update_at`` makes that update write
    inf into the mean.
    """

    def __init__(self, dim, bad_gradient_at=None, bad_update_at=None):
        super().__init__(dim)
        self.bad_gradient_at = bad_gradient_at
        self.bad_update_at = bad_update_at
        self.gradient_calls = 0
        self.updates = []

    def grad_params(self, X):
        self.gradient_calls += 1
        grads = super().grad_params(X)
        if self.gradient_calls == self.bad_gradient_at:
            grads["mean"] = np.full_like(grads["mean"], np.nan)
        return grads

    def apply_update(self, grads, learning_rate):
        super().apply_update(grads, learning_rate)
        if len(self.updates) + 1 == self.bad_update_at:
            self.mean_[0] = np.inf
        self.updates.append((self.mean_.copy(), self.log_precision_.copy()))


def test_gaussian_energy_is_energy_model():
    assert isinstance(GaussianEnergy(2), EnergyModel)
    assert not isinstance(object(), EnergyModel)


def test_gaussian_energy_gradients_match_finite_differences():
    rng = np.random.default_rng(0)
    model = GaussianEnergy(3, mean=[0.5, -1.0, 2.0], log_precision=[0.2, -0.3, 1.0])
    X = rng.normal(size=(5, 3))
    h = 1e-6
    for i in range(3):
        step = np.zeros(3)
        step[i] = h
        numeric = (model.energy(X + step) - model.energy(X - step)) / (2 * h)
        np.testing.assert_allclose(model.grad_x(X)[:, i], numeric, rtol=1e-6, atol=1e-8)
    grads = model.grad_params(X)
    for name in ("mean", "log_precision"):
        for i in range(3):
            param = getattr(model, name + "_")
            param[i] += h
            up = model.energy(X).mean()
            param[i] -= 2 * h
            down = model.energy(X).mean()
            param[i] += h
            np.testing.assert_allclose(grads[name][i], (up - down) / (2 * h), rtol=1e-6)


@pytest.mark.parametrize("sampler, options", [
    ("hmc", dict(n_sampler_steps=2, step_size=0.2)),
    ("langevin_hmc", dict(n_sampler_steps=5, step_size=0.1, hmc_step_size=0.2,
                          n_hmc_steps=2)),
])
def test_train_recovers_mean_and_variance(sampler, options):
    data = gaussian_data()
    model = GaussianEnergy(2)
    history = train_ebm(model, data, sampler, n_epochs=30, batch_size=200,
                        learning_rate=0.1, random_state=0, **options)
    assert not history.stopped_early
    assert history.n_updates == 300
    np.testing.assert_allclose(model.mean_, data.mean(axis=0), atol=0.1)
    np.testing.assert_allclose(model.variance, data.var(axis=0), rtol=0.1)


def test_train_langevin_recovers_standard_data():
    # Unit-variance data, where Langevin steps of 0.3 mix fast enough and
    # their O(step^2) bias in the variance is about 2%.
    data = np.random.default_rng(1).normal([0.5, -0.5], 1.0, size=(2000, 2))
    model = GaussianEnergy(2)
    history = train_ebm(model, data, "langevin", n_epochs=30, batch_size=200,
                        learning_rate=0.1, n_sampler_steps=10, step_size=0.3,
                        random_state=1)
    assert not history.stopped_early
    np.testing.assert_allclose(model.mean_, data.mean(axis=0), atol=0.1)
    np.testing.assert_allclose(model.variance, data.var(axis=0), rtol=0.15)


def test_train_same_seed_same_parameters():
    data = gaussian_data(400)
    results = []
    for _ in range(2):
        model = GaussianEnergy(2)
        history = train_ebm(model, data, "hmc", n_epochs=3, batch_size=50,
                            learning_rate=0.1, n_sampler_steps=1, step_size=0.2,
                            random_state=5)
        results.append((model.mean_, model.log_precision_, history.buffer.samples.copy()))
    for first, second in zip(*results):
        np.testing.assert_array_equal(first, second)


def test_train_other_seed_other_parameters():
    data = gaussian_data(400)
    means = []
    for seed in (5, 6):
        model = GaussianEnergy(2)
        train_ebm(model, data, "hmc", n_epochs=2, batch_size=50, learning_rate=0.1,
                  n_sampler_steps=1, step_size=0.2, random_state=seed)
        means.append(model.mean_)
    assert not np.array_equal(*means)


def test_history_entries():
    data = gaussian_data(400)
    history = train_ebm(GaussianEnergy(2), data, "langevin", n_epochs=3, batch_size=100,
                        learning_rate=0.05, n_sampler_steps=2, n_chains=40,
                        random_state=0)
    assert [entry["epoch"] for entry in history.epochs] == [1, 2, 3]
    assert history["n_updates"].tolist() == [4, 4, 4]
    assert history["sample_energy"].shape == (3,)
    assert np.all(history["acceptance_rate"] == 1.0)
    assert history.epochs[0]["restarts"] == 40 + 3 * 2
    assert history.buffer.size == 40 + 11 * 2
    assert history.stop_reason is None


def test_given_buffer_is_used():
    data = gaussian_data(200)
    buffer = ReplayBuffer(500, 2, restart_fraction=0.1, random_state=3)
    history = train_ebm(GaussianEnergy(2), data, "langevin", buffer, n_epochs=1,
                        batch_size=50, n_sampler_steps=2, random_state=0)
    assert history.buffer is buffer
    assert buffer.size == 50 + 3 * 5


def test_callable_sampler():
    calls = []

    def few_ula_steps(potential, X0, seed):
        calls.append(X0.shape)
        return ula(potential, X0, n_samples=1, thin=3, step_size=0.2, random_state=seed)

    data = gaussian_data(200)
    history = train_ebm(GaussianEnergy(2), data, few_ula_steps, n_epochs=2, batch_size=50,
                        random_state=0)
    assert calls == [(50, 2)] * 8
    assert history.n_updates == 8


def test_nonfinite_gradient_stops_with_last_parameters():
    # Each update calls grad_params twice (data, then samples): call 9 is the
    # data gradient of update 5.
    model = RecordingGaussian(2, bad_gradient_at=9)
    history = train_ebm(model, gaussian_data(1000), "hmc", n_epochs=2, batch_size=100,
                        n_sampler_steps=1, step_size=0.2, random_state=0)
    assert history.stopped_early
    assert history.n_updates == 4
    assert "gradient of parameter 'mean'" in history.stop_reason
    assert len(model.updates) == 4
    np.testing.assert_array_equal(model.mean_, model.updates[-1][0])
    np.testing.assert_array_equal(model.log_precision_, model.updates[-1][1])
    assert np.isfinite(history.buffer.samples).all()


def test_nonfinite_update_is_undone():
    model = RecordingGaussian(2, bad_update_at=3)
    history = train_ebm(model, gaussian_data(1000), "hmc", n_epochs=2, batch_size=100,
                        n_sampler_steps=1, step_size=0.2, random_state=0)
    assert history.stopped_early
    assert history.n_updates == 2
    assert "parameter 'mean_' after the update" in history.stop_reason
    np.testing.assert_array_equal(model.mean_, model.updates[1][0])
    np.testing.assert_array_equal(model.log_precision_, model.updates[1][1])


def test_nonfinite_raise_keeps_parameters():
    model = RecordingGaussian(2, bad_update_at=2)
    with pytest.raises(FloatingPointError, match="last good update"):
        train_ebm(model, gaussian_data(1000), "hmc", n_epochs=1, batch_size=100,
                  n_sampler_steps=1, step_size=0.2, on_nonfinite="raise", random_state=0)
    np.testing.assert_array_equal(model.mean_, model.updates[0][0])


def test_divergent_learning_rate_stops_finite(caplog):
    # Data much narrower than the fresh chains and a huge learning rate
    # drive the log-precision up until exp() overflows; training stops there
    # and the model keeps finite energies.
    model = GaussianEnergy(2)
    data = gaussian_data(1000) * 0.001
    with caplog.at_level(logging.WARNING, logger="ebmfast"):
        with np.errstate(over="ignore"):
            history = train_ebm(model, data, "langevin", n_epochs=5, batch_size=100,
                                learning_rate=50.0, n_sampler_steps=1, random_state=0)
    assert history.stopped_early
    assert "after the update" in history.stop_reason
    assert np.isfinite(model.mean_).all()
    assert np.isfinite(model.log_precision_).all()
    assert np.isfinite(model.energy(data[:100])).all()
    assert "train_ebm stopped" in caplog.text


def test_verbose_logs_each_epoch(caplog):
    with caplog.at_level(logging.INFO, logger="ebmfast"):
        train_ebm(GaussianEnergy(2), gaussian_data(200), n_epochs=2, batch_size=100,
                  n_sampler_steps=1, verbose=True, random_state=0)
    lines = [r.message for r in caplog.records if r.message.startswith("epoch")]
    assert len(lines) == 2
    assert "sample energy" in lines[0]


def test_model_without_protocol_rejected():
    class NoUpdate:
        def energy(self, X):
            return np.zeros(len(X))

    with pytest.raises(TypeError, match="lacks grad_x, grad_params, init_samples, apply_update"):
        train_ebm(NoUpdate(), gaussian_data(10))


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(sampler="gibbs"), ValueError, "sampler must be one of"),
    (dict(n_epochs=0), ValueError, "n_epochs must be >= 1"),
    (dict(learning_rate=0.0), ValueError, "learning_rate must be > 0"),
    (dict(n_sampler_steps=0), ValueError, "n_sampler_steps must be >= 1"),
    (dict(on_nonfinite="ignore"), ValueError, "on_nonfinite must be one of"),
    (dict(buffer=ReplayBuffer(10, 3)), ValueError, "buffer.dim must equal"),
    (dict(buffer=ReplayBuffer(10, 2), batch_size=20), ValueError, "n_chains \\(20\\) must be <="),
    (dict(buffer=np.zeros((10, 2))), TypeError, "buffer must be a ReplayBuffer"),
    (dict(sampler_kwargs=[1]), TypeError, "sampler_kwargs must be a dict"),
])
def test_invalid_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        train_ebm(GaussianEnergy(2), gaussian_data(50), **kwargs)


def test_data_with_nan_rejected():
    data = gaussian_data(50)
    data[3, 1] = np.nan
    with pytest.raises(ValueError, match="data must contain only finite values"):
        train_ebm(GaussianEnergy(2), data)


def test_sampler_kwargs_cannot_repeat_arguments():
    model = GaussianEnergy(2)
    data = np.random.default_rng(0).normal(size=(50, 2))
    with pytest.raises(ValueError, match=r"sampler_kwargs must not set \['step_size'\]"):
        train_ebm(model, data, "hmc", n_epochs=1, sampler_kwargs={"step_size": 0.1})
