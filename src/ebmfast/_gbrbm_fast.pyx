# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled Gaussian-Bernoulli RBM kernels; ``_gbrbm_reference.py`` is their specification.

With E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_ij (v_i / sigma_i) W_ij h_j - c^T h:

    p(h_j = 1 | v) = logistic(c_j + ((v / sigma) W)_j)
    p(v_i | h) = N(b_i + sigma_i (W h)_i, sigma_i^2)

All arrays are C-contiguous and of one floating dtype; ``sigma`` and
``inv_sigma`` = 1 / sigma are given by the caller, so both backends use the
same rounded values. Row ``i`` of a batch or chain array draws only from
stream ``streams[i]``: hidden units take the uniform numbers of
csrc/ebm_random.h (one Bernoulli draw per unit), visible units the normal
numbers of csrc/ebm_normal.h (ceil(n_visible / 2) 64-bit draws per row).

The loops split the rows into blocks and give each OpenMP thread whole
blocks, each with its own single-threaded BLAS products, as the Bernoulli
RBM kernels in ``_rbm_fast.pyx`` do and for the same reason: OpenBLAS
threads running beside OpenMP threads oversubscribe the cores. The block
size depends only on the number of rows, so results never depend on
``n_threads``.
"""

from cython.parallel cimport prange
from libc.stdint cimport uint64_t

from ._common cimport (
    floating, gemm_rowmajor, logistic_bias, sample_bernoulli_row, threads_for,
    ebm_softplus_d, EBM_STREAM_WORDS, blas_single_thread, block_count, block_size,
    check_streams, loop_threads, blas_restore_threads, ebm_ais_hidden_row_d,
    ebm_ais_hidden_row_f,
)

cdef extern from "ebm_normal.h" nogil:
    void ebm_normal_fill_d(uint64_t *stream, double *out, Py_ssize_t n)
    void ebm_normal_fill_f(uint64_t *stream, float *out, Py_ssize_t n)


cdef inline void normal_fill(uint64_t *stream, floating *out, Py_ssize_t n) noexcept nogil:
    if floating is float:
        ebm_normal_fill_f(stream, out, n)
    else:
        ebm_normal_fill_d(stream, out, n)


# ---------------------------------------------------------------------------
# Layers for `rows` consecutive rows; pointers are already offset to the
# first row of the block.

cdef void hidden_rows(const floating *V, const floating *W, const floating *c,
                      const floating *inv_sigma, floating *scaled, floating *Ph,
                      floating *H, uint64_t *streams, Py_ssize_t rows,
                      int n_visible, int n_hidden) noexcept nogil:
    """Ph = logistic((V / sigma) W + c); with H not NULL, also draw
    h ~ Bernoulli(Ph) into H, row r from stream r. ``scaled`` is scratch of
    the shape of V."""
    cdef Py_ssize_t r, i
    for r in range(rows):
        for i in range(n_visible):
            scaled[r * n_visible + i] = V[r * n_visible + i] * inv_sigma[i]
    gemm_rowmajor(c'N', c'N', <int> rows, n_hidden, n_visible, <floating> 1.0,
                  scaled, n_visible, W, n_hidden, <floating> 0.0, Ph, n_hidden)
    for r in range(rows):
        logistic_bias(Ph + r * n_hidden, c, Ph + r * n_hidden, n_hidden)
        if H != NULL:
            sample_bernoulli_row(streams + r * EBM_STREAM_WORDS, Ph + r * n_hidden,
                                 H + r * n_hidden, n_hidden)


cdef void visible_rows(const floating *H, const floating *W, const floating *b,
                       const floating *sigma, floating *M, floating *V,
                       uint64_t *streams, Py_ssize_t rows, int n_visible,
                       int n_hidden) noexcept nogil:
    """M = b + sigma * (H W^T), the mean of p(v | h); with V not NULL, also
    draw v = M + sigma * z into V, with z standard normal from stream r."""
    cdef Py_ssize_t r, i
    cdef floating *row
    gemm_rowmajor(c'N', c'T', <int> rows, n_visible, n_hidden, <floating> 1.0,
                  H, n_hidden, W, n_hidden, <floating> 0.0, M, n_visible)
    for r in range(rows):
        for i in range(n_visible):
            M[r * n_visible + i] = b[i] + sigma[i] * M[r * n_visible + i]
    if V == NULL:
        return
    for r in range(rows):
        row = V + r * n_visible
        normal_fill(streams + r * EBM_STREAM_WORDS, row, n_visible)
        for i in range(n_visible):
            row[i] = M[r * n_visible + i] + sigma[i] * row[i]


# ---------------------------------------------------------------------------
# Block bodies of the public kernels: rows first .. first + size - 1.

cdef void hidden_block(const floating *V, const floating *W, const floating *c,
                       const floating *inv_sigma, floating *scaled, floating *Ph,
                       floating *H, uint64_t *streams, Py_ssize_t first,
                       Py_ssize_t n_rows, Py_ssize_t size, int n_visible,
                       int n_hidden) noexcept nogil:
    cdef Py_ssize_t rows = min(size, n_rows - first)
    hidden_rows(V + first * n_visible, W, c, inv_sigma, scaled + first * n_visible,
                Ph + first * n_hidden, H + first * n_hidden if H != NULL else NULL,
                streams + first * EBM_STREAM_WORDS if streams != NULL else NULL,
                rows, n_visible, n_hidden)


cdef void visible_block(const floating *H, const floating *W, const floating *b,
                        const floating *sigma, floating *M, floating *V,
                        uint64_t *streams, Py_ssize_t first, Py_ssize_t n_rows,
                        Py_ssize_t size, int n_visible, int n_hidden) noexcept nogil:
    cdef Py_ssize_t rows = min(size, n_rows - first)
    visible_rows(H + first * n_hidden, W, b, sigma, M + first * n_visible,
                 V + first * n_visible if V != NULL else NULL,
                 streams + first * EBM_STREAM_WORDS if streams != NULL else NULL,
                 rows, n_visible, n_hidden)


cdef void gibbs_block(floating *V, const floating *W, const floating *b,
                      const floating *c, const floating *sigma,
                      const floating *inv_sigma, uint64_t *streams, int n_steps,
                      floating *scaled, floating *Mv, floating *H, floating *Ph,
                      Py_ssize_t first, Py_ssize_t n_rows, Py_ssize_t size,
                      int n_visible, int n_hidden) noexcept nogil:
    """n_steps sweeps v -> h -> v for the chains of one block."""
    cdef Py_ssize_t rows = min(size, n_rows - first)
    cdef Py_ssize_t v_offset = first * n_visible, h_offset = first * n_hidden
    cdef uint64_t *block_streams = streams + first * EBM_STREAM_WORDS
    cdef int step
    for step in range(n_steps):
        hidden_rows(V + v_offset, W, c, inv_sigma, scaled + v_offset, Ph + h_offset,
                    H + h_offset, block_streams, rows, n_visible, n_hidden)
        visible_rows(H + h_offset, W, b, sigma, Mv + v_offset, V + v_offset,
                     block_streams, rows, n_visible, n_hidden)


cdef void negative_block(floating *H, const floating *W, const floating *b,
                         const floating *c, const floating *sigma,
                         const floating *inv_sigma, uint64_t *streams, int k,
                         bint sample_last, floating *scaled, floating *Mv,
                         floating *Vk, floating *Phk, Py_ssize_t first,
                         Py_ssize_t n_rows, Py_ssize_t size, int n_visible,
                         int n_hidden) noexcept nogil:
    """k sweeps h -> v -> h for the chains of one block; the hidden states of
    the last sweep are drawn only with sample_last (persistent chains)."""
    cdef Py_ssize_t rows = min(size, n_rows - first)
    cdef Py_ssize_t v_offset = first * n_visible, h_offset = first * n_hidden
    cdef uint64_t *block_streams = streams + first * EBM_STREAM_WORDS
    cdef int step
    for step in range(k):
        visible_rows(H + h_offset, W, b, sigma, Mv + v_offset, Vk + v_offset,
                     block_streams, rows, n_visible, n_hidden)
        hidden_rows(Vk + v_offset, W, c, inv_sigma, scaled + v_offset, Phk + h_offset,
                    H + h_offset if step < k - 1 or sample_last else NULL,
                    block_streams, rows, n_visible, n_hidden)


cdef void free_energy_block(const floating *V, const floating *W, const floating *b,
                            const floating *c, const floating *inv_sigma,
                            floating *scaled, floating *pre, floating *F, floating *G,
                            Py_ssize_t first, Py_ssize_t n_rows, Py_ssize_t size,
                            int n_visible, int n_hidden) noexcept nogil:
    """F(v) and, with G not NULL, its gradient for the rows of one block.

    F(v) = sum_i ((v_i - b_i) / sigma_i)^2 / 2 - sum_j softplus(x_j) with
    x = c + (v / sigma) W, and
    dF/dv_i = (v_i - b_i) / sigma_i^2 - (W logistic(x))_i / sigma_i.
    """
    cdef Py_ssize_t rows = min(size, n_rows - first), r, i, j, n
    cdef const floating *V_rows = V + first * n_visible
    cdef floating *scaled_rows = scaled + first * n_visible
    cdef floating *pre_rows = pre + first * n_hidden
    cdef floating *G_rows
    cdef floating d
    cdef double quadratic, hidden_sum
    for r in range(rows):
        for i in range(n_visible):
            scaled_rows[r * n_visible + i] = V_rows[r * n_visible + i] * inv_sigma[i]
    gemm_rowmajor(c'N', c'N', <int> rows, n_hidden, n_visible, <floating> 1.0,
                  scaled_rows, n_visible, W, n_hidden, <floating> 0.0, pre_rows, n_hidden)

    for r in range(rows):
        n = first + r
        quadratic = 0.0
        for i in range(n_visible):
            d = (V_rows[r * n_visible + i] - b[i]) * inv_sigma[i]
            quadratic = quadratic + <double> d * d
        hidden_sum = 0.0
        for j in range(n_hidden):
            hidden_sum = hidden_sum + ebm_softplus_d(pre_rows[r * n_hidden + j] + c[j])
        F[n] = <floating> (0.5 * quadratic - hidden_sum)
    if G == NULL:
        return

    # pre becomes p(h | v); then G = p(h | v) W^T, corrected in place.
    G_rows = G + first * n_visible
    for r in range(rows):
        logistic_bias(pre_rows + r * n_hidden, c, pre_rows + r * n_hidden, n_hidden)
    gemm_rowmajor(c'N', c'T', <int> rows, n_visible, n_hidden, <floating> 1.0,
                  pre_rows, n_hidden, W, n_hidden, <floating> 0.0, G_rows, n_visible)
    for r in range(rows):
        for i in range(n_visible):
            d = (V_rows[r * n_visible + i] - b[i]) * inv_sigma[i]
            G_rows[r * n_visible + i] = d * inv_sigma[i] - inv_sigma[i] * G_rows[r * n_visible + i]


# ---------------------------------------------------------------------------
# Public kernels. Each resolves its thread count once, with scipy's BLAS
# made single-threaded for the duration of the call.

def hidden_layer(const floating[:, ::1] V, const floating[:, ::1] W,
                 const floating[::1] c, const floating[::1] inv_sigma,
                 floating[:, ::1] scaled, floating[:, ::1] Ph, floating[:, ::1] H,
                 uint64_t[:, ::1] streams, int n_threads):
    """Ph = p(h = 1 | V); with H not None, also h ~ Bernoulli(Ph) into H, row i
    from stream i. ``scaled`` is scratch of the shape of V."""
    cdef Py_ssize_t n = V.shape[0], size = block_size(n), blk
    cdef Py_ssize_t n_blocks = block_count(n, size)
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    cdef floating *H_ptr = NULL
    cdef uint64_t *streams_ptr = NULL
    if H is not None:
        check_streams(streams, n)
        H_ptr = &H[0, 0]
        streams_ptr = &streams[0, 0]
    blas_previous = blas_single_thread()
    nt = loop_threads(n * n_visible * n_hidden, n_threads, blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    hidden_block(&V[0, 0], &W[0, 0], &c[0], &inv_sigma[0], &scaled[0, 0],
                                 &Ph[0, 0], H_ptr, streams_ptr, blk * size, n, size,
                                 n_visible, n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    hidden_block(&V[0, 0], &W[0, 0], &c[0], &inv_sigma[0], &scaled[0, 0],
                                 &Ph[0, 0], H_ptr, streams_ptr, blk * size, n, size,
                                 n_visible, n_hidden)
    finally:
        blas_restore_threads(blas_previous)


def visible_layer(const floating[:, ::1] H, const floating[:, ::1] W,
                  const floating[::1] b, const floating[::1] sigma,
                  floating[:, ::1] M, floating[:, ::1] V, uint64_t[:, ::1] streams,
                  int n_threads):
    """M = b + sigma * (H W^T); with V not None, also v ~ N(M, sigma^2) into V,
    row i from stream i."""
    cdef Py_ssize_t n = H.shape[0], size = block_size(n), blk
    cdef Py_ssize_t n_blocks = block_count(n, size)
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    cdef floating *V_ptr = NULL
    cdef uint64_t *streams_ptr = NULL
    if V is not None:
        check_streams(streams, n)
        V_ptr = &V[0, 0]
        streams_ptr = &streams[0, 0]
    blas_previous = blas_single_thread()
    nt = loop_threads(n * n_visible * n_hidden, n_threads, blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    visible_block(&H[0, 0], &W[0, 0], &b[0], &sigma[0], &M[0, 0], V_ptr,
                                  streams_ptr, blk * size, n, size, n_visible, n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    visible_block(&H[0, 0], &W[0, 0], &b[0], &sigma[0], &M[0, 0], V_ptr,
                                  streams_ptr, blk * size, n, size, n_visible, n_hidden)
    finally:
        blas_restore_threads(blas_previous)


def sample_normal(const floating[:, ::1] M, const floating[::1] sigma,
                  uint64_t[:, ::1] streams, floating[:, ::1] out, int n_threads):
    """out = M + sigma * z, with row i of z standard normal from stream i."""
    cdef Py_ssize_t n = M.shape[0], d = M.shape[1], r, i
    cdef int nt
    check_streams(streams, n)
    # A normal number costs about as much as 16 multiply-adds (an estimate).
    nt = threads_for(n * d * 16, n_threads)
    with nogil:
        for r in prange(n, schedule="static", num_threads=nt):
            normal_fill(&streams[r, 0], &out[r, 0], d)
            for i in range(d):
                out[r, i] = M[r, i] + sigma[i] * out[r, i]


def gibbs(floating[:, ::1] V, const floating[:, ::1] W, const floating[::1] b,
          const floating[::1] c, const floating[::1] sigma,
          const floating[::1] inv_sigma, uint64_t[:, ::1] streams, int n_steps,
          floating[:, ::1] scaled, floating[:, ::1] Mv, floating[:, ::1] H,
          floating[:, ::1] Ph, int n_threads):
    """Run n_steps sweeps v -> h -> v in place on V; Mv gets the last mean of
    p(v | h) and H the last hidden states."""
    cdef Py_ssize_t n = V.shape[0], size = block_size(n), blk
    cdef Py_ssize_t n_blocks = block_count(n, size)
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    check_streams(streams, n)
    blas_previous = blas_single_thread()
    nt = loop_threads(n * n_visible * n_hidden, n_threads, blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    gibbs_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &sigma[0],
                                &inv_sigma[0], &streams[0, 0], n_steps, &scaled[0, 0],
                                &Mv[0, 0], &H[0, 0], &Ph[0, 0], blk * size, n, size,
                                n_visible, n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    gibbs_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &sigma[0],
                                &inv_sigma[0], &streams[0, 0], n_steps, &scaled[0, 0],
                                &Mv[0, 0], &H[0, 0], &Ph[0, 0], blk * size, n, size,
                                n_visible, n_hidden)
    finally:
        blas_restore_threads(blas_previous)


def negative_chain(floating[:, ::1] H, const floating[:, ::1] W, const floating[::1] b,
                   const floating[::1] c, const floating[::1] sigma,
                   const floating[::1] inv_sigma, uint64_t[:, ::1] streams, int k,
                   bint sample_last, floating[:, ::1] scaled, floating[:, ::1] Mv,
                   floating[:, ::1] Vk, floating[:, ::1] Phk, int n_threads):
    """Run k sweeps h -> v -> h from the hidden states H (updated in place).

    Vk gets the last visible states and Phk their p(h = 1 | v); the last
    hidden states are drawn into H only with sample_last.
    """
    cdef Py_ssize_t n = H.shape[0], size = block_size(n), blk
    cdef Py_ssize_t n_blocks = block_count(n, size)
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    check_streams(streams, n)
    blas_previous = blas_single_thread()
    nt = loop_threads(n * n_visible * n_hidden, n_threads, blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    negative_block(&H[0, 0], &W[0, 0], &b[0], &c[0], &sigma[0],
                                   &inv_sigma[0], &streams[0, 0], k, sample_last,
                                   &scaled[0, 0], &Mv[0, 0], &Vk[0, 0], &Phk[0, 0],
                                   blk * size, n, size, n_visible, n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    negative_block(&H[0, 0], &W[0, 0], &b[0], &c[0], &sigma[0],
                                   &inv_sigma[0], &streams[0, 0], k, sample_last,
                                   &scaled[0, 0], &Mv[0, 0], &Vk[0, 0], &Phk[0, 0],
                                   blk * size, n, size, n_visible, n_hidden)
    finally:
        blas_restore_threads(blas_previous)


def free_energy(const floating[:, ::1] V, const floating[:, ::1] W,
                const floating[::1] b, const floating[::1] c,
                const floating[::1] inv_sigma, floating[:, ::1] scaled,
                floating[:, ::1] pre, floating[::1] F, floating[:, ::1] G,
                int n_threads):
    """F[n] = F(v_n); with G not None, G[n] = dF/dv at v_n. ``scaled`` (shape
    of V) and ``pre`` (n_rows, n_hidden) are scratch."""
    cdef Py_ssize_t n = V.shape[0], size = block_size(n), blk
    cdef Py_ssize_t n_blocks = block_count(n, size)
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    cdef floating *G_ptr = NULL
    if G is not None:
        G_ptr = &G[0, 0]
    blas_previous = blas_single_thread()
    nt = loop_threads(n * n_visible * n_hidden, n_threads, blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    free_energy_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &inv_sigma[0],
                                      &scaled[0, 0], &pre[0, 0], &F[0], G_ptr,
                                      blk * size, n, size, n_visible, n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    free_energy_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &inv_sigma[0],
                                      &scaled[0, 0], &pre[0, 0], &F[0], G_ptr,
                                      blk * size, n, size, n_visible, n_hidden)
    finally:
        blas_restore_threads(blas_previous)


# ---------------------------------------------------------------------------
# Annealed importance sampling. The twin is ``_gbrbm_reference.ais_reference``.

cdef inline double ais_hidden_row(floating *pre, const floating *c, double beta,
                                  double previous, Py_ssize_t n) noexcept nogil:
    """Set pre[j] = logistic(beta x_j) with x = pre + c, and return
    sum_j softplus(beta x_j) - softplus(previous x_j), computed in float64."""
    if floating is float:
        return ebm_ais_hidden_row_f(pre, c, beta, previous, pre, n)
    else:
        return ebm_ais_hidden_row_d(pre, c, beta, previous, pre, n)


cdef void ais_block(floating *V, const floating *W, const floating *b,
                    const floating *c, const floating *sigma,
                    const floating *inv_sigma, const double *betas,
                    Py_ssize_t n_betas, uint64_t *streams, double *log_w,
                    floating *scaled, floating *pre, floating *H, floating *M,
                    Py_ssize_t first, Py_ssize_t n_rows, Py_ssize_t size,
                    int n_visible, int n_hidden) noexcept nogil:
    """Anneal the runs of one block along all betas; see ``ais_anneal``."""
    cdef Py_ssize_t rows = min(size, n_rows - first), step, r, i
    cdef Py_ssize_t v_offset = first * n_visible, h_offset = first * n_hidden
    cdef floating *block_V = V + v_offset
    cdef floating *block_scaled = scaled + v_offset
    cdef floating *block_M = M + v_offset
    cdef floating *block_pre = pre + h_offset
    cdef floating *block_H = H + h_offset
    cdef uint64_t *block_streams = streams + first * EBM_STREAM_WORDS
    cdef floating *row
    cdef floating beta_t
    cdef double beta, previous
    for step in range(1, n_betas):
        previous = betas[step - 1]
        beta = betas[step]
        beta_t = <floating> beta

        # The log weight gains log p*_beta(v) - log p*_previous(v); only the
        # hidden terms depend on beta. Then h ~ p(h | v) at beta.
        for r in range(rows):
            for i in range(n_visible):
                block_scaled[r * n_visible + i] = block_V[r * n_visible + i] * inv_sigma[i]
        gemm_rowmajor(c'N', c'N', <int> rows, n_hidden, n_visible, <floating> 1.0,
                      block_scaled, n_visible, W, n_hidden, <floating> 0.0,
                      block_pre, n_hidden)
        for r in range(rows):
            log_w[first + r] += ais_hidden_row(block_pre + r * n_hidden, c, beta,
                                               previous, n_hidden)
            sample_bernoulli_row(block_streams + r * EBM_STREAM_WORDS,
                                 block_pre + r * n_hidden, block_H + r * n_hidden,
                                 n_hidden)

        # v ~ N(b + sigma * (beta W h), sigma^2).
        gemm_rowmajor(c'N', c'T', <int> rows, n_visible, n_hidden, <floating> 1.0,
                      block_H, n_hidden, W, n_hidden, <floating> 0.0, block_M, n_visible)
        for r in range(rows):
            row = block_V + r * n_visible
            normal_fill(block_streams + r * EBM_STREAM_WORDS, row, n_visible)
            for i in range(n_visible):
                block_M[r * n_visible + i] = (
                    b[i] + sigma[i] * (beta_t * block_M[r * n_visible + i]))
                row[i] = block_M[r * n_visible + i] + sigma[i] * row[i]


def ais_anneal(floating[:, ::1] V, const floating[:, ::1] W, const floating[::1] b,
               const floating[::1] c, const floating[::1] sigma,
               const floating[::1] inv_sigma, const double[::1] betas,
               uint64_t[:, ::1] streams, double[::1] log_w,
               floating[:, ::1] scaled, floating[:, ::1] pre, floating[:, ::1] H,
               floating[:, ::1] M, int n_threads):
    """Anneal the AIS runs in V along betas, adding each step's log weight to log_w.

    For each consecutive pair (previous, beta) of inverse temperatures:

        log_w += log p*_beta(v) - log p*_previous(v)
        h ~ p_beta(h | v),  v ~ p_beta(v | h)

    with log p*_beta(v) = -sum_i (v_i - b_i)^2 / (2 sigma_i^2)
    + sum_j softplus(beta (c_j + ((v / sigma) W)_j)),
    p_beta(h_j = 1 | v) = logistic(beta (c_j + ((v / sigma) W)_j)) and
    p_beta(v | h) = N(b + sigma * (beta W h), diag(sigma^2)). Run i draws
    from stream i. V (n_runs, n_visible) is updated in place; scaled and M
    (shape of V), pre and H (n_runs, n_hidden) are scratch.
    """
    cdef Py_ssize_t n = V.shape[0], size = block_size(n), blk
    cdef Py_ssize_t n_blocks = block_count(n, size)
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    check_streams(streams, n)
    if log_w.shape[0] != n:
        raise ValueError(f"log_w must have {n} entries, one per run, got {log_w.shape[0]}.")
    if betas.shape[0] < 2:
        raise ValueError(f"betas must contain at least 2 values, got {betas.shape[0]}.")
    blas_previous = blas_single_thread()
    nt = loop_threads(n * n_visible * n_hidden * (betas.shape[0] - 1), n_threads,
                      blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    ais_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &sigma[0],
                              &inv_sigma[0], &betas[0], betas.shape[0],
                              &streams[0, 0], &log_w[0], &scaled[0, 0], &pre[0, 0],
                              &H[0, 0], &M[0, 0], blk * size, n, size, n_visible,
                              n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    ais_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &sigma[0],
                              &inv_sigma[0], &betas[0], betas.shape[0],
                              &streams[0, 0], &log_w[0], &scaled[0, 0], &pre[0, 0],
                              &H[0, 0], &M[0, 0], blk * size, n, size, n_visible,
                              n_hidden)
    finally:
        blas_restore_threads(blas_previous)
