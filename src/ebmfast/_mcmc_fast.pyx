# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled MCMC kernels; ``mcmc/_reference.py`` is their specification.

A whole run (Langevin pre-phase, warmup with adaptation, sampling) of one
chain happens inside one iteration of a ``prange`` over chains, for the
compiled potentials (built-in ones and C callbacks). The per-chain loops are
the C kernels of ``csrc/ebm_mcmc.h``; this module holds the adaptation and
the drivers. Chain ``i`` draws only from stream ``streams[i]``, so results
do not depend on ``n_threads``. No BLAS is called inside the parallel
region.

Random numbers per transition, in this order (the reference replays them):
RWM and HMC: d normals (``ebm_normal_fill``), then one float64 uniform for
the accept test. ULA: d normals only.
"""

from cython.parallel cimport prange, parallel, threadid
from libc.math cimport exp, log, sqrt, pow
from libc.stdint cimport uint64_t, int64_t
from libc.string cimport memcpy

import numpy as np

cdef extern from "ebm_normal.h" nogil:
    void ebm_normal_fill_d(uint64_t *stream, double *out, Py_ssize_t n)
    void ebm_normal_fill_f(uint64_t *stream, float *out, Py_ssize_t n)
    double ebm_uniform_d(uint64_t *stream)

cdef extern from "ebm_mcmc.h" nogil:
    ctypedef double (*ebm_energy_grad_fn)(const double *x, double *grad, int64_t d,
                                          void *user_data)
    ctypedef struct ebm_potential:
        int kind
        int n_components
        Py_ssize_t dim
        const void *theta
        const double *constants
        ebm_energy_grad_fn function
        void *user_data
    const int EBM_CALLBACK
    Py_ssize_t ebm_potential_work_size(int kind, Py_ssize_t d, int n_components)
    Py_ssize_t ebm_potential_theta_size(int kind, Py_ssize_t d, int n_components)
    Py_ssize_t ebm_potential_constants_size(int kind, int n_components)
    void ebm_sqrt_mass_fill_f(const float *a, float *out, Py_ssize_t n)
    void ebm_sqrt_mass_fill_d(const double *a, double *out, Py_ssize_t n)
    double ebm_energy_grad_f(const ebm_potential *pot, const float *x, float *g,
                             double *work)
    double ebm_energy_grad_d(const ebm_potential *pot, const double *x, double *g,
                             double *work)
    double ebm_hmc_transition_f(
        const ebm_potential *pot, float *x, float *g, double *energy,
        uint64_t *stream, double step, double jitter, const float *inv_mass,
        const float *sqrt_mass, int n_leapfrog,
        int metropolis, double max_energy_error, float *p, float *xn,
        float *gn, double *work, int *accepted, int *divergent)
    double ebm_hmc_transition_d(
        const ebm_potential *pot, double *x, double *g, double *energy,
        uint64_t *stream, double step, double jitter, const double *inv_mass,
        const double *sqrt_mass, int n_leapfrog,
        int metropolis, double max_energy_error, double *p, double *xn,
        double *gn, double *work, int *accepted, int *divergent)
    double ebm_rwm_transition_f(
        const ebm_potential *pot, float *x, float *g, double *energy,
        uint64_t *stream, double step, const float *scale, float *z,
        float *xn, float *gn, double *work, int *accepted, int *divergent)
    double ebm_rwm_transition_d(
        const ebm_potential *pot, double *x, double *g, double *energy,
        uint64_t *stream, double step, const double *scale, double *z,
        double *xn, double *gn, double *work, int *accepted, int *divergent)

ctypedef fused floating:
    float
    double

DEF STREAM_WORDS = 4

# Sampler kinds.
DEF RWM = 0
DEF HMC = 1
DEF ULA = 2

# Dual averaging constants (Hoffman and Gelman 2014, section 3.2).
DEF DA_GAMMA = 0.05
DEF DA_T0 = 10.0
DEF DA_KAPPA = 0.75

# Columns of the per-chain ``stats`` output.
DEF STAT_ACCEPTED = 0
DEF STAT_ACCEPT_PROB = 1
DEF STAT_DIVERGENT = 2
DEF STAT_WARMUP_DIVERGENT = 3
DEF N_STATS = 4


cdef struct RunSpec:
    int sampler
    Py_ssize_t dim
    int n_leapfrog
    int n_langevin
    double langevin_step
    Py_ssize_t n_warmup
    Py_ssize_t n_samples
    Py_ssize_t thin
    bint adapt_step
    double target_accept
    double max_energy_error
    double step_jitter


cdef ebm_potential make_potential(
    int kind, const void *theta, Py_ssize_t theta_size, const double[::1] constants,
    int n_components, Py_ssize_t d, size_t function_address, size_t user_data,
) except *:
    """Describe a target for the C kernels; theta points at the floating array.

    Raises ValueError for an unknown kind, or when theta or constants do not
    have the length that the kernel of that kind reads.
    """
    cdef ebm_potential pot
    cdef Py_ssize_t expected = ebm_potential_theta_size(kind, d, n_components)
    if expected < 0:
        raise ValueError(f"unknown potential kind {kind}.")
    if theta_size != expected:
        raise ValueError(f"potential kind {kind} with d = {d} and {n_components} "
                         f"components needs {expected} parameters in theta, got "
                         f"{theta_size}.")
    expected = ebm_potential_constants_size(kind, n_components)
    if constants.shape[0] != expected:
        raise ValueError(f"potential kind {kind} with {n_components} components needs "
                         f"{expected} constants, got {constants.shape[0]}.")
    if kind == EBM_CALLBACK and function_address == 0:
        raise ValueError("a callback potential needs a non-null function address.")
    pot.kind = kind
    pot.n_components = n_components
    pot.dim = d
    pot.theta = theta
    pot.constants = &constants[0] if constants.shape[0] > 0 else NULL
    pot.function = <ebm_energy_grad_fn> function_address
    pot.user_data = <void *> user_data
    return pot


def thread_scratch(Py_ssize_t n_per_thread, int n_threads):
    """Return zeroed scratch of shape (n_threads, n) with n >= n_per_thread.

    Rows are padded to whole 64-byte cache lines, so threads never share a
    line. The scratch is allocated before any parallel region starts, so a
    failed allocation raises MemoryError before any chain moves.
    """
    cdef Py_ssize_t n = (n_per_thread + 7) // 8 * 8
    if n_per_thread < 0 or n > (<Py_ssize_t> 1 << 58) // max(n_threads, 1):
        raise MemoryError(
            f"scratch of {n_per_thread} doubles per thread for {n_threads} threads "
            "is too large to allocate.")
    try:
        return np.zeros((n_threads, n))
    except MemoryError:
        raise MemoryError(
            f"could not allocate scratch of {n_per_thread} doubles per thread for "
            f"{n_threads} threads.") from None


def potential_energy_grad(int kind, const floating[::1] theta,
                          const double[::1] constants, int n_components,
                          size_t function_address, size_t user_data,
                          const floating[:, ::1] X, floating[:, ::1] G,
                          double[::1] energy, int n_threads):
    """Set energy[i] = U(X[i]) and G[i] = grad U(X[i]) for a compiled potential."""
    cdef Py_ssize_t i, n = X.shape[0], d = X.shape[1]
    cdef Py_ssize_t n_work = ebm_potential_work_size(kind, d, n_components)
    cdef ebm_potential pot = make_potential(
        kind, &theta[0] if theta.shape[0] > 0 else NULL, theta.shape[0], constants,
        n_components, d, function_address, user_data)
    cdef double *work
    if d == 0 or n == 0:
        return
    cdef double[:, ::1] scratch = thread_scratch(n_work, n_threads)
    with nogil, parallel(num_threads=n_threads):
        work = &scratch[threadid(), 0]
        for i in prange(n, schedule="static"):
            if floating is float:
                energy[i] = ebm_energy_grad_f(&pot, &X[i, 0], &G[i, 0], work)
            else:
                energy[i] = ebm_energy_grad_d(&pot, &X[i, 0], &G[i, 0], work)


# ---------------------------------------------------------------------------
# Random numbers for the batched driver (Python callable targets).

cdef inline void normal_fill(uint64_t *stream, floating *out, Py_ssize_t n) noexcept nogil:
    if floating is float:
        ebm_normal_fill_f(stream, out, n)
    else:
        ebm_normal_fill_d(stream, out, n)


def normal_rows(uint64_t[:, ::1] streams, floating[:, ::1] out, int n_threads):
    """Fill row i of out with standard normals from stream i."""
    cdef Py_ssize_t i
    with nogil:
        for i in prange(out.shape[0], schedule="static", num_threads=n_threads):
            normal_fill(&streams[i, 0], &out[i, 0], out.shape[1])


def uniform_rows(uint64_t[:, ::1] streams, double[::1] out):
    """Set out[i] to one float64 uniform number from stream i."""
    cdef Py_ssize_t i
    with nogil:
        for i in range(out.shape[0]):
            out[i] = ebm_uniform_d(&streams[i, 0])


# ---------------------------------------------------------------------------
# One transition of one chain, by the C kernels of ebm_mcmc.h. Returns the
# acceptance probability and sets accepted and divergent; x, g and energy
# change only on acceptance.

cdef inline void sqrt_mass_fill(const floating *a, floating *out, Py_ssize_t n) noexcept nogil:
    if floating is float:
        ebm_sqrt_mass_fill_f(a, out, n)
    else:
        ebm_sqrt_mass_fill_d(a, out, n)


cdef inline double transition(
    const RunSpec *spec, const ebm_potential *pot, floating *x, floating *g,
    double *energy, uint64_t *stream, double step, const floating *inv_mass,
    const floating *sqrt_mass, const floating *scale, floating *p, floating *xn,
    floating *gn, double *work, int *accepted, int *divergent,
) noexcept nogil:
    cdef int n_leapfrog = spec.n_leapfrog if spec.sampler == HMC else 1
    cdef int metropolis = spec.sampler != ULA
    if floating is float:
        if spec.sampler == RWM:
            return ebm_rwm_transition_f(pot, x, g, energy, stream, step, scale, p, xn,
                                        gn, work, accepted, divergent)
        return ebm_hmc_transition_f(pot, x, g, energy, stream, step, spec.step_jitter,
                                    inv_mass, sqrt_mass,
                                    n_leapfrog, metropolis, spec.max_energy_error,
                                    p, xn, gn, work, accepted, divergent)
    else:
        if spec.sampler == RWM:
            return ebm_rwm_transition_d(pot, x, g, energy, stream, step, scale, p, xn,
                                        gn, work, accepted, divergent)
        return ebm_hmc_transition_d(pot, x, g, energy, stream, step, spec.step_jitter,
                                    inv_mass, sqrt_mass,
                                    n_leapfrog, metropolis, spec.max_energy_error,
                                    p, xn, gn, work, accepted, divergent)


# ---------------------------------------------------------------------------
# One chain from start to end.

cdef void run_chain(
    const RunSpec *spec, const ebm_potential *pot, floating *x, floating *g,
    double *energy, uint64_t *stream, double *step_io, floating *inv_mass,
    const floating *scale, const signed char *window_flags,
    floating *samples, double *energies, double *stats,
    floating *p, floating *xn, floating *gn, double *work, double *w_mean,
    double *w_m2, floating *sqrt_mass,
) noexcept nogil:
    cdef Py_ssize_t j, t, s, d = spec.dim, n_window = 0
    cdef double step = step_io[0], accept_prob, delta, variance, shrink
    cdef double mu = log(10.0 * step), h_bar = 0.0, log_step_bar = 0.0
    cdef double log_step, eta, weight
    cdef Py_ssize_t n_adapt = 0
    cdef int accepted, divergent

    for j in range(d):
        w_mean[j] = 0.0
        w_m2[j] = 0.0
    sqrt_mass_fill(inv_mass, sqrt_mass, d)

    # Langevin pre-phase of the hybrid sampler: ULA steps, not recorded.
    cdef RunSpec langevin = spec[0]
    langevin.sampler = ULA
    for t in range(spec.n_langevin):
        transition(&langevin, pot, x, g, energy, stream, spec.langevin_step,
                   inv_mass, sqrt_mass, scale, p, xn, gn, work, &accepted, &divergent)
        stats[STAT_WARMUP_DIVERGENT] += divergent

    # Warmup: dual averaging of log(step) towards target_accept, and the
    # inverse mass matrix from the variance of the draws in each window.
    for t in range(spec.n_warmup):
        accept_prob = transition(spec, pot, x, g, energy, stream, step, inv_mass,
                                 sqrt_mass, scale, p, xn, gn, work, &accepted, &divergent)
        stats[STAT_WARMUP_DIVERGENT] += divergent
        if spec.adapt_step:
            n_adapt += 1
            weight = 1.0 / (n_adapt + DA_T0)
            h_bar = (1.0 - weight) * h_bar + weight * (spec.target_accept - accept_prob)
            log_step = mu - sqrt(<double> n_adapt) / DA_GAMMA * h_bar
            eta = pow(<double> n_adapt, -DA_KAPPA)
            log_step_bar = eta * log_step + (1.0 - eta) * log_step_bar
            step = exp(log_step)
        if window_flags[t] >= 1:
            # Welford's update of the running mean and sum of squares.
            n_window += 1
            for j in range(d):
                delta = x[j] - w_mean[j]
                w_mean[j] += delta / n_window
                w_m2[j] += delta * (x[j] - w_mean[j])
        if window_flags[t] == 2:
            # Close the window: the sample variance, shrunk towards 1e-3 as
            # Stan does, becomes the inverse mass; step adaptation restarts.
            shrink = n_window / (n_window + 5.0)
            for j in range(d):
                variance = w_m2[j] / (n_window - 1.0) if n_window > 1 else 1.0
                inv_mass[j] = <floating> (shrink * variance + 1e-3 * (1.0 - shrink))
                w_mean[j] = 0.0
                w_m2[j] = 0.0
            sqrt_mass_fill(inv_mass, sqrt_mass, d)
            n_window = 0
            mu = log(10.0 * step)
            h_bar = 0.0
            log_step_bar = 0.0
            n_adapt = 0
    if spec.adapt_step and spec.n_warmup > 0:
        step = exp(log_step_bar) if n_adapt > 0 else step
    step_io[0] = step

    # Sampling with a fixed step; every thin-th state is recorded.
    for s in range(spec.n_samples * spec.thin):
        accept_prob = transition(spec, pot, x, g, energy, stream, step, inv_mass,
                                 sqrt_mass, scale, p, xn, gn, work, &accepted, &divergent)
        stats[STAT_ACCEPTED] += accepted
        stats[STAT_ACCEPT_PROB] += accept_prob
        stats[STAT_DIVERGENT] += divergent
        if (s + 1) % spec.thin == 0:
            for j in range(d):
                samples[(s // spec.thin) * d + j] = x[j]
            energies[s // spec.thin] = energy[0]


# Per-thread scratch, in doubles, before the potential's own: p, xn, gn,
# the Welford mean and sum of squares, the diagonal of M^(1/2), the chain's
# position and gradient (d each, so float and double chains share the
# layout), then its stream, energy and statistics (LOCAL_WORDS).
DEF LOCAL_WORDS = STREAM_WORDS + 1 + N_STATS


cdef void run_chain_locally(
    const RunSpec *spec, const ebm_potential *pot, floating *x, floating *g,
    double *energy, uint64_t *stream, double *step_io, floating *inv_mass,
    const floating *scale, const signed char *window_flags,
    floating *samples, double *energies, double *stats, double *scratch,
) noexcept nogil:
    # Neighbouring chains' streams, energies and statistics share cache
    # lines, and chains go to the threads one at a time, so updating them in
    # place would make the threads invalidate each other's caches on every
    # transition. The chain runs on copies, which go back once it is done.
    cdef Py_ssize_t d = spec.dim, k
    cdef floating *local_x = <floating *> (scratch + 6 * d)
    cdef floating *local_g = <floating *> (scratch + 7 * d)
    cdef uint64_t *local_stream = <uint64_t *> (scratch + 8 * d)
    cdef double *local_energy = scratch + 8 * d + STREAM_WORDS
    cdef double *local_stats = local_energy + 1
    memcpy(local_x, x, d * sizeof(floating))
    memcpy(local_g, g, d * sizeof(floating))
    memcpy(local_stream, stream, STREAM_WORDS * sizeof(uint64_t))
    local_energy[0] = energy[0]
    for k in range(N_STATS):
        local_stats[k] = 0.0
    run_chain(spec, pot, local_x, local_g, local_energy, local_stream, step_io, inv_mass,
              scale, window_flags, samples, energies, local_stats,
              <floating *> scratch, <floating *> (scratch + d),
              <floating *> (scratch + 2 * d), scratch + 8 * d + LOCAL_WORDS,
              scratch + 3 * d, scratch + 4 * d, <floating *> (scratch + 5 * d))
    memcpy(x, local_x, d * sizeof(floating))
    memcpy(g, local_g, d * sizeof(floating))
    memcpy(stream, local_stream, STREAM_WORDS * sizeof(uint64_t))
    energy[0] = local_energy[0]
    for k in range(N_STATS):
        stats[k] += local_stats[k]


def run_chains(
    int sampler, int kind, const floating[::1] theta, const double[::1] constants,
    int n_components, size_t function_address, size_t user_data,
    floating[:, ::1] X, floating[:, ::1] G, double[::1] energy,
    uint64_t[:, ::1] streams, double[::1] step, floating[:, ::1] inv_mass,
    const floating[::1] scale, const signed char[::1] window_flags,
    int n_leapfrog, int n_langevin, double langevin_step,
    Py_ssize_t n_samples, Py_ssize_t thin, bint adapt_step,
    double target_accept, double max_energy_error,
    floating[:, :, ::1] samples, double[:, ::1] energies, double[:, ::1] stats,
    int n_threads, Py_ssize_t n_work=-1, double step_jitter=0.0,
):
    """Run every chain from state (X, G, energy); all arrays are updated in place.

    The target is (kind, theta, constants, n_components, function_address,
    user_data), laid out as ebm_potential in csrc/ebm_mcmc.h. window_flags
    has one entry per warmup iteration: 0 outside the mass matrix windows, 1
    inside, 2 at the last iteration of a window. n_work is the number of
    doubles of potential scratch per thread; -1 takes what the potential
    needs, and a smaller value is raised to it.

    Raises MemoryError, before any chain moves, when the per-thread scratch
    cannot be allocated.
    """
    cdef RunSpec spec
    cdef Py_ssize_t i, n_chains = X.shape[0], d = X.shape[1]
    cdef double *work
    if streams.shape[0] < n_chains or streams.shape[1] != STREAM_WORDS:
        raise ValueError(f"one random stream per chain is required, got "
                         f"{streams.shape[0]} for {n_chains} chains.")
    if n_chains == 0 or d == 0:
        return
    n_work = max(n_work, ebm_potential_work_size(kind, d, n_components))
    # Per thread: the layout above run_chain_locally, then the potential's
    # scratch.
    if n_work > (<Py_ssize_t> 1 << 58):
        raise MemoryError(f"scratch of {n_work} doubles per thread is too large "
                          "to allocate.")
    cdef double[:, ::1] scratch = thread_scratch(8 * d + LOCAL_WORDS + n_work, n_threads)
    spec.sampler = sampler
    spec.dim = d
    spec.n_leapfrog = n_leapfrog
    spec.n_langevin = n_langevin
    spec.langevin_step = langevin_step
    spec.n_warmup = window_flags.shape[0]
    spec.n_samples = n_samples
    spec.thin = thin
    spec.adapt_step = adapt_step
    spec.target_accept = target_accept
    spec.max_energy_error = max_energy_error
    spec.step_jitter = step_jitter
    cdef ebm_potential pot = make_potential(
        kind, &theta[0] if theta.shape[0] > 0 else NULL, theta.shape[0], constants,
        n_components, d, function_address, user_data)
    cdef const signed char *flags = &window_flags[0] if window_flags.shape[0] > 0 else NULL
    cdef floating *sample_base = &samples[0, 0, 0] if n_samples > 0 else NULL
    cdef double *energy_base = &energies[0, 0] if n_samples > 0 else NULL

    with nogil, parallel(num_threads=n_threads):
        work = &scratch[threadid(), 0]
        # Chains are handed out one at a time, so a thread that another
        # process delays does not hold back a fixed half of the chains.
        # Results do not depend on it: each chain uses its own stream.
        for i in prange(n_chains, schedule="dynamic", chunksize=1):
            run_chain_locally(
                &spec, &pot, &X[i, 0], &G[i, 0], &energy[i], &streams[i, 0], &step[i],
                &inv_mass[i, 0], &scale[0], flags,
                sample_base + i * n_samples * d if n_samples > 0 else NULL,
                energy_base + i * n_samples if n_samples > 0 else NULL,
                &stats[i, 0], work)
