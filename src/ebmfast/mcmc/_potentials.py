"""Targets of the samplers: energies U(x) = -log p(x) + const with gradients.

A potential evaluates a batch ``X`` of shape (n_chains, d) at once. The
built-in potentials (``Gaussian``, ``GaussianMixture``, ``Rosenbrock``,
``Funnel``) and a ``CompiledPotential`` (a C function pointer) are also
evaluated inside the compiled sampler loops; a ``CallablePotential`` wraps
batched Python functions (the energy, and optionally its gradient) that the
samplers call once per step for all chains.
The ``_energy_grad`` method of each class is the NumPy reference of the
compiled code in ``csrc/ebm_mcmc_kernels.h``.
"""

import ctypes
import numbers

import numpy as np
import scipy.linalg

from .. import _math_reference
from .._validation import check_array, check_backend, check_int, check_n_threads, check_real
from ._adaptation import libm_exp, libm_log
from ._sums import kernel_order_sum

__all__ = ["Potential", "Gaussian", "GaussianMixture", "Rosenbrock", "Funnel",
           "RBMFreeEnergy",
           "CompiledPotential", "CallablePotential"]

# Potential kinds of the compiled kernels (EBM_* in csrc/ebm_mcmc.h).
_GAUSSIAN_DIAGONAL = 0
_GAUSSIAN_DENSE = 1
_GAUSSIAN_MIXTURE = 2
_ROSENBROCK = 3
_FUNNEL = 4
_CALLBACK = 5
_GBRBM = 6
_GAUSSIAN_MIXTURE_DENSE = 7

_NO_CONSTANTS = np.zeros(0)


