"""NumPy reference for the modern Hopfield kernels.

This module is the specification that ``_hopfield_fast.pyx`` is tested
against, so it is written to read like the equations and materialises the
full ``(n_queries, n_patterns)`` score matrix. Rows of X are the stored
patterns x_i and rows of Q the queries (state patterns) xi. For one query,

    E(xi) = -1/beta * logsumexp_i(beta x_i^T xi) + 1/2 xi^T xi
    update: xi <- X^T softmax(beta X xi)

and attention is softmax(scale Q K^T) V.
"""

import numpy as np


def log_sum_exp(Z):
    """Return log(sum_j exp(Z[n, j])) per row in float64, without overflow."""
    Z = Z.astype(np.float64)
    row_max = Z.max(axis=1, keepdims=True)
    return row_max[:, 0] + np.log(np.exp(Z - row_max).sum(axis=1))


def softmax(Z):
    """Return the row-wise softmax of Z, shifted by the row maximum."""
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def attention(Q, K, V, scale):
    """Return softmax(scale Q K^T) V and logsumexp(scale Q K^T) per row.

    The score matrix is shifted, exponentiated and normalised in place, so
    the peak memory is one (n_queries, n_keys) array.
    """
    Z = Q @ K.T
    Z *= scale
    row_max = Z.max(axis=1, keepdims=True)
    Z -= row_max
    np.exp(Z, out=Z)
    row_sum = Z.sum(axis=1, keepdims=True)
    Z /= row_sum
    log_sum_exp = row_max[:, 0].astype(np.float64) + np.log(row_sum[:, 0].astype(np.float64))
    return Z @ V, log_sum_exp


def update(Q, X, beta):
    """Return one Hopfield update of every query and logsumexp(beta X xi)."""
    return attention(Q, X, X, beta)


def scaled_log_sum_exp(Q, X, beta):
    """Return logsumexp_i(beta x_i^T xi) for each query, in float64."""
    return log_sum_exp(beta * (Q @ X.T))


def nearest(Q, X):
    """Return the index of the stored pattern nearest to each query.

    argmin_i |x_i - xi|^2 = argmin_i (|x_i|^2 / 2 - x_i^T xi); ties keep the
    lowest index.
    """
    half_norm = 0.5 * np.einsum("ij,ij->i", X, X)
    return np.argmin(half_norm[None, :] - Q @ X.T, axis=1)


def weights(Q, X, beta):
    """Return softmax(beta X xi) for each query, shape (n_queries, n_patterns)."""
    return softmax(beta * (Q @ X.T))


def retrieve(Q, X, beta, max_iter, tol):
    """Iterate the reference update on every query, freezing converged ones.

    Returns the final states, the updates applied to each query and the
    converged flags, with the same stopping rule as the fast backend.
    """
    states = Q.copy()
    n_iter = np.zeros(Q.shape[0], dtype=np.int64)
    converged = np.zeros(Q.shape[0], dtype=bool)
    for _ in range(max_iter):
        if converged.all():
            break
        updated, _ = update(states, X, beta)
        change = np.linalg.norm((updated - states).astype(np.float64), axis=1)
        running = ~converged
        states[running] = updated[running]
        n_iter[running] += 1
        converged[running] = change[running] <= tol
    return states, n_iter, converged
