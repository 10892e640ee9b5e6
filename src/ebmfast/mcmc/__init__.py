"""MCMC samplers over many chains at once.

Targets are potentials U(x) = -log p(x) + const: the built-in
:class:`Gaussian`, :class:`GaussianMixture`, :class:`Rosenbrock`,
:class:`Funnel` and :class:`RBMFreeEnergy`, or a :class:`CompiledPotential`
(a C function for one point), all evaluated inside the compiled loops; or a
:class:`CallablePotential` made of batched Python functions for the energy
and, optionally, its gradient (random-walk Metropolis needs none).

- :func:`rwm`: random-walk Metropolis with a per-dimension scale.
- :func:`hmc`: HMC, leapfrog integrator, diagonal mass matrix.
- :func:`mala` and :func:`ula`: Metropolis-adjusted and unadjusted Langevin.
- :func:`langevin_hmc`: ULA steps for coarse exploration, then HMC.

Each returns a :class:`SamplingResult`; passing its ``final_state`` as
``x0`` continues the chains and their random streams. :func:`init_state`
and :func:`step` give the single transition,
``(state, streams) -> (new_state, info)``.
"""

from ._potentials import (CallablePotential, CompiledPotential, Funnel, Gaussian,
                          GaussianMixture, Potential, RBMFreeEnergy, Rosenbrock)
from ._reference import ChainState, StepInfo
from ._result import SamplingResult
from ._samplers import hmc, init_state, langevin_hmc, mala, rwm, step, ula

__all__ = [
    "CallablePotential",
    "ChainState",
    "CompiledPotential",
    "Funnel",
    "Gaussian",
    "GaussianMixture",
    "Potential",
    "RBMFreeEnergy",
    "Rosenbrock",
    "SamplingResult",
    "StepInfo",
    "hmc",
    "init_state",
    "langevin_hmc",
    "mala",
    "rwm",
    "step",
    "ula",
]
