"""Maximum-likelihood training of an energy model with sampled negatives."""

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from .._random import as_seed_sequence
from .._validation import (check_array, check_backend, check_int, check_n_threads,
                           check_real)
from ..mcmc import CallablePotential, hmc, langevin_hmc, ula
from ._buffer import ReplayBuffer
from ._protocol import EnergyModel

__all__ = ["TrainingHistory", "train_ebm"]

logger = logging.getLogger("ebmfast")

_SAMPLERS = ("langevin", "hmc", "langevin_hmc")
_NONFINITE_ACTIONS = ("stop", "raise")
_PROTOCOL_METHODS = ("energy", "grad_x", "grad_params", "init_samples", "apply_update")


@dataclass
class TrainingHistory:
    """What :func:`train_ebm` did.

    Attributes
    ----------
    epochs : list of dict
        One entry per finished epoch, with the keys "epoch",
        "data_energy" (mean E of the data batches, before each update),
        "sample_energy" (mean E of the refined negative chains),
        "grad_norm" (mean Euclidean norm of the update direction
        ``grads`` over all parameters), "acceptance_rate" (mean over chains
        and updates; 1 for Langevin steps, which always accept a finite
        move), "divergences" (rejected non-finite or diverging moves),
        "restarts" (chains started from ``model.init_samples``),
        "n_updates" and "seconds".
    n_updates : int
        Parameter updates applied in total.
    stopped_early : bool
        True when training stopped on a non-finite value.
    stop_reason : str or None
        What was non-finite, and where; None when training ran to the end.
    buffer : ReplayBuffer
        The replay buffer. After an early stop it contains only finite
        chains, because the refined chains of the failed update are not
        written back.
    """

    epochs: list = field(default_factory=list)
    n_updates: int = 0
    stopped_early: bool = False
    stop_reason: str | None = None
    buffer: ReplayBuffer | None = None

    def __getitem__(self, key):
        """Return the per-epoch values of ``key`` as an array, e.g. history["sample_energy"]."""
        return np.array([entry[key] for entry in self.epochs])


class _NonFiniteError(Exception):
    """Internal signal that a non-finite value was found; the message names it."""


def _check_model(model):
    if not isinstance(model, EnergyModel):
        missing = [name for name in _PROTOCOL_METHODS
                   if not callable(getattr(model, name, None))]
        raise TypeError(
            f"model must implement ebmfast.EnergyModel; {type(model).__name__} "
            f"lacks {', '.join(missing)}.")
    return model


def _parameter_arrays(model):
    """Return the floating-point NumPy arrays among the model's instance attributes."""
    return {name: value for name, value in vars(model).items()
            if isinstance(value, np.ndarray) and value.dtype.kind in "fc"}


def _snapshot(model):
    return {name: value.copy() for name, value in _parameter_arrays(model).items()}


def _restore(model, snapshot):
    for name, saved in snapshot.items():
        current = getattr(model, name, None)
        if isinstance(current, np.ndarray) and current.shape == saved.shape:
            current[...] = saved
        else:
            setattr(model, name, saved)


def _require_finite(value, what):
    array = np.asarray(value)
    if not np.isfinite(array).all():
        raise _NonFiniteError(f"{what} is not finite")
    return array


def _update_direction(model, batch, negatives):
    """Return <grad E>_data - <grad E>_model per parameter, and its Euclidean norm."""
    positive = model.grad_params(batch)
    negative = model.grad_params(negatives)
    if set(positive) != set(negative):
        raise ValueError(
            "model.grad_params returned different keys for data and samples: "
            f"{sorted(positive)} and {sorted(negative)}.")
    grads = {}
    for name in positive:
        grads[name] = (np.asarray(positive[name], dtype=np.float64)
                       - np.asarray(negative[name], dtype=np.float64))
        _require_finite(grads[name], f"the gradient of parameter {name!r}")
    norm = float(np.sqrt(sum(np.sum(g * g) for g in grads.values())))
    return grads, norm


