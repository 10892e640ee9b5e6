"""NumPy reference of the samplers, vectorised over chains.

This is the specification of the compiled kernels in ``_mcmc_fast.pyx``, and
it also runs targets given as Python callables. Transitions have the shape
``step(state, ...) -> (new_state, info)``. Chain ``i`` takes its random
numbers from stream ``i`` only, in this order per transition: RWM and HMC
(MALA is HMC with one leapfrog step) draw d normals and then one float64
uniform number; ULA draws d normals.
"""

import sys
from typing import NamedTuple

import numpy as np

from .._normal_reference import standard_normal_rows
from ._adaptation import DualAveraging, WindowedVariance, libm_exp
from ._sums import kernel_order_sum

__all__ = ["ChainState", "StepInfo", "hmc_step", "rwm_step", "run"]


class ChainState(NamedTuple):
    """The state of every chain.

    position : ndarray of shape (n_chains, d)
    energy : ndarray of shape (n_chains,), float64, U at position
    grad : ndarray of shape (n_chains, d) or None
        grad U at position, or None for a potential without a gradient.
    rng_state : ndarray of shape (n_chains, 4), dtype uint64, or None
        The words of each chain's random stream (``ChainStreams.states``)
        after the last transition, or None when the state carries no
        streams. A sampler started from this state continues these streams
        unless it is given a ``random_state``.
    """

    position: np.ndarray
    energy: np.ndarray
    grad: np.ndarray
    rng_state: np.ndarray = None


class StepInfo(NamedTuple):
    """Outcome of one transition per chain: arrays of shape (n_chains,)."""

    accept_prob: np.ndarray
    accepted: np.ndarray
    divergent: np.ndarray


class ReferenceDraws:
    """Random numbers replayed from the streams in NumPy."""

    def __init__(self, streams):
        self.streams = streams

    def normal(self, n, dtype):
        return standard_normal_rows(self.streams, n, dtype)

    def uniform(self):
        return np.array([self.streams.uniform(i, 1, np.float64)[0]
                         for i in range(len(self.streams))])


class CompiledDraws:
    """The same random numbers as ReferenceDraws, drawn by compiled code.

    Fills of fewer than 32768 numbers run on one thread: OpenMP threads
    woken between NumPy and BLAS calls made a 10-chain step 200 times
    slower with 2 threads than with 1 on a 2-core machine.
    """

    def __init__(self, streams, n_threads):
        self.streams = streams
        self.n_threads = n_threads

    def normal(self, n, dtype):
        from .. import _mcmc_fast

        out = np.empty((len(self.streams), n), dtype=dtype)
        n_threads = self.n_threads if out.size >= 32768 else 1
        _mcmc_fast.normal_rows(self.streams.states, out, n_threads)
        return out

    def uniform(self):
        from .. import _mcmc_fast

        out = np.empty(len(self.streams))
        _mcmc_fast.uniform_rows(self.streams.states, out)
        return out


def _accept(state, proposal, energy_error, divergent, uniform):
    """Apply the Metropolis test per chain and return (new_state, info).

    ``uniform`` is None for unadjusted moves, which accept every finite one.
    """
    # exp by the C library, as the kernels; see libm_exp.
    exponent = np.where(energy_error > 0, -energy_error, 0.0)
    prob = np.where(energy_error <= 0, 1.0, libm_exp(exponent))
    if uniform is None:
        prob = np.ones_like(energy_error)
    prob = np.where(divergent, 0.0, prob)
    accepted = ~divergent if uniform is None else ~divergent & (uniform < prob)
    keep = accepted[:, None]
    grad = None if state.grad is None else np.where(keep, proposal.grad, state.grad)
    new_state = ChainState(np.where(keep, proposal.position, state.position),
                           np.where(accepted, proposal.energy, state.energy),
                           grad)
    return new_state, StepInfo(prob, accepted, divergent)


def _weighted_square_sum(weights, p):
    """Return sum_j w_j p_j^2 per chain, formed in float64 in the kernels' order."""
    p = p.astype(np.float64)
    return kernel_order_sum(np.broadcast_to(weights, p.shape).astype(np.float64) * p * p)


