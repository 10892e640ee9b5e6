"""The result of a sampler run."""

from dataclasses import dataclass

import numpy as np

from ._reference import ChainState

__all__ = ["SamplingResult"]


@dataclass
class SamplingResult:
    """Draws and diagnostics of a run over many chains.

    Attributes
    ----------
    samples : ndarray of shape (n_chains, n_samples, d)
        Every ``thin``-th state after warmup.
    energies : ndarray of shape (n_chains, n_samples)
        U at each recorded state, float64.
    acceptance_rate : ndarray of shape (n_chains,)
        Fraction of accepted proposals after warmup, over all
        ``n_samples * thin`` transitions.
    mean_accept_prob : ndarray of shape (n_chains,)
        Mean Metropolis acceptance probability after warmup (1 for ULA
        except at divergences).
    divergences : ndarray of shape (n_chains,)
        Divergent transitions after warmup.
    warmup_divergences : ndarray of shape (n_chains,)
        Divergent transitions during warmup and the Langevin pre-phase.
    final_state : ChainState
        Position, energy, gradient and random stream (``rng_state``) of
        every chain at the end. Pass it as ``x0``, with ``n_warmup=0`` and
        ``**adapted_parameters()``, to continue the run where it stopped.
    step_size : ndarray of shape (n_chains,)
        Step size used after warmup, adapted or as given.
    inv_mass : ndarray of shape (n_chains, d) or None
        Diagonal inverse mass matrix per chain (HMC, MALA, ULA); None for
        random-walk Metropolis.
    sampler : str
        Name of the sampler.
    """

    samples: np.ndarray
    energies: np.ndarray
    acceptance_rate: np.ndarray
    mean_accept_prob: np.ndarray
    divergences: np.ndarray
    warmup_divergences: np.ndarray
    final_state: ChainState
    step_size: np.ndarray
    inv_mass: object
    sampler: str

    @property
    def n_chains(self):
        return self.samples.shape[0]

    def adapted_parameters(self):
        """Return the tuned sampler parameters as keyword arguments for a continuation.

        Returns
        -------
        parameters : dict
            ``step_size`` and, except for random-walk Metropolis,
            ``inv_mass``: copies of the attributes, so that a later run
            cannot change this result through them.

        Notes
        -----
        Options that were not adapted (``n_leapfrog``, ``scale``,
        ``step_jitter``, ``thin``, ``max_energy_error``) are not recorded
        and must be passed again. A continuation of a ``langevin_hmc`` run
        is an ``hmc`` run, so that no second Langevin phase starts.

        Examples
        --------
        >>> import numpy as np
        >>> from ebmfast.mcmc import Gaussian, hmc
        >>> target = Gaussian(np.zeros(2))
        >>> first = hmc(target, n_chains=4, n_samples=100, random_state=0)
        >>> more = hmc(target, first.final_state, n_samples=100, n_warmup=0,
        ...            **first.adapted_parameters())
        >>> bool(np.array_equal(more.step_size, first.step_size))
        True
        """
        parameters = {"step_size": self.step_size.copy()}
        if self.inv_mass is not None:
            parameters["inv_mass"] = self.inv_mass.copy()
        return parameters

    def to_arviz(self, var_name="x"):
        """Return an ArviZ ``InferenceData`` with the draws and sample stats.

        The draws go into ``posterior[var_name]`` with dims (chain, draw,
        ``var_name + "_dim"``), and ``sample_stats`` gets ``energy`` and
        ``lp`` (= -energy). Raises ImportError when arviz is not installed.
        """
        try:
            import arviz
        except ImportError:
            raise ImportError(
                "to_arviz() needs the optional package arviz: pip install arviz"
            ) from None
        groups = {
            "posterior": {var_name: self.samples},
            "sample_stats": {"energy": self.energies, "lp": -self.energies},
        }
        dims = {var_name: [f"{var_name}_dim"]}
        # ArviZ 0.x takes the groups as keywords; ArviZ 1.x takes one dict.
        try:
            return arviz.from_dict(**groups, dims=dims)
        except TypeError:
            return arviz.from_dict(groups, dims=dims)
