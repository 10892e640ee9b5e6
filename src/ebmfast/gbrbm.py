"""Gaussian-Bernoulli restricted Boltzmann machine for real-valued data."""

import logging
import numbers
import time
from collections.abc import Mapping

import numpy as np

from . import _gbrbm_fast as fast
from . import _gbrbm_reference as reference
from ._model_files import read_model_file, write_model_file
from ._random import ChainStreams, as_seed_sequence, check_random_state
from ._rbm_eval import LogPartition, ais_estimate, ais_schedule
from ._rbm_reference import sample_bernoulli as _reference_bernoulli
from ._validation import (
    check_array, check_backend, check_bool, check_int, check_n_threads,
    check_real)
from .rbm import NotFittedError, _ensure_log_handler, _progress

__all__ = ["GaussianBernoulliRBM"]

logger = logging.getLogger("ebmfast")

_FILE_KIND = "ebmfast.GaussianBernoulliRBM"
_MAX_EXACT_HIDDEN = 20


class GaussianBernoulliRBM:
    """Restricted Boltzmann machine with Gaussian visible and binary hidden units.

    The energy of a real visible vector v and a binary hidden vector h is

        E(v, h) = sum_i (v_i - b_i)^2 / (2 sigma_i^2)
                  - sum_ij (v_i / sigma_i) W_ij h_j - c^T h,

    so that p(h_j = 1 | v) = logistic(c_j + ((v / sigma) W)_j) and
    p(v | h) = N(b + sigma * (W h), diag(sigma^2)). Integrating h out gives
    the free energy

        F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2)
               - sum_j softplus(c_j + ((v / sigma) W)_j),

    with p(v) = exp(-F(v)) / Z: a mixture of 2^n_hidden Gaussians with
    covariance diag(sigma^2). Training minimises the negative log-likelihood
    by contrastive divergence (CD-k) or persistent contrastive divergence
    (PCD-k) with momentum and an L2 penalty on W.

    Standardise the data (zero mean, unit variance per feature) before
    fitting, or set ``learn_sigma=True``: with a fixed ``sigma`` the model
    assumes that each feature varies by about sigma around the mixture
    means, and data on another scale are fitted badly.

    Parameters
    ----------
    n_hidden : int, default=100
        Number of hidden units.
    learning_rate : float, default=0.01
        Step size of the gradient descent, > 0. The default is lower than
        BernoulliRBM's 0.05 because Gaussian visible states are unbounded.
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
        Number of persistent chains; None uses ``batch_size``. Ignored
        without ``persistent``.
    momentum : float, default=0.5
        Momentum coefficient in [0, 1).
    weight_decay : float, default=0.0
        L2 penalty coefficient on W, >= 0.
    sigma : float or array_like of shape (n_visible,), default=1.0
        Standard deviations of the visible units, > 0; with ``learn_sigma``
        their starting values.
    learn_sigma : bool, default=False
        Learn log sigma with the other parameters. The update uses the
        gradient of F(v) with respect to log sigma_i,
        -((v_i - b_i) / sigma_i)^2 + (v_i / sigma_i) (W p(h | v))_i,
        so sigma stays positive.
    init_visible_bias : bool, default=True
        Start the visible bias at the data means; otherwise at zero.
    init_scale : float, default=0.01
        Standard deviation of the initial weights.
    backend : {"fast", "reference"}, default="fast"
        "fast" runs the compiled kernels; "reference" runs their NumPy twins.
        Both give the same results up to float rounding.
    n_threads : int or None, default=None
        OpenMP threads for the compiled kernels; None uses every thread
        OpenMP allows (``OMP_NUM_THREADS`` is honoured). Results do not
        depend on it.
    random_state : None, int, SeedSequence or Generator, default=None
        Seed of the initial weights, the minibatch order and the per-chain
        random streams. An int or SeedSequence makes :meth:`fit` repeatable.
    verbose : bool, default=False
        Log one line per epoch to the "ebmfast" logger and show a progress
        bar when tqdm is installed.
    monitor_size : int, default=256
        Rows of the training data, chosen once per :meth:`fit`, on which the
        per-epoch reconstruction error in ``history_`` is computed.

    Attributes
    ----------
    weights_ : ndarray of shape (n_visible, n_hidden)
    visible_bias_ : ndarray of shape (n_visible,)
    hidden_bias_ : ndarray of shape (n_hidden,)
    log_sigma_ : ndarray of shape (n_visible,)
        log sigma, the parameter that is learned with ``learn_sigma``.
    sigma_ : ndarray of shape (n_visible,)
        exp(log_sigma_), recomputed on each access.
    n_visible_ : int
    persistent_hidden_ : ndarray of shape (n_chains, n_hidden) or None
        Hidden states of the persistent chains (PCD only).
    history_ : list of dict
        One entry per epoch of :meth:`fit`: "epoch", "reconstruction_error"
        and "seconds" (training time of the epoch, without the metric).

    Notes
    -----
    Every chain (or minibatch row) draws from its own SFC64 stream spawned
    from the seed: uniform numbers for the hidden units and the normal
    numbers of ``csrc/ebm_normal.h`` for the visible units. For a fixed seed
    the fitted parameters are therefore identical for any ``n_threads``.

    The model also offers the methods that a generic training loop for
    energy-based models needs: :meth:`energy` (the free energy),
    :meth:`grad_x`, :meth:`grad_params`, :meth:`init_samples` and
    :meth:`apply_update`.
    """

    def __init__(self, n_hidden=100, *, learning_rate=0.01, batch_size=10,
                 n_epochs=20, k=1, persistent=False, n_chains=None,
                 momentum=0.5, weight_decay=0.0, sigma=1.0, learn_sigma=False,
                 init_visible_bias=True, init_scale=0.01, backend="fast",
                 n_threads=None, random_state=None, verbose=False,
                 monitor_size=256):
        self.n_hidden = n_hidden
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.n_epochs = n_epochs
        self.k = k
        self.persistent = persistent
        self.n_chains = n_chains
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.sigma = sigma
        self.learn_sigma = learn_sigma
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
        _check_sigma(self.sigma)
        check_bool(self.learn_sigma, "learn_sigma")
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
                 "persistent", "n_chains", "momentum", "weight_decay", "sigma",
                 "learn_sigma", "init_visible_bias", "init_scale", "backend",
                 "n_threads", "random_state", "verbose", "monitor_size")
        return {name: getattr(self, name) for name in names}

    @classmethod
    def from_params(cls, weights, visible_bias, hidden_bias, sigma=1.0, **kwargs):
        """Build a model with given parameters, ready to sample and evaluate.

        Parameters
        ----------
        weights : array_like of shape (n_visible, n_hidden)
        visible_bias : array_like of shape (n_visible,)
        hidden_bias : array_like of shape (n_hidden,)
        sigma : float or array_like of shape (n_visible,), default=1.0
            Standard deviations of the visible units, > 0. Also stored as
            the constructor parameter ``sigma``.
        **kwargs
            Other constructor parameters; ``n_hidden`` is taken from ``weights``.

        Returns
        -------
        model : GaussianBernoulliRBM
            The arrays are copied; float32 weights give a float32 model,
            anything else float64.
        """
        W = check_array(weights, "weights", copy=True)
        sigma_values = _check_sigma(sigma, W.shape[0])
        log_sigma = np.log(sigma_values).astype(W.dtype)
        return cls._from_arrays(W, visible_bias, hidden_bias, log_sigma,
                                sigma=sigma, **kwargs)

    @classmethod
    def _from_arrays(cls, W, visible_bias, hidden_bias, log_sigma, **kwargs):
        dtype = W.dtype
        b = check_array(visible_bias, "visible_bias", dtype=dtype, ndim=1, copy=True)
        c = check_array(hidden_bias, "hidden_bias", dtype=dtype, ndim=1, copy=True)
        log_sigma = check_array(log_sigma, "log_sigma", dtype=dtype, ndim=1, copy=True)
        for name, array, size in (("visible_bias", b, W.shape[0]),
                                  ("hidden_bias", c, W.shape[1]),
                                  ("log_sigma", log_sigma, W.shape[0])):
            if array.shape[0] != size:
                raise ValueError(
                    f"{name} must have shape ({size},) to match weights of shape "
                    f"{W.shape}, got {array.shape}.")
        kwargs["n_hidden"] = W.shape[1]
        model = cls(**kwargs)
        model._reset_random_state()
        model._set_parameters(W, b, c, log_sigma)
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

    def _set_parameters(self, W, b, c, log_sigma):
        self.weights_, self.visible_bias_, self.hidden_bias_ = W, b, c
        self.log_sigma_ = log_sigma
        self.n_visible_ = W.shape[0]
        self._velocities = {name: np.zeros_like(array)
                            for name, array in self._parameters().items()}
        self.persistent_hidden_ = None
        self.history_ = []

    def _parameters(self):
        return {"weights": self.weights_, "visible_bias": self.visible_bias_,
                "hidden_bias": self.hidden_bias_, "log_sigma": self.log_sigma_}

    def _check_fitted(self):
        if not hasattr(self, "weights_"):
            raise NotFittedError(
                "This GaussianBernoulliRBM has no parameters yet; call fit, "
                "partial_fit or GaussianBernoulliRBM.from_params first.")

    @property
    def dtype(self):
        """Floating dtype of the parameters and of every output."""
        self._check_fitted()
        return self.weights_.dtype

    @property
    def sigma_(self):
        """Standard deviations of the visible units, exp(log_sigma_)."""
        self._check_fitted()
        return np.exp(self.log_sigma_)

    def _scales(self):
        return reference.scales(self.log_sigma_)

    def _n_threads(self):
        return check_n_threads(self.n_threads)

    def _streams_for(self, n_rows):
        """Return the training streams, spawning more so there are n_rows."""
        missing = n_rows - len(self._streams)
        if missing > 0:
            self._streams.extend(self._stream_seed, missing)
        return self._streams

    def _sampling_streams(self, n_rows, random_state):
        """Return streams for n_rows chains of :meth:`sample` or :meth:`gibbs`.

        Without a random_state the model's own sampling streams are reused
        and continued, so repeated calls differ.
        """
        if random_state is not None:
            return ChainStreams(as_seed_sequence(random_state), n_rows)
        missing = n_rows - len(self._sampling)
        if missing > 0:
            self._sampling.extend(self._sampling_seed, missing)
        return self._sampling

    def _check_data(self, X, name="X"):
        self._check_fitted()
        return check_array(X, name, dtype=self.dtype, n_columns=self.n_visible_)

    def _check_hidden(self, H, name="H"):
        self._check_fitted()
        return check_array(H, name, dtype=self.dtype, n_columns=self.n_hidden,
                           value_range=(0.0, 1.0))

    # -- training -----------------------------------------------------------

    def _initialise(self, X):
        self._check_params()
        dtype = X.dtype
        n_visible = X.shape[1]
        sigma = _check_sigma(self.sigma, n_visible)
        self._reset_random_state()
        W = (self._rng.standard_normal((n_visible, self.n_hidden)) * self.init_scale).astype(dtype)
        if self.init_visible_bias:
            b = X.mean(axis=0, dtype=np.float64).astype(dtype)
        else:
            b = np.zeros(n_visible, dtype)
        c = np.zeros(self.n_hidden, dtype)
        self._set_parameters(W, b, c, np.log(sigma).astype(dtype))

    def prepare(self, X):
        """Create the parameters from data X as :meth:`fit` does, unless the model has them.

        :func:`ebmfast.ebm.train_ebm` calls this before its first update,
        so an unfitted model can be trained there directly. A fitted model,
        or one made by :meth:`from_params`, is left unchanged.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_visible)
            Training data; its dtype (float32 or float64) becomes the
            model's.

        Returns
        -------
        self : GaussianBernoulliRBM
        """
        if not hasattr(self, "weights_"):
            self._initialise(check_array(X, "X"))
        return self

    def _init_persistent_chains(self, X):
        n_chains = self.n_chains if self.n_chains is not None else self.batch_size
        rows = self._rng.integers(0, X.shape[0], size=n_chains)
        streams = self._streams_for(n_chains)
        _, inv_sigma = self._scales()
        _, self.persistent_hidden_ = _hidden_layer(
            np.ascontiguousarray(X[rows]), self.weights_, self.hidden_bias_, inv_sigma,
            self.backend, self._n_threads(), streams)

    def _train_pass(self, X, order, batch_size):
        persistent = self.persistent_hidden_ if self.persistent else None
        n_streams = max(min(batch_size, order.size),
                        0 if persistent is None else persistent.shape[0])
        params = self._parameters()
        backup = {name: array.copy() for name, array in params.items()}
        # Overflow is detected below and reported with the fix, so NumPy's
        # warnings about it would only repeat the error.
        with np.errstate(over="ignore", invalid="ignore"):
            self._run_train_epoch(X, order, batch_size, params, persistent, n_streams)
        if not all(np.isfinite(array).all() for array in params.values()):
            for name, array in params.items():
                array[...] = backup[name]
            for velocity in self._velocities.values():
                velocity[...] = 0
            raise FloatingPointError(
                "training produced non-finite parameters; the parameters from "
                "before this pass were restored. Lower learning_rate (now "
                f"{self.learning_rate}) or momentum (now {self.momentum}), or "
                "standardise the data.")

    def _run_train_epoch(self, X, order, batch_size, params, persistent, n_streams):
        _train_epoch(
            X, order, batch_size, params, self._velocities,
            self._streams_for(n_streams), k=self.k,
            learning_rate=self.learning_rate, momentum=self.momentum,
            weight_decay=self.weight_decay, learn_sigma=self.learn_sigma,
            persistent_hidden=persistent, backend=self.backend,
            n_threads=self._n_threads())

    def fit(self, X):
        """Train the model on X from a fresh initialisation.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_visible)
            Real-valued training data, finite; standardise it first unless
            ``learn_sigma`` is set. float32 input gives a float32 model, any
            other numeric input float64.

        Returns
        -------
        self : GaussianBernoulliRBM
        """
        X = check_array(X, "X")
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
        """Apply one CD-k or PCD-k update with X as a single minibatch.

        The first call initialises the model from X. With CD-k the negative
        phase runs one chain per row of X; with PCD-k it runs the persistent
        chains (``n_chains`` of them), whatever the size of X.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_visible)

        Returns
        -------
        self : GaussianBernoulliRBM
        """
        if not hasattr(self, "weights_"):
            X = check_array(X, "X")
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
                 "seconds": seconds}
        if self.verbose:
            _ensure_log_handler()
            logger.info("epoch %d: reconstruction error %.5f, %.3f s", epoch,
                        entry["reconstruction_error"], seconds)
        self.history_.append(entry)

    # -- conditionals and sampling ------------------------------------------

    def _hidden_probs(self, V):
        _, inv_sigma = self._scales()
        P, _ = _hidden_layer(V, self.weights_, self.hidden_bias_, inv_sigma,
                             self.backend, self._n_threads())
        return P

    def _visible_mean(self, H):
        sigma, _ = self._scales()
        M, _ = _visible_layer(H, self.weights_, self.visible_bias_, sigma,
                              self.backend, self._n_threads())
        return M

    def transform(self, X):
        """Return p(h = 1 | v) for each row of X, shape (n_samples, n_hidden)."""
        return self._hidden_probs(self._check_data(X))

    def hidden_probs(self, V):
        """Return p(h_j = 1 | v) = logistic(c + (v / sigma) W), shape (n_samples, n_hidden)."""
        return self._hidden_probs(self._check_data(V, "V"))

    def visible_mean(self, H):
        """Return the mean b + sigma * (W h) of p(v | h), shape (n_samples, n_visible).

        H may hold probabilities in [0, 1] as well as binary states.
        """
        return self._visible_mean(self._check_hidden(H))

    def gibbs(self, V, n_steps=1, *, random_state=None):
        """Run block Gibbs sweeps v -> h -> v from each row of V.

        Parameters
        ----------
        V : array_like of shape (n_chains, n_visible)
            Starting visible states; not modified.
        n_steps : int, default=1
        random_state : None, int, SeedSequence or Generator
            Seed of the per-chain streams; None continues the model's own
            sampling seed, so repeated calls differ.

        Returns
        -------
        V : ndarray of shape (n_chains, n_visible)
            Visible states drawn from p(v | h) in the last sweep.
        """
        V = self._check_data(V, "V")
        n_steps = check_int(n_steps, "n_steps", minimum=0)
        streams = self._sampling_streams(V.shape[0], random_state)
        sigma, inv_sigma = self._scales()
        states, _, _ = _gibbs(V, self.weights_, self.visible_bias_, self.hidden_bias_,
                              sigma, inv_sigma, streams, n_steps, self.backend,
                              self._n_threads())
        return states

    def sample(self, n_samples, n_steps=1000, *, init=None, random_state=None,
               return_means=False):
        """Draw samples by running ``n_samples`` independent Gibbs chains.

        Each chain starts at ``init`` or at a draw from N(b, diag(sigma^2))
        and runs ``n_steps`` sweeps v -> h -> v.

        Parameters
        ----------
        n_samples : int
        n_steps : int, default=1000
            Sweeps per chain, >= 1.
        init : array_like of shape (n_samples, n_visible), optional
        random_state : None, int, SeedSequence or Generator
            Seed of the per-chain streams; None continues the model's own
            sampling seed, so repeated calls differ.
        return_means : bool, default=False
            Also return the mean of p(v | h) at the last sweep.

        Returns
        -------
        samples : ndarray of shape (n_samples, n_visible)
            The visible states after the last sweep, draws from the model.
            (Unlike ``BernoulliRBM.sample``, which returns probabilities.)
        means : ndarray of shape (n_samples, n_visible)
            Only with ``return_means``: b + sigma * (W h) of the last sweep.
        """
        self._check_fitted()
        n_samples = check_int(n_samples, "n_samples", minimum=1)
        n_steps = check_int(n_steps, "n_steps", minimum=1)
        check_bool(return_means, "return_means")
        n_threads = self._n_threads()
        streams = self._sampling_streams(n_samples, random_state)
        sigma, inv_sigma = self._scales()
        if init is None:
            start = np.broadcast_to(self.visible_bias_, (n_samples, self.n_visible_))
            V = _sample_normal(np.ascontiguousarray(start), sigma, streams,
                               self.backend, n_threads)
        else:
            V = self._check_data(init, "init")
            if V.shape[0] != n_samples:
                raise ValueError(
                    f"init must have n_samples={n_samples} rows, got shape {V.shape}.")
        states, means, _ = _gibbs(V, self.weights_, self.visible_bias_, self.hidden_bias_,
                                  sigma, inv_sigma, streams, n_steps, self.backend,
                                  n_threads)
        return (states, means) if return_means else states

    # -- energies: the interface of a generic energy-model training loop ----

    def energy(self, X):
        """Return the free energy F(v) of each row of X, shape (n_samples,).

        This is the energy of v alone, with the hidden units summed out, so
        p(v) = exp(-F(v)) / Z; the same as :meth:`free_energy`.
        """
        return self.free_energy(X)

    def free_energy(self, X):
        """Return F(v) = sum_i (v_i - b_i)^2 / (2 sigma_i^2) - sum_j softplus(c_j + ((v / sigma) W)_j).

        One value per row of X, in the model's dtype.
        """
        X = self._check_data(X)
        _, inv_sigma = self._scales()
        F, _ = _free_energy(X, self.weights_, self.visible_bias_, self.hidden_bias_,
                            inv_sigma, self.backend, self._n_threads(), with_grad=False)
        return F

    def grad_x(self, X):
        """Return the gradient of F with respect to v for each row of X.

        dF/dv = (v - b) / sigma^2 - (W p(h = 1 | v)) / sigma, an ndarray of
        the shape of X in the model's dtype. It is grad U for samplers that
        target p(v), since U(v) = F(v) + log Z.
        """
        X = self._check_data(X)
        _, inv_sigma = self._scales()
        _, G = _free_energy(X, self.weights_, self.visible_bias_, self.hidden_bias_,
                            inv_sigma, self.backend, self._n_threads(), with_grad=True)
        return G

    def as_potential(self):
        """Return the free energy as a compiled MCMC target (``RBMFreeEnergy``).

        The samplers of :mod:`ebmfast.mcmc` then draw from this model's p(v)
        entirely in compiled code. The parameters are copied, so training
        the model afterwards does not change the returned target.
        """
        from .mcmc import RBMFreeEnergy

        self._check_fitted()
        return RBMFreeEnergy(self.weights_, self.visible_bias_, self.hidden_bias_,
                             self.sigma_)

    def energy_and_grad_x(self, X):
        """Return :meth:`energy` and :meth:`grad_x` of X from one pass."""
        X = self._check_data(X)
        _, inv_sigma = self._scales()
        return _free_energy(X, self.weights_, self.visible_bias_, self.hidden_bias_,
                            inv_sigma, self.backend, self._n_threads(), with_grad=True)

    def parameter_names(self):
        """Return the names of the learned parameters, the keys of :meth:`grad_params`.

        "weights", "visible_bias", "hidden_bias", and "log_sigma" when
        ``learn_sigma`` is set.
        """
        names = reference.PARAMETER_NAMES
        return names if self.learn_sigma else names[:3]

    def grad_params(self, X):
        """Return the gradient of F with respect to the parameters, averaged over X.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_visible)

        Returns
        -------
        grads : dict of str to ndarray
            For each name in :meth:`parameter_names`, the mean over the rows
            of X of dF/dtheta, in the shape and dtype of the parameter. With
            s = v / sigma, d = (v - b) / sigma and p = p(h = 1 | v):
            "weights" -s p^T, "visible_bias" -d / sigma, "hidden_bias" -p and
            "log_sigma" -d^2 + s * (W p).

        Notes
        -----
        The log-likelihood gradient is d log p(v)/dtheta =
        -dF(v)/dtheta + <dF/dtheta>_model, so
        ``grad_params(data) - grad_params(model samples)`` estimates the
        gradient of the average negative log-likelihood: the ``grads`` that
        :meth:`apply_update` takes.
        """
        X = self._check_data(X)
        _, inv_sigma = self._scales()
        P = self._hidden_probs(X)
        return reference.parameter_grads(X, P, self.weights_, self.visible_bias_,
                                         inv_sigma, self.learn_sigma)

    def init_samples(self, n, rng=None):
        """Return ``n`` fresh chain states drawn from N(b, diag(sigma^2)).

        Parameters
        ----------
        n : int
            Number of states, >= 1.
        rng : None, int, SeedSequence or Generator
            A Generator is used directly (and advanced); anything else seeds
            a new one.

        Returns
        -------
        states : ndarray of shape (n, n_visible), in the model's dtype
        """
        self._check_fitted()
        n = check_int(n, "n", minimum=1)
        if not isinstance(rng, np.random.Generator):
            rng = np.random.Generator(np.random.PCG64(as_seed_sequence(rng)))
        z = rng.standard_normal((n, self.n_visible_))
        return (self.visible_bias_ + self.sigma_ * z).astype(self.dtype)

    def apply_update(self, grads, learning_rate):
        """Take one plain gradient-descent step: theta -= learning_rate * grads[name].

        Parameters
        ----------
        grads : mapping of str to array_like
            One entry for each name in :meth:`parameter_names` and no other,
            each in the shape of its parameter, meaning
            <dF/dtheta>_data - <dF/dtheta>_model: the gradient of the
            average negative log-likelihood, as built from two calls of
            :meth:`grad_params`. "log_sigma" is accepted only with
            ``learn_sigma``.
        learning_rate : float
            Step size, > 0.

        Returns
        -------
        self : GaussianBernoulliRBM

        Notes
        -----
        No momentum and no weight decay are applied (add weight_decay * W to
        grads["weights"] for an L2 penalty), and the CD momentum velocities
        and persistent chains are left as they are. If the step would make a
        parameter non-finite, nothing changes and FloatingPointError is
        raised.
        """
        self._check_fitted()
        learning_rate = check_real(learning_rate, "learning_rate", minimum=0.0,
                                   include_minimum=False)
        if not isinstance(grads, Mapping):
            raise TypeError(f"grads must be a dict of arrays, got {type(grads).__name__}.")
        expected = set(self.parameter_names())
        if set(grads) != expected:
            hint = (" log_sigma is learned only with learn_sigma=True."
                    if "log_sigma" in set(grads) - expected else "")
            raise ValueError(
                f"grads must have exactly the keys {sorted(expected)}, got "
                f"{sorted(map(str, grads))}.{hint}")
        params = self._parameters()
        steps = {}
        for name in self.parameter_names():
            param = params[name]
            grad = check_array(grads[name], f"grads[{name!r}]", dtype=self.dtype,
                               ndim=param.ndim)
            if grad.shape != param.shape:
                raise ValueError(
                    f"grads[{name!r}] must have shape {param.shape}, got {grad.shape}.")
            with np.errstate(over="ignore", invalid="ignore"):
                steps[name] = param - self.dtype.type(learning_rate) * grad
        bad = [name for name, value in steps.items() if not np.isfinite(value).all()]
        if bad:
            raise FloatingPointError(
                f"the update would make {bad} non-finite; the parameters were "
                f"not changed. Lower learning_rate (now {learning_rate}).")
        for name, value in steps.items():
            params[name][...] = value
        return self

    def joint_energy(self, V, H):
        """Return E(v, h) for paired rows of V and H, shape (n_samples,)."""
        V = self._check_data(V, "V")
        H = self._check_hidden(H)
        if H.shape[0] != V.shape[0]:
            raise ValueError(
                f"V and H must have the same number of rows, got {V.shape[0]} and {H.shape[0]}.")
        sigma, inv_sigma = self._scales()
        D = (V - self.visible_bias_) * inv_sigma
        return (0.5 * (D * D).sum(axis=1)
                - np.einsum("ni,ij,nj->n", V * inv_sigma, self.weights_, H)
                - H @ self.hidden_bias_)

    # -- evaluation ---------------------------------------------------------

    def reconstruction_error(self, X):
        """Return the mean squared error of the mean-field reconstruction.

        The reconstruction is the mean of p(v | h = p(h = 1 | x)), computed
        without sampling, so the value is deterministic.
        """
        X = self._check_data(X)
        reconstruction = self._visible_mean(self._hidden_probs(X))
        return float(np.mean((X.astype(np.float64) - reconstruction) ** 2))

    def log_partition(self, method="auto", *, n_runs=100, n_betas=10000,
                      random_state=None):
        """Return log Z, exactly or by annealed importance sampling (AIS).

        Parameters
        ----------
        method : {"auto", "exact", "ais"}, default="auto"
            "exact" sums a Gaussian integral over each of the 2^n_hidden
            hidden states and needs ``n_hidden <= 20``; "auto" uses it when
            possible, else AIS.
        n_runs : int, default=100
            AIS runs, >= 2; the standard error shrinks as 1 / sqrt(n_runs).
        n_betas : int, default=10000
            AIS inverse temperatures from the base model to the RBM, >= 3.
        random_state : None, int, SeedSequence or Generator
            Seed of the AIS runs, one stream per run. None draws fresh
            entropy, so repeated calls give different estimates.

        Returns
        -------
        result : LogPartition
            Named tuple (log_z, stderr, method, n_runs, n_betas); stderr,
            n_runs and n_betas are 0 for the exact method.

        Notes
        -----
        AIS anneals from beta = 0 to beta = 1 through
        p_beta(v, h) proportional to
        exp(-sum_i (v_i - b_i)^2 / (2 sigma_i^2) + beta ((v / sigma)^T W h + c^T h)).
        At beta = 0, v ~ N(b, diag(sigma^2)) and h is uniform, so
        log Z_0 = sum_i log(sqrt(2 pi) sigma_i) + n_hidden log 2 and each
        run starts from an exact draw. Each run then makes one Gibbs sweep
        at each beta of the schedule of the Bernoulli RBM (denser near 1).
        The chains run in the model's dtype and the log weights accumulate
        in float64. The standard error is that of the delta method,
        sd(w) / (mean(w) sqrt(n_runs)) for the importance weights w. It is
        itself an estimate. The mean of the estimated log Z is at most
        log Z (Jensen's inequality), so too few betas or runs give low
        values.

        References
        ----------
        R. Salakhutdinov and I. Murray, "On the quantitative analysis of deep
        belief networks", ICML 2008.
        """
        self._check_fitted()
        if method not in ("auto", "exact", "ais"):
            raise ValueError(f"method must be 'auto', 'exact' or 'ais', got {method!r}.")
        if method == "auto":
            method = "exact" if self.n_hidden <= _MAX_EXACT_HIDDEN else "ais"
        if method == "exact":
            if self.n_hidden > _MAX_EXACT_HIDDEN:
                raise ValueError(
                    f"log_partition sums over 2^n_hidden states and needs n_hidden <= "
                    f"{_MAX_EXACT_HIDDEN}, got {self.n_hidden}; use method='ais'.")
            log_z = reference.log_partition(self.weights_, self.visible_bias_,
                                            self.hidden_bias_, self.sigma_)
            return LogPartition(log_z, 0.0, "exact", 0, 0)

        n_runs = check_int(n_runs, "n_runs", minimum=2)
        n_betas = check_int(n_betas, "n_betas", minimum=3)
        streams = ChainStreams(as_seed_sequence(random_state), n_runs)
        sigma, inv_sigma = self._scales()
        log_z, stderr = _ais_log_partition(
            self.weights_, self.visible_bias_, self.hidden_bias_, sigma, inv_sigma,
            n_runs=n_runs, n_betas=n_betas, streams=streams, backend=self.backend,
            n_threads=self._n_threads())
        return LogPartition(log_z, stderr, "ais", n_runs, n_betas)

    def score_samples(self, X, log_partition=None):
        """Return log p(v) = -F(v) - log Z for each row of X.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_visible)
        log_partition : LogPartition, float or None, default=None
            log Z, for example ``model.log_partition("ais", random_state=0)``.
            None computes it exactly, which needs ``n_hidden <= 20``. An AIS
            log Z carries its standard error into every score unchanged.

        Returns
        -------
        scores : ndarray of shape (n_samples,), float64
        """
        X = self._check_data(X)
        if log_partition is None:
            if self.n_hidden > _MAX_EXACT_HIDDEN:
                raise ValueError(
                    f"score_samples computes log Z exactly only for n_hidden <= "
                    f"{_MAX_EXACT_HIDDEN}, got {self.n_hidden}; pass "
                    "log_partition=model.log_partition('ais', random_state=...).")
            log_partition = self.log_partition("exact")
        log_z = log_partition.log_z if isinstance(log_partition, LogPartition) else log_partition
        if isinstance(log_z, np.ndarray) and log_z.ndim == 0:
            log_z = log_z.item()
        log_z = check_real(log_z, "log_partition")
        return -self.free_energy(X).astype(np.float64) - log_z

    def log_likelihood(self, X, log_partition=None):
        """Return the average log p(v) over the rows of X.

        The mean of :meth:`score_samples`, with ``log_partition`` as there.
        An AIS log Z carries its standard error into this value unchanged.
        """
        return float(np.mean(self.score_samples(X, log_partition)))

    # -- persistence --------------------------------------------------------

    def save(self, path):
        """Write the model to an ``.npz`` file (no pickle).

        The file contains the parameters (with log sigma exactly), the
        constructor settings except ``random_state``, and the persistent
        chains of PCD. It does not contain the momentum velocities or the
        random streams, so training continued after :meth:`load` restarts
        the momentum and draws new numbers.
        """
        self._check_fitted()
        settings = {name: value for name, value in self.get_params().items()
                    if name != "random_state"}
        settings["sigma"] = np.asarray(settings["sigma"], dtype=np.float64).tolist()
        arrays = {"weights": self.weights_, "visible_bias": self.visible_bias_,
                  "hidden_bias": self.hidden_bias_, "log_sigma": self.log_sigma_}
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
            path, _FILE_KIND, ("weights", "visible_bias", "hidden_bias", "log_sigma"),
            ("persistent_hidden",), "GaussianBernoulliRBM")
        chains = arrays.get("persistent_hidden")
        settings.update(kwargs)
        W = check_array(arrays["weights"], "weights", copy=True)
        model = cls._from_arrays(W, arrays["visible_bias"], arrays["hidden_bias"],
                                 arrays["log_sigma"], **settings)
        if chains is not None:
            model.persistent_hidden_ = check_array(
                chains, "persistent_hidden", dtype=model.dtype,
                n_columns=model.n_hidden, value_range=(0.0, 1.0), copy=True)
        return model


