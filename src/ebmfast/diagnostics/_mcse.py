"""Monte Carlo standard error of the mean."""

import numpy as np

from ._ess import ess_mean_2d
from ._validation import (
    MIN_DRAWS,
    as_draws,
    scale_to_unit,
    shape_result,
    warn_too_few_draws,
)


def pooled_sd(x):
    """Compute the standard deviation (ddof=1) of all draws of x, or NaN for a single draw.

    The draws are rescaled first, so values above about 1e154 do not overflow.
    """
    if x.size < 2:
        return np.nan
    scaled, scale = scale_to_unit(x)
    return float(scale * np.sqrt(np.sum(scaled**2) / (x.size - 1)))


def mcse_mean_dims(draws):
    """Compute the MCSE of the mean of each dimension of a validated (n_chains, n_draws, d) array."""
    values = np.empty(draws.shape[2])
    for dim in range(draws.shape[2]):
        x = draws[:, :, dim]
        values[dim] = pooled_sd(x) / np.sqrt(ess_mean_2d(x, split=True))
    return values


def mcse_mean(samples):
    """Compute the Monte Carlo standard error (MCSE) of the mean of MCMC draws.

    Parameters
    ----------
    samples : array_like, shape (n_chains, n_draws) or (n_chains, n_draws, d)
        Draws of one or more chains, or an object with a ``samples`` attribute
        containing such an array. Values must be finite. Not modified.

    Returns
    -------
    float or ndarray of shape (d,)
        ``sd / sqrt(ess)``, where sd is the standard deviation of all draws
        pooled (ddof=1) and ess is ``ess(samples, method="mean")``, the split
        ESS of the raw values. A float for 2-D input, one value per dimension
        for 3-D input. It is 0 for a dimension whose draws are all equal.

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
    The estimate assumes the target distribution has a finite variance.

    References
    ----------
    .. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter, P.-C. Bürkner,
       "Rank-normalization, folding, and localization: An improved R-hat for
       assessing convergence of MCMC", Bayesian Analysis 16(2), 667-718, 2021.
    """
    draws, squeeze = as_draws(samples)
    if draws.shape[1] < MIN_DRAWS:
        warn_too_few_draws(draws.shape[1])
        return shape_result(np.full(draws.shape[2], np.nan), squeeze)
    return shape_result(mcse_mean_dims(draws), squeeze)
