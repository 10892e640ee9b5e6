"""Built-in potentials and C callbacks: compiled code against NumPy, and samplers on them."""

import ctypes
import shutil
import subprocess

import numpy as np
import pytest
from scipy import special, stats

from ebmfast import _mcmc_fast
from ebmfast._random import ChainStreams
from ebmfast.diagnostics import ess
from ebmfast.mcmc import (CompiledPotential, Funnel, Gaussian, GaussianMixture, Rosenbrock,
                          hmc, init_state, rwm, step)
from ebmfast.mcmc._potentials import _GAUSSIAN_MIXTURE, _GAUSSIAN_MIXTURE_DENSE

DIM = 5


def mixture_shared():
    rng = np.random.default_rng(0)
    return GaussianMixture([1.0, 2.0, 3.0], rng.normal(size=(3, DIM)) * 2,
                           cov=np.linspace(0.5, 2.0, DIM))


def mixture_per_component():
    rng = np.random.default_rng(1)
    return GaussianMixture([0.2, 0.8], rng.normal(size=(2, DIM)),
                           cov=rng.uniform(0.3, 3.0, size=(2, DIM)))


def random_covariances(rng, n_components, d):
    """Draw n_components symmetric positive definite (d, d) matrices with strong correlations."""
    A = rng.normal(size=(n_components, d, d))
    return A @ A.transpose(0, 2, 1) / d + 0.2 * np.eye(d)


def mixture_dense():
    rng = np.random.default_rng(3)
    return GaussianMixture([0.5, 0.3, 0.2], rng.normal(size=(3, DIM)),
                           cov=random_covariances(rng, 3, DIM))


def mixture_dense_shared():
    rng = np.random.default_rng(4)
    return GaussianMixture([0.6, 0.4], rng.normal(size=(2, DIM)) * 2,
                           cov=random_covariances(rng, 1, DIM)[0])


POTENTIALS = {
    "mixture_shared": mixture_shared,
    "mixture_per_component": mixture_per_component,
    "mixture_dense": mixture_dense,
    "mixture_dense_shared": mixture_dense_shared,
    "rosenbrock": lambda: Rosenbrock(DIM, a=0.5, b=2.0, mu=0.3),
    "funnel": lambda: Funnel(DIM, sigma=1.5),
}


def points(potential, n, dtype, seed=2):
    return potential.sample(n, np.random.default_rng(seed)).astype(dtype)


@pytest.mark.parametrize("name", POTENTIALS)
def test_energy_grad_fast_matches_reference(name, dtype):
    potential = POTENTIALS[name]()
    X = points(potential, 50, dtype)
    fast_energy, fast_grad = potential.energy_and_grad(X, backend="fast")
    ref_energy, ref_grad = potential.energy_and_grad(X, backend="reference")
    assert fast_grad.dtype == dtype
    assert fast_energy.dtype == np.float64
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fast_energy, ref_energy, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(fast_grad, ref_grad, rtol=rtol, atol=10 * rtol)


@pytest.mark.parametrize("name", POTENTIALS)
def test_reference_grad_matches_finite_differences(name):
    potential = POTENTIALS[name]()
    X = points(potential, 8, np.float64)
    _, grad = potential.energy_and_grad(X, backend="reference")
    h = 1e-6
    for j in range(DIM):
        shift = np.zeros(DIM)
        shift[j] = h
        numeric = (potential.energy(X + shift, backend="reference")
                   - potential.energy(X - shift, backend="reference")) / (2 * h)
        np.testing.assert_allclose(grad[:, j], numeric, rtol=1e-5, atol=1e-5)


def test_mixture_energy_is_negative_log_density():
    potential = mixture_per_component()
    X = points(potential, 20, np.float64)
    density = sum(w * stats.multivariate_normal(m, np.diag(c)).pdf(X)
                  for w, m, c in zip(potential.weights, potential.means, potential.cov))
    offset = 0.5 * DIM * np.log(2 * np.pi)  # the constant that U leaves out
    np.testing.assert_allclose(potential.energy(X), -np.log(density) - offset, rtol=1e-12)


