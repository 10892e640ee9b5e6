"""A replay buffer of negative samples: persistent chains with a few restarts per draw."""

import numpy as np

from .._random import as_seed_sequence
from .._validation import check_array, check_int, check_real

__all__ = ["ReplayBuffer"]


class ReplayBuffer:
    """Store past negative samples and hand them out as chain starting points.

    Each :meth:`draw` of n chains restarts about ``restart_fraction * n`` of
    them from ``model.init_samples`` and takes the others from random slots
    of the buffer. After the sampler has refined the chains,
    :meth:`write` stores them back into the same slots, so each stored sample
    is a persistent chain that is refined whenever it is drawn.

    A restarted chain gets a new slot while the buffer has free slots. When
    the buffer is full (``size == capacity``) it takes the slot that was
    filled longest ago, in ring order 0, 1, ..., capacity - 1, 0, ...,
    and so replaces the oldest chain. The buffer starts empty and grows by
    the restarted chains of each draw, plus the chains of a draw that found
    too few stored samples.

    Parameters
    ----------
    capacity : int
        Maximum number of stored samples, >= 1.
    dim : int
        Dimension d of each sample, >= 1.
    restart_fraction : float, default=0.05
        Expected fraction of the chains of each draw that start afresh, in
        [0, 1]. A draw of n chains restarts floor(f * n) chains plus one more
        with probability f * n - floor(f * n), so the count averages f * n
        exactly even when f * n < 1.
    dtype : float32 or float64, default=float64
        Dtype of the stored samples and of the drawn chains.
    random_state : None, int, SeedSequence or Generator, default=None
        Seed of the restart counts, the slot choice and the Generator passed
        to ``model.init_samples``. An int or SeedSequence makes the sequence
        of draws repeatable.

    Attributes
    ----------
    size : int
        Number of filled slots, at most ``capacity``.
    n_restarts : int
        Chains started from ``model.init_samples`` since the buffer was
        created, including those that filled an empty buffer.
    last_restarted : ndarray of shape (n,), dtype bool
        Which chains of the last draw came from ``model.init_samples``.

    Examples
    --------
    >>> import numpy as np
    >>> from ebmfast.ebm import GaussianEnergy, ReplayBuffer
    >>> model = GaussianEnergy(2)
    >>> buffer = ReplayBuffer(1000, 2, random_state=0)
    >>> X, slots = buffer.draw(64, model)     # all fresh: the buffer was empty
    >>> buffer.write(slots, X + 0.1)          # store the refined chains
    >>> X, slots = buffer.draw(64, model)     # now mostly stored chains
    >>> int(buffer.last_restarted.sum()) <= 4
    True
    """

    def __init__(self, capacity, dim, *, restart_fraction=0.05, dtype=np.float64,
                 random_state=None):
        self.capacity = check_int(capacity, "capacity", minimum=1)
        self.dim = check_int(dim, "dim", minimum=1)
        self.restart_fraction = check_real(restart_fraction, "restart_fraction",
                                           minimum=0.0, maximum=1.0)
        try:
            self.dtype = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"dtype must be float32 or float64, got {dtype!r}.") from None
        if self.dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64, got {self.dtype}.")
        self._rng = np.random.default_rng(as_seed_sequence(random_state))
        self._samples = np.zeros((self.capacity, self.dim), dtype=self.dtype)
        self.size = 0
        self._next_ring_slot = 0
        self.n_restarts = 0
        self.last_restarted = np.zeros(0, dtype=bool)

    def __len__(self):
        return self.size

    @property
    def samples(self):
        """Stored samples, shape (size, d), a read-only view."""
        view = self._samples[:self.size]
        view.flags.writeable = False
        return view

    def _restart_count(self, n):
        expected = self.restart_fraction * n
        count = int(np.floor(expected))
        if self._rng.random() < expected - count:
            count += 1
        return count

    def _fresh_slots(self, n_fresh):
        """Reserve n_fresh slots: free ones first, then the oldest in ring order."""
        n_free = min(n_fresh, self.capacity - self.size)
        free = np.arange(self.size, self.size + n_free, dtype=np.int64)
        self.size += n_free
        n_ring = n_fresh - n_free
        ring = (self._next_ring_slot + np.arange(n_ring, dtype=np.int64)) % self.capacity
        self._next_ring_slot = (self._next_ring_slot + n_ring) % self.capacity
        return np.concatenate([free, ring])

    def draw(self, n, model):
        """Draw n chain starting points: stored samples and a few fresh ones.

        Parameters
        ----------
        n : int
            Number of chains, 1 <= n <= capacity.
        model : EnergyModel
            Its ``init_samples(k, rng)`` gives the fresh chains.

        Returns
        -------
        X : ndarray of shape (n, d)
            Starting points, a new array. The fresh chains come first.
        slots : ndarray of shape (n,), dtype int64
            The distinct buffer slot of each row of X, to pass to
            :meth:`write`. The fresh chains are already stored in their
            slots, so the buffer stays valid if :meth:`write` is never called.

        Raises
        ------
        ValueError
            If n is out of range, or ``model.init_samples`` returns an array
            of the wrong shape or with non-finite values.
        """
        n = check_int(n, "n", minimum=1, maximum=self.capacity)
        n_fresh = self._restart_count(n)
        n_fresh = max(n_fresh, n - self.size)
        n_stored = n - n_fresh

        # Choose the stored chains among the filled slots before new slots
        # are reserved, and leave out the ring slots about to be replaced, so
        # that no two chains of this draw share a slot.
        filled = self.size
        fresh_slots = self._fresh_slots(n_fresh)
        candidates = np.setdiff1d(np.arange(filled, dtype=np.int64), fresh_slots,
                                  assume_unique=True)
        stored_slots = self._rng.choice(candidates, size=n_stored, replace=False)
        stored = self._samples[stored_slots]

        fresh = model.init_samples(n_fresh, self._rng)
        fresh = check_array(fresh, f"model.init_samples({n_fresh}, rng)", dtype=self.dtype,
                            n_columns=self.dim, min_rows=0)
        if fresh.shape[0] != n_fresh:
            raise ValueError(f"model.init_samples({n_fresh}, rng) must return {n_fresh} "
                             f"rows, got shape {fresh.shape}.")
        self._samples[fresh_slots] = fresh

        self.n_restarts += n_fresh
        self.last_restarted = np.arange(n) < n_fresh
        X = np.concatenate([fresh, stored]).astype(self.dtype, copy=False)
        slots = np.concatenate([fresh_slots, stored_slots]).astype(np.int64)
        return X, slots

    def write(self, slots, X):
        """Store the refined chains X into their slots.

        Parameters
        ----------
        slots : array_like of int, shape (n,)
            Distinct filled slots, as returned by :meth:`draw`.
        X : array_like of shape (n, d)
            Refined samples, finite.

        Raises
        ------
        ValueError
            If a slot is repeated or not filled, X does not match the slots or
            the dimension, or X contains NaN or inf.
        """
        slots = np.asarray(slots)
        if slots.ndim != 1 or not (slots.dtype.kind in "iu" or slots.size == 0):
            raise ValueError(f"slots must be a 1-D array of ints, got dtype {slots.dtype} "
                             f"and shape {slots.shape}.")
        X = check_array(X, "X", dtype=self.dtype, n_columns=self.dim, min_rows=0)
        if X.shape[0] != slots.shape[0]:
            raise ValueError(f"X must have one row per slot ({slots.shape[0]}), got "
                             f"shape {X.shape}.")
        outside = (slots < 0) | (slots >= self.size)
        if outside.any():
            raise ValueError(f"slots must be filled slots in [0, {self.size}), got "
                             f"{int(slots[np.argmax(outside)])}. Pass the slots "
                             "returned by draw().")
        if np.unique(slots).size != slots.size:
            raise ValueError("slots must be distinct, got a repeated slot.")
        self._samples[slots] = X

    def clear(self):
        """Remove every stored sample; the random stream continues."""
        self.size = 0
        self._next_ring_slot = 0
