/* Thread control of scipy's BLAS; see ebm_blas_threads.c. */
#ifndef EBM_BLAS_THREADS_H
#define EBM_BLAS_THREADS_H

/* Set the BLAS thread count and return the previous one, or return -1 and
 * change nothing when the BLAS behind blas_function (any function of
 * scipy.linalg.cython_blas) offers no such control. Not thread-safe: call it
 * with the GIL held. */
int ebm_blas_set_threads(const void *blas_function, int n_threads);

#endif