class Potential:
    """Base class: an energy and its gradient for a batch of points.

    Subclasses implement ``_energy_grad(X)`` in NumPy. Compiled ones also set
    ``compiled_kind`` and implement ``compiled_arguments(dtype)`` for the
    kernels. A potential with ``has_grad = False`` returns None in place of
    the gradient from ``_energy_grad``, and only random-walk Metropolis
    accepts it.
    """

    dim = None
    compiled_kind = None
    has_grad = True

    def compiled_arguments(self, dtype):
        """Return (kind, theta, constants, n_components, function_address, user_data).

        theta is in ``dtype`` and constants in float64, laid out as
        ``ebm_potential`` in csrc/ebm_mcmc.h.
        """
        raise NotImplementedError(f"{type(self).__name__} has no compiled form.")

    def energy_and_grad(self, X, *, backend="fast", n_threads=None):
        """Return U(X) of shape (n,) in float64 and grad U(X) of the shape and dtype of X.

        X is an array of shape (n, dim). With ``backend="fast"`` a compiled
        potential is evaluated by the kernels of the samplers; otherwise, or
        with ``backend="reference"``, by NumPy.
        """
        if not self.has_grad:
            raise ValueError(
                f"this {type(self).__name__} has no gradient (grad=None). Call "
                "energy(X), or create it with grad, a function that returns "
                "grad U of shape (n, dim).")
        backend = check_backend(backend)
        X = check_array(X, "X", n_columns=self.dim)
        if backend == "fast" and self.compiled_kind is not None:
            return self._compiled_energy_grad(X, check_n_threads(n_threads))
        return self._energy_grad(X)

    def energy(self, X, *, backend="fast", n_threads=None):
        """Return U(X), shape (n,), for X of shape (n, dim)."""
        backend = check_backend(backend)
        X = check_array(X, "X", n_columns=self.dim)
        if backend == "fast" and self.compiled_kind is not None:
            return self._compiled_energy_grad(X, check_n_threads(n_threads))[0]
        return self._energy(X)

    def grad(self, X, *, backend="fast", n_threads=None):
        """Return grad U(X), shape (n, dim), for X of shape (n, dim)."""
        return self.energy_and_grad(X, backend=backend, n_threads=n_threads)[1]

    def _energy(self, X):
        return self._energy_grad(X)[0]

    def _compiled_energy_grad(self, X, n_threads):
        from .. import _mcmc_fast

        X = np.ascontiguousarray(X)
        G = np.empty_like(X)
        U = np.empty(X.shape[0])
        # Small batches run on one thread: waking OpenMP threads costs more.
        threads = n_threads if X.size >= 32768 else 1
        _mcmc_fast.potential_energy_grad(*self.compiled_arguments(X.dtype), X, G, U,
                                         threads)
        return U, G


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
        # Parameters are copied, so later changes to the caller's arrays
        # cannot change the target or bypass the checks below.
        self.mean = check_array(mean, "mean", dtype=np.float64, ndim=1, copy=True)
        d = self.mean.shape[0]
        self.dim = d
        if cov is not None and precision is not None:
            raise ValueError("Gaussian takes cov or precision, not both.")
        name = "precision" if precision is not None else "cov"
        value = precision if precision is not None else cov
        if value is None:
            value = 1.0
        value = np.array(value, dtype=np.float64)
        if value.ndim == 0:
            value = np.full(d, float(value))
        if value.ndim == 2:
            value = check_array(value, name, dtype=np.float64, ndim=2)
            if value.shape != (d, d):
                raise ValueError(f"{name} must have shape ({d}, {d}) to match mean, "
                                 f"got {value.shape}.")
            if not np.allclose(value, value.T, rtol=1e-10, atol=0):
                i, j = np.unravel_index(np.argmax(np.abs(value - value.T)), value.shape)
                raise ValueError(f"{name} must be symmetric, got {name}[{i}, {j}] = "
                                 f"{value[i, j]} and {name}[{j}, {i}] = {value[j, i]}.")
            try:
                np.linalg.cholesky(value)
            except np.linalg.LinAlgError:
                raise ValueError(
                    f"{name} must be positive definite, got a smallest eigenvalue of "
                    f"{np.linalg.eigvalsh(value).min():.6g}.") from None
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

    def compiled_arguments(self, dtype):
        theta = np.concatenate([self.mean, self.precision.ravel()]).astype(dtype)
        return self.compiled_kind, theta, _NO_CONSTANTS, 0, 0, 0

    def sample(self, n, rng):
        """Return n exact draws, shape (n, d), from a numpy Generator."""
        return rng.multivariate_normal(self.mean, self.cov, size=n)

    def _energy_grad(self, X):
        dtype = X.dtype
        R = X - self.mean.astype(dtype)
        precision = self.precision.astype(dtype)
        if self.diagonal:
            G = precision * R
        else:
            # Row by row in the kernel's order rather than R @ P, whose BLAS
            # sums round differently (see _sums.py for why that matters).
            G = np.zeros_like(R)
            for k in range(self.dim):
                G = G + R[:, k:k + 1] * precision[k]
        energy = 0.5 * kernel_order_sum(G.astype(np.float64) * R.astype(np.float64))
        return energy, G