def test_mixture_far_point_stays_finite():
    potential = GaussianMixture([0.5, 0.5], [[0.0], [1.0]])
    energy, grad = potential.energy_and_grad(np.array([[1e4]]))
    assert np.isfinite(energy).all()
    np.testing.assert_allclose(grad, [[1e4 - 1.0]], rtol=1e-12)


@pytest.mark.parametrize("name", ["mixture_dense", "mixture_dense_shared"])
def test_dense_mixture_energy_matches_scipy(name, dtype):
    potential = POTENTIALS[name]()
    assert not potential.diagonal
    X = points(potential, 20, np.float64)
    log_density = special.logsumexp(
        [np.log(w) + stats.multivariate_normal(m, c).logpdf(X)
         for w, m, c in zip(potential.weights, potential.means, potential.cov)], axis=0)
    offset = 0.5 * DIM * np.log(2 * np.pi)  # the constant that U leaves out
    energy = potential.energy(X.astype(dtype))
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(energy, -log_density - offset, rtol=rtol)


def test_dense_mixture_many_points_two_threads(dtype):
    # 8,000 points of 5 values exceed the 32,768 values from which
    # energy_and_grad runs on n_threads.
    potential = mixture_dense()
    X = points(potential, 8000, dtype)
    fast_energy, fast_grad = potential.energy_and_grad(X, n_threads=2)
    ref_energy, ref_grad = potential.energy_and_grad(X, backend="reference")
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(fast_energy, ref_energy, rtol=rtol, atol=rtol)
    np.testing.assert_allclose(fast_grad, ref_grad, rtol=rtol, atol=10 * rtol)


def test_dense_mixture_far_point_stays_finite():
    cov = [[[1.0, 0.5], [0.5, 1.0]], [[2.0, -0.3], [-0.3, 0.5]]]
    potential = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], cov=cov)
    x = np.array([[1e4, -1e4]])
    for backend in ("fast", "reference"):
        energy, grad = potential.energy_and_grad(x, backend=backend)
        assert np.isfinite(energy).all(), backend
        # Far out, the component with the smaller quadratic form takes all the weight.
        quadratic = [(x[0] - m) @ p @ (x[0] - m)
                     for m, p in zip(potential.means, potential.precisions)]
        nearest = int(np.argmin(quadratic))
        expected = potential.precisions[nearest] @ (x[0] - potential.means[nearest])
        np.testing.assert_allclose(grad[0], expected, rtol=1e-9)


def test_dense_mixture_sample_moments():
    potential = mixture_dense()
    n = 200_000
    draws = potential.sample(n, np.random.default_rng(5))
    means, covs, weights = potential.means, potential.cov, potential.weights
    exact_mean = weights @ means
    second = np.einsum("k,kij->ij", weights, covs + np.einsum("ki,kj->kij", means, means))
    exact_cov = second - np.outer(exact_mean, exact_mean)
    sds = np.sqrt(np.diag(exact_cov))
    mean_error = np.abs(draws.mean(axis=0) - exact_mean) / (sds / np.sqrt(n))
    assert mean_error.max() < 4.5, mean_error
    centred = draws - exact_mean
    products = centred[:, :, None] * centred[:, None, :]       # (n, d, d)
    standard_error = products.std(axis=0) / np.sqrt(n)
    cov_error = np.abs(products.mean(axis=0) - exact_cov) / standard_error
    assert cov_error.max() < 4.5, cov_error