def _check_sigma(sigma, n_visible=None):
    """Return sigma as a float64 array of positive values, shape (n_visible,).

    Without n_visible only the values are checked, and a scalar stays a
    scalar.
    """
    if isinstance(sigma, numbers.Real) and not isinstance(sigma, bool):
        value = check_real(sigma, "sigma", minimum=0.0, include_minimum=False)
        return value if n_visible is None else np.full(n_visible, value)
    values = check_array(sigma, "sigma", dtype=np.float64, ndim=1)
    if (values <= 0).any():
        raise ValueError(f"sigma must contain only values > 0, got {values.min()}.")
    if n_visible is not None and values.shape[0] != n_visible:
        raise ValueError(
            f"sigma must be a number or have shape ({n_visible},) to match the "
            f"{n_visible} visible units, got shape {values.shape}.")
    return values


# ---------------------------------------------------------------------------
# Backend dispatch. Each function takes validated, C-contiguous arrays of one
# floating dtype; "fast" runs the kernels of _gbrbm_fast and "reference"
# their NumPy twins in _gbrbm_reference.

def _hidden_layer(V, W, c, inv_sigma, backend, n_threads, streams=None):
    """Return (p(h = 1 | V), hidden states drawn from it or None)."""
    if backend == "reference":
        P = reference.hidden_probs(V, W, c, inv_sigma)
        return P, None if streams is None else _reference_bernoulli(P, streams)
    P = np.empty((V.shape[0], W.shape[1]), dtype=W.dtype)
    H = None if streams is None else np.empty_like(P)
    fast.hidden_layer(V, W, c, inv_sigma, np.empty_like(V), P, H,
                      None if streams is None else streams.states, n_threads)
    return P, H


