"""Seeds and per-chain random streams.

Every chain (or batch row) owns one SFC64 stream seeded from its own child of
a ``SeedSequence``. The compiled kernels advance stream ``i`` only for chain
``i``, so a result depends on the seed and the number of chains, never on the
number of threads. The streams are the generator of ``numpy.random.SFC64``
with its state kept in a plain ``(n_streams, 4)`` uint64 array, which the
kernels advance inline; the NumPy reference replays the same draws with
``numpy.random.SFC64.random_raw`` (see :meth:`ChainStreams.uniform`).
"""

import numbers

import numpy as np

__all__ = ["as_seed_sequence", "check_random_state", "ChainStreams"]


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
    """One independent SFC64 stream per chain, as rows of a state array.

    Parameters
    ----------
    seed_sequence : numpy.random.SeedSequence
        Parent of the streams; stream ``i`` is seeded by its ``i``-th child.
        It is spawned from, so pass one owned by the caller of this class
        (see :func:`as_seed_sequence`).
    n_streams : int
        Number of streams, one per chain or batch row.

    Attributes
    ----------
    states : ndarray of shape (n_streams, 4), dtype uint64
        The words (a, b, c, counter) of each stream, laid out as
        ``numpy.random.SFC64().state["state"]["state"]``.

    Notes
    -----
    Uniform numbers come from the 64-bit draws r as follows. float64: one
    number (r >> 11) * 2**-53 per draw. float32: two numbers per draw, first
    bits 8..31 of r, then bits 40..63, each times 2**-24; for an odd count
    the second half of the last draw is dropped.
    """

    def __init__(self, seed_sequence, n_streams):
        self.states = np.empty((0, 4), dtype=np.uint64)
        self.extend(seed_sequence, n_streams)

    def __len__(self):
        return self.states.shape[0]

    def extend(self, seed_sequence, n_more):
        """Append ``n_more`` streams spawned from ``seed_sequence``.

        Passing the parent that created the first streams keeps stream ``i``
        the ``i``-th child of that parent, however the streams were grown.
        """
        rows = [np.random.SFC64(child).state["state"]["state"]
                for child in seed_sequence.spawn(n_more)]
        if rows:
            self.states = np.ascontiguousarray(np.vstack([self.states, *rows]))

    def copy(self):
        """Return independent streams at the same positions as these."""
        return ChainStreams.from_states(self.states)

    @classmethod
    def from_states(cls, states, name="states", n_streams=None):
        """Return streams that start from a copy of ``states``.

        Parameters
        ----------
        states : array_like of shape (n_streams, 4), unsigned 64-bit integers
            Stream words as in :attr:`states`, for example the ``rng_state``
            of a sampler's final state. The array is copied, never advanced.
        name : str
            Name of the argument in error messages.
        n_streams : int, optional
            Required number of streams.
        """
        array = np.asarray(states)
        if array.dtype != np.uint64:
            raise TypeError(f"{name} must have dtype uint64, got {array.dtype}.")
        rows = "n_streams" if n_streams is None else n_streams
        if array.ndim != 2 or array.shape[1] != 4 or (
                n_streams is not None and array.shape[0] != n_streams):
            raise ValueError(f"{name} must have shape ({rows}, 4), one row per "
                             f"stream, got shape {array.shape}.")
        streams = cls.__new__(cls)
        streams.states = np.array(array, dtype=np.uint64, order="C", copy=True)
        return streams

    def random_raw(self, i, n):
        """Return the next ``n`` 64-bit draws of stream ``i`` and advance it."""
        generator = np.random.SFC64()
        generator.state = {"bit_generator": "SFC64",
                           "state": {"state": self.states[i]},
                           "has_uint32": 0, "uinteger": 0}
        raw = generator.random_raw(n)
        self.states[i] = generator.state["state"]["state"]
        return raw

    def uniform(self, i, n, dtype):
        """Draw ``n`` uniform numbers in [0, 1) from stream ``i``, as the kernels do."""
        if np.dtype(dtype) == np.float64:
            raw = self.random_raw(i, n)
            return (raw >> np.uint64(11)).astype(np.float64) * _FLOAT64_SCALE
        raw = self.random_raw(i, (n + 1) // 2)
        low = ((raw & np.uint64(0xFFFFFFFF)) >> np.uint64(8)).astype(np.float32)
        high = (raw >> np.uint64(40)).astype(np.float32)
        pairs = np.empty(2 * raw.size, dtype=np.float32)
        pairs[0::2] = low * _FLOAT32_SCALE
        pairs[1::2] = high * _FLOAT32_SCALE
        return pairs[:n]


_FLOAT32_SCALE = np.float32(2.0**-24)
_FLOAT64_SCALE = 2.0**-53
