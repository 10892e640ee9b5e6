"""NumPy reference for the Gaussian-Bernoulli RBM kernels.

This module is the specification that the compiled kernels in
``_gbrbm_fast.pyx`` are tested against, so it is written to read like the
equations. With

    E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_ij (v_i / sigma_i) W_ij h_j - c^T h,

the conditionals and the free energy F(v) = -log sum_h exp(-E(v, h)) are

    p(h_j = 1 | v) = logistic(c_j + ((v / sigma) W)_j)
    p(v_i | h) = N(b_i + sigma_i (W h)_i, sigma_i^2)
    F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(c_j + ((v / sigma) W)_j)

Rows are samples or chains. Row ``i`` draws from stream ``i`` of a
:class:`ebmfast._random.ChainStreams`: uniform numbers for the hidden units
and normal numbers (``_normal_reference.standard_normal``) for the visible
units, in the order the kernels draw them.
"""

import numpy as np

from ._normal_reference import standard_normal
from ._rbm_reference import logistic, sample_bernoulli, softplus

PARAMETER_NAMES = ("weights", "visible_bias", "hidden_bias", "log_sigma")


def scales(log_sigma):
    """Return sigma = exp(log sigma) and 1 / sigma in the dtype of log_sigma."""
    sigma = np.exp(log_sigma)
    return sigma, (1 / sigma).astype(sigma.dtype)


def hidden_probs(V, W, c, inv_sigma):
    return logistic((V * inv_sigma) @ W + c)


def visible_mean(H, W, b, sigma):
    """Return the mean b + sigma * (W h) of p(v | h) for each row of H."""
    return b + sigma * (H @ W.T)


def sample_normal(M, sigma, streams):
    """Return M + sigma * z, with row i of z standard normal from stream i."""
    V = np.empty_like(M)
    for i in range(M.shape[0]):
        V[i] = M[i] + sigma * standard_normal(streams, i, M.shape[1], M.dtype)
    return V


def gibbs(V, W, b, c, sigma, inv_sigma, streams, n_steps):
    """Run ``n_steps`` block Gibbs sweeps v -> h -> v from visible states V.

    Returns the final visible states, the mean of the last p(v | h) and the
    last hidden states.
    """
    H = np.zeros((V.shape[0], W.shape[1]), dtype=V.dtype)
    M = V
    for _ in range(n_steps):
        H = sample_bernoulli(hidden_probs(V, W, c, inv_sigma), streams)
        M = visible_mean(H, W, b, sigma)
        V = sample_normal(M, sigma, streams)
    return V, M, H


def negative_chain(H, W, b, c, sigma, inv_sigma, streams, k, sample_last_hidden):
    """Run k sweeps h -> v -> h from hidden states H.

    Returns the visible states, p(h = 1 | v) of the last sweep and, when
    ``sample_last_hidden`` is set, the sampled last hidden states.
    """
    for step in range(k):
        V = sample_normal(visible_mean(H, W, b, sigma), sigma, streams)
        Ph = hidden_probs(V, W, c, inv_sigma)
        if step < k - 1 or sample_last_hidden:
            H = sample_bernoulli(Ph, streams)
    return V, Ph, H


def free_energy(V, W, b, c, inv_sigma):
    D = (V - b) * inv_sigma
    return 0.5 * (D * D).sum(axis=1) - softplus((V * inv_sigma) @ W + c).sum(axis=1)


def free_energy_grad(V, W, b, c, inv_sigma):
    """Return dF/dv = (v - b) / sigma^2 - (W p(h | v)) / sigma for each row."""
    P = hidden_probs(V, W, c, inv_sigma)
    D = (V - b) * inv_sigma
    return D * inv_sigma - inv_sigma * (P @ W.T)


