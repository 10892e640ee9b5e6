"""Autocovariance of chains by FFT."""

import numpy as np
import scipy.fft


def autocovariance(x):
    """Compute the autocovariance of each row of ``x`` at every lag, by FFT.

    Parameters
    ----------
    x : ndarray, shape (n_chains, n_draws)
        Draws, one chain per row. Not modified.

    Returns
    -------
    ndarray, shape (n_chains, n_draws)
        ``acov[k, t] = sum_s (x[k, s] - mean_k) * (x[k, s + t] - mean_k) / n_draws``,
        the biased estimator that keeps the sequence positive semi-definite.
        A constant chain has autocovariance 0 at every lag.

    Notes
    -----
    The rows are zero-padded to at least ``2 * n_draws - 1`` points, so the
    circular correlation that the FFT computes equals the linear one at every
    lag. The cost is O(n_draws log n_draws) per chain.
    """
    n_draws = x.shape[1]
    centred = x - x.mean(axis=1, keepdims=True)
    # Rounding in the mean can leave a constant chain slightly off zero, which
    # would give it a spurious autocorrelation, so constant chains are zeroed.
    centred[np.ptp(x, axis=1) == 0.0] = 0.0
    n_fft = scipy.fft.next_fast_len(2 * n_draws - 1, real=True)
    spectrum = scipy.fft.rfft(centred, n=n_fft, axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    acov = scipy.fft.irfft(power, n=n_fft, axis=1)[:, :n_draws]
    acov /= n_draws
    return acov
