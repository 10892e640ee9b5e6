"""Effective sample size: bulk, tail and plain, with Geyer's truncation."""

import numpy as np
import scipy.special
import scipy.stats

from ._autocov import autocovariance
from ._validation import (
    MIN_DRAWS,
    as_draws,
    scale_to_unit,
    shape_result,
    split_chains,
    warn_too_few_draws,
)

ESS_METHODS = ("bulk", "tail", "mean")


def multichain_tau(x):
    """Estimate the integrated autocorrelation time of a (n_chains, n_draws) array.

    Combines the chains as Vehtari et al. (2021) do: the
    autocorrelation at lag t is ``1 - (W - mean_k acov_k[t]) / var_plus``, where
    W is the mean within-chain variance and var_plus also counts the variance
    between chain means. The sum is truncated by Geyer's initial positive
    sequence and made monotone by Geyer's initial monotone sequence.

    ``x`` must have at least two draws per chain and must not be constant. The
    result is not capped, so it can be below 1 for anti-correlated chains.
    """
    n_chains, n_draws = x.shape
    acov = autocovariance(x)
    within = acov[:, 0].mean() * n_draws / (n_draws - 1)
    var_plus = within * (n_draws - 1) / n_draws
    if n_chains > 1:
        var_plus += x.mean(axis=1).var(ddof=1)

    rho = 1.0 - (within - acov.mean(axis=0)) / var_plus
    rho[0] = 1.0

    # Pair k is rho[2k] + rho[2k+1]. The last pair read is the one ending
    # before lag n_draws - 1, the same bound as ArviZ 0.23, so both agree to
    # rounding on short chains too.
    last_pair = max((n_draws - 3) // 2, 0)
    pair_sums = rho[0 : 2 * last_pair + 1 : 2] + rho[1 : 2 * last_pair + 2 : 2]

    # Initial positive sequence: keep the pairs before the first non-positive one.
    nonpositive = pair_sums <= 0.0
    n_kept = int(np.argmax(nonpositive)) if nonpositive.any() else last_pair

    # Initial monotone sequence: each kept pair is at most the one before it.
    monotone_pairs = np.minimum.accumulate(pair_sums[:n_kept])

    # The first lag after the kept pairs is added when positive. Stan does the
    # same, because it lowers the variance of the estimate for antithetic chains.
    tail_term = max(rho[2 * n_kept], 0.0)
    return -1.0 + 2.0 * monotone_pairs.sum() + tail_term


def ess_2d(x):
    """Compute the multi-chain ESS of a (n_chains, n_draws) array with n_draws >= 2.

    A constant array has ESS n_chains * n_draws by convention. The autocorrelation
    time is floored at 1 / log10(n_chains * n_draws), as in Stan and ArviZ, so the
    ESS of an anti-correlated chain is at most N log10(N).
    """
    n_total = x.size
    if np.ptp(x) == 0.0:
        return float(n_total)
    scaled, _ = scale_to_unit(x)
    tau = multichain_tau(scaled)
    return n_total / max(tau, 1.0 / np.log10(n_total))


def rank_normalize(x):
    """Replace each value by the normal quantile of its pooled rank.

    Ties get their average rank. The rank r of N values maps to
    ``Phi^-1((r - 3/8) / (N + 1/4))``, Blom's offset.
    """
    ranks = scipy.stats.rankdata(x, method="average", axis=None).reshape(x.shape)
    return scipy.special.ndtri((ranks - 0.375) / (x.size + 0.25))


def ess_bulk_2d(x, split=True):
    """Compute the bulk ESS: the ESS of the rank-normalised (split) chains."""
    if split:
        x = split_chains(x)
    return ess_2d(rank_normalize(x))


def ess_tail_2d(x, tail_probs=(0.05, 0.95), split=True):
    """Compute the tail ESS: the minimum ESS of the indicators ``x <= q_p`` over ``p`` in tail_probs.

    The quantiles are pooled over all chains, by linear interpolation
    (NumPy's default, the same as R's type 7).
    """
    results = []
    for quantile in np.quantile(x, tail_probs):
        indicator = (x <= quantile).astype(np.float64)
        if split:
            indicator = split_chains(indicator)
        results.append(ess_2d(indicator))
    return min(results)


def ess_mean_2d(x, split=True):
    """Compute the ESS of the raw values, which sets the MCSE of the mean."""
    if split:
        x = split_chains(x)
    return ess_2d(x)


def ess_dims(draws, method="bulk", split=True, tail_probs=(0.05, 0.95)):
    """Compute the ESS of each dimension of a validated (n_chains, n_draws, d) array."""
    values = np.empty(draws.shape[2])
    for dim in range(draws.shape[2]):
        x = draws[:, :, dim]
        if method == "bulk":
            values[dim] = ess_bulk_2d(x, split)
        elif method == "tail":
            values[dim] = ess_tail_2d(x, tail_probs, split)
        else:
            values[dim] = ess_mean_2d(x, split)
    return values


def ess(samples, *, method="bulk", split=True, tail_probs=(0.05, 0.95)):
    """Compute the effective sample size (ESS) of MCMC draws.

    Parameters
    ----------
    samples : array_like, shape (n_chains, n_draws) or (n_chains, n_draws, d)
        Draws of one or more chains, or an object with a ``samples`` attribute
        containing such an array. Values must be finite. Not modified.
    method : {"bulk", "tail", "mean"}, default "bulk"
        ``"bulk"``: ESS of the rank-normalised draws, which measures how well
        the centre of the distribution is sampled and works for heavy tails.
        ``"tail"``: the minimum ESS of the indicators ``theta <= q`` for the
        quantiles ``q`` at ``tail_probs``, which measures how well the tails
        are sampled. ``"mean"``: ESS of the raw values, the one that sets the
        Monte Carlo standard error of the mean (it assumes a finite variance).
    split : bool, default True
        Split each chain into two halves before the computation, so a trend
        inside a chain shows up as disagreement between chains. For an odd
        number of draws the middle draw is dropped.
    tail_probs : tuple of two floats, default (0.05, 0.95)
        Quantile levels for ``method="tail"``, each in (0, 1).

    Returns
    -------
    float or ndarray of shape (d,)
        A float for 2-D input, one value per dimension for 3-D input. The
        value is at most ``N * log10(N)`` with ``N = n_chains * n_draws``,
        and it can exceed N for anti-correlated chains.

    Raises
    ------
    TypeError
        If ``samples`` is not numeric.
    ValueError
        If ``samples`` has the wrong number of dimensions, is empty or
        contains NaN or inf, or if ``method`` or ``tail_probs`` is invalid.

    Warns
    -----
    RuntimeWarning
        If there are fewer than 4 draws per chain. The result is then NaN.

    Notes
    -----
    Each chain's autocovariance comes from an FFT. The chains are combined
    into one autocorrelation estimate that also counts the variance between
    chain means (Vehtari et al. 2021), and the sum over lags is
    truncated by Geyer's (1992) initial positive and initial monotone
    sequences. A dimension whose draws are all equal has ESS ``N`` by
    convention (ArviZ does the same). A sampler that never moves also
    produces this, so check its acceptance rate.

    One chain is accepted. With ``split=True`` its halves act as two chains.

    NOTE: with fewer than 5 draws per chain after splitting (fewer than 10
    draws with ``split=True``), no lag enters the sum, tau is estimated as 0
    and the result is the cap ``N * log10(N)`` whatever the draws. ArviZ 0.23
    returns the same.

    References
    ----------
    .. [1] A. Vehtari, A. Gelman, D. Simpson, B. Carpenter, P.-C. Bürkner,
       "Rank-normalization, folding, and localization: An improved R-hat for
       assessing convergence of MCMC", Bayesian Analysis 16(2), 667-718, 2021.
    .. [2] C. J. Geyer, "Practical Markov chain Monte Carlo", Statistical
       Science 7(4), 473-483, 1992.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> draws = rng.standard_normal((4, 1000, 2))
    >>> ess(draws).shape
    (2,)
    """
    if method not in ESS_METHODS:
        raise ValueError(f"method must be one of {ESS_METHODS}; got {method!r}")
    tail_probs = validate_tail_probs(tail_probs)
    draws, squeeze = as_draws(samples)
    if draws.shape[1] < MIN_DRAWS:
        warn_too_few_draws(draws.shape[1])
        return shape_result(np.full(draws.shape[2], np.nan), squeeze)
    return shape_result(ess_dims(draws, method, bool(split), tail_probs), squeeze)


def validate_tail_probs(tail_probs):
    """Return tail_probs as a tuple of two floats in (0, 1), or raise ValueError."""
    try:
        low, high = (float(p) for p in tail_probs)
    except (TypeError, ValueError):
        raise ValueError(
            f"tail_probs must be two quantile levels in (0, 1); got {tail_probs!r}"
        ) from None
    if not (0.0 < low < 1.0 and 0.0 < high < 1.0):
        raise ValueError(
            f"tail_probs must be two quantile levels in (0, 1); got {tail_probs!r}"
        )
    return (low, high)
