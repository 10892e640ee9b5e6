"""Public samplers: random-walk Metropolis, HMC, MALA, ULA and Langevin-then-HMC.

Each function validates its arguments, sets up one random stream per chain
and runs either the compiled kernel (built-in potentials and C callbacks
with ``backend="fast"``) or the driver of ``_reference.py`` (Python
callables, or ``backend="reference"``). With a callable and the fast
backend, the driver takes its transitions from ``_batched.py``, whose
random numbers and arithmetic are compiled.
"""

import inspect
import numbers

import numpy as np

from .._random import ChainStreams, as_seed_sequence, check_random_state
from .._validation import (check_array, check_backend, check_bool, check_int,
                           check_n_threads, check_real)
from . import _batched
from . import _reference as reference
from ._adaptation import mass_matrix_windows
from ._potentials import Potential
from ._reference import ChainState
from ._result import SamplingResult

__all__ = ["rwm", "hmc", "mala", "ula", "langevin_hmc", "init_state", "step"]

_KERNEL_CODES = {"rwm": 0, "hmc": 1, "ula": 2}


def _check_potential(potential):
    if not isinstance(potential, Potential):
        raise TypeError(
            "potential must be an ebmfast.mcmc potential such as Gaussian(...) "
            "or CallablePotential(energy, grad), got "
            f"{type(potential).__name__}.")
    return potential


def _require_grad(potential, sampler):
    """Raise ValueError when ``sampler`` needs a gradient that the potential lacks."""
    if not potential.has_grad:
        raise ValueError(
            f"{sampler} needs the gradient of the target, but the "
            f"{type(potential).__name__} has grad=None. Create it with grad, a "
            "function that returns grad U of shape (n_chains, d), or sample with "
            "rwm, which needs only the energy.")


def _starting_points(potential, x0, n_chains, init, dtype, seed_sequence):
    """Return x0 as a C-contiguous (n_chains, d) array, drawing it if needed."""
    if x0 is not None:
        if n_chains is not None:
            raise ValueError("pass x0 or n_chains, not both.")
        if isinstance(x0, ChainState):
            return check_array(x0.position, "x0.position", dtype=dtype,
                               n_columns=potential.dim, copy=True)
        if isinstance(x0, SamplingResult):
            raise TypeError("x0 must be an array of shape (n_chains, d) or a ChainState, "
                            "got a SamplingResult; to continue its chains, pass "
                            "result.final_state.")
        if isinstance(x0, numbers.Integral) and not isinstance(x0, bool):
            raise ValueError(f"x0 must be an array of shape (n_chains, d) or a ChainState, "
                             f"got the number {x0}; to start {x0} chains from the "
                             f"default initialiser, pass n_chains={x0}.")
        return check_array(x0, "x0", dtype=dtype, n_columns=potential.dim, copy=True)
    if n_chains is None:
        raise ValueError("x0 or n_chains is required.")
    n_chains = check_int(n_chains, "n_chains", minimum=1)
    rng = np.random.default_rng(seed_sequence.spawn(1)[0])
    if init is None:
        if potential.dim is None:
            raise ValueError("the potential has no dim: pass x0, or give dim "
                             "to CallablePotential.")
        X = rng.uniform(-2.0, 2.0, size=(n_chains, potential.dim))
    else:
        X = init(rng, n_chains)
    X = check_array(X, "init(rng, n_chains)", dtype=np.float64 if dtype is None else dtype,
                    n_columns=potential.dim, copy=True)
    if X.shape[0] != n_chains:
        raise ValueError(f"init(rng, n_chains) must return {n_chains} rows, got "
                         f"shape {X.shape}.")
    return X


def _per_chain(value, name, n_chains, *, positive=True):
    """Return a new (n_chains,) float64 array from a number or an (n_chains,) array.

    The result is always a copy, because the compiled kernel writes the
    adapted step sizes into it.
    """
    array = np.array(value, dtype=np.float64)
    if array.ndim == 0:
        array = np.full(n_chains, float(array))
    if array.shape != (n_chains,):
        raise ValueError(f"{name} must be a number or have shape ({n_chains},), got "
                         f"shape {array.shape}.")
    bad = ~np.isfinite(array) | (array <= 0) if positive else ~np.isfinite(array)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"{name} must be positive and finite, got {array[i]}"
                         + (f" for chain {i}." if np.ndim(value) else "."))
    return array