class GaussianMixture(Potential):
    """Mixture of Gaussians with diagonal or full (dense) covariances.

    U(x) = -log sum_k w_k N(x; m_k, C_k), up to the constant (2 pi)^(d/2).

    Parameters
    ----------
    weights : array_like of shape (K,)
        Positive component weights; they are divided by their sum.
    means : array_like of shape (K, d)
    cov : float or array_like, optional
        Covariances C_k, read from the shape:

        - a number: one isotropic covariance for every component;
        - shape (d,): one diagonal shared by every component;
        - shape (K,): one isotropic variance per component;
        - shape (K, d): one diagonal per component, one per row;
        - shape (d, d): one full matrix shared by every component;
        - shape (K, d, d): one full matrix per component, as
          ``covariances_`` of scikit-learn's ``GaussianMixture`` with
          ``covariance_type="full"``.

        When K == d the shape is ambiguous and the diagonal reading wins: a
        1-D array is (d,) and a 2-D array is (K, d). Pass a full matrix
        shared by K == d components as ``np.broadcast_to(C, (K, d, d))``.
        Variances must be positive, and full matrices symmetric (to a
        relative 1e-10) and positive definite. The default is the identity.

    Attributes
    ----------
    weights : ndarray of shape (K,)
        The weights divided by their sum.
    cov : ndarray of shape (K, d) or (K, d, d)
        The diagonals of the covariances when ``diagonal`` is True, else the
        full matrices (symmetrised).
    precisions : ndarray of the shape of ``cov``
        The inverse covariances, in the same form.
    diagonal : bool
        True when every covariance is diagonal, full matrices with zero
        off-diagonal entries included.
    log_constants : ndarray of shape (K,)
        log w_k - log det(C_k) / 2.

    Notes
    -----
    With diagonal covariances one gradient costs O(K d). With full ones it
    costs O(K d^2): the Cholesky factorisations C_k = A_k A_k^T and the
    inverse factors W_k = A_k^-1 are computed once in float64, and each
    evaluation forms z_k = W_k (x - m_k), l_k = log w_k + log det W_k - |z_k|^2 / 2
    and the gradient sum_k softmax(l)_k W_k^T z_k. The compiled kernels read
    the means and W_k rounded to the dtype of the chains. The
    responsibilities are computed with the largest l_k subtracted, so points
    far from every component keep a finite energy as long as it fits in a
    double.

    Examples
    --------
    >>> from ebmfast.mcmc import GaussianMixture, hmc
    >>> target = GaussianMixture([0.4, 0.6], [[-1.0, 0.5], [1.0, -0.5]],
    ...                          cov=[[[1.0, 0.6], [0.6, 0.8]],
    ...                               [[0.7, -0.3], [-0.3, 1.2]]])
    >>> target.diagonal
    False
    >>> hmc(target, n_chains=4, n_samples=100, random_state=0).samples.shape
    (4, 100, 2)
    """

    compiled_kind = _GAUSSIAN_MIXTURE

    def __init__(self, weights, means, cov=1.0):
        weights = check_array(weights, "weights", dtype=np.float64, ndim=1)
        if not (weights > 0).all():
            raise ValueError(f"weights must be positive, got minimum {weights.min()}.")
        self.weights = weights / weights.sum()
        self.means = check_array(means, "means", dtype=np.float64, ndim=2, copy=True)
        n_components, d = self.means.shape
        if n_components != weights.shape[0]:
            raise ValueError(f"means must have one row per weight ({weights.shape[0]}), "
                             f"got shape {self.means.shape}.")
        self.dim = d
        self.n_components = n_components

        cov, self.diagonal = _mixture_covariances(cov, n_components, d)
        self.cov = cov
        if self.diagonal:
            self.compiled_kind = _GAUSSIAN_MIXTURE
            self.precisions = 1.0 / cov
            half_log_det = -0.5 * np.log(cov).sum(axis=1)
        else:
            self.compiled_kind = _GAUSSIAN_MIXTURE_DENSE
            self._cov_cholesky = np.linalg.cholesky(cov)
            identity = np.eye(d)
            self._whitening = np.stack([
                scipy.linalg.solve_triangular(factor, identity, lower=True)
                for factor in self._cov_cholesky])
            precisions = np.matmul(self._whitening.transpose(0, 2, 1), self._whitening)
            self.precisions = 0.5 * (precisions + precisions.transpose(0, 2, 1))
            diagonals = np.diagonal(self._cov_cholesky, axis1=1, axis2=2)
            half_log_det = -np.log(diagonals).sum(axis=1)
        self.log_constants = np.log(self.weights) + half_log_det

    @property
    def mean(self):
        """Mean of the mixture, shape (d,)."""
        return self.weights @ self.means

    def compiled_arguments(self, dtype):
        factors = self.precisions if self.diagonal else self._whitening
        theta = np.concatenate([self.means.ravel(), factors.ravel()]).astype(dtype)
        return self.compiled_kind, theta, self.log_constants, self.n_components, 0, 0

    def sample(self, n, rng):
        """Return n exact draws, shape (n, d), from a numpy Generator."""
        component = rng.choice(self.n_components, size=n, p=self.weights)
        noise = rng.standard_normal((n, self.dim))
        if self.diagonal:
            return self.means[component] + np.sqrt(self.cov[component]) * noise
        X = np.empty((n, self.dim))
        for c in range(self.n_components):
            chosen = component == c
            X[chosen] = self.means[c] + noise[chosen] @ self._cov_cholesky[c].T
        return X

    def _energy_grad(self, X):
        if self.diagonal:
            return self._diagonal_energy_grad(X)
        return self._dense_energy_grad(X)

    # The two twins below repeat the kernels' operations in their order, so
    # the backends agree bit for bit (see _sums.py). They round the
    # parameters to the dtype of X, add term by term, and take exp and log
    # from the C library.

    def _diagonal_energy_grad(self, X):
        means = self.means.astype(X.dtype).astype(np.float64)
        precisions = self.precisions.astype(X.dtype).astype(np.float64)
        Xd = X.astype(np.float64)
        log_terms = np.empty((X.shape[0], self.n_components))
        for c in range(self.n_components):
            R = Xd - means[c]
            log_terms[:, c] = (self.log_constants[c]
                               - 0.5 * kernel_order_sum(precisions[c] * R * R))
        energy, responsibility = _negative_log_sum_exp(log_terms)
        G = np.zeros_like(Xd)
        for c in range(self.n_components):
            G = G + responsibility[:, c:c + 1] * (precisions[c] * (Xd - means[c]))
        return energy, G.astype(X.dtype)

    def _dense_energy_grad(self, X):
        means = self.means.astype(X.dtype).astype(np.float64)
        whitening = self._whitening.astype(X.dtype).astype(np.float64)
        Xd = X.astype(np.float64)
        n, d = Xd.shape
        log_terms = np.empty((n, self.n_components))
        Z = np.empty((n, self.n_components, d))
        for c in range(self.n_components):
            R = Xd - means[c]
            q = np.zeros(n)
            for i in range(d):
                # z_i = sum_{j <= i} W_ij r_j
                Z[:, c, i] = kernel_order_sum(whitening[c, i, :i + 1] * R[:, :i + 1])
                q = q + Z[:, c, i] * Z[:, c, i]
            log_terms[:, c] = self.log_constants[c] - 0.5 * q
        energy, responsibility = _negative_log_sum_exp(log_terms)
        G = np.zeros_like(Xd)
        for c in range(self.n_components):
            for i in range(d):
                # A zero responsibility adds exact zeros for finite z, where
                # the kernel skips the component, so G keeps its bits.
                scaled = responsibility[:, c] * Z[:, c, i]
                G[:, :i + 1] = G[:, :i + 1] + scaled[:, None] * whitening[c, i, :i + 1]
        return energy, G.astype(X.dtype)


