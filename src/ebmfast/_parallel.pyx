# cython: language_level=3, boundscheck=False, wraparound=False
"""OpenMP facts and random-stream addresses for the compiled kernels."""

import numpy as np

from cpython.pycapsule cimport PyCapsule_GetPointer
from libc.stdint cimport uintptr_t

from ._common cimport ebm_openmp_enabled, ebm_max_threads


def openmp_enabled():
    """Return True if the kernels were compiled with OpenMP."""
    return bool(ebm_openmp_enabled())


def max_threads():
    """Return the thread count OpenMP would use by default.

    This honours ``OMP_NUM_THREADS``; it is 1 when OpenMP is not compiled in.
    """
    return int(ebm_max_threads())


def bitgen_addresses(bit_generators):
    """Return the address of each bit generator's ``bitgen_t`` struct.

    Parameters
    ----------
    bit_generators : sequence of numpy.random.BitGenerator
        The caller must keep these objects alive for as long as the addresses
        are used, and must not draw from them from another thread meanwhile:
        the kernels do not take the generators' locks.

    Returns
    -------
    addresses : ndarray of shape (n_streams,), dtype uintp
    """
    cdef Py_ssize_t i, n = len(bit_generators)
    addresses = np.empty(n, dtype=np.uintp)
    cdef uintptr_t[::1] out = addresses
    for i in range(n):
        out[i] = <uintptr_t> PyCapsule_GetPointer(
            bit_generators[i].capsule, "BitGenerator")
    return addresses