def _per_dimension(value, name, n_chains, d, dtype):
    """Return a (n_chains, d) array from a number, a (d,) or a (n_chains, d) array."""
    array = np.asarray(value, dtype=np.float64)
    allowed = {(), (1,), (d,), (n_chains, d)}
    if array.shape not in allowed:
        raise ValueError(
            f"{name} must be a number or have shape ({d},) or ({n_chains}, {d}), "
            f"got shape {array.shape}.")
    if array.ndim <= 1:
        array = np.broadcast_to(array, (d,))
    array = np.ascontiguousarray(np.broadcast_to(array, (n_chains, d)), dtype=dtype)
    bad = ~(np.isfinite(array) & (array > 0))
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        raise ValueError(f"{name} must contain positive finite numbers, got "
                         f"{array[index]} at index {index}.")
    return array.copy()


def init_state(potential, x0, *, random_state=None):
    """Evaluate the potential at ``x0`` and return a ``ChainState``.

    Parameters
    ----------
    potential : Potential
    x0 : array_like of shape (n_chains, d)
        Starting points; float32 stays float32. The array is copied.
    random_state : None, int, SeedSequence or Generator, default=None
        With a value, the state carries one random stream per chain in
        ``rng_state``: the streams that a sampler given the same ``x0`` and
        ``random_state`` would use. :func:`step` then needs no ``streams``.
        None attaches no streams. This differs from the samplers, where
        None draws fresh entropy, because creating the streams costs about
        10 microseconds per chain and :func:`step` can be given its own.

    Returns
    -------
    state : ChainState
        ``grad`` is None for a potential without a gradient.

    Raises
    ------
    ValueError
        Naming the first chain whose energy or gradient is not finite.
    """
    _check_potential(potential)
    check_random_state(random_state)
    X = check_array(x0, "x0", n_columns=potential.dim, copy=True)
    state = _evaluate(potential, X)
    if random_state is None:
        return state
    streams = ChainStreams(as_seed_sequence(random_state), X.shape[0])
    return state._replace(rng_state=streams.states)


def _evaluate(potential, X):
    """Return the ChainState at X, which must be an array the caller owns."""
    # A non-finite energy raises the error below, so overflow warnings would
    # only repeat it.
    with np.errstate(over="ignore", invalid="ignore"):
        energy, grad = potential._energy_grad(X)
    energy = np.ascontiguousarray(energy, dtype=np.float64)
    finite = np.isfinite(energy)
    if grad is not None:
        grad = np.ascontiguousarray(grad, dtype=X.dtype)
        finite &= np.isfinite(grad).all(axis=1)
    if not finite.all():
        i = int(np.argmin(finite))
        quantity = "energy" if grad is None else "energy or gradient"
        raise ValueError(
            f"the starting point of chain {i} has a non-finite {quantity} "
            f"(energy {energy[i]}); start it where the target density is positive.")
    return reference.ChainState(X, energy, grad)


def _starting_state(potential, x0, X):
    """Return the ChainState at X, taking the energy and gradient of x0 when it has them.

    X is the copy of the starting points made by ``_starting_points``. A
    ``ChainState`` x0 of the same dtype gives its energy and gradient,
    copied and checked but not recomputed. Reusing them keeps a continued
    run bit-for-bit equal to an uninterrupted one for any target, including
    callables whose results at the same point may differ in the last bits
    between calls (a threaded BLAS, for one).
    """
    if not isinstance(x0, ChainState):
        return _evaluate(potential, X)
    same_dtype = np.asarray(x0.position).dtype == X.dtype
    if not same_dtype or (potential.has_grad and x0.grad is None):
        return _evaluate(potential, X)
    n_chains, d = X.shape
    energy = check_array(x0.energy, "x0.energy", dtype=np.float64, ndim=1, copy=True)
    if energy.shape != (n_chains,):
        raise ValueError(f"x0.energy must have shape ({n_chains},), one value per "
                         f"chain, got shape {energy.shape}.")
    grad = None
    if potential.has_grad:
        grad = check_array(x0.grad, "x0.grad", dtype=X.dtype, n_columns=d, copy=True)
        if grad.shape != X.shape:
            raise ValueError(f"x0.grad must have the shape of x0.position, {X.shape}, "
                             f"got shape {grad.shape}.")
    return reference.ChainState(X, energy, grad)


