"""Seeds and per-chain random streams.

Every chain (or batch row) owns one ``numpy.random.PCG64`` stream spawned from
a ``SeedSequence``. The compiled kernels draw from stream ``i`` only for chain
``i``, so a result depends on the seed and the number of chains, never on the
number of threads. The NumPy reference replays the same draws through
``BitGenerator.random_raw`` (see :func:`uniform`).
"""

import numbers

import numpy as np

__all__ = ["as_seed_sequence", "check_random_state", "ChainStreams", "uniform"]


def as_seed_sequence(random_state):
    """Turn a ``random_state`` argument into a fresh ``SeedSequence``.

    Parameters
    ----------
    random_state : None, int, numpy.random.SeedSequence or numpy.random.Generator
        None draws fresh entropy from the operating system. An int or a
        ``SeedSequence`` gives the same streams on every call; a given
        ``SeedSequence`` is copied, never spawned from, so it is not changed.
        A ``Generator`` is advanced by one draw of four 64-bit words, as any
        use of a generator advances it.

    Returns
    -------
    seed_sequence : numpy.random.SeedSequence
    """
    if random_state is None:
        return np.random.SeedSequence()
    if isinstance(random_state, np.random.SeedSequence):
        return np.random.SeedSequence(
            entropy=random_state.entropy,
            spawn_key=random_state.spawn_key,
            pool_size=random_state.pool_size,
        )
    if isinstance(random_state, np.random.Generator):
        words = random_state.integers(0, 2**63, size=4, dtype=np.uint64)
        return np.random.SeedSequence([int(w) for w in words])
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise ValueError(
                f"random_state must be a non-negative int, got {random_state}."
            )
        return np.random.SeedSequence(int(random_state))
    raise TypeError(
        "random_state must be None, an int, a numpy.random.SeedSequence or a "
        f"numpy.random.Generator, got {type(random_state).__name__}: {random_state!r}."
    )


def check_random_state(random_state):
    """Raise if ``random_state`` is not an accepted type; consume nothing."""
    if random_state is None or isinstance(
            random_state, (np.random.SeedSequence, np.random.Generator)):
        return random_state
    return as_seed_sequence(random_state) and random_state


class ChainStreams:
    """One independent ``PCG64`` stream per chain.

    Parameters
    ----------
    seed_sequence : numpy.random.SeedSequence
        Parent of the streams; it is spawned from, so pass one owned by the
        caller of this class (see :func:`as_seed_sequence`).
    n_streams : int
        Number of streams, one per chain or batch row.

    Notes
    -----
    The streams are not thread-safe objects: the compiled kernels draw from
    them without taking their locks. A model owns its streams and nothing
    else draws from them.
    """

    def __init__(self, seed_sequence, n_streams):
        self.bit_generators = [
            np.random.PCG64(child) for child in seed_sequence.spawn(n_streams)
        ]
        self._addresses = None

    def __len__(self):
        return len(self.bit_generators)

    @property
    def addresses(self):
        """Addresses of the ``bitgen_t`` structs, for the compiled kernels."""
        if self._addresses is None:
            from ._parallel import bitgen_addresses

            self._addresses = bitgen_addresses(self.bit_generators)
        return self._addresses

    def get_state(self):
        """Return a copy of every stream's state, to replay draws later."""
        return [bg.state for bg in self.bit_generators]

    def set_state(self, states):
        """Restore stream states saved by :meth:`get_state`."""
        for bg, state in zip(self.bit_generators, states, strict=True):
            bg.state = state

    def extend(self, seed_sequence, n_more):
        """Append ``n_more`` streams spawned from ``seed_sequence``.

        Passing the parent that created the first streams keeps stream ``i``
        the ``i``-th child of that parent, however the streams were grown.
        """
        self.bit_generators.extend(
            np.random.PCG64(child) for child in seed_sequence.spawn(n_more))
        self._addresses = None

    def copy(self):
        """Return independent streams at the same positions as these."""
        twin = ChainStreams.__new__(ChainStreams)
        twin.bit_generators = []
        for bg in self.bit_generators:
            clone = np.random.PCG64()
            clone.state = bg.state
            twin.bit_generators.append(clone)
        twin._addresses = None
        return twin


_FLOAT32_SCALE = np.float32(2.0**-24)
_FLOAT64_SCALE = 2.0**-53


def uniform(bit_generator, n, dtype):
    """Draw ``n`` uniform numbers in [0, 1) exactly as the compiled kernels do.

    float64 numbers take the top 53 bits of one 64-bit draw each. float32
    numbers come two per 64-bit draw r: first bits 8..31 of r, then bits
    40..63, each scaled by 2**-24; for an odd ``n`` the second half of the
    last draw is dropped.

    Parameters
    ----------
    bit_generator : numpy.random.BitGenerator
    n : int
    dtype : numpy.float32 or numpy.float64

    Returns
    -------
    u : ndarray of shape (n,) and the given dtype
    """
    if np.dtype(dtype) == np.float64:
        raw = bit_generator.random_raw(n)
        return (raw >> np.uint64(11)).astype(np.float64) * _FLOAT64_SCALE
    raw = bit_generator.random_raw((n + 1) // 2)
    low = ((raw & np.uint64(0xFFFFFFFF)) >> np.uint64(8)).astype(np.float32)
    high = (raw >> np.uint64(40)).astype(np.float32)
    pairs = np.empty(2 * raw.size, dtype=np.float32)
    pairs[0::2] = low * _FLOAT32_SCALE
    pairs[1::2] = high * _FLOAT32_SCALE
    return pairs[:n]