def _visible_layer(H, W, b, sigma, backend, n_threads, streams=None):
    """Return (mean of p(v | H), visible states drawn from it or None)."""
    if backend == "reference":
        M = reference.visible_mean(H, W, b, sigma)
        return M, None if streams is None else reference.sample_normal(M, sigma, streams)
    M = np.empty((H.shape[0], W.shape[0]), dtype=W.dtype)
    V = None if streams is None else np.empty_like(M)
    fast.visible_layer(H, W, b, sigma, M, V,
                       None if streams is None else streams.states, n_threads)
    return M, V


def _sample_normal(M, sigma, streams, backend, n_threads):
    if backend == "reference":
        return reference.sample_normal(M, sigma, streams)
    out = np.empty_like(M)
    fast.sample_normal(M, sigma, streams.states, out, n_threads)
    return out


def _gibbs(V, W, b, c, sigma, inv_sigma, streams, n_steps, backend, n_threads):
    """Return (visible states, last mean of p(v | h), last hidden states)."""
    if backend == "reference":
        return reference.gibbs(V, W, b, c, sigma, inv_sigma, streams, n_steps)
    V = V.copy()
    H = np.zeros((V.shape[0], W.shape[1]), dtype=V.dtype)
    M = V.copy()
    fast.gibbs(V, W, b, c, sigma, inv_sigma, streams.states, n_steps,
               np.empty_like(V), M, H, np.empty_like(H), n_threads)
    return V, M, H


