"""Whole runs with adaptation: the fast backend against the reference, bit for bit.

Dual averaging feeds every acceptance probability back into the step size,
so a difference in the last bit of one energy grows until the chains part.
These runs therefore only agree when both backends round every operation
the same way, which is what they check.
"""

import numpy as np
import pytest

from ebmfast.mcmc import (CallablePotential, Funnel, Gaussian, GaussianMixture, RBMFreeEnergy,
                          Rosenbrock, hmc, langevin_hmc, mala, rwm)

POTENTIALS = {
    "dense": Gaussian([1.0, -2.0, 0.5], cov=[[1.0, 0.5, 0.0], [0.5, 2.0, 0.3], [0.0, 0.3, 0.5]]),
    "diagonal": Gaussian(np.arange(10.0), cov=np.linspace(0.5, 2.0, 10)),
    "mixture": GaussianMixture([0.3, 0.7], [[-1.0, 0.0, 1.0], [1.0, 0.5, 0.0]],
                               cov=[[0.5, 1.0, 0.8], [1.0, 0.6, 0.7]]),
    "dense_mixture": GaussianMixture(
        [0.4, 0.6], [[-1.0, 0.0, 1.0], [1.0, 0.5, 0.0]],
        cov=[[[1.0, 0.5, 0.1], [0.5, 2.0, 0.3], [0.1, 0.3, 0.5]], np.eye(3) * 0.7]),
    "rosenbrock": Rosenbrock(dim=3),
    "funnel": Funnel(dim=5),
    # The fast backend runs a callable's steps in _mcmc_batch.pyx, the
    # reference in NumPy; both call the same functions.
    "callable": CallablePotential(lambda X: 0.5 * np.einsum("ij,ij->i", X, X) + X[:, 0],
                                  lambda X: X + np.eye(1, X.shape[1], dtype=X.dtype), dim=4),
    "rbm_free_energy": RBMFreeEnergy(
        0.5 * np.random.default_rng(0).normal(size=(3, 4)), [0.2, -0.1, 0.0],
        [0.1, 0.0, -0.3, 0.2], sigma=[1.0, 0.8, 1.2]),
}
SAMPLERS = {
    "hmc": (hmc, {"n_leapfrog": 5}),
    "mala": (mala, {}),
    "rwm": (rwm, {}),
    "langevin_hmc": (langevin_hmc, {"n_langevin": 20, "n_leapfrog": 3}),
}


@pytest.mark.parametrize("potential", POTENTIALS.values(), ids=POTENTIALS.keys())
@pytest.mark.parametrize("sampler", SAMPLERS.keys())
def test_adapted_run_is_identical(sampler, potential, dtype):
    run, options = SAMPLERS[sampler]
    x0 = np.full((5, potential.dim), 0.1, dtype=dtype)
    results = [run(potential, x0, n_samples=30, n_warmup=150, random_state=3,
                   backend=backend, **options)
               for backend in ("fast", "reference")]
    fast, reference = results
    assert fast.samples.dtype == dtype
    np.testing.assert_array_equal(fast.step_size, reference.step_size)
    np.testing.assert_array_equal(fast.samples, reference.samples)
    np.testing.assert_array_equal(fast.energies, reference.energies)
    if sampler != "rwm":
        np.testing.assert_array_equal(fast.inv_mass, reference.inv_mass)
    # Adaptation moved the step away from its starting value, so the
    # comparison above covered the feedback loop.
    assert not np.allclose(fast.step_size, 2.38 / np.sqrt(potential.dim))
