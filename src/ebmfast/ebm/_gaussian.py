"""A diagonal Gaussian written as an energy model, whose maximum-likelihood fit is known."""

import numpy as np

from .._validation import check_array, check_int, check_real

__all__ = ["GaussianEnergy"]


class GaussianEnergy:
    """Diagonal Gaussian energy with a learnable mean and log-precision.

    The energy of a row x is

        E(x) = 1/2 sum_i exp(s_i) (x_i - mu_i)^2,

    with mean mu and log-precision s (precision lambda_i = exp(s_i)), so
    p(x) is the normal distribution N(mu, diag(exp(-s))). It implements
    :class:`EnergyModel`. Its maximum-likelihood parameters are the data mean
    and the log of the inverse (biased) data variance, so it checks that a
    training loop converges to the right place.

    Parameters
    ----------
    dim : int
        Data dimension d, >= 1.
    mean : array_like of shape (d,), optional
        Initial mu; zeros by default.
    log_precision : array_like of shape (d,), optional
        Initial s; zeros (unit variance) by default.
    init_scale : float, default=1.0
        Standard deviation of the normal draws of :meth:`init_samples`,
        which are centred at 0 whatever the current mean.

    Attributes
    ----------
    mean_ : ndarray of shape (d,)
    log_precision_ : ndarray of shape (d,)

    Examples
    --------
    >>> import numpy as np
    >>> from ebmfast.ebm import GaussianEnergy
    >>> model = GaussianEnergy(2, mean=[1.0, -1.0])
    >>> model.energy(np.array([[1.0, -1.0], [2.0, -1.0]]))
    array([0. , 0.5])
    """

    def __init__(self, dim, *, mean=None, log_precision=None, init_scale=1.0):
        self.dim = check_int(dim, "dim", minimum=1)
        self.init_scale = check_real(init_scale, "init_scale", minimum=0.0,
                                     include_minimum=False)
        self.mean_ = self._initial("mean", mean)
        self.log_precision_ = self._initial("log_precision", log_precision)

    def _initial(self, name, value):
        if value is None:
            return np.zeros(self.dim)
        array = check_array(value, name, dtype=np.float64, ndim=1, copy=True)
        if array.shape != (self.dim,):
            raise ValueError(f"{name} must have shape ({self.dim},), got shape {array.shape}.")
        return array

    @property
    def variance(self):
        """Variance exp(-s) of each coordinate, shape (d,)."""
        return np.exp(-self.log_precision_)

    def _check_X(self, X):
        # No finiteness check: a sampler's proposal may overflow, and its
        # energy must then come back as inf (a divergence), not an error.
        X = np.asarray(X, dtype=np.float64)
        if X.ndim != 2 or X.shape[1] != self.dim:
            raise ValueError(f"X must have shape (n, {self.dim}), got shape {X.shape}.")
        return X

    def energy(self, X):
        """Return E(x) = 1/2 sum_i exp(s_i) (x_i - mu_i)^2 for each row, shape (n,)."""
        X = self._check_X(X)
        return 0.5 * ((X - self.mean_) ** 2) @ np.exp(self.log_precision_)

    def grad_x(self, X):
        """Return dE/dx = exp(s) * (x - mu) for each row, shape (n, d)."""
        X = self._check_X(X)
        return np.exp(self.log_precision_) * (X - self.mean_)

    def grad_params(self, X):
        """Return the batch averages of dE/dmu and dE/ds.

        dE/dmu_i = -exp(s_i) (x_i - mu_i) and dE/ds_i = exp(s_i) (x_i - mu_i)^2 / 2.

        Returns
        -------
        grads : dict
            "mean" and "log_precision", each of shape (d,).
        """
        X = self._check_X(X)
        precision = np.exp(self.log_precision_)
        centred = X - self.mean_
        return {"mean": -precision * centred.mean(axis=0),
                "log_precision": 0.5 * precision * (centred ** 2).mean(axis=0)}

    def init_samples(self, n, rng):
        """Draw n starting points from N(0, init_scale^2 I) with the Generator rng."""
        n = check_int(n, "n", minimum=0)
        return self.init_scale * rng.standard_normal((n, self.dim))

    def apply_update(self, grads, learning_rate):
        """Subtract learning_rate * grads[name] from "mean" and "log_precision" in place."""
        learning_rate = check_real(learning_rate, "learning_rate", minimum=0.0)
        expected = {"mean", "log_precision"}
        if set(grads) != expected:
            raise ValueError(f"grads must have the keys {sorted(expected)}, got "
                             f"{sorted(grads)}.")
        for name in ("mean", "log_precision"):
            step = np.asarray(grads[name], dtype=np.float64)
            if step.shape != (self.dim,):
                raise ValueError(f"grads[{name!r}] must have shape ({self.dim},), got "
                                 f"shape {step.shape}.")
            getattr(self, name + "_")[...] -= learning_rate * step
