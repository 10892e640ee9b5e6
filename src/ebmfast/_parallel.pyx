# cython: language_level=3, boundscheck=False, wraparound=False
"""OpenMP facts for the compiled kernels."""

from ._common cimport ebm_openmp_enabled, ebm_max_threads


def openmp_enabled():
    """Return True if the kernels were compiled with OpenMP."""
    return bool(ebm_openmp_enabled())


def max_threads():
    """Return the thread count OpenMP would use by default.

    This honours ``OMP_NUM_THREADS``; it is 1 when OpenMP is not compiled in.
    """
    return int(ebm_max_threads())