def _energy_grad_function(potential, backend, n_threads):
    """Return X -> (U, grad U) for the driver, compiled for compiled potentials."""
    if backend == "fast" and potential.compiled_kind is not None:
        return lambda X: potential._compiled_energy_grad(X, n_threads)
    return potential._energy_grad


def _run(sampler, potential, x0, *, name, n_chains, init, n_samples, n_warmup, thin,
         step_size, n_leapfrog, inv_mass, scale, adapt_step_size, adapt_mass,
         target_accept, max_energy_error, n_langevin, langevin_step_size,
         random_state, backend, n_threads, dtype, step_jitter=0.0):
    """Validate the arguments of the public sampler ``name`` and run it."""
    _check_potential(potential)
    if sampler != "rwm":
        _require_grad(potential, name)
    step_jitter = check_real(step_jitter, "step_jitter", minimum=0.0, maximum=1.0,
                             include_maximum=False)
    backend = check_backend(backend)
    n_threads = check_n_threads(n_threads)
    check_random_state(random_state)
    n_samples = check_int(n_samples, "n_samples", minimum=1)
    n_warmup = check_int(n_warmup, "n_warmup", minimum=0)
    thin = check_int(thin, "thin", minimum=1)
    n_leapfrog = check_int(n_leapfrog, "n_leapfrog", minimum=1)
    n_langevin = check_int(n_langevin, "n_langevin", minimum=0)
    langevin_step_size = check_real(langevin_step_size, "langevin_step_size",
                                    minimum=0.0, include_minimum=False)
    target_accept = check_real(target_accept, "target_accept", minimum=0.0,
                               maximum=1.0, include_minimum=False,
                               include_maximum=False)
    max_energy_error = check_real(max_energy_error, "max_energy_error",
                                  minimum=0.0, include_minimum=False)
    adapt_step_size = check_bool(adapt_step_size, "adapt_step_size")
    adapt_mass = check_bool(adapt_mass, "adapt_mass")
    if dtype is not None and np.dtype(dtype) not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dtype}.")

    # A state that carries streams continues them unless random_state is given.
    continue_streams = (isinstance(x0, ChainState) and x0.rng_state is not None
                        and random_state is None)
    seed_sequence = None if continue_streams else as_seed_sequence(random_state)
    X = _starting_points(potential, x0, n_chains, init, dtype, seed_sequence)
    n_chains, d = X.shape
    if continue_streams:
        streams = ChainStreams.from_states(x0.rng_state, "x0.rng_state", n_chains)
    else:
        streams = ChainStreams(seed_sequence, n_chains)
    if step_size is None:
        step_size = 2.38 / np.sqrt(d)
    step = _per_chain(step_size, "step_size", n_chains)
    inv_mass = _per_dimension(1.0 if inv_mass is None else inv_mass, "inv_mass",
                              n_chains, d, X.dtype)
    scale = _per_dimension(1.0 if scale is None else scale, "scale", 1, d, X.dtype)[0]
    window_flags = mass_matrix_windows(n_warmup)
    if not adapt_mass:
        window_flags[:] = 0
    state = _starting_state(potential, x0, X)

    if backend == "fast" and potential.compiled_kind is not None:
        from .. import _mcmc_fast

        X, G, U = state.position, state.grad, state.energy.copy()
        samples = np.empty((n_chains, n_samples, d), dtype=X.dtype)
        energies = np.empty((n_chains, n_samples))
        stats = np.zeros((n_chains, 4))
        _mcmc_fast.run_chains(
            _KERNEL_CODES[sampler], *potential.compiled_arguments(X.dtype),
            X, G, U, streams.states, step,
            inv_mass, scale, window_flags, n_leapfrog, n_langevin,
            langevin_step_size, n_samples, thin, adapt_step_size, target_accept,
            max_energy_error, samples, energies, stats, n_threads,
            step_jitter=step_jitter)
        state = reference.ChainState(X, U, G)
    else:
        draws = (reference.CompiledDraws(streams, n_threads) if backend == "fast"
                 else reference.ReferenceDraws(streams))
        samples, energies, stats, step, inv_mass, state = reference.run(
            sampler, state, _energy_grad_function(potential, backend, n_threads),
            draws, step_size=step, inv_mass=inv_mass, scale=scale,
            window_flags=window_flags, n_leapfrog=n_leapfrog,
            n_langevin=n_langevin, langevin_step=langevin_step_size,
            n_samples=n_samples, thin=thin, adapt_step=adapt_step_size,
            target_accept=target_accept, max_energy_error=max_energy_error,
            step_jitter=step_jitter, steps=_batched if backend == "fast" else None)

    # The streams are local to this run, so the state may keep their array.
    state = state._replace(rng_state=streams.states)
    n_transitions = n_samples * thin
    return SamplingResult(
        samples=samples,
        energies=energies,
        acceptance_rate=stats[:, 0] / n_transitions,
        mean_accept_prob=stats[:, 1] / n_transitions,
        divergences=stats[:, 2].astype(np.int64),
        warmup_divergences=stats[:, 3].astype(np.int64),
        final_state=state,
        step_size=np.asarray(step),
        inv_mass=None if sampler == "rwm" else inv_mass,
        sampler=sampler if n_langevin == 0 else "langevin_hmc",
    )


