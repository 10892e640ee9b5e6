"""MCMC convergence diagnostics in plain NumPy and SciPy.

Every function takes draws of shape (n_chains, n_draws) or
(n_chains, n_draws, d), or an object with a ``samples`` attribute containing
such an array, such as a sampler result.

- :func:`autocorrelation`: autocorrelation function by FFT.
- :func:`integrated_time`: integrated autocorrelation time tau.
- :func:`ess`: effective sample size (bulk, tail or of the raw values).
- :func:`rhat`: rank-normalised split R-hat.
- :func:`mcse_mean`: Monte Carlo standard error of the mean.
- :func:`summary`: table with all of the above per dimension.
"""

from ._autocorr import AutocorrError, AutocorrWarning, autocorrelation, integrated_time
from ._ess import ess
from ._mcse import mcse_mean
from ._rhat import rhat
from ._summary import Summary, summary

__all__ = [
    "AutocorrError",
    "AutocorrWarning",
    "Summary",
    "autocorrelation",
    "ess",
    "integrated_time",
    "mcse_mean",
    "rhat",
    "summary",
]
