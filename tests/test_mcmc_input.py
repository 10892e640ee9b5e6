"""Caller's arrays stay independent of the targets, and bad input names itself."""

import warnings

import numpy as np
import pytest

from ebmfast.mcmc import CallablePotential, Funnel, Gaussian, GaussianMixture, hmc, rwm


def test_gaussian_copies_its_parameters():
    mean = np.array([1.0, 2.0])
    cov = np.array([[1.0, 0.3], [0.3, 1.0]])
    precision = np.array([[1.0, 0.3], [0.3, 1.0]])
    diagonal = np.array([1.0, 2.0])
    by_cov = Gaussian(mean, cov=cov)
    by_precision = Gaussian(mean, precision=precision)
    by_diagonal = Gaussian(mean, precision=diagonal)
    mean[0] = 5.0
    precision[0, 1] = 3.0
    diagonal[0] = -1.0
    np.testing.assert_array_equal(by_cov.mean, [1.0, 2.0])
    np.testing.assert_array_equal(by_precision.precision, [[1.0, 0.3], [0.3, 1.0]])
    np.testing.assert_array_equal(by_diagonal.precision, [1.0, 2.0])
    assert by_precision.energy(np.array([[1.0, -1.0]]))[0] > 0


def test_mixture_copies_its_means():
    means = np.array([[0.0, 0.0], [3.0, 3.0]])
    mixture = GaussianMixture([0.5, 0.5], means)
    means[1] = -3.0
    np.testing.assert_array_equal(mixture.mean, [1.5, 1.5])


@pytest.mark.parametrize("cov,message", [
    ([[1.0, 2.0], [0.0, 1.0]],
     r"cov must be symmetric, got cov\[0, 1\] = 2.0 and cov\[1, 0\] = 0.0"),
    ([[1.0, 2.0], [2.0, 1.0]], r"cov must be positive definite, got a smallest eigenvalue of -1"),
])
def test_gaussian_matrix_errors_give_values(cov, message):
    with pytest.raises(ValueError, match=message):
        Gaussian([0.0, 0.0], cov=cov)


def test_mixture_explains_square_cov_with_as_many_components():
    with pytest.raises(ValueError, match=r"With K = d = 2, a 2-D cov is read as one row "
                                         r"of variances per component.*broadcast_to"):
        GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], cov=[[1.0, -0.5], [-0.5, 1.0]])


def test_inv_mass_error_gives_value_and_index():
    target = Gaussian([0.0, 0.0])
    with pytest.raises(ValueError, match=r"inv_mass must contain positive finite numbers, "
                                         r"got -1.0 at index \(0, 1\)"):
        hmc(target, np.zeros((3, 2)), inv_mass=[1.0, -1.0])


def test_result_as_x0_points_to_final_state():
    target = Gaussian([0.0, 0.0])
    result = hmc(target, n_chains=2, n_samples=2, n_warmup=0, random_state=0)
    with pytest.raises(TypeError, match="pass result.final_state"):
        hmc(target, result)


def test_number_as_x0_points_to_n_chains():
    with pytest.raises(ValueError, match="pass n_chains=100"):
        hmc(Gaussian([0.0, 0.0]), 100)


@pytest.mark.parametrize("dim", [0, -2])
def test_callable_dim_must_be_positive(dim):
    with pytest.raises(ValueError, match=f"dim must be >= 1, got {dim}"):
        CallablePotential(lambda X: X.sum(axis=1), dim=dim)


def test_energy_returning_none_is_named():
    potential = CallablePotential(lambda X: None, dim=2)
    with pytest.raises(TypeError, match=r"energy\(X\) must return an array of shape "
                                        r"\(2,\), got None"):
        rwm(potential, n_chains=2, n_samples=2, random_state=0)


@pytest.mark.parametrize("backend", ["fast", "reference"])
def test_rwm_rejects_overflowing_gradient(backend):
    # Deep in the funnel's neck, float32 gradients overflow while the float64
    # energy stays finite. Such proposals are divergences, the reference
    # backend does not warn about them, and the state's gradient stays finite.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = rwm(Funnel(dim=5), n_chains=20, dtype=np.float32, n_samples=500,
                     n_warmup=500, backend=backend, random_state=3)
    assert result.divergences.sum() + result.warmup_divergences.sum() > 0
    assert np.isfinite(result.final_state.grad).all()
    assert np.isfinite(result.samples).all()


def test_start_far_out_raises_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="chain 0"):
            hmc(Gaussian([0.0, 0.0]), np.full((2, 2), 1e200), n_samples=2)