_COMMON_DOC = """
    Parameters
    ----------
    potential : Potential
        Target: a built-in ``Gaussian``, ``GaussianMixture``, ``Rosenbrock``,
        ``Funnel`` or ``RBMFreeEnergy``, or a ``CompiledPotential`` (a C
        function), all evaluated inside the compiled loops; or
        ``CallablePotential(energy, grad)``, called once per step. Only
        ``rwm`` accepts a ``CallablePotential`` without ``grad``.
    x0 : array_like of shape (n_chains, d) or ChainState, optional
        Starting points. float32 input runs in float32. A ``ChainState``,
        such as a previous run's ``result.final_state``, continues its
        chains. Its energy and gradient are used as given, so pass the
        potential it was made with. They are recomputed only when ``dtype``
        converts the positions. Its ``rng_state``, unless ``random_state``
        is given, continues each chain's random stream. With ``n_warmup=0``
        and ``**result.adapted_parameters()``, N draws followed by M
        continued draws equal, bit for bit, one run of N + M draws with the
        same warmup and options. Nothing in x0 is modified.
    n_chains : int, optional
        Instead of x0: the number of chains, started by ``init``.
    init : callable, optional
        ``init(rng, n_chains) -> (n_chains, d)`` with a numpy Generator;
        the default draws uniformly from [-2, 2]^d.
    n_samples : int
        Recorded draws per chain.
    n_warmup : int
        Adaptation iterations before the draws, not recorded.
    thin : int
        Keep every thin-th state after warmup.
{sampler_parameters}    random_state : None, int, SeedSequence or Generator
        Chain i draws only from stream i, so a result depends on the seed
        and the number of chains, not on n_threads. None continues the
        streams of an x0 that carries them (a ``final_state``) and
        otherwise draws fresh entropy from the operating system. A given
        value always starts new streams, also for such an x0.
    backend : {"fast", "reference"}
    n_threads : int, optional
        OpenMP threads; None uses every thread OpenMP allows.
    dtype : float32 or float64, optional
        Dtype of the chains when x0 is not given (default float64).

    Returns
    -------
    SamplingResult
        Its ``final_state`` carries the chains' random streams, and
        ``adapted_parameters()`` the step size and mass matrix, to continue
        the run.
"""


def rwm(potential, x0=None, *, n_chains=None, init=None, n_samples=1000,
        n_warmup=1000, thin=1, step_size=None, scale=None, adapt_step_size=True,
        target_accept=0.23, random_state=None, backend="fast", n_threads=None,
        dtype=None):
    """Sample with random-walk Metropolis: x' = x + step_size * scale * z, z ~ N(0, I).

    step_size defaults to 2.38 / sqrt(d) and is adapted during warmup
    towards ``target_accept``; ``scale`` (a number or shape (d,)) sets a
    relative scale per dimension. A proposal with non-finite energy is a
    divergence and is rejected. RWM needs only the energy, so it also
    samples a ``CallablePotential`` made without ``grad``.
    """
    return _run("rwm", potential, x0, name="rwm",
                n_chains=n_chains, init=init,
                n_samples=n_samples, n_warmup=n_warmup, thin=thin,
                step_size=step_size, n_leapfrog=1, inv_mass=None, scale=scale,
                adapt_step_size=adapt_step_size, adapt_mass=False,
                target_accept=target_accept, max_energy_error=1000.0,
                n_langevin=0, langevin_step_size=1.0, random_state=random_state,
                backend=backend, n_threads=n_threads, dtype=dtype)


