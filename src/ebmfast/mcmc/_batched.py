"""Transitions for batched Python targets, with the arithmetic compiled.

These are the fast backend's versions of ``hmc_step`` and ``rwm_step`` in
``_reference.py``: the same random numbers, operations and order, so the
draws are identical, but every pass over the chains runs in
``_mcmc_batch.pyx`` instead of NumPy. The target itself is still called once
per leapfrog step for all chains.
"""

import numpy as np

from .. import _mcmc_batch
from ._reference import ChainState, StepInfo

__all__ = ["hmc_step", "rwm_step", "exp"]

# Below this many numbers per pass, one thread is faster: waking OpenMP
# threads between NumPy calls costs more than the pass (see CompiledDraws).
_PARALLEL_SIZE = 32768


def exp(values):
    """Return exp of float64 values by the C library; see ``_adaptation.libm_exp``."""
    values = np.ascontiguousarray(values, dtype=np.float64)
    out = np.empty_like(values)
    _mcmc_batch.exp_values(values.ravel(), out.ravel())
    return out


def _threads(draws, X):
    return draws.n_threads if X.size >= _PARALLEL_SIZE else 1


def _as_rows(array, dtype):
    return np.ascontiguousarray(array, dtype=dtype)


def _accept(state, proposal, energy_error, divergent, uniform, n_threads):
    """Apply the Metropolis test per chain, as ``_reference._accept``."""
    prob = np.empty(len(energy_error))
    _mcmc_batch.accept_probability(energy_error, divergent.view(np.uint8),
                                   uniform is not None, prob)
    accepted = ~divergent if uniform is None else ~divergent & (uniform < prob)
    take = accepted.view(np.uint8)
    position = np.empty_like(state.position)
    _mcmc_batch.select_rows(take, proposal.position, state.position, position, n_threads)
    grad = None
    if state.grad is not None:
        grad = np.empty_like(state.grad)
        _mcmc_batch.select_rows(take, proposal.grad, state.grad, grad, n_threads)
    new_state = ChainState(position, np.where(accepted, proposal.energy, state.energy),
                           grad)
    return new_state, StepInfo(prob, accepted, divergent)


def hmc_step(state, energy_grad, draws, step_size, inv_mass, n_leapfrog,
             max_energy_error=1000.0, metropolis=True, step_jitter=0.0):
    """Make one HMC transition of every chain; see ``_reference.hmc_step``."""
    X, U, G = state.position, state.energy, state.grad
    dtype = X.dtype
    n_threads = _threads(draws, X)
    if step_jitter > 0 and metropolis:
        step_size = step_size * (1.0 + step_jitter * (2.0 * draws.uniform() - 1.0))
    eps = step_size.astype(dtype)
    half = (0.5 * step_size).astype(dtype)
    inv_mass = _as_rows(inv_mass, dtype)

    p = np.empty_like(X)
    kinetic0 = np.empty(X.shape[0])
    _mcmc_batch.momentum(draws.streams.states, inv_mass, _as_rows(G, dtype), half, p,
                         kinetic0, n_threads)
    Xn, Un, Gn = X, U, G
    for step in range(n_leapfrog):
        # A new array each step: the target may keep the X it was given.
        moved = np.empty_like(X)
        _mcmc_batch.drift(Xn, p, inv_mass, eps, moved, n_threads)
        Xn = moved
        Un, Gn = energy_grad(Xn)
        Gn = _as_rows(Gn, dtype)
        if step < n_leapfrog - 1:
            _mcmc_batch.kick(p, Gn, eps, n_threads)
    kinetic1 = np.empty(X.shape[0])
    grad_sum = np.empty(X.shape[0])
    _mcmc_batch.finish(p, Gn, half, inv_mass, kinetic1, grad_sum, n_threads)

    with np.errstate(invalid="ignore", over="ignore"):
        energy_error = (Un + kinetic1) - (U + kinetic0)
    divergent = ~(np.isfinite(Un) & np.isfinite(kinetic1) & np.isfinite(grad_sum))
    uniform = None
    if metropolis:
        uniform = draws.uniform()
        divergent = divergent | (energy_error > max_energy_error)
    return _accept(state, ChainState(Xn, Un, Gn), energy_error, divergent, uniform,
                   n_threads)


def rwm_step(state, energy_grad, draws, step_size, scale):
    """Make one random-walk Metropolis transition of every chain; see ``_reference.rwm_step``."""
    X, U = state.position, state.energy
    dtype = X.dtype
    n_threads = _threads(draws, X)
    z = draws.normal(X.shape[1], dtype)
    Xn = np.empty_like(X)
    _mcmc_batch.random_walk(X, z, _as_rows(scale, dtype), step_size.astype(dtype), Xn,
                            n_threads)
    with np.errstate(over="ignore", invalid="ignore"):
        Un, Gn = energy_grad(Xn)
    uniform = draws.uniform()
    with np.errstate(invalid="ignore"):
        energy_error = Un - U
    divergent = ~np.isfinite(Un)
    if Gn is not None:
        Gn = _as_rows(Gn, dtype)
        grad_sum = np.empty(X.shape[0])
        _mcmc_batch.row_sums(Gn, grad_sum, n_threads)
        divergent = divergent | ~np.isfinite(grad_sum)
    return _accept(state, ChainState(Xn, Un, Gn), energy_error, divergent, uniform,
                   n_threads)