def _negative_log_sum_exp(log_terms):
    """Return -log sum_k exp(l_k) per row of log_terms (n, K), and softmax(l) per row.

    The sum runs around the largest term of each row, term by term, with the
    C library's exp and log as in the kernel. A NaN term makes that row's
    energy NaN.
    """
    top = log_terms.max(axis=1, keepdims=True)
    with np.errstate(invalid="ignore"):
        scaled = libm_exp(log_terms - top)
        total = np.zeros(log_terms.shape[0])
        for c in range(log_terms.shape[1]):
            total = total + scaled[:, c]
        responsibility = scaled / total[:, None]
        energy = -(top[:, 0] + libm_log(total))
    return energy, responsibility


def _mixture_covariances(cov, n_components, d):
    """Validate ``cov`` of GaussianMixture and return (covariances, diagonal).

    covariances has shape (K, d), the diagonals, when diagonal is True, and
    shape (K, d, d), symmetrised, otherwise. The shapes are read as the
    class docstring lists them, diagonal forms first.
    """
    if np.ndim(cov) == 0:
        if isinstance(cov, np.ndarray):
            cov = cov.item()
        variance = check_real(cov, "cov", minimum=0.0, include_minimum=False)
        return np.full((n_components, d), variance), True

    array = check_array(cov, "cov", dtype=np.float64, ndim=np.ndim(cov), copy=True)
    if array.shape == (d,):
        variances = np.broadcast_to(array, (n_components, d))
    elif array.shape == (n_components,):
        variances = np.broadcast_to(array[:, None], (n_components, d))
    elif array.shape == (n_components, d):
        variances = array
    elif array.shape == (d, d):
        matrices = np.broadcast_to(array, (n_components, d, d))
        return _checked_matrices(matrices, shared=True)
    elif array.shape == (n_components, d, d):
        return _checked_matrices(array, shared=False)
    else:
        raise ValueError(
            f"cov must be a number or have shape (d,), (K,), (K, d), (d, d) or (K, d, d) "
            f"with K = {n_components} components and d = {d} dimensions, got shape "
            f"{array.shape}.")

    if not (array > 0).all():
        index = tuple(int(i) for i in np.argwhere(~(array > 0))[0])
        hint = ""
        if array.shape == (n_components, d) and n_components == d:
            hint = (f" With K = d = {d}, a 2-D cov is read as one row of variances per "
                    "component; for one full covariance matrix shared by all "
                    f"components, pass np.broadcast_to(cov, ({d}, {d}, {d})).")
        raise ValueError(f"cov must contain positive variances, got {array[index]} "
                         f"at index {index}.{hint}")
    return np.ascontiguousarray(variances), True


