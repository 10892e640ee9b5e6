"""Backend dispatch for the Bernoulli RBM: one function per kernel.

Each function takes validated, C-contiguous arrays of one floating dtype and
returns new arrays of that dtype; ``backend`` selects the compiled kernel in
``_rbm_fast`` or its NumPy twin in ``_rbm_reference``.
"""

import numpy as np

from . import _rbm_fast as fast
from . import _rbm_reference as reference


def hidden_probs(V, W, c, backend, n_threads):
    if backend == "reference":
        return reference.hidden_probs(V, W, c)
    out = np.empty((V.shape[0], W.shape[1]), dtype=W.dtype)
    fast.hidden_probs(V, W, c, out, n_threads)
    return out


def visible_probs(H, W, b, backend, n_threads):
    if backend == "reference":
        return reference.visible_probs(H, W, b)
    out = np.empty((H.shape[0], W.shape[0]), dtype=W.dtype)
    fast.visible_probs(H, W, b, out, n_threads)
    return out


def sample_bernoulli(P, streams, backend, n_threads):
    if backend == "reference":
        return reference.sample_bernoulli(P, streams)
    out = np.empty_like(P)
    fast.sample_bernoulli(P, streams.states, out, n_threads)
    return out


def gibbs(V, W, b, c, streams, n_steps, backend, n_threads):
    """Return (visible states, last p(v | h), last hidden states)."""
    if backend == "reference":
        return reference.gibbs(V, W, b, c, streams, n_steps)
    V = V.copy()
    n_hidden = W.shape[1]
    Pv = np.zeros_like(V)
    H = np.zeros((V.shape[0], n_hidden), dtype=V.dtype)
    Ph = np.empty_like(H)
    fast.gibbs(V, W, b, c, streams.states, n_steps, Pv, H, Ph, n_threads)
    return V, Pv, H


def train_epoch(X, order, batch_size, params, velocities, streams, *, k,
                learning_rate, momentum, weight_decay, persistent_hidden,
                backend, n_threads):
    """Update ``params``, ``velocities`` and ``persistent_hidden`` in place."""
    if backend == "reference":
        reference.train_epoch(
            X, order, batch_size, params, velocities, streams,
            k=k, learning_rate=learning_rate, momentum=momentum,
            weight_decay=weight_decay, persistent_hidden=persistent_hidden)
        return
    W, b, c = params
    dW, db, dc = velocities
    dtype = W.dtype
    n_visible, n_hidden = W.shape
    batch_rows = min(batch_size, order.size)
    persistent = persistent_hidden is not None
    n_model = persistent_hidden.shape[0] if persistent else batch_rows
    H = persistent_hidden if persistent else np.empty((batch_rows, n_hidden), dtype)
    fast.train_epoch(
        X, np.ascontiguousarray(order, dtype=np.int64), batch_rows,
        W, b, c, dW, db, dc, H, persistent,
        np.empty((batch_rows, n_visible), dtype),
        np.empty((batch_rows, n_hidden), dtype),
        np.empty((n_model, n_visible), dtype),
        np.empty((n_model, n_visible), dtype),
        np.empty((n_model, n_hidden), dtype),
        streams.states, k, learning_rate, momentum, weight_decay, n_threads)


def free_energy(V, W, b, c, backend, n_threads):
    if backend == "reference":
        return reference.free_energy(V, W, b, c)
    pre = np.empty((V.shape[0], W.shape[1]), dtype=W.dtype)
    out = np.empty(V.shape[0], dtype=W.dtype)
    fast.free_energy(V, W, b, c, pre, out, n_threads)
    return out


def pseudo_log_likelihood(V, W, b, c, backend, n_threads):
    if backend == "reference":
        return reference.pseudo_log_likelihood(V, W, b, c)
    pre = np.empty((V.shape[0], W.shape[1]), dtype=W.dtype)
    out = np.empty(V.shape[0], dtype=np.float64)
    fast.pseudo_log_likelihood(V, W, b, c, pre, out, n_threads)
    return out
