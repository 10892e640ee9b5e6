"""Log partition function of a Bernoulli RBM: exact enumeration and AIS.

Both work in float64 whatever the model's dtype, because log Z is a sum of
up to millions of terms.
"""

import warnings
from collections import namedtuple

import numpy as np

from ._rbm_reference import logistic, sample_bernoulli, softplus

LogPartition = namedtuple(
    "LogPartition", ["log_z", "stderr", "method", "n_runs", "n_betas"])
LogPartition.__doc__ = """Estimate of log Z.

Attributes
----------
log_z : float
    The log partition function, or its estimate.
stderr : float
    Standard error of ``log_z``; 0.0 when it is exact.
method : {"exact", "ais"}
n_runs, n_betas : int
    AIS settings; 0 for the exact method.
"""

MAX_EXACT_UNITS = 20


def _logsumexp(values):
    peak = values.max()
    return peak + np.log(np.exp(values - peak).sum())


def exact_log_partition(W, b, c, chunk_size=1 << 14):
    """Return log Z by summing over every state of the smaller layer.

    Summing out the larger layer analytically leaves, for hidden states h,
    log Z = logsumexp_h [c^T h + sum_i softplus(b_i + (W h)_i)],
    and symmetrically over visible states. The cost is 2^min(n_visible,
    n_hidden) rows of a matrix product.
    """
    W, b, c = (np.asarray(a, dtype=np.float64) for a in (W, b, c))
    if W.shape[1] <= W.shape[0]:
        weights, enumerated_bias, summed_bias = W.T, c, b
    else:
        weights, enumerated_bias, summed_bias = W, b, c
    n_units = weights.shape[0]
    if n_units > MAX_EXACT_UNITS:
        raise ValueError(
            f"exact log partition needs a layer of at most {MAX_EXACT_UNITS} "
            f"units, got layers of {W.shape[0]} and {W.shape[1]} units; use "
            "method='ais'.")
    bits = np.arange(n_units, dtype=np.int64)
    chunk_totals = []
    for start in range(0, 1 << n_units, chunk_size):
        index = np.arange(start, min(start + chunk_size, 1 << n_units), dtype=np.int64)
        states = ((index[:, None] >> bits) & 1).astype(np.float64)
        terms = states @ enumerated_bias + softplus(states @ weights + summed_bias).sum(axis=1)
        chunk_totals.append(_logsumexp(terms))
    return float(_logsumexp(np.array(chunk_totals)))


def ais_schedule(n_betas):
    """Inverse temperatures from 0 to 1, denser near 1.

    The split follows Salakhutdinov and Murray (2008): 500/14500 of the
    steps on [0, 0.5], 4000/14500 on [0.5, 0.9] and the rest on [0.9, 1].
    """
    n_low = max(1, round(n_betas * 500 / 14500))
    n_mid = max(1, round(n_betas * 4000 / 14500))
    n_high = max(1, n_betas - n_low - n_mid)
    return np.concatenate([
        np.linspace(0.0, 0.5, n_low, endpoint=False),
        np.linspace(0.5, 0.9, n_mid, endpoint=False),
        np.linspace(0.9, 1.0, n_high + 1),
    ])


def ais_reference(V, W, b, c, base_bias, betas, streams, log_w):
    """NumPy twin of ``_rbm_ais.ais_anneal``: anneal V along betas in place.

    For each consecutive pair (previous, beta) the log weight gains
    log p*_beta(v) - log p*_previous(v), then one Gibbs sweep at beta moves
    v, with

        log p*_beta(v) = (1 - beta) a^T v + beta b^T v
                         + sum_j softplus(beta (c_j + (v W)_j))

    and a the base model's visible biases.
    """
    for previous, beta in zip(betas[:-1], betas[1:]):
        pre = V @ W + c
        log_w += ((beta - previous) * (V @ (b - base_bias))
                  + (softplus(beta * pre) - softplus(previous * pre)).sum(axis=1))
        H = sample_bernoulli(logistic(beta * pre), streams)
        Pv = logistic((1 - beta) * base_bias + beta * (H @ W.T + b))
        V[...] = sample_bernoulli(Pv, streams)


def ais_log_partition(W, b, c, *, n_runs, n_betas, base_visible_bias, streams,
                      backend, n_threads=1):
    """Estimate log Z by annealed importance sampling.

    The path runs from a base model with visible biases ``base_visible_bias``
    and no weights (beta = 0) to the RBM (beta = 1) through
    p_beta(v, h) proportional to
    exp((1 - beta) a^T v + beta (v^T W h + b^T v + c^T h)), whose hidden
    units can be summed out. Each run starts from an exact draw of the base
    model and moves by one Gibbs sweep at each beta. Run i draws from
    stream i.

    Returns
    -------
    log_z, stderr : float
        The estimate and its standard error by the delta method,
        sd(w) / (mean(w) sqrt(n_runs)) for the importance weights w.

    References
    ----------
    R. Salakhutdinov and I. Murray, "On the quantitative analysis of deep
    belief networks", ICML 2008.
    """
    W, b, c, base = (np.ascontiguousarray(a, dtype=np.float64)
                     for a in (W, b, c, base_visible_bias))
    n_visible, n_hidden = W.shape
    betas = ais_schedule(n_betas)

    start = np.ascontiguousarray(np.broadcast_to(logistic(base), (n_runs, n_visible)))
    V = sample_bernoulli(start, streams)
    log_w = np.zeros(n_runs)
    if backend == "reference":
        ais_reference(V, W, b, c, base, betas, streams, log_w)
    else:
        from ._rbm_ais import ais_anneal

        ais_anneal(V, W, b, c, base, betas, streams.states, log_w,
                   np.empty((n_runs, n_hidden)), np.empty((n_runs, n_hidden)),
                   np.empty((n_runs, n_visible)), n_threads)

    log_z_base = softplus(base).sum() + n_hidden * np.log(2.0)
    return ais_estimate(log_z_base, log_w)


def ais_estimate(log_z_base, log_w):
    """Return (log Z, standard error) from the base model's log Z and the AIS log weights.

    log Z = log Z_base + log mean(w), and the standard error is that of the
    delta method, sd(w) / (mean(w) sqrt(n_runs)).
    """
    peak = log_w.max()
    w = np.exp(log_w - peak)
    log_z = log_z_base + peak + np.log(w.mean())
    stderr = w.std(ddof=1) / (w.mean() * np.sqrt(log_w.size))
    # With a few runs carrying nearly all the weight, both numbers are
    # unreliable: log Z tends to be too low and the standard error tends
    # to sqrt((n - 1) / n), whatever the error.
    effective_runs = w.sum() ** 2 / (w * w).sum()
    if effective_runs < max(2.0, 0.1 * log_w.size):
        warnings.warn(
            f"AIS weights are dominated by a few runs (effective sample size "
            f"{effective_runs:.1f} of {log_w.size} runs), so log Z is probably too "
            "low and its standard error unreliable; increase n_betas.",
            RuntimeWarning, stacklevel=4)
    return float(log_z), float(stderr)