def parameter_grads(V, P, W, b, inv_sigma, learn_sigma):
    """Return the batch average of the gradient of F(v) w.r.t. the parameters.

    ``P`` is p(h = 1 | v) for the rows of V. With s = v / sigma and
    d = (v - b) / sigma:

        dF/dW_ij = -s_i p_j
        dF/db_i = -d_i / sigma_i
        dF/dc_j = -p_j
        dF/dlog sigma_i = -d_i^2 + s_i (W p)_i

    The last entry, present only with ``learn_sigma``, is sigma_i dF/dsigma_i.
    Returns a dict keyed by the names in PARAMETER_NAMES.
    """
    n = V.shape[0]
    S = V * inv_sigma
    D = (V - b) * inv_sigma
    grads = {
        "weights": -(S.T @ P) / n,
        "visible_bias": -(D * inv_sigma).mean(axis=0),
        "hidden_bias": -P.mean(axis=0),
    }
    if learn_sigma:
        grads["log_sigma"] = (-(D * D) + S * (P @ W.T)).mean(axis=0)
    return grads


def momentum_step(params, velocities, grads, *, learning_rate, momentum, weight_decay):
    """Apply one momentum step of gradient descent on the negative log-likelihood.

    ``params`` and ``velocities`` are dicts of arrays updated in place, and
    ``grads`` contains <dF/dtheta>_data - <dF/dtheta>_model for the
    parameters that learn. The L2 penalty adds weight_decay * W to the weight gradient:

        velocity = momentum * velocity - learning_rate * grad
        parameter += velocity
    """
    dtype = params["weights"].dtype
    for name, grad in grads.items():
        if name == "weights":
            grad = grad + dtype.type(weight_decay) * params["weights"]
        velocity = velocities[name]
        velocity *= dtype.type(momentum)
        velocity -= dtype.type(learning_rate) * grad.astype(dtype, copy=False)
        params[name] += velocity


def cd_update(V0, params, velocities, streams, *, k, learning_rate, momentum,
              weight_decay, learn_sigma, persistent_hidden=None):
    """Apply one CD-k (or persistent CD-k) update for the minibatch V0.

    ``params`` and ``velocities`` are dicts keyed by PARAMETER_NAMES, updated
    in place; log_sigma changes only with ``learn_sigma``. For CD-k the
    negative chains start at hidden states drawn from p(h | V0), row i from
    stream i. For persistent CD they start at ``persistent_hidden`` (updated
    in place), chain i from stream i, and the data rows draw nothing.
    """
    W, b, c = params["weights"], params["visible_bias"], params["hidden_bias"]
    sigma, inv_sigma = scales(params["log_sigma"])

    # Positive phase: data statistics with p(h | v) in place of samples.
    Ph0 = hidden_probs(V0, W, c, inv_sigma)

    # Negative phase: k Gibbs sweeps from the data or the persistent chains.
    if persistent_hidden is None:
        H = sample_bernoulli(Ph0, streams)
        Vk, Phk, _ = negative_chain(H, W, b, c, sigma, inv_sigma, streams, k, False)
    else:
        Vk, Phk, H = negative_chain(persistent_hidden, W, b, c, sigma, inv_sigma,
                                    streams, k, True)
        persistent_hidden[...] = H

    # <dF/dtheta>_data - <dF/dtheta>_model, each averaged over its own rows.
    positive = parameter_grads(V0, Ph0, W, b, inv_sigma, learn_sigma)
    negative = parameter_grads(Vk, Phk, W, b, inv_sigma, learn_sigma)
    grads = {name: positive[name] - negative[name] for name in positive}
    momentum_step(params, velocities, grads, learning_rate=learning_rate,
                  momentum=momentum, weight_decay=weight_decay)


def train_epoch(X, order, batch_size, params, velocities, streams, *, k,
                learning_rate, momentum, weight_decay, learn_sigma,
                persistent_hidden=None):
    """Apply :func:`cd_update` to the minibatches ``X[order[i:i + batch_size]]``."""
    for start in range(0, order.size, batch_size):
        V0 = X[order[start:start + batch_size]]
        cd_update(V0, params, velocities, streams, k=k, learning_rate=learning_rate,
                  momentum=momentum, weight_decay=weight_decay,
                  learn_sigma=learn_sigma, persistent_hidden=persistent_hidden)


