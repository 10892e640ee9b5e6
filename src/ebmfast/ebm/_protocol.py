"""The interface that :func:`train_ebm` and :class:`ReplayBuffer` expect of a model."""

from typing import Protocol, runtime_checkable

import numpy as np

__all__ = ["EnergyModel"]


@runtime_checkable
class EnergyModel(Protocol):
    """An energy-based model p(x) = exp(-E(x)) / Z that can be sampled and trained.

    Any object with these five methods can be trained by :func:`train_ebm`
    and sampled by the samplers of :mod:`ebmfast.mcmc` through
    ``CallablePotential(energy=model.energy, grad=model.grad_x)``. The
    protocol is runtime-checkable, so ``isinstance(model, EnergyModel)``
    tests that the five methods exist (not their signatures).

    Rows are samples: X has shape (n, d) with d the model's data dimension.

    Methods
    -------
    energy(X) -> ndarray of shape (n,)
        E(x) of each row, up to a constant that does not depend on x. For a
        model with latent variables this is the free energy.
    grad_x(X) -> ndarray of shape (n, d)
        The gradient of E with respect to x, for each row.
    grad_params(X) -> dict of str to ndarray
        The batch average (1/n) sum_k of the gradient of E(x_k) with respect
        to each parameter, keyed by parameter name, each array of that
        parameter's shape.
    init_samples(n, rng) -> ndarray of shape (n, d)
        Starting points for fresh chains, drawn with ``rng``, a
        ``numpy.random.Generator``.
    apply_update(grads, learning_rate) -> None
        Apply theta <- theta - learning_rate * grads[name] to every
        parameter, in place. :func:`train_ebm` passes

            grads = grad_params(data batch) - grad_params(model samples),

        which is the gradient of the negative log-likelihood
        -<log p(x)>_data, since the gradient of log Z is the model average
        of -grad E. So the update is gradient descent on the negative
        log-likelihood: it lowers the energy of the data and raises that of
        the samples.

    A model may also define ``prepare(data)``. :func:`train_ebm` calls it
    once with the training data before the first update, so a model can
    create its parameters from the data, as ``GaussianBernoulliRBM`` does
    when it has none yet.

    Notes
    -----
    :func:`train_ebm` restores the parameters after a non-finite update by
    copying the NumPy arrays among the model's instance attributes
    (``vars(model)``). A model that keeps its parameters elsewhere still
    trains, but the restore cannot reach those parameters.
    """

    def energy(self, X: np.ndarray) -> np.ndarray:
        ...

    def grad_x(self, X: np.ndarray) -> np.ndarray:
        ...

    def grad_params(self, X: np.ndarray) -> dict[str, np.ndarray]:
        ...

    def init_samples(self, n: int, rng: np.random.Generator) -> np.ndarray:
        ...

    def apply_update(self, grads: dict[str, np.ndarray], learning_rate: float) -> None:
        ...