# Each form of cov, and the same covariances as a (K, d, d) array, for K = 2
# components in d = 3 dimensions.
COV_FORMS = {
    "number": (2.0, np.stack([2.0 * np.eye(3)] * 2), True),
    "shared diagonal (d,)": ([1.0, 2.0, 3.0], np.stack([np.diag([1.0, 2.0, 3.0])] * 2), True),
    "isotropic per component (K,)": ([0.5, 4.0], np.stack([0.5 * np.eye(3), 4.0 * np.eye(3)]),
                                     True),
    "diagonal per component (K, d)": ([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]],
                                      np.stack([np.diag([1.0, 2.0, 3.0]),
                                                np.diag([3.0, 2.0, 1.0])]), True),
    "shared full (d, d)": ([[2.0, 0.5, 0.0], [0.5, 1.0, 0.3], [0.0, 0.3, 1.5]],
                           np.stack([[[2.0, 0.5, 0.0], [0.5, 1.0, 0.3],
                                      [0.0, 0.3, 1.5]]] * 2), False),
    "full with zero off-diagonals (K, d, d)": (np.stack([np.diag([1.0, 2.0, 3.0])] * 2),
                                               np.stack([np.diag([1.0, 2.0, 3.0])] * 2),
                                               True),
}


@pytest.mark.parametrize("form", COV_FORMS)
def test_mixture_cov_forms(form):
    cov, matrices, diagonal = COV_FORMS[form]
    means = [[0.0, 1.0, -1.0], [1.0, 0.0, 2.0]]
    potential = GaussianMixture([0.3, 0.7], means, cov=cov)
    assert potential.diagonal == diagonal
    expected_kind = _GAUSSIAN_MIXTURE if diagonal else _GAUSSIAN_MIXTURE_DENSE
    assert potential.compiled_kind == expected_kind
    full_cov = potential.cov if not diagonal else np.stack([np.diag(c) for c in potential.cov])
    np.testing.assert_allclose(full_cov, matrices, rtol=1e-15)
    X = np.random.default_rng(6).normal(size=(10, 3))
    log_density = special.logsumexp(
        [np.log(w) + stats.multivariate_normal(m, c).logpdf(X)
         for w, m, c in zip(potential.weights, means, matrices)], axis=0)
    np.testing.assert_allclose(potential.energy(X), -log_density - 1.5 * np.log(2 * np.pi),
                               rtol=1e-12)


def test_mixture_cov_when_k_equals_d():
    # K == d == 2: a 2-D cov is one diagonal per component, a 1-D one is shared.
    means = [[0.0, 0.0], [1.0, 1.0]]
    rows = GaussianMixture([0.5, 0.5], means, cov=[[1.0, 0.5], [0.5, 1.0]])
    assert rows.diagonal
    np.testing.assert_array_equal(rows.cov, [[1.0, 0.5], [0.5, 1.0]])
    shared = GaussianMixture([0.5, 0.5], means, cov=[1.0, 2.0])
    np.testing.assert_array_equal(shared.cov, [[1.0, 2.0], [1.0, 2.0]])
    matrix = np.array([[1.0, 0.5], [0.5, 1.0]])
    full = GaussianMixture([0.5, 0.5], means, cov=np.broadcast_to(matrix, (2, 2, 2)))
    assert not full.diagonal
    np.testing.assert_array_equal(full.cov, [matrix, matrix])


def test_mixture_cov_copied():
    cov = np.array([[[1.0, 0.5], [0.5, 1.0]], [[2.0, 0.1], [0.1, 1.0]]])
    potential = GaussianMixture([0.5, 0.5], [[0.0, 0.0], [1.0, 1.0]], cov=cov)
    before = potential.energy(np.ones((1, 2)))
    cov[:] = 1e3 * np.eye(2)
    assert potential.energy(np.ones((1, 2))) == before


