# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled arithmetic around a batched Python target, for ``mcmc/_batched.py``.

A ``CallablePotential`` is called once per leapfrog step for all chains at
once. Everything between those calls (momenta, leapfrog updates, kinetic
energies, acceptance) runs here over all chains, with the operations of
``mcmc/_reference.py`` in the same order, so both backends give identical
bits. Row i uses only stream i, so results do not depend on n_threads.
"""

from cython.parallel cimport prange
from libc.math cimport exp, sqrt
from libc.stdint cimport uint64_t

from ._common cimport floating

cdef extern from "ebm_normal.h" nogil:
    void ebm_normal_fill_d(uint64_t *stream, double *out, Py_ssize_t n)
    void ebm_normal_fill_f(uint64_t *stream, float *out, Py_ssize_t n)

cdef extern from "ebm_mcmc.h" nogil:
    double ebm_weighted_square_sum_f(const float *w, const float *a, Py_ssize_t n)
    double ebm_weighted_square_sum_d(const double *w, const double *a, Py_ssize_t n)
    double ebm_sum_f(const float *a, Py_ssize_t n)
    double ebm_sum_d(const double *a, Py_ssize_t n)


cdef inline double weighted_square_sum(const floating *w, const floating *a,
                                       Py_ssize_t n) noexcept nogil:
    if floating is float:
        return ebm_weighted_square_sum_f(w, a, n)
    else:
        return ebm_weighted_square_sum_d(w, a, n)


def momentum(uint64_t[:, ::1] streams, const floating[:, ::1] inv_mass,
             const floating[:, ::1] G, const floating[::1] half, floating[:, ::1] p,
             double[::1] kinetic, int n_threads):
    """Draw p ~ N(0, M), set kinetic to p^T M^-1 p / 2, then make the half step p -= half G."""
    cdef Py_ssize_t i, j, d = p.shape[1]
    cdef floating root
    with nogil:
        for i in prange(p.shape[0], schedule="static", num_threads=n_threads):
            if floating is float:
                ebm_normal_fill_f(&streams[i, 0], &p[i, 0], d)
            else:
                ebm_normal_fill_d(&streams[i, 0], &p[i, 0], d)
            for j in range(d):
                root = <floating> sqrt(inv_mass[i, j])
                p[i, j] = p[i, j] * (<floating> 1 / root)
            kinetic[i] = 0.5 * weighted_square_sum(&inv_mass[i, 0], &p[i, 0], d)
            for j in range(d):
                p[i, j] = p[i, j] - half[i] * G[i, j]


def drift(const floating[:, ::1] X, const floating[:, ::1] p,
          const floating[:, ::1] inv_mass, const floating[::1] eps,
          floating[:, ::1] out, int n_threads):
    """Set out = X + eps M^-1 p, eps one step per row."""
    cdef Py_ssize_t i, j
    with nogil:
        for i in prange(X.shape[0], schedule="static", num_threads=n_threads):
            for j in range(X.shape[1]):
                out[i, j] = X[i, j] + eps[i] * (inv_mass[i, j] * p[i, j])


def kick(floating[:, ::1] p, const floating[:, ::1] G, const floating[::1] eps,
         int n_threads):
    """Make the momentum step p -= eps G in place."""
    cdef Py_ssize_t i, j
    with nogil:
        for i in prange(p.shape[0], schedule="static", num_threads=n_threads):
            for j in range(p.shape[1]):
                p[i, j] = p[i, j] - eps[i] * G[i, j]


def finish(floating[:, ::1] p, const floating[:, ::1] G, const floating[::1] half,
           const floating[:, ::1] inv_mass, double[::1] kinetic, double[::1] grad_sum,
           int n_threads):
    """Make the last half step p -= half G; set kinetic and the row sums of G."""
    cdef Py_ssize_t i, j, d = p.shape[1]
    with nogil:
        for i in prange(p.shape[0], schedule="static", num_threads=n_threads):
            for j in range(d):
                p[i, j] = p[i, j] - half[i] * G[i, j]
            kinetic[i] = 0.5 * weighted_square_sum(&inv_mass[i, 0], &p[i, 0], d)
            if floating is float:
                grad_sum[i] = ebm_sum_f(&G[i, 0], d)
            else:
                grad_sum[i] = ebm_sum_d(&G[i, 0], d)


def row_sums(const floating[:, ::1] G, double[::1] out, int n_threads):
    """Set out[i] to the sum of row i in float64, in the kernels' order."""
    cdef Py_ssize_t i
    with nogil:
        for i in prange(G.shape[0], schedule="static", num_threads=n_threads):
            if floating is float:
                out[i] = ebm_sum_f(&G[i, 0], G.shape[1])
            else:
                out[i] = ebm_sum_d(&G[i, 0], G.shape[1])


def random_walk(const floating[:, ::1] X, const floating[:, ::1] z,
                const floating[::1] scale, const floating[::1] eps,
                floating[:, ::1] out, int n_threads):
    """Set out = X + eps (scale z), eps one step per row."""
    cdef Py_ssize_t i, j
    with nogil:
        for i in prange(X.shape[0], schedule="static", num_threads=n_threads):
            for j in range(X.shape[1]):
                out[i, j] = X[i, j] + eps[i] * (scale[j] * z[i, j])


def accept_probability(const double[::1] energy_error, const unsigned char[::1] divergent,
                       bint metropolis, double[::1] out):
    """Set out to min(1, exp(-energy_error)), 1 without Metropolis, 0 for divergences."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(out.shape[0]):
            if divergent[i]:
                out[i] = 0.0
            elif not metropolis or energy_error[i] <= 0.0:
                out[i] = 1.0
            else:
                out[i] = exp(-energy_error[i])


def select_rows(const unsigned char[::1] take, const floating[:, ::1] proposal,
                const floating[:, ::1] current, floating[:, ::1] out, int n_threads):
    """Set row i of out to row i of proposal where take[i], else of current."""
    cdef Py_ssize_t i, j
    with nogil:
        for i in prange(out.shape[0], schedule="static", num_threads=n_threads):
            if take[i]:
                for j in range(out.shape[1]):
                    out[i, j] = proposal[i, j]
            else:
                for j in range(out.shape[1]):
                    out[i, j] = current[i, j]


def exp_values(const double[::1] x, double[::1] out):
    """Set out = exp(x) by the C library, as the kernels compute it."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(x.shape[0]):
            out[i] = exp(x[i])