def _checked_matrices(matrices, shared):
    """Check symmetry and positive definiteness of each (d, d) matrix of a (K, d, d) array.

    Returns (covariances, diagonal) as _mixture_covariances does.
    """
    # A shared matrix is checked once and named "cov", not "cov[k]".
    n_checked = 1 if shared else matrices.shape[0]
    for c in range(n_checked):
        matrix = matrices[c]
        name = "cov" if shared else f"cov[{c}], the covariance of component {c},"
        entry = "cov" if shared else f"cov[{c}]"

        # Asymmetry is measured against sqrt(C_ii C_jj), so rounding errors
        # pass at any scale.
        scale = np.sqrt(np.abs(np.diag(matrix)))
        asymmetric = np.abs(matrix - matrix.T) > 1e-10 * np.outer(scale, scale)
        if asymmetric.any():
            i, j = (int(index) for index in np.argwhere(asymmetric)[0])
            raise ValueError(
                f"{name} must be symmetric, got {entry}[{i}, {j}] = {matrix[i, j]} and "
                f"{entry}[{j}, {i}] = {matrix[j, i]}.")

        try:
            factor = np.linalg.cholesky(0.5 * (matrix + matrix.T))
        except np.linalg.LinAlgError:
            smallest = np.linalg.eigvalsh(matrix).min()
            raise ValueError(
                f"{name} must be positive definite, but its Cholesky factorisation "
                f"failed and its smallest eigenvalue is {smallest:.6g}.") from None
        inverse = scipy.linalg.solve_triangular(factor, np.eye(len(factor)), lower=True)
        if not np.isfinite(inverse).all():
            raise ValueError(
                f"{name} is too close to singular: the inverse of its Cholesky factor "
                "overflows float64.")

    symmetric = 0.5 * (matrices + matrices.transpose(0, 2, 1))
    diagonals = np.diagonal(symmetric, axis1=1, axis2=2)
    if np.count_nonzero(symmetric - diagonals[:, :, None] * np.eye(matrices.shape[1])) == 0:
        return np.ascontiguousarray(diagonals), True
    return np.ascontiguousarray(symmetric), False



class Rosenbrock(Potential):
    """The Rosenbrock "banana" as a chain of conditionals, for d >= 2.

    U(x) = a (x_0 - mu)^2 + b sum_{j=1}^{d-1} (x_j - x_{j-1}^2)^2, so that
    x_0 ~ N(mu, 1 / (2a)) and x_j | x_{j-1} ~ N(x_{j-1}^2, 1 / (2b)); the
    density is normalised and exact draws are cheap (:meth:`sample`).

    Parameters
    ----------
    dim : int
        d, at least 2.
    a, b : float
        Positive; the defaults a = 0.05, b = 5 give the familiar narrow
        curved ridge in 2-D.
    mu : float
        Mean of x_0.

    Notes
    -----
    With the defaults this is a stress test, not an easy target: x_0 has
    standard deviation 3.2 while x_1 | x_0 has 0.32 around a parabola, so
    HMC with one diagonal mass matrix diverges in the tails and mixes
    slowly. Check R-hat and the divergence counts of the result, and
    compare with the exact draws of :meth:`sample`.
    """

    compiled_kind = _ROSENBROCK

    def __init__(self, dim=2, a=0.05, b=5.0, mu=1.0):
        self.dim = check_int(dim, "dim", minimum=2)
        self.a = check_real(a, "a", minimum=0.0, include_minimum=False)
        self.b = check_real(b, "b", minimum=0.0, include_minimum=False)
        self.mu = check_real(mu, "mu")

    def compiled_arguments(self, dtype):
        constants = np.array([self.a, self.b, self.mu])
        return self.compiled_kind, np.zeros(0, dtype=dtype), constants, 0, 0, 0

    def sample(self, n, rng):
        """Return n exact draws, shape (n, d), from a numpy Generator."""
        X = np.empty((n, self.dim))
        X[:, 0] = self.mu + rng.standard_normal(n) / np.sqrt(2.0 * self.a)
        for j in range(1, self.dim):
            X[:, j] = X[:, j - 1] ** 2 + rng.standard_normal(n) / np.sqrt(2.0 * self.b)
        return X

    def _energy_grad(self, X):
        Xd = X.astype(np.float64)
        first = Xd[:, 0] - self.mu
        E = Xd[:, 1:] - Xd[:, :-1] ** 2                            # (n, d - 1)
        # Summed term by term in index order, as the kernel does.
        energy = self.a * first * first
        for j in range(self.dim - 1):
            energy = energy + self.b * E[:, j] * E[:, j]
        G = np.zeros_like(Xd)
        G[:, 0] = 2.0 * self.a * first
        G[:, 1:] += 2.0 * self.b * E
        G[:, :-1] -= 4.0 * self.b * Xd[:, :-1] * E
        with np.errstate(over="ignore"):  # an overflow to inf is a divergence
            return energy, G.astype(X.dtype)


