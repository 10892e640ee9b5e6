# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""Compiled MCMC kernels; ``mcmc/_reference.py`` is their specification.

A whole run (Langevin pre-phase, warmup with adaptation, sampling) of one
chain happens inside one iteration of a ``prange`` over chains, for the
built-in potentials whose energy and gradient are evaluated here. Chain ``i``
draws only from stream ``streams[i]``, so results do not depend on
``n_threads``. No BLAS is called inside the parallel region: the Gaussian
potential uses a hand-written matrix-vector product.

Random numbers per transition, in this order (the reference replays them):
RWM and HMC: d normals (``ebm_normal_fill``), then one float64 uniform for
the accept test. ULA: d normals only.
"""

from cython.parallel cimport prange, parallel
from libc.math cimport exp, log, sqrt, isfinite, pow
from libc.stdint cimport uint64_t, int64_t
from libc.stdlib cimport malloc, free
from libc.string cimport memcpy

cdef extern from "ebm_normal.h" nogil:
    void ebm_normal_fill_d(uint64_t *stream, double *out, Py_ssize_t n)
    void ebm_normal_fill_f(uint64_t *stream, float *out, Py_ssize_t n)
    double ebm_uniform_d(uint64_t *stream)

ctypedef fused floating:
    float
    double

DEF STREAM_WORDS = 4

# Sampler kinds.
DEF RWM = 0
DEF HMC = 1
DEF ULA = 2

# Potential kinds; the layout of ``theta`` is given in mcmc/_potentials.py.
DEF GAUSSIAN_DIAGONAL = 0
DEF GAUSSIAN_DENSE = 1

# Dual averaging constants (Hoffman and Gelman 2014, section 3.2).
DEF DA_GAMMA = 0.05
DEF DA_T0 = 10.0
DEF DA_KAPPA = 0.75

# Columns of the per-chain ``stats`` output.
DEF STAT_ACCEPTED = 0
DEF STAT_ACCEPT_PROB = 1
DEF STAT_DIVERGENT = 2
DEF STAT_WARMUP_DIVERGENT = 3


cdef struct RunSpec:
    int sampler
    int potential
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


# ---------------------------------------------------------------------------
# Potentials: energy of one point, gradient written into g.

cdef inline void normal_fill(uint64_t *stream, floating *out, Py_ssize_t n) noexcept nogil:
    if floating is float:
        ebm_normal_fill_f(stream, out, n)
    else:
        ebm_normal_fill_d(stream, out, n)


cdef double energy_grad(int kind, const floating *theta, Py_ssize_t d,
                        const floating *x, floating *g) noexcept nogil:
    """Return U(x) and set g = grad U(x); theta = [mean (d), precision]."""
    cdef Py_ssize_t j, k
    cdef const floating *mean = theta
    cdef const floating *precision = theta + d
    cdef floating r, acc
    cdef double total = 0.0
    if kind == GAUSSIAN_DIAGONAL:
        for j in range(d):
            g[j] = precision[j] * (x[j] - mean[j])
        for j in range(d):
            total += <double> g[j] * <double> (x[j] - mean[j])
        return 0.5 * total
    # Dense: g = P (x - mean), one row of the symmetric P at a time.
    for j in range(d):
        acc = 0
        for k in range(d):
            acc = acc + precision[j * d + k] * (x[k] - mean[k])
        g[j] = acc
        total += <double> acc * <double> (x[j] - mean[j])
    return 0.5 * total


def potential_energy_grad(int kind, const floating[::1] theta,
                          const floating[:, ::1] X, floating[:, ::1] G,
                          double[::1] energy, int n_threads):
    """energy[i] = U(X[i]) and G[i] = grad U(X[i]) for a built-in potential."""
    cdef Py_ssize_t i, n = X.shape[0], d = X.shape[1]
    with nogil:
        for i in prange(n, schedule="static", num_threads=n_threads):
            energy[i] = energy_grad(kind, &theta[0], d, &X[i, 0], &G[i, 0])


# ---------------------------------------------------------------------------
# Random numbers for the batched driver (Python callable targets).

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
# Transitions of one chain. Each returns the acceptance probability and sets
# accepted and divergent; x, g and energy change only on acceptance.

cdef double hmc_transition(
    const RunSpec *spec, const floating *theta, floating *x, floating *g,
    double *energy, uint64_t *stream, double step, const floating *inv_mass,
    int n_leapfrog, bint metropolis,
    floating *p, floating *xn, floating *gn, bint *accepted, bint *divergent,
) noexcept nogil:
    cdef Py_ssize_t j, d = spec.dim
    cdef int l
    cdef floating eps = <floating> step, half = <floating> (0.5 * step)
    cdef double kinetic0 = 0.0, kinetic1 = 0.0, new_energy, energy_error
    cdef double grad_sum = 0.0, accept_prob, u

    # Momentum p ~ N(0, M) with M = diag(1 / inv_mass).
    normal_fill(stream, p, d)
    for j in range(d):
        p[j] = p[j] / <floating> sqrt(inv_mass[j])
    for j in range(d):
        kinetic0 += <double> inv_mass[j] * <double> p[j] * <double> p[j]
    kinetic0 *= 0.5

    # Leapfrog: half momentum step, n_leapfrog position steps with full
    # momentum steps between them, final half momentum step.
    memcpy(xn, x, d * sizeof(floating))
    for j in range(d):
        p[j] = p[j] - half * g[j]
    new_energy = 0.0
    for l in range(n_leapfrog):
        for j in range(d):
            xn[j] = xn[j] + eps * (inv_mass[j] * p[j])
        new_energy = energy_grad(spec.potential, theta, d, xn, gn)
        if l < n_leapfrog - 1:
            for j in range(d):
                p[j] = p[j] - eps * gn[j]
    for j in range(d):
        p[j] = p[j] - half * gn[j]
    for j in range(d):
        kinetic1 += <double> inv_mass[j] * <double> p[j] * <double> p[j]
        grad_sum += <double> gn[j]
    kinetic1 *= 0.5

    # Metropolis correction on H = U + K; a non-finite H or gradient, or an
    # energy error above the threshold, is a divergence.
    energy_error = (new_energy + kinetic1) - (energy[0] + kinetic0)
    divergent[0] = not (isfinite(new_energy) and isfinite(kinetic1)
                        and isfinite(grad_sum))
    if metropolis:
        u = ebm_uniform_d(stream)
        if not divergent[0] and energy_error > spec.max_energy_error:
            divergent[0] = True
    if divergent[0]:
        accept_prob = 0.0
    elif not metropolis or energy_error <= 0.0:
        accept_prob = 1.0
    else:
        accept_prob = exp(-energy_error)
    accepted[0] = (not divergent[0]) and (not metropolis or u < accept_prob)
    if accepted[0]:
        memcpy(x, xn, d * sizeof(floating))
        memcpy(g, gn, d * sizeof(floating))
        energy[0] = new_energy
    return accept_prob


cdef double rwm_transition(
    const RunSpec *spec, const floating *theta, floating *x, floating *g,
    double *energy, uint64_t *stream, double step, const floating *scale,
    floating *z, floating *xn, floating *gn, bint *accepted, bint *divergent,
) noexcept nogil:
    cdef Py_ssize_t j, d = spec.dim
    cdef floating eps = <floating> step
    cdef double new_energy, accept_prob, u

    normal_fill(stream, z, d)
    for j in range(d):
        xn[j] = x[j] + eps * (scale[j] * z[j])
    new_energy = energy_grad(spec.potential, theta, d, xn, gn)
    u = ebm_uniform_d(stream)

    divergent[0] = not isfinite(new_energy)
    if divergent[0]:
        accept_prob = 0.0
    elif new_energy <= energy[0]:
        accept_prob = 1.0
    else:
        accept_prob = exp(energy[0] - new_energy)
    accepted[0] = (not divergent[0]) and u < accept_prob
    if accepted[0]:
        memcpy(x, xn, d * sizeof(floating))
        memcpy(g, gn, d * sizeof(floating))
        energy[0] = new_energy
    return accept_prob


cdef inline double transition(
    const RunSpec *spec, const floating *theta, floating *x, floating *g,
    double *energy, uint64_t *stream, double step, const floating *inv_mass,
    const floating *scale, floating *p, floating *xn, floating *gn,
    bint *accepted, bint *divergent,
) noexcept nogil:
    if spec.sampler == RWM:
        return rwm_transition(spec, theta, x, g, energy, stream, step, scale,
                              p, xn, gn, accepted, divergent)
    return hmc_transition(spec, theta, x, g, energy, stream, step, inv_mass,
                          spec.n_leapfrog if spec.sampler == HMC else 1,
                          spec.sampler == HMC, p, xn, gn, accepted, divergent)


# ---------------------------------------------------------------------------
# One chain from start to end.

cdef void run_chain(
    const RunSpec *spec, const floating *theta, floating *x, floating *g,
    double *energy, uint64_t *stream, double *step_io, floating *inv_mass,
    const floating *scale, const signed char *window_flags,
    floating *samples, double *energies, double *stats,
    floating *p, floating *xn, floating *gn, double *w_mean, double *w_m2,
) noexcept nogil:
    cdef Py_ssize_t j, t, s, d = spec.dim, n_window = 0
    cdef double step = step_io[0], accept_prob, delta, variance, shrink
    cdef double mu = log(10.0 * step), h_bar = 0.0, log_step_bar = 0.0
    cdef double log_step, eta, weight
    cdef Py_ssize_t n_adapt = 0
    cdef bint accepted, divergent

    # Langevin pre-phase of the hybrid sampler: ULA steps, not recorded.
    cdef RunSpec langevin = spec[0]
    langevin.sampler = ULA
    for t in range(spec.n_langevin):
        transition(&langevin, theta, x, g, energy, stream, spec.langevin_step,
                   inv_mass, scale, p, xn, gn, &accepted, &divergent)
        stats[STAT_WARMUP_DIVERGENT] += divergent

    # Warmup: dual averaging of log(step) towards target_accept, and the
    # inverse mass matrix from the variance of the draws in each window.
    for t in range(spec.n_warmup):
        accept_prob = transition(spec, theta, x, g, energy, stream, step, inv_mass,
                                 scale, p, xn, gn, &accepted, &divergent)
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
        accept_prob = transition(spec, theta, x, g, energy, stream, step, inv_mass,
                                 scale, p, xn, gn, &accepted, &divergent)
        stats[STAT_ACCEPTED] += accepted
        stats[STAT_ACCEPT_PROB] += accept_prob
        stats[STAT_DIVERGENT] += divergent
        if (s + 1) % spec.thin == 0:
            memcpy(samples + (s // spec.thin) * d, x, d * sizeof(floating))
            energies[s // spec.thin] = energy[0]


def run_chains(
    int sampler, int potential, const floating[::1] theta,
    floating[:, ::1] X, floating[:, ::1] G, double[::1] energy,
    uint64_t[:, ::1] streams, double[::1] step, floating[:, ::1] inv_mass,
    const floating[::1] scale, const signed char[::1] window_flags,
    int n_leapfrog, int n_langevin, double langevin_step,
    Py_ssize_t n_samples, Py_ssize_t thin, bint adapt_step,
    double target_accept, double max_energy_error,
    floating[:, :, ::1] samples, double[:, ::1] energies, double[:, ::1] stats,
    int n_threads,
):
    """Run every chain from state (X, G, energy); all arrays are updated in place.

    window_flags has one entry per warmup iteration: 0 outside the mass
    matrix windows, 1 inside, 2 at the last iteration of a window.
    """
    cdef RunSpec spec
    cdef Py_ssize_t i, n_chains = X.shape[0], d = X.shape[1]
    cdef floating *p
    cdef floating *xn
    cdef floating *gn
    cdef double *w_mean
    cdef double *w_m2
    cdef Py_ssize_t j
    if streams.shape[0] < n_chains or streams.shape[1] != STREAM_WORDS:
        raise ValueError(f"one random stream per chain is required, got "
                         f"{streams.shape[0]} for {n_chains} chains.")
    spec.sampler = sampler
    spec.potential = potential
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
    cdef const signed char *flags = &window_flags[0] if window_flags.shape[0] > 0 else NULL
    cdef floating *sample_base = &samples[0, 0, 0] if n_samples > 0 else NULL
    cdef double *energy_base = &energies[0, 0] if n_samples > 0 else NULL

    with nogil, parallel(num_threads=n_threads):
        p = <floating *> malloc(3 * d * sizeof(floating))
        w_mean = <double *> malloc(2 * d * sizeof(double))
        xn = p + d
        gn = p + 2 * d
        w_m2 = w_mean + d
        for i in prange(n_chains, schedule="static"):
            for j in range(d):
                w_mean[j] = 0.0
                w_m2[j] = 0.0
            run_chain(&spec, &theta[0], &X[i, 0], &G[i, 0], &energy[i],
                      &streams[i, 0], &step[i], &inv_mass[i, 0], &scale[0],
                      flags,
                      sample_base + i * n_samples * d if n_samples > 0 else NULL,
                      energy_base + i * n_samples if n_samples > 0 else NULL,
                      &stats[i, 0], p, xn, gn, w_mean, w_m2)
        free(p)
        free(w_mean)
