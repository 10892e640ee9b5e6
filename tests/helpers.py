"""Shared builders for the tests."""

import numpy as np
import scipy.signal


def random_rbm_params(rng, n_visible, n_hidden, scale=0.5, dtype=np.float64):
    W = (rng.normal(size=(n_visible, n_hidden)) * scale).astype(dtype)
    b = rng.normal(size=n_visible).astype(dtype)
    c = rng.normal(size=n_hidden).astype(dtype)
    return W, b, c


# Seeded chains shared by the diagnostics tests.

def ar1(rho, n_chains, n_draws, seed):
    """Draw stationary AR(1) chains x[t] = rho * x[t-1] + N(0, 1), shape (n_chains, n_draws)."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((n_chains, n_draws))
    noise[:, 0] /= np.sqrt(1.0 - rho**2)
    return scipy.signal.lfilter([1.0], [1.0, -rho], noise, axis=1)


def slow_chains():
    """Draw four AR(1) chains with rho = 0.99 started far apart, so they have not mixed."""
    x = ar1(0.99, 4, 2000, 4)
    start = np.array([-20.0, -5.0, 5.0, 20.0])[:, np.newaxis]
    return x + start * 0.99 ** np.arange(2000)


DATASETS = {
    "white": lambda: np.random.default_rng(1).standard_normal((4, 1000)),
    "ar09": lambda: ar1(0.9, 4, 25000, 2),
    "anti05": lambda: ar1(-0.5, 4, 50000, 3),
    "anti03": lambda: ar1(-0.3, 4, 5000, 5),
    "slow": slow_chains,
    "odd": lambda: ar1(0.5, 3, 1001, 6),
}