def hmc(potential, x0=None, *, n_chains=None, init=None, n_samples=1000,
        n_warmup=1000, thin=1, step_size=0.1, n_leapfrog=10, inv_mass=None,
        adapt_step_size=True, adapt_mass=True, target_accept=0.8,
        max_energy_error=1000.0, step_jitter=0.2, random_state=None,
        backend="fast", n_threads=None, dtype=None):
    """Sample with HMC: leapfrog trajectories and a diagonal mass matrix.

    Each transition draws p ~ N(0, M), makes ``n_leapfrog`` leapfrog steps
    of size ``step_size`` and accepts with probability
    min(1, exp(-(H' - H))), H = U + p^T M^-1 p / 2. During warmup the step
    size follows dual averaging towards ``target_accept`` and, with
    ``adapt_mass``, ``inv_mass`` (M^-1, a number, shape (d,) or
    (n_chains, d)) becomes the regularised variance of the draws in Stan's
    windows, per chain. A proposal with non-finite H or H' - H >
    ``max_energy_error`` is a divergence: it is rejected and counted.

    Each transition scales its step by a uniform factor in
    [1 - step_jitter, 1 + step_jitter] (one extra uniform number per
    transition). With a fixed path length step_size * n_leapfrog, the
    leapfrog trajectories of a Gaussian can be nearly periodic, so the
    chains barely move while their acceptance stays high. The jitter breaks
    that, and ``step_jitter=0`` turns it off.
    """
    return _run("hmc", potential, x0, name="hmc",
                n_chains=n_chains, init=init,
                n_samples=n_samples, n_warmup=n_warmup, thin=thin,
                step_size=step_size, n_leapfrog=n_leapfrog, inv_mass=inv_mass,
                scale=None, adapt_step_size=adapt_step_size, adapt_mass=adapt_mass,
                target_accept=target_accept, max_energy_error=max_energy_error,
                n_langevin=0, langevin_step_size=1.0, random_state=random_state,
                backend=backend, n_threads=n_threads, dtype=dtype,
                step_jitter=step_jitter)


def mala(potential, x0=None, *, n_chains=None, init=None, n_samples=1000,
         n_warmup=1000, thin=1, step_size=0.1, inv_mass=None,
         adapt_step_size=True, target_accept=0.57, max_energy_error=1000.0,
         random_state=None, backend="fast", n_threads=None, dtype=None):
    """Sample with MALA: x' = x - (step^2 / 2) M^-1 grad U(x) + step M^-1/2 z, then Metropolis.

    This is HMC with one leapfrog step, whose acceptance probability equals
    MALA's. The step size is adapted towards ``target_accept``; the mass
    matrix stays as given.
    """
    result = _run("hmc", potential, x0, name="mala",
                  n_chains=n_chains, init=init,
                  n_samples=n_samples, n_warmup=n_warmup, thin=thin,
                  step_size=step_size, n_leapfrog=1, inv_mass=inv_mass, scale=None,
                  adapt_step_size=adapt_step_size, adapt_mass=False,
                  target_accept=target_accept, max_energy_error=max_energy_error,
                  n_langevin=0, langevin_step_size=1.0, random_state=random_state,
                  backend=backend, n_threads=n_threads, dtype=dtype)
    result.sampler = "mala"
    return result


def ula(potential, x0=None, *, n_chains=None, init=None, n_samples=1000,
        n_warmup=0, thin=1, step_size=0.05, inv_mass=None, random_state=None,
        backend="fast", n_threads=None, dtype=None):
    """Sample with the unadjusted Langevin algorithm (the MALA move, always accepted).

    ULA is biased by O(step_size^2) and has no acceptance test, so nothing
    is adapted; warmup iterations are only discarded. Only a non-finite
    energy or gradient rejects a move, as a divergence.
    """
    return _run("ula", potential, x0, name="ula",
                n_chains=n_chains, init=init,
                n_samples=n_samples, n_warmup=n_warmup, thin=thin,
                step_size=step_size, n_leapfrog=1, inv_mass=inv_mass, scale=None,
                adapt_step_size=False, adapt_mass=False, target_accept=0.5,
                max_energy_error=1000.0, n_langevin=0, langevin_step_size=1.0,
                random_state=random_state, backend=backend, n_threads=n_threads,
                dtype=dtype)