def _negative_chain(H, W, b, c, sigma, inv_sigma, streams, k, sample_last,
                    backend, n_threads):
    """Return (visible states, last p(h = 1 | v), hidden states); H is not modified."""
    if backend == "reference":
        return reference.negative_chain(H, W, b, c, sigma, inv_sigma, streams, k,
                                        sample_last)
    H = H.copy()
    Vk = np.empty((H.shape[0], W.shape[0]), dtype=W.dtype)
    Phk = np.empty_like(H)
    fast.negative_chain(H, W, b, c, sigma, inv_sigma, streams.states, k, sample_last,
                        np.empty_like(Vk), np.empty_like(Vk), Vk, Phk, n_threads)
    return Vk, Phk, H


def _free_energy(V, W, b, c, inv_sigma, backend, n_threads, with_grad):
    """Return (F(V), dF/dV or None)."""
    if backend == "reference":
        F = reference.free_energy(V, W, b, c, inv_sigma)
        G = reference.free_energy_grad(V, W, b, c, inv_sigma) if with_grad else None
        return F, G
    F = np.empty(V.shape[0], dtype=W.dtype)
    G = np.empty_like(V) if with_grad else None
    fast.free_energy(V, W, b, c, inv_sigma, np.empty_like(V),
                     np.empty((V.shape[0], W.shape[1]), dtype=W.dtype), F, G, n_threads)
    return F, G


