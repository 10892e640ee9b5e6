# cython: language_level=3, boundscheck=False, wraparound=False
"""OpenMP facts and BLAS thread control for the compiled kernels."""

from ._common cimport (
    blas_restore_threads, blas_single_thread, ebm_max_threads, ebm_openmp_enabled,
)


def openmp_enabled():
    """Return True if the kernels were compiled with OpenMP."""
    return bool(ebm_openmp_enabled())


def max_threads():
    """Return the thread count OpenMP would use by default.

    This honours ``OMP_NUM_THREADS``; it is 1 when OpenMP is not compiled in.
    """
    return int(ebm_max_threads())


def limit_blas_threads():
    """Make scipy's BLAS single-threaded and return its previous thread count.

    Returns -1, changing nothing, when the BLAS offers no thread control
    (a BLAS other than OpenBLAS). Pass the result to
    :func:`restore_blas_threads`.
    """
    return blas_single_thread()


def restore_blas_threads(int previous):
    """Undo :func:`limit_blas_threads`; a negative count does nothing."""
    blas_restore_threads(previous)
