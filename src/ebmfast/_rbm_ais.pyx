# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled annealed importance sampling for the Bernoulli RBM.

The NumPy twin is ``_rbm_eval.ais_reference``; both run in float64 and draw
row ``i``'s numbers from stream ``i``, so their log weights agree to
rounding.
"""

from libc.stdint cimport uint64_t

from ._common cimport (
    EBM_STREAM_WORDS, ebm_ais_hidden_row_d, ebm_logistic_d, gemm_rowmajor,
    sample_bernoulli_row,
)


def ais_anneal(double[:, ::1] V, const double[:, ::1] W, const double[::1] b,
               const double[::1] c, const double[::1] base_bias,
               const double[::1] betas, uint64_t[:, ::1] streams,
               double[::1] log_w, double[:, ::1] pre, double[:, ::1] H,
               double[:, ::1] Pv):
    """Anneal the runs in V along betas, adding each step's log weight to log_w.

    For each consecutive pair (previous, beta) of inverse temperatures:

        log_w += log p*_beta(v) - log p*_previous(v)
        h ~ p(h | v) at beta,  v ~ p(v | h) at beta

    with log p*_beta(v) = (1 - beta) a^T v + beta b^T v
    + sum_j softplus(beta (c_j + (v W)_j)) and a the base model's visible
    biases. V (n_runs, n_visible) is updated in place; pre, H and Pv are
    scratch arrays.
    """
    cdef Py_ssize_t n_runs = V.shape[0], n_visible = W.shape[0], n_hidden = W.shape[1]
    cdef Py_ssize_t step, i, j
    cdef double beta, previous, visible_term, hidden_term
    if streams.shape[0] < n_runs or streams.shape[1] != EBM_STREAM_WORDS:
        raise ValueError(f"one random stream per run is required: got streams of "
                         f"shape {streams.shape[0], streams.shape[1]} for {n_runs} runs.")
    with nogil:
        for step in range(1, betas.shape[0]):
            previous = betas[step - 1]
            beta = betas[step]

            # Weight update and p(h | v) from the same pre-activations.
            gemm_rowmajor(c'N', c'N', <int> n_runs, <int> n_hidden, <int> n_visible,
                          1.0, &V[0, 0], <int> n_visible, &W[0, 0], <int> n_hidden,
                          0.0, &pre[0, 0], <int> n_hidden)
            for i in range(n_runs):
                visible_term = 0.0
                for j in range(n_visible):
                    visible_term = visible_term + V[i, j] * (b[j] - base_bias[j])
                hidden_term = ebm_ais_hidden_row_d(&pre[i, 0], &c[0], beta, previous,
                                                   &pre[i, 0], n_hidden)
                log_w[i] += (beta - previous) * visible_term + hidden_term
                sample_bernoulli_row(&streams[i, 0], &pre[i, 0], &H[i, 0], n_hidden)

            # p(v | h) at beta, then the new visible states.
            gemm_rowmajor(c'N', c'T', <int> n_runs, <int> n_visible, <int> n_hidden,
                          1.0, &H[0, 0], <int> n_hidden, &W[0, 0], <int> n_hidden,
                          0.0, &Pv[0, 0], <int> n_visible)
            for i in range(n_runs):
                for j in range(n_visible):
                    Pv[i, j] = ebm_logistic_d((1.0 - beta) * base_bias[j]
                                              + beta * (Pv[i, j] + b[j]))
                sample_bernoulli_row(&streams[i, 0], &Pv[i, 0], &V[i, 0], n_visible)