def _ais_log_partition(W, b, c, sigma, inv_sigma, *, n_runs, n_betas, streams,
                       backend, n_threads):
    """Return (log Z, standard error) by AIS; see GaussianBernoulliRBM.log_partition.

    Run i draws its start state v ~ N(b, diag(sigma^2)) and every later
    number from stream i.
    """
    n_visible, n_hidden = W.shape
    betas = ais_schedule(n_betas)
    start = np.ascontiguousarray(np.broadcast_to(b, (n_runs, n_visible)))
    V = _sample_normal(start, sigma, streams, backend, n_threads)
    log_w = np.zeros(n_runs)
    if backend == "reference":
        reference.ais_reference(V, W, b, c, sigma, inv_sigma, betas, streams, log_w)
    else:
        H = np.empty((n_runs, n_hidden), dtype=W.dtype)
        fast.ais_anneal(V, W, b, c, sigma, inv_sigma, betas, streams.states, log_w,
                        np.empty_like(V), np.empty_like(H), H, np.empty_like(V),
                        n_threads)

    sigma64 = sigma.astype(np.float64)
    log_z_base = np.sum(np.log(np.sqrt(2 * np.pi) * sigma64)) + n_hidden * np.log(2.0)
    return ais_estimate(log_z_base, log_w)