@pytest.mark.parametrize("name", POTENTIALS)
@pytest.mark.parametrize("sampler,step_size", [("hmc", 0.2), ("rwm", 0.5), ("mala", 0.4)])
def test_one_step_fast_matches_reference(name, sampler, step_size, dtype):
    potential = POTENTIALS[name]()
    state = init_state(potential, points(potential, 11, dtype))
    streams = ChainStreams(np.random.SeedSequence(3), 11)
    twin = streams.copy()
    fast_state, fast_info = step(sampler, potential, state, streams, step_size=step_size,
                                 n_leapfrog=3, backend="fast", n_threads=2)
    ref_state, ref_info = step(sampler, potential, state, twin, step_size=step_size,
                               n_leapfrog=3, backend="reference")
    assert np.array_equal(fast_info.accepted, ref_info.accepted)
    tolerance = 2e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(fast_state.position, ref_state.position,
                               rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(fast_state.energy, ref_state.energy,
                               rtol=tolerance, atol=tolerance)


def test_invalid_potential_parameters():
    with pytest.raises(ValueError, match="weights must be positive"):
        GaussianMixture([0.5, 0.0], np.zeros((2, 2)))
    with pytest.raises(ValueError, match="one row per weight"):
        GaussianMixture([0.5, 0.5], np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"cov must be a number or have shape .* got shape \(3,\)"):
        GaussianMixture([0.5, 0.5], np.zeros((2, 2)), cov=np.ones(3))
    with pytest.raises(ValueError, match="cov must contain positive"):
        GaussianMixture([0.5, 0.5], np.zeros((2, 2)), cov=[1.0, -1.0])
    with pytest.raises(ValueError, match="dim must be >= 2"):
        Rosenbrock(1)
    with pytest.raises(ValueError, match="sigma must be >"):
        Funnel(3, sigma=0.0)
    with pytest.raises(TypeError, match="function must be an int address"):
        CompiledPotential("energy", 3)
    with pytest.raises(ValueError, match="null pointer"):
        CompiledPotential(0, 3)


SPD = np.array([[2.0, 0.6], [0.6, 1.0]])
NOT_SYMMETRIC = np.array([[2.0, 0.6], [0.5, 1.0]])
INDEFINITE = np.array([[1.0, 2.0], [2.0, 1.0]])  # eigenvalues 3 and -1


@pytest.mark.parametrize("cov,error,message", [
    (np.stack([SPD, NOT_SYMMETRIC, SPD]), ValueError,
     r"cov\[1\], the covariance of component 1, must be symmetric, "
     r"got cov\[1\]\[0, 1\] = 0.6 and cov\[1\]\[1, 0\] = 0.5"),
    (np.stack([SPD, SPD, INDEFINITE]), ValueError,
     r"cov\[2\], the covariance of component 2, must be positive definite, .* "
     r"smallest eigenvalue is -1"),
    (np.stack([SPD, np.zeros((2, 2)), SPD]), ValueError,
     r"cov\[1\], the covariance of component 1, must be positive definite"),
    (NOT_SYMMETRIC, ValueError, r"^cov must be symmetric, got cov\[0, 1\] = 0.6"),
    (INDEFINITE, ValueError, r"^cov must be positive definite"),
    (np.stack([SPD, [[np.nan, 0.0], [0.0, 1.0]], SPD]), ValueError,
     r"cov must contain only finite values, got nan at index \(1, 0, 0\)"),
    (np.stack([SPD, SPD, [[1.0, np.inf], [np.inf, 1.0]]]), ValueError,
     r"cov must contain only finite values, got inf at index \(2, 0, 1\)"),
    (np.nan, ValueError, "cov must be finite, got nan"),
    (0.0, ValueError, r"cov must be > 0.0, got 0.0"),
    ([[1.0, 2.0], [0.0, 3.0], [1.0, 1.0]], ValueError,
     r"cov must contain positive variances, got 0.0 at index \(1, 0\)"),
    (np.ones((3, 2, 3)), ValueError, r"got shape \(3, 2, 3\)"),
    (np.ones((4, 2, 2)), ValueError,
     r"shape \(d,\), \(K,\), \(K, d\), \(d, d\) or \(K, d, d\) with K = 3 "
     r"components and d = 2 dimensions, got shape \(4, 2, 2\)"),
    (np.ones((1, 3, 2, 2)), ValueError, r"got shape \(1, 3, 2, 2\)"),
    ("identity", TypeError, "cov must be a real number, got str"),
    ([["a", "b"], ["c", "d"]], TypeError, "cov must contain real numbers"),
])
def test_invalid_mixture_cov(cov, error, message):
    with pytest.raises(error, match=message):
        GaussianMixture([0.2, 0.3, 0.5], np.zeros((3, 2)), cov=cov)


def test_kernel_rejects_wrong_parameter_layout():
    potential = mixture_dense()
    kind, theta, constants, n_components, function, user_data = \
        potential.compiled_arguments(np.float64)
    X = np.zeros((2, DIM))
    G = np.empty_like(X)
    U = np.empty(2)
    with pytest.raises(ValueError, match=r"needs 90 parameters in theta, got 89"):
        _mcmc_fast.potential_energy_grad(kind, theta[:-1], constants, n_components,
                                         function, user_data, X, G, U, 1)
    with pytest.raises(ValueError, match="needs 3 constants, got 2"):
        _mcmc_fast.potential_energy_grad(kind, theta, constants[:2], n_components,
                                         function, user_data, X, G, U, 1)
    with pytest.raises(ValueError, match="unknown potential kind 99"):
        _mcmc_fast.potential_energy_grad(99, theta, constants, n_components,
                                         function, user_data, X, G, U, 1)


# --- samplers on the built-in potentials --------------------------------------

def test_mixture_weights_compiled():
    # 0.3 N(-1.5, 1) + 0.7 N(1.5, 1): the modes overlap, so chains cross.
    potential = GaussianMixture([0.3, 0.7], [[-1.5], [1.5]])
    result = hmc(potential, n_chains=200, n_samples=1000, n_warmup=300, n_leapfrog=4,
                 random_state=4)
    positive = (result.samples[..., 0] > 0).astype(float)
    expected = (potential.weights * stats.norm.sf(0, potential.means[:, 0])).sum()
    n_eff = ess(positive, method="mean")
    mcse = np.sqrt(expected * (1 - expected) / n_eff)
    assert abs(positive.mean() - expected) < 4.5 * mcse
    # Chains cross between the modes: most visit both sides.
    assert np.mean((positive.min(axis=1) == 0) & (positive.max(axis=1) == 1)) > 0.9


def test_dense_mixture_stationary_from_exact_draws(dtype):
    potential = mixture_dense()
    rng = np.random.default_rng(6)
    start, fresh = potential.sample(4000, rng), potential.sample(4000, rng)
    result = hmc(potential, start.astype(dtype), n_samples=1, n_warmup=0, thin=10,
                 step_size=0.3, n_leapfrog=5, adapt_step_size=False, adapt_mass=False,
                 random_state=7)
    assert result.samples.dtype == dtype
    assert result.acceptance_rate.mean() > 0.6
    end = result.samples[:, -1].astype(np.float64)
    projections = {f"x{j}": lambda X, j=j: X[:, j] for j in range(DIM)}
    projections["energy"] = potential.energy
    for name, project in projections.items():
        pvalue = stats.ks_2samp(project(end), project(fresh)).pvalue
        assert pvalue > 1e-3 / len(projections), (name, pvalue)
    # The chains moved: most end away from their start.
    assert np.mean(np.any(end != start.astype(dtype), axis=1)) > 0.5


def test_rosenbrock_moments_hmc():
    a, b, mu = 0.5, 2.0, 0.5
    potential = Rosenbrock(2, a=a, b=b, mu=mu)
    result = hmc(potential, n_chains=40, n_samples=1000, n_warmup=500, random_state=5)
    draws = result.samples.astype(np.float64)
    var0 = 1 / (2 * a)
    expected = np.array([mu, mu**2 + var0])
    means = draws.mean(axis=(0, 1))
    mcse = draws.std(axis=(0, 1)) / np.sqrt(ess(draws, method="mean"))
    assert (np.abs(means - expected) < 4.5 * mcse).all(), (means, expected, mcse)


def test_rosenbrock_stationary_from_exact_draws():
    potential = Rosenbrock(3, a=0.5, b=2.0, mu=0.5)
    rng = np.random.default_rng(6)
    start, fresh = potential.sample(4000, rng), potential.sample(4000, rng)
    result = hmc(potential, start, n_samples=1, n_warmup=0, thin=10, step_size=0.2,
                 n_leapfrog=5, adapt_step_size=False, adapt_mass=False, random_state=7)
    end = result.samples[:, -1]
    for j in range(3):
        assert stats.ks_2samp(end[:, j], fresh[:, j]).pvalue > 1e-3 / 3, j


def test_funnel_log_scale_marginal():
    # v = x_0 is exactly N(0, 3^2). Chains start from exact draws and must
    # keep that marginal; divergences in the neck only reject moves.
    potential = Funnel(4, sigma=3.0)
    start = potential.sample(3000, np.random.default_rng(8))
    result = hmc(potential, start, n_samples=1, n_warmup=0, thin=20, step_size=0.2,
                 n_leapfrog=5, adapt_step_size=False, adapt_mass=False, random_state=9)
    v = result.samples[:, -1, 0]
    assert stats.kstest(v / 3.0, "norm").pvalue > 1e-3
    assert np.isfinite(result.samples).all()
    # The chains did move: the positions changed for most of them.
    assert np.mean(result.samples[:, -1, 0] != start[:, 0]) > 0.5


def test_funnel_rwm_counts_no_divergence_for_finite_energy():
    potential = Funnel(3)
    result = rwm(potential, n_chains=8, n_samples=50, n_warmup=50, random_state=10)
    assert np.isfinite(result.samples).all()
    assert result.samples.shape == (8, 50, 3)


# --- compiled callbacks ------------------------------------------------------

C_SOURCE = r"""
#include <stdint.h>
/* A Gaussian with diagonal precision given through user_data. */
double gaussian_energy_grad(const double *x, double *grad, int64_t d, void *user_data)
{
    const double *precision = (const double *)user_data;
    double energy = 0.0;
    for (int64_t j = 0; j < d; j++) {
        grad[j] = precision[j] * x[j];
        energy += 0.5 * grad[j] * x[j];
    }
    return energy;
}
"""


@pytest.fixture(scope="module")
def c_library(tmp_path_factory):
    compiler = shutil.which("gcc")
    if compiler is None:
        pytest.skip("gcc is not installed")
    folder = tmp_path_factory.mktemp("callback")
    source = folder / "target.c"
    source.write_text(C_SOURCE)
    library = folder / "libtarget.so"
    subprocess.run([compiler, "-O2", "-shared", "-fPIC", str(source), "-o", str(library)],
                   check=True)
    return ctypes.CDLL(str(library))


def ctypes_gaussian(c_library, precision):
    buffer = (ctypes.c_double * len(precision))(*precision)
    return CompiledPotential(c_library.gaussian_energy_grad, len(precision), user_data=buffer)


def test_callback_matches_builtin_gaussian(c_library, dtype):
    precision = np.linspace(0.5, 2.0, DIM)
    potential = ctypes_gaussian(c_library, precision)
    builtin = Gaussian(np.zeros(DIM), precision=precision)
    X = np.random.default_rng(11).normal(size=(20, DIM)).astype(dtype)
    for backend in ("fast", "reference"):
        energy, grad = potential.energy_and_grad(X, backend=backend)
        assert grad.dtype == dtype
        np.testing.assert_allclose(energy, builtin.energy(X), rtol=1e-6)
        np.testing.assert_allclose(grad, builtin.grad(X), rtol=1e-6)


def test_callback_sampler_fast_matches_reference(c_library):
    potential = ctypes_gaussian(c_library, np.linspace(0.5, 2.0, DIM))
    x0 = np.random.default_rng(12).normal(size=(6, DIM))
    options = dict(n_samples=20, n_warmup=0, step_size=0.3, random_state=13)
    fast = hmc(potential, x0, n_threads=2, **options)
    ref = hmc(potential, x0, backend="reference", **options)
    np.testing.assert_allclose(fast.samples, ref.samples, rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(fast.divergences, ref.divergences)
    one_thread = hmc(potential, x0, n_samples=20, n_warmup=30, random_state=13,
                     n_threads=1)
    fast = hmc(potential, x0, n_samples=20, n_warmup=30, random_state=13, n_threads=2)
    assert np.array_equal(fast.samples, one_thread.samples)


def test_callback_sampler_moments(c_library):
    precision = np.linspace(0.5, 2.0, DIM)
    potential = ctypes_gaussian(c_library, precision)
    result = hmc(potential, n_chains=20, n_samples=500, n_warmup=300, random_state=14,
                 dtype=np.float32)
    assert result.samples.dtype == np.float32
    draws = result.samples.astype(np.float64)
    mcse = draws.std(axis=(0, 1)) / np.sqrt(ess(draws, method="mean"))
    assert (np.abs(draws.mean(axis=(0, 1))) < 4.5 * mcse).all()
    variance = (draws**2).mean(axis=(0, 1))
    np.testing.assert_allclose(variance, 1 / precision, rtol=0.15)


def test_numba_cfunc_callback():
    numba = pytest.importorskip("numba")
    from numba import types

    signature = types.float64(types.CPointer(types.float64), types.CPointer(types.float64),
                              types.int64, types.voidptr)

    @numba.cfunc(signature, nopython=True)
    def standard_normal(x, grad, d, user_data):
        energy = 0.0
        for j in range(d):
            grad[j] = x[j]
            energy += 0.5 * x[j] * x[j]
        return energy

    potential = CompiledPotential(standard_normal, 3)
    X = np.random.default_rng(15).normal(size=(4, 3))
    np.testing.assert_allclose(potential.energy(X), 0.5 * (X**2).sum(axis=1), rtol=1e-12)
    np.testing.assert_allclose(potential.grad(X), X, rtol=1e-12)
    result = hmc(potential, n_chains=4, n_samples=200, n_warmup=100, random_state=16)
    assert np.isfinite(result.samples).all()
    assert result.acceptance_rate.mean() > 0.5


def test_callback_overflow_is_divergence(c_library):
    # A huge precision with a large step overflows the energy to inf.
    potential = ctypes_gaussian(c_library, np.full(2, 1e308))
    result = hmc(potential, np.full((3, 2), 1e-10), n_samples=10, n_warmup=0,
                 step_size=10.0, adapt_step_size=False, random_state=17)
    assert result.divergences.sum() > 0
    assert np.isfinite(result.samples).all()


# --- results and failures ----------------------------------------------------

def test_to_arviz_conversion():
    arviz = pytest.importorskip("arviz")
    result = hmc(Gaussian(np.zeros(3)), n_chains=4, n_samples=50, n_warmup=20,
                 random_state=18)
    data = result.to_arviz()
    posterior = data.posterior["x"]
    assert posterior.shape == (4, 50, 3)
    np.testing.assert_array_equal(posterior.values, result.samples)
    np.testing.assert_array_equal(data.sample_stats["lp"].values, -result.energies)
    summary = arviz.summary(data)
    assert len(summary) == 3


def test_run_chains_scratch_allocation_failure():
    n_chains, d = 2, 3
    X = np.zeros((n_chains, d))
    G = np.zeros((n_chains, d))
    U = np.zeros(n_chains)
    streams = ChainStreams(np.random.SeedSequence(0), n_chains)
    before = streams.states.copy()
    kind, theta, constants, n_components, function, user_data = \
        Gaussian(np.zeros(d)).compiled_arguments(np.float64)
    with pytest.raises(MemoryError, match="scratch"):
        _mcmc_fast.run_chains(
            1, kind, theta, constants, n_components, function, user_data, X, G, U,
            streams.states, np.full(n_chains, 0.1), np.ones((n_chains, d)), np.ones(d),
            np.zeros(0, dtype=np.int8), 3, 0, 1.0, 5, 1, False, 0.8, 1000.0,
            np.empty((n_chains, 5, d)), np.empty((n_chains, 5)), np.zeros((n_chains, 4)),
            2, n_work=2**55)
    assert np.array_equal(streams.states, before)
