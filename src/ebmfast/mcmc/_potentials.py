"""Targets of the samplers: energies U(x) = -log p(x) + const with gradients.

A potential evaluates a batch ``X`` of shape (n_chains, d) at once.
Built-in potentials (``Gaussian``) are also evaluated inside the compiled
sampler loops; a ``CallablePotential`` wraps two Python functions that the
samplers call once per step for all chains.
"""

import numpy as np

from .._validation import check_array

__all__ = ["Potential", "Gaussian", "CallablePotential"]

# Potential kinds of the compiled kernels (see _mcmc_fast.pyx).
_GAUSSIAN_DIAGONAL = 0
_GAUSSIAN_DENSE = 1


class Potential:
    """Base class: an energy and its gradient for a batch of points.

    Subclasses implement ``_energy_grad(X)`` in NumPy. Built-in ones also set
    ``compiled_kind`` and ``compiled_parameters(dtype)`` for the kernels.
    """

    dim = None
    compiled_kind = None

    def energy_and_grad(self, X):
        """Return U(X) of shape (n,) in float64 and grad U(X) of the shape and dtype of X.

        X is an array of shape (n, dim).
        """
        X = check_array(X, "X", n_columns=self.dim)
        return self._energy_grad(X)

    def energy(self, X):
        """Return U(X), shape (n,), for X of shape (n, dim)."""
        return self.energy_and_grad(X)[0]

    def grad(self, X):
        """Return grad U(X), shape (n, dim), for X of shape (n, dim)."""
        return self.energy_and_grad(X)[1]


class Gaussian(Potential):
    """Multivariate normal N(mean, cov) as U(x) = (x - mean)^T P (x - mean) / 2.

    Parameters
    ----------
    mean : array_like of shape (d,)
    cov : float, array_like of shape (d,) or (d, d), optional
        Covariance: a number for an isotropic one, a vector for a diagonal
        one, or a symmetric positive definite matrix.
    precision : same forms as ``cov``, optional
        Inverse covariance P, instead of ``cov``. Without either, the
        covariance is the identity.

    Notes
    -----
    A diagonal P costs O(d) per gradient; a dense one costs O(d^2), computed
    per chain inside the compiled loop without BLAS.
    """

    def __init__(self, mean, cov=None, precision=None):
        self.mean = check_array(mean, "mean", dtype=np.float64, ndim=1)
        d = self.mean.shape[0]
        self.dim = d
        if cov is not None and precision is not None:
            raise ValueError("Gaussian takes cov or precision, not both.")
        name = "precision" if precision is not None else "cov"
        value = precision if precision is not None else cov
        if value is None:
            value = 1.0
        value = np.asarray(value, dtype=np.float64)
        if value.ndim == 0:
            value = np.full(d, float(value))
        if value.ndim == 2:
            value = check_array(value, name, dtype=np.float64, ndim=2)
            if value.shape != (d, d):
                raise ValueError(f"{name} must have shape ({d}, {d}) to match mean, "
                                 f"got {value.shape}.")
            if not np.allclose(value, value.T, rtol=1e-10, atol=0):
                raise ValueError(f"{name} must be symmetric.")
            try:
                np.linalg.cholesky(value)
            except np.linalg.LinAlgError:
                raise ValueError(f"{name} must be positive definite.") from None
            if np.count_nonzero(value - np.diag(np.diag(value))) == 0:
                value = np.diag(value).copy()
        elif value.ndim == 1:
            value = check_array(value, name, dtype=np.float64, ndim=1)
            if value.shape != (d,):
                raise ValueError(f"{name} must have shape ({d},) to match mean, "
                                 f"got {value.shape}.")
            if not (value > 0).all():
                raise ValueError(f"{name} must be positive, got minimum {value.min()}.")
        else:
            raise ValueError(f"{name} must be a number, a vector or a matrix, got "
                             f"{value.ndim}-D.")
        if name == "cov":
            value = 1.0 / value if value.ndim == 1 else np.linalg.inv(value)
            if value.ndim == 2:
                value = 0.5 * (value + value.T)
        self.precision = value
        self.diagonal = value.ndim == 1
        self.compiled_kind = _GAUSSIAN_DIAGONAL if self.diagonal else _GAUSSIAN_DENSE

    @property
    def cov(self):
        """Covariance matrix, shape (d, d)."""
        if self.diagonal:
            return np.diag(1.0 / self.precision)
        return np.linalg.inv(self.precision)

    def compiled_parameters(self, dtype):
        """Return [mean, precision (flattened)] in ``dtype`` for the kernels."""
        return np.concatenate([self.mean, self.precision.ravel()]).astype(dtype)

    def sample(self, n, rng):
        """Return n exact draws, shape (n, d), from a numpy Generator."""
        return rng.multivariate_normal(self.mean, self.cov, size=n)

    def _energy_grad(self, X):
        dtype = X.dtype
        R = X - self.mean.astype(dtype)
        if self.diagonal:
            G = self.precision.astype(dtype) * R
        else:
            G = R @ self.precision.astype(dtype)
        energy = 0.5 * np.einsum("ij,ij->i", G.astype(np.float64), R.astype(np.float64))
        return energy, G


class CallablePotential(Potential):
    """A target given by two batched Python functions.

    Parameters
    ----------
    energy : callable
        ``energy(X)`` with X of shape (n_chains, d) returns U of shape
        (n_chains,).
    grad : callable
        ``grad(X)`` returns grad U of shape (n_chains, d).
    dim : int, optional
        d; needed only when the samplers draw their own starting points.

    Both are called once per step with all chains. A result of another
    shape, or of a non-real dtype, raises ValueError or TypeError naming the
    function, what it returned and what was expected; a NaN or inf in a
    result is allowed and makes that chain's proposal a divergence.
    """

    def __init__(self, energy, grad, dim=None):
        if not callable(energy):
            raise TypeError(f"energy must be callable, got {type(energy).__name__}.")
        if not callable(grad):
            raise TypeError(f"grad must be callable, got {type(grad).__name__}.")
        self.energy_fn = energy
        self.grad_fn = grad
        self.dim = None if dim is None else int(dim)

    def _energy_grad(self, X):
        n, d = X.shape
        energy = _checked_result(self.energy_fn(X), "energy", (n,), X)
        grad = _checked_result(self.grad_fn(X), "grad", (n, d), X)
        return energy.astype(np.float64), grad.astype(X.dtype)


def _checked_result(value, name, shape, X):
    array = np.asarray(value)
    if array.dtype.kind not in "fiu":
        raise TypeError(
            f"{name}(X) must return real numbers, got {type(value).__name__} of "
            f"dtype {array.dtype}.")
    if array.shape != shape:
        raise ValueError(
            f"{name}(X) must return an array of shape {shape} for X of shape "
            f"{X.shape}, got shape {array.shape}.")
    return array
