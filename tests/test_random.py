import numpy as np
import pytest

from ebmfast import _rbm_fast
from ebmfast._random import ChainStreams, as_seed_sequence


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


def test_streams_are_numpy_sfc64_children():
    streams = ChainStreams(np.random.SeedSequence(1), 3)
    children = np.random.SeedSequence(1).spawn(3)
    for i, child in enumerate(children):
        expected = np.random.SFC64(child).random_raw(5)
        assert np.array_equal(streams.random_raw(i, 5), expected)


def test_extended_streams_match_spawned():
    # Stream i is the i-th child of the parent however the set was grown.
    direct = ChainStreams(np.random.SeedSequence(1), 3)
    parent = np.random.SeedSequence(1)
    grown = ChainStreams(parent, 1)
    grown.extend(parent, 2)
    assert np.array_equal(direct.states, grown.states)


def test_kernel_advances_streams_like_numpy_sfc64():
    streams = ChainStreams(np.random.SeedSequence(2), 4)
    replay = streams.copy()
    probs = np.full((4, 9), 0.5, dtype=np.float32)  # 9 floats: 5 draws per row
    _rbm_fast.sample_bernoulli(probs, streams.states, np.empty_like(probs), 2)
    for i in range(4):
        replay.random_raw(i, 5)
    assert np.array_equal(streams.states, replay.states)


@pytest.mark.parametrize("n", [1, 2, 7, 64, 300, 513])
def test_uniform_replay_matches_kernel(dtype, n):
    # Thresholds just above each replayed uniform give all ones, thresholds
    # equal to it all zeros, which pins every number the kernel drew.
    streams = ChainStreams(np.random.SeedSequence(11), 1)
    u = streams.copy().uniform(0, n, dtype)
    assert u.dtype == dtype
    assert ((u >= 0) & (u < 1)).all()
    out = np.empty((1, n), dtype)
    above = np.nextafter(u, np.array(2, dtype)).reshape(1, n)
    _rbm_fast.sample_bernoulli(above, streams.copy().states, out, 1)
    assert (out == 1).all()
    _rbm_fast.sample_bernoulli(u.reshape(1, n).copy(), streams.copy().states, out, 1)
    assert (out == 0).all()


def test_uniform_moments(dtype):
    u = ChainStreams(np.random.SeedSequence(0), 1).uniform(0, 200_001, dtype)
    u = u.astype(np.float64)
    assert abs(u.mean() - 0.5) < 4 * np.sqrt(1 / 12 / u.size)
    assert abs(u.var() - 1 / 12) < 0.002