def langevin_hmc(potential, x0=None, *, n_chains=None, init=None, n_langevin=100,
                 langevin_step_size=0.05, n_samples=1000, n_warmup=1000, thin=1,
                 step_size=0.1, n_leapfrog=10, inv_mass=None, adapt_step_size=True,
                 adapt_mass=True, target_accept=0.8, max_energy_error=1000.0,
                 step_jitter=0.2, random_state=None, backend="fast", n_threads=None,
                 dtype=None):
    """Sample with ``n_langevin`` ULA steps for coarse exploration, then HMC.

    The ULA steps (size ``langevin_step_size``, not recorded) move chains
    from a poor start towards the typical set cheaply; HMC with warmup, as
    in :func:`hmc`, then removes the Langevin bias. The other parameters are
    those of :func:`hmc`. To continue a run without a new Langevin phase,
    pass its ``final_state`` to :func:`hmc`, which equals ``langevin_hmc``
    with ``n_langevin=0``.
    """
    return _run("hmc", potential, x0, name="langevin_hmc",
                n_chains=n_chains, init=init,
                n_samples=n_samples, n_warmup=n_warmup, thin=thin,
                step_size=step_size, n_leapfrog=n_leapfrog, inv_mass=inv_mass,
                scale=None, adapt_step_size=adapt_step_size, adapt_mass=adapt_mass,
                target_accept=target_accept, max_energy_error=max_energy_error,
                n_langevin=n_langevin, langevin_step_size=langevin_step_size,
                random_state=random_state, backend=backend, n_threads=n_threads,
                dtype=dtype, step_jitter=step_jitter)


_SAMPLER_PARAMETER_DOCS = {
    "n_langevin": """n_langevin : int
        ULA steps before warmup, not recorded.""",
    "langevin_step_size": """langevin_step_size : float
        Step size of the ULA steps, positive.""",
    "step_size": """step_size : float or array_like of shape (n_chains,)
        Initial step size, one number for all chains or one per chain,
        positive. With adaptation it is only the starting point of warmup.
        For ``rwm``, None takes 2.38 / sqrt(d).""",
    "scale": """scale : float or array_like of shape (d,), optional
        Relative proposal scale per dimension (default 1).""",
    "n_leapfrog": """n_leapfrog : int
        Leapfrog steps per transition, at least 1.""",
    "inv_mass": """inv_mass : float or array_like of shape (d,) or (n_chains, d), optional
        Diagonal of the inverse mass matrix M^-1 (default 1), positive.""",
    "adapt_step_size": """adapt_step_size : bool
        Adapt the step size of each chain by dual averaging during warmup.""",
    "adapt_mass": """adapt_mass : bool
        Estimate ``inv_mass`` per chain in Stan's warmup windows.""",
    "target_accept": """target_accept : float
        Mean acceptance probability that dual averaging aims for, in (0, 1).
        Raise it when divergences remain after warmup.""",
    "max_energy_error": """max_energy_error : float
        A proposal whose H exceeds the current H by more is a divergence.""",
    "step_jitter": """step_jitter : float
        Each transition scales its step by a uniform factor in
        [1 - step_jitter, 1 + step_jitter], in [0, 1).""",
}


def _sampler_parameters_doc(function):
    """Return the numpydoc entries of the sampler-specific parameters of function."""
    names = inspect.signature(function).parameters
    return "".join(f"    {doc}\n" for name, doc in _SAMPLER_PARAMETER_DOCS.items()
                   if name in names)


for _function in (rwm, hmc, mala, ula, langevin_hmc):
    _function.__doc__ += _COMMON_DOC.replace("{sampler_parameters}",
                                             _sampler_parameters_doc(_function))