def _cd_update_fast(V0, params, velocities, streams, *, k, learning_rate, momentum,
                    weight_decay, learn_sigma, persistent_hidden, n_threads):
    """``_gbrbm_reference.cd_update`` with the sampling done by the kernels.

    The parameter gradients and the momentum step are a few BLAS products
    per minibatch, so both backends compute them with the same NumPy code.
    """
    W, b, c = params["weights"], params["visible_bias"], params["hidden_bias"]
    sigma, inv_sigma = reference.scales(params["log_sigma"])

    if persistent_hidden is None:
        Ph0, H = _hidden_layer(V0, W, c, inv_sigma, "fast", n_threads, streams)
        Vk, Phk, _ = _negative_chain(H, W, b, c, sigma, inv_sigma, streams, k, False,
                                     "fast", n_threads)
    else:
        Ph0, _ = _hidden_layer(V0, W, c, inv_sigma, "fast", n_threads)
        Vk, Phk, H = _negative_chain(persistent_hidden, W, b, c, sigma, inv_sigma,
                                     streams, k, True, "fast", n_threads)
        persistent_hidden[...] = H

    positive = reference.parameter_grads(V0, Ph0, W, b, inv_sigma, learn_sigma)
    negative = reference.parameter_grads(Vk, Phk, W, b, inv_sigma, learn_sigma)
    grads = {name: positive[name] - negative[name] for name in positive}
    reference.momentum_step(params, velocities, grads, learning_rate=learning_rate,
                            momentum=momentum, weight_decay=weight_decay)


def _train_epoch(X, order, batch_size, params, velocities, streams, *, k,
                 learning_rate, momentum, weight_decay, learn_sigma,
                 persistent_hidden, backend, n_threads):
    """Apply CD-k or PCD-k to the minibatches X[order[s:s + batch_size]] in place."""
    if backend == "reference":
        reference.train_epoch(
            X, order, batch_size, params, velocities, streams, k=k,
            learning_rate=learning_rate, momentum=momentum,
            weight_decay=weight_decay, learn_sigma=learn_sigma,
            persistent_hidden=persistent_hidden)
        return
    for start in range(0, order.size, batch_size):
        V0 = np.ascontiguousarray(X[order[start:start + batch_size]])
        _cd_update_fast(V0, params, velocities, streams, k=k,
                        learning_rate=learning_rate, momentum=momentum,
                        weight_decay=weight_decay, learn_sigma=learn_sigma,
                        persistent_hidden=persistent_hidden, n_threads=n_threads)