class Funnel(Potential):
    """Neal's funnel: v = x_0 ~ N(0, sigma^2) and x_j | v ~ N(0, exp(v)), j >= 1.

    U(x) = v^2 / (2 sigma^2) + (d - 1) v / 2 + exp(-v) sum_{j>=1} x_j^2 / 2.

    Parameters
    ----------
    dim : int
        d, at least 2.
    sigma : float
        Standard deviation of the log-scale v (Neal used 3).

    Notes
    -----
    The neck (v << 0) needs step sizes of order exp(v / 2), so HMC with one
    step size produces divergences there and undersamples it; the
    divergence counts of the result show where.
    """

    compiled_kind = _FUNNEL

    def __init__(self, dim=10, sigma=3.0):
        self.dim = check_int(dim, "dim", minimum=2)
        self.sigma = check_real(sigma, "sigma", minimum=0.0, include_minimum=False)

    def compiled_arguments(self, dtype):
        constants = np.array([self.sigma])
        return self.compiled_kind, np.zeros(0, dtype=dtype), constants, 0, 0, 0

    def sample(self, n, rng):
        """Return n exact draws, shape (n, d), from a numpy Generator."""
        v = self.sigma * rng.standard_normal(n)
        X = np.exp(0.5 * v)[:, None] * rng.standard_normal((n, self.dim))
        X[:, 0] = v
        return X

    def _energy_grad(self, X):
        Xd = X.astype(np.float64)
        v = Xd[:, 0]
        with np.errstate(over="ignore", invalid="ignore"):
            scale = libm_exp(-v)
            squares = kernel_order_sum(Xd[:, 1:] ** 2)
            half_tail = 0.5 * (self.dim - 1)
            energy = 0.5 * v * v / self.sigma**2 + half_tail * v + 0.5 * scale * squares
            G = np.empty_like(Xd)
            G[:, 0] = v / self.sigma**2 + half_tail - 0.5 * scale * squares
            G[:, 1:] = scale[:, None] * Xd[:, 1:]
        return energy, G.astype(X.dtype)


ENERGY_GRAD_CTYPE = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.POINTER(ctypes.c_double),
                                     ctypes.POINTER(ctypes.c_double), ctypes.c_int64,
                                     ctypes.c_void_p)
"""The C signature of a compiled target, as a ctypes type:
``double f(const double *x, double *grad, int64_t d, void *user_data)``."""


