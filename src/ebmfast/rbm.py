"""Bernoulli-Bernoulli restricted Boltzmann machine."""

import logging
import time

import numpy as np

from . import _rbm_ops as ops
from ._model_files import read_model_file, write_model_file
from ._random import ChainStreams, as_seed_sequence, check_random_state
from ._rbm_eval import (
    MAX_EXACT_UNITS, LogPartition, ais_log_partition, exact_log_partition)
from ._validation import (
    check_array, check_backend, check_bool, check_int, check_n_threads,
    check_real)

__all__ = ["BernoulliRBM", "NotFittedError"]

logger = logging.getLogger("ebmfast")

_FILE_KIND = "ebmfast.BernoulliRBM"
_UNIT_RANGE_HINT = ("Scale the data to [0, 1] first, for example X / 255 for "
                    "8-bit images or X / X.max().")


class NotFittedError(ValueError, AttributeError):
    """Raised when a model is used before it has parameters."""


class BernoulliRBM:
    """Restricted Boltzmann machine with binary visible and hidden units.

    The energy of a visible vector v and hidden vector h is

        E(v, h) = -v^T W h - b^T v - c^T h,

    with weights W of shape (n_visible, n_hidden), visible bias b and hidden
    bias c. Training maximises the log-likelihood by contrastive divergence
    (CD-k) or persistent contrastive divergence (PCD-k) with momentum and an
    L2 penalty on W.

    Parameters
    ----------
    n_hidden : int, default=100
        Number of hidden units.
    learning_rate : float, default=0.05
        Step size of the gradient ascent, > 0.
    batch_size : int, default=10
        Rows per minibatch in :meth:`fit`.
    n_epochs : int, default=20
        Passes over the data in :meth:`fit`; minibatches are reshuffled on
        every pass.
    k : int, default=1
        Gibbs sweeps in the negative phase of each update, >= 1.
    persistent : bool, default=False
        Use persistent chains (PCD-k) kept across minibatches, epochs and
        :meth:`partial_fit` calls, instead of chains restarted at the data.
    n_chains : int or None, default=None
        Number of persistent chains; None uses ``batch_size``. The negative
        statistics are averaged over the chains and the positive ones over
        the data rows, so the two counts may differ. Ignored without
        ``persistent``.
    momentum : float, default=0.5
        Momentum coefficient in [0, 1).
    weight_decay : float, default=0.0
        L2 penalty coefficient on W, >= 0.
    init_visible_bias : bool, default=True
        Start the visible bias at log(p / (1 - p)) of the data means p,
        clipped to [1e-3, 1 - 1e-3]; otherwise at zero.
    init_scale : float, default=0.01
        Standard deviation of the initial weights.
    backend : {"fast", "reference"}, default="fast"
        "fast" runs the compiled kernels; "reference" runs their NumPy twins.
        Both give the same results up to float rounding.
    n_threads : int or None, default=None
        OpenMP threads for the compiled kernels; None uses every thread
        OpenMP allows (``OMP_NUM_THREADS`` is honoured). Results do not
        depend on it. Training, Gibbs sampling and AIS give each thread
        whole blocks of rows and make scipy's OpenBLAS single-threaded while
        they run, then restore its thread count. With another BLAS they run
        on one OpenMP thread and the BLAS's own threads.
    random_state : None, int, SeedSequence or Generator, default=None
        Seed of the initial weights, the minibatch order and the per-chain
        random streams. An int or SeedSequence makes :meth:`fit` repeatable.
    verbose : bool, default=False
        Log one line per epoch to the "ebmfast" logger (reconstruction
        error, pseudo-log-likelihood, time) and show a progress bar when
        tqdm is installed.
    monitor_size : int, default=256
        Rows of the training data, chosen once per :meth:`fit`, on which the
        per-epoch metrics in ``history_`` are computed.

    Attributes
    ----------
    weights_ : ndarray of shape (n_visible, n_hidden)
    visible_bias_ : ndarray of shape (n_visible,)
    hidden_bias_ : ndarray of shape (n_hidden,)
    n_visible_ : int
    persistent_hidden_ : ndarray of shape (n_chains, n_hidden) or None
        Hidden states of the persistent chains (PCD only).
    history_ : list of dict
        One entry per epoch of :meth:`fit`: "epoch", "reconstruction_error",
        "pseudo_likelihood" (NaN unless ``verbose``), "seconds" (training
        time of the epoch, without the metrics).

    Notes
    -----
    Every negative chain (or minibatch row) draws from its own PCG64 stream
    spawned from the seed, so for a fixed seed the fitted parameters are
    identical for any ``n_threads``.

    References
    ----------
    G. E. Hinton, "Training products of experts by minimizing contrastive
    divergence", Neural Computation 14(8), 2002.
    T. Tieleman, "Training restricted Boltzmann machines using
    approximations to the likelihood gradient", ICML 2008.
    """

    def __init__(self, n_hidden=100, *, learning_rate=0.05, batch_size=10,
                 n_epochs=20, k=1, persistent=False, n_chains=None,
                 momentum=0.5, weight_decay=0.0, init_visible_bias=True,
                 init_scale=0.01, backend="fast", n_threads=None,
                 random_state=None, verbose=False, monitor_size=256):
        self.n_hidden = n_hidden
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.k = k
        self.persistent = persistent
        self.n_chains = n_chains
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.init_visible_bias = init_visible_bias
        self.init_scale = init_scale
        self.backend = backend
        self.n_threads = n_threads
        self.random_state = random_state
        self.verbose = verbose
        self.monitor_size = monitor_size
        self._check_params()

    # -- parameters ---------------------------------------------------------

    def _check_params(self):
        check_int(self.n_hidden, "n_hidden", minimum=1)
        check_real(self.learning_rate, "learning_rate", minimum=0.0, include_minimum=False)
        check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.n_epochs, "n_epochs", minimum=0)
        check_int(self.k, "k", minimum=1)
        check_bool(self.persistent, "persistent")
        if self.n_chains is not None:
            check_int(self.n_chains, "n_chains", minimum=1)
        check_real(self.momentum, "momentum", minimum=0.0, maximum=1.0, include_maximum=False)
        check_real(self.weight_decay, "weight_decay", minimum=0.0)
        check_bool(self.init_visible_bias, "init_visible_bias")
        check_real(self.init_scale, "init_scale", minimum=0.0)
        check_backend(self.backend)
        check_n_threads(self.n_threads)
        check_random_state(self.random_state)
        check_bool(self.verbose, "verbose")
        check_int(self.monitor_size, "monitor_size", minimum=1)

    def get_params(self):
        """Return the constructor parameters as a dict."""
        names = ("n_hidden", "learning_rate", "batch_size", "n_epochs", "k",
                 "persistent", "n_chains", "momentum", "weight_decay",
                 "init_visible_bias", "init_scale", "backend", "n_threads",
                 "random_state", "verbose", "monitor_size")
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_params(cls, weights, visible_bias, hidden_bias, **kwargs):
        """Build a model with given parameters, ready to sample and evaluate.

        Parameters
        ----------
        weights : array_like of shape (n_visible, n_hidden)
        visible_bias : array_like of shape (n_visible,)
        hidden_bias : array_like of shape (n_hidden,)
        **kwargs
            Constructor parameters; ``n_hidden`` is taken from ``weights``.

        Returns
        -------
        model : BernoulliRBM
            The arrays are copied; float32 weights give a float32 model,
            anything else float64.
        """
        W = check_array(weights, "weights", copy=True)
        dtype = W.dtype
        b = check_array(visible_bias, "visible_bias", dtype=dtype, ndim=1, copy=True)
        c = check_array(hidden_bias, "hidden_bias", dtype=dtype, ndim=1, copy=True)
        if b.shape[0] != W.shape[0]:
            raise ValueError(
                f"visible_bias must have shape ({W.shape[0]},) to match weights "
                f"of shape {W.shape}, got {b.shape}.")
        if c.shape[0] != W.shape[1]:
            raise ValueError(
                f"hidden_bias must have shape ({W.shape[1]},) to match weights "
                f"of shape {W.shape}, got {c.shape}.")
        kwargs["n_hidden"] = W.shape[1]
        model = cls(**kwargs)
        model._reset_random_state()
        model._set_parameters(W, b, c)
        return model

    def _reset_random_state(self):
        """Derive the training and sampling randomness from random_state.

        One child seeds the initial weights and the minibatch order, one
        parents the per-chain training streams and one the streams of
        :meth:`sample` and :meth:`gibbs`.
        """
        seed = as_seed_sequence(self.random_state)
        rng_seed, self._stream_seed, self._sampling_seed = seed.spawn(3)
        self._rng = np.random.Generator(np.random.PCG64(rng_seed))
        self._streams = ChainStreams(self._stream_seed, 0)
        self._sampling = ChainStreams(self._sampling_seed, 0)

    def _set_parameters(self, W, b, c, data_visible_bias=None):
        self.weights_, self.visible_bias_, self.hidden_bias_ = W, b, c
        self.n_visible_ = W.shape[0]
        self._data_visible_bias = data_visible_bias
        self._velocities = [np.zeros_like(W), np.zeros_like(b), np.zeros_like(c)]
        self.persistent_hidden_ = None
        self.history_ = []

    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise NotFittedError(
                "This BernoulliRBM has no parameters yet; call fit, partial_fit "
                "or BernoulliRBM.from_params first.")

    @property
    def dtype(self):
        """Floating dtype of the parameters and of every output."""
        self._check_fitted()
        return self.weights_.dtype

    def _streams_for(self, n_rows):
        """Return the training streams, spawning more so there are n_rows."""
        missing = n_rows - len(self._streams)
        if missing > 0:
            self._streams.extend(self._stream_seed, missing)
        return self._streams

    def _sampling_streams(self, n_rows, random_state):
        """Return streams for n_rows chains of :meth:`sample` or :meth:`gibbs`.

        Without a random_state the model's own sampling streams are reused
        and continued, which is far cheaper than spawning new ones per call.
        """
        if random_state is not None:
            return ChainStreams(as_seed_sequence(random_state), n_rows)
        missing = n_rows - len(self._sampling)
        if missing > 0:
            self._sampling.extend(self._sampling_seed, missing)
        return self._sampling

    def _check_data(self, X, name="X"):
        self._check_fitted()
        return check_array(X, name, dtype=self.dtype, n_columns=self.n_visible_,
                           value_range=(0.0, 1.0), range_hint=_UNIT_RANGE_HINT)

    # -- training -----------------------------------------------------------

    def _initialise(self, X):
        self._check_params()
        dtype = X.dtype
        n_visible = X.shape[1]
        self._reset_random_state()
        W = (self._rng.standard_normal((n_visible, self.n_hidden)) * self.init_scale).astype(dtype)
        means = np.clip(X.mean(axis=0, dtype=np.float64), 1e-3, 1 - 1e-3)
        data_bias = np.log(means / (1 - means))
        b = data_bias.astype(dtype) if self.init_visible_bias else np.zeros(n_visible, dtype)
        c = np.zeros(self.n_hidden, dtype)
        self._set_parameters(W, b, c, data_visible_bias=data_bias)

    def _init_persistent_chains(self, X):
        n_chains = self.n_chains if self.n_chains is not None else self.batch_size
        rows = self._rng.integers(0, X.shape[0], size=n_chains)
        streams = self._streams_for(n_chains)
        P = self._hidden_probs(np.ascontiguousarray(X[rows]))
        self.persistent_hidden_ = ops.sample_bernoulli(
            P, streams, self.backend, check_n_threads(self.n_threads))

    def _train_pass(self, X, order, batch_size):
        persistent = self.persistent_hidden_ if self.persistent else None
        n_streams = max(min(batch_size, order.size),
                        0 if persistent is None else persistent.shape[0])
        params = [self.weights_, self.visible_bias_, self.hidden_bias_]
        backup = [p.copy() for p in params]
        ops.train_epoch(
            X, order, batch_size, params, self._velocities,
            self._streams_for(n_streams), k=self.k,
            learning_rate=self.learning_rate, momentum=self.momentum,
            weight_decay=self.weight_decay, persistent_hidden=persistent,
            backend=self.backend, n_threads=check_n_threads(self.n_threads))
        if not all(np.isfinite(p).all() for p in params):
            for param, saved in zip(params, backup):
                param[...] = saved
            for velocity in self._velocities:
                velocity[...] = 0
            raise FloatingPointError(
                "training produced non-finite parameters; the parameters from "
                "before this pass were restored. Lower learning_rate (now "
                f"{self.learning_rate}) or momentum (now {self.momentum}).")

    def fit(self, X):
        """Train the model on X from a fresh initialisation.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_visible)
            Training data with values in [0, 1]. float32 input gives a float32
            model, any other numeric input float64.

        Returns
        -------
        self : BernoulliRBM
        """
        X = check_array(X, "X", value_range=(0.0, 1.0), range_hint=_UNIT_RANGE_HINT)
        self._initialise(X)
        if self.persistent:
            self._init_persistent_chains(X)
        monitor = X[self._rng.choice(X.shape[0], min(self.monitor_size, X.shape[0]),
                                     replace=False)]
        epochs = range(1, self.n_epochs + 1)
        if self.verbose:
            epochs = _progress(epochs)
        for epoch in epochs:
            order = self._rng.permutation(X.shape[0]).astype(np.int64)
            start = time.perf_counter()
            self._train_pass(X, order, self.batch_size)
            seconds = time.perf_counter() - start
            self._record_epoch(epoch, monitor, seconds)
        return self

    def partial_fit(self, X):
        """Apply one update with X as a single minibatch.

        The first call initialises the model from X. With CD-k the negative
        phase runs one chain per row of X; with PCD-k it runs the persistent
        chains (``n_chains`` of them), whatever the size of X.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_visible)

        Returns
        -------
        self : BernoulliRBM
        """
        if not hasattr(self, "weights_"):
            X = check_array(X, "X", value_range=(0.0, 1.0), range_hint=_UNIT_RANGE_HINT)
            self._initialise(X)
        else:
            X = self._check_data(X)
        if self.persistent and self.persistent_hidden_ is None:
            self._init_persistent_chains(X)
        order = np.arange(X.shape[0], dtype=np.int64)
        self._train_pass(X, order, X.shape[0])
        return self

    def _record_epoch(self, epoch, monitor, seconds):
        entry = {"epoch": epoch,
                 "reconstruction_error": self.reconstruction_error(monitor),
                 "pseudo_likelihood": float("nan"),
                 "seconds": seconds}
        if self.verbose:
            entry["pseudo_likelihood"] = float(self.score_samples(monitor).mean())
            _ensure_log_handler()
            logger.info(
                "epoch %d: reconstruction error %.5f, pseudo-log-likelihood "
                "%.3f, %.3f s", epoch, entry["reconstruction_error"],
                entry["pseudo_likelihood"], seconds)
        self.history_.append(entry)

    # -- conditionals and sampling ------------------------------------------

    def _hidden_probs(self, V):
        return ops.hidden_probs(V, self.weights_, self.hidden_bias_, self.backend,
                                check_n_threads(self.n_threads))

    def _visible_probs(self, H):
        return ops.visible_probs(H, self.weights_, self.visible_bias_, self.backend,
                                 check_n_threads(self.n_threads))

    def transform(self, X):
        """Return p(h = 1 | v) for each row of X, shape (n_samples, n_hidden)."""
        return self._hidden_probs(self._check_data(X))

    def hidden_probs(self, V):
        """Return p(h_j = 1 | v) = logistic(c + v W), shape (n_samples, n_hidden)."""
        return self._hidden_probs(self._check_data(V, "V"))

    def visible_probs(self, H):
        """Return p(v_i = 1 | h) = logistic(b + W h), shape (n_samples, n_visible)."""
        self._check_fitted()
        H = check_array(H, "H", dtype=self.dtype, n_columns=self.n_hidden,
                        value_range=(0.0, 1.0))
        return self._visible_probs(H)

    def gibbs(self, V, n_steps=1, *, random_state=None):
        """Run block Gibbs sweeps v -> h -> v from each row of V.

        Parameters
        ----------
        V : array_like of shape (n_chains, n_visible)
            Starting visible states in [0, 1]; not modified.
        n_steps : int, default=1
        random_state : None, int, SeedSequence or Generator
            Seed of the per-chain streams; None continues the model's own
            sampling seed, so repeated calls differ.

        Returns
        -------
        V : ndarray of shape (n_chains, n_visible)
            Binary visible states after the last sweep.
        """
        V = self._check_data(V, "V")
        n_steps = check_int(n_steps, "n_steps", minimum=0)
        streams = self._sampling_streams(V.shape[0], random_state)
        states, _, _ = ops.gibbs(V, self.weights_, self.visible_bias_, self.hidden_bias_,
                                 streams, n_steps, self.backend,
                                 check_n_threads(self.n_threads))
        return states

    def sample(self, n_samples, n_steps=1000, *, init=None, random_state=None,
               return_states=False):
        """Draw samples by running ``n_samples`` independent Gibbs chains.

        Each chain starts at ``init`` or at a draw from the visible biases
        alone, v_i ~ Bernoulli(logistic(b_i)), and runs ``n_steps`` sweeps.

        Parameters
        ----------
        n_samples : int
        n_steps : int, default=1000
            Sweeps per chain, >= 1.
        init : array_like of shape (n_samples, n_visible), optional
        random_state : None, int, SeedSequence or Generator
            Seed of the per-chain streams; None continues the model's own
            sampling seed, so repeated calls differ.
        return_states : bool, default=False
            Also return the binary visible states.

        Returns
        -------
        probabilities : ndarray of shape (n_samples, n_visible)
            p(v = 1 | h) at the last sweep, a smoother picture of the
            sample than the binary state.
        states : ndarray of shape (n_samples, n_visible)
            Only with ``return_states``.
        """
        self._check_fitted()
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        n_steps = check_int(n_steps, "n_steps", minimum=1)
        n_threads = check_n_threads(self.n_threads)
        streams = self._sampling_streams(n_samples, random_state)
        if init is None:
            start = np.broadcast_to(_logistic(self.visible_bias_), (n_samples, self.n_visible_))
            V = ops.sample_bernoulli(np.ascontiguousarray(start), streams,
                                     self.backend, n_threads)
        else:
            V = self._check_data(init, "init")
            if V.shape[0] != n_samples:
                raise ValueError(
                    f"init must have n_samples={n_samples} rows, got shape {V.shape}.")
        states, probabilities, _ = ops.gibbs(
            V, self.weights_, self.visible_bias_, self.hidden_bias_, streams,
            n_steps, self.backend, n_threads)
        return (probabilities, states) if return_states else probabilities

    # -- energies and evaluation ----------------------------------------------

    def energy(self, V, H):
        """Return E(v, h) = -v^T W h - b^T v - c^T h for paired rows of V and H."""
        V = self._check_data(V, "V")
        H = check_array(H, "H", dtype=self.dtype, n_columns=self.n_hidden,
                        value_range=(0.0, 1.0))
        if H.shape[0] != V.shape[0]:
            raise ValueError(
                f"V and H must have the same number of rows, got {V.shape[0]} and {H.shape[0]}.")
        return (-np.einsum("ni,ij,nj->n", V, self.weights_, H)
                - V @ self.visible_bias_ - H @ self.hidden_bias_)

    def free_energy(self, V):
        """Return F(v) = -b^T v - sum_j softplus(c_j + (v W)_j) for each row.

        p(v) = exp(-F(v)) / Z.
        """
        V = self._check_data(V, "V")
        return ops.free_energy(V, self.weights_, self.visible_bias_, self.hidden_bias_,
                               self.backend, check_n_threads(self.n_threads))

    def reconstruction_error(self, X):
        """Return the mean squared error of the mean-field reconstruction.

        The reconstruction is p(v = 1 | h = p(h = 1 | x)), computed without
        sampling, so the value is deterministic.
        """
        X = self._check_data(X)
        reconstruction = self._visible_probs(self._hidden_probs(X))
        return float(np.mean((X.astype(np.float64) - reconstruction) ** 2))

    def score_samples(self, X):
        """Return the pseudo-log-likelihood of each row of X.

        The value is the exact sum over all features,
        sum_i log p(v_i | v_-i), so it needs no random numbers and is the
        same on every call. It costs n_visible times a free energy.

        Returns
        -------
        scores : ndarray of shape (n_samples,), float64
        """
        X = self._check_data(X)
        return ops.pseudo_log_likelihood(
            X, self.weights_, self.visible_bias_, self.hidden_bias_,
            self.backend, check_n_threads(self.n_threads))

    def log_partition(self, method="auto", *, n_runs=100, n_betas=10000,
                      base_visible_bias=None, random_state=None):
        """Return log Z, exactly or by annealed importance sampling (AIS).

        Parameters
        ----------
        method : {"auto", "exact", "ais"}, default="auto"
            "exact" sums over every state of the smaller layer, which must
            have at most 20 units; "auto" uses it when possible, else AIS.
        n_runs : int, default=100
            AIS runs; the standard error shrinks as 1 / sqrt(n_runs).
        n_betas : int, default=10000
            AIS inverse temperatures between the base model and the RBM.
        base_visible_bias : array_like of shape (n_visible,), optional
            Visible biases of the AIS base model. By default the
            log-odds of the training data means, or zeros for a model built
            by :meth:`from_params`.
        random_state : None, int, SeedSequence or Generator
            Seed of the AIS runs, one stream per run.

        Returns
        -------
        result : LogPartition
            Named tuple (log_z, stderr, method, n_runs, n_betas).
        """
        self._check_fitted()
        if method not in ("auto", "exact", "ais"):
            raise ValueError(f"method must be 'auto', 'exact' or 'ais', got {method!r}.")
        W, b, c = self.weights_, self.visible_bias_, self.hidden_bias_
        if method == "auto":
            method = "exact" if min(W.shape) <= MAX_EXACT_UNITS else "ais"
        if method == "exact":
            return LogPartition(exact_log_partition(W, b, c), 0.0, "exact", 0, 0)
        n_runs = check_int(n_runs, "n_runs", minimum=2)
        n_betas = check_int(n_betas, "n_betas", minimum=3)
        if base_visible_bias is None:
            base = self._data_visible_bias
            base = np.zeros(self.n_visible_) if base is None else base
        else:
            base = check_array(base_visible_bias, "base_visible_bias", dtype=np.float64,
                               ndim=1, n_columns=self.n_visible_)
        streams = ChainStreams(as_seed_sequence(random_state), n_runs)
        log_z, stderr = ais_log_partition(W, b, c, n_runs=n_runs, n_betas=n_betas,
                                          base_visible_bias=base, streams=streams,
                                          backend=self.backend,
                                          n_threads=check_n_threads(self.n_threads))
        return LogPartition(log_z, stderr, "ais", n_runs, n_betas)

    def log_likelihood(self, X, log_partition=None):
        """Return the average log p(v) over the rows of X.

        log p(v) = -F(v) - log Z, with log Z from ``log_partition`` or, if
        None, from ``self.log_partition()`` with its defaults. An AIS log Z
        carries its standard error into this value unchanged.
        """
        X = self._check_data(X)
        if log_partition is None:
            log_partition = self.log_partition()
        log_z = log_partition.log_z if isinstance(log_partition, LogPartition) else float(log_partition)
        return float(-np.mean(self.free_energy(X), dtype=np.float64) - log_z)

    # -- persistence ----------------------------------------------------------

    def save(self, path):
        """Write the model to an ``.npz`` file (no pickle).

        The file contains the parameters, the constructor settings except
        ``random_state``, and the persistent chains of PCD. It does not contain
        the momentum velocities or the random streams, so training continued
        after :meth:`load` restarts the momentum and draws new numbers.
        """
        self._check_fitted()
        settings = {name: value for name, value in self.get_params().items()
                    if name != "random_state"}
        arrays = {"weights": self.weights_, "visible_bias": self.visible_bias_,
                  "hidden_bias": self.hidden_bias_}
        if self._data_visible_bias is not None:
            arrays["data_visible_bias"] = self._data_visible_bias
        if self.persistent_hidden_ is not None:
            arrays["persistent_hidden"] = self.persistent_hidden_
        write_model_file(path, _FILE_KIND, settings, arrays)

    @classmethod
    def load(cls, path, **kwargs):
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
        **kwargs
            Constructor parameters that override the saved settings, such as
            ``backend`` or ``random_state``.
        """
        settings, arrays = read_model_file(
            path, _FILE_KIND, ("weights", "visible_bias", "hidden_bias"),
            ("data_visible_bias", "persistent_hidden"), "BernoulliRBM")
        data_bias = arrays.get("data_visible_bias")
        chains = arrays.get("persistent_hidden")
        settings.update(kwargs)
        model = cls.from_params(arrays["weights"], arrays["visible_bias"],
                                arrays["hidden_bias"], **settings)
        if data_bias is not None:
            model._data_visible_bias = check_array(
                data_bias, "data_visible_bias", dtype=np.float64, ndim=1,
                n_columns=model.n_visible_)
        if chains is not None:
            model.persistent_hidden_ = check_array(
                chains, "persistent_hidden", dtype=model.dtype,
                n_columns=model.n_hidden, value_range=(0.0, 1.0), copy=True)
        return model


def _logistic(x):
    from ._rbm_reference import logistic
    return logistic(x)


def _progress(iterable):
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, desc="epochs", unit="epoch")


def _ensure_log_handler():
    """Let verbose output show when the application configured no logging."""
    if not logger.hasHandlers():
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
