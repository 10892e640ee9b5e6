# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled Bernoulli RBM kernels; ``_rbm_reference.py`` is their specification.

All arrays are C-contiguous and of one floating dtype. Row ``i`` of a batch
or chain array draws only from stream ``streams[i]``, a row of SFC64 state
words (see csrc/ebm_random.h). The kernels split their rows into blocks
(``block_size`` in _common.pxd), and each OpenMP thread runs whole blocks
with scipy's BLAS held to one thread. Block sizes depend only on the row
count, so results do not depend on ``n_threads``.
"""

from cython.parallel cimport prange
from libc.stdint cimport uint64_t, int64_t
from libc.string cimport memcpy

from ._common cimport (
    floating, gemm_rowmajor, logistic_bias, sample_bernoulli_row, sample_bernoulli_group,
    threads_for, ebm_softplus_d, EBM_STREAM_WORDS, blas_single_thread, block_count, block_size,
    block_size_at_most, check_streams, loop_threads,
    blas_restore_threads,
)


# ---------------------------------------------------------------------------
# Row-wise passes, serial below a work threshold (see threads_for).

cdef void logistic_rows(floating *pre, const floating *bias, Py_ssize_t n_rows,
                        Py_ssize_t n_cols, int n_threads) noexcept nogil:
    cdef Py_ssize_t i
    cdef int nt = threads_for(n_rows * n_cols, n_threads)
    if nt == 1:
        for i in range(n_rows):
            logistic_bias(pre + i * n_cols, bias, pre + i * n_cols, n_cols)
    else:
        for i in prange(n_rows, schedule="static", num_threads=nt):
            logistic_bias(pre + i * n_cols, bias, pre + i * n_cols, n_cols)


cdef void sample_rows(const floating *prob, floating *state,
                      uint64_t *streams, Py_ssize_t n_rows,
                      Py_ssize_t n_cols, int n_threads) noexcept nogil:
    cdef Py_ssize_t i
    cdef int nt = threads_for(n_rows * n_cols, n_threads)
    if nt == 1:
        for i in range(n_rows):
            sample_bernoulli_row(streams + i * EBM_STREAM_WORDS, prob + i * n_cols,
                                 state + i * n_cols, n_cols)
    else:
        for i in prange(n_rows, schedule="static", num_threads=nt):
            sample_bernoulli_row(streams + i * EBM_STREAM_WORDS, prob + i * n_cols,
                                 state + i * n_cols, n_cols)


cdef void logistic_sample_group(floating *pre, const floating *bias,
                                floating *state, uint64_t *streams,
                                Py_ssize_t first, Py_ssize_t n_rows,
                                Py_ssize_t n_cols) noexcept nogil:
    """Logistic then Bernoulli draws for rows first .. first + 3, or for the
    rows left when fewer than 4 remain."""
    cdef Py_ssize_t i, last = min(first + 4, n_rows)
    for i in range(first, last):
        logistic_bias(pre + i * n_cols, bias, pre + i * n_cols, n_cols)
    if last - first == 4:
        sample_bernoulli_group(streams + first * EBM_STREAM_WORDS, pre + first * n_cols,
                               state + first * n_cols, n_cols)
    else:
        for i in range(first, last):
            sample_bernoulli_row(streams + i * EBM_STREAM_WORDS, pre + i * n_cols,
                                 state + i * n_cols, n_cols)


cdef void logistic_sample_rows(floating *pre, const floating *bias,
                               floating *state, uint64_t *streams,
                               Py_ssize_t n_rows, Py_ssize_t n_cols,
                               int n_threads) noexcept nogil:
    """pre = logistic(pre + bias), then, if state is not NULL, a Bernoulli
    draw of each row into state while the row is still in cache. Rows go in
    groups of 4 whose streams advance in lockstep."""
    cdef Py_ssize_t group, n_groups = (n_rows + 3) // 4
    if state == NULL:
        logistic_rows(pre, bias, n_rows, n_cols, n_threads)
        return
    cdef int nt = threads_for(n_rows * n_cols, n_threads)
    if nt == 1:
        for group in range(n_groups):
            logistic_sample_group(pre, bias, state, streams, 4 * group, n_rows, n_cols)
    else:
        for group in prange(n_groups, schedule="static", num_threads=nt):
            logistic_sample_group(pre, bias, state, streams, 4 * group, n_rows, n_cols)


cdef void hidden_layer(const floating *V, const floating *W, const floating *c,
                       floating *out, Py_ssize_t n_rows, int n_visible,
                       int n_hidden, int n_threads,
                       floating *sample=NULL, uint64_t *streams=NULL) noexcept nogil:
    """out = logistic(V W + c), shape (n_rows, n_hidden); with ``sample``,
    also draw h ~ Bernoulli(out) into it, row i from stream i."""
    gemm_rowmajor(c'N', c'N', <int> n_rows, n_hidden, n_visible, <floating> 1.0,
                  V, n_visible, W, n_hidden, <floating> 0.0, out, n_hidden)
    logistic_sample_rows(out, c, sample, streams, n_rows, n_hidden, n_threads)


cdef void visible_layer(const floating *H, const floating *W, const floating *b,
                        floating *out, Py_ssize_t n_rows, int n_visible,
                        int n_hidden, int n_threads,
                        floating *sample=NULL, uint64_t *streams=NULL) noexcept nogil:
    """out = logistic(H W^T + b), shape (n_rows, n_visible); with ``sample``,
    also draw v ~ Bernoulli(out) into it, row i from stream i."""
    gemm_rowmajor(c'N', c'T', <int> n_rows, n_visible, n_hidden, <floating> 1.0,
                  H, n_hidden, W, n_hidden, <floating> 0.0, out, n_visible)
    logistic_sample_rows(out, b, sample, streams, n_rows, n_visible, n_threads)


# ---------------------------------------------------------------------------
# Public kernels

cdef void layer_block(const floating *inputs, const floating *W,
                      const floating *bias, floating *out, bint hidden,
                      Py_ssize_t first, Py_ssize_t n_rows, Py_ssize_t size,
                      int n_visible, int n_hidden) noexcept nogil:
    """p(h | v) (hidden) or p(v | h) for the rows first .. first + size - 1."""
    cdef Py_ssize_t rows = min(size, n_rows - first)
    if hidden:
        hidden_layer(inputs + first * n_visible, W, bias, out + first * n_hidden,
                     rows, n_visible, n_hidden, 1)
    else:
        visible_layer(inputs + first * n_hidden, W, bias, out + first * n_visible,
                      rows, n_visible, n_hidden, 1)


cdef conditional_probs(const floating[:, ::1] inputs, const floating[:, ::1] W,
                       const floating[::1] bias, floating[:, ::1] out, bint hidden,
                       int n_threads):
    cdef Py_ssize_t n = inputs.shape[0], size = block_size(n), blk
    cdef Py_ssize_t n_blocks = block_count(n, size)
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    blas_previous = blas_single_thread()
    nt = loop_threads(n * n_visible * n_hidden, n_threads, blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    layer_block(&inputs[0, 0], &W[0, 0], &bias[0], &out[0, 0], hidden,
                                blk * size, n, size, n_visible, n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    layer_block(&inputs[0, 0], &W[0, 0], &bias[0], &out[0, 0], hidden,
                                blk * size, n, size, n_visible, n_hidden)
    finally:
        blas_restore_threads(blas_previous)


def hidden_probs(const floating[:, ::1] V, const floating[:, ::1] W,
                 const floating[::1] c, floating[:, ::1] out, int n_threads):
    conditional_probs(V, W, c, out, True, n_threads)


def visible_probs(const floating[:, ::1] H, const floating[:, ::1] W,
                  const floating[::1] b, floating[:, ::1] out, int n_threads):
    conditional_probs(H, W, b, out, False, n_threads)


def sample_bernoulli(const floating[:, ::1] P, uint64_t[:, ::1] streams,
                     floating[:, ::1] out, int n_threads):
    check_streams(streams, P.shape[0])
    with nogil:
        sample_rows(&P[0, 0], &out[0, 0], &streams[0, 0], P.shape[0], P.shape[1],
                    n_threads)


cdef void gibbs_block(floating *V, const floating *W, const floating *b,
                      const floating *c, uint64_t *streams, int n_steps,
                      floating *Pv, floating *H, floating *Ph, Py_ssize_t first,
                      Py_ssize_t n_rows, Py_ssize_t size, int n_visible,
                      int n_hidden) noexcept nogil:
    """Gibbs sweeps for the rows first .. first + size - 1."""
    cdef Py_ssize_t rows = min(size, n_rows - first)
    cdef int step
    for step in range(n_steps):
        hidden_layer(V + first * n_visible, W, c, Ph + first * n_hidden, rows,
                     n_visible, n_hidden, 1, H + first * n_hidden,
                     streams + first * EBM_STREAM_WORDS)
        visible_layer(H + first * n_hidden, W, b, Pv + first * n_visible, rows,
                      n_visible, n_hidden, 1, V + first * n_visible,
                      streams + first * EBM_STREAM_WORDS)


def gibbs(floating[:, ::1] V, const floating[:, ::1] W, const floating[::1] b,
          const floating[::1] c, uint64_t[:, ::1] streams, int n_steps,
          floating[:, ::1] Pv, floating[:, ::1] H, floating[:, ::1] Ph,
          int n_threads):
    """Run n_steps sweeps v -> h -> v in place on V; Pv gets the last p(v | h)."""
    cdef Py_ssize_t n = V.shape[0], size = block_size(n), n_blocks, blk
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    check_streams(streams, n)
    n_blocks = block_count(n, size)
    blas_previous = blas_single_thread()
    nt = loop_threads(n * n_visible * n_hidden, n_threads, blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    gibbs_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &streams[0, 0],
                                n_steps, &Pv[0, 0], &H[0, 0], &Ph[0, 0], blk * size,
                                n, size, n_visible, n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    gibbs_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &streams[0, 0],
                                n_steps, &Pv[0, 0], &H[0, 0], &Ph[0, 0], blk * size,
                                n, size, n_visible, n_hidden)
    finally:
        blas_restore_threads(blas_previous)


cdef void column_mean_difference(const floating *A, Py_ssize_t n_a,
                                 const floating *B, Py_ssize_t n_b,
                                 Py_ssize_t n_cols, Py_ssize_t row_stride,
                                 floating momentum, floating learning_rate,
                                 floating *velocity, floating *param) noexcept nogil:
    """velocity = momentum velocity + lr (mean(A) - mean(B)); param += velocity.

    A and B have n_cols columns spaced row_stride apart; the column means are
    accumulated row by row, in memory order.
    """
    cdef Py_ssize_t i, j
    cdef floating scale_a = learning_rate / n_a, scale_b = learning_rate / n_b
    for j in range(n_cols):
        velocity[j] = momentum * velocity[j]
    for i in range(n_a):
        for j in range(n_cols):
            velocity[j] += scale_a * A[i * row_stride + j]
    for i in range(n_b):
        for j in range(n_cols):
            velocity[j] -= scale_b * B[i * row_stride + j]
    for j in range(n_cols):
        param[j] += velocity[j]


cdef void positive_block(const floating *V0, const floating *W, const floating *c,
                         floating *Ph0, floating *H, uint64_t *streams,
                         Py_ssize_t first, Py_ssize_t n_rows, Py_ssize_t size,
                         int n_visible, int n_hidden, bint sample) noexcept nogil:
    """p(h | v) of data rows first .. first + size - 1; with ``sample`` (CD)
    also the hidden states that start the negative chains."""
    cdef Py_ssize_t rows = min(size, n_rows - first)
    hidden_layer(V0 + first * n_visible, W, c, Ph0 + first * n_hidden, rows,
                 n_visible, n_hidden, 1,
                 H + first * n_hidden if sample else NULL,
                 streams + first * EBM_STREAM_WORDS)


cdef void negative_block(const floating *W, const floating *b, const floating *c,
                         floating *H, floating *Pv, floating *Vk, floating *Phk,
                         uint64_t *streams, int k, bint sample_last,
                         Py_ssize_t first, Py_ssize_t n_rows, Py_ssize_t size,
                         int n_visible, int n_hidden) noexcept nogil:
    """k Gibbs sweeps h -> v -> h for chains first .. first + size - 1."""
    cdef Py_ssize_t rows = min(size, n_rows - first)
    cdef uint64_t *block_streams = streams + first * EBM_STREAM_WORDS
    cdef int step
    for step in range(k):
        visible_layer(H + first * n_hidden, W, b, Pv + first * n_visible, rows,
                      n_visible, n_hidden, 1, Vk + first * n_visible, block_streams)
        hidden_layer(Vk + first * n_visible, W, c, Phk + first * n_hidden, rows,
                     n_visible, n_hidden, 1,
                     H + first * n_hidden if step < k - 1 or sample_last else NULL,
                     block_streams)


cdef void weight_block(const floating *V0, Py_ssize_t n_data,
                       const floating *Ph0, const floating *Vk, Py_ssize_t n_model,
                       const floating *Phk, floating *W, floating *b,
                       floating *dW, floating *db, Py_ssize_t first,
                       Py_ssize_t size, int n_visible, int n_hidden,
                       floating learning_rate, floating momentum,
                       floating weight_decay) noexcept nogil:
    """Momentum update of the rows first .. first + size - 1 of W and of the
    matching visible biases."""
    cdef Py_ssize_t rows = min(size, n_visible - first), i
    cdef floating *dW_rows = dW + first * n_hidden
    cdef floating *W_rows = W + first * n_hidden
    cdef floating decay = learning_rate * weight_decay

    # dW = momentum dW + lr (V0^T Ph0 / n_data - Vk^T Phk / n_model), for the
    # visible units of this block: the columns first .. of V0 and Vk.
    gemm_rowmajor(c'T', c'N', <int> rows, n_hidden, <int> n_data,
                  <floating> (learning_rate / n_data), V0 + first, n_visible,
                  Ph0, n_hidden, momentum, dW_rows, n_hidden)
    gemm_rowmajor(c'T', c'N', <int> rows, n_hidden, <int> n_model,
                  <floating> (-learning_rate / n_model), Vk + first, n_visible,
                  Phk, n_hidden, <floating> 1.0, dW_rows, n_hidden)
    for i in range(rows * n_hidden):
        dW_rows[i] -= decay * W_rows[i]
        W_rows[i] += dW_rows[i]
    column_mean_difference(V0 + first, n_data, Vk + first, n_model, rows, n_visible,
                           momentum, learning_rate, db + first, b + first)


cdef void cd_minibatch(
    const floating *V0, Py_ssize_t n_data,
    floating *W, floating *b, floating *c,
    floating *dW, floating *db, floating *dc,
    floating *H, Py_ssize_t n_model, bint persistent,
    floating *Ph0, floating *Pv, floating *Vk, floating *Phk,
    uint64_t *streams, int k, int n_visible, int n_hidden,
    floating learning_rate, floating momentum, floating weight_decay,
    int nt,
) noexcept nogil:
    """One CD-k or PCD-k update; mirrors ``_rbm_reference.cd_update``.

    The three phases each run over row blocks, on nt threads: the data rows,
    the negative chains, then the visible units of the weight update.
    """
    cdef Py_ssize_t blk
    cdef Py_ssize_t data_size = block_size(n_data), model_size = block_size(n_model)
    # The weight update measured faster in blocks of at most 64 visible
    # units than in 8 larger blocks (784 x 500, batch 100, 2 threads).
    cdef Py_ssize_t weight_size = block_size_at_most(n_visible, n_visible)
    cdef Py_ssize_t n_data_blocks = block_count(n_data, data_size)
    cdef Py_ssize_t n_model_blocks = block_count(n_model, model_size)
    cdef Py_ssize_t n_weight_blocks = block_count(n_visible, weight_size)

    # Positive phase: p(h | v) of the data; for CD the chains start from
    # hidden states drawn from it, for PCD from the persistent states in H.
    if nt == 1:
        for blk in range(n_data_blocks):
            positive_block(V0, W, c, Ph0, H, streams, blk * data_size, n_data,
                           data_size, n_visible, n_hidden, not persistent)
    else:
        for blk in prange(n_data_blocks, schedule="static", num_threads=nt):
            positive_block(V0, W, c, Ph0, H, streams, blk * data_size, n_data,
                           data_size, n_visible, n_hidden, not persistent)

    # Negative phase: k Gibbs sweeps h -> v -> h per chain.
    if nt == 1:
        for blk in range(n_model_blocks):
            negative_block(W, b, c, H, Pv, Vk, Phk, streams, k, persistent,
                           blk * model_size, n_model, model_size, n_visible, n_hidden)
    else:
        for blk in prange(n_model_blocks, schedule="static", num_threads=nt):
            negative_block(W, b, c, H, Pv, Vk, Phk, streams, k, persistent,
                           blk * model_size, n_model, model_size, n_visible, n_hidden)

    # Gradient step with momentum, by blocks of visible units, then the
    # hidden biases.
    if nt == 1:
        for blk in range(n_weight_blocks):
            weight_block(V0, n_data, Ph0, Vk, n_model, Phk, W, b, dW, db,
                         blk * weight_size, weight_size, n_visible, n_hidden,
                         learning_rate, momentum, weight_decay)
    else:
        for blk in prange(n_weight_blocks, schedule="static", num_threads=nt):
            weight_block(V0, n_data, Ph0, Vk, n_model, Phk, W, b, dW, db,
                         blk * weight_size, weight_size, n_visible, n_hidden,
                         learning_rate, momentum, weight_decay)
    column_mean_difference(Ph0, n_data, Phk, n_model, n_hidden, n_hidden, momentum,
                           learning_rate, dc, c)


def train_epoch(
    const floating[:, ::1] X, const int64_t[::1] order, int batch_size,
    floating[:, ::1] W, floating[::1] b, floating[::1] c,
    floating[:, ::1] dW, floating[::1] db, floating[::1] dc,
    floating[:, ::1] H, bint persistent,
    floating[:, ::1] V0, floating[:, ::1] Ph0, floating[:, ::1] Pv,
    floating[:, ::1] Vk, floating[:, ::1] Phk,
    uint64_t[:, ::1] streams, int k,
    double learning_rate, double momentum, double weight_decay, int n_threads,
):
    """Apply CD-k or PCD-k to the minibatches X[order[s:s + batch_size]].

    Scratch arrays: V0 and Ph0 have batch_size rows; H, Pv, Vk and Phk have
    one row per negative chain (batch_size for CD, the persistent chain
    count for PCD, where H holds the chains' hidden states).
    """
    cdef Py_ssize_t n_order = order.shape[0], start, n_data, n_model, r
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    cdef size_t row_bytes = n_visible * sizeof(floating)
    check_streams(streams, H.shape[0] if persistent else batch_size)
    if V0.shape[0] < batch_size or Ph0.shape[0] < batch_size:
        raise ValueError("V0 and Ph0 need batch_size rows.")
    blas_previous = blas_single_thread()
    nt = loop_threads(max(<Py_ssize_t> batch_size, H.shape[0]) * n_visible * n_hidden,
                      n_threads, blas_previous)
    try:
        with nogil:
            start = 0
            while start < n_order:
                n_data = min(<Py_ssize_t> batch_size, n_order - start)
                n_model = H.shape[0] if persistent else n_data
                for r in range(n_data):
                    memcpy(&V0[r, 0], &X[order[start + r], 0], row_bytes)
                cd_minibatch(&V0[0, 0], n_data, &W[0, 0], &b[0], &c[0],
                             &dW[0, 0], &db[0], &dc[0], &H[0, 0], n_model,
                             persistent, &Ph0[0, 0], &Pv[0, 0], &Vk[0, 0],
                             &Phk[0, 0], &streams[0, 0], k, n_visible, n_hidden,
                             <floating> learning_rate, <floating> momentum,
                             <floating> weight_decay, nt)
                start += batch_size
    finally:
        blas_restore_threads(blas_previous)


cdef void preactivation_block(const floating *V, const floating *W,
                             floating *pre, Py_ssize_t first, Py_ssize_t rows,
                             int n_visible, int n_hidden) noexcept nogil:
    """pre = V W for the rows first .. first + rows - 1 (no bias)."""
    gemm_rowmajor(c'N', c'N', <int> rows, n_hidden, n_visible, <floating> 1.0,
                  V + first * n_visible, n_visible, W, n_hidden, <floating> 0.0,
                  pre + first * n_hidden, n_hidden)


cdef void free_energy_block(const floating *V, const floating *W, const floating *b,
                            const floating *c, floating *pre, floating *out,
                            Py_ssize_t first, Py_ssize_t n_rows, Py_ssize_t size,
                            int n_visible, int n_hidden) noexcept nogil:
    cdef Py_ssize_t rows = min(size, n_rows - first), n, i, j
    cdef double total
    preactivation_block(V, W, pre, first, rows, n_visible, n_hidden)
    for n in range(first, first + rows):
        total = 0.0
        for i in range(n_visible):
            total = total - V[n * n_visible + i] * b[i]
        for j in range(n_hidden):
            total = total - ebm_softplus_d(pre[n * n_hidden + j] + c[j])
        out[n] = <floating> total


def free_energy(const floating[:, ::1] V, const floating[:, ::1] W,
                const floating[::1] b, const floating[::1] c,
                floating[:, ::1] pre, floating[::1] out, int n_threads):
    """out[n] = -b^T v_n - sum_j softplus(c_j + (v_n W)_j); pre is scratch."""
    cdef Py_ssize_t n = V.shape[0], size = block_size(n), blk
    cdef Py_ssize_t n_blocks = block_count(n, size)
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    blas_previous = blas_single_thread()
    nt = loop_threads(n * n_visible * n_hidden, n_threads, blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    free_energy_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &pre[0, 0],
                                      &out[0], blk * size, n, size, n_visible, n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    free_energy_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &pre[0, 0],
                                      &out[0], blk * size, n, size, n_visible, n_hidden)
    finally:
        blas_restore_threads(blas_previous)


cdef void pseudo_likelihood_block(const floating *V, const floating *W,
                                  const floating *b, const floating *c,
                                  floating *pre, double *out, Py_ssize_t first,
                                  Py_ssize_t n_rows, Py_ssize_t size,
                                  int n_visible, int n_hidden) noexcept nogil:
    cdef Py_ssize_t rows = min(size, n_rows - first), n, i, j
    cdef double base, flipped, sign, delta
    cdef const floating *row_pre
    preactivation_block(V, W, pre, first, rows, n_visible, n_hidden)
    for n in range(first, first + rows):
        row_pre = pre + n * n_hidden
        base = 0.0
        for j in range(n_hidden):
            base = base + ebm_softplus_d(row_pre[j] + c[j])
        out[n] = 0.0
        for i in range(n_visible):
            sign = 1.0 - 2.0 * V[n * n_visible + i]
            flipped = 0.0
            for j in range(n_hidden):
                flipped = flipped + ebm_softplus_d(row_pre[j] + c[j] + sign * W[i * n_hidden + j])
            # F(v) - F(v flipped) = sign b_i + flipped - base
            delta = sign * b[i] + flipped - base
            out[n] = out[n] - ebm_softplus_d(delta)


def pseudo_log_likelihood(const floating[:, ::1] V, const floating[:, ::1] W,
                          const floating[::1] b, const floating[::1] c,
                          floating[:, ::1] pre, double[::1] out, int n_threads):
    """out[n] = sum_i log p(v_i | v_-i) for row n; pre is scratch.

    Flipping v_i to 1 - v_i adds s = 1 - 2 v_i times W[i] to the hidden
    pre-activation and s b_i to b^T v, and
    log p(v_i | v_-i) = -softplus(F(v) - F(v flipped)).
    """
    cdef Py_ssize_t n = V.shape[0], size = block_size(n), blk
    cdef Py_ssize_t n_blocks = block_count(n, size)
    cdef int n_visible = <int> W.shape[0], n_hidden = <int> W.shape[1], nt
    blas_previous = blas_single_thread()
    # The flips cost n_visible times the products, so count them as work.
    nt = loop_threads(64 * n * n_visible * n_hidden, n_threads, blas_previous)
    try:
        with nogil:
            if nt == 1:
                for blk in range(n_blocks):
                    pseudo_likelihood_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &pre[0, 0],
                                            &out[0], blk * size, n, size, n_visible,
                                            n_hidden)
            else:
                for blk in prange(n_blocks, schedule="static", num_threads=nt):
                    pseudo_likelihood_block(&V[0, 0], &W[0, 0], &b[0], &c[0], &pre[0, 0],
                                            &out[0], blk * size, n, size, n_visible,
                                            n_hidden)
    finally:
        blas_restore_threads(blas_previous)
