# Declarations and inline helpers shared by the compiled kernels. Only
# `cdef inline` functions and extern blocks live here, so cimporting this file
# needs no compiled module of its own at run time.

from libc.stdint cimport uint64_t
from scipy.linalg.cython_blas cimport sgemm, dgemm

ctypedef fused floating:
    float
    double

cdef extern from "ebm_blas_threads.h":
    int ebm_blas_set_threads(const void *blas_function, int n_threads)

cdef extern from "ebm_openmp.h" nogil:
    int ebm_openmp_enabled()
    int ebm_max_threads()

cdef extern from "ebm_random.h" nogil:
    const int EBM_STREAM_WORDS
    uint64_t ebm_next_uint64(uint64_t *stream)
    void ebm_sample_bernoulli_f(uint64_t *stream, const float *prob, float *out, Py_ssize_t n)
    void ebm_sample_bernoulli_d(uint64_t *stream, const double *prob, double *out, Py_ssize_t n)
    void ebm_sample_bernoulli_group_f(uint64_t *streams, const float *prob, float *out, Py_ssize_t n)
    void ebm_sample_bernoulli_group_d(uint64_t *streams, const double *prob, double *out, Py_ssize_t n)

cdef extern from "ebm_math.h" nogil:
    float ebm_logistic_f(float x)
    double ebm_logistic_d(double x)
    void ebm_logistic_bias_f(const float *pre, const float *bias, float *out, Py_ssize_t n)
    void ebm_logistic_bias_d(const double *pre, const double *bias, double *out, Py_ssize_t n)
    double ebm_softplus_d(double x)
    double ebm_ais_hidden_row_d(const double *pre, const double *c, double beta,
                                double previous, double *prob, Py_ssize_t n)
    double ebm_ais_hidden_row_f(const float *pre, const float *c, double beta,
                                double previous, float *prob, Py_ssize_t n)


cdef inline void gemm_rowmajor(
    char trans_a, char trans_b, int m, int n, int k,
    floating alpha, const floating *a, int lda,
    const floating *b, int ldb,
    floating beta, floating *c, int ldc,
) noexcept nogil:
    """C = alpha * op(A) @ op(B) + beta * C for C-ordered (row-major) arrays.

    BLAS is column-major and sees a row-major matrix as its transpose, so
    C^T = op(B)^T op(A)^T is one column-major call with the operands swapped
    and the same transpose flags. C has shape (m, n) and op(A) (m, k).
    """
    if floating is float:
        sgemm(&trans_b, &trans_a, &n, &m, &k, &alpha, <float *> b, &ldb,
              <float *> a, &lda, &beta, c, &ldc)
    else:
        dgemm(&trans_b, &trans_a, &n, &m, &k, &alpha, <double *> b, &ldb,
              <double *> a, &lda, &beta, c, &ldc)


cdef inline void logistic_bias(const floating *pre, const floating *bias,
                               floating *out, Py_ssize_t n) noexcept nogil:
    if floating is float:
        ebm_logistic_bias_f(pre, bias, out, n)
    else:
        ebm_logistic_bias_d(pre, bias, out, n)


cdef inline void sample_bernoulli_row(uint64_t *stream, const floating *prob,
                                      floating *out, Py_ssize_t n) noexcept nogil:
    """Set out[j] = 1 with probability prob[j], else 0, from one stream."""
    if floating is float:
        ebm_sample_bernoulli_f(stream, prob, out, n)
    else:
        ebm_sample_bernoulli_d(stream, prob, out, n)


cdef inline void sample_bernoulli_group(uint64_t *streams, const floating *prob,
                                        floating *out, Py_ssize_t n) noexcept nogil:
    """sample_bernoulli_row for 4 consecutive rows of length n, in lockstep."""
    if floating is float:
        ebm_sample_bernoulli_group_f(streams, prob, out, n)
    else:
        ebm_sample_bernoulli_group_d(streams, prob, out, n)


cdef inline int blas_single_thread():
    """Make scipy's BLAS single-threaded; return the previous thread count,
    or -1 if the BLAS offers no control (then nothing changed)."""
    return ebm_blas_set_threads(<const void *> sgemm, 1)


cdef inline void blas_restore_threads(int previous):
    if previous > 0:
        ebm_blas_set_threads(<const void *> sgemm, previous)


cdef inline int threads_for(Py_ssize_t work, int n_threads) noexcept nogil:
    """Use one thread when a parallel region would cost more than it saves.

    Results never depend on this choice: each row draws from its own stream.
    """
    if work < 32768:
        return 1
    return n_threads


# The blocked kernels split their rows (chains, minibatch rows or runs) into
# blocks and give each OpenMP thread whole blocks, each running its own
# single-threaded BLAS products and row passes. Letting OpenBLAS run its own
# threads instead, with OpenMP row passes between products, was slower: its
# idle threads spin between products and competed with the OpenMP threads
# (measured on 2 cores at 1,000 chains of 784 x 500). The block size depends
# only on the number of rows, so results never depend on the thread count.

cdef inline Py_ssize_t block_size_at_most(Py_ssize_t n_rows, Py_ssize_t max_blocks) noexcept nogil:
    """Rows per block: the rows split evenly into at most max_blocks blocks
    of at least about 64 rows.

    Smaller blocks cost more than they gain: OpenBLAS packs the whole weight
    matrix for every product, and a single-threaded product of 16 rows of a
    784 x 500 model ran at 78 GFLOP/s against 97 for 64 rows and more.
    """
    cdef Py_ssize_t n_blocks = (n_rows + 63) // 64
    n_blocks = min(max(n_blocks, 1), max_blocks)
    return (n_rows + n_blocks - 1) // n_blocks


cdef inline Py_ssize_t block_size(Py_ssize_t n_rows) noexcept nogil:
    """block_size_at_most with 8 blocks.

    NOTE: 8 blocks cap the parallelism of the row loops at 8 threads.
    """
    return block_size_at_most(n_rows, 8)


cdef inline Py_ssize_t block_count(Py_ssize_t n_rows, Py_ssize_t size) noexcept nogil:
    return (n_rows + size - 1) // size


cdef inline int loop_threads(Py_ssize_t work, int n_threads, int blas_previous) noexcept nogil:
    """Threads for a blocked loop: one when the BLAS threads could not be
    limited (its own threads then run each product) or the work is small."""
    if blas_previous < 0:
        return 1
    return threads_for(work // 64, n_threads)


cdef inline check_streams(uint64_t[:, ::1] streams, Py_ssize_t n_rows):
    """Raise ValueError unless streams has one SFC64 state row per row."""
    if streams is None:
        raise ValueError("streams are required to draw samples.")
    if streams.shape[1] != EBM_STREAM_WORDS:
        raise ValueError(f"streams must have {EBM_STREAM_WORDS} columns, got {streams.shape[1]}.")
    if streams.shape[0] < n_rows:
        raise ValueError(
            f"one random stream per row is required: got {streams.shape[0]} "
            f"streams for {n_rows} rows.")