def step(sampler, potential, state, streams=None, *, step_size, n_leapfrog=10,
         inv_mass=None, scale=None, max_energy_error=1000.0, step_jitter=0.0,
         backend="fast", n_threads=None):
    """Make one transition of every chain: ``(state, streams) -> (new_state, info)``.

    Parameters
    ----------
    sampler : {"rwm", "hmc", "mala", "ula"}
    potential : Potential
        Only "rwm" accepts a ``CallablePotential`` without ``grad``.
    state : ChainState
        From :func:`init_state`, a previous ``step`` or a run's
        ``final_state``; it is not modified.
    streams : ebmfast._random.ChainStreams, optional
        One stream per chain, advanced in place. Given streams win over
        ``state.rng_state``. Without them the transition continues the
        streams in ``state.rng_state`` (a copy of them, so ``state`` is not
        modified) and raises ValueError when the state carries none.
    step_size : float or ndarray of shape (n_chains,)
    step_jitter : float, default=0.0
        For "hmc" and "mala": scale this transition's step by a uniform
        factor in [1 - step_jitter, 1 + step_jitter], as :func:`hmc` does.

    Returns
    -------
    new_state : ChainState
        Its ``rng_state`` is a copy of the streams after this transition, so
        the next ``step``, or a sampler given ``x0=new_state``, continues
        them.
    info : StepInfo
        accept_prob, accepted and divergent per chain. The compiled kernel
        reports accept_prob for every sampler.
    """
    _check_potential(potential)
    backend = check_backend(backend)
    n_threads = check_n_threads(n_threads)
    if sampler not in ("rwm", "hmc", "mala", "ula"):
        raise ValueError(f"sampler must be 'rwm', 'hmc', 'mala' or 'ula', got {sampler!r}.")
    if sampler != "rwm":
        _require_grad(potential, sampler)
    if sampler == "mala":
        sampler, n_leapfrog = "hmc", 1
    n_leapfrog = check_int(n_leapfrog, "n_leapfrog", minimum=1)
    step_jitter = check_real(step_jitter, "step_jitter", minimum=0.0, maximum=1.0,
                             include_maximum=False)
    X = state.position
    n_chains, d = X.shape
    if not potential.has_grad:
        state = state._replace(grad=None)
    elif state.grad is None:
        raise ValueError("state.grad is None, but the potential has a gradient. Make "
                         "the state with init_state(potential, x0).")
    if streams is None:
        if state.rng_state is None:
            raise ValueError(
                "streams is None and state.rng_state is None, so the transition has "
                "no random numbers. Pass streams, or make the state with "
                "init_state(potential, x0, random_state=seed).")
        streams = ChainStreams.from_states(state.rng_state, "state.rng_state", n_chains)
    step = _per_chain(step_size, "step_size", n_chains)
    inv_mass = _per_dimension(1.0 if inv_mass is None else inv_mass, "inv_mass",
                              n_chains, d, X.dtype)
    scale = _per_dimension(1.0 if scale is None else scale, "scale", 1, d, X.dtype)[0]

    if backend == "fast" and potential.compiled_kind is not None:
        from .. import _mcmc_fast

        X = X.copy()
        G = np.ascontiguousarray(state.grad, dtype=X.dtype).copy()
        U = np.array(state.energy, dtype=np.float64)
        samples = np.empty((n_chains, 1, d), dtype=X.dtype)
        energies = np.empty((n_chains, 1))
        stats = np.zeros((n_chains, 4))
        _mcmc_fast.run_chains(
            _KERNEL_CODES[sampler], *potential.compiled_arguments(X.dtype),
            X, G, U, streams.states, step,
            inv_mass, scale, np.zeros(0, dtype=np.int8), n_leapfrog, 0, 1.0, 1, 1,
            False, 0.5, max_energy_error, samples, energies, stats, n_threads,
            step_jitter=step_jitter)
        info = reference.StepInfo(stats[:, 1], stats[:, 0] > 0, stats[:, 2] > 0)
        new_state = reference.ChainState(X, U, G)
    else:
        draws = (reference.CompiledDraws(streams, n_threads) if backend == "fast"
                 else reference.ReferenceDraws(streams))
        new_state, info = reference.transition(
            sampler, state, _energy_grad_function(potential, backend, n_threads),
            draws, step, inv_mass, scale, n_leapfrog, max_energy_error, step_jitter,
            steps=_batched if backend == "fast" else None)
    return new_state._replace(rng_state=streams.states.copy()), info
