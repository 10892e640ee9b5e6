import numpy as np
import pytest

from ebmfast import _rbm_fast
from ebmfast._random import ChainStreams, as_seed_sequence, uniform


def test_int_seed_repeats():
    a = as_seed_sequence(5).generate_state(4)
    b = as_seed_sequence(5).generate_state(4)
    assert np.array_equal(a, b)


def test_seed_sequence_not_modified():
    parent = np.random.SeedSequence(7)
    first = as_seed_sequence(parent)
    first.spawn(3)
    second = as_seed_sequence(parent)
    assert parent.n_children_spawned == 0
    assert np.array_equal(first.generate_state(2), second.generate_state(2))


def test_generator_is_advanced():
    rng = np.random.default_rng(3)
    a = as_seed_sequence(rng).generate_state(2)
    b = as_seed_sequence(rng).generate_state(2)
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("bad, error", [
    (-1, ValueError), (1.5, TypeError), ("seed", TypeError), (True, TypeError),
])
def test_bad_random_state(bad, error):
    with pytest.raises(error, match="random_state"):
        as_seed_sequence(bad)


def test_streams_are_distinct_children():
    streams = ChainStreams(np.random.SeedSequence(1), 3)
    draws = [bg.random_raw(4) for bg in streams.bit_generators]
    assert not np.array_equal(draws[0], draws[1])
    assert not np.array_equal(draws[1], draws[2])


def test_extended_streams_match_spawned():
    # Stream i is the i-th child of the parent however the set was grown.
    direct = ChainStreams(np.random.SeedSequence(1), 3)
    parent = np.random.SeedSequence(1)
    grown = ChainStreams(parent, 1)
    grown.extend(parent, 2)
    for a, b in zip(direct.bit_generators, grown.bit_generators, strict=True):
        assert np.array_equal(a.random_raw(3), b.random_raw(3))


@pytest.mark.parametrize("n", [1, 2, 7, 64])
def test_uniform_replay_matches_kernel(dtype, n):
    # A probability of 1 - u can only be met exactly; compare the kernel's
    # Bernoulli decisions with thresholds placed between replayed uniforms.
    streams = ChainStreams(np.random.SeedSequence(11), 1)
    replay = streams.copy()
    u = uniform(replay.bit_generators[0], n, dtype)
    assert u.dtype == dtype
    assert ((u >= 0) & (u < 1)).all()
    probs = np.nextafter(u, np.array(2, dtype)).reshape(1, n)  # just above u
    out = np.empty_like(probs)
    _rbm_fast.sample_bernoulli(probs, streams.addresses, out, 1)
    assert (out == 1).all()
    streams_again = ChainStreams(np.random.SeedSequence(11), 1)
    _rbm_fast.sample_bernoulli(u.reshape(1, n).copy(), streams_again.addresses, out, 1)
    assert (out == 0).all()  # u < u is false for every element


def test_uniform_moments(dtype):
    bg = np.random.PCG64(0)
    u = uniform(bg, 200_001, dtype).astype(np.float64)
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 0.002
