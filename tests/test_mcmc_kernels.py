"""One transition of each sampler: compiled kernel against the NumPy reference."""

import numpy as np
import pytest

from ebmfast._random import ChainStreams
from ebmfast.mcmc import CallablePotential, Gaussian, init_state, step

N_CHAINS, DIM = 13, 6


def tolerance(dtype):
    return 2e-5 if dtype == np.float32 else 1e-12


def dense_gaussian():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(DIM, DIM))
    return Gaussian(rng.normal(size=DIM), cov=A @ A.T / DIM + np.eye(DIM))


@pytest.mark.parametrize("potential", [dense_gaussian(), Gaussian(np.arange(DIM), cov=np.arange(1, DIM + 1))],
                         ids=["dense", "diagonal"])
@pytest.mark.parametrize("sampler,step_size", [("rwm", 0.8), ("hmc", 0.3), ("mala", 0.6), ("ula", 0.3)])
def test_one_step_agrees(dtype, potential, sampler, step_size):
    x0 = np.random.default_rng(1).normal(size=(N_CHAINS, DIM)).astype(dtype)
    state = init_state(potential, x0)
    streams = ChainStreams(np.random.SeedSequence(2), N_CHAINS)
    twin = streams.copy()
    steps = np.linspace(0.5, 1.5, N_CHAINS) * step_size
    inv_mass = np.linspace(0.5, 2.0, DIM)
    fast_state, fast_info = step(sampler, potential, state, streams, step_size=steps,
                                 n_leapfrog=4, inv_mass=inv_mass, backend="fast", n_threads=2)
    ref_state, ref_info = step(sampler, potential, state, twin, step_size=steps,
                               n_leapfrog=4, inv_mass=inv_mass, backend="reference")
    assert np.array_equal(streams.states, twin.states)
    assert np.array_equal(fast_info.accepted, ref_info.accepted)
    assert 0 < ref_info.accepted.sum() or sampler == "ula"
    np.testing.assert_allclose(fast_info.accept_prob, ref_info.accept_prob,
                               rtol=1e3 * tolerance(dtype), atol=tolerance(dtype))
    assert fast_state.position.dtype == dtype
    np.testing.assert_allclose(fast_state.position, ref_state.position,
                               rtol=tolerance(dtype), atol=tolerance(dtype))
    np.testing.assert_allclose(fast_state.energy, ref_state.energy,
                               rtol=tolerance(dtype), atol=tolerance(dtype))
    np.testing.assert_allclose(fast_state.grad, ref_state.grad,
                               rtol=tolerance(dtype), atol=10 * tolerance(dtype))


def test_one_step_rejects_some():
    potential = dense_gaussian()
    state = init_state(potential, np.random.default_rng(1).normal(size=(200, DIM)))
    streams = ChainStreams(np.random.SeedSequence(3), 200)
    _, info = step("hmc", potential, state, streams, step_size=0.9, n_leapfrog=4)
    assert 0 < info.accepted.sum() < 200


def test_callable_fast_matches_reference(dtype):
    gaussian = dense_gaussian()
    potential = CallablePotential(gaussian.energy, gaussian.grad, dim=DIM)
    x0 = np.random.default_rng(1).normal(size=(N_CHAINS, DIM)).astype(dtype)
    state = init_state(potential, x0)
    streams = ChainStreams(np.random.SeedSequence(4), N_CHAINS)
    twin = streams.copy()
    fast, _ = step("hmc", potential, state, streams, step_size=0.3, n_leapfrog=3, backend="fast")
    ref, _ = step("hmc", potential, state, twin, step_size=0.3, n_leapfrog=3,
                  backend="reference")
    assert np.array_equal(fast.position, ref.position)


def test_step_leaves_state_unchanged():
    potential = dense_gaussian()
    state = init_state(potential, np.zeros((3, DIM)))
    before = state.position.copy()
    step("hmc", potential, state, ChainStreams(np.random.SeedSequence(0), 3), step_size=0.5)
    assert np.array_equal(state.position, before)