class RBMFreeEnergy(Potential):
    """Free energy of a Gaussian-Bernoulli RBM as a compiled target, U = F(v).

    With u = v / sigma and a = c + u W (hidden units summed out),
    F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(a_j), so the
    samplers draw from the RBM's p(v). Usually made by
    ``GaussianBernoulliRBM.as_potential()``.

    Parameters
    ----------
    weights : array_like of shape (d, n_hidden)
    visible_bias : array_like of shape (d,)
    hidden_bias : array_like of shape (n_hidden,)
    sigma : array_like of shape (d,) or float
        Standard deviations of the visible units, positive.

    Notes
    -----
    The parameters are copied, so later training of the model does not
    change the target. Each evaluation costs O(d n_hidden) per chain.
    """

    compiled_kind = _GBRBM

    def __init__(self, weights, visible_bias, hidden_bias, sigma=1.0):
        self.weights = check_array(weights, "weights", dtype=np.float64, copy=True)
        self.dim, self.n_hidden = self.weights.shape
        self.visible_bias = check_array(visible_bias, "visible_bias", dtype=np.float64,
                                        ndim=1, n_columns=self.dim, copy=True)
        self.hidden_bias = check_array(hidden_bias, "hidden_bias", dtype=np.float64,
                                       ndim=1, n_columns=self.n_hidden, copy=True)
        sigma = np.broadcast_to(np.asarray(sigma, dtype=np.float64), (self.dim,))
        sigma = check_array(sigma, "sigma", ndim=1, n_columns=self.dim, copy=True)
        if not (sigma > 0).all():
            raise ValueError(f"sigma must be positive, got minimum {sigma.min()}.")
        self.sigma = sigma

    def compiled_arguments(self, dtype):
        theta = np.concatenate([self.weights.ravel(), self.visible_bias,
                                self.hidden_bias, 1.0 / self.sigma]).astype(dtype)
        return self.compiled_kind, theta, _NO_CONSTANTS, self.n_hidden, 0, 0

    def _energy_grad(self, X):
        # The kernel's operations in its order: parameters rounded to the
        # dtype of X, products and sums in float64, each sum term by term.
        def as_kernel(values):
            return values.astype(X.dtype).astype(np.float64)

        W = as_kernel(self.weights)
        b = as_kernel(self.visible_bias)
        inv_sigma = as_kernel(1.0 / self.sigma)
        Xd = X.astype(np.float64)
        activation = np.tile(as_kernel(self.hidden_bias), (X.shape[0], 1))
        for i in range(self.dim):
            activation = activation + (Xd[:, i] * inv_sigma[i])[:, None] * W[i]
        energy = np.zeros(X.shape[0])
        softplus = _math_reference.softplus(activation)
        for j in range(self.n_hidden):
            energy = energy - softplus[:, j]
        probs = _math_reference.logistic(activation)
        pull = np.zeros_like(Xd)
        for j in range(self.n_hidden):
            pull = pull + W[:, j] * probs[:, j:j + 1]
        diff = Xd - b
        for i in range(self.dim):
            energy = energy + 0.5 * diff[:, i] * diff[:, i] * inv_sigma[i] * inv_sigma[i]
        grad = diff * inv_sigma * inv_sigma - pull * inv_sigma
        return energy, grad.astype(X.dtype)


class CompiledPotential(Potential):
    """A target given by a C function for one point, called from the compiled loops.

    The function has the signature::

        double f(const double *x, double *grad, int64_t d, void *user_data)

    It returns U(x) and writes the d entries of grad U(x) into ``grad``.
    float32 chains are converted to double for the call. The samplers call
    it from several threads at once (one chain per thread), with separate
    ``x`` and ``grad`` buffers, so it must be thread-safe: read-only shared
    data through ``user_data`` is fine. A non-finite energy or gradient
    makes the proposal a divergence.

    Parameters
    ----------
    function : int, ctypes function pointer, or object with an ``address``
        The function's address: a plain int, a function from a
        ``ctypes.CDLL`` (give it ``argtypes`` and ``restype`` or not, only
        its address is used), or a ``numba.cfunc`` with the signature
        ``float64(CPointer(float64), CPointer(float64), int64, voidptr)``.
    dim : int
        d.
    user_data : None, int or ctypes object, optional
        Passed through as ``user_data``: None is NULL, an int is an address,
        and a ctypes object (for example a ``ctypes.c_double * n`` array)
        passes its address. The object is kept alive with the potential.

    Notes
    -----
    The NumPy reference (``backend="reference"``) calls the same function
    through ctypes, one point at a time. A ``ctypes.CFUNCTYPE`` wrapping a
    Python function also works, but it takes the GIL on every call, so the
    chains then run one at a time at Python speed.
    """

    compiled_kind = _CALLBACK

    def __init__(self, function, dim, user_data=None):
        self.function_address = _address_of(function, "function")
        if self.function_address == 0:
            raise ValueError("function must not be a null pointer.")
        self.dim = check_int(dim, "dim", minimum=1)
        self._keep_alive = (function, user_data)
        self.user_data_address = 0 if user_data is None else _address_of(user_data, "user_data")
        self._ctypes_function = ENERGY_GRAD_CTYPE(self.function_address)

    def compiled_arguments(self, dtype):
        return (self.compiled_kind, np.zeros(0, dtype=dtype), _NO_CONSTANTS, 0,
                self.function_address, self.user_data_address)

    def _energy_grad(self, X):
        Xd = np.ascontiguousarray(X, dtype=np.float64)
        G = np.empty_like(Xd)
        energy = np.empty(X.shape[0])
        double_pointer = ctypes.POINTER(ctypes.c_double)
        for i in range(X.shape[0]):
            energy[i] = self._ctypes_function(
                Xd[i].ctypes.data_as(double_pointer), G[i].ctypes.data_as(double_pointer),
                self.dim, self.user_data_address or None)
        return energy, G.astype(X.dtype)


