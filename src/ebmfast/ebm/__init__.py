"""Training energy-based models with sampled negatives.

- :class:`EnergyModel`: the protocol a model implements to be trained and
  sampled: energy, its gradient in x, the batch-averaged parameter gradient,
  fresh chain starts and the parameter update.
- :class:`ReplayBuffer`: past negative samples reused as persistent chains,
  with a configurable fraction restarted on every draw.
- :func:`train_ebm`: the maximum-likelihood loop with minibatches of data,
  negatives refined by Langevin, HMC or Langevin-then-HMC, and a stop on
  non-finite values that keeps the last good parameters.
- :class:`GaussianEnergy`: a diagonal Gaussian as a small example model.
"""

from ._buffer import ReplayBuffer
from ._gaussian import GaussianEnergy
from ._protocol import EnergyModel
from ._train import TrainingHistory, train_ebm

__all__ = [
    "EnergyModel",
    "GaussianEnergy",
    "ReplayBuffer",
    "TrainingHistory",
    "train_ebm",
]