def hmc_step(state, energy_grad, draws, step_size, inv_mass, n_leapfrog,
             max_energy_error=1000.0, metropolis=True, step_jitter=0.0):
    """Make one HMC transition with a diagonal mass matrix, for every chain.

    Parameters
    ----------
    state : ChainState
    energy_grad : callable
        ``energy_grad(X) -> (U, grad U)`` for X of shape (n_chains, d).
    draws : ReferenceDraws or CompiledDraws
    step_size : ndarray of shape (n_chains,)
    inv_mass : ndarray of shape (n_chains, d)
        Diagonal of M^-1 per chain.
    n_leapfrog : int
    max_energy_error : float
        A proposal whose H exceeds the current one by more is a divergence.
    metropolis : bool
        False gives ULA when n_leapfrog is 1: every finite proposal is taken.
    step_jitter : float
        With a value j > 0 and metropolis, this transition's step is
        step_size (1 + j (2 u - 1)) for a uniform u drawn before the
        momentum, so a fixed path length cannot stay nearly periodic.
    """
    X, U, G = state.position, state.energy, state.grad
    dtype = X.dtype
    d = X.shape[1]
    if step_jitter > 0 and metropolis:
        step_size = step_size * (1.0 + step_jitter * (2.0 * draws.uniform() - 1.0))
    eps = step_size.astype(dtype)[:, None]
    half = (0.5 * step_size).astype(dtype)[:, None]

    # Momentum p ~ N(0, M) with M = diag(1 / inv_mass), and K = p^T M^-1 p / 2.
    p = draws.normal(d, dtype) * (dtype.type(1) / np.sqrt(inv_mass))
    kinetic0 = 0.5 * _weighted_square_sum(inv_mass, p)

    # Leapfrog: half step in p, then n_leapfrog steps in x with full steps in
    # p between them, then a final half step in p.
    Xn = X
    Gn = G
    Un = U
    # A divergent trajectory may overflow; it is detected and rejected below,
    # so NumPy's floating-point warnings are silenced here.
    with np.errstate(over="ignore", invalid="ignore"):
        p = p - half * G
        for step in range(n_leapfrog):
            Xn = Xn + eps * (inv_mass * p)
            Un, Gn = energy_grad(Xn)
            if step < n_leapfrog - 1:
                p = p - eps * Gn
        p = p - half * Gn
        kinetic1 = 0.5 * _weighted_square_sum(inv_mass, p)

    # Metropolis correction on H = U + K.
    with np.errstate(invalid="ignore", over="ignore"):
        energy_error = (Un + kinetic1) - (U + kinetic0)
        grad_finite = np.isfinite(kernel_order_sum(Gn))
    divergent = ~(np.isfinite(Un) & np.isfinite(kinetic1) & grad_finite)
    uniform = None
    if metropolis:
        uniform = draws.uniform()
        divergent = divergent | (energy_error > max_energy_error)
    return _accept(state, ChainState(Xn, Un, Gn), energy_error, divergent, uniform)


def rwm_step(state, energy_grad, draws, step_size, scale):
    """Make one random-walk Metropolis transition, x' = x + step * scale * z, z ~ N(0, I).

    ``energy_grad`` may return None as the gradient; the state's gradient is
    then None too. A proposal with a non-finite energy, or a non-finite
    gradient when there is one, is a divergence.
    """
    X, U = state.position, state.energy
    dtype = X.dtype
    z = draws.normal(X.shape[1], dtype)
    # A proposal far out may overflow; it is rejected below as a divergence.
    with np.errstate(over="ignore", invalid="ignore"):
        Xn = X + step_size.astype(dtype)[:, None] * (scale * z)
        Un, Gn = energy_grad(Xn)
    uniform = draws.uniform()
    with np.errstate(invalid="ignore"):
        energy_error = Un - U
    divergent = ~np.isfinite(Un)
    if Gn is not None:
        # The state keeps the gradient, so one that overflows is rejected
        # too, as in HMC: a later HMC run from this state could not move.
        with np.errstate(over="ignore", invalid="ignore"):
            divergent = divergent | ~np.isfinite(kernel_order_sum(Gn))
    return _accept(state, ChainState(Xn, Un, Gn), energy_error, divergent, uniform)