def _make_sampler(sampler, *, n_sampler_steps, step_size, n_leapfrog, n_hmc_steps,
                  hmc_step_size, sampler_kwargs, backend, n_threads):
    """Return refine(potential, X0, seed) -> (final X, acceptance, divergences)."""
    options = dict(sampler_kwargs or {})
    common = dict(n_samples=1, n_warmup=0, backend=backend, n_threads=n_threads)
    reserved = {"thin", "step_size", "random_state", "n_leapfrog", "n_langevin",
                *common} & set(options)
    if reserved:
        raise ValueError(
            f"sampler_kwargs must not set {sorted(reserved)}: train_ebm sets them "
            "from its own arguments (n_sampler_steps, step_size, n_leapfrog, "
            "n_hmc_steps, hmc_step_size, backend, n_threads).")

    if callable(sampler):
        def refine(potential, X0, seed):
            result = sampler(potential, X0, seed)
            if hasattr(result, "final_state"):
                return (result.final_state.position,
                        float(np.mean(result.acceptance_rate)),
                        int(result.divergences.sum() + result.warmup_divergences.sum()))
            return np.asarray(result), float("nan"), 0
        return refine

    if sampler == "langevin":
        def run(potential, X0, seed):
            return ula(potential, X0, thin=n_sampler_steps, step_size=step_size,
                       random_state=seed, **common, **options)
    elif sampler == "hmc":
        def run(potential, X0, seed):
            return hmc(potential, X0, thin=n_sampler_steps, step_size=step_size,
                       n_leapfrog=n_leapfrog, adapt_step_size=False, adapt_mass=False,
                       random_state=seed, **common, **options)
    elif sampler == "langevin_hmc":
        def run(potential, X0, seed):
            return langevin_hmc(potential, X0, n_langevin=n_sampler_steps,
                                langevin_step_size=step_size, thin=n_hmc_steps,
                                step_size=hmc_step_size, n_leapfrog=n_leapfrog,
                                adapt_step_size=False, adapt_mass=False,
                                random_state=seed, **common, **options)
    else:
        raise ValueError(f"sampler must be one of {_SAMPLERS} or a callable, got "
                         f"{sampler!r}.")

    def refine(potential, X0, seed):
        result = run(potential, X0, seed)
        divergences = int(result.divergences.sum() + result.warmup_divergences.sum())
        return (result.final_state.position, float(np.mean(result.acceptance_rate)),
                divergences)
    return refine


