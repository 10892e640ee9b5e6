"""Rank-normalised split R-hat."""

import numpy as np

from ._ess import rank_normalize
from ._validation import (
    MIN_DRAWS,
    as_draws,
    shape_result,
    split_chains,
    warn_too_few_draws,
)


def potential_scale_reduction(z):
    """Compute the R-hat of a (n_chains, n_draws) array with n_chains >= 2 and n_draws >= 2.

    Returns NaN when every chain is constant at the same value and inf when every
    chain is constant but the chain means differ.
    """
    n_draws = z.shape[1]
    within = z.var(axis=1, ddof=1).mean()
    between_over_n = z.mean(axis=1).var(ddof=1)
    if within == 0.0:
        return np.nan if between_over_n == 0.0 else np.inf
    var_plus = within * (n_draws - 1) / n_draws + between_over_n
    return float(np.sqrt(var_plus / within))


def rhat_2d(x):
    """Compute the rank-normalised split R-hat of a (n_chains, n_draws) array with n_draws >= 4."""
    if np.ptp(x) == 0.0:
        return np.nan
    # No rescaling here, unlike the ESS: the ranks do not need it, and rescaling
    # would round away ties between folded draws that ArviZ keeps.
    halves = split_chains(x)
    bulk = potential_scale_reduction(rank_normalize(halves))
    folded = potential_scale_reduction(rank_normalize(np.abs(halves - np.median(halves))))
    # Folded draws are constant when x takes two values symmetric about the
    # median, and then only the bulk value is defined. fmax ignores that NaN.
    return float(np.fmax(bulk, folded))


def rhat_dims(draws):
    """Compute rhat_2d for each dimension of a validated (n_chains, n_draws, d) array."""
    return np.array([rhat_2d(draws[:, :, dim]) for dim in range(draws.shape[2])])


def rhat(samples):
    """Compute the rank-normalised split R-hat of MCMC draws.

    Parameters
    ----------
    samples : array_like, shape (n_chains, n_draws) or (n_chains, n_draws, d)
        Draws of one or more chains, or an object with a ``samples`` attribute
        containing such an array. Values must be finite. Not modified.

    Returns
    -------
    float or ndarray of shape (d,)
        A float for 2-D input, one value per dimension for 3-D input. Values
        near 1 mean the chains agree. Vehtari et al. (2021) recommend running
        longer when R-hat exceeds 1.01.

    Raises
    ------
    TypeError
        If ``samples`` is not numeric.
    ValueError
        If ``samples`` has the wrong number of dimensions, is empty or
        contains NaN or inf.

    Warns
    -----
    RuntimeWarning
        If there are fewer than 4 draws per chain. The result is then NaN.

    Notes
    -----
    Each chain is split into two halves (the middle draw is dropped when the
    number of draws is odd), and the halves are treated as separate chains.
    R-hat is computed twice: on the rank-normalised draws (bulk), and on the
    rank-normalised distances from the pooled median (folded draws, sensitive
    to differences in scale). The larger of the two is returned.

    Special cases:

    - One chain: its two halves act as two chains, so a trend or a change in
      scale along the chain still shows. ArviZ 0.23 returns NaN here instead.
    - All draws of a dimension equal: R-hat is undefined (0/0) and NaN is
      returned without a warning.
    - Every split chain constant but at different values: inf.

    References
    ----------
    .. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter, P.-C. Bürkner,
       "Rank-normalization, folding, and localization: An improved R-hat for
       assessing convergence of MCMC", Bayesian Analysis 16(2), 667-718, 2021.
    .. [2] A. Gelman, D. B. Rubin, "Inference from iterative simulation using
       multiple sequences", Statistical Science 7(4), 457-472, 1992.
    """
    draws, squeeze = as_draws(samples)
    if draws.shape[1] < MIN_DRAWS:
        warn_too_few_draws(draws.shape[1])
        return shape_result(np.full(draws.shape[2], np.nan), squeeze)
    return shape_result(rhat_dims(draws), squeeze)