def _address_of(value, name):
    """Return the address of a function or buffer given as int, ctypes object or .address."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"{name} must be a non-negative address, got {value}.")
        return int(value)
    if isinstance(value, ctypes._CFuncPtr):
        return ctypes.cast(value, ctypes.c_void_p).value or 0
    if isinstance(value, ctypes._SimpleCData) and isinstance(value, ctypes.c_void_p):
        return value.value or 0
    if isinstance(value, (ctypes._SimpleCData, ctypes.Array, ctypes.Structure, ctypes.Union)):
        return ctypes.addressof(value)
    if isinstance(value, ctypes._Pointer):
        return ctypes.cast(value, ctypes.c_void_p).value or 0
    address = getattr(value, "address", None)
    if isinstance(address, numbers.Integral):
        return int(address)
    raise TypeError(f"{name} must be an int address, a ctypes object or have an int "
                    f"'address' attribute (numba.cfunc), got {type(value).__name__}.")


class CallablePotential(Potential):
    """A target given by batched Python functions: the energy and, optionally, its gradient.

    Parameters
    ----------
    energy : callable
        ``energy(X)`` with X of shape (n_chains, d) returns U of shape
        (n_chains,).
    grad : callable or None, default=None
        ``grad(X)`` returns grad U of shape (n_chains, d). Without it only
        :func:`rwm` can sample the target; ``hmc``, ``mala``, ``ula`` and
        ``langevin_hmc`` raise ValueError.
    dim : int, optional
        d; needed only when the samplers draw their own starting points.

    The functions are called once per step with all chains. ``rwm`` calls
    ``grad`` too when it is given, so that the final state carries the
    gradient. A result of another shape, or of a non-real dtype, raises
    ValueError or TypeError naming the function, what it returned and what
    was expected. A NaN or inf in a result is allowed and makes that
    chain's proposal a divergence.
    """

    def __init__(self, energy, grad=None, dim=None):
        if not callable(energy):
            raise TypeError(f"energy must be callable, got {type(energy).__name__}.")
        if grad is not None and not callable(grad):
            raise TypeError(f"grad must be callable or None, got {type(grad).__name__}.")
        self.energy_fn = energy
        self.grad_fn = grad
        self.has_grad = grad is not None
        self.dim = None if dim is None else check_int(dim, "dim", minimum=1)

    def _energy(self, X):
        energy = _checked_result(self.energy_fn(X), "energy", (X.shape[0],), X)
        return energy.astype(np.float64)

    def _energy_grad(self, X):
        energy = self._energy(X)
        if self.grad_fn is None:
            return energy, None
        grad = _checked_result(self.grad_fn(X), "grad", X.shape, X)
        return energy, grad.astype(X.dtype)


def _checked_result(value, name, shape, X):
    if value is None:
        raise TypeError(f"{name}(X) must return an array of shape {shape}, got None; "
                        "check that the function returns its result.")
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