def hidden_states(n_hidden, start=0, stop=None):
    """Return the hidden states with codes start .. stop - 1 as float64 rows.

    Code k is the binary number h_1 h_2 ... h_n_hidden, so the rows run in
    binary counting order.
    """
    stop = 2**n_hidden if stop is None else stop
    codes = np.arange(start, stop)
    return ((codes[:, None] >> np.arange(n_hidden)[::-1]) & 1).astype(np.float64)


def mixture_log_weights(W, b, c, sigma, H):
    """Return the unnormalised log weights of the Gaussians of p(v) for hidden states H.

    Integrating v out of exp(-E(v, h)) gives
    exp(c^T h + b^T ((W h) / sigma) + |W h|^2 / 2) prod_i sqrt(2 pi) sigma_i,
    and the constant product is left out here.
    """
    A = H @ W.T
    return H @ c + (A / sigma) @ b + 0.5 * (A * A).sum(axis=1)


def mixture(W, b, c, sigma):
    """Return p(v) as a mixture of Gaussians: (log weights, means), one row per h.

    p(v) = sum_h pi_h N(v; b + sigma * (W h), diag(sigma^2)) over all
    2^n_hidden hidden states h, in the order of :func:`hidden_states`.
    """
    W, b, c, sigma = (np.asarray(a, dtype=np.float64) for a in (W, b, c, sigma))
    H = hidden_states(W.shape[1])
    log_weights = mixture_log_weights(W, b, c, sigma, H)
    log_weights -= np.logaddexp.reduce(log_weights)
    return log_weights, b + sigma * (H @ W.T)


def log_partition(W, b, c, sigma, chunk=4096):
    """Return log Z exactly, summing over the 2^n_hidden hidden states in chunks.

    log Z = log sum_h exp(mixture log weight of h) + sum_i log(sqrt(2 pi) sigma_i).
    """
    W, b, c, sigma = (np.asarray(a, dtype=np.float64) for a in (W, b, c, sigma))
    total = -np.inf
    n_states = 2**W.shape[1]
    for start in range(0, n_states, chunk):
        H = hidden_states(W.shape[1], start, min(start + chunk, n_states))
        total = np.logaddexp(total, np.logaddexp.reduce(mixture_log_weights(W, b, c, sigma, H)))
    return float(total + np.sum(np.log(np.sqrt(2 * np.pi) * sigma)))


def ais_reference(V, W, b, c, sigma, inv_sigma, betas, streams, log_w):
    """NumPy twin of ``_gbrbm_fast.ais_anneal``: anneal V along betas in place.

    The intermediate models are
    p_beta(v, h) proportional to exp(-sum_i (v_i - b_i)^2 / (2 sigma_i^2)
    + beta ((v / sigma)^T W h + c^T h)), whose hidden units sum out to

        log p*_beta(v) = -sum_i (v_i - b_i)^2 / (2 sigma_i^2)
                         + sum_j softplus(beta (c_j + ((v / sigma) W)_j)).

    For each consecutive pair (previous, beta) the log weight gains
    log p*_beta(v) - log p*_previous(v), in float64 from pre-activations in
    the model's dtype; then one Gibbs sweep at beta moves v, with
    p_beta(h_j = 1 | v) = logistic(beta x_j) and
    p_beta(v | h) = N(b + sigma * (beta W h), diag(sigma^2)).
    Run i draws from stream i.
    """
    dtype = V.dtype.type
    for previous, beta in zip(betas[:-1], betas[1:]):
        x = (V * inv_sigma) @ W + c
        x64 = x.astype(np.float64)
        log_w += (softplus(beta * x64) - softplus(previous * x64)).sum(axis=1)
        H = sample_bernoulli(logistic(dtype(beta) * x), streams)
        M = b + sigma * (dtype(beta) * (H @ W.T))
        V[...] = sample_normal(M, sigma, streams)