def transition(sampler, state, energy_grad, draws, step_size, inv_mass, scale,
               n_leapfrog, max_energy_error, step_jitter=0.0, steps=None):
    """Dispatch one transition of ``sampler`` ("rwm", "hmc" or "ula").

    ``steps`` is a module with ``hmc_step`` and ``rwm_step``: this one by
    default, or ``_batched`` for the compiled versions.
    """
    steps = _THIS_MODULE if steps is None else steps
    if sampler == "rwm":
        return steps.rwm_step(state, energy_grad, draws, step_size, scale)
    if sampler == "ula":
        return steps.hmc_step(state, energy_grad, draws, step_size, inv_mass, 1,
                              max_energy_error, metropolis=False)
    return steps.hmc_step(state, energy_grad, draws, step_size, inv_mass, n_leapfrog,
                          max_energy_error, step_jitter=step_jitter)


def run(sampler, state, energy_grad, draws, *, step_size, inv_mass, scale,
        window_flags, n_leapfrog, n_langevin, langevin_step, n_samples, thin,
        adapt_step, target_accept, max_energy_error, step_jitter=0.0, steps=None):
    """Run every chain: Langevin pre-phase, warmup, sampling.

    Returns (samples, energies, stats, step_size, inv_mass, state) with the
    same meaning as the outputs of ``_mcmc_fast.run_chains``. ``steps`` is
    as in :func:`transition`; its ``exp`` also serves the step adaptation.
    """
    n_chains, d = state.position.shape
    dtype = state.position.dtype
    stats = np.zeros((n_chains, 4))
    step_size = np.array(step_size, dtype=np.float64)
    inv_mass = np.array(inv_mass, dtype=dtype)

    # Langevin pre-phase of the hybrid sampler: ULA steps, not recorded.
    langevin_steps = np.full(n_chains, langevin_step)
    for _ in range(n_langevin):
        state, info = transition("ula", state, energy_grad, draws, langevin_steps,
                                 inv_mass, scale, 1, max_energy_error, steps=steps)
        stats[:, 3] += info.divergent

    # Warmup: step size by dual averaging, inverse mass from windowed variances.
    adaptation = DualAveraging(step_size, target_accept,
                               exp=None if steps is None else steps.exp)
    variance = WindowedVariance(n_chains, d)
    for flag in window_flags:
        state, info = transition(sampler, state, energy_grad, draws, step_size,
                                 inv_mass, scale, n_leapfrog, max_energy_error,
                                 step_jitter, steps=steps)
        stats[:, 3] += info.divergent
        if adapt_step:
            adaptation.update(info.accept_prob)
            step_size = adaptation.step_size
        if flag >= 1:
            variance.update(state.position.astype(np.float64))
        if flag == 2:
            inv_mass = variance.regularized_variance().astype(dtype)
            variance = WindowedVariance(n_chains, d)
            adaptation.step_size = step_size
            adaptation.restart()
    if adapt_step and len(window_flags) > 0:
        step_size = adaptation.final_step_size()

    # Sampling with a fixed step size.
    samples = np.empty((n_chains, n_samples, d), dtype=dtype)
    energies = np.empty((n_chains, n_samples))
    for s in range(n_samples * thin):
        state, info = transition(sampler, state, energy_grad, draws, step_size,
                                 inv_mass, scale, n_leapfrog, max_energy_error,
                                 step_jitter, steps=steps)
        stats[:, 0] += info.accepted
        stats[:, 1] += info.accept_prob
        stats[:, 2] += info.divergent
        if (s + 1) % thin == 0:
            samples[:, s // thin] = state.position
            energies[:, s // thin] = state.energy
    return samples, energies, stats, step_size, inv_mass, state


_THIS_MODULE = sys.modules[__name__]
