"""NumPy reference for the Bernoulli RBM kernels.

This module is the specification that the compiled kernels in
``_rbm_fast.pyx`` are tested against, so it is written to read like the
equations. With E(v, h) = -v^T W h - b^T v - c^T h:

    p(h_j = 1 | v) = logistic(c_j + (v W)_j)
    p(v_i = 1 | h) = logistic(b_i + (W h)_i)
    F(v) = -b^T v - sum_j softplus(c_j + (v W)_j)

Rows are samples or chains. Row ``i`` draws its uniform numbers from stream
``i`` of a :class:`ebmfast._random.ChainStreams`, the same way the kernels do.
"""

import numpy as np


def logistic(x):
    """Return 1 / (1 + exp(-x)) without overflow for any finite x."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


def softplus(x):
    """Return log(1 + exp(x)) without overflow for any finite x."""
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


def hidden_probs(V, W, c):
    return logistic(V @ W + c)


def visible_probs(H, W, b):
    return logistic(H @ W.T + b)


def sample_bernoulli(P, streams):
    """Return 0/1 states with P(state = 1) = P, row i drawn from stream i."""
    S = np.empty_like(P)
    for i, row in enumerate(P):
        S[i] = streams.uniform(i, row.size, P.dtype) < row
    return S


def energy(V, H, W, b, c):
    return -np.einsum("ni,ij,nj->n", V, W, H) - V @ b - H @ c


def free_energy(V, W, b, c):
    return -(V @ b) - softplus(V @ W + c).sum(axis=1)


def gibbs(V, W, b, c, streams, n_steps):
    """Run ``n_steps`` block Gibbs sweeps v -> h -> v from visible states V.

    Returns the final visible states, the final p(v = 1 | h) and the last
    hidden states.
    """
    H = np.zeros((V.shape[0], W.shape[1]), dtype=V.dtype)
    Pv = V
    for _ in range(n_steps):
        H = sample_bernoulli(hidden_probs(V, W, c), streams)
        Pv = visible_probs(H, W, b)
        V = sample_bernoulli(Pv, streams)
    return V, Pv, H


def negative_chain(H, W, b, c, streams, k, sample_last_hidden):
    """Run k sweeps h -> v -> h from hidden states H.

    Returns the visible states, p(h = 1 | v) of the last sweep and, when
    ``sample_last_hidden`` is set, the sampled last hidden states.
    """
    for step in range(k):
        V = sample_bernoulli(visible_probs(H, W, b), streams)
        Ph = hidden_probs(V, W, c)
        if step < k - 1 or sample_last_hidden:
            H = sample_bernoulli(Ph, streams)
    return V, Ph, H


def cd_update(V0, params, velocities, streams, *, k, learning_rate,
              momentum, weight_decay, persistent_hidden=None):
    """Apply one CD-k (or persistent CD-k) update for the minibatch V0.

    ``params`` is (W, b, c) and ``velocities`` (dW, db, dc); both are
    updated in place. For CD-k the negative chains start at the data and
    row i uses stream i. For persistent CD the chains start at the hidden
    states ``persistent_hidden`` (updated in place), chain i uses stream i,
    and the data rows draw nothing.

    The update is the momentum form of gradient ascent on the log-likelihood
    with an L2 penalty on W:

        grad W = <v h^T>_data - <v h^T>_model - weight_decay * W
        velocity = momentum * velocity + learning_rate * grad
        parameter += velocity
    """
    W, b, c = params
    dW, db, dc = velocities

    # Positive phase: data statistics with p(h | v) in place of samples.
    Ph0 = hidden_probs(V0, W, c)

    # Negative phase: k Gibbs sweeps from the data or the persistent chains.
    if persistent_hidden is None:
        H = sample_bernoulli(Ph0, streams)
        Vk, Phk, _ = negative_chain(H, W, b, c, streams, k, False)
    else:
        Vk, Phk, H = negative_chain(
            persistent_hidden, W, b, c, streams, k, True)
        persistent_hidden[...] = H

    # Gradient step with momentum; each phase is averaged over its own rows.
    n_data, n_model = V0.shape[0], Vk.shape[0]
    grad_W = V0.T @ Ph0 / n_data - Vk.T @ Phk / n_model - weight_decay * W
    grad_b = V0.mean(axis=0) - Vk.mean(axis=0)
    grad_c = Ph0.mean(axis=0) - Phk.mean(axis=0)
    for param, velocity, grad in ((W, dW, grad_W), (b, db, grad_b), (c, dc, grad_c)):
        velocity *= momentum
        velocity += learning_rate * grad
        param += velocity


def train_epoch(X, order, batch_size, params, velocities, streams, *,
                k, learning_rate, momentum, weight_decay, persistent_hidden=None):
    """Apply :func:`cd_update` to the minibatches ``X[order[i:i + batch_size]]``."""
    for start in range(0, order.size, batch_size):
        V0 = X[order[start:start + batch_size]]
        cd_update(V0, params, velocities, streams, k=k,
                  learning_rate=learning_rate, momentum=momentum,
                  weight_decay=weight_decay, persistent_hidden=persistent_hidden)


def pseudo_log_likelihood(V, W, b, c):
    """Return sum_i log p(v_i | v_-i) for each row of V.

    Flipping v_i changes the free energy by F(v') - F(v), and
    p(v_i | v_-i) = logistic(F(v') - F(v)).
    """
    pre = V @ W + c
    base = -(V @ b) - softplus(pre).sum(axis=1)
    total = np.zeros(V.shape[0], dtype=np.float64)
    for i in range(V.shape[1]):
        sign = 1 - 2 * V[:, i]
        flipped = (-(V @ b) - sign * b[i]
                   - softplus(pre + sign[:, None] * W[i]).sum(axis=1))
        total += -softplus(-(flipped - base).astype(np.float64))
    return total
