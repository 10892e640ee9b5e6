# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled annealed importance sampling for the Bernoulli RBM.

The NumPy twin is ``_rbm_eval.ais_reference``; both run in float64 and draw
run ``i``'s numbers from stream ``i``, so their log weights agree to
rounding. Runs are independent, so blocks of runs are annealed in parallel,
each block on one thread with single-threaded BLAS products; the block size
depends only on the number of runs, so results do not depend on n_threads.
"""

from cython.parallel cimport prange
from libc.stdint cimport uint64_t

from ._common cimport (
    EBM_STREAM_WORDS, blas_restore_threads, blas_single_thread,
    ebm_ais_hidden_row_d, ebm_logistic_d, gemm_rowmajor, sample_bernoulli_row,
    threads_for,
)


cdef void anneal_block(double *V, const double *W, const double *b,
                       const double *c, const double *base_bias,
                       const double *betas, Py_ssize_t n_betas, uint64_t *streams,
                       double *log_w, double *pre, double *H, double *Pv,
                       Py_ssize_t first, Py_ssize_t rows, int n_visible,
                       int n_hidden) noexcept nogil:
    """Anneal runs first .. first + rows - 1 along all betas."""
    cdef Py_ssize_t step, i, j
    cdef double beta, previous, visible_term
    cdef double *block_V = V + first * n_visible
    cdef double *block_pre = pre + first * n_hidden
    cdef double *block_H = H + first * n_hidden
    cdef double *block_Pv = Pv + first * n_visible
    cdef double *row
    for step in range(1, n_betas):
        previous = betas[step - 1]
        beta = betas[step]

        # Weight update and p(h | v) from the same pre-activations.
        gemm_rowmajor(c'N', c'N', <int> rows, n_hidden, n_visible, 1.0, block_V,
                      n_visible, W, n_hidden, 0.0, block_pre, n_hidden)
        for i in range(rows):
            row = block_V + i * n_visible
            visible_term = 0.0
            for j in range(n_visible):
                visible_term = visible_term + row[j] * (b[j] - base_bias[j])
            log_w[first + i] += (beta - previous) * visible_term + ebm_ais_hidden_row_d(
                block_pre + i * n_hidden, c, beta, previous, block_pre + i * n_hidden,
                n_hidden)
            sample_bernoulli_row(streams + (first + i) * EBM_STREAM_WORDS,
                                 block_pre + i * n_hidden, block_H + i * n_hidden,
                                 n_hidden)

        # p(v | h) at beta, then the new visible states.
        gemm_rowmajor(c'N', c'T', <int> rows, n_visible, n_hidden, 1.0, block_H,
                      n_hidden, W, n_hidden, 0.0, block_Pv, n_visible)
        for i in range(rows):
            row = block_Pv + i * n_visible
            for j in range(n_visible):
                row[j] = ebm_logistic_d((1.0 - beta) * base_bias[j] + beta * (row[j] + b[j]))
            sample_bernoulli_row(streams + (first + i) * EBM_STREAM_WORDS, row,
                                 block_V + i * n_visible, n_visible)


def ais_anneal(double[:, ::1] V, const double[:, ::1] W, const double[::1] b,
               const double[::1] c, const double[::1] base_bias,
               const double[::1] betas, uint64_t[:, ::1] streams,
               double[::1] log_w, double[:, ::1] pre, double[:, ::1] H,
               double[:, ::1] Pv, int n_threads):
    """Anneal the runs in V along betas, adding each step's log weight to log_w.

    For each consecutive pair (previous, beta) of inverse temperatures:

        log_w += log p*_beta(v) - log p*_previous(v)
        h ~ p(h | v) at beta,  v ~ p(v | h) at beta

    with log p*_beta(v) = (1 - beta) a^T v + beta b^T v
    + sum_j softplus(beta (c_j + (v W)_j)) and a the base model's visible
    biases. V (n_runs, n_visible) is updated in place; pre, H and Pv are
    scratch arrays.
    """
    cdef Py_ssize_t n_runs = V.shape[0], blk
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    cdef Py_ssize_t size = max((n_runs + 7) // 8, 8)
    cdef Py_ssize_t n_blocks = (n_runs + size - 1) // size
    if streams.shape[0] < n_runs or streams.shape[1] != EBM_STREAM_WORDS:
        raise ValueError(f"one random stream per run is required: got streams of "
                         f"shape {streams.shape[0], streams.shape[1]} for {n_runs} runs.")
    blas_previous = blas_single_thread()
    nt = 1 if blas_previous < 0 else threads_for(n_runs * n_hidden, n_threads)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    anneal_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &base_bias[0],
                                 &betas[0], betas.shape[0], &streams[0, 0], &log_w[0],
                                 &pre[0, 0], &H[0, 0], &Pv[0, 0], blk * size,
                                 min(size, n_runs - blk * size), n_visible, n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    anneal_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &base_bias[0],
                                 &betas[0], betas.shape[0], &streams[0, 0], &log_w[0],
                                 &pre[0, 0], &H[0, 0], &Pv[0, 0], blk * size,
                                 min(size, n_runs - blk * size), n_visible, n_hidden)
    finally:
        blas_restore_threads(blas_previous)