def train_ebm(model, data, sampler="langevin", buffer=None, *, n_epochs=10,
              batch_size=100, learning_rate=0.01, n_sampler_steps=20, step_size=0.05,
              n_chains=None, n_leapfrog=10, n_hmc_steps=1, hmc_step_size=None,
              sampler_kwargs=None, buffer_capacity=10000, restart_fraction=0.05,
              on_nonfinite="stop", random_state=None, verbose=False, backend="fast",
              n_threads=None):
    """Train an energy model by maximum likelihood with MCMC negatives from a replay buffer.

    Each update takes a minibatch of data (the positive phase) and
    ``n_chains`` chains from the replay buffer, refines the chains with the
    sampler on the model's energy (the negative phase), moves the
    parameters by

        theta <- theta - learning_rate * (<grad_theta E>_data - <grad_theta E>_samples)

    through ``model.apply_update`` (stochastic gradient descent on the
    negative log-likelihood), and writes the refined chains back into the
    buffer.

    Parameters
    ----------
    model : EnergyModel
        Trained in place.
    data : array_like of shape (n_samples, d)
        Training data, finite; converted to float64.
    sampler : {"langevin", "hmc", "langevin_hmc"} or callable, default="langevin"
        How the negative chains are refined, on
        ``CallablePotential(energy=model.energy, grad=model.grad_x)``:

        - "langevin": ``n_sampler_steps`` unadjusted Langevin steps
          (:func:`ebmfast.mcmc.ula`) of size ``step_size``.
        - "hmc": ``n_sampler_steps`` HMC transitions
          (:func:`ebmfast.mcmc.hmc`) of ``n_leapfrog`` leapfrog steps of
          size ``step_size``.
        - "langevin_hmc": ``n_sampler_steps`` Langevin steps of size
          ``step_size``, then ``n_hmc_steps`` HMC transitions of
          ``n_leapfrog`` steps of size ``hmc_step_size``
          (:func:`ebmfast.mcmc.langevin_hmc`).
        - a callable ``sampler(potential, X0, seed)`` with X0 of shape
          (n_chains, d) and seed a ``numpy.random.SeedSequence``, returning
          the refined chains as an array of shape (n_chains, d) or a
          :class:`~ebmfast.mcmc.SamplingResult` (its ``final_state`` is used).

        The built-in choices run without warmup or adaptation, so every step
        size stays as given.
    buffer : ReplayBuffer, optional
        Negative chains kept across updates. None creates
        ``ReplayBuffer(max(buffer_capacity, n_chains), d,
        restart_fraction=restart_fraction)`` seeded from ``random_state``.
        A given buffer keeps its own seed, dtype and restart fraction.
    n_epochs : int, default=10
        Passes over the data; the rows are reshuffled on every pass.
    batch_size : int, default=100
        Data rows per update; the last batch of an epoch may be smaller.
    learning_rate : float, default=0.01
        Step size of the parameter update, > 0.
    n_sampler_steps : int, default=20
        Sampler transitions per update (Langevin steps for "langevin_hmc").
    step_size : float, default=0.05
        See ``sampler``. For Langevin steps it is h in
        x' = x - (h^2 / 2) M^-1 grad E(x) + h z, z ~ N(0, I), so the default
        20 steps move a chain by a Langevin time of only 20 h^2 / 2 = 0.025
        (in the units of E). Chains that barely move leave the negative
        phase close to its starting points and the model poorly trained,
        with no error: check the trained model, and raise ``step_size`` or
        ``n_sampler_steps`` for targets on a larger scale.
    n_chains : int, optional
        Negative chains per update; None uses ``batch_size``.
    n_leapfrog : int, default=10
        Leapfrog steps per HMC transition.
    n_hmc_steps : int, default=1
        HMC transitions after the Langevin steps of "langevin_hmc".
    hmc_step_size : float, optional
        Leapfrog step size of "langevin_hmc"; None uses ``step_size``.
    sampler_kwargs : dict, optional
        Further keywords for the ebmfast sampler, for example
        ``{"inv_mass": ...}``. They must not repeat the keywords set here.
    buffer_capacity : int, default=10000
        Capacity of the buffer created when ``buffer`` is None.
    restart_fraction : float, default=0.05
        Restart fraction of the buffer created when ``buffer`` is None.
    on_nonfinite : {"stop", "raise"}, default="stop"
        What happens when a data or sample energy, a chain, a gradient or an
        updated parameter is NaN or inf, or when an update makes the energy
        of its data batch non-finite. In both cases the parameters are those
        of the last good update (a bad update is undone) and the buffer
        contains no non-finite chain, because the chains of the failed update
        are not written back. "stop" logs a warning and returns the history with
        ``stopped_early=True`` and the reason in ``stop_reason``; "raise"
        raises FloatingPointError.
    random_state : None, int, SeedSequence or Generator, default=None
        Seed of the minibatch order, the sampler streams and a created
        buffer. An int or SeedSequence makes training repeatable.
    verbose : bool, default=False
        Log one line per epoch to the "ebmfast" logger at INFO level.
    backend : {"fast", "reference"}, default="fast"
        Backend of the sampler's random numbers.
    n_threads : int, optional
        Threads for the sampler's random numbers.

    Returns
    -------
    history : TrainingHistory

    Raises
    ------
    TypeError
        If model does not implement :class:`EnergyModel`.
    ValueError
        If an argument is invalid, or the data do not match the buffer.
    FloatingPointError
        With ``on_nonfinite="raise"``, on a non-finite value.

    Notes
    -----
    The undo after a non-finite update copies the model's NumPy array
    attributes before every update (see :class:`EnergyModel`), which costs
    one copy of the parameters per update.

    Unadjusted Langevin steps are biased by O(step_size^2), so a model
    trained with "langevin" fits the distribution that its biased sampler
    produces; "hmc" and "langevin_hmc" end with Metropolis-corrected moves.

    References
    ----------
    T. Tieleman, "Training restricted Boltzmann machines using
    approximations to the likelihood gradient", ICML 2008 (persistent chains).
    Y. Du and I. Mordatch, "Implicit generation and generalization in
    energy-based models", NeurIPS 2019 (replay buffer with restarts).

    Examples
    --------
    >>> import numpy as np
    >>> from ebmfast.ebm import GaussianEnergy, train_ebm
    >>> rng = np.random.default_rng(0)
    >>> data = rng.normal([1.0, -2.0], [0.5, 2.0], size=(2000, 2))
    >>> model = GaussianEnergy(2)
    >>> history = train_ebm(model, data, "hmc", n_epochs=30, batch_size=200,
    ...                     learning_rate=0.1, n_sampler_steps=2, step_size=0.2,
    ...                     random_state=0)
    >>> bool(np.allclose(model.mean_, data.mean(axis=0), atol=0.1))
    True
    """
    _check_model(model)
    prepare = getattr(model, "prepare", None)
    if callable(prepare):
        # In the data's own dtype, so that float32 data gives a float32 model.
        prepare(check_array(data, "data"))
    data = check_array(data, "data", dtype=np.float64)
    n_data, dim = data.shape
    n_epochs = check_int(n_epochs, "n_epochs", minimum=1)
    batch_size = check_int(batch_size, "batch_size", minimum=1)
    learning_rate = check_real(learning_rate, "learning_rate", minimum=0.0,
                               include_minimum=False)
    n_sampler_steps = check_int(n_sampler_steps, "n_sampler_steps",
                                minimum=0 if sampler == "langevin_hmc" else 1)
    step_size = check_real(step_size, "step_size", minimum=0.0, include_minimum=False)
    n_chains = batch_size if n_chains is None else check_int(n_chains, "n_chains", minimum=1)
    n_leapfrog = check_int(n_leapfrog, "n_leapfrog", minimum=1)
    n_hmc_steps = check_int(n_hmc_steps, "n_hmc_steps", minimum=1)
    hmc_step_size = step_size if hmc_step_size is None else check_real(
        hmc_step_size, "hmc_step_size", minimum=0.0, include_minimum=False)
    if on_nonfinite not in _NONFINITE_ACTIONS:
        raise ValueError(f"on_nonfinite must be one of {_NONFINITE_ACTIONS}, got "
                         f"{on_nonfinite!r}.")
    backend = check_backend(backend)
    n_threads = check_n_threads(n_threads)
    if sampler_kwargs is not None and not isinstance(sampler_kwargs, dict):
        raise TypeError(f"sampler_kwargs must be a dict or None, got "
                        f"{type(sampler_kwargs).__name__}.")

    seed_sequence = as_seed_sequence(random_state)
    order_seed, buffer_seed, sampler_seeds = seed_sequence.spawn(3)
    order_rng = np.random.default_rng(order_seed)
    if buffer is None:
        buffer_capacity = check_int(buffer_capacity, "buffer_capacity", minimum=1)
        buffer = ReplayBuffer(max(buffer_capacity, n_chains), dim,
                              restart_fraction=restart_fraction, random_state=buffer_seed)
    elif not isinstance(buffer, ReplayBuffer):
        raise TypeError(f"buffer must be a ReplayBuffer or None, got "
                        f"{type(buffer).__name__}.")
    if buffer.dim != dim:
        raise ValueError(f"buffer.dim must equal the number of data columns ({dim}), "
                         f"got {buffer.dim}.")
    if n_chains > buffer.capacity:
        raise ValueError(f"n_chains ({n_chains}) must be <= buffer.capacity "
                         f"({buffer.capacity}).")

    refine = _make_sampler(sampler, n_sampler_steps=n_sampler_steps, step_size=step_size,
                           n_leapfrog=n_leapfrog, n_hmc_steps=n_hmc_steps,
                           hmc_step_size=hmc_step_size, sampler_kwargs=sampler_kwargs,
                           backend=backend, n_threads=n_threads)
    potential = CallablePotential(energy=model.energy, grad=model.grad_x, dim=dim)
    history = TrainingHistory(buffer=buffer)
    if verbose:
        from ..rbm import _ensure_log_handler
        _ensure_log_handler()

    for epoch in range(1, n_epochs + 1):
        start = time.perf_counter()
        totals = dict(data_energy=0.0, sample_energy=0.0, grad_norm=0.0,
                      acceptance_rate=0.0, divergences=0, restarts=0, n_updates=0)
        order = order_rng.permutation(n_data)
        for first in range(0, n_data, batch_size):
            batch = data[order[first:first + batch_size]]
            try:
                _update(model, batch, buffer, potential, refine, n_chains,
                        sampler_seeds.spawn(1)[0], learning_rate, totals)
            except _NonFiniteError as error:
                reason = (f"{error} at update {history.n_updates + totals['n_updates'] + 1} "
                          f"(epoch {epoch}); the parameters and the buffer are those of "
                          f"the last good update. Lower learning_rate (now "
                          f"{learning_rate}) or step_size (now {step_size}).")
                history.n_updates += totals["n_updates"]
                history.stopped_early = True
                history.stop_reason = reason
                if on_nonfinite == "raise":
                    raise FloatingPointError(reason) from None
                logger.warning("train_ebm stopped: %s", reason)
                return history
        history.n_updates += totals["n_updates"]
        entry = _epoch_entry(epoch, totals, time.perf_counter() - start)
        history.epochs.append(entry)
        if verbose:
            logger.info(
                "epoch %d: data energy %.4g, sample energy %.4g, gradient norm %.3g, "
                "acceptance %.3f, %d divergences, %d restarts, %.2f s", epoch,
                entry["data_energy"], entry["sample_energy"], entry["grad_norm"],
                entry["acceptance_rate"], entry["divergences"], entry["restarts"],
                entry["seconds"])
    return history


