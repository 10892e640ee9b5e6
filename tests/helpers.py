"""Shared builders for the tests."""

import numpy as np


def random_rbm_params(rng, n_visible, n_hidden, scale=0.5, dtype=np.float64):
    W = (rng.normal(size=(n_visible, n_hidden)) * scale).astype(dtype)
    b = rng.normal(size=n_visible).astype(dtype)
    c = rng.normal(size=n_hidden).astype(dtype)
    return W, b, c
