"""ebmfast: fast CPU energy-based models with NumPy reference twins.

Every model takes ``backend="fast"`` (compiled Cython and OpenMP kernels) or
``backend="reference"`` (plain NumPy, written to read like the equations).
"""

__version__ = "0.1.0"

from . import ebm, mcmc
from ._config import config_dict, show_config
from ._rbm_eval import LogPartition
from .ebm import EnergyModel, ReplayBuffer, train_ebm
from .gbrbm import GaussianBernoulliRBM
from .hopfield import ModernHopfield, RetrievalResult, attention
from .rbm import BernoulliRBM, NotFittedError

__all__ = [
    "BernoulliRBM",
    "EnergyModel",
    "GaussianBernoulliRBM",
    "LogPartition",
    "ModernHopfield",
    "NotFittedError",
    "ReplayBuffer",
    "RetrievalResult",
    "attention",
    "config_dict",
    "ebm",
    "mcmc",
    "show_config",
    "train_ebm",
    "__version__",
]


def __getattr__(name):
    # ebmfast.diagnostics imports scipy.stats, so it loads on first use
    # rather than with every `import ebmfast`.
    if name == "diagnostics":
        import importlib

        return importlib.import_module(".diagnostics", __name__)
    raise AttributeError(f"module 'ebmfast' has no attribute {name!r}")