def _update(model, batch, buffer, potential, refine, n_chains, seed, learning_rate,
            totals):
    """Make one positive phase, negative phase, parameter update and write-back.

    Raises _NonFiniteError before anything is changed, except a parameter
    update that it has undone.
    """
    data_energy = _require_finite(model.energy(batch), "the energy of a data row")
    restarts_before = buffer.n_restarts
    X0, slots = buffer.draw(n_chains, model)
    _require_finite(model.energy(X0), "the energy of a chain drawn from the buffer")

    X, acceptance, divergences = refine(potential, X0, seed)
    X = _require_finite(X, "a refined negative chain")
    if X.shape != X0.shape:
        raise ValueError(f"the sampler must return the chains with shape {X0.shape}, "
                         f"got shape {X.shape}.")
    sample_energy = _require_finite(model.energy(X), "the energy of a refined chain")

    grads, grad_norm = _update_direction(model, batch, X)
    snapshot = _snapshot(model)
    try:
        model.apply_update(grads, learning_rate)
    except FloatingPointError as error:
        # A model may check its own update and reject a non-finite step.
        _restore(model, snapshot)
        raise _NonFiniteError(f"the update was rejected by the model ({error})") from None
    for name, value in _parameter_arrays(model).items():
        if not np.isfinite(value).all():
            _restore(model, snapshot)
            raise _NonFiniteError(f"parameter {name!r} after the update")
    # Finite parameters can still overflow the energy, as exp(s) does for a
    # large log-precision s; such an update is undone too.
    if not np.isfinite(model.energy(batch)).all():
        _restore(model, snapshot)
        raise _NonFiniteError("the energy of a data row after the update")

    buffer.write(slots, X)
    totals["data_energy"] += float(np.mean(data_energy))
    totals["sample_energy"] += float(np.mean(sample_energy))
    totals["grad_norm"] += grad_norm
    totals["acceptance_rate"] += acceptance
    totals["divergences"] += divergences
    totals["restarts"] += buffer.n_restarts - restarts_before
    totals["n_updates"] += 1


def _epoch_entry(epoch, totals, seconds):
    n = totals["n_updates"]
    return {"epoch": epoch,
            "data_energy": totals["data_energy"] / n,
            "sample_energy": totals["sample_energy"] / n,
            "grad_norm": totals["grad_norm"] / n,
            "acceptance_rate": totals["acceptance_rate"] / n,
            "divergences": totals["divergences"],
            "restarts": totals["restarts"],
            "n_updates": n,
            "seconds": seconds}
