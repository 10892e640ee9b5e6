"""Modern (dense associative memory) Hopfield networks and softmax attention.

The compiled backend streams over the stored patterns in blocks with an
online softmax. Its memory use therefore does not grow with the number of
stored patterns, while the reference backend materialises the score matrix.
"""

from contextlib import contextmanager
from typing import NamedTuple

import numpy as np

from . import _hopfield_fast as fast
from . import _hopfield_reference as reference
from ._parallel import limit_blas_threads, restore_blas_threads
from ._validation import (
    check_array, check_backend, check_bool, check_int, check_n_threads,
    check_real)

__all__ = ["ModernHopfield", "RetrievalResult", "attention"]

DEFAULT_BLOCK_SIZE = 512
# Queries per GEMM in the compiled kernels, split evenly: 300 queries make
# two blocks of 150. With fewer than MIN_WORK_ITEMS query blocks the keys are
# also split into segments so that every thread gets work. Both splits depend
# only on the problem size, never on n_threads.
MAX_QUERY_BLOCK = 256
MIN_WORK_ITEMS = 4
MIN_SEGMENT_BLOCKS = 8


def _work_split(n_queries, n_keys, block_size):
    """Return (query_block, n_segments) for the compiled kernels."""
    n_chunks = max(1, -(-n_queries // MAX_QUERY_BLOCK))
    query_block = max(1, -(-n_queries // n_chunks))
    n_key_blocks = -(-n_keys // block_size)
    n_segments = -(-MIN_WORK_ITEMS // n_chunks)
    n_segments = max(1, min(n_segments, n_key_blocks // MIN_SEGMENT_BLOCKS))
    return query_block, n_segments


@contextmanager
def _blas_one_thread():
    """Run BLAS on one thread inside the block; yield whether that worked.

    The query blocks run in OpenMP threads only inside this context, because
    calling a multi-threaded OpenBLAS from inside the parallel region
    oversubscribes the cores. One update of 1,000 float32 queries against
    10^5 patterns (d = 64, block_size 512, scipy's OpenBLAS 0.3.30, 2-core
    AMD EPYC shared with other jobs) took 0.35 s that way, and once 18 s.
    It took 0.23 s on one thread with BLAS threads, and 0.18 s with 2 OpenMP
    threads and single-threaded BLAS.
    """
    previous = limit_blas_threads()
    try:
        yield previous >= 0
    finally:
        restore_blas_threads(previous)


def _run_kernel(kernel, *args, n_threads):
    """Call a compiled kernel with the schedule that suits the BLAS threads.

    When scipy's BLAS can be limited to one thread, the query blocks run in
    n_threads OpenMP threads, so n_threads is the whole thread count.
    Otherwise one thread walks the query blocks and BLAS uses its own
    threads. Both schedules give identical results.
    """
    with _blas_one_thread() as limited:
        return kernel(*args, n_threads, limited and n_threads > 1)


class RetrievalResult(NamedTuple):
    """Outcome of :meth:`ModernHopfield.retrieve`.

    Attributes
    ----------
    states : ndarray of shape (n_queries, n_features)
        Final state of each query, in the model's dtype.
    n_iter : ndarray of shape (n_queries,), dtype int64
        Updates applied to each query.
    converged : ndarray of shape (n_queries,), dtype bool
        True where the last update moved the query by at most ``tol``.
    nearest : ndarray of shape (n_queries,), dtype int64
        Row index of the stored pattern nearest (Euclidean) to each final
        state; ties keep the lowest index.
    weights : ndarray of shape (n_queries, n_patterns) or None
        softmax(beta X state) of each final state, when requested.
    """

    states: np.ndarray
    n_iter: np.ndarray
    converged: np.ndarray
    nearest: np.ndarray
    weights: np.ndarray | None


# ---------------------------------------------------------------------------
# Backend dispatch on validated, C-contiguous arrays of one dtype

def _attend(Q, K, V, scale, backend, n_threads, block_size):
    """Return softmax(scale Q K^T) V and logsumexp(scale Q K^T) (float64) per row."""
    if backend == "reference":
        return reference.attention(Q, K, V, scale)
    out = np.empty((Q.shape[0], V.shape[1]), dtype=Q.dtype)
    row_max = np.empty(Q.shape[0])
    row_sum = np.empty(Q.shape[0])
    _run_kernel(fast.attention, Q, K, V, scale, out, row_max, row_sum,
                block_size, *_work_split(Q.shape[0], K.shape[0], block_size),
                n_threads=n_threads)
    return out, row_max + np.log(row_sum)


def _scaled_log_sum_exp(Q, X, beta, backend, n_threads, block_size):
    if backend == "reference":
        return reference.scaled_log_sum_exp(Q, X, beta)
    row_max = np.empty(Q.shape[0])
    row_sum = np.empty(Q.shape[0])
    _run_kernel(fast.log_sum_exp, Q, X, beta, row_max, row_sum, block_size,
                *_work_split(Q.shape[0], X.shape[0], block_size),
                n_threads=n_threads)
    return row_max + np.log(row_sum)


def _nearest(Q, X, half_norm, backend, n_threads, block_size):
    if backend == "reference":
        return reference.nearest(Q, X).astype(np.int64)
    index = np.empty(Q.shape[0], dtype=np.intp)
    # Query blocks of 32 rows keep both threads busy for small batches; this
    # pass runs once per retrieval, so its small GEMMs cost little overall.
    query_block = min(MAX_QUERY_BLOCK, max(32, -(-Q.shape[0] // MIN_WORK_ITEMS)))
    _run_kernel(fast.nearest, Q, X, half_norm, index, block_size, query_block,
                n_threads=n_threads)
    return index.astype(np.int64, copy=False)


def _weights(Q, X, beta, log_sum_exp, backend):
    """Return softmax(beta X q) per query, shape (n_queries, n_patterns)."""
    if backend == "reference":
        return reference.weights(Q, X, beta)
    W = np.empty((Q.shape[0], X.shape[0]), dtype=Q.dtype)
    for first in range(0, Q.shape[0], MAX_QUERY_BLOCK):
        rows = slice(first, first + MAX_QUERY_BLOCK)
        Z = (beta * (Q[rows] @ X.T)).astype(np.float64)
        W[rows] = np.exp(Z - log_sum_exp[rows, None])
    return W


# ---------------------------------------------------------------------------
# Input checks

def _unit_rows(A):
    """Return A with every nonzero row scaled to unit Euclidean length."""
    norms = np.sqrt(np.einsum("ij,ij->i", A, A, dtype=np.float64))
    norms[norms == 0] = 1.0
    return (A / norms[:, None]).astype(A.dtype, copy=False)


def _max_norm(A):
    if A.shape[0] == 0:
        return 0.0
    return float(np.sqrt(np.einsum("ij,ij->i", A, A, dtype=np.float64).max()))


def _check_score_range(scale, key_norm, query_norm, dtype, names):
    """Raise ValueError if scale * key . query can overflow ``dtype``.

    By Cauchy-Schwarz every score is at most |scale| |k| |q| in absolute
    value; a quarter of the largest finite value leaves room for the sums
    inside BLAS.
    """
    bound = abs(scale) * key_norm * query_norm
    limit = float(np.finfo(dtype).max) / 4
    if not bound <= limit:
        raise ValueError(
            f"{names} give scores up to {bound:.3g}, beyond the range of "
            f"{np.dtype(dtype).name} (limit {limit:.3g}). Use a smaller factor, "
            "scale the data down, or use float64.")


def attention(Q, K, V, scale=None, *, backend="fast", n_threads=None,
              block_size=DEFAULT_BLOCK_SIZE):
    """Compute softmax(scale Q K^T) V, one row of weights per query.

    Parameters
    ----------
    Q : array_like of shape (n_queries, d)
        Queries.
    K : array_like of shape (n_keys, d)
        Keys, at least one row.
    V : array_like of shape (n_keys, d_value)
        Values, one row per key.
    scale : float, optional
        Factor on the scores; None uses 1 / sqrt(d).
    backend : {"fast", "reference"}, default="fast"
        "fast" streams over blocks of keys with an online softmax and never
        holds the (n_queries, n_keys) score matrix; "reference" is plain
        NumPy and does.
    n_threads : int or None, default=None
        Threads of the compiled kernel; None uses every thread OpenMP allows.
        With scipy's OpenBLAS this is the whole thread count (BLAS runs
        single-threaded inside each thread). With another BLAS the kernel
        runs on one thread and BLAS uses its own threads. The result does not depend
        on it.
    block_size : int, default=512
        Keys per block in the compiled kernel. Its scratch memory is at most
        ``256 * block_size`` scores per thread, whatever the number of keys.

    Returns
    -------
    out : ndarray of shape (n_queries, d_value)
        float32 when Q, K and V are all float32, else float64.
    """
    backend = check_backend(backend)
    n_threads = check_n_threads(n_threads)
    block_size = check_int(block_size, "block_size", minimum=1)
    dtype = _common_dtype(Q, K, V)
    K = check_array(K, "K", dtype=dtype)
    Q = check_array(Q, "Q", dtype=dtype, n_columns=K.shape[1], min_rows=0)
    V = check_array(V, "V", dtype=dtype)
    if V.shape[0] != K.shape[0]:
        raise ValueError(
            f"V must have one row per row of K ({K.shape[0]}), got shape {V.shape}.")
    if scale is None:
        scale = 1.0 / np.sqrt(K.shape[1])
    scale = check_real(scale, "scale")
    _check_score_range(scale, _max_norm(K), _max_norm(Q), dtype, "scale, K and Q")
    if Q.shape[0] == 0:
        return np.empty((0, V.shape[1]), dtype=dtype)
    out, _ = _attend(Q, K, V, scale, backend, n_threads, block_size)
    return out


def _common_dtype(*arrays):
    if all(getattr(a, "dtype", None) == np.float32 for a in arrays):
        return np.dtype(np.float32)
    return np.dtype(np.float64)


# ---------------------------------------------------------------------------
# The model

class ModernHopfield:
    """Modern Hopfield network with continuous states (Ramsauer et al., 2020).

    The stored patterns are the rows x_i of X. A state (query) xi has the
    energy

        E(xi) = -1/beta * log sum_i exp(beta x_i^T xi) + 1/2 xi^T xi,

    and one update xi <- X^T softmax(beta X xi) never increases it (it is a
    concave-convex procedure step). A large ``beta`` makes every stored
    pattern a fixed point that attracts the states near it.

    Parameters
    ----------
    patterns : array_like of shape (n_patterns, n_features)
        Stored patterns, one per row, at least one. float32 stays float32;
        any other real dtype becomes float64.
    beta : float
        Inverse temperature, > 0.
    normalize : bool, default=False
        Scale the stored patterns, and the queries given to every method, to
        unit Euclidean length (all-zero rows stay zero). This is the usual
        remedy when one pattern of large norm attracts every query. The
        states produced by updates are not rescaled, so the energy descent
        still holds.
    backend : {"fast", "reference"}, default="fast"
        "fast" runs the compiled kernels; "reference" runs their NumPy twins,
        which hold the whole (n_queries, n_patterns) score matrix.
    n_threads : int or None, default=None
        Threads of the compiled kernels; None uses every thread OpenMP allows
        (``OMP_NUM_THREADS`` is honoured). The kernels run in parallel when
        scipy's BLAS is OpenBLAS, whose thread count they set to one while
        they run and restore afterwards. With another BLAS they run on one
        thread and BLAS uses its own threads. Results do not depend on it.
    block_size : int, default=512
        Stored patterns per block in the compiled kernels. Their scratch
        memory is at most ``256 * block_size`` scores per thread, whatever
        the number of patterns.
    copy : bool, default=True
        Store a copy of ``patterns``. With False and a C-contiguous array of
        the model's dtype (and ``normalize=False``) the model keeps a
        reference, which saves memory for very large pattern sets; the
        caller must then not modify the array.

    Attributes
    ----------
    patterns_ : ndarray of shape (n_patterns, n_features)
        The stored patterns, normalised when ``normalize`` is set.
    max_norm_ : float
        Largest Euclidean norm of a stored pattern (M).

    References
    ----------
    H. Ramsauer et al., "Hopfield Networks is All You Need", ICLR 2021,
    arXiv:2008.02217.

    Examples
    --------
    >>> import numpy as np
    >>> from ebmfast.hopfield import ModernHopfield
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((1000, 32)).astype(np.float32)
    >>> net = ModernHopfield(X, beta=32.0, normalize=True)
    >>> noisy = X[:5] + 0.1 * rng.standard_normal((5, 32)).astype(np.float32)
    >>> result = net.retrieve(noisy)
    >>> result.nearest
    array([0, 1, 2, 3, 4])
    >>> result.n_iter
    array([2, 2, 2, 2, 2])
    """

    def __init__(self, patterns, beta, *, normalize=False, backend="fast",
                 n_threads=None, block_size=DEFAULT_BLOCK_SIZE, copy=True):
        self.beta = check_real(beta, "beta", minimum=0.0, include_minimum=False)
        self.normalize = check_bool(normalize, "normalize")
        self.backend = check_backend(backend)
        self.n_threads = check_n_threads(n_threads)
        self.block_size = check_int(block_size, "block_size", minimum=1)
        copy = check_bool(copy, "copy")
        X = check_array(patterns, "patterns", copy=copy and not self.normalize)
        if self.normalize:
            X = _unit_rows(X)
        self.patterns_ = X
        self.dtype = X.dtype
        half_norm = 0.5 * np.einsum("ij,ij->i", X, X, dtype=np.float64)
        self._half_norm = half_norm.astype(X.dtype)
        self.max_norm_ = float(np.sqrt(2 * half_norm.max()))

    @property
    def n_patterns(self):
        """Number of stored patterns (N)."""
        return self.patterns_.shape[0]

    @property
    def n_features(self):
        """Length of each pattern and state (d)."""
        return self.patterns_.shape[1]

    def _check_queries(self, Q, name="Q"):
        Q = check_array(Q, name, dtype=self.dtype, n_columns=self.n_features,
                        min_rows=0)
        if self.normalize:
            Q = _unit_rows(Q)
        # Updates stay in the convex hull of the patterns, so |xi| <= M later.
        query_norm = max(_max_norm(Q), self.max_norm_)
        _check_score_range(self.beta, self.max_norm_, query_norm, self.dtype,
                           "beta, the patterns and the queries")
        return Q

    def energy(self, Q, *, add_constant=False, inverse_beta=True):
        """Compute the energy of each query.

        E(xi) = -1/beta * lse + 1/2 xi^T xi with lse = log sum_i
        exp(beta x_i^T xi), evaluated with the maximum shifted out, so it
        stays finite for any beta whose scores fit the dtype.

        Parameters
        ----------
        Q : array_like of shape (n_queries, n_features)
            States to evaluate.
        add_constant : bool, default=False
            Add 1/beta * log N + 1/2 M^2 (N patterns, M the largest pattern
            norm). The energy is then >= 0 and is 0 only in special cases,
            the bounded form of Ramsauer et al. (2020).
        inverse_beta : bool, default=True
            With False, return the variant -lse + 1/2 xi^T xi, without the
            1/beta factor on the log-sum-exp, and a constant of
            log N + 1/2 M^2. Its minimisers differ from E's, and the update
            rule is not guaranteed to decrease it unless beta = 1.

        Returns
        -------
        energy : ndarray of shape (n_queries,), float64
        """
        add_constant = check_bool(add_constant, "add_constant")
        inverse_beta = check_bool(inverse_beta, "inverse_beta")
        Q = self._check_queries(Q)
        lse = self._log_sum_exp(Q)
        factor = 1.0 / self.beta if inverse_beta else 1.0
        energy = -factor * lse + 0.5 * np.einsum("ij,ij->i", Q, Q, dtype=np.float64)
        if add_constant:
            energy += factor * np.log(self.n_patterns) + 0.5 * self.max_norm_ ** 2
        return energy

    def _log_sum_exp(self, Q):
        if Q.shape[0] == 0:
            return np.empty(0)
        return _scaled_log_sum_exp(Q, self.patterns_, self.beta, self.backend,
                                   self.n_threads, self.block_size)

    def _update(self, Q):
        """Return (updated states, logsumexp(beta X q)) of validated queries."""
        return _attend(Q, self.patterns_, self.patterns_, self.beta,
                       self.backend, self.n_threads, self.block_size)

    def update(self, Q):
        """Apply one update xi <- X^T softmax(beta X xi) to every query.

        Parameters
        ----------
        Q : array_like of shape (n_queries, n_features)

        Returns
        -------
        states : ndarray of shape (n_queries, n_features)
            In the model's dtype; ``Q`` is not modified.
        """
        Q = self._check_queries(Q)
        if Q.shape[0] == 0:
            return Q.copy()
        return self._update(Q)[0]

    def retrieve(self, Q, max_iter=100, tol=None, return_weights=False):
        """Iterate the update from each query until it stops moving.

        Each query stops on its own once an update moves it by at most
        ``tol`` (Euclidean norm) or after ``max_iter`` updates. The fast
        backend then drops it from the batch, so converged queries cost no
        more work.

        Parameters
        ----------
        Q : array_like of shape (n_queries, n_features)
            Initial states; not modified.
        max_iter : int, default=100
            Maximum updates per query, >= 1.
        tol : float, optional
            Convergence threshold on |xi_{t+1} - xi_t|, >= 0. None uses
            sqrt(eps) * max(M, 1) with eps the machine epsilon of the model's
            dtype and M the largest pattern norm.
        return_weights : bool, default=False
            Also return softmax(beta X xi) of each final state. This array has
            shape (n_queries, n_patterns), so it needs that much memory.

        Returns
        -------
        result : RetrievalResult
        """
        max_iter = check_int(max_iter, "max_iter", minimum=1)
        if tol is None:
            tol = float(np.sqrt(np.finfo(self.dtype).eps)) * max(self.max_norm_, 1.0)
        tol = check_real(tol, "tol", minimum=0.0)
        return_weights = check_bool(return_weights, "return_weights")
        Q = self._check_queries(Q)

        if self.backend == "reference":
            states, n_iter, converged = reference.retrieve(
                Q, self.patterns_, self.beta, max_iter, tol)
        else:
            states, n_iter, converged = self._retrieve_active(Q, max_iter, tol)

        nearest = _nearest(states, self.patterns_, self._half_norm, self.backend,
                           self.n_threads, self.block_size) if states.shape[0] else np.empty(0, np.int64)
        weights = None
        if return_weights:
            lse = self._log_sum_exp(states)
            weights = _weights(states, self.patterns_, self.beta, lse, self.backend)
        return RetrievalResult(states, n_iter, converged, nearest, weights)

    def _retrieve_active(self, Q, max_iter, tol):
        """Run the updates on the queries that have not converged yet."""
        states = Q.copy()
        n_iter = np.zeros(Q.shape[0], dtype=np.int64)
        converged = np.zeros(Q.shape[0], dtype=bool)
        active = np.arange(Q.shape[0])
        for _ in range(max_iter):
            if active.size == 0:
                break
            current = np.ascontiguousarray(states[active])
            updated = self._update(current)[0]
            change = np.linalg.norm((updated - current).astype(np.float64), axis=1)
            states[active] = updated
            n_iter[active] += 1
            done = change <= tol
            converged[active[done]] = True
            active = active[~done]
        return states, n_iter, converged

