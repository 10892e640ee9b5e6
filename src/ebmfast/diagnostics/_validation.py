"""Input checks and array helpers shared by the diagnostics functions."""

import warnings

import numpy as np

# Split chains need at least two draws per half. Below this count the ESS,
# R-hat, MCSE and tau estimators return NaN and warn.
MIN_DRAWS = 4


def as_draws(samples, name="samples"):
    """Validate ``samples`` and return it as a float64 array of shape (n_chains, n_draws, d).

    ``samples`` is an array of shape (n_chains, n_draws) or (n_chains, n_draws, d),
    or any object with a ``samples`` attribute containing such an array.

    Returns
    -------
    draws : ndarray, shape (n_chains, n_draws, d)
        A float64 view or copy of the input. Callers must not write into it,
        because it can share memory with the caller's array.
    squeeze : bool
        True when the input was 2-D, so results should drop the last axis.

    Raises
    ------
    TypeError
        If the values are not real numbers (bool, integer or float).
    ValueError
        If the array is not 2-D or 3-D, has an axis of length 0, or contains
        NaN or inf.
    """
    if not isinstance(samples, np.ndarray) and hasattr(samples, "samples"):
        samples = samples.samples
        name = f"{name}.samples"

    array = np.asarray(samples)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"{name} must contain real numbers (bool, integer or float); "
            f"got dtype {array.dtype}"
        )
    if array.ndim not in (2, 3):
        raise ValueError(
            f"{name} must have shape (n_chains, n_draws) or (n_chains, n_draws, d); "
            f"got ndim={array.ndim} with shape {array.shape}. "
            "For a single 1-D chain pass x[np.newaxis, :]"
        )
    if 0 in array.shape:
        raise ValueError(
            f"{name} must have at least one chain, one draw and one dimension; "
            f"got shape {array.shape}"
        )

    squeeze = array.ndim == 2
    draws = np.asarray(array, dtype=np.float64)
    if squeeze:
        draws = draws[:, :, np.newaxis]

    finite = np.isfinite(draws)
    if not finite.all():
        chain, draw, dim = np.argwhere(~finite)[0]
        bad_value = draws[chain, draw, dim]
        location = f"chain {chain}, draw {draw}"
        if not squeeze:
            location += f", dimension {dim}"
        raise ValueError(
            f"{name} must be finite, but it contains {bad_value} at {location} "
            f"({np.count_nonzero(~finite)} non-finite values in total). "
            "Remove or replace these draws before computing diagnostics"
        )
    return draws, squeeze


def warn_too_few_draws(n_draws, name="samples"):
    """Warn that ``n_draws`` is below MIN_DRAWS, so the result is NaN."""
    warnings.warn(
        f"{name} has {n_draws} draws per chain, fewer than the {MIN_DRAWS} "
        "needed for this diagnostic; returning NaN",
        RuntimeWarning,
        stacklevel=3,
    )


def shape_result(values, squeeze):
    """Return a float for a 2-D input and a 1-D array of length d for a 3-D input."""
    values = np.asarray(values, dtype=np.float64)
    if squeeze:
        return float(values[0])
    return values


def scale_to_unit(x):
    """Return x divided by its largest absolute deviation from the mean, and that divisor.

    Autocovariances square the values, so draws of magnitude above about 1e154
    overflow and draws below about 1e-154 underflow. The diagnostics that use
    them are scale-invariant, so they run on the scaled copy. A constant array
    is returned centred with divisor 1.
    """
    centred = x - x.mean()
    scale = float(np.max(np.abs(centred)))
    if scale == 0.0:
        return centred, 1.0
    return centred / scale, scale


def split_chains(x):
    """Split each chain of a (n_chains, n_draws) array into halves, returning (2 * n_chains, n_draws // 2).

    For odd n_draws the middle draw is dropped, so both halves have equal length.
    """
    half = x.shape[1] // 2
    return np.concatenate([x[:, :half], x[:, x.shape[1] - half:]], axis=0)
