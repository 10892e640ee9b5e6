# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled modern Hopfield kernels; ``_hopfield_reference.py`` is their specification.

Every kernel streams over the stored patterns (keys) in blocks of
``block_size`` rows and never holds more than ``query_block x block_size``
scores. A block's scores come from one GEMM through scipy's BLAS; a row pass
turns them into unnormalised softmax weights with a running maximum per
query (csrc/ebm_hopfield.h), and a second GEMM adds weights x values to the
output rows. All arrays are C-contiguous and of one floating dtype.

The work is split into items, each one block of ``query_block`` queries
against one segment of the keys (see "Schedules over work items" below).
Two schedules run the items:

- ``parallel_items=False`` runs them one after the other on the calling
  thread, and BLAS is free to use its own threads.
- ``parallel_items=True`` hands them to ``n_threads`` OpenMP threads, each
  with its own score buffer, calling BLAS from inside the parallel region.
  The caller limits BLAS to one thread first.

A query's result depends on the query, the keys, ``block_size``,
``query_block`` and ``n_segments``, not on the schedule or on ``n_threads``.
This assumes BLAS computes each row of a product the same way whatever the
other rows are and however many threads it uses, which held for scipy's
OpenBLAS 0.3.30 with at least 8 rows per product.
"""

from cython.parallel cimport parallel, prange
from libc.math cimport INFINITY, exp
from libc.stdlib cimport free, malloc
from libc.string cimport memset

from ._common cimport floating, gemm_rowmajor


cdef extern from "ebm_hopfield.h" nogil:
    double ebm_softmax_block_f(float *z, Py_ssize_t n, double *row_max, double *row_sum)
    double ebm_softmax_block_d(double *z, Py_ssize_t n, double *row_max, double *row_sum)
    void ebm_nearest_block_f(float *s, const float *half_norm, Py_ssize_t n,
                             Py_ssize_t offset, double *best, Py_ssize_t *index)
    void ebm_nearest_block_d(double *s, const double *half_norm, Py_ssize_t n,
                             Py_ssize_t offset, double *best, Py_ssize_t *index)


cdef inline double softmax_block(floating *z, Py_ssize_t n, double *row_max,
                                 double *row_sum) noexcept nogil:
    if floating is float:
        return ebm_softmax_block_f(z, n, row_max, row_sum)
    else:
        return ebm_softmax_block_d(z, n, row_max, row_sum)


cdef inline void nearest_block(floating *s, const floating *half_norm,
                               Py_ssize_t n, Py_ssize_t offset, double *best,
                               Py_ssize_t *index) noexcept nogil:
    if floating is float:
        ebm_nearest_block_f(s, half_norm, n, offset, best, index)
    else:
        ebm_nearest_block_d(s, half_norm, n, offset, best, index)


# ---------------------------------------------------------------------------
# One query block against every key

cdef void attend_rows(
    const floating *Q, Py_ssize_t n_rows, const floating *K, const floating *V,
    Py_ssize_t n_keys, int d, int d_value, floating scale, Py_ssize_t block,
    floating *scores, floating *out, double *row_max, double *row_sum,
) noexcept nogil:
    """Set row_max + log(row_sum) to logsumexp(scale K q) for each query q.

    When ``out`` is not NULL, also set out = exp(scale Q K^T - row_max) V,
    so that out / row_sum is softmax(scale Q K^T) V. With ``out`` NULL the
    values V are not read and only one GEMM runs per block.
    """
    cdef Py_ssize_t i, j, start, n_block
    cdef double rescale
    cdef floating *out_row

    for i in range(n_rows):
        row_max[i] = -INFINITY
        row_sum[i] = 0.0
    if out != NULL:
        memset(out, 0, n_rows * d_value * sizeof(floating))

    start = 0
    while start < n_keys:
        n_block = min(block, n_keys - start)

        # scores = scale Q K_block^T, shape (n_rows, n_block)
        gemm_rowmajor(c'N', c'T', <int> n_rows, <int> n_block, d, scale,
                      Q, d, K + start * d, d, <floating> 0.0, scores, <int> n_block)

        # Online softmax: the earlier blocks' sums were taken with a smaller
        # maximum, so they are rescaled by exp(old max - new max).
        for i in range(n_rows):
            rescale = softmax_block(scores + i * n_block, n_block,
                                    &row_max[i], &row_sum[i])
            if out != NULL and rescale != 1.0:
                out_row = out + i * d_value
                for j in range(d_value):
                    out_row[j] = <floating> (out_row[j] * rescale)

        # out += weights V_block
        if out != NULL:
            gemm_rowmajor(c'N', c'N', <int> n_rows, d_value, <int> n_block,
                          <floating> 1.0, scores, <int> n_block,
                          V + start * d_value, d_value, <floating> 1.0, out, d_value)
        start += n_block


cdef void nearest_rows(
    const floating *Q, Py_ssize_t n_rows, const floating *X, Py_ssize_t n_patterns,
    int d, const floating *half_norm, Py_ssize_t block, floating *scores,
    double *best_rows, Py_ssize_t *index,
) noexcept nogil:
    """Set index[i] to the stored pattern nearest to query i (Euclidean)."""
    cdef Py_ssize_t i, start, n_block
    for i in range(n_rows):
        best_rows[i] = INFINITY
        index[i] = 0
    start = 0
    while start < n_patterns:
        n_block = min(block, n_patterns - start)
        gemm_rowmajor(c'N', c'T', <int> n_rows, <int> n_block, d, <floating> 1.0,
                      Q, d, X + start * d, d, <floating> 0.0, scores, <int> n_block)
        for i in range(n_rows):
            nearest_block(scores + i * n_block, half_norm + start, n_block, start,
                          &best_rows[i], &index[i])
        start += n_block


# ---------------------------------------------------------------------------
# Schedules over work items
#
# A work item is one block of query rows against one segment of the keys.
# The keys are split into ``n_segments`` segments, each a whole number of key
# blocks, when there are too few query blocks to keep the threads busy. Each
# item writes its own partial maximum, sum and output, and merge_segments
# combines the segments of a query in segment order, so the result depends on
# query_block, block and n_segments but not on the thread count.

cdef void merge_segments(
    Py_ssize_t n_queries, int d_value, Py_ssize_t n_segments,
    const double *part_max, const double *part_sum, const floating *part_out,
    floating *out, double *row_max, double *row_sum,
) noexcept nogil:
    """Combine the per-segment softmax pieces; normalise ``out`` if not NULL.

    Part s of query i sits at part_max[s * n_queries + i] and at row
    s * n_queries + i of part_out. With M = max_s m_s the totals are
    sum_s exp(m_s - M) sum_s and sum_s exp(m_s - M) out_s.
    """
    cdef Py_ssize_t i, j, s
    cdef double top, weight, total
    cdef const floating *part_row
    for i in range(n_queries):
        top = part_max[i]
        for s in range(1, n_segments):
            if part_max[s * n_queries + i] > top:
                top = part_max[s * n_queries + i]
        total = 0.0
        for s in range(n_segments):
            total += exp(part_max[s * n_queries + i] - top) * part_sum[s * n_queries + i]
        row_max[i] = top
        row_sum[i] = total
        if out == NULL:
            continue
        for j in range(d_value):
            out[i * d_value + j] = 0
        for s in range(n_segments):
            weight = exp(part_max[s * n_queries + i] - top) / total
            part_row = part_out + (s * n_queries + i) * d_value
            for j in range(d_value):
                out[i * d_value + j] = <floating> (out[i * d_value + j] + weight * part_row[j])


cdef inline void run_item(
    Py_ssize_t item, const floating *Q, Py_ssize_t n_queries, const floating *K,
    const floating *V, Py_ssize_t n_keys, int d, int d_value, floating scale,
    Py_ssize_t block, Py_ssize_t query_block, Py_ssize_t n_segments,
    Py_ssize_t segment_keys, floating *scores, floating *part_out,
    double *part_max, double *part_sum,
) noexcept nogil:
    cdef Py_ssize_t chunk = item // n_segments, segment = item % n_segments
    cdef Py_ssize_t first = chunk * query_block
    cdef Py_ssize_t n_rows = min(query_block, n_queries - first)
    cdef Py_ssize_t key_start = segment * segment_keys
    cdef Py_ssize_t n_segment_keys = min(segment_keys, n_keys - key_start)
    cdef Py_ssize_t part = segment * n_queries + first, i
    if n_segment_keys <= 0:
        # An empty segment contributes exp(-inf) * 0 to every sum.
        for i in range(n_rows):
            part_max[part + i] = -INFINITY
            part_sum[part + i] = 0.0
        if part_out != NULL:
            memset(part_out + part * d_value, 0, n_rows * d_value * sizeof(floating))
        return
    attend_rows(Q + first * d, n_rows, K + key_start * d,
                V + key_start * d_value, n_segment_keys, d, d_value, scale,
                block, scores,
                NULL if part_out == NULL else part_out + part * d_value,
                part_max + part, part_sum + part)


cdef int run_attention(
    const floating *Q, Py_ssize_t n_queries, const floating *K, const floating *V,
    Py_ssize_t n_keys, int d, int d_value, floating scale, Py_ssize_t block,
    Py_ssize_t query_block, Py_ssize_t n_segments, floating *out,
    double *row_max, double *row_sum, int n_threads, bint parallel_items,
) noexcept nogil:
    """Run every work item, then merge; return -1 if a buffer is not allocated."""
    cdef Py_ssize_t n_chunks = (n_queries + query_block - 1) // query_block
    cdef Py_ssize_t n_items = n_chunks * n_segments, item
    cdef Py_ssize_t n_key_blocks = (n_keys + block - 1) // block
    cdef Py_ssize_t segment_keys = ((n_key_blocks + n_segments - 1) // n_segments) * block
    cdef Py_ssize_t n_parts = n_segments * n_queries
    cdef floating *scores
    cdef floating *part_out = NULL
    cdef double *part_max = <double *> malloc(n_parts * sizeof(double))
    cdef double *part_sum = <double *> malloc(n_parts * sizeof(double))
    cdef int failed = 0

    if out != NULL:
        part_out = <floating *> malloc(n_parts * d_value * sizeof(floating))
    if part_max == NULL or part_sum == NULL or (out != NULL and part_out == NULL):
        failed = 1
    elif not parallel_items or n_threads == 1 or n_items == 1:
        scores = <floating *> malloc(query_block * block * sizeof(floating))
        if scores == NULL:
            failed = 1
        else:
            for item in range(n_items):
                run_item(item, Q, n_queries, K, V, n_keys, d, d_value, scale,
                         block, query_block, n_segments, segment_keys, scores,
                         part_out, part_max, part_sum)
            free(scores)
    else:
        with parallel(num_threads=n_threads):
            scores = <floating *> malloc(query_block * block * sizeof(floating))
            for item in prange(n_items, schedule="static"):
                if scores == NULL:
                    failed += 1
                    continue
                run_item(item, Q, n_queries, K, V, n_keys, d, d_value, scale,
                         block, query_block, n_segments, segment_keys, scores,
                         part_out, part_max, part_sum)
            free(scores)

    if not failed:
        merge_segments(n_queries, d_value, n_segments, part_max, part_sum,
                       part_out, out, row_max, row_sum)
    free(part_out)
    free(part_max)
    free(part_sum)
    return -1 if failed else 0


# ---------------------------------------------------------------------------
# Public kernels

def attention(const floating[:, ::1] Q, const floating[:, ::1] K,
              const floating[:, ::1] V, double scale, floating[:, ::1] out,
              double[::1] row_max, double[::1] row_sum, Py_ssize_t block_size,
              Py_ssize_t query_block, Py_ssize_t n_segments, int n_threads,
              bint parallel_items):
    """out = softmax(scale Q K^T) V; logsumexp(scale Q K^T) = row_max + log(row_sum)."""
    cdef int status
    if Q.shape[0] == 0:
        return
    with nogil:
        status = run_attention(
            &Q[0, 0], Q.shape[0], &K[0, 0], &V[0, 0], K.shape[0],
            <int> K.shape[1], <int> V.shape[1], <floating> scale,
            block_size, query_block, n_segments, &out[0, 0], &row_max[0],
            &row_sum[0], n_threads, parallel_items)
    if status != 0:
        raise MemoryError("could not allocate the scratch buffers of the Hopfield kernel.")


def log_sum_exp(const floating[:, ::1] Q, const floating[:, ::1] K, double scale,
                double[::1] row_max, double[::1] row_sum, Py_ssize_t block_size,
                Py_ssize_t query_block, Py_ssize_t n_segments, int n_threads,
                bint parallel_items):
    """logsumexp(scale Q K^T) per row = row_max + log(row_sum), one GEMM per block."""
    cdef int status
    if Q.shape[0] == 0:
        return
    with nogil:
        status = run_attention(
            &Q[0, 0], Q.shape[0], &K[0, 0], &K[0, 0], K.shape[0],
            <int> K.shape[1], <int> K.shape[1], <floating> scale,
            block_size, query_block, n_segments, NULL, &row_max[0],
            &row_sum[0], n_threads, parallel_items)
    if status != 0:
        raise MemoryError("could not allocate the scratch buffers of the Hopfield kernel.")


def nearest(const floating[:, ::1] Q, const floating[:, ::1] X,
            const floating[::1] half_norm, Py_ssize_t[::1] index,
            Py_ssize_t block_size, Py_ssize_t query_block, int n_threads,
            bint parallel_items):
    """index[i] = argmin_j |X[j] - Q[i]| (lowest j on ties).

    Query blocks run in n_threads OpenMP threads when ``parallel_items`` is
    set; each query's result does not depend on the schedule.
    """
    cdef Py_ssize_t n_queries = Q.shape[0], n_chunks, chunk, first, n_rows
    cdef double *best = <double *> malloc(max(n_queries, 1) * sizeof(double))
    cdef floating *scores
    cdef int failed = 0, nt = n_threads if parallel_items else 1
    if best == NULL:
        raise MemoryError("could not allocate the scratch buffers of the Hopfield kernel.")
    n_chunks = (n_queries + query_block - 1) // query_block
    with nogil, parallel(num_threads=nt):
        scores = <floating *> malloc(query_block * block_size * sizeof(floating))
        for chunk in prange(n_chunks, schedule="static"):
            if scores == NULL:
                failed += 1
                continue
            first = chunk * query_block
            n_rows = min(query_block, n_queries - first)
            nearest_rows(&Q[first, 0], n_rows, &X[0, 0], X.shape[0],
                         <int> X.shape[1], &half_norm[0], block_size, scores,
                         best + first, &index[first])
        free(scores)
    free(best)
    if failed:
        raise MemoryError("could not allocate the scratch buffers of the Hopfield kernel.")
